"""Readers never follow a symlink (storage/reading.py): a store file that is a link to a file
outside the store, with personal data in it, is refused by every command that reads it, and
nothing of it is ever printed or written; a tenant folder that is a link is no tenant.

The link is committed with plain git, as it would arrive from another office by a `git pull`
(the central repository refuses it, test_layout_guard.py; a store can still take it in from a
remote set up by hand). The target is a well-formed archive file, so a reader that followed the
link would print it without complaint: that is what each assertion would catch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import git
from test_moveout import plain_git

SECRET_NAME = "秘密联系人"
SECRET_PHONE = "13987654321"
CONTACTS = "tenants/T0001/contacts.yaml"


def _secret_free(*texts: str) -> None:
    for t in texts:
        assert SECRET_NAME not in t and SECRET_PHONE not in t and "8765" not in t, t


@pytest.fixture
def linked(tenant, run, tmp_path):
    """T0001's contacts.yaml, a link (committed) to a valid contacts file outside the store."""
    root = Path(tenant.root)
    r = run("archive", "add", "T0001", "contacts", "--set", f"name={SECRET_NAME}", "--set", f"phone={SECRET_PHONE}",
            "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    outside = tmp_path / "elsewhere" / "contacts.yaml"
    outside.parent.mkdir()
    shutil.move(root / CONTACTS, outside)
    (root / CONTACTS).symlink_to(outside)
    plain_git(root, "add", "-A")
    plain_git(root, "commit", "-q", "-m", "contacts")
    return root


def _refused_unchanged(r, root, head):
    assert r.exit_code == 1, (r.exit_code, r.stdout, r.stderr)
    _secret_free(r.stdout, r.stderr)
    assert git(root, "rev-parse", "HEAD") == head


def test_archive_show_reveal_refuses_a_linked_file(linked, run):
    head = git(linked, "rev-parse", "HEAD")
    for args in (["archive", "show", "T0001", "--reveal"], ["archive", "show", "T0001", "contacts", "--reveal", "--json"]):
        r = run(*args, env={"WUYE_USER": "wangli"})
        _secret_free(r.stdout, r.stderr)
        # show goes on with the files it can read (as for any bad file) and names the one it refused
        if "--json" in args:
            assert {"path": CONTACTS, "code": "file.symlink"}.items() <= json.loads(r.stdout)["problems"][0].items()
        else:
            assert f"{CONTACTS}: 是符号链接" in r.stderr, (r.stdout, r.stderr)
    assert git(linked, "rev-parse", "HEAD") == head


def test_archive_check_and_verify_refuse_a_linked_file(linked, run):
    head = git(linked, "rev-parse", "HEAD")
    r = run("archive", "check", "T0001")
    _refused_unchanged(r, linked, head)
    assert f"{CONTACTS}: 是符号链接" in r.stdout + r.stderr
    r = run("verify", "--json")
    _refused_unchanged(r, linked, head)
    codes = {(p["path"], p["code"]) for p in json.loads(r.stdout)["problems"]}
    assert (CONTACTS, "file.symlink") in codes and (CONTACTS, "layout.symlink") in codes


def test_export_refuses_a_linked_file_and_writes_nothing_of_it(linked, run, tmp_path):
    head = git(linked, "rev-parse", "HEAD")
    for name in ("out.json", "out.csv", "out.xlsx"):
        out = tmp_path / name
        r = run("export", "-o", out, env={"WUYE_USER": "wangli"})  # export names who takes the data out
        _refused_unchanged(r, linked, head)
        assert "符号链接" in r.stderr
        assert not out.exists() or (SECRET_PHONE.encode() not in out.read_bytes() and SECRET_NAME.encode() not in out.read_bytes())


def test_writers_refuse_to_build_on_a_linked_file(linked, run):
    """`archive add` would read the linked file, add to it and commit the result: the secret
    would be in git for ever. It refuses; the link stays a link and nothing is committed."""
    head = git(linked, "rev-parse", "HEAD")
    r = run("archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    _refused_unchanged(r, linked, head)
    assert (linked / CONTACTS).is_symlink()
    assert git(linked, "status", "--porcelain") == ""


def test_import_refuses_to_merge_into_a_linked_file(tenant, run, tmp_path):
    root = Path(tenant.root)
    assert run("archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli").exit_code == 0
    src = tmp_path / "in.json"
    assert run("export", "-o", src, env={"WUYE_USER": "wangli"}).exit_code == 0
    outside = tmp_path / "elsewhere" / "contacts.yaml"
    outside.parent.mkdir()
    outside.write_text((root / CONTACTS).read_text(encoding="utf-8").replace("李明", SECRET_NAME).replace("13812345678", SECRET_PHONE),
                       encoding="utf-8")
    (root / CONTACTS).unlink()
    (root / CONTACTS).symlink_to(outside)
    plain_git(root, "add", "-A")
    plain_git(root, "commit", "-q", "-m", "contacts")
    head = git(root, "rev-parse", "HEAD")
    r = run("import", src, "--as", "wangli")
    _refused_unchanged(r, root, head)
    assert "符号链接" in r.stderr, r.stderr
    assert git(root, "status", "--porcelain") == ""


def test_reports_never_read_a_linked_file(tenant, run, tmp_path):
    root = Path(tenant.root)
    r = run("complaint", "open", "T0001", "--channel", "phone", "--text", f"{SECRET_NAME}来电", "--as", "wangli")
    if r.exit_code != 0:
        pytest.fail(r.stderr)
    outside = tmp_path / "elsewhere" / "complaints.yaml"
    outside.parent.mkdir()
    shutil.move(root / "tenants/T0001/complaints.yaml", outside)
    (root / "tenants/T0001/complaints.yaml").symlink_to(outside)
    plain_git(root, "add", "-A")
    plain_git(root, "commit", "-q", "-m", "complaints")
    r = run("report", "complaints", "--json")
    _secret_free(r.stdout, r.stderr)
    # A report goes on without a file it cannot read, and names it (as for any bad file).
    assert r.exit_code == 0 and "tenants/T0001/complaints.yaml: 是符号链接" in r.stderr
    rep = json.loads(r.stdout)
    assert [p["code"] for p in rep["problems"]] == ["file.symlink"]


def test_a_tenant_folder_linked_out_of_the_store_is_no_tenant(tenant, run, tmp_path):
    root = Path(tenant.root)
    assert run("archive", "new", "T0002", "--name", SECRET_NAME, "--unit", "1206", "--as", "wangli").exit_code == 0
    outside = tmp_path / "elsewhere"
    shutil.move(root / "tenants/T0002", outside)
    (root / "tenants/T0002").symlink_to(outside, target_is_directory=True)

    r = run("archive", "list", "--json")
    assert r.exit_code == 0
    assert [t["tenant_id"] for t in json.loads(r.stdout)] == ["T0001"]
    _secret_free(r.stdout)
    r = run("archive", "show", "T0002", "--reveal", env={"WUYE_USER": "wangli"})
    assert r.exit_code == 1
    assert SECRET_NAME not in r.stdout + r.stderr
    r = run("verify", "--json")
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert report["counts"]["tenants"] == 1
    assert ("tenants/T0002", "layout.symlink") in {(p["path"], p["code"]) for p in report["problems"]}
    _secret_free(r.stdout)


def test_a_fifo_in_place_of_a_store_file_is_never_opened_for_reading(tenant, run):
    """A FIFO with no writer would block a plain open() for ever."""
    import os

    from wuye.storage import reading

    root = Path(tenant.root)
    os.mkfifo(root / CONTACTS)
    with pytest.raises(reading.NotPlainFile) as e:
        reading.read_bytes(root, CONTACTS)
    assert e.value.problems[0].code == "file.not-regular"
    r = run("archive", "check", "T0001")  # returns: the FIFO is no archive file
    assert r.exit_code == 0 and "客户联络资料" in r.stdout
    assert run("verify").exit_code == 0  # returns too (git does not track a FIFO; doctor lists it)


def test_doctor_names_an_uncommitted_link_without_reading_it(tenant, run, tmp_path):
    root = Path(tenant.root)
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(f"entries:\n  - id: CON-0001\n    name: {SECRET_NAME}\n    phone: '{SECRET_PHONE}'\n    bogus: 1\n", encoding="utf-8")
    (root / CONTACTS).symlink_to(outside)
    r = run("doctor", "--json")
    _secret_free(r.stdout, r.stderr)
    assert "bogus" not in r.stdout  # its content was not validated (and so not quoted) either
    findings = json.loads(r.stdout)["findings"]
    assert any(f["path"] == CONTACTS and "符号链接" in json.dumps(f, ensure_ascii=False) for f in findings), findings


def test_remote_add_never_copies_a_linked_gitattributes_into_the_store(tenant, run, tmp_path):
    """`remote add` rewrites .gitattributes with wuye's lines added: through a link it would have
    copied the target's content into the store and committed it."""
    root = Path(tenant.root)
    outside = tmp_path / "notes.txt"
    outside.write_text(f"{SECRET_NAME} {SECRET_PHONE}\n", encoding="utf-8")
    (root / ".gitattributes").unlink()
    (root / ".gitattributes").symlink_to(outside)
    plain_git(root, "add", "-A")
    plain_git(root, "commit", "-q", "-m", "link")
    central = tmp_path / "c.git"
    assert run("remote", "init-central", central, store=None).exit_code == 0
    r = run("remote", "add", "origin", central, "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    _secret_free(r.stdout, r.stderr)
    # No commit holds the target's text (the history's hashes and paths may hold any four digits:
    # only the whole secrets are looked for there).
    history = git(root, "log", "-p", "--all")
    assert SECRET_NAME not in history and SECRET_PHONE not in history
    assert not (root / ".gitattributes").is_symlink()
    assert outside.read_text(encoding="utf-8") == f"{SECRET_NAME} {SECRET_PHONE}\n"  # and never written to


@pytest.mark.parametrize("by_folder", [True, False])
def test_the_reader_refuses_links_on_the_way_by_folder_and_by_path(tmp_path, monkeypatch, by_folder):
    """Both ways of opening (relative to open folders; by path where the system has no dir_fd)."""
    import os

    from wuye.storage import reading

    monkeypatch.setattr(reading, "BY_FOLDER", by_folder)
    root = tmp_path / "store"
    (root / "tenants/T1").mkdir(parents=True)
    (root / "tenants/T1/a.yaml").write_text("ok\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out/x.yaml").write_text(SECRET_PHONE, encoding="utf-8")
    (root / "tenants/T1/c.yaml").symlink_to(tmp_path / "out/x.yaml")
    (root / "tenants/T2").symlink_to(tmp_path / "out", target_is_directory=True)
    os.mkfifo(root / "tenants/T1/f.yaml")
    assert reading.read_bytes(root, "tenants/T1/a.yaml") == b"ok\n"
    for rel, code, link in (("tenants/T1/c.yaml", "file.symlink", None), ("tenants/T2/x.yaml", "file.symlink", "tenants/T2"),
                            ("tenants/T1/f.yaml", "file.not-regular", None)):
        with pytest.raises(reading.NotPlainFile) as e:
            reading.read_bytes(root, rel)
        assert e.value.problems[0].path == rel and e.value.problems[0].code == code
        assert link is None or link in e.value.problems[0].message
        _secret_free(str(e.value))
    with pytest.raises(FileNotFoundError):
        reading.read_bytes(root, "tenants/T1/none.yaml")
    with pytest.raises(IsADirectoryError):
        reading.read_bytes(root, "tenants/T1")
    with pytest.raises(FileNotFoundError):
        reading.read_bytes(root, "../out/x.yaml")
