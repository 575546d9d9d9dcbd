"""Crash safety: the real `wuye` killed (SIGKILL) at every point of the write path.

For each writing command (archive new, archive add, moveout sign, import of a small CSV) a first,
uninterrupted run on a copy of the store lists the fault points the command passes
(`WUYE_FAULT_TRACE`) and the commit it makes. Then, for every point in turn, a fresh copy of the
store runs the command in a subprocess with `WUYE_FAULT=<point>` (the process SIGKILLs itself
there, see `store._fault`), and the test checks:

- it died by SIGKILL (return code -9);
- no temp file is in the work tree, in `git status` or in the index;
- HEAD's content is valid (`wuye verify` of a clean export of HEAD);
- before the commit point (the journal), the store is exactly as before: HEAD, status, every byte;
- the next command finishes an interrupted change past the commit point (the original commit
  appears exactly once, with its message, author and files) or, before it, commits only itself;
  it leaves no journal and no staged leftovers, and `wuye verify` passes.

Also: a kill while finishing an interrupted change, and a stale `.git/index.lock` (git itself
killed mid-commit) on top of an interrupted change.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import git, snapshot
from test_moveout import DATA, MOVE_IN

WUYE = shutil.which("wuye", path=str(Path(sys.executable).parent)) or shutil.which("wuye")
FINISHED = "已完成上次被中断的修改"
TMP_MARK = ".wuye-tmp-"

# Every test here runs real processes killed at many points (4–60 s each): `pytest -m "not slow"` skips them.
pytestmark = pytest.mark.slow


def wuye(root: Path, *args, fault: str | None = None, trace: Path | None = None) -> subprocess.CompletedProcess:
    """The real console script in a subprocess, in this test's isolated environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("WUYE_FAULT", "WUYE_FAULT_TRACE")}
    if fault:
        env["WUYE_FAULT"] = fault
    if trace:
        env["WUYE_FAULT_TRACE"] = str(trace)
    return subprocess.run([WUYE, "--store", str(root), *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=120)


def subjects(root: Path, since: str) -> list[str]:
    """Commit subjects after `since`, oldest first."""
    out = git(root, "log", "--reverse", "--format=%s", f"{since}..HEAD")
    return out.splitlines()


def commit_files(root: Path, commit: str) -> list[str]:
    return sorted(x for x in git(root, "show", "--name-only", "--format=", commit).splitlines() if x)


def temp_files(root: Path) -> list[str]:
    """Temp files anywhere in the work tree (outside .git), in the index, or in `git status`."""
    found = [str(p.relative_to(root)) for p in root.rglob(f"*{TMP_MARK}*") if ".git" not in p.relative_to(root).parts]
    found += [x for x in git(root, "ls-files").splitlines() if TMP_MARK in x]
    found += [x for x in git(root, "status", "--porcelain", "-uall", "--ignored").splitlines() if TMP_MARK in x]
    return found


def head_problems(root: Path, dest: Path) -> list[str]:
    """`wuye verify` of a clean export of HEAD (what a fresh clone would hold)."""
    from wuye.verify import checks as verify
    from wuye.storage.store import Store

    tar = subprocess.run(["git", "archive", "HEAD"], cwd=root, capture_output=True, check=True).stdout
    dest.mkdir()
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(dest, filter="data")
    return [str(p) for p in verify.verify(Store(dest)).errors]


def crash_everywhere(root: Path, work: Path, args: list, next_args: list, run) -> int:
    """Kill `args` at every point of its write path, each on a fresh copy of `root`; check each."""
    copy = work / "reference"
    shutil.copytree(root, copy, symlinks=True)
    trace = work / "trace"
    base = git(root, "rev-parse", "HEAD").strip()
    r = wuye(copy, *args, trace=trace)
    assert r.returncode == 0, r.stderr
    points = trace.read_text(encoding="utf-8").splitlines()
    ref_head = git(copy, "rev-parse", "HEAD").strip()
    assert git(copy, "rev-parse", "HEAD~1").strip() == base
    ref_files = commit_files(copy, ref_head)
    ref_subject = git(copy, "log", "-1", "--format=%s", ref_head).strip()
    ref_author = git(copy, "log", "-1", "--format=%an <%ae>", ref_head).strip()
    # The write path, in order: every file staged, then the commit point (the journal), every
    # file published, the commit with git's own steps, and only then the journal removed.
    n = len(ref_files)
    order = [p.removeprefix("staged:") for p in points[1:1 + n]]
    assert sorted(order) == ref_files, points
    assert points == (["stage"] + [f"staged:{f}" for f in order] + ["journal"] + [f"published:{f}" for f in order]
                      + ["published", "commit", "git-add", "git-commit", "committed"]), points
    shutil.rmtree(copy)

    before = snapshot(root)
    for i, point in enumerate(points):
        where = f"killed at {point!r}"
        victim = work / f"kill-{i}"
        shutil.copytree(root, victim, symlinks=True)
        r = wuye(victim, *args, fault=point)
        assert r.returncode == -signal.SIGKILL, (where, r.returncode, r.stderr)
        assert temp_files(victim) == [], where
        assert head_problems(victim, work / f"head-{i}") == [], where
        journal = victim / ".git" / "wuye" / "pending.json"
        committed_point = points.index("journal")
        if i < committed_point:
            # Before the commit point: nothing of the change is visible, byte for byte.
            assert not journal.exists(), where
            assert snapshot(victim) == _moved(before, root, victim), where
        else:
            assert journal.is_file(), where
            pending = json.loads(journal.read_text(encoding="utf-8"))
            assert pending["message"].splitlines()[0] == ref_subject, where

        nxt = run(*next_args, store=victim)
        assert nxt.exit_code == 0, (where, nxt.stderr)
        done = subjects(victim, base)
        if i < committed_point:
            assert len(done) == 1 and ref_subject not in done, (where, done)
            assert FINISHED not in nxt.stderr, where
        else:
            assert done[0] == ref_subject and done.count(ref_subject) == 1 and len(done) == 2, (where, done)
            assert FINISHED in nxt.stderr and ref_subject in nxt.stderr, (where, nxt.stderr)
            first = git(victim, "rev-list", "--reverse", f"{base}..HEAD").split()[0]
            assert commit_files(victim, first) == ref_files, where
            assert git(victim, "log", "-1", "--format=%an <%ae>", first).strip() == ref_author, where
        assert not journal.exists(), where
        staging = victim / ".git" / "wuye" / "staging"
        assert not staging.exists() or list(staging.iterdir()) == [], (where, list(staging.iterdir()))
        assert git(victim, "status", "--porcelain", "-uall") == "", where
        assert git(victim, "rev-list", "--merges", "HEAD") == "", where
        v = run("verify", store=victim)
        assert v.exit_code == 0, (where, v.stdout, v.stderr)
        shutil.rmtree(victim)
    return len(points)


def _moved(snap, old: Path, new: Path):
    """A snapshot of `old` as it would read at `new` (paths are absolute)."""
    from conftest import Snapshot

    return Snapshot(snap.head, snap.status, {k.replace(str(old), str(new), 1): v for k, v in snap.files.items()})


NEXT = ["archive", "add", "T0001", "supplement", "--set", "note=崩溃之后的下一条命令", "--as", "wangli"]


def test_archive_add_killed_at_every_point(tenant, tmp_path, run):
    n = crash_everywhere(tenant.root, tmp_path, ["archive", "add", "T0001", "contacts", "--set", "name=李明",
                                                 "--set", "phone=13812345678", "--as", "wangli"], NEXT, run)
    assert n == 9


def test_archive_new_killed_at_every_point_leaves_no_half_tenant(tenant, tmp_path, run):
    """A new tenant (profile and unit, two folders): a kill before the commit point must not leave
    tenants/T0002/ behind, or the tenant would 'exist' and `archive new` be refused."""
    n = crash_everywhere(tenant.root, tmp_path, ["archive", "new", "T0002", "--name", "国贸商贸", "--unit", "1206",
                                                 "--as", "wangli"], NEXT, run)
    assert n == 11
    # And the command itself can be run again after a kill before the commit point.
    victim = tmp_path / "again"
    shutil.copytree(tenant.root, victim, symlinks=True)
    assert wuye(victim, "archive", "new", "T0002", "--name", "国贸商贸", "--as", "wangli",
                fault="staged:tenants/T0002/profile.yaml").returncode == -signal.SIGKILL
    assert not (victim / "tenants" / "T0002").exists()
    again = run("archive", "new", "T0002", "--name", "国贸商贸", "--as", "wangli", store=victim)
    assert again.exit_code == 0, again.stderr


def test_moveout_sign_killed_at_every_point(tenant, tmp_path, run):
    from wuye.archive import dossier as archive
    from wuye.moveout import cases as moveout

    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "move_in.json").write_text(json.dumps(MOVE_IN), encoding="utf-8")
    archive.add(tenant, "T0001", "move_in", "wangli", inputs / "move_in.json")
    case = moveout.start(tenant, "T0001", "zhaomin", "2026-12-31", "租约到期").case_id
    moveout.sign(tenant, case, "application", "wangli", DATA["application"])
    data = inputs / "eng.json"
    data.write_text(json.dumps(DATA["engineering_inspection"], ensure_ascii=False), encoding="utf-8")
    n = crash_everywhere(tenant.root, tmp_path, ["moveout", "sign", case, "engineering_inspection", "--file", data,
                                                 "--as", "zhangwei"], NEXT, run)
    assert n == 9


