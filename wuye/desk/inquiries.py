"""The reception and inquiry log (接待/咨询登记): who came or called, about what, who answered, and,
when it could not be answered on the spot, the follow-up due and its completion (a closed loop).

Where it is kept: one register for the whole desk, `desk/inquiries/<yyyy-mm>.yaml` (a month a
file, storage/layout.py), for a tenant's inquiry and a visitor's alike; a tenant's entry names
it by `tenant_id`. Not in the tenant's dossier, because (1) half of those who come to the
counter are no tenant (a prospective lessee, a courier, a neighbour), and their inquiries have no
dossier to go to; (2) the desk works the log as one list in time order (today's callers, the
follow-ups due this week, `wuye todo`), which one register reads without opening every tenant's
folder; (3) the twelve categories are the regulations' own and none of them is a reception log
(与管理处往来文件 is for documents with reference numbers). `inquiry list --tenant` gives a tenant's.

States: `answered` (answered on the spot: nothing more to do), `pending` (to be followed up by a
due date, by a named person or a department), `done` (followed up and answered). `follow-up`
records a contact on the way (and may move the due date or hand it on), `done` closes the loop;
each is one commit, and each event in `history` carries the due date and holder it leaves, so a
moment's state is replayed from the history (`--as-of`, `wuye todo`). Ids ZX-<year>-<nnnn>,
numbered per year under the store lock. A visitor's name and phone are personal data (the layout
names them, so they are masked on screen); commit messages carry ids, channels and dates only.
Writes only through `Store.change`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import yamlio
from wuye.storage.store import Store

PREFIX = "ZX"
STATUSES = {"answered": ("已当场答复", "answered"), "pending": ("待跟进", "pending"), "done": ("已跟进完成", "done")}
ACTIONS = {"open": ("接待登记", "open"), "follow_up": ("跟进", "follow-up"), "done": ("跟进完成", "done")}
# From each state, what may be done next (the loop: open -> follow-up* -> done).
FLOW = {"answered": (), "pending": ("follow_up", "done"), "done": ()}


def status_label(status: str) -> str:
    zh, en = STATUSES.get(status, (status, status))
    return tr(zh, en)


def action_label(action: str) -> str:
    zh, en = ACTIONS.get(action, (action, action))
    return tr(zh, en)


def visitor_label() -> str:
    return tr("访客", "visitor")


# --- files and ids ---------------------------------------------------------------------------


def _rel(when: dt.datetime) -> str:
    from wuye.storage.layout import INQUIRIES_DIR

    return f"{INQUIRIES_DIR}/{when.year:04d}-{when.month:02d}.yaml"


def register_files(store: Store, year: int | None = None) -> list[str]:
    """The monthly registers there are (of one year), oldest first; a link is no register."""
    from wuye.storage.layout import BY_NAME, INQUIRIES_DIR

    d = store.root / INQUIRIES_DIR
    if not d.is_dir():
        return []
    rels = [f"{INQUIRIES_DIR}/{e.name}" for e in os.scandir(d) if e.is_file(follow_symlinks=False)
            and (year is None or e.name.startswith(f"{year:04d}-"))]
    return sorted(r for r in rels if BY_NAME["inquiries"].compiled.match(r))


def _next_id(store: Store, year: int) -> str:
    """The next ZX-<year> number across the year's registers (called under the store lock)."""
    pattern = re.compile(rb"\b" + PREFIX.encode() + rb"-" + str(year).encode() + rb"-(\d{4,})\b")
    top = 0
    for rel in register_files(store, year):
        for m in pattern.finditer(store.read_bytes(rel)):
            top = max(top, int(m.group(1)))
    return f"{PREFIX}-{year}-{top + 1:04d}"


def _validated_file(store: Store, rel: str):
    """(the register's model or None, its errors)."""
    from wuye.desk.servicedesk import validated_register
    from wuye.models.desk import InquiryList

    return validated_register(store, rel, InquiryList)


def _check_file(store: Store, rel: str) -> None:
    _, problems = _validated_file(store, rel)
    if problems:
        raise WuyeError("\n".join(str(Problem(p.path, p.message + tr("（请先修正此文件）", " (fix this file first)"), p.line, p.col, code=p.code))
                                  for p in problems), problems)


