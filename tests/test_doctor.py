"""`wuye doctor [--fix] [--json]`: each problem it diagnoses, what `--fix` does about it (only what
is safe, at most one commit of its own) and what it leaves for a person, with what to do; and the
keys: never inside the store, never adopted or used when others can read them, never committed.

Interrupted changes are made by killing the real `wuye` (see test_crash.py for every point).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess

from conftest import git, head
from test_crash import wuye
from test_moveout import plain_git

ADD = ["archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli"]


def findings(run, *extra, store):
    r = run("doctor", "--json", *extra, store=store)
    return r, json.loads(r.stdout)


def codes(data) -> list[str]:
    return sorted(f["code"] for f in data["findings"])


def test_a_healthy_store_is_in_good_order(tenant, run, snapshot):
    before = snapshot(tenant)
    r = run("doctor")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert "档案库完好" in r.stderr and r.stdout == ""
    r, data = findings(run, store=tenant)
    assert r.exit_code == 0 and data == {"ok": True, "done": [], "commits": [], "findings": []}
    r = run("doctor", "--fix")
    assert r.exit_code == 0
    assert snapshot(tenant) == before  # nothing to fix: nothing written, no commit


def test_doctor_is_listed_in_help(run):
    r = run("--help", store=None)
    assert "doctor" in r.stdout


def test_an_interrupted_change_is_named_with_its_author_then_finished_once(tenant, run, snapshot):
    base = head(tenant)
    assert wuye(tenant.root, *ADD, fault="journal").returncode == -signal.SIGKILL
    before = snapshot(tenant)
    r = run("doctor")
    assert r.exit_code == 1
    assert ".git/wuye/pending.json" in r.stdout and "王丽 <wangli@wuye.invalid>" in r.stdout
    assert "archive T0001: 客户联络资料 1 条" in r.stdout and "可以完成" in r.stdout
    assert "可用 `wuye doctor --fix` 修复" in r.stderr
    assert snapshot(tenant) == before  # diagnosing writes nothing
    _, data = findings(run, store=tenant)
    journal = next(f for f in data["findings"] if f["code"] == "doctor.journal")
    assert journal["fixable"] and journal["details"]["files"] == {"tenants/T0001/contacts.yaml": "staged"}
    assert journal["details"]["author"] == {"name": "王丽", "email": "wangli@wuye.invalid"}

    r = run("doctor", "--fix")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert "完成了被中断的修改「archive T0001: 客户联络资料 1 条」" in r.stderr and "档案库完好" in r.stderr
    log = git(tenant.root, "log", "--format=%an|%s|%(trailers:key=Wuye-Entry,valueonly)", f"{base}..HEAD").split("\n")
    assert [line for line in log if line] == ["王丽|archive T0001: 客户联络资料 1 条|CON-0001"]
    assert git(tenant.root, "status", "--porcelain", "-uall") == ""
    assert not (tenant.root / ".git/wuye/pending.json").exists()
    assert run("verify").exit_code == 0


def test_an_interrupted_change_whose_file_was_edited_since_is_left_for_a_person(tenant, run):
    assert wuye(tenant.root, *ADD, fault="published:tenants/T0001/contacts.yaml").returncode == -signal.SIGKILL
    contacts = tenant.path("tenants/T0001/contacts.yaml")
    contacts.write_text(contacts.read_text(encoding="utf-8") + "# 手工加的注释\n", encoding="utf-8")
    r = run("archive", "add", "T0001", "supplement", "--set", "note=x", "--as", "wangli")
    assert r.exit_code == 1 and "wuye doctor" in r.stderr and "tenants/T0001/contacts.yaml" in r.stderr
    base = head(tenant)
    r = run("doctor", "--fix")
    assert r.exit_code == 1
    assert "此后又被改动，无法完成" in r.stdout and "git diff" in r.stdout
    assert head(tenant) == base and (tenant.root / ".git/wuye/pending.json").is_file()
    assert contacts.read_text(encoding="utf-8").endswith("# 手工加的注释\n")


def test_a_damaged_journal_is_set_aside_not_deleted(tenant, run, refused):
    journal = tenant.root / ".git/wuye/pending.json"
    journal.parent.mkdir(exist_ok=True)
    journal.write_text("{not json", encoding="utf-8")
    refused(run("archive", "add", "T0001", "supplement", "--set", "note=x", "--as", "wangli"), "已损坏", "wuye doctor")
    _, data = findings(run, store=tenant)
    assert codes(data) == ["doctor.journal-damaged"]
    r = run("doctor", "--fix")
    assert r.exit_code == 0, r.stdout
    aside = [p for p in journal.parent.iterdir() if p.name.startswith("pending.damaged-")]
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == "{not json"
    assert run("archive", "add", "T0001", "supplement", "--set", "note=x", "--as", "wangli").exit_code == 0


def test_a_stale_index_lock_is_removed_and_commits_work_again(tenant, run, refused, snapshot):
    lock = tenant.root / ".git/index.lock"
    lock.write_bytes(b"")
    refused(run("archive", "add", "T0001", "supplement", "--set", "note=x", "--as", "wangli"),
            "index.lock", "wuye doctor --fix")
    _, data = findings(run, store=tenant)
    assert codes(data) == ["doctor.git-lock"] and data["findings"][0]["path"] == ".git/index.lock"
    before = snapshot(tenant)
    r = run("doctor", "--fix")
    assert r.exit_code == 0 and "删除了残留的锁文件 .git/index.lock" in r.stderr
    assert not lock.exists() and snapshot(tenant) == before  # no commit for this
    assert run("archive", "add", "T0001", "supplement", "--set", "note=x", "--as", "wangli").exit_code == 0


def test_a_failed_background_packing_is_reported_then_packed_again(tenant, run, snapshot):
    # git leaves gc.log when a background gc fails, and packs no more until it is gone.
    log = tenant.root / ".git" / "gc.log"
    log.write_text("error: failed to run repack\n", encoding="utf-8")
    r, data = findings(run, store=tenant)
    assert r.exit_code == 0  # a warning: nothing is wrong with the archive itself
    (f,) = data["findings"]
    assert (f["code"], f["path"], f["level"], f["fixable"]) == ("doctor.packing", ".git/gc.log", "warning", True)
    assert "failed to run repack" in f["message"]
    before = snapshot(tenant)
    assert not list((tenant.root / ".git" / "objects" / "pack").glob("*.pack"))
    r = run("doctor", "--fix")
    assert r.exit_code == 0 and "重新整理（打包）了档案库的 git 对象" in r.stderr, r.stderr
    assert not log.exists() and list((tenant.root / ".git" / "objects" / "pack").glob("*.pack"))
    assert snapshot(tenant) == before  # the same commits and files, only stored packed
    git(tenant.root, "fsck", "--strict", "--no-dangling")
    assert run("doctor").exit_code == 0 and findings(run, store=tenant)[1]["findings"] == []


def test_a_lock_held_by_a_live_git_process_is_left_alone(tenant, run):
    lock = tenant.root / ".git/index.lock"
    lock.write_bytes(b"")
    live = subprocess.Popen(["git", "cat-file", "--batch"], cwd=tenant.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        r, data = findings(run, "--fix", store=tenant)
        busy = [f for f in data["findings"] if f["code"] == "doctor.git-lock-busy"]
        assert busy and str(live.pid) in busy[0]["message"] and busy[0]["level"] == "warning"
        assert lock.exists()
    finally:
        live.kill()
        live.wait()
    r = run("doctor", "--fix")
    assert r.exit_code == 0 and not lock.exists()


def test_temp_files_and_staged_leftovers_are_removed_without_a_commit(tenant, run):
    beside = tenant.root / "tenants/T0001/.contacts.yaml.wuye-tmp-4242"
    beside.write_text("entries: []\n")
    staging = tenant.root / ".git/wuye/staging"
    staging.mkdir(parents=True, exist_ok=True)
    (staging / "0-contacts.yaml.wuye-tmp-4242").write_text("x")
    base = head(tenant)
    r = run("doctor")
    assert r.exit_code == 1 and "tenants/T0001/.contacts.yaml.wuye-tmp-4242" in r.stdout and ".git/wuye/staging/" in r.stdout
    r = run("doctor", "--fix")
    assert r.exit_code == 0 and "删除了 2 个临时文件" in r.stderr
    assert not beside.exists() and list(staging.iterdir()) == [] and head(tenant) == base


def test_uncommitted_files_say_whose_they_look_and_whether_they_could_be_committed(tenant, run):
    profile = tenant.path("tenants/T0001/profile.yaml")
    profile.write_text(profile.read_text(encoding="utf-8") + "industry: 软件\n", encoding="utf-8")
    (tenant.root / "tenants/T0001/contacts.yaml").write_text("entries:\n  - id: CON-0001\n    name: 李明\n    phone: 13812345678\n",
                                                             encoding="utf-8")
    (tenant.root / "notes.txt").write_text("随手记\n", encoding="utf-8")
    base = head(tenant)
    r, data = findings(run, "--fix", store=tenant)
    assert r.exit_code == 1 and head(tenant) == base  # hand edits are never committed by doctor
    by_path = {f["path"]: f for f in data["findings"] if f["code"] == "doctor.uncommitted"}
    assert set(by_path) == {"tenants/T0001/profile.yaml", "tenants/T0001/contacts.yaml", "notes.txt"}
    valid = by_path["tenants/T0001/profile.yaml"]
    assert "已改动但未提交" in valid["message"] and "可以原样提交" in valid["message"] and not valid["fixable"]
    assert valid["details"]["owner"] and valid["details"]["modified"] and valid["details"]["problems"] == []
    bad = by_path["tenants/T0001/contacts.yaml"]
    assert "未跟踪的新文件" in bad["message"] and "不能原样提交" in bad["message"]
    assert "tenants/T0001/contacts.yaml:4:5: entries.0.phone: 应为文本" in bad["message"]
    assert "不是档案库中应有的文件" in by_path["notes.txt"]["message"]
    # verify's own finding for the invalid file is reported too, with its line and verify's code
    invalid = [f for f in data["findings"] if f["code"] == "schema.invalid"]
    assert [(f["path"], f["line"]) for f in invalid] == [("tenants/T0001/contacts.yaml", 4)]


def test_a_detached_head_is_reattached_when_no_commit_can_be_lost(tenant, run):
    root = tenant.root
    tip = head(tenant)
    git(root, "checkout", "-q", "--detach")
    plain_git(root, "commit", "-q", "--allow-empty", "-m", "在游离状态下的提交")
    detached = head(tenant)
    r = run("doctor")
    assert r.exit_code == 1 and "HEAD 游离" in r.stdout and "main" in r.stdout
    r = run("doctor", "--fix")
    assert r.exit_code == 0, r.stdout
    assert git(root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert head(tenant) == detached and git(root, "rev-parse", "HEAD~1").strip() == tip


def test_a_detached_head_off_a_diverged_branch_is_left_for_a_person(tenant, run):
    root = tenant.root
    git(root, "checkout", "-q", "--detach", "HEAD~1")
    plain_git(root, "commit", "-q", "--allow-empty", "-m", "别处的提交")
    detached = head(tenant)
    r = run("doctor", "--fix")
    assert r.exit_code == 1 and "git branch rescue-" in r.stdout
    assert head(tenant) == detached and git(root, "rev-parse", "--abbrev-ref", "HEAD").strip() == "HEAD"


def test_a_committed_invalid_file_is_reported_with_its_line(tenant, run):
    profile = tenant.path("tenants/T0001/profile.yaml")
    profile.write_text(profile.read_text(encoding="utf-8").replace("status: active", "status: 已退租"), encoding="utf-8")
    plain_git(tenant.root, "commit", "-qam", "手工改状态")
    r, data = findings(run, "--fix", store=tenant)
    assert r.exit_code == 1
    invalid = [f for f in data["findings"] if f["code"] == "schema.invalid"]
    assert len(invalid) == 1 and invalid[0]["path"] == "tenants/T0001/profile.yaml" and invalid[0]["line"]
    assert "status" in invalid[0]["message"] and not invalid[0]["fixable"]


def test_an_outdated_allowed_signers_is_regenerated_in_one_commit_by_the_actor(tenant, run, git_log):
    root = tenant.root
    signers = root / "allowed_signers"
    expected = signers.read_text(encoding="utf-8")
    signers.write_text("\n".join(line for line in expected.splitlines() if not line.startswith("zhangwei ")) + "\n",
                       encoding="utf-8")
    plain_git(root, "commit", "-qam", "删了一行")
    # plus things --fix repairs without a commit: a temp file and a loose key
    (root / "units/.1205.yaml.wuye-tmp-1").write_text("x")
    from wuye.trust.signing import private_key_path

    private = private_key_path("zhangwei")
    private.chmod(0o644)
    before = len(git_log(tenant))
    r, data = findings(run, "--fix", "--as", "sunhao", store=tenant)
    # Everything is put right but the key others could read: that takes a new key (item 6).
    assert r.exit_code == 1 and codes(data) == ["doctor.key-exposed"], data
    assert len(data["commits"]) == 1
    log = git_log(tenant)
    assert len(log) == before + 1
    c = log[0]
    assert c.subject == "doctor: 根据 staff/ 重新生成 allowed_signers" and c.author == "孙浩"
    assert c.files == ["allowed_signers"] and c.trailers == {"Wuye-Doctor": "allowed_signers", "Wuye-Actor": "sunhao"}
    assert signers.read_text(encoding="utf-8") == expected
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert not (root / "units/.1205.yaml.wuye-tmp-1").exists()
    assert any("600" in d for d in data["done"]) and any("临时文件" in d for d in data["done"])
    assert run("verify").exit_code == 0


def test_loose_key_folder_and_key_modes_are_tightened(store, run):
    from wuye.trust.signing import keys_dir, private_key_path

    keys_dir().chmod(0o755)
    r = run("doctor")
    assert r.exit_code == 1 and "755" in r.stdout
    r = run("doctor", "--fix")
    assert r.exit_code == 0, r.stdout  # a folder others could list, but no key they could read
    assert stat.S_IMODE(keys_dir().stat().st_mode) == 0o700
    private_key_path("wangli").chmod(0o640)
    r, data = findings(run, "--fix", store=store)
    assert stat.S_IMODE(private_key_path("wangli").stat().st_mode) == 0o600
    assert r.exit_code == 1 and codes(data) == ["doctor.key-exposed"]  # tightened, still reported


def test_private_keys_in_the_store_or_committed_are_reported_not_fixed(tenant, run):
    from wuye.trust.signing import private_key_path

    root = tenant.root
    shutil.copy(private_key_path("wangli"), root / "wangli.key")
    r, data = findings(run, store=tenant)
    assert "doctor.private-key" in codes(data)
    plain_git(root, "add", "wangli.key")
    plain_git(root, "commit", "-qm", "误提交了私钥")
    r, data = findings(run, "--fix", store=tenant)
    assert r.exit_code == 1
    committed = [f for f in data["findings"] if f["code"] == "doctor.private-key-committed"]
    assert committed and committed[0]["path"] == "wangli.key" and "wuye staff key" in committed[0]["advice"]
    assert (root / "wangli.key").exists()


# --- keys (issue item 5) ---------------------------------------------------------------------


def test_a_key_folder_inside_the_store_is_refused(store, run, snapshot, refused, monkeypatch):
    monkeypatch.setenv("WUYE_KEYS", str(store.root / "keys"))
    before = snapshot(store)
    refused(run("staff", "add", "lisi", "--name", "李四", "--dept", "finance", "--as", "sunhao"), "在档案库之内", "WUYE_KEYS")
    refused(run("staff", "key", "wangli", "--as", "sunhao"), "在档案库之内")
    assert snapshot(store) == before and not (store.root / "keys").exists()


def test_a_private_key_others_can_read_is_not_adopted(store, run, snapshot, refused, tmp_path):
    key = tmp_path / "mykey"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    key.chmod(0o644)
    before = snapshot(store, os.environ["WUYE_KEYS"])
    refused(run("staff", "add", "lisi", "--name", "李四", "--dept", "finance", "--key", key, "--as", "sunhao"),
            "644", f"chmod 600 {key}")
    assert snapshot(store, os.environ["WUYE_KEYS"]) == before
    key.chmod(0o600)
    assert run("staff", "add", "lisi", "--name", "李四", "--dept", "finance", "--key", key, "--as", "sunhao").exit_code == 0


def test_signing_with_a_key_others_can_read_is_refused(tenant, run, snapshot, refused):
    from wuye.trust.signing import private_key_path

    private_key_path("zhaomin").chmod(0o644)
    before = snapshot(tenant)
    refused(run("moveout", "start", "T0001", "--date", "2026-12-31", "--as", "zhaomin"), "644", "chmod 600")
    assert snapshot(tenant) == before


def test_no_private_key_is_ever_committed(tenant, run, tmp_path):
    """A whole move-out, a key rotation and a revocation: grep every blob of the whole history."""
    from test_moveout import MoveOut

    mo = MoveOut(run, tenant, tmp_path)
    mo.walk()
    assert run("staff", "key", "zhangwei", "--as", "sunhao").exit_code == 0
    assert run("staff", "revoke", "chenjing", "--as", "sunhao").exit_code == 0
    root = tenant.root
    objects = git(root, "rev-list", "--all", "--objects").split("\n")
    blobs = [line.split()[0] for line in objects if line.strip()]
    batch = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input=("\n".join(blobs) + "\n").encode(),
                           capture_output=True, check=True).stdout
    assert b"PRIVATE KEY" not in batch
    assert b"ssh-ed25519 " in batch  # the grep does see the public keys, so it looked in the right place
    assert len(git(root, "rev-list", "HEAD").split()) > 10


def test_a_rewritten_history_is_taken_back_to_the_verified_commit_and_the_rewrite_kept(tenant, run):
    root = tenant.root
    assert run("verify").exit_code == 0
    verified = head(tenant)
    plain_git(root, "commit", "-q", "--amend", "-m", "改写过的说明")
    rewritten = head(tenant)
    r, data = findings(run, store=tenant)
    assert r.exit_code == 1
    (f,) = [f for f in data["findings"] if f["code"] == "history.head-rewritten"]
    # No file to correct: the advice names the branch that keeps the rewrite and the commit to go back to.
    assert f["path"] == ".git" and f["fixable"] and "修正该文件" not in f["advice"]
    assert f"rewritten-{rewritten[:7]}" in f["advice"] and verified[:10] in f["advice"]
    r = run("doctor", "--fix")
    assert r.exit_code == 0, r.stdout
    assert head(tenant) == verified
    assert git(root, "rev-parse", f"refs/heads/rewritten-{rewritten[:7]}").strip() == rewritten
    assert git(root, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert run("verify").exit_code == 0


def test_a_rewritten_history_with_uncommitted_changes_is_left_for_a_person(tenant, run):
    root = tenant.root
    assert run("verify").exit_code == 0
    plain_git(root, "commit", "-q", "--amend", "-m", "改写过的说明")
    rewritten = head(tenant)
    profile = tenant.path("tenants/T0001/profile.yaml")
    edited = profile.read_text(encoding="utf-8") + "# 未提交的备注\n"
    profile.write_text(edited, encoding="utf-8")
    r = run("doctor", "--fix")
    assert r.exit_code == 1 and "git reset --hard" in r.stdout and "先提交或放弃" in r.stdout
    assert head(tenant) == rewritten and profile.read_text(encoding="utf-8") == edited


def test_an_unpinned_root_is_advised_to_be_checked_and_pinned_not_corrected(tenant, run):
    # A clone pins no root: the advice is the phone call to the office, not a file to correct.
    clone = tenant.root.parent / "clone"
    subprocess.run(["git", "clone", "-q", str(tenant.root), str(clone)], check=True)
    r = run("doctor", "--json", store=clone)
    data = json.loads(r.stdout)
    (f,) = [f for f in data["findings"] if f["code"] == "authority.root-unpinned"]
    assert "核实指纹" in f["advice"] and "修正该文件" not in f["advice"]