def test_import_killed_at_every_point(tenant, tmp_path, run):
    r = run("import", "--help", store=None)
    assert r.exit_code == 0  # `wuye import` exists: this scenario is never skipped silently
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("客户编号,客户名称,房号,联系人,联系电话,租赁押金,迁入日期\n"
                      "T0101,北京甲科技有限公司,0801,张三,13812345678,30000.00,2024-01-01\n"
                      "T0102,北京乙商贸有限公司,0802,李四,13912345678,20000.00,2024-03-01\n", encoding="utf-8")
    n = crash_everywhere(tenant.root, tmp_path, ["import", ledger, "--as", "liuyang"], NEXT, run)
    assert n == 7 + 2 * 10  # two tenants: profile, contacts, payments, move_in each, and two units


def test_a_kill_while_finishing_an_interrupted_change_is_finished_later(tenant, tmp_path, run):
    root = tenant.root
    base = git(root, "rev-parse", "HEAD").strip()
    add = ["archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli"]
    assert wuye(root, *add, fault="published:tenants/T0001/contacts.yaml").returncode == -signal.SIGKILL
    # The next command dies too, while committing the change it is finishing.
    assert wuye(root, *NEXT, fault="git-add").returncode == -signal.SIGKILL
    assert (root / ".git" / "wuye" / "pending.json").is_file()
    r = run(*NEXT, store=root)
    assert r.exit_code == 0, r.stderr
    assert FINISHED in r.stderr
    done = subjects(root, base)
    assert len(done) == 2 and done[0].startswith("archive T0001: 客户联络资料") and done[1].startswith("archive T0001: 客户资料补充")
    assert run("verify", store=root).exit_code == 0


