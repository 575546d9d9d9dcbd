"""Derived data for whole-store work, kept under `.git/wuye/`: never committed, never pushed,
rebuilt when missing, stale or damaged, and never trusted over the files.

Two caches, each a few tables of the records index's SQLite database (`.git/wuye/index.sqlite`,
storage/index.py, which creates them with its own and follows one set of rules for all: WAL, a
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
  (modified, untracked, in conflict, a symlink) is read, and its blob id computed from the very
  bytes that are then checked. `git diff-files` compares size, mtime, ctime and inode with the
  index and re-reads a file written in the same second as the index ("racily clean"): the test
  `git status` and `git commit -a` rely on. ctime cannot be set back by `touch`, so restoring a
  file's mtime does not hide an edit; a `git checkout` of an older commit changes the blob ids
  the index names. A move-out case keeps its verdict while the blob ids of its case.yaml and of
  every name in steps/, the workflow and every staff file are unchanged; the settings, workflow
  and staff checks while their files are. The caching layer around the checks is
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
import json
import os
import sys
from pathlib import Path
from typing import Callable

from wuye.storage import layout

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


def blob_id(raw: bytes) -> str:
    """git's name for these bytes as a file (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()


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
CREATE TABLE IF NOT EXISTS boards (
    case_id TEXT PRIMARY KEY, key TEXT NOT NULL, signed TEXT NOT NULL, lang TEXT NOT NULL, board TEXT NOT NULL,
    used INTEGER NOT NULL);
