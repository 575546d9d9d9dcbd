"""Reading and writing the store's YAML files.

Reads are strict and fast: ruamel.yaml's C loader (`ruamel.yaml.clib`) in safe mode, refusing what a
hand-edited archive must never contain: files over 1 MiB, text that is not UTF-8, anchors and aliases
(a "YAML bomb" expands them), explicit tags, duplicate keys. Every refusal is a `Problem` with the
file, line and column. Writes go through the round-trip dumper, so a clerk's comments and key order
survive the tool's edits. Pydantic errors are mapped back to the line of the offending key (as
dagster does), by re-reading the file with line information only when there is an error to place.

This module touches no files itself except through `read_text` (which opens them with storage/reading.py);
callers decide where bytes go.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Callable

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr

MAX_BYTES = 1024 * 1024

_safe = None
_rt = None


def _safe_yaml():
    global _safe
    if _safe is None:
        from ruamel.yaml import YAML

        _safe = YAML(typ="safe", pure=False)
        if "CParser" not in _safe.Parser.__name__:  # pragma: no cover - packaging guard
            raise RuntimeError("ruamel.yaml.clib (the C loader) is not installed")
    return _safe


def _rt_yaml():
    global _rt
    if _rt is None:
        from ruamel.yaml import YAML

        _rt = YAML(typ="rt")
        _rt.allow_unicode = True
        _rt.width = 4096  # never fold a long Chinese sentence across lines
        _rt.indent(mapping=2, sequence=4, offset=2)
        _rt.preserve_quotes = True
    return _rt


class YamlProblem(WuyeError):
    """A file that cannot be read as the store's YAML."""


def _refuse(rel: str, message: str, line: int | None = None, col: int | None = None, code: str = "yaml.syntax"):
    p = Problem(rel, message, line, col, code=code)
    raise YamlProblem(str(p), [p])


def read_text(path: Path, rel: str) -> str:
    """The file's text, refusing oversized and non-UTF-8 files with a located message, and a
    symbolic link or a non-regular file (storage/reading.py: never followed, never read)."""
    from wuye.storage.reading import read_path

    try:
        raw = read_path(path, rel, MAX_BYTES + 1)
    except FileNotFoundError:
        _refuse(rel, tr("文件不存在", "file does not exist"), code="file.unreadable")
    except IsADirectoryError:
        _refuse(rel, tr("这是一个目录，不是文件", "this is a directory, not a file"), code="file.unreadable")
    return text_of(raw, rel)


def text_of(raw: bytes, rel: str) -> str:
    """The text of a file's bytes, refused as `read_text` refuses a file."""
    if len(raw) > MAX_BYTES:
        _refuse(rel, tr("文件超过 1 MiB，不像是档案文件；请拆分或删除多余内容",
                        "file is over 1 MiB, which no archive file should be; split it or remove the excess"), code="file.unreadable")
    return decode(raw, rel)


