"""Lease-expiry reminders through the CLI: `wuye report leases` lists the active tenants whose
profile's lease_end falls within the horizon (--within, else wuye.yaml's reminders) of --as-of,
with the days left counted by hand here; `wuye todo` gives leasing a task per such tenant, overdue
once the lease has ended with the tenant still active."""

from __future__ import annotations

import json
import re

import pytest

from conftest import git

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
EN = {"COLUMNS": "80", "WUYE_LANG": "en"}
AS_OF = "2026-12-03T09:00"


@pytest.fixture
def leased(store, run):
    from wuye.archive import dossier as archive

    tenants = (("T0001", "柏彦科技", "1205", "2026-12-20", "active"),      # 17 days
               ("T0002", "华锐通达贸易", "1202", "2027-03-01", "active"),  # 28 + 31 + 28 + 1 = 88 days
               ("T0003", "木石建筑设计", "1201", "2027-04-01", "active"),  # 88 + 31 = 119 days: outside 90
               ("T0004", "远景咨询", "1101", "2026-11-30", "active"),      # ended 3 days ago, still here
               ("T0005", "星河传媒", "1102", "2026-11-01", "moving_out"),  # in hand already
               ("T0006", "东方律所", "1103", None, "active"))            # no lease end recorded
    for tid, name, unit, end, status in tenants:
        archive.new(store, tid, name, unit, "wangli")
        sets = [f"status={status}"] + ([f"lease_end={end}"] if end else [])
        args = [a for s in sets for a in ("--set", s)]
        r = run("archive", "add", tid, "profile", *args, "--as", "zhaomin")
        assert r.exit_code == 0, r.stderr
    return store


def report(run, *args) -> dict:
    r = run("report", "leases", "--as-of", AS_OF, *args, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_the_report_lists_active_leases_ending_within_the_horizon_with_days_left(leased, run):
    rep = report(run, "--within", "90")
    assert [(x["tenant_id"], x["lease_end"], x["days_left"]) for x in rep["leases"]] == [
        ("T0004", "2026-11-30", -3), ("T0001", "2026-12-20", 17), ("T0002", "2027-03-01", 88)]
    assert rep["summary"] == {"within": 90, "tenants": 2, "ended": 1}
    assert [x["overdue"] for x in rep["leases"]] == [True, False, False]
    # A wider horizon takes T0003 in; a narrower one leaves T0002 out.
    assert [x["tenant_id"] for x in report(run, "--within", "119")["leases"]] == ["T0004", "T0001", "T0002", "T0003"]
    assert [x["tenant_id"] for x in report(run, "--within", "87")["leases"]] == ["T0004", "T0001"]
    r = run("report", "leases", "--as-of", AS_OF, env=EN)
    assert r.exit_code == 0 and "T0002" in r.stdout and "ended" in r.stdout
    head = next(line for line in r.stdout.splitlines() if "days left" in line)
    assert not CJK.search(head)
    r = run("report", "leases", "--as-of", AS_OF, env={"COLUMNS": "80"})
    assert "2027-03-01" in r.stdout and "已到期" in r.stdout


def test_the_default_horizon_comes_from_wuye_yaml(leased, run):
    assert report(run)["summary"]["within"] == 90
    p = leased.root / "wuye.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("lease_expiry_days: 90", "lease_expiry_days: 120"), encoding="utf-8")
    git(leased.root, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qam", "horizon")
    rep = report(run)
    assert rep["summary"]["within"] == 120 and [x["tenant_id"] for x in rep["leases"]][-1] == "T0003"


@pytest.mark.parametrize("args,fragment", [(("--within", "0"), "--within"), (("--within", "abc"), "--within"),
                                           (("--period", "2026"), "--period")])
def test_bad_report_arguments_are_refused_in_one_line(leased, run, args, fragment):
    r = run("report", "leases", *args)
    assert r.exit_code == 1 and fragment in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run("report", "satisfaction", "--within", "5")
    assert r.exit_code == 1 and "--within" in r.stderr


def test_todo_gives_leasing_a_task_per_lease_ending_and_overdue_once_ended(leased, run):
    r = run("todo", "--dept", "leasing", "--as-of", AS_OF, "--json")
    assert r.exit_code == 3  # T0004's lease has ended with the tenant still active
    data = json.loads(r.stdout)
    assert [(t["ref"], t["overdue"], t["due"][:10]) for t in data["leases"]] == [
        ("T0004", True, "2026-12-01"), ("T0001", False, "2026-12-21"), ("T0002", False, "2027-03-02")]
    assert json.loads(run("todo", "--as", "zhaomin", "--as-of", AS_OF, "--json").stdout)["leases"] == data["leases"]
    # Not for other departments.
    assert json.loads(run("todo", "--dept", "engineering", "--as-of", AS_OF, "--json").stdout)["leases"] == []
    r = run("todo", "--dept", "leasing", "--as-of", AS_OF, env={"COLUMNS": "80"})
    assert "租约到期（3）" in r.stdout and "2026-11-30" in r.stdout and "-3天" in r.stdout and "88天" in r.stdout
    r = run("todo", "--dept", "leasing", "--as-of", AS_OF, env=EN)
    assert "Leases ending (3)" in r.stdout and "88d" in r.stdout
    head = next(line for line in r.stdout.splitlines() if "lease ends" in line)
    assert not CJK.search(head)
    # Before T0004's lease ended, nothing is overdue.
    assert run("todo", "--dept", "leasing", "--as-of", "2026-11-29T09:00").exit_code == 0
