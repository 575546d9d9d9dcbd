"""The central repository (`wuye remote init-central`) and its pre-receive guard.

Pushes are made with plain git, as anyone could make them, so what is tested is the hook, not
`wuye sync`'s own checks: a force-push, a deleted branch, a tag, unrelated history, a forged
entry (one byte of a signed entry edited), and a merge that drops a signed entry are refused
with a message naming the reason, and the central's branch does not move; a good push is taken.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git
from test_moveout import plain_git
from test_sync import Offices


@pytest.fixture
def offices(run, tenant, tmp_path):
    return Offices(run, tenant, tmp_path)


def push(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "push", "origin", *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def refused(p: subprocess.CompletedProcess, *fragments: str) -> None:
    assert p.returncode != 0, p.stderr
    assert "pre-receive hook declined" in p.stderr or "rejected" in p.stderr, p.stderr
    for f in fragments:
        assert f in p.stderr, (f, p.stderr)


def test_init_central_makes_a_guarded_bare_repository(run, tmp_path):
    central = tmp_path / "central.git"
    r = run("remote", "init-central", central, store=None)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == str(central.resolve())
    assert git(central, "rev-parse", "--is-bare-repository").strip() == "true"
    for key in ("receive.denyNonFastForwards", "receive.denyDeletes", "receive.fsckObjects"):
        assert git(central, "config", key).strip() == "true"
    hook = central / "hooks" / "pre-receive"
    assert hook.stat().st_mode & stat.S_IXUSR
    # The hook names the interpreter that made it: it needs no wuye on the server's PATH.
    assert f"exec {sys.executable} -I -m wuye remote pre-receive" in hook.read_text(encoding="utf-8")

    r = run("remote", "init-central", central, store=None)
    assert r.exit_code == 1 and "不是空目录" in r.stderr and "--update" in r.stderr
    hook.write_text("#!/bin/sh\nexit 0\n")
    assert run("remote", "init-central", "--update", central, store=None).exit_code == 0
    assert "wuye remote pre-receive" in hook.read_text(encoding="utf-8")
    r = run("remote", "init-central", "--update", tmp_path, store=None)
    assert r.exit_code == 1 and "不是裸仓库" in r.stderr


def test_a_good_push_is_taken_with_only_a_minimal_path(offices, run):
    """The hook finds wuye by the interpreter it recorded, not through PATH."""
    a = offices.a
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    p = push(a, "main", env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    assert offices.central_head() == git(a, "rev-parse", "HEAD").strip()


def test_a_force_push_a_deleted_branch_and_a_tag_are_refused(offices):
    a = offices.a
    central = offices.central_head()
    plain_git(a, "commit", "-q", "--amend", "-m", "rewritten history")
    refused(push(a, "--force", "main"), "非快进推送被拒绝", "已签字的历史不许改写")
    refused(push(a, ":main"))  # deleting: git's denyDeletes or the hook, whichever speaks first
    plain_git(a, "tag", "v1", central)
    refused(push(a, "v1"), "中央仓库只接受分支")
    assert offices.central_head() == central


def test_a_forged_entry_is_refused(offices):
    a = offices.a
    mo = offices.moveout(a)
    mo.start()
    offices.ok(offices.sync(a))
    central = offices.central_head()
    rel = mo.step_rel("notice")
    data = (a / rel).read_bytes()
    (a / rel).write_bytes(data.replace("2026-12-31".encode(), "2026-12-30".encode(), 1))  # one byte
    plain_git(a, "commit", "-q", "-am", "a quiet change")
    p = push(a, "main")
    refused(p, rel, "签名无效", "已签字的条目在提交")
    assert offices.central_head() == central


def test_a_merge_that_drops_a_signed_entry_is_refused(offices):
    """A merge can lose an entry that `wuye verify` of the tip alone would never miss."""
    a = offices.a
    mo = offices.moveout(a)
    mo.move_in()
    mo.start()
    mo.ok(mo.sign("application"))
    offices.ok(offices.sync(a))
    b = offices.clone("b")
    offices.moveout(b, mo.case).ok(offices.moveout(b, mo.case).sign("engineering_inspection"))
    offices.ok(offices.sync(b))
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    plain_git(a, "fetch", "-q", "origin")
    plain_git(a, "merge", "-q", "--no-commit", "origin/main")
    plain_git(a, "rm", "-q", "-f", mo.step_rel("engineering_inspection"))
    plain_git(a, "commit", "-q", "-m", "merge")
    central = offices.central_head()
    refused(push(a, "main"), mo.step_rel("engineering_inspection"), "被删除")
    assert offices.central_head() == central


def test_unrelated_history_is_refused(offices, tmp_path):
    from wuye.admin.create import init_store

    other = init_store(tmp_path / "elsewhere", "另一座大厦").root
    plain_git(other, "remote", "add", "origin", str(offices.central))
    refused(push(other, "main"))  # git itself: not a fast-forward
    refused(push(other, "main:refs/heads/elsewhere"), "没有共同的起点")
    assert git(offices.central, "for-each-ref", "--format=%(refname)", "refs/heads/").split() == ["refs/heads/main"]


def test_the_hook_outside_git_says_what_it_is_for(run):
    r = run("remote", "pre-receive", store=None, input="")
    assert r.exit_code == 1 and "pre-receive" in r.stderr
