"""Fees prorated to the move-out date (wuye.yaml moveout.proration) and the planned date judged
against the notice period (moveout.notice_days).

Every expected statement below is worked out by hand in the comment above it and typed in: the
code under test computes nothing the test compares with. The first half calls `compute` on
records; the second drives real cases through the CLI, where `wuye verify` recomputes each signed
statement from the archive and the authority version it names.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from test_moveout import MoveOut, plain_git
from test_settlement import ELEC_SOURCE

from wuye.errors import WuyeError
from wuye.models.archive import Payment
from wuye.models.store import StoreConfig
from wuye.moveout.settlement import compute


def _statement(rule: str, moveout: str, payments: list[dict]):
    config = StoreConfig(building={"name": "柏彦大厦"}, moveout={"proration": rule})
    records = [Payment.model_validate({"id": f"PAY-{i:04d}", **p}) for i, p in enumerate(payments, start=1)]
    steps = {"notice": {"data": {"applied_on": "2026-10-01", "planned_date": moveout}, "_file": "notice.yaml"}}
    st = compute(config, records, [], None, steps)
    return [(l.code, l.item, l.source, str(l.amount)) for l in st.lines], (str(st.credits), str(st.charges), str(st.balance))


def fee(item, period, amount, paid="0.00", **more):
    return {"kind": "fee", "item": item, "period": period, "amount": amount, "paid": paid, **more}


# (rule, move-out date, ledger, expected lines, (credits, charges, balance)): each by hand.
SCENARIOS = {
    # 2026-Q4 has 92 days (31 + 30 + 31). Out on 3 November: 31 October days + 3 = 34 used, across
    # the month end. 9,200.00 / 92 = 100.00 a day; × 34 = 3,400.00.
    "by day across a month end": ("day", "2026-11-03", [fee("物业管理费", "2026-Q4", "9200.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-Q4 按日折算 34/92 天 × 9,200.00", "payments.yaml#PAY-0001", "-3400.00"),
    ], ("0.00", "3400.00", "-3400.00")),
    # Half-months: October is 2, 1-15 November the first half of it: 3 of the quarter's 6.
    # 6,000.00 × 3/6 = 3,000.00.
    "by half-month, first half": ("half_month", "2026-11-15", [fee("物业管理费", "2026-Q4", "6000.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-Q4 按半月折算 3/6 个半月 × 6,000.00", "payments.yaml#PAY-0001", "-3000.00"),
    ], ("0.00", "3000.00", "-3000.00")),
    # From the 16th the whole month counts: 2 + 2 = 4 of 6. 6,000.00 × 4/6 = 4,000.00.
    "by half-month, second half": ("half_month", "2026-11-16", [fee("物业管理费", "2026-Q4", "6000.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-Q4 按半月折算 4/6 个半月 × 6,000.00", "payments.yaml#PAY-0001", "-4000.00"),
    ], ("0.00", "4000.00", "-4000.00")),
    # A year by half-months: 10 months × 2 + November from the 16th (2) = 22 of 24.
    # 2,400.00 × 22/24 = 2,200.00.
    "a year by half-month": ("half_month", "2026-11-20", [fee("停车管理费", "2026", "2400.00")], [
        ("unpaid_fee", "未缴停车管理费 2026 按半月折算 22/24 个半月 × 2,400.00", "payments.yaml#PAY-0001", "-2200.00"),
    ], ("0.00", "2200.00", "-2200.00")),
    # Rule none: the whole quarter, as before proration existed.
    "none": ("none", "2026-11-03", [fee("物业管理费", "2026-Q4", "9200.00"), fee("租金", "2026-Q4", "9200.00", "9200.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-Q4", "payments.yaml#PAY-0001", "-9200.00"),
    ], ("0.00", "9200.00", "-9200.00")),
    # A quarter paid ahead, out on 30 November: 1 December to 31 December unused, 31 of 92 days.
    # 46,807.80 × 31 = 1,451,041.80; / 92 = 15,772.1934… → 15,772.19 back to the tenant.
    "a paid quarter credited back": ("day", "2026-11-30", [fee("物业管理费", "2026-Q4", "46807.80", "46807.80")], [
        ("fee_credit", "退还物业管理费 2026-Q4 未用部分 按日折算 31/92 天 × 46,807.80", "payments.yaml#PAY-0001", "15772.19"),
    ], ("15772.19", "0.00", "15772.19")),
    # November has 30 days; out on the 20th: 20 used. 12,000.00 × 20/30 = 8,000.00.
    "an unpaid month charged in part": ("day", "2026-11-20", [fee("租金", "2026-11", "12000.00")], [
        ("unpaid_fee", "未缴租金 2026-11 按日折算 20/30 天 × 12,000.00", "payments.yaml#PAY-0001", "-8000.00"),
    ], ("0.00", "8000.00", "-8000.00")),
    # Out on 3 November. 100.05 × 3/30 = 10.005 → 10.01; a second fee paid, 27 days unused:
    # 100.05 × 27/30 = 90.045 → 90.05 (ROUND_HALF_UP on each line; banker's rounding gives 10.00
    # and 90.04).
    "a 0.005 rounding": ("day", "2026-11-03", [fee("物业管理费", "2026-11", "100.05"), fee("空调费", "2026-11", "100.05", "100.05")], [
        ("unpaid_fee", "未缴物业管理费 2026-11 按日折算 3/30 天 × 100.05", "payments.yaml#PAY-0001", "-10.01"),
        ("fee_credit", "退还空调费 2026-11 未用部分 按日折算 27/30 天 × 100.05", "payments.yaml#PAY-0002", "90.05"),
    ], ("90.05", "10.01", "80.04")),
    # February 2028 has 29 days. 2,900.00 × 10/29 = 1,000.00.
    "a leap-year February": ("day", "2028-02-10", [fee("物业管理费", "2028-02", "2900.00")], [
        ("unpaid_fee", "未缴物业管理费 2028-02 按日折算 10/29 天 × 2,900.00", "payments.yaml#PAY-0001", "-1000.00"),
    ], ("0.00", "1000.00", "-1000.00")),
    # Out on the quarter's last day: all 92 days used, nothing prorated; the paid one owes nothing.
    "move-out on the last day of the period": ("day", "2026-12-31", [fee("物业管理费", "2026-Q4", "9200.00"),
                                                                     fee("租金", "2026-Q4", "9200.00", "9200.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-Q4", "payments.yaml#PAY-0001", "-9200.00"),
    ], ("0.00", "9200.00", "-9200.00")),
    # Partly paid. 3,000.00 × 20/30 = 2,000.00 used: 1,000.00 paid leaves 1,000.00 due; 2,500.00
    # paid is 500.00 too much, credited.
    "partly paid": ("day", "2026-11-20", [fee("物业管理费", "2026-11", "3000.00", "1000.00"), fee("租金", "2026-11", "3000.00", "2500.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-11 按日折算 20/30 天 × 3,000.00 − 已付 1,000.00", "payments.yaml#PAY-0001", "-1000.00"),
        ("fee_credit", "退还租金 2026-11 已付 2,500.00 − 按日折算 20/30 天 × 3,000.00", "payments.yaml#PAY-0002", "500.00"),
    ], ("500.00", "1000.00", "-500.00")),
    # A whole statement, out on 30 November: the deposit back (10,000.00), the paid quarter's
    # unused 31/92 (15,772.19, as above), November's rent whole (out on its last day, 12,000.00),
    # and an electricity bill, which is metered use and never prorated (8,421.60).
    # Credits 10,000.00 + 15,772.19 = 25,772.19; charges 12,000.00 + 8,421.60 = 20,421.60;
    # balance 5,350.59.
    "a whole statement": ("day", "2026-11-30", [
        {"kind": "deposit", "item": "租赁押金", "amount": "10000.00", "paid": "10000.00"},
        fee("物业管理费", "2026-Q4", "46807.80", "46807.80"),
        fee("租金", "2026-11", "12000.00"),
        fee("电费", "2026-11", "8421.60", source="utility", meter="electricity", reading="239870.5"),
    ], [
        ("deposit", "退还租赁押金", "payments.yaml#PAY-0001", "10000.00"),
        ("fee_credit", "退还物业管理费 2026-Q4 未用部分 按日折算 31/92 天 × 46,807.80", "payments.yaml#PAY-0002", "15772.19"),
        ("unpaid_fee", "未缴租金 2026-11", "payments.yaml#PAY-0003", "-12000.00"),
        ("unpaid_fee", "未缴电费 2026-11", "payments.yaml#PAY-0004", "-8421.60"),
    ], ("25772.19", "20421.60", "5350.59")),
    # A half-year (半年): 2026-H2 is July to December, 31 + 31 + 30 + 31 + 30 + 31 = 184 days. Out on
    # 2 August: 31 July days + 2 = 33 used, across the month end. 18,400.00 / 184 = 100.00 a day;
    # × 33 = 3,300.00.
    "a half-year by day across a month end": ("day", "2026-08-02", [fee("物业管理费", "2026-H2", "18400.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-H2 按日折算 33/184 天 × 18,400.00", "payments.yaml#PAY-0001", "-3300.00"),
    ], ("0.00", "3300.00", "-3300.00")),
    # 2026-H1 is January to June: 31 + 28 + 31 + 30 + 31 + 30 = 181 days. Out on 28 February:
    # 31 + 28 = 59 used. 10,000.00 × 59 = 590,000.00; / 181 = 3,259.6685… → 3,259.67.
    "a half-year by day, rounded": ("day", "2026-02-28", [fee("物业管理费", "2026-H1", "10000.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-H1 按日折算 59/181 天 × 10,000.00", "payments.yaml#PAY-0001", "-3259.67"),
    ], ("0.00", "3259.67", "-3259.67")),
    # By half-months, 2026-H1 has 12. Out on 10 April: January to March 6, April's first half 1:
    # 7 of 12. 6,000.00 × 7/12 = 3,500.00.
    "a half-year by half-month": ("half_month", "2026-04-10", [fee("物业管理费", "2026-H1", "6000.00")], [
        ("unpaid_fee", "未缴物业管理费 2026-H1 按半月折算 7/12 个半月 × 6,000.00", "payments.yaml#PAY-0001", "-3500.00"),
    ], ("0.00", "3500.00", "-3500.00")),
    # A half-year paid ahead, out on 30 November: December unused, 31 of 184 days.
    # 36,800.00 / 184 = 200.00 a day; × 31 = 6,200.00 back. The first half-year, unpaid and long
    # over by then, is owed whole (the move-out date is not in it).
    "a paid half-year credited back, the first owed whole": ("day", "2026-11-30", [
        fee("物业管理费", "2026-H2", "36800.00", "36800.00"), fee("物业管理费", "2026-H1", "36200.00")], [
        ("fee_credit", "退还物业管理费 2026-H2 未用部分 按日折算 31/184 天 × 36,800.00", "payments.yaml#PAY-0001", "6200.00"),
        ("unpaid_fee", "未缴物业管理费 2026-H1", "payments.yaml#PAY-0002", "-36200.00"),
    ], ("6200.00", "36200.00", "-30000.00")),
}


def test_a_half_year_is_a_ledger_period():
    from pydantic import ValidationError

    from wuye.moveout.proration import period_bounds

    assert period_bounds("2026-H1") == (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert period_bounds("2026-H2") == (dt.date(2026, 7, 1), dt.date(2026, 12, 31))
    assert period_bounds("2026-H3") is None and period_bounds("2026-H") is None
    assert Payment.model_validate({"id": "PAY-0001", **fee("物业管理费", "2026-H2", "1.00")}).period == "2026-H2"
    for bad in ("2026-H3", "2026-H0", "2026-h1"):
        with pytest.raises(ValidationError):
            Payment.model_validate({"id": "PAY-0001", **fee("物业管理费", bad, "1.00")})


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_prorated_statement_is_the_one_worked_out_by_hand(name):
    rule, moveout, payments, lines, totals = SCENARIOS[name]
    got_lines, got_totals = _statement(rule, moveout, payments)
    assert got_lines == lines
    assert got_totals == totals


def test_prorated_lines_in_english(monkeypatch):
    monkeypatch.setenv("WUYE_LANG", "en")
    lines, _ = _statement("half_month", "2026-11-15", [fee("物业管理费", "2026-Q4", "6000.00"), fee("租金", "2026-11", "3000.00", "3000.00")])
    assert [(l[1], l[3]) for l in lines] == [
        ("unpaid 物业管理费 2026-Q4 prorated by half-month 3/6 half-months × 6,000.00", "-3000.00"),
        ("refund of 租金 2026-11, unused part prorated by half-month 1/2 half-months × 3,000.00", "1500.00"),
    ]


def test_prorating_needs_the_planned_date():
    config = StoreConfig(building={"name": "柏彦大厦"}, moveout={"proration": "day"})
    steps = {"notice": {"data": {"applied_on": "2026-10-01"}, "_file": "notice.yaml"}}
    with pytest.raises(WuyeError, match="planned_date"):
        compute(config, [Payment.model_validate({"id": "PAY-0001", **fee("租金", "2026-11", "100.00")})], [], None, steps)


# --- through the CLI: signed, recomputed by verify ----------------------------------------------


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def set_proration(store, rule: str, sign: bool = True) -> None:
    """Edit wuye.yaml by hand; a manager signs it into the authority chain (`wuye trust update`)."""
    from wuye.trust import authority

    path = store.path("wuye.yaml")
    text = path.read_text(encoding="utf-8")
    assert "  proration: none\n" in text
    path.write_text(text.replace("  proration: none\n", f"  proration: {rule}\n"), encoding="utf-8")
    store._config = None
    if sign:
        authority.update(store, "sunhao")


# Out on 20 January 2027 (31 days): the January fee paid ahead gives back 11/31 of 3,100.00 =
# 1,100.00; January's rent unpaid owes 20/31 of 6,200.00 = 4,000.00. The case's inspections add
# a damage of 300.00 and 23.5 kWh × 1.20 = 28.20 of electricity.
# Credits 10,000.00 + 1,100.00 = 11,100.00; charges 4,000.00 + 300.00 + 28.20 = 4,328.20;
# balance 6,771.80.
PAYMENTS = [{"kind": "deposit", "item": "租赁押金", "amount": "10000.00", "paid": "10000.00"},
            fee("物业管理费", "2027-01", "3100.00", "3100.00"), fee("租金", "2027-01", "6200.00")]
LINES = [
    {"code": "deposit", "item": "退还租赁押金", "source": "payments.yaml#PAY-0001", "amount": "10000.00"},
    {"code": "fee_credit", "item": "退还物业管理费 2027-01 未用部分 按日折算 11/31 天 × 3,100.00", "source": "payments.yaml#PAY-0002", "amount": "1100.00"},
    {"code": "unpaid_fee", "item": "未缴租金 2027-01 按日折算 20/31 天 × 6,200.00", "source": "payments.yaml#PAY-0003", "amount": "-4000.00"},
    {"code": "damage", "item": "损坏赔偿：1205 卫生间 洗手盆开裂", "source": "engineering_inspection.yaml damages[0]", "amount": "-300.00"},
    {"code": "utility:electricity", "item": "电费 23.5度 × 1.20 元", "source": ELEC_SOURCE, "amount": "-28.20"},
]


def _inspected(mo, date="2027-01-20"):
    mo.move_in()
    mo.archive("payments", PAYMENTS)
    mo.start(date=date)
    for step in ("application", "return_pass", "engineering_inspection", "security_inspection"):
        mo.ok(mo.sign(step))


def test_a_prorated_settlement_is_signed_as_dry_run_showed_and_verify_recomputes_it(mo, run, snapshot):
    set_proration(mo.store, "day")
    _inspected(mo)
    before = snapshot(mo.store)
    dry = json.loads(mo.ok(mo.settle("--dry-run", "--json")).stdout)
    assert snapshot(mo.store) == before
    assert dry["lines"] == LINES
    assert (dry["credits"], dry["charges"], dry["balance"]) == ("11100.00", "4328.20", "6771.80")

    signed = json.loads(mo.ok(mo.settle("--json")).stdout)
    assert signed == dry
    data = mo.entry("settlement")["data"]
    assert data["lines"] == LINES and data["balance"] == "6771.80"
    r = run("verify")
    assert r.exit_code == 0, r.stdout + r.stderr

    # Closed: the unpaid rent is settled by the statement; the paid fee stays as it was.
    mo.pay()
    mo.ok(mo.sign("handover"))
    mo.ok(mo.sign("release"))
    from wuye.storage import yamlio

    ledger = {e["id"]: e for e in yamlio.read(mo.store.path("tenants/T0001/payments.yaml"), "x")["entries"]}
    assert ledger["PAY-0003"]["paid"] == "6200.00" and "迁出结算" in ledger["PAY-0003"]["note"]
    assert ledger["PAY-0002"]["paid"] == "3100.00" and "note" not in ledger["PAY-0002"]
    r = run("verify")
    assert r.exit_code == 0, r.stdout + r.stderr


def test_a_statement_signed_before_the_rule_changed_still_verifies(mo, run):
    _inspected(mo)
    signed = json.loads(mo.ok(mo.settle("--json")).stdout)
    # Rule none: both fees whole; the paid one owes nothing.
    assert [(l["source"], l["amount"]) for l in signed["lines"][:2]] == [
        ("payments.yaml#PAY-0001", "10000.00"), ("payments.yaml#PAY-0003", "-6200.00")]
    set_proration(mo.store, "day")
    r = run("verify")
    assert r.exit_code == 0, r.stdout + r.stderr
    # A new statement would prorate: the signed one is judged by the rule it was signed under.
    dry = json.loads(mo.ok(mo.settle("--dry-run", "--json")).stdout)
    assert dry["lines"] == LINES


def test_a_rule_edited_without_managements_signature_fails_verify(mo, run):
    set_proration(mo.store, "half_month", sign=False)
    plain_git(mo.store.root, "commit", "-q", "-am", "按半月折算")
    r = run("verify")
    assert r.exit_code == 1
    assert "moveout.proration" in r.stdout + r.stderr


# --- the notice period --------------------------------------------------------------------------


def notice_days(store, days: int) -> None:
    """The building's notice period, edited by hand and committed (not money: no authority)."""
    path = store.path("wuye.yaml")
    text = path.read_text(encoding="utf-8")
    assert "  notice_days: 0\n" in text
    path.write_text(text.replace("  notice_days: 0\n", f"  notice_days: {days}\n"), encoding="utf-8")
    plain_git(store.root, "commit", "-q", "-am", f"提前通知 {days} 天")
    store._config = None


