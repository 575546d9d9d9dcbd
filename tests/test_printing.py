"""`wuye print`: every document kind of the demo's move-out rendered to a real PDF (WeasyPrint,
Noto CJK), read back with poppler's tools, its QR code decoded with zbarimg and checked with
`wuye verify-print`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdftoppm", "zbarimg")),
                                reason="needs poppler-utils and zbar-tools (.ci/run installs them)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from tests.test_demo import clean_env, run_demo

    tmp = tmp_path_factory.mktemp("printdemo")
    env = clean_env(tmp, WUYE_KEYS=str(tmp / "keys"))
    done = run_demo(["--keep", str(tmp / "demo")], env)
    assert done.returncode == 0, done.stderr
    case = next((tmp / "demo/tenants/T0003/moveout").iterdir()).name
    return tmp / "demo", case, env


def wuye(demo, *args, check=True):
    root, _, env = demo
    p = subprocess.run([sys.executable, "-m", "wuye", "--store", str(root), *map(str, args)], env=env,
                       capture_output=True, text=True)
    assert not check or p.returncode == 0, p.stderr
    return p


def text_of(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def digest_of(root, case, step) -> str:
    from wuye.moveout import cases
    from wuye.storage.store import Store

    return cases.payload(Store(root), case, step).digest


# kind -> what its text must hold (amounts and numbers as the demo's signed entries have them)
EXPECTED = {
    "confirmation": ["迁出申请/确认单", "北京华锐通达贸易有限公司", "张伟", "客户签字", "财务部盖章"],
    "inspection": ["验房单", "21087.3", "玻璃隔断一块破裂", "1,850.00", "320.00"],
    "settlement": ["结算单", "142,110.00", "-2,380.00", "垃圾清运费", "-300.00", "BY-JS-2026-0117"],
    "release": ["放行条", "FX-2026-0458"],
    "deposit": ["押金处理通知", "20,000.00", "-1,850.00"],
}
SIGNED = {"confirmation": "application", "inspection": "engineering_inspection", "settlement": "settlement",
          "release": "release", "deposit": "settlement"}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_every_document_kind_prints_its_amounts_signers_and_digests_in_cjk(demo, kind, tmp_path):
    root, case, _ = demo
    pdf = tmp_path / f"{kind}.pdf"
    wuye(demo, "print", kind, case, "-o", pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = re.sub(r"\s+", " ", text_of(pdf))
    for want in EXPECTED[kind]:
        assert want in text, (want, text[:2000])
    digest = digest_of(root, case, SIGNED[kind])
    assert digest[len("sha256:"):len("sha256:") + 16] in text.replace(" ", "")
    assert "13901087762" not in text  # the representative's phone is masked on paper
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.pgm")).read_bytes()
    pixels = page[page.index(b"255\n") + 4:]
    assert sum(1 for b in pixels if b < 128) > 2000  # ink on the page, not a blank sheet


@pytest.mark.slow
def test_the_qr_code_decodes_to_a_digest_verify_print_accepts_and_a_changed_digit_is_refused(demo, tmp_path):
    root, case, _ = demo
    pdf = tmp_path / "release.pdf"
    wuye(demo, "print", "release", case, "-o", pdf)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    scanned = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, check=True).stdout.split()
    digest = digest_of(root, case, "release")
    assert scanned == [f"wuye:{case}:release:{digest}"]
    assert "核验通过" in wuye(demo, "verify-print", scanned[0]).stderr
    assert "核验通过" in wuye(demo, "verify-print", case, "release", digest).stderr
    last = digest[-1]
    changed = digest[:-1] + ("0" if last != "0" else "1")
    p = wuye(demo, "verify-print", case, "release", changed, check=False)
    assert p.returncode == 1 and "不符" in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_dossier_summary_and_html_output(demo, tmp_path):
    pdf, html = tmp_path / "d.pdf", tmp_path / "d.html"
    wuye(demo, "print", "dossier", "T0003", "-o", pdf)
    text = text_of(pdf)
    assert "客户档案摘要" in text and "北京华锐通达贸易有限公司" in text and "工程档案" in text
    wuye(demo, "print", "settlement", demo[1], "-o", html)
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    p = wuye(demo, "print", "settlement", demo[1], "-o", tmp_path / "x.doc", check=False)
    assert p.returncode == 1 and "x.doc" in p.stderr


@pytest.mark.slow
def test_the_inspection_shows_the_signed_photo_and_the_confirmation_lists_it(demo, tmp_path):
    import hashlib

    root, case, _ = demo
    photo = root / f"tenants/T0003/attachments/moveout/{case}/会议室玻璃隔断.png"
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    for kind in ("inspection", "confirmation"):
        pdf = tmp_path / f"{kind}.pdf"
        wuye(demo, "print", kind, case, "-o", pdf)
        text = text_of(pdf).replace(" ", "")
        assert "会议室玻璃隔断.png" in text and sha[:32] in text, (kind, text[:1500])
        # The images a page holds: the QR codes, and on the 验房单 the photo too (240 × 160 pixels).
        images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
        sizes = [tuple(line.split()[3:5]) for line in images.splitlines()[2:]]
        assert (("240", "160") in sizes) == (kind == "inspection"), images
