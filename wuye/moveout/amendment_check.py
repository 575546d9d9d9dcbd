"""The rules of an amendment of a closed case (结案后更正), as verify and the status board judge them.

amendment.py signs amendments; this module only reads: which entries a sealed case takes after its
seal (`after_seal`), the statement an amendment corrects (`base_of`), the corrected statement
recomputed from the archive as it was when the settlement was signed (`basis`, `corrected`), the
difference line by line (`changes`), and what is wrong with a case's amendments (`problems`,
`pending`). cases.py calls it from the case checks, so it imports nothing of cases.py (an import
cycle), and reads the store and git history only.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wuye.errors import Problem, WuyeError
from wuye.i18n import language, tr
from wuye.storage.store import Store

AMEND = "amendment"
APPROVE = "amendment_approval"
PAYOUT = "amendment_payout"
KINDS = (AMEND, APPROVE, PAYOUT)
ARCHIVE = ("payments", "violations", "move_in")
# An entry problem of these codes means the entry is not validly signed by whom it names.
UNSIGNED = {"signature.missing", "signature.bad", "key.not-signer", "key.not-valid-at", "signer.unknown",
            "entry.authority-unknown", "entry.before-authority"}
NOT_ALLOWED = {"dept.not-member", "dept.not-allowed"}


def after_seal(entry) -> bool:
    """Is this one of the entries a sealed case takes after its closing entry?"""
    return entry.step in KINDS


def _settlement_step(wf) -> str:
    return next((s.id for s in wf.spec.steps if s.computed), "settlement")


def _data(entry) -> dict:
    d = entry.data.get("data")
    return d if isinstance(d, dict) else {}


def _money(value) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def approval_of(case, amendment):
    """The approval that cites this amendment revision's digest, or None."""
    return next((e for e in case.revisions(APPROVE) if (e.data.get("needs") or {}).get(AMEND) == amendment.digest), None)


def payout_of(case, approval):
    return next((e for e in case.revisions(PAYOUT) if (e.data.get("needs") or {}).get(APPROVE) == approval.digest), None)


def base_of(wf, case, revision: int):
    """(lines, balance, entry) in effect before amendment `revision`: the latest approved amendment
    below it, else the latest settlement."""
    for e in reversed(case.revisions(AMEND)):
        if e.revision < revision and approval_of(case, e) is not None:
            return _data(e).get("lines") or [], _money(_data(e).get("balance")), e
    s = case.latest(_settlement_step(wf))
    return (_data(s).get("lines") or [], _money(_data(s).get("balance")), s) if s is not None else ([], None, None)


# --- the corrected statement -----------------------------------------------------------------


def _added_in(store: Store, rel: str) -> str | None:
    """The commit that first added `rel` (-m: a file added by a merge counts as added there)."""
    from wuye.storage import git as audit

    out = audit.read(store.root, ["log", "-m", "--topo-order", "--diff-filter=A", "--no-renames", "--format=%H", "--", rel],
                     check=False) or ""
    commits = out.split()
    return commits[-1] if commits else None


