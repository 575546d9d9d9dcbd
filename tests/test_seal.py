"""Sealed cases, statements that add up, every change history-checked, and separation of duties
(issue 13, items 5 and 6). Each attack is made through the CLI where it can be, and through plain
git edits and commits, with entries signed by hand with the real keys (wuye.trust.signing).

The money here is written out by hand: a 142110.00 deposit, a 1500.00 fee unpaid, the default
data's damage (300.00) and 23.5 kWh at the default 1.20 yuan.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import git, refused, snapshot
from test_moveout import MoveOut, plain_git
from test_verify import commit_by_hand, found, verify_json

from wuye.moveout import cases as moveout
from wuye.storage import yamlio
from wuye.trust import signing

ELEC_SOURCE = "move_in.yaml meter_readings.electricity / engineering_inspection.yaml meter_electricity"
# The statement of the money case, worked out by hand: 23.5 kWh × 1.20 = 28.20;
# 142110.00 - (1500.00 + 300.00 + 28.20) = 140281.80.
LINES = [
    {"code": "deposit", "item": "退还租赁押金", "source": "payments.yaml#PAY-0001", "amount": "142110.00"},
    {"code": "unpaid_fee", "item": "未缴物业管理费 2026-12", "source": "payments.yaml#PAY-0002", "amount": "-1500.00"},
    {"code": "damage", "item": "损坏赔偿：1205 卫生间 洗手盆开裂", "source": "engineering_inspection.yaml damages[0]", "amount": "-300.00"},
    {"code": "utility:electricity", "item": "电费 23.5度 × 1.20 元", "source": ELEC_SOURCE, "amount": "-28.20"},
]
TOTALS = {"credits": "142110.00", "charges": "1828.20", "balance": "140281.80"}


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def money_case(mo, upto="release"):
    mo.archive("payments", {"kind": "deposit", "item": "租赁押金", "amount": "142110.00", "paid": "142110.00"})
    mo.archive("payments", {"kind": "fee", "item": "物业管理费", "period": "2026-12", "amount": "1500.00"})
    return mo.walk(upto)


def write_entry(mo, rel, entry, signer):
    """Sign an entry by hand with a member's real private key and write it where it goes."""
    from wuye.trust import authority

    entry = {k: v for k, v in entry.items() if k != "signature"}
    entry.setdefault("authority", authority.load(mo.store).latest.number)  # signed under the version in force
    entry["signature"] = signing.sign(moveout.payload_of(entry), signing.load_private_key(signer))
    path = mo.store.path(rel)
    path.write_text(yamlio.dumps({**entry, "signature": yamlio.literal(entry["signature"])}), encoding="utf-8")
    return entry


def digest_of(mo, rel) -> str:
    return signing.digest(moveout.payload_of(yamlio.read(mo.store.path(rel), rel)))


def codes(problems, path=None):
    return {p["code"] for p in problems if path is None or p["path"] == path}


# --- sealing -------------------------------------------------------------------------------------


def test_the_release_seals_every_other_entry_and_the_closed_case_verifies(mo, run):
    money_case(mo)
    release = mo.entry("release")
    steps = mo.store.path(f"tenants/T0001/moveout/{mo.case}/steps")
    others = sorted(p.name for p in steps.iterdir() if p.name != "release.yaml")
    assert others == ["application.yaml", "engineering_inspection.yaml", "handover.yaml", "notice.yaml",
                      "payout.yaml", "return_pass.yaml", "security_inspection.yaml", "settlement.yaml"]
    assert release["seals"] == {name: digest_of(mo, f"tenants/T0001/moveout/{mo.case}/steps/{name}") for name in others}
    # The seals are inside what was signed: the signature checks over them.
    signing.verify(moveout.payload_of(release), release["signature"], signing.signature_public_key(release["signature"]))
    # The statement is the one worked out by hand, and closing marked what it settled.
    data = mo.entry("settlement")["data"]
    assert data["lines"] == LINES and {k: data[k] for k in TOTALS} == TOTALS
    payments = yamlio.read(mo.store.path("tenants/T0001/payments.yaml"), "p")["entries"]
    assert payments[0]["deposit_status"] == "refunded" and payments[1]["paid"] == "1500.00"
    code, problems = verify_json(run)
    assert (code, problems) == (0, [])


