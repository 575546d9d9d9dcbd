"""The store's layout is an allow-list (storage/allowlist.py): the central repository's hook
refuses any commit of a push holding a path the layout has no place for, a symlink, a gitlink,
an executable, a foreign `.gitattributes` line, a text file over 1 MiB or an attachment over the
cap; `wuye verify` and `wuye doctor` report the same rule for what is committed locally.

Every attack is made with plain git, as a hostile office with write access would make it. The
hook reads git objects only: a symlink to a file on the server (with a secret in it) is refused
without being followed, and nothing of any pushed file is echoed back to the pusher.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import git
from test_central import push, refused
from test_moveout import plain_git
from test_sync import Offices

SECRET = "db_password: hunter2-on-the-server"


@pytest.fixture
def offices(run, tenant, tmp_path):
    return Offices(run, tenant, tmp_path)


@pytest.fixture
def server_secret(tmp_path) -> Path:
    """A file on the server (outside any repository) that a pushed symlink points at."""
    p = tmp_path / "server" / "emergency.yaml"
    p.parent.mkdir()
    p.write_text(SECRET + "\n", encoding="utf-8")
    return p


def _commit(root: Path, message: str = "hand edit") -> None:
    plain_git(root, "add", "-A")
    plain_git(root, "commit", "-q", "-m", message)


def _refused_and_unmoved(offices, p, *fragments):
    refused(p, *fragments)
    assert SECRET not in p.stderr and "hunter2" not in p.stderr


def test_a_pushed_symlink_is_refused_without_being_followed_on_the_server(offices, server_secret):
    a = offices.a
    central = offices.central_head()
    (a / "tenants/T0001/emergency.yaml").symlink_to(server_secret)
    _commit(a)
    p = push(a, "main")
    _refused_and_unmoved(offices, p, "tenants/T0001/emergency.yaml", "符号链接", "[layout.symlink]")
    assert "db_password" not in p.stderr and "unknown field" not in p.stderr
    assert offices.central_head() == central


def test_a_tenant_folder_symlinked_out_of_the_store_is_refused(offices, tmp_path):
    a = offices.a
    central = offices.central_head()
    (a / "tenants/T0002").symlink_to(tmp_path / "server", target_is_directory=True)
    _commit(a)
    refused(push(a, "main"), "tenants/T0002:", "[layout.symlink]")
    assert offices.central_head() == central


@pytest.mark.parametrize("files, fragments", [
    ({"wuye/__init__.py": "import os\n"}, ["wuye/__init__.py:", "[layout.unknown-path]"]),
    ({"sitecustomize.py": "import os\n"}, ["sitecustomize.py:", "[layout.unknown-path]"]),
    ({".githooks/post-merge": "#!/bin/sh\n"}, [".githooks/post-merge:", "[layout.unknown-path]"]),
    ({".gitmodules": "[submodule \"x\"]\n\tpath = x\n\turl = ../x\n"}, [".gitmodules:", "[layout.unknown-path]"]),
    ({"tenants/T0001/attachments/.gitattributes": "* merge=union\n"},
     ["tenants/T0001/attachments/.gitattributes:", "[layout.unknown-path]"]),
    ({"tenants/T0001/notes.txt": "x\n"}, ["tenants/T0001/notes.txt:", "[layout.unknown-path]"]),
])
def test_files_the_layout_has_no_place_for_are_refused(offices, files, fragments):
    a = offices.a
    central = offices.central_head()
    for rel, text in files.items():
        (a / rel).parent.mkdir(parents=True, exist_ok=True)
        (a / rel).write_text(text, encoding="utf-8")
    _commit(a)
    p = push(a, "main")
    refused(p, *fragments)
    assert "import os" not in p.stderr and "merge=union" not in p.stderr  # nothing of the content
    assert offices.central_head() == central


def test_a_foreign_gitattributes_line_is_refused_and_wuyes_own_lines_are_taken(offices):
    a = offices.a
    central = offices.central_head()
    attributes = a / ".gitattributes"
    own = attributes.read_text(encoding="utf-8")
    attributes.write_text(own + "\n# 注释可以\ntenants/*/moveout/*/steps/*.yaml merge=union\n", encoding="utf-8")
    _commit(a)
    line = len((own + "\n# 注释可以\n").splitlines()) + 1
    p = push(a, "main")
    refused(p, ".gitattributes:", f"第 {line} 行不是 wuye 自己的合并设置", "[layout.gitattributes]")
    assert "merge=union" not in p.stderr
    assert offices.central_head() == central

    plain_git(a, "reset", "-q", "--hard", "HEAD~1")  # every commit of a push counts: drop the bad one
    attributes.write_text(own + "\n# 注释可以\n", encoding="utf-8")  # blank lines and comments are fine
    _commit(a, "only a comment")
    assert push(a, "main").returncode == 0


def test_a_gitlink_and_an_executable_are_refused(offices, tmp_path):
    a = offices.a
    central = offices.central_head()
    sub = tmp_path / "sub"
    git(tmp_path, "init", "-q", str(sub))
    plain_git(sub, "commit", "-q", "--allow-empty", "-m", "x")
    head = git(sub, "rev-parse", "HEAD").strip()
    plain_git(a, "update-index", "--add", "--cacheinfo", f"160000,{head},tenants/T0001/attachments/vendor")
    plain_git(a, "update-index", "--add", "--chmod=+x", "tenants/T0001/profile.yaml")
    plain_git(a, "commit", "-q", "-m", "vendor")
    refused(push(a, "main"), "tenants/T0001/attachments/vendor:", "[layout.gitlink]",
            "tenants/T0001/profile.yaml:", "100755", "[layout.mode]")
    assert offices.central_head() == central


def test_an_oversized_yaml_and_an_attachment_over_the_cap_are_refused(offices, run):
    a = offices.a
    central = offices.central_head()
    (a / "tenants/T0001/payments.yaml").write_bytes(b"entries: []\n" + b"#" * (1024 * 1024) + b"\n")
    (a / "tenants/T0001/attachments").mkdir(exist_ok=True)
    (a / "tenants/T0001/attachments/scan.pdf").write_bytes(os.urandom(1024) * (21 * 1024))  # 21 MiB
    _commit(a)
    refused(push(a, "main"), "tenants/T0001/payments.yaml:", "[layout.too-large]",
            "tenants/T0001/attachments/scan.pdf:", "21.0 MiB", "上限 20 MiB", "[layout.attachment-too-large]")
    assert offices.central_head() == central


def test_the_cap_is_the_one_the_central_holds_so_a_push_cannot_raise_its_own(offices):
    a = offices.a
    central = offices.central_head()
    config = a / "wuye.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "attachment_max_mib: 1\n", encoding="utf-8")
    _commit(a, "cap 1 MiB")
    assert push(a, "main").returncode == 0  # the new cap is taken…
    (a / "tenants/T0001/attachments").mkdir(exist_ok=True)
    (a / "tenants/T0001/attachments/scan.pdf").write_bytes(b"x" * (2 * 1024 * 1024))
    config.write_text(config.read_text(encoding="utf-8").replace("attachment_max_mib: 1", "attachment_max_mib: 500"), encoding="utf-8")
    _commit(a, "raise the cap and add a big scan at once")
    refused(push(a, "main"), "scan.pdf:", "上限 1 MiB")  # …and a push is judged by the cap already there
    assert offices.central_head() != central


def test_every_commit_of_a_push_is_checked_not_only_the_tip(offices, server_secret):
    """A symlink added in one commit and removed in the next still reaches every clone's history."""
    a = offices.a
    central = offices.central_head()
    (a / "tenants/T0001/emergency.yaml").symlink_to(server_secret)
    _commit(a, "add")
    bad = git(a, "rev-parse", "HEAD").strip()
    (a / "tenants/T0001/emergency.yaml").unlink()
    _commit(a, "remove")
    p = push(a, "main")
    _refused_and_unmoved(offices, p, "tenants/T0001/emergency.yaml", "[layout.symlink]", bad[:10])
    assert offices.central_head() == central


