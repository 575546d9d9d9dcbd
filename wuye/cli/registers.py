"""`wuye training` and `wuye improve`: the office's registers that belong to no tenant, staff
training (培训与发展) and improvement actions (评价与改进). Each command calls one function of
`desk.training` or `desk.improvements` and renders the result: ids on stdout, what was done on
stderr. Who is due for training is `wuye report training`; what waits on a person, `wuye todo`.
"""

from __future__ import annotations

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import print_json, say, table

AS_HELP = tr("操作员工编号（默认 WUYE_USER）", "the acting staff id (default: WUYE_USER)")
JSON_HELP = tr("输出 JSON", "print JSON")

training_app = typer.Typer(no_args_is_help=True, help=tr(
    "员工培训记录：课程、日期、学时、讲师、考核（由管理层登记）；谁待培训见 `wuye report training`",
    "staff training records: course, date, hours, trainer, assessment (recorded by management); "
    "who is due: `wuye report training`"))
improve_app = typer.Typer(no_args_is_help=True, help=tr(
    "改进措施：针对低分或投诉登记要做什么、谁负责、何时完成，完成后登记结果，由管理层验证",
    "improvement actions for low scores and complaints: what, who, by when; the result once done; "
    "verified by management"))


def _commit(commit: str | None) -> str:
    return (commit or "")[:10]


@training_app.command("add")
def training_add(
    ctx: typer.Context,
    staff: str = typer.Argument(..., help=tr("受训员工编号", "the trained staff member's id")),
    course: str = typer.Option(..., "--course", help=tr("课程名称", "the course")),
    date: str = typer.Option(..., "--date", help=tr("培训日期，如 2026-03-10", "the day of the training, e.g. 2026-03-10")),
    hours: str = typer.Option(..., "--hours", help=tr("学时（小时），如 1.5", "hours, e.g. 1.5")),
    trainer: str = typer.Option(..., "--trainer", help=tr("讲师或培训机构", "the trainer or training body")),
    assessment: str = typer.Option(..., "--assessment", help=tr("考核结果：pass（合格）或 fail（不合格）", "the assessment: pass or fail")),
    score: str = typer.Option(None, "--score", help=tr("考核成绩 0–100（可选）", "the score, 0–100 (optional)")),
    certificate: str = typer.Option(None, "--certificate", help=tr("证书编号（可选）", "certificate number (optional)")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记一次培训（管理层；一个提交），输出记录编号 / record a course attended (management; one commit)."""
    from wuye.desk import training

    r = training.add(open_store(ctx), staff, course, date, hours, trainer, assessment, as_, score, certificate)
    typer.echo(f"{r.staff_id}/{r.entry_id}")
    say(tr("已登记 %s 的培训 %s（%s 学时，提交 %s）" % (r.staff_id, r.entry_id, r.entry["hours"], _commit(r.commit)),
           "recorded training %s for %s (%s h, commit %s)" % (r.entry_id, r.staff_id, r.entry["hours"], _commit(r.commit))))


@training_app.command("list")
def training_list(
    ctx: typer.Context,
    staff: str = typer.Argument(None, help=tr("只看一位员工", "one staff member only")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    reveal: bool = typer.Option(False, "--reveal", help=tr("显示讲师全名（须 --as，记入本机访问日志）",
                                                         "show trainers' names unmasked (needs --as; logged locally)")),
    as_: str = typer.Option(None, "--as", help=tr("谁在查看（--reveal 必需）", "who is looking (needed by --reveal)")),
):
    """列出培训记录 / list training records."""
    from wuye.archive import privacy
    from wuye.desk import training

    store = open_store(ctx)
    who = privacy.identity(store, as_, "--reveal") if reveal else None
    rows, problems = training.listing(store, staff)
    rows = privacy.shown(rows, reveal)
    if reveal:
        privacy.record_reveal(store.root, "training list", staff or "*", who)
    for p in problems:
        say(str(p))
    table([("staff", tr("员工", "staff")), ("id", tr("编号", "id")), ("date", tr("日期", "date")), ("course", tr("课程", "course")),
           ("hours", tr("学时", "hours")), ("trainer", tr("讲师", "trainer")), ("assessment_label", tr("考核", "assessment")),
           ("score", tr("成绩", "score")), ("certificate", tr("证书", "certificate"))], rows, as_json)


@improve_app.command("open")
def improve_open(
    ctx: typer.Context,
    for_: str = typer.Option(..., "--for", help=tr("针对的低分或投诉，如 TS-2026-0003、BX-2026-0007、T0006/SUP-0002",
                                                   "the low score or complaint, e.g. TS-2026-0003, BX-2026-0007, T0006/SUP-0002")),
    action: str = typer.Option(..., "--action", help=tr("将要做什么", "what will be done")),
    owner: str = typer.Option(..., "--owner", help=tr("负责人员工编号", "the owner's staff id")),
    due: str = typer.Option(..., "--due", help=tr("完成期限，如 2026-12-31", "due date, e.g. 2026-12-31")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记改进措施（客服部或管理层；一个提交），输出编号 / open an improvement action; prints its id."""
    from wuye.desk import improvements

    r = improvements.open_action(open_store(ctx), for_, action, owner, due, as_)
    typer.echo(r.id)
    say(tr("已登记改进措施 %s（针对 %s，负责人 %s，期限 %s，提交 %s）", "opened %s for %s (owner %s, due %s, commit %s)")
        % (r.id, r.entry["ref"], r.entry["owner"], r.entry["due"], _commit(r.commit)))


def _moved(r) -> None:
    from wuye.desk.improvements import status_label

    say(tr("改进措施 %s：%s（提交 %s）", "action %s: %s (commit %s)") % (r.id, status_label(r.status), _commit(r.commit)))


@improve_app.command("done")
def improve_done(
    ctx: typer.Context,
    action_id: str = typer.Argument(..., help=tr("改进措施编号，如 IMP-2026-0001", "the action's id, e.g. IMP-2026-0001")),
    result: str = typer.Option(..., "--result", help=tr("做了什么、效果如何", "what was done and what came of it")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记措施完成及结果（负责人或管理层） / mark an action done, with its result (owner or management)."""
    from wuye.desk import improvements

    _moved(improvements.done(open_store(ctx), action_id, result, as_))


@improve_app.command("verify")
def improve_verify(
    ctx: typer.Context,
    action_id: str = typer.Argument(..., help=tr("改进措施编号", "the action's id")),
    result: str = typer.Option(..., "--result", help=tr("验证意见", "the verification's finding")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """验证措施的结果（管理层，非登记完成者）：闭环 / verify the result (management, not who marked it done)."""
    from wuye.desk import improvements

    _moved(improvements.verify(open_store(ctx), action_id, result, as_))


@improve_app.command("list")
def improve_list(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help=tr("只看未完成的", "only actions not yet done")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """列出改进措施 / list improvement actions."""
    from wuye.desk import improvements

    rows, problems = improvements.listing(open_store(ctx), open_only)
    for p in problems:
        say(str(p))
    if as_json:
        print_json(rows)
        return
    for r in rows:
        r["overdue_label"] = tr("超时", "overdue") if r["overdue"] else ""
    table([("id", tr("编号", "id")), ("ref", tr("针对", "for")), ("source_label", tr("来源", "source")),
           ("owner", tr("负责人", "owner")), ("due", tr("期限", "due")), ("status_label", tr("状态", "state")),
           ("overdue_label", tr("超时", "overdue")), ("action", tr("措施", "action")), ("result", tr("结果", "result"))], rows, False)
