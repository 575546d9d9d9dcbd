"""`wuye staff add/list/revoke/key`: staff files, private keys outside the store, allowed_signers
that the real `ssh-keygen -Y verify` accepts, and the commits that record each change."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import git

needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")


def keys() -> Path:
    return Path(os.environ["WUYE_KEYS"])


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def ssh_keygen(*args: str, stdin: bytes = b"", cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(["ssh-keygen", *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=30)


def sign_and_verify(store, staff_id: str, key_file: Path, tmp_path: Path) -> bool:
    """Sign with ssh-keygen and `key_file`, verify against the store's allowed_signers as `staff_id`."""
    msg = tmp_path / "entry.json"
    msg.write_bytes(b'{"case":"MO-2026-0001"}')
    sig = Path(str(msg) + ".sig")
    sig.unlink(missing_ok=True)
    signed = ssh_keygen("-Y", "sign", "-f", str(key_file), "-n", "wuye-step", str(msg))
    assert signed.returncode == 0, signed.stderr
    verified = ssh_keygen("-Y", "verify", "-f", str(store.path("allowed_signers")), "-I", staff_id,
                          "-n", "wuye-step", "-s", str(sig), stdin=msg.read_bytes())
    return verified.returncode == 0


def staff_yaml(store, staff_id: str) -> dict:
    from wuye.storage import yamlio

    return yamlio.read(store.path(f"staff/{staff_id}.yaml"), staff_id)


# --- add -------------------------------------------------------------------------------------


