"""`wuye unit`: the building's units by 房号 as written, and by floor."""

from __future__ import annotations

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import print_json, table

app = typer.Typer(no_args_is_help=True, help=tr("单元（房号）", "units (房号)"))
JSON_HELP = tr("输出 JSON", "print JSON")
STATUS = {"leased": ("在租", "leased"), "vacant": ("空置", "vacant")}
COLUMNS = [("unit", tr("房号", "unit")), ("floor", tr("楼层", "floor")), ("area", tr("面积", "area")),
           ("status_label", tr("房态", "status")), ("tenant", tr("租户", "tenant"))]


def _labelled(row: dict) -> dict:
    zh, en = STATUS.get(row["status"], (row["status"], row["status"]))
    return {**row, "status_label": tr(zh, en)}


@app.command("list")
def list_(
    ctx: typer.Context,
    floor: int = typer.Option(None, "--floor", help=tr("只列一层", "one floor only")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """列出单元 / list the units."""
    from wuye.archive import units

    rows = units.listing(open_store(ctx), floor)
    if as_json:
        print_json(rows)
        return
    table(COLUMNS, [_labelled(r) for r in rows], False)


@app.command("show")
def show(
    ctx: typer.Context,
    unit: str = typer.Argument(..., help=tr("房号，照办公室写法，如 A座801", "the 房号 as the office writes it, e.g. A座801")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """查看一个单元 / show one unit."""
    from wuye.archive import units

    row = units.find_unit(open_store(ctx), unit)
    if as_json:
        print_json(row)
        return
    row = _labelled(row)
    for key, header in COLUMNS:
        if row.get(key) is not None:
            typer.echo(f"{header}: {row[key]}")
