"""Derived data for whole-store work, kept under `.git/wuye/`: never committed, never pushed,
rebuilt when missing, stale or damaged, and never trusted over the files.

Two caches, each a few tables of the records index's SQLite database (`.git/wuye/index.sqlite`,
declared here, read and written by storage/verdicts.py; storage/index.py creates them with its
own and follows one set of rules for all: WAL, a
writer waits for another, a damaged database is deleted and built again by a process that finds
it alone, a locked or read-only one is skipped and everything checked). Each row is written or
deleted by itself, so a run writes only what changed. The database records the *code
fingerprint* (the size and mtime of every module of wuye and of the libraries whose checks it
runs, and the Python version): another version of the code empties the tables, so a new check
never meets an old answer. Only clean results are kept: a result that found a problem is
computed again next time (some checks depend on the date: "in the future" clears as days pass,
while a record accepted once is never refused later), so no verdict holds a message, and none
depends on the language.

The verdicts (`verdict_files`, `verdict_cases`, `verdict_checks`) -- what `wuye verify` and
  `wuye archive check` found clean, by git blob id. A unit or archive file keeps its verdict while
  its blob id is the one it was checked as (and, for verify, the blob ids of the attachments it
  names; one reached through a symlink is always checked again). Blob ids come from `git ls-files
  -s` (the index) for tracked files that `git diff-files` reports unmodified; any other file
  (modified, untracked, in conflict, a symlink, one git was told not to watch with
  assume-unchanged or skip-worktree) is read, and its blob id computed from the very bytes that
  are then checked. `git diff-files` compares size, mtime, ctime and inode with the index and
  re-reads a file written in the same second as the index ("racily clean"): the test `git
  status` and `git commit -a` rely on, asked with git's default stat rules whatever the
  repository's config says (core.checkStat=minimal would drop ctime and inode). ctime cannot be
  set back by `touch`, so restoring a file's mtime does not hide an edit; a `git checkout` of an
  older commit changes the blob ids the index names. A move-out case keeps its verdict while the
  blob ids of its case.yaml and of every name in steps/, the workflow and every staff file are
  unchanged; the settings, workflow and staff checks while their files are. And `verdict_tree`,
  one row: the digest of the whole store as a clean verify run found it, with the run's counts
  (verify/unchanged.py says what the digest covers), so that a run over an unchanged store reads
  no verdict at all. The caching layer around the checks is
  verify/context.py. The history check resumes from the last commit it found clean, if that
  commit is still an ancestor of HEAD. The folders are listed on every run, so new and removed
  files are always seen. Two runs at once: each row is a pure function of the bytes it names, so
  whichever writes a row last, every row stays true.

`boards` -- what `wuye moveout status` shows for a case, keyed by a hash of the content of
  every file the board is computed from (the case's files, the workflow, wuye.yaml, all staff,
  and the tenant's move_in, payments and violations), each read and hashed on every call: a
  cached board is used only when none of those bytes changed, in the language it was shown in,
  and only a board without problems is kept (the last BOARDS_KEPT of them). Beside it, the hash
  of the files its signature checks read (all but the tenant's records): when only the records
  changed, the signatures are known sound on these bytes and only the standards are computed
  again.

Beside them in the same database, the records index (storage/index.py) keeps by blob id what
whole-store work reads of each file: the validated entries of the list categories (reports,
listings of complaints and repairs, the export) and each tenant's name, pinyin initials, units,
status and lease end (the counter's search, `archive list`, notices to all, todo, lease reminders).

The caches are local state, as trusted as `.git/` itself (like the last verified HEAD kept beside
them): whoever can write `.git/` can also replace its hooks, or wuye. `WUYE_NO_CACHE=1` makes every
command read everything, and neither use nor write a cache. Deleting `.git/wuye/index.sqlite`
(with its -wal and -shm) while no wuye runs is always safe.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from wuye.storage import layout
from wuye.storage.git import blob_id

CACHE_VERSION = 2  # 2: problems carry their code (six fields, not five)
DIR = ("wuye", "cache")
RACY_NS = 2_000_000_000  # timestamps this close to the index's own time are not trusted
PARALLEL_MIN = 2000  # files to check before it pays to fork workers
BOARDS_KEPT = 300  # move-out boards remembered

# Libraries whose behaviour decides a check's outcome: a new version may judge a file differently.
_LIBRARIES = ("pydantic", "pydantic_core", "cryptography", "rfc8785", "phonenumbers", "stdnum", "_ruamel_yaml")


def enabled() -> bool:
    return os.environ.get("WUYE_NO_CACHE", "") in ("", "0")


def cache_dir(root: Path) -> Path:
    """In the checkout's own git directory (a worktree's, not the shared one): what is cached is
    derived from this checkout's files and index (git.git_dir says why)."""
    from wuye.storage.git import git_dir

    return Path(git_dir(Path(root)), *DIR)


