"""Notices (通知/通报): one command numbers the notice per year and kind across the store, keeps
its text once in notices/, and registers it in every addressed tenant's correspondence, in one
commit; `notice list` shows them, with those registered by hand before; bad input changes nothing.
Surveys (满意度调查) are recorded here too: one answer per tenant and period, in supplement.yaml."""

from __future__ import annotations

import json
import textwrap

import pytest

from conftest import git

BODY = textwrap.dedent("""\
    # 关于冬季供暖的通知

    各位客户：供暖期为 11 月 15 日至次年 3 月 15 日，请关闭窗户并检查暖气阀门。

    管理处
""")


@pytest.fixture
def building(tenant, tmp_path):
    """T0001 (with a hand-kept 通知〔year〕12号), T0002, and T0003 who has moved out."""
    from wuye.archive import dossier as archive

    store = tenant
    year = store.now().year
    archive.new(store, "T0002", "华锐通达贸易", "1202", "wangli")
    archive.new(store, "T0003", "木石建筑设计", "1201", "wangli")
    archive.add(store, "T0003", "profile", "wangli", sets=["status=moved_out"])
    archive.add(store, "T0001", "correspondence", "wangli", sets=[
        f"date={year}-03-01", "direction=out", "kind=notice", f"ref_no=通知〔{year}〕12号", "subject=春季消防检查"])
    (tmp_path / "body.md").write_text(BODY, encoding="utf-8")
    return store


def _corr(store, tid):
    from wuye.storage import yamlio

    p = store.path(f"tenants/{tid}/correspondence.yaml")
    return yamlio.read(p, "c")["entries"] if p.is_file() else []


