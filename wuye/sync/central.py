"""The central repository the offices sync through: `wuye remote init-central` and its guard.

A central repository is an ordinary bare git repository (reachable by path, ssh or any git
server) with a `pre-receive` hook that runs wuye on every push and refuses, before any ref moves:
a deleted branch, a non-fast-forward update (signed history is never rewritten), anything but a
branch, a new branch with no history in common with the existing ones, and a pushed commit that
fails `wuye verify` (bad signatures, signers outside their department, duplicate case ids, and in
history a signed entry edited or deleted by any commit, merges included). git's own
`receive.denyNonFastForwards` and `receive.denyDeletes` back the hook up.

The hook names the Python interpreter that created it (`sys.executable -I -m wuye`: isolated from
the working folder and PYTHON* variables), so it finds the same wuye without relying on the
server's PATH; if that install moves, `wuye remote init-central
--update PATH` rewrites the hook. The pushed objects are still in git's quarantine while the hook
runs, so the pushed commit is checked out in a throwaway repository that borrows the central's
objects and the quarantine's (`objects/info/alternates`): the central itself is never written to
by the check, and no ref changes until git accepts the push.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage.atomic import write_atomic

HOOK = "pre-receive"
CONFIG = {
    "receive.denyNonFastForwards": "true",
    "receive.denyDeletes": "true",
    "receive.fsckObjects": "true",
    "core.logAllRefUpdates": "true",
}
_MARK = "# wuye central repository guard"


def hook_text() -> str:
    import shlex

    beside = Path(sys.executable).with_name("wuye")
    script = str(beside) if beside.is_file() else (shutil.which("wuye") or "-")
    return (
        "#!/bin/sh\n"
        f"{_MARK} (written by `wuye remote init-central`).\n"
        "# 每次推送先由 wuye 检查：不许删除分支、不许非快进更新，推送的结果须通过 wuye verify。\n"
        "# Every push is checked by wuye first: no deleted branches, no non-fast-forward updates,\n"
        "# and the pushed result must pass `wuye verify`.\n"
        f"# wuye: {sys.executable} -I -m wuye (console script: {script}); if it moves, run\n"
        "# `wuye remote init-central --update THIS_REPOSITORY`.\n"
        # -I (isolated): no working folder or PYTHON* variable decides which wuye checks the push.
        f"exec {shlex.quote(sys.executable)} -I -m wuye remote pre-receive\n"
    )


def init_central(path: Path, update: bool = False, root: str | None = None) -> Path:
    """A bare repository with the guard hook; `update` rewrites the hook of an existing one. With
    `root`, the store's authority root is pinned here: a push whose chain starts elsewhere fails."""
    import re

    from wuye.storage import git as audit
    from wuye.trust import pins

    if root is not None and not re.fullmatch(r"SHA256:[A-Za-z0-9+/]+", root.strip()):
        raise WuyeError(tr("--root 应为授权根的指纹 SHA256:…，而不是 %r", "--root takes the authority root's fingerprint, SHA256:…, not %r") % root)
    path = Path(path).expanduser()
    if update and root is not None and (path / "HEAD").is_file():
        pinned = pins.read(path).get("root")
        if pinned is not None and pinned != root.strip():
            raise WuyeError(tr("中央仓库已固定授权根 %s，与 --root %s 不符", "the central repository pins the root %s, not --root %s") % (pinned, root))
    if update:
        if not (path / "HEAD").is_file() or not (path / "objects").is_dir():
            raise WuyeError(tr("%s 不是裸仓库，无法更新其钩子", "%s is not a bare repository, so its hook cannot be updated") % path)
        _install(path)
        if root is not None:
            pins.write(path, root=root.strip())
        return path.resolve()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise WuyeError(tr("%s 已存在且不是空目录；请指定一个新目录（已有的中央仓库可用 --update 更新钩子）",
                           "%s exists and is not an empty folder; choose a new one (--update rewrites the hook of an existing central repository)") % path)
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        audit.run(None, "init", "-q", "--bare", "--initial-branch=main", str(path.resolve()), cwd=path)
        _install(path)
        if root is not None:
            pins.write(path, root=root.strip())
    except (audit.GitFailed, OSError) as e:
        _remove(path, keep_root=not created)
        raise WuyeError(tr("无法新建中央仓库 %s：%s", "cannot create the central repository %s: %s") % (path, e)) from None
    return path.resolve()


def _remove(path: Path, keep_root: bool) -> None:
    if not keep_root:
        shutil.rmtree(path, ignore_errors=True)
        return
    for child in path.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


