"""Export (`wuye export`): the archive as an xlsx workbook, a CSV ledger, or the store's own document.

- xlsx: a sheet per category (sheet name = its Chinese title) and a 单元 sheet for the units, with
  the fields' Chinese titles as headers (with WUYE_LANG=en: the category's English title, `units`,
  and the fields' keys, `tenant_id`, `amount`, which `wuye import` reads as well as the titles),
  a choice shown by its Chinese label (押金, not deposit; its code in English), proper cell types (dates as dates, times in the building's
  time zone, amounts as numbers shown with two decimals), a frozen header row and filters.
- csv: the tenant ledger (客户台账: one row per tenant, the headers `wuye import` reads), or with
  `--category` that category's rows; UTF-8 with a BOM, so Excel opens it right.
- json / yaml: the store's own records, file by file as they are (`wuye_export: 1`), for
  full-fidelity transfers between stores.

Every format imports back (`wuye import`) to the same store content: a sheet's rows carry each
entry's id and stamps, and the importer finds them again. Only reads the store; writes the one
output file (atomically: a failure midway leaves no file) or stdout. json and yaml are generated a
tenant at a time, so a company's archive is never all in memory; to stdout they stream as they
are made, so a failure midway (a store file that cannot be read) cuts the output short, and the
exit code says so.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from wuye.storage import layout, yamlio
from wuye.storage.atomic import write_atomic
from wuye.archive.dossier import ordered
from wuye.errors import Problem, WuyeError
from wuye.i18n import english, tr
from wuye.transfer.ledger import LEDGER_FIELDS, FieldSpec, field_specs
from wuye.models.archive import BY_KEY, CATEGORIES, ArchiveCategory, entry_model
from wuye.storage.store import Store

FORMATS = ("xlsx", "csv", "json", "yaml")
UNITS_SHEET = "单元"
LEDGER = "ledger"
LEDGER_SHEET = "客户台账"

# The tenant ledger's columns, in the order a clerk reads them.
LEDGER_COLUMNS = ("tenant_id", "name", "uscc", "legal_rep", "nature", "industry", "headcount", "units", "area",
                  "company_phone", "email", "contact_name", "contact_title", "contact_phone", "lease_deposit",
                  "renovation_deposit", "move_in_date", "lease_start", "lease_end", "status")
LEDGER_TYPES = {"headcount": "int", "area": "text", "lease_deposit": "money", "renovation_deposit": "money",
                "move_in_date": "date", "lease_start": "date", "lease_end": "date", "units": "id_list"}


@dataclass
class Sheet:
    """One table of the export: its name, its columns (field, header, kind) and its rows."""

    name: str
    columns: list[tuple[str, str, str]]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class ExportResult:
    path: str
    format: str
    tenants: int
    sheets: dict[str, int]  # sheet name -> rows


def _format(out: str, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise WuyeError(tr("未知格式 %r；可用：%s" % (fmt, "、".join(FORMATS)), "unknown format %r; use one of: %s" % (fmt, ", ".join(FORMATS))))
        return fmt
    ext = Path(out).suffix.lower().lstrip(".")
    ext = {"yml": "yaml"}.get(ext, ext)
    if ext in FORMATS:
        return ext
    raise WuyeError(tr("看不出 %s 的格式；请用 --format xlsx|csv|json|yaml 指定",
                       "cannot tell the format of %s; name it with --format xlsx|csv|json|yaml") % out)


def _tenants(store: Store, tenant: str | None) -> list[str]:
    if tenant is None:
        return store.tenant_ids()
    from wuye.archive.dossier import find_tenant

    return [find_tenant(store, tenant)]


def _raw(store: Store, tid: str, c: ArchiveCategory) -> Any:
    rel = store.tenant_rel(tid, c.filename)
    if not store.path(rel).is_file():
        return None
    return yamlio.read(store.path(rel), rel)


def _typed(store: Store, tid: str, c: ArchiveCategory, problems: list[Problem]):
    """A category file validated by its model (typed values for the sheet), or None."""
    from wuye.models.archive import file_model

    rel = store.tenant_rel(tid, c.filename)
    if not store.path(rel).is_file():
        return None
    try:
        data, text = store.read_data(rel)
    except WuyeError as e:
        problems += e.problems
        return None
    obj, found = yamlio.check_model(file_model(c), data if data is not None else {}, rel, text)
    problems += found
    return obj


def _units(store: Store, problems: list[Problem]) -> list:
    from wuye.models.store import Unit

    out = []
    d = store.path(layout.UNITS_DIR)
    for p in sorted(d.glob("*.yaml")) if d.is_dir() else []:
        try:
            out.append(store.read_model(f"{layout.UNITS_DIR}/{p.name}", Unit))
        except WuyeError as e:
            problems += e.problems
    return out


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise WuyeError(tr("档案库中有无效文件，未导出（可用 `wuye archive check` 查看）：\n",
                           "the store has invalid files; nothing exported (see `wuye archive check`):\n")
                        + "\n".join(map(str, problems)), problems)


# --- sheets --------------------------------------------------------------------------------


def _header(title: str, key: str) -> str:
    """A column's header: its Chinese title, or in English its key (import reads both)."""
    return key if english() else title


