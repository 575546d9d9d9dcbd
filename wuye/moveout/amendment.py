"""Amending a closed case (结案后更正): a corrected statement, approved by management.

A released case is sealed by its closing entry (cases.seal_problems), so its settlement is never
corrected in place. A mistake found afterwards (a charge forgotten, a withhold too large) is an
amendment: finance (or management) signs `steps/amendment.yaml` holding the corrected statement,
computed as `settle` computes it, from the archive *as it was when the settlement was signed* (the
commit that added it: closing has since marked the fees paid and the deposits refunded, so the
archive of now would settle nothing), with finance's lines of the statement in effect (other
charges; withholds and forfeits), each kind replaced when the amendment gives new ones, as
`settle --correct` does. It cites the digests of
the settlement and of the closing entry (its `needs`), the balance it corrects and the difference,
line by line. A member of management other than the amender then signs
`steps/amendment_approval.yaml`, citing the amendment's digest; only then does the difference take
effect: a negative one is a new receivable item in payments.yaml (source settlement, source_ref the
case), which `report arrears` shows until it is paid; a positive one is a refund, paid out by
finance as the payout step records one (`steps/amendment_payout.yaml`). The original entries stay
as they were. A second amendment is revision 2 of the amendment (it supersedes the first) and
corrects the balance then in effect: the last approved amendment's, else the settlement's.

These are the only entries a sealed case takes after its seal; amendment_check.py holds the rules
verify and the board judge them by, on top of the checks every entry gets (signature, key valid at
signing time under the authority chain, department, needs). This module signs: it reads the store
and git history and writes through `Store.change`, like cases.py, whose signing it reuses.
"""

from __future__ import annotations

from decimal import Decimal

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.moveout.amendment_check import (AMEND, APPROVE, PAYOUT, _data, _finance_lines, _money, _settlement_step,
                                          approval_of, base_of, changes, corrected, payout_of)
from wuye.storage.store import Store

# --- signing -----------------------------------------------------------------------------------


def amend(store: Store, case_id: str, actor_id: str | None, reason: str, charges=(), withholds=(), forfeits=(),
          dry_run: bool = False):
    """Compute the corrected statement of a closed case and (unless dry-run) sign it as an
    amendment, as one commit. Returns (statement, amendment data, SignResult or None)."""
    from wuye.moveout import cases

    reason = (reason or "").strip()
    if not reason:
        raise WuyeError(tr("请用 --reason 写明更正原因", "give the reason for the amendment with --reason"))
    wf = cases.case_workflow(store, case_id)
    spec = wf.amendment
    other = cases.parse_charges(list(charges))
    finance = cases.parse_dispositions(list(withholds), list(forfeits))
    actor = store.actor(actor_id)
    department = cases._signing_department(actor, spec, wf)
    out = {}

    def prepare(case) -> dict:
        if not case.closed:
            raise WuyeError(tr("案件 %s 尚未结案；结案前更正结算请用 `wuye moveout settle %s --correct`",
                               "case %s is not closed; before closing, correct the settlement with `wuye moveout settle %s --correct`")
                            % (case_id, case_id))
        settlement = case.latest(_settlement_step(wf))
        previous = case.latest(AMEND)
        base_lines, base_balance, base_entry = base_of(wf, case, previous.revision + 1 if previous else 1)
        # As `settle --correct` does: finance's lines of the statement in effect are kept, each
        # kind (other charges; withholds and forfeits) unless new ones of it are given.
        kept_other, kept_finance = _finance_lines(base_lines)
        st = corrected(store, case, settlement, other or kept_other, finance or kept_finance)
        lines = [l.to_json() for l in st.lines]
        diff = changes(base_lines, lines)
        if not diff:
            raise WuyeError(tr("更正后的结算单与 %s 所签的相同，无须更正；请用 --charge、--withhold 或 --forfeit 给出更正后的全部财务项目",
                               "the corrected statement is the one %s signed: nothing to amend; give every finance line of the corrected "
                               "statement with --charge, --withhold or --forfeit") % base_entry.file)
        data = {"reason": reason, **st.to_data(), "amends_balance": str(base_balance),
                "difference": str(st.balance - base_balance), "changes": diff}
        out.update(statement=st, data=data, previous=previous)
        return data

    if dry_run:
        prepare(cases.verified_case(store, wf, case_id))
        return out["statement"], out["data"], None
    cases.check_case_id(case_id)
    with store.change("", author=actor) as ch:
        case = cases.verified_case(store, wf, case_id)
        data = prepare(case)
        rel, entry = cases.make_entry(store, case, wf, AMEND, actor, department, data, correct=out["previous"] is not None)
        ch.write_yaml(rel, cases._entry_doc(entry))
        ch.summary, ch.trailers = _message(case, AMEND, actor, department, entry["revision"],
                                           tr("结案后更正，差额 %s 元", "amended after closing, difference %s yuan") % data["difference"])
    cases._remember_board(store, case_id, case.tenant_id, case.dir)
    return out["statement"], out["data"], cases.SignResult(case_id, AMEND, entry["revision"], rel,
                                                           _digest(entry), ch.commit, entry)


