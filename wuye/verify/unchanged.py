"""Is the store exactly as `wuye verify` last found it clean? Then the warm run is a look-up.

A run that found no problem at all (no error and no warning) keeps one row in the derived cache: a
digest of everything its report depends on, and its counts. The next run computes the digest
again before it reads any file or verdict; the same digest gives the same report, so at 10,000
tenants an unchanged store costs git's listings (a few tenths of a second), not the 2 s of
looking every file's verdict up. Any difference, however small, falls back to the checks and their
verdicts by blob id (context.py), which then record the new digest if the store is clean.

What the digest covers, each read afresh on every run:
  - HEAD (what .git/HEAD says, a branch or a detached commit) and every ref with its commit: the
    history check walks HEAD, the receipts check the receipts and the remote-tracking branches,
    and a replace ref would change the history git shows; .git/shallow and info/grafts, which do too;
  - the index: every entry's tag, mode, blob id, stage and path (`ls-files -s -v`); the tag says
    which entries git was told not to watch (assume-unchanged, skip-worktree);
  - the working tree against the index, as `git status` tells it (`diff-files`: size, times, inode
    and mode of every tracked file, one written in the index's second re-read), with git's default
    stat rules whatever the user's settings: each entry it names, and each it was told not to
    watch, digested by what it holds now;
  - everything git does not track, ignored files included (`ls-files -o --directory` with no
    exclude rules: verify lists the folders itself, so .gitignore hides nothing from it), empty
    folders too (an empty tenant folder is a tenant without a profile), each by what it holds;
  - the root and central pins (trust/pins.py), or the --root given, and the repository's config and
    info/attributes.

And the last verified HEAD (checks.VERIFIED_HEAD) must be HEAD itself, as verify() makes sure
before it asks: a clean run records it, and an amend or rebase since is a problem the history
check reports. The code is the database's fingerprint: another version of wuye empties the
table. The date is not in the digest: as with
every verdict kept, only a clean report is recorded, and a record found clean is never refused
later (storage/cache.py).

The digest is taken when the run starts and again when it ends: a run during which anything
changed (an edit while the files were being read) records nothing.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from wuye.storage import cache, verdicts
from wuye.storage import git as audit
from wuye.storage.store import Store

VERSION = 1  # of what the digest covers


class Unchanged:
    """The digest of one run, its git listings started when it is made."""

    def __init__(self, store: Store, root_pin: str | None):
        self.root = Path(store.root)
        self.root_pin = root_pin
        self.snapshot = cache.Snapshot.begin(self.root)  # shared with the checks' Context on a miss
        self._started = self._start()
        self.digest: str | None = None

    def _start(self):
        if not cache.enabled():
            return None
        try:
            return (audit.start(self.root, "ls-files", "-o", "--directory", "-z"),
                    audit.start(self.root, "for-each-ref", "--format=%(objectname) %(refname)"))
        except audit.NotARepository:
            return None

    def take(self) -> None:
        """Digest the store as it is now: before any check reads a file (the listings, started
        when this was made, say what the store was then; the files they name are read now)."""
        self.digest = self._digest(self._started, self.snapshot.raw())

    def verdict(self) -> dict[str, int] | None:
        """The counts of the clean report of this very store, or None: not recorded, or changed.
        Only good while HEAD is the last commit verified here, which the caller checks."""
        self.take()
        return verdicts.tree_counts(self.root, self.digest) if self.digest is not None else None

    def again(self):
        """Start the listings of the end-of-run digest (the checks have read everything by now),
        for `record`: they run while the caller saves the verdicts."""
        return (self._start(), cache.Snapshot.begin(self.root)) if self.digest is not None else None

    def record(self, counts: dict[str, int], again) -> None:
        """Keep this run's clean report, if the store is still what the run started from (`again`:
        what `again()` started once the checks were done)."""
        if again is not None and self._digest(again[0], again[1].raw()) == self.digest:
            verdicts.keep_tree_counts(self.root, self.digest, counts)

    def _digest(self, started, raw) -> str | None:
        if started is None or raw is None:
            return None
        others, refs = (s.result(raw=True) for s in started)
        if others is None or refs is None:
            return None
        listing, changed = raw
        from wuye.errors import WuyeError
        from wuye.trust import pins

        try:
            pinned = pins.read(self.root)
        except WuyeError:  # a damaged pin file: the checks report it
            return None
        gitdir, common = audit.git_dir(self.root), audit.common_dir(self.root)
        h = hashlib.sha256(f"wuye verify {VERSION}\nroot {self.root_pin}\ncentral {pinned.get('central')}\n".encode())
        for name, p in (("HEAD", gitdir / "HEAD"), ("config", common / "config"), ("worktree config", gitdir / "config.worktree"),
                        ("shallow", common / "shallow"),
                        ("grafts", common / "info" / "grafts"), ("attributes", common / "info" / "attributes")):
            h.update(f"{name} {_file_digest(p)}\n".encode())
        h.update(b"refs\0" + refs + b"\0index\0")
        h.update(hashlib.sha256(listing).digest())
        # The entries whose working-tree copy git does not vouch for: changed, and unwatched.
        unwatched = [line.split(b"\t", 1)[1] for line in listing.split(b"\0") if line[:2] not in (b"H ", b"")]
        for rel in sorted({*changed.split(b"\0"), *unwatched} - {b""}):
            h.update(b"\0changed\0" + _state(self.root, rel))
        for rel in sorted(set(others.split(b"\0")) - {b""}):
            h.update(b"\0other\0" + _state(self.root, rel.rstrip(b"/")))
        return h.hexdigest()


def _file_digest(p: Path) -> str:
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "-"
    except OSError:
        return "unreadable"


def _state(root: Path, rel: bytes) -> bytes:
    """What a path holds now: a file by its blob id, a link by its target, a folder by the name
    and state of everything in it, without following any link. As bytes, whatever the names are
    (git names paths by their bytes; a name that is not UTF-8 is no reason to fail), and walked
    without recursion, however deep a folder someone made."""
    out: list[bytes] = []
    todo = [rel]
    while todo:
        path = todo.pop()
        full = os.path.join(os.fsencode(root), path)
        try:
            st = os.lstat(full)
        except OSError:
            out.append(path + b" -")
            continue
        if stat.S_ISLNK(st.st_mode):
            try:
                out.append(path + b" link " + os.readlink(full))
            except OSError:
                out.append(path + b" link ?")
        elif stat.S_ISDIR(st.st_mode):
            try:
                names = sorted(e.name for e in os.scandir(full))
            except OSError:
                out.append(path + b" dir ?")
                continue
            out.append(path + b" dir")
            todo += [path + b"/" + n for n in reversed(names)]
        elif stat.S_ISREG(st.st_mode):
            out.append(path + b" file %o " % (st.st_mode & 0o111) + _blob(root, path))
        else:
            out.append(path + b" other %o" % st.st_mode)
    return b"\0".join(out)


def _blob(root: Path, rel: bytes) -> bytes:
    """The blob id of a file's bytes, read a MiB at a time (an untracked video need not be held
    whole); b"?" where it cannot be read without following a link, or at all."""
    from wuye.storage.reading import open_fd

    try:
        fd = open_fd(root, os.fsdecode(rel))
    except OSError:
        return b"?"  # refused (a link on the way) or unreadable: the checks say which
    with os.fdopen(fd, "rb") as f:
        h = hashlib.sha1(b"blob %d\0" % os.fstat(f.fileno()).st_size)
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest().encode()
