"""Lease-expiry reminders (租约到期提醒): the tenants still in the building whose lease, by their
profile's `lease_end`, ends within a horizon of a day, or has ended already.

Leasing (租售部) writes the move-out notice and the lease end (the seed's first move-out step), so
it needs to know early which leases are ending: to renew them, or to start the move-out in time.
The horizon is `reminders.lease_expiry_days` of wuye.yaml unless given. Only tenants whose status
is `active` count: one moving out is already in hand, one moved out is gone. A lease that ended
while the tenant is still active is overdue. The profiles are read through the tenant index
(storage.cache): a look-up, no git, no pydantic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage.store import Store


@dataclass
class Expiry:
    tenant_id: str
    company: str
    units: list[str]
    lease_end: dt.date
    days_left: int  # negative: ended that many days ago

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def horizon(store: Store, within: int | str | None) -> int:
    if within is None:
        return store.config.reminders.lease_expiry_days
    text = str(within).strip()
    if not text.isdigit() or not 0 < int(text) <= 3650:
        raise WuyeError(tr("--within 应为 1 到 3650 的天数，而不是 %r", "--within must be a number of days from 1 to 3650, not %r") % within)
    return int(text)


def expiring(store: Store, day: dt.date, within: int) -> list[Expiry]:
    """Active tenants whose lease ends on or before `day` + `within` days, soonest first."""
    from wuye.storage.index import LEASES, tenant_index

    last = day + dt.timedelta(days=within)
    out = []
    for tid, name, units, status, end in tenant_index(store, LEASES):
        if status != "active":
            continue
        try:
            lease_end = dt.date.fromisoformat(end)
        except ValueError:
            continue  # no lease end recorded (or a hand edit `archive check` reports)
        if lease_end <= last:
            out.append(Expiry(tid, name or tid, list(units), lease_end, (lease_end - day).days))
    out.sort(key=lambda e: (e.lease_end, e.tenant_id))
    return out