def basis(store: Store, case, settlement, chain=None):
    """(config, payments, violations, move_in, steps): what the settlement was computed from, at
    the commit that added it, with the fees, rates and proration rule of the authority version it
    names (as verify/statements.py recomputes a settlement)."""
    from wuye.archive.dossier import validate_text
    from wuye.models.archive import BY_KEY
    from wuye.models.store import StoreConfig
    from wuye.storage import git as audit
    from wuye.storage import yamlio

    commit = _added_in(store, settlement.rel)
    if commit is None:
        raise WuyeError(tr("结算条目 %s 尚未提交，无法确定结算时的档案", "the settlement %s is not committed: the archive it was computed from is unknown")
                        % settlement.rel)
    rels = ["wuye.yaml", *(store.tenant_rel(case.tenant_id, f"{k}.yaml") for k in ARCHIVE), *(e.rel for e in case.entries)]
    blobs = audit.blobs(store.root, [f"{commit}:{r}" for r in rels])

    def text(rel: str) -> str | None:
        raw = blobs.get(f"{commit}:{rel}")
        return None if raw is None else raw.decode("utf-8", "replace")

    t = text("wuye.yaml")
    if t is None:
        raise WuyeError(tr("提交 %s 中没有 wuye.yaml", "commit %s has no wuye.yaml") % commit[:10])
    config = yamlio.validated(StoreConfig, yamlio.loads(t, "wuye.yaml") or {}, "wuye.yaml", t)
    if chain is None:
        from wuye.trust import authority

        chain = authority.load(store)
    named = settlement.data.get("authority")
    version = chain.at(named) if chain.versions and named is not None else None
    if version is not None:
        rules = config.moveout.model_copy(update={"proration": version.record.proration})
        config = config.model_copy(update={"fees": version.record.fees, "rates": version.record.rates, "moveout": rules})
    records = {}
    for key in ARCHIVE:
        rel = store.tenant_rel(case.tenant_id, f"{key}.yaml")
        t = text(rel)
        records[key] = None
        if t is None:
            continue
        obj, found = validate_text(rel, t, case.tenant_id, BY_KEY[key])
        errors = [p for p in found if p.level == "error"]
        if errors:
            raise WuyeError(tr("结算时（提交 %s）的档案无法读取：%s", "the archive at settling (commit %s) cannot be read: %s") % (commit[:10], errors[0]))
        records[key] = obj
    payments = records["payments"].entries if records["payments"] else []
    violations = records["violations"].entries if records["violations"] else []
    return config, payments, violations, records["move_in"], _latest_steps([e for e in case.entries if text(e.rel) is not None])


def _latest_steps(entries) -> dict[str, dict]:
    """Case.latest_steps over these entries (cases.py is not imported here: it imports this)."""
    out: dict[str, dict] = {}
    for e in entries:
        if out.get(e.step) is None or e.revision > out[e.step]["revision"]:
            out[e.step] = {**e.data, "_file": e.file}
    return out


def corrected(store: Store, case, settlement, other=(), finance=(), chain=None):
    """The corrected statement: `settle`'s computation over the archive of the settlement, with
    these other charges (item, amount) and finance lines (code, item, source, amount; a forfeit's
    amount None: the whole deposit)."""
    from wuye.moveout.settlement import compute, whole_forfeits

    config, payments, violations, move_in, steps = basis(store, case, settlement, chain)
    lines = whole_forfeits(finance, payments, tr("没收的押金 %s 不在结算时的缴费记录中",
                                                 "the deposit %s to forfeit is not in payments.yaml as it was at settling"))
    from wuye.moveout.partial import scope_of

    # A partial case's amendment corrects that case's statement: the same units, as settle scoped it.
    return compute(config, payments, violations, move_in, steps, list(other), lines, scope_of(case.id, case.info))


def _key(line: dict) -> tuple:
    # An other charge is known by its text (finance's own words); every other line by its record.
    return (line["code"], line["source"], line["item"] if line["code"] == "other" else "")


def changes(before: list[dict], after: list[dict]) -> list[dict]:
    """The difference line by line: each line whose amount changed, was added (was 0.00) or was
    dropped (now 0.00), with what it was, what it is now and the difference (lines of the same kind and record paired
    in order). Their amounts add up to the difference of the balances."""
    def grouped(lines):
        out: dict[tuple, list[dict]] = {}
        for l in lines:
            out.setdefault(_key(l), []).append(l)
        return out

    b, a = grouped(before), grouped(after)
    out = []
    for key in dict.fromkeys([*b, *a]):
        olds, news = b.get(key, []), a.get(key, [])
        for i in range(max(len(olds), len(news))):
            old = olds[i] if i < len(olds) else None
            new = news[i] if i < len(news) else None
            was = Decimal(old["amount"]) if old else Decimal("0.00")
            now = Decimal(new["amount"]) if new else Decimal("0.00")
            if was == now:
                continue
            line = new or old
            # A line added was 0.00, one dropped is 0.00 now: no statement line is ever zero.
            out.append({"code": line["code"], "item": line["item"], "source": line["source"],
                        "was": str(was), "now": str(now), "amount": str(now - was)})
    return out