def _sheet_name(zh: str, en: str) -> str:
    return (en if english() else zh)[:31]  # Excel's limit


def _columns(c: ArchiveCategory) -> list[tuple[str, str, str]]:
    """A category's columns in a record's reading order: id, its own fields, then the stamps."""
    specs = field_specs(entry_model(c))
    names = list(ordered({k: None for k in specs}))
    cols = [(k, _header(specs[k].title, k), specs[k].kind) for k in names]
    if c.key != "profile":
        cols = [("tenant_id", _header("客户编号", "tenant_id"), "id"), ("tenant_name", _header("客户名称", "tenant_name"), "text")] + cols
    return cols


def _label(spec: FieldSpec | None, value: Any) -> Any:
    """A choice as the reader reads it: 押金 for deposit in Chinese (import reads it back through
    the same choices), the code itself in English."""
    if spec is None or spec.kind != "choice" or english() or not isinstance(value, str):
        return value
    return next((label for label, code in spec.choices.items() if code == value and label != code), value)


def _get(record, name: str, specs: dict[str, FieldSpec]) -> Any:
    """A field's typed value (Decimal, date, list), nested fields by their path."""
    value: Any = record
    for part in specs[name].path if name in specs else (name,):
        value = getattr(value, part, None)
    if isinstance(value, list) and value and hasattr(value[0], "model_dump"):
        value = [v.model_dump(mode="json", exclude_none=True) for v in value]
    return value


class _Rows:
    """A sheet's rows made as they are written, from the records index, not held in memory:
    12 sheets of 10,000 tenants' records held at once, and again as rows, was 390 MB. The files
    were validated (and counted) first; one that changed since is refused, not written half."""

    def __init__(self, make: Callable[[], Iterator[list]], count: int):
        self.make, self.count = make, count

    def __iter__(self) -> Iterator[list]:
        return self.make()

    def __len__(self) -> int:
        return self.count


def category_sheet(store: Store, c: ArchiveCategory, tids: list[str], names: dict[str, str],
                   problems: list[Problem]) -> Sheet:
    specs = field_specs(entry_model(c))
    sheet = Sheet(_sheet_name(c.title, c.title_en), _columns(c))

    def row(tid: str, r) -> list:
        out = []
        for name, _, _ in sheet.columns:
            if name == "tenant_id":
                out.append(tid)
            elif name == "tenant_name":
                out.append(names.get(tid, ""))
            else:
                out.append(_label(specs.get(name), _get(r, name, specs)))
        return out

    if not c.is_list:
        for tid in tids:
            obj = _typed(store, tid, c, problems)
            if obj is not None:
                sheet.rows.append(row(tid, obj))
        return sheet
    from wuye.archive.dossier import validated_entries

    wanted = [(tid, c.key) for tid in tids]
    count = 0
    for _, _, entries, found in validated_entries(store, wanted):
        problems += found
        count += len(entries or [])

    def rows() -> Iterator[list]:
        made = 0
        for tid, _, entries, found in validated_entries(store, wanted):
            _refuse(found)
            for r in entries or []:
                made += 1
                yield row(tid, r)
        if made != count:
            raise WuyeError(tr("导出期间档案有变动（%s）；请重新导出", "the archive changed during the export (%s); export again") % c.key)

    sheet.rows = _Rows(rows, count)  # type: ignore[assignment]
    return sheet


