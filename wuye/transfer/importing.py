"""Batch import (`wuye import`): old ledgers, record feeds and store transfers, all or nothing.

Three kinds of input, in CSV, xlsx, YAML or JSON: a tenant ledger (客户台账, one row per tenant:
profile, primary contact, deposits, move-in date, units), record sheets (`--category payments`, or
an xlsx sheet named after a category: rows appended to each tenant's category), and the store's own
export document (full-fidelity transfers between stores). Every row is read and validated first,
against the same pydantic models every other command uses; any problem refuses the whole import,
every problem listed as `FILE:ROW:COL: message`, and nothing is written. Otherwise every file is
written through one `Store.change`: one commit, with trailers naming the sources and their sha256.

Importing the same file twice changes nothing: each row finds the record it made last time (a
tenant by its id, USCC or exact name; a deposit by its item; a contact by name and phone; any other
entry by its id or by equal content), and a file whose content is already there is not written.
New files are emitted by a fast writer (`fast_dump`) that produces the bytes the round-trip dumper
would; files that exist are edited round-trip, so a clerk's comments survive, and entries appended
to an untouched list are appended to the text itself.

This module reads the store and writes only through `Store.change`; it imports no CLI code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wuye.transfer import ledger
from wuye.storage import cache, yamlio
from wuye.archive.dossier import deep_merge, ordered, pinyin_initials
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.transfer.ledger import IGNORE, Table, refusal
from wuye.models.archive import BY_KEY, CATEGORIES, ArchiveCategory, file_model, entry_model
from wuye.storage.store import Staged, Store

FORMATS = ("csv", "xlsx", "yaml", "json")
EXPORT_MARK = "wuye_export"
UNITS = "units"
UNIT_SHEETS = ("units", "单元", "单元房态")
# Who wrote a record and when, and who answers for a ledger item (trust/money.py: the importer
# seals what it writes): never a record's value, so never a change an import makes or compares.
STAMPS = ("updated_by", "updated_at", "recorded_by", "recorded_at", "seal", "closed_by")
DEPOSITS = (("lease_deposit", "租赁押金"), ("renovation_deposit", "装修押金"))

Progress = Callable[[str, int, int], None]


# --- the result ----------------------------------------------------------------------------


class Change:
    """One line of what an import changes, for the summary and the `-v` diff. Slotted: a
    10,000-tenant import notes 460,000 of them, and a dict each was a hundred megabytes."""

    __slots__ = ("tenant", "file", "action", "field", "old", "new")

    def __init__(self, tenant: str | None, file: str, action: str, field: str = "", old: Any = None, new: Any = None):
        self.tenant = tenant  # None for a unit
        self.file = file  # category key or "units/<id>"
        self.action = action  # "create", "set", "add", "update", "release"
        self.field, self.old, self.new = field, old, new

    @property
    def __dict__(self) -> dict:  # type: ignore[override]
        """The fields by name, as a dataclass has them (the CLI's --json spreads them)."""
        return {k: getattr(self, k) for k in self.__slots__}

    def __eq__(self, other) -> bool:
        return isinstance(other, Change) and self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return f"Change({', '.join(f'{k}={getattr(self, k)!r}' for k in self.__slots__)})"


@dataclass
class Source:
    label: str
    name: str
    sha256: str
    kind: str = ""  # "ledger", a category key, "units", "store"


@dataclass
class ImportResult:
    sources: list[Source]
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    records_added: int = 0
    records_updated: int = 0
    units_written: int = 0
    files: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # tenant id -> company name
    commit: str | None = None
    dry_run: bool = False

    def summary(self) -> str:
        return tr("新建 %d 个租户，更新 %d 个，新增 %d 条记录，修改 %d 条，写入 %d 个单元",
            "%d tenants created, %d updated, %d records added, %d changed, %d units written") % (
            len(self.created), len(self.updated), self.records_added, self.records_updated, self.units_written)

    def to_json(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "commit": self.commit,
            "sources": [{"file": s.label, "sha256": s.sha256, "kind": s.kind} for s in self.sources],
            "created": self.created,
            "updated": self.updated,
            "records_added": self.records_added,
            "records_updated": self.records_updated,
            "units_written": self.units_written,
            "files": len(self.files),
            "changes": [c.__dict__ for c in self.changes],
            "warnings": [p.to_json() for p in self.warnings],
        }


# --- the fast YAML writer ------------------------------------------------------------------


class _Fallback(Exception):
    """A value the fast writer is not sure of: the round-trip dumper writes the file instead."""


_RESERVED = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"})
_SCALARS: dict[str, str] = {}


def _rt_scalar(s: str) -> str:
    """A string as the round-trip dumper writes it (asked once per distinct string)."""
    if s not in _SCALARS:
        text = yamlio.dumps({"k": s})
        if not text.startswith("k: ") or text.count("\n") != 1:
            raise _Fallback
        if len(_SCALARS) > 100_000:
            _SCALARS.clear()
        _SCALARS[s] = text[3:-1]
    return _SCALARS[s]


_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+([+-][0-9]{2}:[0-9]{2})?)?")
_LANDLINE = re.compile(r"0[0-9]{2,3}-[0-9]{7,8}")
_CODE = re.compile(r"[0-9A-Z]{18}")
_EXPONENT = re.compile(r"[0-9]+E[0-9]+")
# A seal's signature (trust/money.py): ~300 characters of base64, a new one for every ledger item
# an import writes. Beginning with a letter and holding no space, colon or hash, it is a plain
# scalar on one line (a test compares with the round-trip dumper); asking the dumper for each of
# 163,000 signatures took most of a 10,000-tenant import.
_BASE64 = re.compile(r"[A-Za-z][A-Za-z0-9+/]{199,999}={0,2}")


_WRITTEN: dict[str, str] = {}  # short strings as written: kinds, items, dates, staff ids recur in every file


def _str_scalar(s: str) -> str:
    if len(s) > 40:
        return _decided(s)
    written = _WRITTEN.get(s)
    if written is None:
        if len(_WRITTEN) > 100_000:
            _WRITTEN.clear()
        written = _WRITTEN[s] = _decided(s)
    return written


def _decided(s: str) -> str:
    if len(s) > 200 and _BASE64.fullmatch(s):
        return s
    if not s or len(s) > 200 or s != s.strip():
        return _rt_scalar(s)
    first = s[0]
    if first.isascii() and first.isdigit():
        # Phone numbers, amounts, dates and codes: the forms a store holds, decided as the
        # round-trip dumper decides them (a test compares the two); anything else is asked.
        if _DIGITS.fullmatch(s) or _DECIMAL.fullmatch(s) or _ISO.fullmatch(s):
            return f"'{s}'"
        if _LANDLINE.fullmatch(s) or (_CODE.fullmatch(s) and not _EXPONENT.fullmatch(s) and not s.isdigit()):
            return s
        return _rt_scalar(s)
    if not first.isalpha() or s.lower() in _RESERVED or ":" in s or "#" in s:
        return _rt_scalar(s)
    if not s.isprintable() or any(ch in s for ch in "\x85\u2028\u2029\ufeff"):
        return _rt_scalar(s)
    return s


