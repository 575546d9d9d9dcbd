"""Git as the audit trail: creating a store's repository, committing a change, reading history.

Writes run git's own commands: a commit of exactly the paths a command wrote, its tree built with
git's plumbing from HEAD's tree and those paths only (see `commit`), authored and committed by the
acting staff member, never by whatever global git identity the machine has, with no hook run.
History is read with one `git log` whose format asks git itself to parse the `Wuye-*` trailers.

This module is the only place in wuye that starts a git process (tests/test_git_runner.py checks
it): every command goes through `call`/`run`, which decide once how git is started (see `call`).
wuye no longer depends on GitPython: all it was still used for was starting commands (its
pure-Python index takes seconds per commit on a 120,000-file store, and was long gone), and its
import alone costs 80-140 ms, which `wuye log`, `doctor`, `sync` and `remote` no longer pay.
"""

from __future__ import annotations

import os
from pathlib import Path

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage.faults import fault as _fault

SYSTEM_NAME = "wuye"
SYSTEM_EMAIL = "wuye@wuye.invalid"

# Settings that keep commits independent of the machine's global git config and fast on large
# stores (split index and untracked cache make `git add` and `git status` cheap at 120k files).
LOCAL_CONFIG = {
    "core.splitIndex": "true",
    "core.untrackedCache": "true",
    "core.quotePath": "false",
    "commit.gpgSign": "false",
    "tag.gpgSign": "false",
    "gc.auto": "0",
}


class GitFailed(WuyeError):
    """A git command that failed where the caller needed it to succeed; git's words in `stderr`."""

    def __init__(self, message: str, status: int, stderr: str):
        super().__init__(message)
        self.status, self.stderr = status, stderr


class NotARepository(WuyeError):
    """The folder holds no git repository (no `.git`, and it is not a bare repository)."""


def git_dir(root: Path) -> Path:
    """The store's own git directory: `.git` itself, or where a `.git` file points.

    `git worktree add` (and `git clone --separate-git-dir`, submodules) leave a `.git` *file*
    holding `gitdir: <path>` (gitrepository-layout(5)); that directory holds this checkout's HEAD,
    index, MERGE_HEAD, and wuye's per-checkout state. A bare repository (the central one) is its
    own git directory. Read by hand, not with `git rev-parse --absolute-git-dir` (which answers
    the same, as tests/test_git_runner.py checks): look-ups and `head` must not start a process.

    What wuye keeps here, and why per checkout rather than shared by every worktree (`common_dir`):
    the write lock, the journal and staging of an interrupted change, the caches and the last
    verified HEAD all describe *this* checkout's working tree, index and HEAD, which a second
    worktree does not share; the refs the worktrees do share are moved by `update-ref <new> <old>`,
    which git itself refuses when they moved meanwhile, so one lock per checkout is enough.
    """
    root = Path(root)
    dot = root / ".git"
    if dot.is_dir():
        return dot
    if dot.is_file():
        text = dot.read_text(encoding="utf-8", errors="surrogateescape").strip()
        if text.startswith("gitdir:"):
            return Path(root, text[len("gitdir:"):].strip()).resolve()
    if (root / "HEAD").is_file() and (root / "objects").is_dir() and (root / "refs").is_dir():
        return root  # bare
    raise NotARepository(tr("%s 不是 git 仓库（没有 .git）", "%s is not a git repository (there is no .git)") % root)


def common_dir(root: Path) -> Path:
    """The git directory every worktree of the repository shares: objects, refs, config, gc.log
    (its `commondir` file names it; a plain checkout's git directory is its own common one)."""
    gd = git_dir(root)
    try:
        named = (gd / "commondir").read_text(encoding="utf-8", errors="surrogateescape").strip()
    except FileNotFoundError:
        return gd
    return Path(gd, named).resolve()


# Inherited GIT_* variables that are kept: how to reach a remote (ssh, askpass, proxies) and
# git's tracing. Every other GIT_* variable goes, the repository-locating ones first (GIT_DIR,
# GIT_WORK_TREE, GIT_INDEX_FILE, GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES,
# GIT_COMMON_DIR, GIT_CEILING_DIRECTORIES: inside a hook, or from a shell that exported them,
# they would point a command at another repository, index or object store), and with them
# those that change what a command does (GIT_AUTHOR_DATE dating a commit, GIT_NOTES_REF,
# GIT_*_PATHSPECS, GIT_CONFIG_* adding settings, GIT_TEMPLATE_DIR installing hooks on init).
# An allow-list, because a list of what to drop misses whatever variable git adds next.
_KEPT = frozenset(("GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSH_VARIANT", "GIT_ASKPASS", "GIT_TERMINAL_PROMPT",
                   "GIT_EXEC_PATH", "GIT_ALLOW_PROTOCOL", "GIT_PROTOCOL_FROM_USER", "GIT_PROXY_COMMAND",
                   "GIT_HTTP_USER_AGENT", "GIT_HTTP_LOW_SPEED_LIMIT", "GIT_HTTP_LOW_SPEED_TIME",
                   "GIT_SSL_NO_VERIFY", "GIT_SSL_CAINFO", "GIT_CURL_VERBOSE", "GIT_FLUSH"))

