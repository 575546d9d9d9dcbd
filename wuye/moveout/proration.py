"""Fees prorated to the move-out date (当期费用折算): how much of a fee's period the tenant used.

A ledger fee is billed for a period (`2026-11`, `2026-Q4`, `2026-H2` for July to December, `2026`). When the move-out date falls
inside it, the building's rule in wuye.yaml (`moveout.proration`) says what part the tenant owes:
`day` counts the days from the period's first day to the move-out day, both included; `half_month`
counts half-months, the move-out month's first half (1st to 15th) or all of it (from the 16th), as
offices bill 不满半月按半月、超过半月按整月; `none` keeps the whole period. This module only counts:
settlement.py turns the share into statement lines.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4])|-H([12]))?$")


def period_bounds(period: str) -> tuple[dt.date, dt.date] | None:
    """(first day, last day) of a ledger period, or None when it is not one `Payment` allows."""
    m = _PERIOD.fullmatch(period or "")
    if not m:
        return None
    year = int(m.group(1))
    if m.group(2):
        first_month = last_month = int(m.group(2))
    elif m.group(3):
        first_month = 3 * int(m.group(3)) - 2
        last_month = first_month + 2
    elif m.group(4):  # 上半年 H1: January to June; 下半年 H2: July to December
        first_month = 6 * int(m.group(4)) - 5
        last_month = first_month + 5
    else:
        first_month, last_month = 1, 12
    return dt.date(year, first_month, 1), dt.date(year, last_month, calendar.monthrange(year, last_month)[1])


@dataclass(frozen=True)
class Share:
    """The part of a period used up to the move-out date: `used` of `total` units (days or halves)."""

    rule: str
    used: int
    total: int

    @property
    def unused(self) -> int:
        return self.total - self.used


def share(rule: str, period: str | None, moveout: dt.date) -> Share | None:
    """The used share of `period` when the move-out date falls inside it and the rule prorates;
    None when the period is billed whole (rule `none`, no period, a period the date is not in, or
    a move-out on the period's last day)."""
    if rule == "none" or not period:
        return None
    bounds = period_bounds(period)
    if bounds is None or not bounds[0] <= moveout <= bounds[1]:
        return None
    first, last = bounds
    if rule == "day":
        used, total = (moveout - first).days + 1, (last - first).days + 1
    elif rule == "half_month":
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        before = (moveout.year - first.year) * 12 + moveout.month - first.month
        used, total = 2 * before + (1 if moveout.day <= 15 else 2), 2 * months
    else:
        raise ValueError(rule)
    return None if used == total else Share(rule, used, total)
