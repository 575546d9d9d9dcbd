"""Several offices, one archive: `wuye sync` and `wuye remote add`.

`wuye sync [--remote NAME]` fetches the remote's branch, integrates it with the local one, checks
the result with `wuye verify`, and pushes. Integration is a fast-forward when only one side moved
and otherwise a `git merge` (never a rebase: nothing signed or pushed is rewritten), committed by
the acting staff member (`--as`/WUYE_USER; the system identity otherwise), with git's merge
driver `wuye merge-driver` (merging.py) merging the archive files entry by entry. All of it runs
under the store lock, through git's own commands. The local store is verified first only when it
has commits of its own that the remote lacks (`_contained` says why that is the whole guard).

What a refusal leaves behind: the store exactly as it was, except that the remote-tracking refs
(`origin/*`) may have moved with the fetch. That holds for an unknown or unreachable remote, a
remote with unrelated history, a real conflict (listed with both versions, then `git merge
--abort`), a merge leaving conflict markers, a result that fails `wuye verify`, and a push that the
central repository's hook refuses (the merge made for it is undone, and the last-verified marker
restored, so `wuye verify` does not mistake the undo for rewritten history).

A real conflict in an archive file (one field changed two ways) is finished by choosing a side
and syncing again, `wuye sync --resolve PATH=theirs` (or `=ours`, or `--resolve theirs` for
every such conflict): the side wins only at the conflicting values, the rest still merges. Or by
hand: `git merge origin/main`, edit the files, `git add`, `git commit`, then `wuye sync`.

Signed entries cannot be resolved that way. A step signed in two offices cannot lose either
signature in a merge (`wuye verify` flags a merge whose signed entries differ from a parent's);
cases opened with the same id in two offices (ids are allocated per machine, and every signed
entry of a case names its case, so it cannot be renumbered) fail `wuye verify` once merged. Either
way the office that has not pushed withdraws its local commits from its unpublished history,
keeping them on a branch, and signs again on top of the central's (a correction, or the case
opened again under a new id): the procedure is in `wuye sync --help` and needs only git.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from wuye.storage import git as audit
from wuye.sync import merging
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import layout, reading
from wuye.storage.atomic import write_atomic
from wuye.storage.store import Store, recover

SIGNED_RE = layout.BY_NAME["step"].compiled
CASE_FILE_RE = layout.BY_NAME["case"].compiled
DRIVEN_RE = layout.DRIVEN_RE
_MARKER_RE = re.compile(r"^(<{7}|>{7})( |$)", re.M)


@dataclass
class SyncResult:
    remote: str
    branch: str
    url: str
    state: str  # up-to-date | pushed | fast-forward | merged
    received: int = 0  # commits that came from the remote
    sent: int = 0  # commits pushed
    head: str | None = None
    merge_commit: str | None = None
    renumbered: list[merging.Renumbered] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


def _run(root: Path, *args: str, env: dict | None = None, strip: bool = True) -> tuple[int, str, str]:
    """(status, stdout, stderr) of a git command in the store; `strip` drops stdout's final newline."""
    status, out, err = audit.call(root, *args, env=env)
    text = out.decode("utf-8", "surrogateescape")
    if strip and text.endswith("\n"):
        text = text[:-1]
    return status, text, err.decode("utf-8", "replace")


def _ok(root: Path, *args: str, env: dict | None = None) -> str:
    status, out, err = _run(root, *args, env=env)
    if status != 0:
        raise WuyeError(tr("git %s 失败：%s", "git %s failed: %s") % (args[0], err.strip()))
    return out


def parse_resolve(items: list[str]) -> dict[str, str]:
    """`--resolve theirs` (every conflict) or `--resolve PATH=ours|theirs` (one file)."""
    choices: dict[str, str] = {}
    for item in items or []:
        path, sep, side = item.rpartition("=")
        path, side = (path.strip(), side.strip()) if sep else ("*", item.strip())
        if side not in merging.SIDES or not path:
            raise WuyeError(tr("--resolve 应写成 ours、theirs 或 路径=ours|theirs，而不是 %r",
                               "--resolve takes ours, theirs or PATH=ours|theirs, not %r") % item)
        choices[path] = side
    return choices


# --- configuring a store for syncing --------------------------------------------------------


