"""storage/git.py `commit` builds its trees from HEAD's (plumbing): a changed entry of a large
folder is replaced in git's own bytes (`_splice`) instead of the folder being parsed and laid out
again. Each commit here is compared with the tree git itself writes for the same working tree
(`git add -A` + `git write-tree` in a scratch index), over names chosen to confuse a byte search:
a name that is a tail of another, names with spaces and one that starts like an entry
(`100644 T1`), a file and a folder that sort next to each other, non-ASCII names, modes that
change, removals, new names, and a file that becomes a folder.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import git

NAMES = ["T1", "T1.yaml", "T1-x", "AT1", "a T1", "100644 T1", "40000 T2", "T2.yaml", "科技", "z"]


def _tree_by_git(root: Path, index: Path) -> str:
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    return subprocess.run(["git", "write-tree"], cwd=root, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    from wuye.storage import git as wgit

    root = tmp_path / "repo"
    root.mkdir()
    wgit.init_repository(root)
    for name in NAMES:
        (root / "tenants" / name).mkdir(parents=True)
        (root / "tenants" / name / "profile.yaml").write_text(f"name: {name}\n", encoding="utf-8")
    (root / "tenants" / "T2").mkdir()
    (root / "tenants" / "T2" / "a.yaml").write_text("a\n", encoding="utf-8")
    (root / "tenants" / "T2.yaml" / "x").write_text("x\n", encoding="utf-8")
    (root / "top.yaml").write_text("top\n", encoding="utf-8")
    everything = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert wgit.commit(root, everything, "first") is not None
    return root


CHANGES = [
    ("edit", ["tenants/T1/profile.yaml"]),
    ("edit", ["tenants/100644 T1/profile.yaml", "tenants/a T1/profile.yaml"]),
    ("edit", ["tenants/科技/profile.yaml", "tenants/z/profile.yaml", "top.yaml"]),
    ("chmod", ["tenants/AT1/profile.yaml"]),
    ("remove", ["tenants/T1-x/profile.yaml"]),  # its folder goes too
    ("remove", ["tenants/T2/a.yaml"]),
    ("new", ["tenants/T1/extra.yaml", "tenants/T3/profile.yaml"]),
    ("edit", ["tenants/40000 T2/profile.yaml", "tenants/T2.yaml/x"]),
]


@pytest.mark.parametrize("how, paths", CHANGES)
def test_each_commit_has_the_tree_git_itself_writes(repo, tmp_path, how, paths):
    from wuye.storage import git as wgit

    for rel in paths:
        p = repo / rel
        if how == "edit":
            p.write_text(p.read_text(encoding="utf-8") + "edited: yes\n", encoding="utf-8")
        elif how == "chmod":
            p.chmod(0o755)
        elif how == "remove":
            p.unlink()
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("new\n", encoding="utf-8")
    new = wgit.commit(repo, paths, f"{how} {len(paths)}")
    assert new is not None
    assert git(repo, "rev-parse", f"{new}^{{tree}}").strip() == _tree_by_git(repo, tmp_path / "scratch-index")
    assert git(repo, "status", "--porcelain") == ""  # the index follows, at exactly those paths
    assert git(repo, "fsck", "--strict", "--no-dangling").strip() == ""


def test_a_file_that_becomes_a_folder_and_back(repo, tmp_path):
    from wuye.storage import git as wgit

    (repo / "top.yaml").unlink()
    (repo / "top.yaml").mkdir()
    (repo / "top.yaml" / "inner").write_text("in\n", encoding="utf-8")
    new = wgit.commit(repo, ["top.yaml", "top.yaml/inner"], "file to folder")
    assert git(repo, "rev-parse", f"{new}^{{tree}}").strip() == _tree_by_git(repo, tmp_path / "i1")
    (repo / "top.yaml" / "inner").unlink()
    (repo / "top.yaml").rmdir()
    (repo / "top.yaml").write_text("top again\n", encoding="utf-8")
    new = wgit.commit(repo, ["top.yaml/inner", "top.yaml"], "folder to file")
    assert git(repo, "rev-parse", f"{new}^{{tree}}").strip() == _tree_by_git(repo, tmp_path / "i2")
    assert git(repo, "status", "--porcelain") == ""


def test_splice_replaces_only_the_entry_named(repo):
    """The tree bytes of tenants/: `100644 T1` and `a T1` hold ` T1` + NUL after a mode-like text;
    changing T1 must change T1 alone."""
    from wuye.storage import git as wgit

    head = wgit.head(repo)
    [(sha, body)] = [wgit._read_trees(repo, head, ["tenants"], {})["tenants"]]
    before = wgit._entries_of((sha, body))
    new_id = "ab" * 20
    out = wgit._splice(body, {"T1": (True, ("40000", new_id))})
    after = wgit._entries_of((wgit._tree_id(out), out))
    assert after["T1"] == ("40000", new_id)
    assert {k: v for k, v in after.items() if k not in ("", "T1")} == {k: v for k, v in before.items() if k not in ("", "T1")}
    assert wgit._splice(body, {"T9": (True, None)}) is None  # a name the tree lacks: the general path
    assert wgit._splice(body, {"T1": (False, ("100644", new_id))}) is None  # a file where it has a folder