def test_a_closing_mark_holds_only_for_a_case_of_the_items_own_tenant(mo, run):
    """closed_by names a case by its id, and verify looks for it in the item's own tenant's folder
    alone: another tenant's closed case closes nothing, and neither does a path dressed as an id."""
    money_case(mo)
    r = mo.run("archive", "new", "T0002", "--name", "别的公司", "--unit", "0801", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    fee = ["kind=fee", "item=物业管理费", "period=2026-12", "amount=880.00", "due_date=2026-12-10"]
    r = mo.run("archive", "add", "T0002", "payments", *sum((["--set", s] for s in fee), []), "--as", "liuyang")
    assert r.exit_code == 0, r.stderr
    assert verify_json(run) == (0, [])
    other = "tenants/T0002/payments.yaml"
    doc = yamlio.load_roundtrip(mo.store.path(other).read_text(encoding="utf-8"))
    doc["entries"][0]["closed_by"] = {"case": mo.case, "before": {"paid": "0.00"}}
    doc["entries"][0]["paid"] = "880.00"
    mo.store.path(other).write_text(yamlio.dumps(doc), encoding="utf-8")
    mine = "tenants/T0001/payments.yaml"
    doc = yamlio.load_roundtrip(mo.store.path(mine).read_text(encoding="utf-8"))
    assert doc["entries"][1]["closed_by"]["case"] == mo.case  # the fee the statement settled
    doc["entries"][1]["closed_by"]["case"] = f"../../T0001/moveout/{mo.case}"
    mo.store.path(mine).write_text(yamlio.dumps(doc), encoding="utf-8")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, other, "money.closing-bad", "PAY-0001", mo.case)
    assert found(problems, mine, "money.closing-bad", "PAY-0002", f"../../T0001/moveout/{mo.case}")


def test_nothing_is_signed_or_corrected_on_a_closed_case(mo, run):
    money_case(mo)
    before = snapshot(mo.store)
    refused(mo.sign("handover", None, None, "--correct"), "已结案")
    refused(mo.settle("--correct"), "已结案")
    refused(mo.sign("release", None, None, "--correct"), "已结案")
    assert snapshot(mo.store) == before


def test_a_revision_signed_with_the_real_finance_key_after_closing_fails_verify(mo, run):
    money_case(mo)
    first = mo.entry("settlement")
    forged = {**first, "revision": 2, "supersedes": digest_of(mo, mo.step_rel("settlement")),
              "signed_at": mo.store.now().isoformat(),
              "data": {**first["data"], "lines": [{"code": "deposit", "item": "退还租赁押金", "source": "payments.yaml#PAY-0001", "amount": "1.00"}],
                       "credits": "1.00", "charges": "0.00", "balance": "1.00"}}
    rel = mo.step_rel("settlement", 2)
    write_entry(mo, rel, forged, "liuyang")
    sha = commit_by_hand(mo, "补签结算")
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "case.sealed", "release.yaml")
    # Recomputed from the archive at its commit (the deposit refunded by closing): nothing is due
    # to the tenant, and certainly not 1.00.
    assert found(problems, rel, "statement.mismatch", sha)
    # The signature itself is good: it is the seal that refuses it, not the key.
    assert "signature.bad" not in codes(problems, rel)
    # `moveout status` no longer takes the forged revision for the settlement: it shows the case failing.
    board, _ = mo.status()
    assert any(p["code"] == "case.sealed" and p["path"] == rel for p in board["problems"])
    assert board["standards"] == []


def test_a_sealed_entry_deleted_after_closing_breaks_the_seal(mo, run):
    money_case(mo)
    rel = mo.step_rel("handover")
    plain_git(mo.store.root, "rm", "-q", rel)
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "case.seal-broken", "release.yaml")
    assert found(problems, rel, "history.entry-deleted", sha)


def test_a_release_resigned_without_its_seals_is_unsealed(mo, run):
    money_case(mo)
    rel = mo.step_rel("release")
    release = mo.entry("release")
    del release["seals"]
    write_entry(mo, rel, release, "chenjing")
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "case.unsealed")
    assert found(problems, rel, "history.entry-modified", sha)