def _dir(root: Path) -> Path | None:
    """cache_dir, or None outside a repository (a folder without .git keeps no cache)."""
    from wuye.storage.git import NotARepository

    try:
        return cache_dir(root)
    except NotARepository:
        return None


def lang() -> str:
    from wuye.i18n import tr

    return tr("zh", "en")


_FINGERPRINT: str | None = None


def fingerprint() -> str:
    """The code that computed a cached answer: wuye's modules and the libraries they check with."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import importlib.util

        h = hashlib.sha1(f"{CACHE_VERSION} {sys.version}".encode())
        package = Path(__file__).parents[1]  # wuye/, every subpackage of which may compute an answer
        for d in sorted([package, *(p for p in package.iterdir() if (p / "__init__.py").is_file())]):
            for e in sorted(os.scandir(d), key=lambda e: e.name):
                if e.name.endswith(".py"):
                    st = e.stat()
                    h.update(f"{d.name}/{e.name} {st.st_size} {st.st_mtime_ns}\n".encode())
        for name in _LIBRARIES:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
            if origin and os.path.exists(origin):
                st = os.stat(origin)
                h.update(f"{name} {origin} {st.st_size} {st.st_mtime_ns}\n".encode())
        _FINGERPRINT = h.hexdigest()
    return _FINGERPRINT


# --- the verdicts' and boards' tables, in the records index's database ------------------------------

# Created by storage/index.py with its own tables, and emptied with them when the code changes (the
# fingerprint above is its code key): one database, one set of rules for opening, locking and
# rebuilding it. Only clean verdicts are kept, so no row holds a message (nor depends on the
# language); a board is kept with the language it was shown in.
TABLES = """
CREATE TABLE IF NOT EXISTS verdict_files (
    rel TEXT PRIMARY KEY, blob TEXT NOT NULL, deps TEXT, attachments_ok INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS verdict_cases (cdir TEXT PRIMARY KEY, key TEXT NOT NULL, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS verdict_checks (name TEXT PRIMARY KEY, key TEXT NOT NULL, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS verdict_tree (digest TEXT PRIMARY KEY, counts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS boards (
    case_id TEXT PRIMARY KEY, key TEXT NOT NULL, signed TEXT NOT NULL, lang TEXT NOT NULL, board TEXT NOT NULL,
    used INTEGER NOT NULL);
"""
TABLE_NAMES = ("verdict_files", "verdict_cases", "verdict_checks", "verdict_tree", "boards")  # read and written by storage/verdicts.py


# --- stat relative to an open folder -------------------------------------------------------


def _stat_in(base: str):
    """(an open folder or None, a stat function for paths relative to `base`): relative to an open
    folder where the system allows it (Linux, macOS), which spares the kernel walking the whole
    path 10,000 times; the plain path elsewhere (Windows)."""
    if os.stat in os.supports_dir_fd:
        fd = os.open(base, os.O_RDONLY)
        return fd, lambda rel: os.stat(rel, dir_fd=fd)
    if not os.path.isdir(base):
        raise NotADirectoryError(base)
    return None, lambda rel: os.stat(f"{base}/{rel}")


# --- git's view of the working tree -------------------------------------------------------------


class Snapshot:
    """Blob ids of the tracked files whose working-tree copy git finds unmodified.

    A file not named here is read and hashed by whoever needs its blob id.
    """

    def __init__(self, root: Path, blobs: dict[str, str] | None = None):
        self.root = Path(root)
        self.blobs = blobs if blobs is not None else {}

    @classmethod
    def take(cls, root: Path) -> "Snapshot":
        return cls.begin(root)()

    @classmethod
    def begin(cls, root: Path) -> "PendingSnapshot":
        """Start git's two listings now; calling the result waits for them and gives the
        snapshot (the caller reads the verdicts meanwhile: both listings and that read are a
        few tenths of a second each at 10,000 tenants)."""
        return PendingSnapshot(Path(root))

    def blob(self, rel: str) -> str | None:
        """The blob id of a file as it is now, hashing it if git cannot vouch for it; None if absent."""
        b = self.blobs.get(rel)
        if b is not None:
            return b
        from wuye.storage.reading import read_bytes

        try:  # never through a link (reading.py): a linked file has no blob id, as if absent
            return blob_id(read_bytes(self.root, rel))
        except IsADirectoryError:
            return "dir"
        except OSError:
            return None


class PendingSnapshot:
    """git's listings of a Snapshot, running: `raw()` gives their output as git wrote it (what
    verify/unchanged.py digests), calling it gives the Snapshot."""

    # What diff-files trusts is the stat data of git's own default, whatever a user's settings
    # say: core.checkStat=minimal would compare only sizes and whole seconds, and a file
    # monitor's word would stand for the stat itself.
    TRUSTED_STAT = ("-c", "core.checkStat=default", "-c", "core.trustCtime=true", "-c", "core.fsmonitor=false")

    def __init__(self, root: Path):
        from wuye.storage.git import NotARepository, start

        self.root = root
        self._listing = self._dirty = self._raw = None
        if not enabled():
            return
        try:
            # -v tags each entry: "H" a file git watches; lowercase (assume-unchanged) and "S"
            # (skip-worktree) are entries whose working-tree copy git was told not to look at.
            self._listing = start(root, "ls-files", "-s", "-v", "-z")
            self._dirty = start(root, *self.TRUSTED_STAT, "diff-files", "--name-only", "-z")
        except NotARepository:
            self._listing = self._dirty = None

    def raw(self) -> tuple[bytes, bytes] | None:
        """(the index listing, the changed paths), NUL-separated as git wrote them; None without git."""
        if self._raw is None and self._listing is not None:
            got, changed = self._listing.result(raw=True), self._dirty.result(raw=True)
            self._listing = self._dirty = None
            self._raw = (got, changed) if got is not None and changed is not None else False
        return self._raw or None

    def __call__(self) -> Snapshot:
        import re

        raw = self.raw()
        if raw is None:
            return Snapshot(self.root)
        got, changed = raw
        changed = set(changed.split(b"\0"))
        # Regular files only, merged (stage 0), watched ("H"): a symlink's blob is its target's
        # name, not its content. finditer, not findall: 130,000 matches are not held as a list
        # on top of the dict.
        blobs = {m[2].decode("utf-8", "surrogateescape"): m[1].decode()
                 for m in re.finditer(rb"H 100(?:644|755) ([0-9a-f]{40}) 0\t([^\0]*)\0", got)
                 if m[2] not in changed}
        return Snapshot(self.root, blobs)


# --- results by blob, for verify and archive check ------------------------------------------------


def problems_to_json(problems) -> list:
    return [[p.path, p.message, p.line, p.col, p.level, p.code] for p in problems]


def problems_from_json(data) -> list:
    if not data:
        return []
    from wuye.errors import Problem

    return [Problem(path, message, line, col, level, code=code) for path, message, line, col, level, code in data]


def jobs() -> int:
    """Worker processes for a large batch: WUYE_JOBS, else the CPUs this process may use."""
    given = os.environ.get("WUYE_JOBS")
    if given and given.isdigit():
        return max(1, int(given))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_batches(fn: Callable[[str, list], list], root: Path, tasks: list, many: int = PARALLEL_MIN) -> list:
    """`fn(root, tasks)` over all tasks, split across worker processes when there are `many` or
    more (PARALLEL_MIN files; fewer for costlier tasks).

    Workers are forked (Linux), so they share what the parent has imported; results come back in
    the order of `tasks`.
    """
    out: list = []
    for part in iter_batches(fn, root, tasks, many):
        out += part
    return out


def iter_batches(fn: Callable[[str, list], list], root: Path, tasks: list, many: int | None = None):
    """run_batches's results a batch at a time, in order: a caller that keeps only a little of
    each result need not hold them all at once (verify at 10,000 tenants: 120,000 of them)."""
    n = jobs()
    if n < 2 or len(tasks) < (PARALLEL_MIN if many is None else many) or sys.platform != "linux":
        if tasks:
            yield fn(str(root), tasks)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, min(200, len(tasks) // n), len(tasks) // (n * 8))
    chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(fn, [str(root)] * len(chunks), chunks)


def iter_stream(fn: Callable[[list], Any], items: Iterable, size: int) -> Iterator:
    """`fn(batch)` for each batch of `size` items taken from a stream, in forked worker processes
    (one per job), the results in order; with one job, here in this process.

    Unlike iter_batches, the items are read only as workers get to them: at most two batches per
    worker are in flight, so a stream read as it goes (an import's dossiers, one at a time from
    a 300 MB file) is never held whole. `fn` is a module-level function; what else it needs it
    finds where the parent left it before calling this (the workers are forked).
    """
    n = jobs()
    it = iter(items)
    batches = iter(lambda: list(itertools.islice(it, size)), [])
    if n < 2 or sys.platform != "linux":
        for batch in batches:
            yield fn(batch)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork"))
    try:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.submit(fn, batch))
            if len(pending) >= 2 * n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- the move-out board ----------------------------------------------------------------------------


def _content_key(root: Path, rels: list[str], extra: str) -> str:
    """A hash of the bytes of every file in `rels` (absent ones too) and of `extra`."""
    from wuye.storage.reading import read_bytes

    h = hashlib.sha1(extra.encode())
    for rel in rels:
        try:
            h.update(f"\n{rel} {blob_id(read_bytes(root, rel))}".encode())
        except IsADirectoryError:
            h.update(f"\n{rel} dir".encode())
        except OSError:
            h.update(f"\n{rel} -".encode())
    return h.hexdigest()


def _listing(d: Path) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(d))
    except OSError:
        return []


def tenant_attachments(cdir: str) -> str:
    """tenants/<id>/moveout/<case> -> tenants/<id>/attachments/moveout/<case>, where the files
    signed with the case's steps live (moveout/evidence.py)."""
    base, _, case_id = cdir.rpartition("/moveout/")
    return f"{base}/attachments/moveout/{case_id}"


def _stat_listing(d: Path) -> str:
    try:
        items = sorted(os.scandir(d), key=lambda x: x.name)
    except OSError:
        return "-"
    out = []
    for x in items:
        try:
            st = x.stat(follow_symlinks=False)
        except OSError:
            continue
        out.append(f"{x.name}:{st.st_size}:{st.st_mtime_ns}:{st.st_mode}")
    return " ".join(out)


def board_keys(store, tenant_id: str, cdir: str) -> tuple[str, str]:
    """Hashes of the content of what a case's board is computed from: (signed, whole).

    `signed` covers what the signature checks read (the case and its entries, the workflow,
    wuye.yaml, every staff file); `whole` adds the tenant's move_in, payments and violations,
    which only the standards read.
    """
    root = store.root
    rels = [f"{cdir}/case.yaml", layout.WORKFLOW, layout.CONFIG]
    steps = _listing(root / cdir / "steps")
    rels += [f"{cdir}/steps/{n}" for n in steps]
    rels += [f"staff/{n}" for n in _listing(root / "staff")]
    # The files signed with the steps (moveout/evidence.py) by name, size and change time: a
    # photo of several MiB is not read at every look-up, and a replaced one still changes this.
    signed = _content_key(root, rels, f"{cdir}\n{' '.join(steps)}\n{_stat_listing(root / tenant_attachments(cdir))}")
    records = [f"tenants/{tenant_id}/{k}.yaml" for k in ("move_in", "payments", "violations")]
    return signed, _content_key(root, records, signed)


def case_paths(root: Path, case_id: str) -> list[Path]:
    """`sorted(root.glob(f"tenants/*/moveout/{case_id}/case.yaml"))`, from one listing of tenants/
    and one existence check per tenant: pathlib's glob takes 0.15 s over 10,000 tenant folders."""
    base = Path(root, "tenants")
    try:
        tids = sorted(e.name for e in os.scandir(base) if not e.name.startswith(".") and e.is_dir(follow_symlinks=False))
        fd, stat = _stat_in(str(base))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    tail = f"/moveout/{case_id}/case.yaml"
    try:
        for tid in tids:
            try:
                stat(tid + tail)  # follows symlinks, as glob's exists() does
            except OSError:
                continue
            found.append(tid)
    finally:
        if fd is not None:
            os.close(fd)
    return [base / tid / "moveout" / case_id / "case.yaml" for tid in found]
