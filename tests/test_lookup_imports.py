"""A look-up at the counter pays only for what it uses: `wuye archive show` in a fresh interpreter
must not import GitPython, cryptography, openpyxl or pypinyin (whose import alone takes ~0.4 s)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("git", "cryptography", "openpyxl", "pypinyin")

# Runs the app as `wuye` would, then writes the names of every imported module to a file.
PROBE = textwrap.dedent("""\
    import json, sys
    out, argv = sys.argv[1], sys.argv[2:]
    from wuye.cli import app
    code = 0
    try:
        app(argv, prog_name="wuye")
    except SystemExit as e:
        code = e.code or 0
    with open(out, "w") as f:
        json.dump({"code": code, "modules": sorted(sys.modules)}, f)
""")


def imported(tmp_path, *argv: str) -> tuple[subprocess.CompletedProcess, int, set[str]]:
    out = tmp_path / "modules.json"
    p = subprocess.run([sys.executable, "-c", PROBE, str(out), *argv], capture_output=True, text=True, timeout=60)
    assert out.is_file(), p.stderr
    data = json.loads(out.read_text())
    return p, data["code"], set(data["modules"])


def loaded(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


@pytest.fixture
def counter_store(tenant, run):
    """A tenant with a contact and a repair, so that show has tables to draw."""
    for args in (("contacts", "--set", "name=李雷", "--set", "phone=13812345678"),
                 ("repairs", "--set", "reported_at=2026-11-03T09:30:00+08:00", "--set", "location=1205",
                  "--set", "description=漏水")):
        assert run("archive", "add", "T0001", *args, "--as", "wangli").exit_code == 0
    return tenant


@pytest.mark.parametrize("argv", [
    ("archive", "show", "T0001"),
    ("archive", "show", "bykj", "--json"),   # by pinyin initials: every profile is read
    ("archive", "show", "柏彦", "repairs"),
    ("archive", "list"),
])
def test_a_look_up_imports_no_heavy_module(counter_store, tmp_path, argv):
    p, code, modules = imported(tmp_path, "--store", str(counter_store.root), *argv)
    assert code == 0, p.stderr
    assert "柏彦科技" in p.stdout or "T0001" in p.stdout  # it really looked the tenant up
    for package in HEAVY:
        assert loaded(modules, package) == [], f"{' '.join(argv)} imported {package}"
    assert "_ruamel_yaml" in modules  # the C loader, not the pure-Python one


def test_the_probe_would_see_a_heavy_import(counter_store, tmp_path):
    # The same probe on a writing command does see a heavy module, so an empty list above means
    # something. (Commits run git's commands directly, without GitPython; renaming a company
    # computes its pinyin initials with pypinyin.)
    p, code, modules = imported(tmp_path, "--store", str(counter_store.root), "archive", "add", "T0001",
                                "profile", "--set", "name=博雅科技", "--as", "wangli")
    assert code == 0, p.stderr
    assert loaded(modules, "pypinyin")


def test_a_look_up_builds_no_models(counter_store, tmp_path):
    # typer itself imports pydantic (typer/_adapters.py), so the minimal script pays for that too;
    # what a look-up must not pay for is building wuye's twelve archive models and the types.
    _, code, modules = imported(tmp_path, "--store", str(counter_store.root), "archive", "show", "T0001")
    assert code == 0
    assert loaded(modules, "wuye.models.archive") == []
    assert loaded(modules, "wuye.models.types") == []
    assert "wuye.models.archive_meta" in modules  # the pydantic-free registry it reads instead


def test_todo_imports_no_heavy_module(counter_store, tmp_path):
    # `wuye todo` is a look-up too (an office runs it from cron for every department): the cases,
    # complaints and repairs are read, never signed, committed or exported.
    p, code, modules = imported(tmp_path, "--store", str(counter_store.root), "todo", "--dept", "customer_service")
    assert code == 3, p.stderr  # the repair entered by hand in November is unassigned and long overdue
    assert "T0001" in p.stdout
    for package in HEAVY:
        assert loaded(modules, package) == [], f"todo imported {package}"


@pytest.mark.parametrize("argv", [
    ("training", "list"),
    ("training", "list", "wangli", "--json"),
    ("improve", "list", "--open"),
    ("report", "training", "--json"),
    ("report", "leases", "--within", "400"),
    ("report", "satisfaction", "--json"),
    ("todo", "--dept", "leasing", "--json"),
])
def test_the_registers_look_ups_import_no_heavy_module(counter_store, tmp_path, run, argv):
    # Training, improvement actions and lease expiries are read at the counter and from cron.
    assert run("archive", "add", "T0001", "profile", "--set", "lease_end=2027-06-30", "--as", "zhaomin").exit_code == 0
    assert run("training", "add", "wangli", "--course", "礼仪", "--date", "2026-03-10", "--hours", "2",
               "--trainer", "李明", "--assessment", "pass", "--as", "sunhao").exit_code == 0
    p, code, modules = imported(tmp_path, "--store", str(counter_store.root), *argv)
    assert code == 0, p.stderr
    assert p.stdout.strip() or "（无）" in p.stderr  # it really answered (an empty register says so)
    for package in HEAVY:
        assert loaded(modules, package) == [], f"{' '.join(argv)} imported {package}"


@pytest.mark.parametrize("argv", [("inquiry", "list"), ("inquiry", "list", "--open", "--json"), ("repair", "list")])
def test_the_desk_registers_lists_import_no_heavy_module(counter_store, run, tmp_path, argv):
    # The inquiry log and the common-area repairs are looked up at the counter as the dossier is.
    assert run("inquiry", "open", "T0001", "--channel", "phone", "--about", "加时费", "--due", "2026-11-06",
               "--at", "2026-11-04T09:00", "--as", "wangli").exit_code == 0
    assert run("repair", "open", "--common", "--location", "20 层电梯厅", "--text", "灯不亮",
               "--at", "2026-11-04T09:00", "--as", "wangli").exit_code == 0
    p, code, modules = imported(tmp_path, "--store", str(counter_store.root), *argv)
    assert code == 0, p.stderr
    assert ("ZX-2026" if argv[0] == "inquiry" else "BX-2026") in p.stdout  # it really read the register
    for package in HEAVY:
        assert loaded(modules, package) == [], f"{' '.join(argv)} imported {package}"
