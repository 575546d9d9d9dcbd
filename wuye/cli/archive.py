"""`wuye archive`: open a dossier, add records, look a tenant up, list and check the archive."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import cell, field_label, grid, out, print_json, say, table, visible

app = typer.Typer(no_args_is_help=True, help=tr("客户档案（十二类）", "tenant archives (the twelve categories)"))

AS_HELP = tr("操作员工编号（默认 WUYE_USER）", "the acting staff id (default: WUYE_USER)")
JSON_HELP = tr("输出 JSON", "print JSON")


@app.command("new")
def new(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., help=tr("客户编号，如 T0042", "tenant id, e.g. T0042")),
    name: str = typer.Option(None, "--name", help=tr("公司名称", "company name")),
    unit: str = typer.Option(None, "--unit", help=tr("房号", "unit")),
    file: Path = typer.Option(None, "--file", help=tr("客户单位资料 YAML/JSON 文件", "a profile YAML/JSON file")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """新建租户档案 / open a tenant's dossier."""
    from wuye.archive import dossier as archive

    store = open_store(ctx)
    result = archive.new(store, tenant_id, name, unit, as_, file)
    for w in result.warnings:
        say(tr("警告：", "warning: ") + w)
    say(tr("已新建档案 %s（提交 %s）",
           "opened the dossier of %s (commit %s)") % (tenant_id, (result.commit or "")[:10]))


