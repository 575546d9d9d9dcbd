"""Offices syncing through a real git server: OpenSSH's sshd on 127.0.0.1 (tests/gitserver.py).

Two set-ups, as an office's IT would make them (README, "Central repository on a Debian server"):
the central repository of `wuye remote init-central` served through `git-shell`, one key per
office in authorized_keys; and gitolite, with per-office rights (two offices read and write, one
only reads) and wuye's hooks installed in the repository it manages. Through both: `wuye sync`
over ssh:// between three offices, each with its own key, checking the central's push receipts;
a forged entry pushed with plain git refused by wuye's pre-receive hook, its words reaching the
pusher; an office without write rights refused by gitolite; a key the server does not know
refused by sshd, and a known one given no shell.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import git
from gitserver import INSTALL, fingerprint, git_shell_line, keypair, public, require, start_sshd
from test_moveout import MoveOut, plain_git
from wuye.storage.store import Store

OFFICES = ("office-a", "office-b", "office-c")


class Net:
    """Three offices and one central repository behind sshd. Office a is the `tenant` store."""

    def __init__(self, run, store, tmp_path: Path, server, central_path: str, key: str, keys: dict[str, Path]):
        self.run, self.tmp, self.server, self.keys, self.key = run, tmp_path, server, keys, key
        self.url = server.url(central_path)
        self.a = Path(store.root)
        git(self.a, "config", "core.sshCommand", server.ssh_command(keys["office-a"]))
        self.ok(run("remote", "add", "origin", self.url, "--central", key, "--as", "wangli", store=self.a))

    @staticmethod
    def ok(result):
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def clone(self, name: str, office: str) -> Path:
        path = self.tmp / name
        ssh = self.server.ssh_command(self.keys[office])
        git(self.tmp, "-c", f"core.sshCommand={ssh}", "clone", "-q", "--config", f"core.sshCommand={ssh}", self.url, str(path))
        self.ok(self.run("remote", "add", "origin", self.url, "--central", self.key, store=path))
        return path

    def sync(self, where: Path, as_: str = "wangli"):
        return self.run("sync", "--as", as_, store=where)

    def do(self, where: Path, *args):
        return self.ok(self.run(*args, store=where))

    def contact(self, where: Path, name: str):
        return self.do(where, "archive", "add", "T0001", "contacts", "--set", f"name={name}", "--set", "phone=13812345678",
                       "--as", "wangli")

    def push(self, where: Path) -> subprocess.CompletedProcess:
        """A plain `git push`, as anyone at the office could make it (the office's ssh key, no wuye)."""
        return subprocess.run(["git", "push", "origin", "main"], cwd=where, capture_output=True, text=True)

    def verify(self, where: Path) -> None:
        r = self.run("verify", store=where)
        assert r.exit_code == 0, r.stdout + r.stderr


def _office_keys(tmp_path: Path) -> dict[str, Path]:
    return {name: keypair(tmp_path / "office-keys", name) for name in OFFICES}


# --- the central repository behind git-shell -----------------------------------------------


@pytest.fixture
def ssh_net(run, tenant, tmp_path):
    srv = tmp_path / "server"
    central = srv / "central.git"
    Net.ok(run("remote", "init-central", central, store=None))
    key = run("remote", "init-central", "--show-key", central, store=None).stdout.strip()
    keys = _office_keys(tmp_path)
    authorized = srv / "authorized_keys"
    authorized.write_text("".join(git_shell_line(k) + "\n" for k in keys.values()))
    server = start_sshd(srv / "sshd", authorized, home=srv / "home")
    try:
        yield Net(run, tenant, tmp_path, server, str(central.resolve()), key, keys)
    finally:
        server.stop()
    assert server.process is None


@pytest.mark.slow  # three offices, five syncs over ssh: 6-10 s
def test_three_offices_sync_over_ssh_each_with_its_own_key(ssh_net):
    net = ssh_net
    a = net.a
    net.ok(net.sync(a))
    b = net.clone("b", "office-b")
    c = net.clone("c", "office-c")
    net.contact(b, "李明")
    net.ok(net.sync(b))
    net.do(a, "archive", "add", "T0001", "contacts", "--set", "name=王芳", "--set", "phone=13912345678", "--as", "wangli")
    r = net.ok(net.sync(a))  # both moved: a merge, pushed over ssh
    assert "合并" in r.stderr
    net.ok(net.sync(c))
    net.ok(net.sync(b))
    heads = {git(w, "rev-parse", "HEAD").strip() for w in (a, b, c)}
    assert len(heads) == 1
    for where in (a, b, c):
        net.verify(where)
        assert git(where, "rev-parse", "refs/wuye/receipts").strip()  # fetched with each sync
    # Every office came in with its own key, and only through git-shell.
    log = net.server.logged()
    for office in OFFICES:
        assert f"Accepted publickey for {net.server.user}" in log and fingerprint(net.keys[office]) in log, office
    assert "forced-command (key-option) 'git-shell" in log


@pytest.mark.slow  # a move-out case, a sync and a push over ssh: 3-8 s
def test_a_forged_entry_pushed_over_ssh_is_refused_and_the_hook_says_why(ssh_net, tmp_path):
    net = ssh_net
    a = net.a
    mo = MoveOut(lambda *x, **k: net.run(*x, store=a, **k), Store(a), tmp_path)
    mo.start()
    net.ok(net.sync(a))
    central = git(a, "ls-remote", "origin", "refs/heads/main").split()[0]
    rel = mo.step_rel("notice")
    data = (a / rel).read_bytes()
    (a / rel).write_bytes(data.replace(b"2026-12-31", b"2026-12-30", 1))
    plain_git(a, "commit", "-q", "-am", "a quiet change")
    p = net.push(a)
    assert p.returncode != 0
    assert "pre-receive hook declined" in p.stderr, p.stderr
    # The hook's own words, over ssh: what is wrong and where.
    said = [line for line in p.stderr.splitlines() if line.startswith("remote:")]
    assert any(rel in line and "签名无效" in line for line in said), p.stderr
    assert git(a, "ls-remote", "origin", "refs/heads/main").split()[0] == central


def test_a_key_the_server_does_not_know_is_refused_and_a_known_one_gets_no_shell(ssh_net, tmp_path):
    net = ssh_net
    stranger = keypair(tmp_path / "stranger", "stranger")
    git(net.a, "config", "core.sshCommand", net.server.ssh_command(stranger))
    r = net.sync(net.a)
    assert r.exit_code == 1 and "无法连接远端仓库" in r.stderr and "Permission denied (publickey)" in r.stderr, r.stderr
    ssh = net.server.ssh_command(net.keys["office-a"]).split()
    p = subprocess.run([*ssh, "-p", str(net.server.port), f"{net.server.user}@127.0.0.1", "id"], capture_output=True, text=True)
    assert p.returncode != 0 and "unrecognized command" in p.stderr, p.stderr
    assert "uid=" not in p.stdout
    accepted = [line for line in net.server.logged().splitlines() if "Accepted publickey" in line]
    assert accepted and not any(fingerprint(stranger) in line for line in accepted)


def test_a_missing_sshd_fails_with_how_to_install_it(monkeypatch):
    """Not skipped: a machine without the server fails the tests, saying what installs it."""
    import gitserver

    with pytest.raises(pytest.fail.Exception) as e:
        require("/nonexistent/sshd", "openssh-server")
    assert ".ci/run" in str(e.value) and "openssh-server" in str(e.value)
    assert gitserver.INSTALL == INSTALL


# --- gitolite ------------------------------------------------------------------------------


def gitolite(home: Path, *args: str) -> str:
    p = subprocess.run([require("gitolite", "gitolite3"), *args], env={**os.environ, "HOME": str(home)},
                       capture_output=True, text=True)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


GITOLITE_CONF = """\
repo gitolite-admin
    RW+     =   admin

# wuye's archive: offices a and b sign and push, office c only reads. RW, never RW+: no office
# may rewind or delete a branch (wuye's own hook refuses that too).
repo archive
    RW      =   office-a office-b
    R       =   office-c
"""


@pytest.fixture
def gitolite_net(run, tenant, tmp_path):
    """gitolite set up as its Debian package's documentation says, under a HOME of its own."""
    home = tmp_path / "gitolite"
    home.mkdir()
    admin = keypair(tmp_path / "admin-key", "admin")
    gitolite(home, "setup", "-pk", f"{admin}.pub")
    server = start_sshd(tmp_path / "sshd", home / ".ssh" / "authorized_keys", home=home)
    try:
        keys = _office_keys(tmp_path)
        # The administrator's side: offices' keys and rights are a commit to gitolite-admin.
        ssh = server.ssh_command(admin)
        adm = tmp_path / "gitolite-admin"
        git(tmp_path, "-c", f"core.sshCommand={ssh}", "clone", "-q", server.url("gitolite-admin"), str(adm))
        for name, key in keys.items():
            (adm / "keydir" / f"{name}.pub").write_text(public(key) + "\n")
        (adm / "conf" / "gitolite.conf").write_text(GITOLITE_CONF)
        plain_git(adm, "add", "-A")
        plain_git(adm, "commit", "-q", "-m", "archive: offices a and b write, c reads")
        p = subprocess.run(["git", "-c", f"core.sshCommand={ssh}", "push", "-q", "origin", "HEAD"], cwd=adm, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        repo = home / "repositories" / "archive.git"
        assert repo.is_dir()
        # The server's side, as gitolite's user: wuye's hooks, settings and receipt key in the
        # repository gitolite made, and main as its default branch.
        Net.ok(run("remote", "init-central", "--update", repo, store=None))
        git(repo, "symbolic-ref", "HEAD", "refs/heads/main")
        key = run("remote", "init-central", "--show-key", repo, store=None).stdout.strip()
        # gitolite setup again (as after an upgrade): it keeps its update hook and leaves wuye's alone.
        gitolite(home, "setup")
        assert "wuye remote pre-receive" in (repo / "hooks" / "pre-receive").read_text()
        assert "wuye remote post-receive" in (repo / "hooks" / "post-receive").read_text()
        assert (repo / "hooks" / "update").is_symlink()
        yield Net(run, tenant, tmp_path, server, "archive", key, keys)
    finally:
        server.stop()


@pytest.mark.slow  # gitolite set-up, three offices over ssh: 8-12 s
def test_gitolite_gives_each_office_its_rights_and_runs_wuyes_hooks(gitolite_net, tmp_path):
    net = gitolite_net
    a = net.a
    net.ok(net.sync(a))
    b = net.clone("b", "office-b")
    c = net.clone("c", "office-c")
    net.contact(b, "李明")
    net.ok(net.sync(b))
    net.ok(net.sync(c))  # office c may read
    assert git(c, "rev-parse", "HEAD").strip() == git(b, "rev-parse", "HEAD").strip()
    net.verify(c)  # against the receipts the central signed for b's push, pinned key and all

    # Office c may not write: gitolite refuses it before any hook runs, and nothing changes.
    before = git(b, "ls-remote", "origin", "refs/heads/main").split()[0]
    net.do(c, "archive", "add", "T0001", "contacts", "--set", "name=王芳", "--set", "phone=13912345678", "--as", "wangli")
    c_head = git(c, "rev-parse", "HEAD").strip()
    r = net.sync(c)
    assert r.exit_code == 1 and "DENIED" in r.stderr and "office-c" in r.stderr, r.stderr
    assert git(c, "rev-parse", "HEAD").strip() == c_head  # the office keeps its own work
    p = net.push(c)
    assert p.returncode != 0 and "DENIED" in p.stderr
    assert git(b, "ls-remote", "origin", "refs/heads/main").split()[0] == before

    # Office a may write, but what it writes must pass wuye's hook, here run by gitolite's git.
    net.ok(net.sync(a))
    mo = MoveOut(lambda *x, **k: net.run(*x, store=a, **k), Store(a), tmp_path)
    mo.start()
    net.ok(net.sync(a))
    rel = mo.step_rel("notice")
    (a / rel).write_bytes((a / rel).read_bytes().replace(b"2026-12-31", b"2026-12-30", 1))
    plain_git(a, "commit", "-q", "-am", "a quiet change")
    before = git(a, "ls-remote", "origin", "refs/heads/main").split()[0]
    p = net.push(a)
    assert p.returncode != 0 and "pre-receive hook declined" in p.stderr
    assert any(rel in line and "签名无效" in line for line in p.stderr.splitlines() if line.startswith("remote:")), p.stderr
    assert git(a, "ls-remote", "origin", "refs/heads/main").split()[0] == before