# core.hooksPath for every command wuye runs: hooks are off. A user's global core.hooksPath (a
# prepare-commit-msg that prefixes ticket numbers, say) or the store's own .git/hooks must neither
# rewrite the audit trail's messages nor make a command fail, nor run code an office committed.
# /dev/null rather than an empty directory of our own: nobody can ever create a file under it
# (a hook there fails with ENOTDIR, which git counts as no hook, as tests/test_git_runner.py
# checks with real hooks), and a process killed mid-command leaves no temporary folder behind.
NO_HOOKS = "/dev/null"


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every git command: the caller's, scrubbed (see _KEPT), with the
    system and the user's global git config switched off, so that neither can change what a
    command does (core.autocrlf rewriting blobs, core.fsmonitor or a credential helper running
    a program, init.templateDir installing hooks, log.showSignature changing `git log`'s
    output). The store's own .git/config still applies: it holds LOCAL_CONFIG, the remotes and
    the merge driver. Identities come from `_identity`, never from a user.name."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") or k in _KEPT or k.startswith("GIT_TRACE")}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = os.devnull
    if extra:
        env.update(extra)
    return env


# The user's own settings that still apply, though their config files are switched off:
# how to reach a remote (credential helpers, proxies, ssh command, url rewrites), for the
# commands that reach one; and which folders owned by someone else they trust (safe.directory,
# which git reads only from the system and global config and the command line).
_TRANSPORT_COMMANDS = ("fetch", "push", "ls-remote", "clone")
_TRANSPORT_KEYS = ("credential.", "http.", "url.", "protocol.", "core.sshcommand", "core.askpass", "core.gitproxy",
                   "ssh.")
_DUBIOUS = b"detected dubious ownership"
# The user's settings, read once per process for the environment that names their config files
# (a process that changes HOME or GIT_CONFIG_GLOBAL, as the tests do, reads them again).
_user_config: dict[tuple, list[tuple[str, str]]] = {}
_CONFIG_ENV = ("HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM")


def _user_settings(keep) -> list[str]:
    """`-c key=value` arguments for the user's global and system settings whose key `keep` accepts
    (read once per process, with git itself, so includes and conditions apply as usual)."""
    import subprocess

    where = tuple(os.environ.get(k) for k in _CONFIG_ENV)
    found = _user_config.get(where)
    if found is None:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("GIT_") or k in _KEPT or k in _CONFIG_ENV}
        found = _user_config[where] = []
        for scope in ("--system", "--global"):
            p = subprocess.run(["git", "config", scope, "--null", "--list"], cwd=os.sep, env=env,
                               capture_output=True, stdin=subprocess.DEVNULL)
            if p.returncode == 0:
                for item in _text(p.stdout).split("\0"):
                    key, sep, value = item.partition("\n")
                    if sep and "=" not in key:  # `-c` splits at the first "="
                        found.append((key, value))
    args = []
    for key, value in found:
        if keep(key.lower()):
            args += ["-c", f"{key}={value}"]
    return args