# --- statements ----------------------------------------------------------------------------------


def test_a_deposit_cut_after_closing_is_reported(mo, run):
    money_case(mo)
    rel = "tenants/T0001/payments.yaml"
    path = mo.store.path(rel)
    text = path.read_text(encoding="utf-8")
    assert text.count("142110.00") == 2  # amount and paid
    path.write_text(text.replace("amount: '142110.00'", "amount: '42110.00'").replace('amount: "142110.00"', 'amount: "42110.00"'),
                    encoding="utf-8")
    assert path.read_text(encoding="utf-8").count("142110.00") == 1
    commit_by_hand(mo, "押金更正")
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "statement.cited-changed", "PAY-0001", mo.case, "142110.00", "42110.00")
    # archive check still finds the file valid: it is the statement that was cheated, and the
    # seal finance put on the deposit.
    assert found(problems, rel, "money.seal-bad", "PAY-0001")
    assert codes(problems) == {"statement.cited-changed", "money.seal-bad"}


def test_a_cited_fee_deleted_after_closing_is_reported(mo, run):
    money_case(mo)
    rel = "tenants/T0001/payments.yaml"
    doc = yamlio.load_roundtrip(mo.store.path(rel).read_text(encoding="utf-8"))
    doc["entries"] = [e for e in doc["entries"] if e["id"] != "PAY-0002"]
    mo.store.path(rel).write_text(yamlio.dumps(doc), encoding="utf-8")
    commit_by_hand(mo, "删除已结清的费用")
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "statement.cited-changed", "PAY-0002", mo.case)


def test_a_cited_move_in_reading_changed_through_the_cli_after_closing_is_reported(mo, run):
    money_case(mo)
    mo.move_in(meter_readings={"electricity": "900.0"})  # `wuye archive add T0001 move_in`: accepted
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, "tenants/T0001/move_in.yaml", "statement.cited-changed", "meter_readings.electricity", "1000.0", "900.0")


def test_another_note_on_a_cited_record_is_not_a_closing_mark(mo, run):
    money_case(mo)
    rel = "tenants/T0001/payments.yaml"
    doc = yamlio.load_roundtrip(mo.store.path(rel).read_text(encoding="utf-8"))
    assert doc["entries"][1]["note"] == f"迁出结算 {mo.case}" and doc["entries"][1]["receipt_no"] == mo.case
    doc["entries"][1]["receipt_no"] = "SJ-999"
    mo.store.path(rel).write_text(yamlio.dumps(doc), encoding="utf-8")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "statement.cited-changed", "PAY-0002", "receipt_no")


def _statement_by_hand(mo, lines, totals, signer="liuyang"):
    rel = mo.step_rel("settlement")
    entry = {"case": mo.case, "tenant_id": "T0001", "step": "settlement", "revision": 1,
             "needs": {s: digest_of(mo, mo.step_rel(s)) for s in ("return_pass", "engineering_inspection", "security_inspection")},
             "signer": signer, "department": "finance", "signed_at": mo.store.now().isoformat(),
             "data": {"lines": lines, **totals, "settled_on": mo.store.now().date().isoformat()}}
    write_entry(mo, rel, entry, signer)
    return rel


def test_lines_that_total_one_yuan_under_a_balance_of_999999_99(mo, run):
    money_case(mo, "security_inspection")
    rel = _statement_by_hand(mo, [{"code": "deposit", "item": "退还租赁押金", "source": "payments.yaml#PAY-0001", "amount": "1.00"}],
                             {"credits": "1.00", "charges": "0.00", "balance": "999999.99"})
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "statement.sum", "balance", "999999.99", "1.00")
    assert found(problems, rel, "statement.mismatch", sha, "142110.00")


def test_a_statement_written_by_hand_that_is_right_verifies(mo, run):
    money_case(mo, "security_inspection")
    _statement_by_hand(mo, LINES, TOTALS)
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert (code, problems) == (0, [])


