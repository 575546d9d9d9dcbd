"""Reading old ledgers (客户台账) and record sheets: tables, header mapping and value clean-up.

This module turns a CSV file or an xlsx workbook into tables of cleaned values, and knows nothing
of the store: it finds each table's header row under any merged title rows, maps every header text
to a field (a built-in table of Chinese and English names, extendable with `--mapping`), and
normalises the mess years of hand-kept ledgers leave behind (full-width digits and letters, phone
numbers with spaces or dashes, `¥120,000.00` or `12万`, `2024/1/5`, `2024年1月5日` and Excel date
serials, stray spaces). What it cannot read with certainty it refuses with the file, row and column
(`FILE:ROW:COL`, `FILE[Sheet]:ROW:COL` with the Excel column letter): it never guesses.

Built-in ledger headers (one row per tenant; case, spaces, `_`, `-` and bracketed units such as
`（元）` or `(㎡)` are ignored when matching):

| field | 中文表头 | English headers | goes to |
|---|---|---|---|
| tenant_id | 客户编号, 租户编号, 客户代码 | tenant id | the dossier's folder (else matched by USCC, then exact name, else the next free T0001…) |
| name | 客户名称, 公司名称, 单位名称, 租户名称, 客户单位, 承租方, 承租人, 企业名称 | company, company name, tenant, tenant name | profile.name |
| uscc | 统一社会信用代码, 社会信用代码, 信用代码 | USCC, credit code | profile.uscc |
| legal_rep | 法定代表人, 法人, 法人代表 | legal rep | profile.legal_rep |
| legal_rep_id | 法定代表人身份证号, 法人身份证号 | legal rep id | profile.legal_rep_id |
| nature | 公司性质, 企业性质, 单位性质 | nature | profile.nature |
| industry | 行业, 所属行业 | industry | profile.industry |
| headcount | 人员数, 人数, 员工人数 | headcount | profile.headcount |
| units | 房号, 单元, 单元号, 房间号, 房间, 铺位号 (`1201、1202`; `501室` is 501; `801-802` is 801 and 802 unless a unit 801-802 exists) | unit, units, room | profile.units, units/<u>.yaml (leased) |
| area | 面积, 建筑面积, 租赁面积, 计租面积 | area | units/<u>.yaml area: one value per unit (`312.5、287.6`), or the total of the tenant's units, checked against the unit files |
| company_phone | 总机电话, 总机, 前台电话 | company phone | profile.phone |
| email | 电子邮件, 邮箱, 公司邮箱 | email | profile.email |
| contact_name | 联系人, 联系人姓名 | contact, contact name | contacts.yaml (primary contact) |
| contact_title | 联系人职务, 职务 | contact title | contacts.yaml |
| contact_phone | 联系电话, 联系人电话, 电话, 手机, 手机号 | phone, mobile, tel | contacts.yaml |
| contact_email | 联系人邮箱 | contact email | contacts.yaml |
| lease_deposit | 租赁押金, 押金, 租金押金, 履约保证金 | lease deposit, deposit | payments.yaml (deposit 租赁押金, held) |
| renovation_deposit | 装修押金, 装修保证金 | renovation deposit | payments.yaml (deposit 装修押金, held) |
| move_in_date | 入驻日期, 迁入日期, 入住日期, 进场日期 | move-in date | move_in.yaml |
| lease_start | 租期开始, 起租日期, 租赁开始日期, 合同开始日期 | lease start | profile.lease_start |
| lease_end | 租期结束, 到期日期, 租赁结束日期, 合同到期日 | lease end | profile.lease_end |
| lease_term | 租期, 租赁期限, 合同期限 (`2024/1/1-2026/12/31`) | lease term | profile.lease_start and lease_end |
| status | 状态, 租赁状态 (在租/迁出中/已迁出) | status | profile.status |
| note | 备注, 说明 | note, remarks | supplement.yaml (one entry) |
| (ignored) | 序号, 行号 | no, # | nothing: a row counter |

Record sheets (`--category C`, or an xlsx sheet named after a category such as 缴费记录（含押金）)
take the category's own field names and Chinese titles as headers (`wuye schema export`), plus the
aliases in `CATEGORY_ALIASES`, and 客户编号 or 客户名称 (exact) to say whose record a row is. A
payments sheet without a 类别 column holds fees (`CATEGORY_DEFAULTS`).

Empty cells say nothing: they never erase a value already in the store. `-`, `—`, `/` and `无`
count as empty.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import typing
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr

IGNORE = "ignore"

# field -> (Chinese header written on export, aliases). The first Chinese name is the one export uses.
LEDGER_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tenant_id": ("客户编号", ("租户编号", "客户代码", "tenant id", "tenant_id", "tenantid")),
    "name": ("客户名称", ("公司名称", "单位名称", "租户名称", "客户单位", "承租方", "承租人", "企业名称",
                       "company", "company name", "tenant", "tenant name", "name")),
    "uscc": ("统一社会信用代码", ("社会信用代码", "统一信用代码", "信用代码", "uscc", "credit code",
                              "unified social credit code")),
    "legal_rep": ("法定代表人", ("法人", "法人代表", "legal rep", "legal representative")),
    "legal_rep_id": ("法定代表人身份证号", ("法人身份证号", "法人身份证", "legal rep id")),
    "nature": ("公司性质", ("企业性质", "单位性质", "nature")),
    "industry": ("行业", ("所属行业", "industry")),
    "headcount": ("人员数", ("人数", "员工人数", "员工数", "headcount")),
    "units": ("房号", ("单元", "单元号", "房间号", "房间", "铺位号", "unit", "units", "room")),
    "area": ("面积", ("建筑面积", "租赁面积", "计租面积", "area")),
    "company_phone": ("总机电话", ("总机", "前台电话", "company phone")),
    "email": ("电子邮件", ("邮箱", "公司邮箱", "email", "e-mail")),
    "contact_name": ("联系人", ("联系人姓名", "contact", "contact name")),
    "contact_title": ("联系人职务", ("职务", "contact title")),
    "contact_phone": ("联系电话", ("联系人电话", "电话", "手机", "手机号", "手机号码", "phone", "mobile", "tel")),
    "contact_email": ("联系人邮箱", ("contact email",)),
    "lease_deposit": ("租赁押金", ("押金", "租金押金", "履约保证金", "lease deposit", "deposit")),
    "renovation_deposit": ("装修押金", ("装修保证金", "renovation deposit")),
    "move_in_date": ("入驻日期", ("迁入日期", "入住日期", "进场日期", "move-in date", "move in date", "move_in_date")),
    "lease_start": ("租期开始", ("起租日期", "租赁开始", "租赁开始日期", "合同开始日期", "租期起", "lease start", "lease_start")),
    "lease_end": ("租期结束", ("到期日期", "租赁结束", "租赁结束日期", "合同到期日", "合同结束日期", "租期止", "lease end", "lease_end")),
    "lease_term": ("租期", ("租赁期限", "合同期限", "lease term")),
    "status": ("状态", ("租赁状态", "status")),
    "note": ("备注", ("说明", "note", "remarks")),
}
IGNORED_HEADERS = ("序号", "行号", "no", "no.", "#")

# How each ledger field's cells are read (see NORMALISERS).
LEDGER_KINDS = {
    "tenant_id": "id", "name": "text", "uscc": "uscc", "legal_rep": "text", "legal_rep_id": "idcard",
    "nature": "text", "industry": "text", "headcount": "int", "units": "unit_list", "area": "reading_list",
    "company_phone": "phone", "email": "text", "contact_name": "text", "contact_title": "text",
    "contact_phone": "phone", "contact_email": "text", "lease_deposit": "money", "renovation_deposit": "money",
    "move_in_date": "date", "lease_start": "date", "lease_end": "date", "lease_term": "date_range",
    "status": "choice", "note": "text",
}
STATUS_CHOICES = {"active": "active", "在租": "active", "moving_out": "moving_out", "迁出中": "moving_out",
                  "moved_out": "moved_out", "已迁出": "moved_out"}

# Whose record a row of a record sheet is: the tenant's id, or its exact company name.
TENANT_KEY_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tenant_id": LEDGER_FIELDS["tenant_id"],
    "tenant_name": ("客户名称", ("公司名称", "单位名称", "租户名称", "客户单位", "company", "company name", "tenant",
                               "tenant name")),
}

# Header texts finance and engineering systems use for the record categories, beyond the fields'
# own names and Chinese titles.
CATEGORY_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "payments": {
        "item": ("费用项目", "收费项目", "科目", "费用名称"),
        "amount": ("应收金额", "应收", "应缴金额", "金额(元)"),
        "paid": ("实收金额", "实收", "已缴金额", "已收金额", "已付金额"),
        "period": ("期间", "月份", "所属月份", "账期", "费用期间"),
        "paid_on": ("收款日期", "实收日期", "付款日期"),
        "due_date": ("应缴日期", "到期日"),
        "receipt_no": ("收据编号", "发票号", "票据号"),
        "kind": ("费用类别",),
    },
    "repairs": {
        "reported_at": ("报修日期", "报修时间"),
        "location": ("维修位置", "报修位置", "地点"),
        "description": ("故障描述", "报修内容", "维修内容"),
        "assigned_to": ("维修人员", "派工"),
        "done_at": ("完成日期", "完工时间"),
        "cost": ("维修费", "维修费用"),
    },
    "complaints": {
        "received_at": ("投诉时间", "投诉日期"),
        "channel": ("投诉渠道", "方式"),
        "description": ("投诉内容",),
        "handler": ("处理人", "处理部门"),
    },
}

# Values a record sheet may leave out as a column: a finance system's fee list has no 类别 column.
CATEGORY_DEFAULTS: dict[str, dict[str, str]] = {"payments": {"kind": "fee"}}

EMPTY_MARKS = frozenset({"-", "--", "—", "——", "/", "无", "N/A", "n/a"})
TOTAL_MARKS = frozenset({"合计", "总计", "小计", "total", "Total", "TOTAL"})

# Full-width ASCII (Ｔ０００１, １３８…) to ASCII; the ideographic space to a space.
_FULLWIDTH = {chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " ", "\xa0": " "}
FULLWIDTH_ALL = str.maketrans(_FULLWIDTH)
# In free text only digits and letters are folded: a company's （北京） keeps its brackets.
FULLWIDTH_ALNUM = str.maketrans({k: v for k, v in _FULLWIDTH.items() if v.isalnum() or v == " "})


def refusal(path: str, message: str, line: int | None = None, col: int | None = None) -> WuyeError:
    """A refusal about one file, as a located problem (`path:line: message`)."""
    p = Problem(path, message, line, col, code="import.invalid")
    return WuyeError(str(p), [p])


# --- header mapping --------------------------------------------------------------------------


def header_key(text: Any) -> str:
    """A header text as matched: folded width, no brackets' units, spaces, `_`, `-`, `*` or `:`."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", s)
    s = re.sub(r"[\s_\-*:：·.]", "", s)
    return s.lower()