def approve(store: Store, case_id: str, actor_id: str | None, note: str | None = None):
    """Management approves the latest amendment, as one commit: the signed approval and, for an
    amount now due from the tenant, the receivable item in payments.yaml."""
    from wuye.moveout import cases

    wf = cases.case_workflow(store, case_id)
    spec = wf.approval
    actor = store.actor(actor_id)
    department = cases._signing_department(actor, spec, wf)
    cases.check_case_id(case_id)
    with store.change("", author=actor) as ch:
        case = cases.verified_case(store, wf, case_id)
        amendment = case.latest(AMEND)
        if amendment is None:
            raise WuyeError(tr("案件 %s 没有待批准的更正；更正请用 `wuye moveout amend %s --reason 原因 --as 财务`",
                               "case %s has no amendment to approve; finance amends with `wuye moveout amend %s --reason TEXT --as FINANCE`")
                            % (case_id, case_id))
        done = approval_of(case, amendment)
        if done is not None:
            raise WuyeError(tr("案件 %s 的更正（%s）已由 %s 于 %s 批准", "the amendment of case %s (%s) was already approved by %s at %s")
                            % (case_id, amendment.file, done.data.get("signer"), done.data.get("signed_at")))
        if amendment.data.get("signer") == actor.id:
            raise WuyeError(tr("更正（%s）是 %s 本人签的，不能自己批准；请另一位管理层成员批准",
                               "the amendment (%s) was signed by %s, who cannot approve it; another member of management approves it")
                            % (amendment.file, actor.id))
        difference = Decimal(_data(amendment)["difference"])
        data = {"difference": str(difference)}
        if note and note.strip():
            data["note"] = note.strip()
        rel, entry = cases.make_entry(store, case, wf, APPROVE, actor, department, data, correct=case.latest(APPROVE) is not None)
        ch.write_yaml(rel, cases._entry_doc(entry))
        if difference < 0:
            _record_due(store, ch, case, actor, amendment, entry, -difference)
        ch.summary, ch.trailers = _message(case, APPROVE, actor, department, entry["revision"],
                                           tr("批准结案后更正，差额 %s 元", "amendment approved, difference %s yuan") % difference)
    cases._remember_board(store, case_id, case.tenant_id, case.dir)
    return cases.SignResult(case_id, APPROVE, entry["revision"], rel, _digest(entry), ch.commit, entry)