def _scalar(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _str_scalar(v)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v.isoformat()
    raise _Fallback


_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_KEYS: set[str] = set()  # field names seen to be plain keys: a few dozen, met millions of times


def _emit_map(d: dict, indent: int, out: list[str], first: str | None = None) -> None:
    pad = " " * indent
    for i, (k, v) in enumerate(d.items()):
        if k not in _KEYS:
            if not isinstance(k, str) or not _KEY.fullmatch(k):
                raise _Fallback
            if len(_KEYS) < 1000:
                _KEYS.add(k)
        prefix = first if (i == 0 and first is not None) else pad
        if isinstance(v, dict):
            if not v:
                raise _Fallback
            out.append(f"{prefix}{k}:")
            _emit_map(v, indent + 2, out)
        elif isinstance(v, list):
            if not v:
                raise _Fallback
            out.append(f"{prefix}{k}:")
            _emit_seq(v, indent + 2, out)
        else:
            out.append(f"{prefix}{k}: {_scalar(v)}")


def _emit_seq(seq: list, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in seq:
        if isinstance(item, dict):
            if not item:
                raise _Fallback
            _emit_map(item, indent + 2, out, first=pad + "- ")
        elif isinstance(item, list):
            raise _Fallback
        else:
            out.append(f"{pad}- {_scalar(item)}")


def fast_dump(data: dict, comment: str | None = None) -> str:
    """The text `yamlio.dumps` writes for plain record data, about fifty times faster.

    For 10,000 tenants the round-trip dumper alone would take most of a minute. This writer
    handles the shapes records have (mappings, lists, strings, numbers, dates, booleans) and
    hands anything unusual back to the round-trip dumper, so the bytes are the same either way.
    """
    out: list[str] = [f"# {comment}"] if comment else []
    try:
        _emit_map(data, 0, out)
    except _Fallback:
        if comment is None:
            return yamlio.dumps(data)
        from ruamel.yaml.comments import CommentedMap

        doc = CommentedMap()
        doc.yaml_set_start_comment(comment)
        doc.update(data)
        return yamlio.dumps(doc)
    return "\n".join(out) + "\n"


def _entries_text(entries: list[dict]) -> str | None:
    """Entries as the lines that follow `entries:`, or None when the fast writer declines."""
    out: list[str] = []
    try:
        _emit_seq(entries, 2, out)
    except _Fallback:
        return None
    return "\n".join(out) + "\n"


def _comment(c: ArchiveCategory) -> str:
    return f"{c.number}. {c.title} / {c.title_en}"


# --- the files an import touches ----------------------------------------------------------


class _File:
    """One store file as the import sees it: what is there, what it will be, what changed."""

    def __init__(self, ws: "_Workspace", rel: str, model, category: ArchiveCategory | None, is_list: bool,
                 raw: tuple[str, Any] | None = None, folder: bool = True):
        self.ws, self.rel, self.model, self.category, self.is_list = ws, rel, model, category, is_list
        self.text: str | None = None
        self.broken = False
        self.obj = None  # single record: the model instance
        self.entries: list = []  # list category: model instances
        self.orig_n = 0
        self.changed_keys: set[str] = set()
        self.modified: set[int] = set()
        self._keys: list | None = None
        self._keyset: set = set()
        path = ws.store.path(rel)
        self.exists = folder and path.is_file()
        if not self.exists:
            return
        try:
            # A profile was already read for the tenant index: parsing is most of a re-import.
            self.text, data = raw if raw is not None else (yamlio.read_text(path, rel), None)
            if raw is None:
                data = yamlio.loads(self.text, rel)
        except WuyeError as e:
            self._broken(e.problems or [Problem(rel, str(e), code="file.unreadable")])
            return
        validated, invalid = yamlio.check_model(file_model(category) if category else model,
                                                data if data is not None else {}, rel, self.text)
        if invalid:
            self._broken(invalid)
            return
        if is_list:
            self.entries = list(validated.entries)
            self.orig_n = len(self.entries)
        else:
            self.obj = validated

    def _broken(self, problems: list[Problem]) -> None:
        self.broken = True
        suffix = tr("（导入要写入此文件，请先修正它）", " (the import writes to this file: fix it first)")
        self.ws.problems += [Problem(p.path, p.message + suffix, p.line, p.col, code=p.code) for p in problems if p.level == "error"]

    @property
    def dirty(self) -> bool:
        return not self.exists and (self.obj is not None or bool(self.entries)) or bool(self.changed_keys) \
            or bool(self.modified) or len(self.entries) > self.orig_n

    # single records ----------------------------------------------------------------------

    def update(self, updates: dict, on_error, stamps: dict | None = None) -> list[tuple[str, Any, Any]] | None:
        """Merge `updates` into the record; the fields that changed (None if refused)."""
        from pydantic import ValidationError

        if self.broken:
            return None
        current = self.obj.model_dump() if self.obj is not None else {}
        merged = deep_merge(current, updates)
        if stamps is None:
            stamps = {"updated_by": self.ws.actor.id, "updated_at": self.ws.now}
        merged.update(stamps)
        warnings: list = []
        try:
            obj = self.model.model_validate(merged, context={"warnings": warnings})
        except ValidationError as e:
            on_error(e)
            return None
        for fname, msg in warnings:
            if fname in updates:  # a doubtful value already in the store is not this import's news
                on_error(None, fname, msg)
        diff = _diff(self.obj, obj)
        if self.obj is not None and not diff:
            return []
        self.obj = obj
        self.changed_keys |= {k for k, _, _ in diff} | set(stamps)
        return diff

    # list categories ---------------------------------------------------------------------

    def append(self, item: dict, on_error, keep_stamps: bool = False) -> str | None:
        """Append an entry (its own id kept if free, else the next one); its id, None if refused."""
        from pydantic import ValidationError

        from wuye.archive.dossier import next_id

        if self.broken:
            return None
        item = dict(item)
        used = {e.id for e in self.entries}
        if not item.get("id") or item["id"] in used:
            item["id"] = next_id(self.category, [{"id": e.id} for e in self.entries])
        if not (keep_stamps and item.get("recorded_by")):
            item["recorded_by"] = self.ws.actor.id
        if not (keep_stamps and item.get("recorded_at")):
            item["recorded_at"] = self.ws.now
        warnings: list = []
        try:
            entry = self.model.model_validate(item, context={"warnings": warnings})
        except ValidationError as e:
            on_error(e)
            return None
        for fname, msg in warnings:
            on_error(None, fname, msg)
        self.entries.append(entry)
        if self._keys is not None:
            self._keys.append(_key(_values(entry)))
            self._keyset.add(self._keys[-1])
        return entry.id

    def modify(self, index: int, updates: dict, on_error) -> list[tuple[str, Any, Any]] | None:
        from pydantic import ValidationError

        current = self.entries[index].model_dump()
        merged = deep_merge(current, updates)
        try:
            entry = self.model.model_validate(merged)
        except ValidationError as e:
            on_error(e)
            return None
        diff = _diff(self.entries[index], entry)
        if diff:
            self.entries[index] = entry
            self._keys = None
            if index < self.orig_n:
                self.modified.add(index)
        return diff

    def find(self, pred) -> list[int]:
        return [i for i, e in enumerate(self.entries) if pred(e)]

    def holds(self, entry) -> bool:
        """Is an entry with these values (id and stamps aside) already in the file?"""
        if self._keys is None or len(self._keys) != len(self.entries):
            # Built once per file: a monthly fee feed looks each row up among years of entries.
            self._keys = [_key(_values(e)) for e in self.entries]
            self._keyset = set(self._keys)
        return _key(_values(entry)) in self._keyset

    # rendering ---------------------------------------------------------------------------

    def _plain(self, obj) -> dict:
        data = yamlio.plain(obj.model_dump())
        return ordered(data) if self.category is not None else data

    def _sealed(self, entry, reread: bool = False):
        """A ledger item as written, sealed by the importer (other categories as they are)."""
        if self.category is not None and self.category.key == "payments":
            self.ws.seal(self.rel, entry, reread)
        return entry

    def render(self) -> str:
        comment = _comment(self.category) if self.category is not None else None
        if not self.exists:
            if self.is_list:
                return fast_dump({"entries": [self._sealed(self._plain(e)) for e in self.entries]}, comment)
            return fast_dump(self._plain(self.obj), comment)
        if self.is_list:
            return self._render_list()
        return self._render_single()

    def _render_single(self) -> str:
        from wuye.archive.dossier import TRAILING, roundtrip_merge

        doc = yamlio.load_roundtrip(self.text)
        if doc is None or not hasattr(doc, "keys"):
            return fast_dump(self._plain(self.obj))
        new = self._plain(self.obj)
        for key in [k for k in new if k in self.changed_keys] + [k for k in self.changed_keys if k not in new]:
            if key not in new:
                doc.pop(key, None)
            elif key in doc:
                doc[key] = roundtrip_merge(doc.get(key), new[key])
            elif key in TRAILING or self.category is None:
                doc[key] = new[key]
            else:
                # A field new to a hand-kept file goes before the stamps, as ordered() puts it.
                pos = next((i for i, k in enumerate(doc) if k in TRAILING), len(doc))
                doc.insert(pos, key, new[key])
        return yamlio.dumps(doc)

    def _render_list(self) -> str:
        from wuye.archive.dossier import roundtrip_merge

        appended = [self._sealed(self._plain(e)) for e in self.entries[self.orig_n:]]
        if not self.modified and appended and self.text.endswith("\n"):
            # Appending to the text keeps every byte of what a clerk wrote; the result is
            # parsed back, and any surprise (a flow-style list, odd indentation) falls back.
            tail = _entries_text(appended)
            if tail is not None:
                text = self.text + tail
                try:
                    parsed = yamlio.loads(text, self.rel)
                except WuyeError:
                    parsed = None
                if isinstance(parsed, dict) and list(parsed) == ["entries"] \
                        and len(parsed["entries"]) == len(self.entries) and parsed["entries"][self.orig_n:] == appended:
                    return text
        doc = yamlio.load_roundtrip(self.text)
        if doc is None or not hasattr(doc, "keys"):
            return fast_dump({"entries": [self._sealed(self._plain(e)) for e in self.entries[:self.orig_n]] + appended},
                             _comment(self.category))
        if doc.get("entries") is None:
            doc["entries"] = []
        for i in sorted(self.modified):
            doc["entries"][i] = self._sealed(roundtrip_merge(doc["entries"][i], self._plain(self.entries[i])), reread=True)
        for entry in appended:
            doc["entries"].append(entry)
        return yamlio.dumps(doc)


def _values(obj) -> dict:
    """A record's own values, typed (Decimal, date, nested records), without its id and stamps.

    Compared as the model holds them, not as they are written: an area of 120.50 in a unit file
    and 120.5 from a spreadsheet cell are the same area, and no change.
    """
    if obj is None:
        return {}
    return {k: getattr(obj, k) for k in type(obj).model_fields if k != "id" and k not in STAMPS}


def _key(value: Any) -> Any:
    """A hashable form of typed values that is equal exactly when the values are equal."""
    from decimal import Decimal

    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_key(v) for v in value)
    if isinstance(value, Decimal):
        return ("D", value.normalize())
    if hasattr(value, "model_fields"):
        return _key({k: getattr(value, k) for k in type(value).model_fields})
    return value


def _diff(old, new) -> list[tuple[str, Any, Any]]:
    before, after = _values(old), _values(new)
    return [(k, before.get(k), v) for k, v in after.items() if v != before.get(k)]


# --- the workspace: the store as this import sees it ----------------------------------------


class _Workspace:
    def __init__(self, store: Store, actor, now: dt.datetime):
        self.store, self.actor, self.now = store, actor, now
        self.tz = now.tzinfo
        self.files: dict[str, _File] = {}
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.changes: list[Change] = []
        self.created: dict[str, str] = {}  # tenant id -> name, dossiers this import opens
        self._index: dict | None = None
        self._raw: dict[str, tuple[str, Any]] = {}  # profiles read for the index, not yet parsed again
        self._folders: dict[str, bool] = {}  # tenant id -> whether its folder exists
        self._last: int | None = None
        self.unit_claims: dict[str, tuple[str, Callable]] = {}  # unit -> (tenant, reporter)
        self.unit_releases: dict[str, str] = {}  # unit -> tenant giving it up
        self.dry_run = False
        self._sealer = None  # trust/money.Sealer once a ledger item is written; False: none to make
        # Files already rendered (flush): rel -> (UTF-8 bytes, or where they were staged, or None
        # once the import is refused; entries added; entries modified).
        self.rendered: dict[str, tuple[bytes | Staged | None, int, int]] = {}
        self.stager: Callable[[str, bytes], Staged] | None = None  # Change.stage, when not a dry run

    def seal(self, rel: str, entry: dict, reread: bool) -> None:
        """Seal a ledger item this import writes (trust/money.py): the importer answers for it,
        so the importer must be finance or management (refused before anything is written)."""
        from wuye.trust import money

        if self._sealer is None:
            if not set(self.actor.departments) & set(money.MONEY_DEPARTMENTS):
                raise WuyeError(money.refusal(self.actor))
            self._sealer = False if self.dry_run or not money.sealing_on(self.store) else money.Sealer(self.store, self.actor)
        if self._sealer:
            self._sealer.seal(rel.split("/")[1], entry, reread=reread)

    # files -------------------------------------------------------------------------------

    def tenant_file(self, tid: str, c: ArchiveCategory) -> _File:
        rel = f"tenants/{tid}/{c.filename}"
        if rel not in self.files:
            if tid not in self._folders:  # a tenant this import opens has no files: one look, not twelve
                self._folders[tid] = self.store.path(f"tenants/{tid}").is_dir()
            self.files[rel] = _File(self, rel, entry_model(c), c, c.is_list, self._raw.pop(rel, None), self._folders[tid])
        return self.files[rel]

    def unit_file(self, uid: str) -> _File:
        from wuye.models.store import Unit

        from wuye.models.ids import unit_id

        rel = f"units/{unit_id(uid)}.yaml"  # uid: the 房号 as written (A座801)
        if rel not in self.files:
            self.files[rel] = _File(self, rel, Unit, None, False)
        return self.files[rel]

    def flush(self, tid: str) -> None:
        """Render a tenant's changed files now and let go of their models: an import of 10,000
        dossiers holds each record once, as the text it will write."""
        self.flush_files([f"tenants/{tid}/{c.filename}" for c in CATEGORIES])

    def flush_files(self, rels: list[str]) -> None:
        for rel in rels:
            f = self.files.pop(rel, None)
            if f is None:
                continue
            if f.dirty:
                # Refused already: the text would never be written, so it is not made.
                text = None if self.problems else f.render().encode("utf-8")
                if text is not None and self.stager is not None:
                    text = self.stager(rel, text)  # held by name, not by 230 MB of bytes at 10,000 tenants
                self.rendered[rel] = (text, len(f.entries) - f.orig_n if f.is_list else 0, len(f.modified) if f.is_list else 0)

    # tenants -----------------------------------------------------------------------------

    def index(self) -> dict:
        """Existing tenants by id, USCC and exact name (read once, with the C loader)."""
        if self._index is None:
            by_id, by_uscc, by_name = {}, {}, {}
            for tid in self.store.tenant_ids():
                rel = f"tenants/{tid}/profile.yaml"
                try:
                    text = yamlio.read_text(self.store.path(rel), rel)
                    data = yamlio.loads(text, rel)
                except WuyeError:
                    data = None  # reported with its place if this import touches the tenant
                else:
                    self._raw[rel] = (text, data)
                p = data if isinstance(data, dict) else {}
                by_id[tid] = p
                if p.get("uscc"):
                    by_uscc.setdefault(str(p["uscc"]).upper(), tid)
                if p.get("name"):
                    by_name.setdefault(str(p["name"]), []).append(tid)
            self._index = {"id": by_id, "uscc": by_uscc, "name": by_name}
        return self._index

    def exists(self, tid: str) -> bool:
        return tid in self.created or self.store.tenant_exists(tid)

    def name_of(self, tid: str) -> str:
        if tid in self.created:
            return self.created[tid]
        return str(self.index()["id"].get(tid, {}).get("name", ""))

    def by_name(self, name: str) -> list[str]:
        found = list(self.index()["name"].get(name, []))
        found += [t for t, n in self.created.items() if n == name and t not in found]
        return found

    def next_id(self, taken: set[str]) -> str:
        """The next free T0001…, after every id in the store and in this import."""
        if self._last is None:
            numbers = [int(t[1:]) for t in (*self.index()["id"], *taken) if re.fullmatch(r"T\d+", t)]
            self._last = max(numbers, default=0)
        self._last += 1
        while f"T{self._last:04d}" in taken:
            self._last += 1
        return f"T{self._last:04d}"

    def note(self, tid: str | None, file: str, action: str, fld: str = "", old=None, new=None) -> None:
        self.changes.append(Change(tid, file, action, fld, _shown(old), _shown(new)))

    def take(self, outcome: tuple) -> None:
        """What a worker's dossier added to its workspace (_dossier_batch), added to this one."""
        if outcome[0] == "refused":
            raise WuyeError(outcome[1], outcome[2])
        problems, warnings, changes, created, rendered = outcome
        self.problems += problems
        self.warnings += warnings
        self.changes += changes
        self.created.update(created)
        self.rendered.update(rendered)


def _shown(v: Any) -> Any:
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, list):
        return [_shown(x) for x in v]
    if isinstance(v, dict):
        return {k: _shown(x) for k, x in v.items()}
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