def _finance_lines(lines: list[dict]):
    """The signed lines finance entered, as `compute` takes them back (verify's recomputation)."""
    from wuye.moveout.settlement import FINANCE_CODES

    other = [(l["item"], -Decimal(l["amount"])) for l in lines if l["code"] == "other"]
    finance = [(l["code"], l["item"], l["source"], Decimal(l["amount"])) for l in lines if l["code"] in FINANCE_CODES and l["code"] != "other"]
    return other, finance


# --- verifying ---------------------------------------------------------------------------------


def problems(store: Store, wf, case, found: list[Problem], chain=None) -> list[Problem]:
    """What is wrong with the amendments of a case, on top of `found` (every entry's own checks):
    each naming the case and the file. An amendment or approval not validly signed (added with
    plain git), an approval by someone outside management or by the amender, an amendment whose
    statement, balance corrected or difference is not what it says."""
    out: list[Problem] = []
    entries = [e for e in case.entries if after_seal(e)]
    if not entries:
        return out
    codes: dict[str, set[str]] = {}
    for p in found:
        codes.setdefault(p.path, set()).add(p.code)
    for e in entries:
        mine = codes.get(e.rel, set())
        if mine & UNSIGNED:
            out.append(Problem(e.rel, tr("案件 %(case)s 的%(what)s（%(file)s）没有有效的签名（用 git 直接加入的？）；结案后的更正只能用 "
                                         "`wuye moveout amend` 签字、`wuye moveout approve-amendment` 批准",
                                         "the %(what)s of case %(case)s (%(file)s) has no valid signature (added with plain git?); a closed case "
                                         "is amended only with `wuye moveout amend` and approved with `wuye moveout approve-amendment`")
                               % {"case": case.id, "what": wf.title(e.step), "file": e.file}, code="amendment.unsigned"))
        elif e.step == APPROVE and mine & NOT_ALLOWED:
            out.append(Problem(e.rel, tr("案件 %(case)s 的更正审批（%(file)s）不是 %(who)s 签的；更正须由管理层批准",
                                         "the approval (%(file)s) of the amendment of case %(case)s is not signed by %(who)s; management approves an amendment")
                               % {"case": case.id, "file": e.file, "who": ", ".join(wf.approval.signers)}, code="amendment.not-management"))
    by_digest = {e.digest: e for e in case.entries}
    for a in case.revisions(APPROVE):
        target = by_digest.get((a.data.get("needs") or {}).get(AMEND))
        if target is None or target.step != AMEND:
            continue  # dag.needs-unknown says so
        if a.data.get("signer") == target.data.get("signer"):
            out.append(Problem(a.rel, tr("案件 %(case)s 的更正（%(amendment)s）由签字人 %(signer)s 自己批准（%(file)s）；须由另一位管理层成员批准",
                                         "the amendment (%(amendment)s) of case %(case)s is approved by its own signer %(signer)s (%(file)s); "
                                         "another member of management approves it")
                               % {"case": case.id, "amendment": target.file, "signer": a.data.get("signer"), "file": a.file},
                               code="amendment.self-approved"))
        if _money(_data(a).get("difference")) != _money(_data(target).get("difference")):
            out.append(Problem(a.rel, tr("案件 %s 的更正审批所批差额 %s 与更正（%s）的差额 %s 不符",
                                         "the approval of case %s approves a difference of %s, not the amendment's (%s) %s")
                               % (case.id, _data(a).get("difference"), target.file, _data(target).get("difference")),
                               code="amendment.mismatch"))
    for p in case.revisions(PAYOUT):
        approval = by_digest.get((p.data.get("needs") or {}).get(APPROVE))
        if approval is not None and _money(_data(p).get("amount")) != _money(_data(approval).get("difference")):
            out.append(Problem(p.rel, tr("案件 %s 的更正退款 %s 元与批准的差额 %s 元不符", "the amendment refund of case %s, %s yuan, is not the approved difference of %s yuan")
                               % (case.id, _data(p).get("amount"), _data(approval).get("difference")), code="amendment.mismatch"))
    for e in case.revisions(AMEND):
        if codes.get(e.rel, set()) & (UNSIGNED | {"schema.invalid"}):
            continue
        out += _statement_problems(store, wf, case, e, chain)
    return out + _effect_problems(store, wf, case, by_digest)