def test_the_statement_is_judged_by_the_archive_of_its_commit(mo, run):
    money_case(mo, "security_inspection")
    # A statement that already counts a fee recorded only in a later commit: right for the archive
    # as it is now, wrong for the archive it was signed against.
    later_fee = {"code": "unpaid_fee", "item": "未缴水电费 2026-12", "source": "payments.yaml#PAY-0003", "amount": "-99.00"}
    rel = _statement_by_hand(mo, [*LINES[:2], later_fee, *LINES[2:]],
                             {"credits": "142110.00", "charges": "1927.20", "balance": "140182.80"})
    sha = commit_by_hand(mo)
    mo.archive("payments", {"kind": "fee", "item": "水电费", "period": "2026-12", "amount": "99.00"})
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "statement.mismatch", sha, "PAY-0003")
    assert "statement.sum" not in codes(problems)


def test_an_archive_change_after_settling_an_open_case_is_no_statement_problem(mo, run):
    # Verify recomputes from the commit of the settlement, not from now: the release standard,
    # not verify, asks for a corrected settlement (test_moveout).
    money_case(mo, "handover")
    mo.archive("payments", {"kind": "fee", "item": "水电费", "period": "2026-12", "amount": "99.00"})
    code, problems = verify_json(run)
    assert (code, problems) == (0, [])


def test_a_statement_settled_in_english_verifies_in_chinese(mo, run):
    mo.archive("payments", {"kind": "deposit", "item": "租赁押金", "amount": "142110.00", "paid": "142110.00"})
    mo.walk("security_inspection")
    r = run("moveout", "settle", mo.case, "--as", "liuyang", env={"WUYE_LANG": "en"})
    assert r.exit_code == 0, r.stderr
    assert mo.entry("settlement")["data"]["lines"][0]["item"] == "refund of 租赁押金"
    code, problems = verify_json(run)
    assert (code, problems) == (0, [])
    assert os.environ.get("WUYE_LANG") is None  # put back as it was


# --- history: types, modes, case.yaml --------------------------------------------------------------


def test_a_step_file_replaced_by_a_symlink_to_another_signed_statement(mo, run):
    money_case(mo, "settlement")
    mo.ok(mo.settle("--correct", "--charge", "清洁费=350.00"))
    rel = mo.step_rel("settlement", 2)
    path = mo.store.path(rel)
    path.unlink()
    path.symlink_to("settlement.yaml")
    sha = commit_by_hand(mo)
    assert git(mo.store.root, "show", "--format=", "--raw", "HEAD").split()[1] == "120000"
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "history.type-changed", sha, "120000")


def test_a_mode_change_of_a_step_file(mo, run):
    money_case(mo)
    rel = mo.step_rel("settlement")
    os.chmod(mo.store.path(rel), 0o755)
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "history.type-changed", sha, "100755")
    # The bytes did not change: it is not reported as a modified entry.
    assert "history.entry-modified" not in codes(problems)


def test_a_hand_edited_case_yaml(mo, run):
    mo.walk("application")
    rel = f"tenants/T0001/moveout/{mo.case}/case.yaml"
    path = mo.store.path(rel)
    path.write_text(path.read_text(encoding="utf-8").replace("柏彦科技", "别的公司"), encoding="utf-8")
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "history.case-changed", sha)


def test_a_closed_case_reopened_by_hand_takes_no_entry(mo, run):
    money_case(mo)
    rel = f"tenants/T0001/moveout/{mo.case}/case.yaml"
    path = mo.store.path(rel)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: closed", "status: open"), encoding="utf-8")
    sha = commit_by_hand(mo, "重新打开")
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "history.case-changed", sha) and found(problems, rel, "case.not-closed")
    before = snapshot(mo.store)
    refused(mo.settle("--correct"), "校验不通过")
    assert snapshot(mo.store) == before


def test_only_the_closing_commit_may_close_a_case_yaml(mo, run):
    # Closing by hand, without a release entry in the same commit, is not closing.
    mo.walk("handover")
    rel = f"tenants/T0001/moveout/{mo.case}/case.yaml"
    path = mo.store.path(rel)
    text = path.read_text(encoding="utf-8")
    assert "status: open" in text
    path.write_text(text.replace("status: open", "status: closed").replace("closed_at:", "closed_at: 2026-12-31T10:00:00+08:00"),
                    encoding="utf-8")
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "history.case-changed", sha)
    # Closed by plain git with money owed and nothing received: the debt is not forgiven either.
    assert found(problems, rel, "case.balance-unmoved", "客户应补")


