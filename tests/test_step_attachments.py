"""Files signed with a move-out step (`moveout sign … --attach`): committed with the entry in the
same commit, named by path, name, size, type and sha256 inside the signed bytes, and checked by
`verify`, through the CLI and through plain git (a file changed and committed by hand, a clone)."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from conftest import git, head
from test_moveout import MoveOut, plain_git

# A real (tiny) PNG and JPEG header: the type is judged by content.
PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 40
JPEG = b"\xff\xd8\xff\xe0\0\x10JFIF\0" + b"\1" * 60


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def _verify(run):
    r = run("verify", "--json")
    return r.exit_code, json.loads(r.stdout)


def _problems(report):
    return [(p["code"], p["path"], p["message"]) for p in report["problems"]]


def test_an_attached_photo_is_committed_with_its_entry_and_signed_into_it(mo, run, tmp_path):
    mo.walk(upto="application")
    photo = tmp_path / "卫生间裂缝.jpg"
    photo.write_bytes(JPEG)
    meter = tmp_path / "meter.png"
    meter.write_bytes(PNG)
    before = head(mo.store)
    r = mo.sign("engineering_inspection", None, None, "--attach", photo, "--attach", meter)
    assert r.exit_code == 0, r.stderr
    assert "卫生间裂缝.jpg" in r.stderr
    adir = f"attachments/moveout/{mo.case}"
    # One commit: the entry and both files, nothing else.
    files = git(mo.store.root, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(files) == sorted([f"tenants/T0001/moveout/{mo.case}/steps/engineering_inspection.yaml",
                                    f"tenants/T0001/{adir}/卫生间裂缝.jpg", f"tenants/T0001/{adir}/meter.png"])
    assert git(mo.store.root, "rev-parse", "HEAD~1").strip() == before
    entry = mo.entry("engineering_inspection")
    assert entry["attachments"] == [
        {"path": f"{adir}/卫生间裂缝.jpg", "name": "卫生间裂缝.jpg", "size": len(JPEG), "type": "jpeg",
         "sha256": hashlib.sha256(JPEG).hexdigest()},
        {"path": f"{adir}/meter.png", "name": "meter.png", "size": len(PNG), "type": "png",
         "sha256": hashlib.sha256(PNG).hexdigest()},
    ]
    # The sha256 is in the bytes that were signed (what `moveout payload` prints).
    signed = run("moveout", "payload", mo.case, "engineering_inspection", "--as", "wangli").stdout_bytes
    assert hashlib.sha256(JPEG).hexdigest().encode() in signed and "卫生间裂缝.jpg".encode() in signed
    code, report = _verify(run)
    assert code == 0, report
    # A place the store layout admits as an attachment (size-capped by the central's allow-list too).
    from wuye.storage import layout

    assert {layout.match(f).name for f in files if "/attachments/" in f} == {"attachment"}


def test_the_scan_of_the_signed_paper_is_bound_to_the_handover_entry(mo, run, tmp_path):
    mo.walk(upto="settlement")
    scan = tmp_path / "结算单签字页.pdf"
    scan.write_bytes(b"%PDF-1.4\n%signed by the tenant\n%%EOF\n")
    r = mo.sign("handover", None, None, "--attach", scan)
    assert r.exit_code == 0, r.stderr
    assert [a["name"] for a in mo.entry("handover")["attachments"]] == ["结算单签字页.pdf"]
    assert mo.entry("handover")["attachments"][0]["type"] == "pdf"


def test_a_file_that_is_not_an_image_or_pdf_is_refused_and_nothing_is_signed(mo, run, tmp_path, refused):
    mo.walk(upto="application")
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"MZ\x90\0 this is a program")
    before = head(mo.store)
    refused(mo.sign("engineering_inspection", None, None, "--attach", fake), "photo.jpg", "JPEG")
    assert head(mo.store) == before
    assert not mo.store.path(f"tenants/T0001/moveout/{mo.case}/steps/engineering_inspection.yaml").exists()
    assert not mo.store.path(f"tenants/T0001/attachments/moveout/{mo.case}").exists()


def test_an_attachment_over_the_cap_is_refused(mo, run, tmp_path, refused):
    mo.walk(upto="application")
    config = mo.store.path("wuye.yaml")
    big = tmp_path / "big.png"
    big.write_bytes(PNG + b"\0" * (21 * 1024 * 1024))  # the default cap is 20 MiB
    before = head(mo.store)
    refused(mo.sign("engineering_inspection", None, None, "--attach", big), "big.png", "attachment_max_mib")
    assert head(mo.store) == before and config.exists()


def test_a_correction_keeps_the_earlier_files_and_adds_its_own(mo, run, tmp_path):
    mo.walk(upto="application")
    first = tmp_path / "a.jpg"
    first.write_bytes(JPEG)
    second = tmp_path / "b.png"
    second.write_bytes(PNG)
    assert mo.sign("engineering_inspection", None, None, "--attach", first).exit_code == 0
    r = mo.sign("engineering_inspection", None, None, "--correct", "--attach", second)
    assert r.exit_code == 0, r.stderr
    assert [a["name"] for a in mo.entry("engineering_inspection", 2)["attachments"]] == ["a.jpg", "b.png"]
    assert _verify(run)[0] == 0


def test_start_takes_the_signed_notice(mo, run, tmp_path):
    mo.move_in()
    letter = tmp_path / "退租通知.pdf"
    letter.write_bytes(b"%PDF-1.7\n%notice\n%%EOF\n")
    r = run("moveout", "start", "T0001", "--date", "2026-12-31", "--reason", "到期", "--attach", letter, "--as", "zhaomin")
    assert r.exit_code == 0, r.stderr
    mo.case = r.stdout.splitlines()[0]
    assert mo.entry("notice")["attachments"][0]["path"] == f"attachments/moveout/{mo.case}/退租通知.pdf"
    assert "退租通知.pdf" in git(mo.store.root, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD")
    assert _verify(run)[0] == 0


def _inspected(mo, tmp_path) -> str:
    mo.walk(upto="application")
    photo = tmp_path / "damage.jpg"
    photo.write_bytes(JPEG)
    assert mo.sign("engineering_inspection", None, None, "--attach", photo).exit_code == 0
    return f"tenants/T0001/attachments/moveout/{mo.case}/damage.jpg"


def test_a_photo_changed_and_committed_with_plain_git_fails_verify_naming_case_step_and_file(mo, run, tmp_path):
    rel = _inspected(mo, tmp_path)
    assert _verify(run)[0] == 0  # a clean run first: its cached verdict must not hide the change
    mo.store.path(rel).write_bytes(JPEG + b"retouched")
    plain_git(mo.store.root, "commit", "-qam", "better photo")
    code, report = _verify(run)
    assert code == 1
    entry_rel = f"tenants/T0001/moveout/{mo.case}/steps/engineering_inspection.yaml"
    found = [(c, p) for c, p, _ in _problems(report) if c.startswith("entry.attachment")]
    assert found == [("entry.attachment-digest", entry_rel)]
    message = next(m for c, _, m in _problems(report) if c == "entry.attachment-digest")
    assert mo.case in message and "engineering_inspection" in message and "damage.jpg" in message
    # Nothing is signed on top of it either.
    refused_sign = mo.sign("security_inspection")
    assert refused_sign.exit_code == 1 and "damage.jpg" in refused_sign.stderr


def test_a_photo_deleted_with_plain_git_fails_verify(mo, run, tmp_path):
    rel = _inspected(mo, tmp_path)
    assert _verify(run)[0] == 0
    plain_git(mo.store.root, "rm", "-q", rel)
    plain_git(mo.store.root, "commit", "-qm", "tidy up")
    code, report = _verify(run)
    assert code == 1
    assert [(c, m) for c, _, m in _problems(report) if c.startswith("entry.attachment")] == [
        ("entry.attachment-missing", next(m for c, _, m in _problems(report) if c == "entry.attachment-missing"))]
    assert "damage.jpg" in next(m for c, _, m in _problems(report) if c == "entry.attachment-missing")


def test_an_entry_that_names_a_file_outside_its_case_folder_is_reported(mo, run, tmp_path):
    # Hand-written with a real key would be a forgery anyway; here only the path rule is judged.
    from wuye.moveout import evidence
    from wuye.moveout.cases import load_case

    _inspected(mo, tmp_path)
    case = load_case(mo.store, mo.case)
    e = case.latest("engineering_inspection")
    e.data["attachments"][0]["path"] = "attachments/../profile.yaml"
    assert [p.code for p in evidence.problems(mo.store, case)] == ["entry.attachment-outside"]


def test_a_fresh_clone_verifies_with_the_step_attachments(mo, run, tmp_path):
    rel = _inspected(mo, tmp_path)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(mo.store.root), str(clone)], check=True)
    assert (clone / rel).read_bytes() == JPEG
    r = run("--store", clone, "verify", store=None)
    assert r.exit_code == 0, r.stdout + r.stderr


def test_a_photo_replaced_by_a_symlink_with_plain_git_is_not_followed(mo, run, tmp_path):
    rel = _inspected(mo, tmp_path)
    outside = tmp_path / "elsewhere.jpg"
    outside.write_bytes(JPEG)  # the very bytes signed, but outside the store
    path = mo.store.path(rel)
    path.unlink()
    path.symlink_to(outside)
    plain_git(mo.store.root, "add", "-A")
    plain_git(mo.store.root, "commit", "-qm", "link it")
    code, report = _verify(run)
    assert code == 1
    assert "entry.attachment-missing" in [c for c, _, _ in _problems(report)]


def test_the_board_notices_a_photo_changed_after_a_clean_look_up(mo, run, tmp_path):
    rel = _inspected(mo, tmp_path)
    board, _ = mo.status()
    assert board["problems"] == []
    mo.store.path(rel).write_bytes(JPEG + b"x")  # same size class, a new mtime: not read, but noticed
    board, _ = mo.status()
    assert [p["code"] for p in board["problems"]] == ["entry.attachment-digest"]
    assert run("moveout", "status", mo.case).exit_code == 1


def test_a_record_file_named_like_the_step_folder_does_not_take_its_place(mo, run, tmp_path):
    odd = tmp_path / "moveout"
    odd.write_bytes(PNG)
    assert run("archive", "add", "T0001", "engineering", "--set", "title=图", "--attach", odd, "--as", "wangli").exit_code == 0
    assert not mo.store.path("tenants/T0001/attachments/moveout").exists()
    _inspected(mo, tmp_path)
    assert _verify(run)[0] == 0
