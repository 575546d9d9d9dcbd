"""The store: a building's directory of YAML files that is its own git repository.

This module finds a store, names its paths (refusing any id that could escape its folder), reads
and validates its records, and carries a change from the files to the commit: `Store.change()`
takes the store-wide lock, buffers every file the command writes, writes them atomically (temp
file, fsync, rename, fsync of the folder) and hands the paths to `audit.commit`, which stages and
commits only those. If the commit fails, the files are put back as they were. Reading never
imports git: a look-up at the counter must stay fast.

`_fault(point)` (storage/faults.py) marks each point of the write path where a crash must be survivable; the crash
tests (tests/test_crash.py) kill the real command at every one of them.
"""

from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import yamlio
from wuye.storage.atomic import TMP_MARK, fsync_dir, write_atomic
from wuye.storage.faults import fault as _fault

CONFIG = "wuye.yaml"
WORKFLOWS = "workflows"
# Where a change's new files wait, fsynced, until the journal (the commit point) names them.
# Inside .git/ (the same file system, so the final rename is atomic) rather than beside each
# target: staging beside the target had to create the target's folder first, and a command killed
# before its commit point then left e.g. an empty tenants/T0042/ behind, which made the tenant
# "exist" (refusing `archive new T0042` again) and failed `wuye verify`.
STAGING = "wuye/staging"


def find_root(explicit: str | os.PathLike | None = None, cwd: Path | None = None) -> Path:
    """--store, else WUYE_STORE, else the nearest ancestor holding wuye.yaml (as git finds .git)."""
    given = explicit or os.environ.get("WUYE_STORE")
    if given:
        root = Path(given).expanduser().resolve()
        if not (root / CONFIG).is_file():
            raise WuyeError(
                tr("%s 不是 wuye 档案库（没有 wuye.yaml）；请检查路径，或用 `wuye init %s` 新建",
                   "%s is not a wuye store (no wuye.yaml); check the path, or create one with `wuye init %s`") % (root, given)
            )
        return root
    here = (cwd or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / CONFIG).is_file():
            return d
    raise WuyeError(
        tr("当前目录不在任何 wuye 档案库中；请用 `wuye init 路径` 新建档案库，或用 --store / WUYE_STORE 指定",
           "not inside a wuye store; create one with `wuye init PATH`, or name one with --store or WUYE_STORE")
    )


def now(tz: dt.tzinfo) -> dt.datetime:
    """The current time in the building's time zone, to the second (as records show it)."""
    return dt.datetime.now(tz).replace(microsecond=0)