def call(root: Path | None, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> tuple[int, bytes, bytes]:
    """The one way wuye starts git: (exit status, stdout, stderr) of `git <args>` in the store at `root`.

    The repository is named, not searched for: GIT_DIR is the store's git directory (`git_dir`,
    which follows a worktree's `.git` file) and GIT_WORK_TREE the store itself (none for a bare
    one), so a store without `.git` is refused instead of git walking up into whatever
    repository holds the folder. `root=None` is a command outside any repository (init,
    merge-file), run in `cwd`. Hooks are off (`NO_HOOKS`), paths in output are never quoted
    (core.quotePath=false; callers that parse paths also pass -z), and `environment()` applies,
    with `env` on top (an author, a date, the merge driver's variables).
    """
    import subprocess

    users, fixed, cwd, extra = _invocation(root, args, env, cwd)
    stdin = None if input is not None else subprocess.DEVNULL
    p = subprocess.run(["git", *users, *fixed, *args], cwd=cwd, input=input, stdin=stdin, env=environment(extra),
                       capture_output=True)
    if p.returncode != 0 and _DUBIOUS in p.stderr:
        # A store owned by another account: git refuses it unless the user said to trust it.
        trusted = _user_settings(lambda key: key == "safe.directory")
        if trusted:
            p = subprocess.run(["git", *trusted, *users, *fixed, *args], cwd=cwd, input=input, stdin=stdin,
                               env=environment(extra), capture_output=True)
    return p.returncode, p.stdout, p.stderr


def _invocation(root: Path | None, args: tuple, env: dict[str, str] | None, cwd: Path | None):
    """What `call` runs git with: (the user's transport settings, wuye's fixed ones, cwd, env)."""
    extra = dict(env or {})
    if root is not None:
        gd = git_dir(root)
        extra["GIT_DIR"] = str(gd)
        if gd != Path(root):
            extra["GIT_WORK_TREE"] = str(root)
        cwd = root
    users = _user_settings(lambda key: key.startswith(_TRANSPORT_KEYS)) if args and args[0] in _TRANSPORT_COMMANDS else []
    # wuye's own settings come last, so that none of the user's can turn hooks back on.
    fixed = ["-c", f"core.hooksPath={NO_HOOKS}", "-c", "core.quotePath=false"]
    return users, fixed, cwd, extra


class Started:
    """A read-only git command started by `start`, running while the caller does other work;
    `result()` waits for it: what `run(root, *args, check=False)` would have returned."""

    def __init__(self, root: Path, args: tuple, input: bytes | None = None):
        import subprocess
        import tempfile

        self.root, self.args, self.input = root, args, input
        users, fixed, cwd, extra = _invocation(root, args, None, None)
        # Output to unlinked temporary files, not pipes: nobody reads a pipe while the caller
        # works (or forks workers), and a full pipe would stop git. Input likewise.
        self._out, self._err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        stdin = subprocess.DEVNULL
        if input is not None:
            stdin = tempfile.TemporaryFile()
            stdin.write(input)
            stdin.seek(0)
        self._p = subprocess.Popen(["git", *users, *fixed, *args], cwd=cwd, stdin=stdin, stdout=self._out,
                                   stderr=self._err, env=environment(extra))
        if input is not None:
            stdin.close()

    def result(self, raw: bool = False) -> str | bytes | None:
        status = self._p.wait()
        self._out.seek(0)
        self._err.seek(0)
        out, err = self._out.read(), self._err.read()
        self._out.close()
        self._err.close()
        if status != 0 and _DUBIOUS in err:  # the trusted-folder retry is call's: run it the usual way
            return run(self.root, *self.args, input=self.input, check=False, text=not raw)
        if status != 0:
            return None
        return out if raw else _text(out)


def start(root: Path, *args: str, input: bytes | None = None) -> Started:
    """`git <args>` (a command that only reads) started now, its output collected by `.result()`."""
    return Started(root, args, input)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def run(root: Path | None, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
        check: bool = True, text: bool = True, cwd: Path | None = None):
    """`git <args>`'s stdout (str, or bytes with text=False), trailing newlines kept.

    A failure raises GitFailed naming git's words, or with check=False returns None (how
    `merge-base --is-ancestor` and `grep` answer no)."""
    status, out, err = call(root, *args, input=input, env=env, cwd=cwd)
    if status != 0:
        if not check:
            return None
        said = err.decode("utf-8", "replace").strip() or f"exit {status}"
        raise GitFailed(tr("git %s 失败：%s", "git %s failed: %s") % (args[0], said), status, said)
    return _text(out) if text else out


def _identity(author) -> dict[str, str]:
    name = author.name if author is not None else SYSTEM_NAME
    email = author.author_email() if author is not None else SYSTEM_EMAIL
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def init_repository(root: Path) -> None:
    """A new repository on branch main, with the store's local settings."""
    run(None, "init", "-q", "--initial-branch=main", str(root))
    for key, value in LOCAL_CONFIG.items():
        run(root, "config", key, value)


class CommitFailed(WuyeError):
    """git refused to commit; `detail` is what git said (the caller decides what was restored)."""

    def __init__(self, message: str, detail: str):
        super().__init__(message)
        self.detail = detail


def _git_failure(stderr: str) -> str:
    """What git said, with what to do when it is the lock a killed git left behind."""
    said = stderr.strip()
    if "index.lock" in said:
        # A git killed mid-command leaves its lock behind, and every later commit then fails.
        said += tr("\n（如果没有别的 git 正在此档案库中运行，这是被中断的 git 留下的锁：运行 `wuye doctor --fix` 清除）",
                   "\n(if no other git is running in this store, a killed git left this lock behind: `wuye doctor --fix` removes it)")
    return said


def commit(root: Path, paths: list[str], message: str, author=None, when=None) -> str | None:
    """Commit exactly `paths` as they are in the working tree; return the new commit's hash.

    `when` (an aware datetime in the building's time zone) dates the commit, so `git log` shows
    the office's local time whatever the machine's zone.

    Other staged or unstaged work in the tree is left alone: the commit's tree is HEAD's tree
    with only these paths replaced (or removed), and the index changes only at these paths. No
    hook runs. Returns None when these paths already hold what HEAD holds (nothing to commit).

    The commit is built with git's plumbing, so its cost does not grow with the store: the paths'
    blobs (`hash-object`; `fast-import` for thousands, see `_blobs`), the trees on their way to the root (read with `cat-file --batch`, the
    changed ones laid out here and written with `hash-object -t tree`), `commit-tree`, the index updated at these paths
    (`update-index`, which with core.splitIndex rewrites only the small split part), and
    `update-ref HEAD <new> <old>`, which refuses if HEAD moved meanwhile. `git commit -- paths`
    reads all of HEAD into a temporary index instead: 0.3 s and more at 120,000 files. A shape
    the plumbing path does not handle (a path under what HEAD holds as a file, a name git would
    quote) is committed the porcelain way, with the same guarantees.
    """
    env = _environment(author, when)
    old = head(root)
    try:
        plan = _plan(root, paths, old, env)
    except _Porcelain:
        return _commit_porcelain(root, paths, message, env)
    tree, blobs = plan
    if old is not None and tree == _run(root, ["rev-parse", f"{old}^{{tree}}"], env).strip():
        _run(root, ["update-index", "--add", "--remove", "-z", "--stdin"], env, _nul(paths), quiet=True)
        return None
    msg = _message_file(message)
    try:
        new = _run(root, ["commit-tree", "--no-gpg-sign", tree, *(["-p", old] if old else []), "-F", msg], env).strip()
    finally:
        Path(msg).unlink(missing_ok=True)
    # Stage these paths as committed (as `git commit -- paths` leaves them), then move HEAD.
    _run(root, ["update-index", "--add", "--remove", "-z", "--stdin"], env, _nul(paths))
    _fault("git-add")
    try:
        _run(root, ["update-ref", "-m", "commit: " + message.splitlines()[0], "HEAD", new, old or "0" * 40], env)
    except WuyeError:
        _unstage(root, paths, old, env)
        raise
    _fault("git-commit")
    return new


# git packs a repository's loose objects when `git gc --auto` counts more than gc.auto of them
# (6,700 by default). Porcelain commands ask it after their work; the plumbing wuye commits with
# never does, and the store's gc.auto is 0 so that no git command packs in the middle of a sync.
# Unpacked, a 10,000-tenant store grows by 0.4 MB of small files a command.
LOOSE_OBJECTS = 6700


def pack_when_due(root: Path) -> None:
    """Have git pack the store's objects when enough loose ones have piled up.

    The count is estimated as git estimates it, from one of the 256 fan-out folders (one listing
    of a few dozen names); only when it is due does git run, and then `git gc --auto` itself
    checks again and packs in the background (gc.autoDetach), so the command that tips it over
    does not wait for the repack. Only objects two weeks old and unreachable are ever pruned.
    """
    try:
        loose = sum(1 for e in os.scandir(common_dir(root) / "objects" / "17") if len(e.name) == 38)
    except OSError:
        return
    if loose <= (LOOSE_OBJECTS + 255) // 256:
        return
    # A background gc detaches, so its output is of no use here; a failure leaves gc.log (doctor).
    call(root, "-c", f"gc.auto={LOOSE_OBJECTS}", "gc", "--auto", "--quiet")


def pack(root: Path) -> str | None:
    """Pack the store's objects now, in the foreground (`wuye doctor --fix`); None when done,
    else what git said. Unreachable objects younger than two weeks are kept, as git keeps them."""
    status, _, err = call(root, "gc", "--quiet")
    return None if status == 0 else (err.decode("utf-8", "replace").strip() or f"exit {status}")


class _Porcelain(Exception):
    """A change the plumbing path leaves to `git add` + `git commit -- paths`."""


def _environment(author, when) -> dict[str, str]:
    """The variables a commit adds to `environment()`: who, and when."""
    env = _identity(author)
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    return env


def _run(root: Path, args: list[str], env: dict, input: bytes | None = None, quiet: bool = False) -> str:
    """A git command of a commit; its stdout. A failure is a CommitFailed naming git's words."""
    status, out, err = call(root, *args, input=input, env=env)
    if status != 0 and not quiet:
        said = _git_failure(err.decode("utf-8", "replace"))
        raise CommitFailed(tr("git 提交失败，文件已恢复原样：%s", "the git commit failed and the files were restored: %s") % said,
                           said)
    return _text(out)


def read(root: Path, args: list[str], check: bool = True) -> str | None:
    """A git command that only reads (log, merge-base): its stdout without the final newline, or
    None when it fails and `check` is off (merge-base --is-ancestor answers no by failing)."""
    out = run(root, *args, check=check)
    return None if out is None else out.rstrip("\n")


def _nul(paths: list[str]) -> bytes:
    return b"".join(p.encode("utf-8") + b"\0" for p in paths)


def _message_file(message: str) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".msg", delete=False) as f:
        f.write(message)
    return f.name


