"""The ledger's seals (签章): money in the ledger is money someone allowed to handle it answers for.

A tenant's `payments.yaml` is plain YAML that anyone with write access can edit with git: marking
a fee paid, raising a deposit, writing off a debt. So every ledger item carries a seal: an SSHSIG
signature (namespace `wuye-money`, its own, so that no seal passes for a step entry or an
authority record, nor one of those for a seal) over the item's canonical bytes, the tenant it
belongs to, and who sealed it when under which authority version. `wuye verify` judges each seal
by the authority chain, as it judges step entries: the signer's key valid at the sealing time,
in the version named and in the latest; and the signer in finance or management
(models/archive_meta.WRITERS), except for a charge raised with nothing received (an engineer's
chargeable repair), which any member may seal: it can only make the tenant owe more, and it is
signed by a named person.

Two changes come from signed move-outs rather than from a seal: the closing marks of a settled
statement (an item paid in the statement, a deposit refunded or forfeited; `closed_by` keeps
the values they replaced, so the seal is checked against the item as sealed), and the balance a
tenant still owes at closing (source `settlement`). verify/money_check.py checks those against the
case's signed entries.

What is signed is the item as stored, without its seal, closing mark and id, with every value in its
plain JSON form (dates and times in ISO 8601, money as written), canonicalised by RFC 8785: the
bytes do not depend on the model's defaults, so a later version of wuye that adds a field with a
default does not break a seal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.models.archive_meta import WRITERS
from wuye.trust import signing

NAMESPACE = "wuye-money"
MONEY_DEPARTMENTS = WRITERS["payments"]
# Not signed: the seal itself, closing's mark (judged against its case), and the item's id, which
# `wuye sync` renumbers when two offices added items offline (sync/merging.py): what a statement
# cites by id is checked against the item as it was when settled (verify/statements.py).
UNSIGNED = ("seal", "closed_by", "id")
# What a closing may change in an item (cases.closing_marks), restored from `closed_by.before`.
CLOSING_FIELDS = ("paid", "paid_on", "receipt_no", "note", "deposit_status")
_TOLERANCE = dt.timedelta(minutes=5)  # moveout/cases.SIGNED_AT_TOLERANCE: clocks of two offices


def plain_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    return str(value)


def payload(tenant_id: str, entry: Mapping, by: str, at: str, authority: int) -> bytes:
    """The bytes a seal signs: the item without its seal and closing mark, and who sealed it when."""
    body = {str(k): plain_value(v) for k, v in entry.items() if k not in UNSIGNED}
    return signing.canonical_bytes({"namespace": NAMESPACE, "tenant": tenant_id, "entry": body,
                                    "by": by, "at": at, "authority": authority})


def is_charge(entry: Mapping) -> bool:
    """An amount owed, raised with nothing received against it, not written off: what any
    member may seal (a repair charged to the tenant). Anything received or forgiven is finance's."""
    try:
        paid = Decimal(str(entry.get("paid") or 0))
    except ArithmeticError:
        return False
    return (entry.get("kind") == "fee" and paid == 0 and not entry.get("paid_on")
            and not entry.get("receipt_no") and not entry.get("written_off"))


def sealing_on(store) -> bool:
    """Seals are made once the store has an authority chain; before it, nothing can be signed
    (and verify reports the missing chain, which covers the ledger too)."""
    from wuye.trust import authority

    return bool(authority.version_numbers(store))


class Sealer:
    """Seals items for one actor: the authority version and private key are looked up once."""

    def __init__(self, store, actor, charges_only: bool = False):
        from wuye.trust import authority

        self.store, self.actor = store, actor
        department = next((d for d in MONEY_DEPARTMENTS if d in actor.departments), None)
        self.money = department is not None
        if department is None:
            if not charges_only:
                raise WuyeError(refusal(actor))
            department = actor.departments[0]
        self.version = authority.signing_version(store, actor, department)
        self.private = authority.private_key_for(self.version.member(actor.id))

    def seal(self, tenant_id: str, entry: dict, reread: bool = True) -> None:
        """Set `entry["seal"]` over the entry as it will be written (its closing mark dropped:
        a sealed item is the signer's word on it as it now stands). `reread=False` for plain
        values made from a model (yamlio.plain), which read back as they are."""
        if not self.money and not is_charge(entry):
            raise WuyeError(refusal(self.actor))
        from wuye.storage import yamlio

        entry.pop("seal", None)
        entry.pop("closed_by", None)
        at = self.store.now().isoformat()
        # Signed as the reader will read it back from the file (yamlio.dumps guarantees the two
        # agree), not as the writer's objects happen to hold it.
        as_read = yamlio.loads(yamlio.dumps(dict(entry)), "<seal>") if reread else entry
        armored = signing.sign(payload(tenant_id, as_read, self.actor.id, at, self.version.number), self.private, NAMESPACE)
        entry["seal"] = {"by": self.actor.id, "at": at, "authority": self.version.number, "signature": _compact(armored)}


