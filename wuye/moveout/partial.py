"""Partial move-outs (部分迁出) and parking leases (车位租约): what one case covers.

A tenant who leases several units may move out of some of them: `moveout start --units 1202`
opens a case for the units named; case.yaml records them (`units`) and the ones the tenant keeps
(`units_kept`). A case that keeps none is a whole move-out, as every case was before. A parking
space is a lease of its own in move_in.yaml (`parking_spaces`), which a case ends at its handover
or `wuye parking end` ends on its own.

What a case covers (its `Scope`), decided here so that the settlement, the standards and closing
read one rule:
- Ledger items (payments.yaml) tied to a unit (`unit`) belong to that unit's case; items of a
  parking space (`space`) to the case that covers the space's lease. An item tied to nothing is
  the tenant's: a partial case leaves it alone (the tenant stays and goes on paying), the case that
  ends the tenancy settles it. So a tenant-wide deposit stays held while the tenant keeps units,
  unless finance disposes of it in the partial case (`settle --withhold` or `--forfeit` naming it:
  then it is refunded less what finance keeps, in that case). A deposit of a unit kept cannot be
  disposed of in another unit's case.
- Violations without a ledger item are tenant-wide (settled by the last case); those pointing at
  an item follow it.
- Keys, cards and rented extinguishers are counted per unit. The move-in record's per-unit counts
  (`move_in.per_unit`) are the issued counts of a partial case; a partial case refuses to open
  while a unit leaving has none and the tenant was issued any (the clerk states them first, in
  move_in.yaml, a commit of its own). The case that ends the tenancy counts the tenant's totals
  less the per-unit counts of the units gone before: what was issued to the tenant as a whole is
  handed back at the end. Parking cards and lock keys go with the tenant: counted at the end.
- Meters: a partial case bills the unit's meter from its last bill tied to the unit, else from
  the unit's move-in reading (`per_unit[].meter_readings`).
- Parking leases tied to a unit (`unit`) end with that unit's case; the others with the tenancy.
  A lease already ended (`ended_on`) is prorated to that day; one ended at the handover to the
  planned move-out date. Closing records the end in the lease (`ended_on`) and the case that
  settled it (`settled_case`), which no later case settles again.

This module only decides and narrows; it writes nothing but what `close_*` is handed to write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wuye.errors import WuyeError
from wuye.i18n import tr

COUNTS = ("access_cards_issued", "keys_issued", "customer_cards_issued", "extinguishers_rented")
TENANT_COUNTS = ("parking_cards_issued", "parking_lock_keys_issued")  # go with the tenant


def _key(label) -> str:
    from wuye.models.ids import unit_key

    return unit_key(label)


@dataclass(frozen=True)
class Scope:
    """The units a case moves out of and those the tenant keeps (none: the tenancy ends)."""

    case: str
    units: tuple[str, ...]
    kept: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return bool(self.kept)

    def leaves(self, unit) -> bool:
        return unit is not None and _key(unit) in {_key(u) for u in self.units}

    def keeps(self, unit) -> bool:
        return unit is not None and _key(unit) in {_key(u) for u in self.kept}


def scope_of(case_id: str, info: dict) -> Scope:
    """The scope of a case from its case.yaml (a case from before partial move-outs keeps nothing)."""
    return Scope(case_id, tuple(str(u) for u in info.get("units") or []), tuple(str(u) for u in info.get("units_kept") or []))


def split_units(tenant_id: str, leased: list[str], requested: list[str]) -> tuple[list[str], list[str]]:
    """(units leaving, units kept), both as the profile writes them, for `start --units`. A unit
    the tenant does not lease is refused by name. Several may be given in one value: 1201、1202."""
    from wuye.models.ids import unit_id

    asked = [u.strip() for value in requested for u in value.replace("、", ",").replace("，", ",").split(",") if u.strip()]
    if not asked:
        raise WuyeError(tr("--units 没有写房号；请写明迁出的单元，如 --units 1202", "--units names no unit; name the units moving out, e.g. --units 1202"))
    leaving = []
    for u in asked:
        hit = next((x for x in leased if _key(x) == _key(u) or unit_id(x) == u), None)
        if hit is None:
            raise WuyeError(tr("租户 %s 没有租用单元 %s（所租单元：%s）；请核对 --units",
                               "tenant %s does not lease unit %s (its units: %s); check --units")
                            % (tenant_id, u, tr("、", ", ").join(leased) or tr("无", "none")))
        if hit not in leaving:
            leaving.append(hit)
    return leaving, [u for u in leased if u not in leaving]


def check_counts_per_unit(move_in, leaving: list[str]) -> None:
    """A partial case counts keys and cards per unit: the move-in record must say what each unit
    leaving was issued, when the tenant was issued any (refused before anything is signed)."""
    if move_in is None or not any(getattr(move_in, f) for f in COUNTS):
        return
    missing = [u for u in leaving if _entry(move_in, u) is None]
    if missing:
        raise WuyeError(tr("迁入资料（move_in.yaml）没有单元 %s 的发放数；部分迁出按单元清点钥匙和证卡，请先在 per_unit 中记录"
                           "各单元发放的出入证、钥匙、客户卡（`wuye archive add 租户 move_in --file 文件`）",
                           "the move-in record (move_in.yaml) has no counts for unit %s; a partial move-out counts keys and cards "
                           "per unit, so record what each unit was issued in per_unit first (`wuye archive add TENANT move_in --file FILE`)")
                        % tr("、", ", ").join(missing))


def _entry(move_in, unit):
    return next((e for e in getattr(move_in, "per_unit", None) or [] if _key(e.unit) == _key(unit)), None)


class MoveInView:
    """The move-in record as one case counts it: the issued counts and base readings of the units
    it covers, and `cite(field)` naming where each came from."""

    def __init__(self, move_in, scope: Scope):
        self._m, self._scope = move_in, scope
        self.parking_spaces = move_in.parking_spaces
        self.per_unit = move_in.per_unit
        # Meters replaced during the lease (move_in.meter_changes) are the tenant's meters: a
        # partial case bills the unit's own meter, whose changes the record does not hold per unit.
        self.meter_changes = [] if scope.partial else getattr(move_in, "meter_changes", [])
        self._cites: dict[str, str] = {}
        if scope.partial:
            entries = [_entry(move_in, u) for u in scope.units]
            for f in COUNTS:
                given = [(e.unit, getattr(e, f)) for e in entries if e is not None]
                setattr(self, f, sum(n for _, n in given))
                self._cites[f] = " + ".join(f"per_unit[{u}].{f}" for u, _ in given) or f"per_unit[{'/'.join(scope.units)}].{f}"
            for f in TENANT_COUNTS:
                setattr(self, f, 0)
            own = [e for e in entries if e is not None]
            self.meter_readings = own[0].meter_readings if len(own) == 1 else type(move_in.meter_readings)()
            self._cites["meter_readings"] = f"per_unit[{own[0].unit}].meter_readings" if len(own) == 1 else "per_unit.meter_readings"
        else:
            gone = [e for e in move_in.per_unit if not scope.leaves(e.unit)]
            for f in COUNTS:
                setattr(self, f, max(getattr(move_in, f) - sum(getattr(e, f) for e in gone), 0))
                self._cites[f] = f + "".join(f" − per_unit[{e.unit}].{f}" for e in gone if getattr(e, f))
            for f in TENANT_COUNTS:
                setattr(self, f, getattr(move_in, f))
            own = [e for e in move_in.per_unit if scope.leaves(e.unit) and (e.meter_readings.electricity is not None
                                                                            or e.meter_readings.water is not None)]
            if len(own) == 1 and scope.units and len(scope.units) == 1:
                self.meter_readings = own[0].meter_readings
                self._cites["meter_readings"] = f"per_unit[{own[0].unit}].meter_readings"
            else:
                self.meter_readings = move_in.meter_readings

    def cite(self, field: str) -> str:
        return self._cites.get(field, field)


def view(move_in, scope: Scope | None):
    """The move-in record as `scope` counts it (the record itself without a scope, or when the
    case covers the tenant's every unit and no unit has counts of its own)."""
    if move_in is None or scope is None:
        return move_in
    if not scope.partial and not move_in.per_unit:
        return move_in
    return MoveInView(move_in, scope)


# --- parking leases ----------------------------------------------------------------------------


def lease_of(move_in, space: str):
    return next((p for p in (move_in.parking_spaces if move_in is not None else []) if p.space == space), None)


def covers_lease(scope: Scope | None, lease) -> bool:
    """Whether the case settles this parking lease: not one ended in another case; one tied to a
    unit with that unit's case; one tied to none with the tenancy."""
    if scope is None:
        return lease.settled_case is None
    if lease.settled_case is not None and lease.settled_case != scope.case:
        return False
    if lease.unit is not None and scope.leaves(lease.unit):
        return True
    return not scope.partial and not scope.keeps(lease.unit)


def leases_covered(move_in, scope: Scope | None) -> list:
    return [p for p in (move_in.parking_spaces if move_in is not None else []) if covers_lease(scope, p)]


def lease_end(lease, moveout: dt.date | None) -> dt.date | None:
    """The day a lease's money runs to: the day it was ended, else its agreed end if that comes
    first, else the move-out date (the handover ends it)."""
    if lease.ended_on is not None:
        return lease.ended_on
    if lease.end is not None and (moveout is None or lease.end < moveout):
        return lease.end
    return moveout


def narrow(scope: Scope | None, payments: list, violations: list, move_in, finance) -> tuple[list, list]:
    """The ledger items and violations the case settles (see the module's rules)."""
    if scope is None:
        return payments, violations
    named = {source.partition("#")[2].split(" ", 1)[0] for code, _, source, _ in finance if code in ("withhold", "forfeit")}
    out = []
    for p in payments:
        lease = lease_of(move_in, p.space) if p.space else None
        if lease is not None:
            mine = covers_lease(scope, lease)
        elif p.unit is not None:
            mine = scope.leaves(p.unit) or (not scope.partial and not scope.keeps(p.unit))
            if not mine and p.id in named and scope.keeps(p.unit):
                raise WuyeError(tr("押金 %s 属于留租的单元 %s，不能在本案（%s）中扣留或没收",
                                   "deposit %s belongs to unit %s, which the tenant keeps; it cannot be withheld or forfeited in case %s")
                                % (p.id, p.unit, scope.case))
        else:
            mine = not scope.partial or (p.kind == "deposit" and p.id in named)
        if mine:
            out.append(p)
    ids = {p.id for p in out}
    kept = [v for v in violations if (v.item in ids if v.item is not None else not scope.partial)]
    return out, kept


# --- closing -----------------------------------------------------------------------------------


def close_profile(pdoc, info: dict) -> None:
    """The tenant's profile at closing: a whole move-out leaves it moved out; a partial one drops
    the units that left and leaves the tenant as it was (active: it still leases the others)."""
    kept = info.get("units_kept") or []
    if not kept:
        pdoc["status"] = "moved_out"
        return
    gone = {_key(u) for u in info.get("units") or []}
    units = pdoc.get("units")
    if units is not None:
        for i in reversed(range(len(units))):
            if _key(units[i]) in gone:
                del units[i]


def close_parking(doc, scope: Scope, planned: dt.date | None, today: dt.date, signer: str) -> bool:
    """Record in move_in.yaml (round-trip `doc`) every parking lease the case covers as settled by
    it (`settled_case`: no later case charges or credits it again), and the end of those ended at
    its handover; True when anything changed. A plain id from an old store becomes a lease record."""
    from wuye.models.archive import ParkingLease

    spaces = doc.get("parking_spaces") if doc is not None else None
    if not spaces:
        return False
    changed = False
    for i, raw in enumerate(spaces):
        lease = ParkingLease.model_validate(raw)
        if not covers_lease(scope, lease) or lease.settled_case is not None:
            continue
        if isinstance(raw, str):
            raw = spaces[i] = {"space": raw}
        if lease.ended_on is None:
            raw["ended_on"] = (lease_end(lease, planned) or today).isoformat()
            raw["ended_by"] = signer
        raw["settled_case"] = scope.case
        changed = True
    return changed
