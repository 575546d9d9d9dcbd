"""Settlement statements that add up, against the archive they were computed from.

A settlement entry is finance's signature under a statement wuye computed. A signature proves who
signed, not that the figures are right: a statement whose lines total 1.00 can say 999999.99, and
a deposit can be cut in the archive once the case is closed. So for every settlement entry this
check, one of verify's CHECKS:

  - adds the signed lines up: credits, charges and balance are what the lines make;
  - recomputes the statement from the archive *as it was at the commit that added the entry*
    (wuye.yaml's fees, rates and proration rule, payments, violations, move_in and the case's entries of then, read
    with `git cat-file` through the git runner: one process for all of them), and compares it line
    by line with the signed one. Lines of "other" charges (`settle --charge`) are finance's own
    input, taken as signed. Line texts are written in the settler's language, which is not
    recorded: the statement must match the one computed in Chinese or the one in English;
  - once the case is closed, compares every archive record the latest statement cites with what
    it was at settling: it may differ only by the marks closing writes (`cases.closing_marks`, in
    the release commit), and a cited move_in field not at all. A cited fee deleted, a deposit cut
    from 142110.00 to 42110.00 after closing: reported, naming the record and the case.

A settlement not yet committed is recomputed from the files as they are. Results are kept in the
verify cache per case, keyed by the case's files and the blob ids of the tenant's files it reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from decimal import Decimal, InvalidOperation

from wuye.errors import Problem, WuyeError
from wuye.i18n import language, tr
from wuye.storage import git as audit
from wuye.storage import yamlio
from wuye.storage.store import Store
from wuye.verify.context import Context

ARCHIVE = ("payments", "violations", "move_in")
MOVE_IN_FIELD = re.compile(r"move_in\.yaml ([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)")
# A batch of cases read in one `git cat-file --batch`: bounds the memory the answer takes.
BATCH = 200
# Up to this many cases to check, their entries are named to `git log` one by one.
FEW = 10


def check_statements(store: Store, ctx: Context) -> list[Problem]:
    """Every settlement statement adds up, is what the archive of its time gives, and the records
    it cites were not changed after closing other than by closing itself."""
    if ctx.workflow is None or not ctx.case_dirs():  # no case: the workflow's models need not be built
        return []
    wf = ctx.workflow()
    step = next((s.id for s in wf.spec.steps if s.computed), None)
    if step is None:
        return []
    from wuye.moveout import cases as moveout

    todo, out = [], []
    for tid, cid in ctx.case_dirs():
        cdir = f"tenants/{tid}/moveout/{cid}"
        if not os.path.isfile(store.path(f"{cdir}/steps/{step}.yaml")):
            continue
        key = _cache_key(store, ctx, cdir)
        hit = ctx.results.case(f"{cdir}#statements", key) if key is not None else None
        if hit is not None and not hit[0]:
            continue
        todo.append((tid, cid, cdir, key))
    if not todo:
        return out
    added = _first_commits(store, step, [cdir for _, _, cdir, _ in todo])
    for i in range(0, len(todo), BATCH):
        chunk = []
        for tid, cid, cdir, key in todo[i:i + BATCH]:
            try:
                case = moveout.load_case(store, cid, (tid, cdir))
            except WuyeError:
                continue  # an unreadable case.yaml: check_cases reports it
            chunk.append((case, key))
        wanted = []
        for case, _ in chunk:
            for s in case.revisions(step):
                commit = added.get(s.rel)
                if commit is not None:
                    wanted += [f"{commit}:{rel}" for rel in _reads(case)]
        blobs = audit.blobs(store.root, wanted)
        for case, key in chunk:
            problems = _case_statements(store, wf, step, case, added, blobs, ctx.chain())
            if key is not None:
                from wuye.storage import cache

                ctx.results.put_case(f"{case.dir}#statements", key, [cache.problems_to_json(problems), 0])
            out += problems
    return out


def _cache_key(store: Store, ctx: Context, cdir: str) -> str | None:
    """What a case's statements are judged from now: its files, the workflow and staff (the case
    key), and the tenant's files and settings it reads. What they were at a settlement's commit
    cannot change while history is not rewritten, which the history check reports."""
    if ctx.results is None or ctx.snap is None:
        return None
    tid = cdir.split("/")[1]
    h = hashlib.sha1(ctx._case_key(cdir).encode())
    for rel in ("wuye.yaml", *(f"tenants/{tid}/{k}.yaml" for k in ARCHIVE)):
        h.update(f"\n{rel} {ctx.snap.blob(rel)}".encode())
    return h.hexdigest()


def _reads(case) -> list[str]:
    """The files a statement of this case is computed from."""
    return ["wuye.yaml", *(f"tenants/{case.tenant_id}/{k}.yaml" for k in ARCHIVE), *(e.rel for e in case.entries)]


def _first_commits(store: Store, step: str, cdirs: list[str]) -> dict[str, str]:
    """{entry path: the commit that first added it} for the settlement entries of these cases.

    --topo-order lists a commit before its ancestors, so the last commit naming a path is the one
    that added it first; -m makes a file added by a merge itself count as added there. A few cases
    (a warm run) are named one by one, which git answers faster than the glob over every case."""
    if audit.head(store.root) is None:
        return {}
    from wuye.moveout.cases import ENTRY_RE

    # Folders, not patterns, where there are few: git matches a wildcard against every path of
    # every commit, and two patterns per case took seconds on a 2,000-tenant store.
    specs = [f"{d}/steps" for d in cdirs] if len(cdirs) <= FEW else [f"tenants/*/moveout/*/steps/{step}*.yaml"]
    out = audit.read(store.root, ["log", "-m", "--topo-order", "--diff-filter=A", "--no-renames", "-z", "--format=%x1e%H",
                                  "--name-only", "--", *specs])
    found: dict[str, str] = {}
    for chunk in out.split("\x1e")[1:]:
        commit, _, rest = chunk.partition("\0")
        for path in rest.lstrip("\n").split("\0"):
            m = ENTRY_RE.fullmatch(path.rsplit("/", 1)[-1])
            if m and m.group("step") == step:
                found[path] = commit
    return found


def _case_statements(store: Store, wf, step: str, case, added: dict, blobs: dict, chain=None) -> list[Problem]:
    out = []
    closing = case.revisions(wf.closing.id)
    revisions = case.revisions(step)
    for s in revisions:
        data = s.data.get("data")
        if not isinstance(data, dict):
            continue  # the entry's schema check reports it
        lines = _signed_lines(data)
        if lines is None:
            continue
        out += _sum_problems(s, data, lines)
        commit = added.get(s.rel)
        then = _archive_then(store, case, s, commit, blobs, chain)
        if isinstance(then, Problem):
            out.append(then)
            continue
        out += _compare(s, commit, lines, then)
        if closing and s is revisions[-1]:
            out += _cited_changes(store, case, s, data, lines, then)
    return out


def _signed_lines(data: dict) -> list[tuple[str, str, str, Decimal]] | None:
    try:
        return [(str(l["code"]), str(l["item"]), str(l["source"]), Decimal(str(l["amount"]))) for l in data.get("lines") or []]
    except (KeyError, TypeError, InvalidOperation):
        return None  # not a statement's shape: the entry's schema check reports it


def _sum_problems(s, data: dict, lines) -> list[Problem]:
    credits = sum((a for *_, a in lines if a > 0), Decimal("0.00"))
    charges = -sum((a for *_, a in lines if a < 0), Decimal("0.00"))
    wrong = []
    for name, value in (("credits", credits), ("charges", charges), ("balance", credits - charges)):
        try:
            signed = Decimal(str(data.get(name)))
        except InvalidOperation:
            signed = None
        if signed != value:
            wrong.append(tr("%s 签为 %s，各行算得 %s", "%s is signed as %s, the lines make %s") % (name, data.get(name), value))
    if not wrong:
        return []
    return [Problem(s.rel, tr("结算单各行之和与合计不符：", "the statement's lines do not add up: ") + "; ".join(wrong),
                    code="statement.sum")]


class _Then:
    """The archive, settings and case entries a statement was computed from."""

    def __init__(self, config, records: dict, raw: dict, steps: dict, scope=None):
        self.config, self.records, self.raw, self.steps, self.scope = config, records, raw, steps, scope


def _archive_then(store: Store, case, s, commit: str | None, blobs: dict, chain=None):
    """What the archive was at `commit` (the files as they are, for an uncommitted settlement).

    The fees, rates and proration rule are those of the authority version the settlement names
    (a version signed before proration existed prorates nothing), not wuye.yaml's of then: a fee table edited for one commit and put back would otherwise vouch for itself."""
    from wuye.archive.dossier import validate_text
    from wuye.models.archive import BY_KEY
    from wuye.models.store import StoreConfig
    from wuye.moveout import cases as moveout

    def text(rel: str) -> str | None:
        if commit is None:
            p = store.path(rel)
            return p.read_text(encoding="utf-8") if p.is_file() and not p.is_symlink() else None
        raw = blobs.get(f"{commit}:{rel}")
        return None if raw is None else raw.decode("utf-8", "replace")

    where = tr("提交 %s 时", "at commit %s") % commit[:10] if commit else tr("现在", "now")

    def unreproducible(rel: str, why: str) -> Problem:
        return Problem(s.rel, tr("无法按%s的档案重新计算结算单：%s %s", "the statement cannot be recomputed from the archive %s: %s %s") % (where, rel, why),
                       code="statement.unreproducible")

    try:
        t = text("wuye.yaml")
        if t is None:
            return unreproducible("wuye.yaml", tr("不存在", "is missing"))
        config, invalid = yamlio.check_model(StoreConfig, yamlio.loads(t, "wuye.yaml") or {}, "wuye.yaml", t)
        if invalid:
            return unreproducible("wuye.yaml", str(invalid[0]))
        named = s.data.get("authority")
        version = chain.at(named) if chain is not None and chain.versions and named is not None else None
        if version is not None:
            rules = config.moveout.model_copy(update={"proration": version.record.proration})
            config = config.model_copy(update={"fees": version.record.fees, "rates": version.record.rates, "moveout": rules})
        records, raw = {}, {}
        for key in ARCHIVE:
            rel = f"tenants/{case.tenant_id}/{key}.yaml"
            t = text(rel)
            records[key] = raw[key] = None
            if t is None:
                continue
            obj, problems = validate_text(rel, t, case.tenant_id, BY_KEY[key])
            errors = [p for p in problems if p.level == "error"]
            if errors:
                return unreproducible(rel, str(errors[0]))
            records[key], raw[key] = obj, yamlio.loads(t, rel)
        entries = []
        for e in case.entries:
            t = text(e.rel)
            if t is None:
                continue  # signed later than this statement
            d = yamlio.loads(t, e.rel)
            if isinstance(d, dict):
                entries.append(moveout.SignedEntry(e.rel, d, b"", ""))
    except WuyeError as err:
        return unreproducible("", str(err))
    then_case = moveout.Case(case.id, case.tenant_id, case.dir, case.info, entries)
    from wuye.moveout.partial import scope_of

    # The units a case covers are written in case.yaml when it opens, and never changed after.
    return _Then(config, records, raw, then_case.latest_steps(), scope_of(case.id, case.info))