"""
TABLE_NAMES = ("verdict_files", "verdict_cases", "verdict_checks", "boards")
HISTORY = "#history"  # verdict_checks' row of the last commit the history check found clean


def _connect(root: Path):
    """The records index's open database (index.connect: rebuilt when damaged or of other code),
    or None: WUYE_NO_CACHE, no repository, locked, read-only."""
    from wuye.storage import index

    return index.connect(Path(root))


def _damaged(root: Path, con, e: Exception) -> None:
    """A query failed on an open database: closed, and deleted if it is damaged (not merely
    locked or read-only), to be built again by the next command that finds it alone."""
    import sqlite3

    from wuye.storage import index

    con.close()
    if not isinstance(e, sqlite3.OperationalError):
        index._remove(index.path(Path(root)))


def _write(root: Path, statements: list[tuple[str, list]]) -> None:
    """Run (sql, rows) pairs in one transaction; a locked or read-only database keeps what it had."""
    import sqlite3

    if not any(rows for _, rows in statements):
        return
    con = _connect(root)
    if con is None:
        return
    try:
        con.execute("BEGIN IMMEDIATE")
        for sql, rows in statements:
            if rows:
                con.executemany(sql, rows)
        con.execute("COMMIT")
    except sqlite3.DatabaseError as e:
        _damaged(root, con, e)
        return
    con.close()


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


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
    def begin(cls, root: Path) -> Callable[[], "Snapshot"]:
        """Start git's two listings now; the returned function waits for them and gives the
        snapshot (the caller reads the verdicts meanwhile: both listings and that read are a
        few tenths of a second each at 10,000 tenants)."""
        import re

        from wuye.storage.git import NotARepository, start

        root = Path(root)
        if not enabled():
            return lambda: cls(root)
        try:
            listing = start(root, "ls-files", "-s", "-z")
            dirty = start(root, "diff-files", "--name-only", "-z")
        except NotARepository:
            return lambda: cls(root)

        def finish() -> "Snapshot":
            got, changed = listing.result(raw=True), dirty.result(raw=True)
            if got is None or changed is None:
                return cls(root)
            changed = set(changed.split(b"\0"))
            # Regular files only, merged (stage 0): a symlink's blob is its target's name, not its content.
            # finditer, not findall: 130,000 matches are not held as a list on top of the dict.
            blobs = {m[2].decode("utf-8", "surrogateescape"): m[1].decode()
                     for m in re.finditer(rb"100(?:644|755) ([0-9a-f]{40}) 0\t([^\0]*)\0", got)
                     if m[2] not in changed}
            return cls(root, blobs)
        return finish

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


# --- results by blob, for verify and archive check ------------------------------------------------


class Results:
    """The clean verdicts of the checks, by the blob ids they were computed from.

    Read whole when a run starts (one query per table), written at its end as the rows that
    changed: a verdict new or different, one no longer clean, and (for a run that visited them
    all) those of files and cases that are gone. A warm run over an unchanged store writes
    nothing; a run after a one-file change writes one row.

    `files`: {rel: (blob id, the attachments' [[path, blob id], ...] as JSON or None, whether the
    attachments were sound)}, for files whose own check found nothing; the blob id alone for a
    file that names no attachment (most of them). `cases`: {case folder (or
    "<folder>#statements"): (key, signed entries)}. `settings`: {check name: [key, [], count]},
    the settings, workflow, staff and layout checks, which layout_check.py reads and sets as a
    dict. `history`: the last commit the history check found clean.
    """

    def __init__(self, root: Path):
        import sqlite3

        self.root = Path(root)
        self.files: dict[str, tuple] = {}
        self.cases: dict[str, tuple] = {}
        self.settings: dict[str, list] = {}
        self.history: str | None = None
        con = _connect(self.root)
        if con is not None:
            try:
                # Most rows as their blob id alone (no attachments): as put_file records them.
                self.files = {rel: blob if deps is None and ok == 1 else (blob, deps, ok)
                              for rel, blob, deps, ok in con.execute("SELECT rel, blob, deps, attachments_ok FROM verdict_files")}
                self.cases = {r[0]: r[1:] for r in con.execute("SELECT cdir, key, count FROM verdict_cases")}
                for name, key, count in con.execute("SELECT name, key, count FROM verdict_checks"):
                    if name == HISTORY:
                        self.history = key
                    else:
                        self.settings[name] = [key, [], count]
                con.close()
            except sqlite3.DatabaseError as e:
                self.files, self.cases, self.settings, self.history = {}, {}, {}, None
                _damaged(self.root, con, e)
        self._settings = {k: list(v) for k, v in self.settings.items()}
        self._history = self.history
        self.seen_files: set[str] = set()
        self.seen_cases: set[str] = set()
        self.new_files: dict[str, tuple | str | None] = {}  # None: not clean, so no row
        self.new_cases: dict[str, tuple | None] = {}
        self.changed = False  # set by callers that change `settings` or `history`; save() compares anyway

    def put_file(self, rel: str, entry: list) -> None:
        """Record a file's result: [blob id, problems, *(attachment deps, attachment problems)]."""
        blob, problems = entry[0], entry[1]
        deps = entry[2] if len(entry) > 2 else []
        attachments = entry[3] if len(entry) > 3 else []
        if blob is None or problems:
            self.new_files[rel] = None
        elif deps or attachments:
            self.new_files[rel] = (blob, _json(deps) if deps else None, 0 if attachments else 1)
        else:
            self.new_files[rel] = blob  # most files: the blob id alone stands for (blob, None, 1)

    def case(self, cdir: str, key: str) -> list | None:
        """[[], signed entries] if the case was found clean with this key, else None."""
        self.seen_cases.add(cdir)
        e = self.cases.get(cdir)
        if e is not None and e[0] == key and isinstance(e[1], int):
            return [[], e[1]]
        return None

    def put_case(self, cdir: str, key: str, result: list) -> None:
        self.seen_cases.add(cdir)
        problems, n = result
        self.new_cases[cdir] = (key, n) if not problems and isinstance(n, int) else None

    def save(self, prune_files: bool = True, prune_cases: bool = True) -> None:
        """Write the rows that changed. Pruning drops the rows this run did not visit (files and
        cases that are gone): only a run that visited them all may prune."""
        files = self.files
        put_files = [(rel, row, None, 1) if row.__class__ is str else (rel, *row) for rel, row in self.new_files.items()
                     if row is not None and files.get(rel) != row]
        drop_files = [(rel,) for rel, row in self.new_files.items() if row is None and rel in self.files]
        if prune_files:
            drop_files += [(rel,) for rel in self.files if rel not in self.seen_files and rel not in self.new_files]
        put_cases = [(c, *row) for c, row in self.new_cases.items() if row is not None and self.cases.get(c) != row]
        drop_cases = [(c,) for c, row in self.new_cases.items() if row is None and c in self.cases]
        if prune_cases:
            drop_cases += [(c,) for c in self.cases if c not in self.seen_cases]
        put_checks, drop_checks = [], []
        for name, v in self.settings.items():
            if v == self._settings.get(name):
                continue
            if isinstance(v, list) and len(v) == 3 and not v[1] and isinstance(v[0], str) and isinstance(v[2], int):
                put_checks.append((name, v[0], v[2]))
            elif name in self._settings:
                drop_checks.append((name,))
        if self.history is not None and self.history != self._history:
            put_checks.append((HISTORY, self.history, 0))
        _write(self.root, [
            ("INSERT OR REPLACE INTO verdict_files VALUES (?,?,?,?)", put_files),
            ("DELETE FROM verdict_files WHERE rel=?", drop_files),
            ("INSERT OR REPLACE INTO verdict_cases VALUES (?,?,?)", put_cases),
            ("DELETE FROM verdict_cases WHERE cdir=?", drop_cases),
            ("INSERT OR REPLACE INTO verdict_checks VALUES (?,?,?)", put_checks),
            ("DELETE FROM verdict_checks WHERE name=?", drop_checks)])


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


