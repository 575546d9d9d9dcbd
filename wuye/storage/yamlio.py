"""Reading and writing the store's YAML files.

Reads are strict and fast: ruamel.yaml's C loader (`ruamel.yaml.clib`) in safe mode, refusing what a
hand-edited archive must never contain: files over 1 MiB, text that is not UTF-8, control characters
and the NEL/LS/PS breaks YAML 1.2 does not count as line breaks, nesting deeper than `MAX_DEPTH`
(checked before the C parser runs: its composer recurses in C and overflows the C stack at some
30,000 levels), anchors and aliases (a "YAML bomb" expands them), tags, duplicate keys, keys that
are not text, and values ruamel cannot build (see `fastyaml`). `loads` is the one boundary: every
failure of parsing and building comes out of it as a `YamlProblem` whose one line is
`path:line:col: message`, the values in it shortened and escaped. Writes go through the round-trip dumper, so a clerk's comments and key order
survive the tool's edits; a file the C reader accepts but ruamel's pure-Python round-trip loader cannot
read (a trailing tab, a whitespace-only line in a block scalar) is written back from its plain
values, so what the reader accepts can always be written. Pydantic errors are mapped back to the line of the offending key (as
dagster does), by composing the file's nodes again only when there is an error to place.

This module touches no files itself except through `read_text` (which opens them with storage/reading.py);
callers decide where bytes go.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Callable

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr

MAX_BYTES = 1024 * 1024
# No archive file nests more than a handful of levels; a hundred leaves room for any hand edit.
MAX_DEPTH = 100

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
        # The store reads no anchors, so it writes none: a value met twice (one date object the
        # line reader shares between equal fields, a list a caller reuses) is written out twice.
        _rt.representer.ignore_aliases = lambda data: True
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
        line, col = _position(text, text.index("\x00"))
        _refuse(rel, tr("文件含有空字符（二进制内容），不是 YAML 文本",
                        "file contains NUL bytes (binary content), not YAML text"), line, col, code="file.unreadable")
    return text


def _position(text: str, i: int) -> tuple[int, int]:
    """The 1-based line and column of text[i], counting line breaks as the C parser does."""
    head = text[:i]
    line = head.count("\n") + head.count("\r") - head.count("\r\n") + 1
    start = max(head.rfind("\n"), head.rfind("\r")) + 1
    return line, i - start + 1


# Characters no YAML file of the store holds raw: C0 controls but tab, LF and CR; DEL; C1 (NEL
# among them); LS and PS; a BOM past the start; the noncharacters U+FFFE/U+FFFF; lone surrogates.
_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_BREAKS = {"\x85": "NEL", "\u2028": "LS", "\u2029": "PS"}


def _check_characters(text: str, rel: str) -> None:
    bad = _RAW_CONTROL.search(text)
    if bad is None:
        return
    c = bad.group()
    line, col = _position(text, bad.start())
    if c in _BREAKS:
        # YAML 1.1 (and ruamel) break the line here, YAML 1.2 does not: `note: a<NEL>date: x`
        # would be one field to one reader and two to another. Neither reading is safe to keep.
        _refuse(rel, tr("U+%04X（%s）在 YAML 1.2 中不是换行符，会被读成另一种意思；请换成普通换行",
                        "U+%04X (%s) is no line break in YAML 1.2 and reads differently elsewhere; use a plain newline")
                % (ord(c), _BREAKS[c]), line, col, code="yaml.forbidden")
    _refuse(rel, tr("文件含有控制字符 U+%04X；请删除它", "the file contains the control character U+%04X; remove it") % ord(c),
            line, col, code="yaml.forbidden")


# The leading indicators of a line: indentation, then `- `, `? ` and `: ` as in `- - - a`. A block
# collection starts at most at the end of its line's lead, and a nested one starts further right
# (or, for a sequence under a key, at the same column, once), so block nesting is at most twice
# the longest lead plus one. A line with no lead this long keeps the block depth under 80.
_LONG_LEAD = re.compile(r"^[ \t?:-]{39}", re.M)
_BRACKETS = re.compile(r"[\[\]{}]")
_FLOW_ALLOWANCE = 20


def _may_be_deep(text: str) -> bool:
    """Whether the text may nest deeper than MAX_DEPTH: an over-estimate in C-speed string scans,
    so that the exact count (an event scan) is paid only where one of them finds something."""
    opens = text.count("[") + text.count("{")
    if opens > _FLOW_ALLOWANCE:
        depth = deepest = 0  # brackets inside quotes count too: an over-estimate is harmless here
        for c in _BRACKETS.findall(text):
            depth += 1 if c in "[{" else -1
            deepest = max(deepest, depth)
        if deepest > _FLOW_ALLOWANCE:
            return True
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _LONG_LEAD.search(text) is not None


def _scan_events(text: str, rel: str) -> None:
    """Refuse anchors, aliases, tags and nesting past MAX_DEPTH, found by the C parser's events
    (its parser keeps its own stack: only the composer recurses, so this is safe at any depth)."""
    from ruamel.yaml.error import MarkedYAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    depth = 0
    try:
        for event in _safe_yaml().parse(io.StringIO(text)):
            mark = event.start_mark
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    _refuse(rel, tr("嵌套层数过多（超过 %d 层），不像是档案文件",
                                    "nested far too deeply (more than %d levels) to be an archive file") % MAX_DEPTH,
                            mark.line + 1, mark.column + 1, code="yaml.forbidden")
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
            anchor = getattr(event, "anchor", None)
            tag = getattr(event, "tag", None)
            if anchor is not None:
                _refuse(rel, tr("不允许使用锚点或别名（&%s / *%s）；请把内容直接写出",
                                "anchors and aliases (&%s / *%s) are not allowed; write the value out") % (shown(anchor), shown(anchor)),
                        mark.line + 1, mark.column + 1, code="yaml.forbidden")
            if tag is not None:
                # `!` too: ruamel resolves `! 12` to the number 12, where YAML makes it the text "12".
                _refuse(rel, tr("不允许使用标签 %s；请去掉它，若要文本请加引号",
                                "tags such as %s are not allowed; remove it (quote the value for text)") % shown(tag, 80),
                        mark.line + 1, mark.column + 1, code="yaml.forbidden")
    except MarkedYAMLError as e:
        _raise_marked(rel, e)


def _raise_marked(rel: str, e) -> None:
    mark = e.problem_mark or e.context_mark
    problem = (e.problem or e.context or "").strip()
    if "duplicate key" in str(e):
        problem = tr("重复的键：%s", "duplicate key: %s") % problem
        mark = e.problem_mark
    msg = tr("YAML 格式错误：%s", "invalid YAML: %s") % tr(_SYNTAX_ZH.get(problem, _one_line(problem)), _one_line(problem))
    if mark is not None:
        _refuse(rel, msg, mark.line + 1, mark.column + 1)
    _refuse(rel, msg)


# libyaml's messages (the C parser every reader uses) for the mistakes a clerk editing by hand
# makes, in Chinese; the rarer ones (directives, escapes in rare forms) stay as libyaml says them.
# Counted over the YAML test suite's invalid documents: these cover nine in ten.
_SYNTAX_ZH = {
    "could not find expected ':'": "缺少冒号（:）：每个字段写成「键: 值」",
    "did not find expected key": "此处应是一个键（检查缩进是否与上一行对齐）",
    "found character that cannot start any token": "此字符不能开始一个值（如 @、` 或制表符）；整段值请加引号",
    "did not find expected ',' or '}'": "花括号 { } 中缺少逗号或右花括号",
    "did not find expected ',' or ']'": "方括号 [ ] 中缺少逗号或右方括号",
    "did not find expected node content": "此处缺少值",
    "mapping values are not allowed in this context": "此处不能有冒号（:）；值里有冒号时请把整个值加引号",
    "found a tab character where an indentation space is expected": "缩进里有制表符：YAML 只能用空格缩进",
    "found a tab character that violates indentation": "缩进里有制表符：YAML 只能用空格缩进",
    "block sequence entries are not allowed in this context": "此处不能开始列表项（-）；检查缩进",
    "did not find expected comment or line break": "值后面多了内容；整段值请加引号",
    "did not find expected '-' indicator": "列表项应以「- 」开头（检查缩进）",
    "found unexpected ':'": "多余的冒号（:）；值里有冒号时请把整个值加引号",
    "found unexpected end of stream": "文件意外结束（引号或括号没有闭合？）",
    "found unknown escape character": "双引号内有不认识的转义（\\）；改用单引号或写成 \\\\",
    "found unexpected document indicator": "此处不能有 --- 或 ...（文件分隔符）",
    "but found another document": "一个文件只能有一份内容：请删去 --- 之后的部分",
    "did not find expected <document start>": "一个文件只能有一份内容：请删去多余的部分",
}


def _one_line(message: str) -> str:
    """ruamel's message on one line, its quoted values escaped."""
    return shown(" ".join(message.split()), 200)


