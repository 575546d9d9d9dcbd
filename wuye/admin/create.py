"""Creating a store: `wuye init PATH`.

A new store is a git repository on branch main with `wuye.yaml` (from the commented template in
`defaults/`), the default move-out workflow, the empty folders, the `.gitattributes` that hands
archive files to `wuye merge-driver` (registered in the repository's own config) and a first
commit. The target must be a new or empty folder: wuye never adopts a directory that holds other
files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from wuye.storage import git as audit
from wuye.sync import merging
from wuye.storage import layout, yamlio
from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage.store import CONFIG, TMP_MARK, Store

FOLDERS = layout.FOLDERS
GITIGNORE = f"# wuye 的临时文件 / wuye's temporary files\n.*{TMP_MARK}*\n"


def default_text(name: str) -> str:
    return resources.files("wuye.defaults").joinpath(name).read_text(encoding="utf-8")


def init_store(path: Path, name: str | None = None) -> Store:
    path = Path(path).expanduser()
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
    except BaseException:
        _remove_tree(path, keep_root=not created)
        raise
    return store


def _remove_tree(path: Path, keep_root: bool) -> None:
    import shutil

    if keep_root:
        for child in path.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)
