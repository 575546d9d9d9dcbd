"""Amending a closed case (issue 16, item 7): a corrected statement signed by finance, approved by
another member of management, the difference a new receivable item or a refund paid out, the
original entries left intact and cited. Through the CLI, and through plain git with entries
signed by hand with the real keys.

The money is written out by hand. The case of tests/test_seal.py: a 142110.00 deposit, a 1500.00
fee unpaid, the default data's damage (300.00) and 23.5 kWh at 1.20 yuan = 28.20, so the settlement
refunds 142110.00 - (1500.00 + 300.00 + 28.20) = 140281.80, and it is paid out before release.
"""

from __future__ import annotations

import json

import pytest

from conftest import git, refused, snapshot
from test_moveout import MoveOut, plain_git
from test_seal import LINES, TOTALS, digest_of, money_case, write_entry
from test_verify import commit_by_hand, found, verify_json

from wuye.storage import yamlio

SECOND = "zhoujie"  # a second member of management, who approves what the first amends


@pytest.fixture
def mo(run, tenant, tmp_path):
    r = run("staff", "add", SECOND, "--name", "周洁", "--dept", "management", "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    return MoveOut(run, tenant, tmp_path)


def rel(mo, name):
    return f"tenants/T0001/moveout/{mo.case}/steps/{name}"


def test_smoke(mo, run):
    money_case(mo)
    r = run("moveout", "amend", mo.case, "--reason", "漏收清洁费", "--charge", "清洁费=800.00", "--as", "liuyang")
    print(r.stdout, r.stderr)
    assert r.exit_code == 0
    print(yamlio.dumps(mo.entry("amendment")))
    r = run("verify")
    print(r.stdout, r.stderr)
    r = run("moveout", "approve-amendment", mo.case, "--as", SECOND)
    print(r.stdout, r.stderr)
    assert r.exit_code == 0
    r = run("moveout", "status", mo.case)
    print(r.stdout, r.stderr)
    r = run("verify")
    print(r.stdout, r.stderr)
    r = run("report", "arrears")
    print(r.stdout, r.stderr)
    assert 0