# --- reading the sources ------------------------------------------------------------------


@dataclass
class _Loaded:
    source: Source
    tables: list[Table] = field(default_factory=list)
    document: dict | None = None  # the store's export document
    records: list[dict] | None = None  # a YAML/JSON list of records (needs --category)
    notes: list[Problem] = field(default_factory=list)  # warnings from reading it
    text: str | None = None  # YAML text, for locating errors


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    ext = path.suffix.lower()
    found = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
             ".yaml": "yaml", ".yml": "yaml", ".json": "json"}.get(ext)
    if found:
        return found
    if ext == ".xls":
        raise refusal(str(path), tr("这是旧的 .xls 格式；请在 Excel 中另存为 .xlsx 再导入",
                                                  "this is the old .xls format; save it as .xlsx in Excel and import that"))
    raise refusal(str(path), tr("看不出文件格式；请用 --format csv|xlsx|yaml|json 指定",
                                              "cannot tell the file's format; name it with --format csv|xlsx|yaml|json"))


def _load(path: Path, fmt: str | None, encoding: str | None, accept) -> _Loaded:
    label = str(path)
    if not path.exists():
        raise refusal(label, tr("文件不存在", "file does not exist"))
    if path.is_dir():
        raise refusal(label, tr("这是一个目录，不是文件", "this is a directory, not a file"))
    kind = _format_of(path, fmt)
    if kind == "json":
        return _load_json(path, label)
    raw = path.read_bytes()
    source = Source(label, path.name, hashlib.sha256(raw).hexdigest())
    if kind == "csv":
        return _Loaded(source, [ledger.read_csv(path, label, encoding, accept)])
    if kind == "xlsx":
        tables, notes = ledger.read_xlsx(path, label, raw)
        return _Loaded(source, tables, notes=notes)
    text = yamlio.decode(raw, label)
    data = yamlio.loads(text, label)
    if isinstance(data, dict) and (EXPORT_MARK in data or "tenants" in data):
        return _Loaded(source, document=data, text=text)
    return _records_of(source, data, text)


def _records_of(source: Source, data: Any, text: str | None) -> _Loaded:
    if isinstance(data, dict) and isinstance(data.get("entries"), list):
        data = data["entries"]
    if isinstance(data, list) and all(isinstance(x, dict) for x in data):
        return _Loaded(source, records=data, text=text)
    raise refusal(source.label, tr(
        "内容应为 wuye export 导出的文档（含 tenants:），或记录的列表（配合 --category）",
        "must be a document written by `wuye export` (with tenants:), or a list of records (with --category)"))


@dataclass
class _Streamed:
    """A JSON export read as a stream (transfer/jsonstream.py): its small top-level values, what
    its `tenants` is, and its dossiers, read again one at a time when the import gets to them."""

    path: Path
    label: str
    outline: Any  # jsonstream.Outline

    def __iter__(self):
        return iter([*self.outline.top, *(["tenants"] if self.outline.tenants == "array" else [])])

    def get(self, key: str, default=None):
        return self.outline.top.get(key, default)

    def dossiers(self):
        from wuye.transfer import jsonstream

        return jsonstream.items(self.path, self.label, self.outline.sha256)


