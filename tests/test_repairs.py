"""Repairs (报修) through the CLI: a repair walked through report, assignment, completion and the
follow-up, one commit each with its author and trailers; out-of-order moves and bad input refused
with nothing changed; the urgent-repair response limit used by `--overdue`."""

from __future__ import annotations

import json

import pytest

from conftest import git

Y = 2025


def _repairs(store, tid="T0001") -> list[dict]:
    from wuye.storage import yamlio

    return yamlio.read(store.path(f"tenants/{tid}/repairs.yaml"), "r")["entries"]


def _open(run, *extra, at=f"{Y}-11-04T08:00"):
    r = run("repair", "open", "T0001", "--location", "1205 室机房", "--text", "精密空调高温告警", "--at", at, "--as", "wangli", *extra)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip()


def test_a_repair_through_every_transition_one_commit_each(tenant, run, git_log):
    store = tenant
    n = len(git_log(store))
    rid = _open(run, "--urgent")
    assert rid == f"BX-{Y}-0001"
    steps = [
        (None, "wangli", "王丽", "open", "open", {}),
        (("assign", rid, "--to", "zhangwei", "--at", f"{Y}-11-04T09:00", "--as", "wangli"), "wangli", "王丽", "assign", "assigned",
         {"assigned_dept": "engineering", "assigned_to": "zhangwei", "assigned_at": f"{Y}-11-04T09:00:00+08:00"}),
        (("done", rid, "--cost", "150", "--note", "更换压缩机电容", "--at", f"{Y}-11-04T12:00", "--as", "zhangwei"),
         "zhangwei", "张伟", "done", "done", {"done_at": f"{Y}-11-04T12:00:00+08:00", "cost": "150.00", "result": "更换压缩机电容"}),
        (("close", rid, "--satisfaction", "5", "--at", f"{Y}-11-05T09:00", "--as", "wangli"), "wangli", "王丽", "close", "closed",
         {"satisfaction": 5, "closed_at": f"{Y}-11-05T09:00:00+08:00"}),
    ]
    for args, actor, name, action, status, fields in steps:
        if args is not None:
            r = run("repair", *args)
            assert r.exit_code == 0, (args, r.stderr)
        log = git_log(store)
        assert len(log) == n + 1
        n += 1
        c = log[0]
        assert (c.author, c.email) == (name, f"{actor}@wuye.invalid")
        expected = {"Wuye-Tenant": "T0001", "Wuye-Category": "repairs", "Wuye-Entry": rid, "Wuye-Action": action,
                    "Wuye-Status": status, "Wuye-Actor": actor}
        if action == "assign":
            expected = {**{k: v for k, v in expected.items() if k != "Wuye-Actor"}, "Wuye-Department": "engineering",
                        "Wuye-Actor": actor}
        assert c.trailers == expected
        assert c.subject.startswith(f"repair {rid}: ")
        assert c.files == ["tenants/T0001/repairs.yaml"]
        assert git(store.root, "status", "--porcelain") == ""
        [e] = _repairs(store)
        assert e["status"] == status
        for k, v in fields.items():
            assert e[k] == v
    assert git_log(store)[2].subject == f"repair {rid}: 派工至工程部（张伟）"
    [e] = _repairs(store)
    assert e["urgent"] is True and e["location"] == "1205 室机房"
    assert [(h["action"], h["status"], h["by"]) for h in e["history"]] == [
        ("open", "open", "wangli"), ("assign", "assigned", "wangli"), ("done", "done", "zhangwei"), ("close", "closed", "wangli")]
    assert e["history"][2]["cost"] == "150.00" and e["history"][3]["satisfaction"] == 5
    data = json.loads(run("repair", "show", rid, "--json").stdout)
    assert data["status"] == "closed" and data["allowed"] == [] and data["cost"] == "150.00"
    assert run("archive", "check", "T0001").exit_code == 0


ALLOWED = {"open": ["assign"], "assigned": ["assign", "done"], "done": ["close"], "closed": []}
TRIES = {"assign": ("--to", "zhangwei"), "done": ("--cost", "0"), "close": ("--satisfaction", "4")}
ZH = {"open": "已报修", "assigned": "已派工", "done": "已完成", "closed": "已关闭"}


