"""Top-level commands: init, log, schema, demo, verify, doctor, migrate."""

from __future__ import annotations

from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import print_json, say, table

JSON_HELP = tr("输出 JSON", "print JSON")

schema_app = typer.Typer(no_args_is_help=True, help=tr("JSON Schema（供 YAML 编辑器校验）", "JSON Schemas (for YAML editors)"))


def init(
    path: Path = typer.Argument(..., help=tr("新档案库的目录", "the new store's folder")),
    name: str = typer.Option(None, "--name", help=tr("大厦名称", "building name")),
    manager: list[str] = typer.Option([], "--manager", help=tr("创始经理 编号=姓名（可重复），如 sunhao=孙浩：登记并签署授权链的根",
                                                               "a founding manager ID=NAME (repeatable), e.g. sunhao=孙浩: registered, signs the authority root")),
    threshold: int = typer.Option(1, "--threshold", help=tr("授权改动须几位经理签署（默认 1；2 为双人控制）",
                                                            "how many managers must sign an authority change (default 1; 2 for two-person control)")),
):
    """新建档案库（一个 git 仓库） / create a store (its own git repository)."""
    from wuye.admin.create import init_store
    from wuye.errors import WuyeError
    from wuye.trust import authority

    managers = []
    for m in manager:
        sid, sep, person = m.partition("=")
        if not sep or not sid or not person:
            raise WuyeError(tr("--manager %r 应写成 编号=姓名，如 sunhao=孙浩", "--manager %r should be ID=NAME, e.g. sunhao=孙浩") % m)
        managers.append((sid.strip(), person.strip()))
    store = init_store(path, name, managers, threshold)
    say(tr("已新建档案库 %s（%s）。", "created the store %s (%s).") % (store.root, store.config.building.name))
    root = authority.load(store).root
    if root is not None:
        say(tr("授权链的根：%s（各办公室用 `wuye remote add … --root` 固定此指纹）",
               "authority root: %s (each office pins this fingerprint with `wuye remote add … --root`)") % root.fingerprint)
        say(tr("下一步：wuye --store %s staff add 员工编号 --name 姓名 --dept 部门 --as %s",
               "next: wuye --store %s staff add STAFF_ID --name NAME --dept DEPT --as %s") % (path, managers[0][0]))
    else:
        say(tr("下一步：登记第一位经理，由其建立授权链：wuye --store %s staff add 员工编号 --name 姓名 --dept management",
               "next: register the first manager, who founds the authority chain: wuye --store %s staff add STAFF_ID --name NAME --dept management") % path)


