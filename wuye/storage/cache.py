"""Derived data for whole-store work, kept under `.git/wuye/cache/`: never committed, never pushed,
rebuilt when missing, stale or damaged, and never trusted over the files.

Two caches, each one JSON file written whole (temp file, then rename), so a reader sees the old
file or the new one, never half of one; a file that does not parse, or is of another version, is
ignored and rebuilt. Each records the *code fingerprint* (the size and mtime of every module of
wuye and of the libraries whose checks it runs, and the Python version) and the message language,
so a new check, or a different language, never meets an old answer. Only clean results are
reused: a result that found a problem is computed again next time (some checks depend on the
date: "in the future" clears as days pass, while a record accepted once is never refused later).

`verify.json` -- what `wuye verify` and `wuye archive check` found, by git blob id.
  A unit or archive file keeps its result while its blob id is the one it was checked as (and,
  for verify, the blob ids of the attachments it names; one reached through a symlink is always
  checked again). Blob ids come from `git ls-files -s` (the index) for tracked files that
  `git diff-files` reports unmodified; any other file (modified, untracked, in conflict, a
  symlink) is read, and its blob id computed from the very bytes that are then checked. `git
  diff-files` compares size, mtime, ctime and inode with the index and re-reads a file written in
  the same second as the index ("racily clean"): the test `git status` and `git commit -a` rely
  on. ctime cannot be set back by `touch`, so restoring a file's mtime does not hide an edit. A
  move-out case keeps its verdict while the blob ids of its case.yaml and of every name in steps/,
  the workflow and every staff file are unchanged; the settings, workflow and staff checks while
  their files are. Cached problems keep their code (errors.CODES). The caching layer around the
  checks is verify/context.py. The history check resumes from the last commit it found clean, if that commit
  is still an ancestor of HEAD. The folders are listed on every run, so new and removed files are
  always seen.

`boards.json` -- what `wuye moveout status` shows for a case, keyed by a hash of the content of
  every file the board is computed from (the case's files, the workflow, wuye.yaml, all staff,
  and the tenant's move_in, payments and violations), each read and hashed on every call: a
  cached board is used only when none of those bytes changed, and only a board without problems
  is kept. Beside it, the hash of the files its signature checks read (all but the tenant's
  records): when only the records changed, the signatures are known sound on these bytes and
  only the standards are computed again.

Beside them, `.git/wuye/index.sqlite` (storage/index.py) keeps by blob id what whole-store work
reads of each file: the validated entries of the list categories (reports, listings of complaints
and repairs, the export) and each tenant's name, pinyin initials, units, status and lease end (the
counter's search, `archive list`, notices to all, todo, lease reminders).

The caches are local state, as trusted as `.git/` itself (like the last verified HEAD kept beside
them): whoever can write `.git/` can also replace its hooks, or wuye. `WUYE_NO_CACHE=1` makes every
command read everything, and neither use nor write a cache. Deleting `.git/wuye/cache/` is always
safe. Two commands writing a cache at once: the last rename wins, and each file is whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from wuye.storage import layout
from wuye.storage.atomic import write_atomic

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


def _load(root: Path, name: str) -> dict | None:
    """A cache file's content if it is whole, ours and of this code and language; else None."""
    d = _dir(root) if enabled() else None
    if d is None:
        return None
    try:
        with open(d / name, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):  # missing, unreadable, truncated, garbage: rebuilt
        return None
    if (not isinstance(data, dict) or data.get("version") != CACHE_VERSION or data.get("code") != fingerprint()
            or data.get("lang") != lang()):
        return None
    return data


def _save(root: Path, name: str, data: dict) -> None:
    """Write a cache file whole (temp file, rename); a store we may not write to keeps no cache."""
    d = _dir(root) if enabled() else None
    if d is None:
        return
    text = json.dumps({"version": CACHE_VERSION, "code": fingerprint(), "lang": lang(), **data},
                      ensure_ascii=False, separators=(",", ":"))
    try:
        d.mkdir(parents=True, exist_ok=True)
        # No fsync: a cache lost in a crash is only computed again.
        write_atomic(d / name, text.encode("utf-8"), tmp=d / f".{name}.{os.getpid()}.tmp", mode=0o666, sync=False)
    except OSError:
        pass