def _start(run, date, *extra, env=None):
    return run("moveout", "start", "T0001", "--date", date, "--reason", "租约到期", *extra, "--as", "zhaomin", env=env)


def _day(store, days: int) -> str:
    return (store.now().date() + dt.timedelta(days=days)).isoformat()


def test_a_short_notice_is_refused_without_the_flag(tenant, run, snapshot, refused):
    notice_days(tenant, 30)
    before = snapshot(tenant)
    r = _start(run, _day(tenant, 10))
    refused(r, "只有 10 天", "30 天", "--short-notice")
    assert len(r.stderr.strip().splitlines()) == 1
    assert snapshot(tenant) == before
    r = _start(run, _day(tenant, 10), env={"WUYE_LANG": "en"})
    refused(r, "only 10 day(s)", "30 days' notice", "--short-notice")
    assert snapshot(tenant) == before


def test_a_short_notice_confirmed_is_signed_into_the_notice(tenant, run):
    notice_days(tenant, 30)
    r = _start(run, _day(tenant, 10), "--short-notice", "客户已租到新址，业主同意提前解约")
    assert r.exit_code == 0, r.stderr
    case = r.stdout.split()[0]
    from wuye.storage import yamlio

    entry = yamlio.read(tenant.path(f"tenants/T0001/moveout/{case}/steps/notice.yaml"), "x")
    assert entry["data"]["short_notice"] == "客户已租到新址，业主同意提前解约"
    assert entry["data"]["planned_date"] == _day(tenant, 10)
    r = run("verify")
    assert r.exit_code == 0, r.stdout + r.stderr