def decode(raw: bytes, rel: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        _refuse(rel, tr("不是 UTF-8 编码的文本（第 %d 字节）；请用 UTF-8 保存",
                        "not UTF-8 text (byte %d); save the file as UTF-8") % e.start, line, col, code="file.unreadable")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        _refuse(rel, tr("文件含有空字符（二进制内容），不是 YAML 文本",
                        "file contains NUL bytes (binary content), not YAML text"), line, code="file.unreadable")
    return text


def _scan_forbidden(text: str, rel: str) -> None:
    """Refuse anchors, aliases and explicit tags, found by the C parser's events."""
    from ruamel.yaml.error import MarkedYAMLError

    try:
        for event in _safe_yaml().parse(io.StringIO(text)):
            anchor = getattr(event, "anchor", None)
            tag = getattr(event, "tag", None)
            mark = event.start_mark
            if anchor is not None:
                _refuse(rel, tr("不允许使用锚点或别名（&%s / *%s）；请把内容直接写出",
                                "anchors and aliases (&%s / *%s) are not allowed; write the value out") % (anchor, anchor),
                        mark.line + 1, mark.column + 1, code="yaml.forbidden")
            if tag is not None and tag != "!":
                _refuse(rel, tr("不允许使用标签 %s；请去掉它，若要文本请加引号",
                                "tags such as %s are not allowed; remove it (quote the value for text)") % tag,
                        mark.line + 1, mark.column + 1, code="yaml.forbidden")
    except MarkedYAMLError as e:
        _raise_marked(rel, e)


def _raise_marked(rel: str, e) -> None:
    mark = e.problem_mark or e.context_mark
    problem = (e.problem or e.context or "").strip()
    if "duplicate key" in str(e):
        problem = tr("重复的键：%s", "duplicate key: %s") % problem
        mark = e.problem_mark
    msg = tr("YAML 格式错误：%s", "invalid YAML: %s") % problem
    if mark is not None:
        _refuse(rel, msg, mark.line + 1, mark.column + 1)
    _refuse(rel, msg)


def loads(text: str, rel: str, build: Callable[[str], Any] | None = None) -> Any:
    """Parse YAML text with the C loader, refusing what the store forbids.

    The objects are built by `fastyaml.parse` (three times faster than ruamel's constructor, with
    the same result); `build` is for the tests, which pass `ruamel_load`, the reference it must
    agree with.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if build is None:
        from wuye.storage.fastyaml import parse as build

    # Anchors, aliases and tags need one of these characters; most files have none, so the
    # event scan (a second parse) is paid only where it can find something.
    try:
        if "&" in text or "*" in text or "!" in text:
            _scan_forbidden(text, rel)
        return build(text)
    except MarkedYAMLError as e:
        _raise_marked(rel, e)
    except YAMLError as e:  # errors without a position
        _refuse(rel, tr("YAML 格式错误：%s", "invalid YAML: %s") % e)
    except RecursionError:
        # `[[[[…]]]]` thousands deep: the composer recurses once per level. No archive file nests
        # more than a few levels, so this is junk (or an attack), refused like any bad file.
        _refuse(rel, tr("嵌套层数过多，不像是档案文件", "nested far too deeply to be an archive file"))


def read(path: Path, rel: str) -> Any:
    return loads(read_text(path, rel), rel)


def ruamel_load(text: str) -> Any:
    """ruamel.yaml's own safe C loader, objects built by its constructor."""
    return _safe_yaml().load(text)


# --- locating pydantic errors -------------------------------------------------------------


def locate(text: str, loc: tuple) -> tuple[int | None, int | None]:
    """The 1-based line and column of the value at `loc` (a pydantic error location)."""
    from ruamel.yaml.error import YAMLError

    if _flow_depth(text) > 100:
        # The pure-Python round-trip loader takes seconds to fail on [[[[…]]]] thousands deep
        # (the C loader reads it at once); no archive file nests like that, so skip the line.
        return None, None
    try:
        node = _rt_yaml().load(text)
    except (YAMLError, RecursionError):  # the safe loader accepted it; place the error without a line then
        return None, None
    line = col = None
    for key in loc:
        lc = getattr(node, "lc", None)
        if lc is None:
            break
        try:
            if isinstance(key, int) and isinstance(node, list) and key < len(node):
                line, col = lc.item(key)
                node = node[key]
            elif isinstance(key, str) and hasattr(node, "keys") and key in node:
                line, col = lc.key(key)
                node = node[key]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    if line is None:
        return None, None
    return line + 1, col + 1


def _flow_depth(text: str) -> int:
    """The deepest nesting of [ and { (quotes ignored: an over-estimate is harmless here)."""
    depth = deepest = 0
    for c in text:
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
    return deepest


def validation_problems(rel: str, text: str | None, error, prefix: tuple = ()) -> list[Problem]:
    """One located Problem for each error of a pydantic ValidationError."""
    problems = []
    for err in error.errors(include_url=False):
        loc = prefix + tuple(err["loc"])
        line, col = locate(text, loc) if text is not None else (None, None)
        where = ".".join(str(x) for x in loc) or tr("文件", "file")
        problems.append(Problem(rel, f"{where}: {describe(err)}", line, col, code="schema.invalid"))
    return problems


def check_model(model, data: Any, rel: str, text: str | None = None, *, context: dict | None = None,
                prefix: tuple = ()) -> tuple[Any, list[Problem]]:
    """`data` validated by `model`: (the instance, []) or (None, a Problem per error, located in
    `text` as file:line:col). The one way a record is checked against its model; pydantic is
    imported here, on first use, so that a caller's module stays light."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data, context=context), []
    except ValidationError as e:
        return None, validation_problems(rel, text, e, prefix)


def validated(model, data: Any, rel: str, text: str | None = None, *, context: dict | None = None,
              prefix: tuple = (), heading: str = "") -> Any:
    """`data` as `model` accepts it, or a WuyeError: `heading`, then each located problem a line."""
    obj, problems = check_model(model, data, rel, text, context=context, prefix=prefix)
    if problems:
        raise WuyeError(heading + "\n".join(str(p) for p in problems), problems)
    return obj


def describe(err: dict) -> str:
    """A pydantic error in the user's language."""
    kind = err["type"]
    msg = err["msg"]
    if kind == "missing":
        return tr("缺少必填项", "required field is missing")
    if kind == "extra_forbidden":
        return tr("未知字段（拼写错误？）", "unknown field (a typo?)")
    if kind == "string_type" and isinstance(err.get("input"), (int, float)):
        return tr("应为文本：请给 %r 加上引号，否则开头的 0 会丢失",
                  "must be text: put %r in quotes, or leading zeros are lost") % err["input"]
    if kind in ("value_error", "assertion_error"):
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "enum" or kind == "literal_error":
        return tr("取值无效：%s", "invalid value: %s") % msg
    return tr("取值无效：%s" % msg, msg)


# --- writing ------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Model data as YAML-ready values: money as strings, enums as values, dates kept as dates."""
    if isinstance(value, dict):
        out = {k: plain(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def literal(text: str):
    """A multi-line string written as a `|` block (signatures stay readable in the file)."""
    from ruamel.yaml.scalarstring import LiteralScalarString

    return LiteralScalarString(text)


def load_roundtrip(text: str):
    """Parse text keeping comments and order, for an edit that is written back."""
    return _rt_yaml().load(text)


def dumps(data: Any) -> str:
    buf = io.StringIO()
    _rt_yaml().dump(data, buf)
    return buf.getvalue()


def merge_into(target, updates: dict) -> None:
    """Update a round-trip mapping in place, keeping existing keys' order and comments."""
    for key, value in updates.items():
        target[key] = value