def _plan(root: Path, paths: list[str], old: str | None, env: dict) -> tuple[str, dict]:
    """(the new root tree, {path: (mode, blob)}) of HEAD's tree with `paths` as in the working tree."""
    import os
    import stat

    files: dict[str, tuple[str, str] | None] = {}
    present = []
    for rel in dict.fromkeys(paths):
        parts = rel.split("/")
        if not rel or any(p in ("", ".", "..", ".git") for p in parts) or any(c in rel for c in '\n\t"\\') or rel.startswith("/"):
            raise _Porcelain
        try:
            st = os.lstat(root / rel)
        except (FileNotFoundError, NotADirectoryError):  # gone, or under what is now a file
            files[rel] = None
            continue
        if stat.S_ISDIR(st.st_mode):
            files[rel] = None  # a file that gave way to a folder of the same name: removed
            continue
        if not stat.S_ISREG(st.st_mode):
            raise _Porcelain
        files[rel] = ("100755" if st.st_mode & stat.S_IXUSR else "100644", "")
        present.append(rel)
    if present:
        blobs = _blobs(root, present, env)
        for rel, blob in zip(present, blobs, strict=True):
            files[rel] = (files[rel][0], blob)
    # Every folder on the way from a path to the root, deepest first.
    dirs: dict[str, dict] = {}
    for rel in files:
        parts = rel.split("/")
        for i in range(len(parts)):
            dirs.setdefault("/".join(parts[:i]), {})
    trees = _read_trees(root, old, list(dirs), env)
    # Each folder's own files and sub-folders, grouped once: scanning every path for every folder
    # is quadratic, minutes for an import of 50,000 files.
    files_in: dict[str, list[str]] = {}
    for rel in files:
        files_in.setdefault(rel.rpartition("/")[0], []).append(rel)
    subdirs_in: dict[str, list[str]] = {}
    for sub in dirs:
        if sub:
            subdirs_in.setdefault(sub.rpartition("/")[0], []).append(sub)
    written: dict[str, str | None] = {}
    batch = []
    for d in sorted(dirs, key=lambda d: (-d.count("/") if d else 1, d)):
        if trees.get(d) == "file":
            if d not in files or files[d] is not None:
                raise _Porcelain  # HEAD holds a file where a path needs a folder, and keeps it
            trees[d] = None  # the file is removed in this very commit: the folder is new
        prefix = d + "/" if d else ""
        head_tree = trees.get(d)
        if head_tree is not None:
            # Most commits change entries a folder already has (a tenant's file, the tenant's
            # folder in tenants/): those are replaced in git's own bytes, without parsing and
            # re-sorting a folder of 10,000 tenants (30 ms of every write on a large store).
            changes = {rel[len(prefix):]: (False, files[rel]) for rel in files_in.get(d, ())}
            subs = {sub[len(prefix):]: (True, None if written[sub] is None else ("40000", written[sub]))
                    for sub in subdirs_in.get(d, ())}
            spliced = _splice(head_tree[1], {**changes, **subs}) if not changes.keys() & subs.keys() else None
            if spliced is not None:
                tree_id = _tree_id(spliced)
                written[d] = tree_id
                if tree_id != head_tree[0]:
                    batch.append((tree_id, spliced))
                continue
        entries = _entries_of(head_tree)
        before = entries.pop("", (None, None))[1]
        for rel in files_in.get(d, ()):
            spec = files[rel]
            name = rel[len(prefix):]
            if name in entries and entries[name][0] == "40000":
                raise _Porcelain  # a file where HEAD has a folder
            if spec is None:
                entries.pop(name, None)
            else:
                entries[name] = spec
        for sub in subdirs_in.get(d, ()):
            tree = written[sub]  # deeper folders are done first
            name = sub[len(prefix):]
            if name in entries and entries[name][0] != "40000":
                raise _Porcelain  # a folder where HEAD has a file
            if tree is None:
                entries.pop(name, None)
            else:
                entries[name] = ("40000", tree)
        if not entries and d:
            written[d] = None  # git keeps no empty folders
            continue
        tree_id, body = _tree(entries)
        written[d] = tree_id
        if tree_id != before:
            batch.append((tree_id, body))
    if batch:
        _write_trees(root, batch, env)
    return written[""] or _EMPTY_TREE, files


