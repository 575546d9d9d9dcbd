"""`wuye parking`: parking leases (车位租约) ended outside a move-out."""

from __future__ import annotations

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import say

app = typer.Typer(no_args_is_help=True, help=tr("车位租约", "parking leases"))


@app.command("end")
def end(
    ctx: typer.Context,
    tenant: str = typer.Argument(..., help=tr("客户编号、房号、公司名称的一部分或拼音首字母", "tenant id, unit, part of the company name, or pinyin initials")),
    space: str = typer.Argument(..., help=tr("车位编号，如 B2-017", "the parking space, e.g. B2-017")),
    date: str = typer.Option(..., "--date", help=tr("退租日期 YYYY-MM-DD；结算按此日折算车位费", "the day it ends, YYYY-MM-DD; the settlement prorates the space's fee to it")),
    as_: str = typer.Option(None, "--as", help=tr("办理员工编号（租售部或管理层；默认 WUYE_USER）", "the acting staff id (leasing or management; default: WUYE_USER)")),
):
    """车位退租（不随迁出） / end a parking lease outside a move-out."""
    from wuye.archive import parking

    result = parking.end(open_store(ctx), tenant, space, date, as_)
    say(tr("车位 %s 已退租（%s，%s），提交 %s", "parking space %s ended (%s, %s), commit %s")
        % (result.space, result.tenant_id, result.ended_on.isoformat(), (result.commit or "")[:10]))