def _load_json(path: Path, label: str) -> _Loaded:
    """A JSON source: an export is streamed, a list of records (small: a feed) is read whole."""
    from wuye.transfer import jsonstream

    outline = jsonstream.outline(path, label)
    source = Source(label, path.name, outline.sha256)
    if outline.kind == "object" and (EXPORT_MARK in outline.top or outline.tenants is not None or "tenants" in outline.top):
        return _Loaded(source, document=_Streamed(path, label, outline))  # type: ignore[arg-type]
    return _records_of(source, outline.top if outline.kind == "object" else outline.items, None)


# --- rows of a table ----------------------------------------------------------------------


@dataclass
class _Row:
    table: Table
    number: int
    values: dict[str, Any]  # field -> normalised value
    cols: dict[str, int]  # field -> column index

    def problem(self, fld: str | None, message: str, level: str = "error") -> Problem:
        return self.table.problem(self.number, self.cols.get(fld) if fld else None, message, level)

    @property
    def where(self) -> str:
        return f"{self.table.name}:{self.number}"

    def reporter(self, ws: _Workspace, fields: dict[str, str] | None = None, title: Callable[[str], str] = str):
        """An on_error callback placing pydantic errors at this row's columns.

        `fields` maps a model field to the table field it came from (profile.phone <- company_phone).
        """
        fields = fields or {}

        def on_error(e, fname: str | None = None, message: str | None = None):
            if e is None:  # a warning from a validator (a USCC failing its checksum)
                src = fields.get(fname, fname)
                ws.warnings.append(self.problem(src, f"{title(src)}: {message}", "warning"))
                return
            for err in e.errors(include_url=False):
                loc = [str(x) for x in err["loc"]]
                model_field = ".".join(loc[:2]) if loc and loc[0] in ("meter_readings", "meters") else (loc[0] if loc else None)
                src = fields.get(model_field, model_field) if model_field else None
                if src not in self.cols:
                    src = None
                label = title(src) if src else (".".join(loc) or tr("此行", "this row"))
                ws.problems.append(self.problem(src, f"{label}: {yamlio.describe(err)}"))

        return on_error


def _rows(ws: _Workspace, table: Table, m: ledger.HeaderMap, kinds: dict[str, ledger.FieldSpec | str],
          progress: Progress | None = None) -> list[_Row]:
    """The table's data rows, every cell normalised; problems go to the workspace."""
    start = ledger.find_header(table, m)
    if start is None:
        ws.problems.append(ledger.no_header(table, m))
        return []
    cols, problems = ledger.columns(table, start, m)
    ws.problems += problems
    used = [c for c in cols if c.field != IGNORE]
    rows: list[_Row] = []
    body = table.rows[start + 1:]
    total = len(body)
    for n, (number, values) in enumerate(body, 1):
        if progress is not None and n % 500 == 0:
            progress("read", n, total)
        if ledger.is_blank_row(values):
            continue  # empty rows, trailing ones above all, say nothing
        row = _Row(table, number, {}, {})
        for c in used:
            raw = values[c.index] if c.index < len(values) else None
            spec = kinds.get(c.field)
            kind = spec.kind if isinstance(spec, ledger.FieldSpec) else spec
            choices = spec.choices if isinstance(spec, ledger.FieldSpec) else (
                ledger.STATUS_CHOICES if c.field == "status" else None)
            row.cols[c.field] = c.index
            try:
                value = ledger.NORMALISERS[kind](raw, tz=ws.tz, choices=choices)
            except ValueError as e:
                ws.problems.append(row.problem(c.field, f"{c.header}: {e}"))
                continue
            if value is not None:
                row.values[c.field] = value
        rows.append(row)
    return rows


def _totals_row(row: _Row, key: str) -> bool:
    v = row.values.get(key)
    return isinstance(v, str) and v.replace(" ", "") in ledger.TOTAL_MARKS


# --- the tenant ledger ---------------------------------------------------------------------

_PROFILE_FROM_LEDGER = {
    "name": "name", "uscc": "uscc", "legal_rep": "legal_rep", "legal_rep_id": "legal_rep_id", "nature": "nature",
    "industry": "industry", "headcount": "headcount", "units": "units", "lease_start": "lease_start",
    "lease_end": "lease_end", "phone": "company_phone", "email": "email", "status": "status",
}


def _ledger(ws: _Workspace, tables: list[Table], m: ledger.HeaderMap, progress: Progress | None) -> None:
    rows: list[_Row] = []
    for t in tables:
        for row in _rows(ws, t, m, ledger.LEDGER_KINDS, progress):
            if _totals_row(row, "name") or _totals_row(row, "tenant_id"):
                ws.warnings.append(row.problem("name", tr("合计行，已跳过", "a totals row: skipped"), "warning"))
                continue
            if "lease_term" in row.values:
                start, end = row.values.pop("lease_term")
                for k, v in (("lease_start", start), ("lease_end", end)):
                    if k in row.values and row.values[k] != v:
                        ws.problems.append(row.problem(k, tr("与租期列 %s 不一致", "disagrees with the lease term column (%s)") % v))
                    row.values.setdefault(k, v)
                    row.cols.setdefault(k, row.cols["lease_term"])
            if not any(k in row.values for k in ("name", "tenant_id", "uscc")):
                ws.problems.append(row.problem(None, tr("这一行没有客户名称、客户编号或统一社会信用代码", "this row has no company name, tenant id or USCC")))
                continue
            rows.append(row)
    groups = _group(ws, rows)
    resolved = _resolve(ws, groups)
    for tid, row in resolved:
        _apply_ledger_row(ws, tid, row)
    _settle_units(ws)


def _group(ws: _Workspace, rows: list[_Row]) -> list[_Row]:
    """One row per tenant: repeated rows are dropped with a warning; the same tenant (id, USCC or
    name) on rows that differ is refused, both rows named."""
    keep: list[_Row] = []
    seen: dict[tuple, _Row] = {}
    for row in rows:
        keys = [(k, row.values[k]) for k in ("tenant_id", "uscc", "name") if k in row.values]
        prior = next((seen[k] for k in keys if k in seen), None)
        if prior is None:
            for k in keys:
                seen[k] = row
            keep.append(row)
            continue
        if prior.values == row.values:
            ws.warnings.append(row.problem(None, tr("与 %s 行完全相同，只导入一次",
                                                    "repeats row %s exactly: imported once") % prior.where, "warning"))
            continue
        diff = [k for k in sorted(set(prior.values) | set(row.values)) if prior.values.get(k) != row.values.get(k)]
        shown = "；".join(f"{ledger.LEDGER_FIELDS.get(k, (k,))[0]}: {_cell(prior.values.get(k))} / {_cell(row.values.get(k))}" for k in diff[:4])
        who = row.values.get("name") or row.values.get("tenant_id") or row.values.get("uscc")
        ws.problems.append(row.problem(None, tr(
            "%s 在 %s 行已出现，但两行内容不同（%s）；每个租户只能一行（多个房号写在一格：1205、1206）",
            "%s already appears at row %s with different data (%s); keep one row per tenant (several units in one cell: 1205、1206)") % (who, prior.where, shown)))
    return keep


def _cell(v: Any) -> str:
    if v is None:
        return tr("（空）", "(empty)")
    if isinstance(v, list):
        return "、".join(map(str, v))
    return str(v)


def _resolve(ws: _Workspace, rows: list[_Row]) -> list[tuple[str, _Row]]:
    """Each row's tenant id: its own column, else the tenant with its USCC, else with its exact
    name, else the next free T0001…; contradictions are refused."""
    idx = ws.index()
    out: list[tuple[str | None, _Row]] = []
    taken: set[str] = set()
    for row in rows:
        tid = row.values.get("tenant_id")
        uscc = str(row.values.get("uscc", "")).upper() or None
        name = row.values.get("name")
        owner = idx["uscc"].get(uscc) if uscc else None
        if tid:
            if owner and owner != tid:
                ws.problems.append(row.problem("uscc", tr(
                    "统一社会信用代码 %s 已属于 %s（%s），与客户编号 %s 不符",
                    "USCC %s already belongs to %s (%s), not to tenant id %s") % (uscc, owner, ws.name_of(owner), tid)))
                continue
        elif owner:
            tid = owner
        elif name:
            hits = idx["name"].get(name, [])
            if len(hits) > 1:
                ws.problems.append(row.problem("name", tr(
                    "档案库中有 %d 个租户名为 %s（%s）；请加一列客户编号说明是哪一个" % (len(hits), name, "、".join(hits)),
                    "%d tenants in the store are named %s (%s); add a tenant id column to say which" % (len(hits), name, ", ".join(hits)))))
                continue
            if hits:
                other = str(idx["id"][hits[0]].get("uscc") or "").upper()
                if uscc and other and other != uscc:
                    ws.problems.append(row.problem("uscc", tr(
                        "%s 已在档案库中（%s），但统一社会信用代码不同（%s）；若是同一家请更正代码，否则请加客户编号区分",
                        "%s is in the store (%s) with another USCC (%s); correct the code if it is the same company, else add a tenant id") % (name, hits[0], other)))
                    continue
                tid = hits[0]
        if tid in taken:
            ws.problems.append(row.problem("tenant_id" if "tenant_id" in row.values else "name", tr(
                "与另一行指向同一租户 %s", "names the same tenant %s as another row") % tid))
            continue
        if tid:
            taken.add(tid)
        out.append((tid, row))
    resolved = []
    for tid, row in out:
        if tid is None:
            tid = ws.next_id(taken)
            taken.add(tid)
        resolved.append((tid, row))
    return resolved