def units_sheet(store: Store, problems: list[Problem]) -> Sheet:
    from wuye.models.store import Unit

    specs = field_specs(Unit)
    # The 房号 column shows the 房号 as written (a file name derived from it is never shown).
    sheet = Sheet(_sheet_name(UNITS_SHEET, "units"), [(k, _header(s.title, k), s.kind)
                                                      for k, s in specs.items() if k != "label"])
    for u in _units(store, problems):
        sheet.rows.append([u.shown if k == "id" else _label(specs.get(k), _get(u, k, specs)) for k, _, _ in sheet.columns])
    return sheet


def ledger_sheet(store: Store, tids: list[str], problems: list[Problem]) -> Sheet:
    """One row per tenant, in the columns `wuye import` reads as a ledger."""
    from wuye.models.store import Unit

    cols = [(k, _header(LEDGER_FIELDS[k][0], k), LEDGER_TYPES.get(k, "text")) for k in LEDGER_COLUMNS]
    sheet = Sheet(_sheet_name(LEDGER_SHEET, "ledger"), cols)
    status = field_specs(entry_model(BY_KEY["profile"])).get("status")
    areas: dict[str, Any] = {}
    for tid in tids:
        p = _typed(store, tid, BY_KEY["profile"], problems)
        if p is None:
            continue
        contacts = _typed(store, tid, BY_KEY["contacts"], problems)
        payments = _typed(store, tid, BY_KEY["payments"], problems)
        move_in = _typed(store, tid, BY_KEY["move_in"], problems)
        primary = [e for e in (contacts.entries if contacts else []) if e.kind == "contact" and e.primary]
        contact = primary[-1] if primary else None
        deposits = {}
        for e in payments.entries if payments else []:
            if e.kind == "deposit":
                deposits[e.item] = e.amount
        unit_areas = []
        for u in p.units:
            if u not in areas:
                from wuye.models.ids import unit_id

                rel = f"{layout.UNITS_DIR}/{unit_id(u)}.yaml"
                areas[u] = store.read_model(rel, Unit).area if store.path(rel).is_file() else None
            unit_areas.append(areas[u])
        area = "、".join(_plain_number(a) for a in unit_areas) if unit_areas and all(a is not None for a in unit_areas) else None
        values = {
            "tenant_id": tid, "name": p.name, "uscc": p.uscc, "legal_rep": p.legal_rep, "nature": p.nature,
            "industry": p.industry, "headcount": p.headcount, "units": p.units, "area": area,
            "company_phone": p.phone, "email": p.email,
            "contact_name": contact.name if contact else None, "contact_title": contact.title if contact else None,
            "contact_phone": contact.phone if contact else None,
            "lease_deposit": deposits.get("租赁押金"), "renovation_deposit": deposits.get("装修押金"),
            "move_in_date": move_in.move_in_date if move_in else None,
            "lease_start": p.lease_start, "lease_end": p.lease_end, "status": _label(status, p.status),
        }
        sheet.rows.append([values[k] for k in LEDGER_COLUMNS])
    return sheet


