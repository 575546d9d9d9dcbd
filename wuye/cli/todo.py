"""`wuye todo`: what is waiting on a person or a department, as a list that fits 80 columns, or
JSON; exit code 3 when something is overdue, so an office can mail the list from cron. The list
is `todo.build`'s; this module only draws it.
"""

from __future__ import annotations

import os

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import grid, out, print_json, say, visible

HELP = tr(
    "待办：某人或某部门现在可签的迁出步骤（已等多久、办理时限），分派给其仍未关闭的投诉和报修，"
    "以及由其跟进的咨询（标出超时的）。\n\n"
    "迁出步骤的时限是流程文件中的 deadline_hours；投诉和报修的时限是 wuye.yaml 的 limits；"
    "咨询须在跟进期限当天结束前跟进完成。"
    "租约到期按 wuye.yaml 的 reminders.lease_expiry_days 提醒租售部；本年培训未达标的员工列给本人和管理层；"
    "未完成的改进措施列给负责人。通知没有答复期限，因此不列入。\n\n"
    "退出码：0 没有超时事项；3 有超时事项；1 拒绝（员工或部门不存在、时间无效）；2 用法错误。",
    "To-do: the move-out steps a person or a department may sign now (how long each has waited, "
    "against its deadline), the complaints and repairs assigned to them that are still open, "
    "and the inquiries they are to follow up (the overdue ones marked).\n\n"
    "Step deadlines are deadline_hours in the workflow file; complaint and repair limits are the "
    "limits of wuye.yaml; an inquiry to follow up is due by the end of its due day. Leases ending "
    "within reminders.lease_expiry_days go to leasing; training due this year to the staff member and "
    "management; open improvement actions to their owner. Notices have no reply date, so they are not listed.\n\n"
    "Exit codes: 0 nothing overdue; 3 something overdue; 1 refused (unknown staff or department, "
    "invalid time); 2 usage error.")


def register(app: typer.Typer) -> None:
    # The long help's first sentence does not fit a line of `wuye --help`: click would show "...".
    app.command("todo", help=HELP, short_help="待办：某人或某部门等着办的事 / what waits on a person or a department.")(todo)


def todo(
    ctx: typer.Context,
    as_: str = typer.Option(None, "--as", "--staff", help=tr("员工编号：此人的待办（默认 WUYE_USER）",
                                                            "staff id: this person's list (default: WUYE_USER)")),
    dept: str = typer.Option(None, "--dept", help=tr("部门：此部门的待办，如 engineering", "department: its list, e.g. engineering")),
    as_of: str = typer.Option(None, "--as-of", help=tr("按此时刻计算（默认现在），如 2026-12-05T09:00",
                                                       "measure as of this moment (default: now), e.g. 2026-12-05T09:00")),
    as_json: bool = typer.Option(False, "--json", help=tr("输出 JSON", "print JSON")),
):
    from wuye.desk import todo as service

    store = open_store(ctx)
    staff_id = as_ or (None if dept else os.environ.get("WUYE_USER"))
    result = service.build(store, staff_id, dept, as_of)
    for p in result.problems:
        say(str(p))
    if as_json:
        print_json(result.to_json())
    else:
        render(result)
    raise typer.Exit(result.exit_code)


def _duration(hours) -> str:
    """26.5 hours as 1天2时 / 1d 2h; under a day in hours, under an hour in minutes."""
    minutes = int(round(float(hours) * 60))
    if minutes < 60:
        return tr("%d分", "%dm") % max(minutes, 0)
    h = minutes // 60
    if h < 24:
        return tr("%d时", "%dh") % h
    d, h = divmod(h, 24)
    return tr("%d天%d时", "%dd %dh") % (d, h) if h else tr("%d天", "%dd") % d


def _time(when, year: int | None = None) -> str:
    """`2026-11-25 17:40`; within `year`, `11-25 17:40` (the width goes to the company's name)."""
    if when is None:
        return ""
    text = when.isoformat().replace("T", " ")[:16]
    return text[5:] if when.year == year else text