def configure(root: Path) -> None:
    """The repository settings syncing relies on (a `git clone` has none of them)."""
    merging.set_config(root, audit.LOCAL_CONFIG)
    merging.register(root)


def add_remote(store: Store, name: str, url: str, actor_id: str | None = None, central: str | None = None,
               root: str | None = None) -> str | None:
    """`wuye remote add`: the remote, the merge driver, and `.gitattributes` (one commit if new);
    with `central`/`root`, the central's receipt key and the authority root pinned (trust/pins.py)."""
    from wuye.models.types import check_id
    from wuye.trust import pins, receipts, signing

    try:
        check_id(name, tr("远端名称", "remote name"))
    except ValueError as e:
        raise WuyeError(str(e)) from None
    if central is not None:
        central = " ".join(central.split()[:2])  # type and key: a comment is no part of the pin
        signing.key_fingerprint(central)  # refuses anything but an ssh-ed25519 public key
    if root is not None and not re.fullmatch(r"SHA256:\S+", root.strip()):
        raise WuyeError(tr("--root 应为授权根的指纹 SHA256:…，而不是 %r", "--root takes the authority root's fingerprint, SHA256:…, not %r") % root)
    fpr = root.strip() if root is not None else None
    root = store.root
    if fpr is not None:
        # A pin is never moved by a command line: a root already pinned here stays, and the root
        # given must be the one this checkout's chain starts from (when it has one yet).
        from wuye.trust import authority

        pinned = pins.read(root).get("root")
        if pinned is not None and pinned != fpr:
            raise WuyeError(tr("本处已固定授权根 %s，与 --root %s 不符；若确需更换，先删除 %s",
                               "the authority root %s is pinned here, not --root %s; to re-pin, first delete %s")
                            % (pinned, fpr, audit.common_dir(root) / pins.FILE))
        first = authority.load(store).root
        if first is not None and first.fingerprint != fpr:
            raise WuyeError(tr("此档案库的授权根是 %s，不是 --root 给出的 %s：请向管理处核实指纹，不要同步这个档案库",
                               "this store's authority root is %s, not the %s given with --root: check the fingerprint with the office, and do not sync this store")
                            % (first.fingerprint, fpr))
    actor = _actor(store, actor_id)
    with store.lock():
        status, current, _ = _run(root, "remote", "get-url", name)
        if status == 0 and current.strip() != url:
            raise WuyeError(tr("远端 %s 已指向 %s；要改用 %s 请运行 git remote set-url %s %s",
                               "remote %s already points at %s; to use %s instead run git remote set-url %s %s") % (name, current.strip(), url, name, url))
        if status != 0:
            _ok(root, "remote", "add", name, url)
        # The receipts come with a plain `git fetch` too, not only with `wuye sync`.
        fetches = _run(root, "config", "--get-all", f"remote.{name}.fetch")[1].split("\n")
        if receipts.REFSPEC not in fetches:
            _ok(root, "config", "--add", f"remote.{name}.fetch", receipts.REFSPEC)
        configure(root)
        if central is not None or fpr is not None:
            pins.write(root, central=central, root=fpr)
    try:  # never through a link: its target would be copied into the store and committed
        text = store.read_bytes(".gitattributes").decode("utf-8", "replace")
    except OSError:
        text = ""
    missing = [line for line in merging.GITATTRIBUTES.splitlines(keepends=True) if line not in text.splitlines(keepends=True)]
    if not missing:
        return None
    with store.change(tr("remote: 登记按条目合并的合并驱动（.gitattributes）", "remote: register the entry-by-entry merge driver (.gitattributes)"),
                      author=actor, trailers={"Wuye-Remote": name, "Wuye-Actor": actor.id if actor else ""}) as ch:
        ch.write(".gitattributes", (text if not text or text.endswith("\n") else text + "\n") + "".join(missing))
    return ch.commit


def _actor(store: Store, actor_id: str | None):
    """The acting staff member if one is named; None means the system identity."""
    if actor_id or os.environ.get("WUYE_USER"):
        return store.actor(actor_id)
    return None


# --- syncing --------------------------------------------------------------------------------


