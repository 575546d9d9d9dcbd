"""The authority chain (授权链): who may sign what is itself signed, from a root pinned out of band.

`staff/`, `allowed_signers`, `workflows/moveout.yaml` and the fees, rates and proration of `wuye.yaml` are the
store's authority. They change only by a new version `authority/<n>.yaml` that names the digest of
version n-1 and is signed (SSHSIG, namespace `wuye-authority`, over the RFC 8785 bytes of the record
without its signatures) by `threshold` distinct managers of version n-1, as TUF root metadata and
in-toto layouts are. Version 1, the root, is signed by the threshold of its own managers; its
fingerprint is what an office pins (trust/pins.py). The one change a non-manager may sign is the
rotation of their own key, with their current key: nothing else of the version may differ.

With a threshold above 1 the first manager's command writes a proposal
(`authority/proposals/<n>.yaml`: the record with one signature, and the files it will write) and
`wuye trust approve n` by further managers completes it; until then staff/ and the rest are as
before. The files stay plain and readable; `file_problems` checks that they equal the latest version.

This module judges records; it never trusts the checkout's staff/ for that. It knows nothing of
cases or git history (verify/ walks history; moveout/ judges entries by the version they name).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import layout, yamlio
from wuye.storage.store import Store
from wuye.trust import signing

NAMESPACE = signing.AUTHORITY_NAMESPACE
DIR = layout.AUTHORITY_DIR
PROPOSALS = layout.PROPOSALS_DIR
# The money settings of wuye.yaml a settlement depends on: part of the authority. The proration
# rule is `moveout.proration` in wuye.yaml and `proration` in a version, written only when it
# prorates, so that a chain that never prorated keeps the records it always had.
MONEY = ("fees", "rates", "proration")


def money_of(obj) -> dict:
    """The money settings of a StoreConfig (wuye.yaml) or of an AuthorityRecord, as plain data."""
    from wuye.models.store import StoreConfig

    rule = obj.moveout.proration if isinstance(obj, StoreConfig) else obj.proration
    return {"fees": yamlio.plain(obj.fees.model_dump()), "rates": yamlio.plain(obj.rates.model_dump()), "proration": rule}


def rel_of(version: int) -> str:
    return f"{DIR}/{version:04d}.yaml"


def proposal_rel(version: int) -> str:
    return f"{PROPOSALS}/{version:04d}.yaml"


def body_of(data: dict) -> bytes:
    """The signed bytes of a record: RFC 8785 canonical JSON of everything but its signatures."""
    return signing.canonical_bytes({k: v for k, v in data.items() if k != "signatures"})


def fingerprint(body: bytes) -> str:
    """`SHA256:<base64>` of a record's signed bytes, written as OpenSSH writes key fingerprints."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(body).digest()).decode().rstrip("=")


def file_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Version:
    """One authority record as stored: raw data, signed bytes, digest, and the validated record."""

    rel: str
    data: dict
    body: bytes
    record: object  # models.authority.AuthorityRecord

    @property
    def number(self) -> int:
        return self.record.authority

    @cached_property
    def digest(self) -> str:
        return signing.digest(self.body)

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.body)

    @cached_property
    def members(self) -> dict:
        """The staff of this version as `Staff` models (the same class staff/ files load into)."""
        from wuye.models.store import Staff

        return {sid: Staff(id=sid, **m.model_dump()) for sid, m in self.record.staff.items()}

    def member(self, staff_id: str):
        return self.members.get(staff_id)

    def managers(self) -> dict:
        """Managers who may sign the next version: in management, not revoked, with a current key."""
        return {sid: m for sid, m in self.members.items()
                if "management" in m.departments and m.revoked_at is None and m.current_key() is not None}


