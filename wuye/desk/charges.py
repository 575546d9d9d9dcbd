"""A repair charged to the tenant (有偿维修) becomes an item of their receivables ledger.

Who decides: engineering does the work and records its cost; whether the tenant pays for it (damage
they caused, work outside what the management fee covers) is known to whoever closes the job, so
engineering may mark it chargeable, and finance and management may too (`CHARGERS`). Engineering
does not thereby keep the books: the item is written on behalf of finance's rule, which is fixed
here and not left to the person: the amount is exactly the cost on the repair record, for the month
the work was done, due `charges.repair_due_days` (wuye.yaml, 30 by default) after it, citing the
repair (`source: repair`, `source_ref: repairs.yaml#BX-…`). Finance then collects it like any other
item: a payment against it, or the move-out settlement (which deducts every open item once), and
`report arrears` shows it while it is open. A repair not marked chargeable is the office's cost and
never reaches the ledger. The item is written in the same commit as the completion (`repair done`),
so history never holds a chargeable repair without its charge; verify (verify/money_check.py) checks
that such a commit's new item is exactly this one.

This module only builds and appends the item into a change; servicedesk.done calls it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from wuye.errors import WuyeError
from wuye.i18n import tr

# Departments that may mark a repair chargeable (a charge to the tenant on finance's rule).
CHARGERS = ("engineering", "finance", "management")


def may_charge(actor) -> None:
    """Refuse marking a repair chargeable to someone outside CHARGERS."""
    from wuye.trust.staff import dept_label

    if not set(actor.departments) & set(CHARGERS):
        raise WuyeError(tr("只有%s可以把维修登记为向客户收费（%s 不是）；请用 --as 指定这些部门的员工",
                           "only %s may mark a repair chargeable to the tenant (%s is not); act --as a member of one")
                        % (tr("、", ", ").join(dept_label(d) for d in CHARGERS), actor.id))


def repair_ref(repair_id: str) -> str:
    return f"repairs.yaml#{repair_id}"


def repair_item(repair: dict, due_days: int, actor_id: str, now: dt.datetime) -> dict:
    """The ledger item of a chargeable repair, by finance's rule (see the module's docstring)."""
    done = repair["done_at"]
    day = (done if isinstance(done, dt.datetime) else dt.datetime.fromisoformat(str(done))).date()
    return {"kind": "fee", "item": tr("维修费：%s", "repair charge: %s") % repair["location"],
            "period": f"{day.year:04d}-{day.month:02d}", "amount": str(repair["cost"]), "paid": "0.00",
            "due_date": (day + dt.timedelta(days=due_days)).isoformat(), "source": "repair",
            "source_ref": repair_ref(str(repair["id"])), "recorded_by": actor_id, "recorded_at": now}


def bill(store, ch, tenant_id: str | None, repair: dict, actor, now: dt.datetime) -> str:
    """Append the repair's item to the tenant's payments.yaml inside change `ch`; its id."""
    from wuye.archive.dossier import append_entry, list_document, seal_new, validate_file
    from wuye.errors import Problem
    from wuye.models.archive import BY_KEY, Payment

    if tenant_id is None:
        raise WuyeError(tr("公共区域的维修没有租户可以收费；不要加 --chargeable", "a common area's repair has no tenant to charge; leave out --chargeable"))
    if Decimal(str(repair["cost"])) <= 0:
        raise WuyeError(tr("向客户收费的维修须有费用：请用 --cost 金额", "a chargeable repair needs its cost: give --cost AMOUNT"))
    c = BY_KEY["payments"]
    _, problems = validate_file(store, tenant_id, c)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise WuyeError("\n".join(str(Problem(p.path, p.message + tr("（请先修正此文件）", " (fix this file first)"), p.line, p.col, code=p.code))
                                  for p in errors), errors)
    doc = list_document(store, tenant_id, c)
    ref = repair_ref(str(repair["id"]))
    if any(str(e.get("source_ref")) == ref for e in doc.get("entries") or []):
        raise WuyeError(tr("缴费记录中已有此维修的收费（source_ref: %s）", "payments.yaml already holds a charge for this repair (source_ref: %s)") % ref)
    entry = append_entry(doc, c, repair_item(repair, store.config.charges.repair_due_days, actor.id, now), Payment.model_validate)
    # Sealed by whoever marks the repair done: a charge with nothing received, which any member
    # may raise (trust/money.py); receiving it is finance's.
    seal_new(store, tenant_id, actor, doc, [entry.id], charges_only=True)
    ch.write_yaml(store.tenant_rel(tenant_id, c.filename), doc)
    return entry.id