def _valid(entry: Any, size: int) -> bool:
    return isinstance(entry, list) and len(entry) == size


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
        import re

        from wuye.storage.git import NotARepository, run

        root = Path(root)
        if not enabled():
            return cls(root)
        try:
            listing = run(root, "ls-files", "-s", "-z", check=False, text=False)
            dirty = run(root, "diff-files", "--name-only", "-z", check=False, text=False)
        except NotARepository:
            return cls(root)
        if listing is None or dirty is None:
            return cls(root)
        changed = set(dirty.split(b"\0"))
        # Regular files only, merged (stage 0): a symlink's blob is its target's name, not its content.
        blobs = {path.decode("utf-8", "surrogateescape"): sha.decode()
                 for sha, path in re.findall(rb"100(?:644|755) ([0-9a-f]{40}) 0\t([^\0]*)\0", listing)
                 if path not in changed}
        return cls(root, blobs)

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
    """Per-file and per-case results of the checks, by the blob ids they were computed from.

    A file's entry is its blob id alone when it had nothing to report (most files: a compact
    cache), else [blob id, problems, ...] as the check that made it decides.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        data = _load(self.root, "verify.json")
        get = data.get if data is not None else {}.get
        files, cases, settings, clean = get("files"), get("cases"), get("settings"), get("history")
        self.files: dict[str, Any] = files if isinstance(files, dict) else {}
        self.cases: dict[str, list] = cases if isinstance(cases, dict) else {}
        # {check name: [key, problems, count]}: the settings, workflow and staff checks' results.
        self.settings: dict[str, list] = settings if isinstance(settings, dict) else {}
        self.history: str | None = clean if isinstance(clean, str) else None
        self.new_files: dict[str, Any] = {}
        self.new_cases: dict[str, list] = {}
        self.changed = data is None

    def put_file(self, rel: str, entry: list) -> None:
        """Record a file's result: [blob id, problems, *more]; just the blob id when all is empty."""
        self.new_files[rel] = entry[0] if entry[0] is not None and not any(entry[1:]) else entry
        self.changed = True

    def case(self, cdir: str, key: str) -> list | None:
        e = self.cases.get(cdir)
        if _valid(e, 2) and e[0] == key and _valid(e[1], 2):
            self.new_cases[cdir] = e
            return e[1]
        return None

    def put_case(self, cdir: str, key: str, result: list) -> None:
        self.new_cases[cdir] = [key, result]
        self.changed = True

    def save(self, prune_files: bool = True, prune_cases: bool = True) -> None:
        """Write what this run used or found. Pruning drops the entries this run did not visit
        (files and cases that are gone): only a run that visited them all may prune."""
        files = self.new_files if prune_files else {**self.files, **self.new_files}
        cases = self.new_cases if prune_cases else {**self.cases, **self.new_cases}
        if self.changed or len(files) != len(self.files) or len(cases) != len(self.cases):
            _save(self.root, "verify.json", {"files": files, "cases": cases, "settings": self.settings,
                                              "history": self.history})


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
    n = jobs()
    if n < 2 or len(tasks) < PARALLEL_MIN or sys.platform != "linux":
        return fn(str(root), tasks)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(200, len(tasks) // (n * 8))
    chunks = [tasks[i:i + size] for i in range(0, len(tasks), size)]
    out: list = []
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("fork")) as pool:
        for part in pool.map(fn, [str(root)] * len(chunks), chunks):
            out += part
    return out


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
    data = _load(store.root, "boards.json")
    boards = data.get("boards") if data is not None else None
    boards = boards if isinstance(boards, dict) else {}
    hit = boards.get(case_id)
    if _valid(hit, 3) and hit[0] == key and isinstance(hit[1], dict):
        return hit[1]
    b = compute((tenant_id, cdir), _valid(hit, 3) and hit[2] == signed)
    _keep_board(store, case_id, tenant_id, cdir, (signed, key), b, boards)
    return b


def remember_board(store, case_id: str, tenant_id: str, cdir: str, compute: Callable[[], dict]) -> None:
    """Compute a case's board now and keep it: a command that has just changed the case has the
    models and the signature checks loaded already, so the next look-up at the counter need not."""
    if not enabled():
        return
    signed, key = board_keys(store, tenant_id, cdir)
    data = _load(store.root, "boards.json")
    boards = data.get("boards") if data is not None else None
    _keep_board(store, case_id, tenant_id, cdir, (signed, key), compute(), boards if isinstance(boards, dict) else {})


def _keep_board(store, case_id: str, tenant_id: str, cdir: str, keys: tuple[str, str], b: dict, boards: dict) -> None:
    # Only a sound board is kept (problems may clear with time), only one that JSON holds exactly
    # (a hand-edited file can hold a date where text is expected), and only if its files are
    # still the bytes `keys` were taken from: a writer may have changed one while it was computed.
    try:
        exact = json.loads(json.dumps(b, ensure_ascii=False)) == b
    except (TypeError, ValueError):
        exact = False
    if exact and not b.get("problems") and board_keys(store, tenant_id, cdir) == keys:
        signed, key = keys
        boards.pop(case_id, None)
        boards[case_id] = [key, b, signed]
        while len(boards) > BOARDS_KEPT:  # the oldest looked-at cases go first
            boards.pop(next(iter(boards)))
        _save(store.root, "boards.json", {"boards": boards})