def parse(data, rel: str, text: str | None = None) -> Version:
    """A record read from `rel`, refused with located problems when it is not one."""
    from wuye.models.authority import AuthorityRecord

    if not isinstance(data, dict):
        raise WuyeError(tr("%s：授权记录应为映射", "%s: an authority record must be a mapping") % rel,
                        [Problem(rel, tr("授权记录应为映射", "an authority record must be a mapping"), code="authority.invalid")])
    record = yamlio.validated(AuthorityRecord, data, rel, text)
    try:
        body = body_of(data)
    except (ValueError, TypeError) as e:
        raise WuyeError(tr("%s：无法规范化（被手工改过？）：%s", "%s: cannot be canonicalised (hand-edited?): %s") % (rel, e),
                        [Problem(rel, tr("无法规范化：%s", "cannot be canonicalised: %s") % e, code="authority.invalid")]) from None
    return Version(rel, data, body, record)


def version_numbers(store: Store) -> list[int]:
    d = store.path(DIR)
    try:
        names = sorted(p.name for p in d.iterdir() if p.is_file())
    except OSError:
        return []
    out = []
    for name in names:
        stem = name[:-5] if name.endswith(".yaml") else ""
        if stem.isdigit() and len(stem) >= 4:
            out.append(int(stem))
    return sorted(out)


def load(store: Store) -> "Chain":
    """Every authority record of the checkout, read (not yet judged): see `Chain.problems`."""
    chain = Chain()
    for n in version_numbers(store):
        rel = rel_of(n)
        if not store.path(rel).is_file():  # e.g. authority/01.yaml next to 0001.yaml is not a version
            continue
        try:
            data, text = store.read_data(rel)
            chain.versions.append(parse(data, rel, text))
        except WuyeError as e:
            chain.unreadable += e.problems or [Problem(rel, str(e), code="authority.invalid")]
    return chain


@dataclass
class Chain:
    versions: list[Version] = field(default_factory=list)
    unreadable: list[Problem] = field(default_factory=list)

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def root(self) -> Version | None:
        return self.versions[0] if self.versions else None

    def at(self, number) -> Version | None:
        if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= len(self.versions):
            v = self.versions[number - 1]
            return v if v.number == number else None
        return None

    def problems(self, pinned_root: str | None = None) -> list[Problem]:
        """Everything wrong with the chain itself: numbering, links, signatures, the pinned root."""
        out = list(self.unreadable)
        if out:
            return out
        for i, v in enumerate(self.versions, start=1):
            if v.number != i or v.rel != rel_of(i):
                out.append(Problem(v.rel, tr("授权版本号应为 %d（版本须从 1 起逐一递增，文件名即版本号）",
                                             "the authority version should be %d (versions count up from 1; the file name is the number)") % i,
                                   code="authority.numbering"))
                return out
        for i, v in enumerate(self.versions):
            prev = self.versions[i - 1] if i else None
            if prev is None:
                if v.record.previous is not None or v.record.change != "init":
                    out.append(Problem(v.rel, tr("根版本（第 1 版）不能指向上一版本，变更须为 init",
                                                 "the root (version 1) names no previous version and its change is init"),
                                       code="authority.root-invalid"))
                if pinned_root is not None and v.fingerprint != pinned_root:
                    out.append(Problem(v.rel, tr("根版本的指纹 %s 与本处固定的根 %s 不符：这不是本处认可的档案库授权",
                                                 "the root's fingerprint %s is not the root pinned here (%s): this is not the authority this office trusts")
                                       % (v.fingerprint, pinned_root), code="authority.root-mismatch"))
            elif v.record.previous != prev.digest:
                out.append(Problem(v.rel, tr("previous 与第 %d 版的摘要不符：授权链断开或分叉（两个版本接在同一版本之后？）",
                                             "previous does not match version %d's digest: the chain is broken or forked (two versions after one?)") % prev.number,
                                   code="authority.chain-broken"))
                continue
            out += signature_problems(prev, v)
        return out


