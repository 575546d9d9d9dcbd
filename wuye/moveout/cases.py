"""Move-out cases (客户迁出): opening a case, signing its steps, settling, closing.

A case is `tenants/<id>/moveout/<case-id>/` with `case.yaml` and one signed entry per sign-off in
`steps/` (`<step>.yaml`, corrections `<step>.<n>.yaml`). An entry names the digests of the
entries it depends on (`needs`), so a case is a hash DAG like git's own and the two inspections
can be signed on different machines. Before anything is signed, every entry already in the case
is verified: nobody signs on top of a forged step. The workflow (workflow.py) says who may sign
what and after which steps; the management standards (standards.py) guard the closing step.
A started case is withdrawn (a tenant who renews) by a signed cancellation, `steps/cancel.yaml`,
which seals the entries before it as the closing entry does: nothing is signed in it afterwards.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from wuye.trust import authority as authority_signing
from wuye.trust import signing
from wuye.storage import layout, yamlio
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage.store import Store

CASE_RE = layout.CASE_ID
CANCEL = "cancel"  # models.workflow.CANCEL, without importing pydantic on the look-up path
# Clocks of different machines disagree a little: a signing time may be this much before the
# authority version it names (made on another machine), or after the commit that holds it.
SIGNED_AT_TOLERANCE = dt.timedelta(minutes=5)
ENTRY_RE = re.compile(r"(?P<step>[A-Za-z0-9][A-Za-z0-9_-]{0,63})(?:\.(?P<rev>[1-9][0-9]*))?\.yaml")


@dataclass
class SignedEntry:
    """A step entry as stored: its raw data, the bytes that were signed, and their digest."""

    rel: str
    data: dict
    payload: bytes
    digest: str

    @property
    def step(self) -> str:
        return self.data.get("step", "")

    @property
    def revision(self) -> int:
        return self.data.get("revision", 1)

    @property
    def file(self) -> str:
        return self.rel.rsplit("/", 1)[-1]


@dataclass
class Case:
    id: str
    tenant_id: str
    dir: str  # relative to the store
    info: dict
    entries: list[SignedEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def revisions(self, step: str) -> list[SignedEntry]:
        return sorted((e for e in self.entries if e.step == step), key=lambda e: e.revision)

    def latest(self, step: str) -> SignedEntry | None:
        revs = self.revisions(step)
        return revs[-1] if revs else None

    def latest_steps(self) -> dict[str, dict]:
        """Latest entry of each signed step, as settlement and standards read them."""
        out = {}
        for e in self.entries:
            if out.get(e.step) is None or e.revision > out[e.step]["revision"]:
                out[e.step] = {**e.data, "_file": f"{e.step}" + (f".{e.revision}" if e.revision > 1 else "") + ".yaml"}
        return out

    @property
    def closed(self) -> bool:
        return self.info.get("status") == "closed"

    @property
    def cancelled(self) -> bool:
        return self.info.get("status") == "cancelled"

    @property
    def cancellation(self) -> SignedEntry | None:
        """The signed cancellation (its first revision: there is never a second)."""
        revs = self.revisions(CANCEL)
        return revs[0] if revs else None


def entry_rel(case_dir: str, step: str, revision: int) -> str:
    return f"{case_dir}/steps/{step}.yaml" if revision == 1 else f"{case_dir}/steps/{step}.{revision}.yaml"


def payload_of(data: dict) -> bytes:
    """The signed bytes of an entry: RFC 8785 canonical JSON of everything but the signature."""
    return signing.canonical_bytes({k: v for k, v in data.items() if k != "signature"})


def check_case_id(case_id: str) -> str:
    if not isinstance(case_id, str) or not CASE_RE.fullmatch(case_id):
        raise WuyeError(tr("案件编号 %r 无效：应形如 MO-2026-0003", "invalid case id %r: expected e.g. MO-2026-0003") % case_id)
    return case_id


def case_dirs(store: Store) -> list[tuple[str, str]]:
    """(tenant id, case id) of every case in the store: each folder with a case.yaml under a
    tenant's moveout/. One listing per tenant, with plain strings: pathlib's glob of
    tenants/*/moveout/*/case.yaml takes twice as long over 10,000 tenants."""
    import os

    base = f"{store.root}/tenants"
    out = []
    for tid in store.tenant_ids():
        try:
            names = os.listdir(f"{base}/{tid}/moveout")
        except OSError:  # no cases (or not a folder)
            continue
        out += [(tid, cid) for cid in sorted(names) if os.path.isfile(f"{base}/{tid}/moveout/{cid}/case.yaml")]
    return out


def find_case_dir(store: Store, case_id: str) -> tuple[str, str]:
    check_case_id(case_id)
    from wuye.storage.cache import case_paths

    hits = case_paths(store.root, case_id)  # the glob tenants/*/moveout/<id>/case.yaml, faster
    if not hits:
        raise WuyeError(tr("找不到迁出案件 %s；用 `wuye moveout list` 查看",
                           "no move-out case %s; see `wuye moveout list`") % case_id)
    if len(hits) > 1:
        # Two offices opened the same id offline: never guess which case a signature is for.
        owners = tr("、", ", ").join(h.parent.parent.parent.name for h in hits)
        raise WuyeError(tr("案件编号 %s 同时用于租户 %s；请先按 `wuye sync --help` 的说明处理重复编号",
                           "case id %s is used for tenants %s; resolve the duplicate first (see `wuye sync --help`)") % (case_id, owners))
    p = hits[0].parent
    return p.parent.parent.name, f"tenants/{p.parent.parent.name}/moveout/{case_id}"


def load_case(store: Store, case_id: str, where: tuple[str, str] | None = None) -> Case:
    """A case with every entry file read (not yet verified); unreadable files become problems.

    `where` (tenant id, case folder), when the caller has just listed every case and knows the id
    is used once, spares searching all tenants' folders for it again (verify loads every case).
    """
    tenant_id, cdir = where if where is not None else find_case_dir(store, case_id)
    from wuye.storage.reading import NotPlainFile

    try:
        info, _ = store.read_data(f"{cdir}/case.yaml")
        refused = []
    except NotPlainFile as e:  # a link is never read: a problem of the case (verify goes on to its history)
        info, refused = {}, e.problems
    case = Case(case_id, tenant_id, cdir, info if isinstance(info, dict) else {})
    case.problems += refused
    steps_dir = store.path(f"{cdir}/steps")
    if steps_dir.is_dir():
        for p in sorted(steps_dir.iterdir()):
            rel = f"{cdir}/steps/{p.name}"
            if p.name.startswith(".") and ".wuye-tmp-" in p.name:
                continue
            m = ENTRY_RE.fullmatch(p.name)
            if not m or m.group("rev") == "1":
                case.problems.append(Problem(rel, tr("文件名不是 <步骤>.yaml 或 <步骤>.<版本>.yaml", "file name is not <step>.yaml or <step>.<revision>.yaml"),
                                             code="entry.file-name"))
                continue
            try:
                data = yamlio.read(p, rel)
            except WuyeError as e:
                case.problems += e.problems
                continue
            if not isinstance(data, dict):
                case.problems.append(Problem(rel, tr("签字条目应为映射", "a step entry must be a mapping"), code="entry.not-mapping"))
                continue
            try:
                payload = payload_of(data)
            except (ValueError, TypeError) as e:
                case.problems.append(Problem(rel, tr("条目含有无法规范化的值（被手工改过？）：%s",
                                                     "the entry holds values that cannot be canonicalised (hand-edited?): %s") % e,
                                             code="entry.not-canonical"))
                continue
            case.entries.append(SignedEntry(rel, data, payload, signing.digest(payload)))
    return case


# --- verifying a case ----------------------------------------------------------------------


def entry_problems(store: Store, wf, case: Case, entry: SignedEntry, chain=None) -> list[Problem]:
    """Everything that can be wrong with one signed entry, each naming the file and the reason.

    `chain` is the store's authority chain (trust/authority.py), loaded here when not given; the
    chain itself is judged by verify, which must pass before anything is signed."""
    from wuye.models.workflow import StepEntry

    rel = entry.rel
    out: list[Problem] = []

    def bad(code: str, zh: str, en: str) -> None:
        out.append(Problem(rel, tr(zh, en), code=code))

    e, invalid = yamlio.check_model(StepEntry, entry.data, rel)
    if invalid:
        return invalid
    m = ENTRY_RE.fullmatch(entry.file)
    if m.group("step") != e.step or int(m.group("rev") or 1) != e.revision:
        bad("entry.file-name", "文件名与条目的步骤/版本（%s r%d）不符" % (e.step, e.revision), "file name does not match the entry's step/revision (%s r%d)" % (e.step, e.revision))
    if e.case != case.id or e.tenant_id != case.tenant_id:
        bad("entry.misplaced", "条目属于 %s/%s，却放在 %s 下" % (e.tenant_id, e.case, case.dir), "the entry belongs to %s/%s but sits in %s" % (e.tenant_id, e.case, case.dir))
    if e.signature is None:
        bad("signature.missing", "条目没有签名", "the entry has no signature")
        return out
    # Who signed, with which key, valid when: judged by the authority version the entry names,
    # never by staff/ in the checkout.
    if chain is None:
        from wuye.trust import authority

        chain = authority.load(store)
    if chain.versions:
        # An entry from before the chain names no version: judged by the latest, which keeps every
        # key's window (verify refuses such an entry committed after the chain began).
        version = chain.at(e.authority) if e.authority is not None else chain.latest
        if version is None:
            bad("entry.authority-unknown", "条目所依据的授权第 %s 版不在授权链中" % e.authority,
                "the entry names authority version %s, which is not in the chain" % e.authority)
            return out
        signer = version.member(e.signer)
        later = chain.latest.member(e.signer)
        if signer is None:
            bad("signer.unknown", "签字人 %s 不在授权第 %d 版中" % (e.signer, version.number),
                "the signer %s is not in authority version %d" % (e.signer, version.number))
            return out
        if e.signed_at < version.record.made_at - SIGNED_AT_TOLERANCE:
            bad("entry.before-authority", "签字时间 %s 早于其所依据的授权第 %d 版（%s）" % (e.signed_at, version.number, version.record.made_at),
                "signed at %s, before the authority version %d it names (%s)" % (e.signed_at, version.number, version.record.made_at))
    else:
        try:
            signer = later = store.staff(e.signer)
        except WuyeError as err:
            bad("signer.unknown", "签字人无法确认：%s" % err, "the signer cannot be established: %s" % err)
            return out
    try:
        embedded = signing.signature_public_key(e.signature)
        signing.verify(entry.payload, e.signature, embedded)
    except signing.SignatureError as err:
        bad("signature.bad", "签名无效：%s" % err, "invalid signature: %s" % err)
        return out
    # The key valid at signing time both in the version named and in the latest one: a later
    # version may have closed the key's window (a revocation) before the claimed signing time.
    key = signer.key_for(embedded, e.signed_at)
    if key is not None and later is not None and later.key_for(embedded, e.signed_at) is None:
        key = None
    if key is None:
        if any(k.public_key.split()[:2] == embedded.split()[:2] for k in signer.keys):
            bad("key.not-valid-at", "签字时（%s）%s 的这把密钥不在有效期内（已吊销或尚未生效）" % (e.signed_at, e.signer),
                "at signing time (%s) this key of %s was not valid (revoked or not yet valid)" % (e.signed_at, e.signer))
        else:
            bad("key.not-signer", "签名所用密钥不是签字人 %s 的密钥" % e.signer, "the signature was made with a key that is not %s's" % e.signer)
    # May this department sign this step (or cancel the case: the workflow's `cancel.signers`)?
    spec = wf.entry_spec(e.step)
    if spec is None:
        bad("entry.unknown-step", "流程中没有步骤 %s" % e.step, "the workflow has no step %s" % e.step)
        return out
    if e.department not in signer.departments:
        bad("dept.not-member", "%s 不属于 %s" % (e.signer, e.department), "%s is not in %s" % (e.signer, e.department))
    if e.department not in spec.signers:
        bad("dept.not-allowed", "%s 部门不能签 %s（可签：%s）" % (e.department, e.step, "、".join(spec.signers)),
            "the %s department may not sign %s (allowed: %s)" % (e.department, e.step, ", ".join(spec.signers)))
    out += yamlio.check_model(wf.data_model(e.step), e.data, rel, prefix=("data",))[1]
    # The hash DAG: needs name exactly the workflow's needs, each an existing entry signed earlier.
    if set(e.needs) != set(spec.needs):
        bad("dag.needs-mismatch", "needs 应为 %s，实为 %s" % (sorted(spec.needs), sorted(e.needs)), "needs should be %s, not %s" % (sorted(spec.needs), sorted(e.needs)))
    by_digest = {x.digest: x for x in case.entries}
    for step, digest in e.needs.items():
        dep = by_digest.get(digest)
        if dep is None or dep.step != step:
            bad("dag.needs-unknown", "needs.%s 的摘要与案件中任何 %s 条目都不符（被删除或改动）" % (step, step),
                "needs.%s matches no %s entry of the case (deleted or changed)" % (step, step))
        elif (_when(dep) or e.signed_at) > e.signed_at:
            bad("dag.order", "签字时间早于其前置步骤 %s" % step, "signed before the step it needs, %s" % step)
    # Revisions: 1..n, each correction naming the one before it.
    if e.revision > 1:
        prev = next((x for x in case.entries if x.step == e.step and x.revision == e.revision - 1), None)
        if prev is None:
            bad("correction.missing", "缺少第 %d 版（更正链断开）" % (e.revision - 1), "revision %d is missing (the correction chain is broken)" % (e.revision - 1))
        elif e.supersedes != prev.digest:
            bad("correction.supersedes", "supersedes 与第 %d 版的摘要不符" % (e.revision - 1), "supersedes does not match revision %d's digest" % (e.revision - 1))
    elif e.supersedes is not None:
        bad("correction.supersedes", "第 1 版不能有 supersedes", "revision 1 cannot supersede anything")
    return out


def _when(entry: SignedEntry):
    try:
        return dt.datetime.fromisoformat(str(entry.data.get("signed_at")))
    except ValueError:
        return None  # reported by that entry's own check


def case_problems(store: Store, wf, case: Case, chain=None) -> list[Problem]:
    """All problems of a case: its files, every entry, and closed-ness against its steps."""
    from wuye.models.workflow import MoveOutCase

    out = list(case.problems)
    info, invalid = yamlio.check_model(MoveOutCase, case.info, f"{case.dir}/case.yaml")
    out += invalid
    if info is not None and (info.id != case.id or info.tenant_id != case.tenant_id):
        out.append(Problem(f"{case.dir}/case.yaml", tr("案件编号或租户与目录不符", "the case id or tenant does not match its folder"),
                           code="case.id-mismatch"))
    if chain is None:
        from wuye.trust import authority

        chain = authority.load(store)
    for e in case.entries:
        out += entry_problems(store, wf, case, e, chain)
    out += seal_problems(wf, case) + cancel_problems(wf, case) + separation_problems(wf, case)
    from wuye.moveout import amendment_check

    out += amendment_check.problems(store, wf, case, out, chain)
    from wuye.moveout import blocks

    out += blocks.problems(wf, case)
    from wuye.moveout import evidence

    out += evidence.problems(store, case)
    closing = wf.closing.id
    if case.closed:
        missing = [s for s in wf.order if case.latest(s) is None and not wf.steps[s].optional]
        out += _unmoved_balance(wf, case)
        if missing:
            out.append(Problem(f"{case.dir}/case.yaml", tr("案件已结案，但以下步骤未签字：%s" % "、".join(missing),
                                                          "the case is closed but these steps are unsigned: %s" % ", ".join(missing)),
                               code="case.incomplete"))
    elif case.latest(closing) is not None:
        out.append(Problem(f"{case.dir}/case.yaml", tr("%s 已签字，但案件未标记结案", "%s is signed but the case is not marked closed") % closing,
                           code="case.not-closed"))
    return out


def _unmoved_balance(wf, case: Case) -> list[Problem]:
    """A closed case whose settlement balance no payout, collection or writeoff covers: closing
    refuses it, so only a hand edit gets here (a refund never paid, a debt forgiven)."""
    from wuye.moveout import standards

    if not {"payout", "collection"} & set(wf.steps) or case.latest("settlement") is None:
        return []
    ctx = standards.Context(None, wf, case, case.latest_steps(), None, lambda *_: None)
    met, detail = standards.balance_moved(ctx)
    if met:
        return []
    return [Problem(f"{case.dir}/case.yaml", tr("案件已结案，但结算款未收付：%s", "the case is closed but its balance was not moved: %s") % detail,
                    code="case.balance-unmoved")]


def case_workflow(store: Store, case_id: str, where: tuple[str, str] | None = None):
    """The workflow case `case_id` is judged and signed by (workflow.for_case); `where` as for
    `load_case`."""
    from wuye.moveout import workflow
    from wuye.trust import authority

    check_case_id(case_id)
    return workflow.for_case(store, authority.load(store), load_case(store, case_id, where))


# Where a case was found before the store lock was taken, and HEAD as it was just before: (where,
# HEAD). See `verified_case`.
Found = tuple[tuple[str, str], str | None]


def find_before_lock(store: Store, case_id: str) -> Found:
    """`find_case_dir`, with HEAD read first, for a command that searches before the lock and
    loads the case again under it (`verified_case(found=...)`)."""
    from wuye.storage.git import head

    before = head(store.root)
    return find_case_dir(store, case_id), before


def seal_problems(wf, case: Case) -> list[Problem]:
    """A case whose closing step is signed is sealed by that entry (its first revision: it closes
    the case, so nothing can come after it): every other entry of the case must be one it seals,
    with the digest it seals. An amendment, its approval and its refund's payout (amendment.py) are
    the entries allowed after it, each judged by amendment_check.py."""
    closing = case.revisions(wf.closing.id)
    if not closing:
        return []
    seal = closing[0]
    from wuye.moveout.amendment_check import after_seal

    sealed = Case(case.id, case.tenant_id, case.dir, case.info, [e for e in case.entries if not after_seal(e)])
    return _seal_findings(
        sealed, seal, tr("结案条目没有封存案件的其余条目（seals）：无法确认结案后没有追加条目",
                       "the closing entry seals none of the case's other entries (seals): nothing shows the case unchanged since"),
        tr("案件已由 %s 结案封存，此条目不在封存之列（结案后追加的？）；已结案的案件不能再添加条目",
           "the case was closed and sealed by %s, which does not seal this entry (added after closing?); "
           "a closed case takes no more entries") % seal.file, code="case.sealed")


def _seal_findings(case: Case, seal: SignedEntry, unsealed: str, after: str, code: str) -> list[Problem]:
    """Every entry of the case but `seal` is one `seal` seals, with the digest it seals, and every
    entry it seals is there. `unsealed`: the message when it seals nothing at all; `after` and
    `code`: those of an entry it does not seal."""
    seals = seal.data.get("seals")
    if not isinstance(seals, dict):
        return [Problem(seal.rel, unsealed, code="case.unsealed")]
    out = []
    present = set()
    for e in case.entries:
        if e is seal:
            continue
        present.add(e.file)
        if e.file not in seals:
            out.append(Problem(e.rel, after, code=code))
        elif seals[e.file] != e.digest:
            out.append(Problem(e.rel, tr("此条目与 %s 封存的摘要不符（其后被替换？）",
                                         "this entry does not match the digest that %s sealed (replaced since?)") % seal.file,
                               code="case.seal-broken"))
    for name in sorted(set(seals) - present):
        out.append(Problem(f"{case.dir}/steps/{name}", tr("%s 封存的条目不见了（被删除？）",
                                                          "an entry sealed by %s is gone (deleted?)") % seal.file, code="case.seal-broken"))
    return out


def cancel_problems(wf, case: Case) -> list[Problem]:
    """A cancellation ends the case where it stands. It seals every entry signed before it, as the
    closing entry does, so an entry added afterwards (by hand, or signed on another machine and
    merged) is found however it is dated; it cannot follow a signed settlement or closing
    (`Workflow.cancel_blockers`); and case.yaml says cancelled exactly when it is signed."""
    rel = f"{case.dir}/case.yaml"
    seal = case.cancellation
    if seal is None:
        if case.cancelled:
            return [Problem(rel, tr("case.yaml 标为已撤销，却没有签字的撤销条目（steps/cancel.yaml）；撤销须用 `wuye moveout cancel`",
                                    "case.yaml says cancelled, but there is no signed cancellation (steps/cancel.yaml); "
                                    "a case is cancelled with `wuye moveout cancel`"), code="case.cancel-unsigned")]
        return []
    out = []
    if not case.cancelled:
        out.append(Problem(rel, tr("案件已由 %s 撤销，但 case.yaml 未标为已撤销", "the case is cancelled by %s, but case.yaml does not say so") % seal.file,
                           code="case.not-cancelled"))
    out += _seal_findings(
        case, seal, tr("撤销条目没有封存案件的其余条目（seals）：无法确认撤销后没有追加条目",
                       "the cancellation seals none of the case's other entries (seals): nothing shows the case unchanged since"),
        tr("案件已由 %s 撤销，此条目不在其封存之列（撤销后签的？）；已撤销的案件不能再签字",
           "the case was cancelled by %s, which does not seal this entry (signed after the cancellation?); "
           "a cancelled case takes no more entries") % seal.file, code="case.cancelled")
    seals = seal.data.get("seals") if isinstance(seal.data.get("seals"), dict) else {}
    late = sorted({e.step for e in case.entries if e.step in wf.cancel_blockers and e.file in seals})
    if late:
        out.append(Problem(seal.rel, tr("撤销签于「%s」之后；结算签字后案件不能撤销",
                                        "cancelled after %s was signed; a case cannot be cancelled once it is settled")
                           % tr("、", ", ").join(wf.title(s) for s in late), code="case.cancel-too-late"))
    return out


def separation_problems(wf, case: Case) -> list[Problem]:
    """Separation of duties (workflow `separate`): the latest entries of two steps that must be
    signed by different people have different signers, whatever departments they hold."""
    out = []
    seen = set()
    for group in wf.spec.separate:
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                ea, eb = case.latest(a), case.latest(b)
                if ea is None or eb is None or a == b or (a, b) in seen:
                    continue
                seen.add((a, b))
                signer = ea.data.get("signer")
                if signer == eb.data.get("signer"):
                    later = max((ea, eb), key=lambda x: (str(x.data.get("signed_at")), x.rel))
                    earlier = eb if later is ea else ea
                    out.append(Problem(later.rel, tr("职责分离（separate: [%s]）：%s 与 %s 须由不同的人签字，却都由 %s 签字",
                                                     "separation of duties (separate: [%s]): %s and %s must be signed by different people, "
                                                     "but %s signed both") % (", ".join(group), later.step, earlier.step, signer),
                                       code="separation.same-signer"))
    return out


def _check_separation(wf, case: Case, step: str, actor_id: str, store: Store) -> None:
    for group, other in wf.separated_from(step):
        earlier = case.latest(other)
        if earlier is not None and earlier.data.get("signer") == actor_id:
            try:
                name = store.staff(actor_id).name
            except WuyeError:
                name = actor_id
            raise WuyeError(tr("职责分离（流程 separate: [%s]）：「%s」与「%s」须由不同的人签字，「%s」已由 %s（%s）于 %s 签字；请另请一位同事签",
                               "separation of duties (workflow separate: [%s]): %s and %s must be signed by different people, and %s "
                               "was signed by %s (%s) at %s; ask a colleague to sign")
                            % (", ".join(group), wf.title(step), wf.title(other), wf.title(other), actor_id, name, earlier.data.get("signed_at")))


def verified_case(store: Store, wf, case_id: str, found: Found | None = None) -> Case:
    """The case loaded (under the store lock) and checked, refused if any problem is found.

    `found` (from `find_before_lock`) spares searching every tenant's folder a second time (10,000
    stats on a large store) when HEAD has not moved since that search and the case file is still
    where it was: every wuye command that could have added a case of the same id (a sync, a
    start) commits, so an unmoved HEAD means the search still stands; otherwise it is made again."""
    where = None
    if found is not None:
        from wuye.storage.git import head

        (tid, cdir), before = found
        if before is not None and head(store.root) == before and store.path(f"{cdir}/case.yaml").is_file():
            where = (tid, cdir)
    case = load_case(store, case_id, where)
    problems = case_problems(store, wf, case)
    if problems:
        raise WuyeError(
            tr("案件 %s 校验不通过，不能在其上签字；请运行 `wuye verify` 查明：\n",
               "case %s fails verification, so nothing can be signed on it; run `wuye verify`:\n") % case_id
            + "\n".join(str(p) for p in problems), problems)
    return case


# --- signing -------------------------------------------------------------------------------


def _signing_department(actor, spec, wf) -> str:
    allowed = [d for d in actor.departments if d in spec.signers]
    if not allowed:
        from wuye.trust.staff import dept_label

        raise WuyeError(tr(
            "%s（%s）不能签「%s」：须由 %s 签字" % (actor.id, "、".join(dept_label(d) for d in actor.departments), wf.title(spec.id), "、".join(dept_label(d) for d in spec.signers)),
            "%s (%s) may not sign %s: it is signed by %s" % (actor.id, ", ".join(actor.departments), spec.id, ", ".join(spec.signers))))
    return allowed[0]


# Who signs, under which authority version, with which key: shared with the ledger's seals.
_authority_for = authority_signing.signing_version
_private_key_for = authority_signing.private_key_for


def validate_step_data(wf, step: str, data: dict, rel: str, text: str | None = None) -> dict:
    """The step's data checked by its model, as JSON values (what gets signed). Problems name
    `rel`, located in `text` when given (the clerk's --file)."""
    obj = yamlio.validated(wf.data_model(step), data, rel, text,
                           heading=tr("「%s」的内容无效：\n" % wf.title(step), "invalid data for %s:\n" % step))
    return {k: v for k, v in obj.model_dump(mode="json").items() if v is not None and v != []}


def _check_needs(wf, case: Case, step: str) -> None:
    """Refuse a step whose needed steps are unsigned (before its data is judged: signing early
    is the problem to name, not the fields a later step would have filled)."""
    missing = [n for n in (wf.entry_spec(step) or wf.step(step)).needs if case.latest(n) is None]
    if missing:
        raise WuyeError(tr("「%s」须在 %s 签字之后" % (wf.title(step), "、".join(f"「{wf.title(n)}」" for n in missing)),
                           "%s needs %s signed first" % (step, ", ".join(missing))))


def make_entry(store: Store, case: Case, wf, step: str, actor, department: str, data: dict, correct: bool,
               attached: list[dict] | None = None) -> tuple[str, dict]:
    """The new entry (relative path, content with signature) for a step of a case, or for its
    cancellation (step CANCEL), an amendment or its approval (amendment.py). `attached`: the files
    signed with it (evidence.place)."""
    spec = wf.entry_spec(step) or wf.step(step)
    previous = case.latest(step)
    if previous is not None and not correct:
        raise WuyeError(tr("「%s」已由 %s 于 %s 签字；如需更正请加 --correct" % (wf.title(step), previous.data.get("signer"), previous.data.get("signed_at")),
                           "%s was already signed by %s at %s; to correct it add --correct" % (step, previous.data.get("signer"), previous.data.get("signed_at"))))
    if previous is None and correct:
        raise WuyeError(tr("「%s」尚未签字，无可更正" % wf.title(step), "%s is not signed yet; there is nothing to correct" % step))
    _check_needs(wf, case, step)
    version = _authority_for(store, actor, department)
    actor = version.member(actor.id)
    revision = previous.revision + 1 if previous else 1
    rel = entry_rel(case.dir, step, revision)
    entry: dict[str, Any] = {
        "case": case.id,
        "tenant_id": case.tenant_id,
        "step": step,
        "revision": revision,
    }
    if previous is not None:
        entry["supersedes"] = previous.digest
    entry["needs"] = {n: case.latest(n).digest for n in spec.needs}
    entry["authority"] = version.number
    entry["signer"] = actor.id
    entry["department"] = department
    entry["signed_at"] = store.now().isoformat()
    entry["data"] = validate_step_data(wf, step, data, rel)
    if attached:
        entry["attachments"] = attached
    if spec.closes or step == CANCEL:
        # The closing entry (or the cancellation) seals the case: it signs the digest of every
        # other entry, so that nothing added afterwards (even signed with a real key) passes as
        # part of the case.
        entry["seals"] = {e.file: e.digest for e in case.entries}
    private = _private_key_for(actor)
    entry["signature"] = signing.sign(payload_of(entry), private)
    return rel, entry


def _message(wf, case: Case, step: str, actor, department: str, revision: int) -> tuple[str, dict]:
    from wuye.trust.staff import dept_label

    if step == CANCEL:
        what = tr("撤销迁出", "cancelled")
    else:
        what = tr("%s %s" % (wf.title(step), "签字" if revision == 1 else "更正（第 %d 版）" % revision),
                  "%s %s" % (step, "signed" if revision == 1 else "corrected (revision %d)" % revision))
    summary = tr("moveout %s: %s，%s（%s）" % (case.id, what, actor.name, dept_label(department)),
                 "moveout %s: %s by %s (%s)" % (case.id, what, actor.name, department))
    trailers = {"Wuye-Tenant": case.tenant_id, "Wuye-Case": case.id, "Wuye-Step": step,
                "Wuye-Signer": actor.id, "Wuye-Revision": str(revision) if revision > 1 else ""}
    return summary, trailers


@dataclass
class SignResult:
    case_id: str
    step: str
    revision: int
    rel: str
    digest: str
    commit: str | None
    entry: dict


def start(store: Store, tenant_id: str, actor_id: str | None, planned_date: str | None,
          reason: str | None = None, data: dict | None = None, source: tuple[str, str | None] | None = None,
          short_notice: str | None = None, attach=(), units: list[str] | None = None) -> SignResult:
    """Open a case for a tenant and sign its first step (the leasing department's notice).
    `source` and `attach` are as for `sign`. A planned date short of the notice period, or past, needs
    `short_notice`: the clerk's reason, signed into the notice (notice.py). `units` names the
    units moving out of a tenant who leases several (a partial move-out, partial.py); none: all."""
    from wuye.moveout import workflow
    from wuye.models.archive import Profile
    from wuye.models.workflow import MoveOutCase

    from wuye.archive.dossier import find_tenant

    import unicodedata

    if any(ch in "/\\" or unicodedata.category(ch)[0] == "C" for ch in tenant_id) or tenant_id.startswith("."):
        store.tenant_rel(tenant_id)  # a path-like id (../x, T0001 and a NUL) is refused as one, not looked up
    tenant_id = find_tenant(store, tenant_id)  # an id, a 房号, a name or pinyin initials
    wf = workflow.load(store)
    actor = store.actor(actor_id)
    first = wf.first
    department = _signing_department(actor, first, wf)
    profile_rel = store.tenant_rel(tenant_id, "profile.yaml")
    if not store.path(profile_rel).is_file():
        raise WuyeError(tr("租户 %s 不存在", "tenant %s does not exist") % tenant_id)
    values = dict(data or {})
    if planned_date:
        values.setdefault("planned_date", planned_date)
    if reason:
        values.setdefault("reason", reason)
    values.setdefault("applied_on", store.now().date().isoformat())
    if short_notice and short_notice.strip():
        from wuye.moveout.notice import FIELD

        if FIELD not in {f.name for f in first.fields}:
            raise WuyeError(tr("流程文件的「%s」没有 %s 字段，无法记录理由；请在 workflows/moveout.yaml 该步骤的 fields 中加上 "
                               "{name: %s, type: text, title: 提前通知不足的理由}，再由管理层签署（`wuye trust update --as 经理`）",
                               "the workflow's %s step has no %s field to record the reason in; add {name: %s, type: text, "
                               "title: 提前通知不足的理由} to its fields in workflows/moveout.yaml and have management sign it "
                               "(`wuye trust update --as MANAGER`)") % (wf.title(first.id), FIELD, FIELD))
        values[FIELD] = short_notice.strip()
    if source is not None:
        validate_step_data(wf, first.id, values, *source)
    from wuye.moveout import evidence

    taken = evidence.take(store, attach)
    with store.change("", author=actor) as ch:
        profile = store.read_model(profile_rel, Profile)
        if profile.status == "moved_out":
            raise WuyeError(tr("租户 %s 已迁出", "tenant %s has already moved out") % tenant_id)
        _check_notice(store, wf, first.id, values, profile)
        leaving, kept = _units_leaving(store, tenant_id, profile, units)
        cases = case_dirs(store)
        for t, cid in cases:
            if t == tenant_id:
                info, _ = store.read_data(f"tenants/{t}/moveout/{cid}/case.yaml")
                if isinstance(info, dict) and info.get("status") not in ("closed", "cancelled"):
                    raise WuyeError(tr("租户 %s 已有办理中的迁出案件 %s",
                                       "tenant %s already has an open move-out case, %s") % (tenant_id, cid))
        now = store.now()
        year = now.year
        numbers = [int(cid.rsplit("-", 1)[1]) for _, cid in cases if cid.startswith(f"MO-{year}-")]
        case_id = f"MO-{year}-{max(numbers, default=0) + 1:04d}"
        cdir = f"tenants/{tenant_id}/moveout/{case_id}"
        info = MoveOutCase(id=case_id, tenant_id=tenant_id, company=profile.name, units=leaving, units_kept=kept,
                           opened_at=now, opened_by=actor.id)
        case = Case(case_id, tenant_id, cdir, info.model_dump(mode="json"))
        attached = evidence.place(ch, tenant_id, case_id, taken) if taken else None
        rel, entry = make_entry(store, case, wf, first.id, actor, department, values, correct=False, attached=attached)
        case_doc = _case_doc(info)
        if not kept:
            case_doc.pop("units_kept", None)  # a whole move-out's case.yaml is as it always was
        ch.write_yaml(f"{cdir}/case.yaml", case_doc)
        ch.write_yaml(rel, _entry_doc(entry))
        if not kept:  # a tenant keeping units is not moving out: it stays active
            doc = yamlio.load_roundtrip(store.read_text(profile_rel))
            doc["status"] = "moving_out"
            ch.write_yaml(profile_rel, doc)
        ch.summary, ch.trailers = _message(wf, case, first.id, actor, department, 1)
        ch.summary = tr("moveout %s: 开案（%s），%s",
                        "moveout %s: opened for %s; %s") % (case_id, profile.name, ch.summary.split(": ", 1)[1])
    _remember_board(store, case_id, tenant_id, cdir)
    return SignResult(case_id, first.id, 1, rel, signing.digest(payload_of(entry)), ch.commit, entry)


def _units_leaving(store: Store, tenant_id: str, profile, units: list[str] | None) -> tuple[list[str], list[str]]:
    """(units leaving, units kept) of a new case; a partial one needs per-unit counts (partial.py)."""
    if not units:
        return list(profile.units), []
    from wuye.archive import dossier as archive
    from wuye.models.archive import BY_KEY
    from wuye.moveout import partial

    leaving, kept = partial.split_units(tenant_id, list(profile.units), list(units))
    if kept:
        move_in, _ = archive.validate_file(store, tenant_id, BY_KEY["move_in"])
        partial.check_counts_per_unit(move_in, leaving)
    return leaving, kept


def _check_notice(store: Store, wf, step: str, values: dict, profile) -> None:
    """The planned date against the lease and the notice period, before anything is signed."""
    from wuye.moveout.notice import FIELD, check_planned_date

    try:
        checked = validate_step_data(wf, step, values, tr("迁出通知", "the move-out notice"))
    except WuyeError:
        return  # invalid data: make_entry refuses it, naming the entry as for every step
    if "planned_date" not in checked or "applied_on" not in checked:
        return  # a workflow whose notice records no dates: nothing to judge
    check_planned_date(store.config.moveout.notice_days, profile.lease_start, dt.date.fromisoformat(checked["planned_date"]),
                       dt.date.fromisoformat(checked["applied_on"]), store.now().date(), checked.get(FIELD))


def _remember_board(store: Store, case_id: str, tenant_id: str, cdir: str) -> None:
    """Leave the case's new board in the cache for the next `moveout status`. The change is
    committed by now: a board that cannot be computed is simply not kept (status will say why)."""
    from wuye.storage import verdicts

    try:
        verdicts.remember_board(store, case_id, tenant_id, cdir, lambda: board(store, case_id, (tenant_id, cdir)))
    except WuyeError:
        pass


def _entry_doc(entry: dict) -> dict:
    # The YAML holds exactly the signed JSON values (strings stay quoted strings), so reading it
    # back gives the same canonical bytes; only the signature is laid out as a block.
    return {**entry, "signature": yamlio.literal(entry["signature"])}


def _case_doc(info) -> dict:
    return yamlio.plain(info.model_dump())


def sign(store: Store, case_id: str, step: str, actor_id: str | None, data: dict | None = None,
         correct: bool = False, compute=None, source: tuple[str, str | None] | None = None, attach=()) -> SignResult:
    """Sign one step of a case (or correct it with a new revision), as one commit.

    `attach`: files (paths) signed with the entry and committed with it (evidence.py): checked
    before anything is locked, a refused one refusing the whole command.
    `compute(case)`, for a computed step, gives the data from the case as it is under the lock.
    `source` (where the data came from, and its text: the clerk's --file, or "--set") is what a
    problem with the data names, with its line, instead of the entry file not yet written.
    """
    found = find_before_lock(store, case_id)
    wf = case_workflow(store, case_id, found[0])
    if step == CANCEL:
        raise WuyeError(tr("撤销迁出请用 `wuye moveout cancel %s --reason 原因 --as 员工`",
                           "a case is cancelled with `wuye moveout cancel %s --reason TEXT --as STAFF`") % case_id)
    spec = wf.step(step)
    if spec.computed and compute is None:
        raise WuyeError(tr("「%s」由 wuye 计算，请用 `wuye moveout settle %s --as 员工`" % (wf.title(step), case_id),
                           "%s is computed by wuye; use `wuye moveout settle %s --as STAFF`" % (step, case_id)))
    actor = store.actor(actor_id)
    department = _signing_department(actor, spec, wf)
    check_case_id(case_id)
    from wuye.moveout import evidence

    taken = evidence.take(store, attach)
    with store.change("", author=actor) as ch:
        case = verified_case(store, wf, case_id, found)
        if case.closed:
            # A closed case is sealed: a mistake found afterwards is an amendment (amendment.py),
            # approved by management, never a step signed or corrected after the seal.
            raise WuyeError(tr("案件 %s 已结案，不能再签字；如结算有误，请用 `wuye moveout amend %s --reason 原因 --as 财务` 更正",
                               "case %s is closed; nothing more can be signed; to correct its settlement, amend it with "
                               "`wuye moveout amend %s --reason TEXT --as FINANCE`") % (case_id, case_id))
        _refuse_cancelled(case)
        _check_separation(wf, case, step, actor.id, store)
        from wuye.moveout import blocks

        blocks.refuse(wf, case, step)
        if spec.closes:
            from wuye.moveout.standards import unmet

            failing = unmet(store, wf, case, statement, closing=True)
            if failing:
                raise WuyeError(tr("以下管理标准未达到，不能放行：\n", "these management standards are not met, so the case cannot be released:\n")
                                + "\n".join(f"  ✗ {title}: {detail}" for title, detail in failing))
        if not correct:
            _check_needs(wf, case, step)
        if source is not None and compute is None:
            validate_step_data(wf, step, data or {}, *source)
        if compute is not None:
            data = compute(case)
        previous = case.latest(step)
        kept = evidence.listed(previous.data) if correct and previous is not None else []
        attached = evidence.place(ch, case.tenant_id, case.id, taken, kept) if taken or kept else None
        rel, entry = make_entry(store, case, wf, step, actor, department, data or {}, correct, attached)
        ch.write_yaml(rel, _entry_doc(entry))
        if spec.closes:
            _close(store, ch, case, wf, entry)
        ch.summary, ch.trailers = _message(wf, case, step, actor, department, entry["revision"])
    _remember_board(store, case_id, case.tenant_id, case.dir)
    return SignResult(case_id, step, entry["revision"], rel, signing.digest(payload_of(entry)), ch.commit, entry)


def _refuse_cancelled(case: Case) -> None:
    gone = case.cancellation
    if case.cancelled or gone is not None:
        by, at = (gone.data.get("signer"), gone.data.get("signed_at")) if gone is not None else ("?", "?")
        raise WuyeError(tr("案件 %s 已于 %s 由 %s 撤销，不能再签字；如客户仍要迁出，请重新开案（`wuye moveout start`）",
                           "case %s was cancelled at %s by %s; nothing more can be signed in it; if the tenant is moving out "
                           "after all, open a new case (`wuye moveout start`)") % (case.id, at, by))


def cancel(store: Store, case_id: str, actor_id: str | None, reason: str) -> SignResult:
    """Withdraw a started move-out (a tenant who renews), as one commit: a signed cancellation
    entry (steps/cancel.yaml, sealing every entry before it), case.yaml marked cancelled, and the
    tenant back to active, so a new case may be opened later. Units are not touched: `start`
    leaves them as they are, and only closing makes them vacant, which a cancellation precedes.

    The reason is free text about the tenant: it is signed into the entry, never put in the
    commit message."""
    wf = case_workflow(store, case_id)
    spec = wf.cancel
    reason = (reason or "").strip()
    if not reason:
        raise WuyeError(tr("请用 --reason 写明撤销原因（如：客户续租）", "give the reason with --reason (e.g. the tenant renews)"))
    actor = store.actor(actor_id)
    department = _signing_department(actor, spec, wf)
    with store.change("", author=actor) as ch:
        case = verified_case(store, wf, case_id)
        if case.closed:
            raise WuyeError(tr("案件 %s 已结案，不能撤销", "case %s is closed; it cannot be cancelled") % case_id)
        _refuse_cancelled(case)
        # Once finance has signed the settlement, the money is computed and signed (a refund or an
        # amount due may already be moving, a payout voucher issued): withdrawing the case then
        # would leave a signed statement with nothing to answer for it. Such a case goes on to
        # release, and a mistake in it is then amended (amendment.py), approved by management.
        late = [s for s in wf.cancel_blockers if case.latest(s) is not None]
        if late:
            entry = case.latest(late[0])
            raise WuyeError(tr("案件 %s 的「%s」已由 %s 于 %s 签字，结算之后不能撤销",
                               "case %s cannot be cancelled: %s was signed by %s at %s, and a settled case is not cancelled")
                            % (case_id, wf.title(late[0]), entry.data.get("signer"), entry.data.get("signed_at")))
        rel, entry = make_entry(store, case, wf, CANCEL, actor, department, {"reason": reason}, correct=False)
        ch.write_yaml(rel, _entry_doc(entry))
        case_doc = yamlio.load_roundtrip(store.read_text(f"{case.dir}/case.yaml"))
        case_doc["status"] = "cancelled"
        case_doc["cancelled_at"] = entry["signed_at"]
        ch.write_yaml(f"{case.dir}/case.yaml", case_doc)
        prel = store.tenant_rel(case.tenant_id, "profile.yaml")
        pdoc = yamlio.load_roundtrip(store.read_text(prel))
        # `start` refuses a tenant already moved out, so before it the tenant was active (or
        # "moving out" as an imported ledger said, which the cancellation, the tenant staying,
        # contradicts): either way the tenant stays, and is active.
        if pdoc.get("status") == "moving_out":
            pdoc["status"] = "active"
            ch.write_yaml(prel, pdoc)
        ch.summary, ch.trailers = _message(wf, case, CANCEL, actor, department, 1)
    _remember_board(store, case_id, case.tenant_id, case.dir)
    return SignResult(case_id, CANCEL, 1, rel, signing.digest(payload_of(entry)), ch.commit, entry)


def _close(store: Store, ch, case: Case, wf, release: dict) -> None:
    """Closing effects, in the release commit: case closed, units vacant, tenant moved out (or,
    a partial move-out, without the units that left), its parking leases ended, the
    settled fees, arrears and deposits marked so in the archive, the forwarding contact and the
    notice to engineering, finance and security recorded."""
    from wuye.archive.dossier import append_entry, list_document
    from wuye.models.archive import BY_KEY, Contact, Correspondence
    from wuye.models.store import Unit

    now = store.now()
    tid = case.tenant_id
    case_doc = yamlio.load_roundtrip(store.read_text(f"{case.dir}/case.yaml"))
    case_doc["status"] = "closed"
    case_doc["closed_at"] = now.isoformat()
    ch.write_yaml(f"{case.dir}/case.yaml", case_doc)
    from wuye.moveout import partial

    prel = store.tenant_rel(tid, "profile.yaml")
    pdoc = yamlio.load_roundtrip(store.read_text(prel))
    partial.close_profile(pdoc, case.info)  # moved out, or (a partial move-out) without the units that left
    ch.write_yaml(prel, pdoc)
    _close_parking(store, ch, case, release["signer"], now)
    for u in case.info.get("units") or []:
        from wuye.models.ids import unit_id

        urel = f"units/{unit_id(u)}.yaml"
        if store.path(urel).is_file():
            udoc = yamlio.load_roundtrip(store.read_text(urel))
            udoc["status"] = "vacant"
            if "tenant" in udoc:
                del udoc["tenant"]
        else:
            udoc = yamlio.plain(Unit.of(u, status="vacant").file_data())
        ch.write_yaml(urel, udoc)
    _reconcile(store, ch, case, now)
    _record_due(store, ch, case, release["signer"], now)
    handover = case.latest_steps().get("handover", {}).get("data", {})

    def append(key: str, record: dict, model) -> None:
        c = BY_KEY[key]
        doc = list_document(store, tid, c)
        append_entry(doc, c, {**record, "recorded_by": release["signer"], "recorded_at": now}, model.model_validate)
        ch.write_yaml(store.tenant_rel(tid, c.filename), doc)

    if handover.get("new_phone") or handover.get("forwarding_address"):
        append("contacts", {"kind": "forwarding", "name": handover.get("contact_name") or case.info.get("company", tid),
                            "phone": handover.get("new_phone"), "address": handover.get("forwarding_address"),
                            "note": tr("迁出后联系方式（%s）", "after move-out (%s)") % case.id}, Contact)
    units = "、".join(case.info.get("units") or [])
    append("correspondence", {
        "date": now.date(), "direction": "out", "kind": "notice", "ref_no": case.id,
        "subject": tr("%s 已退租，已为空置单元，办公家具等准予放行", "unit %s has been vacated; furniture may leave") % units,
        "summary": tr("放行条 %s", "release pass %s") % release["data"].get("release_pass_no", ""),
        "departments": ["engineering", "finance", "security"],
    }, Correspondence)


def _close_parking(store: Store, ch, case: Case, signer: str, now) -> None:
    """The parking leases the case covers, recorded as ended and settled by it (partial.py)."""
    from wuye.moveout import partial

    rel = store.tenant_rel(case.tenant_id, "move_in.yaml")
    if not store.path(rel).is_file():
        return
    doc = yamlio.load_roundtrip(store.read_text(rel))
    planned = case.latest_steps().get("notice", {}).get("data", {}).get("planned_date")
    if partial.close_parking(doc, partial.scope_of(case.id, case.info), dt.date.fromisoformat(planned) if planned else None,
                             now.date(), signer):
        ch.write_yaml(rel, doc)


def _reconcile(store: Store, ch, case: Case, now) -> None:
    """Settle in the archive what the signed statement settled: the fees and arrears it deducted
    are marked paid, the deposits it used are marked refunded. Done at closing (not at signing
    the settlement), so that a corrected settlement is still computed from the open items."""
    from wuye.storage import yamlio as y

    settlement = case.latest_steps().get("settlement")
    if settlement is None:
        return
    data = settlement["data"]
    receipt = data.get("receipt_no") or case.id
    day = data.get("settled_on") or now.date().isoformat()
    note = settlement_note(case.id)
    by_file = closing_codes(data.get("lines", []))
    from wuye.trust import money

    for file, codes in by_file.items():
        rel = store.tenant_rel(case.tenant_id, file)
        doc = y.load_roundtrip(store.read_text(rel))
        for entry in doc.get("entries") or []:
            was = {k: (money.plain_value(entry[k]) if k in entry else None) for k in money.CLOSING_FIELDS}
            if closing_marks(entry, codes.get(str(entry.get("id"))), day, receipt, note) and file == "payments.yaml" and entry.get("seal"):
                # The seal stays finance's word on the item as settled; what closing replaced is
                # kept so that verify can check that seal (trust/money.py).
                now_ = {k: (money.plain_value(entry[k]) if k in entry else None) for k in money.CLOSING_FIELDS}
                entry["closed_by"] = {"case": case.id, "before": {k: v for k, v in was.items() if now_[k] != v}}
        ch.write_yaml(rel, doc)
    _settle_linked_records(store, ch, case, by_file.get("payments.yaml", {}), day, note)


def _settle_linked_records(store: Store, ch, case: Case, codes: dict[str, str], day: str, note: str) -> None:
    """A fine or an arrear whose ledger item the statement settled is settled too: the money was
    the item's, the record says what it was about (it is not money, so verify leaves it to us)."""
    from wuye.storage import yamlio as y

    paid = {eid for eid, code in codes.items() if code in ("unpaid_fee", "fee_credit")}
    rel = store.tenant_rel(case.tenant_id, "violations.yaml")
    if not paid or not store.path(rel).is_file():
        return
    pending = ch.pending(rel)
    doc = y.load_roundtrip(pending.decode("utf-8") if pending is not None else store.read_text(rel))
    changed = False
    for v in doc.get("entries") or []:
        if str(v.get("item")) in paid and v.get("status", "open") == "open":
            v["status"], v["resolved_on"] = "settled", day
            v["note"] = f"{v['note']}；{note}" if v.get("note") else note
            changed = True
    if changed:
        ch.write_yaml(rel, doc)


def _record_due(store: Store, ch, case: Case, signer: str, now) -> None:
    """A balance the tenant owed stays in the ledger: one item for it, with what was received,
    and written off (management's writeoff) or left open for collections, where `report arrears`
    keeps showing it."""
    from wuye.archive.dossier import append_entry, list_document
    from wuye.models.archive import BY_KEY, Payment

    record = due_record(case)
    if record is None:
        return
    record.update(recorded_by=signer, recorded_at=now)
    c = BY_KEY["payments"]
    rel = store.tenant_rel(case.tenant_id, c.filename)
    marked = ch.pending(rel)  # closing's marks, written just before, not yet on disk
    doc = yamlio.load_roundtrip(marked.decode("utf-8")) if marked is not None else list_document(store, case.tenant_id, c)
    from pydantic import ValidationError

    try:
        append_entry(doc, c, record, Payment.model_validate)
    except ValidationError as e:
        raise WuyeError(tr("结算应补款不能记入缴费记录（%s）：%s；请更正「应补款收取」（moveout sign %s collection --correct）",
                           "the balance due cannot be entered in payments.yaml (%s): %s; correct the collection (moveout sign %s collection --correct)")
                        % (rel, "; ".join(err["msg"] for err in e.errors()), case.id)) from None
    ch.write_yaml(rel, doc)


def due_record(case: Case) -> dict | None:
    """The ledger item of the balance a closed case left owed (None when nothing was owed): what
    `_record_due` writes and verify compares it with (it is derived from signed entries, so it
    carries no seal of its own until finance records a payment against it)."""
    steps = case.latest_steps()
    balance = Decimal(steps["settlement"]["data"]["balance"]) if "settlement" in steps else Decimal(0)
    if balance >= 0:
        return None
    collection = steps.get("collection", {}).get("data", {})
    writeoff = steps.get("writeoff", {}).get("data", {})
    record = {"kind": "fee", "item": tr("迁出结算应补款", "move-out settlement balance due"), "source": "settlement",
              "source_ref": case.id, "amount": str(-balance), "paid": collection.get("amount") or "0.00",
              "due_date": steps["settlement"]["data"].get("settled_on"),
              "written_off": writeoff.get("action") == "write_off"}
    if collection:
        record.update(paid_on=collection.get("received_on"), receipt_no=collection.get("receipt_no"))
    if writeoff:
        record["note"] = (tr("管理层核销：%s", "written off by management: %s") if writeoff.get("action") == "write_off"
                          else tr("已转催收：%s", "sent to collections: %s")) % writeoff.get("reason", "")
    return record


def closing_codes(lines: list[dict]) -> dict[str, dict[str, str]]:
    """file -> entry id -> the code closing marks it by: the records a statement's lines cite.
    A deposit's withhold line leaves it refunded (the rest is paid out); a forfeit line, cited
    after the deposit's refund line, makes it forfeited."""
    by_file: dict[str, dict[str, str]] = {}
    for line in lines:
        file, _, ref = line["source"].partition("#")
        entry_id, _, how = ref.partition(" ")
        if not entry_id or file not in ("payments.yaml", "violations.yaml"):
            continue
        if how and how != "forfeit":
            continue
        by_file.setdefault(file, {})[entry_id] = "forfeit" if how == "forfeit" else line["code"]
    return by_file


def closing_marks(entry, code: str | None, day: str, receipt: str, note: str) -> bool:
    """Mark one archive entry settled as a statement line of `code` settles it; False when the
    code marks nothing. The one description of what closing writes into the archive, shared by
    `_reconcile` and by verify, which allows exactly these changes to a record a statement cites."""
    if code == "deposit":
        entry["deposit_status"] = "refunded"
    elif code == "forfeit":
        entry["deposit_status"] = "forfeited"
    elif code == "unpaid_fee" or (code == "fee_credit" and Decimal(str(entry.get("paid") or 0)) < Decimal(str(entry["amount"]))):
        # A prorated fee paid in part and credited back is settled by the statement as well.
        entry["paid"] = entry["amount"]
        entry["paid_on"] = day
        entry["receipt_no"] = receipt
    elif code in ("arrears", "violation"):
        entry["status"] = "settled"
        entry["resolved_on"] = day
    else:
        return False
    entry["note"] = f"{entry['note']}；{note}" if entry.get("note") else note
    return True


def settlement_note(case_id: str) -> str:
    return tr("迁出结算 %s", "move-out settlement %s") % case_id


# --- settling ------------------------------------------------------------------------------


def statement(store: Store, case: Case, other_charges=(), finance=()):
    """The settlement statement of a case, from the archive as it is now (`finance`: the
    withhold and forfeit lines finance enters, as `parse_dispositions` gives them)."""
    from wuye.archive import dossier as archive
    from wuye.models.archive import BY_KEY
    from wuye.moveout.settlement import compute

    records = {}
    for key in ("payments", "violations", "move_in"):
        obj, problems = archive.validate_file(store, case.tenant_id, BY_KEY[key])
        errors = [p for p in problems if p.level == "error"]
        if errors:
            raise WuyeError(tr("无法结算：档案文件有错误，请先修正：\n", "cannot settle: fix these archive files first:\n")
                            + "\n".join(str(p) for p in errors), errors)
        records[key] = obj
    payments = records["payments"].entries if records["payments"] else []
    violations = records["violations"].entries if records["violations"] else []
    from wuye.moveout.partial import scope_of

    return compute(store.config, payments, violations, records["move_in"], case.latest_steps(), other_charges, finance,
                   scope_of(case.id, case.info))


def _refuse_uncommitted(store: Store, case: Case) -> None:
    """A statement is signed against the archive of record: verify recomputes it from the files as
    they are at the commit that adds it (verify/statements.py), which would not hold an edit made
    by hand and not yet committed."""
    from wuye.storage import git as audit

    rels = ["wuye.yaml", *(store.tenant_rel(case.tenant_id, f"{k}.yaml") for k in ("payments", "violations", "move_in")), case.dir]
    out = audit.run(store.root, "status", "--porcelain", "-z", "-uall", "--no-renames", "--", *rels)
    dirty = sorted({item[3:] for item in out.split("\0") if item})
    if dirty:
        raise WuyeError(tr("结算须依据已提交的档案，以下文件有未提交的改动：%s；请先提交（git commit）或撤销这些改动",
                           "a settlement is computed from the committed archive, and these files have uncommitted changes: %s; "
                           "commit them (git commit) or undo them first") % "、".join(dirty))


def _refuse_unsealed(store: Store, case: Case) -> None:
    """Finance signs a statement only over money someone allowed answers for: an item without a
    valid seal (edited by hand, or kept before seals) is checked and sealed first. Closing marks
    and balances due of earlier cases are verify's to judge against their cases."""
    from wuye.trust import authority, money

    if not money.sealing_on(store):
        return
    rel = store.tenant_rel(case.tenant_id, "payments.yaml")
    if not store.path(rel).is_file():
        return
    doc = yamlio.loads(store.read_text(rel), rel) or {}
    chain = authority.load(store)
    problems = [p for e in doc.get("entries") or [] if isinstance(e, dict) and not e.get("closed_by")
                and not (e.get("source") == "settlement" and not e.get("seal"))
                for p in money.seal_problems(chain, case.tenant_id, e, rel)]
    if problems:
        raise WuyeError(tr("无法结算：缴费记录中有未经财务签章的金额（手工改过？）；核对后由财务执行 `wuye migrate --as 财务员工` 签章：\n",
                           "cannot settle: the ledger holds amounts finance has not sealed (edited by hand?); once checked, finance seals them with `wuye migrate --as FINANCE_STAFF`:\n")
                        + "\n".join(str(p) for p in problems), problems)


def parse_charges(charges: list[str]) -> list[tuple[str, Decimal]]:
    from wuye.models.types import to_money

    out = []
    for c in charges:
        item, sep, amount = c.rpartition("=")
        if not sep or not item.strip():
            raise WuyeError(tr("--charge 应写成 项目=金额，而不是 %r", "--charge takes ITEM=AMOUNT, not %r") % c)
        try:
            out.append((item.strip(), to_money(amount)))
        except ValueError as e:
            raise WuyeError(f"--charge {c!r}: {e}") from None
    return out


def parse_dispositions(withholds: list[str], forfeits: list[str]) -> list[tuple[str, str, str, Decimal]]:
    """Finance's decisions on deposits as statement lines: `--withhold PAY-0001=5000.00:理由`
    keeps part of a deposit, `--forfeit PAY-0002:理由` all of it (the amount is the deposit's, put
    in by `settle`). Each line cites the deposit and carries the reason; evidence goes in the reason
    (the inspection entry, a photo's record)."""
    from wuye.models.types import to_money

    out = []
    for w in withholds:
        ref, sep, rest = w.partition("=")
        amount, sep2, reason = rest.partition(":")
        if not sep or not sep2 or not ref.strip() or not reason.strip():
            raise WuyeError(tr("--withhold 应写成 押金编号=金额:理由，而不是 %r", "--withhold takes DEPOSIT=AMOUNT:REASON, not %r") % w)
        try:
            money = to_money(amount)
        except ValueError as e:
            raise WuyeError(f"--withhold {w!r}: {e}") from None
        out.append(("withhold", tr("扣留押金：%s", "deposit withheld: %s") % reason.strip(), f"payments.yaml#{ref.strip()} withhold", -money))
    for f in forfeits:
        ref, sep, reason = f.partition(":")
        if not sep or not ref.strip() or not reason.strip():
            raise WuyeError(tr("--forfeit 应写成 押金编号:理由，而不是 %r", "--forfeit takes DEPOSIT:REASON, not %r") % f)
        out.append(("forfeit", tr("没收押金：%s", "deposit forfeited: %s") % reason.strip(), f"payments.yaml#{ref.strip()} forfeit", None))
    return out


def _forfeit_amounts(store: Store, case: Case, lines: list) -> list[tuple[str, str, str, Decimal]]:
    """A forfeit line takes the whole held deposit it names (refused later if it names none)."""
    from wuye.archive import dossier as archive
    from wuye.models.archive import BY_KEY

    if all(amount is not None for *_, amount in lines):
        return lines
    from wuye.moveout.settlement import whole_forfeits

    payments, _ = archive.validate_file(store, case.tenant_id, BY_KEY["payments"])
    return whole_forfeits(lines, payments.entries if payments else [],
                          tr("没收的押金 %s 不在缴费记录中", "the deposit %s to forfeit is not in payments.yaml"))


def settle(store: Store, case_id: str, actor_id: str | None, dry_run: bool = False, charges: list[str] = (),
           receipt_no: str | None = None, correct: bool = False, withholds: list[str] = (), forfeits: list[str] = (),
           attach=()):
    """Compute the statement and (unless dry-run) sign it as the settlement step (with `attach`,
    as for `sign`)."""
    from wuye.moveout.settlement import FINANCE_CODES

    wf = case_workflow(store, case_id)
    step = next((s.id for s in wf.spec.steps if s.computed), "settlement")
    extra = parse_charges(list(charges))
    given = parse_dispositions(list(withholds), list(forfeits))
    if dry_run:
        case = verified_case(store, wf, case_id)
        return statement(store, case, extra, _forfeit_amounts(store, case, given)), None
    computed = {}

    def compute(case: Case) -> dict:
        finance = _forfeit_amounts(store, case, given)
        previous = case.latest(step)
        kept = [l for l in previous.data["data"].get("lines", []) if l["code"] in FINANCE_CODES] if correct and previous is not None else []
        # A correction keeps what finance entered before (other charges, withholds, forfeits),
        # each kind unless new ones of it are given.
        if not given:
            finance = [(l["code"], l["item"], l["source"], Decimal(l["amount"])) for l in kept if l["code"] != "other"]
        st = statement(store, case, extra, finance)
        _refuse_uncommitted(store, case)
        _refuse_unsealed(store, case)
        if not extra:
            for line in kept:
                if line["code"] == "other":
                    st.add("other", line["item"], line["source"], Decimal(line["amount"]))
        computed["statement"] = st
        data = {**st.to_data(), "settled_on": store.now().date().isoformat()}
        if receipt_no:
            data["receipt_no"] = receipt_no
        return data

    result = sign(store, case_id, step, actor_id, correct=correct, compute=compute, attach=attach)
    return computed["statement"], result


# --- reading -------------------------------------------------------------------------------


def list_cases(store: Store, open_only: bool = False) -> list[dict]:
    rows = []
    for tid, cid in case_dirs(store):
        cdir = f"tenants/{tid}/moveout/{cid}"
        try:
            info, _ = store.read_data(f"{cdir}/case.yaml")
        except WuyeError:
            info = {}
        info = info if isinstance(info, dict) else {}
        if open_only and info.get("status") in ("closed", "cancelled"):
            continue
        steps_dir = store.path(f"{cdir}/steps")
        signed = sorted({ENTRY_RE.fullmatch(p.name).group("step") for p in steps_dir.iterdir()
                         if ENTRY_RE.fullmatch(p.name)} - {CANCEL}) if steps_dir.is_dir() else []
        rows.append({"case": cid, "tenant_id": tid, "company": info.get("company", ""),
                     "units": info.get("units") or [], "status": info.get("status", "?"),
                     "opened_at": str(info.get("opened_at", "")), "steps_signed": signed})
    return rows


def _signer_name(store: Store, signer) -> str:
    """The signer's name for the board; the id when the staff file is gone (a departed member)."""
    try:
        return store.staff(signer).name
    except WuyeError:
        return signer


def board(store: Store, case_id: str, where: tuple[str, str] | None = None, verified: bool = False) -> dict:
    """The status board: each step done / ready / blocked, the standards, and what comes next.
    `where` is as for `load_case`; `verified` when the cache has seen these very case files,
    entries, workflow and staff pass every check (verdicts.board), so they are not checked again."""
    from wuye.moveout import standards
    from wuye.moveout import workflow
    from wuye.trust.staff import dept_label

    from wuye.trust import authority

    case = load_case(store, case_id, where)
    chain = authority.load(store)
    wf = workflow.for_case(store, chain, case)
    problems = case.problems if verified else case_problems(store, wf, case, chain)
    money = standards.Context(store, wf, case, case.latest_steps(), None, statement)
    steps = []
    for sid in wf.order:
        spec = wf.steps[sid]
        latest = case.latest(sid)
        if latest is not None:
            state = "done"
        elif spec.optional and case.info.get("status") == "closed":
            state = "not_needed"  # signed only when the case needed it, and it is closed
        elif spec.optional and standards.money_step_open(money, sid) is False:
            state = "not_needed"  # no money left for it to move (or of the other sign)
        elif case.cancelled:
            state = "cancelled"  # never to be signed: the case was withdrawn
        elif all(case.latest(n) is not None for n in spec.needs):
            state = "ready"
        else:
            state = "blocked"
        row = {"step": sid, "title": wf.title(sid), "state": state,
               "signers": [dept_label(d) for d in spec.signers],
               "waiting_for": [n for n in spec.needs if case.latest(n) is None]}
        if latest is not None:
            signer = latest.data.get("signer")
            row.update(signer=signer, signer_name=_signer_name(store, signer), department=latest.data.get("department"),
                       signed_at=latest.data.get("signed_at"), revision=latest.revision, digest=latest.digest)
        steps.append(row)
    # The standards guard a release that a cancelled case will never have.
    rows = standards.evaluate(store, wf, case, statement) if not problems and not case.cancelled else []
    # The closing step waits for the standards as well as for its steps (signing it is refused
    # while one is unmet), so the board does not send security to a refusal.
    unmet = [r["number"] for r in rows[:-1] if not r["met"]]
    for s in steps:
        if s["state"] == "ready" and wf.steps[s["step"]].closes and unmet:
            s.update(state="blocked", unmet_standards=unmet)
    nxt = [s for s in steps if s["state"] == "ready"] if case.info.get("status") == "open" else []
    out = {"case": case.id, "tenant_id": case.tenant_id, "company": case.info.get("company"),
           "units": case.info.get("units") or [], "units_kept": case.info.get("units_kept") or [], "status": case.info.get("status"),
           "steps": steps, "standards": rows, "next": [{"step": s["step"], "title": s["title"], "signers": s["signers"]} for s in nxt],
           "problems": [p.to_json() for p in problems]}
    from wuye.moveout import amendment_check

    out["amendments"] = amendment_check.board(store, case)
    gone = case.cancellation
    if gone is not None:
        signer = gone.data.get("signer")
        out["cancelled"] = {"signer": signer, "signer_name": _signer_name(store, signer), "department": gone.data.get("department"),
                            "signed_at": gone.data.get("signed_at"), "reason": (gone.data.get("data") or {}).get("reason"),
                            "digest": gone.digest}
    return out


def payload(store: Store, case_id: str, step: str, revision: int | None = None) -> SignedEntry:
    """The stored entry of a step (latest revision unless one is named), for independent checks."""
    case = load_case(store, case_id)
    revs = case.revisions(step)
    if not revs:
        raise WuyeError(tr("案件 %s 的「%s」尚未签字" % (case_id, step), "%s of case %s is not signed" % (step, case_id)))
    if revision is None:
        return revs[-1]
    for e in revs:
        if e.revision == revision:
            return e
    raise WuyeError(tr("「%s」没有第 %d 版", "%s has no revision %d") % (step, revision))
