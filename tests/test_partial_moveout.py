"""Partial move-outs and parking leases through the CLI (issue 16, item 7).

柏彦科技 leases 1202 and 1205. It moves out of 1202 first (`moveout start --units 1202`): the case
settles only 1202's deposit, fee and meter and counts the keys and cards issued for 1202, while
1205, the tenant-wide deposit and fee stay as they are; then a second case for 1205 ends the
tenancy and settles the rest. Parking spaces are leases of their own, ended on their own
(`wuye parking end`) or at a move-out's handover. Every amount is worked out by hand beside it,
at the default building's rates (electricity 1.20 元/度; access card 50.00, unit key 100.00).
"""

from __future__ import annotations

import json

import pytest

from conftest import git
from test_moveout import DATA, MoveOut
from test_moveout import mo  # noqa: F401 (fixture)
from test_proration import set_proration

MOVE_IN = {
    "move_in_date": "2023-01-01", "access_cards_issued": 5, "keys_issued": 4, "customer_cards_issued": 1,
    "extinguishers_rented": 2, "meter_readings": {"electricity": "1000.0"},
    # 1202 and 1205 were each issued 2 cards, 2 keys and an extinguisher; the fifth card and the
    # customer card went to the tenant as a whole. 1202 has a meter of its own.
    "per_unit": [{"unit": "1202", "access_cards_issued": 2, "keys_issued": 2, "extinguishers_rented": 1,
                  "meter_readings": {"electricity": "500.0"}},
                 {"unit": "1205", "access_cards_issued": 2, "keys_issued": 2, "extinguishers_rented": 1}],
}
PAYMENTS = [
    {"kind": "deposit", "item": "租赁押金 1202", "amount": "10000.00", "paid": "10000.00", "unit": "1202"},   # PAY-0001
    {"kind": "deposit", "item": "租赁押金 1205", "amount": "20000.00", "paid": "20000.00", "unit": "1205"},   # PAY-0002
    {"kind": "deposit", "item": "装修押金", "amount": "5000.00", "paid": "5000.00"},                          # PAY-0003, tenant-wide
    {"kind": "fee", "item": "物业管理费", "period": "2026-11", "amount": "3000.00", "unit": "1202"},          # PAY-0004
    {"kind": "fee", "item": "物业管理费", "period": "2026-11", "amount": "4000.00", "unit": "1205"},          # PAY-0005
    {"kind": "fee", "item": "垃圾清运费", "period": "2026-11", "amount": "100.00"},                           # PAY-0006, tenant-wide
]


