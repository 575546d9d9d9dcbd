"""`wuye verify`: is the whole store what it claims to be?

Checks, each a small function adding located problems to one list: the settings, the workflow,
the staff and allowed_signers, the units, every archive file against its schema, attachments
against their sha256, every move-out case (signatures, keys valid at signing time, departments,
the needs DAG, revisions, closed-ness), one case per case id, and git history: a signed entry
that was ever modified or deleted in a commit, and a HEAD that no longer descends from the last
verified one (an amend or rebase of signed history). The last verified HEAD is kept under .git/, never in tracked files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from . import audit
from .errors import Problem, WuyeError
from .i18n import tr
from .store import Store

VERIFIED_HEAD = "wuye/verified-head"


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
    from . import workflow

    try:
        return workflow.load(store)
    except WuyeError as e:
        report.problems += e.problems or [Problem(workflow.WORKFLOW, str(e))]
        return None


def check_staff(store: Store, report: Report) -> None:
    from .staff import ALLOWED_SIGNERS, all_staff, allowed_signers_text

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


def check_units(store: Store, report: Report) -> None:
    from .models.store import Unit

    n = 0
    for p in sorted(store.path("units").glob("*.yaml")) if store.path("units").is_dir() else []:
        n += 1
        try:
            u = store.read_model(f"units/{p.name}", Unit)
            if u.id != p.stem:
                report.problems.append(Problem(f"units/{p.name}", tr("id %r 与文件名不符" % u.id, "id %r does not match the file name" % u.id)))
        except WuyeError as e:
            report.problems += e.problems
    report.counts["units"] = n


def check_archive(store: Store, report: Report) -> None:
    from . import archive
    from .models.archive import CATEGORIES

    tids = store.tenant_ids()
    report.counts["tenants"] = len(tids)
    for tid in tids:
        tdir = store.path(f"tenants/{tid}")
        if not (tdir / "profile.yaml").is_file():
            report.problems.append(Problem(f"tenants/{tid}/profile.yaml", tr("缺少客户单位资料", "the profile is missing")))
        for c in CATEGORIES:
            if not (tdir / c.filename).is_file():
                continue
            obj, problems = archive.validate_file(store, tid, c)
            report.problems += problems
            if obj is not None and c.is_list:
                for entry in obj.entries:
                    for doc in getattr(entry, "documents", None) or []:
                        _check_attachment(store, tid, c.filename, entry.id, doc, report)


def _check_attachment(store: Store, tid: str, filename: str, entry_id, doc, report: Report) -> None:
    rel = f"tenants/{tid}/{filename}"
    target = (store.path(f"tenants/{tid}") / doc.path).resolve()
    if not target.is_relative_to(store.path(f"tenants/{tid}").resolve()):
        report.problems.append(Problem(rel, tr("%s 的附件路径 %s 超出租户目录" % (entry_id, doc.path), "%s: attachment path %s leaves the tenant folder" % (entry_id, doc.path))))
        return
    if not target.is_file():
        report.problems.append(Problem(rel, tr("%s 的附件 %s 不存在" % (entry_id, doc.path), "%s: attachment %s is missing" % (entry_id, doc.path))))
        return
    h = hashlib.sha256()
    with open(target, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != doc.sha256:
        report.problems.append(Problem(rel, tr("%s 的附件 %s 与登记的 sha256 不符（文件被替换或改动）" % (entry_id, doc.path),
                                               "%s: attachment %s does not match its sha256 (replaced or changed)" % (entry_id, doc.path))))


def check_case_ids(store: Store, report: Report) -> None:
    """One case id, one case: two offices can each open MO-2026-0001 offline (ids are allocated
    per machine), and a case id names its case in every signed entry, so it cannot be renumbered.
    Reported as an error because `wuye moveout` finds a case by id alone: the second case would
    go unverified here, and a signature meant for it would land on the other."""
    from . import moveout

    tenants: dict[str, list[str]] = {}
    for tid, cid in moveout.case_dirs(store):
        tenants.setdefault(cid, []).append(tid)
    for cid, tids in tenants.items():
        if len(tids) > 1:
            for tid in tids:
                report.problems.append(Problem(f"tenants/{tid}/moveout/{cid}/case.yaml", tr(
                    "案件编号 %s 同时用于租户 %s（两处离线各自开了案？）；案件编号已签入每个条目，不能改号：尚未推送的一方须重新开案，见 `wuye sync --help`"
                    % (cid, "、".join(tids)),
                    "case id %s is used by tenants %s (opened in two offices offline?); it is signed into every entry and cannot be "
                    "renumbered: the side that has not pushed must reopen its case, see `wuye sync --help`" % (cid, ", ".join(tids)))))


def check_cases(store: Store, report: Report, wf) -> None:
    from . import moveout

    cases = moveout.case_dirs(store)
    report.counts["cases"] = len(cases)
    entries = 0
    for _, cid in cases:
        case = moveout.load_case(store, cid)
        entries += len(case.entries)
        report.problems += moveout.case_problems(store, wf, case)
    report.counts["entries"] = entries


def check_history(store: Store, report: Report) -> None:
    """Signed entries are append-only in git too; and signed history is never rewritten."""
    from git.exc import GitCommandError

    head = audit.head(store.root)
    if head is None:
        return
    git = audit._git(store.root)
    # -m: a merge commit is compared with each of its parents too, so a change slipped into a
    # merge (or a signed entry dropped when resolving one) is not hidden by git log's default of
    # showing no diff for merges.
    out = git.log("-m", "--format=%x1e%h", "--name-status", "--diff-filter=MDR", "--no-renames", "--",
                  "tenants/*/moveout/*/steps/*")
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
    marker = store.root / ".git" / VERIFIED_HEAD
    if marker.is_file():
        last = marker.read_text().strip()
        try:
            git.merge_base("--is-ancestor", last, head)
        except GitCommandError:
            report.problems.append(Problem(".git", tr(
                "历史被改写：上次校验通过的提交 %s 不再是 HEAD 的祖先（amend、rebase 或强制覆盖？）" % last[:10],
                "history was rewritten: %s, verified last time, is no longer an ancestor of HEAD (amend, rebase or force?)" % last[:10])))


def record_verified(store: Store) -> None:
    head = audit.head(store.root)
    if head is None:
        return
    marker = store.root / ".git" / VERIFIED_HEAD
    marker.parent.mkdir(exist_ok=True)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(head + "\n")
    tmp.replace(marker)


def verify(store: Store) -> Report:
    report = Report()
    check_config(store, report)
    wf = check_workflow(store, report)
    check_staff(store, report)
    check_units(store, report)
    check_archive(store, report)
    check_case_ids(store, report)
    if wf is not None:
        check_cases(store, report, wf)
    check_history(store, report)
    if not report.errors:
        record_verified(store)
    return report
