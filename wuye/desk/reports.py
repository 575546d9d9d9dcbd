"""Reports for the monthly meeting (定期评估): complaints, repairs, satisfaction, arrears,
move-outs and the archive's completeness, each computed once into a `Report` that the terminal,
`--json` and the xlsx workbook all render, so the three always show the same numbers.

A report covers a period (a month 2026-11, a quarter 2026-Q4, a year 2026, or all time) and is
measured *as of* a moment: by default the end of the period, or now if the period has not ended;
`--as-of` sets it. Every complaint and repair is replayed from its history up to that moment
(servicedesk.clock), so a report for November run in March shows November as it stood at the end
of November, and the same command gives the same numbers next year. Counting rules, per column:
received/reported = entered the desk in the period; closed, reopened, done = that event happened
in the period; open = not closed at the as-of moment (whenever received); overdue = received in
the period and missed its response or resolution limit (whether or not caught up since); overdue
open = still waiting past a limit at the as-of moment; mean hours to respond / to close = over the
responses / closings made in the period. Satisfaction counts the ratings given at closings in the
period and the survey answers whose survey period ends in it. Move-outs count the cases open at
some time in the period (notified before its end, not released before its start): days from notice
to release over those released in it, deposits, refunds and amounts due over those settled in it.
Arrears and the archive's completeness are the records as they stand; the period narrows arrears
to bills due and arrears dated before its end. Trends split the period into rows: a year into
quarters, a quarter into months, a month shows the six months to it. This module reads the store
and writes only the xlsx file it is asked for.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.desk.servicedesk import COMPLAINT, REPAIR, CHANNELS, Item, Kind, Period, channel_label, clock, dept_label, month_period, parse_period, parse_time, quarter_of, read_items, surveys
from wuye.storage.store import Store

NAMES = ("complaints", "repairs", "satisfaction", "arrears", "moveouts", "completeness", "leases", "training")
TENTH = Decimal("0.1")
HUNDREDTH = Decimal("0.01")


# --- the shape every report takes ------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    kind: str = "text"  # text, int, hours, days, score, money, pct

    @property
    def header(self) -> str:
        return tr(self.zh, self.en)


@dataclass
class Section:
    key: str
    zh: str
    en: str
    columns: list[Column]
    rows: list[dict]
    # (label column, value column, scale maximum or None for the column's largest value): drawn as
    # a bar beside each row in the terminal, and as a bar chart in the workbook.
    chart: tuple[str, str, float | None] | None = None

    @property
    def title(self) -> str:
        return tr(self.zh, self.en)


@dataclass
class Report:
    name: str
    zh: str
    en: str
    period: Period | None
    as_of: dt.datetime
    summary: Section
    sections: list[Section] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def title(self) -> str:
        return tr(self.zh, self.en)

    @property
    def period_label(self) -> str:
        return self.period.label if self.period else tr("全部", "all time")

    def to_json(self) -> dict:
        out = {"report": self.name, "title": self.title, "period": self.period.label if self.period else None,
               "from": self.period.start.isoformat() if self.period else None,
               "to": self.period.end.isoformat() if self.period else None,
               "as_of": self.as_of.isoformat(),
               "summary": _json_row(self.summary.columns, self.summary.rows[0])}
        for s in self.sections:
            out[s.key] = [_json_row(s.columns, r) for r in s.rows]
        out["problems"] = [p.to_json() for p in self.problems]
        return out


def _json_row(columns: list[Column], row: dict) -> dict:
    out = {}
    for c in columns:
        v = row.get(c.key)
        if isinstance(v, Decimal):
            # Money stays a two-place string, as everywhere in wuye; measures are numbers.
            v = str(v) if c.kind == "money" else float(v)
        out[c.key] = v
    for k, v in row.items():  # ids and labels the table does not show
        if k not in out:
            out[k] = str(v) if isinstance(v, Decimal) else v
    return out


def _mean(values: list, places: Decimal = TENTH) -> Decimal | None:
    if not values:
        return None
    return (sum(Decimal(str(v)) for v in values) / len(values)).quantize(places, rounding=ROUND_HALF_UP)


def _hours(a: dt.datetime, b: dt.datetime) -> Decimal:
    return Decimal((b - a).total_seconds()) / 3600


# --- periods and the moment a report is measured at -------------------------------------------


@dataclass(frozen=True)
class Window:
    """What a report counts: events in [start, end), each record replayed up to `as_of`."""

    period: Period | None
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime

    def contains(self, when: dt.datetime | None) -> bool:
        return when is not None and self.start <= when < self.end


def window(store: Store, period: str | None, as_of: str | None) -> Window:
    tz = store.tz()
    now = store.now()
    p = parse_period(period, tz) if period else None
    if as_of:
        moment = parse_time(as_of, tz, "--as-of")
    else:
        moment = min(p.end, now) if p else now
    if p is not None and moment < p.start:
        raise WuyeError(tr("--as-of %s 早于期间 %s 的开始",
                           "--as-of %s is before the period %s begins") % (moment.isoformat(), p.label))
    start = p.start if p else dt.datetime(1900, 1, 1, tzinfo=tz)
    # Events at the as-of moment itself are in; events after it have not happened yet.
    end = min(p.end, moment + dt.timedelta(seconds=1)) if p else moment + dt.timedelta(seconds=1)
    return Window(p, start, end, moment)


def buckets(w: Window, earliest: dt.datetime | None, tz: dt.tzinfo) -> list[Period]:
    """The rows of a trend: a year's quarters, a quarter's months, a month and the five before it;
    all time: every quarter from the first record to the as-of moment."""
    p = w.period
    if p is None:
        if earliest is None:
            return []
        out, q = [], quarter_of(earliest, tz)
        while q.start <= w.as_of:
            out.append(q)
            q = quarter_of(q.end, tz)
        return out
    if p.grain == "year":
        return [parse_period(f"{p.label}-Q{i}", tz) for i in range(1, 5)]
    if p.grain == "quarter":
        return [month_period(p.start.year, p.start.month + i, tz) for i in range(3)]
    out = []
    y, m = p.start.year, p.start.month
    for _ in range(6):
        out.insert(0, month_period(y, m, tz))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def sub_window(w: Window, b: Period) -> Window:
    moment = min(b.end, w.as_of)
    return Window(b, b.start, min(b.end, moment + dt.timedelta(seconds=1)), moment)


# --- complaints and repairs -------------------------------------------------------------------


@dataclass(slots=True)  # one per record: 27,000 at 10,000 tenants
class Fact:
    """What one record contributes to a report's counts within a window."""

    item: Item
    received: bool
    closed: bool
    reopened: bool
    done: bool
    open: bool
    overdue: bool  # received in the window and missed a limit
    overdue_open: list[str]  # limits it is past and still waiting on, at as-of
    response_hours: Decimal | None
    close_hours: Decimal | None
    done_hours: Decimal | None
    ratings: list[int]
    cost: Decimal
    department: str | None
    late: list[str] = field(default_factory=list)
    clock: Any = None  # the record's Clock at the window's as-of moment