def _verified_signers(judge: Version, new: Version) -> dict[str, str]:
    """{staff id: public key} of the signatures on `new` that verify with a current key of a
    member of `judge` (the previous version; the root judges itself). A signer counted once."""
    found: dict[str, str] = {}
    used_keys: set[tuple[str, ...]] = set()
    for sig in new.record.signatures:
        member = judge.member(sig.signer)
        if member is None or member.revoked_at is not None or sig.signer in found:
            continue
        key = member.current_key()
        if key is None or tuple(key.public_key.split()[:2]) in used_keys:
            continue
        try:
            signing.verify(new.body, sig.signature, key.public_key, namespace=NAMESPACE)
        except signing.SignatureError:
            continue
        found[sig.signer] = key.public_key
        used_keys.add(tuple(key.public_key.split()[:2]))
    return found


def _self_rotation(prev: Version, new: Version, signers: dict[str, str]) -> bool:
    """A member rotating their own key, signed by their current key: the one change a person who
    is not a manager may make. Nothing but that member's keys may differ, and only as a rotation
    does it: the current key closed, one new key opened at the same moment."""
    sid = new.record.subject
    if new.record.change != "key.rotate" or sid not in signers or sid not in prev.record.staff:
        return False
    a, b = prev.record, new.record
    if (a.threshold, a.workflow, a.fees, a.rates, a.proration) != (b.threshold, b.workflow, b.fees, b.rates, b.proration):
        return False
    if set(a.staff) != set(b.staff) or any(a.staff[k] != b.staff[k] for k in a.staff if k != sid):
        return False
    old, nxt = a.staff[sid], b.staff[sid]
    if old.model_dump(exclude={"keys"}) != nxt.model_dump(exclude={"keys"}) or len(nxt.keys) != len(old.keys) + 1:
        return False
    current = prev.member(sid).current_key()
    closed = [k.model_copy(update={"revoked_at": nxt.keys[-1].valid_from}) if k == current else k for k in old.keys]
    return closed == nxt.keys[:-1] and nxt.keys[-1].revoked_at is None


def authorised(prev: Version | None, new: Version) -> tuple[bool, int]:
    """(whether `new` carries enough valid signatures, how many more managers it needs)."""
    judge = prev or new
    signers = _verified_signers(judge, new)
    managers = judge.managers()
    have = len([s for s in signers if s in managers])
    need = judge.record.threshold
    if have >= need:
        return True, 0
    if prev is not None and _self_rotation(prev, new, signers):
        return True, 0
    return False, need - have


def signature_problems(prev: Version | None, new: Version) -> list[Problem]:
    ok, missing = authorised(prev, new)
    if ok:
        return []
    judge = prev or new
    return [Problem(new.rel, tr("第 %d 版缺少 %d 位有效的管理层签名（须 %d 位第 %d 版中的管理层以当时有效的密钥签署，同一人只计一次）",
                                "version %d lacks %d valid management signature(s) (it needs %d distinct managers of version %d, each with a key valid then)")
                    % (new.number, missing, judge.record.threshold, judge.number), code="authority.threshold")]


# --- the files must be what the chain says ---------------------------------------------------


def allowed_signers_text(members) -> str:
    lines = ["# 由 wuye 根据 staff/ 自动生成，请勿手工编辑 / generated by wuye from staff/, do not edit"]
    for s in sorted(members, key=lambda m: m.id):
        for k in s.keys:
            lines.append(signing.allowed_signers_line(s.id, k.public_key, k.valid_from, k.revoked_at))
    return "\n".join(lines) + "\n"