@dataclass
class HeaderMap:
    """Header texts to field names, for one kind of table (the ledger, or one category)."""

    fields: dict[str, str]  # header_key -> field
    known: frozenset[str]  # every field name this table may use
    key_fields: tuple[str, ...]  # a header row must map at least one of these
    titles: dict[str, str] = field(default_factory=dict)  # field -> header text for messages

    def field_of(self, text: Any) -> str | None:
        return self.fields.get(header_key(text))

    def title(self, name: str) -> str:
        return self.titles.get(name, name)


def ledger_map(extra: dict[str, str] | None = None) -> HeaderMap:
    fields: dict[str, str] = {}
    titles = {}
    for name, (zh, aliases) in LEDGER_FIELDS.items():
        titles[name] = zh
        for text in (name, zh, *aliases):
            fields.setdefault(header_key(text), name)
    for text in IGNORED_HEADERS:
        fields[header_key(text)] = IGNORE
    m = HeaderMap(fields, frozenset(LEDGER_FIELDS), ("name", "tenant_id"), titles)
    _extend(m, extra)
    return m


def category_map(c, extra: dict[str, str] | None = None) -> HeaderMap:
    """Headers of a record sheet: the category's fields (nested ones as `parent.child`), their
    Chinese titles, the aliases above, and the tenant key columns."""
    fields: dict[str, str] = {}
    titles: dict[str, str] = {}
    from wuye.models.archive import entry_model

    specs = field_specs(entry_model(c))
    for name, spec in specs.items():
        titles[name] = spec.title
        for text in (name, spec.title, *spec.aliases):
            fields.setdefault(header_key(text), name)
    for name, aliases in CATEGORY_ALIASES.get(c.key, {}).items():
        for text in aliases:
            fields.setdefault(header_key(text), name)
    keys = ["tenant_id", "tenant_name"]
    for name, (zh, aliases) in TENANT_KEY_FIELDS.items():
        if c.key == "profile" and name == "tenant_name":
            # In the profile sheet the company name is the record's own `name` field.
            for text in (zh, *aliases):
                fields.setdefault(header_key(text), "name")
            continue
        titles.setdefault(name, zh)
        for text in (name, zh, *aliases):
            fields.setdefault(header_key(text), name)
    for text in IGNORED_HEADERS:
        fields.setdefault(header_key(text), IGNORE)
    known = frozenset(specs) | {"tenant_id", "tenant_name"}
    m = HeaderMap(fields, known, tuple(keys) if c.key != "profile" else ("tenant_id",), titles)
    _extend(m, extra)
    return m


