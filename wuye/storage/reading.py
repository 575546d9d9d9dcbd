"""Opening a store's files: plain files only, never through a symbolic link.

A store arrives from other offices, and git checks a committed symlink out as a symlink: a
`contacts.yaml` pointing at a file elsewhere on the machine, or a tenant folder pointing out of
the store, would otherwise be read (and shown, exported, verified) as if it were the store's.
So every reader of a store file comes here: the path is walked from the store's root one folder
at a time, each opened with `O_NOFOLLOW | O_DIRECTORY` relative to the one before, and the file
itself with `O_NOFOLLOW | O_NONBLOCK` (a FIFO must not hang the reader), then `fstat`ed: only a
regular file is read. The store's root itself may be reached through links (it is where the
clerk chose to keep the store). The central repository refuses such files anyway
(storage/allowlist.py); this is what keeps a store that took one in by a plain `git pull` safe.

A missing file raises FileNotFoundError (a folder IsADirectoryError) as `open` does; a link or a
device raises `NotPlainFile`, both a WuyeError (a located Problem, never the file's content) and
an OSError, so code that treats an unreadable file as absent still does.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_FILE = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_DIR = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


class NotPlainFile(WuyeError, OSError):
    """A store path that is a symbolic link (or passes through one), or not a regular file."""


def _refuse(rel: str, link: str | None) -> NotPlainFile:
    if link is not None:
        where = "" if link == rel else tr("（%s 是符号链接）", " (%s is a symbolic link)") % link
        p = Problem(rel, tr("是符号链接，或经过符号链接%s；档案库从不跟随符号链接读取文件：请换成文件本身，或删除它",
                            "is a symbolic link or reached through one%s; a store never reads through a symbolic link: "
                            "put the file itself there, or remove it") % where, code="file.symlink")
    else:
        p = Problem(rel, tr("不是普通文件（设备、管道或套接字）；请删除它", "is not a plain file (a device, pipe or socket); remove it"),
                    code="file.not-regular")
    return NotPlainFile(str(p), [p])


def _parts(rel: str) -> list[str]:
    parts = [p for p in rel.replace(os.sep, "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise FileNotFoundError(errno.ENOENT, "not a store path", rel)
    return parts


# Opening relative to an open folder (Linux, macOS); elsewhere (Windows) each step is lstat'ed
# and the file opened by its path, which leaves a race a local attacker could use, but no link
# that came in through git goes unnoticed.
BY_FOLDER = os.open in os.supports_dir_fd and bool(_NOFOLLOW)


def open_fd(root: Path | str, rel: str) -> int:
    """A read-only descriptor of store file `rel`, a regular file reached without any link."""
    parts = _parts(rel)
    if not BY_FOLDER:
        return _open_by_path(Path(root), rel, parts)
    fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        for n, name in enumerate(parts):
            last = n == len(parts) - 1
            try:
                nxt = os.open(name, _FILE if last else _DIR, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.EMLINK) or (e.errno == errno.ENOTDIR and _is_link(fd, name)):
                    raise _refuse(rel, "/".join(parts[:n + 1])) from None
                if e.errno == errno.ENXIO:  # a socket, or a FIFO with no writer (O_NONBLOCK)
                    raise _refuse(rel, None) from None
                raise
            os.close(fd)
            fd = nxt
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", rel)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(rel, None)
        out, fd = fd, -1
        return out
    finally:
        if fd >= 0:
            os.close(fd)


def _open_by_path(root: Path, rel: str, parts: list[str]) -> int:
    here = root
    for n, name in enumerate(parts):
        here = here / name
        mode = os.lstat(here).st_mode  # FileNotFoundError / NotADirectoryError as open() raises them
        if stat.S_ISLNK(mode):
            raise _refuse(rel, "/".join(parts[:n + 1]))
        if n < len(parts) - 1 and not stat.S_ISDIR(mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", rel)
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", rel)
    if not stat.S_ISREG(mode):
        raise _refuse(rel, None)
    return os.open(here, _FILE)


def _is_link(fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=fd).st_mode)
    except OSError:
        return False


def read_bytes(root: Path | str, rel: str, limit: int | None = None) -> bytes:
    """The bytes of store file `rel` (at most `limit`), refused as `open_fd` refuses it."""
    with os.fdopen(open_fd(root, rel), "rb") as f:
        return f.read() if limit is None else f.read(limit)


def split(path: Path | str, rel: str) -> tuple[Path, str] | None:
    """(the store root, rel) when `path` is `rel` under some folder, else None."""
    parts = [p for p in str(rel).replace(os.sep, "/").split("/") if p]
    path = Path(path)
    if not parts or os.path.isabs(rel) or ".." in parts or len(path.parts) <= len(parts):
        return None
    if list(path.parts[-len(parts):]) != parts:
        return None
    return Path(*path.parts[:-len(parts)]), "/".join(parts)


def read_path(path: Path | str, rel: str, limit: int | None = None) -> bytes:
    """`read_bytes` for a caller holding the file's whole path and its store-relative name; a
    file named outside any store (rel not a tail of path) is only refused if it is itself a link."""
    found = split(path, rel)
    if found is not None:
        return read_bytes(found[0], found[1], limit)
    p = Path(path)
    return read_bytes(p.parent, p.name, limit)


def is_file(root: Path | str, rel: str) -> bool:
    """Whether `rel` is a regular file reached without a link (lstat of every step)."""
    try:
        parts = _parts(rel)
    except FileNotFoundError:
        return False
    here = Path(root)
    for n, name in enumerate(parts):
        here = here / name
        try:
            mode = os.lstat(here).st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) if n == len(parts) - 1 else stat.S_ISDIR(mode)):
            return False
    return True
