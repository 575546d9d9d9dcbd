"""Usage errors (an unknown option, a missing argument, a value of the wrong type) and the
help's own words (用法, 选项, 命令, 显示本帮助并退出) in the reader's language.

typer (0.29, which vendors its own click) writes them in English, the usage line and the hint
included: 「Error: No such option: --only (Possible options: --json)」 in an otherwise Chinese
interface. The root group (cli.WuyeGroup) catches every click usage error here and says it as the
rest of wuye says a refusal: one `错误：…` line, then the usage line and where help is, in Chinese
by default and in English with WUYE_LANG=en. The message is rebuilt from the exception's fields
(the option, the parameter, the possibilities), never by rewording click's English; a value that
pydantic refused (typer validates through it) is described as yamlio describes pydantic's errors.
Exit code 2, as documented.

The help's words come from click's HelpFormatter, which every command's context makes through
`formatter_class` (click's extension point for this): `HelpFormatter` below says them in Chinese,
`Context` carries it, and cli.WuyeGroup gives every command of the tree that context.

Relies on the attributes of typer._click's exceptions (option_name, possibilities, param,
param_type, ctx): pyproject pins the typer versions this was tested with.
"""

from __future__ import annotations

import re

from wuye.i18n import english, tr


def _param_name(param) -> str:
    """How the reader typed (or should type) a parameter: `--as`, or TENANT for an argument."""
    if param is None:
        return ""
    opts = [o for o in getattr(param, "opts", []) if o.startswith("-")]
    if opts:
        return " / ".join(opts)
    return getattr(param, "human_readable_name", None) or str(getattr(param, "name", ""))


def _choices(param) -> list[str]:
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and getattr(desc, "is_choice", False) and desc.choices:
        return [getattr(c, "value", c) for c in desc.choices]
    return []


def message(e) -> str:
    """The error itself, in the reader's language (without the 错误： prefix)."""
    from typer._click import exceptions as ex

    if isinstance(e, ex.NoSuchOption):
        text = tr("没有选项 %s", "no such option: %s") % e.option_name
        if e.possibilities:
            text += tr("；是不是：%s", "; did you mean: %s") % tr("、", ", ").join(sorted(e.possibilities))
        return text
    if isinstance(e, ex.MissingParameter):
        name = _param_name(e.param)
        kind = e.param_type or getattr(e.param, "param_type_name", "")
        text = (tr("缺少参数 %s", "missing argument %s") if kind == "argument" else tr("缺少选项 %s", "missing option %s")) % name
        choices = _choices(e.param)
        if choices:
            text += tr("；可选：%s", "; choose from: %s") % ", ".join(map(str, choices))
        return text
    if isinstance(e, ex.BadParameter):
        name = _param_name(e.param) if e.param is not None else ""
        why = _why(e)
        return (tr("%s 的值无效：%s", "invalid value for %s: %s") % (name, why)) if name else tr("值无效：%s", "invalid value: %s") % why
    if isinstance(e, ex.BadOptionUsage):
        m = re.fullmatch(r"Option '(.+)' requires (an argument|(\d+) arguments)\.", e.message)
        if m:
            n = m.group(3)
            return (tr("选项 %s 需要 %s 个值", "option %s needs %s values") % (e.option_name, n) if n
                    else tr("选项 %s 需要一个值", "option %s needs a value") % e.option_name)
        m = re.fullmatch(r"Option '(.+)' does not take a value\.", e.message)
        if m:
            return tr("选项 %s 不带值", "option %s takes no value") % e.option_name
    text = e.message
    m = re.fullmatch(r"No such command '(.*)'\.", text)
    if m:
        return tr("没有命令 %s", "no such command: %s") % m.group(1)
    m = re.fullmatch(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", text)
    if m:
        return tr("多余的参数：%s", "unexpected extra argument(s): %s") % m.group(1)
    if text == "Missing command.":
        return tr("缺少命令", "a command is missing")
    return text  # one click has not told us about: as click says it


def _why(e) -> str:
    """Why a value was refused: pydantic's error (typer validates through it) as wuye says it."""
    cause = e.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        try:
            first = errors(include_url=False)[0]
        except Exception:  # not pydantic's: its own words below
            first = None
        if first is not None:
            from wuye.storage.yamlio import describe

            return describe(first)
    choices = _choices(e.param)
    if choices:
        return tr("应为以下之一：%s", "must be one of: %s") % ", ".join(map(str, choices))
    return e.message


def usage_line(ctx) -> str:
    """`用法：wuye archive show [选项] TENANT [CATEGORY]`, and where the full help is."""
    usage = re.sub(r"^(Usage:|用法：)\s*", "", ctx.get_usage().strip())  # the formatter below wrote it
    usage = " ".join(usage.split())
    help_at = f"{ctx.command_path} {ctx.help_option_names[0]}" if ctx.help_option_names else ""
    return (tr("用法：%s", "usage: %s") % usage) + ((tr("（详见 %s）", " (see %s)") % help_at) if help_at else "")


def show(e) -> None:
    """Say a click usage error as wuye says a refusal."""
    from wuye.cli.output import say

    say(tr("错误：", "error: ") + message(e))
    if getattr(e, "ctx", None) is not None:
        say(usage_line(e.ctx))


# --- the help ------------------------------------------------------------------------------------

_HEADINGS = {"Options": "选项", "Arguments": "参数", "Commands": "命令"}
_EXTRAS = re.compile(r"\[(?:default: (?P<default>[^;\]]*)(?:; )?)?(?P<required>required)?\]$")


def _zh_usage(args: str) -> str:
    return args.replace("[OPTIONS]", "[选项]").replace("COMMAND [ARGS]...", "命令 [参数]...")


def _zh_help(text: str) -> str:
    """An option's help as typer writes it, with click's own words in Chinese."""
    text = text.replace("Show this message and exit.", "显示本帮助并退出。")

    def extras(m: re.Match) -> str:
        parts = ([f"默认：{m.group('default')}"] if m.group("default") is not None else []) + (["必填"] if m.group("required") else [])
        return f"[{'；'.join(parts)}]" if parts else m.group(0)

    return _EXTRAS.sub(extras, text)


def _formatter_class():
    from typer._click.formatting import HelpFormatter as Click

    class HelpFormatter(Click):
        """click's help, with click's words in Chinese unless WUYE_LANG=en."""

        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            if english():
                return super().write_usage(prog, args, prefix)
            return super().write_usage(prog, _zh_usage(args), "用法：" if prefix is None else prefix)

        def write_heading(self, heading: str) -> None:
            if english():
                return super().write_heading(heading)
            self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")

        def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
            if not english():
                rows = [(term, _zh_help(text)) for term, text in rows]
            return super().write_dl(rows, col_max, col_spacing)

    return HelpFormatter


def context_class():
    """A click Context whose help is written by the formatter above."""
    from typer._click import Context as Click

    return type("Context", (Click,), {"formatter_class": _formatter_class(),
                                      "__doc__": "click's context, its help in the reader's language."})