def _install(path: Path) -> None:
    from wuye.storage import git as audit

    for key, value in CONFIG.items():
        audit.run(path, "config", key, value)
    hook = path / "hooks" / HOOK
    hook.parent.mkdir(exist_ok=True)
    write_atomic(hook, hook_text().encode("utf-8"), tmp=hook.with_name(HOOK + ".wuye-tmp"), mode=0o755,
                 exact_mode=True, sync=False)
    install_receipts(path)


# --- push receipts (trust/receipts.py) ---------------------------------------------------------

RECEIPT_HOOK = "post-receive"


def receipt_hook_text() -> str:
    import shlex

    return (
        "#!/bin/sh\n"
        "# wuye central repository receipts (written by `wuye remote init-central`).\n"
        "# 每次推送被接受后，中央仓库用自己的密钥签一张回执（分支、旧/新提交、时间），追加到 refs/wuye/receipts。\n"
        "# After each accepted push the central signs a receipt (ref, old and new head, time) with its\n"
        "# own key and appends it to refs/wuye/receipts.\n"
        f"exec {shlex.quote(sys.executable)} -m wuye remote post-receive\n"
    )


def install_receipts(path: Path) -> str:
    """The central's receipt key (made once, kept) and its post-receive hook; the key's public line."""
    from wuye.trust import receipts

    public = receipts.create_key(path)
    hook = path / "hooks" / RECEIPT_HOOK
    write_atomic(hook, receipt_hook_text().encode("utf-8"), tmp=hook.with_name(RECEIPT_HOOK + ".wuye-tmp"), mode=0o755,
                 exact_mode=True, sync=False)
    return public


def show_key(path: Path) -> str:
    """The public key of the central repository at `path`, what every office pins."""
    from wuye.trust import receipts

    return receipts.public_key(Path(path).expanduser())


def post_receive(lines: list[str]) -> list[str]:
    """Sign a receipt for each ref the push moved (the `old new ref` lines git gives the hook);
    what to tell the pusher. The push itself is done by now: a receipt that cannot be written is
    reported, and the next push's receipt chains on from the last one written."""
    from wuye.trust import receipts

    if not os.environ.get("GIT_DIR"):
        raise WuyeError(tr("这是中央仓库的 post-receive 钩子，由 git 在接受推送后运行，不能单独运行",
                           "this is a central repository's post-receive hook, run by git after each push, not by hand"))
    central = Path(os.environ["GIT_DIR"]).resolve()
    said = []
    for line in lines:
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("refs/heads/") or _zero(parts[1]):
            continue
        old, new, ref = parts
        try:
            commit = receipts.append(central, ref, old, new)
        except WuyeError as e:
            said.append(tr("未能为 %s 写入推送回执：%s", "no push receipt was written for %s: %s") % (ref, e))
            continue
        said.append(tr("中央仓库已签收 %s → %s（回执 %s）", "the central signed a receipt for %s → %s (receipt %s)") % (ref, new[:10], commit[:10]))
    return said


# --- the guard ----------------------------------------------------------------------------


def _zero(sha: str) -> bool:
    return set(sha) == {"0"}