def fact(item: Item, limits, w: Window) -> Fact:
    clk = clock(item, limits, w.as_of)
    start, end, as_of = w.start, w.end, w.as_of
    # The events in the window that have happened by the as-of moment (one pass: a report
    # computes this for every record and every row of its trend).
    in_w = [e for e in item.events if e.at is not None and start <= e.at < end and e.at <= as_of]
    closes = [e for e in in_w if e.action == "close"]
    dones = [e for e in in_w if e.action == "done"]
    response_hours = None
    if clk.response_at is not None and start <= clk.response_at < end:
        response_hours = _hours(item.received, clk.response_at)
    received_in = start <= item.received < end
    states = (("response", clk.response_state(as_of)), ("resolution", clk.resolution_state(as_of)))
    late = [name for name, state in states if state]
    return Fact(
        item=item,
        received=received_in,
        closed=bool(closes),
        reopened=any(e.action == "reopen" for e in in_w),
        done=bool(dones),
        open=clk.status != "closed",
        overdue=received_in and bool(late),
        overdue_open=[] if clk.status == "closed" else [name for name, state in states if state == "overdue"],  # clk.overdue
        response_hours=response_hours,
        close_hours=_hours(item.received, closes[-1].at) if closes else None,
        done_hours=_hours(item.received, dones[-1].at) if dones else None,
        ratings=[e.satisfaction for e in closes if e.satisfaction is not None],
        cost=sum((e.cost for e in dones if e.cost is not None), Decimal("0.00")),
        department=clk.department,
        late=late,
        clock=clk,
    )


COMPLAINT_COLUMNS = [
    Column("received", "受理", "received", "int"),
    Column("closed", "关闭", "closed", "int"),
    Column("reopened", "重开", "reopened", "int"),
    Column("open", "未结", "open", "int"),
    Column("overdue", "超时", "overdue", "int"),
    Column("overdue_open", "超时未结", "overdue open", "int"),
    Column("mean_response_hours", "平均回复时长（时）", "mean hours to respond", "hours"),
    Column("mean_close_hours", "平均关闭时长（时）", "mean hours to close", "hours"),
    Column("satisfaction", "平均满意度", "mean rating", "score"),
]
REPAIR_COLUMNS = [
    Column("received", "报修", "reported", "int"),
    Column("urgent", "其中紧急", "urgent", "int"),
    Column("done", "完工", "done", "int"),
    Column("closed", "关闭", "closed", "int"),
    Column("open", "未结", "open", "int"),
    Column("overdue", "超时", "overdue", "int"),
    Column("overdue_open", "超时未结", "overdue open", "int"),
    Column("mean_response_hours", "平均派工时长（时）", "mean hours to assign", "hours"),
    Column("mean_done_hours", "平均完工时长（时）", "mean hours to done", "hours"),
    Column("cost", "维修费", "charged", "money"),
    Column("satisfaction", "平均满意度", "mean rating", "score"),
]


def _aggregate(kind: Kind, facts: list[Fact]) -> dict:
    """A row's counts and means over `facts`, in one pass (the summary and every breakdown row
    each walk their records)."""
    received = closed = still_open = overdue = overdue_open = reopened = urgent = done = 0
    response, close, finish, ratings = [], [], [], []
    cost = Decimal("0.00")
    repairs = kind is not COMPLAINT
    for f in facts:
        received += f.received
        closed += f.closed
        still_open += f.open
        overdue += f.overdue
        overdue_open += bool(f.overdue_open)
        reopened += f.reopened
        done += f.done
        if repairs and f.received and f.item.record.urgent:
            urgent += 1
        if f.response_hours is not None:
            response.append(f.response_hours)
        if f.close_hours is not None:
            close.append(f.close_hours)
        if f.done_hours is not None:
            finish.append(f.done_hours)
        if f.ratings:
            ratings += f.ratings
        if f.cost:
            cost += f.cost
    row = {"received": received, "closed": closed, "open": still_open, "overdue": overdue, "overdue_open": overdue_open,
           "mean_response_hours": _mean(response), "satisfaction": _mean(ratings, HUNDREDTH)}
    if kind is COMPLAINT:
        row["reopened"] = reopened
        row["mean_close_hours"] = _mean(close)
    else:
        row["urgent"] = urgent
        row["done"] = done
        row["mean_done_hours"] = _mean(finish)
        row["cost"] = cost
    return row


