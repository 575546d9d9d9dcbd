"""Attachments: `archive add --attach` commits the file with the record, checked by content and
size; a clone of the demo store verifies with every attachment present."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from tests.conftest import git, head, snapshot
from wuye.storage.attachments import sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_an_attached_drawing_is_committed_with_its_record_and_a_clone_verifies(tenant, run, tmp_path):
    drawing = tmp_path / "平面图.pdf"
    drawing.write_bytes(PDF)
    result = run("archive", "add", "T0001", "engineering", "--set", "title=平面图", "--set", "kind=drawing",
                 "--attach", drawing, "--as", "wangli")
    assert result.exit_code == 0, result.stderr
    root = tenant.root
    assert git(root, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD").split() == [
        "tenants/T0001/attachments/平面图.pdf", "tenants/T0001/engineering.yaml"]
    record = (root / "tenants/T0001/engineering.yaml").read_text(encoding="utf-8")
    assert hashlib.sha256(PDF).hexdigest() in record and "path: attachments/平面图.pdf" in record
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    assert (clone / "tenants/T0001/attachments/平面图.pdf").read_bytes() == PDF
    done = run("verify", store=clone)
    assert done.exit_code == 0, done.stdout + done.stderr


def test_a_second_file_of_the_same_name_keeps_the_first_in_place(tenant, run, tmp_path):
    a, b = tmp_path / "a" / "scan.png", tmp_path / "b" / "scan.png"
    a.parent.mkdir(), b.parent.mkdir()
    a.write_bytes(PNG), b.write_bytes(PNG + b"2")
    for f in (a, b):
        assert run("archive", "add", "T0001", "engineering", "--set", "title=扫描", "--attach", f, "--as", "wangli").exit_code == 0
    files = sorted(p.name for p in (tenant.root / "tenants/T0001/attachments").iterdir())
    assert files == [hashlib.sha256(PNG + b"2").hexdigest()[:12] + "-scan.png", "scan.png"]
    assert (tenant.root / "tenants/T0001/attachments/scan.png").read_bytes() == PNG
    assert run("verify").exit_code == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_file_that_is_not_an_image_or_pdf_is_refused_by_its_content(tenant, run, tmp_path, refused, lang):
    fake = tmp_path / "合同.pdf"
    fake.write_bytes(b"MZ\x90\0 an executable renamed")
    before = snapshot(tenant)
    result = run("archive", "add", "T0001", "engineering", "--set", "title=合同", "--attach", fake, "--as", "wangli",
                 env={"WUYE_LANG": lang})
    refused(result, str(fake), "JPEG", "PDF")
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(tenant) == before


def test_an_attachment_over_the_cap_is_refused_before_anything_is_written(tenant, run, tmp_path, refused):
    config = tenant.root / "wuye.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "attachment_max_mib: 1\n", encoding="utf-8")
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * (1024 * 1024 + 1))
    before = head(tenant)
    refused(run("archive", "add", "T0001", "engineering", "--set", "title=大图", "--attach", big, "--as", "wangli"),
            "big.jpg", "1.0 MiB", "attachment_max_mib")
    assert head(tenant) == before and not (tenant.root / "tenants/T0001/attachments").exists()


def test_a_category_without_documents_refuses_an_attachment(tenant, run, tmp_path, refused):
    f = tmp_path / "x.png"
    f.write_bytes(PNG)
    refused(run("archive", "add", "T0001", "contacts", "--set", "name=王五", "--attach", f, "--as", "wangli"), "documents")


def test_the_content_decides_the_type():
    assert [sniff(h) for h in (b"\xff\xd8\xff\xe1xx", PNG[:16], b"%PDF-1.7", b"\0\0\0\x18ftypheic\0\0", b"\0\0\0\x18ftypmp42", b"GIF89a")] == [
        "jpeg", "png", "pdf", "heic", None, None]


@pytest.mark.slow  # the whole demo in a real process
def test_a_fresh_clone_of_the_demo_store_verifies_with_its_attachments(tmp_path):
    from tests.test_demo import clean_env, run_demo

    env = clean_env(tmp_path, WUYE_KEYS=str(tmp_path / "keys"))
    assert run_demo(["--keep", str(tmp_path / "demo")], env).returncode == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(tmp_path / "demo"), str(clone)], check=True)
    assert list((clone / "tenants/T0003/attachments").iterdir())
    done = subprocess.run([sys.executable, "-m", "wuye", "--store", str(clone), "verify"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
