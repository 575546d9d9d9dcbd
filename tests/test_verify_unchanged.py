"""A warm `wuye verify` over a store exactly as a clean run left it is a look-up (verify/unchanged.py):
the same report, without reading a file. Everything that could make the report differ makes it
check again: an edit (even one with its mtime put back, even under a user's git settings that tell
git to look less), a file git was told not to watch, a file or folder git does not track (ignored
ones too), a commit, a moved ref, a new pin, an amended HEAD; and a run during which the store
changed records nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import git
from wuye.storage.store import Store
from wuye.trust import pins
from wuye.verify.unchanged import Unchanged

# What the tenant fixture's store holds, counted by hand: the six staff of conftest.STAFF, unit
# 1205 and tenant T0001; no move-out yet.
COUNTS = {"staff": 6, "units": 1, "tenants": 1, "cases": 0, "entries": 0}


def kept(store) -> list[tuple[str, dict]]:
    """The verdict_tree rows: (digest, counts)."""
    con = sqlite3.connect(store.root / ".git" / "wuye" / "index.sqlite")
    try:
        return [(d, json.loads(c)) for d, c in con.execute("SELECT digest, counts FROM verdict_tree")]
    finally:
        con.close()


def looked_up(store) -> dict | None:
    """What a verify run starting now would take as its report's counts, or None: it checks."""
    return Unchanged(Store(store.root), pins.read(store.root).get("root")).verdict()


def verify_json(run, **kw) -> dict:
    return json.loads(run("verify", "--json", **kw).stdout)


@pytest.fixture
def verified(tenant, run):
    """The tenant store, verified clean: the next run a look-up. Its index refreshed first, as
    any `git status` does: the fixture's store is a copy, every file's inode new to the index."""
    git(tenant.root, "update-index", "-q", "--refresh")
    r = run("verify")
    assert r.exit_code == 0, r.stdout
    assert [c for _, c in kept(tenant)] == [COUNTS]
    assert looked_up(tenant) == COUNTS
    return tenant


def test_a_clean_run_is_recorded_and_the_next_run_gives_the_same_report_in_both_languages(verified, run):
    for lang in ("zh", "en"):
        env = {"WUYE_LANG": lang}
        warm = run("verify", env=env)
        cold = run("verify", env={**env, "WUYE_NO_CACHE": "1"})
        assert warm.exit_code == cold.exit_code == 0
        assert warm.stdout + warm.stderr == cold.stdout + cold.stderr
    assert "校验通过（员工 6，单元 1，租户 1，迁出案件 0，签字条目 0）" in run("verify").stdout + run("verify").stderr
    assert "verified (6 staff, 1 units, 1 tenants, 0 move-out cases, 0 signed entries)" in run("verify", env={"WUYE_LANG": "en"}).stderr
    assert json.loads(run("verify", "--json").stdout) == {"ok": True, "counts": COUNTS, "problems": []}


_OPENED: list[str] | None = None  # while a list: what this process opens and lists under tenants/


def _audit(event, args):
    if _OPENED is not None and event in ("open", "os.scandir", "os.listdir") and args and "tenants" in str(args[0]):
        _OPENED.append(str(args[0]))


def test_the_look_up_opens_and_lists_nothing_under_tenants(verified, run):
    import sys

    global _OPENED
    if not getattr(sys, "_wuye_test_audit", False):
        sys.addaudithook(_audit)  # hooks cannot be removed: it records only while _OPENED is a list
        sys._wuye_test_audit = True
    _OPENED = []
    try:
        assert run("verify").exit_code == 0
        hit = list(_OPENED)
        git(verified.root, "update-ref", "refs/remotes/central/main", "HEAD")  # a miss: the checks run
        _OPENED = []
        assert run("verify").exit_code == 0
        miss = list(_OPENED)
    finally:
        _OPENED = None
    assert hit == []
    assert any(p.endswith("tenants/T0001") for p in miss), miss  # the checks list every tenant's folder


def test_an_edit_is_checked_again_and_its_problem_reported(verified, run):
    path = verified.path("tenants/T0001/profile.yaml")
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("柏彦科技", ""), encoding="utf-8")
    assert looked_up(verified) is None
    data = verify_json(run)
    assert data["ok"] is False and any(p["path"] == "tenants/T0001/profile.yaml" for p in data["problems"])
    path.write_text(good, encoding="utf-8")
    assert verify_json(run)["ok"] is True


