"""Common-area repairs (公共区域报修): a repair with a location and no tenant is taken instead of
「找不到租户」, kept in the store-level register desk/repairs/<year>.yaml, walked through the very
state machine of a tenant's repair (one commit each), listed, shown, counted by `report repairs`
and waiting in `wuye todo`, with 公共区域 / common area where the tenant would be."""

from __future__ import annotations

import json

from conftest import git

Y = 2025
REGISTER = f"desk/repairs/{Y}.yaml"


def _entries(store) -> list[dict]:
    from wuye.storage import yamlio

    return yamlio.read(store.path(REGISTER), "r")["entries"]


def _open(run, *extra, at=f"{Y}-11-04T08:00", env=None):
    r = run("repair", "open", "--common", "--location", "20 层电梯厅", "--text", "电梯厅顶灯不亮", "--at", at,
            "--as", "wangli", *extra, env=env)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip()


def test_a_common_repair_through_every_transition_one_commit_each(tenant, run, git_log):
    store = tenant
    n = len(git_log(store))
    rid = _open(run)
    assert rid == f"BX-{Y}-0001"
    steps = [
        None,
        ("assign", rid, "--to", "zhangwei", "--at", f"{Y}-11-04T09:00", "--as", "wangli"),
        ("done", rid, "--note", "更换灯管", "--at", f"{Y}-11-04T11:00", "--as", "zhangwei"),
        ("close", rid, "--satisfaction", "4", "--at", f"{Y}-11-05T09:00", "--as", "wangli"),
    ]
    for args, (action, status) in zip(steps, [("open", "open"), ("assign", "assigned"), ("done", "done"), ("close", "closed")]):
        if args is not None:
            r = run("repair", *args)
            assert r.exit_code == 0, (args, r.stderr)
        log = git_log(store)
        assert len(log) == n + 1, action
        n += 1
        c = log[0]
        assert c.files == [REGISTER]
        assert c.trailers["Wuye-Area"] == "common" and "Wuye-Tenant" not in c.trailers
        assert (c.trailers["Wuye-Entry"], c.trailers["Wuye-Action"], c.trailers["Wuye-Status"]) == (rid, action, status)
        assert "电梯厅" not in c.subject  # what the clerk typed stays in the file
        [e] = _entries(store)
        assert e["status"] == status
        assert git(store.root, "status", "--porcelain") == ""
    assert git_log(store)[3].subject == f"repair {rid}: 报修，公共区域"
    [e] = _entries(store)
    assert (e["location"], e["result"], e["satisfaction"]) == ("20 层电梯厅", "更换灯管", 4)
    assert [h["action"] for h in e["history"]] == ["open", "assign", "done", "close"]
    assert not store.path("tenants/T0001/repairs.yaml").exists()  # no tenant's dossier was touched
    data = json.loads(run("repair", "show", rid, "--json").stdout)
    assert (data["tenant_id"], data["common_area"], data["status"], data["allowed"]) == (None, True, "closed", [])
    assert run("verify").exit_code == 0, run("verify").stdout


def test_the_same_state_machine_refuses_out_of_order_moves(tenant, run, snapshot, refused):
    rid = _open(run)
    before = snapshot(tenant)
    refused(run("repair", "done", rid, "--as", "zhangwei"), rid, "「已报修」（open）", "（done）")
    refused(run("repair", "close", rid, "--satisfaction", "5", "--as", "wangli"), rid, "（close）")
    assert snapshot(tenant) == before


def test_numbers_are_shared_with_the_tenants_repairs(tenant, run):
    first = _open(run)
    r = run("repair", "open", "T0001", "--location", "1205", "--text", "漏水", "--at", f"{Y}-11-04T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    second = _open(run, at=f"{Y}-11-04T10:00")
    assert (first, r.stdout.strip(), second) == (f"BX-{Y}-0001", f"BX-{Y}-0002", f"BX-{Y}-0003")
    assert [e["id"] for e in _entries(tenant)] == [first, second]


def test_list_and_show_say_common_area_in_both_languages(tenant, run):
    rid = _open(run)
    rows = json.loads(run("repair", "list", "--json").stdout)
    [row] = rows
    assert (row["id"], row["tenant_id"], row["company"], row["common_area"]) == (rid, None, "公共区域", True)
    zh = run("repair", "list", env={"COLUMNS": "200"})
    [line] = [l for l in zh.stdout.splitlines() if rid in l]
    assert "公共区域" in line and "None" not in line
    en = run("repair", "list", env={"COLUMNS": "200", "WUYE_LANG": "en"})
    [line] = [l for l in en.stdout.splitlines() if rid in l]
    assert "common area" in line and "公共区域" not in en.stdout
    shown = run("repair", "show", rid, env={"COLUMNS": "120", "WUYE_LANG": "en"})
    assert shown.exit_code == 0 and "common area" in shown.stdout and "20 层电梯厅" in shown.stdout
    # a tenant's filter leaves the common areas out
    assert json.loads(run("repair", "list", "--tenant", "T0001", "--json").stdout) == []


def test_report_repairs_counts_it(tenant, run):
    rid = _open(run, "--urgent")
    assert run("repair", "open", "T0001", "--location", "1205", "--text", "漏水", "--at", f"{Y}-11-04T09:00",
               "--as", "wangli").exit_code == 0
    r = run("report", "repairs", "--period", f"{Y}-11", "--as-of", f"{Y}-11-30T00:00", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["summary"]["received"], data["summary"]["urgent"], data["summary"]["open"]) == (2, 1, 2)
    assert {row["id"]: row["company"] for row in data["overdue_items"]}[rid] == "公共区域"
    en = run("report", "repairs", "--period", f"{Y}-11", "--as-of", f"{Y}-11-30T00:00", env={"COLUMNS": "200", "WUYE_LANG": "en"})
    [line] = [l for l in en.stdout.splitlines() if rid in l]
    assert "common area" in line


def test_it_waits_in_todo_like_any_repair(tenant, run):
    rid = _open(run, at=f"{Y}-11-04T08:00")
    r = run("todo", "--dept", "customer_service", "--as-of", f"{Y}-11-06T08:00", "--json")
    assert r.exit_code == 3  # unassigned for two days: past the 24 hours to send someone
    [task] = json.loads(r.stdout)["repairs"]
    assert (task["ref"], task["tenant_id"], task["company"], task["overdue"]) == (rid, None, "公共区域", True)
    assert run("repair", "assign", rid, "--to", "zhangwei", "--at", f"{Y}-11-04T09:00", "--as", "wangli").exit_code == 0
    r = run("todo", "--as", "zhangwei", "--as-of", f"{Y}-11-04T10:00", env={"COLUMNS": "80", "WUYE_LANG": "en"})
    assert r.exit_code == 0, r.stderr
    [line] = [l for l in r.stdout.splitlines() if rid in l]
    assert "common area" in line and "None" not in line


def test_a_repair_needs_a_tenant_or_common_never_both(tenant, run, snapshot, refused):
    before = snapshot(tenant)
    refused(run("repair", "open", "--location", "20 层电梯厅", "--text", "x", "--as", "wangli"), "--common")
    refused(run("repair", "open", "T0001", "--common", "--location", "20 层电梯厅", "--text", "x", "--as", "wangli"), "--common")
    refused(run("repair", "open", "nosuch", "--location", "1205", "--text", "x", "--as", "wangli"), "找不到租户")
    refused(run("repair", "open", "--common", "--location", " ", "--text", "x", "--as", "wangli"), "报修位置不能为空")
    assert snapshot(tenant) == before
