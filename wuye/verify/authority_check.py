"""Verify's view of the authority chain: the chain from the pinned root, the files it vouches for,
and each signed entry against the history that holds it.

`check_authority` walks the chain (trust/authority.py) from the root pinned in this repository
(trust/pins.py, or `wuye verify --root FPR`) and requires staff/, allowed_signers, the workflow
and the money settings to equal its latest version. `history_problems` judges what signatures
alone cannot: when an entry entered history. An entry first committed in a commit that descends
from the version that closed its key (a revocation, a rotation) is refused whatever its
`signed_at` says; a `signed_at` later than its commit's time, or than the time the central
repository first received it (its signed push receipts, trust/receipts.py), is refused; an entry
that names no version, committed after the chain began, is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from wuye.errors import Problem
from wuye.i18n import tr
from wuye.storage import git as audit
from wuye.storage import layout
from wuye.storage.store import Store

STEP_FILES = "tenants/*/moveout/*/steps/*"


def check_authority(store: Store, ctx) -> list[Problem]:
    """The chain from the pinned root, and the authority files against its latest version."""
    from wuye.trust import authority

    chain = ctx.chain()
    pinned = ctx.pinned_root
    if chain.root is None and not chain.unreadable:
        has_staff = store.path(layout.STAFF_DIR).is_dir() and any(store.path(layout.STAFF_DIR).glob("*.yaml"))
        if has_staff or ctx.case_dirs():
            return [Problem(layout.AUTHORITY_DIR, tr(
                "没有授权链：staff/ 与签字无从核验；请由一位经理执行 `wuye trust init --as 经理`（见 README「信任」）",
                "there is no authority chain, so staff/ and signatures cannot be vouched for; a manager runs `wuye trust init --as MANAGER` (README, Trust)"),
                code="authority.missing")]
        return []
    out = chain.problems(pinned)
    if out:
        return out
    if pinned is None:
        out.append(Problem(layout.AUTHORITY_DIR, tr(
            "本处尚未固定授权链的根（%s）；请向管理处核实指纹后执行 `wuye verify --root %s`",
            "the authority root (%s) is not pinned here; check the fingerprint with the office, then run `wuye verify --root %s`")
            % (chain.root.fingerprint, chain.root.fingerprint), level="warning", code="authority.root-unpinned"))
    out += authority.file_problems(store, chain.latest)
    return out


@dataclass
class History:
    """When each signed file entered history: its first commit (hash, committer time)."""

    first: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)


def load_history(store: Store) -> History:
    """One walk of the history: the oldest commit adding each step entry and authority record."""
    h = History()
    if audit.head(store.root) is None:
        return h
    out = audit.read(store.root, ["log", "--format=%x1e%H %ct", "--diff-filter=A", "--name-only", "--no-renames",
                                  "HEAD", "--", STEP_FILES, f"{layout.AUTHORITY_DIR}/*.yaml"]) or ""
    commit = None
    for line in out.split("\n"):
        if line.startswith("\x1e"):
            sha, _, when = line[1:].partition(" ")
            commit = (sha, dt.datetime.fromtimestamp(int(when), dt.timezone.utc))
        elif line and commit is not None:
            h.first[line] = commit  # newest first: the last one seen is the oldest
    return h


def _descends(store: Store, ancestor: str, commit: str | None) -> bool:
    """Whether `commit` (None: not committed yet, i.e. after HEAD) descends from `ancestor`."""
    return audit.read(store.root, ["merge-base", "--is-ancestor", ancestor, commit or "HEAD"], check=False) is not None


def closed_keys(chain) -> list[tuple[str, str, str]]:
    """(staff id, key blob, authority rel) for every key a version closed (revoked or rotated)."""
    out = []
    for prev, v in zip(chain.versions, chain.versions[1:]):
        for sid, m in v.record.staff.items():
            before = prev.record.staff.get(sid)
            if before is None:
                continue
            was_open = {k.public_key.split()[1] for k in before.keys if k.revoked_at is None}
            for k in m.keys:
                blob = k.public_key.split()[1]
                if blob in was_open and k.revoked_at is not None:
                    out.append((sid, blob, v.rel))
    return out


def history_problems(store: Store, ctx, case) -> list[Problem]:
    """The entries of `case` against when they entered history."""
    from wuye.moveout.cases import SIGNED_AT_TOLERANCE
    from wuye.trust import signing

    chain = ctx.chain()
    if chain.root is None:
        return []
    hist = ctx.history()
    root_commit = hist.first.get(chain.root.rel)
    out = []
    for e in case.entries:
        data = e.data
        first = hist.first.get(e.rel)
        commit, when = first if first else (None, store.now())
        where = commit[:10] if commit else tr("（未提交）", "(not committed)")
        try:
            signed_at = dt.datetime.fromisoformat(str(data.get("signed_at")))
        except ValueError:
            continue  # the entry's own check says so
        if signed_at.tzinfo is not None and signed_at > when + SIGNED_AT_TOLERANCE:
            out.append(Problem(e.rel, tr("签字时间 %s 晚于载入它的提交 %s（%s）：签字时间不可信",
                                         "signed at %s, later than commit %s that brought it in (%s): the signing time is not credible")
                               % (signed_at, where, when.isoformat()), code="entry.signed-after-commit"))
        seen = ctx.witnessed(commit) if commit else None
        if seen is not None and signed_at.tzinfo is not None and signed_at > seen + SIGNED_AT_TOLERANCE:
            out.append(Problem(e.rel, tr("签字时间 %s 晚于中央仓库首次收到它的时间 %s（推送回执）：签字时间不可信",
                                         "signed at %s, later than the central repository first received it (%s, by its push receipt): the signing time is not credible")
                               % (signed_at, seen.isoformat()), code="entry.signed-after-receipt"))
        if data.get("authority") is None and root_commit is not None and _descends(store, root_commit[0], commit):
            out.append(Problem(e.rel, tr("条目未注明授权版本，却是在授权链建立（提交 %s）之后才提交的",
                                         "the entry names no authority version, yet was committed after the chain began (commit %s)")
                               % root_commit[0][:10], code="entry.authority-missing"))
        try:
            blob = signing.signature_public_key(str(data.get("signature"))).split()[1]
        except (signing.SignatureError, IndexError):
            continue
        for sid, key, rel in ctx.closed_keys():
            if sid == data.get("signer") and key == blob:
                closing = hist.first.get(rel)
                if closing is not None and _descends(store, closing[0], commit):
                    out.append(Problem(e.rel, tr("提交 %s 在吊销或更换此签字密钥的授权版本（%s，提交 %s）之后才载入此条目：不论 signed_at 如何，均不予承认",
                                                 "commit %s brought this entry in after the authority version that closed its key (%s, commit %s): refused whatever signed_at says")
                                       % (where, rel, closing[0][:10]), code="entry.after-revocation"))
    return out
