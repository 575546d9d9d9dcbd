"""verify: every ledger item is sealed by someone who may handle money, or comes from a signed move-out.

Each item of each tenant's `payments.yaml` must carry a seal that checks out under the authority
chain (trust/money.py), judged on the item as it was sealed. Two kinds of change come from a
closed case instead, and are judged against its signed entries: the closing marks of the
statement (`closed_by` names the case, which must be closed and cite the item; that the marks are
exactly closing's is statements._cited_changes' check), and the balance a closed case left owed,
which must be the one its signed settlement, collection and write-off give (cases.due_record).

A problem names the file, the item's line, and the commit that last changed the file, so that
an office can find who made the change (`git show COMMIT`).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from pathlib import Path

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import cache
from wuye.storage import git as audit
from wuye.storage import layout
from wuye.storage import yamlio
from wuye.storage.store import Store
from wuye.trust import money
from wuye.verify.context import Context

FILE = "payments.yaml"


def check_money(store: Store, ctx: Context) -> list[Problem]:
    chain = ctx.chain()
    if not chain.versions:
        return []  # no chain: authority.missing says nothing can be judged
    case_ids: dict[str, list[str]] = {}
    for t, cid in ctx.case_dirs():
        case_ids.setdefault(t, []).append(cid)
    files = []  # (tid, rel, cache key or None)
    for tid in store.tenant_ids():
        rel = f"tenants/{tid}/{FILE}"
        if store.path(rel).is_file():
            files.append((tid, rel, _key(ctx, rel, tid, case_ids.get(tid, []))))
    found: dict[str, list[Problem]] = {}
    todo = []
    for tid, rel, key in files:
        hit = ctx.keyed_hit(f"money:{rel}", key) if key is not None else None
        if hit is not None:
            found[rel] = hit[0]
        else:
            todo.append((tid, rel))
    # Every seal is a signature to check (15,000 of them at 1,000 tenants): in worker processes
    # when there are many, as the files are. The workers are forked, so they have the chain.
    global _CHAIN
    _CHAIN = chain
    try:
        results = cache.run_batches(_check_files, store.root, todo, many=PARALLEL_FILES)
    finally:
        _CHAIN = None
    keys = {rel: key for _, rel, key in files}
    for (tid, rel), (problems, n) in zip(todo, results):
        found[rel] = problems
        if keys[rel] is not None:
            ctx.keyed_put(f"money:{rel}", keys[rel], problems, n)
    out: list[Problem] = []
    for _, rel, _ in files:
        problems = found[rel]
        if problems:
            # --topo-order: commits made within the same second are still named child first.
            commit = (audit.read(store.root, ["log", "-1", "--topo-order", "--format=%H", "--", rel], check=False) or "").strip()
            if commit:
                problems = [Problem(p.path, p.message + tr("（最后改动此文件的提交：%s）", " (last changed in commit %s)") % commit[:10],
                                    p.line, p.col, code=p.code) for p in problems]
            out += problems
    return out


PARALLEL_FILES = 200  # ledgers to check before it pays to fork workers (each is a dozen signatures)
_CHAIN = None  # the authority chain, for _check_files in this process or its forked workers


def _check_files(root: str, tasks: list[tuple[str, str]]) -> list[tuple[list[Problem], int]]:
    """(problems, ledger items) of each (tenant id, payments.yaml) in `tasks`."""
    store = Store(Path(root))
    chain = _CHAIN if _CHAIN is not None else _load_chain(store)
    cases: dict[str, object] = {}
    return [_file(store, chain, tid, rel, cases) for tid, rel in tasks]


def _load_chain(store: Store):
    from wuye.trust import authority

    return authority.load(store)


def _file(store: Store, chain, tid: str, rel: str, cases: dict) -> tuple[list[Problem], int]:
    try:
        text = yamlio.read_text(store.path(rel), rel)
        doc = yamlio.loads(text, rel)
    except WuyeError:
        return [], 0  # check_archive reports the file
    entries = [e for e in (doc.get("entries") or []) if isinstance(e, dict)] if isinstance(doc, dict) else []
    problems = []
    for i, e in enumerate(entries):
        found = item_problems(store, chain, tid, rel, e, cases)
        if found:
            line = yamlio.locate(text, ("entries", i))[0]
            found = [Problem(p.path, p.message, line, p.col, code=p.code) for p in found]
        problems += found
    return problems, len(entries)


def _key(ctx: Context, rel: str, tid: str, case_ids: list[str]) -> str | None:
    """What the file's verdict depends on, known without reading it (a warm run reads no ledger):
    its blob id, the authority and staff, and the tenant's move-out cases, which closing marks
    and balances due are judged against."""
    if ctx.snap is None:
        return None
    h = hashlib.sha1(f"{ctx.settings_key()}\n{rel} {ctx.snap.blob(rel)}".encode())
    for cid in case_ids:
        h.update(f"\n{cid} {ctx._case_key(f'tenants/{tid}/moveout/{cid}')}".encode())
    return h.hexdigest()


def item_problems(store: Store, chain, tid: str, rel: str, entry: dict, cases: dict) -> list[Problem]:
    """What is wrong with one ledger item (its line is the caller's to find: only for problems)."""
    line = None
    eid = entry.get("id", "?")

    def bad(zh: str, en: str, code: str = "money.closing-bad") -> list[Problem]:
        return [Problem(rel, tr("%s：", "%s: ") % eid + tr(zh, en), line, code=code)]

    if entry.get("source") == "settlement" and not entry.get("seal"):
        return _due(store, tid, entry, cases, bad)
    closed = entry.get("closed_by")
    if closed is not None:
        cid = str(closed.get("case", "")) if isinstance(closed, dict) else ""
        case = _case(store, tid, cid, cases)
        if case is None or not case.closed:
            return bad("closed_by 所指的迁出案件 %s 不存在或尚未结案" % cid, "closed_by names move-out case %s, which does not exist or is not closed" % cid)
        from wuye.moveout.cases import closing_codes

        settlement = case.latest_steps().get("settlement")
        codes = closing_codes((settlement or {}).get("data", {}).get("lines", [])).get(FILE, {})
        if str(eid) not in codes:
            return bad("迁出案件 %s 的结算单没有结清此项" % cid, "the statement of move-out case %s does not settle this item" % cid)
    return money.seal_problems(chain, tid, entry, rel, line)


def _due(store: Store, tid: str, entry: dict, cases: dict, bad) -> list[Problem]:
    """An unsealed balance due: exactly what its closed case's signed entries give."""
    from wuye.moveout.cases import due_record

    cid = str(entry.get("source_ref") or "")
    case = _case(store, tid, cid, cases)
    if case is None or not case.closed:
        return bad("没有签章的结算应补款，其迁出案件 %s 不存在或尚未结案" % cid,
                   "an unsealed settlement balance whose move-out case %s does not exist or is not closed" % cid, "money.unsealed")
    expected = due_record(case)
    if expected is None or any(not _same(entry.get(k), expected.get(k)) for k in ("kind", "amount", "paid", "written_off", "source_ref")):
        return bad("结算应补款与迁出案件 %s 签字的结算、收款或核销不符；收款后应由财务签章" % cid,
                   "the settlement balance does not match what move-out case %s signed (settlement, collection, write-off); a payment against it is sealed by finance" % cid)
    return []


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return bool(a) == bool(b)
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return str(a) == str(b)


def _case(store: Store, tid: str, cid: str, cases: dict):
    """The tenant's own case `cid`, or None: an item is closed or settled only by a case of its
    tenant. Looked for in that tenant's folder alone (searching all 10,000 tenants' folders for
    each case took 2 million stats of a verify); an id used by two tenants is the cases check's
    problem (case.duplicate-id)."""
    if (tid, cid) not in cases:
        from wuye.moveout.cases import load_case

        cdir = f"tenants/{tid}/moveout/{cid}"
        found = None
        if layout.CASE_ID.fullmatch(cid) and store.path(f"{cdir}/case.yaml").is_file():
            try:
                found = load_case(store, cid, (tid, cdir))
            except WuyeError:
                found = None
        cases[tid, cid] = found
    return cases[tid, cid]
