"""The move-out settlement (财务结算): an itemised statement computed to the fen.

Deposits held are credits, less what finance withholds from one (with its reason) or forfeits.
The open items of the tenant's ledger (payments.yaml), each once, are charges; a violation is
money only when the ledger does not hold it (no `item`). So are damages found by the engineering
inspection, final utilities (from the last billed reading, else the move-in reading, to the exit
reading, × the rate in force) and the fees for cards, keys and extinguishers not handed back
(counted against the move-in record), and other charges finance enters. A periodic fee whose
period holds the move-out date is prorated by the building's rule (proration.py): the used part
charged when unpaid, the unused part credited when paid. Every line names the record it came
from. Arithmetic is Decimal, each line rounded ROUND_HALF_UP to 0.01 yuan; a positive balance is refunded, a negative
one is due. A partial move-out (some units of a tenant who leases several) settles only what
belongs to the units leaving, and parking leases end on their own day: partial.py narrows the
records to the case's scope before anything is computed. This module only computes: it reads
validated records and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.moveout.proration import period_bounds

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class SettlementLine:
    """One line of the statement: positive is owed to the tenant, negative is owed by them."""

    code: str  # deposit, unpaid_fee, fee_credit (a prorated fee paid ahead), arrears, violation, damage, utility:electricity, unreturned:access_card, parking, other
    item: str
    source: str
    amount: Decimal

    def to_json(self) -> dict:
        return {"code": self.code, "item": self.item, "source": self.source, "amount": str(self.amount)}


@dataclass
class Statement:
    lines: list[SettlementLine] = field(default_factory=list)

    @property
    def credits(self) -> Decimal:
        return sum((l.amount for l in self.lines if l.amount > 0), Decimal("0.00"))

    @property
    def charges(self) -> Decimal:
        return -sum((l.amount for l in self.lines if l.amount < 0), Decimal("0.00"))

    @property
    def balance(self) -> Decimal:
        return self.credits - self.charges

    def to_data(self) -> dict:
        return {
            "lines": [l.to_json() for l in self.lines],
            "credits": str(self.credits),
            "charges": str(self.charges),
            "balance": str(self.balance),
        }

    def add(self, code: str, item: str, source: str, amount: Decimal) -> None:
        amount = cents(amount)
        if amount != 0:
            self.lines.append(SettlementLine(code, item, source, amount))


# (move-in field, returned field in step data, step, fee key in wuye.yaml, Chinese, English)
RETURNABLES = (
    ("access_cards_issued", "access_cards_returned", "return_pass", "access_card", "出入证", "access cards"),
    ("extinguishers_rented", "extinguishers_returned", "security_inspection", "extinguisher", "租用灭火器", "rented extinguishers"),
    ("keys_issued", "keys_returned", "handover", "unit_key", "单元钥匙", "unit keys"),
    ("customer_cards_issued", "customer_cards_returned", "handover", "customer_card", "客户卡", "customer cards"),
    ("parking_cards_issued", "parking_cards_returned", "handover", "parking_card", "停车卡", "parking cards"),
    ("parking_lock_keys_issued", "parking_lock_keys_returned", "handover", "parking_lock_key", "车位锁钥匙", "parking lock keys"),
)


def shortages(move_in, steps: dict[str, dict]) -> list[tuple[str, int, str, str]]:
    """(fee key, how many not returned, source, label) for items whose return step is signed."""
    out = []
    for issued_f, returned_f, step, fee, zh, en in RETURNABLES:
        entry = steps.get(step)
        if entry is None or move_in is None:
            continue
        issued = getattr(move_in, issued_f)
        returned = entry["data"].get(returned_f) or 0
        if issued > returned:
            out.append((fee, issued - returned, f"move_in.yaml {move_in.cite(issued_f)} / {entry['_file']} {returned_f}", tr(zh, en)))
    return out


# Finance's own lines: entered at settling (`settle --charge/--withhold/--forfeit`), kept on a
# correction, and handed back to `compute` by verify from the signed statement.
FINANCE_CODES = ("other", "withhold", "forfeit")


def _deposit_lines(st: Statement, payments: list, finance: list) -> None:
    """Each held deposit refunded, less what finance withholds (with a reason) or forfeits (all of it)."""
    held = {p.id: p for p in payments if p.kind == "deposit" and p.deposit_status == "held"}
    kept: dict[str, Decimal] = {}
    forfeited = set()
    for code, item, source, amount in finance:
        if code not in ("withhold", "forfeit"):
            continue
        ref = source.partition("#")[2].split(" ", 1)[0]
        if ref not in held:
            raise WuyeError(tr("扣留或没收的押金 %s 不是本租户持有的押金（缴费记录中 kind: deposit, deposit_status: held）",
                               "the deposit %s withheld or forfeited is not a deposit held for this tenant") % ref)
        kept[ref] = kept.get(ref, Decimal("0.00")) - amount
        if code == "forfeit":
            forfeited.add(ref)
    for ref, total in kept.items():
        deposit = held[ref]
        if ref in forfeited and total != deposit.amount:
            raise WuyeError(tr("押金 %s 没收须是全额 %s 元", "forfeiting deposit %s takes all of it, %s yuan") % (ref, deposit.amount))
        if total > deposit.amount:
            raise WuyeError(tr("押金 %s 扣留合计 %s 元，超过押金 %s 元", "deposit %s: %s yuan withheld exceeds the deposit of %s yuan")
                            % (ref, total, deposit.amount))
    for p in held.values():
        st.add("deposit", tr("退还%s", "refund of %s") % p.item, f"payments.yaml#{p.id}", p.amount)
        for code, item, source, amount in finance:
            if code in ("withhold", "forfeit") and source.partition("#")[2].split(" ", 1)[0] == p.id:
                st.add(code, item, source, amount)


def moveout_date(config, steps: dict[str, dict]):
    """The date fees are prorated to, or None when the building does not prorate.

    It is the notice's planned move-out date (the latest revision of the notice): the statement is
    signed before release, so the day the tenant actually leaves is not known yet, and the planned
    date is what the tenant gave in writing and leasing signed. verify recomputes the statement
    from the entries of its commit, so the date is the one the statement was computed with; a
    changed plan is a corrected notice and then a corrected settlement (settle --correct)."""
    import datetime as dt

    if config.moveout.proration == "none":
        return None
    notice = steps.get("notice")
    planned = (notice or {}).get("data", {}).get("planned_date")
    if planned is None:
        raise WuyeError(tr("无法按迁出日期折算费用：租售部书面通知没有计划迁出日期（planned_date）；请更正通知",
                           "cannot prorate fees to the move-out date: the leasing notice has no planned_date; correct the notice"))
    return dt.date.fromisoformat(str(planned))


def _share_text(sh) -> str:
    if sh.rule == "day":
        return tr("按日折算 %d/%d 天", "prorated by day %d/%d days") % (sh.used, sh.total)
    return tr("按半月折算 %d/%d 个半月", "prorated by half-month %d/%d half-months") % (sh.used, sh.total)


def _prorated(st: Statement, p, sh) -> None:
    """A fee whose period holds the move-out date: the tenant owes the used share of it. Each line
    shows its arithmetic, and is rounded as every line is."""
    from wuye.moveout.proration import Share

    what = f"{p.item} {p.period}"
    used = sh
    owed = p.amount * sh.used / sh.total
    source = f"payments.yaml#{p.id}"
    if p.paid == 0:
        st.add("unpaid_fee", tr("未缴%s %s × %s", "unpaid %s %s × %s") % (what, _share_text(used), f"{p.amount:,}"), source, -owed)
    elif p.paid >= p.amount:
        unused = Share(sh.rule, sh.unused, sh.total)
        st.add("fee_credit", tr("退还%s 未用部分 %s × %s", "refund of %s, unused part %s × %s") % (what, _share_text(unused), f"{p.amount:,}"),
               source, p.amount * sh.unused / sh.total)
    elif p.paid < cents(owed):
        st.add("unpaid_fee", tr("未缴%s %s × %s − 已付 %s", "unpaid %s %s × %s − paid %s")
               % (what, _share_text(used), f"{p.amount:,}", f"{p.paid:,}"), source, p.paid - owed)
    else:
        st.add("fee_credit", tr("退还%s 已付 %s − %s × %s", "refund of %s: paid %s − %s × %s")
               % (what, f"{p.paid:,}", _share_text(used), f"{p.amount:,}"), source, p.paid - owed)


def _open_items(st: Statement, payments: list, violations: list, config=None, steps: dict | None = None, move_in=None) -> None:
    """Every open ledger item once; a violation counts only when it is money the ledger does not
    hold (a record with an amount and no `item`: a fine or an arrear kept before the ledger).
    A periodic fee (not a utility bill, a fine, a repair or a damage: those are owed whole) whose
    period holds the move-out date is prorated by the building's rule, paid or not; a parking
    space's fee (`space`) is prorated to its own lease's end instead (partial.lease_end)."""
    from wuye.moveout.partial import lease_end, lease_of
    from wuye.moveout.proration import share

    ids = {p.id for p in payments}
    day = moveout_date(config, steps or {}) if config is not None else None
    for p in payments:
        lease = lease_of(move_in, p.space) if p.space else None
        when = lease_end(lease, day) if lease is not None and day is not None else day
        sh = share(config.moveout.proration, p.period, when) if when is not None and p.kind == "fee" and p.source == "fee" \
            and p.meter is None and not p.written_off else None
        if sh is not None:
            _prorated(st, p, sh)
        elif p.kind == "fee" and p.unpaid > 0:
            period = f" {p.period}" if p.period else ""
            st.add("unpaid_fee", tr("未缴%s%s", "unpaid %s%s") % (p.item, period), f"payments.yaml#{p.id}", -p.unpaid)
    for v in violations:
        if v.item is not None:
            if v.item not in ids:
                raise WuyeError(tr("violations.yaml %s 所指的缴费记录 %s 不存在；请更正 item", "violations.yaml %s points at payment %s, which does not exist; correct its item")
                                % (v.id, v.item))
            continue
        if v.status == "open" and v.amount > 0:
            st.add(v.kind, v.description, f"violations.yaml#{v.id}", -v.amount)


def last_billed(payments: list, meter: str):
    """The utility bill for `meter` billed up to the highest reading, or None."""
    bills = [p for p in payments if p.kind == "fee" and p.meter == meter and p.reading is not None]
    return max(bills, key=lambda p: p.reading, default=None)


def _bill_day(p) -> dt.date | None:
    """The day a bill's reading was taken as: the end of its period, else when it was paid or
    recorded (a bill is on the meter that was in place then)."""
    bounds = period_bounds(p.period) if p.period else None
    if bounds:
        return bounds[1]
    if p.paid_on:
        return p.paid_on
    return p.recorded_at.date() if p.recorded_at else None


def _segments(meter: str, move_in, final: Decimal, eng_source: str) -> list[tuple]:
    """The meters one after another: (index, start reading, its source, end reading, its source,
    the day the meter was taken out or None). One segment when the meter was never replaced."""
    changes = sorted(((i, c) for i, c in enumerate(move_in.meter_changes if move_in is not None else []) if c.meter == meter),
                     key=lambda x: x[1].date)
    start = getattr(move_in.meter_readings, meter) if move_in is not None else None
    source = f"move_in.yaml {move_in.cite('meter_readings') if move_in is not None else 'meter_readings'}.{meter}"
    out = []
    for n, (i, c) in enumerate(changes):
        out.append((n, start, source, c.old_final, f"move_in.yaml meter_changes[{i}] old_final", c.date))
        start, source = c.new_start, f"move_in.yaml meter_changes[{i}] new_start"
    out.append((len(changes), start, source, final, eng_source, None))
    return out


def _utility_lines(st: Statement, config, payments: list, move_in, eng: dict) -> None:
    """Each meter billed from its last billed reading (or the move-in reading) to the exit reading.
    A meter replaced during the lease is billed in segments: the old meter from its base to its
    last reading, the new one from its first reading on; a bill counts on the meter that was in
    place on its day (_bill_day), and segments before the last billed one are paid."""
    for meter, field_name, rate, zh, en, unit in (
        ("electricity", "meter_electricity", config.rates.electricity, "电费", "electricity", "度"),
        ("water", "meter_water", config.rates.water, "水费", "water", "吨"),
    ):
        final = eng["data"].get(field_name)
        if final is None:
            continue
        segments = _segments(meter, move_in, Decimal(final), f"{eng['_file']} {field_name}")
        until = [seg[5] for seg in segments]

        def segment_of(p) -> int:
            day = _bill_day(p)
            return sum(1 for d in until if d is not None and day is not None and d < day)

        bills = [p for p in payments if p.kind == "fee" and p.meter == meter and p.reading is not None]
        bill = max(bills, key=lambda p: (segment_of(p), p.reading), default=None)
        first = segment_of(bill) if bill is not None else 0
        for n, start, start_source, end, end_source, taken_out in segments[first:]:
            base, base_source = (bill.reading, f"payments.yaml#{bill.id} reading") if bill is not None and n == first else (start, start_source)
            if base is None:
                raise WuyeError(tr(
                    "无法结算%s：迁入资料（move_in.yaml）没有%s表底；请先用 `wuye archive add 租户 move_in --set meter_readings.%s=读数` 记录",
                    "cannot settle %s: move_in.yaml has no %s base reading; record it with `wuye archive add TENANT move_in --set meter_readings.%s=READING`")
                    % (tr(zh, en), tr(zh[0], en), meter))
            if end < base:
                where = eng["_file"] if taken_out is None else "move_in.yaml meter_changes"
                raise WuyeError(tr("%s终读数 %s 小于已计费读数 %s（%s）；请更正%s",
                                   "final %s reading %s is below the reading %s already billed (%s); correct %s")
                                % (tr(zh, en), end, base, base_source, tr("工程部验房（%s）", "the engineering inspection (%s)") % where
                                   if taken_out is None else where))
            used = end - base
            label = tr("%s %s%s × %s 元", "%s %s%s × %s yuan") % (tr(zh, en), used, tr(unit, ""), rate)
            if len(segments) > 1:
                label += (tr("（旧表，%s 换下）", " (old meter, replaced %s)") % taken_out if taken_out is not None
                          else tr("（现表）", " (current meter)"))
            st.add(f"utility:{meter}", label, f"{base_source} / {end_source}", -(used * rate))


def _parking_lines(st: Statement, config, payments: list, move_in, scope, steps: dict) -> None:
    """A parking lease with a monthly fee whose last month the ledger has not billed (no item of
    the space whose period holds the lease's end): the used part of that month, at the lease's
    fee, by the building's rule (the whole month when it prorates nothing). A lease without a fee
    (a store from before parking leases) adds nothing: its money is in the ledger, if anywhere."""
    import datetime as dt

    from wuye.moveout.partial import lease_end, leases_covered
    from wuye.moveout.proration import period_bounds, share

    planned = (steps.get("notice") or {}).get("data", {}).get("planned_date")
    day = dt.date.fromisoformat(str(planned)) if planned else None
    for lease in leases_covered(move_in, scope):
        end = lease_end(lease, day)
        if lease.monthly_fee is None or end is None:
            continue
        month = f"{end.year}-{end.month:02d}"
        billed = [p for p in payments if p.space == lease.space and p.kind == "fee"
                  and (b := period_bounds(p.period or "")) is not None and b[0] <= end <= b[1]]
        if billed:
            continue
        source = f"move_in.yaml#parking:{lease.space} monthly_fee"
        sh = share(config.moveout.proration, month, end)
        if sh is None:
            st.add("parking", tr("车位 %s %s 月租 %s", "parking %s %s monthly fee %s") % (lease.space, month, f"{lease.monthly_fee:,}"),
                   source, -lease.monthly_fee)
        else:
            st.add("parking", tr("车位 %s %s %s × %s", "parking %s %s %s × %s") % (lease.space, month, _share_text(sh), f"{lease.monthly_fee:,}"),
                   source, -(lease.monthly_fee * sh.used / sh.total))


def whole_forfeits(lines: list, payments: list, missing: str) -> list[tuple[str, str, str, Decimal]]:
    """Finance's lines with each forfeit that names no amount taking the whole deposit it names
    (refused, with `missing` % the deposit id, when the payments hold no such deposit)."""
    held = {p.id: p.amount for p in payments if p.kind == "deposit"}
    out = []
    for code, item, source, amount in lines:
        if amount is None:
            ref = source.partition("#")[2].split(" ", 1)[0]
            if ref not in held:
                raise WuyeError(missing % ref)
            amount = -held[ref]
        out.append((code, item, source, amount))
    return out


def compute(config, payments: list, violations: list, move_in, steps: dict[str, dict],
            other_charges: list[tuple[str, Decimal]] = (), finance: list[tuple[str, str, str, Decimal]] = (),
            scope=None) -> Statement:
    """The statement from the validated archive records and the case's latest step entries.

    `steps` maps a step id to its latest entry (its `data`, and `_file` naming the entry file).
    `finance` holds finance's withhold and forfeit lines (code, item, source, amount) as signed.
    `scope` (partial.Scope, from case.yaml) is what the case covers: a partial move-out settles
    only the units leaving (partial.py has the rules); None covers everything, as before.
    """
    from wuye.moveout import partial

    payments, violations = partial.narrow(scope, payments, violations, move_in, list(finance))
    move_in = partial.view(move_in, scope)
    st = Statement()
    _deposit_lines(st, payments, list(finance))
    _open_items(st, payments, violations, config, steps, move_in)
    _parking_lines(st, config, payments, move_in, scope, steps)
    eng = steps.get("engineering_inspection")
    if eng is not None:
        for i, d in enumerate(eng["data"].get("damages") or []):
            st.add("damage", tr("损坏赔偿：%s %s", "damage: %s %s") % (d["location"], d["description"]),
                   f"{eng['_file']} damages[{i}]", -Decimal(d["amount"]))
        _utility_lines(st, config, payments, move_in, eng)
    for fee, count, source, label in shortages(move_in, steps):
        price = getattr(config.fees, fee)
        st.add(f"unreturned:{fee}", tr("未交回%s %d × %s 元" % (label, count, price), "%d %s not returned × %s yuan" % (count, label, price)),
               f"{source}; wuye.yaml fees.{fee}", -(price * count))
    for item, amount in other_charges:
        st.add("other", item, "settle --charge", -amount)
    return st
