"""`wuye verify`: is the whole store what it claims to be?

Checks, each a small function adding located problems to one list: the settings, the workflow,
the staff and allowed_signers, the units, every archive file against its schema, attachments
against their sha256, every move-out case (signatures, keys valid at signing time, departments,
the needs DAG, revisions, closed-ness), one case per case id, and git history: a signed entry
that was ever modified or deleted in a commit, and a HEAD that no longer descends from the last
verified one (an amend or rebase of signed history). The last verified HEAD is kept under .git/, never in tracked files.

Whole-store work goes through the derived cache (cache.py): a unit or archive file whose git blob
id (and, for attachments, theirs) is the one it was checked as keeps that result; a case keeps its
result while none of its files, the workflow or the staff changed; history is read from the last
commit found clean; the settings, workflow and staff checks while their files are unchanged. Only
clean results are reused. What is not in the cache is read and checked, in worker processes when
there is a lot of it (the first run on a large store).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from wuye.storage import git as audit
from wuye.storage import yamlio
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import layout
from wuye.storage.atomic import write_atomic
from wuye.storage.store import Store

VERIFIED_HEAD = "wuye/verified-head"
# From the layout, not from workflow and staff: importing those builds their pydantic models,
# which a warm run (nothing changed) does not need.
WORKFLOW_FILE = layout.WORKFLOW
ALLOWED_SIGNERS_FILE = layout.ALLOWED_SIGNERS


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def check_config(store: Store, report: Report) -> None:
    try:
        store.config
    except WuyeError as e:
        report.problems += e.problems or [Problem("wuye.yaml", str(e))]


def check_workflow(store: Store, report: Report):
    from wuye.moveout import workflow

    try:
        return workflow.load(store)
    except WuyeError as e:
        report.problems += e.problems or [Problem(workflow.WORKFLOW, str(e))]
        return None


def check_staff(store: Store, report: Report) -> None:
    from wuye.trust.staff import ALLOWED_SIGNERS, all_staff, allowed_signers_text

    members = []
    for p in sorted(store.path("staff").glob("*.yaml")) if store.path("staff").is_dir() else []:
        try:
            members.append(store.staff(p.stem))
        except WuyeError as e:
            report.problems += e.problems or [Problem(f"staff/{p.name}", str(e))]
    report.counts["staff"] = len(members)
    if len(members) == len(list(store.path("staff").glob("*.yaml"))):
        expected = allowed_signers_text(all_staff(store))
        actual = store.path(ALLOWED_SIGNERS).read_text(encoding="utf-8") if store.path(ALLOWED_SIGNERS).is_file() else None
        if actual != expected:
            report.problems.append(Problem(ALLOWED_SIGNERS, tr(
                "与 staff/ 中的公钥不一致（被手工改动或缺失）；`wuye doctor --fix` 或重新登记可重建",
                "does not match the keys in staff/ (edited by hand or missing); it is regenerated from staff/")))


def _yaml_names(d: Path) -> list[str]:
    """What `sorted(d.glob("*.yaml"))` names, from one listing."""
    try:
        return sorted(e.name for e in os.scandir(d) if e.name.endswith(".yaml") and not e.name.startswith("."))
    except (FileNotFoundError, NotADirectoryError):
        return []


def check_units(store: Store, report: Report, snap=None, results=None) -> None:
    names = _yaml_names(store.path("units"))
    report.counts["units"] = len(names)
    found = _cached_files([f"units/{n}" for n in names], snap, results)
    todo = [rel for rel in found if found[rel] is None]
    from wuye.storage import cache

    for entry in cache.run_batches(_check_unit_files, store.root, todo):
        rel = entry.pop(0)
        found[rel] = entry
        if results is not None:
            results.put_file(rel, entry)
    for entry in found.values():
        if entry.__class__ is not str:
            report.problems += cache.problems_from_json(entry[1])


def _cached_files(rels: list[str], snap, results, attachments: bool = True) -> dict:
    """{rel: cached entry, or None where the file must be checked}. An entry is reused when the
    file's blob id is the one it was checked as, it found nothing (a problem may clear with time:
    "in the future" does), and, for verify, its attachments' blob ids are unchanged too."""
    if results is None or snap is None:
        return dict.fromkeys(rels)
    old, keep, blobs, blob = results.files, results.new_files, snap.blobs, snap.blob
    out = {}
    for rel in rels:
        e = old.get(rel)
        if e is not None:
            b = blobs.get(rel) or blob(rel)
            if e.__class__ is str:
                if e == b:
                    out[rel] = keep[rel] = e
                    continue
            elif (isinstance(e, list) and len(e) == 4 and e[0] == b and not e[1]
                  and (not attachments or (not e[3] and _deps_unchanged(e[2], snap)))):
                out[rel] = keep[rel] = e
                continue
        out[rel] = None
    return out