def sync(store: Store, remote: str = "origin", actor_id: str | None = None, resolve: list[str] = ()) -> SyncResult:
    """Fetch, integrate, verify, push; on any refusal the store is left as it was."""
    root = store.root
    choices = parse_resolve(list(resolve))
    actor = _actor(store, actor_id)
    with store.lock():
        finished = recover(store)
        if finished:
            store.notices.append(tr("已完成上次被中断的修改：%s", "finished a change that was interrupted: %s") % finished)
        branch = _preflight(root)
        status, url, _ = _run(root, "remote", "get-url", remote)
        if status != 0:
            names = _run(root, "remote")[1].split()
            raise WuyeError(tr("没有名为 %s 的远端仓库（已有：%s）；用 `wuye remote add %s 地址` 添加" % (remote, "、".join(names) or "无", remote),
                               "there is no remote called %s (known: %s); add it with `wuye remote add %s URL`" % (remote, ", ".join(names) or "none", remote)))
        url = url.strip()
        configure(root)
        pre = audit.head(root)
        theirs = _fetch(root, remote, branch, url)
        if not _contained(root, pre, theirs):
            _verify_local(store, pre)
        result = SyncResult(remote, branch, url, "up-to-date")
        marker = _read_marker(root)
        try:
            if theirs is not None:
                _integrate(store, result, remote, branch, pre, theirs, actor, choices)
            result.head = audit.head(root)
            if theirs != result.head:
                result.sent = _count(root, result.head, theirs)
                _push(root, remote, branch, url, theirs)
                if result.state == "up-to-date":
                    result.state = "pushed"
        except BaseException:
            # Any failure, a refusal or a crash, leaves the store as it was before integrating.
            _undo(root, pre, marker)
            raise
        _track(root, remote, branch)
    return result


def _preflight(root: Path) -> str:
    """The current branch, refusing a store that is not ready to integrate anything."""
    if audit.head(root) is None:
        raise WuyeError(tr("档案库还没有任何提交", "the store has no commits yet"))
    status, branch, _ = _run(root, "symbolic-ref", "-q", "--short", "HEAD")
    if status != 0:
        raise WuyeError(tr("档案库不在任何分支上（HEAD 游离）；请先 git switch main",
                           "the store is not on a branch (detached HEAD); git switch main first"))
    if (audit.git_dir(root) / "MERGE_HEAD").exists():
        raise WuyeError(tr("档案库中有一个未完成的合并；请先解决冲突后 git add、git commit，或用 git merge --abort 放弃",
                           "a merge is in progress in the store; finish it (resolve, git add, git commit) or abandon it with git merge --abort"))
    dirty = _run(root, "status", "--porcelain", "--untracked-files=no")[1]
    if dirty.strip():
        files = [line[3:] for line in dirty.splitlines()]
        raise WuyeError(tr("档案库有未提交的改动，先提交或撤销它们再同步：%s" % "、".join(files[:10]),
                           "the store has uncommitted changes; commit or discard them before syncing: %s" % ", ".join(files[:10])))
    return branch.strip()


def _contained(root: Path, pre: str, theirs: str | None) -> bool:
    """Whether every local commit is already the remote's (HEAD is, or is an ancestor of, the
    fetched head): then the local verify has nothing to guard, and is not run.

    What sync lets enter or leave this office is guarded by two verifies. Leaving: the commits
    this office would push, or merge with the remote's, are its own commits the remote does not
    have; with none (a fresh clone, or an office that changed nothing since its last sync) nothing
    of its own leaves, and the working tree is clean (`_preflight` refused it otherwise), so there
    is nothing of its own to judge. Entering: whatever the remote brings is integrated and the
    result verified (`_verify_result`, the files and the whole history) before it is kept, and
    that runs whenever anything is received; when the fetched head is what is checked out
    already, nothing is received and nothing is pushed, and sync changes nothing to verify. A
    hostile commit already in this clone (brought by a plain `git clone` or `git pull`) is not
    vouched for by such a sync: the verified marker is not written, and `wuye verify` still finds
    it. Skipping the local verify here spares a fresh clone's first sync a cold verify of the
    whole store (20 s at 10,000 tenants) that could find nothing the remote does not already hold.
    """
    if theirs is None:
        return False  # a remote without the branch: everything local would be pushed
    return pre == theirs or _run(root, "merge-base", "--is-ancestor", pre, theirs)[0] == 0