def test_enough_notice_needs_no_flag(tenant, run):
    notice_days(tenant, 30)
    r = _start(run, _day(tenant, 30))
    assert r.exit_code == 0, r.stderr
    from wuye.storage import yamlio

    case = r.stdout.split()[0]
    assert "short_notice" not in yamlio.read(tenant.path(f"tenants/T0001/moveout/{case}/steps/notice.yaml"), "x")["data"]


def test_a_past_date_is_refused_without_the_flag(tenant, run, snapshot, refused):
    notice_days(tenant, 30)
    before = snapshot(tenant)
    refused(_start(run, _day(tenant, -3)), "已过", "--short-notice")
    # Recorded late, with the application of then: the date is past, and still needs the reason.
    refused(_start(run, _day(tenant, -3), "--set", f"applied_on={_day(tenant, -60)}"), "已过")
    assert snapshot(tenant) == before
    r = _start(run, _day(tenant, -3), "--set", f"applied_on={_day(tenant, -60)}", "--short-notice", "补录：客户上周已迁出")
    assert r.exit_code == 0, r.stderr


def test_an_absurd_date_is_refused_even_with_the_flag(tenant, run, snapshot, refused):
    notice_days(tenant, 30)
    before = snapshot(tenant)
    refused(_start(run, "2020-01-01", "--short-notice", "理由"), "2020-01-01", "年份写错")
    refused(_start(run, _day(tenant, 6 * 366), "--short-notice", "理由"), "年份写错")
    assert snapshot(tenant) == before


def test_a_date_before_the_lease_began_is_refused(tenant, run, snapshot, refused):
    r = run("archive", "add", "T0001", "profile", "--set", f"lease_start={_day(tenant, -10)}", "--as", "zhaomin")
    assert r.exit_code == 0, r.stderr
    before = snapshot(tenant)
    # Even where the building checks no notice period (the test store's notice_days is 0).
    refused(_start(run, _day(tenant, -20), "--short-notice", "理由"), "租期开始", "lease_start")
    assert snapshot(tenant) == before


def test_no_notice_period_checks_no_dates(tenant, run):
    # notice_days: 0 (the test store's): a planned date a week ago is taken as given.
    r = _start(run, _day(tenant, -7))
    assert r.exit_code == 0, r.stderr

