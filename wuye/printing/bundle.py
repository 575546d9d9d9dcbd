"""A move-out's dispute bundle (争议材料包): everything a lawyer or a mediator needs to check a case
with OpenSSH and sha256sum alone, on any machine, without wuye.

`wuye moveout bundle CASE -o case.zip` writes one zip with a folder named after the case:

  entries/<step>[.<rev>].json       the exact bytes each step's signer signed (RFC 8785 JSON)
  entries/<step>[.<rev>].json.sig   its SSHSIG signature (namespace wuye-step)
  authority/<n>.yaml, .json, .<signer>.sig
                                    the authority chain as stored, each version's signed bytes and
                                    every management signature on it that checks out (wuye-authority)
  allowed_signers                   each signer's key, as the authority version its entries name
                                    says, with the namespace its signatures use
  case.yaml                         the case as stored
  attachments/moveout/<case>/…      the files signed into the entries, at the path the entry names
  records/<file>.yaml               the archive records the settlement cites, as they were in the
                                    commit that added the settlement entry
  documents/<kind>.pdf              the printed papers (printing/documents.py)
  README.md                         what is inside and the exact commands, in Chinese and English
  SHA256SUMS                        every other file, for `sha256sum -c`

The signed bytes hold personal data exactly as signed (a representative's name and phone): they
cannot be masked without breaking the signature, so building a bundle is an export, taken by a
registered staff member and written to the access log, as `moveout payload` is. The printed
documents and the cited records are masked unless --reveal. Lives in printing/ (not moveout/)
because it prints the papers; it reads moveout, trust and archive, which rank below.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from wuye.errors import WuyeError
from wuye.i18n import tr

STEP_NAMESPACE = "wuye-step"
AUTHORITY_NAMESPACE = "wuye-authority"
# The papers a bundle prints, with the step whose signature each one needs (None: always).
DOCUMENTS = (("confirmation", None), ("inspection", "engineering_inspection"), ("settlement", "settlement"),
             ("deposit", "settlement"), ("release", "release"))
_CITED = re.compile(r"(?P<file>[a-z_]+\.yaml)(?:#(?P<id>[A-Za-z0-9][A-Za-z0-9_-]*))?")
_ARCHIVE_FILES = ("payments.yaml", "violations.yaml", "move_in.yaml")


@dataclass
class Bundle:
    """What was written: the zip, its folder, and its files (name -> bytes), for the message."""

    path: Path
    folder: str
    files: dict[str, bytes] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)


def _key(public_line: str) -> str:
    return " ".join(public_line.split()[:2])


def build(store, case_id: str, actor_id: str | None, out: Path, reveal: bool = False) -> Bundle:
    """Write the bundle of `case_id` to `out` (a zip), after the case verifies; the access is logged."""
    from wuye.archive import privacy
    from wuye.moveout import cases
    from wuye.trust import authority

    who = privacy.identity(store, actor_id, "wuye moveout bundle")
    out = Path(out)
    if not out.parent.is_dir():
        raise WuyeError(tr("%s：目录不存在；请先建好目录或换个位置", "%s: the folder does not exist; create it or write elsewhere") % out)
    wf = cases.case_workflow(store, case_id)
    case = cases.verified_case(store, wf, case_id)
    chain = authority.load(store)
    order = {s: i for i, s in enumerate(wf.order)}
    entries = sorted(case.entries, key=lambda e: (str(e.data.get("signed_at")), order.get(e.step, len(order)), e.revision))

    files: dict[str, bytes] = {}
    signers: dict[tuple[str, str], set[str]] = {}  # (principal, key) -> namespaces
    rows, commands = [], []
    for e in entries:
        name = e.file[:-len(".yaml")]
        payload, sig = f"entries/{name}.json", f"entries/{name}.json.sig"
        files[payload] = e.payload
        files[sig] = (e.data.get("signature") or "").encode("ascii")
        version = chain.at(e.data.get("authority")) if e.data.get("authority") is not None else chain.latest
        member = version.member(e.data["signer"]) if version is not None else None
        from wuye.trust import signing

        embedded = signing.signature_public_key(e.data["signature"])
        signers.setdefault((e.data["signer"], _key(embedded)), set()).add(STEP_NAMESPACE)
        commands.append(f"ssh-keygen -Y verify -f allowed_signers -I {e.data['signer']} -n {STEP_NAMESPACE} -s {sig} < {payload}")
        title = wf.title(e.step) if e.step in wf.steps else e.step
        rows.append({"file": payload, "step": e.step, "title": title, "revision": e.revision, "signer": e.data["signer"],
                     "name": member.name if member is not None else e.data["signer"], "department": e.data.get("department", ""),
                     "signed_at": str(e.data.get("signed_at", "")), "digest": e.digest,
                     "authority": version.number if version is not None else None})
    files.update(_authority_files(store, chain, signers, commands))
    from wuye.storage import layout

    # Named as the store's own file, which ssh-keygen users know; but holding only these keys.
    files[layout.ALLOWED_SIGNERS] = _allowed_signers(signers).encode("utf-8")
    from wuye.storage.reading import read_bytes

    files["case.yaml"] = read_bytes(store.root, f"{case.dir}/case.yaml")
    attached = []
    for e in entries:
        for a in e.data.get("attachments") or []:
            rel = a["path"]
            files[rel] = read_bytes(store.root, f"tenants/{case.tenant_id}/{rel}")
            attached.append({**a, "step": e.step, "entry": f"entries/{e.file[:-5]}.json"})
    files.update(_cited_records(store, case, reveal))
    from wuye.printing import documents

    printed = []
    for kind, needs in DOCUMENTS:
        if needs is None or case.latest(needs) is not None:
            files[f"documents/{kind}.pdf"] = documents.render_pdf(documents.render_html(store, kind, case.id, reveal))
            printed.append((kind, documents.KINDS[kind][0]))
    files["README.md"] = _readme(store, case, rows, attached, printed, commands, reveal).encode("utf-8")
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())).encode("utf-8")
    privacy.record_reveal(store.root, "moveout bundle", case.id + (" --reveal" if reveal else ""), who)
    _write_zip(store, out, case.id, files)
    return Bundle(out, case.id, files, commands)


def _authority_files(store, chain, signers: dict, commands: list[str]) -> dict[str, bytes]:
    """Every version of the chain: as stored, its signed bytes, and each management signature on
    it that verifies with a key of the version judging it (the previous one; the root judges
    itself). The keys go into allowed_signers for the wuye-authority namespace."""
    from wuye.trust import signing
    from wuye.storage import layout
    from wuye.storage.reading import read_bytes

    out: dict[str, bytes] = {}
    previous = None
    for v in chain.versions:
        stem = f"{layout.AUTHORITY_DIR}/{v.number:04d}"
        out[f"{stem}.yaml"] = read_bytes(store.root, v.rel)
        out[f"{stem}.json"] = v.body
        judge = previous or v
        for s in v.record.signatures:
            member = judge.member(s.signer)
            if member is None:
                continue
            try:
                embedded = signing.signature_public_key(s.signature)
                if not any(_key(k.public_key) == _key(embedded) for k in member.keys):
                    continue
                signing.verify(v.body, s.signature, embedded, namespace=AUTHORITY_NAMESPACE)
            except signing.SignatureError:
                continue
            sig = f"{stem}.{s.signer}.sig"
            out[sig] = s.signature.encode("ascii")
            signers.setdefault((s.signer, _key(embedded)), set()).add(AUTHORITY_NAMESPACE)
            commands.append(f"ssh-keygen -Y verify -f allowed_signers -I {s.signer} -n {AUTHORITY_NAMESPACE} -s {sig} < {stem}.json")
        previous = v
    return out


def _allowed_signers(signers: dict) -> str:
    lines = ["# 本材料包中各签名所用的公钥（据授权链） / the keys of this bundle's signatures (from the authority chain)"]
    for (principal, key), namespaces in sorted(signers.items()):
        ns = ",".join(n for n in (STEP_NAMESPACE, AUTHORITY_NAMESPACE) if n in namespaces)
        lines.append(f'{principal} namespaces="{ns}" {key}')
    return "\n".join(lines) + "\n"


def _cited_records(store, case, reveal: bool) -> dict[str, bytes]:
    """The archive records the latest settlement's lines cite (payments.yaml#PAY-0001, move_in.yaml),
    as they were in the commit that added that settlement entry: what finance signed against."""
    from wuye.archive import privacy
    from wuye.storage import git as audit
    from wuye.storage import yamlio

    settlement = case.latest("settlement")
    if settlement is None:
        return {}
    cited: dict[str, set[str] | None] = {}
    for line in (settlement.data.get("data") or {}).get("lines") or []:
        for m in _CITED.finditer(str(line.get("source", ""))):
            if m.group("file") not in _ARCHIVE_FILES:
                continue
            ids = cited.setdefault(m.group("file"), set())
            if m.group("id") and ids is not None:
                ids.add(m.group("id"))
            elif not m.group("id"):
                cited[m.group("file")] = None  # a one-record file, or a field of it: the whole record
    commit = audit.read(store.root, ["log", "--diff-filter=A", "--format=%H", "-1", "--", settlement.rel], check=False) or "HEAD"
    names = {f: f"{commit}:tenants/{case.tenant_id}/{f}" for f in cited}
    texts = audit.blobs(store.root, list(names.values()))
    out = {}
    for f, ids in sorted(cited.items()):
        raw = texts.get(names[f])
        if raw is None:
            continue
        data = yamlio.loads(raw.decode("utf-8"), f)
        if ids is not None and isinstance(data, dict) and isinstance(data.get("entries"), list):
            data = {**{k: v for k, v in data.items() if k != "entries"},
                    "entries": [x for x in data["entries"] if isinstance(x, dict) and str(x.get("id")) in ids]}
        data = privacy.shown(yamlio.plain(data), reveal)
        head = tr("# %s 中结算单引用的记录，取自签入结算条目的提交 %s\n", "# the records of %s the settlement cites, as in commit %s, which added it\n") % (f, commit[:12])
        out[f"records/{f}"] = (head + yamlio.dumps(data)).encode("utf-8")
    return out


def _write_zip(store, out: Path, folder: str, files: dict[str, bytes]) -> None:
    import os

    now = store.now()
    stamp = (max(now.year, 1980), now.month, now.day, now.hour, now.minute, now.second)
    tmp = out.with_name(f".{out.name}.wuye-tmp-{os.getpid()}")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, data)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def _readme(store, case, rows, attached, printed, commands, reveal: bool) -> str:
    """README.md of the bundle: the commands first (the same for every reader), then what they
    show and what else is inside, in Chinese and in English."""
    building = store.config.building.name
    company = case.info.get("company", "")
    units = "、".join(case.info.get("units") or [])
    steps = "\n".join(f"| {r['title']}（{r['step']}） | {r['revision']} | {r['name']}（{r['signer']}） | {r['department']} | "
                      f"{r['signed_at']} | {r['authority'] or ''} | `{r['file']}` | `{r['digest']}` |" for r in rows)
    files = "\n".join(f"| `{a['path']}` | {a['step']} | {a['type']} | {a['size']} | `{a['sha256']}` |" for a in attached) or "| — | | | | |"
    docs = "\n".join(f"- `documents/{k}.pdf`：{t} / {k}" for k, t in printed)
    block = "```sh\n" + "\n".join(commands) + "\n```"
    masked_zh = "已按规定隐去个人信息" if not reveal else "含完整个人信息（--reveal）"
    masked_en = "personal data masked" if not reveal else "personal data in full (--reveal)"
    return f"""# 迁出案件 {case.id} 争议材料包 / Move-out case {case.id}: dispute bundle