def _extend(m: HeaderMap, extra: dict[str, str] | None) -> None:
    for text, name in (extra or {}).items():
        if name == IGNORE or name in m.known:
            m.fields[header_key(text)] = name


def read_mapping(path: Path) -> dict[str, str]:
    """`--mapping M.yaml`: header text -> field name (or `ignore`), checked when it is used."""
    from wuye.storage import yamlio

    rel = str(path)
    text = yamlio.read_text(Path(path), rel)
    data = yamlio.loads(text, rel)
    if isinstance(data, dict) and isinstance(data.get("headers"), dict):
        data = data["headers"]
    if not isinstance(data, dict):
        raise WuyeError(tr("%s：应为「表头: 字段名」的映射，如 承租方: name",
                           "%s: must map header texts to field names, e.g. 承租方: name") % rel)
    out: dict[str, str] = {}
    problems = []
    for k, v in data.items():
        if not isinstance(v, str) or not v.strip():
            problems.append(Problem(rel, tr("%s：字段名应为文本", "%s: the field name must be text") % k,
                                    *yamlio.locate(text, (k,)), code="import.invalid"))
            continue
        out[str(k)] = v.strip()
    if problems:
        raise WuyeError("\n".join(map(str, problems)), problems)
    return out


def check_mapping(mapping: dict[str, str], m: HeaderMap, label: str) -> list[Problem]:
    """A mapping's target fields must exist for the table it is used on."""
    bad = sorted({v for v in mapping.values() if v != IGNORE and v not in m.known})
    if not bad:
        return []
    return [Problem(label, tr("映射到未知字段 %s；可用：%s、ignore" % ("、".join(bad), "、".join(sorted(m.known))),
                              "maps to unknown field(s) %s; use one of: %s, ignore" % (", ".join(bad), ", ".join(sorted(m.known)))),
                    code="import.invalid")]


# --- fields of a record model ------------------------------------------------------------------


@dataclass
class FieldSpec:
    """How a model field is read from a cell: its kind, its choices and its Chinese title."""

    name: str
    title: str
    kind: str
    choices: dict[str, str] = field(default_factory=dict)  # label or value -> value
    aliases: tuple[str, ...] = ()
    path: tuple[str, ...] = ()  # nested fields: ("meter_readings", "water")


