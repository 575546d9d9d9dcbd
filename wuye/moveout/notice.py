"""The planned move-out date judged against the lease and its notice period (提前通知).

A tenant gives written notice (租售部书面通知) some days ahead: `moveout.notice_days` in wuye.yaml
(30 unless set; 0 checks nothing). A planned date already past, or fewer days after the
application than that, is a warning the clerk confirms with a reason (`--short-notice`), which is
signed into the notice; without it the notice is refused. A date no notice could have, before the
lease began or years from the application (2020-01-01 typed in 2026), is refused outright,
whatever the notice period. This module only judges: `cases.start` writes the notice.
"""

from __future__ import annotations

import datetime as dt

from wuye.errors import WuyeError
from wuye.i18n import tr

# Farther than this from the application date, a planned date is a typing slip (2020 for 2026),
# not a plan. Judged whatever the notice period, even none: it is about the date, not the notice.
YEARS_BEHIND, YEARS_AHEAD = 2, 5
FIELD = "short_notice"


def _years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def check_planned_date(notice_days: int, lease_start: dt.date | None, planned: dt.date, applied: dt.date,
                       today: dt.date, short_notice: str | None) -> None:
    """Refuse a planned date no notice could have; refuse a short or late one unless confirmed."""
    if lease_start is not None and planned < lease_start:
        raise WuyeError(tr("计划迁出日期 %s 早于租期开始 %s（profile.yaml lease_start）；请核对日期",
                           "the planned move-out date %s is before the lease began, %s (profile.yaml lease_start); check the date")
                        % (planned, lease_start))
    if not _years(applied, -YEARS_BEHIND) <= planned <= _years(applied, YEARS_AHEAD):
        raise WuyeError(tr("计划迁出日期 %s 与申请退租日期 %s 相差太远（早于 %d 年前或晚于 %d 年后），不像是真的（年份写错了？）；请核对日期",
                           "the planned move-out date %s is too far from the application date %s (over %d year(s) before or %d years "
                           "after: a mistyped year?); check the date") % (planned, applied, YEARS_BEHIND, YEARS_AHEAD))
    if notice_days == 0 or short_notice:
        return
    if planned < today:
        raise WuyeError(tr("计划迁出日期 %s 已过（今天 %s）；如确属补录或已协商，请加 --short-notice \"理由\" 确认，理由签入通知",
                           "the planned move-out date %s has passed (today is %s); if it is agreed or recorded late, confirm with "
                           "--short-notice \"REASON\", which is signed into the notice") % (planned, today))
    days = (planned - applied).days
    if days < notice_days:
        raise WuyeError(tr("计划迁出日期 %s 距申请退租日期 %s 只有 %d 天，少于提前通知的 %d 天（wuye.yaml moveout.notice_days）；"
                           "如已协商同意，请加 --short-notice \"理由\" 确认，理由签入通知",
                           "the planned move-out date %s is, from the application date %s, only %d day(s) ahead: less than the "
                           "%d days' notice (wuye.yaml moveout.notice_days); if it is agreed, confirm with --short-notice \"REASON\", "
                           "which is signed into the notice") % (planned, applied, days, notice_days))
