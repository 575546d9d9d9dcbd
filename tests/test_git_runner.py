"""One git runner: every git process wuye starts goes through wuye/storage/git.py (`call`/`run`).

What that runner promises, checked with real wuye commands in fresh interpreters:
- no hook ever runs, though the user's global ~/.gitconfig points core.hooksPath at hooks that
  would leave a mark (and a prepare-commit-msg that would rewrite the message), through init,
  staff, archive, move-out signing, verify, doctor and a two-sided `wuye sync` via a central
  repository, whose merge commit keeps its Wuye-* trailers;
- a `git worktree add` checkout of a store is a store: verify, a write and doctor work there, and
  its state (lock, journal, caches, verified HEAD) lives in that checkout's own git directory;
- GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE in the caller's environment redirect nothing;
- and no module but wuye/storage/git.py imports GitPython or starts git (an `ast` walk).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO_ROOT, git, git_log, head
from test_moveout import MoveOut

# Every hook git runs for the commands wuye uses, on the client side and on a receiving one.
HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "pre-merge-commit", "post-merge",
         "pre-push", "reference-transaction", "post-checkout", "post-rewrite", "pre-auto-gc", "post-index-change",
         "pre-receive", "update", "post-receive", "post-update", "push-to-checkout")


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def _hostile_home(home: Path) -> Path:
    """A HOME whose ~/.gitconfig sends git to hooks that each append their name to `marker`."""
    hooks, marker = home / "hooks", home / "marker"
    hooks.mkdir(parents=True)
    for name in HOOKS:
        body = f'echo {name} >> "{marker}"\n'
        if name == "prepare-commit-msg":
            body += 'echo "REWRITTEN BY A HOOK" > "$1"\n'
        (hooks / name).write_text("#!/bin/sh\n" + body)
        (hooks / name).chmod(0o755)
    (home / ".gitconfig").write_text(
        f"[core]\n\thooksPath = {hooks}\n[user]\n\tname = Global Person\n\temail = global@example.invalid\n")
    return marker


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """(env for wuye subprocesses, marker file): the user's global git config sets hooks."""
    home = tmp_path / "hostile-home"
    marker = _hostile_home(home)
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")}
    env["HOME"] = str(home)
    # The hooks are live: plain git with this environment runs them (so "never written" below
    # means wuye switched them off, not that they could not run).
    probe = tmp_path / "probe"
    subprocess.run(["git", "init", "-q", str(probe)], env=env, check=True)
    (probe / "f").write_text("x\n")
    subprocess.run(["git", "add", "f"], cwd=probe, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", "probe"], cwd=probe, env=env, check=True)
    assert "pre-commit" in marker.read_text() and "reference-transaction" in marker.read_text()
    marker.unlink()
    return env, marker


def wuye(env, root, *args, input=None) -> Result:
    """The real CLI in a fresh interpreter, as a clerk's shell would start it."""
    argv = [sys.executable, "-m", "wuye", *(["--store", str(root)] if root is not None else []), *map(str, args)]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, input=input)
    return Result(p.returncode, p.stdout, p.stderr)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


