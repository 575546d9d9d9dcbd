"""Staff training records (培训与发展): the courses each staff member attended, and who is due.

The regulations ask for regular professional training of the customer-service staff (定期对客服
人员进行专业培训). Each course attended is an entry of `training/<staff-id>.yaml`: course, date,
hours, trainer, assessment (合格/不合格, an optional score) and an optional certificate number.
The file sits outside `staff/` on purpose: staff files are the signed authority (who may sign
what), and a course attended grants no authority.

Who records: management only. The stores know departments but no department heads (staff/ has
no such role, and the authority chain none either), and an assessment written by the person
assessed, or by any colleague, would be worth nothing.

Who is due, as of a day: a staff member of the policy's departments (wuye.yaml `training`), not
revoked by then, whose hours dated in that calendar year up to the day are below `yearly_hours`,
or who has no passed record that year of a course in `required_courses`. Reads need no git.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import yamlio
from wuye.storage.layout import STAFF_DIR, TRAINING_DIR
from wuye.storage.store import Store

PREFIX = "TR-"
ASSESSMENT_WORDS = {"pass": "pass", "合格": "pass", "通过": "pass", "fail": "fail", "不合格": "fail", "未通过": "fail"}


def rel_of(staff_id: str) -> str:
    return f"{TRAINING_DIR}/{staff_id}.yaml"


def assessment_label(value: str | None) -> str:
    from wuye.models.registers import ASSESSMENTS

    zh, en = ASSESSMENTS.get(value or "", (value or "", value or ""))
    return tr(zh, en)


def parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise WuyeError(tr("%s %r 不是有效的日期：应形如 2026-03-10", "%s %r is not a valid date: expected e.g. 2026-03-10")
                        % (what, text)) from None


def _assessment(text: str) -> str:
    word = ASSESSMENT_WORDS.get(str(text).strip().lower())
    if word is None:
        raise WuyeError(tr("考核结果 %r 无效：应为 pass（合格）或 fail（不合格）",
                           "assessment %r is not valid: give pass or fail") % text)
    return word


def _score(text: str | None) -> int | None:
    if text is None:
        return None
    t = str(text).strip()
    if not t.isdigit() or not 0 <= int(t) <= 100:
        raise WuyeError(tr("考核成绩应为 0 到 100 的整数，而不是 %r", "the score must be a whole number from 0 to 100, not %r") % text)
    return int(t)


def _manager(store: Store, actor_id: str | None):
    actor = store.actor(actor_id)
    if "management" not in actor.departments:
        raise WuyeError(tr("只有管理层可以登记培训记录；%s 不属于管理层", "only management may record training; %s is not in management")
                        % actor.id)
    return actor


def checked(model, data: dict):
    """`data` as `model` accepts it, or a refusal naming each field (one line each), as the desk's
    records are refused (servicedesk._validated): the entry is not in any file yet."""
    obj, problems = yamlio.check_model(model, data, "")
    if problems:
        raise WuyeError("\n".join(p.message for p in problems), problems)
    return obj


@dataclass
class Added:
    staff_id: str
    entry_id: str
    commit: str | None
    entry: dict


def add(store: Store, staff_id: str, course: str, date: str, hours: str, trainer: str, assessment: str,
        actor_id: str | None, score: str | None = None, certificate: str | None = None) -> Added:
    """Record one course a staff member attended: one entry, one commit, by management."""
    from wuye.archive.dossier import ordered
    from wuye.models.registers import TrainingFile, TrainingRecord

    actor = _manager(store, actor_id)
    person = store.staff(staff_id)
    day = parse_date(date, "--date")
    now = store.now()
    if day > now.date():
        raise WuyeError(tr("--date %s 在将来；只能登记已经上过的培训", "--date %s is in the future; record only training that took place")
                        % day.isoformat())
    rel = rel_of(person.id)
    with store.change("", author=actor) as ch:
        doc = yamlio.load_roundtrip(store.read_text(rel), rel) if store.path(rel).is_file() else None
        if doc is None:
            doc = yamlio.load_roundtrip(f"# 培训记录 / training record\nstaff: {person.id}\nentries: []\n", rel)
        # The file must hold before it grows, as `archive add` insists of a category file.
        yamlio.validated(TrainingFile, yamlio.plain(doc), rel, store.read_text(rel) if store.path(rel).is_file() else None)
        if doc.get("entries") is None:
            doc["entries"] = []
        numbers = [int(str(e.get("id"))[len(PREFIX):]) for e in doc["entries"]
                   if isinstance(e, dict) and str(e.get("id", "")).startswith(PREFIX) and str(e.get("id"))[len(PREFIX):].isdigit()]
        eid = f"{PREFIX}{max(numbers, default=0) + 1:04d}"
        data = {"id": eid, "course": course, "date": day, "hours": hours, "trainer": trainer,
                "assessment": _assessment(assessment), "score": _score(score), "certificate": certificate,
                "recorded_by": actor.id, "recorded_at": now}
        data = {k: v for k, v in data.items() if v is not None}
        entry = checked(TrainingRecord, data)
        plain = ordered({k: v for k, v in yamlio.plain(entry.model_dump()).items() if v is not None})
        doc["entries"].append(plain)
        ch.write_yaml(rel, doc)
        # Names only what the store defines: the staff id, the entry and the hours (the course and
        # the assessment stay in the file: a commit message is copied into every clone for good).
        ch.summary = tr(f"training {person.id}: {eid} 登记培训 {entry.hours} 学时",
                        f"training {person.id}: {eid} recorded, {entry.hours} h")
        ch.trailers = {"Wuye-Staff": person.id, "Wuye-Entry": eid, "Wuye-Action": "training", "Wuye-Actor": actor.id}
    return Added(person.id, eid, ch.commit, plain)


# --- reading ------------------------------------------------------------------------------------


def staff_ids(store: Store) -> list[str]:
    d = store.path(STAFF_DIR)
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def records(store: Store, staff_id: str) -> tuple[list, list[Problem]]:
    """The staff member's training entries (models), or [] and the file's problems."""
    from wuye.models.registers import TrainingFile

    rel = rel_of(staff_id)
    path: Path = store.path(rel)
    if not path.is_file():
        return [], []
    try:
        text = store.read_text(rel)
        data = yamlio.loads(text, rel)
    except WuyeError as e:
        return [], e.problems or [Problem(rel, str(e))]
    obj, problems = yamlio.check_model(TrainingFile, data, rel, text)
    if obj is not None and obj.staff != staff_id:
        problems = [Problem(rel, tr("staff: 应为 %s（文件名）", "staff: should be %s (the file name)") % staff_id, code="schema.invalid")]
        obj = None
    return (obj.entries if obj is not None else []), problems


def listing(store: Store, staff_id: str | None = None) -> tuple[list[dict], list[Problem]]:
    """Every training entry (of one staff member, or of all), by date."""
    ids = [store.staff(staff_id).id] if staff_id else staff_ids(store)
    rows: list[dict] = []
    problems: list[Problem] = []
    for sid in ids:
        entries, found = records(store, sid)
        problems += found
        for e in entries:
            rows.append({"staff": sid, "id": e.id, "date": e.date.isoformat(), "course": e.course, "hours": e.hours,
                         "trainer": e.trainer, "assessment": e.assessment, "assessment_label": assessment_label(e.assessment),
                         "score": e.score, "certificate": e.certificate})
    rows.sort(key=lambda r: (r["date"], r["staff"], r["id"]))
    return rows, problems


@dataclass
class Due:
    """One staff member's standing for the year: hours done against the minimum, courses missing."""

    staff_id: str
    name: str
    departments: list[str]
    year: int
    hours: Decimal
    required: Decimal
    missing: list[str]

    @property
    def short(self) -> Decimal:
        return max(self.required - self.hours, Decimal(0))

    @property
    def due(self) -> bool:
        return self.short > 0 or bool(self.missing)


def standing(store: Store, day: dt.date) -> tuple[list[Due], list[Problem]]:
    """Every staff member the policy covers, with their hours and missing courses in `day`'s year."""
    policy = store.config.training
    covered = set(policy.departments)
    out: list[Due] = []
    problems: list[Problem] = []
    end_of_day = dt.datetime.combine(day, dt.time.max, tzinfo=store.tz())
    for sid in staff_ids(store):
        try:
            person = store.staff(sid)
        except WuyeError as e:
            problems += e.problems or [Problem(f"{STAFF_DIR}/{sid}.yaml", str(e))]
            continue
        if person.revoked_at is not None and person.revoked_at <= end_of_day:
            continue
        if not covered & set(person.departments):
            continue
        entries, found = records(store, sid)
        problems += found
        year = [e for e in entries if e.date.year == day.year and e.date <= day]
        hours = sum((e.hours for e in year), Decimal(0))
        passed = {e.course.strip() for e in year if e.assessment == "pass"}
        missing = [c for c in policy.required_courses if c.strip() not in passed]
        out.append(Due(sid, person.name, list(person.departments), day.year, hours, policy.yearly_hours, missing))
    return out, problems
