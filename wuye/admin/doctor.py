"""`wuye doctor`: what is wrong with a store's files, git and keys, and what can be put right safely.

Each check is a small function adding `Finding`s (Problems with advice, errors.CODES) to one list: an interrupted
change's journal (whose it was, which files, whether it can still be finished and whether its files
are valid), stale git lock files (no git process alive in the store), temp files and staged
leftovers, uncommitted or untracked files (whose they look to be, and whether they could be
committed as they are), a detached HEAD, every problem `verify` finds, an `allowed_signers` that
does not match staff/, private keys with loose permissions (and every key that ever had them, until
it is rotated), a key folder inside the store, a private key anywhere in the store or committed at
HEAD, a background packing that failed, and a break in the chain of the local access log.

`repair()` (`--fix`) does only what loses nothing, under the store lock: removes stale git locks,
temp files and staged leftovers; re-attaches a detached HEAD when a branch can simply move to it; takes a branch whose history was
rewritten back to the commit verified last, keeping the rewrite on a branch of its own;
finishes an interrupted change (in its own commit, by its own author, with its own message: the
audit trail keeps who did it) or sets a damaged journal aside; tightens key permissions (but a key
others could read stays reported as exposed: only a new key puts that right); and
regenerates `allowed_signers` in one commit of its own; packs the store again. Everything else is reported with what to do.
This module reads the store directly and writes through `store` and `audit` only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from wuye.storage import git as audit
from wuye.storage import layout, reading, yamlio
from wuye.storage.layout import ALLOWED_SIGNERS
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage.store import JOURNAL, STAGING, TMP_MARK, Store, clear_staging


# A git lock file older than this is stale even when the processes of other users cannot be seen.
LOCK_AGE = 600
PRIVATE_MARK = b"PRIVATE KEY-----"


@dataclass(frozen=True)
class Finding(Problem):
    """A Problem as doctor reports it: with what to do, and whether --fix does it. Its code is
    verify's for what verify found, a `doctor.*` one (errors.CODES) for the rest."""

    advice: str = ""
    fixable: bool = False
    details: dict = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        return {**super().to_json(), "advice": self.advice, "fixable": self.fixable, "details": self.details}


def finding(code: str, path: str, message: str, advice: str, **more) -> Finding:
    """A Finding in the order doctor's checks read best: what kind, where, what, what to do."""
    return Finding(path, message, code=code, advice=advice, **more)


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # what --fix did, in order
    commits: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]


# --- validating a file as the store would read it -------------------------------------------


def content_problems(store: Store, rel: str, raw: bytes) -> list[Problem]:
    """Problems of `raw` as the content of store file `rel` (by its path: which model it is)."""
    model = _model_for(rel)
    if model is None:
        return []
    try:
        text = yamlio.decode(raw, rel)
        data = yamlio.loads(text, rel)
    except WuyeError as e:
        return e.problems or [Problem(rel, str(e), code="file.unreadable")]
    if model == "workflow":
        from wuye.models.workflow import WorkflowFile
        from wuye.moveout.workflow import graph_problems

        spec, problems = yamlio.check_model(WorkflowFile, data or {}, rel, text)
        return problems or graph_problems(spec, rel, text)[0]
    return yamlio.check_model(model, data if data is not None else {}, rel, text, context={"warnings": []})[1]


def p_text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def known(rel: str) -> bool:
    """Whether `rel` is a file the store's layout has a place for."""
    return layout.match(rel) is not None


def _model_for(rel: str):
    """The model that checks store file `rel` ("workflow" for the workflow file), or None."""
    rule = layout.match(rel)
    if rule is None or rule.model is None or not rel.endswith(".yaml"):
        return None
    return rule.model if rule.model == "workflow" else rule.load_model()


# --- the checks ------------------------------------------------------------------------------


def _journal(store: Store) -> tuple[dict | None, str | None]:
    """The pending journal (None if none) and, if it cannot be read, why."""
    path = audit.git_dir(store.root) / JOURNAL
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("files"), dict) or not isinstance(data.get("message"), str):
            raise ValueError("no files or message")
        return data, None
    except (ValueError, UnicodeDecodeError, AttributeError) as e:
        return None, str(e)


