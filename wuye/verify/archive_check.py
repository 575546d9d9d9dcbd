"""`wuye archive check`: every archive file (or one tenant's) valid, and what each dossier lacks.

Here rather than in wuye.archive because the whole store is checked through verify's cached file
checks (`archive_files`), which read the same files the same way `wuye verify` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from wuye.archive.dossier import validate_file
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.models.archive_meta import CATEGORIES
from wuye.storage.store import Store


@dataclass
class CheckReport:
    tenants: int
    problems: list[Problem]
    missing: dict[str, list[str]]  # tenant id -> missing category keys

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def check(store: Store, tenant_id: str | None = None) -> CheckReport:
    """Validate every archive file (or one tenant's) and list what each dossier lacks.

    The whole store is checked through verify's cached file checks: a file whose git blob id is
    the one it was last checked as keeps its result (see cache.py).
    """
    if not tenant_id:
        return _check_all(store)
    tids = [tenant_id]
    problems: list[Problem] = []
    missing: dict[str, list[str]] = {}
    for tid in tids:
        if not store.path(store.tenant_rel(tid)).is_dir():
            raise WuyeError(tr("租户 %s 不存在", "tenant %s does not exist") % tid)
        lacks = []
        for c in CATEGORIES:
            if not store.path(store.tenant_rel(tid, c.filename)).is_file():
                lacks.append(c.key)
                continue
            _, found = validate_file(store, tid, c)
            problems += found
        if "profile" in lacks:
            problems.append(Problem(store.tenant_rel(tid, "profile.yaml"),
                                    tr("缺少客户单位资料（每个租户都必须有）", "the profile is missing (every tenant needs one)"),
                                    code="archive.profile-missing"))
        missing[tid] = lacks
    return CheckReport(len(tids), problems, missing)


def _check_all(store: Store) -> CheckReport:
    from wuye.verify.context import Context

    tids = store.tenant_ids()
    for tid in tids:
        store.tenant_rel(tid)  # a folder that is no tenant id is refused, as one by one
    ctx = Context(store)
    problems: list[Problem] = []
    missing: dict[str, list[str]] = {}
    for tid, keys, got in ctx.archive(tids, attachments=False):
        for key in keys:
            problems += got[key][0]
        lacks = [c.key for c in CATEGORIES if c.key not in keys]
        if "profile" in lacks:
            problems.append(Problem(store.tenant_rel(tid, "profile.yaml"),
                                    tr("缺少客户单位资料（每个租户都必须有）", "the profile is missing (every tenant needs one)"),
                                    code="archive.profile-missing"))
        missing[tid] = lacks
    ctx.save(prune_files=False, prune_cases=False)
    return CheckReport(len(tids), problems, missing)
