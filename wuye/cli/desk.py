"""`wuye complaint`, `wuye repair`, `wuye notice`, `wuye survey`: the service desk's commands.

Each command parses its arguments, calls one function of `servicedesk` or `notices`, and renders
the result: new ids and data on stdout, what was done on stderr. Every transition accepts `--at`
for something that happened earlier (a complaint taken by phone last night and logged this
morning); the commit still records when it was logged.
"""

from __future__ import annotations

from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import cell, field_label, grid, out, print_json, say, table

AS_HELP = tr("操作员工编号（默认 WUYE_USER）", "the acting staff id (default: WUYE_USER)")
JSON_HELP = tr("输出 JSON", "print JSON")
AT_HELP = tr("发生时间（默认现在），如 2026-11-20T17:40", "when it happened (default: now), e.g. 2026-11-20T17:40")
AS_OF_HELP = tr("按此时刻计算是否超时（默认现在）", "judge time limits at this moment (default: now)")
SAT_HELP = tr("客户满意度 1–5（5 最满意）", "the tenant's rating, 1–5 (5 is best)")
REVEAL_HELP = tr("显示文字中完整的电话和证件号（须 --as，记入本机访问日志）", "show phone and ID numbers in the texts unmasked (needs --as; logged locally)")
REVEAL_AS_HELP = tr("谁在查看（--reveal 必需；默认 WUYE_USER）", "who is looking (needed by --reveal; default: WUYE_USER)")

complaint_app = typer.Typer(no_args_is_help=True, help=tr(
    "投诉：受理、分派、回复、处理、回访关闭、重开（每个投诉有回应、有结果）",
    "complaints: open, assign, respond, resolve, close with a rating, reopen"))
repair_app = typer.Typer(no_args_is_help=True, help=tr(
    "报修：报修、派工、完工、回访关闭", "repairs: report, assign, done, close with a rating"))
notice_app = typer.Typer(no_args_is_help=True, help=tr(
    "通知/通报：一次发给多个租户，登记在其往来文件中", "notices and circulars to many tenants at once, registered in their correspondence"))
survey_app = typer.Typer(no_args_is_help=True, help=tr(
    "满意度调查：登记租户的定期评分", "satisfaction surveys: record a tenant's periodic rating"))


def _done(result) -> None:
    from wuye.desk.servicedesk import dept_label

    kind = result.kind
    extra = ""
    if result.action == "assign":
        extra = " → " + dept_label(result.record.get("assigned_dept")) + (f" {result.record['assigned_to']}" if result.record.get("assigned_to") else "")
    say(tr("%s %s：%s%s，状态「%s」（提交 %s）" % (kind.zh, result.ref, kind.action_label(result.action), extra,
                                            kind.status_label(result.status), (result.commit or "")[:10]),
           "%s %s: %s%s, now %s (commit %s)" % (kind.en, result.ref, result.action, extra, result.status, (result.commit or "")[:10])))


def _opened(result) -> None:
    typer.echo(result.ref)
    _done(result)


def _list(ctx, kind, open_only: bool, overdue: bool, tenant: str | None, as_of: str | None, as_json: bool,
          reveal: bool = False, as_: str | None = None) -> None:
    from wuye.archive import privacy
    from wuye.desk import servicedesk

    store = open_store(ctx)
    who = privacy.identity(store, as_, "--reveal") if reveal else None
    rows, problems, when = servicedesk.listing(store, kind, open_only, overdue, tenant, as_of)
    rows = privacy.shown(rows, reveal)
    if reveal:
        privacy.record_reveal(store.root, f"{kind.key} list", tenant or "*", who)
    for p in problems:
        say(str(p))
    for r in rows:
        # A common area has no tenant: the tenant column says so, and there is no company to name.
        r["tenant_shown"] = servicedesk.common_label() if r.get("common_area") else r["tenant_id"]
        r["company_shown"] = "" if r.get("common_area") else r["company"]
        r["received"] = str(r[kind.received_field]).replace("T", " ")[:16]
        words = {"response": "回复超时", "resolution": "处理超时"} if kind is servicedesk.COMPLAINT else \
            {"response": "派工超时", "resolution": "完工超时"}
        r["overdue_label"] = tr("、", ", ").join(tr(words[o], f"{o} overdue") for o in r["overdue"])
    if kind is servicedesk.COMPLAINT:
        columns = [("id", tr("编号", "id")), ("tenant_id", tr("租户", "tenant")), ("company", tr("公司", "company")),
                   ("received", tr("受理时间", "received")), ("channel_label", tr("渠道", "channel")),
                   ("status_label", tr("状态", "status")), ("department_label", tr("处理部门", "department")),
                   ("reopened", tr("重开", "reopened")), ("overdue_label", tr("超时", "overdue")),
                   ("description", tr("内容", "complaint"))]
    else:
        columns = [("id", tr("编号", "id")), ("tenant_shown", tr("租户", "tenant")), ("company_shown", tr("公司", "company")),
                   ("received", tr("报修时间", "reported")), ("location", tr("位置", "location")), ("urgent", tr("紧急", "urgent")),
                   ("status_label", tr("状态", "status")), ("assigned_to", tr("维修人", "assignee")),
                   ("overdue_label", tr("超时", "overdue")), ("description", tr("内容", "fault"))]
    if as_json:
        print_json([{k: v for k, v in r.items() if k not in ("received", "overdue_label", "tenant_shown", "company_shown")} for r in rows])
        return
    table(columns, rows, False)
    say(tr("共 %d 条（截至 %s）", "%d record(s) (as of %s)") % (len(rows), when.isoformat()))