def locate(store: Store, ref: str) -> tuple[str, str]:
    """(the register holding inquiry `ref`, its id); the raw bytes are searched before parsing."""
    from wuye.models.types import check_id

    ref = str(ref).strip()
    try:
        check_id(ref, tr("咨询编号", "inquiry id"))
    except ValueError as e:
        raise WuyeError(str(e)) from None
    m = re.fullmatch(PREFIX + r"-(\d{4})-\d{4,}", ref)
    needle = ref.encode("utf-8")
    for rel in register_files(store, int(m.group(1)) if m else None):
        raw = store.read_bytes(rel)
        if needle in raw:
            data = yamlio.loads(yamlio.decode(raw, rel), rel)
            entries = data.get("entries") if isinstance(data, dict) else None
            if any(isinstance(e, dict) and str(e.get("id")) == ref for e in entries or []):
                return rel, ref
    raise WuyeError(tr("找不到咨询 %s；用 `wuye inquiry list` 查看", "no inquiry %s; see `wuye inquiry list`") % ref)


# --- parsing what the clerk gives ------------------------------------------------------------


def parse_due(text: str, what: str = "--due") -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise WuyeError(tr("%s %r 不是有效的日期：应形如 2026-11-25", "%s %r is not a valid date: expected e.g. 2026-11-25")
                        % (what, text)) from None


def _holder(store: Store, actor, to: str | None, dept: str | None) -> tuple[str | None, str]:
    """Who follows up: a named staff member (in `dept` if given), a department, or the clerk."""
    from wuye.desk.servicedesk import _assignee, _department

    if dept:
        dept = _department(dept)
    if to:
        person = _assignee(store, to, dept) if dept else store.staff(to)
        if not dept:
            if person.revoked_at is not None and person.revoked_at <= store.now():
                raise WuyeError(tr("员工 %s 已停用，不能负责跟进", "staff member %s is revoked and cannot follow up") % to)
            dept = person.departments[0]
        return person.id, dept
    if dept:
        return None, dept
    return actor.id, actor.departments[0]


