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
    """Rows as a table (columns: key and header), or as a JSON list with --json."""
    if as_json:
        print_json(rows)
        return
    if not rows:  # nothing to measure the columns by (column_widths needs a row)
        from wuye.i18n import tr

        say(tr("（无）", "(none)"))
        return
    if len(rows) > LONG_LISTING:
        plain_table(columns, rows, title)
        return
    grid(title, [header for _, header in columns], [[cell(row.get(key)) for key, _ in columns] for row in rows])


# A word up to this many terminal cells is read whole (an id, a date, an amount, a 房号 such as
# A座801, a status); a longer one is prose or a long name, which may fold onto the next line.
WHOLE = 16
_FOLDED = 8  # the narrowest a column of prose (or its header) is made


def _need(text: str, header: bool = False) -> int:
    """The narrowest column that shows `text` with none of its short words broken. A Chinese
    header breaks between any two characters (未缴/笔数) as Chinese text does; a value does not:
    A座801 or 已迁出 is read whole."""
    from rich.cells import cell_len

    widths = [min(cell_len(w), 4) if header and not w.isascii() else cell_len(w)
              for line in text.splitlines() for w in line.split()]
    return max([w if w <= WHOLE else _FOLDED for w in widths] + [0])


def column_widths(headers: list[str], rows: list[list[str]], room: int, overhead: int | None = None) -> list[int] | None:
    """Widths for a table `room` cells wide, `overhead` of them rules and padding (a boxed table's
    by default), in which no id, date or amount is cut; or None when no such widths exist.

    rich squeezes a table that is too wide by shrinking its widest columns and then every column
    alike, down to `56880…`: exactly what a clerk reads the table for. Here each column starts at
    its natural width and prose is folded, widest first, never below what its short words need."""
    from rich.cells import cell_len

    n = len(headers)

    def widest(lines) -> int:
        return max([cell_len(line) for text in lines for line in (text.splitlines() or [""])] + [0])

    cells = [widest(r[i] for r in rows) for i in range(n)]
    need = [max([_need(headers[i], header=True)] + [_need(r[i]) for r in rows]) for i in range(n)]
    # Boxed: a space either side of every cell, and n + 1 rules.
    avail = room - (3 * n + 1 if overhead is None else overhead)
    if sum(need) > avail:
        return None
    heads = [widest([h]) for h in headers]
    widths = [max(heads[i], cells[i], need[i]) for i in range(n)]
    # First a header twice as wide as its column's values folds (未缴/笔数 over counts: one more
    # header line), then prose (more lines in every row), then any header.
    short = [max(cells[i], need[i]) if heads[i] >= 2 * cells[i] else widths[i] for i in range(n)]
    for floor in (short, need):
        while sum(widths) > avail and any(w > f for w, f in zip(widths, floor)):
            i = max((k for k in range(n) if widths[k] > floor[k]), key=lambda k: widths[k])
            widths[i] -= 1
    return widths


def grid(title: str | None, headers: list[str], rows: list[list[str]], right=(), styles=None,
         footer: int | None = None, spare: int | None = None) -> None:
    """Rows under headers, as a table when every id, date and amount in it fits whole at the
    terminal's width, else one record after another (header, value), as `psql \\x` does.

    `right`: indexes of columns of numbers (right-aligned); `styles`: a style per row; `footer`:
    the index of the first row of a totals section, set off by a rule; `spare`: the index of a
    column that only illustrates (a bar chart), left out before the table is given up."""
    from rich.table import Table

    from rich import box

    console = out()
    widths = column_widths(headers, rows, console.width)
    if widths is None and spare is not None:
        keep = [i for i in range(len(headers)) if i != spare]
        headers, rows = [headers[i] for i in keep], [[r[i] for i in keep] for r in rows]
        right = {keep.index(i) for i in right if i in keep}
        widths = column_widths(headers, rows, console.width)
    options = dict(title=title, title_justify="left")
    if widths is None:
        # Columns without rules, a rule under the header and two cells between columns.
        widths = column_widths(headers, rows, console.width, overhead=2 * (len(headers) - 1))
        options.update(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1))
    if widths is not None:
        t = Table(**options)
        for i, header in enumerate(headers):
            t.add_column(header, width=widths[i], overflow="fold", justify="right" if i in right else "left")
        for n, row in enumerate(rows):
            if n == footer:
                t.add_section()
            t.add_row(*row, style=styles[n] if styles else None)
        console.print(t)
        return
    # One record after another in one two-column table, a rule between records.
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column(style="bold", overflow="fold")
    t.add_column(overflow="fold")
    for n, row in enumerate(rows):
        if n:
            t.add_section()
        for header, value in zip(headers, row):
            if value:
                t.add_row(header.replace("\n", ""), value, style=styles[n] if styles else None)
    console.print(t)


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