def test_a_notice_to_all_is_numbered_filed_everywhere_in_one_commit(building, run, git_log, tmp_path):
    store = building
    year = store.now().year
    before = len(git_log(store))
    r = run("notice", "send", "--subject", "关于冬季供暖的通知", "--file", tmp_path / "body.md", "--to", "all", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    ref = f"通知〔{year}〕13号"
    assert r.stdout == ref + "\n"
    assert "2 个租户" in r.stderr
    log = git_log(store)
    assert len(log) == before + 1
    c = log[0]
    assert (c.author, c.email) == ("王丽", "wangli@wuye.invalid")
    assert c.subject == f"notice {ref}: 发给全体 2 个租户"  # the subject a clerk typed stays in the files
    assert c.trailers == {"Wuye-Notice": ref, "Wuye-Category": "correspondence", "Wuye-Recipients": "all (2)",
                          "Wuye-Actor": "wangli"}
    body_rel = f"notices/{year}/notice-0013.md"
    assert sorted(c.files) == [body_rel, "tenants/T0001/correspondence.yaml", "tenants/T0002/correspondence.yaml"]
    assert git(store.root, "status", "--porcelain", "--untracked-files=all") == ""
    # The moved-out tenant is not addressed.
    assert _corr(store, "T0003") == []
    for tid, n in (("T0001", 2), ("T0002", 1)):
        entries = _corr(store, tid)
        assert len(entries) == n
        e = entries[-1]
        assert e["id"] == f"COR-000{n}" and e["ref_no"] == ref and e["direction"] == "out" and e["kind"] == "notice"
        assert e["subject"] == "关于冬季供暖的通知" and e["date"] == store.now().date()
        assert e["summary"] == f"各位客户：供暖期为 11 月 15 日至次年 3 月 15 日，请关闭窗户并检查暖气阀门。（全文：{body_rel}）"
        assert e["recorded_by"] == "wangli"
    text = store.path(body_rel).read_text(encoding="utf-8")
    assert text.startswith("---\n") and f"ref_no: {ref}" in text and "recipients: 2" in text
    assert "recorded_at:" not in text  # sent now: sent and recorded are one moment
    assert text.endswith(BODY)
    assert run("archive", "check").exit_code == 0


def test_numbers_are_per_kind_and_named_tenants_may_be_listed(building, run, git_log, tmp_path):
    year = building.now().year
    r = run("notice", "send", "--subject", "电梯检修", "--file", tmp_path / "body.md", "--to", "T0001,T0002",
            "--kind", "circular", "--as", "wangli")
    assert r.stdout.strip() == f"通报〔{year}〕1号"
    assert git_log(building)[0].trailers["Wuye-Recipients"] == "T0001, T0002"
    r = run("notice", "send", "--subject", "停水", "--file", tmp_path / "body.md", "--to", "华锐", "--to", "T0002", "--as", "wangli")
    assert r.stdout.strip() == f"通知〔{year}〕13号"
    assert [e["ref_no"] for e in _corr(building, "T0002")] == [f"通报〔{year}〕1号", f"通知〔{year}〕13号"]
    # A notice may reach a tenant who has moved out when named.
    r = run("notice", "send", "--subject", "结算函", "--file", tmp_path / "body.md", "--to", "T0003", "--as", "wangli")
    assert r.stdout.strip() == f"通知〔{year}〕14号"

    r = run("notice", "list", "--json")
    rows = json.loads(r.stdout)
    assert [(x["ref_no"], x["recipients"]) for x in rows] == [
        (f"通报〔{year}〕1号", 2), (f"通知〔{year}〕12号", 1), (f"通知〔{year}〕13号", 1), (f"通知〔{year}〕14号", 1)]
    hand = rows[1]
    assert hand["subject"] == "春季消防检查" and hand["body"] is None
    assert rows[0]["body"] == f"notices/{year}/circular-0001.md" and rows[0]["sent_by"] == "wangli"
    assert json.loads(run("notice", "list", "--json", "--year", str(year - 1)).stdout) == []
    r = run("notice", "list")
    assert "电梯检修" in r.stdout and f"通知〔{year}〕14号" in r.stdout


@pytest.mark.parametrize("args,fragments", [
    (("--to", "T9999"), ("找不到租户", "T9999")),
    (("--to", "all", "--to", "T0001"), ("--to all",)),
    (("--to", "T0001", "--kind", "memo"), ("未知文件类别", "memo")),
    (("--to", "T0001", "--subject", " "), ("标题不能为空",)),
    (("--to", "T0001", "--file", "missing.md"), ("missing.md", "文件不存在")),
    (("--to", "T0001", "--file", "empty.md"), ("empty.md", "空的")),
    (("--to", "T0001", "--as", "ghost"), ("未知员工", "ghost")),
    (("--to", "T0001", "--at", "2099-01-01"), ("--at", "将来")),
    (("--to", "T0001", "--at", "去年"), ("--at", "不是有效的时间")),
])
def test_bad_notices_are_refused_and_change_nothing(building, run, snapshot, refused, tmp_path, args, fragments):
    (tmp_path / "empty.md").write_text("\n", encoding="utf-8")
    opts = {"--subject": "停电通知", "--file": str(tmp_path / "body.md"), "--as": "wangli"}
    i = 0
    extra = []
    while i < len(args):
        if args[i] in opts:
            value = args[i + 1]
            opts[args[i]] = str(tmp_path / value) if args[i] == "--file" else value
        else:
            extra += [args[i], args[i + 1]]
        i += 2
    before = snapshot(building)
    r = run("notice", "send", *[x for kv in opts.items() for x in kv], *extra)
    refused(r, *fragments)
    assert snapshot(building) == before


def test_a_paper_notice_entered_later_keeps_its_date_and_year(building, run, git_log, tmp_path):
    # Sent on paper last December, entered today: numbered in last year's series, dated then,
    # recorded now (the entries and the register say both).
    store = building
    year = store.now().year - 1
    r = run("notice", "send", "--subject", "元旦放假安排", "--file", tmp_path / "body.md", "--to", "T0001",
            "--at", f"{year}-12-28 10:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    ref = f"通知〔{year}〕1号"
    assert r.stdout == ref + "\n"
    e = _corr(store, "T0001")[-1]
    assert e["ref_no"] == ref and str(e["date"]) == f"{year}-12-28"
    assert str(e["recorded_at"]).startswith(store.now().date().isoformat())
    text = store.path(f"notices/{year}/notice-0001.md").read_text(encoding="utf-8")
    assert f"date: '{year}-12-28'" in text or f"date: {year}-12-28" in text
    assert f"sent_at: '{year}-12-28T10:00:00+08:00'" in text or f"sent_at: {year}-12-28T10:00:00+08:00" in text
    assert "recorded_at:" in text
    assert git_log(store)[0].trailers["Wuye-Notice"] == ref
    # This year's series is untouched: the next notice sent now is still 〔this year〕13号.
    r = run("notice", "send", "--subject", "停水", "--file", tmp_path / "body.md", "--to", "T0001", "--as", "wangli")
    assert r.stdout == f"通知〔{year + 1}〕13号\n"


# --- surveys ---------------------------------------------------------------------------------


def test_a_survey_answer_is_a_supplement_entry_one_per_tenant_and_period(building, run, git_log, snapshot, refused):
    from wuye.storage import yamlio

    r = run("survey", "record", "柏彦", "--period", "2025-Q4", "--score", "4", "--comment", "电梯高峰仍拥挤",
            "--date", "2025-12-20", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "T0001/SUP-0001\n"
    c = git_log(building)[0]
    assert c.subject == "survey T0001: 2025-Q4 满意度 4 分" and c.files == ["tenants/T0001/supplement.yaml"]
    assert c.trailers == {"Wuye-Tenant": "T0001", "Wuye-Category": "supplement", "Wuye-Entry": "SUP-0001",
                          "Wuye-Survey": "2025-Q4", "Wuye-Actor": "wangli"}
    [e] = yamlio.read(building.path("tenants/T0001/supplement.yaml"), "s")["entries"]
    assert e["note"] == "满意度调查 2025-Q4：4 分。意见：电梯高峰仍拥挤" and str(e["date"]) == "2025-12-20"
    assert run("survey", "record", "T0002", "--period", "2025-Q4", "--score", "2", "--as", "wangli").exit_code == 0
    assert run("survey", "record", "T0001", "--period", "2025-Q3", "--score", "5", "--as", "wangli").exit_code == 0

    before = snapshot(building)
    refused(run("survey", "record", "T0001", "--period", "2025-Q4", "--score", "5", "--as", "wangli"), "已登记", "SUP-0001")
    refused(run("survey", "record", "T0001", "--period", "2025-Q5", "--score", "5", "--as", "wangli"), "期间", "2025-Q5")
    refused(run("survey", "record", "T0001", "--period", "2025-Q1", "--score", "9", "--as", "wangli"), "1 到 5")
    refused(run("survey", "record", "T0404", "--period", "2025-Q1", "--score", "3", "--as", "wangli"), "找不到租户")
    refused(run("survey", "record", "T0001", "--period", "2025-Q1", "--score", "3", "--date", "2025-13-01", "--as", "wangli"),
            "--date", "2025-13-01")
    assert snapshot(building) == before

    rows = json.loads(run("survey", "list", "--json").stdout)
    assert [(x["tenant_id"], x["period"], x["score"], x["comment"]) for x in rows] == [
        ("T0001", "2025-Q3", 5, None), ("T0001", "2025-Q4", 4, "电梯高峰仍拥挤"), ("T0002", "2025-Q4", 2, None)]
    assert len(json.loads(run("survey", "list", "--json", "--period", "2025-Q4").stdout)) == 2
    assert len(json.loads(run("survey", "list", "--json", "--tenant", "T0001").stdout)) == 2
    assert json.loads(run("survey", "list", "--json", "--period", "2025-11").stdout) == []
    # An ordinary supplement entry is not a survey.
    run("archive", "add", "T0002", "supplement", "--set", "note=满意度很高的客户", "--as", "wangli")
    assert len(json.loads(run("survey", "list", "--json").stdout)) == 3
