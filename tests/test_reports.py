"""Every report's numbers against a store built here with known times, checked by hand.

The store (built once for the module, read-only afterwards) holds, all in 2025 so the day the tests
run does not matter (limits: complaints 24 h to respond, 168 h to resolve; repairs 24 h, urgent
2 h, 72 h to finish):

Complaints
  TS-2025-0001 T0001 phone    received 10-25 09:00, engineering 10:00, responded 12:00 (3 h),
               resolved 11-02 12:00 (late: due 11-01 09:00), closed 11-03 09:00 rating 3 (216 h)
  TS-2025-0002 T0001 phone    received 11-03 09:00, engineering, responded 15:00 (6 h), resolved
               11-05, closed 11-06 09:00 rating 4 (72 h)
  TS-2025-0003 T0002 online   received 11-10 09:00, customer service, responded 11-12 09:00 (48 h:
               late), resolved 11-13, closed 11-14 rating 2, reopened 11-20, resolved 11-22,
               closed 11-24 09:00 rating 5 (336 h)
  TS-2025-0004 T0001 counter  received 11-20 09:00, nothing since (overdue on both limits)
  TS-2025-0005 T0002 letter   received 12-02 09:00, nothing since
Repairs
  BX-2025-0001 T0001 urgent   reported 11-04 08:00, assigned 09:00 (1 h), done 12:00 (4 h) 150.00,
               closed 11-05 rating 5
  BX-2025-0002 T0002 urgent   reported 11-06 08:00, assigned 11:00 (3 h: late), done 11-07 08:00
               (24 h) 0.00, closed 11-08 rating 3
  BX-2025-0003 T0001 normal   reported 11-25 09:00, assigned 15:00 (6 h), not done (due 11-28 09:00)
  BX-2025-0004 T0002 normal   reported 11-28 09:00, not assigned (due 11-29 09:00)
Surveys: T0001 2025-Q3 3; T0001 2025-Q4 4; T0002 2025-Q4 2.
Fees: T0001 2025-11 5000.00 (2000.00 paid, due 11-15), 2025-12 5000.00 (due 12-15), 2025-10 paid;
      arrears 800.00 open (09-01), 500.00 settled; a violation 300.00 (not arrears).
      T0002 2025-11 1200.50 unpaid (due 11-20).
Move-outs: T0003 notice 2025-10-20, released 2025-11-20 (31 days), deposit 10000.00, damage 300.00,
      electricity 23.5 kWh × 1.20 = 28.20: refund 9671.80. T0002 notice 2025-11-25, still open.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import isolate


def _cli(root: Path):
    from wuye.cli import app

    runner = CliRunner()

    def cli(*args):
        r = runner.invoke(app, ["--store", str(root), *map(str, args)], catch_exceptions=False)
        assert r.exit_code == 0, (args, r.stdout, r.stderr)
        return r

    return cli


def _file(tmp: Path, name: str, data) -> Path:
    p = tmp / name
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def built(_store_template, tmp_path_factory):
    from wuye.archive import dossier as archive
    from wuye.desk import servicedesk as sd
    from wuye.storage.store import Store

    base = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base / "home")
        src, keys = _store_template
        root = base / "store"
        shutil.copytree(src, root, symlinks=True)
        shutil.copytree(keys, os.environ["WUYE_KEYS"], symlinks=True)
        s = Store(root.resolve())
        archive.new(s, "T0001", "柏彦科技", "1205", "wangli")
        archive.new(s, "T0002", "华锐通达贸易", "1202", "wangli")
        archive.new(s, "T0003", "木石建筑设计", "1201", "wangli")
        C, R = sd.COMPLAINT, sd.REPAIR
        t = lambda md_hm: f"2025-{md_hm}"  # noqa: E731

        # Complaints, opened in order so that their numbers follow their receipt.
        assert sd.open_complaint(s, "T0001", "phone", "电梯", "wangli", t("10-25T09:00")).ref == "TS-2025-0001"
        sd.assign(s, C, "TS-2025-0001", "engineering", "zhangwei", "wangli", t("10-25T10:00"))
        sd.respond(s, "TS-2025-0001", "已安排", "zhangwei", t("10-25T12:00"))
        sd.open_complaint(s, "T0001", "phone", "空调", "wangli", t("11-03T09:00"))
        sd.resolve(s, "TS-2025-0001", "已调整", "zhangwei", t("11-02T12:00"))
        sd.close(s, C, "TS-2025-0001", 3, "wangli", t("11-03T09:00"))
        sd.assign(s, C, "TS-2025-0002", "engineering", None, "wangli", t("11-03T10:00"))
        sd.respond(s, "TS-2025-0002", "已安排", "zhangwei", t("11-03T15:00"))
        sd.resolve(s, "TS-2025-0002", "已修好", "zhangwei", t("11-05T09:00"))
        sd.close(s, C, "TS-2025-0002", 4, "wangli", t("11-06T09:00"))
        sd.open_complaint(s, "T0002", "online", "噪音", "wangli", t("11-10T09:00"))
        sd.assign(s, C, "TS-2025-0003", "customer_service", "wangli", "wangli", t("11-10T09:30"))
        sd.respond(s, "TS-2025-0003", "已联系施工方", "wangli", t("11-12T09:00"))
        sd.resolve(s, "TS-2025-0003", "施工改在夜间", "wangli", t("11-13T09:00"))
        sd.close(s, C, "TS-2025-0003", 2, "wangli", t("11-14T09:00"))
        sd.reopen(s, "TS-2025-0003", "夜间仍有噪音", "wangli", t("11-20T09:00"))
        sd.open_complaint(s, "T0001", "counter", "保洁", "wangli", t("11-20T09:00"))
        sd.resolve(s, "TS-2025-0003", "施工结束", "wangli", t("11-22T09:00"))
        sd.close(s, C, "TS-2025-0003", 5, "wangli", t("11-24T09:00"))
        sd.open_complaint(s, "T0002", "letter", "停车", "wangli", t("12-02T09:00"))

        # Repairs.
        sd.open_repair(s, "T0001", "1205 机房", "空调告警", True, "wangli", t("11-04T08:00"))
        sd.assign(s, R, "BX-2025-0001", "engineering", "zhangwei", "wangli", t("11-04T09:00"))
        sd.done(s, "BX-2025-0001", "150", "zhangwei", t("11-04T12:00"))
        sd.close(s, R, "BX-2025-0001", 5, "wangli", t("11-05T09:00"))
        sd.open_repair(s, "T0002", "1202 配电箱", "跳闸", True, "wangli", t("11-06T08:00"))
        sd.assign(s, R, "BX-2025-0002", "engineering", "zhangwei", "wangli", t("11-06T11:00"))
        sd.done(s, "BX-2025-0002", "0", "zhangwei", t("11-07T08:00"))
        sd.close(s, R, "BX-2025-0002", 3, "wangli", t("11-08T09:00"))
        sd.open_repair(s, "T0001", "1205 卫生间", "水龙头漏水", False, "wangli", t("11-25T09:00"))
        sd.assign(s, R, "BX-2025-0003", "engineering", "zhangwei", "wangli", t("11-25T15:00"))
        sd.open_repair(s, "T0002", "1202 会议室", "筒灯不亮", False, "wangli", t("11-28T09:00"))

        # Surveys.
        sd.record_survey(s, "T0001", "2025-Q3", 3, None, "wangli", "2025-09-28")
        sd.record_survey(s, "T0001", "2025-Q4", 4, "电梯仍拥挤", "wangli", "2025-12-20")
        sd.record_survey(s, "T0002", "2025-Q4", 2, "噪音", "wangli", "2025-12-20")

        # Fees and arrears.
        tmp = base / "in"
        tmp.mkdir()
        archive.add(s, "T0001", "payments", "liuyang", _file(tmp, "p1.json", [
            {"kind": "fee", "item": "物业管理费", "period": "2025-10", "amount": "5000.00", "paid": "5000.00"},
            {"kind": "fee", "item": "物业管理费", "period": "2025-11", "amount": "5000.00", "paid": "2000.00", "due_date": "2025-11-15"},
            {"kind": "fee", "item": "物业管理费", "period": "2025-12", "amount": "5000.00", "due_date": "2025-12-15"},
            {"kind": "deposit", "item": "租赁押金", "amount": "10000.00", "paid": "10000.00"}]))
        archive.add(s, "T0001", "violations", "liuyang", _file(tmp, "v1.json", [
            {"date": "2025-09-01", "kind": "arrears", "description": "8 月电费", "amount": "800.00"},
            {"date": "2025-08-01", "kind": "arrears", "description": "7 月电费", "amount": "500.00", "status": "settled"},
            {"date": "2025-10-01", "kind": "violation", "description": "占用消防通道", "amount": "300.00"}]))
        archive.add(s, "T0002", "payments", "liuyang", _file(tmp, "p2.json", [
            {"kind": "fee", "item": "物业管理费", "period": "2025-11", "amount": "1200.50", "due_date": "2025-11-20"}]))

        # Move-outs: T0003 all the way to release, T0002 only notified.
        cli = _cli(root)
        cli("archive", "add", "T0003", "move_in", "--file", _file(tmp, "mi.json", {
            "move_in_date": "2023-01-01", "access_cards_issued": 3, "keys_issued": 2, "customer_cards_issued": 1,
            "extinguishers_rented": 2, "meter_readings": {"electricity": "1000.0"}}), "--as", "wangli")
        archive.add(s, "T0003", "payments", "liuyang", _file(tmp, "p3.json", [
            {"kind": "deposit", "item": "租赁押金", "amount": "10000.00", "paid": "10000.00"}]))
        case = cli("moveout", "start", "T0003", "--date", "2025-11-20", "--set", "applied_on=2025-10-20",
                   "--as", "zhaomin").stdout.split()[0]
        steps = [
            ("application", "wangli", {"representative": "李明", "form_received": True}),
            ("return_pass", "wangli", {"access_cards_returned": 3}),
            ("engineering_inspection", "zhangwei", {"equipment_checked": True, "meter_electricity": "1023.5", "power_off": True,
                                                    "ac_off": True, "damages": [{"location": "卫生间", "description": "洗手盆开裂", "amount": "300.00"}]}),
            ("security_inspection", "chenjing", {"extinguishers_returned": 2, "fire_equipment_ok": True}),
            ("settle", "liuyang", None),
            # 10000.00 - 300.00 (damage) - 23.5 × 1.20 (electricity) = 9671.80, paid out before release.
            ("payout", "liuyang", {"amount": "9671.80", "paid_on": "2025-11-19", "method": "transfer", "voucher": "FK-2025-001"}),
            ("handover", "wangli", {"keys_returned": 2, "customer_cards_returned": 1, "renovation": "restored",
                                    "lease_terminated": True, "new_phone": "13998765432", "forwarding_address": "北京市朝阳区建国路 88 号"}),
            ("release", "chenjing", {"release_pass_no": "FX-2025-001", "released_on": "2025-11-20"}),
        ]
        for step, who, data in steps:
            if data is None:
                cli("moveout", "settle", case, "--as", who)
            else:
                cli("moveout", "sign", case, step, "--file", _file(tmp, f"{step}.json", data), "--as", who)
        cli("moveout", "start", "T0002", "--date", "2025-12-31", "--set", "applied_on=2025-11-25", "--as", "zhaomin")
    return s


@pytest.fixture
def report(built, run):
    def _report(name, *args):
        r = run("report", name, "--json", *args, store=built)
        assert r.exit_code == 0, r.stderr
        return json.loads(r.stdout)

    return _report


def _rows(rows, key):
    return {r[key]: r for r in rows}


def _pick(row, keys):
    return {k: row[k] for k in keys}


C_KEYS = ("received", "closed", "reopened", "open", "overdue", "overdue_open", "mean_response_hours", "mean_close_hours",
          "satisfaction")
R_KEYS = ("received", "urgent", "done", "closed", "open", "overdue", "overdue_open", "mean_response_hours",
          "mean_done_hours", "cost", "satisfaction")


def c_row(*values):
    return dict(zip(C_KEYS, values))


def r_row(*values):
    return dict(zip(R_KEYS, values))


def test_a_report_runs_the_collector_less_often_and_leaves_it_as_it_found_it(report, monkeypatch):
    # build() runs the collector after every 10,000 new objects while it holds every record
    # (reports._few_collections); the process (these tests' own, an office's script) gets its
    # own threshold back.
    import gc

    from wuye.desk import reports

    seen, real = [], reports._built
    monkeypatch.setattr(reports, "_built", lambda *a: seen.append(gc.get_threshold()) or real(*a))
    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    try:
        report("repairs")
        assert seen == [(10_000, 11, 12)]
        assert gc.get_threshold() == (900, 11, 12)
    finally:
        gc.set_threshold(*before)


# --- complaints -------------------------------------------------------------------------------


def test_complaints_for_a_month(report):
    rep = report("complaints", "--period", "2025-11")
    assert rep["period"] == "2025-11" and rep["as_of"] == "2025-12-01T00:00:00+08:00"
    # received: 0002, 0003, 0004; closed: 0001 (11-03), 0002, 0003; respond: 6 h and 48 h;
    # close: 216, 72 and 336 h; ratings 3, 4, 2, 5; overdue: 0003 (late response), 0004.
    assert _pick(rep["summary"], C_KEYS) == c_row(3, 3, 1, 1, 2, 1, 27.0, 208.0, 3.5)
    dept = _rows(rep["by_department"], "department")
    assert list(dept) == ["customer_service", "engineering", "unassigned"]
    assert _pick(dept["customer_service"], C_KEYS) == c_row(1, 1, 1, 0, 1, 0, 48.0, 336.0, 3.5)
    assert _pick(dept["engineering"], C_KEYS) == c_row(1, 2, 0, 0, 0, 0, 6.0, 144.0, 3.5)
    assert _pick(dept["unassigned"], C_KEYS) == c_row(1, 0, 0, 1, 1, 1, None, None, None)
    assert dept["engineering"]["department_label"] == "工程部"
    channel = _rows(rep["by_channel"], "channel")
    assert list(channel) == ["phone", "counter", "online"]
    assert _pick(channel["phone"], C_KEYS) == c_row(1, 2, 0, 0, 0, 0, 6.0, 144.0, 3.5)
    assert _pick(channel["counter"], C_KEYS) == c_row(1, 0, 0, 1, 1, 1, None, None, None)
    assert _pick(channel["online"], C_KEYS) == c_row(1, 1, 1, 0, 1, 0, 48.0, 336.0, 3.5)
    trend = _rows(rep["trend"], "period")
    assert list(trend) == ["2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11"]
    # In October 0001 was received, and at the end of October it was not yet late.
    assert trend["2025-10"] == {"period": "2025-10", "received": 1, "closed": 0, "overdue": 0, "satisfaction": None}
    assert trend["2025-11"] == {"period": "2025-11", "received": 3, "closed": 3, "overdue": 2, "satisfaction": 3.5}
    late = [(r["id"], r["missed"], r["waiting"], r["status"]) for r in rep["overdue_items"]]
    assert late == [("TS-2025-0003", "response", "", "closed"),
                    ("TS-2025-0004", "response, resolution", "response, resolution", "open")]


def test_complaints_for_a_quarter_count_what_happened_after_the_month(report):
    rep = report("complaints", "--period", "2025-Q4")
    assert rep["as_of"] == "2026-01-01T00:00:00+08:00"
    # 0005 arrives in December; 0001 counts as overdue (received in the quarter, resolved late);
    # responses: 3, 6, 48 h.
    assert _pick(rep["summary"], C_KEYS) == c_row(5, 3, 1, 2, 4, 2, 19.0, 208.0, 3.5)
    assert [r["period"] for r in rep["trend"]] == ["2025-10", "2025-11", "2025-12"]
    assert [r["received"] for r in rep["trend"]] == [1, 3, 1]


def test_complaints_as_of_a_moment_inside_the_period(report):
    rep = report("complaints", "--period", "2025-11", "--as-of", "2025-11-15T00:00")
    # 0004 not yet received; 0003 closed (11-14) and not yet reopened.
    assert _pick(rep["summary"], C_KEYS) == c_row(2, 3, 0, 0, 1, 0, 27.0, 128.0, 3.0)


# --- repairs ----------------------------------------------------------------------------------


def test_repairs_for_a_month(report):
    rep = report("repairs", "--period", "2025-11")
    # assign 1, 3, 6 h; done 4, 24 h; overdue: 0002 (urgent, assigned after 3 h), 0003 (not done
    # in 72 h), 0004 (not assigned in 24 h).
    assert _pick(rep["summary"], R_KEYS) == r_row(4, 2, 2, 2, 2, 3, 2, 3.3, 14.0, "150.00", 4.0)
    dept = _rows(rep["by_department"], "department")
    assert list(dept) == ["engineering", "unassigned"]
    assert _pick(dept["engineering"], R_KEYS) == r_row(3, 2, 2, 2, 1, 2, 1, 3.3, 14.0, "150.00", 4.0)
    assert _pick(dept["unassigned"], R_KEYS) == r_row(1, 0, 0, 0, 1, 1, 1, None, None, "0.00", None)
    urgency = _rows(rep["by_urgency"], "urgency")
    assert _pick(urgency["urgent"], R_KEYS) == r_row(2, 2, 2, 2, 0, 1, 0, 2.0, 14.0, "150.00", 4.0)
    assert _pick(urgency["normal"], R_KEYS) == r_row(2, 0, 0, 0, 2, 2, 2, 6.0, None, "0.00", None)
    late = {r["id"]: (r["missed"], r["waiting"]) for r in rep["overdue_items"]}
    assert late == {"BX-2025-0002": ("response", ""), "BX-2025-0003": ("resolution", "resolution"),
                    "BX-2025-0004": ("response", "response")}


# --- satisfaction -----------------------------------------------------------------------------


S_KEYS = ("complaint_n", "complaint_mean", "repair_n", "repair_mean", "survey_n", "survey_mean", "n", "mean")


def test_satisfaction_by_quarter_with_its_trend(report):
    rep = report("satisfaction", "--period", "2025")
    # Complaint closings 3, 4, 2, 5; repair closings 5, 3; surveys 3 (Q3), 4 and 2 (Q4).
    assert _pick(rep["summary"], S_KEYS) == dict(zip(S_KEYS, (4, 3.5, 2, 4.0, 3, 3.0, 9, 3.44)))
    assert rep["summary"]["trend"] == "up" and rep["summary"]["change"] == 0.5
    q = _rows(rep["trend"], "period")
    assert list(q) == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert q["2025-Q1"]["n"] == 0 and q["2025-Q1"]["mean"] is None
    assert _pick(q["2025-Q3"], S_KEYS) == dict(zip(S_KEYS, (0, None, 0, None, 1, 3.0, 1, 3.0)))
    assert _pick(q["2025-Q4"], S_KEYS) == dict(zip(S_KEYS, (4, 3.5, 2, 4.0, 2, 3.0, 8, 3.5)))
    assert q["2025-Q3"]["change"] is None and q["2025-Q4"]["change"] == 0.5
    assert [(r["source"], r["ref"], r["score"]) for r in rep["low_ratings"]] == [
        ("complaint", "TS-2025-0003", 2), ("survey", "T0002/SUP-0001", 2)]


def test_satisfaction_for_a_month_leaves_out_the_quarter_survey(report):
    rep = report("satisfaction", "--period", "2025-11")
    assert _pick(rep["summary"], S_KEYS) == dict(zip(S_KEYS, (4, 3.5, 2, 4.0, 0, None, 6, 3.67)))
    # The trend runs over the six months to November: the Q3 survey sits at the end of September.
    assert [r["n"] for r in rep["trend"]] == [0, 0, 0, 1, 0, 6]
    assert rep["summary"]["trend"] == "up" and rep["summary"]["change"] == 0.67


# --- arrears, move-outs, completeness ----------------------------------------------------------


A_KEYS = ("unpaid_fees", "fee_items", "arrears", "arrears_items", "total", "oldest")


def test_arrears_by_tenant_and_total(report):
    rep = report("arrears", "--period", "2025-11")
    # The December bill (due 12-15) is not yet owed at the end of November. The arrear (800.00)
    # and the fine (300.00) recorded in violations.yaml are ledger items of their own, so T0001
    # owes 3000.00 (November's rest) + 800.00 + 300.00 = 4100.00 in three items, and no arrear
    # outside the ledger.
    assert [(r["tenant_id"], *_pick(r, A_KEYS).values()) for r in rep["tenants"]] == [
        ("T0001", "4100.00", 3, "0.00", 0, "4100.00", "2025-09-01"),
        ("T0002", "1200.50", 1, "0.00", 0, "1200.50", "2025-11-20")]
    assert rep["summary"] == {"tenants": 2, "unpaid_fees": "5300.50", "arrears": "0.00", "total": "5300.50"}
    rep = report("arrears")  # and December's 5000.00: 9100.00 in four items
    assert rep["summary"] == {"tenants": 2, "unpaid_fees": "10300.50", "arrears": "0.00", "total": "10300.50"}
    assert rep["tenants"][0]["total"] == "9100.00" and rep["tenants"][0]["fee_items"] == 4


@pytest.mark.parametrize("argv", [("report", "arrears"), ("report", "arrears", "--period", "2025-11"),
                                  ("report", "repairs"), ("report", "satisfaction"), ("complaint", "list"),
                                  ("repair", "list", "--open")])
def test_worker_processes_report_what_one_process_reports(built, run, monkeypatch, argv):
    # A whole store's records are read in worker processes when there are many (10,000 tenants);
    # made to fork here on this small store, they must give exactly the one-process answer.
    from wuye.storage import cache

    # Forked both without the records index and while filling it, then read from it.
    from wuye.storage import index

    as_of = ("--as-of", "2025-12-31T00:00") if argv[0] == "report" else ()
    monkeypatch.setenv("WUYE_NO_CACHE", "1")
    alone = run(*argv, "--json", *as_of, store=built)
    monkeypatch.setattr(cache, "PARALLEL_MIN", 1)
    monkeypatch.setenv("WUYE_JOBS", "2")
    forked = run(*argv, "--json", *as_of, store=built)
    monkeypatch.delenv("WUYE_NO_CACHE")
    index.path(built.root).unlink(missing_ok=True)
    filling = run(*argv, "--json", *as_of, store=built)
    indexed = run(*argv, "--json", *as_of, store=built)
    assert alone.exit_code == forked.exit_code == filling.exit_code == indexed.exit_code == 0, forked.stderr
    assert json.loads(forked.stdout) == json.loads(alone.stdout) == json.loads(filling.stdout) == json.loads(indexed.stdout)
    assert json.loads(alone.stdout)  # there is something to compare


M_KEYS = ("cases", "open", "released", "mean_days", "deposits", "refunded", "due")


def test_moveouts_by_status_days_and_money(report, built):
    rep = report("moveouts")
    assert _pick(rep["summary"], M_KEYS) == dict(zip(M_KEYS, (2, 1, 1, 31.0, "10000.00", "9671.80", "0.00")))
    cases = _rows(rep["cases"], "tenant_id")
    year = built.now().year
    assert cases["T0003"]["case"] == f"MO-{year}-0001" and cases["T0003"]["status"] == "closed"
    assert (cases["T0003"]["notice"], cases["T0003"]["released"], cases["T0003"]["days"]) == ("2025-10-20", "2025-11-20", 31.0)
    assert (cases["T0003"]["refund"], cases["T0003"]["due"], cases["T0003"]["stage"]) == ("9671.80", "0.00", "放行并通知")
    assert cases["T0002"]["status"] == "open" and cases["T0002"]["released"] is None and cases["T0002"]["refund"] is None
    assert {r["status"]: r["cases"] for r in rep["by_status"]} == {"open": 1, "closed": 1}
    # At the end of October T0003 had been notified and not released; T0002 not yet notified.
    rep = report("moveouts", "--period", "2025-10")
    assert _pick(rep["summary"], M_KEYS) == dict(zip(M_KEYS, (1, 1, 0, None, "0.00", "0.00", "0.00")))
    # November: T0003 released (the settlement was signed later, today, so no money yet then).
    rep = report("moveouts", "--period", "2025-11")
    assert _pick(rep["summary"], M_KEYS) == dict(zip(M_KEYS, (2, 1, 1, 31.0, "0.00", "0.00", "0.00")))


def test_completeness_of_the_twelve_categories(report):
    rep = report("completeness")
    tenants = _rows(rep["tenants"], "tenant_id")
    # T0001: profile, payments, supplement, violations, repairs, complaints; T0002: profile,
    # payments, supplement, repairs, complaints; T0003: profile, payments, move_in, contacts and
    # correspondence (both written by the release).
    assert {t: r["present"] for t, r in tenants.items()} == {"T0001": 6, "T0002": 5, "T0003": 5}
    assert tenants["T0001"]["pct"] == 50.0
    assert tenants["T0003"]["missing"] == ["renovation", "supplement", "emergency", "violations", "repairs", "complaints",
                                           "engineering"]
    assert rep["summary"] == {"tenants": 3, "complete": 0, "mean_present": 5.33, "pct": 0.0}
    cats = {r["category"]: (r["tenants"], r["pct"]) for r in rep["by_category"]}
    assert cats == {"profile": (3, 100.0), "payments": (3, 100.0), "renovation": (0, 0.0), "move_in": (1, 33.3),
                    "supplement": (2, 66.7), "contacts": (1, 33.3), "emergency": (0, 0.0), "correspondence": (1, 33.3),
                    "violations": (1, 33.3), "repairs": (2, 66.7), "complaints": (2, 66.7), "engineering": (0, 0.0)}


# --- the same numbers in the terminal and the workbook -----------------------------------------


def test_terminal_tables_show_the_numbers_and_a_bar_chart(built, run):
    r = run("report", "complaints", "--period", "2025-11", store=built)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "投诉报表" in out and "截至 2025-12-01 00:00" in out
    for text in ("208.0", "27.0", "3.50", "工程部", "客服部", "未分派", "TS-2025-0004", "█"):
        assert text in out, text
    r = run("report", "satisfaction", "--period", "2025", store=built)
    assert "上升" in r.stdout and "+0.50" in r.stdout and "3.44" in r.stdout and "█" in r.stdout
    r = run("report", "repairs", "--period", "2025-11", store=built, env={"WUYE_LANG": "en"})
    assert "Repairs report" in r.stdout and "150.00" in r.stdout and "engineering" in r.stdout.lower()


def test_a_long_section_is_printed_as_plain_columns(built, run, monkeypatch):
    # Past output.LONG_LISTING rows (every tenant of a company) a section is plain text, one line
    # a row, as `archive list` prints it: rich laid 10,000 rows out in seconds (issue 19).
    from wuye.cli import output

    monkeypatch.setattr(output, "LONG_LISTING", 2)
    r = run("report", "completeness", store=built, env={"WUYE_LANG": "en"})
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    by_tenant = lines[lines.index("by tenant"):]
    assert by_tenant[1].split() == ["tenant", "company", "status", "categories", "complete", "(%)", "missing"]
    assert by_tenant[2].startswith("------")
    row = next(line for line in by_tenant if line.startswith("T0003"))
    assert row.split()[2:7] == ["moved", "out", "5", "41.7", "renovation,"]  # status, categories, %, missing
    assert row.endswith(", engineering") and "│" not in row
    # The twelve categories, too, with their bars; the three-line summary stays a table.
    cats = lines[lines.index("by category"):lines.index("by tenant")]
    assert any(line.startswith("1 ") and "█" in line for line in cats)
    assert "│" in r.stdout.split("by category")[0]


def test_the_workbook_holds_the_same_numbers(built, run, report, tmp_path, snapshot):
    from openpyxl import load_workbook

    before = snapshot(built)
    path = tmp_path / "out" / "complaints.xlsx"
    r = run("report", "complaints", "--period", "2025-11", "--xlsx", path, store=built)
    assert r.exit_code == 0 and path.is_file() and str(path) in r.stderr
    wb = load_workbook(path)
    assert wb.sheetnames == ["汇总", "按部门", "按渠道", "趋势", "超时明细"]
    ws = wb["汇总"]
    assert ws["A1"].value == "投诉报表" and ws["B2"].value == "2025-11"
    summary = {ws.cell(i, 1).value: ws.cell(i, 2).value for i in range(5, ws.max_row + 1)}
    assert summary == {"受理": 3, "关闭": 3, "重开": 1, "未结": 1, "超时": 2, "超时未结": 1,
                       "平均回复时长（时）": 27.0, "平均关闭时长（时）": 208.0, "平均满意度": 3.5}
    sheet = wb["按部门"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["部门", "受理", "关闭"]
    rows = {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["工程部"]["平均关闭时长（时）"] == 144.0 and rows["客服部"]["重开"] == 1 and rows["未分派"]["超时未结"] == 1
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    assert len(wb["趋势"]._charts) == 1

    path = tmp_path / "arrears.xlsx"
    run("report", "arrears", "--period", "2025-11", "--xlsx", path, store=built)
    ws = load_workbook(path)["按租户"]
    header = [c.value for c in ws[1]]
    first = dict(zip(header, [c.value for c in ws[2]]))
    assert first["租户"] == "T0001" and first["合计"] == 4100.0 and first["未缴费用"] == 4100.0
    assert ws.cell(2, header.index("合计") + 1).number_format == "#,##0.00"
    assert report("arrears", "--period", "2025-11")["tenants"][0]["total"] == "4100.00"

    path = tmp_path / "sat.xlsx"
    run("report", "satisfaction", "--period", "2025", "--xlsx", path, store=built)
    ws = load_workbook(path)["按期间"]
    header = [c.value for c in ws[1]]
    q4 = dict(zip(header, [c.value for c in ws[5]]))
    assert q4["期间"] == "2025-Q4" and q4["评分总数"] == 8 and q4["总均分"] == 3.5 and q4["较上期"] == 0.5
    assert len(ws._charts) == 1
    assert snapshot(built) == before  # reports read, and write only the workbook asked for


@pytest.mark.parametrize("args,fragments", [
    (("complaints", "--period", "2025-13"), ("期间", "2025-13")),
    (("complaints", "--period", "2025-Q5"), ("期间", "2025-Q5")),
    (("repairs", "--period", "last month"), ("期间", "last month")),
    (("satisfaction", "--period", "2025-11", "--as-of", "2025-10-01"), ("早于期间",)),
    (("complaints", "--as-of", "soon"), ("--as-of", "soon")),
    (("completeness", "--period", "2025"), ("completeness", "--period")),
    (("tenants",), ("未知报表", "complaints")),
])
def test_bad_report_requests_are_refused(built, run, snapshot, refused, tmp_path, args, fragments):
    before = snapshot(built)
    refused(run("report", *args, "--xlsx", tmp_path / "x.xlsx", store=built), *fragments)
    assert not (tmp_path / "x.xlsx").exists()
    assert snapshot(built) == before
