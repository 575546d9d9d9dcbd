"""Atomic file writes: the one helper behind every file wuye replaces whole.

A reader (another command, git, a clerk's editor) sees the old file or the new one, never half of
one: the content goes to a temp file beside the target, then a rename puts it in place. Callers
differ only in what they can afford or need, so those are the parameters: whether to fsync (a
store file, a key: yes; a cache or the merge driver's result, which git reads at once: no), the
temp file's name (the store's `.<name>.wuye-tmp-<pid>` is what .gitignore and doctor recognise),
an exact mode (keys, the central hook), and refusing to replace a file that exists (a key). This
module imports only the standard library: signing and the cache use it on fast paths.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

TMP_MARK = ".wuye-tmp-"


def fsync_dir(directory: Path) -> None:
    """Make a rename or removal in `directory` durable (no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(target: Path, data: bytes | Iterable[bytes], *, tmp: Path | None = None, mode: int = 0o644,
                 exact_mode: bool = False, fresh: bool = False, overwrite: bool = True, sync: bool = True) -> None:
    """Write `data` (bytes, or chunks of them) to `target` through a temp file and a rename.

    tmp: the temp file (default `.<name>.wuye-tmp-<pid>` beside the target); mode: its mode, as
    the umask leaves it unless `exact_mode`; fresh: the temp file must not exist yet (O_EXCL: a
    random name, where a file or link placed there in advance would be an attack); sync: fsync
    the file before the rename and the folder after it. With overwrite=False an existing target
    raises FileExistsError, without a race: the temp file is hard-linked to the target name,
    which fails if the name is taken (a rename would replace it). A failure midway, of any kind,
    leaves no temp file behind.
    """
    target = Path(target)
    tmp = Path(tmp) if tmp is not None else target.with_name(f".{target.name}{TMP_MARK}{os.getpid()}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if fresh else os.O_TRUNC) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, mode)
    placed = False
    try:
        with os.fdopen(fd, "wb") as f:
            if exact_mode and hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), mode)  # the umask may have dropped bits from the mode
            for chunk in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
                f.write(chunk)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, target)
        else:
            _link(tmp, target)
        placed = True
    finally:
        # After a rename the temp name is gone (or, with a pid-named temp file, perhaps another
        # thread's by now): only a failure, or the hard link's leftover name, is ours to remove.
        if (not placed or not overwrite) and os.path.lexists(tmp):
            os.unlink(tmp)
    if sync:
        fsync_dir(target.parent)


def _link(tmp: Path, target: Path) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise  # an OSError too, and the one answer the fallback below must not swallow
    except OSError:
        # A file system without hard links (FAT, some network mounts): check, then rename; the
        # window between the two is the price of such a file system.
        if os.path.lexists(target):
            raise FileExistsError(target) from None
        os.rename(tmp, target)
