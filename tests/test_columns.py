"""At 80 columns, the width of an ordinary terminal, every id, date and amount a view shows is
shown whole (issue 17: the payments table read `56880…` even at 100 columns).

The demo store is viewed as a clerk's terminal shows it (COLUMNS=80, in both languages) and,
for each view, every id, date and amount of the same view's `--json` must appear unbroken on
one line of the screen, and no line may be wider than 80 cells. The rest of the suite runs at
COLUMNS=250 (conftest), so this is the test that sees what a clerk sees.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len

WIDTH = 80
# What a clerk reads a table for, as --json gives it: record ids (PAY-0001, MO-2026-0001, T0003),
# dates, and amounts to the fen.
TOKEN = re.compile(r"^(T\d{4}|[A-Z]{2,4}-\d{4}(-\d{4})?|\d{4}-\d{2}-\d{2}|-?\d+\.\d{2})$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("columns")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "WUYE_")) and k not in ("COLUMNS", "LINES")}
    env.update(HOME=str(base / "home"), GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               WUYE_KEYS=str(base / "keys"), NO_COLOR="1", TERM="dumb")
    (base / "home").mkdir()
    p = subprocess.run([sys.executable, "-m", "wuye", "demo", "--keep", str(base / "demo")], cwd=base, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return base / "demo", env


def view(demo, lang: str, *args: str, width: int = WIDTH) -> str:
    root, env = demo
    p = subprocess.run([sys.executable, "-m", "wuye", "--store", str(root), *args], cwd=root,
                       env=dict(env, COLUMNS=str(width), WUYE_LANG=lang), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, (args, p.stderr)
    return p.stdout


def tokens(data) -> set[str]:
    """Every id, date and amount in a --json document."""
    found: set[str] = set()

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and TOKEN.match(v):
            found.add(v)

    walk(data)
    return found


def whole_in(screen: str, token: str) -> bool:
    """`token` on one line, not glued to more digits or letters (not `56880…`, not split at a fold)."""
    return any(re.search(rf"(?<![\w.-]){re.escape(token)}(?![\w.])", line) for line in screen.splitlines())


def assert_whole(demo, lang: str, args: list[str], wanted: set[str]) -> int:
    """Every token of `wanted` that the view shows on a screen wide enough for anything (a list
    shows some of its --json's fields only) is shown whole at 80 columns; how many there were."""
    wide = view(demo, lang, *args, width=1000)
    wanted = {t for t in wanted if whole_in(wide, t)}
    screen = view(demo, lang, *args)
    too_wide = [line for line in screen.splitlines() if cell_len(line) > WIDTH]
    assert not too_wide, (args, too_wide[:3])
    cut = [t for t in sorted(wanted) if not whole_in(screen, t)]
    assert not cut, (args, cut, screen)
    return len(wanted)


LANGS = ["zh", "en"]


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_every_dossier_shows_its_ids_dates_and_amounts_whole(demo, lang):
    tenants = json.loads(view(demo, lang, "archive", "list", "--json"))
    assert len(tenants) >= 10
    shown = 0
    for t in tenants:
        tid = t["tenant_id"] if "tenant_id" in t else t["id"]
        data = json.loads(view(demo, lang, "archive", "show", tid, "--json"))
        shown += assert_whole(demo, lang, ["archive", "show", tid], tokens(data))
    assert shown > 300  # the check looked at something: every payment, repair, complaint... of the building


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_reports_and_desk_lists_show_their_ids_and_amounts_whole(demo, lang):
    for args in (["report", "arrears"], ["report", "repairs"], ["report", "complaints"], ["report", "satisfaction"],
                 ["report", "completeness"], ["complaint", "list"], ["repair", "list"], ["moveout", "list"],
                 ["archive", "list"]):
        data = json.loads(view(demo, lang, *args, "--json"))
        if args[0] == "report":
            data.pop("as_of", None)  # printed as "2026-12-03 18:35" in the heading
        assert assert_whole(demo, lang, args, tokens(data)) >= 2, args


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_a_settlement_statement_shows_every_amount_whole(demo, lang):
    cases = json.loads(view(demo, lang, "moveout", "list", "--json"))
    case = cases[0]["case"]
    st = json.loads(view(demo, lang, "moveout", "settle", case, "--dry-run", "--json"))
    # On screen the statement groups thousands: -1,850.00.
    wanted = {f"{Decimal(line['amount']):,.2f}" for line in st["lines"]}
    assert assert_whole(demo, lang, ["moveout", "settle", case, "--dry-run"], wanted) >= 4
    assert assert_whole(demo, lang, ["moveout", "status", case], {case}) == 1