PACK_MIN = 1000  # new files in one commit before their blobs are written as one pack


def blob_id(raw: bytes) -> str:
    """git's name for these bytes as a file (`git hash-object`)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()


def _blobs(root: Path, present: list[str], env: dict) -> list[str]:
    """The blob ids of these working-tree files, as `git hash-object` names them, each now in
    the object store.

    A few are written as loose objects, one file each. An import writes tens of thousands:
    117,000 loose blobs took 35 s here, nearly all of it the kernel's, and then a repack;
    `git fast-import` writes them as one pack in 5 s (without deltas, `--depth=0`: YAML
    compresses so well that deltas saved 2% and cost 4 s). Meanwhile git names every file
    (`hash-object` without -w: attributes and filters applied, nothing written). A file whose
    bytes are not the blob git names (a filter in .gitattributes, or changed meanwhile) is then
    written by `hash-object -w`, so the commit holds git's own blobs either way; what fast-import
    wrote of it is an unreachable object that gc prunes.
    """
    listing = "".join(p + "\n" for p in present).encode()
    if len(present) < PACK_MIN:
        return _run(root, ["hash-object", "-w", "--stdin-paths"], env, listing).split()
    import subprocess

    from wuye.storage.reading import read_bytes

    naming = start(root, "hash-object", "--stdin-paths", input=listing)
    raw_ids: list[str | None] = []
    users, fixed, cwd, extra = _invocation(root, ("fast-import",), env, None)
    # No output is read: a pipe nobody reads could fill and stop git. A failure is told by
    # `hash-object -w`, which then writes every blob the usual way.
    importer = subprocess.Popen(["git", *users, *fixed, "fast-import", "--quiet", "--depth=0"], cwd=cwd,
                                env=environment(extra), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        for rel in present:
            try:
                raw = read_bytes(root, rel)
            except OSError:
                raw_ids.append(None)
                continue
            raw_ids.append(blob_id(raw))
            importer.stdin.write(b"blob\ndata %d\n%s\n" % (len(raw), raw))
        importer.stdin.close()
    except BrokenPipeError:
        pass
    imported = importer.wait() == 0
    named = naming.result()
    ids = named.split() if named is not None else []
    if len(ids) != len(present):
        raise _Porcelain  # git could not name them all: the porcelain way says why
    loose = [rel for rel, oid, raw in zip(present, ids, raw_ids) if not imported or oid != raw]
    if loose:
        wanted = set(loose)
        written = _run(root, ["hash-object", "-w", "--stdin-paths"], env, "".join(p + "\n" for p in loose).encode()).split()
        if written != [oid for rel, oid in zip(present, ids) if rel in wanted]:
            raise _Porcelain  # a file changed while it was committed: the porcelain way takes it as it is now
    return ids


def _write_trees(root: Path, batch: list[tuple[str, bytes]], env: dict) -> None:
    """Store tree objects with `git hash-object -t tree -w` (which checks their format); `mktree`
    would do it from text, but takes 60 ms to parse and sort a folder of 10,000 tenants.

    Thousands of new folders at once (an import) go to `mktree --batch` as text, deepest first:
    a temp file each was 2.3 s of 10,000 folders here, 60 ms once is nothing. Either way the ids
    git makes are checked against those laid out here."""
    import shutil
    import tempfile

    if len(batch) >= PACK_MIN:
        text = []
        for tree_id, body in batch:
            entries = _entries_of((tree_id, body))
            del entries[""]
            for name, (mode, sha) in entries.items():
                kind = {"40000": "tree", "160000": "commit"}.get(mode, "blob")
                text.append(f"{mode} {kind} {sha}\t{name}\0")
            text.append("\0")  # an empty record ends a tree
        status, out, _ = call(root, "mktree", "-z", "--batch", input="".join(text).encode("utf-8", "surrogateescape"), env=env)
        if status == 0:
            if _text(out).split() != [t for t, _ in batch]:
                raise _Porcelain
            return
        # mktree refused (an entry it will not take): each tree by hash-object says why
    tmp = Path(tempfile.mkdtemp(prefix="trees-", dir=git_dir(root)))
    try:
        names = []
        for i, (_, body) in enumerate(batch):
            (tmp / str(i)).write_bytes(body)
            names.append(str(tmp / str(i)))
        made = _run(root, ["hash-object", "-t", "tree", "-w", "--stdin-paths"], env, "".join(n + "\n" for n in names).encode()).split()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if made != [t for t, _ in batch]:  # git read the trees otherwise than they were laid out
        raise _Porcelain


_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def _read_trees(root: Path, old: str | None, dirs: list[str], env: dict) -> dict[str, tuple[str, bytes] | str | None]:
    """Each folder in HEAD as git stores it: (its tree id, its raw body); "file" where HEAD has a
    file there, None where it has nothing."""
    if old is None:
        return {}
    status, out, _ = call(root, "cat-file", "--batch", env=env, input="".join(f"{old}:{d}\n" for d in dirs).encode("utf-8"))
    if status != 0:
        raise _Porcelain
    pos, trees = 0, {}
    for d in dirs:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split()
        pos = eol + 1
        if header[-1] == b"missing":
            trees[d] = None
            continue
        sha, kind, size = header[0].decode(), header[1], int(header[2])
        body = out[pos:pos + size]
        pos += size + 1
        trees[d] = (sha, body) if kind == b"tree" else "file"  # "file": HEAD holds a file where a path needs a folder
    return trees


def _entries_of(tree: tuple[str, bytes] | None) -> dict:
    """A tree's entries, {name: (mode, sha)}, with "" naming the tree's own id (None: no entries)."""
    if tree is None:
        return {}
    sha, body = tree
    entries = {"": ("40000", sha)}
    i = 0
    while i < len(body):
        sp = body.index(b" ", i)
        nul = body.index(b"\0", sp)
        mode = body[i:sp].decode()
        name = body[sp + 1:nul].decode("utf-8", "surrogateescape")
        entries[name] = (mode, body[nul + 1:nul + 21].hex())
        i = nul + 21
    return entries


def _splice(body: bytes, changes: dict[str, tuple[bool, tuple[str, str] | None]]) -> bytes | None:
    """`body` (a tree as git stores it) with each named entry's mode and id replaced, or the entry
    removed; `changes` is {name: (whether it is a folder, (mode, id) or None to remove)}. None when
    a change is anything else (a name HEAD's tree lacks, a file where it has a folder or the
    reverse, a folder left empty): the caller then lays the tree out whole, as before.

    The entries (`<mode> <name>NUL<20-byte id>`) are walked from the first with two byte searches
    each, taking nothing apart but the names compared (3 ms for 10,000 entries, where building
    them all as text took 30), until every changed name is found: a name is only ever read where
    an entry begins, whatever bytes the names and ids hold."""
    wanted = {name.encode("utf-8", "surrogateescape"): name for name in changes}
    spans: dict[str, tuple[int, bytes, int]] = {}
    find, i, n = body.find, 0, len(body)
    while i < n and len(spans) < len(wanted):
        nul = find(b"\0", i)
        sp = find(b" ", i, nul)
        if nul < 0 or sp < 0 or nul + 21 > n:
            return None  # not a tree as git writes one: the general path says so
        name = wanted.get(body[sp + 1:nul])
        if name is not None:
            spans[name] = (i, body[i:sp], nul + 21)
        i = nul + 21
    if len(spans) < len(wanted):
        return None
    out, at = [], 0
    for name, (start, mode, stop) in sorted(spans.items(), key=lambda kv: kv[1][0]):
        folder, spec = changes[name]
        if (mode == b"40000") != folder:
            return None  # a file where HEAD has a folder, or the reverse
        out.append(body[at:start])
        if spec is not None:
            out.append(b"%s %s\0%s" % (spec[0].encode(), name.encode("utf-8", "surrogateescape"), bytes.fromhex(spec[1])))
        at = stop
    out.append(body[at:])
    return b"".join(out) or None


def _tree_id(body: bytes) -> str:
    import hashlib

    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def _tree(entries: dict) -> tuple[str, bytes]:
    """git's id and bytes of a tree with these entries, in git's order (a folder sorts as if its
    name ended in "/", as git's base_name_compare does)."""
    import hashlib

    items = sorted(((name + "/" if mode == "40000" else name).encode("utf-8", "surrogateescape"), name, mode, sha)
                   for name, (mode, sha) in entries.items())
    body = b"".join(f"{mode} {name}".encode("utf-8", "surrogateescape") + b"\0" + bytes.fromhex(sha)
                    for _, name, mode, sha in items)
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest(), body


def _unstage(root: Path, paths: list[str], old: str | None, env: dict) -> None:
    """Put the index back as HEAD has these paths (after a failed commit)."""
    if old is not None:
        _run(root, ["reset", "-q", old, "--pathspec-from-file=-", "--pathspec-file-nul"], env, _nul(paths), quiet=True)
    else:
        _run(root, ["rm", "-q", "--cached", "-r", "--ignore-unmatch", "--pathspec-from-file=-", "--pathspec-file-nul"],
             env, _nul(paths), quiet=True)


def _commit_porcelain(root: Path, paths: list[str], message: str, env: dict) -> str | None:
    """`git add` + `git commit -- paths`: the general way, for shapes the plumbing path leaves."""
    listing = _nul(paths)
    msg = _message_file(message)
    old = head(root)
    try:
        _run(root, ["add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul"], env, listing)
        _fault("git-add")
        _run(root, ["commit", "-q", "--no-verify", "--no-gpg-sign", "-F", msg, "--pathspec-from-file=-",
                    "--pathspec-file-nul"], env, listing)
        _fault("git-commit")
        return head(root)
    except WuyeError:
        _unstage(root, paths, old, env)
        raise
    finally:
        Path(msg).unlink(missing_ok=True)


def head(root: Path) -> str | None:
    """HEAD's commit hash, or None before the first commit. Reads the git directory by hand (no
    process): HEAD is the checkout's own, the branch it names lives in the shared common dir."""
    try:
        gitdir = git_dir(root)
        ref = (gitdir / "HEAD").read_text().strip()
    except (FileNotFoundError, NotARepository):
        return None
    if not ref.startswith("ref: "):
        return ref
    name = ref[5:]
    shared = common_dir(root)
    p = shared / name
    if p.is_file():
        return p.read_text().strip()
    packed = shared / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + name):
                return line.split()[0]
    return None


