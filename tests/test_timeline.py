"""A hand-kept complaint whose history records only part of its life (issue 19): the steps its
fields show and the steps its history records are replayed in time order, so a complaint closed
by hand stays closed in `complaint list` and is counted once, as closed, in `report complaints`.
Through the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, git


def wuye(store, *args, lang="zh"):
    env = {**os.environ, "WUYE_LANG": lang, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "wuye", "--store", str(store.root), *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False)


HAND_KEPT = """\
entries:
  - id: CMP-0001
    received_at: 2025-06-01T08:00:00+08:00
    channel: phone
    description: 电梯异响
    handler: 工程部
    response: 已安排检修
    result: 已更换导靴
    status: closed
    closed_at: 2025-06-03T10:00:00+08:00
    satisfaction: 4
    history:
      - at: 2025-06-01T09:00:00+08:00
        by: wangli
        action: assign
        status: assigned
        department: engineering
"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_hand_kept_entry_with_a_partial_history_ends_closed(tenant, lang):
    (tenant.root / "tenants/T0001/complaints.yaml").write_text(HAND_KEPT, encoding="utf-8")
    git(tenant.root, "add", "-A")
    git(tenant.root, "-c", "user.name=desk", "-c", "user.email=desk@example.org", "commit", "-q", "-m", "hand-kept complaint")
    r = wuye(tenant, "complaint", "list", "--open", "--json", lang=lang)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []
    r = wuye(tenant, "report", "complaints", "--period", "2025-06", "--json", lang=lang)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    text = json.dumps(data)
    total = data["summary"]
    assert total["received"] == 1 and total["closed"] == 1, text
    assert total["open"] == 0, text