def field_specs(model) -> dict[str, FieldSpec]:
    """Every field of a record model as a flat column (nested models as `parent.child`)."""
    from pydantic import BaseModel

    specs: dict[str, FieldSpec] = {}
    for name, f in model.model_fields.items():
        ann = _unoptional(f.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            for sub, spec in field_specs(ann).items():
                specs[f"{name}.{sub}"] = FieldSpec(f"{name}.{sub}", f"{f.title}·{spec.title}", spec.kind,
                                                   spec.choices, (spec.title,), (name, *(spec.path or (sub,))))
            continue
        kind, choices = _kind(f, ann)
        specs[name] = FieldSpec(name, f.title or name, kind, choices, (), (name,))
    return specs


def _unoptional(ann):
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if typing.get_origin(ann) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        return args[0]
    return ann


def _validators(f, ann) -> set:
    funcs = set()
    for meta in list(getattr(f, "metadata", [])) + list(getattr(ann, "__metadata__", ())):
        func = getattr(meta, "func", None)
        if func is not None:
            funcs.add(getattr(func, "__name__", ""))
    for a in typing.get_args(f.annotation):
        for meta in getattr(a, "__metadata__", ()):
            func = getattr(meta, "func", None)
            if func is not None:
                funcs.add(getattr(func, "__name__", ""))
    return funcs


def _kind(f, ann) -> tuple[str, dict[str, str]]:
    from pydantic import BaseModel

    funcs = _validators(f, ann)
    base = typing.get_args(ann)[0] if typing.get_origin(ann) is typing.Annotated else ann
    if "to_money" in funcs:
        return "money", {}
    if "to_reading" in funcs:
        return "reading", {}
    if "check_phone" in funcs:
        return "phone", {}
    if "check_uscc" in funcs:
        return "uscc", {}
    if "check_ric" in funcs:
        return "idcard", {}
    if typing.get_origin(base) is typing.Literal:
        return "choice", _choices(typing.get_args(base), f.description or "")
    if typing.get_origin(base) is list:
        inner = typing.get_args(base)[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            # Records that may be written as plain ids (parking leases: `B2-031、B2-032`, as
            # ledgers and stores from before the leases have them) read either way.
            return ("plain_or_json" if getattr(inner, "PLAIN_ID", None) else "json"), {}
        inner_funcs = {getattr(m, "func", None).__name__ for m in getattr(inner, "__metadata__", ()) if getattr(m, "func", None)}
        return ("id_list" if "check_id" in inner_funcs else "text_list"), {}
    if typing.get_origin(base) is dict:
        return "json", {}  # a closing mark's `before` values, as the export writes them: a JSON object
    if "check_id" in funcs:
        return "id", {}
    if base is bool:
        return "bool", {}
    if base is int:
        return "int", {}
    if base is dt.datetime:
        return "datetime", {}
    if base is dt.date:
        return "date", {}
    if f.json_schema_extra is None and getattr(f, "metadata", None) and any(
            getattr(m, "pattern", None) and "Q[1-4]" in str(m.pattern) for m in f.metadata):
        return "period", {}
    return "text", {}


def _choices(values: tuple, description: str) -> dict[str, str]:
    """Literal values and the Chinese labels the field's description gives them (`fee 费用；…`)."""
    out = {str(v): str(v) for v in values}
    for part in re.split(r"[；;]", description):
        m = re.match(r"\s*([a-z_]+)\s+(.+)", part)
        if m and m.group(1) in out:
            label = re.sub(r"（.*?）|\(.*?\)", "", m.group(2)).strip()
            out.setdefault(label, m.group(1))
    return out


# --- value normalisers -----------------------------------------------------------------------


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and (not v.strip() or v.strip() in EMPTY_MARKS))


def _number_text(v: float) -> str:
    """An Excel number as the text it shows: 13812345678.0 -> 13812345678, 0.1+0.2 -> 0.3."""
    if v.is_integer():
        return str(int(v))
    return format(v, ".15g")


def norm_text(v: Any, **_) -> str | None:
    if _blank(v):
        return None
    if isinstance(v, bool):
        v = "是" if v else "否"
    elif isinstance(v, float):
        v = _number_text(v)
    elif isinstance(v, (dt.datetime, dt.date)):
        v = v.isoformat()
    s = str(v).translate(FULLWIDTH_ALNUM)
    s = "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in s.splitlines())
    s = re.sub(r"\n{2,}", "\n", s).strip()
    return s or None


def norm_ident(v: Any, **_) -> str | None:
    if _blank(v):
        return None
    if isinstance(v, float):
        v = _number_text(v)
    s = re.sub(r"\s+", "", str(v).translate(FULLWIDTH_ALL))
    return s or None


def norm_id(v: Any, **_) -> str | None:
    from wuye.models.types import ID_RE

    s = norm_ident(v)
    if s is not None and not ID_RE.fullmatch(s):
        raise ValueError(tr("编号 %r 不能用作文件名：只能用字母、数字、下划线和连字符，以字母或数字开头",
                            "%r is not safe as an id (a file name): use letters, digits, '_' and '-', starting with a letter or digit") % s)
    return s


_LIST_SPLIT = re.compile(r"[、,，;；/\n]+|\s+")


def norm_id_list(v: Any, **_) -> list[str] | None:
    s = norm_ident(v) if not isinstance(v, str) else (v.translate(FULLWIDTH_ALL).strip() or None)
    if s is None or s in EMPTY_MARKS:
        return None
    return [norm_id(p) for p in _LIST_SPLIT.split(s) if p]


def norm_unit_list(v: Any, **_) -> list[str] | None:
    """Units as a ledger writes them: `1201、1202`, `８０５`, `501室` (室, 号 and 房 dropped)."""
    s = norm_ident(v) if not isinstance(v, str) else (v.translate(FULLWIDTH_ALL).strip() or None)
    if s is None or s in EMPTY_MARKS:
        return None
    return [_unit(p) for p in _LIST_SPLIT.split(s) if p]


def _unit(text: str) -> str:
    """A 房号 as the ledger writes it (A座801, 3号楼2单元501室); only a bare number loses its
    室/号 (501室 is unit 501, as before free-text 房号)."""
    from wuye.models.ids import check_unit

    bare = re.sub(r"(室|号房|号|房)$", "", text)
    if re.fullmatch(r"[0-9A-Za-z_-]+", bare):
        return norm_id(bare)
    return check_unit(text)


def norm_text_list(v: Any, **_) -> list[str] | None:
    s = norm_text(v)
    if s is None:
        return None
    return [p.strip() for p in re.split(r"[、,，;；\n]+", s) if p.strip()]


def norm_phone(v: Any, **_) -> str | None:
    """Mobiles as 11 digits; landlines as area code, a dash and the number (010-65881234)."""
    s = norm_ident(v)
    if s is None:
        return None
    s = s.replace("（", "(").replace("）", ")")
    digits = re.sub(r"[()\-]", "", s)
    m = re.fullmatch(r"(?:\+?86|0086)?(1\d{10})", digits)
    if m:
        return m.group(1)
    m = re.fullmatch(r"(?:\+?86|0086)?0?([1-9]\d{8,10})", digits)
    if m and not re.search(r"[^\d()\-+]", s):
        import phonenumbers

        try:
            number = phonenumbers.parse("0" + m.group(1), "CN")
        except phonenumbers.NumberParseException:
            return s
        national = str(number.national_number)
        area = phonenumbers.length_of_geographical_area_code(number)
        if area and phonenumbers.is_valid_number(number):
            return f"0{national[:area]}-{national[area:]}"
    if re.search(r"[/、,;；，]", s):
        raise ValueError(tr("一格只能填一个电话号码：%r", "one phone number per cell: %r") % s)
    return s


def norm_uscc(v: Any, **_) -> str | None:
    s = norm_ident(v)
    return None if s is None else s.replace("-", "").upper()


def norm_idcard(v: Any, **_) -> str | None:
    s = norm_ident(v)
    return None if s is None else s.upper()


def _decimal(v: Any, units: tuple[str, ...]) -> Decimal | None:
    if _blank(v):
        return None
    if isinstance(v, bool):
        raise ValueError(tr("应为数字，不是真假值", "must be a number, not true/false"))
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(_number_text(v))
    if isinstance(v, (dt.date, dt.datetime)):
        raise ValueError(tr("应为数字，不是日期：%s", "must be a number, not a date: %s") % v)
    raw = str(v)
    s = unicodedata.normalize("NFKC", raw).replace(" ", "").replace(",", "")
    negative = False
    if re.fullmatch(r"\(.*\)", s):
        negative, s = True, s[1:-1]
    wan = False
    for u in sorted(units, key=len, reverse=True):
        if s.endswith(u):
            s = s[: -len(u)]
            break
    for prefix in ("¥", "￥", "RMB", "CNY", "人民币"):
        s = s.removeprefix(prefix)
    if s.endswith("万元"):
        wan, s = True, s[:-2]
    elif s.endswith("万"):
        wan, s = True, s[:-1]
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)", s):
        raise ValueError(tr("不是数字：%r", "not a number: %r") % raw.strip())
    d = Decimal(s)
    if wan:
        d *= 10000
    return -d if negative else d