def _apply_ledger_row(ws: _Workspace, tid: str, row: _Row) -> None:
    v = dict(row.values)
    title = lambda f: ledger.LEDGER_FIELDS.get(f, (f,))[0]  # noqa: E731
    existing = ws.store.tenant_exists(tid)
    profile = ws.tenant_file(tid, BY_KEY["profile"])
    if profile.broken:
        return
    if "units" in v:
        v["units"] = _expand_ranges(ws, v["units"], row)
    if profile.obj is not None and profile.obj.status != "active" and v.get("status", profile.obj.status) != "active" \
            and ("units" in v or "area" in v):
        # A ledger kept over years still lists the units of a tenant that has left; the
        # move-out workflow released them, and only an explicit 在租 leases them again.
        shown = "、".join(v.get("units", [])) or "—"
        ws.warnings.append(row.problem("units", tr(
            "%s 的状态为%s：台账中的房号 %s 不再租给它；若已重新入驻，请把状态写为 在租" % (tid, _status_zh(profile.obj.status), shown),
            "%s has %s: its units in the ledger (%s) are not leased to it again; if it moved back in, set the status to 在租" % (
                tid, profile.obj.status.replace("_", " "), shown)), "warning"))
        v.pop("units", None)
        v.pop("area", None)
    old_units = list(profile.obj.units) if profile.obj is not None else []
    updates = {k: v[src] for k, src in _PROFILE_FROM_LEDGER.items() if src in v}
    if not existing:
        if "name" not in v:
            ws.problems.append(row.problem(None, tr("新租户 %s 缺少客户名称", "new tenant %s has no company name") % tid))
            return
        updates["tenant_id"] = tid
    if "name" in updates and (profile.obj is None or profile.obj.name != updates["name"] or not profile.obj.pinyin):
        updates["pinyin"] = pinyin_initials(updates["name"])  # about half a millisecond a name
    diff = profile.update(updates, row.reporter(ws, {**{k: s for k, s in _PROFILE_FROM_LEDGER.items()}, "pinyin": "name"}, title))
    if diff is None:
        return
    name = profile.obj.name
    if not existing:
        ws.created[tid] = name
        ws.note(tid, "profile", "create", "name", None, name)
        end = profile.obj.lease_end
        if end is not None and end < ws.now.date() and "status" not in v:
            ws.warnings.append(row.problem("lease_end", tr(
                "%s 的租期已于 %s 结束，仍按 在租 建档；若已迁出，请在台账中写明状态",
                "%s's lease ended on %s, yet it is recorded as active; if it has left, give its status in the ledger") % (name, end),
                "warning"))
    else:
        for k, old, new in diff:
            ws.note(tid, "profile", "set", k, old, new)
            if k == "lease_end" and old is not None and new is not None and new < old:
                # Applied as the ledger says, but an old ledger shortening a renewed lease is
                # the one change a clerk must not miss.
                ws.warnings.append(row.problem("lease_end", tr(
                    "%s 的租期结束从 %s 提前到 %s；台账是否比档案旧？",
                    "%s's lease end moves back from %s to %s; is the ledger older than the archive?") % (tid, old, new),
                    "warning"))

    # units: claimed by this tenant, released when the ledger no longer lists them
    units = list(profile.obj.units)
    if "units" in v:
        for u in old_units:
            if u not in units:
                ws.unit_releases[u] = tid
        for u in units:
            ws.unit_claims.setdefault(u, (tid, row))
    # An area whose row's 房号 was refused would only repeat that error as "1 areas for 0 units".
    units_refused = "units" not in v and "units" in row.cols and any(
        p.level == "error" and (p.line, p.col) == (mark.line, mark.col)
        for mark in [row.problem("units", "")] for p in ws.problems)
    if "area" in v and not units_refused:
        _ledger_area(ws, tid, row, units, v["area"], title)

    # the primary contact
    if "contact_name" in v or "contact_phone" in v:
        _ledger_contact(ws, tid, row, title)

    # deposits, found again by their item
    for fld, item in DEPOSITS:
        if fld not in v:
            continue
        _ledger_deposit(ws, tid, row, fld, item, v[fld], title)

    if "move_in_date" in v:
        f = ws.tenant_file(tid, BY_KEY["move_in"])
        d = f.update({"move_in_date": v["move_in_date"]}, row.reporter(ws, {"move_in_date": "move_in_date"}, title))
        for k, old, new in d or []:
            if old is not None or k == "move_in_date":
                ws.note(tid, "move_in", "set", k, old, new)

    if "note" in v:
        f = ws.tenant_file(tid, BY_KEY["supplement"])
        if not f.broken and not f.find(lambda e: e.note == v["note"]):
            eid = f.append({"note": v["note"]}, row.reporter(ws, {"note": "note"}, title))
            if eid:
                ws.note(tid, "supplement", "add", eid, None, v["note"])


def _ledger_contact(ws: _Workspace, tid: str, row: _Row, title) -> None:
    """The ledger's contact is the tenant's primary contact, found again by name and phone.

    A known person with a new number gets an entry for that number (the old one stays: both
    may be right); a new person becomes the primary contact and whoever was primary is not.
    """
    v = row.values
    f = ws.tenant_file(tid, BY_KEY["contacts"])
    if f.broken:
        return
    name, phone = v.get("contact_name"), v.get("contact_phone")
    fields = {"name": "contact_name", "phone": "contact_phone", "title": "contact_title", "email": "contact_email"}
    on_error = row.reporter(ws, fields, title)
    extra = {k: v[src] for k, src in (("title", "contact_title"), ("email", "contact_email")) if src in v}
    person = f.find(lambda e: e.kind == "contact" and (name is None or e.name == name))
    is_primary = any(f.entries[i].primary for i in person)
    exact = [i for i in person if phone is None or f.entries[i].phone == phone]
    if exact:
        i = exact[-1]
        d = f.modify(i, {**extra, **({} if is_primary else {"primary": True})}, on_error)
        for k, old, new in d or []:
            ws.note(tid, "contacts", "update", f"{f.entries[i].id}.{k}", old, new)
        if not is_primary:
            _demote(ws, tid, f, keep=f.entries[i].name, on_error=on_error)
        return
    if name is None or phone is None:
        missing = "contact_phone" if phone is None else "contact_name"
        present = "contact_name" if phone is None else "contact_phone"
        ws.problems.append(row.problem(present, tr(
            "新联系人需要 %s 和 %s 两项",
            "a new contact needs both %s and %s") % (title("contact_name"), title("contact_phone"))
            + ((tr("（缺 %s）", " (%s is missing)") % title(missing)))))
        return
    eid = f.append({"kind": "contact", "name": name, "phone": phone, "primary": not is_primary, **extra}, on_error)
    if eid is None:
        return
    ws.note(tid, "contacts", "add", eid, None, {"name": name, "phone": phone})
    if not is_primary:
        _demote(ws, tid, f, keep=name, on_error=on_error)


def _demote(ws: _Workspace, tid: str, f: _File, keep: str, on_error) -> None:
    """The ledger names the primary contact: whoever else was primary no longer is."""
    for i, e in enumerate(f.entries):
        if e.kind == "contact" and e.primary and e.name != keep:
            f.modify(i, {"primary": False}, on_error)
            ws.note(tid, "contacts", "update", f"{e.id}.primary", True, False)


def _ledger_deposit(ws: _Workspace, tid: str, row: _Row, fld: str, item: str, amount, title) -> None:
    f = ws.tenant_file(tid, BY_KEY["payments"])
    if f.broken:
        return
    on_error = row.reporter(ws, {"amount": fld, "paid": fld}, title)
    same = f.find(lambda e: e.kind == "deposit" and e.item == item)
    if same:
        i = same[-1]
        e = f.entries[i]
        updates = {"amount": amount}
        if e.paid == e.amount:
            updates["paid"] = amount
        d = f.modify(i, updates, on_error)
        for k, old, new in d or []:
            ws.note(tid, "payments", "update", f"{e.id}.{k}", old, new)
        return
    if amount == 0:
        return  # a zero in the deposit column: no deposit held, nothing to record
    eid = f.append({"kind": "deposit", "item": item, "amount": amount, "paid": amount, "deposit_status": "held"}, on_error)
    if eid:
        ws.note(tid, "payments", "add", eid, None, f"{item} {amount}")


def _status_zh(status: str) -> str:
    from wuye.models.archive import TENANT_STATUS_ZH

    return TENANT_STATUS_ZH.get(status, status)


_RANGE = re.compile(r"([0-9]+)-([0-9]+)")


def _unit_id(label: str) -> str:
    from wuye.models.ids import unit_id

    return unit_id(label)


def _expand_ranges(ws: _Workspace, units: list[str], row: _Row) -> list[str]:
    """`801-802` in a ledger means units 801 and 802, unless the store has a unit named 801-802."""
    out: list[str] = []
    for u in units:
        m = _RANGE.fullmatch(u)
        if m and len(m.group(1)) == len(m.group(2)) and 0 < int(m.group(2)) - int(m.group(1)) <= 20 \
                and not ws.store.path(f"units/{_unit_id(u)}.yaml").is_file():
            width = len(m.group(1))
            span = [f"{n:0{width}d}" for n in range(int(m.group(1)), int(m.group(2)) + 1)]
            ws.warnings.append(row.problem("units", tr("%s 按连续房号读作 %s" % (u, "、".join(span)),
                                                       "%s read as the units %s" % (u, ", ".join(span))), "warning"))
            out += span
        else:
            out.append(u)
    return list(dict.fromkeys(out))