def loads(text: str, rel: str, build: Callable[[str], Any] | None = None) -> Any:
    """Parse YAML text with the C loader, refusing what the store forbids: the one reading
    boundary, out of which every failure comes as a located `YamlProblem`.

    The objects are built by `fastyaml.parse` (three times faster than ruamel's constructor, with
    the same result where it accepts); `build` is for the tests, which pass `ruamel_load`, the
    reference it must agree with.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from wuye.storage import fastyaml

    if build is None:
        build = fastyaml.parse
    _check_characters(text, rel)
    try:
        # Anchors, aliases and tags need one of these characters and deep nesting a long lead or
        # many brackets; most files have none, so the event scan (a second parse) is paid only
        # where it can find something, and always before the composer could overflow.
        if "&" in text or "*" in text or "!" in text or _may_be_deep(text):
            _scan_events(text, rel)
        return build(text)
    except fastyaml.Refusal as e:
        _refuse(rel, e.message, e.line + 1, e.column + 1, code=e.code)
    except MarkedYAMLError as e:
        _raise_marked(rel, e)
    except YAMLError as e:  # errors without a position
        _refuse(rel, tr("YAML 格式错误：%s", "invalid YAML: %s") % _one_line(str(e)))
    except (ValueError, TypeError, OverflowError, NotImplementedError, RecursionError) as e:
        # Only ruamel's own constructor (the tests' reference) gets here: it raises these on the
        # values fastyaml refuses with their position.
        _refuse(rel, tr("无法读取的值：%s", "a value that cannot be read: %s") % _one_line(str(e)), code="yaml.value")


def shown(value: str, limit: int = 40) -> str:
    from wuye.storage.fastyaml import shown as _shown

    return _shown(value, limit)


def read(path: Path, rel: str) -> Any:
    return loads(read_text(path, rel), rel)


def ruamel_load(text: str) -> Any:
    """ruamel.yaml's own safe C loader, objects built by its constructor."""
    return _safe_yaml().load(text)


