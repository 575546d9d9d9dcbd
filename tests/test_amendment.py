"""Amending a closed case (issue 16, item 7): a corrected statement signed by finance, approved by
another member of management, the difference a new receivable item or a refund paid out, the
original entries left intact and cited. Through the CLI, and through plain git with entries
signed by hand with the real keys (an unsigned amendment, an approval by the amender, an approval
signed by someone outside management), each making verify fail naming its rule.

The money is written out by hand. The case of tests/test_seal.py: a 142110.00 deposit, a 1500.00
fee unpaid, the default data's damage (300.00) and 23.5 kWh at 1.20 yuan = 28.20, so the settlement
refunds 142110.00 - (1500.00 + 300.00 + 28.20) = 140281.80, paid out before release.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from conftest import snapshot
from test_moveout import MoveOut
from test_seal import LINES, TOTALS, digest_of, money_case, write_entry
from test_verify import commit_by_hand, verify_json

from wuye.storage import yamlio

SECOND = "zhoujie"  # a second member of management: approves what the first (or finance) amends
CLEANING = {"code": "other", "item": "清洁费", "source": "settle --charge", "amount": "-800.00"}
# The settlement + a forgotten 800.00 cleaning charge: charges 1828.20 + 800.00 = 2628.20,
# balance 142110.00 - 2628.20 = 139481.80, 800.00 less than the 140281.80 signed.
AMENDED = {"lines": [*LINES, CLEANING], "credits": "142110.00", "charges": "2628.20", "balance": "139481.80",
           "amends_balance": "140281.80", "difference": "-800.00",
           "changes": [{"code": "other", "item": "清洁费", "source": "settle --charge", "was": "0.00", "now": "-800.00", "amount": "-800.00"}]}


@pytest.fixture
def mo(run, tenant, tmp_path):
    r = run("staff", "add", SECOND, "--name", "周洁", "--dept", "management", "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    return MoveOut(run, tenant, tmp_path)


def rel(mo, name):
    return f"tenants/T0001/moveout/{mo.case}/steps/{name}"


def steps_bytes(mo) -> dict:
    d = mo.store.path(f"tenants/T0001/moveout/{mo.case}/steps")
    return {p.name: p.read_bytes() for p in d.iterdir()}


def amend(mo, *extra, as_="liuyang", reason="漏收清洁费", env=None):
    return mo.run("moveout", "amend", mo.case, "--reason", reason, *extra, "--as", as_, env=env)


def approve(mo, as_=SECOND, env=None):
    return mo.run("moveout", "approve-amendment", mo.case, "--as", as_, env=env)


def ledger(mo) -> list[dict]:
    return yamlio.read(mo.store.path("tenants/T0001/payments.yaml"), "payments.yaml")["entries"]


def one_line(result) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- through the CLI ---------------------------------------------------------------------------------


def test_a_forgotten_charge_becomes_a_receivable_once_another_manager_approves(mo, run, git_log):
    money_case(mo)
    # Closing marked the deposit refunded and the fee paid: the corrected statement is computed from
    # the archive as it was settled, or it would refund no deposit and charge no fee.
    assert [(e["id"], e.get("deposit_status"), e["paid"]) for e in ledger(mo)][:2] == [("PAY-0001", "refunded", "142110.00"),
                                                                                       ("PAY-0002", None, "1500.00")]
    before, payments_before = steps_bytes(mo), mo.store.path("tenants/T0001/payments.yaml").read_bytes()
    r = amend(mo, "--charge", "清洁费=800.00")
    assert r.exit_code == 0, r.stderr
    assert "139,481.80" in r.stdout and "-800.00" in r.stdout and "待管理层批准" in r.stderr
    entry = mo.entry("amendment")
    assert (entry["step"], entry["signer"], entry["department"], entry["revision"]) == ("amendment", "liuyang", "finance", 1)
    assert entry["data"] == {"reason": "漏收清洁费", **AMENDED}
    # It cites the settlement and the closing entry it amends, by digest; they are left as they were.
    assert entry["needs"] == {"settlement": digest_of(mo, rel(mo, "settlement.yaml")), "release": digest_of(mo, rel(mo, "release.yaml"))}
    assert {k: v for k, v in steps_bytes(mo).items() if k != "amendment.yaml"} == before
    assert mo.entry("settlement")["data"]["balance"] == TOTALS["balance"]
    c = git_log(mo.store)[0]
    assert (c.author, c.trailers["Wuye-Step"], c.trailers["Wuye-Case"]) == ("刘洋", "amendment", mo.case)
    assert c.files == [rel(mo, "amendment.yaml")]
    # Not approved yet: nothing owed, and verify says so as a warning.
    assert mo.store.path("tenants/T0001/payments.yaml").read_bytes() == payments_before
    r = run("verify", "--json")
    assert r.exit_code == 0, r.stdout
    warnings = [p for p in json.loads(r.stdout)["problems"] if p["code"] == "amendment.unapproved"]
    assert [(p["path"], p["level"]) for p in warnings] == [(rel(mo, "amendment.yaml"), "warning")] and mo.case in warnings[0]["message"]

    r = approve(mo)
    assert r.exit_code == 0, r.stderr
    assert "800.00" in r.stderr
    approval = mo.entry("amendment_approval")
    assert (approval["signer"], approval["department"]) == (SECOND, "management")
    assert approval["needs"] == {"amendment": digest_of(mo, rel(mo, "amendment.yaml"))}
    assert approval["data"] == {"difference": "-800.00"}
    new = ledger(mo)[-1]
    assert (new["kind"], new["source"], new["source_ref"], new["amount"], new["paid"]) == ("fee", "settlement", mo.case, "800.00", "0.00")
    c = git_log(mo.store)[0]
    assert c.author == "周洁" and sorted(c.files) == sorted([rel(mo, "amendment_approval.yaml"), "tenants/T0001/payments.yaml"])
    # report arrears shows it; verify passes with no warning left.
    r = run("report", "arrears", "--json")
    rows = [t for t in json.loads(r.stdout)["tenants"] if t["tenant_id"] == "T0001"]
    assert [Decimal(t["total"]) for t in rows] == [Decimal("800.00")], r.stdout
    r = run("verify", "--json")
    assert r.exit_code == 0 and not [p for p in json.loads(r.stdout)["problems"] if p["code"].startswith("amendment.")], r.stdout
    status, _ = mo.status()
    [a] = status["amendments"]
    assert (a["difference"], a["amends_balance"], a["balance"], a["approval"]["signer"]) == ("-800.00", "140281.80", "139481.80", SECOND)
    r = run("moveout", "status", mo.case)
    assert "结案后更正" in r.stdout and "周洁" in r.stdout and "-800.00" in r.stdout


def refund_case(mo):
    """The money case settled with 5000.00 withheld from the deposit: 140281.80 - 5000.00 = 135281.80."""
    mo.archive("payments", {"kind": "deposit", "item": "租赁押金", "amount": "142110.00", "paid": "142110.00"})
    mo.archive("payments", {"kind": "fee", "item": "物业管理费", "period": "2026-12", "amount": "1500.00"})
    mo.walk("security_inspection")
    mo.ok(mo.settle("--withhold", "PAY-0001=5000.00:地毯污损"))
    assert mo.entry("settlement")["data"]["balance"] == "135281.80"
    mo.pay()
    mo.ok(mo.sign("handover"))
    mo.ok(mo.sign("release"))


def test_a_withhold_reduced_is_a_refund_paid_out_as_the_payout_records_one(mo, run):
    refund_case(mo)
    # Finance's lines of the signed statement are kept unless new ones of their kind are given:
    # a charge added keeps the 5000.00 withheld (135281.80 - 800.00 = 134481.80).
    r = mo.run("moveout", "amend", mo.case, "--reason", "试算", "--charge", "清洁费=800.00", "--dry-run", "--json", "--as", "liuyang")
    out = json.loads(r.stdout)
    assert [(l["code"], l["amount"]) for l in out["lines"] if l["code"] in ("withhold", "other")] == [("withhold", "-5000.00"), ("other", "-800.00")]
    assert (out["balance"], out["difference"]) == ("134481.80", "-800.00")
    r = amend(mo, "--withhold", "PAY-0001=2000.00:地毯污损，复核后清洗即可", reason="复核扣款")
    assert r.exit_code == 0, r.stderr
    d = mo.entry("amendment")["data"]
    # 142110.00 - 2000.00 - 1500.00 - 300.00 - 28.20 = 138281.80; 3000.00 more than the 135281.80 signed.
    assert (d["balance"], d["amends_balance"], d["difference"]) == ("138281.80", "135281.80", "3000.00")
    assert d["changes"] == [{"code": "withhold", "item": "扣留押金：地毯污损，复核后清洗即可", "source": "payments.yaml#PAY-0001 withhold",
                             "was": "-5000.00", "now": "-2000.00", "amount": "3000.00"}]
    entries = len(ledger(mo))
    assert approve(mo).exit_code == 0
    assert len(ledger(mo)) == entries  # a refund is no receivable
    before = snapshot(mo.store)
    pay = ["moveout", "pay-amendment", mo.case, "--set", "paid_on=2026-12-04", "--set", "method=transfer",
           "--set", "voucher=FK-2026-0077", "--as", "liuyang"]
    one_line(run(*pay, "--set", "amount=2999.99"))
    assert snapshot(mo.store) == before
    r = run(*pay, "--set", "amount=3000.00")
    assert r.exit_code == 0, r.stderr
    p = mo.entry("amendment_payout")
    assert p["data"]["amount"] == "3000.00" and p["needs"] == {"amendment_approval": digest_of(mo, rel(mo, "amendment_approval.yaml"))}
    code, problems = verify_json(run)
    assert code == 0, problems
    status, _ = mo.status()
    assert status["amendments"][0]["payout"]["amount"] == "3000.00"
    one_line(run(*pay, "--set", "amount=3000.00"))  # paid once


def test_a_second_amendment_corrects_the_balance_the_first_left(mo, run):
    money_case(mo)
    assert amend(mo, "--charge", "清洁费=800.00").exit_code == 0
    assert approve(mo).exit_code == 0
    # The cleaning was 650.00 after all: 142110.00 - 1828.20 - 650.00 = 139631.80, 150.00 back on 139481.80.
    r = amend(mo, "--charge", "清洁费=650.00", reason="清洁费按合同应为 650 元")
    assert r.exit_code == 0, r.stderr
    d = mo.entry("amendment", 2)["data"]
    assert (d["balance"], d["amends_balance"], d["difference"]) == ("139631.80", "139481.80", "150.00")
    assert mo.entry("amendment", 2)["supersedes"] == digest_of(mo, rel(mo, "amendment.yaml"))
    assert approve(mo).exit_code == 0
    assert mo.entry("amendment_approval", 2)["data"] == {"difference": "150.00"}
    code, problems = verify_json(run)
    assert code == 0, problems


def test_english(mo, run):
    money_case(mo)
    en = {"WUYE_LANG": "en"}
    r = amend(mo, "--charge", "cleaning=800.00", env=en)
    assert r.exit_code == 0, r.stderr
    assert "Line-by-line difference" in r.stdout and "awaiting approval" in r.stderr
    assert mo.entry("amendment")["data"]["lines"][0]["item"] == "refund of 租赁押金"  # computed in English
    r = approve(mo, env=en)
    assert r.exit_code == 0 and "due from the tenant" in r.stderr, r.stderr
    r = run("moveout", "status", mo.case, env=en)
    assert "Amendments after closing" in r.stdout and "approved by" in r.stdout
    code, problems = verify_json(run)  # recomputed in the language it was made in
    assert code == 0, problems
    one_line(r := approve(mo, env=en))
    assert "already approved" in r.stderr


# --- refusals: one line, exit 1, nothing changed -------------------------------------------------------


def test_refusals_change_nothing(mo, run):
    mo.archive("payments", {"kind": "deposit", "item": "租赁押金", "amount": "142110.00", "paid": "142110.00"})
    mo.archive("payments", {"kind": "fee", "item": "物业管理费", "period": "2026-12", "amount": "1500.00"})
    mo.walk("handover")
    before = snapshot(mo.store)
    one_line(r := amend(mo, "--charge", "清洁费=800.00"))
    assert "settle" in r.stderr and "--correct" in r.stderr  # not closed yet: settle --correct
    assert snapshot(mo.store) == before
    mo.pay()
    mo.ok(mo.sign("release"))
    before = snapshot(mo.store)
    for result, fragment in [
        (amend(mo), "无须更正"),  # nothing changes
        (amend(mo, "--charge", "清洁费=800.00", as_="wangli"), "wangli"),  # customer service amends nothing
        (amend(mo, "--charge", "清洁费"), "--charge"),
        (amend(mo, "--charge", "清洁费=800.00", reason="  "), "--reason"),
        (approve(mo), "没有待批准的更正"),
        (mo.sign("handover", None, None, "--correct"), "moveout amend"),  # a closed case takes no step
    ]:
        one_line(result)
        assert fragment in result.stderr, result.stderr
    assert snapshot(mo.store) == before
    assert amend(mo, "--charge", "清洁费=800.00", as_="sunhao").exit_code == 0  # management may amend
    before = snapshot(mo.store)
    for result, fragment in [(approve(mo, as_="sunhao"), "不能自己批准"), (approve(mo, as_="liuyang"), "liuyang")]:
        one_line(result)
        assert fragment in result.stderr, result.stderr
    assert snapshot(mo.store) == before


def test_a_dry_run_signs_nothing(mo, run):
    money_case(mo)
    before = snapshot(mo.store)
    r = run("moveout", "amend", mo.case, "--reason", "试算", "--charge", "清洁费=800.00", "--dry-run", "--json", "--as", "liuyang")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["balance"], out["difference"], out["changes"]) == ("139481.80", "-800.00", AMENDED["changes"])
    assert snapshot(mo.store) == before


# --- through plain git -------------------------------------------------------------------------------


def hand_amendment(mo) -> dict:
    """The amendment of AMENDED as `amend` would sign it, not yet signed."""
    from wuye.trust import authority

    return {"case": mo.case, "tenant_id": "T0001", "step": "amendment", "revision": 1,
            "needs": {"settlement": digest_of(mo, rel(mo, "settlement.yaml")), "release": digest_of(mo, rel(mo, "release.yaml"))},
            "authority": authority.load(mo.store).latest.number, "signer": "liuyang", "department": "finance",
            "signed_at": mo.store.now().isoformat(), "data": {"reason": "漏收清洁费", **AMENDED}}


def hand_approval(mo, signer, department="management") -> dict:
    return {"case": mo.case, "tenant_id": "T0001", "step": "amendment_approval", "revision": 1,
            "needs": {"amendment": digest_of(mo, rel(mo, "amendment.yaml"))}, "signer": signer, "department": department,
            "signed_at": mo.store.now().isoformat(), "data": {"difference": "-800.00"}}


def failing(run, path, code, *fragments):
    exit_code, problems = verify_json(run)
    assert exit_code == 1
    hits = [p for p in problems if p["path"] == path and p["code"] == code and all(f in p["message"] for f in fragments)]
    assert hits, problems
    return problems


def test_an_unsigned_amendment_committed_with_git_fails_verify(mo, run):
    money_case(mo)
    entry = hand_amendment(mo)
    mo.store.path(rel(mo, "amendment.yaml")).write_text(yamlio.dumps(entry), encoding="utf-8")
    commit_by_hand(mo, "补记更正")
    problems = failing(run, rel(mo, "amendment.yaml"), "amendment.unsigned", mo.case, "amendment.yaml")
    assert {"signature.missing"} <= {p["code"] for p in problems}


def test_an_amendment_signed_with_a_wrong_difference_fails_verify(mo, run):
    money_case(mo)
    entry = hand_amendment(mo)
    entry["data"]["difference"] = "-80.00"
    write_entry(mo, rel(mo, "amendment.yaml"), entry, "liuyang")  # finance's real key
    commit_by_hand(mo)
    failing(run, rel(mo, "amendment.yaml"), "amendment.mismatch", mo.case, "-80.00", "-800.00")


def test_an_amendment_whose_statement_is_not_the_recomputed_one_fails_verify(mo, run):
    money_case(mo)
    entry = hand_amendment(mo)
    # The deposit "refunded" in full without the fee: lines and totals agree, the archive does not.
    entry["data"]["lines"] = [LINES[0], LINES[2], LINES[3], CLEANING]
    entry["data"].update(charges="1128.20", balance="140981.80", difference="700.00",
                         changes=[{"code": "unpaid_fee", "item": LINES[1]["item"], "source": LINES[1]["source"], "was": "-1500.00",
                                   "now": "0.00", "amount": "1500.00"}, AMENDED["changes"][0]])
    write_entry(mo, rel(mo, "amendment.yaml"), entry, "liuyang")
    commit_by_hand(mo)
    failing(run, rel(mo, "amendment.yaml"), "amendment.mismatch", mo.case, "重新计算")


def test_an_approval_by_the_amender_fails_verify(mo, run):
    money_case(mo)
    assert amend(mo, "--charge", "清洁费=800.00", as_="sunhao").exit_code == 0
    write_entry(mo, rel(mo, "amendment_approval.yaml"), hand_approval(mo, "sunhao"), "sunhao")
    commit_by_hand(mo, "批准更正")
    failing(run, rel(mo, "amendment_approval.yaml"), "amendment.self-approved", mo.case, "sunhao")


@pytest.mark.parametrize("signer, department, key, code", [
    ("zhaomin", "management", "zhaomin", "dept.not-member"),  # leasing, claiming management
    ("liuyang", "finance", "liuyang", "dept.not-allowed"),  # finance approving as finance (the amender too)
    (SECOND, "management", "zhaomin", "key.not-signer"),  # a manager's name, a leasing key
])
def test_an_approval_signed_by_a_non_manager_key_fails_verify(mo, run, signer, department, key, code):
    money_case(mo)
    assert amend(mo, "--charge", "清洁费=800.00").exit_code == 0
    write_entry(mo, rel(mo, "amendment_approval.yaml"), hand_approval(mo, signer, department), key)
    commit_by_hand(mo, "批准更正")
    want = "amendment.unsigned" if code == "key.not-signer" else "amendment.not-management"
    problems = failing(run, rel(mo, "amendment_approval.yaml"), want, mo.case, "amendment_approval.yaml")
    assert code in {p["code"] for p in problems if p["path"] == rel(mo, "amendment_approval.yaml")}


def test_a_step_entry_added_after_the_seal_is_still_refused(mo, run):
    """The amendment's entries are the only ones a sealed case takes: a payout signed after
    release is still case.sealed."""
    money_case(mo)
    entry = {**{k: v for k, v in mo.entry("payout").items() if k != "signature"}, "revision": 2,
             "supersedes": digest_of(mo, rel(mo, "payout.yaml")), "signed_at": mo.store.now().isoformat()}
    write_entry(mo, rel(mo, "payout.2.yaml"), entry, "liuyang")
    commit_by_hand(mo)
    failing(run, rel(mo, "payout.2.yaml"), "case.sealed")


# --- an amendment after release, by hand (the scenario table's shape has no difference) --------------


@pytest.mark.parametrize("signed, corrected, changes, difference", [
    # A charge forgotten: 0.00 → -800.00.
    ([LINES[0], LINES[1]], [LINES[0], LINES[1], CLEANING],
     [{"code": "other", "item": "清洁费", "source": "settle --charge", "was": "0.00", "now": "-800.00", "amount": "-800.00"}], "-800.00"),
    # A charge dropped, a withhold of 5000.00 cut to 1200.50: +800.00 + 3799.50 = 4599.50.
    ([LINES[0], {"code": "withhold", "item": "扣留押金：a", "source": "payments.yaml#PAY-0001 withhold", "amount": "-5000.00"}, CLEANING],
     [LINES[0], {"code": "withhold", "item": "扣留押金：b", "source": "payments.yaml#PAY-0001 withhold", "amount": "-1200.50"}],
     [{"code": "withhold", "item": "扣留押金：b", "source": "payments.yaml#PAY-0001 withhold", "was": "-5000.00", "now": "-1200.50", "amount": "3799.50"},
      {"code": "other", "item": "清洁费", "source": "settle --charge", "was": "-800.00", "now": "0.00", "amount": "800.00"}], "4599.50"),
    # An other charge renamed at the same amount is two changes that cancel out.
    ([CLEANING], [{**CLEANING, "item": "保洁费"}],
     [{"code": "other", "item": "清洁费", "source": "settle --charge", "was": "-800.00", "now": "0.00", "amount": "800.00"},
      {"code": "other", "item": "保洁费", "source": "settle --charge", "was": "0.00", "now": "-800.00", "amount": "-800.00"}], "0.00"),
])
def test_the_difference_line_by_line(signed, corrected, changes, difference):
    from wuye.moveout.amendment import changes as diff

    got = diff(signed, corrected)
    assert got == changes
    assert sum(Decimal(c["amount"]) for c in got) == Decimal(difference)


def test_the_approved_amount_due_deleted_from_the_ledger_fails_verify(mo, run):
    money_case(mo)
    assert amend(mo, "--charge", "清洁费=800.00").exit_code == 0
    assert approve(mo).exit_code == 0
    path = mo.store.path("tenants/T0001/payments.yaml")
    doc = yamlio.load_roundtrip(path.read_text(encoding="utf-8"))
    assert doc["entries"][-1]["amount"] == "800.00"
    del doc["entries"][-1]
    path.write_text(yamlio.dumps(doc), encoding="utf-8")
    commit_by_hand(mo, "删除应补款")
    failing(run, "tenants/T0001/payments.yaml", "amendment.effect-missing", mo.case, "800.00")


def test_todo_lists_the_approval_for_management_but_the_amender_and_then_the_refund_for_finance(mo, run):
    refund_case(mo)

    def waiting(*who):
        r = run("todo", *who, "--json")
        assert r.exit_code in (0, 3), r.stderr
        return [t["step"] for t in json.loads(r.stdout)["moveouts"] if t["ref"] == mo.case]

    assert amend(mo, "--withhold", "PAY-0001=2000.00:地毯污损", as_="sunhao").exit_code == 0
    assert (waiting("--as", SECOND), waiting("--as", "sunhao"), waiting("--as", "liuyang")) == (["amendment_approval"], [], [])
    assert approve(mo).exit_code == 0
    assert (waiting("--as", SECOND), waiting("--as", "liuyang")) == ([], ["amendment_payout"])

