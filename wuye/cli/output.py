"""How the CLI shows things: data on stdout, messages on stderr, JSON on request.

One `table()` decides between a rich table and JSON for every listing command (as modal's
`display_table` does), so `--json` means the same everywhere. Rich honours NO_COLOR itself.
"""

from __future__ import annotations

import json
import sys
from typing import Any

_out = None
_err = None


def _console(**options):
    """A rich console that shows every string as data: markup off (a company named `[/bold] x`
    would crash rich, `[red]…` would restyle the screen), emoji codes off, and control characters
    shown as `\\x1b` (a stored `\\e[2J` would clear the terminal, `\\e]0;…\\a` retitle it). Every
    string rich prints, a table cell or a title, goes through `render_str`. Styles are given as
    `style=`, never as markup."""
    from rich.console import Console

    class DataConsole(Console):
        def render_str(self, text, **kw):
            return super().render_str(visible(text), **kw)

    return DataConsole(markup=False, emoji=False, **options)


def out():
    global _out
    if _out is None:
        _out = _console(highlight=False, soft_wrap=False)
    return _out


def err():
    global _err
    if _err is None:
        _err = _console(stderr=True, highlight=False)
    return _err


_CONTROLS = None


def visible(text: str) -> str:
    """`text` with every control character but newline and tab shown as its escape (`\\x1b`),
    and the bidirectional overrides too (U+202E would show a file name backwards)."""
    global _CONTROLS
    if _CONTROLS is None:
        import re

        _CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _default(value: Any):
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


def say(message: str) -> None:
    """A message for the user (stderr), so stdout stays data.

    Never wrapped by rich: a `path:line:col: message` line must stay one line for editors and
    scripts reading stderr through a pipe (where rich would otherwise break it at 80 columns).
    Messages are never revealed data: a phone or ID number quoted from a file (a YAML error, a
    conflict, a pydantic message) is masked here, the one place they all pass.
    """
    from wuye.archive.privacy import mask_message

    err().print(mask_message(message), markup=False, soft_wrap=True)


LONG_LISTING = 300  # rows past which a table is printed as plain columns


def table(columns: list[tuple[str, str]], rows: list[dict], as_json: bool, title: str | None = None) -> None:
    """Rows as a rich table (columns: key and header), or as a JSON list with --json."""
    if as_json:
        print_json(rows)
        return
    if len(rows) > LONG_LISTING:
        plain_table(columns, rows, title)
        return
    from rich.table import Table

    t = Table(title=title, show_lines=False)
    for key, header in columns:
        # A short code (an id, a date) keeps its width; longer text folds rather than being cut
        # to "TS-2026…", which would hide exactly what a clerk reads the table for.
        widest = max((len(cell(row.get(key))) for row in rows), default=0)
        t.add_column(header, overflow="fold", min_width=widest if widest <= 12 else None)
    for row in rows:
        t.add_row(*(cell(row.get(key)) for key, _ in columns))
    out().print(t)


def plain_table(columns: list[tuple[str, str]], rows: list[dict], title: str | None = None) -> None:
    """A long listing (every tenant of a company) as columns padded with spaces, one line a row.

    rich lays a table out by measuring every cell several times: 3 s for 10,000 rows, where this
    takes a tenth of that. Widths count a Chinese character as two columns, as a terminal shows
    it; the last column is not padded, so `grep` and `sort` see clean lines.
    """
    from rich.cells import cell_len

    lines = [[header for _, header in columns]]
    lines += [[visible(cell(row.get(key)).replace("\n", " ")) for key, _ in columns] for row in rows]
    widths = [max(cell_len(line[i]) for line in lines) for i in range(len(columns))]
    w = sys.stdout.write
    if title:
        w(title + "\n")
    for n, line in enumerate(lines):
        w("  ".join(text + " " * (widths[i] - cell_len(text)) for i, text in enumerate(line[:-1]))
          + ("  " if len(line) > 1 else "") + line[-1] + "\n")
        if n == 0:
            w("  ".join("-" * width for width in widths) + "\n")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={cell(v)}" for k, v in value.items())
    return str(value)


def field_label(labels: dict, key: str) -> str:
    """A field's header in the reader's language, from a category's entry in labels.json."""
    from wuye.i18n import tr

    v = labels.get(key, key)
    if isinstance(v, dict):
        v = v.get("", key)
    return tr(*v) if isinstance(v, list) else str(v)