def _compare(s, commit: str | None, lines, then: _Then) -> list[Problem]:
    from wuye.moveout.settlement import compute

    from wuye.moveout.settlement import FINANCE_CODES

    other = [(item, -amount) for code, item, _, amount in lines if code == "other"]
    finance = [(code, item, source, amount) for code, item, source, amount in lines if code in FINANCE_CODES and code != "other"]
    payments = then.records["payments"].entries if then.records["payments"] else []
    violations = then.records["violations"].entries if then.records["violations"] else []
    where = tr("提交 %s 时", "at commit %s") % commit[:10] if commit else tr("现在", "now")
    results = []
    for lang in ("zh", "en"):
        with language(lang):
            try:
                st = compute(then.config, payments, violations, then.records["move_in"], then.steps, other, finance, then.scope)
            except WuyeError as e:
                return [Problem(s.rel, tr("无法按%s的档案重新计算结算单：%s", "the statement cannot be recomputed from the archive %s: %s") % (where, e),
                                code="statement.unreproducible")]
        computed = [(l.code, l.item, l.source, l.amount) for l in st.lines]
        if computed == lines:
            return []
        results.append(computed)
    computed = min(results, key=lambda c: sum(a != b for a, b in zip(c, lines)) + abs(len(c) - len(lines)))
    diffs = []
    for i in range(max(len(lines), len(computed))):
        a = lines[i] if i < len(lines) else None
        b = computed[i] if i < len(computed) else None
        if a == b:
            continue
        show = lambda l: tr("无", "none") if l is None else f"{l[1]} {l[3]} ({l[2]})"
        diffs.append(tr("第 %d 行签为 %s，应为 %s", "line %d is signed as %s, recomputed %s") % (i + 1, show(a), show(b)))
    return [Problem(s.rel, tr("结算单与按%s的档案重新计算的不符：", "the statement differs from the one recomputed from the archive %s: ") % where
                    + "; ".join(diffs), code="statement.mismatch")]