def _read_raw(root: Path, rel: str) -> bytes:
    """A store file's bytes; a missing file or a folder refused as yamlio.read_text refuses it."""
    path = root / rel
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError):
        yamlio.read_text(path, rel)  # raises the located refusal
        raise


def _check_unit_files(root: str, rels: list[str]) -> list[list]:
    """[rel, blob id, problems] of each unit file, as `store.read_model(rel, Unit)` judges it."""
    from wuye.storage import cache
    from wuye.models.store import Unit

    out = []
    for rel in rels:
        blob, problems = None, []
        try:
            raw = _read_raw(Path(root), rel)
            blob = cache.blob_id(raw)
            text = yamlio.text_of(raw, rel)
            data = yamlio.loads(text, rel)
            u, problems = yamlio.check_model(Unit, data if data is not None else {}, rel, text)
            stem = rel.rsplit("/", 1)[1][: -len(".yaml")]
            if u is not None and u.id != stem:
                problems.append(Problem(rel, tr("id %r 与文件名不符" % u.id, "id %r does not match the file name" % u.id)))
        except WuyeError as e:
            problems += e.problems
        out.append([rel, blob, cache.problems_to_json(problems)])
    return out


def archive_files(store: Store, tids: list[str], snap=None, results=None, attachments: bool = True):
    """For each tenant: (tenant id, category keys present, {category key: (file problems, attachment problems)}).

    A file's result comes from the cache when its blob id (and, with `attachments`, those of the
    attachments it names) is unchanged; the others are read and checked, in worker processes
    when there are many.
    """
    from wuye.storage import cache
    from wuye.models.archive_meta import CATEGORIES

    order = [c.filename for c in CATEGORIES]
    tenants = []
    rels = []
    base = str(store.root / "tenants")
    for tid in tids:
        try:
            present = {e.name for e in os.scandir(f"{base}/{tid}") if e.is_file()}
        except (FileNotFoundError, NotADirectoryError):
            present = set()
        names = [f for f in order if f in present]
        tenants.append((tid, names))
        rels += [f"tenants/{tid}/{f}" for f in names]
    found = _cached_files(rels, snap, results, attachments)
    todo = [(rel.split("/")[1], rel.rsplit("/", 1)[1][:-5], rel) for rel, e in found.items() if e is None]
    for entry in cache.run_batches(_check_archive_files, store.root, todo):
        rel = entry.pop(0)
        found[rel] = entry
        if results is not None:
            results.put_file(rel, entry)
    out = []
    none = ([], [])
    for tid, names in tenants:
        got = {}
        for f in names:
            e = found[f"tenants/{tid}/{f}"]
            got[f[:-5]] = none if e.__class__ is str else (cache.problems_from_json(e[1]), cache.problems_from_json(e[3]))
        out.append((tid, [f[:-5] for f in names], got))
    return out


def _deps_unchanged(deps, snap) -> bool:
    """Every attachment as it was: the same blob id, or still missing ("-")."""
    if not isinstance(deps, list):
        return False
    for d in deps:
        if not (isinstance(d, list) and len(d) == 2 and isinstance(d[0], str) and isinstance(d[1], str)):
            return False
        if d[0].startswith("..") or os.path.isabs(d[0]):
            return False
        now = snap.blob(d[0])
        if (now is None) != (d[1] == "-") or (now is not None and now != d[1]):
            return False
    return True


