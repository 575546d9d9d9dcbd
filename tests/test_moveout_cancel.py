"""Cancelling a started move-out (撤销迁出: a tenant who renews), through the CLI: a signed
cancellation entry in one commit, the tenant active again and a new case allowed; who may cancel
(the workflow's `cancel.signers`) and when (not once settled); nothing signed afterwards; and
`wuye verify` against cancellations and late entries slipped in with plain git."""

from __future__ import annotations

import json

import pytest

from conftest import git, head
from test_moveout import MoveOut, plain_git
from test_verify import commit_by_hand, found, verify_json
from test_workflow import edit_workflow

from wuye.storage import yamlio

REASON = "客户决定续租三年"


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def cancel(mo, as_="zhaomin", reason=REASON, env=None):
    return mo.run("moveout", "cancel", mo.case, "--reason", reason, "--as", as_, env=env)


def profile_status(store) -> str:
    return yamlio.read(store.path("tenants/T0001/profile.yaml"), "p")["status"]


def case_rel(mo) -> str:
    return f"tenants/T0001/moveout/{mo.case}/case.yaml"


def one_line(result) -> None:
    assert result.stderr.strip() and "\n" not in result.stderr.strip(), result.stderr
    assert "Traceback" not in result.stderr


# --- cancelling -----------------------------------------------------------------------------------


def test_leasing_cancels_and_the_tenant_is_back_and_may_start_again(mo, run, git_log):
    mo.start()
    mo.ok(mo.sign("application"))
    assert profile_status(mo.store) == "moving_out"
    unit_before = mo.store.path("units/1205.yaml").read_bytes()
    commits = len(git_log(mo.store))

    r = cancel(mo)
    assert r.exit_code == 0, r.stderr
    assert "已撤销" in r.stderr and mo.case in r.stderr

    # The entry: signed by leasing, sealing the two entries before it, the reason in its data.
    entry = mo.entry("cancel")
    assert (entry["step"], entry["revision"], entry["signer"], entry["department"]) == ("cancel", 1, "zhaomin", "leasing")
    assert entry["data"] == {"reason": REASON}
    assert entry["needs"] == {}
    from wuye.moveout import cases as moveout

    assert entry["seals"] == {f"{s}.yaml": moveout.payload(mo.store, mo.case, s).digest for s in ("notice", "application")}
    case = yamlio.read(mo.store.path(case_rel(mo)), "c")
    assert case["status"] == "cancelled" and case["cancelled_at"] == entry["signed_at"]
    assert profile_status(mo.store) == "active"
    assert mo.store.path("units/1205.yaml").read_bytes() == unit_before  # start never touched the unit

    # One commit, authored by the signer, touching only those three files; the reason is not in it.
    log = git_log(mo.store)
    assert len(log) == commits + 1
    c = log[0]
    assert (c.author, c.email) == ("赵敏", "zhaomin@wuye.invalid")
    assert c.subject == f"moveout {mo.case}: 撤销迁出，赵敏（租售部）"
    assert c.trailers == {"Wuye-Tenant": "T0001", "Wuye-Case": mo.case, "Wuye-Step": "cancel", "Wuye-Signer": "zhaomin"}
    assert sorted(c.files) == sorted([case_rel(mo), mo.step_rel("cancel"), "tenants/T0001/profile.yaml"])
    assert REASON not in c.subject + c.body and "续租" not in c.subject + c.body
    assert git(mo.store.root, "status", "--porcelain", "--untracked-files=all") == ""

    assert run("verify").exit_code == 0

    # Listed as cancelled, not open; the board says so, with the reason, and offers no next step.
    rows = json.loads(run("moveout", "list", "--json").stdout)
    assert [(r["case"], r["status"]) for r in rows] == [(mo.case, "cancelled")]
    assert json.loads(run("moveout", "list", "--open", "--json").stdout) == []
    assert "已撤销" in run("moveout", "list").stdout
    board, r = mo.status()
    assert r.exit_code == 0
    assert board["status"] == "cancelled" and board["next"] == [] and board["standards"] == []
    assert board["cancelled"]["reason"] == REASON and board["cancelled"]["signer"] == "zhaomin"
    assert [s["state"] for s in board["steps"]][:3] == ["done", "done", "cancelled"]
    text = run("moveout", "status", mo.case)
    assert text.exit_code == 0 and "已撤销" in text.stdout and REASON in text.stdout and "赵敏" in text.stdout

    # The tenant may be moved out later after all: a new case.
    first = mo.case
    mo.start()
    assert mo.case != first and mo.case.endswith("-0002")
    assert profile_status(mo.store) == "moving_out"
    assert run("verify").exit_code == 0


