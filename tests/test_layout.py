"""The store layout (wuye/storage/layout.py): one table of every path a store holds, read by
doctor, privacy, merging, sync, verify, export and `wuye init` instead of lists of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wuye.storage import layout

RECORDS = Path(__file__).resolve().parent.parent / "records"


def test_every_file_of_the_sample_store_has_a_rule():
    from wuye.cli.demo import NOT_IN_STORE

    rels = [p.relative_to(RECORDS).as_posix() for p in RECORDS.rglob("*") if p.is_file()]
    rels = [r for r in rels if r.split("/")[0] not in NOT_IN_STORE]
    assert len(rels) > 100  # the sample really was read
    unmatched = [r for r in rels if layout.match(r) is None]
    assert unmatched == []
    names = {layout.match(r).name for r in rels}
    # the sample exercises every kind of archive and move-out file
    assert {"config", "workflow", "staff", "signers", "unit", "notice", "gitignore", "gitkeep"} <= names
    assert {f"category:{k}" for k in ("profile", "payments", "contacts", "emergency")} <= names


@pytest.mark.parametrize("rel", ["wuye/__init__.py", "wuye/storage/layout.py", ".gitmodules", ".githooks/x",
                                 "tenants/T0001/notes.txt", "tenants/T0001/unknown.yaml", "units/a/b.yaml",
                                 "tenants/T0001/moveout/MO-2026-0001/other.yaml", "notices/x.md", "staff/x.yml",
                                 "desk/inquiries.yaml", "desk/inquiries/2026.yaml", "desk/repairs/2026-11.yaml",
                                 "desk/other/2026.yaml"])
def test_a_path_outside_the_layout_matches_no_rule(rel):
    from wuye.admin.doctor import known

    assert layout.match(rel) is None
    assert not known(rel)


@pytest.mark.parametrize("rel,name,merge", [
    ("tenants/T0001/payments.yaml", "category:payments", layout.ENTRIES),
    ("units/1205.yaml", "unit", layout.ENTRIES),
    ("allowed_signers", "signers", layout.LINES),
    ("tenants/T0001/moveout/MO-2026-0001/steps/inspect.2.yaml", "step", layout.SIGNED),
    ("tenants/T0001/moveout/MO-2026-0001/case.yaml", "case", layout.TEXT),
    ("tenants/T0001/attachments/合同 扫描.pdf", "attachment", layout.BINARY),
    ("training/wangli.yaml", "training", layout.ENTRIES),      # outside staff/, the authority
    ("improvements/2026.yaml", "improvements", layout.ENTRIES),
    ("desk/inquiries/2026-11.yaml", "inquiries", layout.ENTRIES),
    ("desk/repairs/2026.yaml", "common_repairs", layout.ENTRIES),
])
def test_each_kind_of_file_has_its_merge_rule(rel, name, merge):
    rule = layout.match(rel)
    assert (rule.name, rule.merge) == (name, merge)
    # git hands exactly the entry-by-entry and line-by-line files to the driver
    assert layout.driven(rel) == (merge in layout.DRIVEN)


def test_models_are_named_and_load_on_demand():
    from wuye.models.archive import BY_KEY, file_model
    from wuye.models.store import Staff
    from wuye.models.workflow import StepEntry

    assert layout.match("staff/wangli.yaml").load_model() is Staff
    assert layout.match("tenants/T1/moveout/MO-2026-0001/steps/a.yaml").load_model() is StepEntry
    assert layout.match("tenants/T1/payments.yaml").load_model() is file_model(BY_KEY["payments"])
    assert layout.match("allowed_signers").load_model() is None


def test_importing_the_layout_loads_no_pydantic():
    # A look-up must start fast: the layout names its models without importing them.
    code = "import sys, wuye.storage.layout; print('pydantic' in sys.modules, 'ruamel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_generated_gitattributes_is_what_init_writes_and_what_sync_expects(store):
    from wuye.sync import merging

    text = layout.gitattributes()
    assert (store.root / ".gitattributes").read_text(encoding="utf-8") == text
    assert merging.GITATTRIBUTES == text
    committed = RECORDS / ".gitattributes"
    if committed.is_file():
        assert committed.read_text(encoding="utf-8") == text
    patterns = [line.split()[0] for line in text.splitlines() if line and not line.startswith("#")]
    assert patterns == ["tenants/*/*.yaml", "units/*.yaml", "allowed_signers", "training/*.yaml", "improvements/*.yaml",
                        "desk/*/*.yaml"]


def test_git_selects_the_driver_for_exactly_the_driven_files(store):
    """The regex that sync uses to predict git's choice agrees with git reading the .gitattributes."""
    rels = ["tenants/T1/payments.yaml", "tenants/T1/x.yaml", "units/1205.yaml", "allowed_signers", "wuye.yaml",
            "staff/wangli.yaml", "tenants/T1/moveout/MO-2026-0001/case.yaml",
            "tenants/T1/moveout/MO-2026-0001/steps/a.yaml", "tenants/T1/attachments/a.pdf"]
    out = subprocess.run(["git", "check-attr", "merge", "--", *rels], cwd=store.root, capture_output=True,
                         text=True, check=True).stdout
    by_git = {line.split(": ")[0]: line.split(": ")[2] == layout.DRIVER for line in out.splitlines()}
    assert by_git == {r: layout.driven(r) for r in rels}
    assert by_git["tenants/T1/payments.yaml"] and not by_git["tenants/T1/moveout/MO-2026-0001/steps/a.yaml"]


