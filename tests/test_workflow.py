"""The move-out procedure as data (workflows/moveout.yaml): the default graph, a building adapting
it, and every way of breaking it refused by `wuye verify` and `wuye moveout start` with its line."""

from __future__ import annotations

import json
import re

import pytest

from test_moveout import DATA, MoveOut, plain_git

from wuye.storage import yamlio
from wuye.admin.create import default_text
from wuye.models.workflow import WorkflowFile, step_data_model
from wuye.moveout.workflow import WORKFLOW, graph_problems

DEFAULT = default_text("moveout.yaml")


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line holding `fragment`, which must occur exactly once."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


def edit_workflow(store, old: str, new: str, commit=True) -> str:
    path = store.path(WORKFLOW)
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    if commit:
        plain_git(store.root, "commit", "-q", "-m", "调整迁出流程", "--", WORKFLOW)
    return text


def _problems(text: str) -> list:
    from pydantic import ValidationError

    data = yamlio.loads(text, WORKFLOW)
    try:
        spec = WorkflowFile.model_validate(data)
    except ValidationError as e:
        return yamlio.validation_problems(WORKFLOW, text, e)
    return graph_problems(spec, WORKFLOW, text)[0]


# --- the default -------------------------------------------------------------------------------


def test_the_default_workflow_is_the_regulations_procedure(store):
    from wuye.moveout import workflow

    wf = workflow.load(store)
    assert wf.order == ["notice", "application", "return_pass", "engineering_inspection", "security_inspection",
                        "settlement", "payout", "collection", "writeoff", "handover", "release"]
    assert wf.first.id == "notice" and wf.closing.id == "release"
    assert {s.id for s in wf.spec.steps if s.computed} == {"settlement"}
    signers = {s.id: s.signers for s in wf.spec.steps}
    assert signers == {"notice": ["leasing"], "application": ["customer_service"], "return_pass": ["customer_service"],
                       "engineering_inspection": ["engineering"], "security_inspection": ["security"],
                       "settlement": ["finance"], "handover": ["customer_service"], "release": ["security"],
                       "payout": ["finance"], "collection": ["finance"], "writeoff": ["management"]}
    assert {s.id for s in wf.spec.steps if s.optional} == {"payout", "collection", "writeoff"}
    needs = {s.id: sorted(s.needs) for s in wf.spec.steps}
    assert needs["settlement"] == ["engineering_inspection", "return_pass", "security_inspection"]
    assert needs["engineering_inspection"] == needs["security_inspection"] == ["application"]
    # Every step comes after every step it needs.
    for s in wf.spec.steps:
        assert all(wf.order.index(n) < wf.order.index(s.id) for n in s.needs)
    assert wf.title("engineering_inspection") == "工程部验房"
    assert _problems(DEFAULT) == []


def test_step_data_models_follow_the_fields():
    spec = WorkflowFile.model_validate(yamlio.loads(DEFAULT, WORKFLOW))
    steps = {s.id: s for s in spec.steps}
    eng = step_data_model(steps["engineering_inspection"])
    ok = eng.model_validate(DATA["engineering_inspection"])
    assert str(ok.damages[0].amount) == "300.00" and str(ok.meter_electricity) == "1023.5"
    for bad in ({**DATA["engineering_inspection"], "power_off": False},
                {k: v for k, v in DATA["engineering_inspection"].items() if k != "meter_electricity"},
                {**DATA["engineering_inspection"], "damages": [{"location": "门", "amount": "1.00"}]}):
        with pytest.raises(ValueError):
            eng.model_validate(bad)
    handover = step_data_model(steps["handover"])
    with pytest.raises(ValueError):
        handover.model_validate({**DATA["handover"], "renovation": "half"})
    with pytest.raises(ValueError):
        handover.model_validate({**DATA["handover"], "keys_returned": -1})
    with pytest.raises(ValueError):  # a phone number written unquoted loses nothing only by luck: refused
        handover.model_validate({**DATA["handover"], "new_phone": 13998765432})


# --- a broken workflow file is refused, with its line --------------------------------------------


