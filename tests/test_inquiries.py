"""The reception and inquiry log (接待/咨询登记) through the CLI: a tenant's or a visitor's visit or
call, answered on the spot or followed up by a due date and closed (open → follow-up → done, one
commit each); a visitor's phone never in a commit message nor unmasked on screen; refusals that
change nothing; an overdue follow-up waiting in `wuye todo` (exit 3); English output."""

from __future__ import annotations

import json

import pytest

from conftest import git, head

Y = 2025
PHONE = "13912345678"
REGISTER = f"desk/inquiries/{Y}-11.yaml"


def _entries(store) -> list[dict]:
    from wuye.storage import yamlio

    return yamlio.read(store.path(REGISTER), "r")["entries"]


def _open_pending(run, *extra, at=f"{Y}-11-04T09:00"):
    r = run("inquiry", "open", "柏彦", "--channel", "phone", "--about", "下月起空调加时费如何收取", "--due", f"{Y}-11-06",
            "--to", "liuyang", "--at", at, "--as", "wangli", *extra)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip()


def test_the_loop_open_follow_up_done_one_commit_each(tenant, run, git_log):
    store = tenant
    n = len(git_log(store))
    zid = _open_pending(run)
    assert zid == f"ZX-{Y}-0001"
    r1 = run("inquiry", "follow-up", zid, "--note", "已请财务部核对费率", "--due", f"{Y}-11-07", "--at", f"{Y}-11-05T10:00",
             "--as", "liuyang")
    assert r1.exit_code == 0, r1.stderr
    r2 = run("inquiry", "done", zid, "--answer", "加时费按每小时 80 元收取", "--at", f"{Y}-11-06T15:00", "--as", "liuyang")
    assert r2.exit_code == 0, r2.stderr
    log = git_log(store)
    assert len(log) == n + 3
    done_c, follow_c, open_c = log[:3]
    assert [c.files for c in (open_c, follow_c, done_c)] == [[REGISTER]] * 3
    assert open_c.subject == f"inquiry {zid}: 接待登记，电话（租户 T0001），待跟进（{Y}-11-06 前）"
    assert follow_c.subject == f"inquiry {zid}: 跟进，期限改为 {Y}-11-07"
    assert done_c.subject == f"inquiry {zid}: 跟进完成"
    assert [(c.author, c.trailers["Wuye-Action"], c.trailers["Wuye-Status"]) for c in (open_c, follow_c, done_c)] == [
        ("王丽", "open", "pending"), ("刘洋", "follow_up", "pending"), ("刘洋", "done", "done")]
    assert all(c.trailers["Wuye-Entry"] == zid and c.trailers["Wuye-Tenant"] == "T0001" for c in (open_c, follow_c, done_c))
    assert open_c.trailers["Wuye-Due"] == f"{Y}-11-06"
    for c in (open_c, follow_c, done_c):  # what was asked and answered stays in the register
        assert "空调" not in c.subject + c.body and "80 元" not in c.subject + c.body
    [e] = _entries(store)
    assert (e["tenant_id"], e["answered_by"], e["on_the_spot"], e["status"]) == ("T0001", "wangli", False, "done")
    assert (str(e["follow_up_due"]), e["follow_up_to"], e["follow_up_dept"]) == (f"{Y}-11-07", "liuyang", "finance")
    assert e["response"] == "加时费按每小时 80 元收取" and e["done_at"] == f"{Y}-11-06T15:00:00+08:00"
    assert [(h["action"], h["status"], h["by"]) for h in e["history"]] == [
        ("open", "pending", "wangli"), ("follow_up", "pending", "liuyang"), ("done", "done", "liuyang")]
    assert git(store.root, "status", "--porcelain") == ""
    data = json.loads(run("inquiry", "show", zid, "--json").stdout)
    assert (data["status"], data["allowed"], data["overdue"]) == ("done", [], False)
    assert run("verify").exit_code == 0