def test_a_same_size_edit_with_its_mtime_put_back_under_a_lax_repository_git_config(verified, run):
    # core.checkStat=minimal makes git compare only sizes and whole seconds of mtime: with it, git
    # itself would call this file unchanged. wuye asks with git's default rules (ctime, inode).
    # (The user's global config is switched off for every git command wuye runs; the store's own
    # .git/config is not, and this is a setting someone may well have put there.)
    git(verified.root, "config", "core.checkStat", "minimal")
    git(verified.root, "config", "core.trustctime", "false")
    # The file's mtime ten seconds back, recorded in the index, so that git (as the user set it)
    # has no reason to look at its content again ("racily clean" is for files of the index's second).
    path = verified.path("tenants/T0001/profile.yaml")
    back = path.stat().st_mtime_ns - 10_000_000_000
    os.utime(path, ns=(back, back))
    git(verified.root, "update-index", "-q", "--refresh")
    assert run("verify").exit_code == 0 and looked_up(verified) == COUNTS
    # git compares times to the second: the edit comes in a later second than the refresh, so
    # that its ctime is what tells (it cannot be set back), under git's default rules.
    time.sleep(1.1)
    text = path.read_text(encoding="utf-8")
    bad = text.replace("status: active", "status: activ_")
    assert len(bad.encode()) == len(text.encode()) and bad != text
    path.write_text(bad, encoding="utf-8")
    os.utime(path, ns=(back, back))
    assert git(verified.root, "diff-files", "--name-only") == ""  # git, as the user set it, sees nothing
    data = verify_json(run)
    assert data["ok"] is False and any(p["path"] == "tenants/T0001/profile.yaml" for p in data["problems"]), data


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_a_file_git_was_told_not_to_watch_is_read(verified, run, flag):
    rel = "tenants/T0001/profile.yaml"
    git(verified.root, "update-index", flag, rel)
    path = verified.path(rel)
    path.write_text(path.read_text(encoding="utf-8").replace("柏彦科技", ""), encoding="utf-8")
    assert git(verified.root, "diff-files", "--name-only") == ""  # git does not look at it
    data = verify_json(run)
    assert data["ok"] is False and any(p["path"] == rel for p in data["problems"]), data


def test_an_empty_untracked_tenant_folder_is_seen(verified, run):
    verified.path("tenants/T0002").mkdir()
    data = verify_json(run)
    assert data["ok"] is False and [p["code"] for p in data["problems"]] == ["archive.profile-missing"]
    verified.path("tenants/T0002").rmdir()
    assert verify_json(run)["ok"] is True


def test_an_ignored_tenant_folder_is_seen(verified, run):
    # Ignored by the repository's own exclude file: git status shows nothing, verify lists folders.
    (verified.root / ".git" / "info").mkdir(exist_ok=True)
    (verified.root / ".git" / "info" / "exclude").write_text("tenants/T0002/\n", encoding="utf-8")
    assert run("verify").exit_code == 0  # the exclude file changed nothing verify reads
    assert looked_up(verified) == COUNTS
    d = verified.path("tenants/T0002")
    d.mkdir()
    (d / "profile.yaml").write_text("id: T0002\nname: ''\n", encoding="utf-8")
    assert git(verified.root, "status", "--porcelain") == ""
    data = verify_json(run)
    assert data["ok"] is False and any(p["path"] == "tenants/T0002/profile.yaml" for p in data["problems"]), data
    (d / "profile.yaml").unlink()
    d.rmdir()
    assert verify_json(run)["ok"] is True


def test_an_untracked_file_edited_in_place_is_checked_again(verified, run):
    # A dossier file not yet committed (a hand-written contacts.yaml), then broken in place.
    rel = "tenants/T0001/contacts.yaml"
    path = verified.path(rel)
    assert not path.exists()
    path.write_text("entries:\n  - id: C-1\n    name: 李雷\n    phone: '13812345678'\n", encoding="utf-8")
    first = verify_json(run)
    assert first["ok"] is True, first
    assert verify_json(run)["ok"] is True
    assert looked_up(verified) == COUNTS
    with open(path, "r+", encoding="utf-8") as f:  # the same file, rewritten in place
        f.write(path.read_text(encoding="utf-8").replace("13812345678", "1381234567x"))
    data = verify_json(run)
    assert data["ok"] is False and any(p["path"] == rel for p in data["problems"]), data


