"""Shared fixtures: an isolated environment, a ready store with six staff, and helpers to run the
CLI and to read what it left behind (files, `git status`, `git log`).

Every test runs (autouse `_isolated_env`) with `HOME`, `XDG_CONFIG_HOME` and `WUYE_KEYS` pointed
into a fresh dir of its own (a sibling of `tmp_path`, so `tmp_path` holds only what the test makes),
with no `WUYE_*` or `GIT_*` variables from the caller, and with git's global and system config
switched off (`GIT_CONFIG_GLOBAL=/dev/null`, `GIT_CONFIG_NOSYSTEM=1`): no git identity exists, so
every commit that has an author proves wuye set it itself. The working directory is `tmp_path`,
which is inside no store. `COLUMNS=250` keeps rich from eliding table cells, and the CLI's cached
rich consoles are reset so each test's environment applies.

Fixtures:
- `store`: a store made by `wuye.create.init_store`, with the staff of `STAFF` registered through
  `wuye.staff.add` (each commit authored by the new member), and no notice period
  (`moveout.notice_days: 0`: the tests' dates are fixed). It is built once per session and
  copied per test (store and private keys), so it costs a copy, not seven commits.
- `tenant`: `store` plus tenant T0001 (柏彦科技, unit 1205) opened by wangli; returns the store.
- `run(*args, store=..., env=..., input=...)`: the CLI in-process through typer's CliRunner, with
  `--store <the test's store>` prepended when the test uses `store` (pass `store=None` to leave it
  out, or another Store/path). Unexpected exceptions propagate (a crash is never mistaken for a
  refusal, which is exit code 1). stdout and stderr are separate (`result.stdout`, `.stderr`).
- `snapshot(store, *extra_dirs)`: HEAD, `git status --porcelain` and the bytes of every file
  (outside .git), so that `assert snapshot(store) == before` proves a refusal changed nothing.
- `git_log(store, *paths)`: commits newest first, each with author and committer name and email,
  subject, body and trailers as git itself parses them (`%(trailers)`).
- `refused(result, *fragments)`: assert exit code 1 and that stderr names each fragment.

Plain helpers for test modules: `from conftest import git, head, STAFF, BUILDING, REPO_ROOT`
(`git(root, *args)` runs git there and returns stdout; `head(store)` is HEAD's hash).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO_ROOT = Path(__file__).resolve().parents[1]

# (id, name, department): one registered staff member per department.
STAFF = (
    ("wangli", "王丽", "customer_service"),
    ("zhangwei", "张伟", "engineering"),
    ("liuyang", "刘洋", "finance"),
    ("chenjing", "陈静", "security"),
    ("zhaomin", "赵敏", "leasing"),
    ("sunhao", "孙浩", "management"),
)
BUILDING = "柏彦大厦"
MANAGER = "sunhao"  # the management member of STAFF, who founds the store

# Variables of the tool and of git that would leak the caller's setup into a test.
_OTHER_VARS = ("EMAIL", "SSH_AUTH_SOCK", "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES")


def isolate(mp: pytest.MonkeyPatch, home: Path) -> None:
    """Point HOME, the config dir and the key dir into `home`; drop WUYE_* and GIT_* variables."""
    for name in list(os.environ):
        if name.startswith(("GIT_", "WUYE_")) or name in _OTHER_VARS:
            mp.delenv(name, raising=False)
    mp.setenv("HOME", str(home))
    mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    mp.setenv("WUYE_KEYS", str(home / "keys"))
    mp.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # Wide enough that rich never elides a cell ("…") in what the tests read.
    mp.setenv("COLUMNS", "250")
    mp.setenv("TERM", "dumb")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, tmp_path_factory, monkeypatch):
    # HOME is a sibling of tmp_path, not inside it: tests may list tmp_path and expect their own.
    isolate(monkeypatch, tmp_path_factory.mktemp("home"))
    monkeypatch.chdir(tmp_path)
    # The CLI keeps its rich consoles in module globals; start each test with fresh ones, made
    # under this test's environment (COLUMNS, NO_COLOR).
    from wuye.cli import output

    monkeypatch.setattr(output, "_out", None)
    monkeypatch.setattr(output, "_err", None)
    yield


# --- the store -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _store_template(tmp_path_factory):
    """(store dir, keys dir) of a store with STAFF registered, built once through the library."""
    from wuye.trust import staff
    from wuye.admin.create import init_store

    base = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base / "home")
        # The manager founds the store (the authority chain's root) and registers the others.
        store = init_store(base / "store", BUILDING, [(MANAGER, dict((s, n) for s, n, _ in STAFF)[MANAGER])])
        # The tests write fixed calendar dates (`--date 2026-12-31`), which the notice period
        # (wuye.yaml moveout.notice_days) would judge against the day they run: off here, and
        # tests/test_proration.py turns it on where it is the subject.
        text = store.path("wuye.yaml").read_text(encoding="utf-8")
        assert "  notice_days: 30\n" in text
        with store.change("settings: no notice period for fixed test dates", author=store.staff(MANAGER)) as ch:
            ch.write("wuye.yaml", text.replace("  notice_days: 30\n", "  notice_days: 0\n"))
        for sid, name, dept in STAFF:
            if sid != MANAGER:
                staff.add(store, sid, name, [dept], actor_id=MANAGER)
    return base / "store", base / "home" / "keys"


@pytest.fixture
def store(_store_template, tmp_path):
    """A store in `tmp_path/store` with the six staff of STAFF; their keys in WUYE_KEYS."""
    from wuye.storage.store import Store

    src, keys = _store_template
    root = tmp_path / "store"
    shutil.copytree(src, root, symlinks=True)
    shutil.copytree(keys, os.environ["WUYE_KEYS"], symlinks=True)
    return Store(root.resolve())


@pytest.fixture
def tenant(store):
    """`store` with tenant T0001 柏彦科技 in unit 1205, opened by wangli."""
    from wuye.archive import dossier as archive

    archive.new(store, "T0001", "柏彦科技", "1205", "wangli")
    return store


# --- comparing values read by two YAML readers --------------------------------------------------


def same_value(a, b, strict_sequences: bool = False) -> bool:
    """Equal values of the same types, keys in the same order, NaN equal to NaN; with
    `strict_sequences` a list is not a tuple either."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k], strict_sequences) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return ((type(a) is type(b)) or not strict_sequences) and len(a) == len(b) and \
            all(same_value(x, y, strict_sequences) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# --- running the CLI -------------------------------------------------------------------------

