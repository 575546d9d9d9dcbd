"""`wuye migrate`: bring a store written by an older wuye (or edited by hand) to the one ledger, sealed.

Two steps, one commit, made by a member of finance or management who answers for the result:
1. **Arrears and fines into the ledger.** A violation record still open, with an amount and
   pointing at no ledger item, is the old way of recording money owed. An arrear (kind `arrears`)
   is linked to the one unpaid fee item of the same amount, when there is exactly one (and no other
   record links it): the same money, now counted once. Otherwise, and for a fine, a fee item is
   raised for it (source `fine` or `other`, citing the record), so that every amount owed is one
   item of the sealed ledger and `report arrears` reads it there.
2. **Seals.** Every ledger item without a valid seal (from before seals, edited by hand since,
   or raised by a member who may not handle what it now says) is sealed by the migrating member
   (trust/money.py). `--dry-run` lists them first: sealing is finance's word that each is right.
   Balances due that closed move-outs wrote, and closing marks, are checked against their cases
   and left as they are. Without an authority chain nothing can be sealed; the links are made.

Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage.store import Store


@dataclass
class Migration:
    linked: list[tuple[str, str, str]] = field(default_factory=list)   # tenant, violation id, ledger item id
    raised: list[tuple[str, str, str]] = field(default_factory=list)   # tenant, violation id, new item id
    sealed: list[tuple[str, str, str, str]] = field(default_factory=list)  # tenant, item id, item, amount
    sealing: bool = True  # False: the store has no authority chain yet
    commit: str | None = None


def migrate(store: Store, actor_id: str | None, dry_run: bool = False) -> Migration:
    from wuye.archive.dossier import _may_write, append_entry, list_document, validate_file
    from wuye.models.archive import BY_KEY, Payment
    from wuye.trust import money
    from wuye.verify.context import Context
    from wuye.verify.money_check import item_problems

    actor = store.actor(actor_id)
    pay_c, vio_c = BY_KEY["payments"], BY_KEY["violations"]
    _may_write(actor, pay_c)
    # Every ledger and violations file must read as its category first: sealing a file that does
    # not would put finance's word on what nobody can check, so it is refused, naming each.
    broken = [p for tid in store.tenant_ids() for c in (pay_c, vio_c)
              for p in validate_file(store, tid, c)[1] if p.level == "error"]
    if broken:
        raise WuyeError(tr("无法迁移：以下档案文件有错误，请先修正（或撤销改动）：\n", "cannot migrate: fix these archive files first (or undo the change):\n")
                        + "\n".join(str(p) for p in broken), broken)
    result = Migration(sealing=money.sealing_on(store))
    sealer = money.Sealer(store, actor) if result.sealing and not dry_run else None
    chain = Context(store).chain() if result.sealing else None
    cases: dict = {}
    with store.change("", author=actor) as ch:
        for tid in store.tenant_ids():
            vrel, prel = store.tenant_rel(tid, vio_c.filename), store.tenant_rel(tid, pay_c.filename)
            if not store.path(vrel).is_file() and not store.path(prel).is_file():
                continue
            pdoc = list_document(store, tid, pay_c)
            entries = pdoc["entries"]
            new_ids: set[str] = set()
            if store.path(vrel).is_file():
                vdoc = list_document(store, tid, vio_c)
                if _link_arrears(store, tid, vdoc, pdoc, result, new_ids, actor, append_entry, Payment):
                    ch.write_yaml(vrel, vdoc)
            if result.sealing:
                for e in entries:
                    eid = str(e.get("id"))
                    if eid in new_ids or item_problems(store, chain, tid, prel, yaml_plain(e), cases):
                        result.sealed.append((tid, eid, str(e.get("item")), str(e.get("amount"))))
                        if sealer is not None:
                            sealer.seal(tid, e)
            if new_ids or any(t == tid for t, *_ in result.sealed):
                ch.write_yaml(prel, pdoc)
        n = len({t for t, *_ in result.sealed} | {t for t, *_ in result.linked} | {t for t, *_ in result.raised})
        ch.summary = tr("migrate: 封存 %d 项、关联欠费 %d 条、新增应收 %d 项（%d 户）",
                        "migrate: %d items sealed, %d arrears linked, %d items raised (%d tenants)") % (
            len(result.sealed), len(result.linked), len(result.raised), n)
        ch.trailers = {"Wuye-Action": "migrate", "Wuye-Actor": actor.id}
        if dry_run:
            ch.files.clear()
    result.commit = None if dry_run else ch.commit
    return result


def yaml_plain(entry) -> dict:
    """A round-trip entry as the reader reads it back (what a seal is judged on)."""
    from wuye.storage import yamlio

    return yamlio.loads(yamlio.dumps(dict(entry)), "<entry>")


def _link_arrears(store, tid, vdoc, pdoc, result, new_ids, actor, append_entry, Payment) -> bool:
    from wuye.models.archive import BY_KEY

    changed = False
    linked = {str(v.get("item")) for v in vdoc["entries"] if v.get("item")}
    for v in vdoc["entries"]:
        if v.get("status", "open") != "open" or v.get("item"):
            continue
        amount = Decimal(str(v.get("amount") or "0"))
        if amount <= 0:
            continue
        same = [e for e in pdoc["entries"] if e.get("kind") == "fee" and not e.get("written_off")
                and str(e.get("id")) not in linked
                and Decimal(str(e.get("amount") or 0)) - Decimal(str(e.get("paid") or 0)) == amount]
        vid = str(v.get("id"))
        if len(same) == 1 and v.get("kind") == "arrears":  # an arrear is about a bill; a fine is a charge of its own
            v["item"] = str(same[0].get("id"))
            result.linked.append((tid, vid, v["item"]))
        else:
            entry = append_entry(pdoc, BY_KEY["payments"], {
                "kind": "fee", "item": str(v.get("description")), "amount": str(amount), "paid": "0.00",
                "due_date": v.get("date"), "source": "fine" if v.get("kind") == "violation" else "other",
                "source_ref": f"violations.yaml#{vid}",
                "recorded_by": actor.id, "recorded_at": store.now()}, Payment.model_validate)
            v["item"] = entry.id
            new_ids.add(entry.id)
            result.raised.append((tid, vid, entry.id))
        linked.add(v["item"])
        changed = True
    return changed