def _ledger_area(ws: _Workspace, tid: str, row: _Row, units: list[str], areas: list, title) -> None:
    """One area per unit sets each unit's area; one area for several units is their total, which
    must agree with the unit files (it cannot be split without guessing)."""
    if len(areas) == len(units):
        for u, a in zip(units, areas):
            ws.unit_claims.setdefault(u, (tid, row))
            _unit_area(ws, u, a, row)
        return
    if len(areas) == 1 and len(units) > 1:
        known = {}
        for u in units:
            f = ws.unit_file(u)
            known[u] = f.obj.area if f.obj is not None else None
        if all(a is not None for a in known.values()):
            total = sum(known.values())
            if total == areas[0]:
                return
            parts = " + ".join(f"{u} {a}" for u, a in known.items())
            ws.problems.append(row.problem("area", tr(
                "%s: 总面积 %s 与各单元面积之和不符（%s = %s）；请更正，或每个房号写一个面积（如 120、80.5）",
                "%s: the total %s disagrees with the units' areas (%s = %s); correct it, or give one area per unit (e.g. 120、80.5)") % (title("area"), areas[0], parts, total)))
            return
        missing = "、".join(u for u, a in known.items() if a is None)
        ws.problems.append(row.problem("area", tr(
            "%s: 一个面积对应 %d 个房号，而 %s 的面积未知，无法拆分；请每个房号写一个面积（如 120、80.5）",
            "%s: one area for %d units, and the area of %s is unknown, so it cannot be split; give one area per unit (e.g. 120、80.5)") % (title("area"), len(units), missing)))
        return
    ws.problems.append(row.problem("area", tr(
        "%s: %d 个面积对应 %d 个房号；请每个房号一个面积（如 120、80.5），或写总面积",
        "%s: %d areas for %d units; give one per unit (e.g. 120、80.5), or the total") % (title("area"), len(areas), len(units))))


def _unit_area(ws: _Workspace, uid: str, area, row: _Row) -> None:
    f = ws.unit_file(uid)
    if f.broken:
        return
    current = f.obj.area if f.obj is not None else None
    if current is not None and current == area:
        return
    base = {} if f.obj is not None else _unit_base(uid)
    d = f.update({**base, "area": area}, row.reporter(ws, {"area": "area", "id": "units"}), stamps={})
    for k, old, new in d or []:
        if k == "area":
            ws.note(None, f"units/{uid}", "set", k, old, new)


def _unit_base(label: str) -> dict:
    """A new unit file's id (its file name) and, when it differs, the 房号 as written."""
    from wuye.models.store import Unit

    return {k: v for k, v in Unit.of(label).file_data().items() if k in ("id", "label")}


def _settle_units(ws: _Workspace) -> None:
    """Mark claimed units leased and released ones vacant; refuse a unit leased to someone else."""
    for uid, (tid, row) in ws.unit_claims.items():
        f = ws.unit_file(uid)
        if f.broken:
            continue
        cur = f.obj
        if cur is not None and cur.status == "leased" and cur.tenant not in (None, tid) and ws.unit_releases.get(uid) != cur.tenant:
            ws.problems.append(row.problem("units", tr(
                "单元 %s 已由 %s（%s）租用；若已换租，请先在台账中把它从 %s 的房号中删去",
                "unit %s is leased to %s (%s); if it changed hands, remove it from %s's units first") % (uid, cur.tenant, ws.name_of(cur.tenant), cur.tenant)))
            continue
        base = {} if cur is not None else _unit_base(uid)
        d = f.update({**base, "status": "leased", "tenant": tid}, row.reporter(ws, {"id": "units"}), stamps={})
        for k, old, new in d or []:
            if k in ("status", "tenant") and cur is not None:
                ws.note(tid, f"units/{uid}", "set", k, old, new)
    for uid, tid in ws.unit_releases.items():
        if uid in ws.unit_claims:
            continue
        f = ws.unit_file(uid)
        if f.broken or f.obj is None or f.obj.tenant != tid:
            continue
        f.update({"status": "vacant", "tenant": None}, lambda *a: None, stamps={})
        ws.note(tid, f"units/{uid}", "release", "status", "leased", "vacant")


# --- record sheets (one category) -----------------------------------------------------------


def _records(ws: _Workspace, table: Table, c: ArchiveCategory, m: ledger.HeaderMap, progress: Progress | None) -> None:
    specs = ledger.field_specs(entry_model(c))
    kinds: dict[str, Any] = dict(specs)
    kinds["tenant_id"] = "id"
    kinds["tenant_name"] = "text"
    title = lambda f: specs[f].title if f in specs else m.title(f)  # noqa: E731
    seen: dict[tuple, _Row] = {}
    rows = _rows(ws, table, m, kinds, progress)
    defaults = {k: v for k, v in ledger.CATEGORY_DEFAULTS.get(c.key, {}).items()
                if not any(k in r.cols for r in rows)}
    for row in rows:
        row.values = {**defaults, **row.values}
        if _totals_row(row, "tenant_name") or _totals_row(row, "tenant_id"):
            ws.warnings.append(row.problem(None, tr("合计行，已跳过", "a totals row: skipped"), "warning"))
            continue
        tid = _row_tenant(ws, row, c)
        if tid is None:
            continue
        item = _nest({k: val for k, val in row.values.items() if k not in ("tenant_id", "tenant_name")}, specs)
        key = (tid, json.dumps(item, sort_keys=True, default=str))
        if key in seen:
            ws.warnings.append(row.problem(None, tr("与 %s 行完全相同，只导入一次",
                                                    "repeats row %s exactly: imported once") % seen[key].where, "warning"))
            continue
        seen[key] = row
        on_error = row.reporter(ws, {}, title)
        if c.is_list:
            _record_entry(ws, tid, c, item, on_error, keep_stamps=True)
        else:
            _record_single(ws, tid, c, item, on_error)


def _nest(values: dict, specs: dict[str, ledger.FieldSpec]) -> dict:
    out: dict = {}
    for k, v in values.items():
        path = specs[k].path if k in specs else (k,)
        node = out
        for p in path[:-1]:
            node = node.setdefault(p, {})
        node[path[-1]] = v
    return out


def _row_tenant(ws: _Workspace, row: _Row, c: ArchiveCategory) -> str | None:
    tid = row.values.get("tenant_id")
    name = row.values.get("tenant_name") if c.key != "profile" else row.values.get("name")
    if tid:
        if not ws.exists(tid):
            if c.key == "profile":
                return tid
            ws.problems.append(row.problem("tenant_id", tr(
                "档案库中没有租户 %s；请先导入客户台账或用 `wuye archive new` 新建",
                "no tenant %s in the store; import the ledger or open it with `wuye archive new` first") % tid))
            return None
        if name and c.key != "profile" and ws.name_of(tid) and ws.name_of(tid) != name:
            ws.problems.append(row.problem("tenant_name", tr(
                "客户编号 %s 是 %s，不是 %s",
                "tenant id %s is %s, not %s") % (tid, ws.name_of(tid), name)))
            return None
        return tid
    if not name:
        ws.problems.append(row.problem(None, tr("这一行没有客户编号或客户名称", "this row has no tenant id or company name")))
        return None
    hits = ws.by_name(name)
    if len(hits) == 1:
        return hits[0]
    if not hits:
        ws.problems.append(row.problem("tenant_name" if c.key != "profile" else "name", tr(
            "档案库中没有名为 %r 的租户（须与公司名称完全一致，或改用客户编号）",
            "no tenant is named %r in the store (the name must match exactly; or use the tenant id)") % name))
    else:
        ws.problems.append(row.problem("tenant_name" if c.key != "profile" else "name", tr(
            "%d 个租户名为 %r（%s）；请改用客户编号" % (len(hits), name, "、".join(hits)),
            "%d tenants are named %r (%s); use the tenant id" % (len(hits), name, ", ".join(hits)))))
    return None


def _record_entry(ws: _Workspace, tid: str, c: ArchiveCategory, item: dict, on_error, keep_stamps: bool) -> None:
    """An entry found by its id, or by equal content; else appended."""
    from pydantic import ValidationError

    f = ws.tenant_file(tid, c)
    if f.broken:
        return
    if item.get("id"):
        same = f.find(lambda e: e.id == item["id"])
        if same:
            d = f.modify(same[0], {k: v for k, v in item.items() if k not in STAMPS}, on_error)
            for k, old, new in d or []:
                ws.note(tid, c.key, "update", f"{item['id']}.{k}", old, new)
            return
    else:
        # Equal content means the record is already there: compare as the model reads both.
        probe = {**item, "id": None, "recorded_by": None, "recorded_at": None}
        try:
            candidate = entry_model(c).model_validate(probe)
        except ValidationError:
            candidate = None  # append() reports why, at the row
        if candidate is not None and f.holds(candidate):
            return
    eid = f.append(item, on_error, keep_stamps=keep_stamps)
    if eid:
        ws.note(tid, c.key, "add", eid, None, _brief(item))


def _brief(item: dict) -> str:
    parts = [str(_shown(v)) for k, v in item.items() if k not in ("id", *STAMPS) and not isinstance(v, (dict, list))]
    return " ".join(parts[:4])