# --- locating pydantic errors -------------------------------------------------------------


def locate(text: str, loc: tuple) -> tuple[int | None, int | None]:
    """The 1-based line and column of the value at `loc` (a pydantic error location): of the key
    for a mapping's entry, of the item for a list's. The nodes come from the C parser, so any
    text the reader accepts can be placed."""
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    from wuye.storage import fastyaml

    if _RAW_CONTROL.search(text) or _may_be_deep(text):
        return None, None  # the reader refused it (or would count its depth first): no line to give
    try:
        node = fastyaml.compose(text)
    except YAMLError:
        return None, None
    mark = None
    for key in loc:
        if isinstance(node, SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
            mark = node.start_mark
        elif isinstance(node, MappingNode) and isinstance(key, str):
            for k, v in node.value:
                if isinstance(k, ScalarNode) and k.value == key:
                    mark, node = k.start_mark, v
                    break
            else:
                break
        else:
            break
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


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
        expected = (err.get("ctx") or {}).get("expected")
        return tr("应为以下之一：%s" % expected if expected else "取值无效：%s" % msg, "invalid value: %s" % msg)
    zh = _ZH.get(kind)
    if zh is not None:
        try:
            return tr(zh.format(**(err.get("ctx") or {})), msg)
        except (KeyError, IndexError, ValueError):
            pass
    return tr("取值无效：%s" % msg, msg)


# pydantic's error types (pydantic_core's ErrorType) a clerk meets, in Chinese; the English is
# pydantic's own message. `{…}` are the error's ctx fields.
_ZH = {
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float", "int_parsing_size"), "应为整数"),
    **dict.fromkeys(("float_parsing", "float_type", "decimal_parsing", "decimal_type", "finite_number"), "应为数字"),
    "decimal_max_places": "最多 {decimal_places} 位小数",
    "decimal_max_digits": "最多 {max_digits} 位数字",
    "decimal_whole_digits": "整数部分最多 {whole_digits} 位",
    **dict.fromkeys(("bool_parsing", "bool_type"), "应为是或否（true / false）"),
    **dict.fromkeys(("date_parsing", "date_from_datetime_parsing", "date_type", "date_from_datetime_inexact"),
                    "应为日期，如 2026-12-31"),
    **dict.fromkeys(("datetime_parsing", "datetime_type", "datetime_from_date_parsing", "datetime_object_invalid"),
                    "应为时间，如 2026-12-31T09:30"),
    **dict.fromkeys(("time_parsing", "time_type"), "应为时刻，如 09:30"),
    "string_type": "应为文本",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符（应匹配 {pattern}）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    **dict.fromkeys(("list_type", "tuple_type", "set_type"), "应为列表"),
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), "应为映射（键: 值）"),
}