@app.command("add")
def add(
    ctx: typer.Context,
    tenant: str = typer.Argument(..., help=tr("客户编号、房号、公司名称的一部分或拼音首字母", "tenant id, unit, part of the company name, or pinyin initials")),
    category: str = typer.Argument(..., help=tr("档案类别：文件名（repairs）或中文名（维修记录）", "category: file name (repairs) or Chinese title (维修记录)")),
    file: Path = typer.Option(None, "--file", help=tr("YAML/JSON 文件：一条记录或记录列表", "YAML/JSON file: one record or a list")),
    set_: list[str] = typer.Option(None, "--set", help=tr("字段=值（可重复），如 phone=13812345678", "field=value (repeatable), e.g. phone=13812345678")),
    attach: list[Path] = typer.Option(None, "--attach", help=tr("附件（JPEG/PNG/PDF/HEIC，可重复），随记录一起提交", "a file to attach (JPEG/PNG/PDF/HEIC, repeatable), committed with the record")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """追加记录或更新单条档案 / append to a list category or update a one-record category."""
    from wuye.archive import dossier as archive

    store = open_store(ctx)
    result = archive.add(store, tenant, category, as_, file, set_ or [], attach or [])
    tenant_id = result.tenant_id
    for w in result.warnings:
        say(tr("警告：", "warning: ") + w)
    if result.commit is None:
        say(tr("没有变化，未提交", "nothing changed; no commit"))
        return
    what = " ".join([result.category.title, ", ".join(result.entry_ids)]).strip()
    say(tr("已记录 %s %s（提交 %s）" % (tenant_id, what, result.commit[:10]),
           "recorded %s %s (commit %s)" % (tenant_id, " ".join([result.category.key, ", ".join(result.entry_ids)]).strip(), result.commit[:10])))


@app.command("show")
def show(
    ctx: typer.Context,
    tenant: str = typer.Argument(..., help=tr("客户编号、房号、公司名称的一部分或拼音首字母", "tenant id, unit, part of the company name, or pinyin initials")),
    category: str = typer.Argument(None, help=tr("只看一类", "show one category only")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    reveal: bool = typer.Option(False, "--reveal", help=tr("显示完整的电话、证件号和联系人姓名（记入本机访问日志）",
                                                          "show phone and ID numbers and contacts' names unmasked (logged locally)")),
    as_: str = typer.Option(None, "--as", help=tr("谁在查看（--reveal 必需；默认 WUYE_USER）", "who is looking (needed by --reveal; default: WUYE_USER)")),
):
    """柜台查询：查看租户档案 / look a tenant up at the counter."""
    from wuye.archive import dossier as archive
    from wuye.admin.schema import load_labels

    from wuye.archive import privacy

    store = open_store(ctx)
    who = privacy.identity(store, as_, "--reveal") if reveal else None
    tid = archive.find_tenant(store, tenant)
    only = archive.category(category) if category else None
    dossier = archive.read_dossier(store, tid, only)

    data = privacy.masked_dossier(dossier.data, reveal)
    if reveal:
        privacy.record_reveal(store.root, "archive show", tid + (f" {only.key}" if only else ""), who)
    if as_json:
        print_json({"tenant_id": tid, "categories": data, "missing": [c.key for c in dossier.missing()],
                    "problems": [p.to_json() if reveal else privacy.mask_all(p.to_json()) for p in dossier.problems]})
    else:
        render_dossier(tid, data, load_labels(), only)
        for p in dossier.problems:
            say(str(p))
    # What could be read is shown; a file that could not be is a failure all the same (exit 1).
    if any(p.level == "error" for p in dossier.problems):
        raise typer.Exit(1)


def render_dossier(tid: str, data: dict, labels: dict, only) -> None:
    from rich.table import Table
    from rich.text import Text

    from wuye.models.archive_meta import CATEGORY_ORDER, SKIP_COLUMNS, status_label

    console = out()
    profile = data.get("profile") or {}
    head = Text()
    # Built as Text, so the values are made visible here (render_str does it for plain strings).
    head.append(visible(f"{profile.get('name', tid)}"), style="bold")
    head.append(visible(f"  {tid}"))
    if profile.get("units"):
        head.append(visible("  " + tr("房号 ", "unit ") + ", ".join(map(str, profile["units"]))))
    if profile.get("status"):
        head.append(visible("  " + status_label(str(profile["status"]))))
    console.print(head)
    for key in CATEGORY_ORDER:
        if only is not None and key != only.key:
            continue
        cat_labels = labels[key]
        zh, en = cat_labels[""]
        number = CATEGORY_ORDER.index(key) + 1
        value = data.get(key)
        title = f"{number}. {tr(zh, en)}"
        if value is None:
            console.print(Text(f"{title}  " + tr("（缺）", "(missing)"), style="dim"))
            continue
        if "entries" in cat_labels or key not in ("profile", "move_in"):
            entries = value.get("entries") or [] if isinstance(value, dict) else []
            if not entries:
                console.print(Text(f"{title}  " + tr("（无记录）", "(no entries)"), style="dim"))
                continue
            columns = [k for k in _fields(cat_labels) if k not in SKIP_COLUMNS and any(k in e for e in entries if isinstance(e, dict))]
            grid(title, [field_label(cat_labels, k) for k in columns],
                 [[_shown(cat_labels, k, e.get(k)) if isinstance(e, dict) else "" for k in columns] for e in entries])
        else:
            t = Table(title=title, title_justify="left", show_header=False)
            t.add_column(style="bold")
            t.add_column(overflow="fold")
            for k in _fields(cat_labels):
                if k in value and value[k] not in (None, [], {}):
                    t.add_row(field_label(cat_labels, k), _shown(cat_labels, k, value[k]))
            console.print(t)


def _fields(cat_labels: dict) -> list[str]:
    return [k for k in cat_labels if k and not k.startswith("@")]


_WHEN = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def _shown(cat_labels: dict, key: str, value) -> str:
    """A value as a clerk reads it: 已受理 for open, 2026-11-20 09:30 for a timestamp."""
    labels = cat_labels.get("@values", {}).get(key)
    if labels and isinstance(value, str) and value in labels:
        return tr(labels[value], value.replace("_", " "))
    if isinstance(value, str):
        m = _WHEN.fullmatch(value)
        if m:
            return f"{m.group(1)} {m.group(2)}"
    return cell(value)


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """列出全部租户 / list the tenants."""
    from wuye.archive import dossier as archive

    store = open_store(ctx)
    rows = archive.listing(store)
    table([("tenant_id", tr("编号", "id")), ("name", tr("公司名称", "company")), ("units", tr("房号", "units")),
           ("status_label", tr("状态", "status")), ("categories", tr("档案类别数", "categories"))], rows, as_json)


@app.command("check")
def check(
    ctx: typer.Context,
    tenant: str = typer.Argument(None, help=tr("只检查一个租户", "check one tenant only")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """检查档案的完整性和有效性（有错误时退出码 1） / check completeness and validity (exit 1 on errors)."""
    from wuye.archive import dossier as archive
    from wuye.verify import archive_check

    store = open_store(ctx)
    tid = archive.find_tenant(store, tenant) if tenant else None
    report = archive_check.check(store, tid)
    from wuye.archive.privacy import mask_all, mask_message  # problems may quote a file's values

    if as_json:
        print_json({"tenants": report.tenants, "problems": [mask_all(p.to_json()) for p in report.problems],
                    "missing": report.missing, "ok": not report.errors})
    else:
        for p in report.problems:
            typer.echo(mask_message(str(p)))
        incomplete = {t: m for t, m in report.missing.items() if m}
        from wuye.admin.schema import load_labels

        labels = load_labels() if incomplete else {}
        for t, m in incomplete.items():
            names = [field_label(labels[k], "") if k in labels else k for k in m]  # 迁入资料, not move_in
            typer.echo(tr("%s：缺 %d 类：%s" % (t, len(m), "、".join(names)), "%s: lacks %d categories: %s" % (t, len(m), ", ".join(names))))
        say(tr("检查了 %d 个租户：%d 个错误，%d 个警告，%d 个档案不完整",
            "checked %d tenants: %d errors, %d warnings, %d incomplete dossiers") % (
            report.tenants, len(report.errors), len(report.problems) - len(report.errors), len(incomplete)))
    if report.errors:
        raise typer.Exit(1)


def field_table(rows: list[dict], english: dict, as_json: bool) -> None:
    """The fields of a category or a step, as `archive fields` and `moveout fields` list them."""
    for r in rows:
        r["label"] = tr(r["title"], english.get(r["key"], r["key"]))
        r["required_label"] = tr("必填", "required") if r["required"] else ""
        r["type_label"] = type_label(r["type"])
    if as_json:
        print_json([{"key": r["key"], "title": r["title"], "title_en": english.get(r["key"], r["key"]),
                     "type": r["type"], "required": r["required"]} for r in rows])
        return
    table([("key", tr("字段", "key")), ("label", tr("名称", "title")), ("type_label", tr("类型", "type")),
           ("required_label", tr("必填", "required"))], rows, False)


# A schema type as a clerk reads it (--json keeps the schema's words for scripts). A Decimal is a
# number or a string in JSON schema: to the clerk both are one number.
_TYPE_WORDS = {"string": ("文本", "text"), "integer": ("整数", "integer"), "number": ("数值", "number"),
               "number or string": ("数值", "number"), "boolean": ("是否（true/false）", "true/false"),
               "date": ("日期", "date"), "date-time": ("时间（带时区）", "date-time"), "any": ("任意", "any")}


def type_label(schema_type: str) -> str:
    if schema_type.startswith("list[{") and schema_type.endswith("}]"):
        return tr("列表，每项有 %s", "list, each with %s") % schema_type[6:-2].replace(", ", tr("、", ", "))
    if schema_type.startswith("list[") and schema_type.endswith("]"):
        return tr("列表：%s", "list of %s") % type_label(schema_type[5:-1])
    if schema_type in _TYPE_WORDS:
        return tr(*_TYPE_WORDS[schema_type])
    if schema_type.startswith("{"):
        return tr("记录，有 %s", "a record with %s") % schema_type[1:-1].replace(", ", tr("、", ", "))
    if "|" in schema_type or schema_type.islower():
        return schema_type.replace(" or ", tr(" 或 ", " or "))  # the codes to type, as they are
    return schema_type


@app.command("fields")
def fields(
    ctx: typer.Context,
    category: str = typer.Argument(..., help=tr("档案类别：文件名（contacts）或中文名（客户联络资料）", "category: file name (contacts) or Chinese title")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """列出一类档案的字段（--set 可用英文字段名或中文名） / list a category's fields (--set takes the key or the Chinese title)."""
    from wuye.archive import dossier as archive
    from wuye.admin.schema import load_labels
    from wuye.models.archive import entry_model

    c = archive.category(category)
    # A nested record (move_in's meter_readings) is labelled as a mapping whose "" entry is its own label.
    english = {k: (v.get("") if isinstance(v, dict) else v)[1] for k, v in load_labels().get(c.key, {}).items()
               if k and not k.startswith("@") and (not isinstance(v, dict) or "" in v)}
    field_table(archive.field_rows(entry_model(c)), english, as_json)