def norm_money(v: Any, **_) -> Decimal | None:
    """`¥120,000.00`, `12万`, `120000元` -> 120000.00; negative amounts are refused."""
    d = _decimal(v, ("元", "RMB", "CNY"))
    if d is None:
        return None
    if d < 0:
        raise ValueError(tr("金额不能为负：%s", "an amount cannot be negative: %s") % d)
    if d != d.quantize(Decimal("0.01")):
        raise ValueError(tr("金额最多两位小数（分）：%s", "an amount has at most two decimal places (fen): %s") % d)
    return d.quantize(Decimal("0.01"))


_AREA_UNITS = ("m2", "m²", "㎡", "平方米", "平米", "平", "sqm")


def norm_reading(v: Any, **_) -> Decimal | None:
    d = _decimal(v, _AREA_UNITS + ("度", "吨"))
    if d is not None and d < 0:
        raise ValueError(tr("不能为负：%s", "cannot be negative: %s") % d)
    return d


def norm_reading_list(v: Any, **_) -> list[Decimal] | None:
    """One area per unit: `120.5` or `120、80.5`."""
    if isinstance(v, str):
        text = v.translate(FULLWIDTH_ALL).strip()
        if not re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
            parts = [p for p in re.split(r"[、，,;；/]+", text) if p.strip()]
            if len(parts) > 1:
                return [norm_reading(p) for p in parts]
    d = norm_reading(v)
    return None if d is None else [d]


def norm_int(v: Any, **_) -> int | None:
    if _blank(v):
        return None
    if isinstance(v, bool):
        raise ValueError(tr("应为整数，不是真假值", "must be a whole number, not true/false"))
    if isinstance(v, float):
        if not v.is_integer():
            raise ValueError(tr("应为整数：%s", "must be a whole number: %s") % _number_text(v))
        return int(v)
    if isinstance(v, int):
        return v
    s = str(v).translate(FULLWIDTH_ALL).strip()
    m = re.fullmatch(r"(\d+)\s*[人个张把具台只]?", s)
    if not m:
        raise ValueError(tr("应为整数：%r", "must be a whole number: %r") % s)
    return int(m.group(1))


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓", "✔", "紧急", "t"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×", "✗", "✘", "f"}


def norm_bool(v: Any, **_) -> bool | None:
    if isinstance(v, bool):
        return v
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    s = str(v).translate(FULLWIDTH_ALL).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(tr("应为 是 或 否：%r", "must be yes or no (是/否): %r") % v)


# Excel counts days from 1899-12-30 (its 1900 leap-year bug included); serials between these
# bounds (1954-2119) are the only bare numbers read as dates.
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000
_DATE_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:\.\d+)?秒?)?)?\s*(Z|[+-]\d{2}:?\d{2})?"
)


def _serial(v: float) -> dt.datetime:
    if not (_SERIAL_MIN <= v <= _SERIAL_MAX):
        raise ValueError(tr("不是日期：%s（Excel 日期序号应在 %d 到 %d 之间）",
                            "not a date: %s (an Excel date serial lies between %d and %d)") % (_number_text(v), _SERIAL_MIN, _SERIAL_MAX))
    return (_EXCEL_EPOCH + dt.timedelta(days=v)).replace(microsecond=0)


def _parse_moment(v: Any) -> dt.datetime | dt.date | None:
    """A date or a date and time from a cell, or None when empty; refused when unreadable."""
    if _blank(v):
        return None
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return v
    if isinstance(v, dt.time):
        raise ValueError(tr("只有时间，没有日期：%s", "a time without a date: %s") % v)
    if isinstance(v, bool):
        raise ValueError(tr("不是日期：%r", "not a date: %r") % v)
    if isinstance(v, (int, float)):
        return _serial(float(v))
    raw = str(v)
    s = raw.translate(FULLWIDTH_ALL).strip()
    if re.fullmatch(r"\d{5}(\.\d+)?", s):
        return _serial(float(s))
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    if m:
        y, mo, d = map(int, m.groups())
        return _ymd(y, mo, d, raw)
    m = _DATE_RE.fullmatch(s)
    if m:
        y, mo, d = (int(x) for x in m.groups()[:3])
        day = _ymd(y, mo, d, raw)
        if m.group(4) is None:
            return day
        h, mi, sec = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
        try:
            moment = dt.datetime(day.year, day.month, day.day, h, mi, sec)
        except ValueError:
            raise ValueError(tr("没有这个时间：%r", "no such time: %r") % raw.strip()) from None
        if m.group(7):
            off = m.group(7)
            if off == "Z":
                tz = dt.timezone.utc
            else:
                sign = 1 if off[0] == "+" else -1
                off = off[1:].replace(":", "")
                tz = dt.timezone(sign * dt.timedelta(hours=int(off[:2]), minutes=int(off[2:])))
            moment = moment.replace(tzinfo=tz)
        return moment
    if re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}", s):
        raise ValueError(tr("日期 %r 有歧义（日/月还是月/日？）；请写成 2024-01-05",
                            "the date %r is ambiguous (day/month or month/day?); write it as 2024-01-05") % raw.strip())
    raise ValueError(tr("不是日期：%r（可写 2024-01-05、2024/1/5、2024年1月5日）",
                        "not a date: %r (write 2024-01-05, 2024/1/5 or 2024年1月5日)") % raw.strip())


def _ymd(y: int, m: int, d: int, raw: str) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise ValueError(tr("没有这一天：%r", "no such day: %r") % raw.strip()) from None


def norm_date(v: Any, **_) -> dt.date | None:
    x = _parse_moment(v)
    if isinstance(x, dt.datetime):
        if x.time() != dt.time(0):
            raise ValueError(tr("应为日期，不含时间：%s", "must be a date without a time: %s") % x)
        return x.date()
    return x