class Store:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._config = None
        self._staff: dict[str, Any] = {}
        self.notices: list[str] = []  # things the user should hear about, printed by the CLI

    @classmethod
    def open(cls, explicit=None) -> "Store":
        return cls(find_root(explicit))

    # --- paths ------------------------------------------------------------------------------

    def path(self, rel: str) -> Path:
        return self.root / rel

    def tenant_rel(self, tenant_id: str, *parts: str) -> str:
        from wuye.models.ids import ID_RE, check_id

        # The pattern first, the message only for a refusal: whole-store work asks this of every
        # tenant (20,000 calls for the arrears report), and tr() reads the environment each time.
        if tenant_id.__class__ is not str or not ID_RE.fullmatch(tenant_id):
            try:
                check_id(tenant_id, tr("租户编号", "tenant id"))
            except ValueError as e:
                raise WuyeError(str(e)) from None
        return "/".join(("tenants", tenant_id, *parts))

    def tenant_exists(self, tenant_id: str) -> bool:
        from wuye.storage.reading import is_file

        return is_file(self.root, self.tenant_rel(tenant_id, "profile.yaml"))

    def tenant_ids(self) -> list[str]:
        """The tenant folders; a symlink is no tenant (verify's layout check reports it)."""
        d = self.root / "tenants"
        if not d.is_dir():
            return []
        return sorted(e.name for e in os.scandir(d) if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))

    # --- reading ----------------------------------------------------------------------------

    def read_bytes(self, rel: str) -> bytes:
        """A store file's bytes: a regular file, never read through a symlink (storage/reading.py)."""
        from wuye.storage.reading import read_bytes

        return read_bytes(self.root, rel)

    def read_text(self, rel: str) -> str:
        """A store file's text, read as `read_data` reads it (for the round-trip editors)."""
        return yamlio.read_text(self.path(rel), rel)

    def read_data(self, rel: str) -> tuple[Any, str]:
        """The parsed YAML of a store file and its text (for locating errors)."""
        text = yamlio.read_text(self.path(rel), rel)
        return yamlio.loads(text, rel), text

    def read_model(self, rel: str, model, context: dict | None = None):
        """A store file validated by its model; every problem located as file:line:col."""
        data, text = self.read_data(rel)
        obj, problems = yamlio.check_model(model, {} if data is None else data, rel, text, context=context)
        if problems:
            raise WuyeError(
                tr("%s 有 %d 处错误：\n", "%s has %d error(s):\n") % (rel, len(problems))
                + "\n".join(str(p) for p in problems),
                problems,
            )
        return obj

    @property
    def config(self):
        if self._config is None:
            from wuye.models.store import StoreConfig

            self._config = self.read_model(CONFIG, StoreConfig)
        return self._config

    def tz(self) -> dt.tzinfo:
        return self.config.tz()

    def now(self) -> dt.datetime:
        return now(self.tz())

    def staff(self, staff_id: str):
        """A registered staff member, refused when unknown."""
        from wuye.models.store import Staff
        from wuye.models.ids import check_id

        if staff_id not in self._staff:
            try:
                check_id(staff_id, tr("员工编号", "staff id"))
            except ValueError as e:
                raise WuyeError(str(e)) from None
            rel = f"staff/{staff_id}.yaml"
            if not self.path(rel).is_file():
                raise WuyeError(
                    tr("未知员工 %r：staff/ 中没有此人；用 `wuye staff list` 查看，或用 `wuye staff add` 登记",
                       "unknown staff member %r: not in staff/; see `wuye staff list`, or register with `wuye staff add`") % staff_id
                )
            self._staff[staff_id] = self.read_model(rel, Staff)
        return self._staff[staff_id]

    def actor(self, staff_id: str | None):
        """The staff member acting (--as, else WUYE_USER); unknown or revoked ids are refused."""
        staff_id = staff_id or os.environ.get("WUYE_USER")
        if not staff_id:
            raise WuyeError(tr("请用 --as 员工编号（或环境变量 WUYE_USER）说明是谁在操作",
                               "say who is acting with --as STAFF_ID (or the WUYE_USER variable)"))
        person = self.staff(staff_id)
        if person.revoked_at is not None and person.revoked_at <= self.now():
            raise WuyeError(tr("员工 %s 已于 %s 停用，不能再操作",
                               "staff member %s was revoked at %s and can no longer act") % (staff_id, person.revoked_at))
        return person

    # --- writing ----------------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """The store-wide write lock: one writer at a time, a clear message after a wait."""
        from filelock import FileLock, Timeout

        timeout = float(os.environ.get("WUYE_LOCK_TIMEOUT", "30"))
        from wuye.storage.git import git_dir

        # Per checkout (git.git_dir says why): a second worktree has its own tree, index and HEAD.
        lock = FileLock(str(git_dir(self.root) / "wuye.lock"))
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise WuyeError(
                tr("另一个 wuye 命令正在写入此档案库，等待 %g 秒后仍未结束；请稍后重试",
                   "another wuye command is writing to this store and did not finish within %g s; try again shortly") % timeout
            ) from None
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def change(self, summary: str, author=None, trailers: dict[str, str] | None = None) -> Iterator["Change"]:
        """One command's change: lock, buffer writes, then write atomically and commit once.

        Reads made inside the block see the store under the lock. If the block raises, nothing
        is written. The commit (and its hash) is in `change.commit` afterwards, None if nothing
        changed.
        """
        with self.lock():
            finished = recover(self)
            if finished:
                self.notices.append(tr("已完成上次被中断的修改：%s", "finished a change that was interrupted: %s") % finished)
            ch = Change(self, summary, author, trailers or {})
            try:
                yield ch
            except BaseException:
                # Nothing is written; files staged ahead (Change.stage) go. No journal exists
                # yet (recover saw to that, and only apply writes one), so all of staging may.
                clear_staging(self.root)
                raise
            ch.apply()


