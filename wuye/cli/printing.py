"""`wuye print` and `wuye verify-print`: papers a tenant can sign and keep, and checking one."""

from __future__ import annotations

from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import say


def register(app: typer.Typer) -> None:
    app.command("print")(print_)
    app.command("verify-print")(verify_print)


def print_(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help=tr("confirmation 确认单、inspection 验房单、settlement 结算单、release 放行条、deposit 押金处理通知、dossier 档案摘要",
                                            "confirmation, inspection, settlement, release, deposit, dossier")),
    ident: str = typer.Argument(..., help=tr("案件编号（档案摘要：客户编号）", "case id (dossier: tenant id)")),
    output: Path = typer.Option(None, "-o", "--output", help=tr("输出文件 .pdf 或 .html（默认 HTML 到屏幕）", "output .pdf or .html (default: HTML to stdout)")),
    reveal: bool = typer.Option(False, "--reveal", help=tr("印出完整个人信息（记入本机访问日志）", "print personal data in full (logged on this machine)")),
    as_: str = typer.Option(None, "--as", help=tr("谁在打印（--reveal 必需）", "who is printing (needed by --reveal)")),
):
    """打印迁出文件或档案摘要 / print a move-out document or a dossier summary."""
    from wuye.archive import privacy
    from wuye.errors import WuyeError
    from wuye.printing import documents

    store = open_store(ctx)
    who = privacy.identity(store, as_, "--reveal") if reveal else None
    html = documents.render_html(store, kind, ident, reveal)
    if reveal:
        privacy.record_reveal(store.root, "print", f"{kind} {ident}", who)
    if output is None:
        typer.echo(html)
        return
    if output.suffix.lower() not in (".pdf", ".html"):
        raise WuyeError(tr("%s：输出文件应以 .pdf 或 .html 结尾", "%s: the output must end in .pdf or .html") % output)
    data = documents.render_pdf(html) if output.suffix.lower() == ".pdf" else html.encode("utf-8")
    output.write_bytes(data)
    say(tr("已生成 %s", "wrote %s") % output)


def verify_print(
    ctx: typer.Context,
    case: str = typer.Argument(..., help=tr("案件编号，或二维码内容 wuye:案件:步骤:摘要", "case id, or the QR payload wuye:CASE:STEP:DIGEST")),
    step: str = typer.Argument(None, help=tr("步骤", "step")),
    digest: str = typer.Argument(None, help=tr("纸面上的 sha256 摘要", "the sha256 digest on the paper")),
):
    """核验纸面文件上的签字摘要 / check a printed signature's digest against the store."""
    from wuye.errors import WuyeError
    from wuye.printing import documents

    if step is None:
        case, step, digest = documents.parse_qr(case)
    elif digest is None:
        raise WuyeError(tr("请给出 案件 步骤 摘要，或整段二维码内容", "give CASE STEP DIGEST, or the whole QR payload"))
    store = open_store(ctx)
    e = documents.verify_print(store, case, step, digest)
    say(tr("核验通过：%s 「%s」第 %d 版，%s 签于 %s", "verified: %s %s revision %d, signed by %s at %s")
        % (e["case"], e["step"], e["revision"], e["signer"], e["signed_at"]))
