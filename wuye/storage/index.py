"""The records index: what whole-store work has parsed of each file, kept in SQLite under
`.git/wuye/index.sqlite` (stdlib sqlite3, WAL), never committed, never pushed.

Reports, listings, search, notices and todo read every tenant's profile, payments, complaints,
repairs...: parsing and validating 20,000 YAML files is seconds, reading their parsed rows from
SQLite milliseconds. Two kinds of rows: a list category's validated entries (`parsed`, for
reports and listings) and each profile's name, pinyin initials, units, status and lease end
(`tenant_index`, for the counter's search, `archive list`, notices to all, todo); they replace
the JSON files tenants.json, listing.json and leases.json, which a fresh index deletes. A row
holds one file's parse as the validation produced it (the caller's `parse`, pickled) with the
problems it found, the git blob id of the bytes it was parsed from and the file's stat signature
(inode, size, mtime, ctime) taken *before* those bytes were read.

Freshness is decided per file on every call, with no git and no trust in any command having told
the index what it wrote: each file asked for is stat'ed (one syscall relative to an open folder);
a row is used as it stands only if the signature is the recorded one and neither time lies within
two seconds of when it was recorded (git's "racily clean" rule: a file rewritten within the same
clock tick can keep size and mtime). Otherwise the file is read and hashed; a blob id equal to the
row's keeps the parse (a `git checkout` that rewrote identical bytes, a `touch`), any other is
parsed again. So a hand edit, a `git pull`, a sync or a `git checkout` of an older commit costs one
parse per file it changed, and the commands that write files need not report them (ctime cannot
be set back by `touch`: restoring an mtime does not hide an edit). Stat before read means a file
changing while it is read leaves a row whose signature no longer matches: it is read again.

A row is a pure function of (bytes, code, language), so two processes updating the index at once
may each write any row: the last write of a row wins and every row stays true (WAL lets readers
go on while one writes; a writer waits up to 30 s for another). The index records the code
fingerprint (cache.fingerprint): another version of wuye empties it; a file that is not a
database, or is damaged, is deleted and built again, but only by a process that holds the index's
lock file exclusively: every open connection holds it shared, because deleting a WAL database (or
its -wal file) under another connection loses what that one committed and can leave a file with
no tables at all. A locked or unwritable index is skipped and the files parsed directly. Rows whose parse found problems also record the message language and
are parsed again in the other one. Nothing signed is decided from it: verify reads the files.
`WUYE_NO_CACHE=1` bypasses it; deleting it (with its -wal and -shm) while no wuye runs is always safe.
"""

from __future__ import annotations

import copyreg
import datetime as dt
import fcntl
import operator
import os
import pickle
import sqlite3
import stat as stat_mod
import time
from pathlib import Path
from typing import Any, Callable

from wuye.models.zones import reduce_zone
from wuye.storage import cache

# Every `datetime.timezone` wuye pickles (these rows, and what worker processes send back) is
# rebuilt as the one object of its offset: times of one zone object compare six times faster
# than times of two (models/zones.py).
copyreg.pickle(dt.timezone, reduce_zone)

SCHEMA = 2  # 2: a row per (file, kind): one file is read by several kinds of work
NAME = "index.sqlite"
_RETIRED = ("tenants.json", "listing.json", "leases.json", "verify.json", "boards.json")
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    rel TEXT NOT NULL, kind TEXT NOT NULL,
    ino INTEGER, size INTEGER, mtime INTEGER, ctime INTEGER, seen INTEGER NOT NULL,
    blob TEXT NOT NULL, lang TEXT, value BLOB, problems TEXT NOT NULL,
    PRIMARY KEY (kind, rel));
""" + cache.TABLES  # verify's verdicts and the move-out boards (storage/cache.py)

# parse(root, [(rel, bytes)]) -> [(value, problems)], in order; module-level, so that it can run
# in forked workers (cache.run_batches).
Parse = Callable[[str, list], list]


def path(root: Path) -> Path:
    return cache.cache_dir(root).parent / NAME


class _Index(sqlite3.Connection):
    """A connection that holds the index's lock file shared for as long as it is open."""

    lock: int | None = None

    def close(self) -> None:
        super().close()
        if self.lock is not None:
            os.close(self.lock)  # releases the shared lock
            self.lock = None