class Staged:
    """A file's new content already in the staging folder (Change.stage): where, and its sha256."""

    __slots__ = ("tmp", "sha256")

    def __init__(self, tmp: str, sha256: str):
        self.tmp, self.sha256 = tmp, sha256


class Change:
    """The files one command writes, and the commit that records them."""

    def __init__(self, store: Store, summary: str, author, trailers: dict[str, str]):
        self.store = store
        self.summary = summary
        self.author = author
        self.trailers = trailers
        self.files: dict[str, bytes | Staged | None] = {}
        self.kept: set[str] = set()
        self.commit: str | None = None
        self._staged = 0  # files staged so far: each temp file's number
        self._staging: Path | None = None

    def write(self, rel: str, content: str | bytes | Staged) -> None:
        self.files[rel] = content.encode("utf-8") if isinstance(content, str) else content

    def stage(self, rel: str, content: bytes) -> Staged:
        """Write `content` for `rel` to the staging folder now; what to `write` for it.

        An import of 10,000 tenants makes 230 MB of files: each is staged as soon as it is made,
        and held as its name, not its bytes. It is not part of the change until written; if the
        change ends in an exception the staging folder is cleared. Forked workers may stage too:
        the temp file's name holds the process id."""
        self._staged += 1
        if self._staging is None:
            self._staging = _staging_dir(self.store.root)
        spec = _stage(self.store.root, rel, content, f"s{self._staged}", sync=False, staging=self._staging)
        return Staged(spec["tmp"], spec["sha256"])

    def write_yaml(self, rel: str, data) -> None:
        self.write(rel, yamlio.dumps(data))

    def delete(self, rel: str) -> None:
        self.files[rel] = None

    def keep(self, rel: str) -> None:
        """Commit `rel` as it is in the working tree: a hand edit this change adopts (a manager
        signing the fee table someone edited), which `write` of the same bytes would not commit."""
        self.kept.add(rel)

    def pending(self, rel: str) -> bytes | None:
        content = self.files.get(rel)
        return (self.store.root / content.tmp).read_bytes() if isinstance(content, Staged) else content

    def apply(self) -> None:
        """Write the changed files and commit them, crash-safely.

        All new contents are first written to temp files in .git/wuye/staging and fsynced; then
        a journal naming them is written to .git/wuye/ (the commit point); then they are renamed
        into place and committed, and the journal removed. Killed before the commit point, the
        store is untouched; killed after it, the next command finishes the change (`recover`).
        A git failure (a Python exception) restores the files and leaves nothing behind.
        """
        from wuye.storage import git as audit

        root = self.store.root
        changed: dict[str, bytes | None] = {}
        before: dict[str, bytes | None] = {}
        import hashlib

        from wuye.storage.reading import read_bytes

        for rel, content in self.files.items():
            try:  # never through a link: what it points at is no file of the store
                old = read_bytes(root, rel)
            except OSError:
                old = None
            if isinstance(content, Staged):
                if old is not None and hashlib.sha256(old).hexdigest() == content.sha256:
                    (root / content.tmp).unlink(missing_ok=True)
                    continue
            elif old == content:
                continue
            changed[rel] = content
            before[rel] = old
        kept = [rel for rel in sorted(self.kept) if rel not in changed]
        if not changed and not kept:
            return
        staged: dict[str, dict | None] = {}
        _fault("stage")
        # A batch (an import writes tens of thousands of files) is made durable with one
        # os.sync() rather than an fsync per file, which alone took about a minute for 50,000.
        # Files staged ahead were never fsynced one by one: the batch's sync covers them.
        batch = len(changed) > BATCH_SYNC or any(isinstance(c, Staged) for c in changed.values())
        try:
            for n, (rel, content) in enumerate(changed.items()):
                if isinstance(content, Staged):
                    staged[rel] = {"tmp": content.tmp, "sha256": content.sha256}
                else:
                    staged[rel] = None if content is None else _stage(root, rel, content, n, sync=not batch)
                _fault(f"staged:{rel}")
            if batch:
                os.sync()
            elif any(spec is not None for spec in staged.values()):
                fsync_dir(_staging_dir(root))  # the staged names are durable before the journal names them
            _write_journal(root, {"message": self.message(), "author": _author_json(self.author), "files": staged})
        except BaseException:
            _discard(root, staged)
            raise
        _fault("journal")
        try:
            _publish(root, staged)
            _fault("commit")
            self.commit = audit.commit(root, [*changed, *kept], self.message(), self.author, self.store.now())
        except WuyeError:
            for rel, old in before.items():
                put_file(root / rel, old)
            _discard(root, staged)
            _journal_path(root).unlink(missing_ok=True)
            raise
        _fault("committed")
        _journal_path(root).unlink(missing_ok=True)
        if self.commit is not None:
            audit.pack_when_due(root)

    def message(self) -> str:
        lines = [_one_line(self.summary), ""]
        lines += [f"{k}: {_one_line(v)}" for k, v in self.trailers.items() if v]
        return "\n".join(lines).rstrip() + "\n"


