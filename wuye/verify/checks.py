"""`wuye verify`: is the whole store what it claims to be?

A registry of named checks, in the manner of beancount's validation list: `CHECKS` lists them in
the order they run, each `check_x(store, ctx) -> list[Problem]`, every problem with a stable code
(errors.CODES). They are: the settings, the workflow, the staff and allowed_signers, the units,
every archive file against its schema, attachments against their sha256, every ledger item's seal
(money_check.py), one case per case id,
every move-out case (signatures, keys valid at signing time, departments, the needs DAG,
revisions, closed-ness), and git history: a signed entry that was ever modified or deleted in a
commit, and a HEAD that no longer descends from the last verified one (an amend or rebase of
signed history). The last verified HEAD is kept under .git/, never in tracked files.

The derived cache is not in the checks: they ask the run's `Context` (context.py) for results, and
it decides what was already found clean and what must be checked again (files by git blob id,
cases by the blob ids of their files, the workflow and the staff). The files themselves are
judged in files.py, in worker processes when there are many.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from wuye.storage import git as audit
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import layout
from wuye.storage.atomic import write_atomic
from wuye.storage.store import Store
from wuye.verify.authority_check import check_authority, history_problems
from wuye.verify.context import Context, yaml_names
from wuye.verify.files import check_unit_files
from wuye.verify.layout_check import check_layout
from wuye.verify.money_check import check_money
from wuye.verify.receipts_check import check_receipts
from wuye.verify.statements import check_statements
from wuye.verify.unchanged import Unchanged

VERIFIED_HEAD = "wuye/verified-head"
CANCEL = "cancel"  # models.workflow.CANCEL: the cancellation's entry, steps/cancel.yaml


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def check_settings(store: Store, ctx: Context) -> list[Problem]:
    """wuye.yaml: readable and valid."""
    def check():
        try:
            store.config
        except WuyeError as e:
            return e.problems or [Problem("wuye.yaml", str(e), code="settings.invalid")], 0
        return [], 0

    return ctx.settings("settings", check)[0]


def check_workflow(store: Store, ctx: Context) -> list[Problem]:
    """The move-out workflow: valid, its steps a DAG. Sets `ctx.workflow` when it is usable; when
    it was found clean before, it is loaded only if a case has to be checked."""
    loaded = []

    def check():
        from wuye.moveout import workflow

        try:
            loaded.append(workflow.load(store))
        except WuyeError as e:
            return e.problems or [Problem(workflow.WORKFLOW, str(e), code="workflow.invalid")], 0
        return [], 0

    def get():
        if not loaded:
            from wuye.moveout import workflow

            loaded.append(workflow.load(store))
        return loaded[0]

    problems, _, reused = ctx.settings("workflow", check)
    ctx.workflow = get if reused or loaded else None
    return problems


def check_staff(store: Store, ctx: Context) -> list[Problem]:
    """Every staff file valid, and allowed_signers what staff/ makes of them."""
    def check():
        from wuye.trust.staff import ALLOWED_SIGNERS, all_staff, allowed_signers_text

        problems, members = [], []
        for p in sorted(store.path("staff").glob("*.yaml")) if store.path("staff").is_dir() else []:
            try:
                members.append(store.staff(p.stem))
            except WuyeError as e:
                problems += e.problems or [Problem(f"staff/{p.name}", str(e), code="staff.invalid")]
        if not ctx.chain().versions and len(members) == len(list(store.path("staff").glob("*.yaml"))):
            expected = allowed_signers_text(all_staff(store))
            actual = store.path(ALLOWED_SIGNERS).read_text(encoding="utf-8") if store.path(ALLOWED_SIGNERS).is_file() else None
            if actual != expected:
                problems.append(Problem(ALLOWED_SIGNERS, tr(
                    "与 staff/ 中的公钥不一致（被手工改动或缺失）；`wuye doctor --fix` 或重新登记可重建",
                    "does not match the keys in staff/ (edited by hand or missing); it is regenerated from staff/"),
                    code="staff.allowed-signers-mismatch"))
        return problems, len(members)

    problems, ctx.counts["staff"], _ = ctx.settings("staff", check)
    return problems


def check_units(store: Store, ctx: Context) -> list[Problem]:
    """Every unit file valid, its id its file name."""
    names = yaml_names(store.path("units"))
    ctx.counts["units"] = len(names)
    found = ctx.files([f"units/{n}" for n in names], check_unit_files)
    return [p for problems, _ in found.values() for p in problems]


def check_archive(store: Store, ctx: Context) -> list[Problem]:
    """Every archive file against its schema; every tenant with a profile."""
    tids = store.tenant_ids()
    ctx.counts["tenants"] = len(tids)
    out = []
    for tid, keys, got in ctx.archive(tids):
        if "profile" not in keys:
            out.append(Problem(f"tenants/{tid}/profile.yaml", tr("缺少客户单位资料", "the profile is missing"),
                               code="archive.profile-missing"))
        for key in keys:
            out += got[key][0]
    return out


def check_attachments(store: Store, ctx: Context) -> list[Problem]:
    """Every attachment an archive entry names: inside its tenant's folder, present, and the bytes
    its sha256 says (read in the same pass as the archive files)."""
    return [p for _, keys, got in ctx.archive(store.tenant_ids()) for key in keys for p in got[key][1]]


def check_case_ids(store: Store, ctx: Context) -> list[Problem]:
    """One case id, one case: two offices can each open MO-2026-0001 offline (ids are allocated
    per machine), and a case id names its case in every signed entry, so it cannot be renumbered.
    Reported as an error because `wuye moveout` finds a case by id alone: the second case would
    go unverified here, and a signature meant for it would land on the other."""
    tenants: dict[str, list[str]] = {}
    for tid, cid in ctx.case_dirs():
        tenants.setdefault(cid, []).append(tid)
    out = []
    for cid, tids in tenants.items():
        if len(tids) > 1:
            for tid in tids:
                out.append(Problem(f"tenants/{tid}/moveout/{cid}/case.yaml", tr(
                    "案件编号 %s 同时用于租户 %s（两处离线各自开了案？）；案件编号已签入每个条目，不能改号：尚未推送的一方须重新开案，见 `wuye sync --help`"
                    % (cid, "、".join(tids)),
                    "case id %s is used by tenants %s (opened in two offices offline?); it is signed into every entry and cannot be "
                    "renumbered: the side that has not pushed must reopen its case, see `wuye sync --help`" % (cid, ", ".join(tids))),
                    code="case.duplicate-id"))
    return out


def check_cases(store: Store, ctx: Context) -> list[Problem]:
    """Every case verified (moveout.case_problems), when the workflow is usable."""
    if ctx.workflow is None:
        return []
    cases = ctx.case_dirs()
    ctx.counts["cases"] = len(cases)
    uses = Counter(cid for _, cid in cases)
    out: list[Problem] = []
    entries = 0
    for tid, cid in cases:
        def check(tid=tid, cid=cid):
            from wuye.moveout import cases as moveout  # here: a run with every case found clean builds no models
            from wuye.moveout import workflow

            # A case id used twice is loaded by id, which refuses (as before); otherwise the
            # folder is known and the store need not be searched for it again.
            where = (tid, f"tenants/{tid}/moveout/{cid}") if uses[cid] == 1 else None
            case = moveout.load_case(store, cid, where)
            try:
                wf = workflow.for_case(store, ctx.chain(), case)
            except WuyeError as e:
                return e.problems or [Problem(f"{case.dir}/case.yaml", str(e), code="authority.workflow-mismatch")], len(case.entries)
            found = moveout.case_problems(store, wf, case, ctx.chain())
            # An amendment awaiting approval is a warning here, not a case problem: signing its
            # approval verifies the case first (amendment_check.pending).
            from wuye.moveout import amendment_check

            found += amendment_check.pending(case)
            if case.cancellation is not None:
                found = _name_commits(ctx, case, found)
            return found + history_problems(store, ctx, case), len(case.entries)

        problems, n = ctx.case(tid, cid, check)
        entries += n
        out += problems
    ctx.counts["entries"] = entries
    return out


def check_history(store: Store, ctx: Context) -> list[Problem]:
    """Signed entries are append-only in git too; and signed history is never rewritten."""
    report = Report()
    # The closing step's id, only if a case.yaml changed: loading the workflow builds its models,
    # which a warm run (no new commits) never needs.
    closing = (lambda: ctx.workflow().closing.id) if ctx.workflow is not None else "release"
    started, ctx.started_history = ctx.started_history, None  # its output is read once
    _check_history(store, report, ctx.results, closing, started)
    return report.problems


def _name_commits(ctx: Context, case, problems: list[Problem]) -> list[Problem]:
    """In a cancelled case, each problem of an entry names the commit that brought the entry in:
    a cancellation or a step signed after one is most often a hostile commit made with plain
    git, and the commit is what the office reverts or reports."""
    from dataclasses import replace

    first = ctx.history().first
    out = []
    for p in problems:
        commit = first.get(p.path) if p.path.startswith(f"{case.dir}/steps/") else None
        out.append(replace(p, message=p.message + tr("（提交 %s）", " (commit %s)") % commit[0][:10]) if commit else p)
    return out


CASE_FILE = re.compile(r"tenants/[^/]+/moveout/(?P<case>[^/]+)/case\.yaml")
REGULAR = "100644"


def start_history(store: Store, results=None):
    """(HEAD, the `git log` arguments, the running git) of the history check, started now so that
    git walks the history while the files are checked (the walk is seconds at 10,000 tenants,
    and runs on git's own CPU time); None before the first commit."""
    head = audit.head(store.root)
    if head is None:
        return None
    since = results.history if results is not None else None
    if since is not None and not _is_ancestor(store.root, since, head):
        since = None  # rewritten, or gone: read it all
    # -m: a merge commit is compared with each of its parents too, so a change slipped into a
    # merge (or a signed entry dropped when resolving one) is not hidden by git log's default of
    # showing no diff for merges.
    # A delta-base cache of 16 MiB, not git's 96: the walk runs beside the file checks' workers,
    # and at 10,000 tenants git's default would add some 110 MB to the run's peak for a few
    # tenths of a second of git's time.
    argv = ["-c", "core.deltaBaseCacheLimit=16m",
            "log", "-m", "-z", "--format=%x1e%h", "--raw", "--no-renames", f"{since}..{head}" if since else head, "--",
            "tenants/*/moveout/*/steps/*", "tenants/*/moveout/*/case.yaml", f"{layout.AUTHORITY_DIR}/*.yaml"]
    return head, argv, audit.start(store.root, *argv)


def _check_history(store: Store, report: Report, results=None, closing="release", started=None) -> None:
    """Signed entries are append-only in git too; and signed history is never rewritten.

    Every change git records to a step entry or a case.yaml is read (`--raw`: status, modes and
    blob ids), not only modifications and deletions: a type change (an entry replaced by a symlink
    to another signed statement, which `--diff-filter=MDR` left out), a mode change, and an entry
    or case.yaml added as anything but a regular file are reported. A case.yaml may change only as
    `wuye moveout sign` changes it when the closing step is signed: in the commit that adds that
    entry, `status` from open to closed and `closed_at` set, nothing else (comments and layout
    included); any other change, or its deletion, is reported.

    Commits already found clean (recorded in the cache) are not read again: only those since.
    `closing` is the closing step's id, or a function giving it (asked only when a case.yaml changed).
    """
    started = started or start_history(store, results)
    if started is None:
        return
    head, argv, running = started
    before = len(report.problems)
    out = running.result()
    out = out.rstrip("\n") if out is not None else audit.read(store.root, argv)  # failed: again, to raise git's words
    problems = report.problems
    case_changes = []  # (commit, path, old blob, new blob, closing entry added, cancellation added: in the same diff)
    # One block per commit (per parent, for a merge): "<commit>\0" then ":<old mode> <new mode>
    # <old blob> <new blob> <status>\0<path>\0" for each file.
    for block in out.split("\x1e")[1:]:
        commit, _, rest = block.partition("\0")
        fields = rest.lstrip("\n").split("\0")
        changes = [(fields[i].split(), fields[i + 1]) for i in range(0, len(fields) - 1, 2) if fields[i].startswith(":")]
        short = commit
        added = {path for raw, path in changes if len(raw) == 5 and raw[4].startswith("A")}
        for raw, path in changes:
            if len(raw) != 5:
                continue
            old_mode, new_mode, old_blob, new_blob, status = raw[0][1:], raw[1], raw[2], raw[3], raw[4]
            if path.startswith(layout.AUTHORITY_DIR + "/"):
                # Authority records only grow by new versions; proposals come and go.
                if "/proposals/" not in path and (status[:1] in "MDT" or (status.startswith("A") and new_mode != REGULAR)):
                    problems.append(Problem(path, tr("授权记录在提交 %s 中被改动、删除或换了类型；授权链只能追加新版本",
                                                     "an authority record was modified, deleted or retyped in commit %s; the chain only grows by new versions") % short,
                                            code="history.authority-modified"))
                continue
            case_file = CASE_FILE.fullmatch(path)
            if status.startswith("T") or (status.startswith("M") and old_mode != new_mode) or (status.startswith("A") and new_mode != REGULAR):
                problems.append(Problem(path, tr("提交 %s 改变了文件的类型或权限（%s → %s，120000 为符号链接）；签字条目和案件文件只能是普通文件",
                                                 "commit %s changed the file's type or mode (%s → %s, 120000 being a symlink); signed entries and case files are regular files only")
                                        % (short, old_mode, new_mode), code="history.type-changed"))
            if case_file:
                if status.startswith("D"):
                    # What `git revert` of `moveout start` does: the case is withdrawn by a signed
                    # cancellation instead, which leaves the signed history whole.
                    problems.append(Problem(path, tr("case.yaml 在提交 %s 中被删除；已开案的迁出不能删除或 git revert，撤销请用 `wuye moveout cancel 案件 --reason 原因 --as 员工`",
                                                     "the case.yaml was deleted in commit %s; a started move-out is not deleted or reverted: "
                                                     "cancel it with `wuye moveout cancel CASE --reason TEXT --as STAFF`") % short,
                                            code="history.case-changed"))
                elif status.startswith("M") and old_blob != new_blob:
                    cdir = path.rsplit("/", 1)[0]
                    if not isinstance(closing, str):
                        closing = closing()
                    case_changes.append((short, path, old_blob, new_blob, f"{cdir}/steps/{closing}.yaml" in added,
                                         f"{cdir}/steps/{CANCEL}.yaml" in added))
                continue
            if status.startswith("M") and old_blob != new_blob:
                problems.append(Problem(path, tr("已签字的条目在提交 %s 中被改动；条目只能追加，更正须用 --correct",
                                                 "a signed entry was modified in commit %s; entries are append-only, corrections use --correct") % short,
                                        code="history.entry-modified"))
            elif status.startswith("D"):
                problems.append(Problem(path, tr("已签字的条目在提交 %s 中被删除", "a signed entry was deleted in commit %s") % short,
                                        code="history.entry-deleted"))
    if case_changes:
        texts = {b: t.decode("utf-8", "replace") for b, t in audit.blobs(store.root, [b for c in case_changes for b in c[2:4]]).items()
                 if t is not None}
        for short, path, old_blob, new_blob, closes, cancels in case_changes:
            old, new = texts.get(old_blob), texts.get(new_blob)
            if not ((closes and _closing_change(old, new)) or (cancels and _closing_change(old, new, "cancelled", "cancelled_at"))):
                problems.append(Problem(path, tr(
                    "case.yaml 在提交 %s 中被改动；它只在结案或撤销时由 wuye 改动（status 改为 closed 或 cancelled、写入 closed_at 或 cancelled_at，"
                    "与结案或撤销条目同一提交）",
                    "the case.yaml was changed in commit %s; only closing or cancelling changes it (status to closed or cancelled and "
                    "closed_at or cancelled_at, in the commit of the closing entry or the cancellation)")
                    % short, code="history.case-changed"))
    if results is not None and len(report.problems) == before and results.history != head:
        results.history = head
        results.changed = True
    marker = audit.git_dir(store.root) / VERIFIED_HEAD
    if marker.is_file():
        last = marker.read_text().strip()
        if not _is_ancestor(store.root, last, head):
            report.problems.append(Problem(".git", tr(
                "历史被改写：上次校验通过的提交 %s 不再是 HEAD 的祖先（amend、rebase 或强制覆盖？）",
                "history was rewritten: %s, verified last time, is no longer an ancestor of HEAD (amend, rebase or force?)") % last[:10],
                code="history.head-rewritten"))


def _closing_change(old: str | None, new: str | None, status: str = "closed", stamp: str = "closed_at") -> bool:
    """Is old -> new exactly what closing (or cancelling: status "cancelled", stamp
    "cancelled_at") writes into a case.yaml: the same text but for `status` (open to closed) and
    the stamp (set)? Compared as text, line by line, so a comment or any other value changed in
    the same commit is not let through."""
    if old is None or new is None:
        return False
    import datetime as dt

    from wuye.storage import yamlio

    try:
        a, b = yamlio.loads(old, "case.yaml"), yamlio.loads(new, "case.yaml")
    except WuyeError:
        return False
    if not (isinstance(a, dict) and isinstance(b, dict)) or a.get("status") != "open" or b.get("status") != status:
        return False
    if a.get(stamp) is not None or not isinstance(b.get(stamp), (str, dt.datetime)):
        return False
    keep = lambda text: [l for l in text.splitlines() if not re.match(rf"(status|{stamp}):", l)]
    return keep(old) == keep(new) and set(a) - {stamp} == set(b) - {stamp}


def _is_ancestor(root: Path, commit: str, head: str) -> bool:
    return audit.read(root, ["merge-base", "--is-ancestor", commit, head], check=False) is not None


def _last_verified(store: Store) -> str | None:
    try:
        return (audit.git_dir(store.root) / VERIFIED_HEAD).read_text().strip()
    except (OSError, audit.NotARepository):
        return None


def record_verified(store: Store) -> None:
    head = audit.head(store.root)
    if head is None:
        return
    marker = audit.git_dir(store.root) / VERIFIED_HEAD
    marker.parent.mkdir(exist_ok=True)
    write_atomic(marker, (head + "\n").encode(), tmp=marker.with_suffix(".tmp"), mode=0o666, sync=False)


CHECKS = [check_settings, check_workflow, check_staff, check_authority, check_units, check_archive, check_attachments,
          check_case_ids, check_cases, check_statements, check_money, check_receipts, check_layout, check_history]


def verify(store: Store, root: str | None = None) -> Report:
    """Run every check of CHECKS, in order; record HEAD as verified when none found an error.

    The authority chain is judged from the root pinned in this repository; `root` (--root FPR)
    pins it when none is, and must equal the pin when one is."""
    from wuye.trust import pins

    pinned = pins.read(store.root).get("root")
    if root is not None and pinned is not None and root != pinned:
        raise WuyeError(tr("--root %s 与本处已固定的根 %s 不符；若确需更换，先删除 %s",
                           "--root %s differs from the root pinned here (%s); to re-pin, first delete %s")
                        % (root, pinned, audit.common_dir(store.root) / pins.FILE))
    # Nothing changed since a clean run: its report, without reading a file (unchanged.py).
    # Only possible while HEAD is the last commit verified here, and not in a run that pins the
    # root; otherwise (after a commit, most often) the verdicts are read while git lists the
    # store, and the store is digested once they are in, still before any check reads a file.
    unchanged = Unchanged(store, pinned or root)
    may_be_unchanged = not (root is not None and pinned is None) and _last_verified(store) == audit.head(store.root)
    counts = unchanged.verdict() if may_be_unchanged else None
    if counts is not None:
        return Report(counts=counts)
    ctx = Context(store, pinned or root, unchanged.snapshot)
    if not may_be_unchanged:
        unchanged.take()
    ctx.started_history = start_history(store, ctx.results)
    report = Report(counts=ctx.counts)
    for check in CHECKS:
        report.problems += check(store, ctx)
    again = unchanged.again() if not report.problems else None
    # Only a run that checked every case may drop the cache entries of cases that are gone.
    ctx.save(prune_files=True, prune_cases=ctx.workflow is not None)
    if not report.errors:
        record_verified(store)
        if root is not None and pinned is None:
            pins.write(store.root, root=root)
    if again is not None:
        unchanged.record(report.counts, again)
    return report
