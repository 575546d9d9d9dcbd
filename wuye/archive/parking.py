"""Parking leases (车位租约) ended outside a move-out: `wuye parking end TENANT SPACE --date`.

A parking space is a lease of its own in the tenant's move_in.yaml (`parking_spaces`, models
`ParkingLease`). A tenant may give up a space and stay: leasing records the day it ended, one
commit touching move_in.yaml only. The money follows at the tenant's next settlement, which
prorates the space's fees to that day (moveout/partial.py, settlement.py); until then finance
bills it as any fee. Ending a space inside a move-out is the handover's `parking_lease_terminated`,
recorded in the lease by closing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage import yamlio
from wuye.storage.store import Store

# Leasing lets the spaces; management may act for any department.
SIGNERS = ("leasing", "management")


@dataclass
class Ended:
    tenant_id: str
    space: str
    ended_on: dt.date
    commit: str | None


def end(store: Store, tenant: str, space: str, day: str, actor_id: str | None) -> Ended:
    from wuye.archive.dossier import find_tenant
    from wuye.models.archive import MoveIn, ParkingLease
    from wuye.trust.staff import dept_label

    actor = store.actor(actor_id)
    if not set(actor.departments) & set(SIGNERS):
        raise WuyeError(tr("%s 不能办理车位退租：须由 %s 办理", "%s may not end a parking lease: %s do") % (
            actor.id, tr("、", ", ").join(dept_label(d) for d in SIGNERS)))
    try:
        ended_on = dt.date.fromisoformat(day)
    except ValueError:
        raise WuyeError(tr("--date %r 不是日期；应写成 YYYY-MM-DD", "--date %r is not a date; write YYYY-MM-DD") % day) from None
    tenant_id = find_tenant(store, tenant)
    rel = store.tenant_rel(tenant_id, "move_in.yaml")
    with store.change("", author=actor) as ch:
        if not store.path(rel).is_file():
            raise WuyeError(tr("租户 %s 没有租用车位 %s（迁入资料中没有车位）", "tenant %s does not rent parking space %s (no spaces in its move-in record)")
                            % (tenant_id, space))
        record = store.read_model(rel, MoveIn)
        doc = yamlio.load_roundtrip(store.read_text(rel))
        spaces = doc.get("parking_spaces") or []
        i = next((i for i, p in enumerate(record.parking_spaces) if p.space == space.strip()), None)
        if i is None:
            raise WuyeError(tr("租户 %s 没有租用车位 %s（所租车位：%s）", "tenant %s does not rent parking space %s (its spaces: %s)")
                            % (tenant_id, space, tr("、", ", ").join(p.space for p in record.parking_spaces) or tr("无", "none")))
        lease = record.parking_spaces[i]
        if lease.ended_on is not None:
            raise WuyeError(tr("车位 %s 已于 %s 退租", "parking space %s already ended on %s") % (lease.space, lease.ended_on))
        if lease.start is not None and ended_on < lease.start:
            raise WuyeError(tr("退租日期 %s 早于起租日期 %s", "the end date %s is before the lease's start, %s") % (ended_on, lease.start))
        raw = spaces[i]
        if isinstance(raw, str):  # a plain id from before parking leases becomes a lease record
            raw = spaces[i] = {"space": raw}
        raw["ended_on"] = ended_on.isoformat()
        raw["ended_by"] = actor.id
        ParkingLease.model_validate(dict(raw))
        ch.write_yaml(rel, doc)
        ch.summary = tr("parking %s: 车位 %s 退租（%s），%s", "parking %s: space %s ended (%s) by %s") % (
            tenant_id, lease.space, ended_on.isoformat(), actor.name)
        ch.trailers = {"Wuye-Tenant": tenant_id, "Wuye-Category": "move_in", "Wuye-Parking": lease.space, "Wuye-Actor": actor.id}
    return Ended(tenant_id, lease.space, ended_on, ch.commit)