def _plain_number(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral() else str(d)


# --- writers -------------------------------------------------------------------------------


def _cell_text(value: Any, kind: str) -> str:
    """A value as CSV text that `wuye import` reads back to the same value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        if kind == "plain_or_json" and all(isinstance(v, str) for v in value):
            return "、".join(value)  # plain ids, as the ledgers write them
        if kind in ("json", "plain_or_json"):
            return json.dumps(value, ensure_ascii=False, default=str)
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def write_csv(sheet: Sheet) -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([h for _, h, _ in sheet.columns])
    for row in sheet.rows:
        w.writerow([_cell_text(v, kind) for v, (_, _, kind) in zip(row, sheet.columns)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# --- xlsx -------------------------------------------------------------------------------------
#
# A workbook of 10,000 tenants is 406,000 rows. Each record file's rows are serialised once, as the
# sheet's XML (transfer/xlsx.py), where the file is validated: in the records index
# (storage/index.py, a kind per category, language and time zone), so a second export reads them
# back compressed instead of parsing and validating 130,000 files again, and a first one validates
# them in worker processes. The main process only numbers the rows and compresses the workbook, so
# memory stays that of one category's compressed rows.


def _xlsx_kind(key: str, tz: dt.tzinfo) -> str:
    # The rows hold the headers' language (choices as 押金 or deposit) and times in the building's
    # zone: both are part of what the index keys them by.
    return f"xlsx:{'en' if english() else 'zh'}:{tz}:{key}"


@dataclass
class _Plan:
    """One sheet of the workbook: its name and columns, and the files its rows come from."""

    store: Store
    name: str
    columns: list[tuple[str, str, str]]
    kind: str
    rels: list[str]
    names: dict[str, str] | None = None  # tenant id -> name, for a category's 客户名称 column
    rows: int = 0

    def fetch(self) -> dict[str, tuple[Any, list] | None]:
        from wuye.storage.index import parsed

        return parsed(self.store.root, self.kind, self.rels, _sheet_rows)

    def count(self) -> list[Problem]:
        """The sheet's row count, and the problems of its files (the export refuses them all)."""
        problems: list[Problem] = []
        self.rows = 0
        for got in self.fetch().values():
            if got is not None:
                value, found = got
                problems += found
                if value is not None:
                    self.rows += value[1]
        return problems

    def body(self) -> Iterator[str]:
        """The serialised rows, file by file; refused if a file changed since it was counted."""
        import zlib

        from wuye.transfer import xlsx

        got = self.fetch()
        made = 0
        for rel in self.rels:
            v = got.pop(rel, None)
            if v is None:
                continue
            value, found = v
            _refuse(found)
            if value is None or not value[1]:
                continue
            rows = zlib.decompress(value[0]).decode("utf-8")
            if self.names is not None:
                name = self.names.get(rel.split("/")[1], "")
                rows = rows.replace(_NAME, xlsx.cell(f"B{xlsx.ROW}", name, None))
            made += value[1]
            if made > self.rows:
                break
            yield from rows.split(xlsx.NEXT)
        if made != self.rows:
            raise WuyeError(tr("导出期间档案有变动（%s）；请重新导出", "the archive changed during the export (%s); export again") % self.name)


_NAME = "\x02"  # where a category row's 客户名称 goes: the name is the profile's, not this file's


def _category_plan(store: Store, c: ArchiveCategory, tids: list[str]) -> _Plan:
    names = None
    if c.key != "profile":
        from wuye.storage.index import tenant_index

        names = dict(tenant_index(store, ("name",))) if tids else {}
    return _Plan(store, _sheet_name(c.title, c.title_en), _columns(c), _xlsx_kind(c.key, store.tz()),
                 [store.tenant_rel(tid, c.filename) for tid in tids], names)


def _units_columns() -> list[tuple[str, str, str]]:
    from wuye.models.store import Unit

    # The 房号 column shows the 房号 as written (a file name derived from it is never shown).
    return [(k, _header(s.title, k), s.kind) for k, s in field_specs(Unit).items() if k != "label"]


def _units_plan(store: Store) -> _Plan:
    d = store.path(layout.UNITS_DIR)
    rels = [f"{layout.UNITS_DIR}/{p.name}" for p in (sorted(d.glob("*.yaml")) if d.is_dir() else [])]
    return _Plan(store, _sheet_name(UNITS_SHEET, "units"), _units_columns(), _xlsx_kind("units", store.tz()), rels)


_CELLS: dict[tuple, list] = {}


def _cells(key: str) -> list:
    """Per column: its cell reference, how to get its value from a record, its choice labels and
    its style; made once per category (or "units") and language."""
    from wuye.transfer import xlsx

    ck = (key, english())
    if ck not in _CELLS:
        if key == "units":
            from wuye.models.store import Unit

            columns, specs = _units_columns(), field_specs(Unit)
        else:
            columns, specs = _columns(BY_KEY[key]), field_specs(entry_model(BY_KEY[key]))
        out = []
        for i, (name, _, kind) in enumerate(columns):
            spec = specs.get(name)
            labels = None
            if spec is not None and spec.kind == "choice" and not english():
                labels = {}
                for label, code in spec.choices.items():
                    if label != code:
                        labels.setdefault(code, label)
            fmt = _number_format(kind)
            out.append((f"{xlsx.column_letter(i)}{xlsx.ROW}", name, spec.path if spec is not None else (name,), labels, kind,
                        xlsx.STYLE_OF_FORMAT[fmt] if fmt else None))
        _CELLS[ck] = out
    return _CELLS[ck]


def _row_xml(cells: list, record, tid: str | None, tz: dt.tzinfo, shown_id: str | None = None) -> str:
    """A record's row as the sheet's XML, with the row number (and 客户名称) to be filled in."""
    from wuye.transfer import xlsx

    out = [f'<row r="{xlsx.ROW}">']
    for ref, name, path, labels, kind, style in cells:
        if name == "tenant_id" and tid is not None:
            value: Any = tid
        elif name == "tenant_name" and tid is not None:
            out.append(_NAME)
            continue
        elif name == "id" and shown_id is not None:
            value = shown_id
        else:
            value = record
            for part in path:
                value = getattr(value, part, None)
            if value is None:
                continue
            if labels is not None and isinstance(value, str):
                value = labels.get(value, value)
            elif isinstance(value, list) and value and hasattr(value[0], "model_dump"):
                value = [v.model_dump(mode="json", exclude_none=True) for v in value]
            value = _xlsx_value(value, kind, tz)
        out.append(xlsx.cell(ref, value, style))
    out.append("</row>")
    return "".join(out)


def _sheet_rows(root: str, items: list[tuple[str, bytes | None]]) -> list:
    """((compressed rows, row count) or None, errors) of each (rel, bytes) of a category or unit
    file, validated as `_typed` and `validated_entries` validate it (storage/index.py calls this,
    in worker processes for a large batch)."""
    import zlib

    from wuye.archive.dossier import validate_text
    from wuye.models.archive import file_model
    from wuye.models.store import Unit
    from wuye.transfer import xlsx

    store = Store(Path(root))
    tz = store.tz()
    out = []
    for rel, raw in items:
        parts = rel.split("/")
        try:
            text = yamlio.text_of(raw, rel) if raw is not None else yamlio.read_text(store.path(rel), rel)
        except WuyeError as e:
            out.append((None, e.problems))
            continue
        if parts[0] == layout.UNITS_DIR:
            try:
                data = yamlio.loads(text, rel)
            except WuyeError as e:
                out.append((None, e.problems))
                continue
            obj, found = yamlio.check_model(Unit, data if data is not None else {}, rel, text)
            rows = [] if obj is None else [_row_xml(_cells("units"), obj, None, tz, obj.shown)]
        else:
            tid, c = parts[1], BY_KEY[parts[2].removesuffix(".yaml")]
            if c.is_list:
                obj, found = validate_text(rel, text, tid, c)
            else:
                try:
                    data = yamlio.loads(text, rel)
                except WuyeError as e:
                    out.append((None, e.problems))
                    continue
                obj, found = yamlio.check_model(file_model(c), data if data is not None else {}, rel, text)
            found = [p for p in found if p.level == "error"]
            if found:
                obj = None
            records = [] if obj is None else ((obj.entries or []) if c.is_list else [obj])
            cells = _cells(c.key)
            rows = [_row_xml(cells, r, tid if c.key != "profile" else None, tz) for r in records]
        value = None if obj is None else (zlib.compress(xlsx.NEXT.join(rows).encode("utf-8"), 6), len(rows))
        out.append((value, [p for p in found if p.level == "error"]))
    return out


def _widths(columns: list[tuple[str, str, str]]) -> list[int]:
    return [max(8, min(40, _width(h) + 2)) for _, h, _ in columns]


def _xlsx_chunks(store: Store, plans: list[_Plan]) -> Iterator[bytes]:
    """The workbook's bytes, made sheet by sheet into a temporary file (a zip's directory is
    written last, over offsets a seekable file gives), then read out a megabyte at a time."""
    import tempfile

    from wuye.transfer import xlsx

    with tempfile.TemporaryFile() as f:
        wb = xlsx.Workbook(f)
        for plan in plans:
            wb.sheet(plan.name, [h for _, h, _ in plan.columns], _widths(plan.columns), plan.rows, plan.body())
        wb.close()
        f.seek(0)
        while chunk := f.read(1 << 20):
            yield chunk


def _xlsx_of(sheet: Sheet, tz: dt.tzinfo) -> bytes:
    """A one-sheet workbook of rows made in memory (the tenant ledger as xlsx)."""
    from wuye.transfer import xlsx

    formats = [_number_format(kind) for _, _, kind in sheet.columns]
    refs = [f"{xlsx.column_letter(i)}{xlsx.ROW}" for i in range(len(sheet.columns))]
    body = []
    for row in sheet.rows:
        cells = [xlsx.cell(ref, _xlsx_value(v, kind, tz), xlsx.STYLE_OF_FORMAT[fmt] if fmt else None)
                 for v, (_, _, kind), fmt, ref in zip(row, sheet.columns, formats, refs)]
        body.append(f'<row r="{xlsx.ROW}">' + "".join(cells) + "</row>")
    buf = io.BytesIO()
    wb = xlsx.Workbook(buf)
    wb.sheet(sheet.name, [h for _, h, _ in sheet.columns], _widths(sheet.columns), len(body), iter(body))
    wb.close()
    return buf.getvalue()


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 127 else 1 for ch in text)