def file_problems(store: Store, latest: Version) -> list[Problem]:
    """staff/, allowed_signers, the workflow file and the money settings against the latest version."""
    from wuye.models.store import Staff

    out = []

    def bad(rel, zh, en, *, code):
        out.append(Problem(rel, tr(zh, en), code=code))

    staff_dir = store.path(layout.STAFF_DIR)
    on_disk = sorted(p.stem for p in staff_dir.glob("*.yaml")) if staff_dir.is_dir() else []
    for sid in on_disk:
        rel = f"{layout.STAFF_DIR}/{sid}.yaml"
        want = latest.member(sid)
        if want is None:
            bad(rel, "授权链中没有此员工：staff/ 中的人只能经管理层签署的授权版本登记",
                "not in the authority chain: staff are registered only through an authority version signed by management",
                code="authority.staff-unlisted")
            continue
        try:
            have = store.read_model(rel, Staff)
        except WuyeError:
            continue  # reported by the staff check, with its line
        if have.model_dump(mode="json") != want.model_dump(mode="json"):
            bad(rel, "与授权链第 %d 版不符（部门、密钥或停用时间被改动）" % latest.number,
                "differs from authority version %d (departments, keys or revocation edited)" % latest.number,
                code="authority.staff-mismatch")
    for sid in sorted(set(latest.members) - set(on_disk)):
        bad(f"{layout.STAFF_DIR}/{sid}.yaml", "授权链第 %d 版登记了此员工，但文件缺失" % latest.number,
            "authority version %d registers this member, but the file is missing" % latest.number, code="authority.staff-missing")
    expected = allowed_signers_text(latest.members.values())
    p = store.path(layout.ALLOWED_SIGNERS)
    if not p.is_file() or p.read_text(encoding="utf-8", errors="replace") != expected:
        bad(layout.ALLOWED_SIGNERS, "与授权链第 %d 版的公钥不一致（被手工改动或缺失）；`wuye doctor --fix` 可按授权链重建" % latest.number,
            "does not match the keys of authority version %d (edited by hand or missing); `wuye doctor --fix` rebuilds it from the chain" % latest.number,
            code="staff.allowed-signers-mismatch")
    wf = store.path(layout.WORKFLOW)
    if not wf.is_file() or file_digest(wf.read_bytes()) != latest.record.workflow:
        bad(layout.WORKFLOW, "与授权链第 %d 版不符：流程改动须经管理层签署（`wuye trust update --as 经理`）" % latest.number,
            "differs from authority version %d: a workflow change must be signed by management (`wuye trust update --as MANAGER`)" % latest.number,
            code="authority.workflow-mismatch")
    try:
        config = store.config
    except WuyeError:
        return out  # reported by the settings check
    have, signed = money_of(config), money_of(latest.record)
    for part in MONEY:
        if have[part] != signed[part]:
            key = "moveout.proration" if part == "proration" else part
            bad(layout.CONFIG, "%s 与授权链第 %d 版不符：收费标准、单价和折算规则的改动须经管理层签署（`wuye trust update --as 经理`）" % (key, latest.number),
                "%s differs from authority version %d: fee, rate and proration changes must be signed by management (`wuye trust update --as MANAGER`)" % (key, latest.number),
                code="authority.settings-mismatch")
    return out


# --- making a version --------------------------------------------------------------------------


@dataclass
class Outcome:
    version: int
    complete: bool  # False: a proposal waiting for approvals
    missing: int = 0
    fingerprint: str | None = None  # of the root, when this made one
    commit: str | None = None


def current(store: Store) -> Version | None:
    """The latest version of the checkout, refused when the chain is unreadable or broken: nothing
    is built on a chain that does not check out."""
    from wuye.trust import pins

    chain = load(store)
    problems = chain.problems(pins.read(store.root).get("root"))
    if problems:
        raise WuyeError(tr("授权链校验不通过，不能在其上修改；请运行 `wuye verify` 查明：\n",
                           "the authority chain fails verification, so nothing can be changed on it; run `wuye verify`:\n")
                        + "\n".join(str(p) for p in problems), problems)
    return chain.latest


def pending(store: Store) -> list[int]:
    d = store.path(PROPOSALS)
    try:
        return sorted(int(p.stem) for p in d.iterdir() if p.suffix == ".yaml" and p.stem.isdigit())
    except OSError:
        return []