def _record_single(ws: _Workspace, tid: str, c: ArchiveCategory, item: dict, on_error, stamps: dict | None = None) -> None:
    f = ws.tenant_file(tid, c)
    if f.broken:
        return
    updates = {k: v for k, v in item.items() if k not in STAMPS}
    given = {k: item[k] for k in ("updated_by", "updated_at") if item.get(k)}
    if c.key == "profile":
        updates["tenant_id"] = tid
        if "name" in updates:
            updates["pinyin"] = pinyin_initials(str(updates["name"]))
    creating = c.key == "profile" and not ws.exists(tid)
    d = f.update(updates, on_error, stamps=(given if len(given) == 2 else stamps))
    if d is None:
        return
    if creating:
        ws.created[tid] = f.obj.name
        ws.note(tid, "profile", "create", "name", None, f.obj.name)
        return
    for k, old, new in d:
        ws.note(tid, c.key, "set", k, old, new)


def _units_table(ws: _Workspace, table: Table, m: ledger.HeaderMap, progress: Progress | None) -> None:
    from wuye.models.store import Unit

    specs = ledger.field_specs(Unit)
    for row in _rows(ws, table, m, dict(specs), progress):
        uid = row.values.get("id")
        if not uid:
            ws.problems.append(row.problem(None, tr("这一行没有房号", "this row has no unit id")))
            continue
        f = ws.unit_file(uid)
        if f.broken:
            continue
        d = f.update(_nest(row.values, specs), row.reporter(ws, {}, lambda k: specs[k].title if k in specs else k), stamps={})
        for k, old, new in d or []:
            ws.note(None, f"units/{uid}", "set" if f.exists else "create", k, old, new)


def _units_map(extra) -> ledger.HeaderMap:
    from wuye.models.store import Unit

    specs = ledger.field_specs(Unit)
    fields: dict[str, str] = {}
    for name, spec in specs.items():
        for text in (name, spec.title, *spec.aliases):
            fields.setdefault(ledger.header_key(text), name)
    fields.setdefault(ledger.header_key("单元"), "id")
    m = ledger.HeaderMap(fields, frozenset(specs), ("id",), {k: s.title for k, s in specs.items()})
    ledger._extend(m, extra)
    return m


# --- the store's own export document -------------------------------------------------------


def _document(ws: _Workspace, loaded: _Loaded, only: ArchiveCategory | None) -> None:
    from pydantic import ValidationError

    from wuye.models.store import Unit
    from wuye.models.types import check_id

    doc, label, text = loaded.document, loaded.source.label, loaded.text
    assert doc is not None

    def problem(loc: tuple, message: str) -> Problem:
        line, col = yamlio.locate(text, loc) if text is not None else (None, None)
        where = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in loc).lstrip(".")
        return Problem(label, f"{where}: {message}" if where else message, line, col, code="import.invalid")

    def reporter_for(into: _Workspace):
        """on_error callbacks adding to the workspace `into` (a worker's own, see _dossier_batch)."""
        def reporter(prefix: tuple):
            def on_error(e, fname=None, message=None):
                if e is None:
                    into.warnings.append(Problem(label, f"{'.'.join(map(str, prefix))}.{fname}: {message}", level="warning", code="import.note"))
                    return
                for p in yamlio.validation_problems(label, text, e, prefix):
                    into.problems.append(p)
            return on_error
        return reporter

    reporter = reporter_for(ws)

    allowed = {EXPORT_MARK, "building", "exported_at", "tenants", "units"}
    for k in doc:
        if k not in allowed:
            ws.problems.append(problem((k,), tr("未知的键（可用：%s）" % "、".join(sorted(allowed)), "unknown key (use: %s)" % ", ".join(sorted(allowed)))))
    units = doc.get("units") or []
    if not isinstance(units, list):
        ws.problems.append(problem(("units",), tr("应为单元记录的列表", "must be a list of unit records")))
        units = []
    if only is None:
        for i, u in enumerate(units):
            if not isinstance(u, dict) or not isinstance(u.get("id"), str):
                ws.problems.append(problem(("units", i), tr("应为带 id 的单元记录", "must be a unit record with an id")))
                continue
            try:
                check_id(u["id"], tr("房号", "unit"))
            except ValueError as e:
                ws.problems.append(problem(("units", i, "id"), str(e)))
                continue
            f = ws.unit_file(u["id"])
            if f.broken:
                continue
            try:
                # The source says exactly what the unit is: fields it leaves out are cleared.
                full = Unit.model_validate(u).model_dump()
            except ValidationError as e:
                reporter(("units", i))(e)
                continue
            d = f.update(full, reporter(("units", i)), stamps={})
            for k, old, new in d or []:
                ws.note(None, f"units/{u['id']}", "set", k, old, new)
    streamed = isinstance(doc, _Streamed) and doc.outline.tenants == "array"
    tenants = None if streamed else (doc.get("tenants") or [])
    if tenants is not None and not isinstance(tenants, list):
        ws.problems.append(problem(("tenants",), tr("应为租户档案的列表", "must be a list of tenant dossiers")))
        return
    outline = doc.outline.dossiers if streamed else [
        (d.get("tenant_id") if isinstance(d, dict) and isinstance(d.get("tenant_id"), str) else None,
         isinstance(d, dict) and "profile" in d) for d in tenants]
    # A tenant's files are rendered as soon as its dossier is done and its models let go (10,000
    # dossiers' records held as models, then again as text, were 2.3 GB); one that appears twice
    # stays until the end.
    seen: dict[str, int] = {}
    for tid, _ in outline:
        if tid is not None:
            seen[tid] = seen.get(tid, 0) + 1
    # Profiles first: a dossier later in the list may refer to a tenant opened earlier.
    with_profile = {i for i, (_, has) in enumerate(outline) if has}
    rounds = [with_profile, set(range(len(outline))) - with_profile] if 0 < len(with_profile) < len(outline) else [None]
    for wanted in rounds:
        chosen = ((i, d) for i, d in enumerate(doc.dossiers() if streamed else tenants) if wanted is None or i in wanted)
        # Each tenant's dossier is its own when no tenant appears twice: then worker processes
        # merge and render them (10,000 tenants: 380,000 records validated, 160,000 sealed), and
        # what each found is taken here in the document's order, as if done here.
        if (len(outline) if wanted is None else len(wanted)) >= PARALLEL_DOSSIERS and cache.jobs() > 1 \
                and all(n == 1 for n in seen.values()):
            _FORKED.update(ws=ws, only=only, problem=problem, reporter_for=reporter_for)
            try:
                for outcomes in cache.iter_stream(_dossier_batch, chosen, DOSSIER_BATCH):
                    for outcome in outcomes:
                        ws.take(outcome)
            finally:
                _FORKED.clear()
            continue
        for i, d in chosen:
            tid = _dossier(ws, i, d, only, problem, reporter)
            if tid is not None and seen.get(tid) == 1:
                ws.flush(tid)


PARALLEL_DOSSIERS = 200  # dossiers before it pays to fork workers (about 7 ms each, here)
DOSSIER_BATCH = 16  # dossiers a worker is sent at a time
_FORKED: dict = {}  # what the import's forked workers find: the workspace and the callbacks


def _dossier_batch(batch: list[tuple[int, Any]]) -> list[tuple]:
    """In a worker: each dossier of `batch` merged and rendered by itself, into a workspace of
    this process's own; what each added to it (Workspace.take), or, for a refusal that stops the
    import, ("refused", message, problems)."""
    import os

    ws = _FORKED.get("mine")
    if ws is None or _FORKED.get("pid") != os.getpid():
        parent: _Workspace = _FORKED["ws"]
        ws = _Workspace(parent.store, parent.actor, parent.now)
        # A problem found before: the import is refused, so nothing is rendered (flush_files).
        ws.dry_run, ws.problems, ws.stager = parent.dry_run, list(parent.problems), parent.stager
        _FORKED.update(mine=ws, pid=os.getpid(), reporter=_FORKED["reporter_for"](ws))
    out: list[tuple] = []
    for i, d in batch:
        known = len(ws.problems)
        try:
            tid = _dossier(ws, i, d, _FORKED["only"], _FORKED["problem"], _FORKED["reporter"])
            if tid is not None:
                ws.flush(tid)
        except WuyeError as e:
            out.append(("refused", str(e), e.problems))
            return out
        out.append((ws.problems[known:], ws.warnings, ws.changes, ws.created, ws.rendered))
        ws.warnings, ws.changes, ws.created, ws.rendered = [], [], {}, {}
    return out