@pytest.mark.parametrize("state", list(ALLOWED))
def test_every_out_of_order_transition_is_refused(tenant, run, snapshot, refused, state):
    rid = _open(run)
    path = ["assign", "done", "close"][: list(ALLOWED).index(state)]
    for i, action in enumerate(path):
        assert run("repair", action, rid, *TRIES[action], "--at", f"{Y}-11-0{5 + i}T09:00", "--as", "zhangwei").exit_code == 0
    before = snapshot(tenant)
    for action, args in TRIES.items():
        if action in ALLOWED[state]:
            continue
        r = run("repair", action, rid, *args, "--as", "zhangwei")
        refused(r, rid, f"「{ZH[state]}」（{state}）", f"（{action}）")
        if not ALLOWED[state]:
            assert "无（已结束）" in r.stderr
        assert snapshot(tenant) == before


BAD = [
    (("assign", f"BX-{Y}-0001", "--to", "nobody"), ("未知员工", "nobody")),
    (("assign", f"BX-{Y}-0001", "--to", "liuyang"), ("liuyang", "不属于工程部", "财务部")),
    (("assign", f"BX-{Y}-0001", "--to", "zhangwei", "--dept", "plumbing"), ("未知部门", "plumbing")),
    (("assign", f"BX-{Y}-0009", "--to", "zhangwei"), ("找不到报修", f"BX-{Y}-0009")),
    (("assign", f"TS-{Y}-0001", "--to", "zhangwei"), ("TS- 是投诉编号", "wuye complaint")),
]


@pytest.mark.parametrize("args,fragments", BAD, ids=[a[3] if len(a) > 3 else a[1] for a, _ in BAD])
def test_bad_assignments_are_refused(tenant, run, snapshot, refused, args, fragments):
    _open(run)
    before = snapshot(tenant)
    refused(run("repair", *args, "--as", "wangli"), *fragments)
    assert snapshot(tenant) == before


@pytest.mark.parametrize("cost,fragment", [("-5", "不能为负"), ("12.345", "两位小数"), ("abc", "不是数字")])
def test_a_bad_cost_is_refused(tenant, run, snapshot, refused, cost, fragment):
    rid = _open(run)
    run("repair", "assign", rid, "--to", "zhangwei", "--at", f"{Y}-11-04T09:00", "--as", "wangli")
    before = snapshot(tenant)
    refused(run("repair", "done", rid, "--cost", cost, "--as", "zhangwei"), "--cost", fragment)
    assert snapshot(tenant) == before


def test_a_bad_satisfaction_and_an_empty_location_are_refused(tenant, run, snapshot, refused):
    rid = _open(run)
    for action, args in (("assign", ("--to", "zhangwei")), ("done", ())):
        run("repair", action, rid, *args, "--at", f"{Y}-11-04T10:00", "--as", "zhangwei")
    before = snapshot(tenant)
    refused(run("repair", "close", rid, "--satisfaction", "6", "--as", "wangli"), "1 到 5")
    refused(run("repair", "open", "T0001", "--location", " ", "--text", "x", "--as", "wangli"), "报修位置不能为空")
    assert snapshot(tenant) == before


def test_an_urgent_repair_is_overdue_after_two_hours_a_normal_one_after_a_day(tenant, run):
    urgent = _open(run, "--urgent", at=f"{Y}-11-04T08:00")
    normal = _open(run, at=f"{Y}-11-04T08:00")

    def overdue(at):
        r = run("repair", "list", "--overdue", "--json", "--as-of", at)
        return {row["id"]: row["overdue"] for row in json.loads(r.stdout)}

    assert overdue(f"{Y}-11-04T09:59") == {}
    assert overdue(f"{Y}-11-04T10:01") == {urgent: ["response"]}
    assert overdue(f"{Y}-11-05T08:01") == {urgent: ["response"], normal: ["response"]}
    # Assigned, the response limit is met; the 72-hour resolution limit still runs.
    run("repair", "assign", normal, "--to", "zhangwei", "--at", f"{Y}-11-05T09:00", "--as", "wangli")
    assert overdue(f"{Y}-11-06T09:00") == {urgent: ["response"]}
    assert overdue(f"{Y}-11-07T08:01") == {urgent: ["response", "resolution"], normal: ["resolution"]}
    run("repair", "done", normal, "--at", f"{Y}-11-07T09:00", "--as", "zhangwei")
    assert overdue(f"{Y}-11-07T10:00") == {urgent: ["response", "resolution"]}
    r = run("repair", "list", "--open", "--json")
    assert [row["id"] for row in json.loads(r.stdout)] == [urgent, normal]
    r = run("repair", "list")
    assert urgent in r.stdout and "1205 室机房" in r.stdout


def test_help_names_every_command(run):
    r = run("repair", "--help", store=None)
    for cmd in ("open", "assign", "done", "close", "list", "show"):
        assert cmd in r.stdout
