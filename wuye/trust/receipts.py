"""Push receipts (推送回执): the central repository's signed word that a branch moved, and when.

On each accepted push the central repository's post-receive hook (sync/central.py) signs a
receipt `{ref, old, new, time, previous}` (the ref update, the server's clock with its offset, and
the digest of the receipt before) as RFC 8785 canonical JSON, SSHSIG namespace `wuye-receipt`,
with the central's own Ed25519 key, and appends it to `refs/wuye/receipts`: one commit per receipt
holding `receipt.json` (the canonical bytes) and `receipt.sig`, its parent the previous receipt.
Offices fetch that ref with `wuye sync` and pin the central's public key out of band
(trust/pins.py), so a receipt cannot be forged by anyone who can only write to a store.

What receipts give every clone, a fresh one included (it has no `.git/wuye/verified-head` of its
own): the heads the central witnessed, which its history must still contain, and for any commit
the time it was first seen by the central (`first_witnessed`), an upper bound for whatever it
holds. This module makes and reads receipts; it touches git objects and the receipts ref through
the git runner, and the key file inside the central repository (`KEY_FILE`), nothing else.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import git as audit
from wuye.storage.atomic import write_atomic
from wuye.trust import signing

REF = "refs/wuye/receipts"
# What `wuye remote add` and `wuye sync` fetch. A pattern, not the exact ref: git refuses a whole
# fetch when an exact source ref is missing, as it is on a central that has taken no push yet (or
# was made before receipts), and a pattern that matches nothing is no error.
REFSPEC = f"+{REF}*:{REF}*"
JSON_FILE = "receipt.json"
SIG_FILE = "receipt.sig"
KEY_FILE = "wuye/central-key"  # inside the bare repository's folder: never in a ref, never served
KEY_COMMENT = "wuye-central"
_ZERO = "0" * 40
_IDENTITY = {"GIT_AUTHOR_NAME": "wuye central", "GIT_AUTHOR_EMAIL": "central@wuye.invalid",
             "GIT_COMMITTER_NAME": "wuye central", "GIT_COMMITTER_EMAIL": "central@wuye.invalid"}
_FIELDS = ("ref", "old", "new", "time", "previous")


@dataclass(frozen=True)
class Receipt:
    """One receipt as read from the ref: its commit, its fields, and its digest (sha256 of its
    canonical bytes, what the next receipt names as `previous`)."""

    commit: str
    ref: str
    old: str
    new: str
    time: datetime
    previous: str | None
    digest: str

    def describe(self) -> str:
        return tr("回执 %s（%s，%s → %s）", "receipt %s (%s, %s → %s)") % (
            self.commit[:10], self.time.isoformat(), self.ref.removeprefix("refs/heads/"), self.new[:10])


# --- the central's key -------------------------------------------------------------------


def key_path(central: Path) -> Path:
    return Path(central) / KEY_FILE


def create_key(central: Path) -> str:
    """The central's key, made now unless it has one: its public line."""
    private = key_path(central)
    if private.is_file():
        return public_key(central)
    pem, public = signing.generate_key(KEY_COMMENT)
    private.parent.mkdir(mode=0o700, exist_ok=True)
    write_atomic(private, pem, tmp=private.with_name(private.name + ".tmp"), mode=0o600, exact_mode=True)
    pub = private.with_name(private.name + ".pub")
    write_atomic(pub, (public + "\n").encode(), tmp=pub.with_name(pub.name + ".tmp"), mode=0o644, exact_mode=True)
    return public


def public_key(central: Path) -> str:
    """The public line of the central's key (derived from the private key, never trusted from a
    file beside it)."""
    private = key_path(central)
    try:
        pem = private.read_bytes()
    except OSError:
        raise WuyeError(tr("中央仓库 %s 没有回执密钥（%s）；运行 wuye remote init-central --update %s 生成",
                           "the central repository %s has no receipt key (%s); make one with wuye remote init-central --update %s")
                        % (central, KEY_FILE, central)) from None
    return signing.public_line_from_private(pem, KEY_COMMENT)


# --- writing (the central's post-receive hook) ------------------------------------------------


