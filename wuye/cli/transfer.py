"""`wuye import` and `wuye export`: batch transfers in and out of the store (thin: parse, call, render)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import err, out, print_json, say

IMPORT_EPILOG = tr(
    """\b
台账表头（不区分大小写、空格和括号中的单位，如“租赁押金（元）”）：
  客户编号 tenant_id | 客户名称/公司名称/单位名称/承租方 name | 统一社会信用代码 uscc
  法定代表人 legal_rep | 法定代表人身份证号 legal_rep_id | 公司性质 nature | 行业 industry
  人员数 headcount | 房号/单元/房间号 units（多个用 、 分隔）| 面积/建筑面积 area（每个房号一个）
  总机电话 company_phone | 电子邮件/邮箱 email | 联系人 contact_name | 联系人职务/职务 contact_title
  联系电话/电话/手机 contact_phone | 联系人邮箱 contact_email | 租赁押金/押金 lease_deposit
  装修押金 renovation_deposit | 入驻日期/迁入日期 move_in_date | 租期开始/起租日期 lease_start
  租期结束/到期日期 lease_end | 租期 lease_term（2024/1/1-2026/12/31）| 状态 status | 备注 note
  序号：忽略
\b
记录表（--category，或以类别中文名命名的 xlsx 工作表）：类别字段的中文名或英文名，
加 客户编号 或 客户名称（须完全一致）。--mapping M.yaml 中写“表头: 字段名”（或 “表头: ignore”）。
每行出错都会列出 文件:行:列；任何错误都不写入、不提交。""",
    """\b
Ledger headers (case, spaces and bracketed units such as "租赁押金（元）" are ignored):
  客户编号 tenant_id | 客户名称/公司名称/单位名称/承租方 name | 统一社会信用代码 uscc
  法定代表人 legal_rep | 法定代表人身份证号 legal_rep_id | 公司性质 nature | 行业 industry
  人员数 headcount | 房号/单元/房间号 units (several: 1205、1206) | 面积/建筑面积 area (one per unit)
  总机电话 company_phone | 电子邮件/邮箱 email | 联系人 contact_name | 联系人职务/职务 contact_title
  联系电话/电话/手机 contact_phone | 联系人邮箱 contact_email | 租赁押金/押金 lease_deposit
  装修押金 renovation_deposit | 入驻日期/迁入日期 move_in_date | 租期开始/起租日期 lease_start
  租期结束/到期日期 lease_end | 租期 lease_term (2024/1/1-2026/12/31) | 状态 status | 备注 note
  序号: ignored
\b
Record sheets (--category, or an xlsx sheet named after a category): the category's field names or
Chinese titles, plus 客户编号 (tenant id) or 客户名称 (exact company name). In --mapping M.yaml write
"header: field" (or "header: ignore"). Every problem is listed as FILE:ROW:COL; any error writes
nothing and commits nothing.""",
)


@contextmanager
def _progress():
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    console = err()
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    labels = {"read": tr("读取并校验", "reading and checking"), "write": tr("生成文件", "writing files")}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def import_(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help=tr("要导入的文件（csv、xlsx、yaml、json）", "files to import (csv, xlsx, yaml, json)")),
    as_: str = typer.Option(None, "--as", help=tr("操作员工编号（默认 WUYE_USER）", "the acting staff id (default: WUYE_USER)")),
    dry_run: bool = typer.Option(False, "--dry-run", help=tr("只校验并显示将要做的改动，不写入", "validate and show what would change; write nothing")),
    fmt: str = typer.Option(None, "--format", help=tr("文件格式：csv|xlsx|yaml|json（默认按扩展名）", "file format: csv|xlsx|yaml|json (default: by extension)")),
    category: str = typer.Option(None, "--category", help=tr("导入某一类记录（如 payments、repairs、complaints）", "import records of one category (e.g. payments, repairs, complaints)")),
    mapping: Path = typer.Option(None, "--mapping", help=tr("表头映射 YAML：表头: 字段名", "header mapping YAML: header: field")),
    encoding: str = typer.Option(None, "--encoding", help=tr("CSV 的编码（默认 UTF-8，或自动识别的 GBK）", "the CSV's encoding (default: UTF-8, or GBK when detected)")),
    verbose: bool = typer.Option(False, "-v", "--verbose", help=tr("逐个租户列出改动", "list the changes tenant by tenant")),
    reveal: bool = typer.Option(False, "--reveal", help=tr("显示完整的电话、证件号和姓名（记入本机访问日志）",
                                                          "show phone and ID numbers and names unmasked (logged locally)")),
    as_json: bool = typer.Option(False, "--json", help=tr("输出 JSON", "print JSON")),
):
    """批量导入客户台账和记录（全部成功或全部不写） / batch import ledgers and records (all or nothing)."""
    from wuye.transfer import importing

    store = open_store(ctx)
    if reveal and (as_json or verbose):
        from wuye.archive.privacy import identity

        who = identity(store, as_, "--reveal")  # before anything is written or shown
    with _progress() as progress:
        result = importing.import_files(store, files, as_, fmt=fmt, category=category, mapping=mapping,
                                        encoding=encoding, dry_run=dry_run, progress=progress)
    for w in result.warnings:
        say(_warning(w))
    if reveal and (as_json or verbose):
        from wuye.archive.privacy import record_reveal

        record_reveal(store.root, "import", ", ".join(str(f) for f in files), who)
    if as_json:
        print_json({**result.to_json(), "changes": [{**c.__dict__, "old": _masked(c, c.old, reveal), "new": _masked(c, c.new, reveal)}
                                                    for c in result.changes]})
    elif verbose:
        render_changes(result, reveal)
    if dry_run:
        say(tr("演练（未写入）：将", "dry run (nothing written): would have ") + result.summary())
    elif result.commit is None:
        say(tr("没有变化，未提交（%s）", "nothing changed; no commit (%s)") % result.summary())
    else:
        say(tr("已导入：%s（提交 %s）",
               "imported: %s (commit %s)") % (result.summary(), result.commit[:10]))


def _warning(p) -> str:
    """`FILE:ROW:COL: 警告：message`, the place first as for errors."""
    where = p.path
    if p.line is not None:
        where += f":{p.line}" + (f":{p.col}" if p.col is not None else "")
    return f"{where}: " + tr("警告：", "warning: ") + p.message


def _masked(c, value, reveal: bool):
    """A change's old or new value as it may be shown (privacy.py says what is personal)."""
    from wuye.archive.privacy import PERSON_CATEGORIES, mask_text, masked

    if reveal:
        return value
    if c.action == "add" and isinstance(value, str):
        return mask_text(value)  # a new record's summary, free text as a clerk typed it
    return masked(value, c.field.rsplit(".", 1)[-1] if c.field else None, c.file in PERSON_CATEGORIES)