def _scrub_environment() -> tuple[list[str], Path]:
    """Object directories of the push, then git's repository variables removed from os.environ.

    Inside a hook git sets GIT_DIR, GIT_QUARANTINE_PATH and friends; left in place they would
    point every git command of the check at the central repository. (git.call scrubs them from
    each command it starts anyway; they are removed here too so that nothing else in the check,
    `Store(work)` finding its root say, sees the central repository.)
    """
    from wuye.storage import git as audit

    central = Path(os.environ.get("GIT_DIR", ".")).resolve()
    objects = [os.environ[k] for k in ("GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY") if os.environ.get(k)]
    objects += [p for p in os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES", "").split(os.pathsep) if p]
    objects.append(str(central / "objects"))
    alternates = central / "objects" / "info" / "alternates"
    if alternates.is_file():
        objects += [line for line in alternates.read_text().splitlines() if line and not line.startswith("#")]
    local = audit.run(None, "rev-parse", "--local-env-vars", cwd=central).split()
    for name in [*local, "GIT_QUARANTINE_PATH"]:
        os.environ.pop(name, None)
    resolved = []
    for o in objects:
        p = Path(o) if os.path.isabs(o) else central / o
        if str(p.resolve()) not in resolved:
            resolved.append(str(p.resolve()))
    return resolved, central


def _run(root: Path, *args: str) -> tuple[int, str, str]:
    from wuye.storage import git as audit

    status, out, err = audit.call(root, *args)
    return status, out.decode("utf-8", "surrogateescape").removesuffix("\n"), err.decode("utf-8", "replace")


def pre_receive(lines: list[str]) -> list[str]:
    """Check a push (the `old new ref` lines git gives the hook); the reasons to refuse it."""
    from wuye.storage import git as audit

    if not os.environ.get("GIT_DIR"):
        raise WuyeError(tr("这是中央仓库的 pre-receive 钩子，由 git 在收到推送时运行，不能单独运行",
                           "this is a central repository's pre-receive hook, run by git on each push, not by hand"))
    updates = [line.split() for line in lines if line.strip()]
    objects, central = _scrub_environment()
    existing = [line.split()[0] for line in
                audit.run(central, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/").splitlines()]
    out: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="wuye-pre-receive-"))
    try:
        audit.run(None, "init", "-q", str(work), cwd=work)
        (audit.common_dir(work) / "objects" / "info" / "alternates").write_text("\n".join(objects) + "\n")
        from wuye.trust import pins

        root = pins.read(central).get("root")  # `init-central --root`: pushes are judged from it
        for old, new, ref in updates:
            out += [f"{ref}: {p}" for p in check_update(work, old, new, ref, existing, root)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def check_update(work: Path, old: str, new: str, ref: str, existing: list[str], root: str | None = None) -> list[str]:
    """One ref update of a push, checked in `work` (a repository that can read the pushed objects),
    its authority chain judged from `root`, the fingerprint the central pinned."""
    from wuye.verify import checks as verifying
    from wuye.storage.store import Store

    if _zero(new):
        return [tr("不许删除分支（中央仓库只追加，不删除历史）", "deleting a branch is refused (the central repository only ever grows)")]
    if not ref.startswith("refs/heads/"):
        return [tr("中央仓库只接受分支，不接受 %s", "the central repository accepts branches only, not %s") % ref]
    if not _zero(old):
        if _run(work, "merge-base", "--is-ancestor", old, new)[0] != 0:
            return [tr("非快进推送被拒绝：%s 不是 %s 的祖先；已签字的历史不许改写（先 wuye sync 合并，再推送）",
                       "non-fast-forward push refused: %s is not an ancestor of %s; signed history is never rewritten (merge with wuye sync, then push)") % (old[:10], new[:10])]
    elif existing and not any(_run(work, "merge-base", new, e)[0] == 0 for e in existing):
        return [tr("推送的历史与中央仓库没有共同的起点（另一座大厦的档案库？）", "the pushed history shares no commit with the central repository (another building's store?)")]
    refused = layout_problems(work, old, new, existing)
    if refused:
        return refused
    # Only now is anything written to disk: plain files at known places (no symlink, no gitlink:
    # layout_problems refused them), so the checkout cannot reach outside `work`.
    status, _, err = _run(work, "-c", "core.symlinks=false", "checkout", "-q", "-f", "--detach", new)
    if status != 0:
        return [tr("无法检出 %s：%s", "cannot check out %s: %s") % (new[:10], err.strip())]
    if not (work / "wuye.yaml").is_file():
        return [tr("推送的提交 %s 不是 wuye 档案库（没有 wuye.yaml）", "the pushed commit %s is not a wuye store (no wuye.yaml)") % new[:10]]
    # Each ref is verified on its own: no "last verified" marker carries over between them.
    from wuye.storage import git as audit

    (audit.git_dir(work) / verifying.VERIFIED_HEAD).unlink(missing_ok=True)
    return [str(p) for p in verifying.verify(Store(work), root).errors]


MAX_REPORTED = 50  # a push of 10,000 junk files is refused in a screenful, not 10,000 lines


def layout_problems(work: Path, old: str, new: str, existing: list[str]) -> list[str]:
    """Every commit of the push against the store's allow-list (storage/allowlist.py), read from
    git objects alone: the tip's every path, and what each other new commit adds or changes.

    The attachment cap is the one the central repository holds already (the branch's current
    tip, else any branch's): a push cannot raise the cap for its own attachments; a raised cap
    applies from the next push on. A first push is judged by its own wuye.yaml.
    """
    from wuye.storage import allowlist

    base = ([] if _zero(old) else [old]) + existing  # what the central holds: judged when it came
    config = next((c for c in (allowlist.config_at(work, b) for b in base) if c is not None), None)
    cap = allowlist.attachment_cap(config if base else allowlist.config_at(work, new))
    problems = allowlist.judge_commit(work, new, cap=cap)
    commits = _run(work, "rev-list", new, "--not", *base)[1].split() if base else _run(work, "rev-list", new)[1].split()
    for commit, entries in allowlist.changed(work, [c for c in commits if c != new]).items():
        problems += allowlist.judge(entries, lambda sha: allowlist.blob(work, sha), cap, commit)
    seen, out = set(), []
    for p in problems:
        if (p.path, p.code) not in seen:
            seen.add((p.path, p.code))
            out.append(f"{p} [{p.code}]")
    if len(out) > MAX_REPORTED:
        out = out[:MAX_REPORTED] + [tr("……另有 %d 处", "… and %d more") % (len(out) - MAX_REPORTED)]
    return out