def _dossier(ws: _Workspace, i: int, d: Any, only: ArchiveCategory | None, problem, reporter) -> str | None:
    """One tenant's dossier of an export document, checked and merged; its tenant id."""
    from wuye.models.types import check_id

    keys = {c.key for c in CATEGORIES} | {"tenant_id"}
    if not isinstance(d, dict) or not isinstance(d.get("tenant_id"), str):
        ws.problems.append(problem(("tenants", i), tr("应为带 tenant_id 的租户档案", "must be a tenant dossier with a tenant_id")))
        return None
    tid = d["tenant_id"]
    try:
        check_id(tid, tr("租户编号", "tenant id"))
    except ValueError as e:
        ws.problems.append(problem(("tenants", i, "tenant_id"), str(e)))
        return None
    for k in d:
        if k not in keys:
            ws.problems.append(problem(("tenants", i, k), tr("未知的档案类别", "unknown archive category")))
    if not ws.exists(tid) and "profile" not in d:
        ws.problems.append(problem(("tenants", i, "tenant_id"), tr(
            "档案库中没有租户 %s，文件中也没有其客户单位资料", "no tenant %s in the store, and no profile for it here") % tid))
        return None
    for c in CATEGORIES:
        if c.key not in d or (only is not None and c.key != only.key):
            continue
        content = d[c.key]
        prefix = ("tenants", i, c.key)
        if c.is_list:
            entries = content.get("entries") if isinstance(content, dict) else content
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                ws.problems.append(problem(prefix, tr("应为 entries: 记录列表", "must be entries: a list of records")))
                continue
            base = prefix + (("entries",) if isinstance(content, dict) else ())
            for j, e in enumerate(entries):
                _record_entry(ws, tid, c, dict(e), reporter(base + (j,)), keep_stamps=True)
        else:
            if not isinstance(content, dict):
                ws.problems.append(problem(prefix, tr("应为一条记录（键: 值）", "must be one record (a mapping)")))
                continue
            if c.key == "profile" and content.get("tenant_id", tid) != tid:
                ws.problems.append(problem(prefix + ("tenant_id",), tr("与 tenant_id %s 不一致", "differs from tenant_id %s") % tid))
                continue
            stamps = {k: content[k] for k in ("updated_by", "updated_at") if content.get(k)}
            _record_single(ws, tid, c, dict(content), reporter(prefix), stamps if len(stamps) == 2 else None)
    return tid


# --- the service ---------------------------------------------------------------------------


def _table_kind(table: Table) -> str:
    """What a table holds without --category: a category or units by its sheet name, else a ledger."""
    if table.sheet is not None:
        name = table.sheet.strip()
        if name.lower() in UNIT_SHEETS:
            return UNITS
        for c in CATEGORIES:
            if name in (c.title, c.key, c.title_en) or name.lower() in (c.key, c.title_en.lower()):
                return c.key
    return "ledger"


def import_files(store: Store, paths: list[Path], actor_id: str | None, *, fmt: str | None = None,
                 category: str | None = None, mapping: Path | None = None, encoding: str | None = None,
                 dry_run: bool = False, progress: Progress | None = None) -> ImportResult:
    """Validate every file, then write them all in one commit (or nothing, with every problem)."""
    from wuye.archive.dossier import category as find_category

    if fmt is not None and fmt not in FORMATS:
        raise WuyeError(tr("未知格式 %r；可用：%s" % (fmt, "、".join(FORMATS)), "unknown format %r; use one of: %s" % (fmt, ", ".join(FORMATS))))
    if not paths:
        raise WuyeError(tr("请给出要导入的文件", "name the file(s) to import"))
    actor = store.actor(actor_id)
    only: str | None = None  # what every table holds, with --category: "units" or a category key
    if category is not None:
        only = UNITS if category.strip().lower() in UNIT_SHEETS else find_category(category).key
    extra = ledger.read_mapping(mapping) if mapping is not None else None

    def header_map(kind: str) -> ledger.HeaderMap:
        if kind == "ledger":
            return ledger.ledger_map(extra)
        if kind == UNITS:
            return _units_map(extra)
        return ledger.category_map(BY_KEY[kind], extra)

    # Read every source first; one unreadable file refuses them all, with all the reasons.
    first_map = header_map(only or "ledger")
    loaded: list[_Loaded] = []
    problems: list[Problem] = []
    for p in paths:
        p = Path(p)
        try:
            # A CSV that is not UTF-8 is read as GBK only if its header then makes sense.
            loaded.append(_load(p, fmt, encoding, lambda t: ledger.find_header(t, first_map) is not None))
        except WuyeError as e:
            problems += e.problems or [Problem(str(p), str(e), code="file.unreadable")]
    if problems:
        raise WuyeError("\n".join(map(str, problems)), problems)

    result = ImportResult([l.source for l in loaded], dry_run=dry_run)
    if extra:
        for kind in {only or _table_kind(t) for l in loaded for t in l.tables} or {only or "ledger"}:
            problems += ledger.check_mapping(extra, header_map(kind), str(mapping))
        if problems:
            raise WuyeError("\n".join(map(str, problems)), problems)

    for l in loaded:
        if l.records is not None:
            if only is None:
                raise refusal(l.source.label, tr("记录列表需要用 --category 说明是哪一类记录",
                                                              "a list of records needs --category to say which category"))
            table, found = ledger.records_table(l.records, l.source.label, first_map)
            l.tables.append(table)
            problems += found
    if problems:
        raise WuyeError("\n".join(map(str, problems)), problems)

    def plan(ws: _Workspace) -> None:
        by_kind: dict[str, list[Table]] = {}
        for l in loaded:
            ws.warnings += l.notes
            kinds = set()
            if l.document is not None:
                kinds.add("store")
            for t in l.tables:
                kind = only or _table_kind(t)
                by_kind.setdefault(kind, []).append(t)
                kinds.add(kind)
            l.source.kind = ",".join(sorted(kinds))
        # Units and dossiers first, then the records that refer to them.
        for t in by_kind.pop(UNITS, []):
            _units_table(ws, t, header_map(UNITS), progress)
        for l in loaded:
            if l.document is not None:
                _document(ws, l, BY_KEY.get(only) if only else None)
        if "ledger" in by_kind:
            _ledger(ws, by_kind.pop("ledger"), header_map("ledger"), progress)
        for key in ["profile"] + [c.key for c in CATEGORIES if c.key != "profile"]:
            tables = by_kind.pop(key, [])
            for t in tables:
                _records(ws, t, BY_KEY[key], header_map(key), progress)
                t.rows = []  # read: a sheet of 160,000 rows is let go before the next one
            if tables:
                # Nothing after a category's sheets writes to its files: they are rendered now,
                # their models let go (a workbook of 10,000 tenants' records, held as models
                # until the end, was gigabytes).
                ws.flush_files([rel for rel, f in ws.files.items() if f.category is not None and f.category.key == key])

    def finish(ws: _Workspace) -> dict[str, str | bytes | Staged]:
        if ws.problems:
            errors = ws.problems
            head = tr("导入被拒绝，没有写入任何内容；共 %d 个问题：",
                      "import refused, nothing written; %d problem(s):") % len(errors)
            raise WuyeError(head + "\n" + "\n".join(map(str, errors)), errors)
        out: dict[str, str | bytes | Staged] = {rel: text for rel, (text, _, _) in ws.rendered.items() if text is not None}
        dirty = [f for f in ws.files.values() if f.dirty]
        for n, f in enumerate(dirty, 1):
            if progress is not None and n % 500 == 0:
                progress("write", n, len(dirty))
            out[f.rel] = f.render()
        _tally(ws, result, out)
        return out

    now = store.now()
    if dry_run:
        ws = _Workspace(store, actor, now)
        ws.dry_run = True
        plan(ws)
        finish(ws)
        return result
    with store.change("", author=actor) as ch:
        ws = _Workspace(store, actor, now)
        ws.stager = ch.stage
        plan(ws)
        for rel, text in finish(ws).items():
            ch.write(rel, text)
        ch.summary = _summary_line(result)
        ch.trailers = _trailers(result, actor.id)
    result.commit = ch.commit
    return result


def _tally(ws: _Workspace, result: ImportResult, out: dict[str, str | bytes | Staged]) -> None:
    result.files = sorted(out)
    result.warnings = ws.warnings
    result.changes = ws.changes
    result.created = sorted(ws.created)
    touched = {rel.split("/")[1] for rel in out if rel.startswith("tenants/")}
    result.updated = sorted(touched - set(ws.created))
    result.names = {t: ws.name_of(t) for t in touched}
    for f in ws.files.values():
        if f.rel in out and f.is_list:
            result.records_added += len(f.entries) - f.orig_n
            result.records_updated += len(f.modified)
    for rel, (_, added, modified) in ws.rendered.items():
        result.records_added += added
        result.records_updated += modified
    result.units_written = sum(1 for rel in out if rel.startswith("units/"))


def _source_names(result: ImportResult) -> list[str]:
    """The imported files' names as history keeps them: a name is what someone typed (`李明
    13812345678.xlsx`), so phone and ID numbers in it are masked; the sha256 trailer says which
    file it was."""
    from wuye.archive.privacy import mask_text

    return [mask_text(s.name) for s in result.sources]


def _summary_line(result: ImportResult) -> str:
    names = _source_names(result)
    what = names[0] if len(names) == 1 else tr("%s 等 %d 个文件" % (names[0], len(names)), "%s and %d more" % (names[0], len(names) - 1))
    return tr("import %s: 新建 %d 个租户，更新 %d 个，新增 %d 条记录",
              "import %s: %d tenants created, %d updated, %d records added") % (what, len(result.created), len(result.updated), result.records_added)


def _trailers(result: ImportResult, actor_id: str) -> dict[str, str]:
    trailers = {
        "Wuye-Import": ", ".join(dict.fromkeys(k for s in result.sources for k in s.kind.split(",") if k)),
        "Wuye-Source": ", ".join(_source_names(result)),
        "Wuye-Source-Sha256": ", ".join(s.sha256 for s in result.sources),
        "Wuye-Created": str(len(result.created)),
        "Wuye-Updated": str(len(result.updated)),
        "Wuye-Records": str(result.records_added),
        "Wuye-Actor": actor_id,
    }
    touched = result.created + result.updated
    if len(touched) == 1:
        trailers["Wuye-Tenant"] = touched[0]
    return trailers
