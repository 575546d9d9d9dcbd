"""verify's layout check: the committed store against the layout's allow-list, as the central
repository judges a push (storage/allowlist.py), plus symlinks in the work tree where a reader
would meet them first (the top folder and tenants/).

HEAD's tree is read from git objects (`ls-tree -r --long`), so what is reported is what `wuye
sync` would push; a tree found clean is remembered in the derived cache by its id and the cap,
so an unchanged store pays one `rev-parse`. Uncommitted files are doctor's to report.
"""

from __future__ import annotations

import os

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import allowlist
from wuye.storage import git as audit
from wuye.storage import layout
from wuye.storage.store import Store

NAME = "layout"


def check_layout(store: Store, ctx) -> list[Problem]:
    """Every committed path a place of the layout, a plain file, of allowed size and content."""
    problems = _committed(store, ctx)
    seen = {(p.path, p.code) for p in problems}
    return problems + [p for p in _work_tree_links(store) if (p.path, p.code) not in seen]


def _cap(store: Store) -> int:
    try:
        return store.config.attachment_max_mib * allowlist.MIB
    except WuyeError:
        return allowlist.DEFAULT_ATTACHMENT_MIB * allowlist.MIB  # check_settings reports wuye.yaml


def _committed(store: Store, ctx) -> list[Problem]:
    if audit.head(store.root) is None:
        return []
    tree = audit.read(store.root, ["rev-parse", "-q", "--verify", "HEAD^{tree}"], check=False)
    cap = _cap(store)
    key = f"{tree} {cap}"
    results = getattr(ctx, "results", None)
    hit = results.settings.get(NAME) if results is not None else None
    entries = None
    if isinstance(hit, list) and len(hit) == 3 and hit[1] == [] and isinstance(hit[0], str):
        if hit[0] == key:
            return []
        clean, _, clean_cap = hit[0].partition(" ")
        if clean_cap == str(cap):
            # A tree found clean with this cap: only the paths changed since need judging.
            try:
                entries = allowlist.between(store.root, clean, tree)
            except audit.GitFailed:
                entries = None  # that tree is gone (gc after a rewrite): judge the whole
    problems = allowlist.judge_commit(store.root, "HEAD", cap=cap, entries=entries)
    if results is not None:
        from wuye.storage import cache

        results.settings[NAME] = [key, cache.problems_to_json(problems), 0]
        results.changed = True
    return problems


def _work_tree_links(store: Store) -> list[Problem]:
    """Symlinks and other non-files among the store's top entries and its tenant folders: a
    tenant folder that is a link out of the store is no tenant (store.tenant_ids skips it), and
    says so here rather than vanishing."""
    out = []
    for base in ("", layout.TENANTS_DIR + "/"):
        try:
            with os.scandir(store.root / base if base else store.root) as it:
                names = [(e.name, e.is_symlink(), e.is_dir(follow_symlinks=False) or e.is_file(follow_symlinks=False)) for e in it]
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name, link, plain in sorted(names):
            if name == ".git" and not base:
                continue
            if link:
                out.append(Problem(base + name, tr("是符号链接；档案库不跟随符号链接，其内容不被读取：请换成文件或目录本身，或删除它",
                                                   "is a symbolic link; a store never follows one and its content is not read: "
                                                   "put the file or folder itself there, or remove it"), code="layout.symlink"))
            elif not plain:
                out.append(Problem(base + name, tr("不是普通文件或目录（设备、管道、套接字）；请删除它",
                                                   "is neither a plain file nor a folder (a device, pipe or socket); remove it"), code="file.not-regular"))
    return out