def _one_line(text: str) -> str:
    """Text from a record made safe for one line of a commit message: a newline in a name or a
    file name would otherwise add lines that read as `Wuye-*` trailers of their own."""
    import unicodedata

    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in str(text))


# --- the journal of an interrupted change ---------------------------------------------------

JOURNAL = "wuye/pending.json"


def _journal_path(root: Path) -> Path:
    from wuye.storage.git import git_dir

    return git_dir(root) / JOURNAL


def _author_json(author) -> dict | None:
    return None if author is None else {"name": author.name, "email": author.author_email()}


class _Author:
    """The author recorded in a journal, shaped as audit.commit expects."""

    def __init__(self, name: str, email: str):
        self.name, self._email = name, email

    def author_email(self) -> str:
        return self._email


def _write_journal(root: Path, data: dict) -> None:
    import json

    path = _journal_path(root)
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"),
                 tmp=path.with_name(path.name + TMP_MARK + str(os.getpid())), mode=0o666)


def _staging_dir(root: Path) -> Path:
    """In the checkout's git directory: for a worktree that is under the main checkout's .git/,
    on the same file system unless the worktree was put on another one (then the rename into
    place fails, the journal stays, and the change cannot finish there)."""
    from wuye.storage.git import git_dir

    return git_dir(root) / STAGING


BATCH_SYNC = 64  # more files than this in one change: one os.sync() instead of an fsync each


def _stage(root: Path, rel: str, content: bytes, n: int | str, sync: bool = True, staging: Path | None = None) -> dict:
    """Write content to a temp file in the staging folder, fsynced unless the caller syncs the
    whole batch at once; the journal's record of it."""
    import hashlib

    staging = staging or _staging_dir(root)
    tmp = staging / f"{n}-{rel.rpartition('/')[2]}{TMP_MARK}{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:  # the first file staged here
        staging.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with open(fd, "wb") as f:
        f.write(content)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    # relpath, not relative_to: a worktree's git directory (and so staging) is outside its root.
    return {"tmp": os.path.relpath(tmp, root), "sha256": hashlib.sha256(content).hexdigest()}


