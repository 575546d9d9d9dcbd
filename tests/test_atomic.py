"""The one atomic-write helper (wuye/storage/atomic.py) every whole-file write goes through."""

from __future__ import annotations

import os
import stat

import pytest

from wuye.storage.atomic import TMP_MARK, write_atomic


def test_replaces_whole_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "units.yaml"
    target.write_bytes(b"old")
    write_atomic(target, [b"new ", b"content"])
    assert target.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["units.yaml"]


def test_a_failure_midway_keeps_the_old_file_and_removes_the_temp_file(tmp_path):
    target = tmp_path / "export.xlsx"
    target.write_bytes(b"old")

    def chunks():
        yield b"half"
        raise OSError("a store file could not be read")

    with pytest.raises(OSError):
        write_atomic(target, chunks(), sync=False)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["export.xlsx"]


def test_the_default_temp_name_is_the_one_gitignore_and_doctor_know(tmp_path, monkeypatch):
    seen = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(os.path.basename(a)), real(a, b)))
    write_atomic(tmp_path / "contacts.yaml", b"x")
    assert seen == [f".contacts.yaml{TMP_MARK}{os.getpid()}"]


def test_exact_mode_ignores_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        write_atomic(tmp_path / "hook", b"#!/bin/sh\n", mode=0o755, exact_mode=True)
        write_atomic(tmp_path / "plain", b"x", mode=0o755)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "hook").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o700


def test_fresh_refuses_a_temp_name_placed_in_advance(tmp_path):
    trap = tmp_path / "trap"
    write_atomic(tmp_path / "key", b"secret", tmp=trap, fresh=True)  # free name: written
    trap.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError):
        write_atomic(tmp_path / "key", b"secret2", tmp=trap, fresh=True)
    assert not (tmp_path / "elsewhere").exists() and (tmp_path / "key").read_bytes() == b"secret"
