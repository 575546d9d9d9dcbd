"""The tenant archive (客户档案): opening a dossier, adding records, reading and checking it.

A dossier is `tenants/<id>/` with one YAML file per category (models/archive.py). List
categories are appended to, entry by entry, each stamped with who recorded it and when; one-record
categories are updated field by field. Edits are round-trip, so a clerk's comments survive. Every
write is one commit through `Store.change`, and every file is valid before and after it.
"""

from __future__ import annotations

import os
from decimal import Decimal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wuye.storage import attachments, yamlio
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.models.archive_meta import BY_KEY, CATEGORIES, TENANT_STATUS_ZH, ArchiveCategory
from wuye.storage.store import Store


def category(name: str) -> ArchiveCategory:
    """A category by file name (`repairs`, `repairs.yaml`), number (10) or Chinese title (维修记录)."""
    key = name.strip().removesuffix(".yaml")
    if key in BY_KEY:
        return BY_KEY[key]
    for c in CATEGORIES:
        if key in (str(c.number), c.title, c.title_en) or (len(key) >= 2 and c.title.startswith(key)):
            return c
    raise WuyeError(
        tr("未知档案类别 %r；可用：%s" % (name, "、".join(f"{c.key}（{c.title}）" for c in CATEGORIES)),
           "unknown archive category %r; choose from: %s" % (name, ", ".join(c.key for c in CATEGORIES)))
    )


def parse_sets(sets: list[str]) -> dict[str, Any]:
    """`--set key=value` pairs as a nested dict; values stay text for the model to parse.

    `a.b=1` sets a nested field; `k=x,y` gives a list for list fields (decided by the model).
    """
    out: dict[str, Any] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise WuyeError(tr("--set 应写成 字段=值，而不是 %r", "--set takes field=value, not %r") % item)
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value.strip()
    return out


def english_keys(model, data: dict) -> dict:
    """`--set` keys given as the field's Chinese title (联系电话=…) turned into its English key,
    nested fields too; a key that is neither is left for the model to refuse as unknown."""
    import unicodedata

    titles: dict[str, str] = {}
    for name, f in model.model_fields.items():
        if f.title:
            titles.setdefault(unicodedata.normalize("NFKC", f.title), name)
    for name, f in model.model_fields.items():
        # The description when it is a plain name too (联系电话 for 电话): what a clerk may type.
        if f.description and len(f.description) <= 8:
            titles.setdefault(unicodedata.normalize("NFKC", f.description), name)
    out: dict = {}
    for key, value in data.items():
        name = key if key in model.model_fields else titles.get(unicodedata.normalize("NFKC", key), key)
        f = model.model_fields.get(name)
        if isinstance(value, dict) and f is not None and hasattr(f.annotation, "model_fields"):
            value = english_keys(f.annotation, value)
        out[name] = value
    return out


def field_rows(model) -> list[dict]:
    """Every field of a model as `archive fields` lists it: key, title, type, required."""
    schema = model.model_json_schema()
    props, defs = schema.get("properties", {}), schema.get("$defs", {})
    rows = []
    for name, f in model.model_fields.items():
        rows.append({"key": name, "title": f.title or name, "type": _schema_type(props.get(name, {}), defs),
                     "required": f.is_required(), "description": f.description or ""})
    return rows


def _schema_type(prop: dict, defs: dict) -> str:
    """A field's type as its JSON schema says it (string, date, integer, one of a|b, list of …,
    a nested record as {its, field, keys})."""
    options = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    texts = []
    for p in options:
        if "enum" in p:
            texts.append("|".join(map(str, p["enum"])))
        elif "const" in p:
            texts.append(str(p["const"]))
        elif p.get("type") == "array":
            texts.append("list[%s]" % _schema_type(p.get("items", {}), defs))
        elif "$ref" in p:
            texts.append("{%s}" % ", ".join(defs.get(p["$ref"].rsplit("/", 1)[-1], {}).get("properties", {})))
        else:
            texts.append(p.get("format") or p.get("type") or "any")
    return " or ".join(dict.fromkeys(texts)) or "any"


