"""Staff training records (培训与发展) through the CLI: `wuye training add` by management, kept in
training/<staff>.yaml (never in staff/, the authority), `training list`, `wuye report training`
(who is due: hours of the year against wuye.yaml's minimum, required courses passed), and the
training due in `wuye todo` for the person and for management. Hours are added up by hand here.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import git

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
EN = {"COLUMNS": "80", "WUYE_LANG": "en"}


def add(run, staff, course, date, hours, assessment="pass", *extra, who="sunhao"):
    return run("training", "add", staff, "--course", course, "--date", date, "--hours", hours,
               "--trainer", "李明", "--assessment", assessment, *extra, "--as", who)


def set_policy(store, text: str) -> None:
    """Replace the training block of wuye.yaml and commit it (a building's own rule)."""
    p = store.root / "wuye.yaml"
    body = p.read_text(encoding="utf-8")
    start = body.index("training:")
    end = body.index("# 提醒")
    p.write_text(body[:start] + text + body[end:], encoding="utf-8")
    git(store.root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qam", "training policy")


@pytest.fixture
def trained(store, run):
    """wangli (customer service): 8 h passed and 6 h failed in 2026, 4 h in 2025; zhangwei
    (engineering, not covered by default) 3 h in 2026."""
    for args in (("wangli", "客户服务礼仪", "2026-03-10", "8", "pass", "--score", "92", "--certificate", "CS-2026-017"),
                 ("wangli", "投诉处理技巧", "2026-06-01", "6", "fail", "--score", "55"),
                 ("wangli", "消防安全", "2025-11-01", "4"),
                 ("zhangwei", "电气安全", "2026-04-02", "3")):
        r = add(run, *args)
        assert r.exit_code == 0, r.stderr
    return store


def test_management_records_training_outside_the_staff_files_one_commit_each(store, run, git_log):
    before_staff = (store.root / "staff" / "wangli.yaml").read_bytes()
    r = add(run, "wangli", "客户服务礼仪", "2026-03-10", "1.5", "合格", "--score", "92", "--certificate", "CS-2026-017")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == "wangli/TR-0001"
    assert (store.root / "staff" / "wangli.yaml").read_bytes() == before_staff
    data = (store.root / "training" / "wangli.yaml").read_text(encoding="utf-8")
    assert "staff: wangli" in data and "course: 客户服务礼仪" in data and "assessment: pass" in data
    assert "hours: '1.5'" in data or 'hours: "1.5"' in data
    assert "certificate: CS-2026-017" in data and "recorded_by: sunhao" in data
    log = git_log(store)
    assert log[0].files == ["training/wangli.yaml"]
    assert log[0].author == "孙浩"
    assert log[0].trailers["Wuye-Staff"] == "wangli" and log[0].trailers["Wuye-Entry"] == "TR-0001"
    # No course text, trainer or score in the message: it is copied into every clone for good.
    assert "李明" not in log[0].subject + log[0].body and "92" not in log[0].subject + log[0].body
    assert add(run, "wangli", "投诉处理技巧", "2026-06-01", "6").stdout.strip() == "wangli/TR-0002"
    assert len(git_log(store)) == len(log) + 1


@pytest.mark.parametrize("args,who,fragment", [
    (("wangli", "礼仪", "2026-03-10", "8"), "wangli", "管理层"),          # not management: not even for oneself
    (("wangli", "礼仪", "2026-03-10", "8"), "zhangwei", "管理层"),
    (("nobody", "礼仪", "2026-03-10", "8"), "sunhao", "nobody"),
    (("wangli", "礼仪", "2026-13-10", "8"), "sunhao", "--date"),
    (("wangli", "礼仪", "2099-03-10", "8"), "sunhao", "将来"),
    (("wangli", "礼仪", "2026-03-10", "0"), "sunhao", "学时"),
    (("wangli", "礼仪", "2026-03-10", "八"), "sunhao", "hours"),
    (("wangli", "礼仪", "2026-03-10", "8", "maybe"), "sunhao", "考核结果"),
    (("wangli", "礼仪", "2026-03-10", "8", "pass", "--score", "101"), "sunhao", "考核成绩"),
])
def test_bad_training_input_is_refused_in_one_line_and_changes_nothing(store, run, snapshot, args, who, fragment):
    before = snapshot(store)
    r = add(run, *args, who=who)
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert fragment in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(store) == before


def test_list_shows_every_record_by_date_and_masks_the_trainer(trained, run):
    r = run("training", "list", "--json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(x["staff"], x["id"], x["date"]) for x in rows] == [
        ("wangli", "TR-0003", "2025-11-01"), ("wangli", "TR-0001", "2026-03-10"),
        ("zhangwei", "TR-0001", "2026-04-02"), ("wangli", "TR-0002", "2026-06-01")]
    assert rows[1]["hours"] == "8" and rows[1]["score"] == 92 and rows[1]["certificate"] == "CS-2026-017"
    assert all(x["trainer"] == "李*" for x in rows)
    r = run("training", "list", "zhangwei")
    assert r.exit_code == 0 and "电气安全" in r.stdout and "客户服务礼仪" not in r.stdout
    r = run("training", "list", "wangli", env=EN)
    assert r.exit_code == 0
    header = next(line for line in r.stdout.splitlines() if "course" in line)
    assert not CJK.search(header) and "fail" in r.stdout


def test_the_report_names_who_is_due_against_the_yearly_minimum(trained, run):
    r = run("report", "training", "--as-of", "2026-12-01", "--json")
    assert r.exit_code == 0, r.stderr
    rep = json.loads(r.stdout)
    # Default policy: customer service only, 16 h a year. wangli in 2026: 8 + 6 = 14 h (the 2025
    # course does not count, a failed one still counts its hours), so 2 h short. zhangwei is
    # engineering: not covered.
    assert rep["summary"]["year"] == 2026 and rep["summary"]["yearly_hours"] == 16.0
    assert [(x["staff"], x["hours"], x["short"]) for x in rep["staff"]] == [("wangli", 14.0, 2.0)]
    assert [x["staff"] for x in rep["due"]] == ["wangli"]
    # As of the day before the June course, only the March 8 h count: 8 h short.
    rep = json.loads(run("report", "training", "--as-of", "2026-05-31", "--json").stdout)
    assert [(x["staff"], x["hours"], x["short"]) for x in rep["due"]] == [("wangli", 8.0, 8.0)]
    r = run("report", "training", "--as-of", "2026-12-01", env=EN)
    assert r.exit_code == 0 and "wangli" in r.stdout
    for line in r.stdout.splitlines():
        if "hours" in line and "short" in line:
            assert not CJK.search(line), line


def test_required_courses_and_departments_come_from_wuye_yaml(trained, run):
    set_policy(trained, "training:\n  yearly_hours: \"12\"\n  required_courses: [客户服务礼仪, 投诉处理技巧]\n"
                        "  departments: [customer_service, engineering]\n")
    rep = json.loads(run("report", "training", "--as-of", "2026-12-01", "--json").stdout)
    # wangli: 14 h >= 12, passed 礼仪, failed 投诉处理技巧: still due for the course.
    # zhangwei: 3 h, 9 h short, and neither course.
    assert [(x["staff"], x["short"], x["missing"]) for x in rep["due"]] == [
        ("wangli", 0.0, ["投诉处理技巧"]), ("zhangwei", 9.0, ["客户服务礼仪", "投诉处理技巧"])]
    assert run("training", "add", "wangli", "--course", "投诉处理技巧", "--date", "2026-11-20", "--hours", "2",
               "--trainer", "王老师", "--assessment", "pass", "--as", "sunhao").exit_code == 0
    rep = json.loads(run("report", "training", "--as-of", "2026-12-01", "--json").stdout)
    assert [x["staff"] for x in rep["due"]] == ["zhangwei"]
    assert [(x["staff"], x["due"]) for x in rep["staff"]] == [("wangli", False), ("zhangwei", True)]


def test_todo_shows_training_due_to_the_person_and_to_management(trained, run):
    data = json.loads(run("todo", "--as", "wangli", "--as-of", "2026-12-01T09:00", "--json").stdout)
    assert [(t["ref"], t["due"][:10]) for t in data["training"]] == [("wangli", "2027-01-01")]
    assert "2" in data["training"][0]["what"]
    data = json.loads(run("todo", "--as", "sunhao", "--as-of", "2026-12-01T09:00", "--json").stdout)
    assert [t["ref"] for t in data["training"]] == ["wangli"]
    # Someone else of another department does not see wangli's training.
    data = json.loads(run("todo", "--as", "zhangwei", "--as-of", "2026-12-01T09:00", "--json").stdout)
    assert data["training"] == []
    r = run("todo", "--as", "wangli", "--as-of", "2026-12-01T09:00", env={"COLUMNS": "80"})
    assert "培训（1）" in r.stdout and "尚差 2 学时" in r.stdout
    r = run("todo", "--as", "wangli", "--as-of", "2026-12-01T09:00", env=EN)
    assert "Training (1)" in r.stdout and "2 h short" in r.stdout
    head = next(line for line in r.stdout.splitlines() if "staff" in line and "to do" in line)
    assert not CJK.search(head)


def test_a_broken_training_file_is_reported_with_its_path(trained, run):
    (trained.root / "training" / "wangli.yaml").write_text("staff: wangli\nentries:\n  - id: TR-0001\n    hours: x\n", encoding="utf-8")
    r = run("report", "training", "--as-of", "2026-12-01", "--json")
    assert r.exit_code == 0
    assert "training/wangli.yaml" in r.stderr
    r = add(run, "wangli", "礼仪", "2026-03-10", "8")
    assert r.exit_code == 1 and "training/wangli.yaml" in r.stderr