def _verify_local(store: Store, head: str) -> None:
    """The local store must pass `wuye verify` before anything is integrated or pushed.

    Skipped when this very HEAD was verified last (the marker under .git/wuye), since the work
    tree is clean: verifying 10,000 tenants twice per sync would be the slowest part of it.
    """
    from wuye.verify import checks as verifying

    if _read_marker(store.root) == head:
        return
    report = verifying.verify(Store(store.root))
    if report.errors:
        raise WuyeError(tr("本地档案库未通过 wuye verify，不同步（请先修正）：\n", "the local store fails wuye verify, so nothing is synced (fix it first):\n")
                        + "\n".join(str(p) for p in report.errors), report.errors)


def _fetch(root: Path, remote: str, branch: str, url: str) -> str | None:
    """Fetch the remote's branches; the remote branch's commit, None if it has none yet."""
    from wuye.trust import receipts

    status, _, err = _run(root, "fetch", "--no-tags", "--quiet", remote, f"+refs/heads/*:refs/remotes/{remote}/*",
                          receipts.REFSPEC, env={"GIT_TERMINAL_PROMPT": "0"})
    if status != 0:
        raise WuyeError(tr("无法连接远端仓库 %s（%s）；请检查地址和网络。git：%s",
                           "cannot reach the remote %s (%s); check the address and the network. git: %s") % (remote, url, _git_says(err)))
    status, sha, _ = _run(root, "rev-parse", "-q", "--verify", f"refs/remotes/{remote}/{branch}^{{commit}}")
    return sha.strip() if status == 0 else None


# What git adds to every failure to reach a remote over ssh; the server's own words (sshd's
# "Permission denied", gitolite's "FATAL: W any archive office-c DENIED") come before it.
_GIT_BOILERPLATE = ("fatal: Could not read from remote repository.", "Please make sure you have the correct access rights",
                    "and the repository exists.")


def _git_says(err: str) -> str:
    lines = [line.strip() for line in err.splitlines() if line.strip() and not line.startswith("hint:")]
    said = [line for line in lines if line not in _GIT_BOILERPLATE]
    return " / ".join((said or lines)[-3:]) or "?"


def _count(root: Path, tip: str, exclude: str | None) -> int:
    args = ["rev-list", "--count", tip] + (["--not", exclude] if exclude else [])
    return int(_ok(root, *args).strip() or 0)


def _integrate(store: Store, result: SyncResult, remote: str, branch: str, pre: str, theirs: str, actor,
               choices: dict[str, str]) -> None:
    root = store.root
    if _run(root, "merge-base", pre, theirs)[0] != 0:
        ours_root = _ok(root, "rev-list", "--max-parents=0", pre).split()
        theirs_root = _ok(root, "rev-list", "--max-parents=0", theirs).split()
        raise WuyeError(tr(
            "%s/%s 与本档案库没有共同的历史（首个提交 %s ≠ 本地 %s）：它是另一座大厦的档案库，或是单独新建的。"
            "除远端跟踪引用外，档案库未作任何改动",
            "%s/%s shares no history with this store (first commit %s, here %s): it is another building's store, or was "
            "created separately. Nothing changed but the remote-tracking refs") % (remote, branch, ",".join(c[:10] for c in theirs_root), ",".join(c[:10] for c in ours_root)))
    result.received = _count(root, theirs, pre)
    if result.received == 0:
        return
    if _run(root, "merge-base", "--is-ancestor", pre, theirs)[0] == 0:
        _ok(root, "merge", "--ff-only", "-q", theirs)
        result.state = "fast-forward"
    else:
        _merge(store, result, remote, branch, theirs, actor, choices)
        result.state = "merged"
    _verify_result(store, remote, branch)