def _effect_problems(store: Store, wf, case, by_digest: dict) -> list[Problem]:
    """Each approved amount due is an item of the ledger (source settlement, source_ref the case,
    the amount), as `approve-amendment` writes it: one deleted by hand would forgive the debt."""
    from collections import Counter

    from wuye.storage import yamlio

    wanted = Counter()
    for a in case.revisions(APPROVE):
        d = _money(_data(a).get("difference"))
        if d is not None and d < 0 and by_digest.get((a.data.get("needs") or {}).get(AMEND)) is not None:
            wanted[-d] += 1
    if not wanted:
        return []
    rel = store.tenant_rel(case.tenant_id, "payments.yaml")
    try:
        doc = yamlio.read(store.path(rel), rel) if store.path(rel).is_file() else None
    except WuyeError:
        return []  # check_archive reports the file
    have = Counter(_money(e.get("amount")) for e in (doc or {}).get("entries") or []
                   if isinstance(e, dict) and e.get("source") == "settlement" and e.get("source_ref") == case.id)
    settled = case.latest(_settlement_step(wf))
    balance = _money(_data(settled).get("balance")) if settled is not None else None
    if balance is not None and balance < 0:
        have[-balance] -= 1  # closing's own item for the balance the settlement left due
    missing = sorted(str(amount) for amount, n in wanted.items() if have[amount] < n)
    if not missing:
        return []
    return [Problem(rel, tr("案件 %(case)s 经批准的更正应补款 %(amounts)s 元不在缴费记录中（source: settlement，source_ref: %(case)s）；被删除或改动了？",
                            "the amount due of %(amounts)s yuan by the approved amendment of case %(case)s is not in payments.yaml "
                            "(source: settlement, source_ref: %(case)s); deleted or changed?")
                    % {"case": case.id, "amounts": "、".join(missing)}, code="amendment.effect-missing")]


def _statement_problems(store: Store, wf, case, e, chain) -> list[Problem]:
    """The amendment's statement adds up, is what `settle` computes from the settlement's archive
    with the finance lines it holds, and corrects the balance in effect by the difference it says."""
    from wuye.moveout.settlement import cents

    def bad(zh: str, en: str) -> Problem:
        return Problem(e.rel, tr("案件 %(case)s 的更正（%(file)s）：", "the amendment (%(file)s) of case %(case)s: ") % {"case": case.id, "file": e.file}
                       + tr(zh, en), code="amendment.mismatch")

    d = _data(e)
    try:
        lines = [{"code": str(l["code"]), "item": str(l["item"]), "source": str(l["source"]), "amount": str(cents(Decimal(str(l["amount"]))))}
                 for l in d.get("lines") or []]
    except (KeyError, TypeError, InvalidOperation):
        return []  # the entry's schema check reports it
    out = []
    amounts = [Decimal(l["amount"]) for l in lines]
    credits = sum((a for a in amounts if a > 0), Decimal("0.00"))
    charges = -sum((a for a in amounts if a < 0), Decimal("0.00"))
    if (_money(d.get("credits")), _money(d.get("charges")), _money(d.get("balance"))) != (credits, charges, credits - charges):
        out.append(bad("各行之和与合计不符（应退 %s、应扣 %s、结余 %s）" % (credits, charges, credits - charges),
                       "its lines do not add up (credits %s, charges %s, balance %s)" % (credits, charges, credits - charges)))
    settlement = case.latest(_settlement_step(wf))
    if settlement is not None and (e.data.get("needs") or {}).get(settlement.step) != settlement.digest:
        out.append(bad("所引的结算不是最新的结算条目 %s" % settlement.file, "it cites a settlement other than the latest, %s" % settlement.file))
    base_lines, base_balance, base_entry = base_of(wf, case, e.revision)
    if _money(d.get("amends_balance")) != base_balance:
        out.append(bad("所更正的结余签为 %s，%s 的结余为 %s" % (d.get("amends_balance"), base_entry.file, base_balance),
                       "the balance it corrects is signed as %s; %s's balance is %s" % (d.get("amends_balance"), base_entry.file, base_balance)))
    if base_balance is not None and _money(d.get("difference")) != credits - charges - base_balance:
        out.append(bad("差额签为 %s，应为 %s" % (d.get("difference"), credits - charges - base_balance),
                       "the difference is signed as %s, not %s" % (d.get("difference"), credits - charges - base_balance)))
    if _plain(d.get("changes")) != changes(base_lines, lines):
        out.append(bad("逐行差额与 %s 和更正后的结算单逐行相比不符" % base_entry.file,
                       "the line-by-line difference is not what %s and the corrected statement make" % base_entry.file))
    if settlement is None:
        return out
    other, finance = _finance_lines(lines)
    signed = [(l["code"], l["item"], l["source"], Decimal(l["amount"])) for l in lines]
    why = None
    for lang in ("zh", "en"):
        with language(lang):
            try:
                st = corrected(store, case, settlement, other, finance, chain)
            except WuyeError as err:
                why = str(err)
                break
        computed = [(l.code, l.item, l.source, l.amount) for l in st.lines]
        if computed == signed:
            return out
        why = tr("第一处不同：签为 %s，算得 %s", "first difference: signed %s, recomputed %s") % next(
            ((f"{a[1]} {a[3]}" if a else "-", f"{b[1]} {b[3]}" if b else "-")
             for a, b in zip(signed + [None] * len(computed), computed + [None] * len(signed)) if a != b), ("-", "-"))
    out.append(bad("更正后的结算单与按结算时的档案重新计算的不符：%s" % why,
                   "its statement differs from the one recomputed from the archive at settling: %s" % why))
    return out