def _show(ctx, kind, ref: str, as_json: bool, reveal: bool = False, as_: str | None = None) -> None:
    from rich.table import Table

    from wuye.archive import privacy
    from wuye.desk import servicedesk
    from wuye.admin.schema import load_labels

    store = open_store(ctx)
    who = privacy.identity(store, as_, "--reveal") if reveal else None
    data = privacy.shown(servicedesk.show(store, kind, ref), reveal)
    if reveal:
        privacy.record_reveal(store.root, f"{kind.key} show", data.get("id", ref), who)
    if as_json:
        print_json(data)
        return
    labels = load_labels()[kind.category]
    console = out()
    t = Table(title=f"{kind.word()} {data['id']}  {data['company']}", title_justify="left", show_header=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    shown = dict(data)
    # Codes read as words on screen (--json keeps the codes).
    if "channel" in shown:
        shown["channel"] = servicedesk.channel_label(shown["channel"])
    if "assigned_dept" in shown:
        shown["assigned_dept"] = servicedesk.dept_label(shown["assigned_dept"])
    shown["overdue"] = tr("、", ", ").join(tr({"response": "回复/响应超时", "resolution": "处理/完成超时"}[o], f"{o} overdue") for o in data["overdue"])
    for key, value in shown.items():
        if key == "tenant_id" and data.get("common_area"):
            value = servicedesk.common_label()
        if key in ("id", "history", "company", "allowed", "as_of", "status", "department", "common_area") or value in (None, [], ""):
            continue
        label = field_label(labels, key) if key in labels else {
            "status_label": tr("状态", "status"), "department": tr("处理部门", "department"), "tenant_id": tr("租户", "tenant"),
            "response_due": tr("回复/响应期限", "respond by"), "resolution_due": tr("处理/完成期限", "resolve by"),
            "overdue": tr("超时", "overdue")}.get(key, key)
        t.add_row(label, cell(value))
    t.add_row(tr("下一步可以", "next"), tr("、", ", ").join(tr("%s（%s）", "%s (%s)") % (kind.action_label(a), a) for a in data["allowed"])
              or tr("（已结束）", "(finished)"))
    console.print(t)
    heads = (tr("时间", "at"), tr("经办人", "by"), tr("动作", "action"), tr("状态", "status"), tr("部门", "department"),
             tr("承办人", "assignee"), tr("说明", "note"), tr("费用", "cost"), tr("满意度", "rating"))
    grid(tr("流转记录", "history"), list(heads), [
        [str(e.get("at", "")).replace("T", " ")[:16], cell(e.get("by")), kind.action_label(e.get("action", "")),
         kind.status_label(e.get("status", "")), servicedesk.dept_label(e["department"]) if e.get("department") else "",
         cell(e.get("assignee")), cell(e.get("note")), cell(e.get("cost")), cell(e.get("satisfaction"))]
        for e in data.get("history") or []], right={7, 8})


# --- complaints -------------------------------------------------------------------------------


@complaint_app.command("open")
def complaint_open(
    ctx: typer.Context,
    tenant: str = typer.Argument(..., help=tr("客户编号、公司名称的一部分或拼音首字母", "tenant id, part of the name, or pinyin initials")),
    channel: str = typer.Option(..., "--channel", help=tr("渠道：phone 电话、counter 前台、online 网上、letter 信函、visit 上门",
                                                        "channel: phone, counter, online, letter, visit")),
    text: str = typer.Option(..., "--text", help=tr("投诉内容", "what the tenant complains about")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """受理投诉，输出编号（如 TS-2026-0042） / receive a complaint; prints its id."""
    from wuye.desk import servicedesk

    _opened(servicedesk.open_complaint(open_store(ctx), tenant, channel, text, as_, at))


@complaint_app.command("assign")
def complaint_assign(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("投诉编号", "complaint id")),
    dept: str = typer.Option(..., "--dept", help=tr("处理部门：leasing、customer_service、engineering、finance、security、management",
                                                  "department: leasing, customer_service, engineering, finance, security, management")),
    to: str = typer.Option(None, "--to", help=tr("承办人员工编号（须属该部门）", "the staff member handling it (in that department)")),
    note: str = typer.Option(None, "--note", help=tr("说明", "note")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """分派到部门（跨部门协调） / route a complaint to a department."""
    from wuye.desk import servicedesk

    _done(servicedesk.assign(open_store(ctx), servicedesk.COMPLAINT, ref, dept, to, as_, at, note))


@complaint_app.command("respond")
def complaint_respond(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("投诉编号", "complaint id")),
    text: str = typer.Option(..., "--text", help=tr("给客户的回复", "what the tenant was told")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """回复客户 / record the response to the tenant."""
    from wuye.desk import servicedesk

    _done(servicedesk.respond(open_store(ctx), ref, text, as_, at))


@complaint_app.command("resolve")
def complaint_resolve(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("投诉编号", "complaint id")),
    result: str = typer.Option(..., "--result", help=tr("处理结果", "the result")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记处理结果 / record the result."""
    from wuye.desk import servicedesk

    _done(servicedesk.resolve(open_store(ctx), ref, result, as_, at))


@complaint_app.command("close")
def complaint_close(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("投诉编号", "complaint id")),
    satisfaction: str = typer.Option(..., "--satisfaction", help=SAT_HELP),
    note: str = typer.Option(None, "--note", help=tr("回访说明", "note from the follow-up call")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """回访并关闭（须已回复并有处理结果） / close after the follow-up (needs a response and a result)."""
    from wuye.desk import servicedesk

    _done(servicedesk.close(open_store(ctx), servicedesk.COMPLAINT, ref, satisfaction, as_, at, note))


@complaint_app.command("reopen")
def complaint_reopen(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("投诉编号", "complaint id")),
    reason: str = typer.Option(..., "--reason", help=tr("重开原因", "why it is reopened")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """重开（客户不满意）；处理时限重新起算 / reopen; the resolution clock starts again."""
    from wuye.desk import servicedesk

    _done(servicedesk.reopen(open_store(ctx), ref, reason, as_, at))


# --- repairs ----------------------------------------------------------------------------------


@repair_app.command("open")
def repair_open(
    ctx: typer.Context,
    tenant: str = typer.Argument(None, help=tr("客户编号、房号、公司名称的一部分或拼音首字母（公共区域报修用 --common，不填）",
                                               "tenant id, unit, part of the name, or pinyin initials (none with --common)")),
    common: bool = typer.Option(False, "--common", help=tr("公共区域报修（不属于任何租户，如电梯厅、楼梯间）",
                                                         "a common area's repair (no tenant's: a lift lobby, a stairwell)")),
    location: str = typer.Option(..., "--location", help=tr("报修位置，如 1205 室卫生间、20 层电梯厅", "where, e.g. 1205 washroom, 20F lift lobby")),
    text: str = typer.Option(..., "--text", help=tr("故障描述", "the fault")),
    urgent: bool = typer.Option(False, "--urgent", help=tr("紧急报修（响应时限更短）", "urgent (a shorter response limit)")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记报修，输出编号（如 BX-2026-0001）；公共区域用 --common / record a repair request (a common area's with --common); prints its id."""
    from wuye.desk import servicedesk
    from wuye.errors import WuyeError

    if common == (tenant is not None):
        raise WuyeError(tr("请给出租户，或用 --common 登记公共区域报修（二者只能选一）",
                           "name the tenant, or give --common for a common area's repair (one of the two)"))
    _opened(servicedesk.open_repair(open_store(ctx), None if common else tenant, location, text, urgent, as_, at))


@repair_app.command("assign")
def repair_assign(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("报修编号", "repair id")),
    to: str = typer.Option(..., "--to", help=tr("维修人员工编号", "the staff member sent")),
    dept: str = typer.Option("engineering", "--dept", help=tr("部门（默认 engineering 工程部）", "department (default: engineering)")),
    note: str = typer.Option(None, "--note", help=tr("说明", "note")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """派工 / send someone."""
    from wuye.desk import servicedesk

    _done(servicedesk.assign(open_store(ctx), servicedesk.REPAIR, ref, dept, to, as_, at, note))


@repair_app.command("done")
def repair_done(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("报修编号", "repair id")),
    cost: str = typer.Option("0.00", "--cost", help=tr("维修费用（元），默认 0", "what the repair cost (yuan), default 0")),
    chargeable: bool = typer.Option(False, "--chargeable", help=tr(
        "向客户收费：费用记入其缴费记录（工程部、财务部或管理层）；不加则由管理处承担",
        "charge the cost to the tenant: it becomes an item of their payments.yaml (engineering, finance or management); "
        "without it the cost is the office's")),
    note: str = typer.Option(None, "--note", help=tr("维修情况", "what was done")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记完工 / record the work as done."""
    from wuye.desk import servicedesk

    result = servicedesk.done(open_store(ctx), ref, cost, as_, at, note, chargeable)
    _done(result)
    if chargeable:
        say(tr("费用 %s 元已记入 %s 的缴费记录（%s），由财务收取", "%s yuan entered in %s's payments.yaml (%s), for finance to collect")
            % (result.record["cost"], result.tenant_id, result.charge))


@repair_app.command("close")
def repair_close(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=tr("报修编号", "repair id")),
    satisfaction: str = typer.Option(..., "--satisfaction", help=SAT_HELP),
    note: str = typer.Option(None, "--note", help=tr("回访说明", "note from the follow-up call")),
    at: str = typer.Option(None, "--at", help=AT_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """回访并关闭 / close after the follow-up."""
    from wuye.desk import servicedesk

    _done(servicedesk.close(open_store(ctx), servicedesk.REPAIR, ref, satisfaction, as_, at, note))


def _list_and_show(app: typer.Typer, kind_name: str, overdue_help: str, list_help: str, ref_help: str,
                   show_help: str) -> None:
    """`list` and `show` of a desk queue: complaints and repairs take the very same options."""

    def kind():
        from wuye.desk import servicedesk

        return servicedesk.COMPLAINT if kind_name == "complaint" else servicedesk.REPAIR

    @app.command("list", help=list_help)
    def list_(
        ctx: typer.Context,
        open_only: bool = typer.Option(False, "--open", help=tr("只列未关闭的", "only those not closed")),
        overdue: bool = typer.Option(False, "--overdue", help=overdue_help),
        tenant: str = typer.Option(None, "--tenant", help=tr("只看一个租户", "one tenant only")),
        as_of: str = typer.Option(None, "--as-of", help=AS_OF_HELP),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        reveal: bool = typer.Option(False, "--reveal", help=REVEAL_HELP),
        as_: str = typer.Option(None, "--as", help=REVEAL_AS_HELP),
    ):
        _list(ctx, kind(), open_only, overdue, tenant, as_of, as_json, reveal, as_)

    @app.command("show", help=show_help)
    def show(
        ctx: typer.Context,
        ref: str = typer.Argument(..., help=ref_help),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        reveal: bool = typer.Option(False, "--reveal", help=REVEAL_HELP),
        as_: str = typer.Option(None, "--as", help=REVEAL_AS_HELP),
    ):
        _show(ctx, kind(), ref, as_json, reveal, as_)


_list_and_show(
    complaint_app, "complaint",
    tr("只列超过回复或处理时限仍未完成的", "only those past a time limit and still waiting"),
    "列出投诉 / list complaints.",
    tr("投诉编号（旧条目写成 T0001/CMP-0001）", "complaint id (older entries: T0001/CMP-0001)"),
    "查看投诉及其全部流转记录 / show a complaint and its whole history.")
_list_and_show(
    repair_app, "repair",
    tr("只列超过响应或完成时限仍未完成的", "only those past a time limit and still waiting"),
    "列出报修 / list repairs.",
    tr("报修编号（旧条目写成 T0001/REP-0001）", "repair id (older entries: T0001/REP-0001)"),
    "查看报修及其全部流转记录 / show a repair and its whole history.")


# --- notices ----------------------------------------------------------------------------------


@notice_app.command("send")
def notice_send(
    ctx: typer.Context,
    subject: str = typer.Option(..., "--subject", help=tr("标题", "subject")),
    file: Path = typer.Option(..., "--file", help=tr("正文（Markdown 或纯文本，UTF-8）", "the body (Markdown or plain text, UTF-8)")),
    to: list[str] = typer.Option(..., "--to", help=tr("all（全部在租租户）或客户编号，可重复或用逗号分隔", "all (every tenant not moved out) or tenant ids, repeatable or comma-separated")),
    kind: str = typer.Option("notice", "--kind", help=tr("notice 通知；circular 通报", "notice or circular")),
    at: str = typer.Option(None, "--at", help=tr("发出时间（默认现在；补登纸质通知时填实际日期），如 2026-11-20",
                                                 "when it was sent (default: now; for a paper notice entered later), e.g. 2026-11-20")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """发出通知并登记到每个收件租户的往来文件（一个提交），输出文号 / send a notice; prints its reference number."""
    from wuye.desk import notices

    result = notices.send(open_store(ctx), subject, file, to, as_, kind, at)
    typer.echo(result.ref_no)
    say(tr("已发出 %s「%s」给 %d 个租户（提交 %s）",
           "sent %s \"%s\" to %d tenant(s) (commit %s)") % (result.ref_no, subject, len(result.recipients), (result.commit or "")[:10]))


@notice_app.command("list")
def notice_list(
    ctx: typer.Context,
    year: int = typer.Option(None, "--year", help=tr("只看某年", "one year only")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """列出已发通知（文号、日期、标题、收件数） / list the notices sent."""
    from wuye.desk import notices

    rows = notices.listing(open_store(ctx), year)
    table([("ref_no", tr("文号", "reference")), ("date", tr("日期", "date")), ("subject", tr("标题", "subject")),
           ("recipients", tr("收件租户数", "tenants")), ("sent_by", tr("发文人", "sent by")), ("body", tr("正文", "body"))],
          rows, as_json)


# --- surveys ----------------------------------------------------------------------------------


@survey_app.command("record")
def survey_record(
    ctx: typer.Context,
    tenant: str = typer.Argument(..., help=tr("客户编号、公司名称的一部分或拼音首字母", "tenant id, part of the name, or pinyin initials")),
    period: str = typer.Option(..., "--period", help=tr("调查期间，如 2026-Q4、2026-11 或 2026", "the survey period, e.g. 2026-Q4, 2026-11 or 2026")),
    score: str = typer.Option(..., "--score", help=SAT_HELP),
    comment: str = typer.Option(None, "--comment", help=tr("客户意见", "the tenant's comment")),
    date: str = typer.Option(None, "--date", help=tr("调查日期（默认今天）", "survey date (default: today)")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记满意度调查结果（记入客户资料补充） / record a survey answer (kept in the tenant's supplement)."""
    from wuye.desk import servicedesk

    tid, eid, commit = servicedesk.record_survey(open_store(ctx), tenant, period, score, comment, as_, date)
    typer.echo(f"{tid}/{eid}")
    say(tr("已登记 %s 的 %s 满意度调查（%s，提交 %s）",
           "recorded %s's answer to the %s survey (%s, commit %s)") % (tid, period, eid, (commit or "")[:10]))


@survey_app.command("list")
def survey_list(
    ctx: typer.Context,
    period: str = typer.Option(None, "--period", help=tr("只看落在此期间的调查", "only surveys within this period")),
    tenant: str = typer.Option(None, "--tenant", help=tr("只看一个租户", "one tenant only")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    reveal: bool = typer.Option(False, "--reveal", help=REVEAL_HELP),
    as_: str = typer.Option(None, "--as", help=REVEAL_AS_HELP),
):
    """列出满意度调查结果 / list survey answers."""
    from wuye.archive import privacy
    from wuye.desk import servicedesk

    store = open_store(ctx)
    who = privacy.identity(store, as_, "--reveal") if reveal else None
    rows = privacy.shown(servicedesk.survey_rows(store, period, tenant), reveal)
    if reveal:
        privacy.record_reveal(store.root, "survey list", tenant or "*", who)
    table([("tenant_id", tr("租户", "tenant")), ("period", tr("期间", "period")), ("score", tr("评分", "score")),
           ("comment", tr("意见", "comment")), ("date", tr("日期", "date")), ("entry", tr("条目", "entry"))], rows, as_json)