def run_batches(fn: Callable[[str, list], list], root: Path, tasks: list) -> list:
    """`fn(root, tasks)` over all tasks, split across worker processes when there are many.

    Workers are forked (Linux), so they share what the parent has imported; results come back in
    the order of `tasks`.
    """
    out: list = []
    for part in iter_batches(fn, root, tasks):
        out += part
    return out


def iter_batches(fn: Callable[[str, list], list], root: Path, tasks: list):
    """run_batches's results a batch at a time, in order: a caller that keeps only a little of
    each result need not hold them all at once (verify at 10,000 tenants: 120,000 of them)."""
    n = jobs()
    if n < 2 or len(tasks) < PARALLEL_MIN or sys.platform != "linux":
        if tasks:
            yield fn(str(root), tasks)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(200, len(tasks) // (n * 8))
    chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(fn, [str(root)] * len(chunks), chunks)


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


def board(store, case_id: str, compute: Callable[[tuple[str, str] | None, bool], dict]) -> dict:
    """The board of a case: the cached one if no file it depends on changed, else
    `compute(where, verified)`.

    The case is found as `moveout.find_case_dir` finds it, and `where` (tenant id, case folder)
    handed on so that it is not searched for twice (10,000 stat calls each time); an id that is
    invalid, unknown or used twice goes straight to `compute(None, False)`, which refuses it with
    the usual message. `verified` says that the case's signatures were found sound on these very
    bytes (only the tenant's records changed since, as when finance records a fee during the
    move-out): the board then needs only the standards computed again, not the signatures.
    """
    hits = case_paths(store.root, case_id) if layout.CASE_ID.fullmatch(case_id) else []
    if len(hits) != 1:
        return compute(None, False)
    tenant_id = hits[0].parent.parent.parent.name
    cdir = f"tenants/{tenant_id}/moveout/{case_id}"
    signed, key = board_keys(store, tenant_id, cdir)
    hit = _board_row(store.root, case_id)
    if hit is not None and hit[0] == key and hit[2] == lang():
        try:
            b = json.loads(hit[3])
        except ValueError:
            b = None
        if isinstance(b, dict):
            return b
    b = compute((tenant_id, cdir), hit is not None and hit[1] == signed)
    _keep_board(store, case_id, tenant_id, cdir, (signed, key), b)
    return b


def _board_row(root: Path, case_id: str) -> tuple | None:
    """(key, signed, lang, board JSON) of the case's kept board, or None."""
    import sqlite3

    if not enabled():
        return None
    con = _connect(root)
    if con is None:
        return None
    try:
        row = con.execute("SELECT key, signed, lang, board FROM boards WHERE case_id=?", (case_id,)).fetchone()
    except sqlite3.DatabaseError as e:
        _damaged(root, con, e)
        return None
    con.close()
    return row


def remember_board(store, case_id: str, tenant_id: str, cdir: str, compute: Callable[[], dict]) -> None:
    """Compute a case's board now and keep it: a command that has just changed the case has the
    models and the signature checks loaded already, so the next look-up at the counter need not."""
    if not enabled():
        return
    _keep_board(store, case_id, tenant_id, cdir, board_keys(store, tenant_id, cdir), compute())


def _keep_board(store, case_id: str, tenant_id: str, cdir: str, keys: tuple[str, str], b: dict) -> None:
    # Only a sound board is kept (problems may clear with time), only one that JSON holds exactly
    # (a hand-edited file can hold a date where text is expected), and only if its files are
    # still the bytes `keys` were taken from: a writer may have changed one while it was computed.
    import time

    if not enabled():
        return
    try:
        text = _json(b)
        exact = json.loads(text) == b
    except (TypeError, ValueError):
        exact = False
    if exact and not b.get("problems") and board_keys(store, tenant_id, cdir) == keys:
        signed, key = keys
        # The most recently kept BOARDS_KEPT stay; the rest (cases looked at long ago) go.
        _write(store.root, [("INSERT OR REPLACE INTO boards VALUES (?,?,?,?,?,?)", [(case_id, key, signed, lang(), text, time.time_ns())]),
                            ("DELETE FROM boards WHERE used < (SELECT used FROM boards ORDER BY used DESC LIMIT 1 OFFSET ?)",
                             [(BOARDS_KEPT - 1,)])])