def _trend(kind: Kind, items: list[Item], limits, w: Window, tz: dt.tzinfo) -> list[dict]:
    """A trend's rows: per bucket, what `fact` counts of the records in it (received, closed,
    late, ratings), found from where each record's receipt and closings fall rather than by
    replaying every record in every bucket (five years of records, once per month of the
    trend: 26,000 repairs took 12 s). `items` is sorted by receipt."""
    import bisect

    received_at = [i.received for i in items]
    # Every timed closing: (when, the record's place in `items`, its rating).
    closes = sorted([(e.at, n, e.satisfaction) for n, i in enumerate(items) for e in i.events
                     if e.action == "close" and e.at is not None], key=lambda c: c[:2])
    close_at = [c[0] for c in closes]
    rows = []
    for b in buckets(w, items[0].received if items else None, tz):
        sw = sub_window(w, b)
        start, end, as_of = sw.start, sw.end, sw.as_of
        # Received in the window, by the as-of moment: late if it missed a limit by then.
        lo, hi = bisect.bisect_left(received_at, start), bisect.bisect_left(received_at, end)
        fresh = [i for i in items[lo:hi] if i.received <= as_of]
        overdue = 0
        for i in fresh:
            clk = clock(i, limits, as_of)
            overdue += clk.response_state(as_of) is not None or clk.resolution_state(as_of) is not None
        # Closed in the window (a record once, however often), by a record received by then.
        lo, hi = bisect.bisect_left(close_at, start), bisect.bisect_left(close_at, end)
        shut = [(n, rating) for at, n, rating in closes[lo:hi] if at <= as_of and items[n].received <= as_of]
        rows.append({"period": b.label, "received": len(fresh), "closed": len({n for n, _ in shut}), "overdue": overdue,
                     "satisfaction": _mean([r for _, r in shut if r is not None], HUNDREDTH)})
    return rows


def _relevant(f: Fact) -> bool:
    """A record belongs in a breakdown row if it did anything in the window or is still open."""
    return f.received or f.closed or f.reopened or f.done or f.open or f.response_hours is not None


def service_report(store: Store, kind: Kind, w: Window) -> Report:
    items, problems = read_items(store, kind, brief=True)
    limits = store.config.limits
    items = [i for i in items if i.received <= w.as_of]
    facts = [fact(i, limits, w) for i in items]
    columns = COMPLAINT_COLUMNS if kind is COMPLAINT else REPAIR_COLUMNS
    summary = Section("summary", "汇总", "summary", columns, [_aggregate(kind, facts)])

    def breakdown(key: str, zh: str, en: str, group: Callable[[Fact], str], label: Callable[[str], str], head: Column,
                  order: list[str]) -> Section:
        groups: dict[str, list[Fact]] = {}
        for f in facts:
            if _relevant(f):
                groups.setdefault(group(f), []).append(f)
        keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
        rows = [{head.key: k, f"{head.key}_label": label(k), **_aggregate(kind, groups[k])} for k in keys]
        return Section(key, zh, en, [Column(f"{head.key}_label", head.zh, head.en), *columns], rows)

    from wuye.models.store import DEPARTMENTS

    sections = [breakdown("by_department", "按部门", "by department", lambda f: f.department or "unassigned",
                          lambda k: dept_label(None if k == "unassigned" else k), Column("department", "部门", "department"),
                          [*DEPARTMENTS, "unassigned"])]
    if kind is COMPLAINT:
        sections.append(breakdown("by_channel", "按渠道", "by channel", lambda f: f.item.record.channel, channel_label,
                                  Column("channel", "渠道", "channel"), list(CHANNELS)))
    else:
        sections.append(breakdown("by_urgency", "按紧急程度", "by urgency", lambda f: "urgent" if f.item.record.urgent else "normal",
                                  lambda k: tr("紧急", "urgent") if k == "urgent" else tr("普通", "normal"),
                                  Column("urgency", "紧急程度", "urgency"), ["urgent", "normal"]))

    trend_rows = _trend(kind, items, limits, w, store.tz())
    word = tr("受理", "received") if kind is COMPLAINT else tr("报修", "reported")
    sections.append(Section("trend", "趋势", "trend", [
        Column("period", "期间", "period"), Column("received", word, "received" if kind is COMPLAINT else "reported", "int"),
        Column("closed", "关闭", "closed", "int"), Column("overdue", "超时", "overdue", "int"),
        Column("satisfaction", "平均满意度", "mean rating", "score")], trend_rows, chart=("period", "received", None)))

    late_rows = []
    for f in facts:
        if f.overdue or f.overdue_open:
            late_rows.append({
                "id": f.item.ref, "tenant_id": f.item.tenant_id, "company": f.item.company,
                kind.received_field: f.item.received.isoformat(),
                "department": f.department, "department_label": dept_label(f.department),
                "status": f.clock.status,
                "missed": ", ".join(f.late), "waiting": ", ".join(f.overdue_open),
            })
    names = {"response": tr("回复", "response") if kind is COMPLAINT else tr("派工", "assignment"),
             "resolution": tr("处理", "resolution") if kind is COMPLAINT else tr("完工", "completion")}
    for r in late_rows:
        r["status_label"] = kind.status_label(r["status"])
        r["when"] = r[kind.received_field].replace("T", " ")[:16]
        for key in ("missed", "waiting"):
            r[f"{key}_label"] = tr("、", ", ").join(names[n] for n in r[key].split(", ") if n)
    sections.append(Section("overdue_items", "超时明细", "overdue items", [
        Column("id", "编号", "id"), Column("tenant_id", "租户", "tenant"), Column("company", "公司", "company"),
        Column("when", "受理时间" if kind is COMPLAINT else "报修时间", "received" if kind is COMPLAINT else "reported"),
        Column("department_label", "部门", "department"), Column("status_label", "状态", "status"),
        Column("missed_label", "超过的时限", "limits missed"), Column("waiting_label", "仍在等待", "still waiting on")], late_rows))

    zh, en = ("投诉报表", "Complaints report") if kind is COMPLAINT else ("报修报表", "Repairs report")
    return Report(kind.category, zh, en, w.period, w.as_of, summary, sections, problems)