def norm_datetime(v: Any, tz: dt.tzinfo | None = None, **_) -> dt.datetime | None:
    """A time; without an offset it is the building's local time, a bare date its midnight."""
    if isinstance(v, str) and re.fullmatch(r"\s*\d{4}-\d\d-\d\dT[\d:.]+([+-]\d\d:\d\d|Z)?\s*", v):
        try:
            x: Any = dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            x = _parse_moment(v)
    else:
        x = _parse_moment(v)
    if x is None:
        return None
    if not isinstance(x, dt.datetime):
        x = dt.datetime(x.year, x.month, x.day)
    if x.tzinfo is None and tz is not None:
        x = x.replace(tzinfo=tz)
    return x


def norm_date_range(v: Any, **_) -> tuple[dt.date, dt.date] | None:
    """`2024/1/1-2026/12/31`, `2024年1月1日至2026年12月31日` -> (start, end)."""
    if _blank(v):
        return None
    s = str(v).translate(FULLWIDTH_ALL).strip()
    day = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    m = re.fullmatch(rf"({day})\s*(?:至|到|~|～|—|–|-|－)\s*({day})", s)
    if not m:
        raise ValueError(tr("租期应写成 开始日期至结束日期，如 2024/1/1-2026/12/31：%r",
                            "a lease term reads start to end, e.g. 2024/1/1-2026/12/31: %r") % s)
    return norm_date(m.group(1)), norm_date(m.group(2))


def norm_period(v: Any, **_) -> str | None:
    """A fee period: `2026-10`, `2026年10月`, `2026/10`, `202610`, `2026Q4`, `2026H2`, `2026年下半年`; a first-of-month date
    (what Excel makes of a typed `2026-10`) is that month."""
    if _blank(v):
        return None
    if isinstance(v, (dt.date, dt.datetime)) or isinstance(v, (int, float)) and not isinstance(v, bool) and v > 9999:
        d = norm_date(v)
        if d.day != 1:
            raise ValueError(tr("所属期间应为月份（如 2026-10），不是某一天：%s",
                                "a period is a month (e.g. 2026-10), not a day: %s") % d)
        return f"{d.year:04d}-{d.month:02d}"
    raw = str(v)
    s = raw.translate(FULLWIDTH_ALL).strip().upper().replace(" ", "")
    m = re.fullmatch(r"(\d{4})(?:[-/.年](\d{1,2})月?|(\d{2}))?", s)
    if m:
        y, mo = m.group(1), m.group(2) or m.group(3)
        if mo is None:
            return y
        if not 1 <= int(mo) <= 12:
            raise ValueError(tr("没有这个月份：%r", "no such month: %r") % raw)
        return f"{y}-{int(mo):02d}"
    m = re.fullmatch(r"(\d{4})[-年]?(?:Q|第)([1-4一二三四])(?:季度?)?", s)
    if m:
        q = "一二三四".find(m.group(2)) + 1 or int(m.group(2))
        return f"{m.group(1)}-Q{q}"
    m = re.fullmatch(r"(\d{4})[-年]?(?:H([12])|([上下])半年)", s)
    if m:
        return f"{m.group(1)}-H{m.group(2) or '12'['上下'.index(m.group(3))]}"
    raise ValueError(tr("所属期间应为 2026、2026-10、2026-Q4 或 2026-H2：%r", "a period reads 2026, 2026-10, 2026-Q4 or 2026-H2: %r") % raw)


def norm_json(v: Any, **_) -> Any:
    import json

    if _blank(v):
        return None
    if isinstance(v, (list, dict)):
        return v
    try:
        return json.loads(str(v))
    except json.JSONDecodeError as e:
        raise ValueError(tr("应为 JSON：%s", "must be JSON: %s") % e) from None
    except RecursionError:  # a hostile cell of 100,000 `[`: Python's parser recurses per level
        raise ValueError(tr("JSON 嵌套过深；请把此格改成导出时的写法（如 {\"paid\": \"0.00\"}）或留空",
                            "the JSON is nested too deeply; write this cell as the export does (e.g. {\"paid\": \"0.00\"}) or leave it empty")) from None


def norm_choice(v: Any, choices: dict[str, str] | None = None, **_) -> str | None:
    """One of a field's values, given as the value (`fee`) or its Chinese label (`费用`)."""
    s = norm_text(v)
    if s is None:
        return None
    choices = choices or {}
    for key in (s, s.lower()):
        if key in choices:
            return choices[key]
    listing = list(dict.fromkeys(choices))
    raise ValueError(tr("取值无效：%r；可选：%s" % (s, "、".join(listing)),
                        "invalid value %r; choose one of: %s" % (s, ", ".join(listing))))


def norm_plain_or_json(v: Any, **_) -> Any:
    """A list of records as JSON (`[{"space": "B2-031", …}]`), or of plain ids as text (`B2-031、B2-032`)."""
    if isinstance(v, str) and not v.strip().startswith(("[", "{")):
        return norm_text_list(v)
    return norm_json(v)


NORMALISERS: dict[str, Callable[..., Any]] = {
    "text": norm_text, "id": norm_id, "id_list": norm_id_list, "unit_list": norm_unit_list, "text_list": norm_text_list,
    "phone": norm_phone, "uscc": norm_uscc, "idcard": norm_idcard, "money": norm_money,
    "reading": norm_reading, "reading_list": norm_reading_list, "int": norm_int, "bool": norm_bool,
    "date": norm_date, "datetime": norm_datetime, "date_range": norm_date_range, "period": norm_period,
    "json": norm_json, "plain_or_json": norm_plain_or_json, "choice": norm_choice,
}


# --- tables --------------------------------------------------------------------------------


