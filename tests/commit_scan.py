"""A suite-wide net (issue 14, item 5): no commit wuye makes in any test holds a phone or ID number.

After each test, every git repository under its `tmp_path` (stores, clones, central repositories)
is read with one `git log --all`, and each commit wuye made (its committer is a staff member or
wuye itself, `@wuye.invalid`) is searched for phone and ID numbers, however they were written.
A test that commits such a message by hand, as an attacker or an older wuye would, is not wuye's
doing and is not searched. A find fails the test that made it, with the commit's message.

Loaded from conftest.py (`pytest_plugins`); about 5 ms per repository a test leaves behind.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

_SEPARATORS = re.compile(r"[\s\-－()（）+＋]")
# Not inside a word: a sha256 trailer (`Wuye-Source-Sha256: 196e578f…`) holds digit runs too.
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:86)?1[3-9][0-9]{9}(?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<![0-9A-Za-z])0[0-9]{2,3}[0-9]{7,8}(?![0-9A-Za-z])")
_RIC = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def personal_numbers(message: str) -> list[str]:
    # Digits are joined across separators first: `138 1234 5678` and `（010）65881234` count too.
    joined = _SEPARATORS.sub("", message)
    return _MOBILE.findall(joined) + _LANDLINE.findall(joined) + _RIC.findall(message)


def repositories(top: Path) -> list[Path]:
    found = []
    for here, dirs, files in os.walk(top):
        if ".git" in dirs or ".git" in files:
            found.append(Path(here))
        elif "HEAD" in files and "objects" in dirs and "refs" in dirs:
            found.append(Path(here))  # a bare repository (a central one)
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if d != ".git"]
    return found


def wuye_commit_leaks(repo: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    p = subprocess.run(["git", "-C", str(repo), "log", "--all", "--format=%H%x00%ce%x00%B%x01"], capture_output=True,
                       env={**env, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    if p.returncode != 0:
        return []  # no commits yet, or not a repository after all
    leaks = []
    for record in p.stdout.decode("utf-8", "replace").split("\x01"):
        parts = record.strip("\n").split("\x00", 2)
        if len(parts) != 3 or not parts[1].endswith("@wuye.invalid"):
            continue
        if personal_numbers(parts[2]):
            leaks.append(f"{repo} {parts[0][:10]}: {parts[2].strip()}")
    return leaks


@pytest.fixture(autouse=True)
def _no_personal_data_in_commit_messages(tmp_path):
    yield
    leaks = [line for repo in repositories(tmp_path) for line in wuye_commit_leaks(repo)]
    if leaks:
        pytest.fail("a commit wuye made holds a phone or ID number (issue 14: messages name the record, "
                    "never free text):\n" + "\n".join(leaks), pytrace=False)