# --- satisfaction -------------------------------------------------------------------------------


@dataclass(slots=True)
class Rating:
    source: str  # complaint, repair, survey
    at: dt.datetime  # when it was given (a survey: the end of its period)
    score: int
    ref: str
    tenant_id: str


def ratings(store: Store, as_of: dt.datetime) -> tuple[list[Rating], list[Problem]]:
    out: list[Rating] = []
    problems: list[Problem] = []
    for kind in (COMPLAINT, REPAIR):
        items, found = read_items(store, kind, brief=True)
        problems += found
        for item in items:
            # An older entry may hold a rating but not when it was closed: it is dated by the
            # last time the entry does know (its completion, else its receipt).
            known = item.received
            for e in item.events:
                known = e.at or known
                if e.action == "close" and e.satisfaction is not None and known <= as_of:
                    out.append(Rating(kind.key, known, e.satisfaction, item.ref, item.tenant_id))
    tz = store.tz()
    for s in surveys(store):
        # A survey speaks for its whole period; it is placed at the period's last moment, when
        # its answers are complete.
        when = parse_period(s.period, tz).end - dt.timedelta(seconds=1)
        if when <= as_of:
            out.append(Rating("survey", when, s.score, f"{s.tenant_id}/{s.entry_id}", s.tenant_id))
    out.sort(key=attrgetter("at", "ref"))
    return out, problems


SOURCES = (("complaint", "投诉回访", "complaints"), ("repair", "报修回访", "repairs"), ("survey", "满意度调查", "surveys"))


def _rating_row(rs: list[Rating]) -> dict:
    row = {}
    for key, _, _ in SOURCES:
        scores = [r.score for r in rs if r.source == key]
        row[f"{key}_n"] = len(scores)
        row[f"{key}_mean"] = _mean(scores, HUNDREDTH)
    row["n"] = len(rs)
    row["mean"] = _mean([r.score for r in rs], HUNDREDTH)
    return row


def satisfaction_report(store: Store, w: Window) -> Report:
    all_ratings, problems = ratings(store, w.as_of)
    import bisect

    at = [r.at for r in all_ratings]  # in time order: each window's ratings are a slice

    def within(v: Window) -> list[Rating]:
        return all_ratings[bisect.bisect_left(at, v.start):bisect.bisect_left(at, v.end)]

    in_w = within(w)
    columns = []
    for key, zh, en in SOURCES:
        columns += [Column(f"{key}_n", f"{zh}数", f"{en} rated", "int"), Column(f"{key}_mean", f"{zh}均分", f"{en} mean", "score")]
    columns += [Column("n", "评分总数", "ratings", "int"), Column("mean", "总均分", "mean", "score")]
    summary_row = _rating_row(in_w)
    rows = []
    previous = None
    for b in buckets(w, all_ratings[0].at if all_ratings else None, store.tz()):
        sw = sub_window(w, b)
        row = {"period": b.label, **_rating_row(within(sw))}
        row["change"] = (row["mean"] - previous) if row["mean"] is not None and previous is not None else None
        if row["mean"] is not None:
            previous = row["mean"]
        rows.append(row)
    with_data = [r for r in rows if r["mean"] is not None]
    change = (with_data[-1]["mean"] - with_data[0]["mean"]) if len(with_data) >= 2 else None
    summary_row["trend"] = None if change is None else ("up" if change > 0 else "down" if change < 0 else "flat")
    summary_row["trend_label"] = {"up": tr("上升", "up"), "down": tr("下降", "down"), "flat": tr("持平", "flat"), None: ""}[summary_row["trend"]]
    summary_row["change"] = change
    summary = Section("summary", "汇总", "summary", [*columns, Column("trend_label", "趋势", "trend"),
                                                     Column("change", "首末变化", "change, first to last", "score")], [summary_row])
    trend = Section("trend", "按期间", "by period", [Column("period", "期间", "period"), *columns,
                                                    Column("change", "较上期", "vs previous", "score")], rows,
                    chart=("period", "mean", 5.0))
    from wuye.desk import improvements

    taken, found = improvements.by_ref(store)
    problems += found
    low = [{"source": r.source, "source_label": tr(*next((zh, en) for k, zh, en in SOURCES if k == r.source)),
            "ref": r.ref, "tenant_id": r.tenant_id, "at": r.at.isoformat(), "score": r.score,
            **_follow_up(taken.get(r.ref, []), w.as_of)}
           for r in in_w if r.score <= 2]
    low_section = Section("low_ratings", "低分（1–2 分）明细", "low ratings (1–2)", [
        Column("source_label", "来源", "source"), Column("ref", "编号", "reference"), Column("tenant_id", "租户", "tenant"),
        Column("at", "时间", "when"), Column("score", "评分", "score", "int"), Column("action_label", "改进措施", "action taken")], low)
    return Report("satisfaction", "满意度报表", "Satisfaction report", w.period, w.as_of, summary, [trend, low_section], problems)


