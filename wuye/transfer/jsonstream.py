"""A JSON document read as a stream (ijson, with its C parser where the wheel has it), for
`wuye import` of a store's export: 220 MB of JSON at 10,000 tenants, which `json.loads` made into
a gigabyte of objects before the import had looked at one of them.

Two passes over the file. `outline` reads every byte once, building nothing but the small
top-level values: it refuses what `json.loads` would refuse (with the line and column), duplicate
keys and nesting past yamlio.MAX_DEPTH (as YAML is refused), and notes each dossier of
`tenants` (its tenant_id, whether it has a profile). `items` then yields the dossiers one at a
time, so an import holds one dossier's objects, never the document's. The file's sha256 is taken
on each pass: a file that changed between them is refused.

Reads only the file it is given.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import yamlio

BOM = b"\xef\xbb\xbf"


class _Counted:
    """A binary file as the parser reads it: the bytes seen so far hashed, and the last two
    chunks kept, to find where the parser stopped."""

    def __init__(self, f: IO[bytes]):
        self.f = f
        self.sha = hashlib.sha256()
        self.offset = 0  # bytes read before `self.last`
        self.lines = 0  # newlines before `self.last`
        self.prev = b""
        self.last = b""
        self.first = True

    def read(self, n: int = -1) -> bytes:
        chunk = self.f.read(n)
        self.sha.update(chunk)
        if self.first:
            self.first = False
            if chunk.startswith(BOM):  # as yamlio.decode: a byte-order mark is no content
                self.offset, chunk = 3, chunk[3:]
        self.lines += self.last.count(b"\n")
        self.offset += len(self.last)
        self.prev, self.last = self.last, chunk
        return chunk

    def where(self, context: str | None, caret: int | None) -> tuple[int, int]:
        """(line, column) of an error: found by the text the parser quotes around it (yajl
        shows about thirty bytes each side, line breaks as spaces) in the last two chunks read;
        else the start of the last chunk."""
        window = self.prev + self.last
        start = self.offset - len(self.prev)
        pos = None
        if context and caret is not None:
            flat = window.replace(b"\n", b" ").replace(b"\r", b" ")
            i = flat.rfind(context.encode("utf-8", "replace"))
            if i >= 0:
                pos = i + len(context[:caret].encode("utf-8", "replace"))
        if pos is None:
            pos = len(self.prev) if self.last else len(window)
        before = window[:pos]
        line = self.lines - self.prev.count(b"\n") + before.count(b"\n") + 1
        nl = before.rfind(b"\n")
        if nl >= 0:
            col = len(before[nl + 1:].decode("utf-8", "replace")) + 1
        else:
            # The line began before the window: its column is not known exactly (at most 128 KiB
            # of one line); the bytes since the window's start are the best guess.
            col = len(before.decode("utf-8", "replace")) + (1 if start == 0 else 1)
        return line, col


def _refusal(label: str, message: str, line: int | None = None, col: int | None = None) -> WuyeError:
    p = Problem(label, message, line, col, code="import.invalid")
    return WuyeError(str(p), [p])


def _syntax(label: str, src: _Counted, e: Exception) -> WuyeError:
    """ijson's error as one line: its first line, at the place the parser quotes."""
    text = str(e)
    if text.startswith(("b'", 'b"')):  # an error about bytes comes as the repr of bytes
        try:
            text = bytes(eval(text, {"__builtins__": {}}, {})).decode("utf-8", "replace")  # noqa: S307 (a bytes literal)
        except (SyntaxError, ValueError, TypeError):
            pass
    lines = text.split("\n")
    context = caret = None
    if len(lines) >= 3 and "(right here)" in lines[2]:
        indent = len(lines[1]) - len(lines[1].lstrip(" "))
        context = lines[1][indent:]
        caret = max(0, lines[2].index("^") - indent - 1)  # yajl's caret stands just past the character
    message = lines[0].strip() or text.strip()
    if "premature EOF" in message:
        message = tr("文件提前结束（JSON 不完整）", "the file ends early (incomplete JSON)")
    line, col = src.where(context, caret)
    return _refusal(label, tr("JSON 格式错误：%s", "invalid JSON: %s") % message, line, col)


@dataclass
class Outline:
    """What the first pass learns: the top-level values other than `tenants`, what `tenants` is,
    and each dossier's tenant_id (None unless a text) and whether it has a profile."""

    kind: str  # "object", "array" or "scalar": what the document is
    top: dict[str, Any] = field(default_factory=dict)
    tenants: str | None = None  # "array", "object", "scalar", or None when absent
    dossiers: list[tuple[str | None, bool]] = field(default_factory=list)
    sha256: str = ""
    items: Any = None  # the whole document when it is not an object (a list of records)


def _open(path: Path, label: str):
    try:
        return path.open("rb")
    except OSError as e:
        raise _refusal(label, tr("无法读取：%s", "cannot be read: %s") % (e.strerror or e)) from None


