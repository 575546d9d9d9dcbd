"""Every finding has a stable code from one documented table (wuye.errors.CODES).

The table is complete both ways: every code the source gives a Problem is listed with a title in
both languages, and every listed code is given somewhere (no stale entries). An unknown or missing
code is refused when the Problem is made. And every problem `wuye verify` reports for the attacks
of test_verify carries a listed code, through the Python API and through `verify --json` alike.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

from test_moveout import MoveOut

import test_verify
from wuye.errors import CODES, Problem
from wuye.storage.store import Store
from wuye.verify import checks

WUYE = Path(checks.__file__).parents[1]
# A code as the source writes it: code="x.y" (or a default, code: str = "x.y"), a doctor finding("x.y", ...), a case entry's bad("x.y", ...).
GIVEN = re.compile(r'''(?:\bcode(?:: str)? ?= ?|\bfinding\(\s*|\bbad\()"([a-z]+\.[a-z-]+)"''')


def codes_in_source() -> set[str]:
    found = set()
    for path in WUYE.rglob("*.py"):
        if path.name != "errors.py":
            found |= set(GIVEN.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_code_is_documented_in_both_languages_and_well_formed():
    assert len(CODES) >= 40
    for code, (zh, en) in CODES.items():
        assert re.fullmatch(r"[a-z]+\.[a-z]+(-[a-z]+)*", code), code
        assert zh.strip() and en.strip() and zh != en, code


def test_the_table_and_the_source_agree():
    used = codes_in_source()
    assert used - CODES.keys() == set()  # given but undocumented (the constructor would refuse it)
    assert CODES.keys() - used == set()  # documented but given nowhere


def test_a_problem_needs_a_known_code():
    with pytest.raises(TypeError):
        Problem("wuye.yaml", "x")  # no code at all
    with pytest.raises(ValueError, match="signature.badd"):
        Problem("wuye.yaml", "x", code="signature.badd")
    p = Problem("a.yaml", "x", 3, 4, code="yaml.syntax")
    assert p.to_json() == {"code": "yaml.syntax", "path": "a.yaml", "line": 3, "col": 4, "level": "error", "message": "x"}


def test_the_registry_lists_every_check_once():
    assert checks.CHECKS[0] is checks.check_settings and checks.CHECKS[-1] is checks.check_history
    assert len(set(checks.CHECKS)) == len(checks.CHECKS)
    for check in checks.CHECKS:
        assert list(inspect.signature(check).parameters) == ["store", "ctx"], check.__name__


ATTACKS = [name for name, fn in inspect.getmembers(test_verify, inspect.isfunction)
           if name.startswith("test_") and "ssh_keygen" not in name and "sound_store" not in name]


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_problem_of_every_attack_has_a_documented_code(attack, mo, run, tmp_path, monkeypatch):
    """Each attack of test_verify, every report `verify` makes meanwhile recorded; afterwards the
    store is verified once more through the API and once through `verify --json`."""
    reports = []
    real = checks.verify

    def recording(store, root=None):
        reports.append(real(store, root))
        return reports[-1]

    monkeypatch.setattr(checks, "verify", recording)
    fn = getattr(test_verify, attack)
    given = {"mo": mo, "run": run, "tmp_path": tmp_path}
    fn(**{name: given[name] for name in inspect.signature(fn).parameters})
    monkeypatch.undo()

    seen = [p for r in reports for p in r.problems]
    assert any(p.level == "error" for p in seen), "the attack was caught"
    assert all(p.code in CODES for p in seen), [str(p) for p in seen if p.code not in CODES]
    api = checks.verify(Store(mo.store.root))
    data = json.loads(run("verify", "--json").stdout)
    assert [p["code"] for p in data["problems"]] == [p.code for p in api.problems]
    assert all(p["code"] in CODES and p["code"] for p in data["problems"])
