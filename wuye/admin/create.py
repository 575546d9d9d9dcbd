"""Creating a store: `wuye init PATH`.

A new store is a git repository on branch main with `wuye.yaml` (from the commented template in
`defaults/`), the default move-out workflow, the empty folders, the `.gitattributes` that hands
archive files to `wuye merge-driver` (registered in the repository's own config) and a first
commit. The target must be a new or empty folder: wuye never adopts a directory that holds other
files.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

from wuye.storage import git as audit
from wuye.sync import merging
from wuye.storage import layout, yamlio
from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage.store import CONFIG, TMP_MARK, Store
from wuye.trust import signing

FOLDERS = layout.FOLDERS
GITIGNORE = f"# wuye 的临时文件 / wuye's temporary files\n.*{TMP_MARK}*\n"


def default_text(name: str) -> str:
    return resources.files("wuye.defaults").joinpath(name).read_text(encoding="utf-8")


def init_store(path: Path, name: str | None = None, managers: list[tuple[str, str]] = (), threshold: int = 1) -> Store:
    """A new store; with `managers` [(id, name)], they are registered with fresh keys and sign the
    root of the authority chain in the same first commit, and the root is pinned here."""
    path = Path(path).expanduser().absolute()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise WuyeError(
            tr("%s 已存在且不是空目录；请指定一个新目录",
               "%s exists and is not an empty folder; choose a new folder") % path
        )
    config = yamlio.load_roundtrip(default_text("wuye.yaml"))
    config["building"]["name"] = name or path.resolve().name
    files = {
        CONFIG: yamlio.dumps(config),
        layout.WORKFLOW: default_text("moveout.yaml"),
        layout.GITIGNORE_FILE: GITIGNORE,
        layout.GITATTRIBUTES_FILE: layout.gitattributes(),
        **{f"{d}/.gitkeep": "" for d in FOLDERS},
    }
    founders = _founders(managers)
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    try:
        audit.init_repository(path)
        # The merge driver lives in the repository's config (not a tracked file), so that a
        # plain `git pull` merges archive files entry by entry too; .gitattributes selects it.
        merging.register(path)
        store = Store(path.resolve())
        with store.change(
            tr("init: 新建档案库 %s", "init: create the store of %s") % config["building"]["name"],
            trailers={"Wuye-Building": str(config["building"]["name"])},
        ) as ch:
            for rel, text in files.items():
                ch.write(rel, text)
            if founders:
                from wuye.models.store import StoreConfig
                from wuye.trust import authority

                # The settings as they will be once this commit is written (the file is pending).
                store._config = yamlio.validated(StoreConfig, yamlio.loads(files[CONFIG], CONFIG), CONFIG, files[CONFIG])
                money = authority.money_of(store._config)
                # Keys valid from now in the building's time, as every later key is.
                members = [m.model_copy(update={"keys": [m.keys[0].model_copy(update={"valid_from": store.now()})]}) for m, _ in founders]
                saved = [signing.save_private_key(m.id, pem, m.keys[0].public_key) for m, pem in founders]
                outcome = authority.found(store, ch, members, threshold, money=money,
                                          workflow=authority.file_digest(files[layout.WORKFLOW].encode()))
        if founders:
            from wuye.trust import pins

            pins.write(store.root, root=outcome.fingerprint)
    except BaseException:
        for p in saved if founders and "saved" in locals() else []:
            p.unlink(missing_ok=True)
            Path(str(p) + ".pub").unlink(missing_ok=True)
        _remove_tree(path, keep_root=not created)
        raise
    return store


def _founders(managers):
    """(Staff, private PEM) for each founding manager, refused before anything is created."""
    from pydantic import ValidationError

    from wuye.models.ids import check_id
    from wuye.models.store import Staff, StaffKey
    from wuye.storage.store import now

    out = []
    for sid, name in managers:
        try:
            check_id(sid, tr("员工编号", "staff id"))
        except ValueError as e:
            raise WuyeError(str(e)) from None
        if signing.private_key_path(sid).exists():
            raise WuyeError(tr("本机已有 %s 的私钥（%s）；请换一个员工编号，或移走该私钥",
                               "this machine already has a private key for %s (%s); use another id or move that key away")
                            % (sid, signing.private_key_path(sid)))
        pem, public = signing.generate_key(f"{sid}@wuye")
        try:
            member = Staff(id=sid, name=name, departments=["management"], keys=[StaffKey(public_key=public, valid_from=now(dt.timezone.utc))])
        except ValidationError as e:
            raise WuyeError("\n".join(str(p) for p in yamlio.validation_problems(f"staff/{sid}.yaml", None, e))) from None
        out.append((member, pem))
    if len({m.id for m, _ in out}) != len(out):
        raise WuyeError(tr("创始经理的编号重复", "a founding manager is named twice"))
    return out


def _remove_tree(path: Path, keep_root: bool) -> None:
    import shutil

    if keep_root:
        for child in path.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)
