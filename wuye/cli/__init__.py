"""The command line: a thin layer that parses arguments, calls one service, renders the result.

`wuye [--store PATH] COMMAND`. Each noun is a sub-app in its own module; a command function
imports its service lazily, so `wuye archive show` loads no git, crypto or xlsx code. Refusals
(`WuyeError`) become a message on stderr and exit code 1 here, and only here.

Exit codes: 0 done; 1 refused (invalid input, a guard not met, verification failed, not found);
2 usage error.

May import: every package of wuye; nothing imports it but `wuye.__main__`.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from wuye.errors import WuyeError
from wuye.i18n import tr

EXIT_CODES = tr(
    "退出码：0 完成；1 拒绝（输入无效、条件不满足、校验失败、找不到）；2 用法错误。",
    "Exit codes: 0 done; 1 refused (invalid input, a guard not met, verification failed, not found); 2 usage error.",
)


class WuyeGroup(TyperGroup):
    """The root group: turns a refusal anywhere below it into a message and exit code 1, and a
    usage error into a message in the reader's language and exit code 2 (cli/usage.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from wuye.cli import usage

        # Every command below, down the tree, writes its help in the reader's language.
        context = usage.context_class()
        todo = [self]
        while todo:
            cmd = todo.pop()
            cmd.context_class = context
            todo += list(getattr(cmd, "commands", {}).values())

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        import sys

        from typer._click.exceptions import NoArgsIsHelpError, UsageError

        try:
            # Not standalone: click's own (English) printing of a usage error is skipped, and the
            # exit code of a command comes back instead of a SystemExit.
            # Named as the reader types it, whether run as `python -m wuye` or by a test runner.
            kwargs["prog_name"] = "wuye"
            code = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as e:  # `wuye archive` alone: its help, on stderr, exit 2
            if not standalone_mode:
                raise
            e.show()
            sys.exit(e.exit_code)
        except UsageError as e:
            if not standalone_mode:
                raise
            from wuye.cli import usage

            usage.show(e)
            sys.exit(e.exit_code)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except WuyeError as e:
            from wuye.cli.output import say

            say(tr("错误：", "error: ") + str(e))
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=WuyeGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help=tr("wuye（物业）：客户档案与迁出流程，基于 git 的审计记录。", "wuye (物业): tenant archives and move-outs, with git as the audit trail.")
    + "\n\n" + EXIT_CODES,
)


@app.callback()
def root(
    ctx: typer.Context,
    store: str = typer.Option(None, "--store", help=tr("档案库路径（默认：WUYE_STORE，或向上查找 wuye.yaml）",
                                                      "the store's path (default: WUYE_STORE, else the nearest ancestor with wuye.yaml)")),
):
    ctx.obj = {"store": store}


def _mount() -> None:
    from wuye.cli import (archive, desk, inquiry, misc, moveout, parking, printing, registers, report, staff, sync, todo,
                          transfer, trust, units)

    misc.register(app)
    app.add_typer(staff.app, name="staff")
    app.add_typer(trust.app, name="trust")
    app.add_typer(archive.app, name="archive")
    app.add_typer(units.app, name="unit")
    app.add_typer(moveout.app, name="moveout")
    app.add_typer(parking.app, name="parking")
    app.add_typer(desk.complaint_app, name="complaint")
    app.add_typer(desk.repair_app, name="repair")
    app.add_typer(desk.notice_app, name="notice")
    app.add_typer(desk.survey_app, name="survey")
    app.add_typer(registers.training_app, name="training")
    app.add_typer(registers.improve_app, name="improve")
    app.add_typer(inquiry.app, name="inquiry")
    report.register(app)
    todo.register(app)
    printing.register(app)
    transfer.register(app)
    sync.register(app)


_mount()


def main() -> None:
    app()
