"""The verdicts of `wuye verify` and the move-out boards, as rows of the records index's database.

storage/cache.py says what is kept and why (and declares the tables, which storage/index.py
creates and empties with its own); this module reads and writes them through `index.connect`, so
that one set of rules opens, locks and rebuilds the database. Each run reads a table once and
writes only the rows that changed; any failure to read (damaged) or write (locked, read-only)
leaves the files to be checked, never an answer taken on trust.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from wuye.storage import index, layout
from wuye.storage.cache import BOARDS_KEPT, board_keys, case_paths, enabled, lang

HISTORY = "#history"  # verdict_checks' row of the last commit the history check found clean


def _connect(root: Path):
    """The records index's open database (index.connect: rebuilt when damaged or of other code),
    or None: WUYE_NO_CACHE, no repository, locked, read-only."""
    return index.connect(Path(root))


def _damaged(root: Path, con, e: Exception) -> None:
    """A query failed on an open database: closed, and deleted if it is damaged (not merely
    locked or read-only), to be built again by the next command that finds it alone."""
    import sqlite3

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


def tree_counts(root: Path, digest: str) -> dict[str, int] | None:
    """The counts of the clean report verify gave on a store of this digest (verify/unchanged.py),
    or None."""
    row = _row(root, "SELECT counts FROM verdict_tree WHERE digest=?", digest)
    try:
        counts = json.loads(row[0]) if row is not None else None
    except ValueError:
        return None
    if isinstance(counts, dict) and all(isinstance(k, str) and type(v) is int for k, v in counts.items()):
        return counts
    return None


def keep_tree_counts(root: Path, digest: str, counts: dict[str, int]) -> None:
    """Keep a clean report's counts under its store's digest, in place of the one before (only
    the latest state of a checkout is ever looked up again)."""
    _write(root, [("DELETE FROM verdict_tree WHERE digest<>?", [(digest,)]),
                  ("INSERT OR REPLACE INTO verdict_tree VALUES (?,?)", [(digest, _json(counts))])])


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
    return _row(root, "SELECT key, signed, lang, board FROM boards WHERE case_id=?", case_id)


def _row(root: Path, sql: str, *args) -> tuple | None:
    """The first row a query gives, or None: no row, or no usable database (damaged: deleted)."""
    import sqlite3

    if not enabled():
        return None
    con = _connect(root)
    if con is None:
        return None
    try:
        row = con.execute(sql, args).fetchone()
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
