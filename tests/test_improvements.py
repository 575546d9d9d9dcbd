"""Improvement actions (评价与改进) through the CLI: `wuye improve open --for` a low score or a
complaint as the satisfaction report lists it, `improve done` by the owner, `improve verify` by
another manager, `improve list`; the satisfaction report's low ratings show the action taken or
「未跟进」; an open action waits on its owner in `wuye todo`. Real git, one commit per action."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
EN = {"COLUMNS": "80", "WUYE_LANG": "en"}


@pytest.fixture
def rated(tenant):
    """A complaint closed with 2, a repair closed with 1, a survey answer of 1, all in 2026."""
    from wuye.archive import dossier as archive
    from wuye.desk import servicedesk as sd

    s = tenant
    archive.new(s, "T0002", "华锐通达贸易", "1202", "wangli")
    C, R = sd.COMPLAINT, sd.REPAIR
    assert sd.open_complaint(s, "T0001", "phone", "电梯", "wangli", "2026-11-02T09:00").ref == "TS-2026-0001"
    sd.assign(s, C, "TS-2026-0001", "customer_service", "wangli", "wangli", "2026-11-02T09:30")
    sd.respond(s, "TS-2026-0001", "已安排", "wangli", "2026-11-02T12:00")
    sd.resolve(s, "TS-2026-0001", "已调整", "wangli", "2026-11-03T09:00")
    sd.close(s, C, "TS-2026-0001", 2, "wangli", "2026-11-04T09:00")
    assert sd.open_repair(s, "T0002", "1202 配电箱", "跳闸", False, "wangli", "2026-11-05T08:00").ref == "BX-2026-0001"
    sd.assign(s, R, "BX-2026-0001", "engineering", "zhangwei", "wangli", "2026-11-05T09:00")
    sd.done(s, "BX-2026-0001", "0", "zhangwei", "2026-11-05T12:00")
    sd.close(s, R, "BX-2026-0001", 1, "wangli", "2026-11-06T09:00")
    tid, eid, _ = sd.record_survey(s, "T0002", "2026-Q3", 1, "噪音", "wangli", "2026-09-28")
    assert (tid, eid) == ("T0002", "SUP-0001")
    return s


def open_action(run, ref, owner="wangli", due="2099-12-31", who="wangli", action="每周回访电梯运行"):
    return run("improve", "open", "--for", ref, "--action", action, "--owner", owner, "--due", due, "--as", who)


def low(run) -> dict:
    r = run("report", "satisfaction", "--json")
    assert r.exit_code == 0, r.stderr
    return {x["ref"]: x for x in json.loads(r.stdout)["low_ratings"]}


def test_the_loop_open_done_verify_one_commit_each(rated, run, git_log):
    n = len(git_log(rated))
    r = open_action(run, "TS-2026-0001")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == "IMP-2026-0001"
    log = git_log(rated)
    assert len(log) == n + 1 and log[0].files == ["improvements/2026.yaml"]
    assert log[0].trailers["Wuye-Ref"] == "TS-2026-0001" and log[0].trailers["Wuye-Tenant"] == "T0001"
    assert "电梯" not in log[0].subject + log[0].body  # the action's text stays in the file
    text = (rated.root / "improvements" / "2026.yaml").read_text(encoding="utf-8")
    assert "ref: TS-2026-0001" in text and "source: complaint" in text and "owner: wangli" in text and "status: open" in text

    assert run("improve", "done", "IMP-2026-0001", "--result", "加装运行监测，回访满意", "--as", "wangli").exit_code == 0
    assert git_log(rated)[0].trailers["Wuye-Action"] == "done"
    r = run("improve", "verify", "IMP-2026-0001", "--result", "抽查两周无投诉", "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    assert len(git_log(rated)) == n + 3
    rows = json.loads(run("improve", "list", "--json").stdout)
    assert [(x["id"], x["status"], x["verified_by"]) for x in rows] == [("IMP-2026-0001", "verified", "sunhao")]
    assert rows[0]["result"] == "加装运行监测，回访满意"


def test_every_low_score_shows_its_action_or_none(rated, run):
    before = low(run)
    assert set(before) == {"TS-2026-0001", "BX-2026-0001", "T0002/SUP-0001"}
    assert all(x["action_label"] == "未跟进" and x["actions"] == [] for x in before.values())
    assert open_action(run, "BX-2026-0001", owner="zhangwei").exit_code == 0
    assert open_action(run, "T0002/SUP-0001", who="sunhao").exit_code == 0
    assert run("improve", "done", "IMP-2026-0001", "--result", "更换空开", "--as", "zhangwei").exit_code == 0
    after = low(run)
    assert after["TS-2026-0001"]["action_label"] == "未跟进"
    assert after["BX-2026-0001"]["action_label"] == "IMP-2026-0001 已完成"
    assert after["T0002/SUP-0001"]["action_label"] == "IMP-2026-0002 进行中"
    assert [a["id"] for a in after["T0002/SUP-0001"]["actions"]] == ["IMP-2026-0002"]
    r = run("report", "satisfaction", env=EN)
    assert r.exit_code == 0
    assert "IMP-2026-0001" in r.stdout and "done" in r.stdout and "none" in r.stdout  # the id whole at 80 columns
    head = next(line for line in r.stdout.splitlines() if "score" in line and "source" in line)
    assert not CJK.search(head)
    # As of a moment before the actions were opened, none was taken yet.
    past = low_at(run, "2026-11-30T00:00")
    assert all(x["action_label"] == "未跟进" for x in past.values())


def low_at(run, as_of) -> dict:
    r = run("report", "satisfaction", "--as-of", as_of, "--json")
    return {x["ref"]: x for x in json.loads(r.stdout)["low_ratings"]}


@pytest.mark.parametrize("args,fragment", [
    (("TS-2026-0099",), "TS-2026-0099"),                       # no such complaint
    (("T0002/SUP-0009",), "SUP-0009"),                         # no such survey answer
    (("XX-1",), "XX-1"),                                       # names nothing
    (("TS-2026-0001", "nobody"), "nobody"),                    # unknown owner
    (("TS-2026-0001", "wangli", "2020-01-01"), "--due"),       # due in the past
    (("TS-2026-0001", "wangli", "2026-02-30"), "--due"),       # no such day
    (("TS-2026-0001", "wangli", "2099-12-31", "zhangwei"), "客服部或管理层"),  # engineering may not open
])
def test_bad_opens_are_refused_in_one_line_and_leave_head_unchanged(rated, run, snapshot, args, fragment):
    before = snapshot(rated)
    r = open_action(run, *args)
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert fragment in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert snapshot(rated) == before


def test_done_and_verify_follow_the_loop_and_its_people(rated, run, snapshot):
    assert open_action(run, "TS-2026-0001", owner="zhangwei").exit_code == 0
    before = snapshot(rated)
    for args, fragment in ((("verify", "IMP-2026-0001", "--result", "好", "--as", "sunhao"), "须先登记完成"),
                           (("done", "IMP-2026-0001", "--result", "好", "--as", "wangli"), "zhangwei"),  # not the owner
                           (("done", "IMP-2026-0009", "--result", "好", "--as", "sunhao"), "IMP-2026-0009"),
                           (("done", "IMP-26-1", "--result", "好", "--as", "sunhao"), "IMP-2026-0001"),
                           (("done", "IMP-2026-0001", "--result", " ", "--as", "zhangwei"), "--result")):
        r = run("improve", *args)
        assert r.exit_code == 1 and fragment in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
        assert snapshot(rated) == before
    assert run("improve", "done", "IMP-2026-0001", "--result", "调整", "--as", "zhangwei").exit_code == 0
    before = snapshot(rated)
    for who, fragment in (("zhangwei", "管理层"), ("wangli", "管理层")):
        r = run("improve", "verify", "IMP-2026-0001", "--result", "好", "--as", who)
        assert r.exit_code == 1 and fragment in r.stderr
    r = run("improve", "done", "IMP-2026-0001", "--result", "再做", "--as", "zhangwei")
    assert r.exit_code == 1 and "已完成" in r.stderr
    assert snapshot(rated) == before


def test_a_manager_does_not_verify_what_they_marked_done(rated, run):
    assert open_action(run, "TS-2026-0001", owner="sunhao", who="sunhao").exit_code == 0
    assert run("improve", "done", "IMP-2026-0001", "--result", "培训客服", "--as", "sunhao").exit_code == 0
    r = run("improve", "verify", "IMP-2026-0001", "--result", "好", "--as", "sunhao")
    assert r.exit_code == 1 and "另一位管理层" in r.stderr


def test_list_open_and_todo_for_the_owner(rated, run):
    today = rated.now().date()  # the building's day (Asia/Shanghai), not the test machine's
    assert open_action(run, "TS-2026-0001", owner="zhangwei", due=today.isoformat()).exit_code == 0
    assert open_action(run, "BX-2026-0001", owner="zhangwei", due="2099-12-31").exit_code == 0
    assert run("improve", "done", "IMP-2026-0002", "--result", "完成", "--as", "zhangwei").exit_code == 0
    assert [x["id"] for x in json.loads(run("improve", "list", "--open", "--json").stdout)] == ["IMP-2026-0001"]
    assert len(json.loads(run("improve", "list", "--json").stdout)) == 2
    # Due today: not late today, late tomorrow (exit code 3 for cron).
    r = run("todo", "--as", "zhangwei", "--json")
    data = json.loads(r.stdout)
    assert [(t["ref"], t["overdue"]) for t in data["improvements"]] == [("IMP-2026-0001", False)]
    tomorrow = (today + dt.timedelta(days=1)).isoformat() + "T09:00"
    r = run("todo", "--as", "zhangwei", "--as-of", tomorrow, "--json")
    assert r.exit_code == 3
    assert [(t["ref"], t["overdue"]) for t in json.loads(r.stdout)["improvements"]] == [("IMP-2026-0001", True)]
    # the department's list holds its members' actions; another person's does not
    assert [t["ref"] for t in json.loads(run("todo", "--dept", "engineering", "--json").stdout)["improvements"]] == ["IMP-2026-0001"]
    assert json.loads(run("todo", "--as", "wangli", "--json").stdout)["improvements"] == []
    r = run("improve", "list", env=EN)
    head = next(line for line in r.stdout.splitlines() if "owner" in line)
    assert not CJK.search(head) and "IMP-2026-0001" in r.stdout