def test_management_may_cancel_too_and_the_reason_is_masked_on_screen(mo, run):
    mo.start()
    r = cancel(mo, "sunhao", "客户续租，联系人电话 13812345678")
    assert r.exit_code == 0, r.stderr
    assert mo.entry("cancel")["department"] == "management"
    out = run("moveout", "status", mo.case).stdout
    assert "138****5678" in out and "13812345678" not in out
    assert run("verify").exit_code == 0


@pytest.mark.parametrize("as_, fragment", [("zhangwei", "不能签「撤销迁出」"), ("wangli", "须由 租售部、管理层 签字")])
def test_other_departments_may_not_cancel(mo, snapshot, refused, as_, fragment):
    mo.start()
    before = snapshot(mo.store)
    r = cancel(mo, as_)
    refused(r, fragment)
    one_line(r)
    assert snapshot(mo.store) == before


def test_an_empty_reason_is_refused(mo, snapshot, refused):
    mo.start()
    before = snapshot(mo.store)
    r = cancel(mo, reason="  ")
    refused(r, "--reason")
    one_line(r)
    assert snapshot(mo.store) == before


def test_no_cancel_once_settled(mo, snapshot, refused):
    mo.walk("settlement")
    before = snapshot(mo.store)
    r = cancel(mo)
    refused(r, "「财务结算」已由 liuyang", "结算之后不能撤销")
    one_line(r)
    assert snapshot(mo.store) == before
    assert profile_status(mo.store) == "moving_out"


def test_no_cancel_of_a_closed_case(mo, snapshot, refused):
    mo.walk("release")
    before = snapshot(mo.store)
    refused(cancel(mo), "已结案，不能撤销")
    assert snapshot(mo.store) == before


def test_cancelling_twice_and_signing_after_are_refused(mo, run, snapshot, refused):
    mo.start()
    mo.ok(cancel(mo))
    before = snapshot(mo.store)
    r = cancel(mo, "sunhao")
    refused(r, f"案件 {mo.case} 已于", "由 zhaomin 撤销")
    one_line(r)
    r = mo.sign("application")
    refused(r, "由 zhaomin 撤销，不能再签字", "重新开案")
    one_line(r)
    refused(mo.settle(), "不能再签字")
    refused(mo.run("moveout", "sign", mo.case, "cancel", "--set", "reason=x", "--as", "zhaomin"), "wuye moveout cancel")
    assert snapshot(mo.store) == before
    assert head(mo.store) == before.head


def test_english_messages(mo, snapshot, refused):
    mo.start()
    before = snapshot(mo.store)
    en = {"WUYE_LANG": "en"}
    r = cancel(mo, "zhangwei", env=en)
    refused(r, "zhangwei (engineering) may not sign cancel: it is signed by leasing, management")
    assert snapshot(mo.store) == before
    r = cancel(mo, env=en)
    assert r.exit_code == 0 and "cancelled: " in r.stderr and "the tenant is active again" in r.stderr
    refused(cancel(mo, env=en), f"case {mo.case} was cancelled at", "by zhaomin", "open a new case")
    refused(mo.run("moveout", "sign", mo.case, "application", "--set", "representative=李明", "--as", "wangli", env=en),
            "nothing more can be signed in it")
    board = mo.run("moveout", "status", mo.case, env=en).stdout
    assert "cancelled at" in board and f"reason: {REASON}" in board
    assert "cancelled" in mo.run("moveout", "list", env=en).stdout


def test_who_may_cancel_is_the_workflows_data(mo, run, refused):
    """A building lets only management cancel: leasing is refused, by the signed workflow."""
    edit_workflow(mo.store, "cancel:\n  signers: [leasing, management]\n", "cancel:\n  signers: [management]\n")
    assert run("trust", "update", "--as", "sunhao").exit_code == 0
    assert run("verify").exit_code == 0
    mo.start()
    refused(cancel(mo), "须由 管理层 签字")
    mo.ok(cancel(mo, "sunhao"))
    assert run("verify").exit_code == 0


# --- verify: what plain git can do ----------------------------------------------------------------


def _hostile_cancel(mo, signer: str, department: str, change=None) -> str:
    """A cancellation made outside `wuye moveout cancel` (a real key, any department claimed),
    committed with plain git together with case.yaml marked as cancelling marks it."""
    from wuye.moveout import cases as moveout

    store = mo.store
    wf = moveout.case_workflow(store, mo.case)
    case = moveout.load_case(store, mo.case)
    rel, entry = moveout.make_entry(store, case, wf, "cancel", store.staff(signer), department, {"reason": REASON}, False)
    if change is not None:
        change(entry)
    store.path(rel).write_text(yamlio.dumps(moveout._entry_doc(entry) if entry.get("signature") else entry), encoding="utf-8")
    path = store.path(case_rel(mo))
    path.write_text(path.read_text(encoding="utf-8").replace("status: open", "status: cancelled")
                    + f"cancelled_at: '{entry['signed_at']}'\n", encoding="utf-8")
    return commit_by_hand(mo, "撤销")


