"""Recorded checks have consequences (issue 16, 6): fire equipment found not OK at the security
inspection holds the move-out back, as the workflow file says (`blocks_when: false`): no settlement
and no release until security signs a corrected inspection saying it is OK; and verify reports a
settlement signed despite the block, made by hand with finance's real key."""

from __future__ import annotations

from conftest import refused, snapshot
from test_moveout import DATA, MoveOut  # noqa: F401
from test_moveout import mo  # noqa: F401 (fixture)
from test_seal import write_entry
from test_verify import commit_by_hand, found, verify_json

NOT_OK = {**DATA["security_inspection"], "fire_equipment_ok": False}


def test_the_default_workflow_says_fire_equipment_not_ok_blocks():
    from wuye.models.workflow import WorkflowFile
    from wuye.storage import yamlio
    from conftest import REPO_ROOT

    for path in (REPO_ROOT / "wuye/defaults/moveout.yaml", REPO_ROOT / "records/workflows/moveout.yaml"):
        wf = WorkflowFile.model_validate(yamlio.read(path, "moveout.yaml"))
        [step] = [s for s in wf.steps if s.id == "security_inspection"]
        assert [(f.name, f.blocks_when) for f in step.fields if f.blocks_when is not None] == [("fire_equipment_ok", False)]


def test_no_settlement_until_security_corrects_the_inspection(mo, run):  # noqa: F811
    mo.walk("security_inspection", security_inspection=NOT_OK)
    before = snapshot(mo.store)
    r = mo.settle()
    refused(r, "保安部检查", "消防设施完好", "fire_equipment_ok: false", "security_inspection --correct")
    assert len(r.stderr.strip().splitlines()) == 1
    refused(run("moveout", "settle", mo.case, "--as", "liuyang", env={"WUYE_LANG": "en"}),
            "security_inspection records fire equipment OK", "fire_equipment_ok: false", "--correct")
    assert snapshot(mo.store) == before
    # Repaired (or paid for): security signs the inspection again, and finance may settle.
    mo.ok(mo.sign("security_inspection", None, None, "--correct"))
    mo.ok(mo.settle())
    assert mo.entry("settlement")["needs"]["security_inspection"] == _digest(mo, "security_inspection", 2)
    mo.ok(mo.sign("handover"))
    mo.pay()
    mo.ok(mo.sign("release"))
    code, problems = verify_json(run)
    assert (code, problems) == (0, [])


def test_no_release_while_a_later_inspection_says_not_ok(mo, run):  # noqa: F811
    mo.walk("handover")
    mo.pay()
    # Security goes back and finds the sprinkler heads painted over: the inspection is corrected.
    mo.ok(mo.sign("security_inspection", NOT_OK, None, "--correct"))
    before = snapshot(mo.store)
    refused(mo.sign("release"), "保安部检查", "fire_equipment_ok: false", "security_inspection.2.yaml", "放行并通知")
    assert snapshot(mo.store) == before
    mo.ok(mo.sign("security_inspection", None, None, "--correct"))
    mo.ok(mo.sign("release"))
    assert verify_json(run) == (0, [])


def test_a_settlement_signed_despite_the_block_fails_verify(mo, run):  # noqa: F811
    from wuye.moveout import cases as moveout
    from wuye.moveout import workflow

    mo.walk("security_inspection", security_inspection=NOT_OK)
    wf = workflow.load(mo.store)
    case = moveout.load_case(mo.store, mo.case)
    st = moveout.statement(mo.store, case)
    # Made outside `wuye moveout settle` (which refuses), signed with finance's real key.
    rel, entry = moveout.make_entry(mo.store, case, wf, "settlement", mo.store.staff("liuyang"), "finance",
                                    {**st.to_data(), "settled_on": "2026-12-01"}, False)
    write_entry(mo, rel, entry, "liuyang")
    commit_by_hand(mo, "结算")
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "case.blocked-signed", "security_inspection", "fire_equipment_ok: false")
    assert [p["code"] for p in problems] == ["case.blocked-signed"]


def test_blocks_when_is_for_bool_fields_only(store, run):
    path = store.path("workflows/moveout.yaml")
    text = path.read_text(encoding="utf-8")
    assert "{name: note, type: text, title: 备注}\n\n  - id: settlement" in text
    path.write_text(text.replace("{name: note, type: text, title: 备注}\n\n  - id: settlement",
                                 "{name: note, type: text, title: 备注, blocks_when: false}\n\n  - id: settlement"), encoding="utf-8")
    r = run("verify")
    assert r.exit_code == 1
    assert "blocks_when" in r.stdout + r.stderr and "workflows/moveout.yaml" in r.stdout + r.stderr


def _digest(mo, step, revision=1):
    from wuye.moveout import cases as moveout

    return moveout.payload(mo.store, mo.case, step, revision).digest