def _listify(model, data: dict) -> dict:
    """Split comma-separated --set values for fields that are lists in the model."""
    import typing

    out = dict(data)
    for name, value in data.items():
        f = model.model_fields.get(name)
        if f is None:
            continue
        if isinstance(value, str) and typing.get_origin(f.annotation) is list:
            out[name] = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        elif isinstance(value, dict) and hasattr(f.annotation, "model_fields"):
            out[name] = _listify(f.annotation, value)
    return out


def read_input_file(path: Path) -> Any:
    """A YAML or JSON file given with --file, read as strictly as store files."""
    rel = str(path)
    text = yamlio.read_text(Path(path), rel)
    return yamlio.loads(text, rel), text


def pinyin_initials(name: str) -> str:
    """柏彦科技 -> bykj; latin words keep their letters (ABC科技 -> abckj). Computed at write time."""
    from pypinyin import Style, lazy_pinyin

    letters = []
    for part in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default"):
        letters.append("".join(ch for ch in part if ch.isascii() and ch.isalnum()))
    return "".join(letters).lower()


@dataclass
class Dossier:
    """A tenant's archive as read from disk: each category's data, or None when missing."""

    tenant_id: str
    data: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def profile(self) -> dict:
        return self.data.get("profile") or {}

    def missing(self) -> list[ArchiveCategory]:
        """The categories read and found absent (a dossier read for one category says nothing
        about the others)."""
        return [c for c in CATEGORIES if c.key in self.data and self.data[c.key] is None]


def read_dossier(store: Store, tenant_id: str, only: ArchiveCategory | None = None) -> Dossier:
    """Read a dossier's YAML without validating it (the fast look-up path: no pydantic)."""
    dossier = Dossier(tenant_id)
    for c in (BY_KEY["profile"], only) if only else CATEGORIES:
        rel = store.tenant_rel(tenant_id, c.filename)
        if not store.path(rel).is_file():
            dossier.data[c.key] = None
            continue
        try:
            data = yamlio.read(store.path(rel), rel) or {}
        except WuyeError as e:
            dossier.data[c.key] = None
            dossier.problems += e.problems
            continue
        if not isinstance(data, dict):
            # A hand edit that left a list or a scalar: reported like any unreadable file,
            # so the counter view shows what it can instead of failing.
            dossier.data[c.key] = None
            dossier.problems.append(Problem(rel, tr("应为映射（键: 值），而不是 %s",
                                                    "must be a mapping (key: value), not a %s") % type(data).__name__, 1, 1, code="archive.not-mapping"))
            continue
        dossier.data[c.key] = data
    return dossier


# --- resolving a tenant at the counter -----------------------------------------------------


class NoTenant(WuyeError):
    """No tenant matches a look-up (as opposed to several, which lists them)."""