def outline(path: Path, label: str) -> Outline:
    """Read the whole document once, refusing it if it is no JSON the import may read; every
    value but the dossiers is built (a list of records, the units)."""
    import ijson

    from ijson.common import ObjectBuilder

    deep = tr("嵌套层数过多（超过 %d 层），不像是导出文档", "nested far too deeply (more than %d levels) to be an export") % yamlio.MAX_DEPTH
    with _open(path, label) as f:
        src = _Counted(f)
        depth = 0
        stack: list[set | None] = []
        out: Outline | None = None
        builder: ObjectBuilder | None = None  # the top-level value being built, if kept
        top_key: str | None = None
        dossier: list | None = None  # [tenant_id, has profile] of the dossier being read
        want_tid = False
        try:
            for event, value in ijson.basic_parse(src, use_float=True):
                if out is None:
                    kind = {"start_map": "object", "start_array": "array"}.get(event, "scalar")
                    out = Outline(kind)
                    if kind != "object":
                        builder = ObjectBuilder()
                if event == "map_key":
                    keys = stack[-1]
                    if value in keys:
                        where = f"tenants[{len(out.dossiers) - 1}]: " if top_key == "tenants" and depth >= 3 else ""
                        raise _refusal(label, where + tr("重复的键：%s", "duplicate key: %s") % yamlio.shown(value))
                    keys.add(value)
                    if depth == 1 and out.kind == "object":
                        top_key = value
                        builder = ObjectBuilder()  # dropped at once if this is the array of dossiers
                        continue
                    if depth == 3 and dossier is not None and top_key == "tenants":
                        if value == "profile":
                            dossier[1] = True
                        want_tid = value == "tenant_id"
                elif event == "start_map" or event == "start_array":
                    depth += 1
                    if depth > yamlio.MAX_DEPTH:
                        raise _refusal(label, deep, *_deep_at(path, src.offset + len(src.last)))
                    stack.append(set() if event == "start_map" else None)
                    if depth == 2 and top_key == "tenants" and out.kind == "object":
                        out.tenants = "array" if event == "start_array" else "object"
                        if event == "start_array":
                            builder = None  # the dossiers: read one at a time by `items`
                    elif depth == 3 and top_key == "tenants" and out.tenants == "array":
                        dossier = [None, False]
                        out.dossiers.append(dossier)  # type: ignore[arg-type]
                        if event != "start_map":
                            dossier = None
                elif event == "end_map" or event == "end_array":
                    depth -= 1
                    stack.pop()
                    if depth == 2:
                        dossier = None
                elif depth == 1 and top_key == "tenants" and out.kind == "object":
                    out.tenants = "scalar"
                elif depth == 2 and top_key == "tenants" and out.tenants == "array" and stack[-1] is None:
                    out.dossiers.append((None, False))  # not a dossier: refused by the import, at its index
                elif want_tid and depth == 3 and dossier is not None:
                    dossier[0] = value if isinstance(value, str) else None
                    want_tid = False
                if builder is not None:
                    builder.event(event, value)
                    if depth == 1 and out.kind == "object" and top_key is not None and event != "map_key":
                        out.top[top_key] = builder.value
                        builder = None
        except ijson.JSONError as e:
            raise _syntax(label, src, e) from None
        except ijson.common.IncompleteJSONError as e:  # pragma: no cover - a JSONError subclass in 3.x
            raise _syntax(label, src, e) from None
        if out is None:
            raise _refusal(label, tr("文件是空的", "the file is empty"), 1, 1)
        if out.kind != "object" and builder is not None:
            out.items = builder.value
        out.sha256 = src.sha.hexdigest()
        return out


def _deep_at(path: Path, end: int) -> tuple[int | None, int | None]:
    """Where the nesting first goes past the limit, in the bytes the parser had read: found
    again exactly, brackets inside strings skipped (only ever on the way to a refusal)."""
    import re

    with path.open("rb") as f:
        text = f.read(end).decode("utf-8", "replace")
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]', text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > yamlio.MAX_DEPTH:
                head = text[: m.start()]
                return head.count("\n") + 1, m.start() - head.rfind("\n")
        elif c in "]}":
            depth -= 1
    return None, None


def items(path: Path, label: str, sha256: str) -> Iterator[dict | Any]:
    """The dossiers of `tenants`, one at a time, in order (`outline` has checked the file);
    refused at the end if the file is no longer the one outlined."""
    import ijson

    with _open(path, label) as f:
        src = _Counted(f)
        try:
            yield from ijson.items(src, "tenants.item", use_float=True)
            while src.read(1 << 16):  # the rest, for the hash
                pass
        except ijson.JSONError as e:
            raise _syntax(label, src, e) from None
        if src.sha.hexdigest() != sha256:
            raise _refusal(label, tr("导入期间文件有变动；请重新导入", "the file changed while it was imported; import it again"))
