"""A repair charged to the tenant (有偿维修) becomes an item of their ledger, in the commit that
records it done; a repair not charged stays the office's cost. The amounts are typed out by hand."""

from __future__ import annotations

import json

from conftest import git
from test_moveout import mo  # noqa: F401 (fixture)


def _payments(store, tid="T0001") -> list[dict]:
    from wuye.storage import yamlio

    p = store.path(f"tenants/{tid}/payments.yaml")
    return yamlio.read(p, "p")["entries"] if p.is_file() else []


def _repair(run, at="2026-11-18T09:00"):
    r = run("repair", "open", "T0001", "--location", "1205 室卫生间", "--text", "洗手盆被租户员工砸裂", "--at", at, "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    rid = r.stdout.strip()
    r = run("repair", "assign", rid, "--to", "zhangwei", "--at", "2026-11-18T10:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    return rid


def test_a_chargeable_repair_is_a_ledger_item_in_the_same_commit(tenant, run, git_log):
    rid = _repair(run)
    n = len(git_log(tenant))
    r = run("repair", "done", rid, "--cost", "350", "--chargeable", "--at", "2026-11-20T16:30", "--as", "zhangwei")
    assert r.exit_code == 0, r.stderr
    assert "350.00" in r.stderr and "PAY-0001" in r.stderr
    log = git_log(tenant)
    assert len(log) == n + 1
    c = log[0]
    assert c.files == ["tenants/T0001/payments.yaml", "tenants/T0001/repairs.yaml"]
    assert c.trailers["Wuye-Charge"] == "PAY-0001" and c.trailers["Wuye-Actor"] == "zhangwei"
    assert c.subject == f"repair {rid}: 完工，费用 350.00 元，向客户收费"
    [item] = _payments(tenant)
    assert {k: str(item[k]) for k in ("kind", "amount", "paid", "source", "source_ref", "period", "due_date", "recorded_by")} == {
        "kind": "fee", "amount": "350.00", "paid": "0.00", "source": "repair", "source_ref": f"repairs.yaml#{rid}",
        "period": "2026-11", "due_date": "2026-12-20", "recorded_by": "zhangwei"}  # done 11-20, + 30 days
    from wuye.storage import yamlio

    [rep] = yamlio.read(tenant.path("tenants/T0001/repairs.yaml"), "r")["entries"]
    assert rep["chargeable"] is True and rep["cost"] == "350.00" and rep["history"][-1]["chargeable"] is True
    assert git(tenant.root, "status", "--porcelain") == ""
    # Open, it is owed: report arrears shows it; verify finds nothing wrong with the commit.
    rows = {row["tenant_id"]: row for row in json.loads(run("report", "arrears", "--json").stdout)["tenants"]}
    assert rows["T0001"]["unpaid_fees"] == "350.00"
    r = run("verify")
    assert r.exit_code == 0 and "money." not in r.stdout + r.stderr, r.stdout + r.stderr


def test_a_repair_not_charged_stays_the_offices_cost(tenant, run, git_log):
    rid = _repair(run)
    r = run("repair", "done", rid, "--cost", "120.00", "--at", "2026-11-20T16:30", "--as", "zhangwei")
    assert r.exit_code == 0, r.stderr
    assert git_log(tenant)[0].files == ["tenants/T0001/repairs.yaml"]
    assert _payments(tenant) == []
    from wuye.storage import yamlio

    [rep] = yamlio.read(tenant.path("tenants/T0001/repairs.yaml"), "r")["entries"]
    assert "chargeable" not in rep and rep["cost"] == "120.00"


def test_who_may_charge_and_what_a_charge_needs(tenant, run, snapshot, refused):
    rid = _repair(run)
    before = snapshot(tenant)
    # A clerk of customer service does not decide a charge to the tenant.
    refused(run("repair", "done", rid, "--cost", "350", "--chargeable", "--as", "wangli"), "工程部", "wangli")
    refused(run("repair", "done", rid, "--cost", "350", "--chargeable", "--as", "wangli", env={"WUYE_LANG": "en"}),
            "only Engineering", "chargeable")
    # A charge of nothing is no charge.
    refused(run("repair", "done", rid, "--chargeable", "--as", "zhangwei"), "--cost")
    assert snapshot(tenant) == before
    # Finance may mark it too.
    assert run("repair", "done", rid, "--cost", "80.50", "--chargeable", "--as", "liuyang").exit_code == 0
    assert [p["amount"] for p in _payments(tenant)] == ["80.50"]


def test_a_common_areas_repair_cannot_be_charged(store, run, snapshot, refused):
    r = run("repair", "open", "--common", "--location", "B1 车库", "--text", "照明损坏", "--at", "2026-11-18T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    rid = r.stdout.strip()
    assert run("repair", "assign", rid, "--to", "zhangwei", "--at", "2026-11-18T10:00", "--as", "wangli").exit_code == 0
    before = snapshot(store)
    refused(run("repair", "done", rid, "--cost", "200", "--chargeable", "--as", "zhangwei"), "公共区域")
    assert snapshot(store) == before


def test_the_settlement_collects_the_repair_once(mo, run):  # noqa: F811
    mo.archive("payments", {"kind": "deposit", "item": "租赁押金", "amount": "1000.00", "paid": "1000.00"})
    rid = _repair(run)
    assert run("repair", "done", rid, "--cost", "350", "--chargeable", "--at", "2026-11-20T16:30", "--as", "zhangwei").exit_code == 0
    mo.walk("security_inspection")
    r = run("moveout", "settle", mo.case, "--dry-run", "--json", "--as", "liuyang")
    assert r.exit_code == 0, r.stderr
    lines = json.loads(r.stdout)["lines"]
    repair_lines = [line for line in lines if line["source"] == "payments.yaml#PAY-0002"]
    assert [(line["code"], line["amount"]) for line in repair_lines] == [("unpaid_fee", "-350.00")]
    # deposit 1000.00 − repair 350.00 − damage 300.00 − electricity 23.5 × 1.20 = 28.20 → 321.80
    assert json.loads(r.stdout)["balance"] == "321.80"