{building} · {company}（{case.tenant_id}）· 房号 / units {units}

只用 OpenSSH（`ssh-keygen`）和 `sha256sum` 即可在任何电脑上核验本材料包，无需 wuye。
Anyone can check this bundle on any machine with OpenSSH (`ssh-keygen`) and `sha256sum` alone, without wuye.

## 1. 文件完整 / The files are whole

在本目录中执行，每行都应显示 `OK`。 / Run in this folder; every line must say `OK`.

```sh
sha256sum -c SHA256SUMS
```

## 2. 每个签字 / Every signature

逐条执行，每条都应输出 `Good … signature`。 / Run each; every one must print `Good … signature`.

{block}

## 3. 签字一览 / The entries

| 步骤 step | 版本 rev | 签字人 signer | 部门 dept | 签字时间 signed at | 授权版本 authority | 被签内容 signed bytes | 摘要 digest |
|---|---|---|---|---|---|---|---|
{steps}

## 4. 附件 / Attachments

| 文件 file | 步骤 step | 类型 type | 字节 bytes | SHA-256 |
|---|---|---|---|---|
{files}

## 中文说明

- `entries/` 中每个 `.json` 文件是签字人签署的原始字节（RFC 8785 规范 JSON），`.json.sig` 是其 SSHSIG 签名
  （命名空间 `wuye-step`）。`authority/` 是授权链（谁可以签什么）：每一版的存档（`.yaml`）、被签内容（`.json`）
  和管理层的签名（命名空间 `wuye-authority`）。`allowed_signers` 只列出这些签名所用的公钥，取自授权链。