def test_git_killed_mid_commit_leaves_index_lock_then_doctor_finishes(tenant, tmp_path, run, refused):
    """git itself killed while committing leaves .git/index.lock: every later commit fails until it
    is removed. The next command says so (and keeps the interrupted change); `doctor --fix` removes
    the stale lock and finishes the change, once."""
    root = tenant.root
    base = git(root, "rev-parse", "HEAD").strip()
    add = ["archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli"]
    assert wuye(root, *add, fault="git-add").returncode == -signal.SIGKILL
    # What a git killed inside its index update leaves: the index as it was, and index.lock. (The
    # fault point is just after wuye's update-index; without the reset the index would already be
    # right, and git, having nothing to write, would not even look at the lock.)
    git(root, "reset", "-q")
    (root / ".git" / "index.lock").write_bytes(b"")
    published = (root / "tenants/T0001/contacts.yaml").read_bytes()

    r = run(*NEXT, store=root)
    refused(r, "index.lock", "wuye doctor --fix", "客户联络资料")
    assert subjects(root, base) == []
    assert (root / ".git" / "wuye" / "pending.json").is_file()
    assert (root / "tenants/T0001/contacts.yaml").read_bytes() == published
    assert not (root / "tenants/T0001/supplement.yaml").exists()

    d = run("doctor", "--fix", store=root)
    assert d.exit_code == 0, (d.stdout, d.stderr)
    assert not (root / ".git" / "index.lock").exists()
    done = subjects(root, base)
    assert len(done) == 1 and done[0].startswith("archive T0001: 客户联络资料")
    assert git(root, "log", "-1", "--format=%an", "HEAD").strip() == "王丽"
    assert git(root, "status", "--porcelain", "-uall") == ""
    assert run(*NEXT, store=root).exit_code == 0
    assert len(subjects(root, base)) == 2
    assert run("verify", store=root).exit_code == 0