def _plain(value):
    import json

    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def pending(case) -> list[Problem]:
    """An amendment awaiting management's approval: shown by verify as a warning (its difference
    has not taken effect), not an error: it is the state between `amend` and `approve-amendment`."""
    latest = case.latest(AMEND)
    if latest is None or approval_of(case, latest) is not None:
        return []
    return [Problem(latest.rel, tr("案件 %(case)s 的更正（%(file)s）尚待管理层批准：差额 %(diff)s 元尚未生效；"
                                   "`wuye moveout approve-amendment %(case)s --as 经理`",
                                   "the amendment (%(file)s) of case %(case)s awaits management's approval: its difference of %(diff)s yuan "
                                   "has not taken effect; `wuye moveout approve-amendment %(case)s --as MANAGER`")
                    % {"case": case.id, "file": latest.file, "diff": _data(latest).get("difference")},
                    level="warning", code="amendment.unapproved")]


# --- reading -----------------------------------------------------------------------------------


def board(store: Store, case) -> list[dict]:
    """The amendments of a case for `moveout status`: each revision, what it changed, its approval
    and (for a refund) its payout."""
    def _signer_name(staff_id):
        try:
            return store.staff(staff_id).name
        except WuyeError:
            return staff_id  # a departed member: the id

    rows = []
    for e in case.revisions(AMEND):
        d = _data(e)
        row = {"file": e.file, "revision": e.revision, "signer": e.data.get("signer"), "signer_name": _signer_name(e.data.get("signer")),
               "signed_at": e.data.get("signed_at"), "reason": d.get("reason"), "amends_balance": d.get("amends_balance"),
               "balance": d.get("balance"), "difference": d.get("difference"), "changes": d.get("changes") or [], "digest": e.digest,
               "superseded": e is not case.latest(AMEND) and approval_of(case, e) is None}
        a = approval_of(case, e)
        if a is not None:
            row["approval"] = {"file": a.file, "signer": a.data.get("signer"), "signer_name": _signer_name(a.data.get("signer")),
                               "signed_at": a.data.get("signed_at"), "note": _data(a).get("note"), "digest": a.digest}
            p = payout_of(case, a)
            if p is not None:
                row["payout"] = {"file": p.file, "signer": p.data.get("signer"), "paid_on": _data(p).get("paid_on"),
                                 "amount": _data(p).get("amount"), "voucher": _data(p).get("voucher")}
        rows.append(row)
    return rows