- 前后相连：每个条目的 `needs` 记录它所依赖条目的 sha256，`supersedes` 记录被更正的版本；`sha256sum entries/*.json`
  的结果就是这些摘要（去掉前缀 `sha256:`），也是纸面文件上和二维码中的摘要。授权链每一版的 `previous` 是上一版
  `.json` 文件的 sha256。条目中的 `authority` 是签字时依据的授权版本，其中列出签字人的部门和密钥的有效期。
- 条目的 `attachments` 记录随签字提交的文件（客户签字页扫描件、照片）的路径和 sha256，文件就在该路径下，
  `sha256sum -c SHA256SUMS` 已核对其内容。
- `case.yaml` 是案件文件；`records/` 是结算单引用的档案记录，取自签入结算的那次提交（{masked_zh}）。
- 打印文件（{masked_zh}）：

{docs}

- `entries/` 中被签的原始内容含有个人信息（不能隐去，否则签名无法核验），请妥善保管本材料包。

## In English

- Each `.json` file in `entries/` is the exact bytes the signer signed (RFC 8785 canonical JSON), and its
  `.json.sig` the SSHSIG signature (namespace `wuye-step`). `authority/` is the authority chain (who may sign
  what): each version as stored (`.yaml`), its signed bytes (`.json`) and management's signatures (namespace
  `wuye-authority`). `allowed_signers` lists only the keys of these signatures, taken from the chain.
- The links: an entry's `needs` names the sha256 of the entries it depends on, `supersedes` the revision it
  corrects; `sha256sum entries/*.json` gives those digests (less the `sha256:` prefix), which are also the
  digests printed on the papers and in their QR codes. Each authority version's `previous` is the sha256 of
  the previous version's `.json`. An entry's `authority` is the version it was signed under, which lists
  the signer's departments and the key's validity window.
- An entry's `attachments` names the path and sha256 of each file signed with it (the scan of the paper
  the tenant signed, photos); the file is at that path, and `sha256sum -c SHA256SUMS` has checked it.
- `case.yaml` is the case file; `records/` holds the archive records the settlement cites, as in the commit
  that added the settlement ({masked_en}).
- The printed papers ({masked_en}) are listed above.
- The signed bytes in `entries/` hold personal data as signed (masking them would break the signatures):
  keep this bundle safe.
"""
