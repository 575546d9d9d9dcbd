"""The store: `wuye init`, finding a store, and what every write guarantees (one commit, only its
own files, nothing on refusal, files put back when git fails)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import BUILDING, MANAGER, STAFF, git, head

from wuye.storage.store import Store


# --- init ------------------------------------------------------------------------------------


def test_init_creates_a_git_store_on_main_with_one_commit(run, tmp_path, git_log):
    target = tmp_path / "b1"
    r = run("init", target, "--name", BUILDING)
    assert r.exit_code == 0, r.stderr
    assert "已新建档案库" in r.stderr and r.stdout == ""

    assert (target / ".git").is_dir()
    for rel in ("wuye.yaml", "workflows/moveout.yaml", ".gitignore",
                "staff/.gitkeep", "units/.gitkeep", "tenants/.gitkeep"):
        assert (target / rel).is_file(), rel
    assert Store(target).config.building.name == BUILDING
    assert "# " in (target / "wuye.yaml").read_text(encoding="utf-8")  # the commented template
    assert "engineering_inspection" in (target / "workflows/moveout.yaml").read_text(encoding="utf-8")

    assert git(target, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    log = git_log(target)
    assert len(log) == 1
    (c,) = log
    assert (c.author, c.email) == ("wuye", "wuye@wuye.invalid")
    assert (c.committer, c.committer_email) == ("wuye", "wuye@wuye.invalid")
    assert c.subject == f"init: 新建档案库 {BUILDING}"
    assert c.trailers == {"Wuye-Building": BUILDING}
    assert git(target, "status", "--porcelain", "--untracked-files=all") == ""
    # Local settings that keep commits independent of any global git config.
    assert git(target, "config", "--local", "commit.gpgSign").strip() == "false"


def test_init_names_the_building_after_the_folder_by_default(run, tmp_path):
    r = run("init", tmp_path / "国贸三期")
    assert r.exit_code == 0, r.stderr
    assert Store(tmp_path / "国贸三期").config.building.name == "国贸三期"


def test_init_accepts_an_existing_empty_folder(run, tmp_path):
    (tmp_path / "empty").mkdir()
    assert run("init", tmp_path / "empty").exit_code == 0
    assert (tmp_path / "empty" / "wuye.yaml").is_file()


def test_init_refuses_a_folder_that_holds_files(run, tmp_path, snapshot, refused):
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("不要动我\n", encoding="utf-8")
    before = snapshot(target)
    refused(run("init", target), "不是空目录")
    assert snapshot(target) == before
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]  # no .git left behind


def test_init_refuses_a_file(run, tmp_path, refused):
    (tmp_path / "f").write_text("x")
    refused(run("init", tmp_path / "f"), "f")
    assert (tmp_path / "f").read_text() == "x"


def test_init_via_the_library_gives_a_store(tmp_path):
    from wuye.admin.create import init_store

    s = init_store(tmp_path / "lib", "图书馆大厦")
    assert s.config.building.name == "图书馆大厦"
    assert s.tenant_ids() == []


# --- finding the store -----------------------------------------------------------------------


def test_the_store_fixture_has_six_staff_each_registered_in_their_own_commit(store, git_log):
    assert sorted(p.stem for p in store.path("staff").glob("*.yaml")) == sorted(s for s, _, _ in STAFF)
    log = git_log(store)
    # The fixture's last commit turns the notice-period check off for the suite's fixed dates.
    settings = [c for c in log if c.subject == "settings: no notice period for fixed test dates"]
    assert len(settings) == 1 and settings[0].files == ["wuye.yaml"]
    log = [c for c in log if c not in settings]
    # the founding manager in the first commit (the authority root), then one commit each
    assert len(log) == len(STAFF)
    assert [c.trailers["Wuye-Staff"] for c in reversed(log[:-1])] == [s for s, _, _ in STAFF if s != MANAGER]
    assert "staff/sunhao.yaml" in log[-1].files and "authority/0001.yaml" in log[-1].files


def test_store_found_by_option(store, run):
    r = run("staff", "list", "--json")
    assert r.exit_code == 0, r.stderr
    assert {m["id"] for m in json.loads(r.stdout)} == {s for s, _, _ in STAFF}


def test_store_found_by_wuye_store(store, run, monkeypatch):
    monkeypatch.setenv("WUYE_STORE", str(store.root))
    r = run("staff", "list", "--json", store=None)
    assert r.exit_code == 0, r.stderr
    assert "wangli" in r.stdout


def test_option_wins_over_wuye_store(store, run, monkeypatch, tmp_path):
    monkeypatch.setenv("WUYE_STORE", str(tmp_path / "nowhere"))
    assert run("staff", "list").exit_code == 0


def test_store_found_from_a_folder_inside_it(store, run, monkeypatch):
    monkeypatch.chdir(store.path("tenants"))
    r = run("staff", "list", "--json", store=None)
    assert r.exit_code == 0, r.stderr
    assert "zhangwei" in r.stdout


def test_outside_any_store_says_to_run_wuye_init(run, refused, tmp_path, monkeypatch):
    (tmp_path / "somewhere").mkdir()
    monkeypatch.chdir(tmp_path / "somewhere")
    refused(run("staff", "list", store=None), "wuye init")
    refused(run("archive", "show", "T0001", store=None), "wuye init")


def test_store_option_naming_no_store_is_refused(run, refused, tmp_path):
    refused(run("archive", "list", store=tmp_path / "missing"), "wuye.yaml", "wuye init")


def test_wuye_store_naming_no_store_is_refused(run, refused, tmp_path, monkeypatch):
    monkeypatch.setenv("WUYE_STORE", str(tmp_path))
    refused(run("archive", "list", store=None), "wuye.yaml")


def test_english_messages_with_wuye_lang(run, refused, tmp_path, monkeypatch):
    monkeypatch.setenv("WUYE_LANG", "en")
    r = run("staff", "list", store=None)
    refused(r, "error: not inside a wuye store", "wuye init")
    assert "档案库" not in r.stderr


# --- usage errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("archive", "add", "T0001"),            # missing argument
    ("archive", "bogus"),                   # no such command
    ("archive", "show", "T0001", "--nope"),  # no such option
    ("log", "-n", "many"),                  # not an integer
])
def test_usage_errors_exit_2(store, run, snapshot, args):
    before = snapshot(store)
    r = run(*args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert "Usage" in r.stderr or "用法" in r.stderr
    assert snapshot(store) == before


def test_help_documents_the_exit_codes(run):
    r = run("--help", store=None)
    assert r.exit_code == 0
    assert "退出码" in r.stdout and "2" in r.stdout


# --- what every write guarantees -------------------------------------------------------------


def test_a_change_commits_only_its_own_files(tenant, run, git_log):
    # Unrelated work in the tree, staged and unstaged, is neither committed nor lost.
    (tenant.root / "notes.txt").write_text("草稿\n", encoding="utf-8")
    cfg = tenant.path("wuye.yaml")
    cfg.write_text(cfg.read_text(encoding="utf-8") + "# 手工修改\n", encoding="utf-8")
    git(tenant.root, "add", "wuye.yaml")
    r = run("archive", "add", "T0001", "supplement", "--set", "note=补充营业执照副本", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert git_log(tenant)[0].files == ["tenants/T0001/supplement.yaml"]
    status = git(tenant.root, "status", "--porcelain")
    assert "M  wuye.yaml" in status and "?? notes.txt" in status


def test_nothing_changed_means_no_commit(store):
    before = head(store)
    with store.change("nothing", trailers={}) as ch:
        ch.write("wuye.yaml", store.path("wuye.yaml").read_bytes())
    assert ch.commit is None
    assert head(store) == before


def test_a_failed_commit_puts_the_files_back(tenant, run, snapshot, refused):
    before = snapshot(tenant)
    lock = tenant.root / ".git" / "index.lock"
    lock.write_text("")  # another git process, as far as git knows
    r = run("archive", "add", "T0001", "supplement", "--set", "note=补充", "--as", "wangli")
    refused(r, "git")
    lock.unlink()
    assert snapshot(tenant) == before
    assert not tenant.path("tenants/T0001/supplement.yaml").exists()


def test_a_second_writer_waits_then_is_told_to_retry(tenant, run, snapshot, refused, monkeypatch):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from filelock import FileLock
            with FileLock({str(tenant.root / '.git' / 'wuye.lock')!r}):
                print("locked", flush=True)
                time.sleep(30)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setenv("WUYE_LOCK_TIMEOUT", "0.2")
        before = snapshot(tenant)
        refused(run("archive", "add", "T0001", "supplement", "--set", "note=x", "--as", "wangli"), "稍后重试")
        assert snapshot(tenant) == before
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".hidden", "x" * 65, "租户"])
def test_ids_that_could_escape_their_folder_are_refused(store, bad):
    from wuye.errors import WuyeError

    with pytest.raises(WuyeError, match="无效"):
        store.tenant_rel(bad, "profile.yaml")


def _hostile_config(tmp_path, hooks: dict[str, str]):
    """A global git config that names someone else, signs with a failing program and runs `hooks`."""
    d = tmp_path / "hooks"
    d.mkdir()
    for hook, body in hooks.items():
        (d / hook).write_text("#!/bin/sh\n" + body + "\n")
        (d / hook).chmod(0o755)
    cfg = tmp_path / "gitconfig"
    cfg.write_text(textwrap.dedent(f"""\
        [user]
            name = Intruder
            email = intruder@example.com
        [commit]
            gpgSign = true
        [gpg]
            program = false
        [core]
            hooksPath = {d}
        [init]
            defaultBranch = master
    """))
    return cfg


def _three_commits(run, target):
    assert run("init", target, store=None).exit_code == 0
    r = run("staff", "add", "sunhao", "--name", "孙浩", "--dept", "management", store=target)
    assert r.exit_code == 0, r.stderr
    r = run("archive", "new", "T0001", "--name", "柏彦科技", "--as", "sunhao", store=target)
    assert r.exit_code == 0, r.stderr


def test_a_hostile_global_git_config_changes_nothing(tmp_path, run, git_log, monkeypatch):
    # A machine whose git would sign, run hooks and name someone else: wuye's commits are still
    # authored by the acting staff member, unsigned, with the message it wrote.
    cfg = _hostile_config(tmp_path, {"pre-commit": "exit 1", "commit-msg": "exit 1"})
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    target = tmp_path / "s"
    _three_commits(run, target)
    assert git(target, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    log = git_log(target)
    assert [(c.author, c.committer) for c in log] == [("孙浩", "孙浩"), ("孙浩", "孙浩"), ("wuye", "wuye")]
    assert "Intruder" not in git(target, "log", "--format=%an %ae %cn %ce %B")
    assert log[0].subject == "archive T0001: 新建档案 柏彦科技"
    assert git(target, "log", "--format=%G?", "-1").strip() == "N"  # not signed


def test_a_global_prepare_commit_msg_hook_neither_breaks_nor_rewrites_commits(tmp_path, run, git_log, monkeypatch):
    cfg = _hostile_config(tmp_path, {"prepare-commit-msg": 'echo "[JIRA-1] $(cat "$1")" > "$1"'})
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    target = tmp_path / "s"
    _three_commits(run, target)
    assert [c.subject for c in git_log(target)][-1] == "init: 新建档案库 s"


# --- packing ----------------------------------------------------------------------------------


def _loose_in_17(root) -> int:
    d = root / ".git" / "objects" / "17"
    return sum(1 for p in d.iterdir() if len(p.name) == 38) if d.is_dir() else 0


def test_loose_objects_are_packed_once_enough_pile_up(tenant, run):
    import hashlib
    import time

    root = tenant.root
    assert git(root, "config", "gc.auto").strip() == "0"  # no git command packs on its own
    # 40 committed files whose blobs all fall in the fan-out folder git (and wuye) count from:
    # as many loose objects as 10,000 spread evenly, past the 6,700 at which git packs.
    texts, n = [], 0
    while len(texts) < 40:
        body = f"scan {n}\n".encode()
        if hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest().startswith("17"):
            texts.append(body)
        n += 1
    for i, body in enumerate(texts):
        (root / "tenants" / "T0001" / "attachments").mkdir(exist_ok=True)
        (root / "tenants" / "T0001" / "attachments" / f"scan{i}.txt").write_bytes(body)
    git(root, "add", "tenants/T0001/attachments")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "scans")
    assert _loose_in_17(root) >= 40 and not list((root / ".git" / "objects" / "pack").glob("*.pack"))

    before = head(tenant)
    r = run("archive", "add", "T0001", "supplement", "--set", "note=补充说明", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    # git packs in the background; wait for it (a slow machine: up to a minute).
    deadline = time.monotonic() + 60
    while (_loose_in_17(root) or (root / ".git" / "gc.pid").exists()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _loose_in_17(root) == 0
    assert list((root / ".git" / "objects" / "pack").glob("*.pack"))
    git(root, "fsck", "--strict", "--no-dangling")
    assert git(root, "rev-parse", "HEAD~1").strip() == before  # the write itself as usual, on top
    assert git(root, "show", "HEAD:tenants/T0001/attachments/scan0.txt") == texts[0].decode()


def test_a_few_writes_do_not_run_git_gc(tenant, run):
    for i in range(3):
        assert run("archive", "add", "T0001", "supplement", "--set", f"note=第{i}条", "--as", "wangli").exit_code == 0
    assert not list((tenant.root / ".git" / "objects" / "pack").glob("*.pack"))
    assert not (tenant.root / ".git" / "gc.pid").exists() and not (tenant.root / ".git" / "gc.log").exists()
