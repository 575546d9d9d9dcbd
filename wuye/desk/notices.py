"""Notices and circulars (通知/通报) sent by the management office to many tenants at once.

`send` gives the notice its reference number (文号, `通知〔2026〕13号`), numbered per year and per
kind across the whole store, and in one commit registers it in every addressed tenant's
correspondence (与管理处往来文件, category 8) and keeps the full text once, in the office's own
register `notices/<year>/<kind>-<nnnn>.md` (the body with a short YAML header). The text is kept
once rather than copied into every dossier: a notice to 2,000 tenants stays one document, each
correspondence entry names it by its number and file, and correspondence.yaml never grows by a
whole text per notice (store files are capped at 1 MiB). Numbers already used by hand-kept
correspondence count too, so a number is never given twice. Writes go only through `Store.change`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wuye.storage import yamlio
from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage.store import Store

KINDS = {"notice": ("通知", "notice"), "circular": ("通报", "circular")}
REF_RE = re.compile(r"(?P<word>通知|通报)〔(?P<year>\d{4})〕(?P<n>\d+)号")
BODY_RE = re.compile(r"(?P<kind>notice|circular)-(?P<n>\d{4,})\.md")
NOTICES = "notices"


@dataclass
class SendResult:
    ref_no: str
    body_rel: str
    recipients: list[str]
    commit: str | None


def _word(kind: str) -> str:
    if kind not in KINDS:
        raise WuyeError(tr("未知文件类别 %r；可用：notice（通知）、circular（通报）",
                           "unknown kind %r; choose notice or circular") % kind)
    return KINDS[kind][0]


def recipients(store: Store, to: list[str]) -> tuple[list[str], bool]:
    """`all` (every tenant not moved out) or the tenants named (ids, names or pinyin), in order;
    and whether it was `all`."""
    from wuye.archive.dossier import find_tenant
    from wuye.storage.index import LISTING, tenant_index

    names = [t.strip() for item in to for t in str(item).replace("，", ",").split(",") if t.strip()]
    if not names:
        raise WuyeError(tr("请用 --to 指定收件租户，或 --to all", "name the tenants with --to, or --to all"))
    if "all" in names:
        if len(names) > 1:
            raise WuyeError(tr("--to all 不能与具体租户同时使用", "--to all cannot be combined with named tenants"))
        tids = [tid for tid, _, _, status in tenant_index(store, LISTING) if status != "moved_out"]
        if not tids:
            raise WuyeError(tr("档案库中没有在租租户", "the store has no tenants who have not moved out"))
        return tids, True
    return list(dict.fromkeys(find_tenant(store, n) for n in names)), False


def used_numbers(store: Store, word: str, year: int) -> set[int]:
    """Numbers of `word` in `year` already used, in the register and in any correspondence."""
    used: set[int] = set()
    kind = next(k for k, (w, _) in KINDS.items() if w == word)
    folder = store.path(f"{NOTICES}/{year}")
    if folder.is_dir():
        for p in folder.iterdir():
            m = BODY_RE.fullmatch(p.name)
            if m and m["kind"] == kind:
                used.add(int(m["n"]))
    for tid in store.tenant_ids():
        try:
            text = store.read_bytes(f"tenants/{tid}/correspondence.yaml").decode("utf-8", "replace")
        except (FileNotFoundError, NotADirectoryError):
            continue
        for m in REF_RE.finditer(text):
            if m["word"] == word and int(m["year"]) == year:
                used.add(int(m["n"]))
    return used


def _summary(body: str, body_rel: str) -> str:
    """The first paragraph of the body (headings skipped: they repeat the subject), and where the
    whole text is."""
    paragraph = []
    for line in body.splitlines():
        if line.lstrip().startswith("#"):
            if paragraph:
                break
            continue
        line = line.strip().lstrip(">*- ").strip()
        if not line:
            if paragraph:
                break
            continue
        paragraph.append(line)
    text = " ".join(paragraph)
    if len(text) > 120:
        text = text[:119] + "…"
    return f"{text}（全文：{body_rel}）" if text else f"全文：{body_rel}"


def send(store: Store, subject: str, file: Path, to: list[str], actor_id: str | None, kind: str = "notice",
         at: str | None = None) -> SendResult:
    """Number a notice, keep its text in the register and file it in every addressee's dossier.

    `at`: when it was sent, if earlier than now (a paper notice entered afterwards): its date,
    and the year it is numbered in; the entries still say when they were recorded.
    """
    from wuye.archive.dossier import append_entry, list_document
    from wuye.models.archive import BY_KEY, Correspondence
    from wuye.desk.servicedesk import event_time

    word = _word(kind)
    actor = store.actor(actor_id)
    subject = (subject or "").strip()
    if not subject:
        raise WuyeError(tr("标题不能为空", "the subject must not be empty"))
    body = yamlio.read_text(Path(file), str(file)).strip()
    if not body:
        raise WuyeError(tr("%s 是空的：通知须有正文", "%s is empty: a notice needs a body") % file)
    tids, everyone = recipients(store, to)
    c = BY_KEY["correspondence"]
    if at:
        event_time(store, at, store.now())  # a bad or future --at is refused before anything else
    with store.change("", author=actor) as ch:
        now = store.now()
        when = event_time(store, at, now) if at else now
        year = when.year
        number = max(used_numbers(store, word, year), default=0) + 1
        ref_no = f"{word}〔{year}〕{number}号"
        body_rel = f"{NOTICES}/{year}/{kind}-{number:04d}.md"
        header = {"ref_no": ref_no, "kind": kind, "subject": subject, "date": when.date().isoformat(),
                  "sent_by": actor.id, "sent_at": when.isoformat(), "to": "all" if everyone else tids,
                  "recipients": len(tids)}
        if when != now:
            header["recorded_at"] = now.isoformat()
        ch.write(body_rel, "---\n" + yamlio.dumps(header) + "---\n\n" + body + "\n")
        summary = _summary(body, body_rel)
        for tid in tids:
            rel = store.tenant_rel(tid, c.filename)
            doc = list_document(store, tid, c)
            append_entry(doc, c, {"date": when.date(), "direction": "out", "kind": kind, "ref_no": ref_no, "subject": subject,
                                  "summary": summary, "recorded_by": actor.id, "recorded_at": now}, Correspondence.model_validate)
            ch.write_yaml(rel, doc)
        # The subject is what a clerk typed: it stays in the files, not in history (servicedesk's
        # _summary says why).
        ch.summary = (tr("notice %s: 发给全体 %d 个租户", "notice %s: sent to all %d tenant(s)") if everyone
                      else tr("notice %s: 发给 %d 个租户", "notice %s: sent to %d tenant(s)")) % (ref_no, len(tids))
        ch.trailers = {"Wuye-Notice": ref_no, "Wuye-Category": "correspondence",
                       "Wuye-Recipients": (f"all ({len(tids)})" if everyone else
                                           ", ".join(tids) if len(tids) <= 20 else str(len(tids))),
                       "Wuye-Actor": actor.id}
    return SendResult(ref_no, body_rel, tids, ch.commit)


def _read_header(store: Store, rel: str) -> dict:
    text = yamlio.read_text(store.path(rel), rel)
    if not text.startswith("---\n"):
        return {}
    head, sep, _ = text[4:].partition("\n---")
    data = yamlio.loads(head, rel) if sep else None
    return data if isinstance(data, dict) else {}


def listing(store: Store, year: int | None = None) -> list[dict]:
    """Every notice and circular sent: from the register, and from correspondence for those sent
    before it existed (counted by the dossiers that hold them)."""
    rows: dict[str, dict] = {}
    base = store.path(NOTICES)
    for p in sorted(base.glob("*/*.md")) if base.is_dir() else []:
        if not BODY_RE.fullmatch(p.name) or (year and p.parent.name != str(year)):
            continue
        rel = f"{NOTICES}/{p.parent.name}/{p.name}"
        h = _read_header(store, rel)
        ref = str(h.get("ref_no") or "")
        if not ref:
            continue
        rows[ref] = {"ref_no": ref, "kind": h.get("kind"), "date": str(h.get("date", "")), "subject": h.get("subject"),
                     "recipients": h.get("recipients"), "sent_by": h.get("sent_by"), "body": rel}
    counts: dict[str, int] = {}
    for tid in store.tenant_ids():
        rel = f"tenants/{tid}/correspondence.yaml"
        try:
            raw = store.read_bytes(rel)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if "〔".encode() not in raw:
            continue
        data = yamlio.loads(yamlio.decode(raw, rel), rel)
        for e in (data.get("entries") or []) if isinstance(data, dict) else []:
            m = REF_RE.fullmatch(str(e.get("ref_no") or "")) if isinstance(e, dict) else None
            if not m or e.get("direction") != "out" or (year and int(m["year"]) != year):
                continue
            ref = m.group(0)
            counts[ref] = counts.get(ref, 0) + 1
            if ref not in rows:
                rows[ref] = {"ref_no": ref, "kind": "circular" if m["word"] == "通报" else "notice", "date": str(e.get("date", "")),
                             "subject": e.get("subject"), "recipients": None, "sent_by": e.get("recorded_by"), "body": None}
    for ref, row in rows.items():
        if row["recipients"] is None:
            row["recipients"] = counts.get(ref, 0)

    def key(row):
        m = REF_RE.fullmatch(row["ref_no"])
        return (int(m["year"]), m["word"], int(m["n"])) if m else (0, "", 0)

    return sorted(rows.values(), key=key)