def _merge(store: Store, result: SyncResult, remote: str, branch: str, theirs: str, actor, choices: dict[str, str]) -> None:
    root = store.root
    fd, notes = tempfile.mkstemp(prefix="wuye-merge-notes-", suffix=".jsonl")
    os.close(fd)
    env = {**audit._identity(actor), merging.NOTES_ENV: notes, merging.RESOLVE_ENV: json.dumps(choices)}
    try:
        status, out, err = _run(root, "merge", "--no-ff", "--no-commit", theirs, env=env)
        if not (audit.git_dir(root) / "MERGE_HEAD").exists():
            raise WuyeError(tr("git merge 未能开始：%s", "git merge could not start: %s") % _git_says(err or out))
        for path, stages in _unmerged(root).items():
            side = choices.get(path, choices.get("*"))
            # A signed entry is never merged away: a merge that drops either signature fails
            # `wuye verify` (its history check compares a merge with each parent).
            if side and not SIGNED_RE.match(path):
                _take(root, path, stages, side)
                result.resolved.append(f"{path}={side}")
        unmerged = _unmerged(root)
        if unmerged:
            problems = _describe_conflicts(root, unmerged)
            raise WuyeError(
                tr("与 %s/%s 合并时有 %d 个文件冲突；档案库保持原样（只更新了远端跟踪引用 %s/*）：\n",
                   "merging %s/%s conflicts in %d file(s); the store is as it was (only the remote-tracking refs %s/* moved):\n") % (remote, branch, len(unmerged), remote)
                + "\n".join(str(p) for p in problems) + "\n" + _how_to_finish(list(unmerged), remote, branch), problems)
        _refuse_markers(root)
        _regenerate_signers(root)
        for line in Path(notes).read_text(encoding="utf-8").splitlines():
            note = json.loads(line)
            if note["kind"] == "renumbered":
                result.renumbered.append(merging.Renumbered(note["path"], note["old"], note["new"], note["cited_by"]))
            else:
                chosen = f"{note['path']}={choices.get(note['path'], choices.get('*'))}"
                if chosen not in result.resolved:
                    result.resolved.append(chosen)
        message = _merge_message(remote, branch, result, actor)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".msg", delete=False) as msg:
            msg.write(message)
        try:
            _ok(root, "commit", "--no-verify", "-q", "-F", msg.name, env=audit._identity(actor))
        finally:
            Path(msg.name).unlink(missing_ok=True)
        result.merge_commit = audit.head(root)
    finally:
        Path(notes).unlink(missing_ok=True)


def _how_to_finish(paths: list[str], remote: str, branch: str) -> str:
    choosable = [p for p in paths if not SIGNED_RE.match(p)]
    lines = []
    if choosable:
        lines.append(tr(
            "解决：选定一方后重新同步，如 `wuye sync --resolve %s=theirs`（取远端版本；=ours 取本地版本；--resolve theirs 对所有冲突取远端）；"
            "或手工合并：git merge %s/%s，编辑冲突文件，git add，git commit，再 wuye sync",
            "to finish: choose a side and sync again, e.g. `wuye sync --resolve %s=theirs` (the remote's version; =ours keeps the local one; "
            "--resolve theirs takes the remote's for every conflict); or merge by hand: git merge %s/%s, edit the files, git add, git commit, "
            "then wuye sync") % (choosable[0], remote, branch))
    if len(choosable) < len(paths):
        lines.append(tr("已签字的条目：尚未推送的一方撤回本地提交后重新签字，步骤见 `wuye sync --help`",
                        "signed entries: the side that has not pushed withdraws its local commits and signs again, as `wuye sync --help` shows"))
    return "\n".join(lines)


def _unmerged(root: Path) -> dict[str, dict[int, str]]:
    """Unmerged paths and their stages (1 base, 2 ours, 3 theirs) -> blob."""
    out: dict[str, dict[int, str]] = {}
    for line in _run(root, "ls-files", "-u", "-z", strip=False)[1].split("\0"):
        info, _, path = line.partition("\t")
        if path:
            _, blob, stage = info.split()
            out.setdefault(path, {})[int(stage)] = blob
    return out


def _take(root: Path, path: str, stages: dict[int, str], side: str) -> None:
    if (2 if side == "ours" else 3) in stages:
        _ok(root, "checkout", f"--{side}", "--", path)
        _ok(root, "add", "--", path)
    else:
        _ok(root, "rm", "-q", "--", path)


def _blob(root: Path, blob: str | None) -> str | None:
    if blob is None:
        return None
    return _run(root, "cat-file", "blob", blob, strip=False)[1]


