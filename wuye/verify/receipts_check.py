"""Verify's receipts check: the history here still holds every head the central witnessed.

The central repository signs a receipt for each push it accepts (trust/receipts.py), and offices
fetch them with `wuye sync`. This check takes the receipts this clone has and the central key it
pinned (trust/pins.py) and reports: a receipt not signed by that key, a broken chain, and a
witnessed head that this clone's history lacks (a commit it does not have at all) or that is no
longer an ancestor of the branch here or of its remote-tracking branch (history rewritten, a case
filtered out, a branch forced back). That is what a fresh clone, with no `.git/wuye/verified-head`
of its own, checks its history against. A store never pushed anywhere (no receipts, no central
pinned) has nothing to check here and keeps the local check of check_history.
"""

from __future__ import annotations

from pathlib import Path

from wuye.errors import Problem
from wuye.i18n import tr
from wuye.storage import git as audit
from wuye.storage.store import Store
from wuye.trust import pins, receipts


def check_receipts(store: Store, ctx) -> list[Problem]:
    """Every receipt signed by the pinned central key, chained, and its head in the history here."""
    root = Path(store.root)
    if not receipts.present(root):
        return []
    found, problems = receipts.check(root, pins.read(root).get("central"))
    problems += _witnessed(root, found)
    ctx.counts["receipts"] = len(found)
    return problems


def _witnessed(root: Path, found: list[receipts.Receipt]) -> list[Problem]:
    if _all_contained(root, found):
        return []
    problems = []
    missing = set(_missing(root, sorted({r.new for r in found})))
    reachable: dict[str, set[str]] = {}
    for r in found:
        if r.new in missing:
            problems.append(Problem(receipts.REF, tr(
                "%s 见证了提交 %s，但本档案库的历史中没有它（被改写或删去的历史？）",
                "%s witnessed commit %s, which this store's history does not have (rewritten or removed history?)")
                % (r.describe(), r.new), code="receipt.head-missing"))
            continue
        branch = r.ref.removeprefix("refs/heads/")
        if branch not in reachable:
            reachable[branch] = _reachable(root, branch)
        if r.new not in reachable[branch]:
            problems.append(Problem(receipts.REF, tr(
                "%s 见证的提交 %s 既不是本地 HEAD 或 %s 的祖先，也不是远端跟踪分支 */%s 的祖先：历史在推送之后被改写（强制回退、删去了案件？）",
                "%s witnessed commit %s, which is an ancestor neither of the local HEAD or %s nor of a remote-tracking */%s: "
                "history was rewritten after that push (a branch forced back, a case filtered out?)")
                % (r.describe(), r.new, branch, branch), code="receipt.head-rewritten"))
    return problems


def _all_contained(root: Path, found: list[receipts.Receipt]) -> bool:
    """The common case, in one cheap git call: every witnessed head is reachable from the tips of its
    branch here (`rev-list heads --not tips` walks only what the tips lack: nothing, usually). Any
    doubt, a missing object included, goes to the receipt-by-receipt look that names each one."""
    for branch in sorted({r.ref.removeprefix("refs/heads/") for r in found}):
        tips = _tips(root, branch)
        if not tips:
            return False
        heads = sorted({r.new for r in found if r.ref.removeprefix("refs/heads/") == branch})
        status, out, _ = audit.call(root, "rev-list", "--count", "--stdin",
                                    input="".join(h + "\n" for h in heads).encode() + "".join(f"^{t}\n" for t in tips).encode())
        if status != 0 or out.strip() != b"0":
            return False
    return True


def _missing(root: Path, commits: list[str]) -> list[str]:
    """Those of `commits` this repository has no commit object for."""
    if not commits:
        return []
    out = audit.run(root, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                    input="".join(c + "\n" for c in commits).encode())
    have = {line.split()[0] for line in out.splitlines() if line.endswith(" commit")}
    return [c for c in commits if c not in have]


def _tips(root: Path, branch: str) -> list[str]:
    """HEAD, the local branch and each remote-tracking branch of that name."""
    tips = ["HEAD"] if audit.head(root) is not None else []
    refs = audit.run(root, "for-each-ref", "--format=%(refname)", f"refs/heads/{branch}", "refs/remotes/")
    return tips + [ref for ref in refs.split() if ref == f"refs/heads/{branch}" or
                   (ref.startswith("refs/remotes/") and ref.split("/", 3)[-1] == branch)]


def _reachable(root: Path, branch: str) -> set[str]:
    """Every commit of the branch's tips here: one `rev-list` for all of them (a receipt per push,
    thousands of them, costs no git call each)."""
    tips = _tips(root, branch)
    return set(audit.run(root, "rev-list", *tips).split()) if tips else set()