def _follow_up(actions: list, as_of: dt.datetime) -> dict:
    """What was done about a low score (评价与改进): its improvement actions opened by the moment,
    each with its state then, or 未跟进 when there is none."""
    from wuye.desk.improvements import status_label

    def state(a) -> str:
        if a.verified_at is not None and a.verified_at <= as_of:
            return "verified"
        if a.done_at is not None and a.done_at <= as_of:
            return "done"
        return "open"

    known = [a for a in actions if a.recorded_at is None or a.recorded_at <= as_of]
    if not known:
        return {"actions": [], "action_label": tr("未跟进", "none")}
    return {"actions": [{"id": a.id, "status": state(a), "owner": a.owner, "due": a.due.isoformat()} for a in known],
            "action_label": tr("；", "; ").join(f"{a.id} {status_label(state(a))}" for a in known)}


# --- leases and training: measured at a day -----------------------------------------------------


def leases_report(store: Store, w: Window, within: int | str | None) -> Report:
    """租约到期提醒: active tenants whose lease ends within the horizon of the as-of day."""
    from wuye.desk import leases

    days = leases.horizon(store, within)
    day = w.as_of.date()
    found = leases.expiring(store, day, days)
    rows = [{"tenant_id": e.tenant_id, "company": e.company, "units": tr("、", ", ").join(e.units),
             "lease_end": e.lease_end.isoformat(), "days_left": e.days_left, "overdue": e.overdue,
             "state_label": tr("已到期", "ended") if e.overdue else tr("将到期", "ending")} for e in found]
    summary = Section("summary", "汇总", "summary", [
        Column("within", "提醒天数", "horizon (days)", "int"), Column("tenants", "租约将到期", "leases ending", "int"),
        Column("ended", "已到期仍在租", "ended, still active", "int")],
        [{"within": days, "tenants": sum(not e.overdue for e in found), "ended": sum(e.overdue for e in found)}])
    return Report("leases", "租约到期提醒", "Lease expiries", None, w.as_of, summary, [
        Section("leases", "租约", "leases", [
            Column("tenant_id", "租户", "tenant"), Column("company", "公司", "company"), Column("units", "房号", "units"),
            Column("lease_end", "租期结束", "lease ends"), Column("days_left", "剩余天数", "days left", "int"),
            Column("state_label", "状态", "state")], rows)], [])


def training_report(store: Store, w: Window) -> Report:
    """培训: each covered staff member's hours this year against the minimum, and who is due."""
    from wuye.desk import training

    day = w.as_of.date()
    standing, problems = training.standing(store, day)
    policy = store.config.training
    rows = [{"staff": d.staff_id, "hours": d.hours, "required": d.required, "short": d.short,
             "missing": d.missing, "missing_label": tr("、", ", ").join(d.missing),
             "due": d.due, "due_label": tr("待培训", "due") if d.due else tr("已达标", "met")} for d in standing]
    columns = [Column("staff", "员工", "staff"), Column("hours", "本年学时", "hours this year", "hours"),
               Column("required", "年度要求", "required", "hours"), Column("short", "尚差学时", "hours short", "hours"),
               Column("missing_label", "未完成必修课", "required courses missing"), Column("due_label", "状态", "state")]
    summary = Section("summary", "汇总", "summary", [
        Column("year", "年度", "year", "int"), Column("yearly_hours", "年度最低学时", "yearly minimum (h)", "hours"),
        Column("staff", "应培训员工", "staff covered", "int"), Column("due", "待培训", "due", "int")],
        [{"year": day.year, "yearly_hours": policy.yearly_hours, "staff": len(rows), "due": sum(r["due"] for r in rows),
          "required_courses": list(policy.required_courses), "departments": list(policy.departments)}])
    return Report("training", "员工培训报表", "Staff training report", None, w.as_of, summary, [
        Section("due", "待培训", "due", columns, [r for r in rows if r["due"]]),
        Section("staff", "全部应培训员工", "all staff covered", columns, rows)], problems)


# --- arrears ------------------------------------------------------------------------------------


def _owed(root: str, wanted: list[tuple[str, dt.date | None]]) -> list:
    """[tenant id, errors, (unpaid fees, bills, arrears, items, oldest date) or None] for each
    (tenant id, cutoff): what a tenant owes, from its payments and violations.

    From the records index, each file kept as only what this sum reads of it (`_owed_facts`: a
    few dates and amounts, not every validated entry), so that a warm report unpickles a list of
    pairs per file rather than thousands of models."""
    from wuye.storage.index import parsed

    store = Store(Path(root))
    files: dict[tuple[str, str], tuple] = {}
    for key in ("payments", "violations"):
        rels = [store.tenant_rel(tid, f"{key}.yaml") for tid, _ in wanted]
        got = parsed(store.root, f"owed:{key}", rels, _owed_facts)
        for (tid, _), rel in zip(wanted, rels):
            files[tid, key] = got[rel] if got[rel] is not None else (None, [])
    out = []
    for tid, cutoff in wanted:
        payments, p1 = files[tid, "payments"]
        violations, p2 = files[tid, "violations"]
        fees, n_fees, dates = Decimal("0.00"), 0, []
        for when, unpaid in payments or ():
            if cutoff and when and when >= cutoff:
                continue
            fees += unpaid
            n_fees += 1
            if when:
                dates.append(when)
        arrears, n_arrears = Decimal("0.00"), 0
        for when, amount in violations or ():
            if cutoff and when >= cutoff:
                continue
            arrears += amount
            n_arrears += 1
            dates.append(when)
        owed = (fees, n_fees, arrears, n_arrears, min(dates, default=None)) if fees or arrears else None
        out.append([tid, p1 + p2, owed])
    return out