def _forge(entry):
    entry["data"]["reason"] = "改过的原因"


def _claim_leasing(entry):
    from wuye.moveout import cases as moveout
    from wuye.trust import signing

    entry["department"] = "leasing"
    entry["signature"] = signing.sign(moveout.payload_of(entry), signing.load_private_key(entry["signer"]))


def _unsign(entry):
    del entry["signature"]


@pytest.mark.parametrize("signer, department, change, code", [
    ("zhangwei", "engineering", None, "dept.not-allowed"),   # a real engineering key: not a cancelling department
    ("zhangwei", "engineering", _claim_leasing, "dept.not-member"),  # claims leasing, holds engineering
    ("zhaomin", "leasing", _forge, "signature.bad"),         # changed after signing
    ("zhaomin", "leasing", _unsign, "signature.missing"),
])
def test_a_hostile_cancellation_fails_verify_naming_the_rule_and_commit(mo, run, signer, department, change, code):
    mo.start()
    sha = _hostile_cancel(mo, signer, department, change)
    status, problems = verify_json(run)
    assert status == 1
    assert found(problems, mo.step_rel("cancel"), code, sha), problems
    # The case.yaml change is the one cancelling makes: history has nothing else to say.
    assert not any(p["code"].startswith("history.") for p in problems), problems
    r = run("verify")
    assert r.exit_code == 1 and f"{mo.step_rel('cancel')}: " in r.stdout and sha in r.stdout


def test_the_same_hand_made_cancellation_by_leasing_verifies(mo, run):
    """The control of the test above: the hand-made commit itself is sound when the signer may cancel."""
    mo.start()
    _hostile_cancel(mo, "zhaomin", "leasing")
    assert run("verify").exit_code == 0


def test_a_step_signed_after_the_cancellation_fails_verify(mo, run):
    """An entry signed with a real key after the cancellation, even dated before it, is not among
    the entries the cancellation seals."""
    from wuye.moveout import cases as moveout
    from wuye.trust import signing

    mo.start()
    mo.ok(cancel(mo))
    store = mo.store
    wf = moveout.case_workflow(store, mo.case)
    case = moveout.load_case(store, mo.case)
    rel, entry = moveout.make_entry(store, case, wf, "application", store.staff("wangli"), "customer_service",
                                    {"representative": "李明", "form_received": True}, False)
    entry["signed_at"] = mo.entry("notice")["signed_at"]  # backdated to before the cancellation
    entry["signature"] = signing.sign(moveout.payload_of(entry), signing.load_private_key("wangli"))
    store.path(rel).write_text(yamlio.dumps(moveout._entry_doc(entry)), encoding="utf-8")
    sha = commit_by_hand(mo, "补签")
    status, problems = verify_json(run)
    assert status == 1
    assert found(problems, mo.step_rel("application"), "case.cancelled", "cancel.yaml", sha), problems
    # And nothing is signed on top of it.
    r = mo.sign("return_pass")
    assert r.exit_code == 1 and "校验不通过" in r.stderr and mo.step_rel("application") in r.stderr


def test_a_case_marked_cancelled_by_hand_fails_verify(mo, run):
    mo.start()
    path = mo.store.path(case_rel(mo))
    path.write_text(path.read_text(encoding="utf-8").replace("status: open", "status: cancelled"), encoding="utf-8")
    sha = commit_by_hand(mo, "撤销")
    status, problems = verify_json(run)
    assert status == 1
    assert found(problems, case_rel(mo), "case.cancel-unsigned", "wuye moveout cancel")
    assert found(problems, case_rel(mo), "history.case-changed", sha)


def test_git_revert_of_the_start_still_fails_and_points_to_cancel(mo, run):
    mo.start()
    plain_git(mo.store.root, "revert", "--no-edit", "HEAD")
    sha = git(mo.store.root, "rev-parse", "--short", "HEAD").strip()
    status, problems = verify_json(run)
    assert status == 1
    assert found(problems, case_rel(mo), "history.case-changed", sha, "wuye moveout cancel")
    assert found(problems, mo.step_rel("notice"), "history.entry-deleted", sha)
    r = run("verify", env={"WUYE_LANG": "en"})
    assert r.exit_code == 1 and "cancel it with `wuye moveout cancel CASE --reason TEXT --as STAFF`" in r.stdout


def test_the_moveouts_report_leaves_out_a_cancelled_case(mo, run):
    mo.start()
    mo.ok(cancel(mo))
    mo.start()  # the tenant moves out after all, later

    def cases():
        r = run("report", "moveouts", "--json")
        assert r.exit_code == 0, r.stderr
        rep = json.loads(r.stdout)
        return [row["case"] for row in rep["cases"]], rep["summary"]

    rows, summary = cases()
    assert rows == [mo.case]
    assert (summary["cases"], summary["open"]) == (1, 1)