def test_a_merge_bringing_in_a_refused_file_is_refused(offices, run):
    a = offices.a
    b = offices.clone("b")
    central = offices.central_head()
    plain_git(b, "switch", "-q", "-c", "side", central)
    (b / "tenants/T0001/notes.txt").write_text("x\n", encoding="utf-8")
    _commit(b, "side")
    offices.do(b, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    plain_git(b, "switch", "-q", "main")
    offices.do(b, "archive", "add", "T0001", "emergency", "--set", "name=张三", "--set", "phone_24h=13912345678", "--as", "wangli")
    plain_git(b, "merge", "-q", "--no-edit", "side")
    plain_git(b, "rm", "-q", "tenants/T0001/notes.txt")
    plain_git(b, "commit", "-q", "--amend", "--no-edit")  # the merge's tree is clean; its side branch is not
    refused(push(b, "main"), "tenants/T0001/notes.txt:", "[layout.unknown-path]")
    assert offices.central_head() == central


def test_a_good_push_with_an_attachment_is_taken(offices, run):
    a = offices.a
    (a / "tenants/T0001/attachments").mkdir(exist_ok=True)
    (a / "tenants/T0001/attachments/.gitkeep").write_bytes(b"")
    _commit(a, "attachments folder")
    p = push(a, "main")
    assert p.returncode == 0, p.stderr


# --- the same rule in wuye verify and wuye doctor ---------------------------------------------


def test_verify_and_doctor_report_committed_files_outside_the_layout(run, tenant, server_secret):
    root = Path(tenant.root)
    (root / "tenants/T0001/emergency.yaml").symlink_to(server_secret)
    (root / "sitecustomize.py").write_text("import os\n", encoding="utf-8")
    _commit(root)

    r = run("verify", "--json")
    assert r.exit_code == 1
    found = {(p["path"], p["code"]) for p in json.loads(r.stdout)["problems"]}
    assert {("tenants/T0001/emergency.yaml", "layout.symlink"), ("sitecustomize.py", "layout.unknown-path")} <= found
    assert "hunter2" not in r.stdout + r.stderr
    r = run("verify")
    assert r.exit_code == 1 and "sitecustomize.py: 档案库结构中没有这个文件的位置" in r.stdout + r.stderr
    r = run("verify")  # the tree found wanting is not remembered as clean
    assert r.exit_code == 1 and "sitecustomize.py" in r.stdout + r.stderr

    r = run("doctor", "--json")
    findings = {(f["path"], f["code"]): f for f in json.loads(r.stdout)["findings"]}
    assert ("tenants/T0001/emergency.yaml", "layout.symlink") in findings
    assert "git rm" in findings[("sitecustomize.py", "layout.unknown-path")]["advice"]
    assert "hunter2" not in r.stdout + r.stderr


def test_verify_reports_an_uncommitted_tenant_folder_that_is_a_symlink(run, tenant, tmp_path):
    root = Path(tenant.root)
    outside = tmp_path / "elsewhere"
    (outside).mkdir()
    (outside / "profile.yaml").write_text("tenant_id: T0009\nname: 别处\n", encoding="utf-8")
    (root / "tenants/T0009").symlink_to(outside, target_is_directory=True)
    r = run("verify", "--json")
    assert r.exit_code == 1
    problems = json.loads(r.stdout)["problems"]
    assert ("tenants/T0009", "layout.symlink") in {(p["path"], p["code"]) for p in problems}
    assert json.loads(r.stdout)["counts"]["tenants"] == 1  # the link is no tenant


def test_verify_judges_what_changed_since_a_clean_tree_and_finds_a_new_link(run, tenant, server_secret):
    """The clean tree is remembered; the next run judges only the paths changed since (diff-tree),
    which must still include a link committed in between, and a clean run after it is removed."""
    root = Path(tenant.root)
    assert run("verify").exit_code == 0
    (root / "tenants/T0001/emergency.yaml").symlink_to(server_secret)
    _commit(root, "link")
    r = run("verify", "--json")
    assert r.exit_code == 1
    assert ("tenants/T0001/emergency.yaml", "layout.symlink") in {(p["path"], p["code"]) for p in json.loads(r.stdout)["problems"]}
    plain_git(root, "rm", "-q", "tenants/T0001/emergency.yaml")
    plain_git(root, "commit", "-q", "-m", "unlink")
    assert run("verify").exit_code == 0
    (root / "wuye.yaml").write_text((root / "wuye.yaml").read_text(encoding="utf-8") + "attachment_max_mib: 1\n", encoding="utf-8")
    (root / "tenants/T0001/attachments").mkdir()
    (root / "tenants/T0001/attachments/scan.pdf").write_bytes(b"x" * (1024 * 1024 + 1))
    _commit(root, "a lower cap, and a scan over it")
    r = run("verify", "--json")
    assert r.exit_code == 1
    assert ("tenants/T0001/attachments/scan.pdf", "layout.attachment-too-large") in {
        (p["path"], p["code"]) for p in json.loads(r.stdout)["problems"]}