def _owed_facts(root: str, items: list) -> list:
    """Of each (rel, bytes) of a payments or violations file, validated: ([(date or None,
    amount)] of what it holds owing, errors). Payments: the fee items not paid in full, each
    dated by its due date, else by the start of the period it is for. Violations: the open
    arrears that are not about an item of the ledger (that item is the money; counting the
    record too would count it twice)."""
    from wuye.archive.dossier import _parse_entries

    out = []
    for (rel, _), (entries, errors) in zip(items, _parse_entries(root, items)):
        if entries is None:
            out.append((None, errors))
        elif rel.endswith("/payments.yaml"):
            out.append(([(e.due_date or (_period_start(e.period) if e.period else None), e.unpaid)
                         for e in entries if e.kind == "fee" and e.unpaid > 0], errors))
        else:
            out.append(([(e.date, e.amount) for e in entries
                         if e.kind == "arrears" and e.status == "open" and e.item is None], errors))
    return out


def _period_start(text: str) -> dt.date:
    """The first day of a payment's period (2026, 2026-Q4, 2026-H2, 2026-10), as the model
    admits them: the same day in every time zone."""
    y, _, part = text.partition("-")
    if not part:
        return dt.date(int(y), 1, 1)
    if part[0] == "Q":
        return dt.date(int(y), 3 * int(part[1:]) - 2, 1)
    if part[0] == "H":
        return dt.date(int(y), 1 if part[1:] == "1" else 7, 1)
    return dt.date(int(y), int(part), 1)


def arrears_report(store: Store, w: Window) -> Report:
    from wuye.storage.index import LISTING, tenant_index

    cutoff = w.end.date() if w.period else None
    rows = []
    problems: list[Problem] = []
    tenants = {tid: (name, status) for tid, name, _, status in tenant_index(store, LISTING)}
    for tid, found, owed in _owed(str(store.root), [(tid, cutoff) for tid in tenants]):
        problems += found
        if owed is None:
            continue
        fees, n_fees, arrears, n_arrears, oldest = owed
        name, status = tenants[tid]
        rows.append({"tenant_id": tid, "company": name or tid, "status": status,
                     "unpaid_fees": fees, "fee_items": n_fees, "arrears": arrears, "arrears_items": n_arrears,
                     "total": fees + arrears, "oldest": oldest.isoformat() if oldest else None})
    rows.sort(key=lambda r: (-r["total"], r["tenant_id"]))
    from wuye.models.archive_meta import status_label

    labels = {status: status_label(status) for status in {r["status"] for r in rows}}  # once each, not per row
    for r in rows:
        r["status_label"] = labels[r["status"]]
    columns = [Column("tenant_id", "租户", "tenant"), Column("company", "公司", "company"), Column("status_label", "状态", "status"),
               Column("unpaid_fees", "未缴费用", "unpaid fees", "money"), Column("fee_items", "未缴笔数", "unpaid bills", "int"),
               Column("arrears", "欠费", "arrears", "money"), Column("arrears_items", "欠费笔数", "arrears items", "int"),
               Column("total", "合计", "total", "money"), Column("oldest", "最早日期", "oldest")]
    summary = Section("summary", "汇总", "summary", [
        Column("tenants", "欠费租户", "tenants owing", "int"), Column("unpaid_fees", "未缴费用", "unpaid fees", "money"),
        Column("arrears", "欠费", "arrears", "money"), Column("total", "合计", "total", "money")],
        [{"tenants": len(rows), "unpaid_fees": sum((r["unpaid_fees"] for r in rows), Decimal("0.00")),
          "arrears": sum((r["arrears"] for r in rows), Decimal("0.00")),
          "total": sum((r["total"] for r in rows), Decimal("0.00"))}])
    section = Section("tenants", "按租户", "by tenant", columns, rows, chart=("tenant_id", "total", None))
    return Report("arrears", "欠费报表", "Arrears report", w.period, w.as_of, summary, [section], problems)