def pay(store: Store, case_id: str, actor_id: str | None, data: dict, source=None):
    """Finance pays out the refund an approved amendment gives, recorded as the payout step
    records one (its fields), in `steps/amendment_payout.yaml`: one commit."""
    from wuye.moveout import cases

    wf = cases.case_workflow(store, case_id)
    spec = wf.amendment_payout
    if spec is None:
        raise WuyeError(tr("本库流程没有退款支付步骤（payout），无从记录退款", "this store's workflow has no payout step to record the refund by"))
    actor = store.actor(actor_id)
    department = cases._signing_department(actor, spec, wf)
    if source is not None:
        cases.validate_step_data(wf, PAYOUT, data, *source)
    cases.check_case_id(case_id)
    with store.change("", author=actor) as ch:
        case = cases.verified_case(store, wf, case_id)
        approval = case.latest(APPROVE)
        difference = _money(_data(approval).get("difference")) if approval is not None else None
        if difference is None or difference <= 0:
            raise WuyeError(tr("案件 %s 没有经批准、应退还客户的更正差额", "case %s has no approved amendment refunding the tenant") % case_id)
        if payout_of(case, approval) is not None:
            raise WuyeError(tr("案件 %s 的更正退款已支付", "the refund of the amendment of case %s is already paid out") % case_id)
        amount = _money(data.get("amount"))
        if amount != difference:
            raise WuyeError(tr("退款金额应为批准的差额 %s 元，而不是 %s", "the amount paid out must be the approved difference, %s yuan, not %s")
                            % (difference, data.get("amount")))
        rel, entry = cases.make_entry(store, case, wf, PAYOUT, actor, department, data, correct=case.latest(PAYOUT) is not None)
        ch.write_yaml(rel, cases._entry_doc(entry))
        ch.summary, ch.trailers = _message(case, PAYOUT, actor, department, entry["revision"],
                                           tr("更正退款 %s 元已支付", "amendment refund of %s yuan paid out") % difference)
    cases._remember_board(store, case_id, case.tenant_id, case.dir)
    return cases.SignResult(case_id, PAYOUT, entry["revision"], rel, _digest(entry), ch.commit, entry)


def _digest(entry: dict) -> str:
    from wuye.moveout.cases import payload_of
    from wuye.trust import signing

    return signing.digest(payload_of(entry))


def _message(case, step: str, actor, department: str, revision: int, what: str) -> tuple[str, dict]:
    from wuye.trust.staff import dept_label

    summary = tr("moveout %s: %s，%s（%s）", "moveout %s: %s by %s (%s)") % (case.id, what, actor.name, dept_label(department))
    trailers = {"Wuye-Tenant": case.tenant_id, "Wuye-Case": case.id, "Wuye-Step": step,
                "Wuye-Signer": actor.id, "Wuye-Revision": str(revision) if revision > 1 else ""}
    return summary, trailers


def item_text() -> str:
    return tr("迁出结算更正应补款", "move-out amendment balance due")


def _record_due(store: Store, ch, case, actor, amendment, approval: dict, amount: Decimal) -> None:
    """The amount an approved amendment adds to what the tenant owes: one open ledger item, which
    `report arrears` shows until it is paid."""
    from wuye.archive.dossier import append_entry, list_document, seal_new
    from wuye.models.archive import BY_KEY, Payment

    c = BY_KEY["payments"]
    doc = list_document(store, case.tenant_id, c)
    record = {"kind": "fee", "item": item_text(), "source": "settlement", "source_ref": case.id, "amount": str(amount),
              "due_date": approval["signed_at"][:10], "recorded_by": approval["signer"], "recorded_at": store.now(),
              "note": tr("结案后更正 %s，经 %s 批准", "amendment %s, approved by %s") % (amendment.file, approval["signer"])}
    item = append_entry(doc, c, record, Payment.model_validate)
    # Sealed by the approver (management handles money, trust/money.py): the ledger item is their
    # word, as the approval is; verify judges the seal as every other item's.
    seal_new(store, case.tenant_id, actor, doc, [item.id])
    ch.write_yaml(store.tenant_rel(case.tenant_id, c.filename), doc)
