"""Complaints (投诉) through the CLI: a complaint walked through every transition, one commit each,
authored by the acting staff member with its trailers; every out-of-order transition and every bad
input refused with nothing changed; ids numbered per year across the store; older hand-kept
entries addressed as TENANT/ID; `list --open/--overdue/--tenant` measured at a given moment.

Times are given with `--at` in the past, so what is overdue does not depend on the day the tests
run.
"""

from __future__ import annotations

import json

import pytest

from conftest import git

Y = 2025  # every record in these tests happened in 2025


def _tenant2(store):
    from wuye.archive import dossier as archive

    archive.new(store, "T0002", "华锐通达贸易", "1202", "wangli")


def _complaints(store, tid="T0001") -> list[dict]:
    from wuye.storage import yamlio

    return yamlio.read(store.path(f"tenants/{tid}/complaints.yaml"), "c")["entries"]


def _commit(store, git_log, before, author, email, trailers):
    log = git_log(store)
    assert len(log) == before + 1, [c.subject for c in log[:3]]
    c = log[0]
    assert (c.author, c.email, c.committer) == (author, email, author)
    assert c.trailers == trailers
    assert c.files == ["tenants/T0001/complaints.yaml"]
    assert git(store.root, "status", "--porcelain", "--untracked-files=all") == ""
    return c


def _trailers(entry, action, status, actor, **extra):
    return {"Wuye-Tenant": "T0001", "Wuye-Category": "complaints", "Wuye-Entry": entry, "Wuye-Action": action,
            "Wuye-Status": status, **extra, "Wuye-Actor": actor}