def _describe_conflicts(root: Path, unmerged: dict[str, dict[int, str]]) -> list[Problem]:
    """Each conflicting file with both versions: the values for archive files, who signed for steps."""
    problems = []
    for path, stages in unmerged.items():
        base, ours, theirs = (_blob(root, stages.get(n)) for n in (1, 2, 3))
        if ours is None or theirs is None:
            problems.append(Problem(path, tr("一边删除了此文件，另一边改动了它（本地%s，远端%s）" % ("删除" if ours is None else "改动", "删除" if theirs is None else "改动"),
                                             "deleted on one side, changed on the other (here %s, there %s)" % ("deleted" if ours is None else "changed", "deleted" if theirs is None else "changed")),
                                    code="sync.conflict"))
            continue
        if SIGNED_RE.match(path):
            problems.append(Problem(path, tr(
                "两处都签了此条目：本地 %s，远端 %s；已签字的条目不能合并掉任何一方，尚未推送的一方须撤回本地签字（见 `wuye sync --help`）",
                "signed in both places: here %s, there %s; neither signature can be merged away, so the side that has not pushed "
                "withdraws its local one (see `wuye sync --help`)")
                % (_signed(ours), _signed(theirs)),
                code="sync.signed-twice"))
            continue
        if CASE_FILE_RE.match(path):
            problems.append(Problem(path, tr("两处都开了此案件：本地 %s，远端 %s",
                                             "the case was opened in both places: here %s, there %s") % (_signed(ours), _signed(theirs)),
                                    code="sync.signed-twice"))
            continue
        if DRIVEN_RE.match(path):
            tenant_dir = "/".join(path.split("/")[:2]) if path.startswith("tenants/") else ""
            try:
                merged = merging.merge_texts(base or "", ours, theirs, path,
                                             cited=merging.cited_in_head(root, tenant_dir) if tenant_dir else None)
                if merged.conflicts:
                    problems += [Problem(path, c.describe(), code="sync.conflict") for c in merged.conflicts]
                    continue
            except merging.Unmergeable:
                pass
        problems.append(Problem(path, tr("两边改动了同一处：\n", "both sides changed the same lines:\n") + _diff(ours, theirs),
                                code="sync.conflict"))
    return problems


def _signed(text: str) -> str:
    from wuye.storage import yamlio

    try:
        data = yamlio.loads(text, "-")
    except WuyeError:
        return "?"
    if not isinstance(data, dict):
        return "?"
    who = data.get("signer") or data.get("opened_by") or "?"
    when = data.get("signed_at") or data.get("opened_at") or "?"
    return f"{who} @ {when}"


def _diff(ours: str, theirs: str, limit: int = 30) -> str:
    import difflib

    lines = list(difflib.unified_diff(ours.splitlines(), theirs.splitlines(), tr("本地", "here"), tr("远端", "there"), lineterm="", n=1))
    if len(lines) > limit:
        lines = lines[:limit] + [tr("  …（另有 %d 行）", "  … (%d more lines)") % (len(lines) - limit)]
    from wuye.archive.privacy import mask_yaml_line  # a diff quotes the files: masked as on screen

    return "\n".join("    " + mask_yaml_line(line) for line in lines)


def _refuse_markers(root: Path) -> None:
    """Never commit conflict markers, whoever left them (a driver, or a bad hand merge upstream)."""
    names = _run(root, "diff", "--cached", "--name-only", "-z", "HEAD", strip=False)[1].split("\0")
    found = []
    for name in filter(None, names):
        p = root / name
        if not p.is_file() or p.stat().st_size > 4 * 1024 * 1024:
            continue
        try:
            data = reading.read_bytes(root, name)  # a link is never read (verify refuses it)
        except OSError:
            continue
        if b"\0" in data:
            continue
        text = data.decode("utf-8", errors="replace")
        m = _MARKER_RE.search(text)
        if m:
            found.append(Problem(name, tr("含有冲突标记", "contains conflict markers"), text[: m.start()].count("\n") + 1,
                                 code="sync.conflict-markers"))
    if found:
        raise WuyeError(tr("合并结果中留有冲突标记，不提交：\n", "the merge leaves conflict markers, so nothing is committed:\n")
                        + "\n".join(str(p) for p in found), found)


def _regenerate_signers(root: Path) -> None:
    """allowed_signers is derived from staff/: after a merge, write it as staff/ now says."""
    from wuye.trust.staff import ALLOWED_SIGNERS, all_staff, allowed_signers_text

    try:
        text = allowed_signers_text(all_staff(Store(root)))
    except WuyeError:
        return  # a staff file that does not read: `wuye verify` will say which
    try:
        current = reading.read_bytes(root, ALLOWED_SIGNERS)
    except OSError:  # missing, or a link: replaced by the file itself, never written through
        current = None
    if current != text.encode("utf-8"):
        write_atomic(root / ALLOWED_SIGNERS, text.encode("utf-8"), sync=False)
        _ok(root, "add", "--", ALLOWED_SIGNERS)


