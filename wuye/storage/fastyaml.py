"""The objects of the store's YAML built about three times faster than ruamel's constructor
builds them, with the very same result: the builder behind `yamlio.loads`.

ruamel.yaml's "safe" C loader parses in C but builds the objects in Python, slowly: it makes a new
loader class on every call, looks up the YAML version for every scalar it resolves, and wraps every
node in generators and tag objects. Whole-store work (`wuye verify`, `archive check`, the search
index) reads 120,000 files, and a move-out board a dozen, so this module builds the objects itself
from the nodes ruamel's C parser composes:

- the loader class is made once; its resolver uses ruamel's own YAML 1.2 implicit resolvers (the
  same regular expressions, in the same order), looked up once instead of per scalar. ruamel's C
  path ignores `%YAML` directives and always resolves as 1.2, and so does this one;
- plain strings, mappings and sequences are built directly; every other scalar (null, bool, int,
  float, timestamp) is built by ruamel's own `SafeConstructor` method for it;
- every value is built here, and every value this module cannot build is refused at its node's
  position (`Refusal`): a duplicate key, a key that is not text (`[a, b]: c`, `2024-01-01: x`: no
  store file has one, and they crash whatever prints or hashes them), a merge key `<<`, an escaped
  control character in a double-quoted text (`"\\e[2J"` would reach the terminal), a number longer
  than `MAX_NUMBER` characters, and a date, time or number ruamel's constructor raises on
  (`2024-02-30`, `0x_`). ruamel's own constructor (`yamlio.ruamel_load`, the tests' reference)
  would raise `ValueError`/`TypeError` without a position on most of these.

The refusals around the parse (over 1 MiB, not UTF-8, control characters in the text, nesting,
anchors, aliases and tags) and the error messages are `yamlio.loads`'s. tests/test_cache.py checks
that this builder and ruamel's own constructor agree on the sample store, on generated documents
and on the corner cases; tests/test_yaml_suite.py runs the YAML test suite through both. This
module touches no files.
"""

from __future__ import annotations

import re
from typing import Any

from wuye.i18n import tr

_LOADER = None

# Longer than any amount, count or date a record holds; Python refuses integers past 4,300 digits
# with a ValueError of its own, and a 1 MiB float is no number anyone typed.
MAX_NUMBER = 40

# What a stored text may not hold: C0 controls but tab and newline, DEL and C1 (ESC starts a
# terminal escape sequence, `\e]0;…\a` retitles the window).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Refusal(Exception):
    """A value the store refuses: the message and the 0-based mark of its node."""

    def __init__(self, message: str, mark, code: str = "yaml.value"):
        super().__init__(message)
        self.message = message
        self.code = code
        self.line = mark.line
        self.column = mark.column