def record_data(store: Store, base: Version | None, actor_id: str, change: str, subject: str | None,
                members, *, threshold: int | None = None, workflow: str | None = None, money: dict | None = None) -> dict:
    """A new version's data (unsigned): `members` replace the staff; the rest carried from `base`
    unless given."""
    number = base.number + 1 if base else 1
    if money is None:
        money = money_of(base.record) if base else money_of(store.config)
    data = {
        "authority": number,
        "previous": base.digest if base else None,
        "made_at": store.now().isoformat(),
        "made_by": actor_id,
        "change": change,
        "subject": subject,
        "threshold": threshold if threshold is not None else (base.record.threshold if base else 1),
        "staff": {m.id: yamlio.plain(m.model_dump(exclude={"id"})) for m in sorted(members, key=lambda m: m.id)},
        "workflow": workflow or (base.record.workflow if base else file_digest(store.path(layout.WORKFLOW).read_bytes())),
        "fees": money["fees"],
        "rates": money["rates"],
        "proration": money.get("proration") if money.get("proration", "none") != "none" else None,
        "signatures": [],
    }
    return {k: v for k, v in data.items() if v is not None}


def sign_data(data: dict, signer_id: str, private_key=None) -> None:
    """Add `signer_id`'s signature (their private key on this machine, unless given)."""
    key = private_key if private_key is not None else signing.load_private_key(signer_id)
    signature = signing.sign(body_of(data), key, namespace=NAMESPACE)
    data["signatures"] = [s for s in data.get("signatures", []) if s.get("signer") != signer_id] + \
        [{"signer": signer_id, "signature": yamlio.literal(signature)}]


def _plain_sigs(data: dict) -> dict:
    return {**data, "signatures": [{"signer": s["signer"], "signature": str(s["signature"])} for s in data.get("signatures", [])]}


def _as_version(data: dict, rel: str) -> Version:
    plain = _plain_sigs(data)
    return parse(plain, rel)


def refuse_if_pending(store: Store) -> None:
    waiting = pending(store)
    if waiting:
        n = waiting[0]
        raise WuyeError(tr("授权第 %d 版的提议尚待批准；请先 `wuye trust approve %d --as 经理`，或 `wuye trust reject %d --as 经理`",
                           "authority version %d is proposed and awaits approval; first `wuye trust approve %d --as MANAGER` or `wuye trust reject %d --as MANAGER`")
                        % (n, n, n))


def enact(store: Store, ch, data: dict, files: dict[str, str | None], base: Version | None) -> Outcome:
    """Write a signed version with its files in `ch`, or, short of signatures, a proposal.

    The caller has signed `data` (sign_data) and knows whether the signer may propose at all; this
    writes what the signatures allow: a complete version when they meet the rule, else a proposal
    when a manager signed (`wuye trust approve` completes it), else a refusal naming the rule.
    """
    number = data["authority"]
    v = _as_version(data, rel_of(number))
    ok, missing = authorised(base, v)
    if ok:
        ch.write(rel_of(number), yamlio.dumps(data))
        for rel, text in files.items():
            if text is None:
                ch.delete(rel)
            else:
                ch.write(rel, text)
                ch.keep(rel)  # committed even when the working tree already holds it (a hand edit signed)
        return Outcome(number, True, fingerprint=v.fingerprint if base is None else None)
    judge = base or v
    if not any(s.signer in judge.managers() for s in v.record.signatures):
        raise WuyeError(tr("只有管理层可以做这项改动（登记员工、改部门、为他人发密钥、停用、改流程或收费）；请用 --as 经理",
                           "only management may make this change (register staff, change departments, issue another's key, revoke, change the workflow or fees); use --as MANAGER"))
    ch.write(proposal_rel(number), yamlio.dumps({"record": data, "files": {k: (yamlio.literal(t) if t else t) for k, t in files.items()}}))
    return Outcome(number, False, missing)


def load_proposal(store: Store, number: int) -> tuple[dict, dict]:
    rel = proposal_rel(number)
    if not store.path(rel).is_file():
        raise WuyeError(tr("没有待批准的授权第 %d 版；用 `wuye trust show` 查看", "no proposal for authority version %d; see `wuye trust show`") % number)
    from wuye.models.authority import Proposal

    data, text = store.read_data(rel)
    yamlio.validated(Proposal, data, rel, text)
    files = {k: (str(v) if v is not None else None) for k, v in data["files"].items()}
    for rel_file in files:
        if layout.match(rel_file) is None or rel_file.startswith(DIR + "/"):
            raise WuyeError(tr("%s：提议要写的文件 %s 不是档案库里的位置", "%s: the proposal writes %s, which has no place in a store") % (rel, rel_file))
    return dict(data["record"]), files