def refusal(actor) -> str:
    from wuye.trust.staff import dept_label

    return tr("缴费记录（含押金）只能由%s记录或签章（%s 不是）；请用 --as 指定这些部门的员工",
              "payments and deposits are recorded and sealed by %s only (%s is not); act --as a member of one") % (
        tr("、", ", ").join(dept_label(d) for d in MONEY_DEPARTMENTS), actor.id)


def _compact(armored: str) -> str:
    """The signature's base64 on one line: the YAML stays one line an item."""
    return "".join(line for line in armored.splitlines() if not line.startswith("-----"))


def _armored(compact: str) -> str:
    body = "\n".join(compact[i : i + 70] for i in range(0, len(compact), 70))
    return f"-----BEGIN SSH SIGNATURE-----\n{body}\n-----END SSH SIGNATURE-----\n"


def restored(entry: Mapping) -> dict:
    """The item as sealed: a closing's changes undone from `closed_by.before` (None: absent)."""
    out = {k: v for k, v in entry.items() if k != "closed_by"}
    closed = entry.get("closed_by")
    before = closed.get("before") if isinstance(closed, Mapping) else None
    before = before if isinstance(before, Mapping) else {}  # a hand-made mark of another shape restores nothing
    for k in CLOSING_FIELDS:
        if k in before:
            if before[k] is None:
                out.pop(k, None)
            else:
                out[k] = before[k]
    return out


def seal_problems(chain, tenant_id: str, entry: Mapping, rel: str, line: int | None = None) -> list[Problem]:
    """Everything wrong with one item's seal, judged by the authority chain (never by staff/)."""
    eid = entry.get("id", "?")

    def bad(code: str, zh: str, en: str) -> list[Problem]:
        return [Problem(rel, tr("%s：", "%s: ") % eid + tr(zh, en), line, code=code)]

    seal = entry.get("seal")
    if not isinstance(seal, Mapping) or not seal.get("signature"):
        return bad("money.unsealed", "金额记录没有财务签章（手工改过，或来自旧版本）；核对后由财务执行 `wuye migrate --as 财务员工`",
                   "a ledger item without finance's seal (hand-edited, or from an older version); once checked, finance runs `wuye migrate --as FINANCE_STAFF`")
    by, at, number = str(seal.get("by", "")), seal.get("at"), seal.get("authority")
    try:
        when = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
        if when.tzinfo is None:
            raise ValueError
        number = int(number)
    except (TypeError, ValueError):
        return bad("money.seal-bad", "签章的时间或授权版本无法读取", "the seal's time or authority version cannot be read")
    version = chain.at(number)
    if version is None:
        return bad("money.seal-bad", "签章所依据的授权第 %s 版不在授权链中" % number, "the seal names authority version %s, which is not in the chain" % number)
    signer, later = version.member(by), chain.latest.member(by)
    if signer is None:
        return bad("money.seal-bad", "签章人 %s 不在授权第 %d 版中" % (by, number), "the sealer %s is not in authority version %d" % (by, number))
    if when < version.record.made_at - _TOLERANCE:
        return bad("money.seal-bad", "签章时间早于其所依据的授权第 %d 版" % number, "sealed before the authority version %d it names" % number)
    armored = _armored(str(seal["signature"]))
    try:
        embedded = signing.signature_public_key(armored)
        signing.verify(payload(tenant_id, restored(entry), by, plain_value(at), number), armored, embedded, NAMESPACE)
    except signing.SignatureError:
        return bad("money.seal-bad", "签章与记录内容不符（签章后被改过）", "the seal does not match the item (changed after it was sealed)")
    if signer.key_for(embedded, when) is None or (later is not None and later.key_for(embedded, when) is None):
        return bad("money.seal-bad", "签章时（%s）%s 的这把密钥无效（不是其密钥、已吊销或尚未生效）" % (at, by),
                   "at sealing time (%s) this key of %s was not valid (not theirs, revoked or not yet valid)" % (at, by))
    if not set(signer.departments) & set(MONEY_DEPARTMENTS) and not is_charge(restored(entry)):
        return bad("money.sealer-not-allowed", "%s 不属于财务部或管理层，只能签章未收款的应收项" % by,
                   "%s is neither finance nor management and may seal only a charge with nothing received" % by)
    return []