def payload(ref: str, old: str, new: str, time: datetime, previous: str | None) -> dict:
    return {"ref": ref, "old": old, "new": new, "time": time.isoformat(timespec="seconds"), "previous": previous}


def append(central: Path, ref: str, old: str, new: str, now: datetime | None = None) -> str:
    """Sign a receipt for one accepted ref update and append it to the ref; its commit.

    The ref moves by compare-and-swap (`update-ref REF new old`): when two pushes' hooks race,
    the loser reads the new tip and signs again on top of it, so the chain never forks.
    """
    central = Path(central)
    key = signing.private_key_from_pem(_read_key(central), str(key_path(central)))
    for _ in range(50):
        tip = _tip(central)
        previous = signing.digest(_blob(central, f"{tip}:{JSON_FILE}")) if tip else None
        when = (now or datetime.now()).astimezone()
        data = signing.canonical_bytes(payload(ref, old, new, when, previous))
        sig = signing.sign(data, key, signing.RECEIPT_NAMESPACE)
        blobs = [audit.run(central, "hash-object", "-w", "--stdin", input=b).strip() for b in (data, sig.encode())]
        tree = audit.run(central, "mktree", input=(f"100644 blob {blobs[0]}\t{JSON_FILE}\n"
                                                   f"100644 blob {blobs[1]}\t{SIG_FILE}\n").encode()).strip()
        env = {**_IDENTITY, "GIT_AUTHOR_DATE": when.isoformat(), "GIT_COMMITTER_DATE": when.isoformat()}
        # Whole object ids: an abbreviation of twelve digits (0290860715…) reads as a phone number
        # to anyone scanning history for personal data, and is ambiguous in a big repository.
        message = f"receipt: {ref} {old}..{new}\n"
        commit = audit.run(central, "commit-tree", "--no-gpg-sign", tree, *(["-p", tip] if tip else []),
                           "-m", message, env=env).strip()
        status, _, _ = audit.call(central, "update-ref", "-m", message.strip(), REF, commit, tip or _ZERO)
        if status == 0:
            return commit
    raise WuyeError(tr("回执引用 %s 一直在变，未能写入回执", "the receipts ref %s kept moving; no receipt was written") % REF)


def _read_key(central: Path) -> bytes:
    try:
        return key_path(central).read_bytes()
    except OSError:
        public_key(central)  # raises the message saying how to make one
        raise


def _tip(root: Path) -> str | None:
    out = audit.run(root, "rev-parse", "-q", "--verify", f"{REF}^{{commit}}", check=False)
    return out.strip() if out else None


def _blob(root: Path, spec: str) -> bytes:
    return audit.run(root, "cat-file", "blob", spec, text=False)


# --- reading and checking (every office) ------------------------------------------------------


def present(root: Path) -> bool:
    return _tip(root) is not None