def _number_format(kind: str) -> str | None:
    return {"money": "#,##0.00", "reading": "0.###", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}.get(kind)


def _xlsx_value(value: Any, kind: str, tz: dt.tzinfo) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        # Excel has no time zones: times are shown in the building's zone, and read back in it.
        if value.tzinfo is not None:
            value = value.astimezone(tz).replace(tzinfo=None)
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, dict)):
        return _cell_text(value, kind)
    return value


def _document(store: Store, tids: list[str], only: ArchiveCategory | None, result: "ExportResult") -> Iterator[tuple[str, Any]]:
    """The store's records as they are on disk (`wuye_export: 1`), what `wuye import` reads back:
    its top-level keys and values in order, then ("tenant", dossier) one tenant at a time, so that
    a company's archive (200 MB of JSON at 10,000 tenants) is never all in memory at once.
    `result.tenants` counts the dossiers given."""
    yield "wuye_export", 1
    yield "building", str(store.config.building.name)
    if only is None:
        d = store.path(layout.UNITS_DIR)
        yield "units", [yamlio.read(p, f"{layout.UNITS_DIR}/{p.name}") for p in (sorted(d.glob("*.yaml")) if d.is_dir() else [])]
    for tid in tids:
        dossier: dict[str, Any] = {"tenant_id": tid}
        for c in CATEGORIES:
            if only is not None and c.key != only.key:
                continue
            data = _raw(store, tid, c)
            if data is not None:
                dossier[c.key] = data
        if len(dossier) > 1:
            result.tenants += 1
            yield "tenant", dossier


