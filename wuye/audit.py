"""Git as the audit trail: creating a store's repository, committing a change, reading history.

Writes run git's own commands (through GitPython's command runner): `git add` of exactly the paths
a command wrote, then `git commit` of only those paths, authored and committed by the acting staff
member, never by whatever global git identity the machine has. GitPython's pure-Python index is
never used: on a 120,000-file store it takes seconds per commit where git takes a tenth. History is
read with one `git log` whose format asks git itself to parse the `Wuye-*` trailers.
"""

from __future__ import annotations

from pathlib import Path

from .errors import WuyeError
from .i18n import tr

SYSTEM_NAME = "wuye"
SYSTEM_EMAIL = "wuye@wuye.invalid"

# Settings that keep commits independent of the machine's global git config and fast on large
# stores (split index and untracked cache make `git add` and `git status` cheap at 120k files).
LOCAL_CONFIG = {
    "core.splitIndex": "true",
    "core.untrackedCache": "true",
    "core.quotePath": "false",
    "commit.gpgSign": "false",
    "tag.gpgSign": "false",
    "gc.auto": "0",
}


def _git(root: Path):
    """git's own command runner for a store. Hooks are off for every command wuye runs: a
    user's global core.hooksPath (a prepare-commit-msg that prefixes ticket numbers, say) must
    neither rewrite the audit trail's messages nor make a command fail."""
    from git import Repo

    git = Repo(root).git
    git.set_persistent_git_options(c="core.hooksPath=/dev/null")
    return git


def _identity(author) -> dict[str, str]:
    name = author.name if author is not None else SYSTEM_NAME
    email = author.author_email() if author is not None else SYSTEM_EMAIL
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def init_repository(root: Path) -> None:
    """A new repository on branch main, with the store's local settings."""
    from git import Repo

    repo = Repo.init(root, initial_branch="main")
    with repo.config_writer() as cw:
        for key, value in LOCAL_CONFIG.items():
            section, option = key.rsplit(".", 1)
            cw.set_value(section, option, value)


def commit(root: Path, paths: list[str], message: str, author=None, when=None) -> str:
    """Stage and commit exactly `paths`; return the new commit's hash.

    `when` (an aware datetime in the building's time zone) dates the commit, so `git log` shows
    the office's local time whatever the machine's zone.

    Other staged or unstaged work in the tree is left alone: the commit takes only these paths.
    Paths go to git on stdin (NUL-separated), so a batch import of 100,000 files fits.
    """
    import tempfile

    from git.exc import GitCommandError

    git = _git(root)
    env = _identity(author)
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
    listing = b"".join(p.encode("utf-8") + b"\0" for p in paths)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".msg", delete=False) as msg:
        msg.write(message)
    try:
        git.add("-A", "--pathspec-from-file=-", "--pathspec-file-nul", istream=_stdin(listing))
        with git.custom_environment(**env):
            git.commit("-q", "--no-verify", "-F", msg.name, "--pathspec-from-file=-", "--pathspec-file-nul",
                       istream=_stdin(listing))
        return git.rev_parse("HEAD")
    except GitCommandError as e:
        # Unstage what this command staged, so the index matches HEAD again for these paths.
        try:
            if head(root) is not None:
                git.reset("-q", "--pathspec-from-file=-", "--pathspec-file-nul", istream=_stdin(listing))
            else:
                git.rm("-q", "--cached", "-r", "--ignore-unmatch", "--pathspec-from-file=-", "--pathspec-file-nul",
                       istream=_stdin(listing))
        except GitCommandError:
            pass
        raise WuyeError(
            tr("git 提交失败，文件已恢复原样：%s" % str(e.stderr or e).strip(),
               "the git commit failed and the files were restored: %s" % str(e.stderr or e).strip())
        ) from None
    finally:
        Path(msg.name).unlink(missing_ok=True)


def _stdin(data: bytes):
    import tempfile

    f = tempfile.TemporaryFile()
    f.write(data)
    f.seek(0)
    return f


def head(root: Path) -> str | None:
    """HEAD's commit hash, or None before the first commit. Reads .git directly (no import)."""
    gitdir = root / ".git"
    try:
        ref = (gitdir / "HEAD").read_text().strip()
    except FileNotFoundError:
        return None
    if not ref.startswith("ref: "):
        return ref
    name = ref[5:]
    p = gitdir / name
    if p.is_file():
        return p.read_text().strip()
    packed = gitdir / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + name):
                return line.split()[0]
    return None


_FIELDS = ("%H", "%an", "%ae", "%aI", "%s", "%(trailers:only,unfold)")
_SEP = "\x1f"
_END = "\x1e"


def log(root: Path, paths: list[str] | None = None, limit: int | None = None, grep: str | None = None) -> list[dict]:
    """History newest first: hash, author, email, date, summary and the Wuye-* trailers."""
    args = ["--no-color", f"--format={_SEP.join(_FIELDS)}{_END}"]
    if limit:
        args.append(f"-n{limit}")
    if grep:
        args += [f"--grep={grep}", "-F"]
    if head(root) is None:
        return []
    out = _git(root).log(*args, "--", *(paths or []))
    entries = []
    for chunk in out.split(_END):
        chunk = chunk.strip("\n")
        if not chunk:
            continue
        h, name, email, date, summary, trailers = chunk.split(_SEP)
        parsed: dict[str, str] = {}
        for line in trailers.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.startswith("Wuye-"):
                parsed[key] = value.strip()
        entries.append(
            {"commit": h, "author": name, "email": email, "date": date, "summary": summary, "trailers": parsed}
        )
    return entries


def is_clean(root: Path) -> bool:
    return _git(root).status("--porcelain") == ""
