"""`wuye demo`: it runs end to end as a real process, keeps or removes its store, and never touches
keys it did not make.

The full runs are subprocesses with HOME, the config dir and WUYE_KEYS pointed into the test's tmp
dir and every WUYE_* and GIT_* variable removed, so no global git identity or real key folder can
help or be harmed. The refusals run in-process: they must stop before anything is written.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wuye.storage import yamlio
from wuye.cli import app

RECORDS = Path(__file__).resolve().parent.parent / "records"


def sample_staff() -> dict[str, str]:
    """staff id -> name, as the sample store has them."""
    return {p.stem: yamlio.read(p, p.name)["name"] for p in sorted((RECORDS / "staff").glob("*.yaml"))}


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WUYE_", "GIT_"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), NO_COLOR="1", **extra)
    return env


def run_demo(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wuye", "demo", *args], env=env, capture_output=True,
                          text=True, timeout=300)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow  # the whole demo in a real process: ~9 s
def test_demo_keep_leaves_a_committed_store_and_keys_outside_it(tmp_path):
    store, keys = tmp_path / "demo", tmp_path / "keys"
    result = run_demo(["--keep", str(store)], clean_env(tmp_path, WUYE_KEYS=str(keys)))
    assert result.returncode == 0, result.stderr
    company = yamlio.read(RECORDS / "tenants/T0001/profile.yaml", "profile.yaml")["name"]
    assert company in result.stdout
    assert "博雅科技（北京）有限公司" in result.stdout  # the tenant the demo opens, found by pinyin
    assert f"--store {store} archive show T0001" in result.stdout

    # Every commit is authored by a sample staff member (or wuye itself for the first one),
    # never by a machine-wide git identity: HOME has no git config at all.
    staff = sample_staff()
    authors = git(store, "log", "--format=%an|%ae").splitlines()
    assert {a.split("|")[0] for a in authors} <= set(staff.values()) | {"wuye"}
    assert set(staff.values()) <= {a.split("|")[0] for a in authors}
    assert all(a.split("|")[1].endswith((".example", ".invalid")) for a in authors)
    assert len(authors) >= len(staff) + 5
    assert git(store, "status", "--porcelain") == ""
    assert (store / "tenants" / "T0011" / "profile.yaml").is_file()
    assert not (store / "ledger").exists()

    for sid in staff:
        private = keys / sid
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, sid
        assert b"PRIVATE KEY" in private.read_bytes()
    in_store = [p for p in store.rglob("*") if p.is_file() and ".git" not in p.parts and b"PRIVATE KEY" in p.read_bytes()]
    assert in_store == []
    assert not (tmp_path / "demo.keys").exists()  # WUYE_KEYS was set, so nothing beside the store


@pytest.mark.slow  # the whole demo in a real process: ~9 s
def test_demo_without_keep_removes_everything_and_speaks_english(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = run_demo([], clean_env(tmp_path, TMPDIR=str(scratch), WUYE_LANG="en"))
    assert result.returncode == 0, result.stderr
    assert "Copy the sample building" in result.stdout and "复制示例大厦" not in result.stdout
    assert "removed" in result.stdout
    assert list(scratch.iterdir()) == []  # the temp store and its keys are gone
    assert not (tmp_path / "home" / ".config" / "wuye").exists()  # the user's key folder was never used


@pytest.fixture
def plain_env(monkeypatch, tmp_path):
    for var in ("WUYE_STORE", "WUYE_USER", "WUYE_LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WUYE_KEYS", str(tmp_path / "keys"))
    return tmp_path


def test_demo_refuses_a_folder_that_is_not_empty(plain_env):
    target = plain_env / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--keep", str(target)])
    assert result.exit_code == 1
    assert "不是空目录" in result.output
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert not (plain_env / "keys").exists()
    assert os.environ["WUYE_KEYS"] == str(plain_env / "keys")


def test_demo_never_replaces_a_key_already_in_the_key_folder(plain_env):
    keys = plain_env / "keys"
    keys.mkdir()
    (keys / "wangli").write_text("someone's real key", encoding="utf-8")
    target = plain_env / "demo"
    result = CliRunner().invoke(app, ["demo", "--keep", str(target)])
    assert result.exit_code == 1
    assert "wangli" in result.output
    assert (keys / "wangli").read_text(encoding="utf-8") == "someone's real key"
    assert sorted(p.name for p in keys.iterdir()) == ["wangli"]
    assert not target.exists()
    assert os.environ["WUYE_KEYS"] == str(keys)  # restored after the run