def test_add_registers_a_member_with_a_new_key(store, run, git_log):
    before = len(git_log(store))
    r = run("staff", "add", "lina", "--name", "李娜", "--dept", "customer_service",
            "--email", "lina@baiyan.example", "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    assert str(keys() / "lina") in r.stderr

    # The private key: in WUYE_KEYS, mode 0600, its folder 0700; the public key beside it.
    private, public = keys() / "lina", keys() / "lina.pub"
    assert b"OPENSSH PRIVATE KEY" in private.read_bytes()
    assert mode(private) == 0o600 and mode(keys()) == 0o700
    public_line = public.read_text().strip()
    assert public_line.startswith("ssh-ed25519 ") and public_line.endswith(" lina@wuye")

    data = staff_yaml(store, "lina")
    assert data["id"] == "lina" and data["name"] == "李娜"
    assert data["departments"] == ["customer_service"]
    assert data["email"] == "lina@baiyan.example"
    (k,) = data["keys"]
    assert k["public_key"] == public_line
    assert k["valid_from"].endswith("+08:00") and "revoked_at" not in k

    blob = public_line.split()[1]
    lines = store.path("allowed_signers").read_text().splitlines()
    (line,) = [ln for ln in lines if ln.startswith("lina ")]
    assert line.startswith('lina namespaces="wuye-step,wuye-authority",valid-after="') and line.endswith(f"ssh-ed25519 {blob}")
    assert sum(1 for ln in lines if ln and not ln.startswith("#")) == 7  # six staff and lina

    # Never in the store: no file of the store or of its history holds a private key.
    tracked = git(store.root, "grep", "-l", "PRIVATE KEY", "HEAD", check=False)
    assert tracked == ""
    assert not any(b"PRIVATE KEY" in p.read_bytes() for p in store.root.rglob("*")
                   if p.is_file() and ".git" not in p.parts)

    log = git_log(store)
    assert len(log) == before + 1
    c = log[0]
    assert (c.author, c.email) == ("孙浩", "sunhao@wuye.invalid")
    assert c.subject == "staff lina: 登记员工 李娜（客服部）"
    assert c.trailers == {"Wuye-Staff": "lina", "Wuye-Actor": "sunhao"}
    # the new authority version, and the files it vouches for
    assert sorted(c.files) == ["allowed_signers", "authority/0007.yaml", "staff/lina.yaml"]
    assert git(store.root, "status", "--porcelain") == ""


def test_the_first_member_registers_themselves(run, tmp_path, git_log):
    """The first member of a store made without --manager founds its chain: a manager only."""
    target = tmp_path / "new"
    assert run("init", target, store=None).exit_code == 0
    r = run("staff", "add", "chenjing", "--name", "陈静", "--dept", "management", store=target)
    assert r.exit_code == 0, r.stderr
    c = git_log(target)[0]
    assert (c.author, c.email, c.committer) == ("陈静", "chenjing@wuye.invalid", "陈静")
    assert c.trailers == {"Wuye-Staff": "chenjing", "Wuye-Actor": "chenjing"}
    assert "authority/0001.yaml" in c.files


def test_wuye_user_is_the_actor_when_there_is_no_as(store, run, git_log, monkeypatch):
    monkeypatch.setenv("WUYE_USER", "sunhao")
    assert run("staff", "add", "lina", "--name", "李娜", "--dept", "leasing").exit_code == 0
    c = git_log(store)[0]
    assert c.author == "孙浩" and c.trailers["Wuye-Actor"] == "sunhao"


def test_several_departments_repeated_or_comma_separated(store, run):
    r = run("staff", "add", "lina", "--name", "李娜", "--dept", "customer_service,leasing", "--dept", "finance",
            "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    assert staff_yaml(store, "lina")["departments"] == ["customer_service", "leasing", "finance"]


@needs_ssh_keygen
def test_the_generated_key_signs_what_allowed_signers_accepts(store, tmp_path):
    assert sign_and_verify(store, "zhangwei", keys() / "zhangwei", tmp_path)
    # ... for its own principal only.
    assert not sign_and_verify(store, "liuyang", keys() / "zhangwei", tmp_path)


@needs_ssh_keygen
def test_add_adopts_a_key_made_by_ssh_keygen(store, run, tmp_path):
    own = tmp_path / "laptop" / "id_ed25519"
    own.parent.mkdir()
    made = ssh_keygen("-q", "-t", "ed25519", "-N", "", "-C", "lina@laptop", "-f", str(own))
    assert made.returncode == 0, made.stderr
    r = run("staff", "add", "lina", "--name", "李娜", "--dept", "finance", "--key", own, "--as", "sunhao")
    assert r.exit_code == 0, r.stderr

    pub = Path(str(own) + ".pub").read_text().strip()
    assert staff_yaml(store, "lina")["keys"][0]["public_key"] == pub
    assert (keys() / "lina").read_bytes() == own.read_bytes()  # the same key, now where wuye looks
    assert mode(keys() / "lina") == 0o600
    assert own.is_file()  # the original is left where it was
    assert sign_and_verify(store, "lina", own, tmp_path)


@needs_ssh_keygen
def test_add_adopts_a_public_key_only(store, run, tmp_path):
    own = tmp_path / "id_ed25519"
    assert ssh_keygen("-q", "-t", "ed25519", "-N", "", "-f", str(own)).returncode == 0
    only_pub = tmp_path / "lina.pub"
    only_pub.write_bytes(Path(str(own) + ".pub").read_bytes())
    r = run("staff", "add", "lina", "--name", "李娜", "--dept", "finance", "--key", only_pub, "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    assert staff_yaml(store, "lina")["keys"][0]["public_key"].split()[1] == only_pub.read_text().split()[1]
    assert not (keys() / "lina").exists()  # the private key stays on the laptop
    assert sign_and_verify(store, "lina", own, tmp_path)


@needs_ssh_keygen
def test_add_refuses_a_key_that_is_not_ed25519(store, run, snapshot, refused, tmp_path):
    other = tmp_path / "id_ecdsa"
    assert ssh_keygen("-q", "-t", "ecdsa", "-N", "", "-f", str(other)).returncode == 0
    before = snapshot(store, keys())
    refused(run("staff", "add", "lina", "--name", "李娜", "--dept", "finance", "--key", other, "--as", "sunhao"),
            "ed25519")
    assert snapshot(store, keys()) == before


def test_unknown_department_is_refused(store, run, snapshot, refused):
    before = snapshot(store, keys())
    refused(run("staff", "add", "lina", "--name", "李娜", "--dept", "kitchen", "--as", "sunhao"),
            "未知部门 kitchen", "customer_service")
    assert snapshot(store, keys()) == before


def test_a_second_registration_is_refused_and_the_first_key_kept(store, run, snapshot, refused):
    before = snapshot(store, keys())
    r = run("staff", "add", "zhangwei", "--name", "张伟", "--dept", "engineering", "--as", "sunhao")
    refused(r, "zhangwei 已登记", "staff/zhangwei.yaml")
    assert snapshot(store, keys()) == before


@pytest.mark.parametrize("bad", ["../x", "a/b", "王丽"])
def test_a_bad_staff_id_is_refused(store, run, snapshot, refused, bad):
    before = snapshot(store, keys())
    refused(run("staff", "add", bad, "--name", "某", "--dept", "finance", "--as", "sunhao"), "无效")
    assert snapshot(store, keys()) == before


def test_an_unknown_actor_is_refused(store, run, snapshot, refused):
    before = snapshot(store, keys())
    refused(run("staff", "add", "lina", "--name", "李娜", "--dept", "finance", "--as", "nobody"), "没有员工 nobody")
    assert snapshot(store, keys()) == before


def test_a_failed_commit_leaves_no_orphan_key(store, run, snapshot, refused):
    before = snapshot(store, keys())
    (store.root / ".git" / "index.lock").write_text("")
    try:
        refused(run("staff", "add", "lina", "--name", "李娜", "--dept", "finance", "--as", "sunhao"), "git")
    finally:
        (store.root / ".git" / "index.lock").unlink()
    assert snapshot(store, keys()) == before
    assert not (keys() / "lina").exists()


# --- list ------------------------------------------------------------------------------------


def test_list_shows_every_member_with_department_names(store, run):
    r = run("staff", "list")
    assert r.exit_code == 0, r.stderr
    for name, dept in (("王丽", "客服部"), ("张伟", "工程部"), ("刘洋", "财务部"), ("陈静", "保安部"),
                       ("赵敏", "租售部"), ("孙浩", "管理层")):
        assert name in r.stdout and dept in r.stdout


def test_list_json(store, run):
    r = run("staff", "list", "--json")
    assert r.exit_code == 0, r.stderr
    rows = {m["id"]: m for m in json.loads(r.stdout)}
    assert rows["zhangwei"]["departments"] == ["engineering"]
    assert rows["zhangwei"]["revoked_at"] is None
    assert rows["zhangwei"]["keys"][0]["public_key"] == (keys() / "zhangwei.pub").read_text().strip()


# --- revoke ----------------------------------------------------------------------------------


def test_revoke_ends_the_member_and_their_keys(store, run, git_log, refused, snapshot, tmp_path):
    r = run("staff", "revoke", "zhangwei", "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    data = staff_yaml(store, "zhangwei")
    assert data["revoked_at"].endswith("+08:00")
    assert all(k["revoked_at"] == data["revoked_at"] for k in data["keys"])

    c = git_log(store)[0]
    assert (c.author, c.email) == ("孙浩", "sunhao@wuye.invalid")
    assert c.subject == "staff zhangwei: 停用 张伟 并吊销其密钥"
    assert c.trailers == {"Wuye-Staff": "zhangwei", "Wuye-Actor": "sunhao"}
    assert sorted(c.files) == ["allowed_signers", "authority/0007.yaml", "staff/zhangwei.yaml"]

    listed = {m["id"]: m for m in json.loads(run("staff", "list", "--json").stdout)}
    assert listed["zhangwei"]["revoked_at"] == data["revoked_at"]

    # Revoked staff can no longer act.
    before = snapshot(store)
    refused(run("archive", "new", "T0042", "--name", "某公司", "--as", "zhangwei"), "zhangwei", "停用")
    refused(run("staff", "revoke", "liuyang", "--as", "zhangwei"), "停用")
    refused(run("staff", "key", "zhangwei", "--as", "sunhao"), "停用")
    refused(run("staff", "revoke", "zhangwei", "--as", "sunhao"), "已于")
    assert snapshot(store) == before


@needs_ssh_keygen
def test_a_revoked_key_no_longer_verifies(store, run, tmp_path):
    assert sign_and_verify(store, "zhangwei", keys() / "zhangwei", tmp_path)
    assert run("staff", "revoke", "zhangwei", "--as", "sunhao").exit_code == 0
    assert not sign_and_verify(store, "zhangwei", keys() / "zhangwei", tmp_path)


def test_revoke_needs_someone_to_act(store, run, snapshot, refused):
    before = snapshot(store)
    refused(run("staff", "revoke", "zhangwei"), "--as")
    assert snapshot(store) == before


def test_revoke_of_an_unknown_member_is_refused(store, run, snapshot, refused):
    before = snapshot(store)
    refused(run("staff", "revoke", "nobody", "--as", "sunhao"), "nobody")
    assert snapshot(store) == before


# --- key -------------------------------------------------------------------------------------


@needs_ssh_keygen
def test_key_rotation_deletes_the_old_key_and_ends_its_window(store, run, git_log, tmp_path):
    old_pub = (keys() / "wangli.pub").read_text().strip()
    old_private = (keys() / "wangli").read_bytes()
    r = run("staff", "key", "wangli", "--as", "sunhao")
    assert r.exit_code == 0, r.stderr

    # The retired key is gone, not kept aside: beside its successor it could still sign in its window.
    assert sorted(p.name for p in keys().iterdir() if p.name.startswith("wangli")) == ["wangli", "wangli.pub"]
    retired = tmp_path / "retired"
    retired.write_bytes(old_private)
    retired.chmod(0o600)
    new_pub = (keys() / "wangli.pub").read_text().strip()
    assert new_pub != old_pub and mode(keys() / "wangli") == 0o600

    ks = staff_yaml(store, "wangli")["keys"]
    assert [k["public_key"] for k in ks] == [old_pub, new_pub]
    assert "revoked_at" in ks[0] and "revoked_at" not in ks[1]
    assert ks[0]["revoked_at"] == ks[1]["valid_from"]

    c = git_log(store)[0]
    assert c.author == "孙浩" and c.trailers == {"Wuye-Staff": "wangli", "Wuye-Actor": "sunhao"}
    assert c.subject == "staff wangli: 为 王丽 发放新签名密钥"

    assert sign_and_verify(store, "wangli", keys() / "wangli", tmp_path)
    assert not sign_and_verify(store, "wangli", retired, tmp_path)