def find_tenant(store: Store, query: str) -> str:
    """The tenant id for an id, a 房号, part of the company name, or part of its pinyin initials.

    Every command that takes a tenant resolves it here. An exact id wins at once; then a 房号
    as written (NFKC, so Ａ座８０１ finds A座801; a tenant still there before one who moved out);
    otherwise every profile is matched, and more than one match is refused with the candidates
    listed so the clerk can pick. The profiles are matched through
    the records index (index.tenant_index), which re-reads only the profiles changed since it was
    written, so a search over 10,000 tenants costs a look-up plus a stat of each profile.
    """
    from wuye.models.ids import ID_RE

    q = query.strip()

    if ID_RE.fullmatch(q) and store.tenant_exists(q):
        return q
    from wuye.storage.index import tenant_index

    # One read of the index for the 房号, the name and the pinyin initials alike.
    profiles = tenant_index(store, ("name", "pinyin", "units", "status"))
    hits = _by_unit(profiles, q)
    if len(hits) == 1:
        return hits[0][0]
    ql = q.lower()
    for tid, name, pinyin, _, _ in profiles if not hits else ():
        if tid.lower() == ql or (q and q in name) or (ql.isascii() and ql and ql in pinyin):
            hits.append((tid, name))
    if len(hits) == 1:
        return hits[0][0]
    if not hits:
        # A profile that cannot be read has no name to match: say which, rather than "no tenant".
        for tid, name, *_ in profiles:
            rel = store.tenant_rel(tid, "profile.yaml")
            if not name and store.path(rel).is_file():
                try:
                    yamlio.read(store.path(rel), rel)
                except WuyeError as e:
                    raise WuyeError(tr("%s（找不到租户 %r，或许因为这份资料无法读取）", "%s (no tenant matches %r; perhaps because this profile cannot be read)")
                                    % (e.problems[0] if e.problems else e, query), e.problems) from None
        raise NoTenant(tr("找不到租户 %r（可用编号、房号、公司名称的一部分或拼音首字母查找）",
                           "no tenant matches %r (search by id, unit, part of the company name, or pinyin initials)") % query)
    listing = "\n".join(f"  {tid}  {name}" for tid, name in hits[:20])
    more = len(hits) - 20
    raise WuyeError(
        tr("%r 匹配到 %d 个租户，请用编号指定：\n%s%s" % (query, len(hits), listing, f"\n  …另有 {more} 个" if more > 0 else ""),
           "%r matches %d tenants; name one by id:\n%s%s" % (query, len(hits), listing, f"\n  … {more} more" if more > 0 else ""))
    )


def _by_unit(profiles: list[tuple], query: str) -> list[tuple[str, str]]:
    """(id, name) of the tenants (of `profiles`: id, name, pinyin, units, status) whose 房号 is
    `query` as matched; those not moved out first, and only them when there are any (a unit's
    old tenant keeps it in its profile)."""
    from wuye.models.ids import unit_key

    key = unit_key(query)
    if not key:
        return []
    found = [(tid, name, status) for tid, name, _, units, status in profiles
             if isinstance(units, list) and any(isinstance(u, str) and unit_key(u) == key for u in units)]
    current = [(tid, name) for tid, name, status in found if status != "moved_out"]
    return current or [(tid, name) for tid, name, _ in found]


# --- validating ----------------------------------------------------------------------------


_FILE_MODELS: dict[str, Any] = {}


def file_model(c: ArchiveCategory):
    """The model of a category's whole file, built once per process.

    models.archive.list_model creates a new pydantic model on every call (its `setdefault`
    evaluates `create_model` first), which cost about a millisecond per file checked.
    """
    model = _FILE_MODELS.get(c.key)
    if model is None:
        from wuye.models.archive import file_model as build

        model = _FILE_MODELS[c.key] = build(c)
    return model


def validate_file(store: Store, tenant_id: str, c: ArchiveCategory) -> tuple[Any, list[Problem]]:
    """The validated model of one category file (None if missing) and its problems and warnings."""
    rel = store.tenant_rel(tenant_id, c.filename)
    if not store.path(rel).is_file():
        return None, []
    try:
        text = yamlio.read_text(store.path(rel), rel)
    except WuyeError as e:
        return None, e.problems
    return validate_text(rel, text, tenant_id, c)


def validated_entries(store: Store, wanted: list[tuple[str, str]]) -> list[tuple[str, str, list | None, list[Problem]]]:
    """(tenant id, category key, the file's validated entries or None, its errors) for each
    (tenant id, list category key) wanted, in order: what whole-store reports and listings read.

    From the records index (storage/index.py): a file unchanged since it was last validated is
    not parsed again; the changed ones are validated once (across worker processes for a large
    batch, as `wuye verify` does) and their entries remembered as the validation produced them.
    """
    from wuye.storage.index import parsed

    by_key: dict[str, list[str]] = {}
    for tid, key in wanted:
        by_key.setdefault(key, []).append(store.tenant_rel(tid, BY_KEY[key].filename))
    found: dict[str, Any] = {}
    for key, rels in by_key.items():
        found.update(parsed(store.root, f"entries:{key}", rels, _parse_entries))
    out = []
    for tid, key in wanted:
        got = found[store.tenant_rel(tid, BY_KEY[key].filename)]
        out.append((tid, key, *(got if got is not None else (None, []))))
    return out


