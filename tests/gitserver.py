"""A real git server for the tests: OpenSSH's sshd on 127.0.0.1, serving a wuye central repository
through `git-shell`, or through gitolite (tests/test_git_server.py).

Each server is a `sshd -D -e` of its own, on a free port, with its own host key, its own
sshd_config (no PAM, no password or keyboard logins, `StrictModes no` because the test's folders
sit under the world-writable /tmp, the server side's HOME set into the test's folder so that
nothing of the machine's own git or gitolite set-up applies), and an authorized_keys file the
test writes: one key per office, each forced to `git-shell` (or to gitolite-shell by gitolite's
own authorized_keys). Clients reach it with `core.sshCommand` set per office to an ssh that knows
only the server's host key (UserKnownHostsFile, StrictHostKeyChecking yes), uses only the office's
key (IdentitiesOnly) and never prompts (BatchMode). The server is stopped by the fixture that
started it, whatever the test did.

sshd runs as the user running the tests and lets only that user in (as root, with key logins
only: PermitRootLogin prohibit-password). As root sshd also needs its privilege separation
directory, /run/sshd, which Debian's service creates at boot: made here if missing.

Nothing is skipped: a machine without sshd, git-shell or gitolite fails these tests, saying how to
install them (`.ci/run` does, as CI runs it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD = "/usr/sbin/sshd"  # sshd must be started by its absolute path (it re-executes itself)
INSTALL = ("`.ci/run` installs it (apt-get install -y openssh-server gitolite3), as CI does; "
           "install them and run the tests again")


def require(program: str, package: str) -> str:
    found = program if os.path.isabs(program) and os.access(program, os.X_OK) else shutil.which(program)
    if not found:
        pytest.fail(f"{program} (Debian package {package}) is missing: {INSTALL}", pytrace=False)
    return found


def keypair(folder: Path, name: str) -> Path:
    """A new Ed25519 key `folder/name` (and `name.pub`), made by ssh-keygen as an office's IT would."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def public(key: Path) -> str:
    return Path(f"{key}.pub").read_text().strip()


def fingerprint(key: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-l", "-f", f"{key}.pub"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SshServer:
    base: Path
    port: int
    user: str
    known_hosts: Path
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def url(self, path: str | Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{'' if str(path).startswith('/') else '/'}{path}"

    def ssh_command(self, key: Path) -> str:
        """What an office sets as core.sshCommand: this server's host key only, this key only."""
        return (f"ssh -F /dev/null -i {key} -o IdentitiesOnly=yes -o UserKnownHostsFile={self.known_hosts} "
                "-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10")

    def logged(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


def start_sshd(base: Path, authorized_keys: Path, home: Path) -> SshServer:
    """sshd on a free port of 127.0.0.1, in the foreground of a child process; running when this returns."""
    sshd = require(SSHD, "openssh-server")
    require("git-shell", "git")
    base.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    host_key = keypair(base, "host_key")
    user = pwd.getpwuid(os.getuid()).pw_name
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    log = base / "sshd.log"
    for _ in range(5):  # a free port can be taken by someone else before sshd binds it
        port = _free_port()
        config = base / "sshd_config"
        config.write_text("\n".join([
            f"Port {port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {host_key}",
            f"PidFile {base / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized_keys}",
            "AuthenticationMethods publickey",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            f"AllowUsers {user}",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "PrintMotd no",
            f"SetEnv HOME={home} GIT_CONFIG_NOSYSTEM=1",
            "LogLevel VERBOSE",
            "",
        ]))
        with open(log, "wb") as out:
            process = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        server = SshServer(base, port, user, base / "known_hosts", log, process)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and process.poll() is None and "Server listening" not in server.logged():
            time.sleep(0.05)
        if process.poll() is None and "Server listening" in server.logged():
            host = " ".join(public(host_key).split()[:2])
            server.known_hosts.write_text(f"[127.0.0.1]:{port} {host}\n")
            return server
        server.stop()
        if "Address already in use" not in server.logged():
            break
    pytest.fail(f"sshd did not start: {server.logged()}", pytrace=False)


def git_shell_line(key: Path) -> str:
    """An authorized_keys line that lets `key` run git's transport commands and nothing else."""
    return f'command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"",restrict {public(key)}'
