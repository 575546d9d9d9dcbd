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


_root = typer.Typer(
    cls=WuyeGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help=tr("wuye（物业）：客户档案与迁出流程，基于 git 的审计记录。", "wuye (物业): tenant archives and move-outs, with git as the audit trail.")
    + "\n\n" + EXIT_CODES,
)


@_root.callback()
def root(
    ctx: typer.Context,
    store: str = typer.Option(None, "--store", help=tr("档案库路径（默认：WUYE_STORE，或向上查找 wuye.yaml）",
                                                      "the store's path (default: WUYE_STORE, else the nearest ancestor with wuye.yaml)")),
):
    ctx.obj = {"store": store}


# The module that registers each command of the root. `wuye NOUN …` mounts only NOUN's module:
# typer builds the click command of everything mounted on every run, and each module imports its
# own; `wuye`, `wuye --help` and a word not here mount them all (the root's help lists every
# command, a usage error suggests the nearest). tests/test_usage_errors.py checks this table
# against the whole tree.
MODULES = {
    "init": "misc", "log": "misc", "demo": "misc", "verify": "misc", "doctor": "misc", "migrate": "misc", "schema": "misc",
    "staff": "staff", "trust": "trust", "archive": "archive", "unit": "units", "moveout": "moveout", "parking": "parking",
    "complaint": "desk", "repair": "desk", "notice": "desk", "survey": "desk",
    "training": "registers", "improve": "registers", "inquiry": "inquiry",
    "report": "report", "todo": "todo", "print": "printing", "verify-print": "printing",
    "import": "transfer", "export": "transfer", "sync": "sync", "merge-driver": "sync", "remote": "sync",
}
_MOUNTED: set[str] = set()


def _mount(modules) -> None:
    import importlib

    for name in dict.fromkeys(MODULES.values()):  # in this order: the root's help lists them so
        if name not in modules or name in _MOUNTED:
            continue
        module = importlib.import_module(f"wuye.cli.{name}")
        if hasattr(module, "register"):  # commands of the root
            module.register(_root)
        elif name == "desk":
            for noun in ("complaint", "repair", "notice", "survey"):
                _root.add_typer(getattr(module, f"{noun}_app"), name=noun)
        elif name == "registers":
            _root.add_typer(module.training_app, name="training")
            _root.add_typer(module.improve_app, name="improve")
        else:  # one noun: its own sub-app
            _root.add_typer(module.app, name=next(k for k, v in MODULES.items() if v == name))
        _MOUNTED.add(name)


def _noun(argv: list[str]) -> str | None:
    """The command word of a command line: the first word that is not the root's --store (or its
    value); None when the line asks for the root's help or has no command."""
    words = iter(argv)
    for word in words:
        if word == "--store":
            next(words, None)
        elif not word.startswith("--store="):
            return None if word.startswith("-") else word
    return None


def __getattr__(name: str):
    if name == "app":  # the whole tree, for tests and tools that drive it in-process
        _mount(set(MODULES.values()))
        return _root
    raise AttributeError(name)


def main() -> None:
    import sys

    noun = _noun(sys.argv[1:])
    _mount([MODULES[noun]] if noun in MODULES else set(MODULES.values()))
    _root()