def test_a_complaint_through_every_transition_one_commit_each(tenant, run, git_log):
    store = tenant
    before = len(git_log(store))
    r = run("complaint", "open", "柏彦", "--channel", "phone", "--text", "早高峰电梯等候过久",
            "--at", f"{Y}-11-03T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    cid = f"TS-{Y}-0001"
    assert r.stdout == cid + "\n"  # the id alone on stdout, for scripts
    assert "已受理" in r.stderr
    c = _commit(store, git_log, before, "王丽", "wangli@wuye.invalid", _trailers(cid, "open", "open", "wangli"))
    assert c.subject == f"complaint {cid}: 受理，柏彦科技（电话）"
    [e] = _complaints(store)
    assert e["id"] == cid and e["status"] == "open" and e["channel"] == "phone"
    assert e["received_at"] == f"{Y}-11-03T09:00:00+08:00" and e["description"] == "早高峰电梯等候过久"
    assert e["recorded_by"] == "wangli"
    assert e["history"] == [{"at": f"{Y}-11-03T09:00:00+08:00", "by": "wangli", "action": "open", "status": "open",
                             "note": "早高峰电梯等候过久"}]
    assert list(e)[-3:] == ["history", "recorded_by", "recorded_at"]

    steps = [
        (("assign", cid, "--dept", "engineering", "--to", "zhangwei", "--at", f"{Y}-11-03T10:00", "--as", "wangli"),
         "wangli", "王丽", "assign", "assigned", {"Wuye-Department": "engineering"},
         {"assigned_dept": "engineering", "assigned_to": "zhangwei", "assigned_at": f"{Y}-11-03T10:00:00+08:00"}),
        (("respond", cid, "--text", "已调整群控模式", "--at", f"{Y}-11-03T15:00", "--as", "zhangwei"),
         "zhangwei", "张伟", "respond", "responded", {},
         {"response": "已调整群控模式", "responded_at": f"{Y}-11-03T15:00:00+08:00"}),
        (("resolve", cid, "--result", "8:30—9:30 两部电梯直达高区", "--at", f"{Y}-11-05T09:00", "--as", "zhangwei"),
         "zhangwei", "张伟", "resolve", "resolved", {},
         {"result": "8:30—9:30 两部电梯直达高区", "resolved_at": f"{Y}-11-05T09:00:00+08:00"}),
        (("close", cid, "--satisfaction", "2", "--at", f"{Y}-11-06T09:00", "--as", "wangli"),
         "wangli", "王丽", "close", "closed", {}, {"satisfaction": 2, "closed_at": f"{Y}-11-06T09:00:00+08:00"}),
        (("reopen", cid, "--reason", "仍需等候五分钟以上", "--at", f"{Y}-11-07T09:00", "--as", "wangli"),
         "wangli", "王丽", "reopen", "reopened", {}, {"reopened": 1, "reopened_at": f"{Y}-11-07T09:00:00+08:00"}),
        (("assign", cid, "--dept", "customer_service", "--at", f"{Y}-11-07T09:30", "--as", "wangli"),
         "wangli", "王丽", "assign", "reopened", {"Wuye-Department": "customer_service"},
         {"assigned_dept": "customer_service", "assigned_at": f"{Y}-11-07T09:30:00+08:00"}),
        (("respond", cid, "--text", "将增开一部电梯", "--at", f"{Y}-11-07T11:00", "--as", "wangli"),
         "wangli", "王丽", "respond", "reopened", {},
         {"response": "将增开一部电梯", "responded_at": f"{Y}-11-03T15:00:00+08:00"}),  # the first response stays
        (("resolve", cid, "--result", "三部电梯直达高区", "--at", f"{Y}-11-09T09:00", "--as", "wangli"),
         "wangli", "王丽", "resolve", "resolved", {}, {"result": "三部电梯直达高区"}),
        (("close", cid, "--satisfaction", "5", "--note", "客户满意", "--at", f"{Y}-11-10T09:00", "--as", "wangli"),
         "wangli", "王丽", "close", "closed", {}, {"satisfaction": 5, "closed_at": f"{Y}-11-10T09:00:00+08:00"}),
    ]
    for args, actor, name, action, status, extra, fields in steps:
        before = len(git_log(store))
        r = run("complaint", *args)
        assert r.exit_code == 0, (args, r.stderr)
        assert r.stdout == ""
        c = _commit(store, git_log, before, name, f"{actor}@wuye.invalid", _trailers(cid, action, status, actor, **extra))
        assert c.subject.startswith(f"complaint {cid}: ")
        [e] = _complaints(store)
        assert e["status"] == status
        for k, v in fields.items():
            assert e[k] == v, (action, k, e[k])
        if args[2:4] == ("--dept", "customer_service"):
            assert "assigned_to" not in e  # sent to a department, no longer to zhangwei
        assert e["history"][-1]["action"] == action and e["history"][-1]["by"] == actor

    [e] = _complaints(store)
    assert [h["action"] for h in e["history"]] == ["open", "assign", "respond", "resolve", "close", "reopen",
                                                   "assign", "respond", "resolve", "close"]
    assert [h["status"] for h in e["history"]] == ["open", "assigned", "responded", "resolved", "closed", "reopened",
                                                   "reopened", "reopened", "resolved", "closed"]
    assert e["history"][4]["satisfaction"] == 2 and e["history"][9] == {
        "at": f"{Y}-11-10T09:00:00+08:00", "by": "wangli", "action": "close", "status": "closed", "satisfaction": 5,
        "note": "客户满意"}
    assert e["history"][1]["department"] == "engineering" and e["history"][1]["assignee"] == "zhangwei"

    # The whole history stays readable: `show`, and the archive's own view of category 11.
    r = run("complaint", "show", cid, "--json")
    data = json.loads(r.stdout)
    assert data["status"] == "closed" and data["reopened"] == 1 and len(data["history"]) == 10
    assert data["allowed"] == ["reopen"] and data["overdue"] == [] and data["tenant_id"] == "T0001"
    r = run("complaint", "show", cid)
    assert r.exit_code == 0 and "三部电梯直达高区" in r.stdout and "流转记录" in r.stdout and "重开" in r.stdout
    r = run("archive", "show", "T0001", "complaints", "--json")
    assert json.loads(r.stdout)["categories"]["complaints"]["entries"][0]["id"] == cid
    assert run("archive", "check", "T0001").exit_code == 0


def test_ids_count_up_per_year_across_the_whole_store(tenant, run):
    _tenant2(tenant)
    ids = []
    for tid, at in (("T0001", f"{Y}-03-01T09:00"), ("T0002", f"{Y}-04-01T09:00"), ("T0001", f"{Y - 1}-12-30T09:00"),
                    ("T0002", f"{Y}-05-01T09:00")):
        r = run("complaint", "open", tid, "--channel", "online", "--text", "噪音", "--at", at, "--as", "wangli")
        assert r.exit_code == 0, r.stderr
        ids.append(r.stdout.strip())
    assert ids == [f"TS-{Y}-0001", f"TS-{Y}-0002", f"TS-{Y - 1}-0001", f"TS-{Y}-0003"]
    # A repair has its own numbers.
    r = run("repair", "open", "T0002", "--location", "大堂", "--text", "灯不亮", "--at", f"{Y}-05-02T09:00", "--as", "wangli")
    assert r.stdout.strip() == f"BX-{Y}-0001"
    # Without --at, the year is this year's.
    r = run("complaint", "open", "T0001", "--channel", "counter", "--text", "空调", "--as", "wangli")
    assert r.stdout.strip() == f"TS-{tenant.now().year}-{'0004' if tenant.now().year == Y else '0001'}"


def _walk_to(run, state):
    """A complaint (TS-Y-0001 of T0001) brought to `state`."""
    path = {
        "open": [],
        "assigned": [("assign", "--dept", "engineering", "--to", "zhangwei")],
        "responded": [("respond", "--text", "已安排")],
        "resolved": [("respond", "--text", "已安排"), ("resolve", "--result", "已修好")],
        "closed": [("respond", "--text", "已安排"), ("resolve", "--result", "已修好"), ("close", "--satisfaction", "4")],
        "reopened": [("respond", "--text", "已安排"), ("resolve", "--result", "已修好"), ("close", "--satisfaction", "4"),
                     ("reopen", "--reason", "又坏了")],
    }[state]
    r = run("complaint", "open", "T0001", "--channel", "phone", "--text", "漏水", "--at", f"{Y}-11-01T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    for i, (action, *args) in enumerate(path):
        r = run("complaint", action, f"TS-{Y}-0001", *args, "--at", f"{Y}-11-0{i + 2}T09:00", "--as", "wangli")
        assert r.exit_code == 0, r.stderr


TRIES = {
    "assign": ("--dept", "engineering"),
    "respond": ("--text", "回复"),
    "resolve": ("--result", "结果"),
    "close": ("--satisfaction", "5"),
    "reopen": ("--reason", "不满意"),
}
ALLOWED = {
    "open": ["assign", "respond"],
    "assigned": ["assign", "respond"],
    "responded": ["assign", "resolve"],
    "resolved": ["close", "reopen"],
    "closed": ["reopen"],
    "reopened": ["assign", "respond", "resolve"],
}
STATE_ZH = {"open": "已受理", "assigned": "已分派", "responded": "已回复", "resolved": "已处理", "closed": "已关闭", "reopened": "已重开"}


@pytest.mark.parametrize("state", list(ALLOWED))
def test_every_out_of_order_transition_is_refused_naming_state_and_choices(tenant, run, snapshot, refused, state):
    _walk_to(run, state)
    before = snapshot(tenant)
    for action, args in TRIES.items():
        if action in ALLOWED[state]:
            continue
        r = run("complaint", action, f"TS-{Y}-0001", *args, "--as", "wangli")
        refused(r, f"TS-{Y}-0001", f"「{STATE_ZH[state]}」（{state}）", f"（{action}）",
                *(f"（{a}）" for a in ALLOWED[state]))
        assert snapshot(tenant) == before, action
    r = run("complaint", "close", f"TS-{Y}-0001", "--satisfaction", "5", "--as", "wangli", env={"WUYE_LANG": "en"})
    if "close" not in ALLOWED[state]:
        refused(r, f"complaint TS-{Y}-0001 is {state}; close is not allowed now; allowed: {', '.join(ALLOWED[state])}")


def test_closing_without_a_response_and_a_result_is_refused(tenant, run, snapshot, refused):
    # A hand-kept entry marked resolved that never recorded the response or the result.
    from wuye.archive import dossier as archive

    archive.add(tenant, "T0001", "complaints", "wangli",
                sets=["received_at=2025-06-01T09:00:00+08:00", "channel=letter", "description=停车位被占", "status=resolved"])
    before = snapshot(tenant)
    r = run("complaint", "close", "T0001/CMP-0001", "--satisfaction", "3", "--as", "wangli")
    refused(r, "CMP-0001", "还没有回复和处理结果", "每个投诉须有回应、有结果")
    assert snapshot(tenant) == before


def test_older_entries_are_named_tenant_slash_id_and_an_ambiguous_id_is_refused(tenant, run, snapshot, refused, git_log):
    from wuye.archive import dossier as archive

    _tenant2(tenant)
    for tid in ("T0001", "T0002"):
        archive.add(tenant, tid, "complaints", "wangli",
                    sets=["received_at=2025-06-01T09:00:00+08:00", "channel=phone", "description=异味", "handler=客服部 王丽",
                          "response=已安排保洁", "status=responded"])
    before = snapshot(tenant)
    r = run("complaint", "resolve", "CMP-0001", "--result", "已处理", "--as", "wangli")
    refused(r, "CMP-0001", "2 个租户", "T0001/CMP-0001", "T0002/CMP-0001")
    assert snapshot(tenant) == before
    r = run("complaint", "resolve", "T0002/CMP-0001", "--result", "已加装排风", "--at", "2025-06-03T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    c = git_log(tenant)[0]
    assert c.trailers["Wuye-Entry"] == "T0002/CMP-0001" and c.files == ["tenants/T0002/complaints.yaml"]
    [e] = _complaints(tenant, "T0002")
    assert e["status"] == "resolved" and e["handler"] == "客服部 王丽" and e["history"][0]["action"] == "resolve"
    r = run("complaint", "list", "--json")
    rows = {row["id"]: row for row in json.loads(r.stdout)}
    assert set(rows) == {"T0001/CMP-0001", "T0002/CMP-0001"}
    # The department of an older entry is read from its free-text handler.
    assert rows["T0002/CMP-0001"]["department"] == "customer_service"


BAD = [
    (("close", f"TS-{Y}-0009", "--satisfaction", "5"), ("找不到投诉", f"TS-{Y}-0009")),
    (("close", f"BX-{Y}-0001", "--satisfaction", "5"), ("BX- 是报修编号", "wuye repair")),
    (("respond", "../../etc", "--text", "x"), ("无效",)),
    (("assign", f"TS-{Y}-0001", "--dept", "kitchen"), ("未知部门", "kitchen", "engineering")),
    (("assign", f"TS-{Y}-0001", "--dept", "engineering", "--to", "nobody"), ("未知员工", "nobody")),
    (("assign", f"TS-{Y}-0001", "--dept", "engineering", "--to", "liuyang"), ("liuyang", "不属于工程部")),
    (("respond", f"TS-{Y}-0001", "--text", "  "), ("回复内容不能为空",)),
    (("respond", f"TS-{Y}-0001", "--text", "好", "--at", "2999-01-01T09:00"), ("在将来",)),
    (("respond", f"TS-{Y}-0001", "--text", "好", "--at", f"{Y}-10-01T09:00"), ("早于", "上一次流转")),
    (("respond", f"TS-{Y}-0001", "--text", "好", "--at", "yesterday"), ("不是有效的时间",)),
    (("respond", f"TS-{Y}-0001", "--text", "好", "--as", "ghost"), ("未知员工", "ghost")),
]


@pytest.mark.parametrize("args,fragments", BAD, ids=[" ".join(a[:1] + a[2:4]) for a, _ in BAD])
def test_bad_input_is_refused_and_changes_nothing(tenant, run, snapshot, refused, args, fragments):
    r = run("complaint", "open", "T0001", "--channel", "phone", "--text", "漏水", "--at", f"{Y}-11-01T09:00", "--as", "wangli")
    assert r.exit_code == 0
    before = snapshot(tenant)
    if "--as" not in args:
        args = (*args, "--as", "wangli")
    refused(run("complaint", *args), *fragments)
    assert snapshot(tenant) == before


@pytest.mark.parametrize("score", ["6", "0", "4.5", "很好"])
def test_a_satisfaction_outside_one_to_five_is_refused(tenant, run, snapshot, refused, score):
    _walk_to(run, "resolved")
    before = snapshot(tenant)
    refused(run("complaint", "close", f"TS-{Y}-0001", "--satisfaction", score, "--as", "wangli"), "1 到 5", repr(score))
    assert snapshot(tenant) == before


def test_open_refuses_an_unknown_tenant_channel_or_empty_text(tenant, run, snapshot, refused):
    before = snapshot(tenant)
    refused(run("complaint", "open", "T9999", "--channel", "phone", "--text", "x", "--as", "wangli"), "找不到租户")
    refused(run("complaint", "open", "T0001", "--channel", "fax", "--text", "x", "--as", "wangli"), "未知渠道", "fax", "phone")
    refused(run("complaint", "open", "T0001", "--channel", "phone", "--text", "", "--as", "wangli"), "投诉内容不能为空")
    refused(run("complaint", "open", "T0001", "--channel", "phone", "--text", "x"), "--as")
    assert snapshot(tenant) == before


def test_an_invalid_complaints_file_is_refused_with_its_line(tenant, run, snapshot, refused):
    run("complaint", "open", "T0001", "--channel", "phone", "--text", "漏水", "--at", f"{Y}-11-01T09:00", "--as", "wangli")
    p = tenant.path("tenants/T0001/complaints.yaml")
    p.write_text(p.read_text(encoding="utf-8").replace("channel: phone", "channel: pigeon"), encoding="utf-8")
    before = snapshot(tenant)
    refused(run("complaint", "respond", f"TS-{Y}-0001", "--text", "好", "--as", "wangli"),
            "tenants/T0001/complaints.yaml:", "channel", "请先修正此文件")
    assert snapshot(tenant) == before


def _seed_for_listing(store, run):
    _tenant2(store)
    cmds = [
        # TS-1: T0001, responded in time, resolved late is not possible to see before 11-08
        ("open", "T0001", "--channel", "phone", "--text", "电梯", "--at", f"{Y}-11-01T09:00"),
        ("respond", f"TS-{Y}-0001", "--text", "已安排", "--at", f"{Y}-11-01T12:00"),
        # TS-2: T0002, never responded
        ("open", "T0002", "--channel", "online", "--text", "噪音", "--at", f"{Y}-11-05T09:00"),
        # TS-3: T0001, closed
        ("open", "T0001", "--channel", "counter", "--text", "保洁", "--at", f"{Y}-11-05T10:00"),
        ("respond", f"TS-{Y}-0003", "--text", "已安排", "--at", f"{Y}-11-05T11:00"),
        ("resolve", f"TS-{Y}-0003", "--result", "已清洁", "--at", f"{Y}-11-05T15:00"),
        ("close", f"TS-{Y}-0003", "--satisfaction", "5", "--at", f"{Y}-11-06T09:00"),
    ]
    for action, *args in cmds:
        r = run("complaint", action, *args, "--as", "wangli")
        assert r.exit_code == 0, r.stderr


def test_list_open_overdue_and_tenant_measured_at_a_moment(tenant, run):
    _seed_for_listing(tenant, run)

    def ids(*args):
        r = run("complaint", "list", "--json", *args)
        assert r.exit_code == 0, r.stderr
        return [row["id"] for row in json.loads(r.stdout)]

    every = [f"TS-{Y}-0001", f"TS-{Y}-0002", f"TS-{Y}-0003"]
    assert ids() == every
    assert ids("--open") == every[:2]
    assert ids("--tenant", "T0002") == [f"TS-{Y}-0002"]
    assert ids("--tenant", "柏彦", "--open") == [f"TS-{Y}-0001"]
    # 24 h to respond, 168 h to resolve (wuye.yaml defaults).
    assert ids("--overdue", "--as-of", f"{Y}-11-06T08:59") == []
    assert ids("--overdue", "--as-of", f"{Y}-11-06T09:01") == [f"TS-{Y}-0002"]
    assert ids("--overdue", "--as-of", f"{Y}-11-08T09:01") == [f"TS-{Y}-0001", f"TS-{Y}-0002"]
    assert ids("--as-of", f"{Y}-11-05T09:30") == every[:2]  # not yet received: not listed
    r = run("complaint", "list", "--json", "--overdue", "--as-of", f"{Y}-11-12T10:00")
    rows = {row["id"]: row for row in json.loads(r.stdout)}
    assert rows[f"TS-{Y}-0001"]["overdue"] == ["resolution"]
    assert rows[f"TS-{Y}-0002"]["overdue"] == ["response", "resolution"]
    assert rows[f"TS-{Y}-0002"]["response_due"] == f"{Y}-11-06T09:00:00+08:00"
    assert rows[f"TS-{Y}-0002"]["resolution_due"] == f"{Y}-11-12T09:00:00+08:00"
    r = run("complaint", "list", "--overdue", "--as-of", f"{Y}-11-12T10:00")
    assert f"TS-{Y}-0002" in r.stdout and "回复超时" in r.stdout and "华锐通达贸易" in r.stdout
    assert f"TS-{Y}-0003" not in r.stdout


def test_time_limits_come_from_wuye_yaml(tenant, run):
    p = tenant.path("wuye.yaml")
    p.write_text(p.read_text(encoding="utf-8").replace("complaint_response_hours: 24", "complaint_response_hours: 2"),
                 encoding="utf-8")
    run("complaint", "open", "T0001", "--channel", "phone", "--text", "漏水", "--at", f"{Y}-11-01T09:00", "--as", "wangli")
    r = run("complaint", "list", "--json", "--overdue", "--as-of", f"{Y}-11-01T11:01")
    assert [row["id"] for row in json.loads(r.stdout)] == [f"TS-{Y}-0001"]


def test_messages_are_english_with_wuye_lang_en(tenant, run):
    r = run("complaint", "open", "T0001", "--channel", "phone", "--text", "漏水", "--at", f"{Y}-11-01T09:00", "--as", "wangli",
            env={"WUYE_LANG": "en"})
    assert r.exit_code == 0 and "complaint TS-" in r.stderr and "now open" in r.stderr
    r = run("complaint", "close", f"TS-{Y}-0009", "--satisfaction", "5", "--as", "wangli", env={"WUYE_LANG": "en"})
    assert r.exit_code == 1 and f"no complaint TS-{Y}-0009" in r.stderr


def test_help_names_every_command(run):
    r = run("complaint", "--help", store=None)
    for cmd in ("open", "assign", "respond", "resolve", "close", "reopen", "list", "show"):
        assert cmd in r.stdout


def test_a_hand_typed_time_without_offset_is_local_and_the_store_still_verifies(tenant, run):
    from wuye.archive import dossier as archive

    archive.add(tenant, "T0001", "complaints", "wangli",
                sets=["received_at=2025-11-01T09:00:00", "channel=visit", "description=门禁失灵"])
    r = run("complaint", "list", "--json", "--overdue", "--as-of", "2025-11-02T09:01+08:00")
    [row] = json.loads(r.stdout)
    assert row["id"] == "T0001/CMP-0001" and row["overdue"] == ["response"]
    assert row["response_due"] == "2025-11-02T09:00:00+08:00"
    r = run("complaint", "respond", "T0001/CMP-0001", "--text", "已报修", "--at", "2025-11-02T10:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert run("verify").exit_code == 0