def _publish(root: Path, staged: dict[str, dict | None]) -> None:
    """Move staged files into place (and remove deleted ones), then fsync their folders."""
    dirs, made = set(), set()
    for rel, spec in staged.items():
        target = root / rel
        if spec is None:
            if target.exists():
                target.unlink()
        elif (root / spec["tmp"]).exists():
            if target.parent not in made:  # one mkdir a folder: an import fills 10,000 of them
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            os.replace(root / spec["tmp"], target)
        dirs.add(target.parent)
        _fault(f"published:{rel}")
    if len(dirs) > BATCH_SYNC:
        os.sync()
    else:
        for d in dirs:
            fsync_dir(d)
    _fault("published")


def _discard(root: Path, staged: dict[str, dict | None]) -> None:
    for spec in staged.values():
        if spec is not None:
            (root / spec["tmp"]).unlink(missing_ok=True)


def clear_staging(root: Path) -> list[Path]:
    """Remove what killed commands left before their commit point (under the lock, no journal).

    Nothing there is a record: a file in staging reaches the store only through a journal. The
    journal's own temp file (killed while writing it) goes too. The files removed are returned.
    """
    gone = []
    dirs = [_staging_dir(root), _journal_path(root).parent]
    for d in dirs:
        try:
            names = os.listdir(d)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            p = d / name
            if (d == dirs[0] or TMP_MARK in name) and p.is_file():
                p.unlink(missing_ok=True)
                gone.append(p)
    return gone


def _sha256(path: Path) -> str | None:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def recover(store: "Store") -> str | None:
    """Finish a change that a killed command left past its commit point; the summary, if any.

    Called under the store lock before every change. The journal names complete, fsynced temp
    files, so finishing is always possible unless someone edited the files since: then nothing
    is touched and the clerk is told to run `wuye doctor`.
    """
    import json

    from wuye.storage import git as audit

    root = store.root
    path = _journal_path(root)
    if not path.is_file():
        clear_staging(root)
        return None
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
        files: dict = journal["files"]
    except (ValueError, KeyError, TypeError):
        raise WuyeError(tr("中断修改的记录 %s 已损坏；请运行 `wuye doctor`",
                           "the record of an interrupted change, %s, is damaged; run `wuye doctor`") % path) from None
    for rel, spec in files.items():
        if spec is None:
            continue
        tmp, target = root / spec["tmp"], root / rel
        if not (tmp.is_file() and _sha256(tmp) == spec["sha256"]) and _sha256(target) != spec["sha256"]:
            raise WuyeError(tr(
                "上一条命令在写入时被中断，且 %s 此后又被改动，无法自动完成；请运行 `wuye doctor`",
                "the last command was interrupted while writing and %s has changed since, so it cannot be finished automatically; run `wuye doctor`") % rel)
    _publish(root, files)
    summary = journal["message"].splitlines()[0]
    author = _Author(**journal["author"]) if journal.get("author") else None
    # Killed after the commit but before the journal was removed? Then nothing is left to commit.
    pending = {item[3:] for item in audit.run(root, "status", "--porcelain", "-z", "-uall", "--no-renames").split("\0") if item}
    if audit.head(root) is None or pending & set(files):
        try:
            audit.commit(root, list(files), journal["message"], author, store.now())
        except audit.CommitFailed as e:
            # The files are in place and the journal stays, so the next try (or doctor) finishes it.
            raise WuyeError(tr("上一条命令被中断，完成它时 git 提交失败（%s）：%s\n文件已就位，修改记录保留；排除原因后任何写入命令或 `wuye doctor --fix` 会完成它",
                               "the last command was interrupted, and committing it now failed (%s): %s\nThe files are in place and the record of the change is kept; "
                               "once the cause is gone, any writing command or `wuye doctor --fix` finishes it") % (summary, e.detail)) from None
    path.unlink()
    clear_staging(root)
    return summary


def put_file(path: Path, content: bytes | None) -> None:
    """Write atomically (temp file, fsync, rename, fsync the folder), or remove."""
    if content is None:
        if path.exists():
            path.unlink()
            fsync_dir(path.parent)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, content)



def located(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)