def approve(store: Store, number: int, actor) -> Outcome:
    """A further manager's signature on a proposal; at the threshold the version is written."""
    with store.change(tr("authority %d: %s 批准", "authority %d: approved by %s") % (number, actor.name),
                      author=actor, trailers={"Wuye-Authority": str(number), "Wuye-Actor": actor.id}) as ch:
        base = current(store)
        data, files = load_proposal(store, number)
        if (base.number if base else 0) + 1 != number or data.get("previous") != (base.digest if base else None):
            raise WuyeError(tr("提议的第 %d 版已过时（授权链在其后已有改动）；请 `wuye trust reject %d` 后重新提出",
                               "the proposed version %d is stale (the chain changed since); `wuye trust reject %d` and propose again") % (number, number))
        judge = base or _as_version(data, rel_of(number))
        if actor.id not in judge.managers():
            raise WuyeError(tr("%s 不是第 %d 版中持有有效密钥的管理层，不能批准", "%s is not a manager with a valid key in version %d and cannot approve")
                            % (actor.id, judge.number))
        if any(s.get("signer") == actor.id for s in data.get("signatures", [])):
            raise WuyeError(tr("%s 已签署此提议；须由另一位管理层批准", "%s already signed this proposal; another manager must approve it") % actor.id)
        sign_data(data, actor.id)
        data["signatures"] = [{"signer": s["signer"], "signature": yamlio.literal(str(s["signature"]))} for s in data["signatures"]]
        outcome = enact(store, ch, data, files, base)
        if outcome.complete:
            ch.delete(proposal_rel(number))
    outcome.commit = ch.commit
    return outcome


def reject(store: Store, number: int, actor) -> None:
    with store.change(tr("authority %d: %s 撤回提议", "authority %d: proposal withdrawn by %s") % (number, actor.name),
                      author=actor, trailers={"Wuye-Authority": str(number), "Wuye-Actor": actor.id}) as ch:
        load_proposal(store, number)
        base = current(store)
        if base is not None and actor.id not in base.managers():
            raise WuyeError(tr("只有管理层可以撤回提议", "only management may withdraw a proposal"))
        ch.delete(proposal_rel(number))


# --- founding and updating the chain ---------------------------------------------------------


def found(store: Store, ch, founders, threshold: int = 1, *, money: dict | None = None, workflow: str | None = None) -> Outcome:
    """The root: `founders` (Staff, each with a current key and its private key here) register
    themselves and sign; with fewer signatures than `threshold` the root waits as a proposal."""
    if threshold < 1 or threshold > len([m for m in founders if "management" in m.departments]):
        raise WuyeError(tr("门槛须在 1 到管理层人数（%d）之间", "the threshold must be between 1 and the number of managers (%d)")
                        % len([m for m in founders if "management" in m.departments]))
    managers = [m for m in founders if "management" in m.departments and m.current_key() is not None
                and signing.private_key_path(m.id).is_file()]
    if not managers:
        raise WuyeError(tr("建立授权链须有一位在本机持有私钥的管理层", "founding the chain needs a manager whose private key is on this machine"))
    data = record_data(store, None, managers[0].id, "init", None, founders, threshold=threshold, money=money, workflow=workflow)
    for m in managers[:threshold]:
        sign_data(data, m.id)
    files = {f"{layout.STAFF_DIR}/{m.id}.yaml": yamlio.dumps(yamlio.plain(m.model_dump())) for m in founders}
    files[layout.ALLOWED_SIGNERS] = allowed_signers_text(founders)
    outcome = enact(store, ch, data, files, None)
    outcome.fingerprint = _as_version(data, rel_of(1)).fingerprint
    return outcome