def log(
    ctx: typer.Context,
    tenant: str = typer.Argument(None, help=tr("只看一个租户（编号、房号、名称或拼音首字母）", "one tenant only (id, unit, name or pinyin initials)")),
    limit: int = typer.Option(50, "-n", "--limit", help=tr("最多显示多少条", "show at most this many")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """档案库的历史：谁在何时做了什么 / the store's history: who did what, when."""
    from wuye.storage import git as audit

    store = open_store(ctx)
    if tenant:
        from wuye.archive.dossier import find_tenant

        tenant = find_tenant(store, tenant)
    paths = [store.tenant_rel(tenant)] if tenant else None
    from wuye.archive.privacy import mask_all

    # Older history may quote what a clerk typed (before messages named only the record): on
    # screen it is masked like any other free text.
    rows = audit.log(store.root, paths, limit)
    for r in rows:
        r["summary"], r["trailers"] = mask_all(r["summary"]), mask_all(r["trailers"])
        r["who"] = f"{r['author']} ({r['trailers'].get('Wuye-Actor') or r['trailers'].get('Wuye-Signer') or ''})".replace(" ()", "")
        r["when"] = r["date"].replace("T", " ")[:16]
        # The summary starts with "noun id:"; the ids have their own column.
        r["what"] = r["summary"].split(": ", 1)[-1]
        r["ids"] = " ".join(v for k, v in r["trailers"].items() if k in ("Wuye-Tenant", "Wuye-Case", "Wuye-Step", "Wuye-Staff"))
    if as_json:
        print_json([{k: r[k] for k in ("commit", "author", "email", "date", "summary", "trailers")} for r in rows])
        return
    table([("when", tr("时间", "when")), ("who", tr("操作人", "who")), ("what", tr("内容", "what")),
           ("ids", tr("编号", "ids"))], rows, False)


@schema_app.command("export")
def schema_export(
    directory: Path = typer.Argument(Path("schemas"), help=tr("输出目录", "output folder")),
    check: bool = typer.Option(False, "--check", help=tr("只检查是否过期（过期退出码 1）", "only check they are up to date (exit 1 if not)")),
):
    """由模型生成 JSON Schema / generate the JSON Schemas from the models."""
    from wuye.admin import schema

    if check:
        stale = schema.outdated(directory)
        for s in stale:
            typer.echo(s)
        if stale:
            say(tr("以上文件已过期；请运行 wuye schema export", "these files are out of date; run wuye schema export"))
            raise typer.Exit(1)
        return
    for p in schema.export(directory):
        typer.echo(p)


def demo(
    ctx: typer.Context,
    keep: Path = typer.Option(None, "--keep", help=tr("把演示档案库保留在此目录", "keep the demo store in this folder")),
):
    """用 records/ 中的示例大厦演示一遍 / run the demo on the sample building in records/."""
    from typer.main import get_command

    from wuye.cli import app  # the whole tree: `wuye demo` mounted only this module's commands
    from wuye.cli.demo import run

    run(keep, get_command(app))


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("log")(log)
    app.command("demo")(demo)
    app.command("verify")(verify)
    app.command("doctor")(doctor)
    app.command("migrate")(migrate)
    app.add_typer(schema_app, name="schema")


def doctor(
    ctx: typer.Context,
    fix: bool = typer.Option(False, "--fix", help=tr("修复可安全修复的问题并说明做了什么：自身的改动至多一个提交；被中断的修改以原作者、原说明提交",
                                                    "repair what is safe and say what was done: at most one commit of its own; an interrupted change is committed as its author, with its message")),
    as_: str = typer.Option(None, "--as", help=tr("修复提交的作者（员工编号，默认 WUYE_USER，否则为 wuye）",
                                                 "author of the repair commit (staff id; default WUYE_USER, else wuye)")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """诊断档案库：中断的修改、残留的锁和临时文件、未提交的文件、游离的 HEAD、无效文件、allowed_signers、密钥权限（有问题退出码 1） / diagnose the store (exit 1 while problems remain)."""
    from wuye.admin import doctor as doctoring

    store = open_store(ctx)
    report = doctoring.repair(store, as_) if fix else doctoring.diagnose(store)
    from wuye.archive.privacy import mask_all, mask_message  # findings may quote a file's values

    if as_json:
        print_json({"ok": not report.problems, "done": report.done, "commits": report.commits,
                    "findings": [mask_all(f.to_json()) for f in report.findings]})
    else:
        for line in report.done:
            say(tr("已修复：", "fixed: ") + line)
        for f in report.findings:
            typer.echo(mask_message(str(f)))
            typer.echo("  → " + (f.advice if not f.fixable or not fix else tr("未能修复：", "not fixed: ") + f.advice))
        if report.problems:
            fixable = sum(1 for f in report.problems if f.fixable)
            say(tr("发现 %d 个问题%s" % (len(report.problems), "，其中 %d 个可用 `wuye doctor --fix` 修复" % fixable if fixable and not fix else ""),
                   "%d problem(s) found%s" % (len(report.problems), ", %d of them can be fixed with `wuye doctor --fix`" % fixable if fixable and not fix else "")))
        else:
            say(tr("档案库完好", "the store is in good order"))
    if report.problems:
        raise typer.Exit(1)


def migrate(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help=tr("只列出将要做的，不写入", "list what would be done, write nothing")),
    as_: str = typer.Option(None, "--as", help=tr("财务部或管理层员工编号：签章的人为每一项负责", "a finance or management staff id: who seals answers for each item")),
):
    """把欠费记录并入账本，并为每个没有有效签章的金额记录签章（一个提交） / arrears into the ledger, every item without a valid seal sealed (one commit)."""
    from wuye.admin.migrate import migrate as run_migration

    store = open_store(ctx)
    result = run_migration(store, as_, dry_run)
    for tid, vid, pid in result.linked:
        typer.echo(tr("%s：欠费 %s 关联到应收 %s", "%s: arrear %s linked to item %s") % (tid, vid, pid))
    for tid, vid, pid in result.raised:
        typer.echo(tr("%s：欠费 %s 记为新应收 %s", "%s: arrear %s raised as item %s") % (tid, vid, pid))
    for tid, pid, item, amount in result.sealed:
        typer.echo(tr("%s：%s %s %s 元 %s", "%s: %s %s %s yuan %s") % (tid, pid, item, amount, tr("待签章", "to seal") if dry_run else tr("已签章", "sealed")))
    if not result.sealing:
        say(tr("此档案库还没有授权链，金额记录暂不能签章；授权链建立后再运行 `wuye migrate`",
               "this store has no authority chain yet, so nothing can be sealed; run `wuye migrate` again once it has one"))
    if not (result.linked or result.raised or result.sealed):
        say(tr("无需迁移：每一项都已在账本中并有有效签章", "nothing to migrate: every item is in the ledger with a valid seal"))
    elif dry_run:
        say(tr("试运行：未写入；核对无误后去掉 --dry-run 再运行", "dry run: nothing written; once checked, run it again without --dry-run"))
    else:
        say(tr("已迁移：签章 %d 项，关联欠费 %d 条，新增应收 %d 项，提交 %s", "migrated: %d sealed, %d arrears linked, %d items raised, commit %s")
            % (len(result.sealed), len(result.linked), len(result.raised), (result.commit or "")[:10]))


def verify(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
           root: str = typer.Option(None, "--root", help=tr("授权链根的指纹 SHA256:…（向管理处核实）；首次使用时固定在本处",
                                                            "the authority root's fingerprint SHA256:… (check it with the office); pinned here on first use"))):
    """校验整个档案库：授权链、格式、签名、密钥、部门、顺序、附件、历史（失败退出码 1） / verify the whole store (exit 1 on failure)."""
    from wuye.verify import checks as verifying

    store = open_store(ctx)
    report = verifying.verify(store, root)
    from wuye.archive.privacy import mask_all, mask_message  # problems may quote a file's values

    if as_json:
        print_json({"ok": not report.errors, "counts": report.counts, "problems": [mask_all(p.to_json()) for p in report.problems]})
    else:
        for p in report.problems:
            typer.echo(mask_message(str(p)))
        c = report.counts
        summary = tr("员工 %d，单元 %d，租户 %d，迁出案件 %d，签字条目 %d",
                     "%d staff, %d units, %d tenants, %d move-out cases, %d signed entries") % (c.get("staff", 0), c.get("units", 0), c.get("tenants", 0), c.get("cases", 0), c.get("entries", 0))
        if report.errors:
            say(tr("校验失败：%d 个问题（%s）", "verification failed: %d problems (%s)") % (len(report.errors), summary))
        else:
            say(tr("校验通过（%s）", "verified (%s)") % summary)
    if report.errors:
        raise typer.Exit(1)