def render_changes(result, reveal: bool) -> None:
    """The per-tenant diff of `-v`: one heading per tenant, one line per change."""

    def text(value) -> str:
        if isinstance(value, dict):
            return " ".join(text(v) for v in value.values())
        if isinstance(value, list):
            return "、".join(map(str, value))
        return "—" if value is None else str(value)

    def shown(c, value) -> str:
        return text(_masked(c, value, reveal))

    console = out()
    by_tenant: dict = {}
    for c in result.changes:
        by_tenant.setdefault(c.tenant, []).append(c)
    created = set(result.created)
    for tid in sorted(by_tenant, key=lambda t: (t is None, t or "")):
        if tid is None:
            console.print(tr("单元", "units"), markup=False)
        else:
            mark = tr("（新建）", " (new)") if tid in created else ""
            console.print(f"{tid} {result.names.get(tid, '')}{mark}", markup=False, style="bold")
        for c in by_tenant[tid]:
            where = f"{c.file}.{c.field}" if c.field else c.file
            if c.action == "add":
                line = f"  + {c.file} {c.field}: {shown(c, c.new)}"
            elif c.action == "create":
                line = f"  + {c.file}: {shown(c, c.new)}"
            else:
                line = f"  ~ {where}: {shown(c, c.old)} → {shown(c, c.new)}"
            console.print(line, markup=False, highlight=False)


def export(
    ctx: typer.Context,
    output: str = typer.Option(..., "-o", "--output", help=tr("输出文件（- 为标准输出，csv/json/yaml）", "output file (- for stdout: csv/json/yaml)")),
    fmt: str = typer.Option(None, "--format", help=tr("xlsx|csv|json|yaml（默认按扩展名）", "xlsx|csv|json|yaml (default: by extension)")),
    category: str = typer.Option(None, "--category", help=tr("只导出一类（或 ledger 客户台账、units 单元）", "one category only (or ledger, units)")),
    tenant: str = typer.Option(None, "--tenant", help=tr("只导出一个租户（编号、名称或拼音首字母）", "one tenant only (id, name or pinyin initials)")),
    as_: str = typer.Option(None, "--as", help=tr("谁在导出（必需；默认 WUYE_USER；记入本机访问日志）", "who is exporting (required; default: WUYE_USER; logged locally)")),
):
    """导出档案：xlsx（每类一张表）、csv 台账、json/yaml 全量 / export: xlsx (a sheet per category), csv ledger, json/yaml (everything)."""
    from wuye.archive import privacy
    from wuye.transfer import exporting

    store = open_store(ctx)
    # The files are exact, personal data unmasked: whoever takes them is named in the access log.
    who = privacy.identity(store, as_, "wuye export")
    result, chunks = exporting.export(store, output, fmt, category, tenant)
    subject = " ".join(f"{k}={v}" for k, v in (("format", result.format), ("category", category), ("tenant", tenant),
                                               ("output", output)) if v)
    if output == "-":
        privacy.record_reveal(store.root, "export", subject, who)
        for chunk in chunks:
            sys.stdout.buffer.write(chunk) if hasattr(sys.stdout, "buffer") else sys.stdout.write(chunk.decode("utf-8"))
        return
    exporting.write_output(output, chunks)
    privacy.record_reveal(store.root, "export", subject, who)  # once the file exists: a refusal logs nothing
    rows = sum(result.sheets.values())
    say(tr("已导出 %d 个租户到 %s（%s%s）" % (result.tenants, output, result.format, "，%d 行" % rows if result.sheets else ""),
           "exported %d tenants to %s (%s%s)" % (result.tenants, output, result.format, ", %d rows" % rows if result.sheets else "")))


def register(app: typer.Typer) -> None:
    app.command("import", epilog=IMPORT_EPILOG)(import_)
    app.command("export")(export)