# --- separation of duties ------------------------------------------------------------------------


def _two_hats(run, sid, *depts):
    r = run("staff", "add", sid, "--name", "李华", *(a for d in depts for a in ("--dept", d)), "--as", "sunhao")
    assert r.exit_code == 0, r.stderr


def test_whoever_settled_may_not_release(mo, run):
    _two_hats(run, "lihua", "finance", "security")
    mo.walk("security_inspection")
    mo.ok(mo.settle(as_="lihua"))
    mo.ok(mo.sign("handover"))
    before = snapshot(mo.store)
    refused(mo.sign("release", as_="lihua"), "separate: [settlement, release]", "财务结算", "lihua", "李华")
    assert snapshot(mo.store) == before
    mo.pay()
    mo.ok(mo.sign("release", as_="chenjing"))
    assert verify_json(run) == (0, [])


def test_whoever_inspected_may_not_settle(mo, run):
    _two_hats(run, "lihua", "finance", "engineering")
    mo.walk("application")
    mo.ok(mo.sign("return_pass"))
    mo.ok(mo.sign("engineering_inspection", as_="lihua"))
    mo.ok(mo.sign("security_inspection"))
    before = snapshot(mo.store)
    r = mo.settle(as_="lihua")
    refused(r, "separate: [settlement, engineering_inspection]", "工程部验房", "lihua")
    assert snapshot(mo.store) == before
    r = mo.run("moveout", "settle", mo.case, "--as", "lihua", env={"WUYE_LANG": "en"})
    refused(r, "separation of duties", "engineering_inspection", "lihua")
    # A correction of the inspection by an engineer of their own frees the settlement.
    mo.ok(mo.sign("engineering_inspection", None, "zhangwei", "--correct"))
    mo.ok(mo.settle(as_="lihua"))


def test_a_settlement_signed_by_hand_by_the_inspector_fails_verify(mo, run):
    _two_hats(run, "lihua", "finance", "engineering")
    mo.walk("application")
    mo.ok(mo.sign("return_pass"))
    mo.ok(mo.sign("engineering_inspection", as_="lihua"))
    mo.ok(mo.sign("security_inspection"))
    # The statement is what wuye computes (it is right); only who signed it is wrong.
    from wuye.moveout import workflow

    wf = workflow.load(mo.store)
    case = moveout.load_case(mo.store, mo.case)
    st = moveout.statement(mo.store, case)
    rel, entry = moveout.make_entry(mo.store, case, wf, "settlement", mo.store.staff("lihua"), "finance",
                                    {**st.to_data(), "settled_on": "2026-12-01"}, False)
    write_entry(mo, rel, entry, "lihua")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert [(p["path"], p["code"]) for p in problems] == [(rel, "separation.same-signer")]
    assert "lihua" in problems[0]["message"] and "engineering_inspection" in problems[0]["message"]


def test_separation_is_data_a_building_may_change(mo, run):
    _two_hats(run, "lihua", "finance", "engineering")
    path = mo.store.path("workflows/moveout.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - [settlement, engineering_inspection]\n", ""), encoding="utf-8")
    plain_git(mo.store.root, "commit", "-q", "-am", "工程与财务可由同一人")
    mo.ok(run("trust", "update", "--as", "sunhao"))  # a workflow change takes effect once management signs it
    mo.walk("application")
    mo.ok(mo.sign("return_pass"))
    mo.ok(mo.sign("engineering_inspection", as_="lihua"))
    mo.ok(mo.sign("security_inspection"))
    mo.ok(mo.settle(as_="lihua"))


@pytest.mark.parametrize("group, fragment", [("[settlement, inspection]", "'inspection'"), ("[settlement, settlement]", "至少两个")])
def test_a_separation_rule_naming_no_real_pair_is_refused(mo, run, group, fragment):
    path = mo.store.path("workflows/moveout.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - [settlement, release]", f"  - {group}"), encoding="utf-8")
    r = run("verify", "--json")
    problems = json.loads(r.stdout)["problems"]
    assert r.exit_code == 1
    assert any(p["path"] == "workflows/moveout.yaml" and p["code"] == "workflow.invalid" and p["line"] is not None
               and fragment in p["message"] for p in problems), problems


