"""`wuye sync`, `wuye merge-driver` and `wuye remote`: several offices on one archive."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import print_json, say

AS_HELP = tr("操作员工编号（默认 WUYE_USER；都没有时以系统身份提交合并）",
             "the acting staff id (default: WUYE_USER; without either, merges are committed by the system identity)")

SYNC_HELP = tr(
    """与远端同步：获取、合并、校验、推送 / sync with a remote: fetch, merge, verify, push.

\b
两处各自追加的条目、同一案件在两台机器上签的两项检查、不同租户的档案改动都会自动合并
（两边都用了的条目编号，本地一方改号并提示）。真正的冲突（同一字段两种改法）不改动任何东西，
并列出两边的版本；选定一方后重新同步即可：
  wuye sync --resolve tenants/T0001/profile.yaml=theirs   （=ours 取本地；--resolve theirs 全部取远端）
或手工合并：git merge origin/main；编辑冲突文件；git add；git commit；wuye sync。

\b
已签字的条目不能这样解决：同一步骤在两处签字，或两处离线开了同一编号的案件（编号已签入每个条目，
不能改号），尚未推送的一方撤回本地提交（保留在分支上），再在中央仓库的历史上重新签字：
  git branch keep/local            （本地提交留档）
  git reset --hard origin/main      （main 回到中央仓库的版本）
  rm .git/wuye/verified-head        （它指向已不在 main 上的提交）
  重新签字（需要更正对方的签字时用 --correct），或重新开案（得到新编号）；其他未推送的工作重做一遍
  wuye sync""",
    """sync with a remote: fetch, merge, verify, push / 与远端同步：获取、合并、校验、推送.

\b
Entries appended in two offices, the two inspections of one case signed on two machines and
archive changes of different tenants merge by themselves (an entry id taken on both sides is
renumbered on the local side, and reported). A real conflict (one field changed two ways)
changes nothing and lists both versions; choose a side and sync again:
  wuye sync --resolve tenants/T0001/profile.yaml=theirs     (=ours keeps the local one; --resolve theirs for all)
or merge by hand: git merge origin/main; edit the files; git add; git commit; wuye sync.

\b
Signed entries cannot be resolved that way: when one step was signed in two offices, or two offices
opened a case with the same id offline (the id is signed into every entry and cannot change),
the office that has not pushed withdraws its local commits (kept on a branch) and signs again on
top of the central's history:
  git branch keep/local             (the local commits stay on record)
  git reset --hard origin/main      (main as the central has it)
  rm .git/wuye/verified-head        (it names a commit no longer on main)
  sign again (--correct to correct the other signature), or open the case again (a new id);
  redo any other unpushed work
  wuye sync""")

remote_app = typer.Typer(no_args_is_help=True, help=tr("远端仓库与中央仓库", "remotes and the central repository"))


def sync(
    ctx: typer.Context,
    remote: str = typer.Option("origin", "--remote", help=tr("远端名称", "the remote's name")),
    resolve: list[str] = typer.Option(None, "--resolve", help=tr(
        "冲突取哪一边：theirs（远端）或 ours（本地），或 路径=theirs|ours（可重复）",
        "which side wins a conflict: theirs (the remote's) or ours (the local one), or PATH=theirs|ours (repeatable)")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
    as_json: bool = typer.Option(False, "--json", help=tr("输出 JSON", "print JSON")),
):
    from wuye.sync import offices as syncing

    store = open_store(ctx)
    result = syncing.sync(store, remote, as_, resolve or [])
    if as_json:
        print_json({"remote": result.remote, "branch": result.branch, "url": result.url, "state": result.state,
                    "received": result.received, "sent": result.sent, "head": result.head,
                    "merge_commit": result.merge_commit, "resolved": result.resolved,
                    "renumbered": [{"path": r.path, "old": r.old, "new": r.new, "cited_by": r.cited_by} for r in result.renumbered]})
    for r in result.renumbered:
        say(r.describe())
    for r in result.resolved:
        say(tr("冲突已按 --resolve 解决：%s", "conflict resolved by --resolve: %s") % r)
    where = f"{result.remote}/{result.branch}"
    say({
        "up-to-date": tr("已是最新：与 %s 一致", "up to date with %s") % where,
        "pushed": tr("已推送 %d 个提交到 %s", "pushed %d commit(s) to %s") % (result.sent, where),
        "fast-forward": tr("已从 %s 取得 %d 个提交（快进）%s" % (where, result.received, "，并推送 %d 个" % result.sent if result.sent else ""),
                           "fast-forwarded %d commit(s) from %s%s" % (result.received, where, ", pushed %d" % result.sent if result.sent else "")),
        "merged": tr("已合并 %s 的 %d 个提交（合并提交 %s），并推送 %d 个提交" % (where, result.received, (result.merge_commit or "")[:10], result.sent),
                     "merged %d commit(s) from %s (merge commit %s) and pushed %d" % (result.received, where, (result.merge_commit or "")[:10], result.sent)),
    }[result.state])


def merge_driver(
    base: Path = typer.Argument(..., help="%O"),
    ours: Path = typer.Argument(..., help="%A"),
    theirs: Path = typer.Argument(..., help="%B"),
    path: str = typer.Argument(..., help="%P"),
):
    """git 的合并驱动：按条目合并档案文件（由 git 调用） / git's merge driver: merge archive files entry by entry (run by git)."""
    from wuye.sync.merging import run_driver

    code = run_driver(base, ours, theirs, path)
    if code:
        raise typer.Exit(code)