# --- writing ------------------------------------------------------------------------------


_AS_IS = frozenset((str, int, bool, float, type(None), dt.date))  # exactly these types: an enum of str is not a str


def plain(value: Any) -> Any:
    """Model data as YAML-ready values: money as strings, enums as values, dates kept as dates."""
    if type(value) in _AS_IS:  # most values: an import makes six million of them
        return value
    if isinstance(value, dict):
        return {k: v for k, v0 in value.items() if (v := plain(v0)) is not None and v != [] and v != {}}
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


def load_roundtrip(text: str, rel: str = "<input>"):
    """Parse text keeping comments and order, for an edit that is written back.

    ruamel's round-trip loader is pure Python and stricter than the C reader: it refuses a
    trailing tab, a tab after a colon, a whitespace-only first line in a block scalar, a tab in a
    `%YAML` directive (14 valid cases of the YAML test suite), and raises NotImplementedError on a
    comment line between a key and its value. A file the reader accepts is then written back from
    its plain values (its comments lost, its content kept) rather than refused; a file the reader
    refuses is refused as the reader refuses it, located."""
    from ruamel.yaml.error import YAMLError

    if _RAW_CONTROL.search(text) or _may_be_deep(text):
        loads(text, rel)  # before the pure-Python loader spends seconds (or its stack) on it
    try:
        return _rt_yaml().load(text)
    except (YAMLError, NotImplementedError):
        return loads(text, rel)


def dumps(data: Any) -> str:
    """YAML text for `data` that the reader reads back to the same values.

    ruamel's round-trip dumper keeps comments and styles, and with them writes a few shapes it
    cannot read back (a comment between an explicit key and its value, a top-level folded scalar
    with a tab or a leading blank line: cases of the YAML test suite). Each write is read back
    by the C reader, cheap next to the write itself; one that does not read back the same is
    written again from its plain values, and a value that cannot be written at all (a control
    character in a text) is refused rather than stored unreadable."""
    text = _dump(data)
    expected = _plain_of(data)
    problem = _reads_back(text, expected)
    if problem is not None:
        text = _dump(expected)
        problem = _reads_back(text, expected)
        if problem is not None:
            p = Problem("", tr("无法写成能原样读回的 YAML：%s", "cannot be written as YAML that reads back the same: %s") % problem,
                        code="yaml.value")
            raise WuyeError(p.message, [p])
    return text


def _dump(data: Any) -> str:
    buf = io.StringIO()
    _rt_yaml().dump(data, buf)
    return buf.getvalue()


def _plain_of(value: Any) -> Any:
    """Round-trip data (CommentedMap, ScalarString, ScalarFloat …) as plain Python values."""
    if isinstance(value, dict):
        return {_plain_of(k): _plain_of(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_of(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, dt.datetime):
        return dt.datetime.fromisoformat(value.isoformat())
    return value


def _reads_back(text: str, expected: Any) -> str | None:
    """None when the reader reads `text` as `expected`, else what went wrong."""
    try:
        value = loads(text, "<written>")
    except WuyeError as e:
        return str(e)
    return None if _same(value, expected) else tr("读回的值不同", "it reads back as another value")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # NaN
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def merge_into(target, updates: dict) -> None:
    """Update a round-trip mapping in place, keeping existing keys' order and comments."""
    for key, value in updates.items():
        target[key] = value
