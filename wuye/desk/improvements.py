"""Improvement actions (评价与改进): what the office does about a low satisfaction score or a
complaint, who owns it, by when, and what came of it.

The regulations ask that satisfaction surveys find the points to improve (通过客户满意度调查，持续
评估服务质量，找出改进点) and that the system be reviewed and adjusted (定期评估和调整). An action
names the record it answers by the id the satisfaction report lists: a complaint (TS-2026-0003),
a repair's call-back (BX-2026-0007) or a survey answer (T0006/SUP-0002). It is opened (by
customer service, who runs the call-backs and surveys, or management), done by its owner (or
management) with its result, and verified by management: the loop closes at verification, by
a manager other than the one who marked it done (no one checks their own work).

The register is `improvements/<year>.yaml` (the year the action was opened), numbered
IMP-<year>-<nnnn> across the store. Writes go through `Store.change`, one commit per action;
reads need no git.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import yamlio
from wuye.storage.layout import IMPROVEMENTS_DIR
from wuye.storage.store import Store

PREFIX = "IMP"
ID_RE = re.compile(rf"{PREFIX}-(?P<year>\d{{4}})-(?P<n>\d{{4,}})")
FILE_RE = re.compile(r"\d{4}\.yaml")
OPENERS = ("customer_service", "management")
SOURCE_LABELS = {"complaint": ("投诉", "complaint"), "repair": ("报修回访", "repair"), "survey": ("满意度调查", "survey")}


def status_label(status: str) -> str:
    from wuye.models.registers import IMPROVEMENT_STATUSES

    zh, en = IMPROVEMENT_STATUSES.get(status, (status, status))
    return tr(zh, en)


def _rel(year: int) -> str:
    return f"{IMPROVEMENTS_DIR}/{year}.yaml"


def target(store: Store, ref: str) -> tuple[str, str, str]:
    """(source, the ref as the satisfaction report writes it, tenant id) of a complaint, a repair
    or a survey answer; refused when there is no such record."""
    from wuye.desk.servicedesk import COMPLAINT, REPAIR, display_ref, locate, surveys

    ref = str(ref).strip()
    tid, sep, eid = ref.replace(":", "/").rpartition("/")
    if sep and eid.startswith("SUP-"):
        if not _safe(tid) or not store.tenant_exists(tid):
            raise WuyeError(tr("找不到租户 %r；满意度调查写成 租户/条目，如 T0006/SUP-0002",
                               "no tenant %r; a survey answer is TENANT/ENTRY, e.g. T0006/SUP-0002") % tid)
        if not any(s.entry_id == eid for s in surveys(store, tid)):
            raise WuyeError(tr("%s 没有满意度调查 %s；用 `wuye survey list` 查看", "%s has no survey answer %s; see `wuye survey list`")
                            % (tid, eid))
        return "survey", f"{tid}/{eid}", tid
    for kind in (COMPLAINT, REPAIR):
        if eid.startswith(kind.prefix + "-") or (sep and kind is COMPLAINT):
            try:
                t, e = locate(store, kind, ref)
            except WuyeError:
                if sep and kind is COMPLAINT:
                    continue  # TENANT/ID of an older entry: a complaint's or a repair's
                raise
            return kind.key, display_ref(kind, t, e), t
    raise WuyeError(tr("不知道 %r 指什么：应为投诉（TS-…）、报修（BX-…）或满意度调查（租户/SUP-…），见 `wuye report satisfaction`",
                       "%r names no record: give a complaint (TS-…), a repair (BX-…) or a survey answer (TENANT/SUP-…), "
                       "as `wuye report satisfaction` lists them") % ref)


def _safe(tid: str) -> bool:
    from wuye.models.ids import check_id

    try:
        check_id(tid, "tenant")
    except ValueError:
        return False
    return True


def _person(store: Store, staff_id: str, what_zh: str, what_en: str):
    person = store.staff(staff_id)
    if person.revoked_at is not None and person.revoked_at <= store.now():
        raise WuyeError(tr("员工 %s 已停用，不能作%s" % (staff_id, what_zh), "staff member %s is revoked and cannot be the %s" % (staff_id, what_en)))
    return person


def _next_id(store: Store, year: int) -> str:
    top = 0
    try:
        raw = store.read_bytes(_rel(year))
    except (FileNotFoundError, NotADirectoryError):
        raw = b""
    for m in ID_RE.finditer(raw.decode("utf-8", "replace")):
        if int(m["year"]) == year:
            top = max(top, int(m["n"]))
    return f"{PREFIX}-{year}-{top + 1:04d}"


def _document(store: Store, rel: str):
    from wuye.models.registers import ImprovementFile

    if not store.path(rel).is_file():
        return yamlio.load_roundtrip("# 改进措施登记 / improvement actions\nentries: []\n", rel)
    text = store.read_text(rel)
    doc = yamlio.load_roundtrip(text, rel)
    yamlio.validated(ImprovementFile, yamlio.plain(doc), rel, text,
                     heading=tr("请先修正此文件：\n", "fix this file first:\n"))
    if doc.get("entries") is None:
        doc["entries"] = []
    return doc


@dataclass
class Result:
    id: str
    status: str
    commit: str | None
    entry: dict


def open_action(store: Store, ref: str, action: str, owner: str, due: str, actor_id: str | None) -> Result:
    """Open an action for a low score or a complaint: one entry, one commit."""
    from wuye.archive.dossier import ordered
    from wuye.desk.training import checked, parse_date
    from wuye.models.registers import ImprovementAction

    actor = store.actor(actor_id)
    if not set(OPENERS) & set(actor.departments):
        raise WuyeError(tr("只有客服部或管理层可以登记改进措施；%s 不属于其中", "only customer service or management may open an improvement action; %s is in neither")
                        % actor.id)
    source, shown, tid = target(store, ref)
    person = _person(store, owner, "负责人", "owner")
    day = parse_date(due, "--due")
    now = store.now()
    if day < now.date():
        raise WuyeError(tr("--due %s 已经过去；完成期限应是今天或以后", "--due %s has passed; the due date must be today or later") % day.isoformat())
    with store.change("", author=actor) as ch:
        rel = _rel(now.year)
        doc = _document(store, rel)
        eid = _next_id(store, now.year)
        entry = checked(ImprovementAction, {"id": eid, "ref": shown, "source": source, "tenant_id": tid, "action": action,
                                            "owner": person.id, "due": day, "status": "open",
                                            "recorded_by": actor.id, "recorded_at": now})
        plain = ordered({k: v for k, v in yamlio.plain(entry.model_dump()).items() if v is not None})
        doc["entries"].append(plain)
        ch.write_yaml(rel, doc)
        ch.summary = tr(f"improve {eid}: 针对 {shown} 登记改进措施，负责人 {person.id}，期限 {day.isoformat()}",
                        f"improve {eid}: opened for {shown}, owner {person.id}, due {day.isoformat()}")
        ch.trailers = {"Wuye-Entry": eid, "Wuye-Ref": shown, "Wuye-Tenant": tid, "Wuye-Action": "open", "Wuye-Actor": actor.id}
    return Result(eid, "open", ch.commit, plain)


def _find(doc, eid: str) -> dict:
    for e in doc["entries"]:
        if isinstance(e, dict) and str(e.get("id")) == eid:
            return e
    raise WuyeError(tr("找不到改进措施 %s；用 `wuye improve list` 查看", "no improvement action %s; see `wuye improve list`") % eid)


def _parse_id(eid: str) -> int:
    m = ID_RE.fullmatch(str(eid).strip())
    if not m:
        raise WuyeError(tr("改进措施编号 %r 无效：应形如 IMP-2026-0001", "invalid action id %r: expected e.g. IMP-2026-0001") % eid)
    return int(m["year"])


def _move(store: Store, eid: str, actor_id: str | None, action: str, result: str) -> Result:
    from wuye.desk.training import checked
    from wuye.models.registers import ImprovementAction

    year = _parse_id(eid)
    eid = eid.strip()
    actor = store.actor(actor_id)
    manager = "management" in actor.departments
    if not str(result or "").strip():
        raise WuyeError(tr("--result 不能为空：写明做了什么、效果如何", "--result must not be empty: say what was done and what came of it"))
    now = store.now()
    with store.change("", author=actor) as ch:
        rel = _rel(year)
        if not store.path(rel).is_file():
            raise WuyeError(tr("找不到改进措施 %s；用 `wuye improve list` 查看", "no improvement action %s; see `wuye improve list`") % eid)
        doc = _document(store, rel)
        entry = _find(doc, eid)
        status = str(entry.get("status"))
        if action == "done":
            if status != "open":
                raise WuyeError(tr("改进措施 %s 已是「%s」，不能再登记完成", "action %s is already %s and cannot be done again")
                                % (eid, status_label(status)))
            if not manager and actor.id != entry.get("owner"):
                raise WuyeError(tr("只有负责人 %s 或管理层可以登记 %s 完成", "only the owner %s or management may mark %s done")
                                % (entry.get("owner"), eid))
            updates = {"status": "done", "done_at": now, "done_by": actor.id, "result": result.strip()}
        else:
            if status != "done":
                raise WuyeError(tr("改进措施 %s 是「%s」：须先登记完成才能验证", "action %s is %s: it must be done before it is verified")
                                % (eid, status_label(status)))
            if not manager:
                raise WuyeError(tr("只有管理层可以验证改进措施；%s 不属于管理层", "only management may verify an action; %s is not in management")
                                % actor.id)
            if actor.id == entry.get("done_by"):
                raise WuyeError(tr("%s 登记了此措施的完成，验证须由另一位管理层成员", "%s marked this action done; another manager must verify it")
                                % actor.id)
            updates = {"status": "verified", "verified_at": now, "verified_by": actor.id, "verification": result.strip()}
        for k, v in updates.items():
            entry[k] = v
        checked(ImprovementAction, yamlio.plain(dict(entry)))
        ch.write_yaml(rel, doc)
        words = {"done": ("已完成", "done"), "verified": ("已验证", "verified")}[updates["status"]]
        ch.summary = tr(f"improve {eid}: {words[0]}", f"improve {eid}: {words[1]}")
        ch.trailers = {"Wuye-Entry": eid, "Wuye-Ref": str(entry.get("ref")), "Wuye-Action": updates["status"], "Wuye-Actor": actor.id}
    return Result(eid, updates["status"], ch.commit, yamlio.plain(dict(entry)))


def done(store: Store, eid: str, result: str, actor_id: str | None) -> Result:
    """The owner (or management) records what was done."""
    return _move(store, eid, actor_id, "done", result)


def verify(store: Store, eid: str, result: str, actor_id: str | None) -> Result:
    """Management checks the result: the loop closes."""
    return _move(store, eid, actor_id, "verify", result)


# --- reading ------------------------------------------------------------------------------------


def actions(store: Store) -> tuple[list, list[Problem]]:
    """Every action of the register (models), oldest first, and any file's problems."""
    from wuye.models.registers import ImprovementFile

    folder = store.path(IMPROVEMENTS_DIR)
    out: list = []
    problems: list[Problem] = []
    if not folder.is_dir():
        return out, problems
    for p in sorted(folder.iterdir()):
        if not FILE_RE.fullmatch(p.name):
            continue
        rel = f"{IMPROVEMENTS_DIR}/{p.name}"
        try:
            text = store.read_text(rel)
            data = yamlio.loads(text, rel)
        except WuyeError as e:
            problems += e.problems or [Problem(rel, str(e))]
            continue
        obj, found = yamlio.check_model(ImprovementFile, data, rel, text)
        problems += found
        out += obj.entries if obj is not None else []
    return out, problems


def overdue(a, day: dt.date) -> bool:
    return a.status == "open" and a.due < day


def row(a, day: dt.date) -> dict:
    return {"id": a.id, "ref": a.ref, "source": a.source, "source_label": tr(*SOURCE_LABELS[a.source]),
            "tenant_id": a.tenant_id, "action": a.action, "owner": a.owner, "due": a.due.isoformat(),
            "status": a.status, "status_label": status_label(a.status), "overdue": overdue(a, day),
            "result": a.result, "done_at": a.done_at.isoformat() if a.done_at else None,
            "verified_by": a.verified_by, "verification": a.verification}


def listing(store: Store, open_only: bool = False) -> tuple[list[dict], list[Problem]]:
    """The register's rows; `open_only`: the actions not yet done."""
    found, problems = actions(store)
    today = store.now().date()
    return [row(a, today) for a in found if not open_only or a.status == "open"], problems


def by_ref(store: Store) -> tuple[dict[str, list], list[Problem]]:
    """The actions of each record they answer, by the ref the satisfaction report lists."""
    found, problems = actions(store)
    out: dict[str, list] = {}
    for a in found:
        out.setdefault(a.ref, []).append(a)
    return out, problems