@remote_app.command("add")
def remote_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help=tr("远端名称，如 origin", "the remote's name, e.g. origin")),
    url: str = typer.Argument(..., help=tr("地址：路径、ssh://… 或 https://…", "its address: a path, ssh://… or https://…")),
    central: str = typer.Option(None, "--central", help=tr(
        "固定中央仓库的公钥（ssh-ed25519 …，由其管理员用 wuye remote init-central --show-key 给出）：用来核验推送回执",
        "pin the central repository's public key (ssh-ed25519 …, from its administrator's wuye remote init-central --show-key): it checks the push receipts")),
    root_fpr: str = typer.Option(None, "--root", help=tr("固定档案库的授权根指纹（SHA256:…）", "pin the store's authority root fingerprint (SHA256:…)")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """添加远端并登记合并驱动 / add a remote and register the merge driver."""
    from wuye.sync import offices as syncing

    store = open_store(ctx)
    commit = syncing.add_remote(store, name, url, as_, central=central, root=root_fpr)
    say(tr("已登记远端 %s（%s）和合并驱动%s。下一步：wuye sync --remote %s" % (name, url, "，提交 %s" % commit[:10] if commit else "", name),
           "registered the remote %s (%s) and the merge driver%s. Next: wuye sync --remote %s" % (name, url, ", commit %s" % commit[:10] if commit else "", name)))


@remote_app.command("init-central")
def remote_init_central(
    path: Path = typer.Argument(..., help=tr("中央仓库（裸仓库）的目录", "the central (bare) repository's folder")),
    update: bool = typer.Option(False, "--update", help=tr("只重写已有中央仓库的钩子和设置（没有回执密钥时生成一个）", "only rewrite the hooks and settings of an existing central repository (making its receipt key if it has none)")),
    show_key: bool = typer.Option(False, "--show-key", help=tr("只显示中央仓库签回执用的公钥", "only print the public key the central signs receipts with")),
    root_fpr: str = typer.Option(None, "--root", help=tr("固定档案库的授权根指纹（SHA256:…）：推送的授权链须从它开始",
                                                         "pin the store's authority root fingerprint (SHA256:…): every push's chain must start from it")),
):
    """新建有检查钩子的中央仓库 / create a central repository guarded by hooks."""
    from wuye.sync import central as centrals

    if show_key:
        typer.echo(centrals.show_key(path))
        return
    root = centrals.init_central(path, update, root_fpr)
    typer.echo(str(root))
    say(tr("中央仓库 %s 已就绪：推送须为快进，不许删除分支，结果须通过 wuye verify。下一步：在档案库中 wuye remote add origin %s，再 wuye sync",
           "the central repository %s is ready: pushes must fast-forward, branches cannot be deleted, and the result must pass wuye verify. "
           "Next, in a store: wuye remote add origin %s, then wuye sync") % (root, root))
    key = centrals.show_key(root)
    say(tr("中央仓库签推送回执用的公钥（各办公室用 wuye remote add … --central '公钥' 固定它）：\n  %s",
           "the central's receipt key (each office pins it with wuye remote add … --central 'KEY'):\n  %s") % key)


@remote_app.command("pre-receive", hidden=True)
def remote_pre_receive():
    """中央仓库的 pre-receive 钩子（由 git 调用） / the central repository's pre-receive hook (run by git)."""
    from wuye.sync.central import pre_receive

    problems = pre_receive(sys.stdin.read().splitlines())
    if problems:
        say(tr("wuye 中央仓库拒绝了这次推送：", "the wuye central repository refuses this push:"))
        for p in problems:
            say("  " + p)
        raise typer.Exit(1)


@remote_app.command("post-receive", hidden=True)
def remote_post_receive():
    """中央仓库的 post-receive 钩子：签推送回执（由 git 调用） / the central repository's post-receive hook: sign push receipts (run by git)."""
    from wuye.sync.central import post_receive

    for line in post_receive(sys.stdin.read().splitlines()):
        say(line)


def register(app: typer.Typer) -> None:
    app.command("sync", help=SYNC_HELP)(sync)
    app.command("merge-driver")(merge_driver)
    app.add_typer(remote_app, name="remote")