def _deadline(due: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """A follow-up due on a day may be done until that day ends."""
    return dt.datetime.combine(due, dt.time(23, 59, 59), tzinfo=tz)


# --- writing ---------------------------------------------------------------------------------


@dataclass
class Result:
    ref: str
    action: str
    status: str
    commit: str | None
    record: dict


def _summary(ref: str, action: str, zh: str = "", en: str = "") -> str:
    """`inquiry ZX-2026-0003: 跟进，期限 2026-11-28`: ids, channels and dates only; what was asked
    and who asked it stay in the register (a commit message is copied into every clone for good)."""
    return tr(f"inquiry {ref}: {ACTIONS[action][0]}" + (f"，{zh}" if zh else ""),
              f"inquiry {ref}: {ACTIONS[action][1]}" + (f", {en}" if en else ""))


def open_inquiry(store: Store, who: str | None, channel: str, about: str, actor_id: str | None, *,
                 visitor: str | None = None, phone: str | None = None, answer: str | None = None,
                 due: str | None = None, to: str | None = None, dept: str | None = None, at: str | None = None) -> Result:
    """接待登记: a visit or call, answered on the spot (`answer`) or to be followed up by `due`."""
    from wuye.archive.dossier import find_tenant, ordered
    from wuye.desk.servicedesk import CHANNELS, _text, event_time

    actor = store.actor(actor_id)
    if channel not in CHANNELS:
        raise WuyeError(tr("未知方式 %r；可用：%s" % (channel, "、".join(f"{k}（{v[0]}）" for k, v in CHANNELS.items())),
                           "unknown channel %r; choose from: %s" % (channel, ", ".join(CHANNELS))))
    about = _text(about, "咨询事项", "what the inquiry is about")
    visitor = visitor.strip() if visitor and visitor.strip() else None
    phone = phone.strip() if phone and phone.strip() else None
    if who is None and (visitor is None or phone is None):
        raise WuyeError(tr("请给出租户（编号、房号、名称或拼音首字母），或非租户访客的 --visitor 姓名和 --phone 电话",
                           "name the tenant (id, unit, name or pinyin initials), or a visitor who is not a tenant with --visitor NAME and --phone PHONE"))
    tid = find_tenant(store, who) if who is not None else None
    answer = answer.strip() if answer and answer.strip() else None
    if due is None and answer is None:
        raise WuyeError(tr("未当场答复：请用 --answer 登记答复，或用 --due 日期 安排跟进（可加 --to 员工 或 --dept 部门）",
                           "not answered on the spot: give the answer with --answer, or a follow-up date with --due (and --to STAFF or --dept)"))
    if due is None and (to or dept):
        raise WuyeError(tr("--to/--dept 是跟进人，须与 --due 跟进期限一起给出", "--to/--dept name who follows up: give them with --due"))
    now = store.now()
    when = event_time(store, at, now)
    day = parse_due(due) if due is not None else None
    if day is not None and day < when.date():
        raise WuyeError(tr("--due %s 早于接待日期 %s", "--due %s is before the inquiry was received (%s)") % (day, when.date()))
    holder, holder_dept = _holder(store, actor, to, dept) if day is not None else (None, None)
    status = "pending" if day is not None else "answered"
    rel = _rel(when)
    with store.change("", author=actor) as ch:
        _check_file(store, rel)
        doc = yamlio.load_roundtrip(store.read_text(rel)) if store.path(rel).is_file() else None
        if doc is None:
            doc = {"entries": []}
        if doc.get("entries") is None:
            doc["entries"] = []
        eid = _next_id(store, when.year)
        data = {"id": eid, "received_at": when, "channel": channel, "tenant_id": tid, "visitor_name": visitor,
                "visitor_phone": phone, "description": about, "answered_by": actor.id, "on_the_spot": day is None,
                "response": answer, "follow_up_due": day, "follow_up_dept": holder_dept, "follow_up_to": holder,
                "status": status,
                "history": [{"at": when, "by": actor.id, "action": "open", "status": status, "note": about, "due": day,
                             "assignee": holder, "department": holder_dept}],
                "recorded_by": actor.id, "recorded_at": now}
        entry = ordered(_validated({k: v for k, v in data.items() if v is not None}))
        doc["entries"].append(entry)
        ch.write_yaml(rel, doc)
        who_zh, who_en = (f"租户 {tid}", f"tenant {tid}") if tid else ("访客", "visitor")
        from wuye.desk.servicedesk import channel_label

        zh = f"{channel_label(channel)}（{who_zh}）" + (f"，待跟进（{day.isoformat()} 前）" if day else "，当场答复")
        en = f"{who_en} by {channel}" + (f", follow-up due {day.isoformat()}" if day else ", answered on the spot")
        ch.summary = tr(f"inquiry {eid}: 接待登记，{zh}", f"inquiry {eid}: open, {en}")
        ch.trailers = {**({"Wuye-Tenant": tid} if tid else {}), "Wuye-Register": "inquiries", "Wuye-Entry": eid,
                       "Wuye-Action": "open", "Wuye-Status": status, "Wuye-Due": day.isoformat() if day else "",
                       "Wuye-Actor": actor.id}
    return Result(eid, "open", status, ch.commit, entry)


def _validated(data: dict) -> dict:
    from pydantic import ValidationError

    from wuye.models.desk import Inquiry

    try:
        obj = Inquiry.model_validate(data)
    except ValidationError as e:
        raise WuyeError("; ".join(f"{'.'.join(map(str, err['loc'])) or tr('咨询', 'inquiry')}: {yamlio.describe(err)}"
                                  for err in e.errors(include_url=False))) from None
    return _unshared(yamlio.plain(obj.model_dump(exclude_none=True)))


def _unshared(value):
    """A due date stands in the entry and in its event: one date object in two places would be
    written as a YAML anchor and alias, which the store refuses to read."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.date(value.year, value.month, value.day)
    return value


def _move(store: Store, ref: str, action: str, actor_id: str | None, note: str, at: str | None,
          updates, detail: tuple[str, str]) -> Result:
    """One step of the loop: checked against the state, recorded in history, one commit."""
    from wuye.desk.servicedesk import event_time, parse_time

    actor = store.actor(actor_id)
    now = store.now()
    when = event_time(store, at, now)
    with store.change("", author=actor) as ch:
        rel, eid = locate(store, ref)
        _check_file(store, rel)
        doc = yamlio.load_roundtrip(store.read_text(rel))
        entry = next(e for e in doc["entries"] if str(e.get("id")) == eid)
        current = _validated(dict(entry))
        status = current["status"]
        if action not in FLOW[status]:
            allowed = "、".join(f"{ACTIONS[a][0]}（{a.replace('_', '-')}）" for a in FLOW[status]) or "无（已办结）"
            raise WuyeError(tr("咨询 %s 当前状态为「%s」（%s），不能%s；此时可以：%s" % (eid, STATUSES[status][0], status, ACTIONS[action][0], allowed),
                               "inquiry %s is %s; %s is not allowed now; allowed: %s"
                               % (eid, status, ACTIONS[action][1], ", ".join(a.replace("_", "-") for a in FLOW[status]) or "nothing (it is finished)")))
        latest = max(parse_time(h["at"], store.tz()) for h in current.get("history") or [{"at": current["received_at"]}])
        if when < latest:
            raise WuyeError(tr("--at %s 早于此咨询的上一次办理（%s）；办理记录须按时间先后",
                               "--at %s is before this inquiry's last step (%s); history runs forward in time")
                            % (when.isoformat(), latest.isoformat()))
        fields = updates(current, when)
        new_status = fields.get("status", status)
        event = {"at": when, "by": actor.id, "action": action, "status": new_status, "note": note,
                 "due": fields.get("follow_up_due", current.get("follow_up_due")),
                 "assignee": fields.get("follow_up_to", current.get("follow_up_to")),
                 "department": fields.get("follow_up_dept", current.get("follow_up_dept"))}
        event = {k: v for k, v in event.items() if v is not None}
        new = _validated({**current, **fields, "history": [*(current.get("history") or []), event]})
        for key in fields:
            if new.get(key) is None:
                entry.pop(key, None)  # handed to a department: no one by name any more
            else:
                entry[key] = new[key]
        if entry.get("history") is None:
            entry["history"] = []
        entry["history"].append(new["history"][-1])
        ch.write_yaml(rel, doc)
        ch.summary = _summary(eid, action, *detail)
        ch.trailers = {**({"Wuye-Tenant": current["tenant_id"]} if current.get("tenant_id") else {}),
                       "Wuye-Register": "inquiries", "Wuye-Entry": eid, "Wuye-Action": action, "Wuye-Status": new_status,
                       "Wuye-Actor": actor.id}
    return Result(eid, action, new_status, ch.commit, new)


def follow_up(store: Store, ref: str, note: str, actor_id: str | None, due: str | None = None,
              to: str | None = None, dept: str | None = None, at: str | None = None) -> Result:
    """跟进: a contact on the way (called back, asked another department), still open; it may move
    the due date (`due`) or hand the follow-up to someone else (`to`/`dept`)."""
    from wuye.desk.servicedesk import _text

    note = _text(note, "跟进情况", "what was done")
    day = parse_due(due) if due is not None else None
    actor = store.actor(actor_id)
    holder = _holder(store, actor, to, dept) if (to or dept) else None

    def updates(current: dict, when: dt.datetime) -> dict:
        out = {}
        if day is not None:
            if day < when.date():
                raise WuyeError(tr("--due %s 早于今天（%s）", "--due %s is before the day of this follow-up (%s)") % (day, when.date()))
            out["follow_up_due"] = day.isoformat()
        if holder is not None:
            out["follow_up_to"], out["follow_up_dept"] = holder
        return out

    detail = (f"期限改为 {day.isoformat()}", f"due {day.isoformat()}") if day else ("", "")
    return _move(store, ref, "follow_up", actor_id, note, at, updates, detail)


def done(store: Store, ref: str, answer: str, actor_id: str | None, at: str | None = None) -> Result:
    """跟进完成: the answer that closes the loop."""
    from wuye.desk.servicedesk import _text

    answer = _text(answer, "答复", "the answer")

    def updates(current: dict, when: dt.datetime) -> dict:
        return {"status": "done", "response": answer, "done_at": when}

    return _move(store, ref, "done", actor_id, answer, at, updates, ("", ""))


# --- reading ---------------------------------------------------------------------------------


@dataclass
class State:
    """An inquiry as it stood at a moment, replayed from its history."""

    status: str
    due: dt.date | None
    assignee: str | None
    department: str | None
    last: dt.datetime


def state_at(rec, as_of: dt.datetime, tz: dt.tzinfo) -> State:
    from wuye.desk.servicedesk import _aware

    events = [h for h in rec.history if _aware(h.at, tz) <= as_of]
    if not events:  # an entry kept by hand without history: its fields stand
        return State(rec.status, rec.follow_up_due, rec.follow_up_to, rec.follow_up_dept, _aware(rec.received_at, tz))
    last = events[-1]
    return State(last.status, last.due, last.assignee, last.department, _aware(last.at, tz))


def read_all(store: Store) -> tuple[list, list[Problem]]:
    """Every inquiry, validated, in the order received; unreadable registers become problems."""
    records, problems = [], []
    for rel in register_files(store):
        obj, found = _validated_file(store, rel)
        problems += found
        records += list(obj.entries) if obj is not None else []
    tz = store.tz()
    from wuye.desk.servicedesk import _aware

    records.sort(key=lambda r: (_aware(r.received_at, tz), r.id or ""))
    return records, problems


def _names(store: Store) -> dict[str, str]:
    from wuye.storage.index import tenant_index

    return {tid: name or tid for tid, name, _ in tenant_index(store)}


def row(rec, as_of: dt.datetime, tz: dt.tzinfo, names: dict[str, str]) -> dict:
    from wuye.desk.servicedesk import _aware, channel_label, dept_label

    st = state_at(rec, as_of, tz)
    overdue = st.status == "pending" and st.due is not None and as_of > _deadline(st.due, tz)
    data = rec.model_dump(mode="json", exclude_none=True)
    data.pop("history", None)
    data.update({
        "received_at": _aware(rec.received_at, tz).isoformat(),
        "company": names.get(rec.tenant_id, rec.tenant_id) if rec.tenant_id else visitor_label(),
        "channel_label": channel_label(rec.channel),
        "status": st.status, "status_label": status_label(st.status),
        "follow_up_due": st.due.isoformat() if st.due else None, "follow_up_to": st.assignee,
        "follow_up_dept": st.department, "follow_up_dept_label": dept_label(st.department) if st.department else "",
        "overdue": overdue,
    })
    return data


def listing(store: Store, open_only: bool = False, overdue_only: bool = False, tenant: str | None = None,
            as_of: str | None = None) -> tuple[list[dict], list[Problem], dt.datetime]:
    """Rows for `inquiry list`: all, the ones waiting for a follow-up, or those past their due date."""
    from wuye.archive.dossier import find_tenant
    from wuye.desk.servicedesk import _aware, parse_time

    tz = store.tz()
    when = parse_time(as_of, tz, "--as-of") if as_of else store.now()
    tid = find_tenant(store, tenant) if tenant else None
    records, problems = read_all(store)
    names = _names(store)
    rows = []
    for rec in records:
        if _aware(rec.received_at, tz) > when or (tid and rec.tenant_id != tid):
            continue
        r = row(rec, when, tz, names)
        if (open_only and r["status"] != "pending") or (overdue_only and not r["overdue"]):
            continue
        rows.append(r)
    return rows, problems, when


def show(store: Store, ref: str) -> dict:
    """One inquiry: every field, its history, whether it is overdue now and what may be done next."""
    rel, eid = locate(store, ref)
    obj, problems = _validated_file(store, rel)
    if obj is None or problems:
        raise WuyeError("\n".join(str(p) for p in problems), problems)
    rec = next(e for e in obj.entries if e.id == eid)
    now = store.now()
    data = row(rec, now, store.tz(), _names(store))
    data["history"] = [h.model_dump(mode="json", exclude_none=True) for h in rec.history]
    data["allowed"] = [a.replace("_", "-") for a in FLOW[data["status"]]]
    data["as_of"] = now.isoformat()
    return data


def waiting(store: Store, as_of: dt.datetime) -> tuple[list[tuple[dict, State]], list[Problem]]:
    """The inquiries still to be followed up at `as_of`, each with its state then (for todo)."""
    from wuye.desk.servicedesk import _aware

    tz = store.tz()
    records, problems = read_all(store)
    names = _names(store)
    out = []
    for rec in records:
        if _aware(rec.received_at, tz) > as_of:
            continue
        st = state_at(rec, as_of, tz)
        if st.status == "pending":
            out.append((row(rec, as_of, tz, names), st))
    return out, problems


def deadline(due: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return _deadline(due, tz)