def _json_chunks(parts: Iterator[tuple[str, Any]]) -> Iterator[bytes]:
    """The document as `json.dumps(doc, indent=2)` writes it, a tenant at a time."""
    def dumps(value, depth: int) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2, default=_json_default).replace("\n", "\n" + "  " * depth)

    yield b"{"
    first_tenant = True
    for key, value in parts:
        if key != "tenant":
            yield f"\n  {json.dumps(key)}: {dumps(value, 1)},".encode("utf-8")
            continue
        yield (('\n  "tenants": [\n    ' if first_tenant else ",\n    ") + dumps(value, 2)).encode("utf-8")
        first_tenant = False
    yield ('\n  "tenants": []\n}\n' if first_tenant else "\n  ]\n}\n").encode("utf-8")


def _yaml_chunks(parts: Iterator[tuple[str, Any]]) -> Iterator[bytes]:
    """The document as one YAML mapping, its `tenants:` list written a tenant at a time."""
    first_tenant = True
    for key, value in parts:
        if key != "tenant":
            yield _yaml_text({key: value}).encode("utf-8")
            continue
        if first_tenant:
            yield b"tenants:\n"
            first_tenant = False
        yield _yaml_text([value]).encode("utf-8")  # a one-item list: the item as `tenants:` holds it
    if first_tenant:
        yield b"tenants: []\n"