def _lock(p: Path, how: int) -> int | None:
    """An open descriptor of `p`'s lock file locked with `how` (never waiting), or None."""
    try:
        fd = os.open(f"{p}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return None
    try:
        fcntl.flock(fd, how | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _remove(p: Path) -> bool:
    """Delete a damaged index, if no other process has it open; whether it was deleted."""
    fd = _lock(p, fcntl.LOCK_EX)
    if fd is None:
        return False  # in use: it stays, skipped, until a process finds it alone
    try:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(f"{p}{suffix}")
            except FileNotFoundError:
                pass
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _open(p: Path) -> sqlite3.Connection:
    fd = _lock(p, fcntl.LOCK_SH)
    if fd is None:  # being rebuilt right now, or the folder is read-only
        raise sqlite3.OperationalError("index locked")
    try:
        con = sqlite3.connect(p, timeout=30, isolation_level=None, factory=_Index)
    except BaseException:
        os.close(fd)
        raise
    con.lock = fd
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")  # a row lost in a crash is only parsed again
        con.executescript(_TABLES)
        code = f"{SCHEMA} {cache.fingerprint()}"
        row = con.execute("SELECT value FROM meta WHERE key='code'").fetchone()
        if row is None or row[0] != code:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT value FROM meta WHERE key='code'").fetchone()
            if row is None or row[0] != code:  # another process may have just done it
                for table in ("files", *cache.TABLE_NAMES):  # their shapes may be another version's too
                    con.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in _TABLES.split(";"):  # one by one: executescript would commit first
                    if statement.strip():
                        con.execute(statement)
                con.execute("INSERT OR REPLACE INTO meta VALUES ('code', ?)", (code,))
            con.execute("COMMIT")
            for old in _RETIRED:  # what the profiles were kept in before this index held them
                try:
                    os.unlink(p.parent / "cache" / old)
                except OSError:
                    pass
        return con
    except BaseException:
        con.close()
        raise


def connect(root: Path) -> sqlite3.Connection | None:
    """The open index, built afresh if missing, damaged or of other code; None if it cannot be
    used now (no repository, WUYE_NO_CACHE, locked past the timeout, a read-only store, damaged
    while another process has it open)."""
    if not cache.enabled():
        return None
    from wuye.storage.git import NotARepository

    try:
        p = path(root)
        p.parent.mkdir(parents=True, exist_ok=True)
    except (OSError, NotARepository):
        return None
    for attempt in (1, 2):
        try:
            return _open(p)
        except sqlite3.OperationalError:  # locked, read-only, disk full: not damage
            return None
        except sqlite3.DatabaseError:  # not a database, or a damaged one: rebuilt
            if attempt == 2 or not _remove(p):
                return None
    return None


def _signature(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _rows(root: Path, kind: str, columns: str) -> tuple[sqlite3.Connection | None, dict[str, tuple]]:
    """The open index (None when it cannot be used now) and its rows of `kind`, {rel: the
    `columns`, rel first}."""
    con = connect(root)
    if con is None:
        return None, {}
    try:
        return con, {r[0]: r for r in con.execute(f"SELECT {columns} FROM files WHERE kind=?", (kind,))}
    except sqlite3.OperationalError:
        con.close()
    except sqlite3.DatabaseError:  # damaged since it was opened: built again next time
        con.close()
        _remove(path(root))
    return None, {}


def _store(con: sqlite3.Connection | None, kind: str, writes: list[tuple], gone: list[str]) -> None:
    """Write the rows made or confirmed, delete those of files now absent, and close."""
    if con is None:
        return
    try:
        if writes or gone:
            con.execute("BEGIN IMMEDIATE")
            con.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?)", writes)
            con.executemany("DELETE FROM files WHERE kind=? AND rel=?", [(kind, rel) for rel in gone])
            con.execute("COMMIT")
    except sqlite3.DatabaseError:
        pass  # locked past the timeout, or read-only: the answer stands, the index waits
    finally:
        con.close()


def parsed(root: Path, kind: str, rels: list[str], parse: Parse) -> dict[str, tuple[Any, list] | None]:
    """{rel: (value, problems) or None if the file is absent} for every rel, each from the index
    where the file is unchanged, else parsed by `parse` (in worker processes for a large batch)
    and remembered. `kind` names what `parse` makes of a file (rows of one kind are read at once)."""
    from wuye.storage.reading import read_bytes

    root = Path(root)
    out: dict[str, tuple[Any, list] | None] = {}
    con, rows = _rows(root, kind, "rel, ino, size, mtime, ctime, seen, blob, lang, value, problems")
    lang = cache.lang()
    loads = pickle.loads
    now = time.time_ns()
    racy = cache.RACY_NS
    todo: list[tuple[str, bytes | None]] = []  # (rel, its bytes, or None: let `parse` read and refuse it)
    sigs: dict[str, tuple] = {}
    blobs: dict[str, str] = {}
    writes: list[tuple] = []
    absent: list[str] = []
    fd = os.open(root, os.O_RDONLY) if os.stat in os.supports_dir_fd else None
    try:
        for rel in rels:
            try:
                st = os.stat(rel, dir_fd=fd, follow_symlinks=False) if fd is not None else os.lstat(root / rel)
            except OSError:
                out[rel] = None
                absent.append(rel)
                continue
            if not stat_mod.S_ISREG(st.st_mode):  # a link or a folder: the parser refuses it, every time
                todo.append((rel, None))
                continue
            r = rows.get(rel)
            usable = r is not None and (r[9] == "[]" or not r[9] or r[7] == lang)
            # Compared field by field, the cheapest first (10,000 files on every search).
            if (usable and r[3] == st.st_mtime_ns and r[4] == st.st_ctime_ns and r[2] == st.st_size and r[1] == st.st_ino
                    and st.st_mtime_ns < r[5] - racy and st.st_ctime_ns < r[5] - racy):
                # Most files: unpickled here, no JSON for an empty list of problems.
                value, problems = r[8], r[9]
                out[rel] = (loads(value) if value.__class__ is bytes else value, [] if problems == "[]" else _problems(problems))
                continue
            sig = _signature(st)
            try:
                raw = read_bytes(root, rel)
            except OSError:
                todo.append((rel, None))
                continue
            b = cache.blob_id(raw)
            sigs[rel], blobs[rel] = sig, b
            if usable and r[6] == b:
                out[rel] = _loaded((r[8], r[9]))
                writes.append((rel, kind, *sig, now, b, r[7], r[8], r[9]))
            else:
                todo.append((rel, raw))
    finally:
        if fd is not None:
            os.close(fd)
    if todo:
        from wuye.storage.cache import problems_to_json

        results = cache.run_batches(parse, root, todo)
        for (rel, raw), (value, problems) in zip(todo, results):
            out[rel] = (value, problems)
            if rel in sigs and con is not None:
                try:
                    blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception:  # a value pickle cannot hold is only not remembered
                    continue
                writes.append((rel, kind, *sigs[rel], now, blobs[rel], lang, blob, _json(problems_to_json(problems))))
    _store(con, kind, writes, [rel for rel in absent if rel in rows])
    return out


def texts(root: Path, kind: str, rels: list[str], parse: Callable[[str, list], list[str]]) -> dict[str, str | None]:
    """{rel: the text `parse` made of the file, or None if the file is absent}, fresh as `parsed`
    decides it (the same rows, stat signature, racy rule and blob id), for a parse whose whole
    result is one short text with no problems: the service desk's entry ids of every tenant's
    complaints.yaml, asked for on each step. The text is kept as it is, not pickled, and only the
    columns freshness needs are read, so 10,000 files cost little more than their 10,000 stats
    (`parsed` spends twice that on rows and values). A file that is not a regular one is handed to
    `parse` as None and not remembered, as `parsed` does."""
    from wuye.storage.reading import read_bytes

    root = Path(root)
    # The blob ids only of the rows a stat finds changed (below): most are not read at all.
    con, rows = _rows(root, kind, "rel, ino, size, mtime, ctime, seen, value")
    now = time.time_ns()
    racy = cache.RACY_NS
    out: dict[str, str | None] = {}
    todo: list[tuple[str, bytes | None]] = []
    sigs: dict[str, tuple] = {}
    blobs: dict[str, str] = {}
    writes: list[tuple] = []
    absent: list[str] = []
    fd = os.open(root, os.O_RDONLY) if os.stat in os.supports_dir_fd else None
    try:
        for rel in rels:
            try:
                st = os.stat(rel, dir_fd=fd, follow_symlinks=False) if fd is not None else os.lstat(root / rel)
            except OSError:
                out[rel] = None
                absent.append(rel)
                continue
            if not stat_mod.S_ISREG(st.st_mode):
                todo.append((rel, None))
                continue
            r = rows.get(rel)
            if (r is not None and r[3] == st.st_mtime_ns and r[4] == st.st_ctime_ns and r[2] == st.st_size and r[1] == st.st_ino
                    and st.st_mtime_ns < r[5] - racy and st.st_ctime_ns < r[5] - racy and r[6].__class__ is str):
                out[rel] = r[6]
                continue
            sig = _signature(st)
            try:
                raw = read_bytes(root, rel)
            except OSError:
                todo.append((rel, None))
                continue
            b = cache.blob_id(raw)
            if r is not None and r[6].__class__ is str and _blob(con, kind, rel) == b:
                out[rel] = r[6]
                writes.append((rel, kind, *sig, now, b, None, r[6], "[]"))
            else:
                sigs[rel], blobs[rel] = sig, b
                todo.append((rel, raw))
    finally:
        if fd is not None:
            os.close(fd)
    if todo:
        for (rel, _), text in zip(todo, cache.run_batches(parse, root, todo)):
            out[rel] = text
            if rel in sigs and text.__class__ is str:
                writes.append((rel, kind, *sigs[rel], now, blobs[rel], None, text, "[]"))
    _store(con, kind, writes, [rel for rel in absent if rel in rows])
    return out


def _blob(con: sqlite3.Connection | None, kind: str, rel: str) -> str | None:
    """The blob id a row was made from (None without one, or without the index)."""
    if con is None:
        return None
    try:
        row = con.execute("SELECT blob FROM files WHERE kind=? AND rel=?", (kind, rel)).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row is not None else None


def prune(root: Path, family: str, keep: str) -> None:
    """Delete the rows of the kinds named `family`… other than `keep`: rows filed under a digest
    of what else they were computed from (servicedesk's briefs: the staff and the zone) are never
    asked for again once that changes, and would otherwise stay for good."""
    con = connect(Path(root))
    if con is None:
        return
    try:
        # A range on the primary key's first column (LIKE would scan the table).
        where = "kind >= ? AND kind < ? AND kind != ?"
        args = (family, family + "\U0010ffff", keep)
        if con.execute(f"SELECT 1 FROM files WHERE {where} LIMIT 1", args).fetchone() is not None:
            con.execute(f"DELETE FROM files WHERE {where}", args)
    except sqlite3.DatabaseError:
        pass  # locked or read-only: left for the next run
    finally:
        con.close()


def _json(data) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _loaded(v):
    """A row's (value, problems) as the caller's parse returned them."""
    value, problems = v
    return (pickle.loads(value) if value.__class__ is bytes else value, [] if problems == "[]" else _problems(problems))


def _problems(text: str) -> list:
    import json

    return cache.problems_from_json(json.loads(text)) if text else []


# --- the tenants' profiles: search at the counter, listings, notices, todo ----------------------

# What is kept of each profile, and its value when the profile lacks it or cannot be read. One row
# per profile holds them all; each caller takes the fields it needs.
PROFILE = {"name": "", "pinyin": "", "units": [], "status": "active", "lease_end": ""}
SEARCH = ("name", "pinyin")  # the counter's search
LISTING = ("name", "units", "status")  # `archive list`, reports, notices to all
LEASES = ("name", "units", "status", "lease_end")  # lease-expiry reminders


def tenant_index(store, fields: tuple[str, ...] = SEARCH) -> list[tuple]:
    """(tenant id, *the profile's values of `fields`) for every tenant folder, in id order: by
    default the company name and pinyin initials; a tenant without a readable profile gets each
    field's default. From the index: only the profiles changed since they were last read are
    read again (plain file IO, no git), so a search over 10,000 tenants costs a stat of each."""
    tids = store.tenant_ids()
    rels = [f"tenants/{tid}/profile.yaml" for tid in tids]
    got = parsed(store.root, "profile", rels, _parse_profiles)
    keys = list(PROFILE)
    take = operator.itemgetter(*(keys.index(f) for f in fields))
    out = []
    for tid, rel in zip(tids, rels):
        v = got[rel]
        values = take(v[0] if v is not None else _profile_fields({}))
        out.append((tid, *values) if len(fields) > 1 else (tid, values))
    return out


def _profile_fields(profile: dict) -> tuple:
    out = []
    for key, default in PROFILE.items():
        value = profile.get(key, default)
        if isinstance(default, list):
            out.append([str(v) for v in value] if isinstance(value, list) else [])
        else:
            out.append(str(value))
    return tuple(out)


def _parse_profiles(root: str, items: list[tuple[str, bytes | None]]) -> list:
    """(the fields of PROFILE, no problems) of each (rel, bytes) of a profile; read without
    validating, as a look-up reads it: an unreadable profile has every field's default."""
    from wuye.errors import WuyeError
    from wuye.storage import yamlio

    out = []
    for rel, raw in items:
        try:
            data = yamlio.read(Path(root, rel), rel) if raw is None else yamlio.loads(yamlio.text_of(raw, rel), rel)
        except WuyeError:
            data = {}
        out.append((_profile_fields(data if isinstance(data, dict) else {}), []))
    return out
