"""`wuye log`: the store's history read back from git, the same commits plain `git log` shows."""

from __future__ import annotations

import json

from conftest import git


def _history(tenant, run):
    """Three more commits: two for T0001, one for a second tenant."""
    for args in (("T0001", "contacts", "--set", "name=李雷", "--set", "phone=13812345678"),
                 ("T0001", "repairs", "--set", "reported_at=2026-11-03T09:30:00+08:00", "--set", "location=1205",
                  "--set", "description=漏水")):
        assert run("archive", "add", *args, "--as", "wangli").exit_code == 0
    assert run("archive", "new", "T0002", "--name", "国贸物流", "--unit", "0301", "--as", "zhaomin").exit_code == 0


def test_log_json_of_one_tenant_has_author_summary_and_trailers(tenant, run, git_log):
    _history(tenant, run)
    r = run("log", "T0001", "--json")
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["summary"] for row in rows] == [
        "archive T0001: 维修记录 1 条",
        "archive T0001: 客户联络资料 1 条",
        "archive T0001: 新建档案 柏彦科技",
    ]
    top = rows[0]
    assert (top["author"], top["email"]) == ("王丽", "wangli@wuye.invalid")
    assert top["trailers"] == {"Wuye-Tenant": "T0001", "Wuye-Category": "repairs", "Wuye-Entry": "REP-0001",
                               "Wuye-Actor": "wangli"}
    assert top["date"].startswith("20") and "T" in top["date"]

    # Plain git lists the same commits for the tenant's folder, in the same order.
    plain = git(tenant.root, "log", "--format=%H", "--", "tenants/T0001").split()
    assert [row["commit"] for row in rows] == plain
    assert [c.commit for c in git_log(tenant, "tenants/T0001")] == plain
    # ... and git itself reads the same trailers.
    assert git_log(tenant, "tenants/T0001")[0].trailers == top["trailers"]


def test_log_of_the_whole_store(tenant, run):
    _history(tenant, run)
    rows = json.loads(run("log", "--json").stdout)
    assert len(rows) == int(git(tenant.root, "rev-list", "--count", "HEAD"))
    assert rows[0]["summary"] == "archive T0002: 新建档案 国贸物流" and rows[0]["author"] == "赵敏"
    assert rows[-1]["summary"].startswith("init: ") and rows[-1]["author"] == "wuye"
    assert {"Wuye-Staff": "liuyang", "Wuye-Actor": "sunhao"} in [r["trailers"] for r in rows]  # the manager registers


def test_log_limit(tenant, run):
    _history(tenant, run)
    rows = json.loads(run("log", "-n", "2", "--json").stdout)
    assert [r["summary"] for r in rows] == ["archive T0002: 新建档案 国贸物流", "archive T0001: 维修记录 1 条"]


def test_log_table_shows_who_what_and_ids(tenant, run):
    _history(tenant, run)
    r = run("log", "T0001")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    row = next(ln for ln in lines if "维修记录 1 条" in ln)  # the summary (its id has its own column)
    assert "王丽 (wangli)" in row and "T0001" in row
    assert sum("柏彦科技" in ln for ln in lines) == 1
    assert "国贸物流" not in r.stdout  # another tenant's commit


def test_log_of_a_tenant_that_does_not_exist_is_refused(tenant, run, refused):
    # The tenant is looked up (id, 房号, name) like everywhere else: no one matches T0999.
    refused(run("log", "T0999", "--json"), "找不到租户", "T0999")


def test_log_refuses_a_path_like_tenant(tenant, run, refused):
    refused(run("log", "../units", "--json"), "租户", "../units")  # looked up, never a path