def _yaml_text(doc: Any) -> str:
    """YAML through ruamel's C emitter: no comments to keep here, and ten times the speed."""
    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=False)
    y.allow_unicode = True
    y.default_flow_style = False
    y.width = 4096
    if hasattr(y, "sort_base_mapping_type_on_output"):
        y.sort_base_mapping_type_on_output = False
    # The reader shares equal values (one date object for every `2024-01-01` of a file); an
    # alias for them would be refused by `wuye import`, which reads no anchors.
    y.representer.ignore_aliases = lambda data: True
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


def _json_default(value: Any):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def export(store: Store, out: str, fmt: str | None = None, category: str | None = None,
           tenant: str | None = None) -> tuple[ExportResult, bytes]:
    """The export's bytes (the caller writes them: a file, or stdout for `-o -`)."""
    from wuye.archive.dossier import category as find_category

    kind = _format(out, fmt) if out != "-" or fmt else None
    if kind is None:
        raise WuyeError(tr("输出到标准输出时请用 --format 指定格式", "with -o - (stdout), name the format with --format"))
    if kind == "xlsx" and out == "-":
        raise WuyeError(tr("xlsx 不能输出到标准输出；请用 -o 文件.xlsx", "xlsx cannot go to stdout; give -o FILE.xlsx"))
    only = None
    if category is not None and category not in (LEDGER, LEDGER_SHEET) and category.lower() not in ("units", UNITS_SHEET):
        only = find_category(category)
    tids = _tenants(store, tenant)
    problems: list[Problem] = []

    if kind in ("json", "yaml"):
        if category is not None and only is None:
            raise WuyeError(tr("json/yaml 导出的是档案库本身的记录；--category 只能是十二类之一",
                               "json/yaml exports the store's own records; --category must be one of the twelve categories"))
        result = ExportResult(out, kind, 0, {})
        parts = _document(store, tids, only, result)
        return result, (_json_chunks(parts) if kind == "json" else _yaml_chunks(parts))

    if kind == "xlsx" and not (category is not None and only is None and category.lower() not in ("units", UNITS_SHEET)):
        units = category is not None and only is None
        plans = [_units_plan(store)] if units else [_category_plan(store, c, tids) for c in ([only] if only else CATEGORIES)]
        if not units and only is None and tenant is None:
            plans.append(_units_plan(store))
        for plan in plans:
            problems += plan.count()
        _refuse(problems)
        result = ExportResult(out, kind, len(tids), {plan.name: plan.rows for plan in plans})
        return result, _xlsx_chunks(store, plans)
    names = {}
    for tid in tids:
        p = _raw(store, tid, BY_KEY["profile"])
        names[tid] = str(p.get("name", "")) if isinstance(p, dict) else ""
    sheets: list[Sheet]
    if category is not None and only is None:
        sheets = [units_sheet(store, problems)] if category.lower() in ("units", UNITS_SHEET) else [ledger_sheet(store, tids, problems)]
    elif only is not None:
        sheets = [category_sheet(store, only, tids, names, problems)]
    else:
        sheets = [ledger_sheet(store, tids, problems)]
    _refuse(problems)
    data = write_csv(sheets[0]) if kind == "csv" else _xlsx_of(sheets[0], store.tz())
    return ExportResult(out, kind, len(tids), {s.name: len(s.rows) for s in sheets}), iter([data])


def write_output(path: str, chunks: Iterable[bytes]) -> None:
    """Write the export atomically: a reader never sees half a workbook, and an export that fails
    midway (a store file that cannot be read) leaves no partial file behind."""
    target = Path(path)
    if target.is_dir():
        raise WuyeError(tr("%s 是一个目录；请给出文件名", "%s is a folder; give a file name") % path)
    if not target.parent.exists():
        raise WuyeError(tr("目录 %s 不存在", "the folder %s does not exist") % target.parent)
    write_atomic(target, chunks, tmp=target.with_name(f".{target.name}.wuye-export-{os.getpid()}"), mode=0o666, sync=False)