def test_answered_on_the_spot_is_finished_at_once(tenant, run, refused):
    r = run("inquiry", "open", "T0001", "--channel", "visit", "--about", "停车卡怎么办理", "--answer", "到保安部登记",
            "--at", f"{Y}-11-04T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    zid = r.stdout.strip()
    [e] = _entries(tenant)
    assert (e["on_the_spot"], e["status"], e["response"]) == (True, "answered", "到保安部登记")
    assert "follow_up_due" not in e
    assert json.loads(run("inquiry", "list", "--open", "--json").stdout) == []
    refused(run("inquiry", "done", zid, "--answer", "x", "--as", "wangli"), zid, "「已当场答复」")


def test_a_visitors_phone_is_never_in_a_commit_nor_unmasked_on_screen(tenant, run, git_log):
    r = run("inquiry", "open", "--visitor", "欧阳娜娜", "--phone", PHONE, "--channel", "visit", "--about",
            f"想租 20 层整层，请回电 {PHONE}", "--due", f"{Y}-11-05", "--dept", "leasing", "--at", f"{Y}-11-04T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    zid = r.stdout.strip()
    assert PHONE not in r.stdout + r.stderr
    c = git_log(tenant)[0]
    assert c.subject == f"inquiry {zid}: 接待登记，上门（访客），待跟进（{Y}-11-05 前）"
    assert "Wuye-Tenant" not in c.trailers
    for c in git_log(tenant):
        assert PHONE not in c.subject + c.body and "欧阳" not in c.subject + c.body
    [e] = _entries(tenant)
    assert (e["visitor_name"], e["visitor_phone"], e.get("tenant_id"), e["follow_up_dept"]) == ("欧阳娜娜", PHONE, None, "leasing")
    assert "follow_up_to" not in e  # a department's, not a person's
    for argv in (("inquiry", "list"), ("inquiry", "list", "--json"), ("inquiry", "show", zid), ("inquiry", "show", zid, "--json"),
                 ("todo", "--dept", "leasing", "--as-of", f"{Y}-11-04T10:00")):
        shown = run(*argv)
        assert shown.exit_code == 0, (argv, shown.stderr)
        assert PHONE not in shown.stdout + shown.stderr and "欧阳娜娜" not in shown.stdout, argv
    assert "139****5678" in run("inquiry", "show", zid).stdout
    revealed = run("inquiry", "show", zid, "--json", "--reveal", "--as", "wangli")
    assert json.loads(revealed.stdout)["visitor_phone"] == PHONE


REFUSALS = [
    (("inquiry", "open", "nosuch", "--channel", "phone", "--about", "x", "--answer", "y"), ("找不到租户", "nosuch")),
    (("inquiry", "open", "--channel", "phone", "--about", "x", "--answer", "y"), ("--visitor", "--phone")),
    (("inquiry", "open", "--visitor", "李雷", "--channel", "phone", "--about", "x", "--answer", "y"), ("--phone",)),
    (("inquiry", "open", "T0001", "--channel", "phone", "--about", "x"), ("--answer", "--due")),
    (("inquiry", "open", "T0001", "--channel", "phone", "--about", "x", "--due", "2025-13-01"), ("--due", "2025-13-01", "不是有效的日期")),
    (("inquiry", "open", "T0001", "--channel", "phone", "--about", "x", "--due", f"{Y}-11-01", "--at", f"{Y}-11-04T09:00"),
     ("--due", "早于接待日期")),
    (("inquiry", "open", "T0001", "--channel", "fax", "--about", "x", "--answer", "y"), ("未知方式", "fax")),
    (("inquiry", "open", "T0001", "--channel", "phone", "--about", "x", "--due", f"{Y}-11-06", "--to", "nobody",
      "--at", f"{Y}-11-04T09:00"), ("nobody",)),
    (("inquiry", "open", "T0001", "--channel", "phone", "--about", " ", "--answer", "y"), ("咨询事项不能为空",)),
    (("inquiry", "open", "--visitor", "李雷", "--phone", "12345", "--channel", "phone", "--about", "x", "--answer", "y"),
     ("电话号码无效",)),
    (("inquiry", "done", f"ZX-{Y}-0009", "--answer", "y"), ("找不到咨询", f"ZX-{Y}-0009")),
]


@pytest.mark.parametrize("argv,fragments", REFUSALS, ids=[str(i) for i in range(len(REFUSALS))])
def test_refused_input_is_one_line_and_changes_nothing(tenant, run, snapshot, refused, argv, fragments):
    before, top = snapshot(tenant), head(tenant)
    r = run(*argv, "--as", "wangli")
    refused(r, *fragments)
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert head(tenant) == top and snapshot(tenant) == before


def test_done_twice_and_a_follow_up_after_done_are_refused(tenant, run, snapshot, refused):
    zid = _open_pending(run)
    assert run("inquiry", "done", zid, "--answer", "已答复", "--at", f"{Y}-11-05T09:00", "--as", "liuyang").exit_code == 0
    before, top = snapshot(tenant), head(tenant)
    r = run("inquiry", "done", zid, "--answer", "再答一次", "--as", "liuyang")
    refused(r, zid, "「已跟进完成」（done）", "无（已办结）")
    assert len(r.stderr.strip().splitlines()) == 1
    refused(run("inquiry", "follow-up", zid, "--note", "x", "--as", "liuyang"), zid)
    refused(run("inquiry", "follow-up", zid, "--note", "x", "--due", "soon", "--as", "liuyang"), "--due", "soon")
    assert head(tenant) == top and snapshot(tenant) == before


def test_a_step_before_the_last_one_is_refused(tenant, run, snapshot, refused):
    zid = _open_pending(run, at=f"{Y}-11-04T09:00")
    before = snapshot(tenant)
    refused(run("inquiry", "done", zid, "--answer", "x", "--at", f"{Y}-11-04T08:00", "--as", "wangli"), "早于此咨询的上一次办理")
    assert snapshot(tenant) == before


def test_an_overdue_follow_up_waits_in_todo_with_exit_3(tenant, run):
    zid = _open_pending(run)  # due 2025-11-06, liuyang (finance)
    for who in (("--as", "liuyang"), ("--dept", "finance")):
        r = run("todo", *who, "--as-of", f"{Y}-11-06T20:00", "--json")
        assert r.exit_code == 0, (who, r.stderr)  # due by the end of the day: not late yet
        [task] = json.loads(r.stdout)["inquiries"]
        assert (task["ref"], task["assignee"], task["department"], task["overdue"]) == (zid, "liuyang", "finance", False)
    assert json.loads(run("todo", "--as", "wangli", "--as-of", f"{Y}-11-06T20:00", "--json").stdout)["inquiries"] == []
    r = run("todo", "--as", "liuyang", "--as-of", f"{Y}-11-07T09:00", "--json")
    assert r.exit_code == 3
    [task] = json.loads(r.stdout)["inquiries"]
    assert task["overdue"] and task["due"] == f"{Y}-11-06T23:59:59+08:00"
    overdue = json.loads(run("inquiry", "list", "--overdue", "--as-of", f"{Y}-11-07T09:00", "--json").stdout)
    assert [row["id"] for row in overdue] == [zid]
    shown = run("todo", "--as", "liuyang", "--as-of", f"{Y}-11-07T09:00", env={"COLUMNS": "80"})
    assert shown.exit_code == 3
    [line] = [l for l in shown.stdout.splitlines() if zid in l]
    assert line.strip("│ ").startswith("超时")
    # Followed up with a new date: no longer overdue; done: waits for nobody.
    assert run("inquiry", "follow-up", zid, "--note", "已催财务部", "--due", f"{Y}-11-10", "--at", f"{Y}-11-07T10:00",
               "--as", "liuyang").exit_code == 0
    r = run("todo", "--as", "liuyang", "--as-of", f"{Y}-11-07T11:00", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["inquiries"][0]["overdue"] is False
    # ... and as of the morning before the new date was set, it still was.
    assert run("todo", "--as", "liuyang", "--as-of", f"{Y}-11-07T09:30", "--json").exit_code == 3
    assert run("inquiry", "done", zid, "--answer", "按 80 元/时", "--at", f"{Y}-11-08T10:00", "--as", "liuyang").exit_code == 0
    assert json.loads(run("todo", "--as", "liuyang", "--as-of", f"{Y}-11-09T09:00", "--json").stdout)["inquiries"] == []


def test_english_output(tenant, run):
    en = {"WUYE_LANG": "en", "COLUMNS": "200"}
    r = run("inquiry", "open", "T0001", "--channel", "phone", "--about", "fees", "--due", f"{Y}-11-06", "--at", f"{Y}-11-04T09:00",
            "--as", "wangli", env=en)
    assert r.exit_code == 0, r.stderr
    zid = r.stdout.strip()
    assert f"inquiry {zid}: open, now pending" in r.stderr
    listed = run("inquiry", "list", env=en)
    assert "pending" in listed.stdout and "received" in listed.stdout and "待跟进" not in listed.stdout
    shown = run("inquiry", "show", zid, env=en)
    assert "follow-up due" in shown.stdout and "history" in shown.stdout and "接待" not in shown.stdout
    r = run("inquiry", "done", zid, "--answer", "80 yuan an hour", "--as", "wangli", env=en)
    assert r.exit_code == 0 and "now done" in r.stderr
    r = run("inquiry", "done", zid, "--answer", "again", "--as", "wangli", env=en)
    assert r.exit_code == 1 and f"inquiry {zid} is done; done is not allowed now" in r.stderr
    r = run("todo", "--as", "wangli", env={"WUYE_LANG": "en", "COLUMNS": "80"})
    assert "Inquiries (0)" in r.stdout
