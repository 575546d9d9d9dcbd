"""What verify's checks share in one run, and the derived cache wrapped around them.

A check asks the context for results (`files`, `case`, `settings`) and never sees the cache: the
context decides what can be reused and what must be checked again, by git blob id (storage/cache.py
says what is kept and why). Without a cache (`WUYE_NO_CACHE=1`, or no git) the same calls simply
check everything. Only clean results are reused: one that found a problem is computed again.

  - a unit or archive file keeps its result while its blob id is the one it was checked as (and,
    for verify, those of the attachments it names);
  - a move-out case keeps its verdict while none of its files, the workflow or the staff changed;
  - the settings, workflow and staff checks keep theirs while wuye.yaml, the workflow,
    allowed_signers and staff/ are unchanged (and do not even import their models then);
  - history is read from the last commit found clean (checks.py hands the check the cache's
    record of it, `results.history`).

What is not in the cache is checked, in worker processes when there is a lot of it (the first run
on a large store).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

from wuye.errors import Problem
from wuye.storage import cache, verdicts
from wuye.storage.store import Store
from wuye.storage import layout

# workflow.WORKFLOW and staff.ALLOWED_SIGNERS, named here because importing those modules builds
# their pydantic models, which a warm run (nothing changed) does not need.
WORKFLOW_FILE = layout.WORKFLOW
AUTHORITY_DIR = layout.AUTHORITY_DIR  # from the layout, not from workflow: that would build its models
ALLOWED_SIGNERS_FILE = layout.ALLOWED_SIGNERS


def _deps(text: str):
    import json

    try:
        return json.loads(text)
    except ValueError:
        return None


def yaml_names(d: Path) -> list[str]:
    """What `sorted(d.glob("*.yaml"))` names, from one listing."""
    try:
        return sorted(e.name for e in os.scandir(d) if e.name.endswith(".yaml") and not e.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []


class Context:
    """One verification run: the counts it reports, the workflow once checked, and the cache."""

    def __init__(self, store: Store, pinned_root: str | None = None, snapshot: cache.PendingSnapshot | None = None):
        self.store = store
        # The root this run judges the authority chain from (trust/pins.py, or --root).
        self.pinned_root = pinned_root
        self._chain = None
        self._history = None
        self._closed_keys = None
        self._witnessed: dict[str, object] | None = None
        # git lists the index and the modified files while the verdicts are read.
        snap = (snapshot or cache.Snapshot.begin(store.root)) if cache.enabled() else None
        self.results = verdicts.Results(store.root) if snap is not None else None
        self.snap = snap() if snap is not None else None
        self.counts: dict[str, int] = {}
        # A function giving the workflow, set by check_workflow; None while it is unusable (then
        # no case can be checked, and the cache keeps the cases' old entries).
        self.workflow: Callable | None = None
        self._settings_key: str | None = None
        self._case_common: str | None = None
        self._case_dirs: list[tuple[str, str]] | None = None
        self._archive: dict[bool, list] = {}
        # The history check's `git log`, started by verify() before the files are checked.
        self.started_history = None

    # --- the authority chain and the history of signed files ---------------------------------

    def chain(self):
        """The store's authority chain (trust/authority.py), read once per run."""
        if self._chain is None:
            from wuye.trust import authority

            self._chain = authority.load(self.store)
        return self._chain

    def history(self):
        """When each signed file entered history (authority_check.load_history), walked once, and
        only when a case has to be checked."""
        if self._history is None:
            from wuye.verify.authority_check import load_history

            self._history = load_history(self.store)
        return self._history

    def witnessed(self, commit: str):
        """When the central repository first witnessed `commit` (its signed push receipts), or
        None: not pushed, or no central key pinned here (unpinned receipts vouch for nothing)."""
        from wuye.trust import pins, receipts

        if self._witnessed is None:
            self._witnessed = {} if pins.read(self.store.root).get("central") else None
        if self._witnessed is None:
            return None
        if commit not in self._witnessed:
            self._witnessed[commit] = receipts.first_witnessed(self.store, commit)
        return self._witnessed[commit]

    def closed_keys(self):
        if self._closed_keys is None:
            from wuye.verify.authority_check import closed_keys

            self._closed_keys = closed_keys(self.chain())
        return self._closed_keys

    def _authority_files(self) -> list[str]:
        return [f"{AUTHORITY_DIR}/{n}" for n in yaml_names(self.store.path(AUTHORITY_DIR))]

    # --- files by blob id --------------------------------------------------------------------

    def files(self, rels: list[str], check: Callable[[str, list], list], attachments: bool = True) -> dict:
        """{rel: (file problems, attachment problems)} for each file, `check(root, rels)` run on
        those whose cached verdict cannot be reused (see files.py for what it returns)."""
        found = self._cached_files(rels, attachments)
        todo = [rel for rel, e in found.items() if e is None]
        clean = ([], [])  # shared by every file that had nothing to report (120,000 of them, cold)
        for batch in cache.iter_batches(check, self.store.root, todo):
            for entry in batch:
                rel = entry.pop(0)
                att = entry[3] if len(entry) > 3 else None
                found[rel] = clean if not entry[1] and not att else \
                    (cache.problems_from_json(entry[1]), cache.problems_from_json(att) if att else [])
                if self.results is not None:
                    self.results.put_file(rel, entry)
        return found

    def _cached_files(self, rels: list[str], attachments: bool) -> dict:
        """{rel: ([], []) where the file was found clean before, or None where it must be checked}.
        A verdict is reused when the file's blob id is the one it was checked as and, for verify,
        its attachments were sound and their blob ids are unchanged too."""
        results, snap = self.results, self.snap
        if results is None or snap is None:
            return dict.fromkeys(rels)
        results.seen_files.update(rels)
        rows, blobs, blob = results.files, snap.blobs, snap.blob
        clean = ([], [])
        out = {}
        for rel in rels:
            row = rows.get(rel)
            if row is None:
                out[rel] = None
            elif row.__class__ is str:  # clean, naming no attachment
                out[rel] = clean if row == (blobs.get(rel) or blob(rel)) else None
            elif row[0] == (blobs.get(rel) or blob(rel)) and (
                    not attachments or (row[2] == 1 and (row[1] is None or self._deps_unchanged(_deps(row[1]))))):
                out[rel] = clean
            else:
                out[rel] = None
        return out

    def _deps_unchanged(self, deps) -> bool:
        """Every attachment as it was: the same blob id, or still missing ("-")."""
        if not isinstance(deps, list):
            return False
        for d in deps:
            if not (isinstance(d, list) and len(d) == 2 and isinstance(d[0], str) and isinstance(d[1], str)):
                return False
            if d[0].startswith("..") or os.path.isabs(d[0]):
                return False
            now = self.snap.blob(d[0])
            if (now is None) != (d[1] == "-") or (now is not None and now != d[1]):
                return False
        return True

    def archive(self, tids: list[str], attachments: bool = True) -> list:
        """For each tenant: (tenant id, category keys present, {key: (file problems, attachment
        problems)}); computed once per run (check_archive and check_attachments share it)."""
        if attachments not in self._archive:
            from wuye.models.archive_meta import CATEGORIES
            from wuye.verify.files import check_archive_files

            order = [c.filename for c in CATEGORIES]
            tenants, rels = [], []
            base = str(self.store.root / "tenants")
            for tid in tids:
                try:
                    present = {e.name for e in os.scandir(f"{base}/{tid}") if e.is_file()}
                except (FileNotFoundError, NotADirectoryError):
                    present = set()
                names = [f for f in order if f in present]
                tenants.append((tid, names))
                rels += [f"tenants/{tid}/{f}" for f in names]
            found = self.files(rels, check_archive_files, attachments)
            self._archive[attachments] = [(tid, [f[:-5] for f in names], {f[:-5]: found[f"tenants/{tid}/{f}"] for f in names})
                                          for tid, names in tenants]
        return self._archive[attachments]

    # --- the settings, workflow and staff ------------------------------------------------------

    def settings(self, name: str, check: Callable[[], tuple[list[Problem], int]]) -> tuple[list[Problem], int, bool]:
        """(problems, a count, whether it was reused) of one settings check; reused while the
        settings files are the ones it found clean."""
        if self.results is None:
            return (*check(), False)
        key = self.settings_key()
        hit = self.results.settings.get(name)
        if isinstance(hit, list) and len(hit) == 3 and hit[0] == key and not hit[1] and isinstance(hit[2], int):
            return [], hit[2], True
        problems, n = check()
        self.results.settings[name] = [key, cache.problems_to_json(problems), n]
        self.results.changed = True
        return problems, n, False

    def keyed(self, name: str, key: str, check: Callable[[], tuple[list[Problem], int]]) -> tuple[list[Problem], int]:
        """(problems, a count) of a check whose verdict depends on `key` alone (the caller's
        hash of what it reads); reused while the key is the one it was found clean with."""
        hit = self.keyed_hit(name, key)
        if hit is not None:
            return hit
        problems, n = check()
        self.keyed_put(name, key, problems, n)
        return problems, n

    def keyed_hit(self, name: str, key: str) -> tuple[list[Problem], int] | None:
        """keyed's reuse alone: ([], count) if found clean with this key, else None."""
        hit = self.results.settings.get(name) if self.results is not None else None
        if isinstance(hit, list) and len(hit) == 3 and hit[0] == key and not hit[1] and isinstance(hit[2], int):
            return [], hit[2]
        return None

    def keyed_put(self, name: str, key: str, problems: list[Problem], n: int) -> None:
        """keyed's record of a verdict computed elsewhere (in worker processes)."""
        if self.results is not None:
            self.results.settings[name] = [key, cache.problems_to_json(problems), n]
            self.results.changed = True

    def settings_key(self) -> str:
        """What the settings, workflow and staff checks read: their files' names and blob ids."""
        if self._settings_key is None:
            snap = self.snap
            rels = ["wuye.yaml", WORKFLOW_FILE, ALLOWED_SIGNERS_FILE, *(f"staff/{n}" for n in yaml_names(self.store.path("staff"))),
                    *self._authority_files()]
            self._settings_key = hashlib.sha1("\n".join([f"root {self.pinned_root}", *(f"{rel} {snap.blob(rel)}" for rel in rels)]).encode()).hexdigest()
        return self._settings_key

    # --- move-out cases ------------------------------------------------------------------------

    def case_dirs(self) -> list[tuple[str, str]]:
        """moveout.case_dirs, from one listing per tenant that has a moveout folder (pathlib's glob
        over 10,000 tenant folders takes a fifth of a second, twice per run)."""
        if self._case_dirs is None:
            base = f"{self.store.root}/tenants"
            out = []
            for tid in self.store.tenant_ids():
                try:
                    names = sorted(e.name for e in os.scandir(f"{base}/{tid}/moveout") if not e.name.startswith("."))
                except (FileNotFoundError, NotADirectoryError):
                    continue
                out += [(tid, cid) for cid in names if os.path.exists(f"{base}/{tid}/moveout/{cid}/case.yaml")]
            self._case_dirs = out
        return self._case_dirs

    def case(self, tid: str, cid: str, check: Callable[[], tuple[list[Problem], int]]) -> tuple[list[Problem], int]:
        """(problems, signed entries) of one case; reused while its files, the workflow and the
        staff are the ones it was found clean with."""
        if self.results is None or self.snap is None:
            return check()
        cdir = f"tenants/{tid}/moveout/{cid}"
        key = self._case_key(cdir)
        hit = self.results.case(cdir, key)
        if hit is not None and not hit[0] and isinstance(hit[1], int):
            return [], hit[1]
        problems, n = check()
        self.results.put_case(cdir, key, [cache.problems_to_json(problems), n])
        return problems, n

    def _case_key(self, cdir: str) -> str:
        """What a case's verdict depends on: its files (names and blob ids), workflow and staff."""
        snap = self.snap
        if self._case_common is None:
            staff = yaml_names(self.store.path("staff"))
            # The authority records and the HEAD too: an entry is judged by the version it names
            # and by when it entered history (authority_check.history_problems).
            self._case_common = "\n".join([f"{WORKFLOW_FILE} {snap.blob(WORKFLOW_FILE)}", f"root {self.pinned_root}",
                                           *(f"staff/{n} {snap.blob(f'staff/{n}')}" for n in staff),
                                           *(f"{rel} {snap.blob(rel)}" for rel in self._authority_files())])
        h = hashlib.sha1(f"{cdir}\n{self._case_common}".encode())
        h.update(f"\ncase.yaml {snap.blob(f'{cdir}/case.yaml')}".encode())
        try:
            names = sorted(e.name for e in os.scandir(self.store.root / cdir / "steps"))
        except (FileNotFoundError, NotADirectoryError):
            names = None
        h.update(f"\nsteps {names is not None}".encode())
        for name in names or []:
            h.update(f"\n{name} {snap.blob(f'{cdir}/steps/{name}')}".encode())
        # The files signed with its steps (moveout/evidence.py): a replaced photo is checked again.
        adir = cache.tenant_attachments(cdir)
        try:
            files = sorted(e.name for e in os.scandir(self.store.root / adir))
        except (FileNotFoundError, NotADirectoryError):
            files = None
        h.update(f"\nattachments {files is not None}".encode())
        for name in files or []:
            h.update(f"\n{name} {snap.blob(f'{adir}/{name}')}".encode())
        return h.hexdigest()

    def save(self, prune_files: bool = True, prune_cases: bool = True) -> None:
        if self.results is not None:
            self.results.save(prune_files=prune_files, prune_cases=prune_cases)