def col_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (Excel's column names), as the export's writer names them."""
    from wuye.transfer.xlsx import column_letter

    return column_letter(index)


@dataclass
class Table:
    """One table of a source: a CSV file, an xlsx sheet, or a YAML/JSON list of records."""

    label: str  # the file as the user named it
    sheet: str | None  # xlsx sheet name
    kind: str  # "csv", "xlsx" or "records"
    rows: list[tuple[int, list[Any]]]  # (row number as the user sees it, cell values)
    col0: int = 0  # the sheet's first column (calamine starts at the first used cell)
    keys: list[str] | None = None  # records: the column names
    encoding: str | None = None

    @property
    def name(self) -> str:
        return f"{self.label}[{self.sheet}]" if self.sheet is not None else self.label

    def column(self, index: int) -> str:
        if self.kind == "xlsx":
            return col_letter(self.col0 + index)
        if self.kind == "records":
            return self.keys[index] if self.keys else str(index + 1)
        return str(index + 1)

    def problem(self, row: int | None, index: int | None, message: str, level: str = "error") -> Problem:
        """`FILE:ROW:COL: message` (xlsx: `FILE[Sheet]:ROW:COL` with the Excel column letter)."""
        if self.kind == "csv" and row is not None:
            return Problem(self.label, message, row, index + 1 if index is not None else None, level, code=self._code(level))
        where = self.name
        if row is not None and (row or self.kind != "records"):
            where += f":{row}"
        if index is not None:
            where += f":{self.column(index)}"
        return Problem(where, message, level=level, code=self._code(level))

    @staticmethod
    def _code(level: str) -> str:
        return "import.invalid" if level == "error" else "import.note"


def read_csv(path: Path, label: str, encoding: str | None, accept: Callable[[Table], bool]) -> Table:
    """A CSV file: UTF-8 (with or without BOM), else GB18030/GBK when that decodes cleanly and its
    headers make sense, else a refusal that names `--encoding`."""
    raw = path.read_bytes()
    if encoding:
        try:
            text = raw.decode(encoding)
        except LookupError:
            raise WuyeError(tr("未知编码 %r（如 utf-8、gbk、gb18030、big5）",
                               "unknown encoding %r (e.g. utf-8, gbk, gb18030, big5)") % encoding) from None
        except UnicodeDecodeError as e:
            raise refusal(label, tr("不是 %s 编码（第 %d 字节）；请换一个 --encoding",
                                                  "not %s text (byte %d); try another --encoding") % (encoding, e.start)) from None
        return _csv_table(text.removeprefix("\ufeff"), label, encoding)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
        return _csv_table(raw.decode("utf-16"), label, "utf-16")
    try:
        return _csv_table(raw.decode("utf-8-sig"), label, "utf-8")
    except UnicodeDecodeError as e:
        first_bad = e.start
    try:
        table = _csv_table(raw.decode("gb18030"), label, "gb18030")
    except UnicodeDecodeError:
        table = None
    if table is not None and accept(table):
        return table
    line = raw[:first_bad].count(b"\n") + 1
    raise refusal(label, tr("不是 UTF-8 文本（第 %d 字节），也不像 GBK；请用 --encoding 说明文件的编码（如 --encoding gbk）",
                                          "not UTF-8 text (byte %d) and not readable as GBK; name the file's encoding with --encoding (e.g. --encoding gbk)") % first_bad,
                                line)


def _csv_table(text: str, label: str, encoding: str) -> Table:
    sample = [ln for ln in text.splitlines()[:20] if ln.strip()]
    counts = {d: sum(ln.count(d) for ln in sample) for d in (",", "\t", ";")}
    delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    start = 1
    for values in reader:
        rows.append((start, values))
        start = reader.line_num + 1
    return Table(label, None, "csv", rows, encoding=encoding)


def read_xlsx(path: Path, label: str, raw: bytes | None = None) -> tuple[list[Table], list[Problem]]:
    """Every visible worksheet of a workbook, merged cells filled with their value; and a warning
    for each hidden sheet left out (a lookup list, usually; but the clerk should know).

    A sheet's rows are read when they are first used (_SheetRows): the thirteen sheets of a
    10,000-tenant export read at once were 683 MB, and the import reads and lets go of one at a
    time. Read from `raw` when given (the bytes whose sha256 the import records), so every sheet
    comes from those bytes whatever happens to the file meanwhile."""
    import python_calamine as calamine

    with open(path, "rb") as f:
        head = f.read(8)
    if head == bytes.fromhex("D0CF11E0A1B11AE1"):
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise refusal(label, tr("工作簿有密码保护，无法读取；请在 Excel 中去掉密码（文件→信息→保护工作簿）后另存再导入",
                                                  "the workbook is password-protected and cannot be read; remove the password in Excel and save it again"))
        raise refusal(label, tr("这是旧的 .xls 格式；请在 Excel 中另存为 .xlsx 再导入",
                                              "this is the old .xls format; save it as .xlsx in Excel and import that"))
    try:
        wb = _workbook(path, raw)
    except calamine.PasswordError:
        raise refusal(label, tr("工作簿有密码保护，无法读取", "the workbook is password-protected and cannot be read")) from None
    except (calamine.CalamineError, OSError) as e:
        raise refusal(label, tr("无法作为 xlsx 工作簿读取（%s）；文件是否损坏，或不是 Excel 文件？",
                                              "cannot be read as an xlsx workbook (%s); is it damaged, or not an Excel file?") % e) from None
    tables = []
    notes = []
    try:
        for meta in wb.sheets_metadata:
            if str(meta.typ) != str(calamine.SheetTypeEnum.WorkSheet):
                continue
            if str(meta.visible) != str(calamine.SheetVisibleEnum.Visible):
                notes.append(Problem(f"{label}[{meta.name}]", tr("隐藏的工作表，未导入", "a hidden sheet: not imported"), level="warning",
                                     code="import.note"))
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            if sheet.start is None:  # no cell holds anything
                continue
            table = Table(label, meta.name, "xlsx", [], col0=sheet.start[1])
            table.rows = _SheetRows(path, raw, table)  # type: ignore[assignment]
            tables.append(table)
    except calamine.CalamineError as e:
        raise refusal(label, tr("工作簿内容无法读取（%s）", "the workbook's content cannot be read (%s)") % e) from None
    finally:
        wb.close()
    return tables, notes


def _workbook(path: Path, raw: bytes | None):
    import python_calamine as calamine

    return calamine.CalamineWorkbook.from_filelike(io.BytesIO(raw)) if raw is not None else calamine.CalamineWorkbook.from_path(str(path))


class _SheetRows(Sequence):
    """A worksheet's rows, (row number as Excel shows it, cell values), read from the workbook
    when first asked for and kept until the table lets go of them."""

    def __init__(self, path: Path, raw: bytes | None, table: Table):
        self.path, self.raw, self.table = path, raw, table
        self._rows: list | None = None

    def _read(self) -> list:
        if self._rows is None:
            import python_calamine as calamine

            table = self.table
            wb = None
            try:
                wb = _workbook(self.path, self.raw)
                sheet = wb.get_sheet_by_name(table.sheet)
                values = sheet.to_python(skip_empty_area=True)
                r0, c0 = sheet.start or (0, 0)
                _fill_merged(values, sheet.merged_cell_ranges or [], r0, c0)
            except (calamine.CalamineError, OSError) as e:
                raise refusal(table.label, tr("工作簿内容无法读取（%s）", "the workbook's content cannot be read (%s)") % e) from None
            finally:
                if wb is not None:
                    wb.close()
            table.col0 = c0
            self._rows = [(r0 + i + 1, row) for i, row in enumerate(values)]
        return self._rows

    def __len__(self) -> int:
        return len(self._read())

    def __getitem__(self, i):
        return self._read()[i]

    def __iter__(self):
        return iter(self._read())


def _fill_merged(values: list[list], ranges, r0: int, c0: int) -> None:
    """A merged cell shows its value in every cell it covers; the file keeps it in the first only."""
    for (top, left), (bottom, right) in ranges:
        ti, li = top - r0, left - c0
        if not (0 <= ti < len(values)) or not (0 <= li < len(values[ti])):
            continue
        value = values[ti][li]
        for r in range(max(ti, 0), min(bottom - r0 + 1, len(values))):
            row = values[r]
            for c in range(max(li, 0), min(right - c0 + 1, len(row))):
                if row[c] in ("", None):
                    row[c] = value


def records_table(items: list, label: str, m: "HeaderMap") -> tuple[Table, list[Problem]]:
    """A YAML/JSON list of mappings as a table: each item's keys mapped to fields on their own
    (one item may say 客户编号, the next tenant_id), the header row the fields they use."""
    fields: list[str] = []
    mapped: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for i, item in enumerate(items, 1):
        row: dict[str, Any] = {}
        seen: dict[str, str] = {}
        for k, v in item.items():
            name = m.field_of(k) or str(k)
            if name in seen and name != IGNORE:
                problems.append(Problem(f"{label}:{i}", tr("%s 与 %s 是同一字段 %s；请只写一个",
                                                           "%s and %s are the same field %s; give one") % (k, seen[name], name),
                                        code="import.invalid"))
                continue
            seen[name] = str(k)
            row[name] = v
            if name not in fields:
                fields.append(name)
        mapped.append(row)
    rows = [(0, list(fields))] + [(i, [row.get(f) for f in fields]) for i, row in enumerate(mapped, 1)]
    return Table(label, None, "records", rows, keys=fields), problems


# --- finding the header and the columns --------------------------------------------------------


@dataclass
class Column:
    index: int
    header: str
    field: str  # or IGNORE


def find_header(table: Table, m: HeaderMap, scan: int = 20) -> int | None:
    """The index in table.rows of the header row: the first row (of the first `scan`) naming a key
    field and at least one other known field; merged title rows above it are skipped."""
    for i, (_, values) in enumerate(table.rows[:scan]):
        fields = [m.field_of(v) for v in values if isinstance(v, str) and v.strip()]
        known = [f for f in fields if f and f != IGNORE]
        if any(f in m.key_fields for f in known) and len(set(known)) >= 2:
            return i
        if len(set(known)) >= 3:
            return i
    return None


def columns(table: Table, header_index: int, m: HeaderMap) -> tuple[list[Column], list[Problem]]:
    """The header row's columns, each mapped to a field; unknown and repeated headers refused."""
    row_no, values = table.rows[header_index]
    cols: list[Column] = []
    problems: list[Problem] = []
    seen: dict[str, Column] = {}
    data_rows = table.rows[header_index + 1:]
    for i, v in enumerate(values):
        text = norm_text(v) if not isinstance(v, str) else v.strip()
        if not text:
            if any(i < len(r) and not _blank(r[i]) for _, r in data_rows):
                problems.append(table.problem(row_no, i, tr("这一列有数据却没有表头；请补上表头，或删去这一列",
                                                            "this column has data but no header; give it one or delete the column")))
            continue
        name = m.field_of(text)
        if name is None:
            problems.append(table.problem(row_no, i, tr(
                "表头 %r 不对应任何已知字段；请改表头，或用 --mapping 映射（%s: 字段名，或 %s: ignore 跳过），字段见 `wuye import --help`",
                "the header %r maps to no known field; rename it, or map it with --mapping (%s: FIELD, or %s: ignore to skip); fields in `wuye import --help`") % (text, text, text)))
            continue
        if name != IGNORE and name in seen:
            first = seen[name]
            problems.append(table.problem(row_no, i, tr(
                "表头 %r 与第 %s 列 %r 对应同一字段 %s；请删去其中一列" % (text, table.column(first.index), first.header, name),
                "the header %r maps to the same field %s as column %s (%r); delete one of them" % (text, name, table.column(first.index), first.header))))
            continue
        col = Column(i, text, name)
        cols.append(col)
        if name != IGNORE:
            seen[name] = col
    return cols, problems


def no_header(table: Table, m: HeaderMap) -> Problem:
    seen = [str(v).strip() for _, values in table.rows[:5] for v in values if isinstance(v, str) and v.strip()][:8]
    return table.problem(None, None, tr(
        "找不到表头行：前 20 行中没有一行的表头对应已知字段（如 %s）；看到的是 %s。请检查文件，或用 --mapping 映射表头" % (
            "、".join(m.title(k) for k in m.key_fields), "、".join(seen) or "（空）"),
        "no header row: none of the first 20 rows has headers that map to known fields (such as %s); found %s. Check the file, or map the headers with --mapping" % (
            ", ".join(m.title(k) for k in m.key_fields), ", ".join(seen) or "(nothing)")))


def is_blank_row(values: list) -> bool:
    return all(_blank(v) for v in values)
