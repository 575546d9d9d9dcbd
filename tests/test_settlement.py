"""The move-out settlement (财务结算): a statement checked line by line against one computed by hand,
through `wuye moveout settle` and in the signed entry; and `wuye.settlement.compute` directly,
with a hypothesis property over arbitrary records."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from test_moveout import DATA, MoveOut, plain_git

from wuye.models.archive import MoveIn, Payment, Violation
from wuye.models.store import StoreConfig
from wuye.moveout.settlement import Statement, compute, shortages


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def set_rates(store, electricity: str, water: str) -> None:
    """Edit wuye.yaml as an office would (by hand), and have the manager sign the new rates into
    the authority chain (`wuye trust update`), which commits the edited file."""
    from wuye.trust import authority
    path = store.path("wuye.yaml")
    text = path.read_text(encoding="utf-8")
    assert 'electricity: "1.20"' in text and 'water: "5.80"' in text
    text = text.replace('electricity: "1.20"', f'electricity: "{electricity}"').replace('water: "5.80"', f'water: "{water}"')
    path.write_text(text, encoding="utf-8")
    store._config = None
    authority.update(store, "sunhao")


PAYMENTS = [
    {"kind": "deposit", "item": "租赁押金", "amount": "30000.00", "paid": "30000.00", "receipt_no": "YJ-001"},   # PAY-0001 held
    {"kind": "deposit", "item": "装修押金", "amount": "5000.00", "paid": "5000.00", "deposit_status": "held"},  # PAY-0002 held
    {"kind": "deposit", "item": "装修押金（一期）", "amount": "8000.00", "deposit_status": "refunded"},            # PAY-0003 not counted
    {"kind": "fee", "item": "物业管理费", "period": "2026-11", "amount": "3456.78", "paid": "1000.01"},          # PAY-0004 part paid
    {"kind": "fee", "item": "租金", "period": "2026-11", "amount": "12000.00", "paid": "12000.00"},             # PAY-0005 paid
    {"kind": "fee", "item": "水电费", "period": "2026-10", "amount": "0.99"},                                   # PAY-0006 unpaid
    {"kind": "deposit", "item": "车位押金", "amount": "2000.00", "deposit_status": "forfeited"},                # PAY-0007 not counted
]
VIOLATIONS = [
    {"date": "2026-09-01", "kind": "arrears", "description": "2026 年三季度空调费欠缴", "amount": "1234.56"},             # open
    {"date": "2026-05-01", "kind": "arrears", "description": "2026 年 4 月停车费", "amount": "999.99", "status": "settled",
     "resolved_on": "2026-05-20"},                                                                                   # not counted
    {"date": "2026-10-12", "kind": "violation", "description": "走廊堆放杂物，罚款", "amount": "200.00"},                  # open
    {"date": "2026-10-13", "kind": "violation", "description": "违规装修，已免除", "amount": "500.00", "status": "waived"},  # not counted
]
ENGINEERING = {"equipment_checked": True, "meter_electricity": "1023.5", "meter_water": "112.25", "power_off": True,
               "ac_off": True, "damages": [
                   {"location": "1205 卫生间", "description": "洗手盆开裂", "amount": "300.00"},
                   {"location": "1205 会议室", "description": "墙面钉孔 13 处", "amount": "45.50"}]}

ELEC_SOURCE = "move_in.yaml meter_readings.electricity / engineering_inspection.yaml meter_electricity"
WATER_SOURCE = "move_in.yaml meter_readings.water / engineering_inspection.yaml meter_water"

# Worked out by hand. 23.5 kWh × 1.23 = 28.905 → 28.91 and 12.25 t × 4.1 = 50.225 → 50.23
# (ROUND_HALF_UP; banker's rounding would give 28.90 and 50.22).
EXPECTED_LINES = [
    ("deposit", "payments.yaml#PAY-0001", "30000.00"),
    ("deposit", "payments.yaml#PAY-0002", "5000.00"),
    ("unpaid_fee", "payments.yaml#PAY-0004", "-2456.77"),
    ("unpaid_fee", "payments.yaml#PAY-0006", "-0.99"),
    # The open arrear and fine of violations.yaml are ledger items of their own (PAY-0008, PAY-0009),
    # raised when they were recorded: the money is the ledger's, once.
    ("unpaid_fee", "payments.yaml#PAY-0008", "-1234.56"),
    ("unpaid_fee", "payments.yaml#PAY-0009", "-200.00"),
    ("damage", "engineering_inspection.yaml damages[0]", "-300.00"),
    ("damage", "engineering_inspection.yaml damages[1]", "-45.50"),
    ("utility:electricity", ELEC_SOURCE, "-28.91"),
    ("utility:water", WATER_SOURCE, "-50.23"),
    ("unreturned:access_card", "move_in.yaml access_cards_issued / return_pass.yaml access_cards_returned; wuye.yaml fees.access_card", "-100.00"),
    ("unreturned:extinguisher", "move_in.yaml extinguishers_rented / security_inspection.yaml extinguishers_returned; wuye.yaml fees.extinguisher", "-200.00"),
    ("other", "settle --charge", "-350.00"),
]
EXPECTED_ITEMS = {
    "payments.yaml#PAY-0001": "退还租赁押金",
    "payments.yaml#PAY-0004": "未缴物业管理费 2026-11",
    "payments.yaml#PAY-0008": "未缴2026 年三季度空调费欠缴",
    "engineering_inspection.yaml damages[1]": "损坏赔偿：1205 会议室 墙面钉孔 13 处",
    ELEC_SOURCE: "电费 23.5度 × 1.23 元",
    WATER_SOURCE: "水费 12.25吨 × 4.1 元",
    "settle --charge": "清洁费",
}
# 30000.00 + 5000.00
CREDITS = "35000.00"
# 2456.77 + 0.99 + 1234.56 + 200.00 + 300.00 + 45.50 + 28.91 + 50.23 + 100.00 + 200.00 + 350.00
CHARGES = "4966.96"
BALANCE = "30033.04"


def _awkward_case(mo):
    set_rates(mo.store, "1.23", "4.1")
    mo.move_in(access_cards_issued=5, extinguishers_rented=2,
               meter_readings={"electricity": "1000.0", "water": "100.00"})
    mo.archive("payments", PAYMENTS, as_="liuyang")
    mo.archive("violations", VIOLATIONS)
    mo.walk("security_inspection", move_in=False, engineering_inspection=ENGINEERING,
            security_inspection={"extinguishers_returned": 1, "fire_equipment_ok": True})
    # return_pass of DATA hands back 3 of the 5 access cards.
    assert DATA["return_pass"] == {"access_cards_returned": 3}


def _as_rows(lines):
    return [(l["code"], l["source"], l["amount"]) for l in lines]


def test_the_statement_matches_the_one_worked_out_by_hand(mo, snapshot):
    _awkward_case(mo)
    before = snapshot(mo.store)
    dry = json.loads(mo.ok(mo.settle("--dry-run", "--json", "--charge", "清洁费=350.00")).stdout)
    assert snapshot(mo.store) == before

    r = mo.ok(mo.settle("--json", "--charge", "清洁费=350.00"))
    statement = json.loads(r.stdout)
    assert statement == dry
    assert _as_rows(statement["lines"]) == EXPECTED_LINES
    items = {l["source"]: l["item"] for l in statement["lines"]}
    for source, item in EXPECTED_ITEMS.items():
        assert items[source] == item
    assert (statement["credits"], statement["charges"], statement["balance"]) == (CREDITS, CHARGES, BALANCE)

    # The signed entry holds exactly the same statement, as strings.
    entry = mo.entry("settlement")
    data = entry["data"]
    assert _as_rows(data["lines"]) == EXPECTED_LINES
    assert data["lines"] == statement["lines"]
    assert (data["credits"], data["charges"], data["balance"]) == (CREDITS, CHARGES, BALANCE)
    assert entry["signer"] == "liuyang" and entry["department"] == "finance"
    # ... and in the file, as quoted strings (money is never a float).
    text = mo.store.path(mo.step_rel("settlement")).read_text(encoding="utf-8")
    assert f"balance: '{BALANCE}'" in text or f'balance: "{BALANCE}"' in text

    board, _ = mo.status()
    assert board["standards"][2]["met"] and f"应退 {BALANCE} 元" in board["standards"][2]["detail"]


def test_the_printed_statement_shows_every_line_and_the_refund(mo):
    _awkward_case(mo)
    r = mo.ok(mo.settle("--dry-run", "--charge", "清洁费=350.00"))
    out = r.stdout
    for text in ("迁出结算单", "退还租赁押金", "30,000.00", "-2,456.77", "-28.91", "-50.23", "清洁费", "-350.00",
                 "应退合计", "35,000.00", "-4,966.96", "退还客户", "30,033.04", "payments.yaml#PAY-0004"):
        assert text in out, text
    assert "装修押金（一期）" not in out and "停车费" not in out and "违规装修" not in out


def test_a_negative_balance_is_an_amount_due(mo):
    mo.move_in()
    mo.archive("payments", [{"kind": "deposit", "item": "租赁押金", "amount": "1000.00"},
                            {"kind": "fee", "item": "物业管理费", "period": "2026-12", "amount": "1234.56"}])
    mo.walk("security_inspection", move_in=False)
    r = mo.ok(mo.settle("--dry-run"))
    assert "客户应补" in r.stdout and "562.76" in r.stdout
    r = mo.ok(mo.settle("--json"))
    s = json.loads(r.stdout)
    # 1000.00 - 1234.56 - 300.00 (damage) - 23.5 × 1.20 = 28.20 (electricity)
    assert _as_rows(s["lines"]) == [
        ("deposit", "payments.yaml#PAY-0001", "1000.00"),
        ("unpaid_fee", "payments.yaml#PAY-0002", "-1234.56"),
        ("damage", "engineering_inspection.yaml damages[0]", "-300.00"),
        ("utility:electricity", ELEC_SOURCE, "-28.20"),
    ]
    assert (s["credits"], s["charges"], s["balance"]) == ("1000.00", "1562.76", "-562.76")
    assert mo.entry("settlement")["data"]["balance"] == "-562.76"
    board, _ = mo.status()
    assert board["standards"][2]["met"] and "客户应补 562.76 元" in board["standards"][2]["detail"]


@pytest.mark.parametrize("charge, fragment", [("清洁费", "项目=金额"), ("=5.00", "项目=金额"),
                                               ("清洁费=12.345", "两位小数"), ("清洁费=-5", "不能为负"),
                                               ("清洁费=abc", "不是数字")])
def test_a_bad_charge_is_refused(mo, snapshot, refused, charge, fragment):
    mo.walk("security_inspection")
    before = snapshot(mo.store)
    refused(mo.settle("--charge", charge), fragment)
    assert snapshot(mo.store) == before


def test_a_charge_item_may_contain_an_equals_sign(mo):
    mo.walk("security_inspection")
    s = json.loads(mo.ok(mo.settle("--dry-run", "--json", "--charge", "垃圾清运=2车=120.00")).stdout)
    assert s["lines"][-1] == {"code": "other", "item": "垃圾清运=2车", "source": "settle --charge", "amount": "-120.00"}


def test_settling_is_refused_while_an_archive_file_is_invalid(mo, snapshot, refused):
    mo.walk("security_inspection")
    mo.archive("payments", [{"kind": "fee", "item": "物业管理费", "amount": "100.00"}])
    path = mo.store.path("tenants/T0001/payments.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("100.00", "100.005"), encoding="utf-8")
    plain_git(mo.store.root, "commit", "-q", "-am", "手工改错")
    before = snapshot(mo.store)
    refused(mo.settle(), "无法结算", "tenants/T0001/payments.yaml")
    refused(mo.settle("--dry-run"), "无法结算", "tenants/T0001/payments.yaml")
    assert snapshot(mo.store) == before


def test_settling_needs_the_move_in_meter_base(mo, snapshot, refused):
    mo.move_in(meter_readings={})
    mo.walk("security_inspection", move_in=False)
    before = snapshot(mo.store)
    refused(mo.settle(), "无法结算电费", "move_in.yaml", "meter_readings.electricity")
    assert snapshot(mo.store) == before


def test_a_final_reading_below_the_base_is_refused(mo, snapshot, refused):
    mo.walk("security_inspection", engineering_inspection={**DATA["engineering_inspection"], "meter_electricity": "999"})
    before = snapshot(mo.store)
    refused(mo.settle(), "电费终读数 999 小于已计费读数 1000.0", "move_in.yaml meter_readings.electricity", "engineering_inspection.yaml")
    assert snapshot(mo.store) == before


# --- compute() directly ---------------------------------------------------------------------------


def _config(electricity="1.20", water="5.80", **fees):
    return StoreConfig.model_validate({"building": {"name": "测试大厦"}, "rates": {"electricity": electricity, "water": water},
                                       "fees": fees})


def _pay(i, **kw):
    return Payment.model_validate({"id": f"PAY-{i:04d}", **kw})


def _vio(i, **kw):
    return Violation.model_validate({"id": f"VIO-{i:04d}", "date": "2026-01-01", "description": f"事项{i}", **kw})


def _eng(data, file="engineering_inspection.yaml"):
    return {"data": data, "_file": file}


def test_compute_rounds_each_line_half_up_to_the_fen():
    move_in = MoveIn.model_validate({"meter_readings": {"electricity": "0", "water": "0"}})
    st_ = compute(_config("0.01", "0.03"), [], [], move_in,
                  {"engineering_inspection": _eng({"meter_electricity": "0.5", "meter_water": "0.5"})})
    # 0.005 → 0.01 and 0.015 → 0.02, each line rounded on its own.
    assert [(l.code, str(l.amount)) for l in st_.lines] == [("utility:electricity", "-0.01"), ("utility:water", "-0.02")]
    assert str(st_.balance) == "-0.03"


def test_compute_leaves_out_what_rounds_to_nothing_and_what_is_settled():
    move_in = MoveIn.model_validate({"meter_readings": {"electricity": "10"}})
    steps = {"engineering_inspection": _eng({"meter_electricity": "10.001"})}  # 0.001 × 1.20 → 0.00
    payments = [_pay(1, kind="fee", item="租金", amount="100.00", paid="100.00"),
                _pay(2, kind="fee", item="租金", amount="100.00", paid="150.00"),  # overpaid: no credit
                _pay(3, kind="deposit", item="押金", amount="500.00", deposit_status="refunded")]
    violations = [_vio(1, kind="arrears", amount="10.00", status="settled"), _vio(2, kind="violation", amount="0")]
    st_ = compute(_config(), payments, violations, move_in, steps)
    assert st_.lines == []
    assert st_.to_data() == {"lines": [], "credits": "0.00", "charges": "0.00", "balance": "0.00"}


def test_compute_counts_shortages_only_for_signed_return_steps():
    move_in = MoveIn.model_validate({"access_cards_issued": 4, "keys_issued": 3, "customer_cards_issued": 2,
                                     "parking_cards_issued": 1, "parking_lock_keys_issued": 1, "extinguishers_rented": 1})
    steps = {"return_pass": {"data": {"access_cards_returned": 1}, "_file": "return_pass.yaml"}}
    assert [(f, n) for f, n, _, _ in shortages(move_in, steps)] == [("access_card", 3)]
    steps["handover"] = {"data": {"keys_returned": 3, "customer_cards_returned": 0}, "_file": "handover.2.yaml"}
    steps["security_inspection"] = {"data": {"extinguishers_returned": 1}, "_file": "security_inspection.yaml"}
    found = shortages(move_in, steps)
    assert [(f, n) for f, n, _, _ in found] == [("access_card", 3), ("customer_card", 2), ("parking_card", 1),
                                                ("parking_lock_key", 1)]
    assert found[1][2] == "move_in.yaml customer_cards_issued / handover.2.yaml customer_cards_returned"
    st_ = compute(_config(customer_card="19.99"), [], [], move_in, steps)
    assert [(l.code, str(l.amount)) for l in st_.lines] == [
        ("unreturned:access_card", "-150.00"), ("unreturned:customer_card", "-39.98"),
        ("unreturned:parking_card", "-100.00"), ("unreturned:parking_lock_key", "-50.00")]
    assert shortages(None, steps) == []


def test_compute_without_a_move_in_record_has_no_base_reading():
    from wuye.errors import WuyeError

    with pytest.raises(WuyeError, match="meter_readings.electricity"):
        compute(_config(), [], [], None, {"engineering_inspection": _eng({"meter_electricity": "5"})})


money = st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2, allow_nan=False, allow_infinity=False)
reading = st.decimals(min_value=0, max_value=Decimal("99999.999"), places=3, allow_nan=False, allow_infinity=False)
rate = st.decimals(min_value=0, max_value=Decimal("99.9999"), places=4, allow_nan=False, allow_infinity=False)
payment = st.one_of(
    st.builds(lambda a, s: ("deposit", a, None, s), money, st.sampled_from(["held", "refunded", "forfeited"])),
    st.builds(lambda a, p: ("fee", a, p, None), money, money),
)
violation = st.tuples(st.sampled_from(["violation", "arrears"]), money, st.sampled_from(["open", "settled", "waived"]))
counts = st.integers(min_value=0, max_value=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payments=st.lists(payment, max_size=6), violations=st.lists(violation, max_size=4),
       damages=st.lists(money, max_size=3), base=st.tuples(reading, reading), used=st.tuples(reading, reading),
       rates=st.tuples(rate, rate), issued=st.tuples(counts, counts), returned=st.tuples(counts, counts),
       others=st.lists(money, max_size=2))
@example(payments=[("deposit", Decimal("35000.00"), None, "held"), ("fee", Decimal("3456.78"), Decimal("1000.01"), None)],
         violations=[("arrears", Decimal("999.99"), "settled")], damages=[Decimal("45.50")],
         base=(Decimal("1000.0"), Decimal("100.00")), used=(Decimal("23.5"), Decimal("12.25")),
         rates=(Decimal("1.23"), Decimal("4.1")), issued=(5, 2), returned=(3, 1), others=[Decimal("350.00")])
def test_property_balance_is_credits_minus_charges_and_every_amount_has_two_places(
        payments, violations, damages, base, used, rates, issued, returned, others):
    cent = Decimal("0.01")
    pays = [_pay(i + 1, kind=k, item=f"项目{i}", amount=a, **({"paid": p} if p is not None else {}),
                 **({"deposit_status": s} if s else {})) for i, (k, a, p, s) in enumerate(payments)]
    vios = [_vio(i + 1, kind=k, amount=a, status=s) for i, (k, a, s) in enumerate(violations)]
    move_in = MoveIn.model_validate({"access_cards_issued": issued[0], "extinguishers_rented": issued[1],
                                     "meter_readings": {"electricity": str(base[0]), "water": str(base[1])}})
    steps = {
        "engineering_inspection": _eng({"meter_electricity": str(base[0] + used[0]), "meter_water": str(base[1] + used[1]),
                                        "damages": [{"location": "室内", "description": f"损坏{i}", "amount": str(d)}
                                                    for i, d in enumerate(damages)]}),
        "return_pass": {"data": {"access_cards_returned": returned[0]}, "_file": "return_pass.yaml"},
        "security_inspection": {"data": {"extinguishers_returned": returned[1]}, "_file": "security_inspection.yaml"},
    }
    config = _config(str(rates[0]), str(rates[1]))
    s = compute(config, pays, vios, move_in, steps, [(f"其他{i}", o) for i, o in enumerate(others)])

    for line in s.lines:
        assert line.amount.as_tuple().exponent == -2 and line.amount != 0
        assert str(line.amount).split(".")[1].__len__() == 2
    for total in (s.credits, s.charges, s.balance):
        assert total.as_tuple().exponent == -2
    assert s.charges >= 0 and s.credits >= 0
    assert s.balance == s.credits - s.charges
    assert s.credits == sum((l.amount for l in s.lines if l.amount > 0), Decimal("0.00"))
    data = s.to_data()
    assert Decimal(data["balance"]) == Decimal(data["credits"]) - Decimal(data["charges"])
    assert all(len(v.split(".")[1]) == 2 for v in (data["credits"], data["charges"], data["balance"]))

    # An independent oracle: the same rules, written out again.
    def r(x):
        return x.quantize(cent, rounding=ROUND_HALF_UP)

    expected = sum((a for k, a, _, st_ in payments if k == "deposit" and st_ == "held"), Decimal(0))
    expected -= sum((a - p for k, a, p, _ in payments if k == "fee" and a > p), Decimal(0))
    expected -= sum((a for _, a, st_ in violations if st_ == "open"), Decimal(0))
    expected -= sum(damages, Decimal(0))
    expected -= r(used[0] * rates[0]) + r(used[1] * rates[1])
    expected -= max(issued[0] - returned[0], 0) * Decimal("50.00") + max(issued[1] - returned[1], 0) * Decimal("200.00")
    expected -= sum(others, Decimal(0))
    assert s.balance == expected
    # Every line names a record it came from.
    assert all(l.source for l in s.lines)


def test_statement_add_rounds_and_skips_zero():
    s = Statement()
    s.add("other", "a", "x", Decimal("-0.004"))
    s.add("other", "b", "x", Decimal("-0.005"))
    s.add("deposit", "c", "x", Decimal("2.675"))
    assert [(l.item, str(l.amount)) for l in s.lines] == [("b", "-0.01"), ("c", "2.68")]
    assert (str(s.credits), str(s.charges), str(s.balance)) == ("2.68", "0.01", "2.67")
