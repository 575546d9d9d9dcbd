"""`wuye staff`: register staff, list them, revoke a key."""

from __future__ import annotations

from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import say, table

app = typer.Typer(no_args_is_help=True, help=tr("员工与签名密钥", "staff and their signing keys"))

AS_HELP = tr("操作员工编号（默认 WUYE_USER）", "the acting staff id (default: WUYE_USER)")


@app.command("add")
def add(
    ctx: typer.Context,
    staff_id: str = typer.Argument(..., help=tr("员工编号，如 zhangwei", "staff id, e.g. zhangwei")),
    name: str = typer.Option(..., "--name", help=tr("姓名", "full name")),
    dept: list[str] = typer.Option(..., "--dept", help=tr("部门（可重复）：leasing, customer_service, engineering, finance, security, management",
                                                          "department (repeatable): leasing, customer_service, engineering, finance, security, management")),
    email: str = typer.Option(None, "--email", help=tr("电子邮件", "e-mail address")),
    key: Path = typer.Option(None, "--key", help=tr("沿用已有的 OpenSSH ed25519 密钥（私钥或 .pub）", "adopt an existing OpenSSH ed25519 key (private key or .pub)")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """登记员工并生成 Ed25519 签名密钥 / register a staff member and make their Ed25519 key."""
    from wuye.trust import signing
    from wuye.trust import staff

    store = open_store(ctx)
    member = staff.add(store, staff_id, name, [d for ds in dept for d in ds.split(",") if d], email, key, as_)
    if not _in_force(store, member.id):
        return
    say(tr("已登记员工 %s（%s）；私钥：%s",
           "registered %s (%s); private key: %s") % (member.id, member.name, signing.private_key_path(member.id)))


def _in_force(store, staff_id: str) -> bool:
    """Whether the change just made is in force, or waits as a proposal (said so)."""
    from wuye.trust import authority

    waiting = authority.pending(store)
    if waiting:
        say(tr("已提议授权第 %d 版，须另一位经理批准后生效：wuye trust approve %d --as 经理",
               "proposed authority version %d; it takes effect once another manager approves: wuye trust approve %d --as MANAGER")
            % (waiting[0], waiting[0]))
        return False
    return True


@app.command("dept")
def dept(
    ctx: typer.Context,
    staff_id: str = typer.Argument(..., help=tr("员工编号", "staff id")),
    dept: list[str] = typer.Option(..., "--dept", help=tr("新的部门（可重复）", "the new departments (repeatable)")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """更改员工的部门（管理层） / change a member's departments (management)."""
    from wuye.trust import staff

    store = open_store(ctx)
    member = staff.set_departments(store, staff_id, [d for ds in dept for d in ds.split(",") if d], as_)
    if _in_force(store, member.id):
        say(tr("%s 的部门：%s", "%s's departments: %s") % (member.id, tr("、", ", ").join(staff.dept_label(d) for d in member.departments)))


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help=tr("输出 JSON", "print JSON"))):
    """列出员工 / list the staff."""
    from wuye.trust import staff

    store = open_store(ctx)
    rows = []
    for m in staff.all_staff(store):
        rows.append({
            "id": m.id, "name": m.name, "departments": m.departments,
            "departments_label": [staff.dept_label(d) for d in m.departments],
            "email": m.email,
            "keys": [k.model_dump(mode="json") for k in m.keys],
            "revoked_at": m.revoked_at.isoformat() if m.revoked_at else None,
            "key": (m.current_key().public_key.split()[1][-12:] if m.current_key() else tr("（无）", "(none)")),
        })
    table([("id", tr("编号", "id")), ("name", tr("姓名", "name")), ("departments_label", tr("部门", "departments")),
           ("revoked_at", tr("停用", "revoked")), ("key", tr("当前公钥（尾部）", "current key (tail)"))],
          rows, as_json)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    staff_id: str = typer.Argument(..., help=tr("员工编号", "staff id")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """停用员工并吊销其密钥（之前的签名仍有效） / revoke a staff member and their keys (earlier signatures stay valid)."""
    from wuye.trust import staff

    store = open_store(ctx)
    member = staff.revoke(store, staff_id, as_)
    if not _in_force(store, member.id):
        return
    say(tr("已吊销 %s 的密钥（%s 起）", "revoked the key of %s from %s") % (member.id, member.revoked_at))


@app.command("key")
def key(
    ctx: typer.Context,
    staff_id: str = typer.Argument(..., help=tr("员工编号", "staff id")),
    key_path: Path = typer.Option(None, "--key", help=tr("沿用已有的 OpenSSH ed25519 密钥", "adopt an existing OpenSSH ed25519 key")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """发放新签名密钥（首次发放或更换，旧密钥此刻失效） / issue a new signing key (first, or a rotation)."""
    from wuye.trust import signing
    from wuye.trust import staff

    store = open_store(ctx)
    member = staff.issue_key(store, staff_id, key_path, as_)
    if not _in_force(store, member.id):
        return
    say(tr("已为 %s 发放新密钥；私钥：%s",
           "issued a new key to %s; private key: %s") % (member.id, signing.private_key_path(member.id)))