def _sha256(path: Path) -> str | None:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def check_journal(store: Store, report: Report) -> None:
    rel = f".git/{JOURNAL}"
    journal, damage = _journal(store)
    if damage is not None:
        report.findings.append(finding(
            "doctor.journal-damaged", rel,
            tr("中断修改的记录已损坏（%s），无法据此完成修改", "the record of an interrupted change is damaged (%s) and cannot be finished") % damage,
            tr("--fix 将它改名留存（不删除），已写入的文件作为未提交的改动另行列出",
               "--fix sets it aside under a new name (nothing is deleted); files it had written are listed as uncommitted changes"),
            fixable=True))
        return
    if journal is None:
        return
    root = store.root
    author = journal.get("author") or {"name": audit.SYSTEM_NAME, "email": audit.SYSTEM_EMAIL}
    summary = journal["message"].splitlines()[0] if journal["message"] else ""
    states: dict[str, str] = {}
    problems: list[Problem] = []
    for f, spec in journal["files"].items():
        target = root / f
        if spec is None:
            states[f] = "delete"
            continue
        tmp = root / spec.get("tmp", "")
        if tmp.is_file() and _sha256(tmp) == spec.get("sha256"):
            states[f], source = "staged", tmp
        elif _sha256(target) == spec.get("sha256"):
            states[f], source = "in place", target
        else:
            states[f], source = "changed since", None
        if source is not None:
            problems += content_problems(store, f, source.read_bytes())
    changed = [f for f, s in states.items() if s == "changed since"]
    details = {"author": author, "summary": summary, "message": journal["message"], "files": states,
               "problems": [str(p) for p in problems]}
    who = f"{author.get('name')} <{author.get('email')}>"
    what = tr("一条命令在写入时被中断：%s 的「%s」，涉及 %d 个文件" % (who, summary, len(states)),
              "a command was interrupted while writing: \"%s\" by %s, %d file(s)" % (summary, who, len(states)))
    if changed:
        report.findings.append(finding(
            "doctor.journal", rel, what + tr("；其中 %s 此后又被改动，无法完成" % "、".join(changed), "; %s changed since, so it cannot be finished" % ", ".join(changed)),
            tr("用 git diff 对比这些文件，保留正确的内容并手工提交，然后删除 %s 再运行 `wuye doctor --fix`",
               "compare those files (git diff), keep what is right and commit it by hand, then delete %s and run `wuye doctor --fix`") % rel,
            details=details))
    elif problems:
        report.findings.append(finding(
            "doctor.journal", rel, what + tr("；但其内容未通过校验：\n" , "; but its content fails validation:\n") + "\n".join(str(p) for p in problems),
            tr("修正后手工提交，或删除 %s 放弃这次修改", "correct and commit by hand, or delete %s to give the change up") % rel,
            details=details))
    else:
        report.findings.append(finding(
            "doctor.journal", rel, what + tr("；文件完整有效，可以完成", "; its files are complete and valid, so it can be finished"),
            tr("--fix（或任何一条写入命令）以原作者和原说明提交它", "--fix (or any writing command) commits it with its own author and message"),
            fixable=True, details=details))


def _git_processes_in(root: Path) -> tuple[list[int], bool]:
    """Pids of git processes working in the store, and whether every process could be seen."""
    proc = Path("/proc")
    if not proc.is_dir():
        return [], False
    pids, complete = [], True
    real = os.path.realpath(root)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            if not comm.startswith("git"):
                continue
            cwd = os.readlink(entry / "cwd")
        except FileNotFoundError:
            continue  # gone meanwhile
        except PermissionError:
            complete = False
            continue
        if cwd == real or cwd.startswith(real + os.sep):
            pids.append(int(entry.name))
    return pids, complete


def _git_locks(root: Path) -> list[Path]:
    gitdir = audit.git_dir(root)
    locks = [p for p in gitdir.glob("*.lock") if p.name != "wuye.lock"]
    refs = audit.common_dir(root) / "refs"
    if refs.is_dir():
        locks += sorted(refs.rglob("*.lock"))
    return locks


def check_git_locks(store: Store, report: Report) -> None:
    locks = _git_locks(store.root)
    if not locks:
        return
    pids, complete = _git_processes_in(store.root)
    for lock in locks:
        rel = os.path.relpath(lock, store.root)
        try:
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:
            continue
        if pids:
            report.findings.append(finding(
                "doctor.git-lock-busy", rel,
                tr("git 正在此档案库中运行（进程 %s），锁文件在用",
                   "git is running in this store (pid %s); the lock is in use") % ", ".join(map(str, pids)),
                tr("等它结束后再运行 `wuye doctor`", "wait for it to finish, then run `wuye doctor` again"), level="warning"))
        elif complete or age > LOCK_AGE:
            report.findings.append(finding(
                "doctor.git-lock", rel,
                tr("残留的 git 锁文件（%d 秒前，没有 git 进程在此运行）：之后的每次提交都会失败",
                   "a stale git lock (%d s old, no git process running here): every later commit fails") % age,
                tr("--fix 删除它（git 被中断时留下；索引本身未损坏）", "--fix removes it (left by a killed git; the index itself is intact)"),
                fixable=True))
        else:
            report.findings.append(finding(
                "doctor.git-lock", rel,
                tr("git 锁文件（%d 秒前）；无法确认是否有别的用户的 git 进程在用",
                   "a git lock (%d s old); cannot tell whether another user's git is using it") % age,
                tr("确认没有 git 在运行后删除它，或 %d 秒后再运行 `wuye doctor --fix`",
                   "make sure no git is running and delete it, or run `wuye doctor --fix` after %d s") % LOCK_AGE))


