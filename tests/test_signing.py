"""Tests for wuye.signing: keys on disk, SSHSIG both ways with the real ssh-keygen, canonical bytes."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from wuye.trust import signing
from wuye.errors import WuyeError
from wuye.storage.atomic import write_atomic
from wuye.trust.signing import NAMESPACE, SignatureError

needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")

PAYLOAD = signing.canonical_bytes({"case": "MO-2026-0003", "step": "engineering_inspection", "signer": "张伟"})
CST = timezone(timedelta(hours=8))


@pytest.fixture
def keys(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "keys"
    monkeypatch.setenv("WUYE_KEYS", str(directory))
    monkeypatch.delenv("WUYE_LANG", raising=False)
    return directory


def new_staff(staff_id: str):
    pem, public_line = signing.generate_key(f"{staff_id}@wuye")
    signing.save_private_key(staff_id, pem, public_line)
    return signing.load_private_key(staff_id), public_line


def ssh_keygen(*args: str, stdin: bytes = b"", cwd: Path) -> subprocess.CompletedProcess:
    # No agent: ssh-keygen must use exactly the key file it is given.
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(
        ["ssh-keygen", *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=30
    )


# --- canonical bytes -------------------------------------------------------------------------


def test_canonical_bytes_sorts_keys_and_keeps_chinese_as_utf8():
    assert signing.canonical_bytes({"b": 1, "a": "张伟"}) == '{"a":"张伟","b":1}'.encode("utf-8")


def test_canonical_bytes_ignores_insertion_order_and_whitespace():
    one = signing.canonical_bytes({"x": [1, {"k": "v", "a": None}], "n": 1.0})
    two = signing.canonical_bytes({"n": 1, "x": [1, {"a": None, "k": "v"}]})
    assert one == two == b'{"n":1,"x":[1,{"a":null,"k":"v"}]}'


def test_digest_is_sha256_hex_of_the_bytes():
    assert signing.digest(b"abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    assert signing.digest(b"abc") != signing.digest(b"abd")


def test_lookups_do_not_import_cryptography():
    code = (
        "import sys\n"
        "from wuye.trust import signing\n"
        "signing.digest(signing.canonical_bytes({'a': 1}))\n"
        "signing.keys_dir()\n"
        "assert 'cryptography' not in sys.modules, sorted(m for m in sys.modules if 'crypt' in m)\n"
    )
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root)
    assert result.returncode == 0, result.stderr


# --- sign and verify -------------------------------------------------------------------------


def test_sign_verify_round_trip(keys):
    key, public_line = new_staff("zhangwei")
    armored = signing.sign(PAYLOAD, key)
    lines = armored.splitlines()
    assert lines[0] == "-----BEGIN SSH SIGNATURE-----"
    assert lines[-1] == "-----END SSH SIGNATURE-----"
    assert armored.endswith("\n")
    assert all(len(line) <= 70 for line in lines[1:-1]) and len(lines[1]) == 70
    signing.verify(PAYLOAD, armored, public_line)
    assert signing.signature_public_key(armored) == " ".join(public_line.split()[:2])


def test_tampered_payload_is_refused(keys):
    key, public_line = new_staff("zhangwei")
    armored = signing.sign(PAYLOAD, key)
    tampered = PAYLOAD.replace("张伟".encode(), "李四".encode())
    with pytest.raises(SignatureError) as info:
        signing.verify(tampered, armored, public_line)
    assert info.value.reason == "signature"
    assert isinstance(info.value, WuyeError)


def test_wrong_namespace_is_refused(keys):
    key, public_line = new_staff("zhangwei")
    armored = signing.sign(PAYLOAD, key, namespace="file")
    with pytest.raises(SignatureError) as info:
        signing.verify(PAYLOAD, armored, public_line)
    assert info.value.reason == "namespace"
    assert "'file'" in info.value.message and NAMESPACE in info.value.message
    signing.verify(PAYLOAD, armored, public_line, namespace="file")


def test_signature_by_another_key_is_refused(keys):
    _, zhang_public = new_staff("zhangwei")
    li_key, _ = new_staff("lisi")
    armored = signing.sign(PAYLOAD, li_key)
    with pytest.raises(SignatureError) as info:
        signing.verify(PAYLOAD, armored, zhang_public)
    assert info.value.reason == "key"
    assert "SHA256:" in info.value.message


def test_swapped_embedded_key_is_refused(keys):
    """Embedding the signer's public key in someone else's signature does not make it theirs."""
    zhang_key, zhang_public = new_staff("zhangwei")
    li_key, li_public = new_staff("lisi")
    li_sig = signing.sign(PAYLOAD, li_key)
    zhang_blob = signing._ed25519_public_blob(zhang_public)
    li_blob = signing._ed25519_public_blob(li_public)
    raw = signing._dearmor(li_sig).replace(li_blob, zhang_blob)
    body = base64.b64encode(raw).decode()
    forged = f"-----BEGIN SSH SIGNATURE-----\n{body}\n-----END SSH SIGNATURE-----\n"
    with pytest.raises(SignatureError) as info:
        signing.verify(PAYLOAD, forged, zhang_public)
    assert info.value.reason == "signature"


@pytest.mark.parametrize(
    "armored",
    [
        "",
        "not a signature",
        "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n",
        "-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n",
        "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n",
        "-----BEGIN SSH SIGNATURE-----\nTk9UU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n",
    ],
)
def test_malformed_signatures_are_refused(keys, armored):
    with pytest.raises(SignatureError) as info:
        signing.verify(PAYLOAD, armored, signing.generate_key("x")[1])
    assert info.value.reason == "malformed"


def test_truncated_signature_is_refused(keys):
    key, public_line = new_staff("zhangwei")
    lines = signing.sign(PAYLOAD, key).splitlines()
    cut = "\n".join(lines[:2] + [lines[-1]]) + "\n"
    with pytest.raises(SignatureError) as info:
        signing.verify(PAYLOAD, cut, public_line)
    assert info.value.reason == "malformed"


def test_messages_follow_wuye_lang(keys, monkeypatch):
    key, public_line = new_staff("zhangwei")
    armored = signing.sign(PAYLOAD, key)
    with pytest.raises(SignatureError) as zh:
        signing.verify(b"other", armored, public_line)
    monkeypatch.setenv("WUYE_LANG", "en")
    with pytest.raises(SignatureError) as en:
        signing.verify(b"other", armored, public_line)
    assert "签名与内容不符" in zh.value.message
    assert "does not match the content" in en.value.message


# --- key files -------------------------------------------------------------------------------


def test_save_writes_modes_like_ssh_keygen(keys):
    old = os.umask(0o022)
    try:
        pem, public_line = signing.generate_key("zhangwei@wuye")
        path = signing.save_private_key("zhangwei", pem, public_line)
    finally:
        os.umask(old)
    assert path == keys / "zhangwei" == signing.private_key_path("zhangwei")
    assert path.read_bytes() == pem
    assert (keys / "zhangwei.pub").read_text() == public_line + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((keys / "zhangwei.pub").stat().st_mode) == 0o644
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert sorted(p.name for p in keys.iterdir()) == ["zhangwei", "zhangwei.pub"]  # no temp files left


def test_save_refuses_to_overwrite_an_existing_key(keys):
    first_pem, first_public = signing.generate_key("zhangwei@wuye")
    path = signing.save_private_key("zhangwei", first_pem, first_public)
    pem, public_line = signing.generate_key("zhangwei@wuye")
    with pytest.raises(WuyeError) as info:
        signing.save_private_key("zhangwei", pem, public_line)
    assert str(path) in info.value.message and "zhangwei" in info.value.message
    assert path.read_bytes() == first_pem
    assert (keys / "zhangwei.pub").read_text() == first_public + "\n"


def test_save_refuses_a_public_key_of_another_pair(keys):
    pem, _ = signing.generate_key("a")
    _, other_public = signing.generate_key("b")
    with pytest.raises(WuyeError):
        signing.save_private_key("zhangwei", pem, other_public)
    assert not (keys / "zhangwei").exists()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_load_refuses_a_key_others_can_read(keys, mode):
    new_staff("zhangwei")
    path = keys / "zhangwei"
    path.chmod(mode)
    with pytest.raises(WuyeError) as info:
        signing.load_private_key("zhangwei")
    assert f"chmod 600 {path}" in info.value.message
    path.chmod(0o600)
    signing.load_private_key("zhangwei")


def test_no_overwrite_write_keeps_a_file_that_appeared_meanwhile(tmp_path):
    """The last step must not clobber a key written by a concurrent `staff add` after our check."""
    target = tmp_path / "zhangwei"
    target.write_bytes(b"theirs")
    with pytest.raises(FileExistsError):
        write_atomic(target, b"ours", mode=0o600, exact_mode=True, fresh=True, overwrite=False)
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["zhangwei"]


def test_load_refuses_a_missing_key_naming_the_path(keys):
    with pytest.raises(WuyeError) as info:
        signing.load_private_key("wangwu")
    assert str(keys / "wangwu") in info.value.message
    # The person is registered (staff add --key would refuse them): the way out is a manager's new key.
    assert "wuye staff key wangwu --as" in info.value.message
    assert "staff add" not in info.value.message


def test_load_refuses_a_key_that_is_not_ed25519(keys):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    keys.mkdir(mode=0o700)
    path = keys / "zhangwei"
    ecdsa = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(ecdsa.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    path.chmod(0o600)
    with pytest.raises(WuyeError) as info:
        signing.load_private_key("zhangwei")
    assert str(path) in info.value.message and "Ed25519" in info.value.message

    path.write_bytes(b"hello\n")
    with pytest.raises(WuyeError) as info:
        signing.load_private_key("zhangwei")
    assert str(path) in info.value.message


@pytest.mark.parametrize("bad", ["../zhangwei", "a/b", "", ".hidden", "张伟", "x" * 65])
def test_staff_ids_that_could_escape_the_keys_dir_are_refused(keys, bad):
    with pytest.raises(WuyeError):
        signing.private_key_path(bad)


def test_keys_dir_defaults_to_the_user_config_dir(monkeypatch):
    import platformdirs

    monkeypatch.delenv("WUYE_KEYS", raising=False)
    assert signing.keys_dir() == Path(platformdirs.user_config_dir("wuye")) / "keys"


def test_read_public_key_file_from_pub_or_private_path(keys):
    _, public_line = new_staff("zhangwei")
    assert signing.read_public_key_file(keys / "zhangwei.pub") == public_line
    assert signing.read_public_key_file(keys / "zhangwei") == public_line


def test_read_public_key_file_refuses_other_key_types(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    rsa_line = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    )
    path = tmp_path / "id_rsa.pub"
    path.write_bytes(rsa_line + b" someone@host\n")
    with pytest.raises(WuyeError) as info:
        signing.read_public_key_file(path)
    assert str(path) in info.value.message and "ssh-rsa" in info.value.message


def test_read_public_key_file_refuses_garbage_and_lonely_private_keys(tmp_path):
    garbage = tmp_path / "garbage.pub"
    garbage.write_text("ssh-ed25519 not-base64!!\n")
    with pytest.raises(WuyeError) as info:
        signing.read_public_key_file(garbage)
    assert str(garbage) in info.value.message

    lonely = tmp_path / "id_ed25519"
    lonely.write_bytes(signing.generate_key("x")[0])
    with pytest.raises(WuyeError) as info:
        signing.read_public_key_file(lonely)
    assert str(lonely) + ".pub" in info.value.message


def test_public_line_from_private_matches_generate(keys):
    pem, public_line = signing.generate_key("张伟 工程部")
    assert signing.public_line_from_private(pem, "张伟 工程部") == public_line
    assert public_line.startswith("ssh-ed25519 AAAA") and public_line.endswith(" 张伟 工程部")


# --- allowed_signers -------------------------------------------------------------------------


def test_allowed_signers_line_syntax(keys):
    _, public_line = signing.generate_key("zhangwei@wuye")
    key = " ".join(public_line.split()[:2])
    after = datetime(2026, 1, 1, 8, 0, 0, tzinfo=CST)
    before = datetime(2026, 7, 1, 0, 0, 0, tzinfo=CST)  # revoked at midnight, Beijing time
    plain = signing.allowed_signers_line("zhangwei", public_line, None, None)
    assert plain == f'zhangwei namespaces="wuye-step,wuye-authority" {key}'
    windowed = signing.allowed_signers_line("zhangwei", public_line, after, before)
    assert windowed == (
        'zhangwei namespaces="wuye-step,wuye-authority",valid-after="20260101000000Z",valid-before="20260630155959Z" ' + key
    )
    # Whole seconds only, and the window shrinks to them rather than grows.
    fractional = signing.allowed_signers_line(
        "zhangwei", public_line, after + timedelta(microseconds=1), before + timedelta(microseconds=1)
    )
    assert 'valid-after="20260101000001Z",valid-before="20260630160000Z"' in fractional


def test_allowed_signers_line_refuses_bad_input(keys):
    _, public_line = signing.generate_key("x")
    with pytest.raises(WuyeError):
        signing.allowed_signers_line("a,*", public_line, None, None)
    with pytest.raises(WuyeError):
        signing.allowed_signers_line("zhangwei", "ssh-rsa AAAAB3NzaC1yc2E=", None, None)
    with pytest.raises(WuyeError) as info:
        signing.allowed_signers_line("zhangwei", public_line, datetime(2026, 1, 1), None)
    assert "+08:00" in info.value.message
    with pytest.raises(WuyeError):  # an aware start and a naive end: refused, not a TypeError
        signing.allowed_signers_line(
            "zhangwei", public_line, datetime(2026, 1, 1, tzinfo=CST), datetime(2026, 2, 1)
        )
    with pytest.raises(WuyeError):
        signing.allowed_signers_line(
            "zhangwei", public_line, datetime(2026, 2, 1, tzinfo=CST), datetime(2026, 1, 1, tzinfo=CST)
        )


# --- interoperability with the real ssh-keygen -----------------------------------------------


@needs_ssh_keygen
def test_ssh_keygen_verifies_our_signature_and_rejects_tampering(keys, tmp_path):
    key, public_line = new_staff("zhangwei")
    line = signing.allowed_signers_line("zhangwei", public_line, None, None)
    (tmp_path / "allowed_signers").write_text(line + "\n")
    (tmp_path / "entry.sig").write_text(signing.sign(PAYLOAD, key))
    args = ("-Y", "verify", "-f", "allowed_signers", "-I", "zhangwei", "-n", NAMESPACE, "-s", "entry.sig")

    good = ssh_keygen(*args, stdin=PAYLOAD, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert b'Good "wuye-step" signature for zhangwei' in good.stdout

    bad = ssh_keygen(*args, stdin=PAYLOAD + b" ", cwd=tmp_path)
    assert bad.returncode != 0

    wrong_ns = ssh_keygen(*args[:6], "-n", "file", *args[8:], stdin=PAYLOAD, cwd=tmp_path)
    assert wrong_ns.returncode != 0


@needs_ssh_keygen
def test_we_verify_ssh_keygen_signatures_and_sign_identically(keys, tmp_path):
    key, public_line = new_staff("zhangwei")
    key_file = str(keys / "zhangwei")
    made = ssh_keygen("-Y", "sign", "-f", key_file, "-n", NAMESPACE, stdin=PAYLOAD, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    theirs = made.stdout.decode()
    signing.verify(PAYLOAD, theirs, public_line)
    with pytest.raises(SignatureError):
        signing.verify(PAYLOAD + b" ", theirs, public_line)
    # Ed25519 is deterministic, so the same key, payload and namespace give the same bytes.
    assert theirs == signing.sign(PAYLOAD, key)


@needs_ssh_keygen
def test_we_verify_ssh_keygen_sha256_signatures(keys, tmp_path):
    _, public_line = new_staff("zhangwei")
    key_file = str(keys / "zhangwei")
    made = ssh_keygen(
        "-Y", "sign", "-f", key_file, "-n", NAMESPACE, "-O", "hashalg=sha256", stdin=PAYLOAD, cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    assert b"sha256" in base64.b64decode("".join(made.stdout.decode().splitlines()[1:-1]))
    signing.verify(PAYLOAD, made.stdout.decode(), public_line)


@needs_ssh_keygen
def test_ssh_keygen_reads_our_private_and_public_key_files(keys, tmp_path):
    _, public_line = new_staff("zhangwei")
    derived = ssh_keygen("-y", "-f", str(keys / "zhangwei"), cwd=tmp_path)
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.decode().split()[:2] == public_line.split()[:2]


@needs_ssh_keygen
def test_load_refuses_a_passphrase_protected_key(keys, tmp_path):
    keys.mkdir(mode=0o700)
    key_file = str(keys / "zhangwei")
    made = ssh_keygen("-q", "-t", "ed25519", "-N", "secret", "-C", "", "-f", key_file, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    with pytest.raises(WuyeError) as info:
        signing.load_private_key("zhangwei")
    assert f"ssh-keygen -p -f {keys / 'zhangwei'}" in info.value.message


@needs_ssh_keygen
def test_ssh_keygen_honours_the_validity_window(keys, tmp_path):
    key, public_line = new_staff("zhangwei")
    after = datetime(2026, 1, 1, 8, 0, 0, tzinfo=CST)  # 2026-01-01 00:00:00 UTC
    revoked = datetime(2026, 6, 30, 18, 0, 0, tzinfo=CST)  # 2026-06-30 10:00:00 UTC
    line = signing.allowed_signers_line("zhangwei", public_line, after, revoked)
    (tmp_path / "allowed_signers").write_text(line + "\n")
    (tmp_path / "entry.sig").write_text(signing.sign(PAYLOAD, key))

    def verify_at(when: str) -> subprocess.CompletedProcess:
        return ssh_keygen(
            "-Y", "verify", "-f", "allowed_signers", "-I", "zhangwei", "-n", NAMESPACE,
            "-s", "entry.sig", f"-Overify-time={when}", stdin=PAYLOAD, cwd=tmp_path,
        )  # fmt: skip

    assert verify_at("20260315120000Z").returncode == 0
    assert verify_at("20260101000000Z").returncode == 0  # the start is inclusive
    assert verify_at("20260630095959Z").returncode == 0
    early = verify_at("20251231235959Z")
    assert early.returncode != 0 and b"not yet valid" in early.stderr
    late = verify_at("20260630100000Z")  # the revocation moment itself is refused
    assert late.returncode != 0 and b"expired" in late.stderr


@needs_ssh_keygen
def test_a_key_revoked_when_registered_is_never_valid(keys, tmp_path):
    key, public_line = new_staff("zhangwei")
    moment = datetime(2026, 1, 1, 8, 0, 0, 250000, tzinfo=CST)
    line = signing.allowed_signers_line("zhangwei", public_line, moment, moment + timedelta(milliseconds=500))
    assert line.startswith("# ")
    (tmp_path / "allowed_signers").write_text(line + "\n")
    (tmp_path / "entry.sig").write_text(signing.sign(PAYLOAD, key))
    for when in ("20251231235959Z", "20260101000000Z", "20260101000001Z"):
        result = ssh_keygen(
            "-Y", "verify", "-f", "allowed_signers", "-I", "zhangwei", "-n", NAMESPACE,
            "-s", "entry.sig", f"-Overify-time={when}", stdin=PAYLOAD, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode != 0 and b"bad options" not in result.stderr, (when, result.stderr)