_DEFAULT = object()


@pytest.fixture
def run(request):
    """run(*args, store=<the test's store>, env=None, input=None) -> typer Result."""
    runner = CliRunner()

    def _run(*args, store=_DEFAULT, env=None, input=None):
        from wuye.cli import app

        if store is _DEFAULT:
            store = request.getfixturevalue("store") if "store" in request.fixturenames else None
        argv = [str(a) for a in args]
        if store is not None:
            argv = ["--store", str(_root(store)), *argv]
        return runner.invoke(app, argv, env=env, input=input, catch_exceptions=False)

    return _run


def refused(result, *fragments: str) -> None:
    """A refusal: exit code 1 and a message on stderr naming every fragment."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    for f in fragments:
        assert f in result.stderr, (f, result.stderr)


@pytest.fixture(name="refused")
def _refused_fixture():
    return refused


# --- what a command left behind --------------------------------------------------------------


def git(root, *args: str, check: bool = True) -> str:
    """A git command in `root`; its stdout."""
    p = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if check and p.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {p.stderr}")
    return p.stdout


def _root(store) -> Path:
    """A Store's root, or the path itself (a Path has a `.root` too: it is "/")."""
    return Path(store) if isinstance(store, (str, os.PathLike)) else Path(store.root)


@dataclass(frozen=True)
class Snapshot:
    head: str
    status: str
    files: dict = field(default_factory=dict)


def snapshot(store, *extra_dirs) -> Snapshot:
    """HEAD, `git status --porcelain` and every file's bytes (store outside .git, and extra_dirs)."""
    root = _root(store)
    head = status = ""  # not a repository (yet): only the files count
    if (root / ".git").exists():
        head = git(root, "rev-parse", "--verify", "-q", "HEAD", check=False).strip()
        status = git(root, "status", "--porcelain", "--untracked-files=all")
    files = {}
    for base in (root, *map(Path, extra_dirs)):
        if not base.exists():
            continue
        for p in sorted(base.rglob("*")):
            if ".git" in p.relative_to(base).parts:
                continue
            files[str(p)] = p.read_bytes() if p.is_file() else ("dir", os.stat(p).st_mode)
    return Snapshot(head, status, files)


@pytest.fixture(name="snapshot")
def _snapshot_fixture():
    return snapshot


_SEP, _END = "\x1f", "\x1e"
_FIELDS = {"commit": "%H", "author": "%an", "email": "%ae", "committer": "%cn", "committer_email": "%ce",
           "subject": "%s", "body": "%b", "trailers": "%(trailers:only,unfold)", "files": ""}


@dataclass
class Commit:
    commit: str
    author: str
    email: str
    committer: str
    committer_email: str
    subject: str
    body: str
    trailers: dict
    files: list


def git_log(store, *paths: str) -> list[Commit]:
    """Commits newest first (only those touching `paths` if given), with the files each changed."""
    root = _root(store)
    fmt = _SEP.join(v for k, v in _FIELDS.items() if v) + _SEP
    out = git(root, "log", "--no-color", "--name-only", f"--format={_END}{fmt}", "--", *paths)
    commits = []
    for chunk in out.split(_END)[1:]:
        parts = chunk.split(_SEP)
        h, an, ae, cn, ce, subject, body, trailers, names = parts
        parsed = {}
        for line in trailers.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                parsed[key.strip()] = value.strip()
        commits.append(Commit(h, an, ae, cn, ce, subject, body, parsed, [n for n in names.split("\n") if n]))
    return commits


@pytest.fixture(name="git_log")
def _git_log_fixture():
    return git_log


def head(store) -> str:
    return git(_root(store), "rev-parse", "HEAD").strip()


# After every test: no commit wuye made holds a phone or ID number (tests/commit_scan.py).
pytest_plugins = ("commit_scan",)