def _walk(root: Path):
    """Every file of the work tree (outside .git), as paths relative to the root."""
    for d, dirs, files in os.walk(root):
        if d == str(root):
            dirs[:] = [x for x in dirs if x != ".git"]
        for name in files:
            yield Path(d, name).relative_to(root)


def _journal_tmps(store: Store) -> set[str]:
    journal, _ = _journal(store)
    if journal is None:
        return set()
    return {spec["tmp"] for spec in journal["files"].values() if isinstance(spec, dict) and "tmp" in spec}


def check_files_on_disk(store: Store, report: Report) -> None:
    """Temp files and staged leftovers; private keys anywhere in the work tree."""
    root = store.root
    keep = _journal_tmps(store)
    leftovers = []
    for rel in _walk(root):
        p = root / rel
        if TMP_MARK in rel.name and str(rel) not in keep:
            leftovers.append(str(rel))
            continue
        try:
            if p.is_file() and not p.is_symlink() and p.stat().st_size < 64 * 1024 and PRIVATE_MARK in p.read_bytes():
                report.findings.append(finding(
                    "doctor.private-key", str(rel), tr("档案库中有一个私钥文件", "a private key file is inside the store"),
                    tr("把它移到密钥目录（%s，权限 600），绝不要提交；若已提交或外泄，用 `wuye staff key 员工编号` 换新密钥",
                       "move it to the key folder (%s, mode 600) and never commit it; if it was committed or shared, issue a new key with `wuye staff key STAFF_ID`") % _keys_dir()))
        except OSError:
            continue
    for d in (audit.git_dir(root) / STAGING, (audit.git_dir(root) / JOURNAL).parent):
        if d.is_dir():
            for p in d.iterdir():
                rel = os.path.relpath(p, root)
                if p.is_file() and rel not in keep and (d.name == "staging" or TMP_MARK in p.name):
                    leftovers.append(rel)
    for rel in leftovers:
        report.findings.append(finding(
            "doctor.temp-file", rel, tr("被中断的命令留下的临时文件（不是档案记录）", "a temp file left by an interrupted command (not a record)"),
            tr("--fix 删除它", "--fix removes it"), fixable=True))