def shown(value: str, limit: int = 40) -> str:
    """A value inside a one-line message: control characters, newlines and rich markup brackets
    escaped as Python does (`\x1b`, `\n`), cut to `limit` characters."""
    out = "".join(c if c.isprintable() and c != "\\" else c.encode("unicode_escape").decode("ascii") for c in value)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _loader_class():
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    from _ruamel_yaml import CParser
    from ruamel.yaml.constructor import SafeConstructor
    from ruamel.yaml.nodes import ScalarNode, SequenceNode
    from ruamel.yaml.resolver import VersionedResolver, implicit_resolvers
    from ruamel.yaml.tag import Tag

    table: dict[str, list] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            t = Tag(suffix=tag)
            for ch in first or [None]:
                table.setdefault(ch, []).append((t, regexp.match, tag))
    anywhere = table.pop(None, [])
    first_char = {ch: [(t, m) for t, m, _ in rs + anywhere] for ch, rs in table.items()}
    none_first = [(t, m) for t, m, _ in anywhere]
    str_tag, seq_tag, map_tag = (Tag(suffix=f"tag:yaml.org,2002:{k}") for k in ("str", "seq", "map"))
    scalars = {}
    kinds = {}
    for rs in table.values():
        for t, _, tag in rs:
            kind = tag.rsplit(":", 1)[1]
            kinds[id(t)] = kind
            if kind in ("null", "bool", "int", "float", "timestamp"):
                scalars[id(t)] = SafeConstructor.yaml_constructors[tag]

    def text(node, is_key):
        # Raw control characters never get here (yamlio refuses them with the text); only the
        # escapes of a double-quoted scalar ("\e", "\0", "\x9b") can make one.
        bad = CONTROL.search(node.value) if node.style == '"' else None
        if bad is not None:
            raise Refusal(tr("%s含有控制字符 U+%04X（\"%s\"）；存档文本不能含控制字符，请删除它",
                             "%s holds the control character U+%04X (\"%s\"); stored text cannot hold control characters, remove it")
                          % (tr("键", "the key ") if is_key else tr("文本", "the text "), ord(bad.group()), shown(node.value)),
                          node.start_mark)
        return node.value

    class Loader(CParser, SafeConstructor, VersionedResolver):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            self._parser = self._composer = self
            SafeConstructor.__init__(self, loader=self)
            self.allow_duplicate_keys = False
            VersionedResolver.__init__(self, version=None, loadumper=self)

        # There are no path resolvers in a safe loader: nothing to track while composing.
        def descend_resolver(self, current_node, current_index):
            pass

        def ascend_resolver(self):
            pass

        def resolve(self, kind, value, implicit):
            # VersionedResolver.resolve for YAML 1.2, with its table looked up once.
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, match in first_char.get(value[0], none_first) if value else first_char.get("", none_first):
                        if match(value):
                            return tag
                return str_tag
            return seq_tag if kind is SequenceNode else map_tag

        def build(self, node):
            t = node.ctag
            if t is str_tag:
                return text(node, False)
            if t is map_tag:
                out = {}
                for k, v in node.value:
                    if k.ctag is not str_tag:
                        if kinds.get(id(k.ctag)) == "merge":
                            raise Refusal(tr("不允许使用合并键 <<；请把内容直接写出（若是文本请加引号）",
                                             "merge keys (<<) are not allowed; write the entries out (quote it for text)"),
                                          k.start_mark)
                        shape = shown(k.value) if isinstance(k, ScalarNode) else tr("列表或映射", "a list or mapping")
                        raise Refusal(tr("键应为文本，这里是 %s；请给键加上引号", "a key must be text, not %s; put the key in quotes")
                                      % shape, k.start_mark)
                    key = text(k, True)
                    if key in out:
                        raise Refusal(tr("YAML 格式错误：重复的键：%s", "invalid YAML: duplicate key: %s") % shown(key), k.start_mark, "yaml.syntax")
                    out[key] = self.build(v)
                return out
            if t is seq_tag:
                return [self.build(v) for v in node.value]
            construct = scalars.get(id(t))
            if construct is None:  # `=`, which ruamel resolves to a "value" it cannot build
                raise Refusal(tr("无法读取的值：%s；若是文本请加引号", "a value that cannot be read: %s; quote it if it is text")
                              % shown(str(node.value)), node.start_mark)
            kind = kinds[id(t)]
            if kind in ("int", "float") and len(node.value) > MAX_NUMBER:
                raise Refusal(tr("数字超过 %d 位（%s）；若是文本请加引号", "a number of more than %d characters (%s); quote it if it is text")
                              % (MAX_NUMBER, shown(node.value)), node.start_mark)
            try:
                return construct(self, node)
            except (ValueError, OverflowError, TypeError):
                # ruamel's constructors raise these on 2024-02-30, 24:00:00, 0x_ and the like.
                what = tr("日期或时间", "date or time") if kind == "timestamp" else tr("数字", "number")
                raise Refusal(tr("无效的%s：%s；若是文本请加引号", "an invalid %s: %s; quote it if it is text")
                              % (what, shown(node.value)), node.start_mark) from None

    _LOADER = Loader
    Loader.plain = (first_char, none_first, str_tag, scalars, kinds, ScalarNode)
    return Loader