def _whose(t) -> str:
    """`T0001 柏彦科技`; a common area's repair or a visitor's inquiry has no tenant, only the label."""
    return f"{t.tenant_id} {t.company}" if t.tenant_id else t.company


def render(result) -> None:
    from rich.text import Text

    from wuye.desk.servicedesk import dept_label

    console = out()
    head = Text(visible(tr("%s的待办", "To-do for %s") % result.whom.label), style="bold")
    head.append(visible("  " + tr("截至", "as of") + " " + _time(result.as_of)))
    console.print(head)
    overdue_word = tr("超时", "overdue")

    def table(title: str, headers: list[str], rows: list[list[str]]) -> None:
        if not rows:
            console.print(f"{title}  " + tr("（无）", "(none)"), style="dim")
            return
        # Ids, times and durations never break; the company's name folds (output.grid).
        grid(title, headers, rows, styles=["bold" if r[0] else None for r in rows])

    mo = result.moveouts
    table(tr("迁出签字（%d）", "Move-out sign-offs (%d)") % len(mo),
          ["", tr("案件", "case"), tr("步骤", "step"), tr("已等", "waited"), tr("时限", "limit"), tr("租户", "tenant")],
          [[overdue_word if t.overdue else "", t.ref, t.what, _duration(t.waited_hours(result.as_of)),
            (tr("%d时", "%dh") % t.deadline_hours) if t.deadline_hours else "—", f"{t.tenant_id} {t.company}"] for t in mo])
    for title, tasks in ((tr("投诉（%d）", "Complaints (%d)"), result.complaints), (tr("报修（%d）", "Repairs (%d)"), result.repairs)):
        table(title % len(tasks),
              ["", tr("编号", "id"), tr("状态", "state"), tr("期限", "due"), tr("承办", "holder"), tr("租户", "tenant")],
              [[overdue_word if t.overdue else "", t.ref, t.what, _time(t.due, result.as_of.year) or "—",
                t.assignee or dept_label(t.department), _whose(t)] for t in tasks])
    table(tr("咨询跟进（%d）", "Inquiries (%d)") % len(result.inquiries),
          ["", tr("编号", "id"), tr("状态", "state"), tr("期限", "due"), tr("跟进", "holder"), tr("来访人", "from")],
          [[overdue_word if t.overdue else "", t.ref, t.what, _time(t.due, result.as_of.year) or "—",
            t.assignee or dept_label(t.department), _whose(t)] for t in result.inquiries])
    _registers(result, table, overdue_word)
    total = len(result.tasks)
    say(tr("共 %d 项，超时 %d 项", "%d item(s), %d overdue") % (total, result.overdue))


def _registers(result, table, overdue_word: str) -> None:
    """Leases ending (leasing), training due (the person, management), improvement actions (owner).
    Their deadlines are the first moment after the day (todo._day_end): the day itself is shown."""
    import datetime as dt

    def last_day(t) -> dt.date:
        return (t.due - dt.timedelta(days=1)).date()

    today = result.as_of.date()
    table(tr("租约到期（%d）", "Leases ending (%d)") % len(result.leases),
          ["", tr("租户", "tenant"), tr("租期结束", "lease ends"), tr("剩余", "left")],
          [[overdue_word if t.overdue else "", f"{t.tenant_id} {t.company}", last_day(t).isoformat(),
            tr("%d天", "%dd") % (last_day(t) - today).days] for t in result.leases])
    table(tr("培训（%d）", "Training (%d)") % len(result.training),
          ["", tr("员工", "staff"), tr("待完成", "to do"), tr("期限", "due")],
          [["", t.ref, t.what, last_day(t).isoformat()] for t in result.training])
    table(tr("改进措施（%d）", "Improvement actions (%d)") % len(result.improvements),
          ["", tr("编号", "id"), tr("针对", "for"), tr("期限", "due"), tr("负责人", "owner")],
          [[overdue_word if t.overdue else "", t.ref, t.what, last_day(t).isoformat(), t.assignee or ""]
           for t in result.improvements])
