"""Registering the staff who act in a store, and the keys their signatures are checked against.

A staff member is `staff/<id>.yaml` (name, departments, and every key they ever had with its
validity window) plus lines in the store's `allowed_signers`, regenerated from staff/ on every
change so that `ssh-keygen -Y verify` can check any signed entry without wuye. The private key
lives only in the user's key directory (`signing.keys_dir()`), never in the store. Rotating or
revoking a key closes its window; signatures made inside it stay valid.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from wuye.trust import authority, signing
from wuye.storage import yamlio
from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.models.ids import check_id
from wuye.models.store import DEPARTMENTS, Staff, StaffKey
from wuye.storage import layout
from wuye.storage.store import Store

ALLOWED_SIGNERS = layout.ALLOWED_SIGNERS


def dept_label(dept: str) -> str:
    zh, en = DEPARTMENTS.get(dept, (dept, dept))
    return tr(zh, en)


def all_staff(store: Store) -> list[Staff]:
    d = store.path("staff")
    if not d.is_dir():
        return []
    return [store.staff(p.stem) for p in sorted(d.glob("*.yaml"))]


def allowed_signers_text(members: list[Staff]) -> str:
    return authority.allowed_signers_text(members)


def _check_departments(depts: list[str]) -> list[str]:
    bad = [d for d in depts if d not in DEPARTMENTS]
    if bad or not depts:
        raise WuyeError(
            tr("未知部门 %s；可用：%s" % (", ".join(bad) or "（无）", ", ".join(DEPARTMENTS)),
               "unknown department %s; choose from: %s" % (", ".join(bad) or "(none)", ", ".join(DEPARTMENTS)))
        )
    return depts


def _new_key(staff_id: str, key: Path | None) -> tuple[bytes | None, str]:
    """(private PEM to save, public line): a fresh key, or the one at `key` adopted."""
    if key is not None:
        public = signing.read_public_key_file(key)
        pem = None
        private = Path(key).with_suffix("") if Path(key).suffix == ".pub" else Path(key)
        if private.is_file() and b"PRIVATE KEY" in private.read_bytes()[:4096]:
            mode = private.stat().st_mode & 0o777
            if os.name == "posix" and mode & 0o077:
                # As ssh does: a private key others can read may already be someone else's too.
                raise WuyeError(tr(
                    "私钥文件 %s 的权限是 %o，别的用户也能读取，不予采用。请先执行：chmod 600 %s（若别人可能已读到，请改用新密钥）",
                    "the private key file %s has mode %o, so other users can read it; it is not adopted. Run: chmod 600 %s "
                    "(and if someone may have read it, use a new key)") % (private, mode, private))
            pem = private.read_bytes()
        return pem, public
    path = signing.private_key_path(staff_id)
    if path.exists():
        raise WuyeError(
            tr("本机已有 %s 的私钥（%s）；若要沿用，请加 --key %s",
               "this machine already has a private key for %s (%s); to use it, pass --key %s") % (staff_id, path, path)
        )
    return signing.generate_key(f"{staff_id}@wuye")


def _save_key(staff_id: str, pem: bytes | None, public: str) -> Path | None:
    if pem is None or signing.private_key_path(staff_id).exists():
        return None  # only a public key, or the adopted key is already in place
    return signing.save_private_key(staff_id, pem, public)


def _forget_key(saved: Path | None) -> None:
    if saved is not None:
        saved.unlink(missing_ok=True)
        Path(str(saved) + ".pub").unlink(missing_ok=True)


def _keys_outside(store: Store) -> None:
    """Refuse a key folder inside the store: a private key there is one `git add -A` from history."""
    folder = signing.keys_dir().expanduser().resolve()
    if folder.is_relative_to(store.root.resolve()):
        raise WuyeError(tr("密钥目录 %s 在档案库之内，私钥不能放在这里；请把 WUYE_KEYS 指向档案库之外的目录",
                           "the key folder %s is inside the store, where no private key may be; point WUYE_KEYS outside the store") % folder)


def _actor(store: Store, base, actor_id: str | None):
    """The staff member acting (--as, else WUYE_USER) as the authority chain knows them, or None.

    Judged by the chain, never by staff/ in the checkout: a hand-added staff file is nobody."""
    actor_id = actor_id or os.environ.get("WUYE_USER")
    if not actor_id:
        return None
    member = base.member(actor_id) if base is not None else None
    if member is None:
        if base is None:
            return None
        raise WuyeError(tr("授权链第 %d 版中没有员工 %s；用 `wuye staff list` 查看",
                           "authority version %d has no staff member %s; see `wuye staff list`") % (base.number, actor_id))
    if member.revoked_at is not None:
        raise WuyeError(tr("员工 %s 已于 %s 停用，不能再操作", "staff member %s was revoked at %s and can no longer act") % (actor_id, member.revoked_at))
    return member


def _need_manager(base, actor, what_zh: str, what_en: str):
    if actor is None:
        raise WuyeError(tr("%s须由管理层办理；请用 --as 经理（或环境变量 WUYE_USER）说明是哪位经理",
                           "%s takes a manager; say which with --as MANAGER (or WUYE_USER)") % tr(what_zh, what_en))
    if "management" not in actor.departments:
        raise WuyeError(tr("%s须由管理层办理（%s 不是管理层）；请用 --as 经理",
                           "%s takes a manager (%s is not in management); use --as MANAGER") % (tr(what_zh, what_en), actor.id))
    return actor


def _staff_text(store: Store, member: Staff) -> str:
    """staff/<id>.yaml for `member`, keeping the comments of the file there."""
    rel = f"staff/{member.id}.yaml"
    data = yamlio.plain(member.model_dump())
    p = store.path(rel)
    if p.is_file():
        try:
            doc = yamlio.load_roundtrip(store.read_text(rel))  # never through a link
        except Exception:  # a damaged file is rewritten from the chain, which is what counts
            doc = None
        if isinstance(doc, dict):
            for k in list(doc):
                if k not in data:
                    del doc[k]
            for k, v in data.items():
                doc[k] = v
            return yamlio.dumps(doc)
    return yamlio.dumps(data)


def _files(store: Store, members: dict, changed: Staff) -> dict[str, str]:
    return {f"staff/{changed.id}.yaml": _staff_text(store, changed),
            ALLOWED_SIGNERS: authority.allowed_signers_text(members.values())}


def _enact(store: Store, ch, base, actor_id: str, change: str, member: Staff, signer: str | None = None,
           private_key=None) -> authority.Outcome:
    """Sign a version in which `member` replaces their entry, and write it (or its proposal)."""
    authority.refuse_if_pending(store)
    members = {**(base.members if base is not None else {}), member.id: member}
    data = authority.record_data(store, base, actor_id, change, member.id, members.values())
    authority.sign_data(data, signer or actor_id, private_key)
    outcome = authority.enact(store, ch, data, _files(store, members, member), base)
    if not outcome.complete:
        ch.summary = tr("authority %d 提议（待批准）：", "authority %d proposed (awaits approval): ") % outcome.version + ch.summary
    store._staff.pop(member.id, None)
    return outcome


def _require_chain(store: Store):
    base = authority.current(store)
    if base is None:
        raise WuyeError(tr("此档案库还没有授权链；请先由一位经理执行 `wuye trust init --as 经理`（见 README「信任」）",
                           "this store has no authority chain yet; a manager first runs `wuye trust init --as MANAGER` (README, Trust)"))
    return base


def _chain_member(base, staff_id: str) -> Staff:
    member = base.member(staff_id)
    if member is None:
        raise WuyeError(tr("授权链第 %d 版中没有员工 %s；用 `wuye staff list` 查看",
                           "authority version %d has no staff member %s; see `wuye staff list`") % (base.number, staff_id))
    return member


def add(store: Store, staff_id: str, name: str, departments: list[str], email: str | None = None,
        key: Path | None = None, actor_id: str | None = None) -> Staff:
    """Register a staff member with a new Ed25519 key (or an existing one with `key`).

    Management registers people. The one exception is a store's first manager, who founds the
    authority chain (its root) by registering themselves in a store with no staff yet."""
    from pydantic import ValidationError

    try:
        check_id(staff_id, tr("员工编号", "staff id"))  # before it is used in a path (a 300-character id)
    except ValueError as e:
        raise WuyeError(str(e)) from None
    rel = f"staff/{staff_id}.yaml"
    _check_departments(departments)
    _keys_outside(store)
    base = authority.current(store)
    founding = base is None
    if founding and (all_staff(store) or authority.pending(store)):
        raise WuyeError(tr("此档案库已有员工但还没有授权链；请先由一位经理执行 `wuye trust init --as 经理`（见 README「信任」）",
                           "this store has staff but no authority chain yet; a manager first runs `wuye trust init --as MANAGER` (README, Trust)"))
    if founding and "management" not in departments:
        raise WuyeError(tr("档案库的第一位员工须是管理层（--dept management）：由其建立授权链的根",
                           "a store's first staff member must be in management (--dept management): they found the authority chain's root"))
    actor = None if founding else _need_manager(base, _actor(store, base, actor_id), "登记员工", "registering staff")
    if store.path(rel).exists() or (base is not None and base.member(staff_id) is not None):
        # Said before anything about keys: a second registration is the problem, not the key.
        raise WuyeError(tr("员工 %s 已登记（%s）",
                           "staff member %s is already registered (%s)") % (staff_id, rel))
    pem, public = _new_key(staff_id, key)
    if founding and pem is None and not signing.private_key_path(staff_id).exists():
        raise WuyeError(tr("建立授权链的经理须在本机有私钥（--key 指向私钥，而非 .pub）",
                           "the manager who founds the chain needs their private key here (--key must name the private key, not the .pub)"))
    try:
        member = Staff(id=staff_id, name=name, departments=departments, email=email,
                       keys=[StaffKey(public_key=public, valid_from=store.now())])
    except ValidationError as e:
        raise WuyeError("\n".join(str(p) for p in yamlio.validation_problems(rel, None, e))) from None
    saved = None
    try:
        with store.change(
            tr("staff %s: 登记员工 %s（%s）" % (staff_id, name, "、".join(dept_label(d) for d in departments)),
               "staff %s: register %s (%s)" % (staff_id, name, ", ".join(departments))),
            author=actor or member,
            trailers={"Wuye-Staff": staff_id, "Wuye-Actor": actor.id if actor else staff_id},
        ) as ch:
            if store.path(rel).exists():
                raise WuyeError(tr("员工 %s 已登记（%s）",
                                   "staff member %s is already registered (%s)") % (staff_id, rel))
            # The key is saved before the commit and removed if it fails, so a refused
            # registration leaves no orphan key that would block the next attempt.
            saved = _save_key(staff_id, pem, public)
            outcome = _enact(store, ch, base, actor.id if actor else staff_id, "init" if founding else "staff.add", member)
        if founding and outcome.complete:
            from wuye.trust import pins

            pins.write(store.root, root=outcome.fingerprint)
    except BaseException:
        _forget_key(saved)
        raise
    return member


def set_departments(store: Store, staff_id: str, departments: list[str], actor_id: str | None) -> Staff:
    """Change a member's departments: management's to make."""
    _check_departments(departments)
    base = _require_chain(store)
    actor = _need_manager(base, _actor(store, base, actor_id), "更改部门", "changing departments")
    member = _chain_member(base, staff_id).model_copy(update={"departments": list(dict.fromkeys(departments))})
    with store.change(tr("staff %s: 部门改为 %s" % (staff_id, "、".join(dept_label(d) for d in departments)),
                         "staff %s: departments set to %s" % (staff_id, ", ".join(departments))),
                      author=actor, trailers={"Wuye-Staff": staff_id, "Wuye-Actor": actor.id}) as ch:
        _enact(store, ch, _require_chain(store), actor.id, "staff.departments", member)
    return member


def issue_key(store: Store, staff_id: str, key: Path | None = None, actor_id: str | None = None) -> Staff:
    """Give a staff member a new key (first key, or a rotation that ends the current one).

    A member rotates their own key by signing the change with their current key (on this
    machine); otherwise, and for a first key, management issues it. The retired private key is
    deleted once the new one is in force: a key kept beside its successor could still sign
    inside its old window."""
    base = _require_chain(store)
    _keys_outside(store)
    member = _chain_member(base, staff_id)
    if member.revoked_at is not None:
        raise WuyeError(tr("员工 %s 已停用，不能再发密钥", "staff member %s is revoked; no new key") % staff_id)
    actor = _actor(store, base, actor_id)
    self_rotation = actor is None or actor.id == staff_id
    old_private = signing.private_key_path(staff_id)
    signer_key = None
    if self_rotation:
        current = member.current_key()
        if current is None:
            raise WuyeError(tr("%s 还没有密钥：首个密钥须由管理层发放（--as 经理）",
                               "%s has no key yet: a first key is issued by management (--as MANAGER)") % staff_id)
        try:
            signer_key = signing.load_private_key(staff_id)
            public_here = signing.public_line_from_private(old_private.read_bytes(), "")
        except (WuyeError, OSError):
            public_here = None
        if public_here is None or public_here.split()[:2] != current.public_key.split()[:2]:
            raise WuyeError(tr("本人更换密钥须用其当前密钥签署，但本机没有 %s 的当前私钥；密钥遗失或泄露时由管理层更换：--as 经理",
                               "rotating one's own key is signed with the current key, and this machine has no current private key of %s; "
                               "for a lost or exposed key a manager rotates it: --as MANAGER") % staff_id)
        actor = member
    else:
        _need_manager(base, actor, "为他人发放密钥", "issuing someone else's key")
    retire = old_private if old_private.exists() and key is None else None
    if retire is not None and not self_rotation and base.record.threshold > 1:
        raise WuyeError(tr("门槛大于 1 时，管理层发放的密钥须由本人生成后用 --key 交来公钥（本机已有 %s 的私钥）",
                           "with a threshold above 1, a key issued by management is adopted with --key from the member's own key pair "
                           "(this machine already holds a private key of %s)") % staff_id)
    now = _next_second(store)
    pem, public = _new_key(staff_id, key) if retire is None else signing.generate_key(f"{staff_id}@wuye")
    keys = [k if k.revoked_at else k.model_copy(update={"revoked_at": now}) for k in member.keys]
    keys.append(StaffKey(public_key=public, valid_from=now))
    member = member.model_copy(update={"keys": keys})
    saved = None
    kept = (retire.read_bytes(), Path(str(retire) + ".pub").read_bytes() if Path(str(retire) + ".pub").is_file() else None) if retire else None
    try:
        with store.change(
            tr("staff %s: 为 %s 发放新签名密钥", "staff %s: issue a new key to %s") % (staff_id, member.name),
            author=actor,
            trailers={"Wuye-Staff": staff_id, "Wuye-Actor": actor.id},
        ) as ch:
            outcome = _enact(store, ch, _require_chain(store), actor.id, "key.rotate" if self_rotation else "key.issue", member,
                             signer=actor.id, private_key=signer_key)
            if pem is not None and outcome.complete:
                if retire is not None:
                    # The retired key is deleted, not kept aside: beside its successor it could
                    # still sign inside its old window. (Restored below if the commit fails.)
                    retire.unlink()
                    Path(str(retire) + ".pub").unlink(missing_ok=True)
                saved = _save_key(staff_id, pem, public)
    except BaseException:
        _forget_key(saved)
        if kept is not None and not retire.exists():
            signing.restore_key_file(retire, *kept)
        raise
    return member


def _next_second(store: Store) -> dt.datetime:
    """The start of the next whole second, waited for (under a second).

    Signing times are kept to the second. A key that ends at the next whole second keeps valid
    every signature made before this moment, and, because we wait until that second has come,
    refuses every signature made after the command returns.
    """
    import time

    end = store.now() + dt.timedelta(seconds=1)
    while store.now() < end:
        time.sleep(0.02)
    return end


def revoke(store: Store, staff_id: str, actor_id: str | None = None) -> Staff:
    """Stop a staff member from now on: their keys end; their earlier signatures stay valid.

    Only management revokes (--as or WUYE_USER): a revocation is never authored by nobody.
    """
    base = _require_chain(store)
    store.actor(actor_id)  # "say who is acting" when no one is named
    actor = _need_manager(base, _actor(store, base, actor_id), "停用员工", "revoking staff")
    member = _chain_member(base, staff_id)
    if member.revoked_at is not None:
        raise WuyeError(tr("员工 %s 已于 %s 停用",
                           "staff member %s was already revoked at %s") % (staff_id, member.revoked_at))
    end = _next_second(store)
    keys = [k if k.revoked_at else k.model_copy(update={"revoked_at": end}) for k in member.keys]
    member = member.model_copy(update={"keys": keys, "revoked_at": end})
    with store.change(
        tr("staff %s: 停用 %s 并吊销其密钥", "staff %s: revoke %s and their keys") % (staff_id, member.name),
        author=actor,
        trailers={"Wuye-Staff": staff_id, "Wuye-Actor": actor.id},
    ) as ch:
        _enact(store, ch, _require_chain(store), actor.id, "staff.revoke", member)
    return member


def key_valid(member: Staff, when: dt.datetime) -> bool:
    return any(k.valid_at(when) for k in member.keys)