def compose(text: str):
    """The node tree of a YAML document as ruamel's C parser composes it (every node has its
    start_mark), or None for an empty one. The caller limits the nesting first."""
    loader = _loader_class()(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def parse(text: str) -> Any:
    """The objects of a YAML document, as ruamel's safe C loader builds them, or a `Refusal`
    (`yamlio.loads` wraps this with the store's refusals and its error messages)."""
    got = _block(text)
    if got is not _OTHER:
        return got
    loader = _loader_class()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return loader.build(node)
    finally:
        loader.dispose()


# --- the store's own layout, read line by line -------------------------------------------------------
#
# Nearly every store file is what yamlio's writer makes of a record: a block mapping of plain keys,
# block sequences of mappings, and values each on their key's line, plain or single-quoted. Such a
# file is read here a line at a time, without the C parser's node objects (a third of the time of a
# cold `wuye verify` went into making and walking them), each value resolved and built as `build`
# above builds it (the same resolver table, ruamel's own constructors). Anything else -- a tab, a
# carriage return, a double quote, a flow collection other than `[]` and `{}`, a block scalar, a
# comment after a value, a value running onto the next line, a key that is not a plain word, a
# duplicate key, an indentation that is not exactly one of the open levels, a number or date the
# constructors refuse -- is not read here at all: the whole text goes to the C parser as before, so
# every refusal and its position stay the C parser's. tests/test_cache.py checks that both readers
# agree wherever this one reads a document, and that it does read the store's files.

_OTHER = object()  # "not in the store's layout: parse it the general way"
# Deeper than any record nests (and than yamlio's depth limit lets through): the C parser's path,
# whose event scan refuses deep nesting with its position, takes it; the line reader never recurses
# more than a few dozen levels.
_MAX_INDENT = 64
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?: ([^ ].*))?")
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")  # line breaks to the C parser (yamlio refuses them first)
_PLAIN_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@`")


# What plain values and keys were read as, by their text, for this process: the same names, dates
# and kinds recur in thousands of files. Each holds only immutable results (text, numbers, dates,
# true/false, null), so sharing one object between documents is safe. Short values only (a date,
# a kind, a staff id), and a bounded number of them: a worker reading 60,000 files keeps a few MB.
_MEMO_MAX = 50_000
_MEMO_LEN = 24
_PLAIN: dict[str, Any] = {}
_TEXT_KEYS: set[str] = set()


class _NotPlain(Exception):
    pass


def _block(text: str) -> Any:
    """The document's objects if it is in the store's own layout, else `_OTHER`."""
    if "\t" in text or "\r" in text or '"' in text or _OTHER_BREAKS.search(text) is not None:
        return _OTHER
    lines = []
    for line in text.split("\n"):
        rest = line.lstrip(" ")
        if not rest or rest[0] == "#":
            if rest and line[-1] == " ":  # a comment's trailing spaces are nothing, but rare: leave it
                return _OTHER
            continue
        indent = len(line) - len(rest)
        if line[-1] == " " or indent > _MAX_INDENT:
            return _OTHER
        lines.append((indent, rest))
    if not lines or lines[0][0] != 0:
        return _OTHER
    tables = getattr(_loader_class(), "plain")
    reader = _Lines(lines, tables)
    try:
        value = reader.node(0, 0)
    except _NotPlain:
        return _OTHER
    return value if reader.i == len(lines) else _OTHER


class _Lines:
    def __init__(self, lines: list, tables):
        self.lines = lines
        self.i = 0
        self.first_char, self.none_first, self.str_tag, self.scalars, self.kinds, self.node_class = tables
        self.constructor = None

    def node(self, i: int, indent: int) -> Any:
        """The collection that starts at line i (indented `indent`); self.i is left after it."""
        rest = self.lines[i][1]
        if rest[:2] == "- ":
            return self.sequence(i, indent)
        return self.mapping(i, indent, rest)

    def mapping(self, i: int, indent: int, first: str) -> dict:
        lines, n = self.lines, len(self.lines)
        out: dict = {}
        rest = first
        while True:
            m = _KEY_LINE.fullmatch(rest)
            if m is None:
                raise _NotPlain
            key, value = m.groups()
            if key in out or (key not in _TEXT_KEYS and not self.text_key(key)):
                raise _NotPlain
            i += 1
            if value is not None:
                out[key] = self.scalar(value)
                if i < n and lines[i][0] > indent:  # the value runs on, or a stray line
                    raise _NotPlain
            elif i < n and (lines[i][0] > indent or (lines[i][0] == indent and lines[i][1][:2] == "- ")):
                out[key] = self.node(i, lines[i][0])
                i = self.i
            else:
                out[key] = None
            if i >= n or lines[i][0] != indent:
                if i < n and lines[i][0] > indent:
                    raise _NotPlain
                self.i = i
                return out
            rest = lines[i][1]

    def sequence(self, i: int, indent: int) -> list:
        lines, n = self.lines, len(self.lines)
        out: list = []
        while i < n and lines[i][0] == indent and lines[i][1][:2] == "- ":
            item = lines[i][1][2:]
            if not item or item[0] == " ":
                raise _NotPlain
            if _KEY_LINE.fullmatch(item) is not None:
                out.append(self.mapping(i, indent + 2, item))
                i = self.i
            else:
                out.append(self.scalar(item))
                i += 1
                if i < n and lines[i][0] > indent:
                    raise _NotPlain
        if i < n and lines[i][0] > indent:
            raise _NotPlain
        self.i = i
        return out

    def text_key(self, key: str) -> bool:
        if self.tag(key) is not self.str_tag:
            return False
        if len(_TEXT_KEYS) < _MEMO_MAX:
            _TEXT_KEYS.add(key)
        return True

    def tag(self, value: str):
        for tag, match in self.first_char.get(value[0], self.none_first):
            if match(value):
                return tag
        return self.str_tag

    def scalar(self, value: str) -> Any:
        c = value[0]
        if c == "'":
            inner = value[1:-1]
            if len(value) < 2 or value[-1] != "'" or "'" in inner.replace("''", ""):
                raise _NotPlain
            return inner.replace("''", "'")
        if value == "[]":
            return []
        if value == "{}":
            return {}
        got = _PLAIN.get(value, _OTHER)
        if got is not _OTHER:
            return got
        if c in _PLAIN_FIRST or ": " in value or " #" in value or value[-1] == ":":
            raise _NotPlain
        got = self.plain(value)
        if len(value) <= _MEMO_LEN and len(_PLAIN) < _MEMO_MAX:
            _PLAIN[value] = got  # immutable: text, a number, a date, true/false or null
        return got

    def plain(self, value: str) -> Any:
        tag = self.tag(value)
        if tag is self.str_tag:
            return value
        construct = self.scalars.get(id(tag))
        kind = self.kinds.get(id(tag))
        if construct is None or (kind in ("int", "float") and len(value) > MAX_NUMBER):
            raise _NotPlain
        if self.constructor is None:
            self.constructor = _loader_class()("")
        try:
            return construct(self.constructor, self.node_class(tag, value, None, None))
        except (ValueError, OverflowError, TypeError):
            raise _NotPlain from None