def _plain(value):
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _cited_changes(store: Store, case, s, data: dict, lines, then: _Then) -> list[Problem]:
    """Records the closed case's statement cites, as they are now against as they were at
    settling: only closing's own marks may differ."""
    from wuye.moveout.cases import closing_marks

    out = []
    receipt = data.get("receipt_no") or case.id
    day = str(data.get("settled_on"))
    notes = {_note_in(lang, case.id) for lang in ("zh", "en")}
    now: dict[str, object] = {}
    for key in ("payments", "violations"):
        rel = f"tenants/{case.tenant_id}/{key}.yaml"
        try:
            now[key] = yamlio.loads(yamlio.read_text(store.path(rel), rel), rel) if store.path(rel).is_file() else None
        except WuyeError:
            now[key] = None  # check_archive reports the file
    from wuye.moveout.cases import closing_codes

    cited = closing_codes([{"code": code, "source": source} for code, _, source, _ in lines])
    for file, entry_id, code in ((f, i, c) for f, codes in cited.items() for i, c in codes.items()):
        key = file[:-5]
        rel = f"tenants/{case.tenant_id}/{file}"
        before = _entry(then.raw.get(key), entry_id)
        after = _entry(now.get(key), entry_id)
        if before is None:
            continue  # the recomputation has reported the statement
        if after is None:
            out.append(Problem(rel, tr("结算单 %s（案件 %s）引用的记录 %s 在结算后被删除",
                                       "the statement %s of case %s cites record %s, which was deleted after settling") % (s.file, case.id, entry_id),
                               code="statement.cited-changed"))
            continue
        allowed = [_plain(before)]
        for note in notes:
            marked = _plain(before)
            closing_marks(marked, code, day, receipt, note)
            allowed.append(marked)
        # closing's mark of what it replaced (trust/money.py) is judged with the item's seal.
        after = {k: v for k, v in after.items() if k != "closed_by"}
        if _plain(after) not in allowed:
            out.append(Problem(rel, tr("结算单 %s（案件 %s）引用的记录 %s 在结算后被改动（不是结案所做的标记）：%s",
                                       "the statement %s of case %s cites record %s, which was changed after settling (not by closing's marks): %s")
                               % (s.file, case.id, entry_id, _changed(before, after)), code="statement.cited-changed"))
    for field_path in sorted({m.group(1) for _, _, source, _ in lines for m in MOVE_IN_FIELD.finditer(source)}):
        rel = f"tenants/{case.tenant_id}/move_in.yaml"
        try:
            current = yamlio.loads(yamlio.read_text(store.path(rel), rel), rel) if store.path(rel).is_file() else None
        except WuyeError:
            continue
        was, now_ = _dotted(then.raw.get("move_in"), field_path), _dotted(current, field_path)
        if _plain(was) != _plain(now_):
            out.append(Problem(rel, tr("结算单 %s（案件 %s）引用的 %s 在结算后被改动：%s → %s",
                                       "the statement %s of case %s cites %s, which was changed after settling: %s → %s")
                               % (s.file, case.id, field_path, was, now_), code="statement.cited-changed"))
    return out


def _note_in(lang: str, case_id: str) -> str:
    from wuye.moveout.cases import settlement_note

    with language(lang):
        return settlement_note(case_id)


def _entry(doc, entry_id: str):
    if not isinstance(doc, dict):
        return None
    return next((e for e in doc.get("entries") or [] if isinstance(e, dict) and str(e.get("id")) == entry_id), None)


def _dotted(doc, path: str):
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _changed(before: dict, after: dict) -> str:
    b, a = _plain(before), _plain(after)
    keys = [k for k in dict.fromkeys([*b, *a]) if b.get(k) != a.get(k)]
    return ", ".join(f"{k}: {b.get(k)} → {a.get(k)}" for k in keys)