@pytest.fixture
def two(run, store, tmp_path):
    """T0001 柏彦科技 leasing 1202 and 1205, with its move-in record and ledger."""
    m = MoveOut(run, store, tmp_path)
    r = run("archive", "new", "T0001", "--file", m.file({"name": "柏彦科技", "units": ["1202", "1205"]}), "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    m.archive("move_in", MOVE_IN)
    m.archive("payments", PAYMENTS)
    return m


def read(store, rel):
    from wuye.storage import yamlio

    return yamlio.read(store.path(rel), rel)


def lines(m):
    return [(l["code"], l["source"], l["amount"]) for l in m.entry("settlement")["data"]["lines"]]


def through(m, upto="release", **data):
    """Sign the case's steps after the notice (the helper's walk, for a case already started)."""
    from test_moveout import ORDER

    for step in ORDER[1:ORDER.index(upto) + 1]:
        if step == "settlement":
            m.ok(m.settle())
        elif step == "release":
            m.pay()
            m.ok(m.sign(step, data.get(step)))
        else:
            m.ok(m.sign(step, data.get(step, DATA.get(step))))


def start(m, *units, date="2026-12-31", env=None):
    args = [a for u in units for a in ("--units", u)]
    return m.run("moveout", "start", m.tenant_id, "--date", date, "--reason", "缩减面积", *args, "--as", "zhaomin", env=env)


FIRST = dict(
    return_pass={"access_cards_returned": 1},  # of 1202's 2: one short
    engineering_inspection={**DATA["engineering_inspection"], "meter_electricity": "520.0", "damages": []},
    security_inspection={"extinguishers_returned": 1, "fire_equipment_ok": True},
    handover={**DATA["handover"], "keys_returned": 2, "customer_cards_returned": 0},
)


def test_one_unit_of_two_moves_out_and_the_other_stays_leased(two, run, git_log):
    m, store = two, two.store
    # The 房号 as typed at the counter in full-width digits matches 1202 (NFKC).
    r = start(m, "１２０２")
    assert r.exit_code == 0, r.stderr
    m.case = r.stdout.splitlines()[0]
    cdir = f"tenants/T0001/moveout/{m.case}"
    info = read(store, f"{cdir}/case.yaml")
    assert (info["units"], info["units_kept"]) == (["1202"], ["1205"])
    # The tenant keeps 1205: it is not moving out, and its profile is not touched.
    assert read(store, "tenants/T0001/profile.yaml")["status"] == "active"
    assert sorted(git_log(store)[0].files) == [f"{cdir}/case.yaml", f"{cdir}/steps/notice.yaml"]

    through(m, "settlement", **FIRST)
    # Only 1202's money: its deposit, its November fee, its own meter from 500.0 to 520.0
    # (20 度 × 1.20 = 24.00) and one of its 2 access cards not returned (1 × 50.00).
    # 10000.00 - 3000.00 - 24.00 - 50.00 = 6926.00. 1205's deposit and fee, the tenant-wide
    # renovation deposit and the 垃圾清运费 are not on it.
    assert lines(m) == [
        ("deposit", "payments.yaml#PAY-0001", "10000.00"),
        ("unpaid_fee", "payments.yaml#PAY-0004", "-3000.00"),
        ("utility:electricity", "move_in.yaml per_unit[1202].meter_readings.electricity / engineering_inspection.yaml meter_electricity", "-24.00"),
        ("unreturned:access_card", "move_in.yaml per_unit[1202].access_cards_issued / return_pass.yaml access_cards_returned; "
                                   "wuye.yaml fees.access_card", "-50.00"),
    ]
    assert m.entry("settlement")["data"]["balance"] == "6926.00"
    through_rest(m)

    profile = read(store, "tenants/T0001/profile.yaml")
    assert (profile["units"], profile["status"]) == (["1205"], "active")
    assert read(store, "units/1202.yaml")["status"] == "vacant" and "tenant" not in read(store, "units/1202.yaml")
    assert (read(store, "units/1205.yaml")["status"], read(store, "units/1205.yaml")["tenant"]) == ("leased", "T0001")
    ledger = {e["id"]: e for e in read(store, "tenants/T0001/payments.yaml")["entries"]}
    assert ledger["PAY-0001"]["deposit_status"] == "refunded" and ledger["PAY-0004"]["paid"] == "3000.00"
    # What is not 1202's stays held or owed while the tenant keeps 1205.
    assert ledger["PAY-0002"]["deposit_status"] == ledger["PAY-0003"]["deposit_status"] == "held"
    assert ledger["PAY-0005"]["paid"] == ledger["PAY-0006"]["paid"] == "0.00"
    assert run("verify").exit_code == 0, run("verify").stdout

    # Later, 1205 goes too: the second case ends the tenancy and settles the rest.
    first = m.case
    r = start(m, "1205", date="2027-03-31")
    assert r.exit_code == 0, r.stderr
    m.case = r.stdout.splitlines()[0]
    assert m.case != first and "units_kept" not in read(store, f"tenants/T0001/moveout/{m.case}/case.yaml")
    assert read(store, "tenants/T0001/profile.yaml")["status"] == "moving_out"
    through(m, "settlement", return_pass={"access_cards_returned": 3},
            engineering_inspection={**DATA["engineering_inspection"], "meter_electricity": "1010.0", "damages": []},
            security_inspection={"extinguishers_returned": 1, "fire_equipment_ok": True})
    # 1205's deposit and the tenant-wide one, 1205's fee and the tenant-wide fee; the tenant's
    # meter from its move-in reading, 1010.0 - 1000.0 = 10 度 × 1.20 = 12.00. Cards: 5 issued
    # less 1202's 2 = 3, all returned; extinguishers 2 less 1202's 1 = 1, returned.
    # 20000.00 + 5000.00 - 4000.00 - 100.00 - 12.00 = 20888.00
    assert lines(m) == [
        ("deposit", "payments.yaml#PAY-0002", "20000.00"),
        ("deposit", "payments.yaml#PAY-0003", "5000.00"),
        ("unpaid_fee", "payments.yaml#PAY-0005", "-4000.00"),
        ("unpaid_fee", "payments.yaml#PAY-0006", "-100.00"),
        ("utility:electricity", "move_in.yaml meter_readings.electricity / engineering_inspection.yaml meter_electricity", "-12.00"),
    ]
    assert m.entry("settlement")["data"]["balance"] == "20888.00"
    through_rest(m, handover={**DATA["handover"], "keys_returned": 2, "customer_cards_returned": 1})
    profile = read(store, "tenants/T0001/profile.yaml")
    assert (profile["units"], profile["status"]) == (["1205"], "moved_out")
    assert read(store, "units/1205.yaml")["status"] == "vacant"
    assert run("verify").exit_code == 0


def through_rest(m, **data):
    """Handover, the payout and the release of a settled case."""
    m.ok(m.sign("handover", data.get("handover", FIRST["handover"])))
    m.pay()
    board, _ = m.status()
    assert all(s["met"] for s in board["standards"][:-1]), board["standards"]
    m.ok(m.sign("release"))


def test_keys_short_for_the_unit_leaving_are_counted_against_its_own_issue(two):
    """1202 was issued 2 keys: handing back 1 is one short (the tenant's 4 are not the measure)."""
    m = two
    r = start(m, "1202")
    m.case = r.stdout.splitlines()[0]
    through(m, "settlement", **FIRST)
    m.ok(m.sign("handover", {**FIRST["handover"], "keys_returned": 1}))
    board, _ = m.status()
    keys = board["standards"][1]
    assert not keys["met"] and "单元钥匙 1" in keys["detail"]


@pytest.mark.parametrize("lang, fragments", [
    ("zh", ["没有租用单元 1203", "1202、1205"]),
    ("en", ["does not lease unit 1203", "1202, 1205"]),
])
def test_a_unit_the_tenant_does_not_lease_is_refused_by_name(two, snapshot, refused, lang, fragments):
    before = snapshot(two.store)
    refused(start(two, "1203", env={"WUYE_LANG": lang}), *fragments)
    assert snapshot(two.store) == before


def test_a_partial_move_out_needs_the_units_own_counts(run, store, tmp_path, snapshot, refused):
    m = MoveOut(run, store, tmp_path)
    assert run("archive", "new", "T0001", "--file", m.file({"name": "柏彦科技", "units": ["1202", "1205"]}), "--as", "wangli").exit_code == 0
    m.archive("move_in", {k: v for k, v in MOVE_IN.items() if k != "per_unit"})
    before = snapshot(store)
    refused(start(m, "1202"), "单元 1202 的发放数", "per_unit")
    refused(start(m, "1202", env={"WUYE_LANG": "en"}), "no counts for unit 1202", "per_unit")
    assert snapshot(store) == before
    # All the tenant's units named: a whole move-out, counted against the totals as ever.
    r = start(m, "1202", "1205")
    assert r.exit_code == 0, r.stderr
    assert read(store, "tenants/T0001/profile.yaml")["status"] == "moving_out"


def test_finance_may_dispose_of_a_tenant_wide_deposit_but_not_one_of_a_unit_kept(two, snapshot, refused):
    m = two
    m.case = start(m, "1202").stdout.splitlines()[0]
    through(m, "security_inspection", **FIRST)
    before = snapshot(m.store)
    refused(m.settle("--withhold", "PAY-0002=100.00:墙面污损"), "PAY-0002", "1205")
    assert snapshot(m.store) == before
    # The renovation deposit (tenant-wide) forfeited in 1202's case: refunded and forfeited there.
    # 10000.00 + 5000.00 - 5000.00 - 3000.00 - 24.00 - 50.00 = 6926.00
    m.ok(m.settle("--forfeit", "PAY-0003:1202 装修保留，按租约不予退还"))
    assert [l[:2] for l in lines(m)][:3] == [("deposit", "payments.yaml#PAY-0001"), ("deposit", "payments.yaml#PAY-0003"),
                                              ("forfeit", "payments.yaml#PAY-0003 forfeit")]
    assert m.entry("settlement")["data"]["balance"] == "6926.00"


# --- parking leases ------------------------------------------------------------------------------


@pytest.fixture
def parked(mo):
    """T0001 (unit 1205) with two parking leases and a November fee for B2-017, paid."""
    m = mo
    m.move_in(parking_spaces=[
        {"space": "B2-017", "start": "2025-01-01", "end": "2027-12-31", "monthly_fee": "600.00"},
        {"space": "B2-018", "start": "2025-01-01", "monthly_fee": "450.00"},
    ])
    m.archive("payments", [{"kind": "deposit", "item": "租赁押金", "amount": "10000.00", "paid": "10000.00"},
                            {"kind": "fee", "item": "车位费", "period": "2026-11", "amount": "600.00", "paid": "600.00",
                             "space": "B2-017"}])
    return m


@pytest.mark.parametrize("lang, done", [("zh", "车位 B2-017 已退租"), ("en", "parking space B2-017 ended")])
def test_a_parking_lease_ends_on_its_own_in_one_commit(parked, run, git_log, lang, done):
    store = parked.store
    before = len(git_log(store))
    r = run("parking", "end", "T0001", "B2-017", "--date", "2026-11-15", "--as", "zhaomin", env={"WUYE_LANG": lang})
    assert r.exit_code == 0, r.stderr
    assert done in r.stderr
    log = git_log(store)
    assert len(log) == before + 1 and log[0].files == ["tenants/T0001/move_in.yaml"]
    assert log[0].author == "赵敏" and log[0].trailers["Wuye-Parking"] == "B2-017"
    lease = read(store, "tenants/T0001/move_in.yaml")["parking_spaces"][0]
    assert (lease["ended_on"], lease["ended_by"]) == ("2026-11-15", "zhaomin")
    assert run("verify").exit_code == 0


@pytest.mark.parametrize("args, fragments", [
    (("B2-099", "--as", "zhaomin"), ["没有租用车位 B2-099", "B2-017、B2-018"]),
    (("B2-017", "--as", "wangli"), ["wangli", "租售部"]),
    (("B2-017", "--as", "zhaomin", "--date", "2026-13-01"), ["2026-13-01"]),
])
def test_ending_a_space_not_rented_or_by_someone_else_is_refused(parked, run, snapshot, refused, args, fragments):
    before = snapshot(parked.store)
    space, *rest = args
    date = [] if "--date" in rest else ["--date", "2026-11-15"]
    refused(run("parking", "end", "T0001", space, *date, *rest), *fragments)
    assert snapshot(parked.store) == before


def test_a_space_not_rented_is_refused_in_english(parked, run, refused):
    refused(run("parking", "end", "T0001", "B2-099", "--date", "2026-11-15", "--as", "zhaomin", env={"WUYE_LANG": "en"}),
            "does not rent parking space B2-099", "B2-017, B2-018")


def test_a_lease_ended_separately_is_prorated_to_its_own_end_and_the_other_ends_at_the_handover(parked, run):
    m, store = parked, parked.store
    set_proration(store, "day")
    assert run("parking", "end", "T0001", "B2-017", "--date", "2026-11-15", "--as", "zhaomin").exit_code == 0
    m.start()
    through(m, "settlement", engineering_inspection={**DATA["engineering_inspection"], "damages": []})
    # B2-017 ended on 15 November: November's 600.00, paid, is used 15 of 30 days; the unused
    # 15/30 × 600.00 = 300.00 comes back. B2-018 ends with the move-out on 31 December, a whole
    # month unbilled: 450.00 at its monthly fee. Electricity 1023.5 - 1000.0 = 23.5 × 1.20 = 28.20.
    # 10000.00 + 300.00 - 450.00 - 28.20 = 9821.80
    assert lines(m) == [
        ("deposit", "payments.yaml#PAY-0001", "10000.00"),
        ("fee_credit", "payments.yaml#PAY-0002", "300.00"),
        ("parking", "move_in.yaml#parking:B2-018 monthly_fee", "-450.00"),
        ("utility:electricity", "move_in.yaml meter_readings.electricity / engineering_inspection.yaml meter_electricity", "-28.20"),
    ]
    assert m.entry("settlement")["data"]["balance"] == "9821.80"
    items = [l["item"] for l in m.entry("settlement")["data"]["lines"]]
    assert items[1] == "退还车位费 2026-11 未用部分 按日折算 15/30 天 × 600.00"
    # Standard 6 waits for B2-018 only: B2-017 ended before.
    board, _ = m.status()
    assert not board["standards"][6]["met"] and "B2-018" in board["standards"][6]["detail"]
    assert "B2-017" not in board["standards"][6]["detail"]
    m.ok(m.sign("handover", {**DATA["handover"], "parking_lease_terminated": True}))
    m.pay()
    m.ok(m.sign("release"))
    leases = read(store, "tenants/T0001/move_in.yaml")["parking_spaces"]
    assert [(p["space"], p["ended_on"], p.get("settled_case")) for p in leases] == [
        ("B2-017", "2026-11-15", m.case), ("B2-018", "2026-12-31", m.case)]
    assert run("verify").exit_code == 0


def test_the_parking_lines_in_english(parked, run):
    m = parked
    m.start()
    through(m, "security_inspection", engineering_inspection={**DATA["engineering_inspection"], "damages": []})
    r = run("moveout", "settle", m.case, "--dry-run", "--json", "--as", "liuyang", env={"WUYE_LANG": "en"})
    assert r.exit_code == 0, r.stderr
    found = [l for l in json.loads(r.stdout)["lines"] if l["code"] == "parking"]
    # Proration none (the default): both leases end with the move-out on 31 December, a month
    # the ledger has not billed: each billed whole at its monthly fee, 600.00 and 450.00.
    assert found == [{"code": "parking", "item": "parking B2-017 2026-12 monthly fee 600.00",
                      "source": "move_in.yaml#parking:B2-017 monthly_fee", "amount": "-600.00"},
                     {"code": "parking", "item": "parking B2-018 2026-12 monthly fee 450.00",
                      "source": "move_in.yaml#parking:B2-018 monthly_fee", "amount": "-450.00"}]


def test_an_old_store_listing_spaces_as_ids_still_reads_and_ends(mo, run):
    m = mo
    m.move_in(parking_spaces=["B2-017"])
    text = m.store.path("tenants/T0001/move_in.yaml").read_text(encoding="utf-8")
    assert "- B2-017\n" in text  # written as the plain id it was given
    r = run("archive", "show", "T0001", "--json")
    assert r.exit_code == 0, r.stderr
    assert run("parking", "end", "T0001", "B2-017", "--date", "2026-11-15", "--as", "zhaomin").exit_code == 0
    lease = read(m.store, "tenants/T0001/move_in.yaml")["parking_spaces"][0]
    assert lease == {"space": "B2-017", "ended_on": "2026-11-15", "ended_by": "zhaomin"}
    assert git(m.store.root, "status", "--porcelain") == ""


def test_a_parking_lease_tied_to_the_unit_leaving_ends_with_it_and_the_tenants_stays(two, run):
    m, store = two, two.store
    m.archive("move_in", {**MOVE_IN, "parking_spaces": [{"space": "B2-017", "unit": "1202", "monthly_fee": "600.00"},
                                                          {"space": "B2-018", "monthly_fee": "450.00"}]})
    m.case = start(m, "1202").stdout.splitlines()[0]
    through(m, "settlement", **FIRST)
    # As the first test's statement, plus B2-017's December (unbilled, proration none): 600.00
    # whole. B2-018 goes with the tenant, not with 1202. 6926.00 - 600.00 = 6326.00
    assert ("parking", "move_in.yaml#parking:B2-017 monthly_fee", "-600.00") in lines(m)
    assert not any("B2-018" in source for _, source, _ in lines(m))
    assert m.entry("settlement")["data"]["balance"] == "6326.00"
    m.ok(m.sign("handover", FIRST["handover"]))
    board, _ = m.status()
    parking = board["standards"][6]
    assert not parking["met"] and "B2-017" in parking["detail"] and "B2-018" not in parking["detail"]
    m.ok(m.sign("handover", {**FIRST["handover"], "parking_lease_terminated": True}, None, "--correct"))
    m.pay()
    m.ok(m.sign("release"))
    leases = read(store, "tenants/T0001/move_in.yaml")["parking_spaces"]
    assert leases[0]["ended_on"] == "2026-12-31" and leases[0]["settled_case"] == m.case
    assert "ended_on" not in leases[1] and "settled_case" not in leases[1]
    assert run("verify").exit_code == 0


@pytest.mark.parametrize("lang, fragment", [("zh", "--units 没有写房号"), ("en", "--units names no unit")])
def test_units_naming_no_unit_is_refused(two, snapshot, refused, lang, fragment):
    before = snapshot(two.store)
    refused(start(two, " 、", env={"WUYE_LANG": lang}), fragment)
    assert snapshot(two.store) == before


@pytest.mark.parametrize("lang, head", [("zh", "房号 1202（部分迁出，留租 1205）"), ("en", "units 1202 (partial; keeps 1205)")])
def test_the_board_says_which_units_stay(two, run, lang, head):
    two.case = start(two, "1202").stdout.splitlines()[0]
    r = run("moveout", "status", two.case, env={"WUYE_LANG": lang})
    assert r.exit_code == 0, r.stderr
    assert head in r.stdout.splitlines()[0]
    board, _ = two.status()
    assert (board["units"], board["units_kept"]) == (["1202"], ["1205"])
