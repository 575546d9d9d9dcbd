"""Signatures over step entries (签名): Ed25519 keys and OpenSSH SSHSIG signatures, canonical bytes.

An entry is signed over its RFC 8785 canonical JSON and its digest is sha256 of those same bytes;
the signature is OpenSSH's SSHSIG (PROTOCOL.sshsig, namespace `wuye-step`), byte for byte what
`ssh-keygen -Y sign` writes, so `ssh-keygen -Y verify` with the store's `allowed_signers` checks
any entry without wuye, and wuye checks signatures made by ssh-keygen. Keys are Ed25519 in OpenSSH
format, kept outside the store in `keys_dir()` (`WUYE_KEYS`, else the user's config dir). This
module may touch only key files in that directory (and a public key file the caller names for
reading); it knows nothing of git or the store. `cryptography` is imported inside the functions
that need it, because look-up commands import this module for `canonical_bytes` and `digest`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import rfc8785

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage.atomic import write_atomic

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

NAMESPACE = "wuye-step"
# What a staff key may sign, in allowed_signers: step entries, and authority records (a manager's
# approval, or anyone's rotation of their own key); trust/authority.py names the second.
AUTHORITY_NAMESPACE = "wuye-authority"
ALLOWED_NAMESPACES = (NAMESPACE, AUTHORITY_NAMESPACE)
# The central repository's push receipts (trust/receipts.py): a namespace of their own, so that no
# receipt signature can ever pass for a step entry's, nor one of those for a receipt.
RECEIPT_NAMESPACE = "wuye-receipt"

KEY_TYPE = "ssh-ed25519"
_MAGIC = b"SSHSIG"
_SIG_VERSION = 1
_SIGN_HASH = "sha512"  # what ssh-keygen uses; sha256 is accepted on verify, as ssh-keygen does
_VERIFY_HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
_ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_ARMOR_END = "-----END SSH SIGNATURE-----"
_ARMOR_WIDTH = 70  # sshbuf_dtob64() wraps at 70, so our armor matches ssh-keygen's exactly
_PRIVATE_BEGIN = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_KEY_FILE_LIMIT = 64 * 1024  # real key files are well under 1 KiB; anything bigger is not a key

# allowed_signers principals are pattern-lists: a comma, '*', '?' or a leading '!' would widen or
# negate the match, whitespace or '"' would break the line, and '#' would make it a comment.
_PRINCIPAL_RE = re.compile(r"[A-Za-z0-9_.@+-]+")


@dataclass
class SignatureError(WuyeError):
    """A signature that does not check out; `reason` is one of
    malformed, namespace, key, hash, signature."""

    reason: str = "signature"


# --- canonical bytes and digests (no cryptography here) -------------------------------------


def canonical_bytes(obj: object) -> bytes:
    """RFC 8785 (JCS) canonical JSON of a JSON-compatible object, as UTF-8 bytes.

    Raises rfc8785.CanonicalizationError (a ValueError) for what JSON cannot hold exactly:
    floats that are NaN or infinite, integers beyond 2**53, non-string keys, other types.

    What wuye signs (entries, seals, receipts: texts, counts, flags, ASCII field names) is written
    by the C encoder of `json`, which escapes exactly as RFC 8785 does and, for ASCII keys, sorts
    them in its order: rfc8785 is pure Python and was a tenth of a cold verify (160,000 seals).
    Anything else (a float, a non-ASCII key, a subclass, a lone surrogate) goes to rfc8785, the
    reference; tests/test_canonical.py checks the two agree on what the fast path takes.
    """
    try:
        if _plain_json(obj):
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        pass  # a lone surrogate, or nesting deeper than Python goes: the reference says what is wrong
    return rfc8785.dumps(obj)


_JCS_INT = 2**53 - 1  # RFC 8785: the integers an IEEE double holds exactly


def _plain_json(value: object) -> bool:
    """Whether `value` is made only of what `json.dumps` writes as RFC 8785 does: exact str, bool,
    None, int within ±(2**53 - 1), list, tuple and dict with ASCII string keys (RFC 8785 sorts
    keys by UTF-16 code units; for ASCII that is Python's order)."""
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return -_JCS_INT <= value <= _JCS_INT
    if t is dict:
        return all(type(k) is str and k.isascii() and _plain_json(v) for k, v in value.items())
    if t is list or t is tuple:
        return all(_plain_json(v) for v in value)
    return False


def digest(payload: bytes) -> str:
    """`sha256:<hex>` of the payload: an entry's name in the case's hash DAG."""
    return "sha256:" + hashlib.sha256(payload).hexdigest()


# --- SSH wire format -------------------------------------------------------------------------


class _WireError(ValueError):
    pass


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def raw(self, n: int) -> bytes:
        if len(self._data) - self._pos < n:
            raise _WireError("truncated")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def uint32(self) -> int:
        return int.from_bytes(self.raw(4), "big")

    def string(self) -> bytes:
        return self.raw(self.uint32())

    def end(self) -> None:
        if self._pos != len(self._data):
            raise _WireError("trailing data")


def _ed25519_blob(raw_public: bytes) -> bytes:
    return _ssh_string(KEY_TYPE.encode()) + _ssh_string(raw_public)


def _blob_key_type(blob: bytes) -> str:
    return _Reader(blob).string().decode("ascii", "replace")


def _ed25519_raw_from_blob(blob: bytes) -> bytes:
    reader = _Reader(blob)
    if reader.string() != KEY_TYPE.encode():
        raise _WireError("not ssh-ed25519")
    raw = reader.string()
    reader.end()
    if len(raw) != 32:
        raise _WireError("bad ed25519 key length")
    return raw


def _fingerprint(blob: bytes) -> str:
    # The form ssh-keygen -l prints, so a clerk can compare it with what ssh tools show.
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _split_public_line(line: str) -> tuple[str, bytes, str]:
    """(key type as written, decoded key blob, comment) of an OpenSSH public key line."""
    parts = line.strip().split(None, 2)
    if len(parts) < 2:
        raise _WireError("not a public key line")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except binascii.Error:
        raise _WireError("bad base64") from None
    if _blob_key_type(blob) != parts[0]:
        raise _WireError("key type does not match key data")
    return parts[0], blob, parts[2] if len(parts) == 3 else ""


@functools.lru_cache(maxsize=64)  # a store's few staff keys, asked once per signature checked
def _ed25519_public_blob(public_line: str) -> bytes:
    """The key blob of an ssh-ed25519 public line; WuyeError for anything else."""
    try:
        key_type, blob, _ = _split_public_line(public_line)
    except _WireError:
        raise WuyeError(
            tr(f"公钥格式无效：{public_line!r}", f"Not a valid OpenSSH public key: {public_line!r}")
        ) from None
    if key_type != KEY_TYPE:
        raise WuyeError(
            tr(
                f"公钥类型是 {key_type}，wuye 只接受 {KEY_TYPE}",
                f"The public key is {key_type}; wuye accepts only {KEY_TYPE}",
            )
        )
    try:
        _ed25519_raw_from_blob(blob)
    except _WireError:
        raise WuyeError(
            tr(f"公钥数据损坏：{public_line!r}", f"The public key data is damaged: {public_line!r}")
        ) from None
    return blob


def _check_comment(comment: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in comment):
        raise WuyeError(
            tr(
                f"密钥备注不能含换行或控制字符：{comment!r}",
                f"A key comment cannot hold line breaks or control characters: {comment!r}",
            )
        )
    return comment.strip()


def _public_line(raw_public: bytes, comment: str) -> str:
    line = f"{KEY_TYPE} {base64.b64encode(_ed25519_blob(raw_public)).decode()}"
    comment = _check_comment(comment)
    return f"{line} {comment}" if comment else line


# --- keys ------------------------------------------------------------------------------------


def generate_key(comment: str) -> tuple[bytes, str]:
    """A new Ed25519 key: (private key as OpenSSH PEM, `ssh-ed25519 AAAA... comment`)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    return pem, _public_line(key.public_key().public_bytes_raw(), comment)


def _load_ed25519_pem(pem: bytes, where: str) -> Ed25519PrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    not_ours = WuyeError(
        tr(
            f"{where} 不是 OpenSSH 格式的 Ed25519 私钥。wuye 只用 Ed25519 密钥，可用 `ssh-keygen -t ed25519` 生成。",
            f"{where} is not an Ed25519 private key in OpenSSH format. wuye uses only Ed25519 keys; "
            "make one with `ssh-keygen -t ed25519`.",
        )
    )
    try:
        key = load_ssh_private_key(pem, password=None)
    except TypeError:
        # cryptography's way of saying the key is passphrase-protected; wuye has no prompt for
        # one, and a signature must not depend on an interactive step.
        raise WuyeError(
            tr(
                f"私钥 {where} 设有口令，wuye 无法使用。请用 `ssh-keygen -p -f {where}` 去掉口令后再试。",
                f"The private key {where} is passphrase-protected, which wuye cannot use. "
                f"Remove the passphrase with `ssh-keygen -p -f {where}` and try again.",
            )
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise not_ours from None
    if not isinstance(key, Ed25519PrivateKey):
        raise not_ours
    return key


def public_line_from_private(pem: bytes, comment: str) -> str:
    """The `ssh-ed25519 AAAA... comment` line of an OpenSSH Ed25519 private key."""
    key = _load_ed25519_pem(pem, tr("该私钥", "the private key"))
    return _public_line(key.public_key().public_bytes_raw(), comment)


def private_key_from_pem(pem: bytes, where: str) -> Ed25519PrivateKey:
    """The Ed25519 key of an OpenSSH private key file's bytes (`where` names it in errors): for a
    key kept outside `keys_dir()`, as the central repository keeps its own."""
    return _load_ed25519_pem(pem, where)


def key_fingerprint(public_line: str) -> str:
    """`SHA256:…` of an ssh-ed25519 public line, as `ssh-keygen -l` prints it; WuyeError for
    anything that is not one."""
    return _fingerprint(_ed25519_public_blob(public_line))


def _read_key_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(_KEY_FILE_LIMIT + 1)
    except FileNotFoundError:
        raise WuyeError(tr(f"找不到密钥文件 {path}", f"Key file not found: {path}")) from None
    except IsADirectoryError:
        raise WuyeError(tr(f"{path} 是目录，不是密钥文件", f"{path} is a directory, not a key file")) from None
    except PermissionError:
        raise WuyeError(tr(f"无权读取密钥文件 {path}", f"No permission to read the key file {path}")) from None
    if len(data) > _KEY_FILE_LIMIT:
        raise WuyeError(tr(f"{path} 太大，不是密钥文件", f"{path} is too large to be a key file"))
    return data


def read_public_key_file(path: str | os.PathLike[str]) -> str:
    """The `ssh-ed25519 AAAA... comment` line of an existing OpenSSH public key file.

    Given a private key, reads the `.pub` next to it, as ssh-keygen names them. Refuses any
    other key type, naming the file.
    """
    path = Path(path)
    data = _read_key_file(path)
    if data.lstrip().startswith(_PRIVATE_BEGIN):
        pub = path.with_name(path.name + ".pub")
        if not pub.is_file():
            raise WuyeError(
                tr(
                    f"{path} 是私钥文件，旁边没有对应的公钥 {pub}。请指定公钥文件（.pub），"
                    f"或用 `ssh-keygen -y -f {path} > {pub}` 生成。",
                    f"{path} is a private key and there is no public key {pub} next to it. "
                    f"Name the public key file (.pub), or make it with `ssh-keygen -y -f {path} > {pub}`.",
                )
            )
        path, data = pub, _read_key_file(pub)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    malformed = WuyeError(
        tr(
            f"{path} 不是有效的 OpenSSH 公钥文件（应只有一行 `ssh-ed25519 AAAA... 备注`）",
            f"{path} is not a valid OpenSSH public key file "
            "(expected one line `ssh-ed25519 AAAA... comment`)",
        )
    )
    if len(lines) != 1:
        raise malformed
    try:
        key_type, blob, comment = _split_public_line(lines[0])
    except _WireError:
        raise malformed from None
    if key_type != KEY_TYPE:
        raise WuyeError(
            tr(
                f"{path} 是 {key_type} 密钥，wuye 只接受 {KEY_TYPE} 密钥。请用 `ssh-keygen -t ed25519` 生成一把新密钥。",
                f"{path} holds a {key_type} key; wuye accepts only {KEY_TYPE} keys. "
                "Make one with `ssh-keygen -t ed25519`.",
            )
        )
    try:
        raw = _ed25519_raw_from_blob(blob)
    except _WireError:
        raise malformed from None
    return _public_line(raw, comment)


def keys_dir() -> Path:
    """Where private keys live: `$WUYE_KEYS`, else `<user config dir>/wuye/keys`; never the store."""
    override = os.environ.get("WUYE_KEYS")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("wuye")) / "keys"


def private_key_path(staff_id: str) -> Path:
    """`keys_dir()/<staff_id>`; the public key is the same path plus `.pub`, as ssh-keygen names them."""
    from wuye.models.ids import check_id  # the one id rule (no pydantic): the id becomes a file name

    try:
        check_id(staff_id, tr("员工编号", "staff id"))
    except ValueError as e:
        raise WuyeError(str(e)) from None
    return keys_dir() / staff_id


def _ensure_keys_dir() -> Path:
    directory = keys_dir()
    try:
        directory.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if not directory.is_dir():
            raise WuyeError(
                tr(
                    f"密钥目录 {directory} 已被一个文件占用",
                    f"The keys directory {directory} exists but is not a directory",
                )
            ) from None
        return directory
    # mkdir's mode passes through the umask; the directory must not be listable by others.
    os.chmod(directory, 0o700)
    return directory


def _write_key_file(target: Path, data: bytes, mode: int, *, overwrite: bool) -> None:
    """A key file, written whole with exactly `mode`: a fresh, randomly named temp file (nothing
    placed there in advance can catch the key), fsynced; overwrite=False never replaces a key."""
    write_atomic(target, data, tmp=target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp"), mode=mode,
                 exact_mode=True, fresh=True, overwrite=overwrite)


def restore_key_file(path: Path, private: bytes, public: bytes | None) -> None:
    """Put back a key pair removed by a rotation whose commit then failed."""
    _write_key_file(path, private, 0o600, overwrite=False)
    if public is not None:
        _write_key_file(Path(str(path) + ".pub"), public, 0o644, overwrite=True)


def save_private_key(staff_id: str, pem: bytes, public_line: str) -> Path:
    """Store a staff member's key pair in keys_dir(): private 0600, `.pub` 0644; never overwrite."""
    path = private_key_path(staff_id)
    key = _load_ed25519_pem(pem, tr("该私钥", "the private key"))
    expected = _ed25519_blob(key.public_key().public_bytes_raw())
    if _ed25519_public_blob(public_line) != expected:
        raise WuyeError(
            tr(
                f"员工 {staff_id} 的公钥与私钥不是一对，未保存",
                f"The public key of staff {staff_id} does not belong to the private key; nothing saved",
            )
        )
    already = WuyeError(
        tr(
            f"员工 {staff_id} 在本机已有密钥：{path}。为免丢失原有密钥，不予覆盖；如确需更换，请先把旧文件移走。",
            f"Staff {staff_id} already has a key on this machine: {path}. It was not overwritten; "
            "move the old file away first if you really mean to replace it.",
        )
    )
    if os.path.lexists(path):
        raise already
    _ensure_keys_dir()
    try:
        _write_key_file(path, pem, 0o600, overwrite=False)
    except FileExistsError:
        raise already from None
    # The .pub is derived data (ssh-keygen -y rebuilds it), so replacing a stale one is safe.
    pub = path.with_name(path.name + ".pub")
    _write_key_file(pub, (public_line.strip() + "\n").encode(), 0o644, overwrite=True)
    return path


def load_private_key(staff_id: str) -> Ed25519PrivateKey:
    """The staff member's Ed25519 private key from keys_dir(), refused if missing, readable by
    others, or not an Ed25519 key in OpenSSH format."""
    path = private_key_path(staff_id)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise WuyeError(
            # The person is registered already (staff add --key would refuse): a key kept elsewhere
            # is copied here; a lost one is replaced by management.
            tr(
                "本机没有员工 %s 的私钥：%s。请把该员工的私钥文件复制到这里（权限 600）；"
                "密钥遗失时由管理层换发：`wuye staff key %s --as 经理`。",
                "There is no private key for staff %s on this machine: %s. Copy the staff "
                "member's private key file there (mode 600); if it is lost, management issues a new "
                "one: `wuye staff key %s --as MANAGER`.",
            ) % (staff_id, path, staff_id)
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise WuyeError(
            tr(f"{path} 不是普通文件，不能作私钥", f"{path} is not a regular file and cannot be a private key")
        )
    # Windows reports made-up permission bits, so the check means something only on POSIX.
    if os.name == "posix" and st.st_mode & 0o077:
        raise WuyeError(
            tr(
                f"私钥文件 {path} 的权限是 {stat.S_IMODE(st.st_mode):o}，别的用户也能读取，不予使用。请执行：chmod 600 {path}",
                f"The private key file {path} has mode {stat.S_IMODE(st.st_mode):o}, "
                "so other users can read it; "
                f"refusing to use it. Run: chmod 600 {path}",
            )
        )
    return _load_ed25519_pem(_read_key_file(path), str(path))


# --- SSHSIG ----------------------------------------------------------------------------------


def _signed_data(namespace: str, hash_alg: str, payload: bytes) -> bytes:
    # PROTOCOL.sshsig: the signature covers this wrapper, never the message itself. The reserved
    # field is always empty here: OpenSSH rebuilds it empty when verifying, whatever the blob holds.
    return (
        _MAGIC
        + _ssh_string(namespace.encode())
        + _ssh_string(b"")
        + _ssh_string(hash_alg.encode())
        + _ssh_string(_VERIFY_HASHES[hash_alg](payload).digest())
    )


def _check_namespace(namespace: str) -> None:
    if not isinstance(namespace, str) or not namespace:
        raise ValueError("SSHSIG namespace must be a non-empty string")


def sign(payload: bytes, private_key: Ed25519PrivateKey, namespace: str = NAMESPACE) -> str:
    """The armored SSHSIG signature of payload (hash sha512), as `ssh-keygen -Y sign` writes it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("sign() needs an Ed25519PrivateKey")
    _check_namespace(namespace)
    signature = private_key.sign(_signed_data(namespace, _SIGN_HASH, payload))
    blob = (
        _MAGIC
        + _SIG_VERSION.to_bytes(4, "big")
        + _ssh_string(_ed25519_blob(private_key.public_key().public_bytes_raw()))
        + _ssh_string(namespace.encode())
        + _ssh_string(b"")
        + _ssh_string(_SIGN_HASH.encode())
        + _ssh_string(_ssh_string(KEY_TYPE.encode()) + _ssh_string(signature))
    )
    b64 = base64.b64encode(blob).decode()
    body = "\n".join(b64[i : i + _ARMOR_WIDTH] for i in range(0, len(b64), _ARMOR_WIDTH))
    return f"{_ARMOR_BEGIN}\n{body}\n{_ARMOR_END}\n"


def _malformed(detail_zh: str, detail_en: str) -> SignatureError:
    return SignatureError(tr(f"签名格式有误：{detail_zh}", f"Malformed signature: {detail_en}"), reason="malformed")


def _dearmor(armored: str) -> bytes:
    if not isinstance(armored, str):
        raise _malformed("应为文本", "expected text")
    lines = [ln.strip() for ln in armored.strip().splitlines()]
    if not lines or lines[0] != _ARMOR_BEGIN:
        raise _malformed(f"缺少开头的 {_ARMOR_BEGIN}", f"missing {_ARMOR_BEGIN}")
    if len(lines) < 2 or lines[-1] != _ARMOR_END:
        raise _malformed(f"缺少结尾的 {_ARMOR_END}", f"missing {_ARMOR_END}")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error:
        raise _malformed("内容不是有效的 base64", "the body is not valid base64") from None


@dataclass(frozen=True)
class _Sshsig:
    public_blob: bytes
    namespace: bytes
    hash_alg: bytes
    sig_type: bytes
    sig: bytes


# A seal's signature is parsed twice in a row (its key, then the check): the last few are kept.
# Only what parses is kept; a refusal is raised afresh each time, in the language of the moment.
@functools.lru_cache(maxsize=16)
def _parse(armored: str) -> _Sshsig:
    blob = _dearmor(armored)
    try:
        reader = _Reader(blob)
        if reader.raw(len(_MAGIC)) != _MAGIC:
            raise _malformed("不是 SSHSIG 签名（开头标识不对）", "not an SSHSIG signature (bad magic)")
        version = reader.uint32()
        if version != _SIG_VERSION:
            raise _malformed(f"不支持的版本 {version}", f"unsupported version {version}")
        public_blob = reader.string()
        namespace = reader.string()
        reader.string()  # reserved: PROTOCOL.sshsig says to ignore it
        hash_alg = reader.string()
        sig_reader = _Reader(reader.string())
        reader.end()
        sig_type = sig_reader.string()
        sig = sig_reader.string()
        sig_reader.end()
    except _WireError:
        raise _malformed("数据被截断或有多余内容", "truncated or with trailing data") from None
    return _Sshsig(public_blob, namespace, hash_alg, sig_type, sig)


def signature_public_key(armored: str) -> str:
    """`ssh-ed25519 AAAA...` (no comment) of the key embedded in an armored signature."""
    parsed = _parse(armored)
    try:
        key_type = _blob_key_type(parsed.public_blob)
    except _WireError:
        raise _malformed("其中的公钥数据损坏", "the embedded public key is damaged") from None
    return f"{key_type} {base64.b64encode(parsed.public_blob).decode()}"


@functools.lru_cache(maxsize=64)
def _public_key(blob: bytes):
    """The key object of a staff key's blob: a store has a handful of keys and a verify checks
    160,000 seals with them."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(_ed25519_raw_from_blob(blob))


def verify(payload: bytes, armored: str, public_line: str, namespace: str = NAMESPACE) -> None:
    """Check that `armored` is an SSHSIG signature by `public_line`'s key over payload in namespace.

    Returns None when it holds; raises SignatureError naming the first thing that does not.
    """
    _check_namespace(namespace)
    try:
        expected_blob = _ed25519_public_blob(public_line)
    except WuyeError as e:
        raise SignatureError(
            tr(f"签名人的公钥无效，无法核验：{e.message}", f"The signer's public key is unusable: {e.message}"),
            reason="key",
        ) from None
    parsed = _parse(armored)
    if parsed.namespace != namespace.encode():
        got = parsed.namespace.decode("utf-8", "replace")
        raise SignatureError(
            tr(
                f"签名用途不符：签名的命名空间是 {got!r}，应为 {namespace!r}",
                f"Wrong signature namespace: {got!r}, expected {namespace!r}",
            ),
            reason="namespace",
        )
    if parsed.public_blob != expected_blob:
        raise SignatureError(
            tr(
                f"签名不是签名人的密钥所签：签名所用密钥为 {_fingerprint(parsed.public_blob)}，"
                f"签名人的密钥为 {_fingerprint(expected_blob)}",
                f"The signature was not made with the signer's key: it was made with "
                f"{_fingerprint(parsed.public_blob)}, the signer's key is {_fingerprint(expected_blob)}",
            ),
            reason="key",
        )
    hash_alg = parsed.hash_alg.decode("ascii", "replace")
    if hash_alg not in _VERIFY_HASHES:
        raise SignatureError(
            tr(
                f"不支持的摘要算法 {hash_alg!r}（只接受 sha256、sha512）",
                f"Unsupported hash algorithm {hash_alg!r} (only sha256, sha512)",
            ),
            reason="hash",
        )
    if parsed.sig_type != KEY_TYPE.encode() or len(parsed.sig) != 64:
        raise _malformed("其中的 Ed25519 签名数据不对", "the Ed25519 signature inside is not well formed")

    from cryptography.exceptions import InvalidSignature

    key = _public_key(expected_blob)
    try:
        key.verify(parsed.sig, _signed_data(namespace, hash_alg, payload))
    except InvalidSignature:
        raise SignatureError(
            tr(
                "签名与内容不符：内容在签名之后被改动过，或者这个签名不是针对这份内容的",
                "The signature does not match the content: the content was changed after signing, "
                "or the signature belongs to other content",
            ),
            reason="signature",
        ) from None


# --- allowed_signers -------------------------------------------------------------------------


def _whole_second_utc(moment: datetime, principal: str) -> datetime:
    """`moment` in UTC rounded up to a whole second, the finest grain allowed_signers holds."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise WuyeError(
            tr(
                f"{principal} 的密钥有效期 {moment} 缺少时区，应写成带时差的时间，如 2026-01-01T08:00:00+08:00",
                f"The key validity time {moment} of {principal} has no time zone; "
                "write it with an offset, e.g. 2026-01-01T08:00:00+08:00",
            )
        )
    utc = moment.astimezone(timezone.utc)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return utc


def allowed_signers_line(
    principal: str,
    public_line: str,
    valid_after: datetime | None = None,
    valid_before: datetime | None = None,
) -> str:
    """One OpenSSH allowed_signers line for `principal`, limited to wuye's namespaces.

    The key is valid from `valid_after` (inclusive) until `valid_before` (exclusive, like a
    revocation time: a signature made at that moment is already refused). Times go out in UTC.
    """
    if not isinstance(principal, str) or not _PRINCIPAL_RE.fullmatch(principal):
        raise WuyeError(
            tr(
                f"签名人标识 {principal!r} 不能写入 allowed_signers：只能用字母、数字和 _ . @ + -",
                f"The principal {principal!r} cannot go into allowed_signers: "
                "use only letters, digits and _ . @ + -",
            )
        )
    blob = _ed25519_public_blob(public_line)
    key = f"{KEY_TYPE} {base64.b64encode(blob).decode()}"
    options = [f'namespaces="{",".join(ALLOWED_NAMESPACES)}"']
    after = before = None
    if valid_after is not None:
        # Rounding up keeps a fractional start from opening the window early.
        after = _whole_second_utc(valid_after, principal)
        options.append(f'valid-after="{after:%Y%m%d%H%M%SZ}"')
    if valid_before is not None:
        # ssh-keygen's valid-before is inclusive; the last whole second before the end is what
        # makes it exclusive, as a revocation time must be.
        before = _whole_second_utc(valid_before, principal) - timedelta(seconds=1)
        options.append(f'valid-before="{before:%Y%m%d%H%M%SZ}"')
    if valid_after is not None and valid_before is not None and valid_before < valid_after:
        raise WuyeError(
            tr(
                f"{principal} 的密钥失效时间 {valid_before} 早于生效时间 {valid_after}",
                f"The key of {principal} stops being valid ({valid_before}) before it starts ({valid_after})",
            )
        )
    if after is not None and before is not None and before < after:
        # A key revoked within the second it became valid was never valid. ssh-keygen rejects a
        # valid-before earlier than valid-after as bad options, so the line is kept as a comment.
        return f"# {principal} {key} (never valid: revoked when registered)"
    return f"{principal} {','.join(options)} {key}"
