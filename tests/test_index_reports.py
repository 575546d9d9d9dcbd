"""What whole-store reports keep in the records index is only what they read of each file: the
arrears report keeps a payments or violations file as the dates and amounts it sums. Its sums
are checked against amounts written out by hand, from the index and from the files
(WUYE_NO_CACHE=1), before and after a hand edit behind the index's back."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from conftest import git

FEES = [
    # A half year's fee with no due date: dated by the period's first day, 2026-07-01.
    {"kind": "fee", "item": "物业管理费", "period": "2026-H2", "amount": "100.00"},
    # A quarter's fee part paid: 200.00 still owed, from 2026-01-01.
    {"kind": "fee", "item": "物业管理费", "period": "2026-Q1", "amount": "250.00", "paid": "50.00"},
    # Paid in full, and a deposit: nothing owed.
    {"kind": "fee", "item": "水电费", "period": "2026-02", "amount": "75.50", "paid": "75.50"},
    {"kind": "deposit", "item": "租赁押金", "amount": "9000.00", "paid": "9000.00"},
    # A due date wins over the period: owed from 2026-05-20.
    {"kind": "fee", "item": "租金", "period": "2026", "amount": "1000.01", "due_date": "2026-05-20"},
]
VIOLATIONS = [
    {"date": "2026-03-01", "kind": "arrears", "description": "2 月电费", "amount": "80.00"},
    {"date": "2026-04-01", "kind": "arrears", "description": "3 月电费", "amount": "40.00", "status": "settled"},
]


@pytest.fixture
def owing(tenant, run, tmp_path):
    f = tmp_path / "payments.json"
    f.write_text(json.dumps(FEES, ensure_ascii=False), encoding="utf-8")
    r = run("archive", "add", "T0001", "payments", "--file", f, "--as", "liuyang")
    assert r.exit_code == 0, r.stderr
    # Arrears kept the old way, in violations.yaml with no ledger item (what `wuye migrate` moves
    # into the ledger; `archive add` raises an item for a new one), written and committed by hand:
    # the report sums them from the records themselves.
    tenant.path("tenants/T0001/violations.yaml").write_text(
        "entries:\n" + "".join(
            f"  - {{id: VIO-000{i}, date: {v['date']}, kind: {v['kind']}, description: {v['description']}, "
            f"amount: '{v['amount']}', status: {v.get('status', 'open')}}}\n" for i, v in enumerate(VIOLATIONS, 1)),
        encoding="utf-8")
    git(tenant.root, "add", "-A")
    git(tenant.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "旧欠费记录")
    return tenant


def arrears(run, monkeypatch, *args, cached: bool = True) -> dict:
    if cached:
        monkeypatch.delenv("WUYE_NO_CACHE", raising=False)
    else:
        monkeypatch.setenv("WUYE_NO_CACHE", "1")
    r = run("report", "arrears", "--json", *args)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    out.pop("as_of")  # of an all-time report: the moment it ran
    return out


def both(run, monkeypatch, *args) -> dict:
    """The report from the index (twice: filling it, then reading it) and from the files: equal."""
    first = arrears(run, monkeypatch, *args)
    assert arrears(run, monkeypatch, *args) == first
    assert arrears(run, monkeypatch, *args, cached=False) == first
    return first


def test_arrears_sums_what_is_owed(owing, run, monkeypatch):
    rep = both(run, monkeypatch)
    (row,) = rep["tenants"]
    assert (row["unpaid_fees"], row["fee_items"], row["arrears"], row["arrears_items"], row["total"], row["oldest"]) == \
        ("1300.01", 3, "80.00", 1, "1380.01", "2026-01-01")
    # Up to June: the half year from July is not yet due.
    (row,) = both(run, monkeypatch, "--period", "2026-06")["tenants"]
    assert (row["unpaid_fees"], row["fee_items"], row["total"]) == ("1200.01", 2, "1280.01")
    # Up to February: the quarter's 200.00 and the arrears of 2026-03-01 is not yet dated.
    (row,) = both(run, monkeypatch, "--period", "2026-02")["tenants"]
    assert (row["unpaid_fees"], row["arrears"], row["total"]) == ("200.00", "0.00", "200.00")


def test_the_index_keeps_only_what_arrears_sums(owing, run, monkeypatch):
    import pickle

    both(run, monkeypatch)
    with sqlite3.connect(owing.root / ".git" / "wuye" / "index.sqlite") as con:
        rows = dict(con.execute("SELECT rel, value FROM files WHERE kind LIKE 'owed:%'"))
    import datetime as dt
    from decimal import Decimal

    assert pickle.loads(rows["tenants/T0001/payments.yaml"]) == [
        (dt.date(2026, 7, 1), Decimal("100.00")), (dt.date(2026, 1, 1), Decimal("200.00")),
        (dt.date(2026, 5, 20), Decimal("1000.01"))]
    assert pickle.loads(rows["tenants/T0001/violations.yaml"]) == [(dt.date(2026, 3, 1), Decimal("80.00"))]


def test_a_payment_edited_behind_the_index_is_summed_again(owing, run, monkeypatch):
    both(run, monkeypatch)
    time.sleep(2.1)  # past the racy window: the rows' stat signatures alone would be trusted
    path = owing.path("tenants/T0001/payments.yaml")
    text = path.read_text(encoding="utf-8")
    assert text.count("paid: '50.00'") == 1
    path.write_text(text.replace("paid: '50.00'", "paid: '60.00'"), encoding="utf-8")  # the same size
    (row,) = both(run, monkeypatch)["tenants"]
    assert (row["unpaid_fees"], row["total"]) == ("1290.01", "1370.01")


def test_a_broken_payments_file_is_reported_from_the_index_too(owing, run, monkeypatch):
    path = owing.path("tenants/T0001/payments.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("amount: '250.00'", "amount: 'lots'"), encoding="utf-8")
    rep = both(run, monkeypatch)
    assert [p["path"] for p in rep["problems"]] == ["tenants/T0001/payments.yaml"]
    # The file that cannot be read owes nothing in the sum; the violations still count.
    (row,) = rep["tenants"]
    assert (row["unpaid_fees"], row["arrears"]) == ("0.00", "80.00")


def test_times_read_back_from_the_index_share_the_zone_object_of_the_settings(tenant, run):
    # Times of two zone objects compare through both offsets, six times slower than times of one
    # (wuye/models/zones.py): every time a report holds, from the index or from a worker, must
    # carry the settings' own zone object, in every tenant's rows alike.
    from wuye.desk.servicedesk import COMPLAINT, read_items
    from wuye.storage.store import Store

    assert run("archive", "new", "T0002", "--name", "国贸物流", "--unit", "1206", "--as", "wangli").exit_code == 0
    for tid in ("T0001", "T0002"):
        r = run("complaint", "open", tid, "--channel", "phone", "--text", "空调噪音", "--as", "wangli")
        assert r.exit_code == 0, r.stderr
    for attempt in ("parsed now", "read back from the index"):
        store = Store(tenant.root)
        items, problems = read_items(store, COMPLAINT, brief=True)
        assert problems == [] and len(items) == 2, attempt
        zones = {id(t.tzinfo) for i in items for t in [i.received, *(e.at for e in i.events if e.at is not None)]}
        assert zones == {id(store.tz())}, attempt