def _merge_message(remote: str, branch: str, result: SyncResult, actor) -> str:
    lines = [tr("sync: 合并 %s/%s 的 %d 个提交" % (remote, branch, result.received),
                "sync: merge %d commit(s) from %s/%s" % (result.received, remote, branch)), ""]
    lines.append(f"Wuye-Remote: {remote}/{branch}")
    if actor is not None:
        lines.append(f"Wuye-Actor: {actor.id}")
    lines += [f"Wuye-Renumbered: {r.path} {r.old} -> {r.new}" for r in result.renumbered]
    lines += [f"Wuye-Resolved: {r}" for r in result.resolved]
    return "\n".join(lines) + "\n"


def _verify_result(store: Store, remote: str, branch: str) -> None:
    from wuye.verify import checks as verifying

    report = verifying.verify(Store(store.root))
    if report.errors:
        raise WuyeError(tr("与 %s/%s 整合后的结果未通过 wuye verify，已撤销，档案库保持原样：\n",
                           "the result of integrating %s/%s fails wuye verify, so it was undone and the store is as it was:\n") % (remote, branch)
                        + "\n".join(str(p) for p in report.errors), report.errors)


def _push(root: Path, remote: str, branch: str, url: str, theirs: str | None) -> None:
    status, out, err = _run(root, "push", "--porcelain", remote, f"HEAD:refs/heads/{branch}", env={"GIT_TERMINAL_PROMPT": "0"})
    if status == 0:
        _run(root, "update-ref", f"refs/remotes/{remote}/{branch}", "HEAD")
        _fetch_receipts(root, remote)
        return
    said = [line[len("remote:"):].strip() for line in err.splitlines() if line.startswith("remote:") and line[7:].strip()]
    text = out + err
    if "pre-receive hook declined" in text or said:
        reason = tr("中央仓库的检查拒绝了这次推送", "the central repository's checks refused the push")
    elif "non-fast-forward" in text or "fetch first" in text:
        reason = tr("远端在此期间有了新的提交；请再运行一次 wuye sync", "the remote moved on meanwhile; run wuye sync again")
    else:
        reason = tr("无法推送到 %s（%s）", "cannot push to %s (%s)") % (remote, url)
    detail = "\n".join("  " + line for line in said) or "  " + _git_says(err)
    raise WuyeError(tr("%s；本地档案库保持原样：\n%s", "%s; the local store is as it was:\n%s") % (reason, detail))


def _fetch_receipts(root: Path, remote: str) -> None:
    """The receipt the central just signed for this push, so that this office holds it too.
    Best effort: the push is done, and the next sync brings the receipt if this fetch fails."""
    from wuye.trust import receipts

    _run(root, "fetch", "--no-tags", "--quiet", remote, receipts.REFSPEC, env={"GIT_TERMINAL_PROMPT": "0"})


def _track(root: Path, remote: str, branch: str) -> None:
    """Let a plain `git pull` in the store know where to pull from (as `git push -u` would)."""
    if _run(root, "config", f"branch.{branch}.remote")[0] != 0 and \
            _run(root, "rev-parse", "-q", "--verify", f"refs/remotes/{remote}/{branch}")[0] == 0:
        _run(root, "config", f"branch.{branch}.remote", remote)
        _run(root, "config", f"branch.{branch}.merge", f"refs/heads/{branch}")


def _read_marker(root: Path) -> str | None:
    from wuye.verify.checks import VERIFIED_HEAD

    p = audit.git_dir(root) / VERIFIED_HEAD
    return p.read_text().strip() if p.is_file() else None


def _undo(root: Path, pre: str, marker: str | None) -> None:
    """Put the store back as it was before integrating: HEAD, index, files, verified marker."""
    from wuye.verify.checks import VERIFIED_HEAD

    if (audit.git_dir(root) / "MERGE_HEAD").exists():
        _run(root, "merge", "--abort")
    if audit.head(root) != pre or _run(root, "status", "--porcelain", "--untracked-files=no")[1].strip():
        _run(root, "reset", "-q", "--hard", pre)
    p = audit.git_dir(root) / VERIFIED_HEAD
    if marker is None:
        p.unlink(missing_ok=True)
    else:
        p.write_text(marker + "\n")
