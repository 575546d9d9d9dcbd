"""The store's layout as an allow-list, judged from git's own records of a commit.

Every path of a commit must be a place the layout has (layout.RULES), held as a plain file (mode
100644): no symlink (a store read on a server or in another office would follow it out of the
store), no gitlink (a submodule: code and history from elsewhere), nothing executable; no
`.git*` file but wuye's own (`.gitattributes` can hand signed files to a `merge=union` that
rewrites them, and says which programs git runs on checkout); a `.gitattributes` holding only
wuye's own lines (`layout.gitattributes()`), blank lines and comments; no text file over 1 MiB
(yamlio refuses to read one anyway) and no attachment over the store's cap (wuye.yaml
`attachment_max_mib`, default 20 MiB): every office's clone carries every pushed byte for ever.

It reads git objects only (`ls-tree`, `diff-tree`, `cat-file`, through the git runner), never a
checkout: the central repository's hook judges a push with it before anything is written to
disk, and so never follows a pushed symlink on the server. A symlink's blob (its target) and
the other files' bytes are never put into a message: a refusal names the path and the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from wuye.errors import Problem
from wuye.i18n import tr
from wuye.storage import layout

REGULAR, EXECUTABLE, SYMLINK, GITLINK = "100644", "100755", "120000", "160000"
MIB = 1024 * 1024
MAX_TEXT = MIB  # yamlio.MAX_BYTES: no archive file, staff file or notice is larger
DEFAULT_ATTACHMENT_MIB = 20
# The only `.git*` names a store holds, and where.
_GIT_FILES = {layout.GITATTRIBUTES_FILE: "top", layout.GITIGNORE_FILE: "top", ".gitkeep": "anywhere"}
# Every rule's pattern in one regex: one match per path instead of one per rule (a store of
# 10,000 tenants holds 130,000 paths). Attachments are told apart afterwards, for their cap.
_ANY = re.compile("|".join(f"(?:{r.regex})" for r in layout.RULES) + r"\Z")
_ATTACHMENT = layout.BY_NAME["attachment"].compiled


@dataclass(frozen=True)
class Entry:
    """One path of a commit as git records it: mode, blob id and size (None for a gitlink)."""

    path: str
    mode: str
    blob: str
    size: int | None


def _git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    from wuye.storage import git as audit

    status, out, err = audit.call(root, *args, input=input)
    if status != 0:
        raise audit.GitFailed(tr("git %s 失败：%s", "git %s failed: %s") % (args[0], err.decode("utf-8", "replace").strip()))
    return out


def tree(root: Path, rev: str) -> list[Entry]:
    """Every path of commit `rev` (`git ls-tree -r -z --long --full-tree`)."""
    out = _git(root, "ls-tree", "-r", "-z", "--long", "--full-tree", rev)
    entries = []
    for item in out.split(b"\0"):
        if not item:
            continue
        head, _, path = item.partition(b"\t")
        mode, _kind, blob, size = head.split()
        entries.append(Entry(path.decode("utf-8", "surrogateescape"), mode.decode(), blob.decode(),
                             None if size == b"-" else int(size)))
    return entries


def changed(root: Path, commits: list[str]) -> dict[str, list[Entry]]:
    """For each commit, the paths it adds or changes against any parent (`diff-tree --stdin -m
    --root`: a root commit against the empty tree, a merge against each parent), with sizes."""
    if not commits:
        return {}
    out = _git(root, "diff-tree", "--stdin", "-r", "-z", "-m", "--root", "--no-renames",
               input="".join(c + "\n" for c in commits).encode())
    found: dict[str, dict[str, tuple[str, str]]] = {c: {} for c in commits}
    parts = out.split(b"\0")
    commit, i = None, 0
    while i < len(parts):
        part = parts[i]
        if part.startswith(b":"):
            _old_mode, mode, _old, blob, status = part[1:].split()
            path = parts[i + 1].decode("utf-8", "surrogateescape")
            i += 2
            if status != b"D" and commit is not None:
                found[commit][path] = (mode.decode(), blob.decode())
            continue
        if part:
            commit = part.decode().split()[0]  # `diff-tree --stdin` names each commit first
            found.setdefault(commit, {})
        i += 1
    sizes = _sizes(root, {blob for paths in found.values() for mode, blob in paths.values() if mode != GITLINK})
    return {c: [Entry(p, mode, blob, None if mode == GITLINK else sizes.get(blob)) for p, (mode, blob) in paths.items()]
            for c, paths in found.items()}


def between(root: Path, old_tree: str, new_tree: str) -> list[Entry]:
    """The paths `new_tree` adds or changes against `old_tree` (`diff-tree`), with sizes: what
    is left to judge when `old_tree` was found clean."""
    out = _git(root, "diff-tree", "-r", "-z", "--no-renames", old_tree, new_tree)
    parts = out.split(b"\0")
    paths: dict[str, tuple[str, str]] = {}
    for i in range(0, len(parts) - 1, 2):
        head = parts[i]
        if not head.startswith(b":"):
            break
        _old_mode, mode, _old, blob, status = head[1:].split()
        if status != b"D":
            paths[parts[i + 1].decode("utf-8", "surrogateescape")] = (mode.decode(), blob.decode())
    sizes = _sizes(root, {b for m, b in paths.values() if m != GITLINK})
    return [Entry(p, m, b, None if m == GITLINK else sizes.get(b)) for p, (m, b) in paths.items()]


def _sizes(root: Path, blobs: set[str]) -> dict[str, int]:
    if not blobs:
        return {}
    out = _git(root, "cat-file", "--batch-check=%(objectname) %(objectsize)", input="".join(b + "\n" for b in blobs).encode())
    sizes = {}
    for line in out.decode().splitlines():
        sha, _, size = line.partition(" ")
        if size.isdigit():
            sizes[sha] = int(size)
    return sizes


def blob(root: Path, sha: str) -> bytes:
    """The bytes of one blob (`git cat-file blob`)."""
    return _git(root, "cat-file", "blob", sha)


def attachment_cap(config: bytes | None) -> int:
    """The attachment cap in bytes named by the bytes of a wuye.yaml (the default when it names
    none or cannot be read: verify reports a wuye.yaml that is not valid)."""
    mib = DEFAULT_ATTACHMENT_MIB
    if config is not None and len(config) <= MAX_TEXT:
        from wuye.errors import WuyeError
        from wuye.storage import yamlio

        try:
            data = yamlio.loads(yamlio.decode(config, layout.CONFIG), layout.CONFIG)
        except WuyeError:
            data = None
        value = data.get("attachment_max_mib") if isinstance(data, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1024:
            mib = value
    return mib * MIB


def _git_name_refused(path: str) -> bool:
    parts = path.split("/")
    for n, part in enumerate(parts):
        if not part.lower().startswith(".git"):
            continue
        where = _GIT_FILES.get(part)
        if where is None or n != len(parts) - 1 or (where == "top" and n != 0):
            return True
    return False


def judge(entries: Iterable[Entry], read_blob: Callable[[str], bytes], cap: int, commit: str | None = None) -> list[Problem]:
    """Problems of a commit's paths against the allow-list; `commit` (if given) is named in each."""
    out = []
    at = (tr("（提交 %s）", " (commit %s)") % commit[:10]) if commit else ""

    def refuse(e: Entry, message: str, *, code: str) -> None:
        out.append(Problem(e.path, message + at, code=code))

    for e in entries:
        if e.mode == SYMLINK:
            refuse(e, tr("是符号链接；档案库只收普通文件，不跟随也不读取链接：请换成文件本身，或删除它",
                         "is a symbolic link; a store holds plain files only and never follows or reads a link: "
                         "put the file itself there, or remove it"), code="layout.symlink")
            continue
        if e.mode == GITLINK:
            refuse(e, tr("是子模块链接（gitlink）；档案库不收子模块：请删除它",
                         "is a submodule link (gitlink); a store holds no submodules: remove it"), code="layout.gitlink")
            continue
        if e.mode != REGULAR:
            refuse(e, tr("文件模式 %s 不是普通文件（100644）；请去掉可执行位（git update-index --chmod=-x）",
                         "has mode %s, not a plain file (100644); clear the executable bit (git update-index --chmod=-x)") % e.mode, code="layout.mode")
            continue
        if _ANY.match(e.path) is None or (".git" in e.path.lower() and _git_name_refused(e.path)):
            refuse(e, tr("档案库结构中没有这个文件的位置；请把它移出档案库（git rm --cached）",
                         "is no place of the store's layout; move it out of the store (git rm --cached)"), code="layout.unknown-path")
            continue
        size = e.size or 0
        if _ATTACHMENT.match(e.path):
            if size > cap:
                refuse(e, tr("附件 %.1f MiB，超过上限 %d MiB（wuye.yaml attachment_max_mib）",
                             "the attachment is %.1f MiB, over the cap of %d MiB (wuye.yaml attachment_max_mib)") % (size / MIB, cap // MIB), code="layout.attachment-too-large")
            continue
        if size > MAX_TEXT:
            refuse(e, tr("文件 %.1f MiB，超过 1 MiB，不像是档案文件", "the file is %.1f MiB, over 1 MiB, which no store file should be") % (size / MIB), code="layout.too-large")
            continue
        if e.path == layout.GITATTRIBUTES_FILE:
            line = foreign_attribute_line(read_blob(e.blob))
            if line is not None:
                refuse(e, tr("第 %d 行不是 wuye 自己的合并设置；.gitattributes 只许有 wuye 写入的行（见 wuye remote add）",
                             "line %d is not one of wuye's own merge settings; .gitattributes may hold only the lines wuye writes "
                             "(see wuye remote add)") % line, code="layout.gitattributes")
    return out


def foreign_attribute_line(raw: bytes) -> int | None:
    """The number of the first line of a .gitattributes that is not wuye's, a blank or a comment."""
    own = {line.strip() for line in layout.gitattributes().splitlines()}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return 1
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith("#") and s not in own:
            return n
    return None


def judge_commit(root: Path, rev: str, cap: int | None = None, entries: list[Entry] | None = None,
                 name: str | None = None) -> list[Problem]:
    """Problems of commit `rev` (all its paths, or only `entries` of it); the cap from its own
    wuye.yaml unless given."""
    entries = tree(root, rev) if entries is None else entries
    if cap is None:
        cap = attachment_cap(config_at(root, rev))
    return judge(entries, lambda sha: blob(root, sha), cap, name)


def config_at(root: Path, rev: str) -> bytes | None:
    """The bytes of wuye.yaml in commit `rev`, if it holds one as a plain file of sane size."""
    from wuye.storage import git as audit

    status, out, _ = audit.call(root, "cat-file", "--batch-check=%(objecttype) %(objectsize)", input=f"{rev}:{layout.CONFIG}\n".encode())
    kind, _, size = out.decode().strip().partition(" ")
    if status != 0 or kind != "blob" or not size.isdigit() or int(size) > MAX_TEXT:
        return None
    status, out, _ = audit.call(root, "cat-file", "blob", f"{rev}:{layout.CONFIG}")
    return out if status == 0 else None
