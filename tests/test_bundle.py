"""`wuye moveout bundle`: the demo's move-out as a zip a lawyer can check with OpenSSH alone.

The bundle is unpacked in an empty folder, far from the store and from wuye; every `ssh-keygen -Y
verify` command its README lists is run there with the real ssh-keygen (each must say "Good
signature"), `sha256sum -c SHA256SUMS` checks every file, and a payload with one byte changed is
refused by ssh-keygen."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not all(shutil.which(t) for t in ("ssh-keygen", "sha256sum", "pdftotext")),
                                 reason="needs openssh-client, coreutils and poppler-utils (.ci/run installs them)")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from tests.test_demo import clean_env, run_demo

    tmp = tmp_path_factory.mktemp("bundledemo")
    env = clean_env(tmp, WUYE_KEYS=str(tmp / "keys"))
    done = run_demo(["--keep", str(tmp / "demo")], env)
    assert done.returncode == 0, done.stderr
    case = next((tmp / "demo/tenants/T0003/moveout").iterdir()).name
    return tmp / "demo", case, env


def wuye(demo, *args, check=True, env=None):
    root, _, base = demo
    p = subprocess.run([sys.executable, "-m", "wuye", "--store", str(root), *map(str, args)], env={**base, **(env or {})},
                       capture_output=True)
    assert not check or p.returncode == 0, p.stderr.decode()
    return p


@pytest.fixture(scope="module")
def unpacked(demo, tmp_path_factory):
    root, case, _ = demo
    out = tmp_path_factory.mktemp("zip") / "case.zip"
    p = wuye(demo, "moveout", "bundle", case, "-o", out, "--as", "wangli")
    assert "case.zip" in p.stderr.decode()
    empty = tmp_path_factory.mktemp("lawyer")
    assert not list(empty.iterdir())
    with zipfile.ZipFile(out) as z:
        z.extractall(empty)
    assert [p.name for p in empty.iterdir()] == [case]  # one folder, named after the case
    return empty / case


def commands(folder) -> list[str]:
    """The ssh-keygen commands of the README's code blocks, as a reader would copy them."""
    readme = (folder / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    return [line for b in blocks for line in b.splitlines() if line.startswith("ssh-keygen ")]


def sh(folder, line):
    return subprocess.run(line, shell=True, cwd=folder, capture_output=True, text=True)


def test_every_command_the_readme_lists_prints_good_signature(unpacked, demo):
    root, case, _ = demo
    lines = commands(unpacked)
    steps = sorted(p.name for p in (root / f"tenants/T0003/moveout/{case}/steps").iterdir())
    entry_lines = [l for l in lines if "-n wuye-step " in l]
    authority_lines = [l for l in lines if "-n wuye-authority " in l]
    # One command per signed entry of the case, and one per management signature of each authority version.
    assert len(entry_lines) == len(steps) == 9
    assert len(authority_lines) == len(list((root / "authority").glob("*.yaml"))) == 7
    assert len(lines) == len(entry_lines) + len(authority_lines)
    for line in lines:
        assert re.fullmatch(r"ssh-keygen -Y verify -f allowed_signers -I [a-z]+ -n wuye-(step|authority) -s \S+\.sig < \S+\.json", line), line
        done = sh(unpacked, line)
        assert done.returncode == 0 and "Good" in done.stdout + done.stderr and "signature" in done.stdout + done.stderr, (line, done.stderr)
    # Engineering's entry was signed by zhangwei, as the store says.
    assert any("-I zhangwei -n wuye-step -s entries/engineering_inspection.json.sig" in l for l in entry_lines)


def test_sha256sum_checks_every_file_and_the_digests_are_the_printed_ones(unpacked, demo):
    root, case, _ = demo
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = {line.split("  ", 1)[1] for line in (unpacked / "SHA256SUMS").read_text().splitlines()}
    every = {str(p.relative_to(unpacked)) for p in unpacked.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    assert listed == every
    # The payload file is the exact signed bytes: its sha256 is the digest the papers print.
    from wuye.moveout import cases
    from wuye.storage.store import Store

    entry = cases.payload(Store(root), case, "settlement")
    data = (unpacked / "entries/settlement.json").read_bytes()
    assert data == entry.payload and "sha256:" + hashlib.sha256(data).hexdigest() == entry.digest
    assert entry.digest in (unpacked / "README.md").read_text(encoding="utf-8")
    # The settlement's `needs` are the sha256 of the inspections' payload files.
    needs = json.loads(data)["needs"]
    assert needs["engineering_inspection"] == "sha256:" + hashlib.sha256((unpacked / "entries/engineering_inspection.json").read_bytes()).hexdigest()


def test_a_changed_payload_byte_is_refused_by_ssh_keygen(unpacked, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(unpacked, copy)
    payload = copy / "entries/settlement.json"
    data = payload.read_bytes()
    i = data.index(b'"balance":"') + len(b'"balance":"')
    changed = data[:i] + (b"9" if data[i:i + 1] != b"9" else b"8") + data[i + 1:]  # the refund's first digit
    payload.write_bytes(changed)
    line = next(l for l in commands(copy) if "entries/settlement.json.sig" in l)
    done = sh(copy, line)
    assert done.returncode != 0 and "Good" not in done.stdout + done.stderr
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=copy, capture_output=True).returncode != 0
    # A signature checked under another signer's name is refused too.
    other = line.replace("-I sunhong", "-I wangli")
    payload.write_bytes(data)
    assert sh(copy, line).returncode == 0 and sh(copy, other).returncode != 0


def test_allowed_signers_holds_each_signers_key_for_its_namespace_only(unpacked):
    lines = [l for l in (unpacked / "allowed_signers").read_text(encoding="utf-8").splitlines() if not l.startswith("#")]
    by = {l.split()[0]: l.split()[1] for l in lines}
    assert by["zhangwei"] == 'namespaces="wuye-step"' and by["chenjing"] == 'namespaces="wuye-authority"'
    assert set(by) == {"liuqiang", "wangli", "zhangwei", "liyong", "sunhong", "chenjing"}


def test_the_bundle_holds_the_attachment_the_records_and_the_papers(unpacked, demo):
    root, case, _ = demo
    rel = f"attachments/moveout/{case}/会议室玻璃隔断.png"
    photo = (unpacked / rel).read_bytes()
    assert photo == (root / "tenants/T0003" / rel).read_bytes()
    signed = json.loads((unpacked / "entries/engineering_inspection.json").read_bytes())
    assert signed["attachments"][0]["sha256"] == hashlib.sha256(photo).hexdigest() and signed["attachments"][0]["path"] == rel
    # The cited archive records, as finance settled against them: the deposits still held then.
    payments = (unpacked / "records/payments.yaml").read_text(encoding="utf-8")
    assert "PAY-0001" in payments and "deposit_status: held" in payments and "PAY-0003" not in payments
    # The sample's old-style arrear (VIO-0002) was moved into the ledger by `wuye migrate` (PAY-0007):
    # the statement cites the ledger item, and no violation record.
    assert "PAY-0007" in payments and "violations.yaml#" not in signed_lines(unpacked)
    assert (unpacked / "records/move_in.yaml").is_file() and not (unpacked / "records/violations.yaml").exists()
    for kind in ("confirmation", "inspection", "settlement", "deposit", "release"):
        assert (unpacked / f"documents/{kind}.pdf").read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", str(unpacked / "documents/settlement.pdf"), "-"], capture_output=True, text=True).stdout
    assert "结算单" in text and "142,110.00" in text
    readme = (unpacked / "README.md").read_text(encoding="utf-8")
    assert "## 中文说明" in readme and "## In English" in readme and "sha256sum -c SHA256SUMS" in readme
    # The tenant representative's phone is in the signed bytes (exact, as signed) but on no paper.
    assert "13901087762" in (unpacked / "entries/application.json").read_text(encoding="utf-8")
    for pdf in (unpacked / "documents").iterdir():
        assert "13901087762" not in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout


def test_a_bundle_needs_a_registered_staff_member_and_is_logged(demo, tmp_path):
    root, case, env = demo
    out = tmp_path / "x.zip"
    p = wuye(demo, "moveout", "bundle", case, "-o", out, check=False)
    assert p.returncode == 1 and not out.exists()
    assert len(p.stderr.decode().strip().splitlines()) == 1 and "--as" in p.stderr.decode()
    p = wuye(demo, "moveout", "bundle", case, "-o", out, "--as", "nobody", check=False)
    assert p.returncode == 1 and not out.exists() and "Traceback" not in p.stderr.decode()
    wuye(demo, "moveout", "bundle", case, "-o", out, "--reveal", "--as", "liyong")
    from wuye.archive import privacy

    logged = [r for r in privacy.reveals(root) if r["command"] == "moveout bundle"]
    assert logged[-1]["staff"] == "liyong" and logged[-1]["subject"] == f"{case} --reveal"
    p = wuye(demo, "moveout", "bundle", case, "-o", tmp_path / "no/such/dir/x.zip", "--as", "liyong", check=False)
    assert p.returncode == 1 and "no/such/dir" in p.stderr.decode() and "Traceback" not in p.stderr.decode()


def test_a_corrected_entry_and_a_rotated_key_still_check_out(run, tenant, tmp_path):
    """zhangwei signs the inspection, has his key rotated, and corrects it with the new key: both
    revisions are in the bundle, each checked against the key that signed it (the old one no longer
    valid today, which ssh-keygen is not asked to judge: the chain records the window)."""
    from test_moveout import MoveOut

    mo = MoveOut(run, tenant, tmp_path)
    mo.walk(upto="application")
    photo = tmp_path / "表计.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert mo.sign("engineering_inspection", None, None, "--attach", photo).exit_code == 0
    assert run("staff", "key", "zhangwei", "--as", "sunhao").exit_code == 0
    assert mo.sign("engineering_inspection", None, None, "--correct").exit_code == 0
    out = tmp_path / "b.zip"
    r = run("moveout", "bundle", mo.case, "-o", out, "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    lawyer = tmp_path / "lawyer"
    with zipfile.ZipFile(out) as z:
        z.extractall(lawyer)
    folder = lawyer / mo.case
    lines = commands(folder)
    assert any("entries/engineering_inspection.2.json.sig" in l for l in lines)
    for line in lines:
        done = sh(folder, line)
        assert done.returncode == 0 and "Good" in done.stdout + done.stderr, (line, done.stderr)
    keys = [l for l in (folder / "allowed_signers").read_text().splitlines() if l.startswith("zhangwei ")]
    assert len(keys) == 2 and keys[0].split()[-1] != keys[1].split()[-1]
    # The correction keeps the photo: it is in the bundle once, at the path both revisions name.
    second = json.loads((folder / "entries/engineering_inspection.2.json").read_bytes())
    assert (folder / second["attachments"][0]["path"]).read_bytes() == photo.read_bytes()
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder).returncode == 0


def test_the_papers_in_a_bundle_are_masked_unless_reveal(demo, tmp_path):
    root, case, _ = demo
    texts = {}
    for flag in ([], ["--reveal"]):
        out = tmp_path / f"b{len(flag)}.zip"
        wuye(demo, "moveout", "bundle", case, "-o", out, *flag, "--as", "wangli")
        with zipfile.ZipFile(out) as z:
            z.extract(f"{case}/documents/confirmation.pdf", tmp_path / f"x{len(flag)}")
        pdf = tmp_path / f"x{len(flag)}/{case}/documents/confirmation.pdf"
        texts[bool(flag)] = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "139****7762" in texts[False] and "13901087762" not in texts[False] and "周建国" not in texts[False]
    assert "13901087762" in texts[True] and "周建国" in texts[True]


def signed_lines(unpacked) -> str:
    """The sources the signed settlement's lines cite, one per line."""
    return "\n".join(line["source"] for line in json.loads((unpacked / "entries/settlement.json").read_bytes())["data"]["lines"])