def trust_init(store: Store, actor_id: str | None, threshold: int = 1) -> Outcome:
    """`wuye trust init`: the root for a store made before the chain, from its staff files as they
    are, signed by the manager acting (given a key if they have none). Done once."""
    import os

    from wuye.models.store import StaffKey
    from wuye.trust import pins

    actor_id = actor_id or os.environ.get("WUYE_USER")
    if not actor_id:
        raise WuyeError(tr("请用 --as 经理 说明由哪位管理层建立授权链", "say which manager founds the chain with --as MANAGER"))
    if version_numbers(store) or pending(store):
        raise WuyeError(tr("此档案库已有授权链；用 `wuye trust show` 查看", "this store already has an authority chain; see `wuye trust show`"))
    members = {}
    d = store.path(layout.STAFF_DIR)
    for p in sorted(d.glob("*.yaml")) if d.is_dir() else []:
        members[p.stem] = store.staff(p.stem)
    actor = members.get(actor_id)
    if actor is None or "management" not in actor.departments or actor.revoked_at is not None:
        raise WuyeError(tr("%s 不是 staff/ 中在职的管理层，不能建立授权链", "%s is not a serving manager in staff/ and cannot found the chain") % actor_id)
    pem = None
    if actor.current_key() is None:
        if signing.private_key_path(actor_id).exists():
            raise WuyeError(tr("本机已有 %s 的私钥（%s），但 staff/ 中没有其公钥", "this machine has a private key of %s (%s), but staff/ has no public key of theirs")
                            % (actor_id, signing.private_key_path(actor_id)))
        pem, public = signing.generate_key(f"{actor_id}@wuye")
        actor = actor.model_copy(update={"keys": [*actor.keys, StaffKey(public_key=public, valid_from=store.now())]})
        members[actor_id] = actor
    elif not signing.private_key_path(actor_id).is_file():
        raise WuyeError(tr("本机没有 %s 的私钥（%s）；请在持有该私钥的电脑上执行", "this machine has no private key of %s (%s); run this where it is")
                        % (actor_id, signing.private_key_path(actor_id)))
    saved = None
    try:
        with store.change(tr("authority 1: %s 建立授权链的根", "authority 1: %s founds the authority chain") % actor.name,
                          author=actor, trailers={"Wuye-Authority": "1", "Wuye-Actor": actor_id}) as ch:
            if pem is not None:
                saved = signing.save_private_key(actor_id, pem, public)
            ordered = [actor] + [m for sid, m in members.items() if sid != actor_id]
            outcome = found(store, ch, ordered, threshold)
            # the root signs itself by its founders; only the acting manager's key is here
            if not outcome.complete:
                ch.summary = tr("authority 1 提议（待批准）：", "authority 1 proposed (awaits approval): ") + ch.summary
    except BaseException:
        if saved is not None:
            saved.unlink(missing_ok=True)
            Path(str(saved) + ".pub").unlink(missing_ok=True)
        raise
    if outcome.complete:
        pins.write(store.root, root=outcome.fingerprint)
    outcome.commit = ch.commit
    return outcome


