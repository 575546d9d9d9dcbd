"""`wuye trust`: the authority chain — show it, found it for an older store, approve a proposal,
sign a changed workflow or fee table, and print a version's signed bytes for `ssh-keygen`."""

from __future__ import annotations

import sys

import typer

from wuye.cli.context import open_store
from wuye.cli.output import say, table
from wuye.i18n import tr

app = typer.Typer(no_args_is_help=True, help=tr("授权链：谁可以签什么，由管理层签署", "the authority chain: who may sign what, signed by management"))

AS_HELP = tr("操作的经理编号（默认 WUYE_USER）", "the acting manager's id (default: WUYE_USER)")


def _said(store, outcome) -> None:
    if outcome.complete:
        say(tr("授权链第 %d 版已生效", "authority version %d is in force") % outcome.version)
    else:
        say(tr("已提议授权第 %d 版，还须 %d 位经理批准：wuye trust approve %d --as 经理",
               "proposed authority version %d; %d more manager(s) must approve: wuye trust approve %d --as MANAGER")
            % (outcome.version, outcome.missing, outcome.version))


@app.command("show")
def show(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help=tr("输出 JSON", "print JSON"))):
    """列出授权链各版本、根指纹、本处固定的根和待批准的提议 / list the chain's versions, the root, the pin, proposals."""
    from wuye.trust import authority, pins

    store = open_store(ctx)
    chain = authority.load(store)
    pinned = pins.read(store.root)
    rows = [{"version": v.number, "change": v.record.change, "subject": v.record.subject or "",
             "made_by": v.record.made_by, "made_at": v.record.made_at.isoformat(),
             "signers": ", ".join(s.signer for s in v.record.signatures), "digest": v.digest} for v in chain.versions]
    if as_json:
        import json

        print(json.dumps({"root": chain.root.fingerprint if chain.root else None, "pinned_root": pinned.get("root"),
                          "threshold": chain.latest.record.threshold if chain.latest else None,
                          "versions": rows, "proposals": authority.pending(store),
                          "problems": [p.to_json() for p in chain.problems(pinned.get("root"))]}, ensure_ascii=False, indent=2))
        return
    if chain.root is None:
        say(tr("此档案库还没有授权链；由一位经理执行 `wuye trust init --as 经理` 建立",
               "this store has no authority chain; a manager founds it with `wuye trust init --as MANAGER`"))
        return
    say(tr("根指纹：%s", "root fingerprint: %s") % chain.root.fingerprint)
    say(tr("本处固定的根：%s", "root pinned here: %s") % (pinned.get("root") or tr("（未固定）", "(not pinned)")))
    say(tr("门槛：%d 位经理", "threshold: %d manager(s)") % chain.latest.record.threshold)
    table([("version", tr("版本", "version")), ("change", tr("变更", "change")), ("subject", tr("对象", "subject")),
           ("made_by", tr("提出人", "by")), ("made_at", tr("时间", "when")), ("signers", tr("签名", "signed by"))], rows, False)
    for n in authority.pending(store):
        say(tr("待批准：第 %d 版（wuye trust approve %d --as 经理）", "awaiting approval: version %d (wuye trust approve %d --as MANAGER)") % (n, n))


@app.command("init")
def init(ctx: typer.Context, as_: str = typer.Option(None, "--as", help=AS_HELP),
         threshold: int = typer.Option(1, "--threshold", help=tr("授权改动须几位经理签署", "how many managers must sign an authority change"))):
    """为已有档案库建立授权链的根（一次） / found the authority chain of an existing store (once)."""
    from wuye.trust import authority

    store = open_store(ctx)
    outcome = authority.trust_init(store, as_, threshold)
    _said(store, outcome)
    if outcome.complete:
        say(tr("根指纹：%s（已在本处固定；各办公室用 `wuye remote add … --root` 固定）",
               "root fingerprint: %s (pinned here; each office pins it with `wuye remote add … --root`)") % outcome.fingerprint)


@app.command("approve")
def approve(ctx: typer.Context, version: int = typer.Argument(..., help=tr("提议的版本号", "the proposed version")),
            as_: str = typer.Option(None, "--as", help=AS_HELP)):
    """经理批准一项授权提议 / a manager approves a proposed authority version."""
    from wuye.trust import authority

    store = open_store(ctx)
    actor = store.actor(as_)
    _said(store, authority.approve(store, version, actor))


@app.command("reject")
def reject(ctx: typer.Context, version: int = typer.Argument(..., help=tr("提议的版本号", "the proposed version")),
           as_: str = typer.Option(None, "--as", help=AS_HELP)):
    """撤回一项授权提议 / withdraw a proposed authority version."""
    from wuye.trust import authority

    store = open_store(ctx)
    authority.reject(store, version, store.actor(as_))
    say(tr("已撤回授权第 %d 版的提议", "withdrew the proposal of authority version %d") % version)


@app.command("update")
def update(ctx: typer.Context, as_: str = typer.Option(None, "--as", help=AS_HELP),
           threshold: int = typer.Option(None, "--threshold", help=tr("新的门槛", "a new threshold"))):
    """签署改过的流程文件、收费标准和单价（及门槛） / sign the edited workflow, fees and rates (and threshold)."""
    from wuye.moveout import workflow
    from wuye.trust import authority

    store = open_store(ctx)
    _said(store, authority.update(store, as_, threshold, check=workflow.load))


@app.command("payload")
def payload(ctx: typer.Context, version: int = typer.Argument(..., help=tr("版本号", "the version")),
            signature: str = typer.Option(None, "--signature", help=tr("改为输出这位签名人的签名（SSHSIG）", "print this signer's signature (SSHSIG) instead"))):
    """输出某版本被签名的字节（RFC 8785），供 ssh-keygen -Y verify 核验 / print a version's signed bytes, for ssh-keygen."""
    from wuye.errors import WuyeError
    from wuye.trust import authority

    store = open_store(ctx)
    v = authority.load(store).at(version)
    if v is None:
        raise WuyeError(tr("没有授权第 %d 版", "there is no authority version %d") % version)
    if signature is None:
        sys.stdout.buffer.write(v.body)
        return
    found = [s.signature for s in v.record.signatures if s.signer == signature]
    if not found:
        raise WuyeError(tr("授权第 %d 版没有 %s 的签名（签名人：%s）", "authority version %d has no signature by %s (signed by: %s)")
                        % (version, signature, ", ".join(s.signer for s in v.record.signatures)))
    sys.stdout.write(found[0] if found[0].endswith("\n") else found[0] + "\n")