# --- move-outs ----------------------------------------------------------------------------------


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def moveouts_report(store: Store, w: Window) -> Report:
    from wuye.moveout import cases as moveout
    from wuye.moveout import workflow

    wf = workflow.load(store)
    first, closing = wf.first.id, wf.closing.id
    settle_step = next((s.id for s in wf.spec.steps if s.computed), "settlement")
    # Move-outs are dated by day: the window's first and last days, both included.
    start_d, last_d, as_of_d = w.start.date(), (w.end - dt.timedelta(seconds=1)).date(), w.as_of.date()
    rows = []
    problems: list[Problem] = []
    for tid, cid in moveout.case_dirs(store):
        # Where the case is, from the listing: searching all tenants again per case was quadratic
        # (300 cases x 10,000 tenants: 10 s).
        case = moveout.load_case(store, cid, (tid, f"tenants/{tid}/moveout/{cid}"))
        problems += case.problems
        gone = case.cancellation
        if gone is not None and (_date(gone.data.get("signed_at")) or as_of_d) <= as_of_d:
            continue  # withdrawn (the tenant stays) by the as-of day: a move-out that did not happen
        steps = case.latest_steps()
        notice = steps.get(first, {})
        notice_d = _date((notice.get("data") or {}).get("applied_on")) or _date(case.info.get("opened_at"))
        release = steps.get(closing)
        release_d = _date((release.get("data") or {}).get("released_on")) if release else None
        if release_d is not None and release_d > as_of_d:
            release_d = None  # released after the as-of moment: still open then
        if notice_d is None or notice_d > last_d or (release_d is not None and release_d < start_d):
            continue
        settlement = (steps.get(settle_step) or {}).get("data") or {}
        settled_d = _date(settlement.get("settled_on"))
        if settled_d is not None and settled_d > as_of_d:
            settlement, settled_d = {}, None
        balance = Decimal(settlement["balance"]) if "balance" in settlement else None
        deposits = sum((Decimal(l["amount"]) for l in settlement.get("lines", []) if l.get("code") == "deposit"), Decimal("0.00"))
        done = [s for s in wf.order if s in steps and _date(steps[s].get("signed_at")) is not None
                and _date(steps[s].get("signed_at")) <= as_of_d]
        status = "closed" if release_d is not None else "open"
        rows.append({
            "case": cid, "tenant_id": case.tenant_id, "company": case.info.get("company", ""),
            "status": status, "status_label": tr("已结案", "closed") if status == "closed" else tr("办理中", "open"),
            "stage": wf.title(done[-1]) if done else "", "notice": notice_d.isoformat(),
            "released": release_d.isoformat() if release_d else None,
            "days": Decimal((release_d - notice_d).days).quantize(TENTH) if release_d else None,
            "settled": settled_d.isoformat() if settled_d else None,
            "deposits": deposits if settlement else None,
            "refund": balance if balance is not None and balance > 0 else (Decimal("0.00") if balance is not None else None),
            "due": -balance if balance is not None and balance < 0 else (Decimal("0.00") if balance is not None else None),
            "_released_in": release_d is not None and start_d <= release_d <= last_d,
            "_settled_in": settled_d is not None and start_d <= settled_d <= last_d,
        })
    released = [r for r in rows if r["_released_in"]]
    settled = [r for r in rows if r["_settled_in"]]
    summary_row = {
        "cases": len(rows), "open": sum(r["status"] == "open" for r in rows), "released": len(released),
        "mean_days": _mean([r["days"] for r in released]),
        "deposits": sum((r["deposits"] for r in settled), Decimal("0.00")),
        "refunded": sum((r["refund"] for r in settled), Decimal("0.00")),
        "due": sum((r["due"] for r in settled), Decimal("0.00")),
    }
    for r in rows:
        del r["_released_in"], r["_settled_in"]
    summary = Section("summary", "汇总", "summary", [
        Column("cases", "案件", "cases", "int"), Column("open", "办理中", "open", "int"),
        Column("released", "本期放行", "released", "int"), Column("mean_days", "通知至放行平均天数", "mean days notice to release", "days"),
        Column("deposits", "本期结算押金", "deposits settled", "money"), Column("refunded", "本期应退", "refunds", "money"),
        Column("due", "本期应补", "amounts due", "money")], [summary_row])
    by_status = [{"status": s, "status_label": label, "cases": sum(r["status"] == s for r in rows)}
                 for s, label in (("open", tr("办理中", "open")), ("closed", tr("已结案", "closed")))]
    return Report("moveouts", "迁出报表", "Move-outs report", w.period, w.as_of, summary, [
        Section("by_status", "按状态", "by status", [Column("status_label", "状态", "status"), Column("cases", "案件", "cases", "int")],
                by_status, chart=("status_label", "cases", None)),
        Section("cases", "案件明细", "cases", [
            Column("case", "案件", "case"), Column("tenant_id", "租户", "tenant"), Column("company", "公司", "company"),
            Column("status_label", "状态", "status"), Column("stage", "最近签字步骤", "last step signed"),
            Column("notice", "通知日期", "notice"), Column("released", "放行日期", "released"),
            Column("days", "天数", "days", "days"), Column("deposits", "押金", "deposits", "money"),
            Column("refund", "应退", "refund", "money"), Column("due", "应补", "due", "money")], rows),
    ], problems)


# --- completeness -------------------------------------------------------------------------------


def completeness_report(store: Store, w: Window) -> Report:
    from wuye.archive.dossier import present_categories
    from wuye.storage.index import LISTING, tenant_index
    from wuye.models.archive_meta import CATEGORIES
    from wuye.models.archive_meta import status_label

    rows = []
    have = {c.key: 0 for c in CATEGORIES}
    labels: dict[str, str] = {}
    for tid, name, _, status in tenant_index(store, LISTING):
        present = present_categories(store, tid)
        keys = {c.key for c in present}  # by key: comparing the categories field by field was most of this report
        for c in present:
            have[c.key] += 1
        missing = [c for c in CATEGORIES if c.key not in keys]
        if status not in labels:
            labels[status] = status_label(status)
        rows.append({"tenant_id": tid, "company": name or tid,
                     "status_label": labels[status],
                     "present": len(present), "pct": (Decimal(100 * len(present)) / len(CATEGORIES)).quantize(TENTH, rounding=ROUND_HALF_UP),
                     "missing": [c.key for c in missing],
                     "missing_label": tr("、", ", ").join(tr(c.title, c.key) for c in missing)})
    n = len(rows)
    by_category = [{"number": c.number, "category": c.key, "title": tr(c.title, c.title_en), "tenants": have[c.key],
                    "pct": (Decimal(100 * have[c.key]) / n).quantize(TENTH, rounding=ROUND_HALF_UP) if n else None}
                   for c in CATEGORIES]
    summary = Section("summary", "汇总", "summary", [
        Column("tenants", "租户", "tenants", "int"), Column("complete", "十二类齐全", "all twelve", "int"),
        Column("mean_present", "平均类别数", "mean categories", "score"), Column("pct", "齐全率（%）", "complete (%)", "pct")],
        [{"tenants": n, "complete": sum(r["present"] == len(CATEGORIES) for r in rows),
          "mean_present": _mean([r["present"] for r in rows], HUNDREDTH),
          "pct": (Decimal(100 * sum(r["present"] == len(CATEGORIES) for r in rows)) / n).quantize(TENTH, rounding=ROUND_HALF_UP) if n else None}])
    return Report("completeness", "档案完整性报表", "Archive completeness report", None, w.as_of, summary, [
        Section("by_category", "按类别", "by category", [
            Column("number", "序号", "no.", "int"), Column("title", "类别", "category"), Column("tenants", "已建租户", "tenants", "int"),
            Column("pct", "覆盖率（%）", "coverage (%)", "pct")], by_category, chart=("title", "tenants", float(n) or None)),
        Section("tenants", "按租户", "by tenant", [
            Column("tenant_id", "租户", "tenant"), Column("company", "公司", "company"), Column("status_label", "状态", "status"),
            Column("present", "已有类别", "categories", "int"), Column("pct", "完整度（%）", "complete (%)", "pct"),
            Column("missing_label", "缺少", "missing")], rows),
    ], [])