def _parse_entries(root: str, items: list[tuple[str, bytes | None]]) -> list:
    """(validated entries or None, errors) of each (rel, bytes) of a list category file."""
    store = Store(Path(root))
    out = []
    for rel, raw in items:
        _, tid, name = rel.split("/")
        c = BY_KEY[name.removesuffix(".yaml")]
        if raw is None:  # not a plain file, or gone: refused (or absent) as a look-up finds it
            obj, found = validate_file(store, tid, c)
        else:
            try:
                obj, found = validate_text(rel, yamlio.text_of(raw, rel), tid, c)
            except WuyeError as e:
                obj, found = None, e.problems
        out.append((list(obj.entries) if obj is not None else None, [p for p in found if p.level == "error"]))
    return out


def validate_text(rel: str, text: str, tenant_id: str, c: ArchiveCategory) -> tuple[Any, list[Problem]]:
    """validate_file for text already read (whole-store checks read each file once)."""
    try:
        data = yamlio.loads(text, rel)
    except WuyeError as e:
        return None, e.problems
    warnings: list = []
    problems: list[Problem] = []
    # Checked on the data as read, so that it is reported alongside any other error in the file.
    if c.key == "profile" and isinstance(data, dict) and "tenant_id" in data and data["tenant_id"] != tenant_id:
        problems.append(Problem(rel, tr("tenant_id %r 与目录名 %r 不一致",
                                        "tenant_id %r does not match the folder name %r") % (data["tenant_id"], tenant_id),
                                *yamlio.locate(text, ("tenant_id",)), code="archive.tenant-mismatch"))
    obj, invalid = yamlio.check_model(file_model(c), data if data is not None else {}, rel, text, context={"warnings": warnings})
    if invalid:
        return None, invalid + problems
    problems += [Problem(rel, msg, *yamlio.locate(text, (fname,)), level="warning", code="schema.warning") for fname, msg in warnings]
    return obj, problems


