"""`wuye report NAME`: a report in the terminal (rich tables, bars for trends), as JSON, or as a
formatted xlsx workbook for the monthly meeting. The numbers come from `reports.build` once, so
all three agree; this module only draws them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import cell, grid, out, plain_table, print_json, say, visible


def register(app: typer.Typer) -> None:
    app.command("report", no_args_is_help=True)(report)


def report(
    ctx: typer.Context,
    name: str = typer.Argument(..., help=tr("报表名：complaints、repairs、satisfaction、arrears、moveouts、completeness、leases、training",
                                            "report: complaints, repairs, satisfaction, arrears, moveouts, completeness, leases, training")),
    period: str = typer.Option(None, "--period", help=tr("期间：2026-11（月）、2026-Q4（季度）、2026（年）；默认全部",
                                                         "period: 2026-11 (month), 2026-Q4 (quarter), 2026 (year); default all time")),
    as_of: str = typer.Option(None, "--as-of", help=tr("按此时刻统计（默认期间结束，或现在）", "measure as of this moment (default: the period's end, or now)")),
    within: str = typer.Option(None, "--within", help=tr("leases：提醒天数（默认 wuye.yaml 的 reminders.lease_expiry_days）",
                                                         "leases: the horizon in days (default: reminders.lease_expiry_days of wuye.yaml)")),
    as_json: bool = typer.Option(False, "--json", help=tr("输出 JSON", "print JSON")),
    xlsx: Path = typer.Option(None, "--xlsx", help=tr("另存为 Excel 工作簿", "also write an Excel workbook")),
):
    """报表：投诉、报修、满意度、欠费、迁出、档案完整性、租约到期、员工培训 / reports: complaints, repairs, satisfaction, arrears, move-outs, completeness, lease expiries, staff training."""
    from wuye.desk import reports

    store = open_store(ctx)
    rep = reports.build(store, name, period, as_of, within)
    if xlsx is not None:
        reports.write_xlsx(rep, xlsx)
        say(tr("已写入 %s", "wrote %s") % xlsx)
    for p in rep.problems:
        say(str(p))
    if as_json:
        print_json(rep.to_json())
        return
    render(rep)


def _fmt(column, value) -> str:
    if value is None:
        return ""
    if column.key == "change" and isinstance(value, Decimal) and value > 0:
        return f"+{value}"  # a rise reads as one
    return cell(value)


def _bar(value, top: float, width: int = 12) -> str:
    """A bar of eighths of a block, `width` blocks for `top`."""
    if value is None or not top:
        return ""
    eighths = round(float(value) / top * width * 8)
    full, part = divmod(max(eighths, 0), 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[part]


def render(rep) -> None:
    from rich.table import Table
    from rich.text import Text

    from wuye.cli.output import LONG_LISTING as long_listing  # read now: a test may lower it

    console = out()
    head = Text(visible(rep.title), style="bold")
    head.append(visible(f"  {tr('期间', 'period')} {rep.period_label}  {tr('截至', 'as of')} {rep.as_of.isoformat().replace('T', ' ')[:16]}"))
    console.print(head)
    summary = Table(show_header=False, title=rep.summary.title, title_justify="left")
    summary.add_column(style="bold")
    summary.add_column(justify="right", no_wrap=True)
    row = rep.summary.rows[0]
    for c in rep.summary.columns:
        summary.add_row(c.header, _fmt(c, row.get(c.key)))
    console.print(summary)
    for s in rep.sections:
        if not s.rows:
            console.print(f"{s.title}  " + tr("（无）", "(none)"), style="dim")
            continue
        headers = [c.header for c in s.columns]
        rows = [[_fmt(c, r.get(c.key)) for c in s.columns] for r in s.rows]
        if s.chart:
            _, value, scale = s.chart
            top = scale or max((float(r.get(value) or 0) for r in s.rows), default=0)
            headers.append("")
            for cells, r in zip(rows, s.rows):
                cells.append(_bar(r.get(value), top))
        if len(rows) > long_listing:
            # Every tenant of a company: plain columns, as `archive list` prints them (rich lays
            # out 10,000 rows in seconds, most of a report's time).
            keys = [str(i) for i in range(len(headers))]
            plain_table(list(zip(keys, headers)), [dict(zip(keys, cells)) for cells in rows], s.title)
            continue
        # Numbers right-aligned; no id, date or amount is ever cut (output.grid).
        grid(s.title, headers, rows, right={i for i, c in enumerate(s.columns) if c.kind != "text"},
             spare=len(s.columns) if s.chart else None)