@pytest.mark.slow  # every kind of command as a subprocess, a sync included: ~20 s
def test_no_hook_runs_and_no_global_setting_applies_through_every_kind_of_command(hostile, tenant, tmp_path):
    env, marker = hostile
    a = Path(tenant.root)

    fresh = tmp_path / "fresh"
    ok(wuye(env, None, "init", fresh, "--name", "新大厦"))
    assert git(fresh, "log", "-1", "--format=%an <%ae>").strip() == "wuye <wuye@wuye.invalid>"
    ok(wuye(env, a, "staff", "add", "zhouqi", "--name", "周琪", "--dept", "finance", "--as", "sunhao"))
    ok(wuye(env, a, "archive", "new", "T0002", "--name", "华锐通达贸易", "--unit", "1202", "--as", "wangli"))
    mo = MoveOut(lambda *args, **k: wuye(env, a, *args, **k), tenant, tmp_path)
    mo.move_in()
    mo.start()
    ok(mo.sign("application"))
    ok(wuye(env, a, "verify"))
    ok(wuye(env, a, "doctor"))

    central = tmp_path / "central.git"
    ok(wuye(env, None, "remote", "init-central", central))
    ok(wuye(env, a, "remote", "add", "origin", central, "--as", "wangli"))
    ok(wuye(env, a, "sync", "--as", "wangli"))
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(central), str(b))  # the test's git: no global config, no hooks
    ok(wuye(env, b, "remote", "add", "origin", central))
    # Both sides add a contact offline: the second sync merges, renumbering one of them.
    ok(wuye(env, a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli"))
    ok(wuye(env, b, "archive", "add", "T0001", "contacts", "--set", "name=张三", "--set", "phone=13912345678", "--as", "wangli"))
    ok(wuye(env, b, "sync", "--as", "wangli"))
    r = ok(wuye(env, a, "sync", "--as", "zhangwei"))
    assert "CON-0001" in r.stderr and "CON-0002" in r.stderr

    assert not marker.exists(), marker.read_text()
    [merge] = [c for c in git_log(a) if c.subject.startswith("sync: ")]
    assert merge.trailers["Wuye-Actor"] == "zhangwei"
    assert merge.trailers["Wuye-Renumbered"] == "tenants/T0001/contacts.yaml CON-0001 -> CON-0002"
    assert len(git(a, "rev-list", "--parents", "-n1", "HEAD").split()) == 3  # a real two-parent merge
    # Nothing of the global config reached a commit: no hook's message, no global identity.
    log = git(a, "log", "--format=%an %ae %cn %ce%n%B")
    assert "REWRITTEN" not in log and "Global Person" not in log and "global@example.invalid" not in log
    assert head(a) == git(central, "rev-parse", "main").strip()
    ok(wuye(env, a, "verify"))
    assert not marker.exists()


def test_a_worktree_of_a_store_is_a_store(tenant, run, tmp_path):
    from wuye.storage import git as audit

    main = Path(tenant.root)
    before = head(main)
    mains_state = _state(main / ".git")
    wt = tmp_path / "wt"
    git(main, "worktree", "add", "-q", "-b", "desk2", str(wt))
    assert (wt / ".git").is_file()
    # git's own answer for where the checkout's and the shared git directories are.
    assert audit.git_dir(wt) == Path(git(wt, "rev-parse", "--absolute-git-dir").strip())
    assert audit.common_dir(wt) == Path(wt, git(wt, "rev-parse", "--git-common-dir").strip()).resolve()
    assert audit.common_dir(wt) == (main / ".git").resolve()
    assert audit.head(wt) == before

    r = run("verify", store=wt)
    assert r.exit_code == 0, (r.stdout, r.stderr)
    r = run("archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli", store=wt)
    assert r.exit_code == 0, (r.stdout, r.stderr)
    [last, *_] = git_log(wt)
    assert last.files == ["tenants/T0001/contacts.yaml"] and last.author == "王丽"
    assert git(wt, "rev-parse", "desk2").strip() == last.commit != before
    assert git(wt, "status", "--porcelain", "--untracked-files=all") == ""
    assert head(main) == before and git(main, "status", "--porcelain", "--untracked-files=all") == ""
    # The checkout's own state is in its own git directory, never in the main checkout's.
    own = audit.git_dir(wt)
    assert (own / "wuye.lock").exists()
    r = run("verify", store=wt)
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert (own / "wuye" / "verified-head").read_text().strip() == last.commit
    r = run("doctor", store=wt)
    assert r.exit_code == 0, (r.stdout, r.stderr)
    r = run("log", "-n", "1", store=wt)
    assert r.exit_code == 0 and "客户联络资料 1 条" in r.stdout and "王丽" in r.stdout
    assert _state(main / ".git") == mains_state


def _state(gitdir: Path) -> dict:
    """wuye's files in a git directory (lock, caches, markers), each with its bytes and mtime."""
    files = [gitdir / "wuye.lock", *sorted((gitdir / "wuye").rglob("*"))]
    return {str(p): (p.stat().st_mtime_ns, p.read_bytes()) for p in files if p.is_file()}


def test_git_variables_in_the_environment_redirect_nothing(tenant, tmp_path):
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))
    env = dict(os.environ, GIT_DIR=str(other / ".git"), GIT_WORK_TREE=str(other),
               GIT_INDEX_FILE=str(other / ".git" / "stray-index"), GIT_OBJECT_DIRECTORY=str(other / ".git" / "objects"),
               GIT_CEILING_DIRECTORIES=str(tmp_path), GIT_AUTHOR_DATE="2001-01-01T00:00:00+00:00")
    root = Path(tenant.root)
    before = head(root)
    ok(wuye(env, root, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli"))
    ok(wuye(env, root, "verify"))
    ok(wuye(env, root, "log", "-n", "1"))
    [last, *_] = git_log(root)
    assert last.files == ["tenants/T0001/contacts.yaml"] and head(root) != before
    assert git(root, "log", "-1", "--format=%aI").startswith("20") and not git(root, "log", "-1", "--format=%aI").startswith("2001")
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (other / ".git" / "stray-index").exists()
    assert git(other, "rev-parse", "--verify", "-q", "HEAD", check=False) == ""  # still no commit there
    assert not any((other / ".git" / "objects").glob("??/*"))


def test_the_environment_drops_every_variable_git_counts_as_the_repositorys():
    from wuye.storage import git as audit

    local = git(REPO_ROOT, "rev-parse", "--local-env-vars").split()
    assert "GIT_DIR" in local and "GIT_INDEX_FILE" in local
    with pytest.MonkeyPatch.context() as mp:
        for name in [*local, "GIT_CEILING_DIRECTORIES", "GIT_NAMESPACE", "GIT_QUARANTINE_PATH", "GIT_TEMPLATE_DIR"]:
            mp.setenv(name, "/elsewhere")
        mp.setenv("GIT_SSH_COMMAND", "ssh -i key")
        env = audit.environment()
    assert [n for n in local if n in env] == []
    assert "GIT_CEILING_DIRECTORIES" not in env and "GIT_TEMPLATE_DIR" not in env
    assert env["GIT_SSH_COMMAND"] == "ssh -i key"  # how to reach a remote is the user's
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_CONFIG_GLOBAL"] == os.devnull


def test_a_remote_reached_through_the_users_url_rewrite_still_syncs(tenant, run, tmp_path, monkeypatch):
    # The user's global config is off for everything but how to reach a remote.
    central = tmp_path / "central.git"
    assert run("remote", "init-central", central, store=None).exit_code == 0
    cfg = tmp_path / "gitconfig"
    cfg.write_text(f'[url "{central}"]\n\tinsteadOf = office:central\n[core]\n\thooksPath = /nonexistent\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    r = run("remote", "add", "origin", "office:central", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    r = run("sync", "--as", "wangli")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert git(central, "rev-parse", "main").strip() == head(tenant)


# --- the architecture: one place starts git ----------------------------------------------------

RUNNER = "wuye/storage/git.py"
# Modules that may start a program other than git, and why.
OTHER_PROGRAMS = {
    "wuye/cli/demo.py": "runs ssh-keygen -Y verify, to show a signature checked without wuye",
}
_SPAWNERS = {"system", "popen", "spawnl", "spawnlp", "spawnv", "spawnvp", "execv", "execvp", "execl", "execlp",
             "execve", "posix_spawn", "posix_spawnp"}


def _violations(path: Path, rel: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), rel)
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        for name in names:
            if name == "git" or name.startswith("git."):
                found.append(f"{rel}:{node.lineno} imports GitPython ({name})")
            if name in ("subprocess", "pty", "asyncio.subprocess") and rel not in OTHER_PROGRAMS:
                found.append(f"{rel}:{node.lineno} imports {name}: start git through {RUNNER}")
        if isinstance(node, ast.Attribute) and node.attr in _SPAWNERS and isinstance(node.value, ast.Name) \
                and node.value.id == "os":
            found.append(f"{rel}:{node.lineno} os.{node.attr}: start git through {RUNNER}")
        if isinstance(node, ast.Attribute) and node.attr == "create_subprocess_exec":
            found.append(f"{rel}:{node.lineno} {node.attr}: start git through {RUNNER}")
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts and isinstance(node.elts[0], ast.Constant) \
                and node.elts[0].value == "git" and rel in OTHER_PROGRAMS:
            found.append(f"{rel}:{node.lineno} an argv starting with \"git\"")
    return found


def test_only_the_runner_starts_git():
    package = REPO_ROOT / "wuye"
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        if rel != RUNNER:
            found += _violations(path, rel)
    assert found == []
    assert all((REPO_ROOT / rel).is_file() for rel in OTHER_PROGRAMS)  # the allow-list names real modules


def test_the_architecture_check_sees_what_it_forbids(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\nfrom git import Repo\nimport os\nos.system('git status')\n")
    assert len(_violations(bad, "wuye/x.py")) == 3
    bad.write_text("import subprocess\nsubprocess.run(['git', 'status'])\n")
    assert _violations(bad, "wuye/cli/demo.py") == ['wuye/cli/demo.py:2 an argv starting with "git"']


def test_pyproject_no_longer_needs_gitpython():
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "gitpython" not in text.lower()