_FIELDS = ("%H", "%an", "%ae", "%aI", "%s", "%(trailers:only,unfold)")
_SEP = "\x1f"
_END = "\x1e"


def log(root: Path, paths: list[str] | None = None, limit: int | None = None, grep: str | None = None) -> list[dict]:
    """History newest first: hash, author, email, date, summary and the Wuye-* trailers."""
    args = ["--no-color", f"--format={_SEP.join(_FIELDS)}{_END}"]
    if limit:
        args.append(f"-n{limit}")
    if grep:
        args += [f"--grep={grep}", "-F"]
    if head(root) is None:
        return []
    out = run(root, "log", *args, "--", *(paths or []))
    entries = []
    for chunk in out.split(_END):
        chunk = chunk.strip("\n")
        if not chunk:
            continue
        h, name, email, date, summary, trailers = chunk.split(_SEP)
        parsed: dict[str, str] = {}
        for line in trailers.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.startswith("Wuye-"):
                parsed[key] = value.strip()
        entries.append(
            {"commit": h, "author": name, "email": email, "date": date, "summary": summary, "trailers": parsed}
        )
    return entries


def is_clean(root: Path) -> bool:
    return run(root, "status", "--porcelain", "-z") == ""


def blobs(root: Path, names: list[str]) -> dict[str, bytes | None]:
    """{name: the blob's bytes, or None where there is none} for object names such as
    `<commit>:<path>` or a blob id, all read by one `git cat-file --batch` (a file of a past
    commit, without a process per file). A tree or other object where a blob was asked is None."""
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    raw = run(root, "cat-file", "--batch", input="".join(f"{n}\n" for n in names).encode(), text=False)
    out: dict[str, bytes | None] = {}
    pos = 0
    for name in names:
        nl = raw.index(b"\n", pos)
        header = raw[pos:nl].split()
        pos = nl + 1
        out[name] = None
        if len(header) == 3 and header[2].isdigit():  # "<oid> <type> <size>", then the body
            size = int(header[2])
            if header[1] == b"blob":
                out[name] = raw[pos:pos + size]
            pos += size + 1
        # else "<name> missing" (or ambiguous): no body follows
    return out