def test_privacy_masks_the_fields_the_layout_names():
    from wuye.archive import privacy

    phone, ric, name = "13812345678", "11010519491231002X", "欧阳娜娜"
    seen = 0
    for rule in layout.RULES:
        p = rule.personal
        for key in p.phones:
            assert privacy.masked({key: phone}) == {key: "138****5678"}, (rule.name, key)
            seen += 1
        for key in p.ids:
            assert privacy.masked({key: ric}) == {key: "110105********002X"}, (rule.name, key)
            seen += 1
        for key in p.names:
            assert privacy.masked({key: name}) == {key: "欧***"}, (rule.name, key)
            seen += 1
        if rule.category:
            shown = privacy.masked_dossier({rule.category: {"entries": [{"name": name}]}}, reveal=False)
            expected = "欧***" if p.person_name else name
            assert shown[rule.category]["entries"][0]["name"] == expected, rule.name
    assert seen >= 8
    # a company's name and a field the layout does not name stay as they are
    assert privacy.masked({"name": "柏彦科技", "uscc": "91110000802100433B"}) == {"name": "柏彦科技", "uscc": "91110000802100433B"}


def test_the_case_id_and_shared_names_come_from_the_layout():
    # Written once, in the layout: no other module spells these paths or the case-id pattern.
    import ast

    from wuye.moveout import cases, workflow
    from wuye.trust import staff
    from wuye.verify import context

    assert workflow.WORKFLOW == context.WORKFLOW_FILE == layout.WORKFLOW
    assert staff.ALLOWED_SIGNERS == context.ALLOWED_SIGNERS_FILE == layout.ALLOWED_SIGNERS
    assert cases.CASE_RE is layout.CASE_ID
    assert layout.CASE_ID.fullmatch("MO-2026-0003") and not layout.CASE_ID.fullmatch("MO-26-0003")
    package = Path(layout.__file__).parents[1]
    spelled = []
    for path in package.rglob("*.py"):
        if path.name == "layout.py" or path.parent.name == "defaults":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in (layout.WORKFLOW, layout.ALLOWED_SIGNERS):
                spelled.append(f"{path.relative_to(package)}:{node.lineno} {node.value!r}")
    assert not spelled, spelled


@pytest.mark.slow  # runs the whole demo first
def test_every_file_a_worked_store_commits_has_a_rule(tmp_path):
    """The demo's store after a morning's work (a move-out signed step by step, attachments): every
    file git tracks has its place in the layout, so doctor calls none of them foreign."""
    from test_demo import clean_env, run_demo

    store = tmp_path / "demo"
    result = run_demo(["--keep", str(store)], clean_env(tmp_path, WUYE_KEYS=str(tmp_path / "keys")))
    assert result.returncode == 0, result.stderr
    rels = subprocess.run(["git", "-C", str(store), "-c", "core.quotepath=false", "ls-files", "-z"],
                          capture_output=True, text=True, check=True).stdout.split("\0")
    rels = [r for r in rels if r]
    assert [r for r in rels if layout.match(r) is None] == []
    names = {layout.match(r).name for r in rels}
    assert {"case", "step"} <= names
