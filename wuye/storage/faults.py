"""The crash tests' kill points on the write path (tests/test_crash.py kills a real command at each).

Its own module because both the store's staging (store.py) and the commit plumbing (git.py) mark
points, and git.py sits below store.py.
"""

from __future__ import annotations

import os
import signal


def fault(point: str) -> None:
    """Fault injection for the crash tests: when WUYE_FAULT names `point`, die right here.

    The process sends itself SIGKILL, as a power cut or `kill -9` would: no exception, no
    `finally`, no flushing. Points, in order: `stage` (before anything is written), `staged:<file>`
    (after each new file is fsynced in the staging folder), `journal` (the commit point has been
    written), `published:<file>` (after each rename into place), `published` (folders fsynced),
    `commit` (before git runs), `git-add` and `git-commit` (inside audit.commit, after each git
    command), `committed` (before the journal is removed). `WUYE_FAULT_TRACE=FILE` appends each
    point passed to FILE, so a test can list a command's points before killing it at each.
    Costs two environment look-ups per point when unset.
    """
    trace = os.environ.get("WUYE_FAULT_TRACE")
    if trace:
        with open(trace, "a", encoding="utf-8") as f:
            f.write(point + "\n")
    if os.environ.get("WUYE_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