def _owner(path: Path) -> str:
    try:
        import pwd

        return pwd.getpwuid(path.stat().st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return "?"


def check_uncommitted(store: Store, report: Report) -> None:
    root = store.root
    if audit.head(root) is None:
        return
    journal, _ = _journal(store)
    mine = set(journal["files"]) if journal else set()
    out = audit.run(root, "status", "--porcelain", "-z", "-uall", "--no-renames")
    for item in out.split("\0"):
        if len(item) < 4:
            continue
        code, rel = item[:2], item[3:]
        if rel in mine or TMP_MARK in rel:
            continue
        if rel == ALLOWED_SIGNERS and p_text(root / rel) != _expected_signers(store):
            continue  # check_allowed_signers reports it, and --fix regenerates and commits it
        p = root / rel
        kind = {"??": tr("未跟踪的新文件", "an untracked file")}.get(code) or (
            tr("已删除但未提交", "deleted, not committed") if "D" in code else tr("已改动但未提交", "changed, not committed"))
        details: dict = {"status": code}
        if p.is_file():
            st = p.stat()
            details["owner"] = _owner(p)
            details["modified"] = dt.datetime.fromtimestamp(st.st_mtime).astimezone().isoformat(timespec="seconds")
            try:  # never through a link: its target is no file of the store, and is not shown
                problems = content_problems(store, rel, reading.read_bytes(root, rel)) if st.st_size <= yamlio.MAX_BYTES else [
                    Problem(rel, tr("文件超过 1 MiB", "file is over 1 MiB"), code="file.unreadable")]
            except reading.NotPlainFile as e:
                problems = e.problems
            details["problems"] = [str(x) for x in problems]
            who = tr("不是 wuye 写的（手工编辑或别的程序）：文件属于 %s，修改于 %s",
                     "not written by wuye (a hand edit or another program): owned by %s, modified %s") % (details["owner"], details["modified"])
            if not known(rel):
                verdict = tr("，且不是档案库中应有的文件", "; and it is no file of the store's layout")
                advice = tr("把它移出档案库（或删除）", "move it out of the store (or delete it)")
            elif problems:
                verdict = tr("，内容未通过校验，不能原样提交：\n", "; it fails validation and cannot be committed as it is:\n") + "\n".join(str(x) for x in problems)
                advice = tr("按上面的位置修正，或用 `git checkout -- %s` 撤销（未跟踪的文件可删除）",
                            "correct it at the places above, or undo it with `git checkout -- %s` (an untracked file can be deleted)") % rel
            else:
                verdict = tr("，内容有效，可以原样提交", "; it is valid and could be committed as it is")
                advice = tr("确认无误后提交（git add %s && git commit），或用 git checkout -- %s 撤销",
                            "review it, then commit it (git add %s && git commit) or undo it (git checkout -- %s)") % (rel, rel)
            message = kind + tr("；", "; ") + who + verdict
        else:
            message = kind
            advice = tr("若是误删，用 `git checkout -- %s` 恢复；否则用 git rm 提交删除",
                        "if deleted by mistake, restore it with `git checkout -- %s`; otherwise commit the removal with git rm") % rel
        report.findings.append(finding("doctor.uncommitted", rel, message, advice, details=details))


def _branch_for(root: Path, head: str) -> str | None:
    """The one branch that can point at `head` without losing anything (its tip is head or behind it)."""
    branches = [b for b in audit.run(root, "for-each-ref", "--format=%(refname:short)", "refs/heads").splitlines() if b]
    fits = []
    for b in branches:
        if audit.run(root, "merge-base", "--is-ancestor", b, head, check=False) is not None:
            fits.append(b)
    if "main" in fits:
        return "main"
    return fits[0] if len(fits) == 1 else None


def check_head(store: Store, report: Report) -> None:
    root = store.root
    try:
        ref = (audit.git_dir(root) / "HEAD").read_text().strip()
    except FileNotFoundError:
        return
    if (audit.git_dir(root) / "MERGE_HEAD").exists():
        report.findings.append(finding(
            "doctor.merge", ".git/MERGE_HEAD", tr("有一个未完成的 git 合并", "a git merge is in progress"),
            tr("解决冲突后 git add、git commit，或用 git merge --abort 放弃；见 `wuye sync --help`",
               "resolve it (git add, git commit) or abandon it with git merge --abort; see `wuye sync --help`")))
    if ref.startswith("ref: "):
        return
    branch = _branch_for(root, ref)
    if branch:
        report.findings.append(finding(
            "doctor.detached-head", ".git/HEAD", tr("HEAD 游离（不在任何分支上），位于 %s", "detached HEAD (on no branch) at %s") % ref[:10],
            tr("--fix 把分支 %s 移到这里并切回它（工作区不变，不丢提交）",
               "--fix moves branch %s here and switches back to it (the work tree is unchanged, no commit is lost)") % branch,
            fixable=True, details={"branch": branch, "head": ref}))
    else:
        report.findings.append(finding(
            "doctor.detached-head", ".git/HEAD", tr("HEAD 游离（不在任何分支上），位于 %s，且不能直接并入现有分支",
                                             "detached HEAD (on no branch) at %s, and no branch can simply move there") % ref[:10],
            tr("先保存它：git branch rescue-%s，再 git switch main；之后请管理员决定如何合并",
               "keep it first: git branch rescue-%s, then git switch main; then decide how to merge it") % ref[:7],
            details={"head": ref}))


def check_verify(store: Store, report: Report) -> None:
    """Every file against its schema, and everything else `wuye verify` checks."""
    from wuye.verify import checks as verify

    try:
        problems = verify.verify(store).problems
    except WuyeError as e:
        problems = e.problems or [Problem(".", str(e), code="verify.failed")]
    for p in problems:
        if p.path == ALLOWED_SIGNERS:
            continue  # check_allowed_signers says it, with its fix
        if p.code == "history.head-rewritten":
            report.findings.append(_rewritten(store, p))
            continue
        report.findings.append(finding(p.code, p.path, p.message, _advice(p.code), level=p.level, line=p.line, col=p.col))


def _advice(code: str) -> str:
    """What to do about a problem verify found: a file to correct, unless the problem is not in
    a file (a root to pin, a commit to revert, a file to remove from the commit)."""
    if code.startswith("layout."):
        return _LAYOUT_ADVICE()
    if code == "authority.root-unpinned":
        return tr("先向管理处（电话或书面）核实指纹，再执行上面的命令固定它", "check the fingerprint with the office (by phone or on paper), then run the command above to pin it")
    if code.startswith("history."):
        # The file is right as it is now: the commit named is what broke the rule.
        return tr("查明是谁、在哪次提交改的（git log -p -- 路径），用 git revert 该提交撤销，然后运行 `wuye verify`",
                  "find out who changed it in the commit named (git log -p -- PATH), undo that commit with git revert, then run `wuye verify`")
    if code.startswith("money."):
        # Money nobody allowed sealed: undo the commit, or finance checks it and seals it.
        return tr("用 git show 查看所指提交改了什么：不该改的用 git revert 撤销；核对无误的由财务执行 `wuye migrate --as 财务员工` 签章",
                  "see what the commit named changed (git show): undo what should not be with git revert; what finance has checked, it seals with `wuye migrate --as FINANCE_STAFF`")
    return tr("按所指位置修正该文件（或撤销改动），然后运行 `wuye verify`", "correct the file where it says (or undo the change), then run `wuye verify`")


def _rewritten(store: Store, p: Problem) -> Finding:
    """History rewritten under the last verified commit: no file to correct. The verified
    commit is still in this repository (git keeps it), so the branch can go back to it, with
    the rewritten history kept on a branch of its own: nothing is lost."""
    from wuye.verify.checks import VERIFIED_HEAD

    last = (audit.git_dir(store.root) / VERIFIED_HEAD).read_text().strip()
    head = audit.head(store.root) or ""
    rescue = f"rewritten-{head[:7]}"
    known = audit.read(store.root, ["cat-file", "-e", f"{last}^{{commit}}"], check=False) is not None
    clean = not audit.run(store.root, "status", "--porcelain", "--untracked-files=no").strip()
    on_branch = (audit.git_dir(store.root) / "HEAD").read_text().startswith("ref: ")
    if known and clean and on_branch:
        advice = tr("--fix 把改写后的历史留在分支 %s，并把当前分支退回上次校验通过的提交 %s（不丢提交）；"
                    "改写若经管理层确认，请另行合并", "--fix keeps the rewritten history on branch %s and takes the current branch "
                    "back to %s, verified last time (no commit is lost); if management approves the rewrite, merge it from there") % (rescue, last[:10])
    else:
        advice = tr("先提交或放弃未提交的改动，并切回分支；然后 git branch %s 留存改写后的历史，git reset --hard %s 退回上次校验通过的提交",
                    "commit or discard uncommitted changes and switch back to a branch; then keep the rewritten history with "
                    "git branch %s and go back to the commit verified last time with git reset --hard %s") % (rescue, last[:10])
    return finding(p.code, ".git", p.message, advice, fixable=known and clean and on_branch,
                   details={"verified": last, "head": head, "branch": rescue})


def _LAYOUT_ADVICE() -> str:
    # Committed: every office would receive it and the central repository refuses the push.
    return tr("中央仓库会拒收含有它的推送：用 git rm（符号链接、子模块、多余文件）或改正后提交，再运行 `wuye verify`；"
              "若它来自别的办公室，先查明是谁提交的（git log -- 路径）",
              "the central repository refuses a push holding it: git rm it (a link, submodule or stray file) or correct it, commit, "
              "then run `wuye verify`; if it came from another office, find out who committed it first (git log -- PATH)")


def _expected_signers(store: Store) -> str | None:
    """allowed_signers as the authority chain's latest version makes it (from staff/ in a store
    without a chain); None while the chain or staff/ cannot be trusted to say."""
    from wuye.trust import authority
    from wuye.trust.staff import all_staff, allowed_signers_text

    try:
        latest = authority.current(store)
        return authority.allowed_signers_text(latest.members.values()) if latest else allowed_signers_text(all_staff(store))
    except WuyeError:
        return None


def _at_head(store: Store, rel: str) -> bytes | None:
    if audit.head(store.root) is None:
        return None
    return audit.run(store.root, "cat-file", "blob", f"HEAD:{rel}", check=False, text=False)  # raw bytes


def check_allowed_signers(store: Store, report: Report) -> None:
    path = store.path(ALLOWED_SIGNERS)
    actual = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    expected = _expected_signers(store)
    if expected is None:
        if actual is None:
            report.findings.append(finding("staff.allowed-signers-mismatch", ALLOWED_SIGNERS, tr("缺失", "missing"),
                                           tr("先修正 staff/ 中的错误，再运行 `wuye doctor --fix` 重新生成", "correct staff/ first, then `wuye doctor --fix` regenerates it")))
        return
    if actual == expected:
        return
    if actual is None:
        message = tr("缺失：ssh-keygen -Y verify 无法离线核验签名", "missing: ssh-keygen -Y verify cannot check signatures without it")
    else:
        missing = [line for line in expected.splitlines() if line and line not in actual.splitlines()]
        extra = [line for line in actual.splitlines() if line and line not in expected.splitlines()]
        message = tr("与 staff/ 中的公钥不一致（缺 %d 行，多 %d 行）",
                     "does not match the keys in staff/ (%d line(s) missing, %d extra)") % (len(missing), len(extra))
    report.findings.append(finding("staff.allowed-signers-mismatch", ALLOWED_SIGNERS, message,
                                   tr("--fix 根据授权链重新生成并提交", "--fix regenerates it from the authority chain and commits it"), fixable=True))


def _keys_dir() -> Path:
    from wuye.trust.signing import keys_dir

    return keys_dir()


def check_keys(store: Store, report: Report) -> None:
    if os.name != "posix":
        return  # Windows reports made-up permission bits
    d = _keys_dir()
    try:
        inside = d.resolve().is_relative_to(store.root.resolve())
    except OSError:
        inside = False
    if inside:
        report.findings.append(finding(
            "doctor.keys-in-store", str(d), tr("密钥目录在档案库之内：私钥可能被提交", "the key folder is inside the store: private keys could be committed"),
            tr("把 WUYE_KEYS 指向档案库之外的目录，并把密钥移过去", "point WUYE_KEYS outside the store and move the keys there")))
    if not d.is_dir():
        return
    mode = stat.S_IMODE(d.stat().st_mode)
    if mode & 0o077:
        report.findings.append(finding(
            "doctor.key-mode", str(d), tr("密钥目录权限为 %o，别的用户可以进入", "the key folder has mode %o: other users can enter it") % mode,
            tr("--fix 改为 700", "--fix sets it to 700"), fixable=True, details={"mode": oct(mode), "want": "0o700"}))
    for p in sorted(d.iterdir()):
        if not p.is_file() or p.is_symlink() or p.name.endswith(".pub"):
            continue
        try:
            head = p.read_bytes()[:4096]
        except OSError:
            continue
        if PRIVATE_MARK not in head:
            continue
        mode = stat.S_IMODE(p.stat().st_mode)
        staff_id = p.name.split(".", 1)[0]  # `ID`, or `ID.retired-…` after a rotation
        # A retired key (renamed aside by `wuye staff key`) was replaced already: it signs nothing
        # from then on, so only its mode is worth a finding.
        current = ".retired-" not in p.name
        if mode & 0o077:
            report.findings.append(finding(
                "doctor.key-mode", str(p), tr("私钥文件权限为 %o，别的用户也能读取（签字时会被拒绝）",
                                       "the private key file has mode %o: other users can read it (signing refuses it)") % mode,
                tr("--fix 改为 600（此密钥仍须换新，见下一条）", "--fix sets it to 600 (the key must still be rotated: see the next finding)"),
                fixable=True, details={"mode": oct(mode), "want": "0o600"}))
            if current:
                remember_exposed(p)
        if current and (mode & 0o077 or _was_exposed(p)):
            report.findings.append(finding(
                "doctor.key-exposed", str(p),
                tr("此密钥可能已被别人读到（权限曾为 %s）：须换新", "this key may have been read (its mode was %s): rotate it")
                % (oct(mode)[2:] if mode & 0o077 else _exposed_mode(p)),
                tr("用 `wuye staff key %s --as 经理编号` 换新密钥（旧密钥随即失效，已签的条目仍有效）；收紧权限不能让读到的人忘掉它，--fix 不会消除此条",
                   "rotate it: `wuye staff key %s --as MANAGER_ID` (the old key stops being valid; what it signed stays valid); "
                   "tightening the mode does not make a reader forget it, so --fix leaves this finding") % staff_id,
                details={"staff": staff_id}))


# A key once readable by others is remembered beside it, as `<key>.exposed` holding the sha256 of the
# key file and the mode it had: tightening the mode (by --fix or by hand) leaves the marker, and the
# finding, in place; `wuye staff key` renames the old file aside and writes a new one, whose digest
# is not the marker's, so the finding ends with the rotation and not before.
EXPOSED_SUFFIX = ".exposed"


def _key_digest(p: Path) -> str:
    import hashlib

    return hashlib.sha256(p.read_bytes()).hexdigest()


def remember_exposed(p: Path) -> bool:
    """Write (or keep) the marker of an exposed key; False if it could not be written."""
    marker = p.with_name(p.name + EXPOSED_SUFFIX)
    try:
        if _was_exposed(p):
            return True
        mode = oct(stat.S_IMODE(p.stat().st_mode))[2:]
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(fd, f"{_key_digest(p)} {mode}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


def _marker(p: Path) -> list[str]:
    try:
        return p.with_name(p.name + EXPOSED_SUFFIX).read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        return []


def _was_exposed(p: Path) -> bool:
    said = _marker(p)
    try:
        return bool(said) and said[0] == _key_digest(p)
    except OSError:
        return False


def _exposed_mode(p: Path) -> str:
    said = _marker(p)
    return said[1] if len(said) > 1 else "?"


def check_access_log(store: Store, report: Report) -> None:
    """The local access log (privacy.py) is hash-chained: a line deleted, inserted or edited
    breaks the chain at the line after it."""
    from wuye.archive import privacy

    rel = ".git/" + privacy.ACCESS_LOG
    breaks = privacy.chain_breaks(store.root)
    leading = 0
    while leading < len(breaks) and breaks[leading] == (leading + 1, "unchained"):
        leading += 1
    if leading:
        report.findings.append(finding(
            "doctor.access-log-unchained", rel,
            tr("前 %d 行写于访问日志加链之前（旧版 wuye），无法看出是否被改动", "the first %d line(s) were written before the log was chained (an older wuye): "
               "changes to them cannot be seen") % leading,
            tr("保留此文件；之后的记录都已加链", "keep the file; every later line is chained"), level="warning", line=1))
    reasons = {
        "broken": ("记下的上一行摘要与实际的上一行不符：其前有一行被删除、插入或改动过",
                   "names a digest the line before it does not have: a line before it was deleted, inserted or edited"),
        "unchained": ("没有上一行的摘要：此行被改动过", "holds no digest of the line before: the line was edited"),
        "unreadable": ("不是一条访问记录（JSON）：此行被改动过", "is not an access record (JSON): the line was edited"),
    }
    for n, why in breaks[leading:]:
        report.findings.append(finding(
            "doctor.access-log-broken", rel, tr("第 %d 行%s", "line %d %s") % (n, tr(*reasons[why])),
            tr("访问日志只能追加：保留此文件作为证据，查明谁改动了它；新记录会接着最后一行链下去",
               "the log is append-only: keep the file as evidence and find out who changed it; new lines chain on from the last one"),
            line=n, details={"reason": why}))


def check_committed_keys(store: Store, report: Report) -> None:
    """A private key in HEAD's tree (the tests also grep the whole history)."""
    if audit.head(store.root) is None:
        return
    out = audit.run(store.root, "grep", "-l", "-z", "-I", "-F", PRIVATE_MARK.decode(), "HEAD", "--", check=False)
    if out is None:
        return  # exit 1: nothing found
    for line in out.split("\0"):
        if not line:
            continue
        rel = line.split(":", 1)[1] if ":" in line else line
        report.findings.append(finding(
            "doctor.private-key-committed", rel, tr("已提交的文件中含有私钥", "a committed file holds a private key"),
            tr("该密钥已泄露：立即用 `wuye staff key 员工编号` 换新密钥，再 git rm 此文件",
               "that key is exposed: issue a new key at once with `wuye staff key STAFF_ID`, then git rm the file")))


def check_writer(store: Store, report: Report) -> None:
    """Another wuye command writing right now makes what is found here transient."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(audit.git_dir(store.root) / "wuye.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        report.findings.append(finding(
            "doctor.busy", ".git/wuye.lock", tr("另一个 wuye 命令正在写入，以下结果可能是暂时的", "another wuye command is writing now; what follows may be transient"),
            tr("稍后再运行 `wuye doctor`", "run `wuye doctor` again shortly"), level="warning"))
        return
    lock.release()


def check_packing(store: Store, report: Report) -> None:
    """A background `git gc` that failed leaves .git/gc.log, and git then does not pack again
    (for a day, and until the log is removed): the store silently stops being packed."""
    log = audit.common_dir(store.root) / "gc.log"
    try:
        said = log.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return
    report.findings.append(finding(
        "doctor.packing", ".git/gc.log",
        tr("git 上次在后台整理（打包）档案库失败：%s" % (said or "（无说明）"),
           "git's last background packing of the store failed: %s" % (said or "(no reason given)")),
        tr("--fix 重新整理（git gc）并在成功后删除此记录", "--fix packs again (git gc) and removes this log once it succeeds"),
        fixable=True, level="warning"))


CHECKS = (check_journal, check_git_locks, check_files_on_disk, check_uncommitted, check_head, check_verify,
          check_allowed_signers, check_keys, check_committed_keys, check_packing, check_access_log)


def diagnose(store: Store, locked: bool = False) -> Report:
    report = Report()
    if not locked:
        check_writer(store, report)
    for check in CHECKS:
        check(store, report)
    return report


# --- repairing -------------------------------------------------------------------------------


def repair(store: Store, actor_id: str | None = None) -> Report:
    """Fix what is safe (see the module docstring), under the store lock; then diagnose again."""
    from wuye.storage.store import Change, recover

    actor = store.actor(actor_id) if (actor_id or os.environ.get("WUYE_USER")) else None
    done: list[str] = []
    commits: list[str] = []
    with store.lock():
        found = diagnose(store, locked=True).findings
        codes = {f.code for f in found if f.fixable}

        for f in found:
            if f.code == "doctor.git-lock" and f.fixable:
                (store.root / f.path).unlink(missing_ok=True)
                done.append(tr("删除了残留的锁文件 %s", "removed the stale lock %s") % f.path)

        for f in found:
            if f.code == "doctor.detached-head" and f.fixable:
                branch, head = f.details["branch"], f.details["head"]
                audit.run(store.root, "update-ref", f"refs/heads/{branch}", head)
                audit.run(store.root, "symbolic-ref", "HEAD", f"refs/heads/{branch}")
                done.append(tr("把分支 %s 移到 %s 并切回它", "moved branch %s to %s and switched back to it") % (branch, head[:10]))

        for f in found:
            if f.code == "history.head-rewritten" and f.fixable:
                ref = f"refs/heads/{f.details['branch']}"
                if audit.read(store.root, ["rev-parse", "-q", "--verify", ref], check=False) is None:
                    audit.run(store.root, "update-ref", ref, f.details["head"])
                audit.run(store.root, "reset", "-q", "--hard", f.details["verified"])
                done.append(tr("改写后的历史留在分支 %s；当前分支退回上次校验通过的提交 %s",
                               "kept the rewritten history on branch %s; took the current branch back to %s, verified last time")
                            % (f.details["branch"], f.details["verified"][:10]))

        if "doctor.journal-damaged" in codes:
            path = audit.git_dir(store.root) / JOURNAL
            aside = path.with_name(f"pending.damaged-{time.strftime('%Y%m%d%H%M%S')}.json")
            path.rename(aside)
            done.append(tr("把损坏的中断记录改名留存为 %s",
                           "set the damaged record of an interrupted change aside as %s") % os.path.relpath(aside, store.root))
        elif "doctor.journal" in codes:
            try:
                summary = recover(store)
            except WuyeError as e:
                done.append(tr("未能完成被中断的修改：%s", "could not finish the interrupted change: %s") % e)
            else:
                if summary:
                    commits.append(audit.head(store.root))
                    done.append(tr("完成了被中断的修改「%s」（按原作者提交，%s）",
                                   "finished the interrupted change \"%s\" (committed as its author, %s)") % (summary, commits[-1][:10]))

        gone = clear_staging(store.root) if not (audit.git_dir(store.root) / JOURNAL).exists() else []
        keep = _journal_tmps(store)
        for f in found:
            if f.code == "doctor.temp-file" and f.path not in keep:
                p = store.root / f.path
                if p.exists():
                    p.unlink()
                    gone.append(p)
        if gone:
            done.append(tr("删除了 %d 个临时文件", "removed %d temp file(s)") % len(gone))

        for f in found:
            if f.code == "doctor.key-mode" and f.fixable:
                key = Path(f.path)
                if key.is_file() and ".retired-" not in key.name and not remember_exposed(key):
                    # Without the marker the tightened mode would hide that the key was readable.
                    done.append(tr("未改 %s 的权限：无法记下它曾外露", "left the mode of %s: could not record that it was exposed") % f.path)
                    continue
                os.chmod(f.path, int(f.details["want"], 8))
                done.append(tr("把 %s 的权限改为 %s", "set the mode of %s to %s") % (f.path, f.details["want"][2:]))

        if "staff.allowed-signers-mismatch" in codes:
            expected = _expected_signers(store)
            if expected is not None and _at_head(store, ALLOWED_SIGNERS) == expected.encode("utf-8"):
                # HEAD is right and only the work tree was edited: put HEAD's text back, no commit.
                from wuye.storage.store import put_file

                put_file(store.path(ALLOWED_SIGNERS), expected.encode("utf-8"))
                done.append(tr("allowed_signers 被手工改动过，已恢复为根据 staff/ 生成的内容（与已提交的一致）",
                               "allowed_signers had been edited by hand; restored to what staff/ gives (as committed)"))
            elif expected is not None:
                ch = Change(store, tr("doctor: 根据 staff/ 重新生成 allowed_signers", "doctor: regenerate allowed_signers from staff/"),
                            actor, {"Wuye-Doctor": layout.ALLOWED_SIGNERS, "Wuye-Actor": actor.id if actor else ""})
                ch.write(ALLOWED_SIGNERS, expected)
                try:
                    ch.apply()
                except WuyeError as e:
                    done.append(tr("未能提交重新生成的 allowed_signers：%s", "could not commit the regenerated allowed_signers: %s") % e)
                if ch.commit:
                    commits.append(ch.commit)
                    done.append(tr("根据 staff/ 重新生成了 allowed_signers（提交 %s）",
                                   "regenerated allowed_signers from staff/ (commit %s)") % ch.commit[:10])
        if "doctor.packing" in codes:
            said = audit.pack(store.root)
            if said is None:
                (audit.common_dir(store.root) / "gc.log").unlink(missing_ok=True)
                done.append(tr("重新整理（打包）了档案库的 git 对象", "packed the store's git objects again"))
            else:
                done.append(tr("git gc 仍然失败：%s", "git gc still fails: %s") % said)
        after = diagnose(store, locked=True)
    after.done, after.commits = done, commits
    return after