def test_a_group_of_three_steps_must_all_have_different_signers(mo, run):
    _two_hats(run, "lihua", "customer_service", "engineering")
    path = mo.store.path("workflows/moveout.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "  - [application, engineering_inspection, handover]\n", encoding="utf-8")
    plain_git(mo.store.root, "commit", "-q", "-am", "受理、验房、交接须三人")
    mo.ok(run("trust", "update", "--as", "sunhao"))
    mo.walk("notice")
    mo.ok(mo.sign("application", as_="lihua"))
    before = snapshot(mo.store)
    refused(mo.sign("engineering_inspection", as_="lihua"), "application, engineering_inspection, handover", "lihua")
    assert snapshot(mo.store) == before
    mo.ok(mo.sign("engineering_inspection", as_="zhangwei"))


def test_settling_refuses_an_archive_edited_by_hand_and_not_committed(mo, run):
    # verify recomputes a statement from the archive at its commit, so it must be signed against
    # a committed one.
    money_case(mo, "security_inspection")
    rel = "tenants/T0001/payments.yaml"
    path = mo.store.path(rel)
    path.write_text(path.read_text(encoding="utf-8").replace("1500.00", "1600.00"), encoding="utf-8")
    before = snapshot(mo.store)
    refused(mo.settle(), "未提交", rel)
    assert snapshot(mo.store) == before
    # A dry run signs nothing, and shows the statement of the files as they are.
    dry = json.loads(mo.ok(mo.settle("--dry-run", "--json")).stdout)
    assert dry["charges"] == "1928.20"
    commit_by_hand(mo, "物业费更正")
    # A fee changed by hand is no longer what finance sealed: settling waits for finance to
    # check it and seal it again (trust/money.py).
    before = snapshot(mo.store)
    refused(mo.settle(), "未经财务签章", "PAY-0002", "wuye migrate")
    assert snapshot(mo.store) == before
    mo.ok(run("migrate", "--as", "liuyang"))
    mo.ok(mo.settle())
    assert verify_json(run) == (0, [])


def test_a_case_yaml_replaced_by_a_symlink_or_deleted(mo, run, tmp_path):
    money_case(mo)
    rel = f"tenants/T0001/moveout/{mo.case}/case.yaml"
    path = mo.store.path(rel)
    elsewhere = mo.store.path("tenants/T0001/case-copy.yaml")
    elsewhere.write_text(path.read_text(encoding="utf-8").replace("status: closed", "status: open"), encoding="utf-8")
    path.unlink()
    path.symlink_to("../../case-copy.yaml")
    sha = commit_by_hand(mo, "换成链接")
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "history.type-changed", sha, "120000")
    plain_git(mo.store.root, "rm", "-q", rel)
    sha = commit_by_hand(mo, "删除案件文件")
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "history.case-changed", sha)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_ssh_keygen_checks_the_seal_of_a_closed_case(mo, run, tmp_path):
    # The seals are in the signed bytes: `ssh-keygen -Y verify` alone shows which entries (by
    # digest) the security officer sealed, and that a payload with one seal changed is not signed.
    money_case(mo)
    payload = run("moveout", "payload", mo.case, "release", "--as", "wangli").stdout_bytes
    sig = tmp_path / "release.sig"
    sig.write_bytes(run("moveout", "payload", mo.case, "release", "--signature").stdout_bytes)
    assert json.loads(payload)["seals"]["settlement.yaml"] == digest_of(mo, mo.step_rel("settlement"))

    def ssh_verify(data: bytes):
        return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(mo.store.path("allowed_signers")), "-I", "chenjing",
                               "-n", "wuye-step", "-s", str(sig)], input=data, capture_output=True)

    ok = ssh_verify(payload)
    assert ok.returncode == 0 and b'Good "wuye-step" signature for chenjing' in ok.stdout + ok.stderr
    forged = json.loads(payload)
    forged["seals"]["settlement.2.yaml"] = forged["seals"]["settlement.yaml"]
    assert ssh_verify(signing.canonical_bytes(forged)).returncode != 0