def test_a_commit_made_with_plain_git_is_checked(verified, run):
    path = verified.path("tenants/T0001/profile.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("柏彦科技", ""), encoding="utf-8")
    git(verified.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-am", "x")
    assert looked_up(verified) is None
    assert verify_json(run)["ok"] is False


def test_a_moved_ref_a_new_pin_new_settings_and_a_missing_marker_each_check_again(verified, run):
    git(verified.root, "update-ref", "refs/remotes/central/main", "HEAD~1")
    assert looked_up(verified) is None
    assert run("verify").exit_code == 0 and looked_up(verified) == COUNTS
    pins.write(verified.root, central="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx3mBn6ng6pDXlNCcsDVF1QwCk0PYxTmrmOWL0vCoMR")
    assert looked_up(verified) is None
    assert run("verify").exit_code == 0 and looked_up(verified) == COUNTS
    # What the repository's own settings say of its files: attributes and config.
    (verified.root / ".git" / "info").mkdir(exist_ok=True)
    (verified.root / ".git" / "info" / "attributes").write_text("*.yaml -text\n", encoding="utf-8")
    assert looked_up(verified) is None
    assert run("verify").exit_code == 0 and looked_up(verified) == COUNTS
    git(verified.root, "config", "core.autocrlf", "true")
    assert looked_up(verified) is None
    assert run("verify").exit_code == 0 and looked_up(verified) == COUNTS
    marker = verified.root / ".git" / "wuye" / "verified-head"
    # Verified here last is what a look-up stands on: without the marker, the checks run (and
    # write it again; a look-up writes nothing).
    marker.unlink()
    assert run("verify").exit_code == 0 and marker.read_text().strip() == git(verified.root, "rev-parse", "HEAD").strip()
    assert looked_up(verified) == COUNTS


def test_an_amended_head_is_reported_not_looked_up(verified, run):
    git(verified.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "--amend", "-m", "改写")
    data = verify_json(run)
    assert data["ok"] is False and [p["code"] for p in data["problems"]] == ["history.head-rewritten"]


def test_a_run_with_a_warning_records_nothing(tenant, run):
    (tenant.root / ".git" / "wuye" / "pins.json").unlink()  # the root unpinned: a warning
    data = verify_json(run)
    assert data["ok"] is True and [p["code"] for p in data["problems"]] == ["authority.root-unpinned"]
    assert kept(tenant) == []
    assert [p["code"] for p in verify_json(run)["problems"]] == ["authority.root-unpinned"]  # said again


def test_a_store_changed_during_the_run_records_nothing(tenant, run):
    assert run("verify").exit_code == 0
    git(tenant.root, "update-ref", "refs/remotes/central/main", "HEAD")  # so the next run checks
    store = Store(tenant.root)
    u = Unchanged(store, pins.read(tenant.root).get("root"))
    assert u.verdict() is None
    path = tenant.path("tenants/T0001/profile.yaml")
    path.write_text(path.read_text(encoding="utf-8") + "# 手工备注\n", encoding="utf-8")  # while it runs
    u.record(COUNTS, u.again())
    assert u.digest not in [d for d, _ in kept(tenant)]
    # The same, with nothing changed while it ran, is recorded.
    u = Unchanged(store, pins.read(tenant.root).get("root"))
    assert u.verdict() is None
    u.record(COUNTS, u.again())
    assert [d for d, _ in kept(tenant)] == [u.digest]


def test_wuye_no_cache_neither_looks_up_nor_records(tenant, run):
    assert run("verify", env={"WUYE_NO_CACHE": "1"}).exit_code == 0
    assert not (tenant.root / ".git" / "wuye" / "index.sqlite").exists()


def test_a_clone_looks_up_its_own_verdict(verified, run, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(verified.root), str(clone)], check=True)
    root = pins.read(verified.root)["root"]
    first = run("verify", "--root", root, store=Store(clone))
    assert first.exit_code == 0, first.stdout
    assert looked_up(Store(clone)) == COUNTS
    # The pin deleted, then given again: the run pins it (a look-up would not).
    (clone / ".git" / "wuye" / "pins.json").unlink()
    assert run("verify", "--root", root, store=Store(clone)).exit_code == 0
    assert pins.read(clone) == {"root": root}
    path = clone / "tenants" / "T0001" / "profile.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("柏彦科技", ""), encoding="utf-8")
    assert run("verify", store=Store(clone)).exit_code == 1


def test_a_second_worktree_keeps_its_own_look_up(verified, run, tmp_path):
    # A worktree has its own HEAD, index and working tree (and so its own digest and marker);
    # the pins, config and objects it shares with the first.
    wt = tmp_path / "wt"
    git(verified.root, "worktree", "add", "-q", "--detach", str(wt))
    assert run("verify", store=Store(wt)).exit_code == 0
    assert looked_up(Store(wt)) == COUNTS
    # An edit in the first checkout is not the second's business, and the reverse is seen.
    first = verified.path("tenants/T0001/profile.yaml")
    first.write_text(first.read_text(encoding="utf-8").replace("柏彦科技", ""), encoding="utf-8")
    assert looked_up(Store(wt)) == COUNTS
    assert run("verify").exit_code == 1
    second = wt / "tenants" / "T0001" / "profile.yaml"
    second.write_text(second.read_text(encoding="utf-8").replace("status: active", "status: gone"), encoding="utf-8")
    data = verify_json(run, store=Store(wt))
    assert data["ok"] is False and any(p["path"] == "tenants/T0001/profile.yaml" for p in data["problems"]), data


@pytest.mark.parametrize("counts", ["not json", '["staff", 6]', '{"staff": "6"}', '{"staff": 6.0}', '{"staff": true}'])
def test_a_damaged_row_is_not_taken_and_is_written_again(verified, run, counts):
    db = verified.root / ".git" / "wuye" / "index.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("UPDATE verdict_tree SET counts=?", (counts,))
    con.close()
    assert looked_up(verified) is None
    data = verify_json(run)
    assert data == {"ok": True, "counts": COUNTS, "problems": []}
    assert [c for _, c in kept(verified)] == [COUNTS]  # the checks ran, and recorded it afresh


def test_after_a_commit_the_checks_run_and_record_the_new_store(verified, run):
    # HEAD moved past the last verified commit: no look-up is possible, so the run reads the
    # verdicts while git lists the store, digests it before any check reads a file, and records.
    before = kept(verified)
    r = run("archive", "add", "T0001", "contacts", "--set", "name=李雷", "--set", "phone=13812345678", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert looked_up(verified) is None
    assert verify_json(run) == {"ok": True, "counts": COUNTS, "problems": []}
    after = kept(verified)
    assert [c for _, c in after] == [COUNTS] and after != before
    assert looked_up(verified) == COUNTS


def test_hostile_untracked_names_and_shapes_are_digested_not_crashed_on(verified, run):
    # A file whose name is not UTF-8, a folder 600 deep (a walk that recursed, two frames a level,
    # would pass Python's limit of 1,000), a FIFO:
    # each is untracked, so each is digested by what it holds; none may crash the run, and an
    # edit of the odd-named file still makes the next run check again.
    scratch = verified.path("tenants/T0001/scratch")
    scratch.mkdir()
    odd = os.path.join(os.fsencode(scratch), b"\xff\xfe.txt")
    with open(odd, "wb") as f:
        f.write(b"one")
    deep = os.fsencode(scratch / "deep")
    os.mkdir(deep)
    fd = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(600):
            os.mkdir("d", dir_fd=fd)
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
    finally:
        os.close(fd)
    os.mkfifo(scratch / "pipe")
    first = run("verify")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert looked_up(verified) == COUNTS
    with open(odd, "wb") as f:
        f.write(b"two")
    assert looked_up(verified) is None
    assert run("verify").exit_code == 0 and looked_up(verified) == COUNTS
    import shutil

    shutil.rmtree(scratch)  # the suite's own scan of the test's folders walks with os.walk
