"""`wuye inquiry`: the reception and inquiry log (接待/咨询登记) and its follow-ups.

Each command parses its arguments, calls one function of `desk.inquiries` and renders the result:
the new id on stdout, what was done on stderr. A visitor's name and phone, and any number in the
texts, are masked unless `--reveal` (logged) is given.
"""

from __future__ import annotations

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.desk import AS_HELP, AS_OF_HELP, AT_HELP, JSON_HELP, REVEAL_AS_HELP, REVEAL_HELP
from wuye.cli.output import cell, grid, out, print_json, say, table

app = typer.Typer(no_args_is_help=True, help=tr(
    "接待/咨询登记：来访来电登记、跟进、跟进完成（未当场答复的须在期限内跟进）",
    "the reception and inquiry log: record a visit or call, follow it up, close it (what is not answered on the spot is followed up by a due date)"))

DUE_HELP = tr("跟进期限（未当场答复时），如 2026-11-25", "follow-up due date (when not answered on the spot), e.g. 2026-11-25")
TO_HELP = tr("负责跟进的员工编号（默认登记人自己）", "the staff member who follows up (default: whoever records it)")
DEPT_HELP = tr("负责跟进的部门，如 engineering", "the department that follows up, e.g. engineering")


def _done(result) -> None:
    from wuye.desk.inquiries import action_label, status_label

    say(tr("咨询 %s：%s，状态「%s」（提交 %s）", "inquiry %s: %s, now %s (commit %s)")
        % (result.ref, action_label(result.action), status_label(result.status), (result.commit or "")[:10]))