def _check_archive_files(root: str, tasks: list) -> list[list]:
    """[rel, blob id, file problems, attachment deps, attachment problems] of each archive file:
    archive.validate_file's verdict, then its attachments against their sha256."""
    from wuye.archive import dossier as archive
    from wuye.storage import cache
    from wuye.models.archive_meta import BY_KEY

    base = Path(root)
    out = []
    for tid, key, rel in tasks:
        c = BY_KEY[key]
        blob, problems, deps, att = None, [], [], []
        try:
            raw = _read_raw(base, rel)
            blob = cache.blob_id(raw)
            obj, problems = archive.validate_text(rel, yamlio.text_of(raw, rel), tid, c)
        except WuyeError as e:
            obj, problems = None, e.problems
        if obj is not None and c.is_list:
            for entry in obj.entries:
                for doc in getattr(entry, "documents", None) or []:
                    deps.append(_check_attachment(base, tid, c.filename, entry.id, doc, att))
        out.append([rel, blob, cache.problems_to_json(problems), deps, cache.problems_to_json(att)])
    return out


def _check_attachment(root: Path, tid: str, filename: str, entry_id, doc, problems: list) -> list:
    """Check one attachment; [its path in the store, its blob id] for the cache, the blob id None
    when the result cannot be keyed by the file's content alone (a symlink on the way)."""
    rel = f"tenants/{tid}/{filename}"
    tdir = root / "tenants" / tid
    target = (tdir / doc.path).resolve()
    plain = Path(os.path.normpath(tdir.resolve() / doc.path))
    where = os.path.relpath(plain, root.resolve())
    if not target.is_relative_to(tdir.resolve()):
        problems.append(Problem(rel, tr("%s 的附件路径 %s 超出租户目录" % (entry_id, doc.path), "%s: attachment path %s leaves the tenant folder" % (entry_id, doc.path))))
        return [where, None]
    if not target.is_file():
        problems.append(Problem(rel, tr("%s 的附件 %s 不存在" % (entry_id, doc.path), "%s: attachment %s is missing" % (entry_id, doc.path))))
        return [where, "-" if target == plain else None]
    h = hashlib.sha256()
    g = hashlib.sha1(b"blob %d\0" % target.stat().st_size)
    with open(target, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            g.update(chunk)
    if h.hexdigest() != doc.sha256:
        problems.append(Problem(rel, tr("%s 的附件 %s 与登记的 sha256 不符（文件被替换或改动）" % (entry_id, doc.path),
                                        "%s: attachment %s does not match its sha256 (replaced or changed)" % (entry_id, doc.path))))
    return [where, g.hexdigest() if target == plain else None]


def check_archive(store: Store, report: Report, snap=None, results=None) -> None:
    tids = store.tenant_ids()
    report.counts["tenants"] = len(tids)
    for tid, keys, got in archive_files(store, tids, snap, results):
        if "profile" not in keys:
            report.problems.append(Problem(f"tenants/{tid}/profile.yaml", tr("缺少客户单位资料", "the profile is missing")))
        for key in keys:
            file_problems, attachment_problems = got[key]
            report.problems += file_problems + attachment_problems


def case_dirs(store: Store, tids: list[str] | None = None) -> list[tuple[str, str]]:
    """moveout.case_dirs, from one listing per tenant that has a moveout folder (pathlib's glob
    over 10,000 tenant folders takes a fifth of a second, twice per run)."""
    base = f"{store.root}/tenants"
    out = []
    for tid in store.tenant_ids() if tids is None else tids:
        try:
            names = sorted(e.name for e in os.scandir(f"{base}/{tid}/moveout") if not e.name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            continue
        out += [(tid, cid) for cid in names if os.path.exists(f"{base}/{tid}/moveout/{cid}/case.yaml")]
    return out


def check_case_ids(store: Store, report: Report, cases: list[tuple[str, str]] | None = None) -> None:
    """One case id, one case: two offices can each open MO-2026-0001 offline (ids are allocated
    per machine), and a case id names its case in every signed entry, so it cannot be renumbered.
    Reported as an error because `wuye moveout` finds a case by id alone: the second case would
    go unverified here, and a signature meant for it would land on the other."""
    from wuye.moveout import cases as moveout

    tenants: dict[str, list[str]] = {}
    for tid, cid in moveout.case_dirs(store) if cases is None else cases:
        tenants.setdefault(cid, []).append(tid)
    for cid, tids in tenants.items():
        if len(tids) > 1:
            for tid in tids:
                report.problems.append(Problem(f"tenants/{tid}/moveout/{cid}/case.yaml", tr(
                    "案件编号 %s 同时用于租户 %s（两处离线各自开了案？）；案件编号已签入每个条目，不能改号：尚未推送的一方须重新开案，见 `wuye sync --help`"
                    % (cid, "、".join(tids)),
                    "case id %s is used by tenants %s (opened in two offices offline?); it is signed into every entry and cannot be "
                    "renumbered: the side that has not pushed must reopen its case, see `wuye sync --help`" % (cid, ", ".join(tids)))))


def _case_key(store: Store, snap, tid: str, cid: str, common: str) -> str:
    """What a case's verdict depends on: its files (names and blob ids), workflow and staff."""
    cdir = f"tenants/{tid}/moveout/{cid}"
    h = hashlib.sha1(f"{cdir}\n{common}".encode())
    h.update(f"\ncase.yaml {snap.blob(f'{cdir}/case.yaml')}".encode())
    try:
        names = sorted(e.name for e in os.scandir(store.root / cdir / "steps"))
    except (FileNotFoundError, NotADirectoryError):
        names = None
    h.update(f"\nsteps {names is not None}".encode())
    for name in names or []:
        h.update(f"\n{name} {snap.blob(f'{cdir}/steps/{name}')}".encode())
    return h.hexdigest()


def check_cases(store: Store, report: Report, wf, snap=None, results=None, cases: list[tuple[str, str]] | None = None) -> None:
    """Every case verified (moveout.case_problems); `wf` is the workflow, or a function giving it."""
    from wuye.storage import cache
    from wuye.moveout import cases as moveout

    WORKFLOW = WORKFLOW_FILE
    workflow = wf if callable(wf) else (lambda: wf)

    cases = moveout.case_dirs(store) if cases is None else cases
    report.counts["cases"] = len(cases)
    from collections import Counter

    uses = Counter(cid for _, cid in cases)
    common = ""
    if results is not None and snap is not None:
        staff = _yaml_names(store.path("staff"))
        common = "\n".join([f"{WORKFLOW} {snap.blob(WORKFLOW)}", *(f"staff/{n} {snap.blob(f'staff/{n}')}" for n in staff)])
    entries = 0
    for tid, cid in cases:
        key = _case_key(store, snap, tid, cid, common) if common else ""
        hit = results.case(f"tenants/{tid}/moveout/{cid}", key) if common else None
        if hit is not None and not hit[0] and isinstance(hit[1], int):
            problems, n = hit
        else:
            # A case id used twice is loaded by id, which refuses (as before); otherwise the
            # folder is known and the store need not be searched for it again.
            where = (tid, f"tenants/{tid}/moveout/{cid}") if uses[cid] == 1 else None
            case = moveout.load_case(store, cid, where)
            problems, n = cache.problems_to_json(moveout.case_problems(store, workflow(), case)), len(case.entries)
            if common:
                results.put_case(f"tenants/{tid}/moveout/{cid}", key, [problems, n])
        entries += n
        report.problems += cache.problems_from_json(problems)
    report.counts["entries"] = entries


def check_history(store: Store, report: Report, results=None) -> None:
    """Signed entries are append-only in git too; and signed history is never rewritten.

    Commits already found clean (recorded in the cache) are not read again: only those since.
    """
    head = audit.head(store.root)
    if head is None:
        return
    since = results.history if results is not None else None
    if since is not None and not _is_ancestor(store.root, since, head):
        since = None  # rewritten, or gone: read it all
    before = len(report.problems)
    # -m: a merge commit is compared with each of its parents too, so a change slipped into a
    # merge (or a signed entry dropped when resolving one) is not hidden by git log's default of
    # showing no diff for merges.
    out = audit.read(store.root, ["log", "-m", "--format=%x1e%h", "--name-status", "--diff-filter=MDR", "--no-renames",
                                  f"{since}..{head}" if since else head, "--", "tenants/*/moveout/*/steps/*"])
    commit = None
    # split("\n"), not splitlines(): splitlines() also breaks at the \x1e that marks a commit.
    for line in out.split("\n"):
        if line.startswith("\x1e"):
            commit = line[1:]
            continue
        status, _, path = line.partition("\t")
        if not path:
            continue
        if status.startswith("M"):
            report.problems.append(Problem(path, tr("已签字的条目在提交 %s 中被改动；条目只能追加，更正须用 --correct" % commit,
                                                    "a signed entry was modified in commit %s; entries are append-only, corrections use --correct" % commit)))
        elif status.startswith("D"):
            report.problems.append(Problem(path, tr("已签字的条目在提交 %s 中被删除" % commit, "a signed entry was deleted in commit %s" % commit)))
    if results is not None and len(report.problems) == before and results.history != head:
        results.history = head
        results.changed = True
    marker = audit.git_dir(store.root) / VERIFIED_HEAD
    if marker.is_file():
        last = marker.read_text().strip()
        if not _is_ancestor(store.root, last, head):
            report.problems.append(Problem(".git", tr(
                "历史被改写：上次校验通过的提交 %s 不再是 HEAD 的祖先（amend、rebase 或强制覆盖？）" % last[:10],
                "history was rewritten: %s, verified last time, is no longer an ancestor of HEAD (amend, rebase or force?)" % last[:10])))


def _is_ancestor(root: Path, commit: str, head: str) -> bool:
    return audit.read(root, ["merge-base", "--is-ancestor", commit, head], check=False) is not None


def record_verified(store: Store) -> None:
    head = audit.head(store.root)
    if head is None:
        return
    marker = audit.git_dir(store.root) / VERIFIED_HEAD
    marker.parent.mkdir(exist_ok=True)
    write_atomic(marker, (head + "\n").encode(), tmp=marker.with_suffix(".tmp"), mode=0o666, sync=False)


def _settings_key(store: Store, snap) -> str:
    """What the settings, workflow and staff checks read: their files' names and blob ids."""
    rels = ["wuye.yaml", WORKFLOW_FILE, ALLOWED_SIGNERS_FILE, *(f"staff/{n}" for n in _yaml_names(store.path("staff")))]
    return hashlib.sha1("\n".join(f"{rel} {snap.blob(rel)}" for rel in rels).encode()).hexdigest()


def check_settings(store: Store, report: Report, snap=None, results=None):
    """The settings, the workflow and the staff; the workflow, loaded when first asked for.

    A warm run whose settings, workflow and staff files are as they were when found sound does not
    read them again (nor import the models they need); the workflow is then loaded only if a case
    has to be checked.
    """
    key = _settings_key(store, snap) if results is not None else None
    hit = results.settings if results is not None else None
    if hit is not None and hit[0] == key and not hit[1] and isinstance(hit[2], int):
        report.counts["staff"] = hit[2]
        loaded = []

        def workflow():
            from wuye.moveout import workflow as wf

            if not loaded:
                loaded.append(wf.load(store))
            return loaded[0]

        return workflow
    before = len(report.problems)
    check_config(store, report)
    wf = check_workflow(store, report)
    check_staff(store, report)
    if results is not None:
        results.settings = [key, cache_problems(report.problems[before:]), report.counts["staff"]]
        results.changed = True
    return (lambda: wf) if wf is not None else None


def cache_problems(problems) -> list:
    from wuye.storage import cache

    return cache.problems_to_json(problems)


def verify(store: Store) -> Report:
    from wuye.storage import cache

    report = Report()
    results = cache.Results(store.root) if cache.enabled() else None
    snap = cache.Snapshot.take(store.root) if results is not None else None
    workflow = check_settings(store, report, snap, results)
    check_units(store, report, snap, results)
    check_archive(store, report, snap, results)
    cases = case_dirs(store)
    check_case_ids(store, report, cases)
    if workflow is not None:
        check_cases(store, report, workflow, snap, results, cases)
    check_history(store, report, results)
    if results is not None:
        results.save(prune_files=True, prune_cases=workflow is not None)
    if not report.errors:
        record_verified(store)
    return report