def check(root: Path, central_key: str | None) -> tuple[list[Receipt], list[Problem]]:
    """The receipts of `root`, oldest first, and what is wrong with them: a receipt that does not
    read, one not signed by `central_key` (None: not pinned, so signatures go unchecked and one
    warning says so), a chain that forks, skips or starts anywhere but at a first receipt."""
    tip = _tip(root)
    if tip is None:
        return [], []
    problems: list[Problem] = []
    lines = audit.run(root, "rev-list", "--parents", "--topo-order", "--reverse", tip).split("\n")
    commits = [line.split() for line in lines if line.strip()]
    contents = audit.blobs(root, [f"{c[0]}:{name}" for c in commits for name in (JSON_FILE, SIG_FILE)])
    receipts: list[Receipt] = []
    if central_key is None:
        problems.append(Problem(REF, tr(
            "有 %d 张推送回执，但本档案库没有固定中央仓库的公钥，回执的签名无法核验；"
            "向中央仓库的管理员要公钥（wuye remote init-central --show-key），再 wuye remote add 远端 地址 --central 公钥",
            "%d push receipt(s), but this store has no central key pinned, so their signatures cannot be checked; "
            "ask the central's administrator for its key (wuye remote init-central --show-key), then wuye remote add NAME URL --central KEY")
            % len(commits), level="warning", code="receipt.unpinned"))
    previous: Receipt | None = None
    for commit, *parents in commits:
        short = commit[:10]
        expected_parents = [previous.commit] if previous else []
        if parents != expected_parents:
            problems.append(Problem(REF, tr("回执 %s 的父提交不是上一张回执（回执链被分叉或拼接）",
                                            "receipt %s does not have the previous receipt as its only parent (the chain was forked or spliced)") % short,
                                    code="receipt.chain"))
        data, sig = contents.get(f"{commit}:{JSON_FILE}"), contents.get(f"{commit}:{SIG_FILE}")
        receipt = _parse(commit, data)
        if receipt is None or sig is None:
            problems.append(Problem(REF, tr("回执 %s 无法读取（缺少 %s 或 %s，或不是规范 JSON 回执）",
                                            "receipt %s cannot be read (no %s or %s, or not a canonical JSON receipt)") % (short, JSON_FILE, SIG_FILE),
                                    code="receipt.malformed"))
            previous = None
            continue
        if central_key is not None:
            try:
                signing.verify(data, sig.decode("utf-8", "replace"), central_key, signing.RECEIPT_NAMESPACE)
            except signing.SignatureError as e:
                problems.append(Problem(REF, tr("%s 的签名不是固定的中央仓库密钥所签（%s）：此回执不可信",
                                                "%s is not signed by the pinned central key (%s): it cannot be trusted") % (receipt.describe(), e.message),
                                        code="receipt.signature"))
        if receipt.previous != (previous.digest if previous else None):
            problems.append(Problem(REF, tr("%s 所记的上一张回执摘要 %s 与实际的 %s 不符",
                                            "%s names %s as the receipt before, but that one is %s") % (
                receipt.describe(), receipt.previous, previous.digest if previous else tr("（无，这是第一张）", "(none, this is the first)")),
                                    code="receipt.chain"))
        receipts.append(receipt)
        previous = receipt
    return receipts, problems


def _parse(commit: str, data: bytes | None) -> Receipt | None:
    if data is None:
        return None
    try:
        obj = json.loads(data)
        if not isinstance(obj, dict) or set(obj) != set(_FIELDS) or signing.canonical_bytes(obj) != data:
            return None
        if not all(isinstance(obj[k], str) for k in ("ref", "old", "new", "time")):
            return None
        if obj["previous"] is not None and not isinstance(obj["previous"], str):
            return None
        time = datetime.fromisoformat(obj["time"])
        if time.tzinfo is None:
            return None
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python's parser goes
        return None
    return Receipt(commit, obj["ref"], obj["old"], obj["new"], time, obj["previous"], signing.digest(data))


def read(root: Path) -> list[Receipt]:
    """The receipts that read, oldest first, unchecked: for callers that have run `check`."""
    return check(root, None)[0]


def first_witnessed(store, commit: str) -> datetime | None:
    """When the central first witnessed `commit`: the time of the earliest receipt whose `new`
    head contains it; None if no receipt does (never pushed, or no receipts here).

    An upper bound for anything `commit` holds: it existed, on the server's clock, by then. Only
    as good as the receipts: verify's receipts check is what says they are signed and chained.
    The central takes fast-forwards only, so along one ref each receipt's head contains the one
    before: the first receipt containing `commit` is found by bisection, a few `merge-base`s.
    """
    root = Path(store) if isinstance(store, (str, os.PathLike)) else Path(store.root)
    by_ref: dict[str, list[Receipt]] = {}
    for receipt in read(root):
        by_ref.setdefault(receipt.ref, []).append(receipt)
    best: datetime | None = None
    for chain in by_ref.values():
        lo, hi = 0, len(chain)
        while lo < hi:
            mid = (lo + hi) // 2
            if _contains(root, chain[mid].new, commit):
                hi = mid
            else:
                lo = mid + 1
        if lo < len(chain):
            earliest = min(r.time for r in chain[lo:])
            best = earliest if best is None or earliest < best else best
    return best


def _contains(root: Path, head: str, commit: str) -> bool:
    return audit.read(root, ["merge-base", "--is-ancestor", commit, head], check=False) is not None