def update(store: Store, actor_id: str | None, threshold: int | None = None, check=None) -> Outcome:
    """`wuye trust update`: sign the workflow file and the fees and rates of wuye.yaml as they now
    are (edited by hand), and the threshold if given, into a new version."""
    import os

    actor_id = actor_id or os.environ.get("WUYE_USER")
    base = current(store)
    if base is None:
        raise WuyeError(tr("此档案库还没有授权链；请先 `wuye trust init --as 经理`", "this store has no authority chain yet; first `wuye trust init --as MANAGER`"))
    actor = base.member(actor_id) if actor_id else None
    if actor is None or actor_id not in base.managers():
        raise WuyeError(tr("改动流程、收费标准或门槛须由管理层签署；请用 --as 经理", "changing the workflow, the fees or the threshold takes a manager; use --as MANAGER"))
    refuse_if_pending(store)
    if threshold is not None and not 1 <= threshold <= len(base.managers()):
        raise WuyeError(tr("门槛须在 1 到在职管理层人数（%d）之间", "the threshold must be between 1 and the number of serving managers (%d)")
                        % len(base.managers()))
    if check is not None:
        check(store)  # the workflow file must be sound before anyone signs it
    config = store.config
    money = money_of(config)
    workflow = file_digest(store.path(layout.WORKFLOW).read_bytes())
    same = (workflow == base.record.workflow and (threshold or base.record.threshold) == base.record.threshold
            and money == money_of(base.record))
    if same:
        raise WuyeError(tr("流程文件、收费标准、单价和门槛与授权链第 %d 版相同，无需签署", "the workflow, fees, rates and threshold are those of authority version %d; nothing to sign")
                        % base.number)
    change = "threshold" if threshold not in (None, base.record.threshold) else "settings"
    with store.change(tr("authority %d: %s 签署流程与收费标准", "authority %d: workflow and fees signed by %s") % (base.number + 1, actor.name),
                      author=actor, trailers={"Wuye-Authority": str(base.number + 1), "Wuye-Actor": actor.id}) as ch:
        base = current(store)
        data = record_data(store, base, actor.id, change, None, base.members.values(), threshold=threshold,
                           workflow=workflow, money=money)
        sign_data(data, actor.id)
        edited = {rel: store.path(rel).read_text(encoding="utf-8") for rel in (layout.CONFIG, layout.WORKFLOW)}
        outcome = enact(store, ch, data, edited, base)
        if outcome.complete:
            for rel in edited:
                ch.keep(rel)
        else:
            ch.summary = tr("authority %d 提议（待批准）：", "authority %d proposed (awaits approval): ") % outcome.version + ch.summary
    outcome.commit = ch.commit
    return outcome


# --- signing under the chain (step entries, the ledger's seals) ---------------------------


def signing_version(store: Store, actor, department: str) -> Version:
    """The latest authority version, under which `actor` signs for `department`: the chain must
    verify, the checkout's staff/ and workflow must be what it says, and it must know the actor
    in that department. Signing on an authority that does not check out would sign a forgery."""
    version = current(store)  # judged from the pinned root
    if version is None:
        raise WuyeError(tr("此档案库还没有授权链，不能签字；请先由一位经理执行 `wuye trust init --as 经理`（见 README「信任」）",
                           "this store has no authority chain, so nothing can be signed; a manager first runs `wuye trust init --as MANAGER` (README, Trust)"))
    problems = file_problems(store, version)
    if problems:
        raise WuyeError(tr("档案库的授权文件与授权链不符，不能签字；请运行 `wuye verify` 查明：\n",
                           "the store's authority files differ from the chain, so nothing can be signed; run `wuye verify`:\n")
                        + "\n".join(str(p) for p in problems), problems)
    member = version.member(actor.id)
    if member is None or member.revoked_at is not None or department not in member.departments:
        raise WuyeError(tr("授权链第 %d 版中 %s 不能以 %s 签字", "in authority version %d, %s may not sign for %s")
                        % (version.number, actor.id, department))
    return version


def private_key_for(actor):
    """The actor's private key on this machine, refused unless it is their current registered key."""
    key = actor.current_key()
    if key is None:
        raise WuyeError(tr("%s 没有有效的签名密钥；请用 `wuye staff key %s` 发放",
                           "%s has no valid signing key; issue one with `wuye staff key %s`") % (actor.id, actor.id))
    private = signing.load_private_key(actor.id)
    public = signing.public_line_from_private(_pem(actor.id), "")
    if public.split()[:2] != key.public_key.split()[:2]:
        raise WuyeError(tr("本机 %s 的私钥（%s）不是 staff/%s.yaml 中登记的当前密钥；请换用正确的密钥或重新发放",
                           "the private key for %s on this machine (%s) is not the current key in staff/%s.yaml; use the right key or issue a new one") % (actor.id, signing.private_key_path(actor.id), actor.id))
    return private


def _pem(staff_id: str) -> bytes:
    return signing.private_key_path(staff_id).read_bytes()