# --- entry point --------------------------------------------------------------------------------


def build(store: Store, name: str, period: str | None = None, as_of: str | None = None,
          within: int | str | None = None) -> Report:
    """The named report for a period (None: all time), measured as of `as_of` (default: the
    period's end, or now); `within`: the leases report's horizon in days."""
    if name not in NAMES:
        raise WuyeError(tr("未知报表 %r；可用：%s" % (name, "、".join(NAMES)), "unknown report %r; choose from: %s" % (name, ", ".join(NAMES))))
    if name == "completeness" and period:
        raise WuyeError(tr("completeness 报表反映档案现状，不按期间统计；请去掉 --period",
                           "the completeness report shows the archive as it is now; drop --period"))
    if name in ("leases", "training") and period:
        raise WuyeError(tr("%s 报表按某一天计算，不按期间统计；请去掉 --period，用 --as-of 指定日期",
                           "the %s report is measured at a day, not over a period; drop --period and give the day with --as-of") % name)
    if within is not None and name != "leases":
        raise WuyeError(tr("--within 只用于 leases 报表", "--within is for the leases report only"))
    with _few_collections():
        return _built(store, name, window(store, period, as_of), within)


@contextmanager
def _few_collections():
    """Python's collector run after every 10,000 new objects, not 700, while a report is built.

    A report holds every record of a kind at once (27,000 repairs at 10,000 tenants, some 170,000
    objects read back from the index), all alive until it is done, and the default threshold
    walks them again and again: a third of a warm `report repairs` (2.87 s, 1.83 s). Only here:
    made for the whole process, it cost the JSON export 21 MB more at its peak, and a cold verify
    a quarter more memory across its workers, since young cycles wait longer."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(10_000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _built(store: Store, name: str, w: Window, within) -> Report:
    if name == "leases":
        return leases_report(store, w, within)
    if name == "training":
        return training_report(store, w)
    if name == "complaints":
        return service_report(store, COMPLAINT, w)
    if name == "repairs":
        return service_report(store, REPAIR, w)
    if name == "satisfaction":
        return satisfaction_report(store, w)
    if name == "arrears":
        return arrears_report(store, w)
    if name == "moveouts":
        return moveouts_report(store, w)
    return completeness_report(store, w)


# --- the workbook -------------------------------------------------------------------------------

_FORMATS = {"int": "0", "hours": "0.0", "days": "0.0", "score": "0.00", "money": "#,##0.00", "pct": "0.0"}


def write_xlsx(report: Report, path: Path) -> Path:
    """The report as a formatted workbook: a summary sheet, then one sheet per section."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="1F4E78")
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_name(report.summary.title)
    ws["A1"] = report.title
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = tr("期间", "period")
    ws["B2"] = report.period_label
    ws["A3"] = tr("截至", "as of")
    ws["B3"] = report.as_of.isoformat()
    row = report.summary.rows[0]
    for i, c in enumerate(report.summary.columns, start=5):
        ws.cell(i, 1, c.header).font = Font(bold=True)
        _put(ws.cell(i, 2), c, row.get(c.key))
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 24

    for s in report.sections:
        sh = wb.create_sheet(_sheet_name(s.title))
        for j, c in enumerate(s.columns, start=1):
            cell = sh.cell(1, j, c.header)
            cell.font, cell.fill = head_font, head_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            width = max([len(c.header) * 2] + [len(str(r.get(c.key) or "")) + 2 for r in s.rows])
            sh.column_dimensions[get_column_letter(j)].width = min(max(width, 8), 60)
        for i, r in enumerate(s.rows, start=2):
            for j, c in enumerate(s.columns, start=1):
                _put(sh.cell(i, j), c, r.get(c.key))
        sh.freeze_panes = "A2"
        if s.chart and s.rows:
            label, value, _ = s.chart
            keys = [c.key for c in s.columns]
            chart = BarChart()
            chart.title = s.title
            chart.legend = None
            chart.add_data(Reference(sh, min_col=keys.index(value) + 1, min_row=1, max_row=len(s.rows) + 1), titles_from_data=True)
            chart.set_categories(Reference(sh, min_col=keys.index(label) + 1, min_row=2, max_row=len(s.rows) + 1))
            sh.add_chart(chart, f"{get_column_letter(len(s.columns) + 2)}2")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _sheet_name(title: str) -> str:
    # Excel forbids these characters in sheet names and allows 31 characters.
    return "".join("-" if ch in "[]:*?/\\" else ch for ch in title)[:31]


def _put(cell, column: Column, value) -> None:
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    if isinstance(value, Decimal):
        value = float(value)
    cell.value = value
    if column.kind in _FORMATS and value is not None:
        cell.number_format = _FORMATS[column.kind]