@app.command("open")
def inquiry_open(
    ctx: typer.Context,
    who: str = typer.Argument(None, help=tr("租户：编号、房号、公司名称的一部分或拼音首字母（非租户访客用 --visitor）",
                                            "the tenant: id, unit, part of the name or pinyin initials (a visitor: --visitor)")),
    channel: str = typer.Option(..., "--channel", help=tr("方式：visit 来访、phone 来电、counter 前台、online 网上、letter 信函",
                                                        "channel: visit, phone, counter, online, letter")),
    about: str = typer.Option(..., "--about", help=tr("咨询事项", "what it is about")),
    answer: str = typer.Option(None, "--answer", help=tr("当场给出的答复", "the answer given on the spot")),
    due: str = typer.Option(None, "--due", help=DUE_HELP),
    to: str = typer.Option(None, "--to", help=TO_HELP),
    dept: str = typer.Option(None, "--dept", help=DEPT_HELP),
    visitor: str = typer.Option(None, "--visitor", help=tr("来访/来电人姓名（非租户访客必填）", "the caller's name (needed for a visitor who is not a tenant)")),
    phone: str = typer.Option(None, "--phone", help=tr("来访/来电人电话（非租户访客必填）", "the caller's phone (needed for a visitor who is not a tenant)")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记来访或来电，输出编号（如 ZX-2026-0001） / record a visit or call; prints its id."""
    from wuye.desk import inquiries

    result = inquiries.open_inquiry(open_store(ctx), who, channel, about, as_, visitor=visitor, phone=phone,
                                    answer=answer, due=due, to=to, dept=dept, at=at)
    typer.echo(result.ref)
    _done(result)


@app.command("follow-up")
def inquiry_follow_up(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("咨询编号", "inquiry id")),
    note: str = typer.Option(..., "--note", help=tr("跟进情况", "what was done")),
    due: str = typer.Option(None, "--due", help=tr("新的跟进期限", "a new due date")),
    to: str = typer.Option(None, "--to", help=tr("改由此员工跟进", "hand it to this staff member")),
    dept: str = typer.Option(None, "--dept", help=tr("改由此部门跟进", "hand it to this department")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记一次跟进（仍待完成），可改期限或跟进人 / record a follow-up (still open); may move the due date or hand it on."""
    from wuye.desk import inquiries

    _done(inquiries.follow_up(open_store(ctx), ref, note, as_, due, to, dept, at))


@app.command("done")
def inquiry_done(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("咨询编号", "inquiry id")),
    answer: str = typer.Option(..., "--answer", help=tr("最终答复", "the answer given")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """跟进完成：登记最终答复，闭环 / close the loop with the answer given."""
    from wuye.desk import inquiries

    _done(inquiries.done(open_store(ctx), ref, answer, as_, at))


@app.command("list")
def inquiry_list(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help=tr("只列待跟进的", "only those waiting for a follow-up")),
    overdue: bool = typer.Option(False, "--overdue", help=tr("只列超过跟进期限仍未完成的", "only those past their due date")),
    tenant: str = typer.Option(None, "--tenant", help=tr("只看一个租户", "one tenant only")),
    as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    reveal: bool = typer.Option(False, "--reveal", help=REVEAL_HELP),
    as_: str = typer.Option(None, "--as", help=REVEAL_AS_HELP),
):
    """列出接待/咨询登记 / list the inquiry log."""
    from wuye.archive import privacy
    from wuye.desk import inquiries

    store = open_store(ctx)
    who = privacy.identity(store, as_, "--reveal") if reveal else None
    rows, problems, when = inquiries.listing(store, open_only, overdue, tenant, as_of)
    rows = privacy.shown(rows, reveal)
    if reveal:
        privacy.record_reveal(store.root, "inquiry list", tenant or "*", who)
    for p in problems:
        say(str(p))
    if as_json:
        print_json(rows)
        return
    for r in rows:
        r["received"] = r["received_at"].replace("T", " ")[:16]
        r["who"] = r.get("tenant_id") or r.get("visitor_name") or ""
        r["holder"] = r.get("follow_up_to") or r.get("follow_up_dept_label") or ""
        r["overdue_label"] = tr("超时", "overdue") if r["overdue"] else ""
    table([("id", tr("编号", "id")), ("received", tr("接待时间", "received")), ("channel_label", tr("方式", "channel")),
           ("who", tr("来访人", "who")), ("company", tr("单位", "company")), ("status_label", tr("状态", "status")),
           ("follow_up_due", tr("跟进期限", "due")), ("holder", tr("跟进", "follow-up by")),
           ("overdue_label", tr("超时", "overdue")), ("description", tr("咨询事项", "about"))], rows, False)
    say(tr("共 %d 条（截至 %s）", "%d record(s) (as of %s)") % (len(rows), when.isoformat()))


@app.command("show")
def inquiry_show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("咨询编号", "inquiry id")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    reveal: bool = typer.Option(False, "--reveal", help=REVEAL_HELP),
    as_: str = typer.Option(None, "--as", help=REVEAL_AS_HELP),
):
    """查看一条咨询及其办理记录 / show an inquiry and its history."""
    from rich.table import Table

    from wuye.archive import privacy
    from wuye.desk import inquiries
    from wuye.desk.servicedesk import dept_label

    store = open_store(ctx)
    who = privacy.identity(store, as_, "--reveal") if reveal else None
    data = privacy.shown(inquiries.show(store, ref), reveal)
    if reveal:
        privacy.record_reveal(store.root, "inquiry show", data.get("id", ref), who)
    if as_json:
        print_json(data)
        return
    labels = {
        "received_at": tr("接待时间", "received"), "channel_label": tr("方式", "channel"), "tenant_id": tr("租户", "tenant"),
        "company": tr("单位", "company"), "visitor_name": tr("来访人", "visitor"), "visitor_phone": tr("联系电话", "phone"),
        "description": tr("咨询事项", "about"), "answered_by": tr("接待人", "received by"),
        "on_the_spot": tr("当场答复", "answered on the spot"), "response": tr("答复", "answer"),
        "status_label": tr("状态", "status"), "follow_up_due": tr("跟进期限", "follow-up due"),
        "follow_up_dept_label": tr("跟进部门", "follow-up department"), "follow_up_to": tr("跟进人", "follow-up by"),
        "done_at": tr("完成时间", "done at"), "overdue": tr("超时", "overdue"),
    }
    t = Table(title=f"{tr('咨询', 'inquiry')} {data['id']}", title_justify="left", show_header=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    shown = dict(data)
    shown["on_the_spot"] = tr("是", "yes") if data.get("on_the_spot") else tr("否", "no")
    shown["overdue"] = tr("超时", "overdue") if data.get("overdue") else ""
    for key, label in labels.items():
        value = shown.get(key)
        if value in (None, "", []):
            continue
        t.add_row(label, cell(str(value).replace("T", " ")[:16] if key in ("received_at", "done_at") else value))
    t.add_row(tr("下一步可以", "next"), tr("、", ", ").join(data["allowed"]) or tr("（已办结）", "(finished)"))
    out().print(t)
    grid(tr("办理记录", "history"), [tr("时间", "at"), tr("经办人", "by"), tr("动作", "action"), tr("状态", "status"),
                                    tr("期限", "due"), tr("跟进", "follow-up by"), tr("说明", "note")], [
        [str(h.get("at", "")).replace("T", " ")[:16], cell(h.get("by")), inquiries.action_label(h.get("action", "")),
         inquiries.status_label(h.get("status", "")), cell(h.get("due")),
         cell(h.get("assignee") or (dept_label(h["department"]) if h.get("department") else None)), cell(h.get("note"))]
        for h in data.get("history") or []])
