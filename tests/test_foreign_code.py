"""No code from a store's work tree ever runs: the merge driver and the central hook run the
installed wuye isolated (`python -I`), so a `wuye/` package, a `sitecustomize.py` or a `.pth`
committed at the store's root by a hostile office shadows nothing.

The hostile office pushes to a central repository set up by hand without wuye's guard (a plain
`git init --bare`: the guarded one refuses such files, see test_layout_guard.py), the other office
takes the files in with a plain `git pull`, and then a tenant file changed on both sides is merged,
which is when git starts the merge driver in the store's top folder. Every piece of foreign code
would create its own marker file; none may exist afterwards, and the merge must be the driver's
(both offices' contacts kept, one renumbered), which shows the driver did run.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from conftest import git
from test_moveout import plain_git

CONTACTS = "tenants/T0001/contacts.yaml"


def _foreign(root: Path, marks: Path) -> list[str]:
    """Foreign code at the store's root, each piece touching its own marker file when run."""
    def touch(name):
        return f"open({str(marks / name)!r}, 'w').write('ran')\n"

    files = {
        "wuye/__init__.py": touch("package"),
        "wuye/__main__.py": touch("main") + "import sys\nsys.exit(0)\n",
        "sitecustomize.py": touch("sitecustomize"),
        "usercustomize.py": touch("usercustomize"),
        "zz-wuye.pth": "import os; " + touch("pth"),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return list(files)


def _pull(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.name=某人", "-c", "user.email=someone@example.invalid", "pull", "-q", "--no-edit"],
                          cwd=root, capture_output=True, text=True)


def _offices(run, tenant, tmp_path):
    """Office a (the tenant store) and office b, through an unguarded bare repository."""
    central = tmp_path / "plain.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(central))
    a = Path(tenant.root)
    assert run("remote", "add", "origin", central, "--as", "wangli", store=a).exit_code == 0
    plain_git(a, "push", "-q", "origin", "main")
    plain_git(a, "branch", "-q", "--set-upstream-to=origin/main")
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(central), str(b))
    assert run("remote", "add", "origin", central, store=b).exit_code == 0
    return a, b


def _hostile_push(b: Path, marks: Path) -> list[str]:
    names = _foreign(b, marks)
    plain_git(b, "add", *names)
    plain_git(b, "commit", "-q", "-m", "tools")
    plain_git(b, "push", "-q", "origin", "main")
    return names


def _both_add_a_contact(run, a: Path, b: Path) -> None:
    assert run("archive", "add", "T0001", "contacts", "--set", "name=张三", "--set", "phone=13912345678", "--as", "wangli", store=b).exit_code == 0
    plain_git(b, "push", "-q", "origin", "main")
    assert run("archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli", store=a).exit_code == 0


def _names(root: Path) -> list[str]:
    from wuye.storage import yamlio

    return sorted(e["name"] for e in yamlio.read(root / CONTACTS, CONTACTS)["entries"])


def test_the_registered_merge_driver_and_hook_run_python_isolated(tenant, tmp_path):
    from wuye.sync import central
    from wuye.sync.offices import configure

    configure(tenant.root)
    driver = git(tenant.root, "config", "merge.wuye.driver").strip()
    assert " -I -m wuye merge-driver " in driver
    assert "-I -m wuye remote pre-receive" in central.hook_text()


def test_foreign_code_at_the_store_root_never_runs_under_a_plain_git_pull(run, tenant, tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    a, b = _offices(run, tenant, tmp_path)
    names = _hostile_push(b, marks)
    p = _pull(a)  # a fast-forward: the foreign files are now in office a's work tree
    assert p.returncode == 0, p.stderr
    assert all((a / n).is_file() for n in names)
    _both_add_a_contact(run, a, b)

    p = _pull(a)  # both sides changed contacts.yaml: git runs the merge driver in a's top folder

    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in marks.iterdir()) == []
    assert _names(a) == ["张三", "李明"]  # the installed driver merged entry by entry
    assert "CON-0002" in p.stderr  # and said what it renumbered


def test_foreign_code_in_the_work_tree_never_runs_under_wuye_sync(run, tenant, tmp_path):
    """`wuye sync` refuses a store holding such files (the layout is an allow-list), so here they
    lie untracked in the top folder while sync merges a file both sides changed."""
    marks = tmp_path / "marks"
    marks.mkdir()
    a, b = _offices(run, tenant, tmp_path)
    _foreign(a, marks)
    _both_add_a_contact(run, a, b)

    r = run("sync", "--as", "wangli", store=a)

    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert sorted(x.name for x in marks.iterdir()) == []
    assert _names(a) == ["张三", "李明"]
    assert len(git(a, "log", "-1", "--format=%P").split()) == 2  # a real merge, made by the driver


def test_wuye_sync_refuses_a_store_that_took_foreign_code_in_and_runs_none(run, tenant, tmp_path):
    """The foreign files came in by a plain `git pull`; `wuye sync` then refuses the store
    (verify names each file and the layout rule) before merging anything, and nothing ran."""
    marks = tmp_path / "marks"
    marks.mkdir()
    a, b = _offices(run, tenant, tmp_path)
    _hostile_push(b, marks)
    assert _pull(a).returncode == 0
    _both_add_a_contact(run, a, b)
    head = git(a, "rev-parse", "HEAD")

    r = run("sync", "--as", "wangli", store=a)

    assert r.exit_code == 1
    for rel in ("wuye/__init__.py", "sitecustomize.py", "zz-wuye.pth"):
        assert f"{rel}: 档案库结构中没有这个文件的位置" in r.stderr, r.stderr
    assert "ran" not in r.stderr  # no file content is echoed
    assert git(a, "rev-parse", "HEAD") == head
    assert sorted(x.name for x in marks.iterdir()) == []


def test_the_old_unisolated_driver_would_have_run_the_foreign_package(run, tenant, tmp_path):
    """The attack these tests guard against is real: with the driver as it was registered before
    (`python -m`, no -I), the same merge runs the committed package."""
    import shlex
    import sys

    marks = tmp_path / "marks"
    marks.mkdir()
    a, b = _offices(run, tenant, tmp_path)
    _hostile_push(b, marks)
    assert _pull(a).returncode == 0
    _both_add_a_contact(run, a, b)
    git(a, "config", "merge.wuye.driver", f"{shlex.quote(sys.executable)} -m wuye merge-driver %O %A %B %P")

    _pull(a)

    assert {"package", "main"} <= {x.name for x in marks.iterdir()}
    assert textwrap.dedent("ran") == (marks / "package").read_text()