BROKEN = {
    # application also needs handover, which (through settlement and return_pass) needs application.
    "cycle": ("    needs: [notice]\n", "    needs: [notice, handover]\n", "needs: [notice, handover]",
              "application", "workflow.cycle"),
    "unknown department": ("signers: [security]\n    needs: [application]", "signers: [police]\n    needs: [application]",
                           "signers: [police]", "steps.4.signers.0", "schema.invalid"),
    "unknown step": ("signers: [engineering]\n    needs: [application]",
                     "signers: [engineering]\n    needs: [application, inspection_plan]",
                     "needs: [application, inspection_plan]", "'inspection_plan'", "workflow.invalid"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_workflow_is_refused_by_verify_and_start_with_its_line(mo, run, snapshot, kind):
    old, new, at, reason, kind_code = BROKEN[kind]
    text = edit_workflow(mo.store, old, new)
    line = line_of(text, at)
    where = f"workflows/moveout.yaml:{line}:"

    r = run("verify")
    assert r.exit_code == 1
    assert any(l.startswith(where) and reason in l for l in r.stdout.splitlines()), r.stdout
    code = json.loads(run("verify", "--json").stdout)
    assert any(p["path"] == WORKFLOW and p["line"] == line and p["code"] == kind_code and reason in p["message"]
               for p in code["problems"])

    before = snapshot(mo.store)
    r = run("moveout", "start", "T0001", "--date", "2026-12-31", "--as", "zhaomin")
    assert r.exit_code == 1
    assert where in r.stderr and reason in r.stderr
    assert snapshot(mo.store) == before


def test_a_cycle_names_only_the_steps_on_it(mo, run):
    old, new, *_ = BROKEN["cycle"]
    text = edit_workflow(mo.store, old, new)
    problems = json.loads(run("verify", "--json").stdout)["problems"]
    cycle_lines = [f"{p['path']}:{p['line']}:{p['col']}: {p['message']}" for p in problems if p["code"] == "workflow.cycle"]
    # Each names its step first on the cycle it shows: "application → handover → ... → application".
    named = {re.search(r"([a-z_]+) → ", l).group(1) for l in cycle_lines}
    # release only waits on the cycle; notice is outside it.
    assert named == {"application", "handover", "settlement", "return_pass", "engineering_inspection",
                     "security_inspection"}
    app = next(l for l in cycle_lines if re.search(r"([a-z_]+) → ", l).group(1) == "application")
    assert app.startswith(f"workflows/moveout.yaml:{line_of(text, 'needs: [notice, handover]')}:")
    assert "application → handover → settlement → return_pass → application" in app


def test_a_broken_workflow_stops_signing_on_an_open_case(mo, run, snapshot):
    mo.walk("application")
    text = edit_workflow(mo.store, *BROKEN["unknown step"][:2])
    before = snapshot(mo.store)
    r = mo.sign("engineering_inspection")
    assert r.exit_code == 1 and f"workflows/moveout.yaml:{line_of(text, 'inspection_plan')}:" in r.stderr
    assert snapshot(mo.store) == before


def test_an_unreadable_workflow_is_refused_with_its_line(mo, run):
    text = edit_workflow(mo.store, "    title: 退证\n", "    title: 退证\n    title: 退卡\n")
    r = run("moveout", "start", "T0001", "--date", "2026-12-31", "--as", "zhaomin")
    assert r.exit_code == 1 and "迁出流程文件无法读取" in r.stderr
    assert f"workflows/moveout.yaml:{line_of(text, 'title: 退卡')}" in r.stderr
    r = run("verify")
    assert r.exit_code == 1 and "workflows/moveout.yaml:" in r.stdout


def test_a_missing_workflow_is_refused(mo, run):
    mo.store.path(WORKFLOW).unlink()
    r = run("verify")
    assert r.exit_code == 1 and WORKFLOW in r.stdout
    r = run("moveout", "start", "T0001", "--date", "2026-12-31", "--as", "zhaomin")
    assert r.exit_code == 1 and WORKFLOW in r.stderr


@pytest.mark.parametrize("change, code, fragment", [
    # two steps with the same id
    (lambda t: t.replace("  - id: return_pass\n", "  - id: application\n"), "workflow.invalid", "application"),
    # a step needing itself
    (lambda t: t.replace("    needs: [handover]\n", "    needs: [release]\n"), "workflow.invalid", "release"),
    # two first steps
    (lambda t: t.replace("    needs: [notice]\n", "    needs: []\n"), "workflow.invalid", "notice"),
    # a choice without choices
    (lambda t: t.replace("type: choice, choices: [restored, kept]", "type: choice"), "workflow.invalid", "renovation"),
    # a list without item fields
    (lambda t: t.replace("        type: list\n        title: 损坏及赔偿\n        items:\n", "        type: list\n        title: 损坏及赔偿\n        olditems:\n"),
     "schema.invalid", "olditems"),
    # the same field twice in a step
    (lambda t: t.replace("      - {name: note, type: text, title: 备注}\n\n  - id: security_inspection",
                         "      - {name: ac_off, type: text, title: 备注}\n\n  - id: security_inspection"), "workflow.invalid", "ac_off"),
    # an unknown field type
    (lambda t: t.replace("{name: reason, type: text,", "{name: reason, type: essay,"), "schema.invalid", "steps.0.fields.2.type"),
    # a typo in a step key
    (lambda t: t.replace("    signers: [finance]\n", "    signer: [finance]\n"), "schema.invalid", "steps.5.signer"),
])
def test_graph_and_shape_problems_are_located(change, code, fragment):
    text = change(DEFAULT)
    assert text != DEFAULT
    problems = _problems(text)
    hits = [p for p in problems if p.code == code and fragment in p.message]
    assert hits, [str(p) for p in problems]
    assert all(p.path == "workflows/moveout.yaml" for p in problems)
    assert any(p.line is not None for p in hits), [str(p) for p in hits]


# --- a building adapts its procedure ------------------------------------------------------------


IT_STEP = """  - id: it_handover
    title: 网络与门禁系统注销
    title_en: Network and access system closed
    signers: [engineering]
    needs: [application]
    fields:
      - {name: network_closed, type: bool, title: 已注销网络, required: true, must_be: true}
      - {name: ticket, type: text, title: 工单号}

"""


def test_an_adapted_workflow_drives_the_case(mo, run, snapshot, refused):
    """A building adds an IT step that finance must wait for: signing follows the file, not the code."""
    path = mo.store.path(WORKFLOW)
    text = path.read_text(encoding="utf-8")
    text = text.replace("  - id: settlement\n", IT_STEP + "  - id: settlement\n")
    text = text.replace("    needs: [return_pass, engineering_inspection, security_inspection]\n",
                        "    needs: [return_pass, engineering_inspection, security_inspection, it_handover]\n")
    path.write_text(text, encoding="utf-8")
    plain_git(mo.store.root, "commit", "-q", "-m", "增加网络注销步骤", "--", WORKFLOW)
    assert run("verify").exit_code == 1  # committed, but not yet signed by management
    assert run("trust", "update", "--as", "sunhao").exit_code == 0
    assert run("verify").exit_code == 0

    mo.walk("security_inspection")
    before = snapshot(mo.store)
    refused(mo.settle(), "「财务结算」须在", "「网络与门禁系统注销」")
    refused(mo.sign("it_handover", {"network_closed": False}, "zhangwei"), "network_closed", "必须为 true")
    refused(mo.sign("it_handover", {"network_closed": True}, "wangli"), "须由 工程部 签字")
    assert snapshot(mo.store) == before
    mo.ok(mo.sign("it_handover", {"network_closed": True, "ticket": "IT-77"}, "zhangwei"))
    mo.ok(mo.settle())
    assert set(mo.entry("settlement")["needs"]) == {"return_pass", "engineering_inspection", "security_inspection",
                                                     "it_handover"}
    board, _ = mo.status()
    assert [s["step"] for s in board["steps"]].index("it_handover") < [s["step"] for s in board["steps"]].index("settlement")
    assert run("verify").exit_code == 0