def _refuse(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise WuyeError("\n".join(str(p) for p in errors), errors)


def _validate_new(store: Store, rel: str, model, data: dict, prefix: tuple = (), text: str | None = None):
    """Validate a new record; errors name `rel` (the input file, or `--set`), located in `text`."""
    warnings: list = []
    return yamlio.validated(model, data, rel, text, context={"warnings": warnings}, prefix=prefix), warnings


# --- writing -------------------------------------------------------------------------------


@dataclass
class AddResult:
    tenant_id: str
    category: ArchiveCategory
    entry_ids: list[str]
    commit: str | None
    warnings: list[str]


def new(store: Store, tenant_id: str, name: str, unit: str | None, actor_id: str | None,
        file: Path | None = None) -> AddResult:
    """Open a tenant's dossier: its profile, and its unit marked as leased."""
    from wuye.models.archive import Profile
    from wuye.models.store import Unit
    from wuye.models.ids import check_unit, unit_id, unit_key

    actor = store.actor(actor_id)
    rel = store.tenant_rel(tenant_id, "profile.yaml")
    data: dict[str, Any] = {}
    source_rel, source_text = rel, None
    if file is not None:
        loaded, source_text = read_input_file(file)
        source_rel = str(file)
        if not isinstance(loaded, dict):
            raise WuyeError(tr("%s：应为一个客户单位资料的映射（键: 值）", "%s: must be a mapping of profile fields") % file)
        data.update(loaded)
    data["tenant_id"] = tenant_id
    if name:
        data["name"] = name
    units = data.get("units") or []
    if unit:
        try:
            unit = check_unit(unit)
        except ValueError as e:
            raise WuyeError(str(e)) from None
        if isinstance(units, list) and unit_key(unit) not in {unit_key(u) for u in units if isinstance(u, str)}:
            units = [*units, unit]
    # `units: 5` is left for the model to refuse, at its line.
    data["units"] = units
    if data.get("name"):
        data["pinyin"] = pinyin_initials(str(data["name"]))
    data["updated_by"] = actor.id
    data["updated_at"] = store.now()
    profile, warnings = _validate_new(store, source_rel, Profile, data, text=source_text)

    with store.change(
        tr("archive %s: 新建档案 %s", "archive %s: open the dossier of %s") % (tenant_id, profile.name),
        author=actor,
        trailers={"Wuye-Tenant": tenant_id, "Wuye-Category": "profile", "Wuye-Actor": actor.id},
    ) as ch:
        if store.path(store.tenant_rel(tenant_id)).exists():
            raise WuyeError(tr("租户 %s 已存在（%s）；要修改资料请用 `wuye archive add %s profile`",
                               "tenant %s already exists (%s); to change it use `wuye archive add %s profile`") % (tenant_id, rel, tenant_id))
        for u in profile.units:
            urel = f"units/{unit_id(u)}.yaml"
            if store.path(urel).is_file():
                current = store.read_model(urel, Unit)
                if current.status == "leased" and current.tenant not in (None, tenant_id):
                    raise WuyeError(tr("单元 %s 已由 %s 租用（%s）",
                                       "unit %s is leased to %s (%s)") % (u, current.tenant, urel))
                doc = yamlio.load_roundtrip(store.read_text(urel))
                if current.label is None and u != current.id:
                    doc["label"] = u
                doc["status"] = "leased"
                doc["tenant"] = tenant_id
                ch.write_yaml(urel, doc)
            else:
                ch.write_yaml(urel, yamlio.plain(Unit.of(u, status="leased", tenant=tenant_id).file_data()))
        doc = _header(BY_KEY["profile"])
        doc.update(ordered(yamlio.plain(profile.model_dump())))
        ch.write_yaml(rel, doc)
    return AddResult(tenant_id, BY_KEY["profile"], [], ch.commit, [m for _, m in warnings])


def _header(c: ArchiveCategory):
    """A new file starts with a comment naming its category, for the clerk who opens it."""
    from ruamel.yaml.comments import CommentedMap

    doc = CommentedMap()
    doc.yaml_set_start_comment(f"{c.number}. {c.title} / {c.title_en}")
    return doc


def list_document(store: Store, tenant_id: str, c: ArchiveCategory):
    """The round-trip document of a tenant's list category, with its `entries:` list ready to
    append to: the file as it is (comments kept), or a new one headed by the category's name."""
    rel = store.tenant_rel(tenant_id, c.filename)
    path = store.path(rel)
    doc = yamlio.load_roundtrip(store.read_text(rel), rel) if path.is_file() else None
    if doc is None:
        doc = _header(c)
    if doc.get("entries") is None:
        doc["entries"] = []
    return doc


# The bookkeeping keys, kept last in a record (import keeps them there too).
TRAILING = ("recorded_by", "recorded_at", "updated_by", "updated_at", "closed_by", "seal")


def ordered(data: dict) -> dict:
    """A record's keys in reading order: its id, its own fields, then who recorded it and when."""
    head = {k: data[k] for k in ("id",) if k in data}
    tail = {k: data[k] for k in TRAILING if k in data}
    return head | {k: v for k, v in data.items() if k not in head and k not in tail} | tail


def next_id(c: ArchiveCategory, entries: list) -> str:
    """The id after the highest of `entries` in the category's numbering (PAY-0004 after PAY-0003)."""
    prefix = c.prefix + "-"
    numbers = [int(str(e.get("id"))[len(prefix):]) for e in entries
               if isinstance(e, dict) and str(e.get("id", "")).startswith(prefix) and str(e.get("id"))[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def append_entry(doc, c: ArchiveCategory, record: dict, validate: Callable[[dict], Any] | None = None):
    """Append `record` to the list document `doc` (from `list_document`): numbered after its
    highest id, validated (by the category's model unless `validate` is given), its keys in
    reading order. The validated entry; writing `doc` is the caller's, inside its change."""
    from wuye.models.archive import entry_model

    item = {**record, "id": next_id(c, list(doc["entries"]))}
    entry = validate(item) if validate is not None else entry_model(c).model_validate(item)
    doc["entries"].append(ordered(yamlio.plain(entry.model_dump())))
    return entry


def add(store: Store, tenant_id: str, category_name: str, actor_id: str | None,
        file: Path | None = None, sets: list[str] | None = None, attach: list[Path] | None = None) -> AddResult:
    """Append entries to a list category, or update fields of a one-record category. Files in
    `attach` are checked (storage/attachments.py), committed under the tenant's attachments/ and
    named by path and sha256 in each new entry's documents."""
    c = category(category_name)
    actor = store.actor(actor_id)
    from wuye.models.archive import entry_model

    import unicodedata

    if any(ch in "/\\" or unicodedata.category(ch)[0] == "C" for ch in tenant_id):
        store.tenant_rel(tenant_id)  # a path-like id (a/b, T0001 and a newline) is refused as one, not looked up
    try:
        tenant_id = find_tenant(store, tenant_id)
    except NoTenant:
        store.tenant_rel(tenant_id)  # an id that could not be a folder is refused as such
        raise WuyeError(tr("租户 %s 不存在；请先 `wuye archive new %s …`",
                           "tenant %s does not exist; open it first with `wuye archive new %s …`") % (tenant_id, tenant_id)) from None
    taken = []
    if attach:
        if not c.is_list or "documents" not in entry_model(c).model_fields:
            raise WuyeError(tr("%s 的记录没有附件栏（documents）；--attach 只用于装修、工程等带文件的类别",
                               "%s records have no documents field; --attach is for categories that hold files (renovation, engineering, …)") % c.key)
        taken = [attachments.take(p, store.config.attachment_max_mib) for p in attach]

    rel = store.tenant_rel(tenant_id, c.filename)
    items: list[dict] = []
    # Where each item came from, so that a validation error names the input file and line
    # (or `--set`), not the store file it was going to be written to.
    source_rel, source_text, locs = "--set", None, [()]
    if file is not None:
        loaded, source_text = read_input_file(file)
        source_rel, base = str(file), ()
        if isinstance(loaded, dict) and "entries" in loaded and c.is_list:
            loaded, base = loaded["entries"], ("entries",)
        if isinstance(loaded, dict):
            items, locs = [loaded], [base]
        elif isinstance(loaded, list) and c.is_list and all(isinstance(x, dict) for x in loaded):
            items, locs = loaded, [base + (i,) for i in range(len(loaded))]
        else:
            raise WuyeError(tr("%s：内容应为一条记录（键: 值）%s" % (file, "或记录列表" if c.is_list else ""),
                               "%s: must hold one record (a mapping)%s" % (file, " or a list of them" if c.is_list else "")))
    if sets:

        fields = _listify(entry_model(c), english_keys(entry_model(c), parse_sets(sets)))
        if items:
            items = [{**item, **fields} for item in items]
        else:
            items = [fields]
    if not items:
        raise WuyeError(tr("没有要记录的内容：请用 --file 文件 或 --set 字段=值", "nothing to record: give --file F or --set field=value"))

    warnings: list[str] = []
    with store.change("", author=actor, trailers={}) as ch:
        existing, problems = validate_file(store, tenant_id, c)
        if any(p.level == "error" for p in problems):
            _refuse([Problem(p.path, p.message + tr("（请先修正此文件）", " (fix this file first)"), p.line, p.col, code=p.code) for p in problems])
        now = store.now()
        new_ids: list[str] = []
        if c.is_list:
            doc = list_document(store, tenant_id, c)
            documents = [{"path": attachments.place(ch, tenant_id, t), "sha256": t.sha256, "title": t.name} for t in taken]
            for i, item in enumerate(items):
                item = {k: v for k, v in item.items() if k not in ("id", "recorded_by", "recorded_at")}
                if documents:
                    item["documents"] = list(item.get("documents") or []) + documents

                def check(data: dict, loc: tuple = locs[i]):
                    entry, w = _validate_new(store, source_rel, entry_model(c), data, loc, source_text)
                    warnings.extend(m for _, m in w)
                    return entry

                entry = append_entry(doc, c, {**item, "recorded_by": actor.id, "recorded_at": now}, check)
                new_ids.append(entry.id)
            what = tr("%d 条" % len(new_ids), "%d entr%s" % (len(new_ids), "y" if len(new_ids) == 1 else "ies"))
        else:
            if len(items) != 1:
                raise WuyeError(tr("%s 只有一条记录，不能一次写入多条" % c.title, "%s holds one record; give one mapping" % c.key))
            updates = dict(items[0])
            given = list(updates)  # what the clerk changed, for the commit message
            if c.key == "profile":
                if "tenant_id" in updates and updates["tenant_id"] != tenant_id:
                    raise WuyeError(tr("不能修改 tenant_id（租户编号即目录名）", "tenant_id cannot be changed (it is the folder name)"))
                if "name" in updates:
                    updates["pinyin"] = pinyin_initials(str(updates["name"]))
            current = existing.model_dump() if existing is not None else {}
            merged = deep_merge(current, updates)
            merged["updated_by"] = actor.id
            merged["updated_at"] = now

            obj, w = _validate_new(store, source_rel, entry_model(c), merged, locs[0], source_text)
            warnings += [m for _, m in w]
            if existing is not None and _unstamped(obj.model_dump()) == _unstamped(current):
                # The values are already there: nothing to record, so no new stamp and no commit.
                return AddResult(tenant_id, c, [], None, warnings)
            new_data = ordered(yamlio.plain(obj.model_dump()))
            doc = yamlio.load_roundtrip(store.read_text(rel)) if store.path(rel).is_file() else None
            if doc is None:
                doc = _header(c)
                doc.update(new_data)
            for key in new_data:
                if key in updates or key in ("updated_by", "updated_at", "pinyin"):
                    value = roundtrip_merge(doc.get(key), new_data[key])
                    if key in doc or key in TRAILING:
                        doc[key] = value
                    else:
                        # A field new to a hand-kept file goes before the stamps, as ordered() does.
                        pos = next((i for i, k in enumerate(doc) if k in TRAILING), len(doc))
                        doc.insert(pos, key, value)
            what = tr("更新 %s" % "、".join(_titles(c, given, 0)), "update %s" % ", ".join(_titles(c, given, 1)))
        _may_write(actor, c)
        if c.key == "payments" and c.is_list:
            seal_new(store, tenant_id, actor, doc, new_ids)
        if c.key == "violations":
            raise_items(store, ch, tenant_id, actor, doc, new_ids)
        ch.summary = tr("archive %s: %s %s" % (tenant_id, c.title, what), "archive %s: %s, %s" % (tenant_id, c.key, what))
        ch.trailers = {"Wuye-Tenant": tenant_id, "Wuye-Category": c.key, "Wuye-Entry": ", ".join(new_ids), "Wuye-Actor": actor.id}
        ch.write_yaml(rel, doc)
    return AddResult(tenant_id, c, new_ids, ch.commit, warnings)


def seal_new(store: Store, tenant_id: str, actor, doc, entry_ids: list[str], charges_only: bool = False) -> None:
    """Seal the ledger items `entry_ids` of `doc` for `actor` (trust/money.py), once the store
    has an authority chain; `charges_only`: a member outside finance raising a charge."""
    from wuye.trust import money

    if not entry_ids or not money.sealing_on(store):
        return
    sealer = money.Sealer(store, actor, charges_only)
    for entry in doc["entries"]:
        if str(entry.get("id")) in entry_ids:
            sealer.seal(tenant_id, entry)


def raise_items(store: Store, ch, tenant_id: str, actor, vdoc, entry_ids: list[str]) -> None:
    """A fine or an arrear recorded with an amount is money owed: one item of the ledger for it
    (source `fine`, or `other` for an arrear, citing the record), sealed by whoever recorded it as
    a charge with nothing received (trust/money.py), and the record points at it. So what the
    tenant owes lives in the sealed ledger alone: waiving the record by hand forgives nothing, and
    receiving the money is finance's, on the item."""
    from wuye.models.archive import BY_KEY, Payment

    wanted = [v for v in vdoc["entries"] if str(v.get("id")) in entry_ids and not v.get("item")
              and v.get("status", "open") == "open" and Decimal(str(v.get("amount") or 0)) > 0]
    if not wanted:
        return
    c = BY_KEY["payments"]
    _, problems = validate_file(store, tenant_id, c)
    if any(p.level == "error" for p in problems):
        _refuse([Problem(p.path, p.message + tr("（记录罚款或欠费要写入此文件，请先修正）", " (a fine or arrear is entered here: fix it first)"),
                         p.line, p.col, code=p.code) for p in problems if p.level == "error"])
    pdoc = list_document(store, tenant_id, c)
    raised = []
    for v in wanted:
        item = append_entry(pdoc, c, {
            "kind": "fee", "item": str(v["description"]), "amount": str(v["amount"]), "paid": "0.00",
            "due_date": v.get("date"), "source": "fine" if v.get("kind") == "violation" else "other",
            "source_ref": f"violations.yaml#{v['id']}", "recorded_by": actor.id, "recorded_at": store.now()}, Payment.model_validate)
        v["item"] = item.id
        raised.append(item.id)
    seal_new(store, tenant_id, actor, pdoc, raised, charges_only=True)
    ch.write_yaml(store.tenant_rel(tenant_id, c.filename), pdoc)


def _titles(c: ArchiveCategory, keys: list[str], lang: int) -> list[str]:
    """Fields as the log names them: by the model's title (公司名称) in Chinese (0), by the key in
    English (1), which is an English word already."""
    if lang:
        return list(keys)
    from wuye.models.archive import entry_model

    fields = entry_model(c).model_fields
    return [(fields[k].title if k in fields and fields[k].title else k) for k in keys]


def _may_write(actor, c: ArchiveCategory) -> None:
    """Refuse a category to someone outside the departments that keep it (the input is checked
    first, so a clerk still learns what was wrong with it)."""
    from wuye.models.archive_meta import WRITERS
    from wuye.trust.staff import dept_label

    allowed = WRITERS.get(c.key)
    if allowed and not set(actor.departments) & set(allowed):
        raise WuyeError(tr("%s 只能由%s记录（%s 不是）；请用 --as 指定这些部门的员工",
                           "%s is recorded by %s only (%s is not); act --as a member of one") % (
            tr(c.title, c.title_en), tr("、", ", ").join(dept_label(d) for d in allowed), actor.id))


def _unstamped(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("updated_by", "updated_at")}


def deep_merge(base: dict, updates: dict) -> dict:
    out = dict(base)
    for k, v in updates.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def roundtrip_merge(old, new):
    """Keep an existing nested mapping (and its comments) while updating its values."""
    if hasattr(old, "keys") and isinstance(new, dict):
        for k, v in new.items():
            old[k] = roundtrip_merge(old.get(k), v)
        return old
    return new


# --- listing and checking ------------------------------------------------------------------


def present_categories(store: Store, tenant_id: str) -> list[ArchiveCategory]:
    """The categories of which a tenant's folder holds a file (one listing of the folder)."""
    try:
        # A plain path: listings and the completeness report list 10,000 folders.
        with os.scandir(f"{store.root}/tenants/{tenant_id}") as it:
            names = {e.name for e in it if e.is_file()}
    except OSError:
        return []
    return [c for c in CATEGORIES if c.filename in names]


def listing(store: Store) -> list[dict]:
    """One row per tenant: id, name, units, status, and how many of the twelve files exist.
    From the listing index, so 10,000 tenants cost a listing of each folder, not 10,000 reads."""
    from wuye.storage.index import LISTING, tenant_index

    rows = []
    for tid, name, units, status in tenant_index(store, LISTING):
        rows.append({
            "tenant_id": tid,
            "name": name,
            "units": units,
            "status": status,
            "status_label": tr(TENANT_STATUS_ZH.get(status, status), status),
            "categories": len(present_categories(store, tid)),
        })
    return rows
