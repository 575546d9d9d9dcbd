"""What is waiting on a person or a department (待办): move-out steps they may sign now, and the
complaints and repairs they hold that are still open, each with its deadline and whether it is past.

A move-out step waits on a department when every step it needs is signed and it is not, and the
department is among its signers; it has waited since the latest of the steps it needs was signed
(the first step: since the case was opened), against the step's `deadline_hours` in the workflow
file (none: no deadline). Of the optional steps only the one that moves the settlement's money
waits: the payout when the balance is a refund, the collection when the tenant owes, and only
until the balance is moved (standards.balance_moved); a writeoff is management's decision, never
a task. For a person, a step is theirs when one of their departments signs it and no separation
rule of the workflow (`separate`) bars them, having signed another step of its group.

A complaint or repair waits on the department it was last assigned to, or on customer service
(客服部, which receives and dispatches them) while unassigned; for a person, on whoever it is
assigned to by name, or on everyone of the department while it names nobody. Open and overdue
are the service desk's own (servicedesk.clock): not closed, and past a response or resolution
limit at the moment. Its deadline is the next limit it still has to meet.

A lease ending within the reminder horizon (desk/leases.py) waits on leasing, overdue once it has
ended with the tenant still active. Training due this year (desk/training.py) waits on the staff
member and on management (a department's list: its members'), due by the year's end. An open
improvement action (desk/improvements.py) waits on its owner, overdue after its due day.

Everything is measured as of a moment (now, or `--as-of`, as the reports are): steps signed and
events recorded after it have not happened yet. An inquiry (inquiries.py) not answered on the
spot waits on whoever must follow it up until its due day ends; leases ending, training due and
improvement actions come from their registers (leases.py, training.py, improvements.py). Notices
(notices.py) carry no reply date, and are not listed. The cases are read as the move-out report reads them (no signature checks: this is a
look-up), the complaints and repairs through the entry index (servicedesk.read_items). Reads
only; imports nothing heavy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage.store import Store

DESK_DEPARTMENT = "customer_service"  # holds a complaint or repair until it is assigned
EXIT_OVERDUE = 3
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Whom:
    """Whom the list is for: a department, or a person (their departments, and what names them)."""

    departments: tuple[str, ...]
    staff_id: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        from wuye.desk.servicedesk import dept_label

        depts = tr("、", ", ").join(dept_label(d) for d in self.departments)
        if self.staff_id is None:
            return depts
        return tr("%s（%s，%s）", "%s (%s, %s)") % (self.name, self.staff_id, depts)


def whom(store: Store, staff_id: str | None = None, dept: str | None = None) -> Whom:
    """A department (`--dept`), or a registered staff member (`--as`/`--staff`)."""
    from wuye.desk.servicedesk import _department

    if staff_id and dept:
        raise WuyeError(tr("--as/--staff 与 --dept 只能给一个：查看一个人的待办，或一个部门的",
                           "give either --as/--staff or --dept: one person's list, or one department's"))
    if dept:
        return Whom((_department(dept),))
    if not staff_id:
        raise WuyeError(tr("请用 --as 员工编号（或 --dept 部门）说明查看谁的待办",
                           "say whose list it is with --as STAFF_ID (or --dept DEPARTMENT)"))
    person = store.staff(staff_id)
    return Whom(tuple(person.departments), person.id, person.name)


@dataclass
class Task:
    """One thing waiting: a step to sign, or a complaint or repair to move on."""

    kind: str  # moveout, complaint, repair
    ref: str  # case id or record id
    what: str  # the step's title, or the record's state, in the reader's language
    tenant_id: str
    company: str
    department: str
    since: dt.datetime
    due: dt.datetime | None
    overdue: bool
    step: str | None = None
    status: str | None = None  # a record's state (servicedesk's codes)
    deadline_hours: int | None = None
    assignee: str | None = None
    late: list[str] = field(default_factory=list)  # a record's limits past and still waited on

    def waited_hours(self, as_of: dt.datetime) -> Decimal:
        return _hours(self.since, as_of)

    def to_json(self, as_of: dt.datetime) -> dict:
        return {"kind": self.kind, "ref": self.ref, "step": self.step, "status": self.status, "what": self.what,
                "tenant_id": self.tenant_id, "company": self.company, "department": self.department,
                "assignee": self.assignee, "since": self.since.isoformat(),
                "waited_hours": float(self.waited_hours(as_of)), "deadline_hours": self.deadline_hours,
                "due": self.due.isoformat() if self.due else None, "overdue": self.overdue,
                "overdue_hours": float(_hours(self.due, as_of)) if self.overdue and self.due else None,
                "late": self.late}


@dataclass
class Todo:
    whom: Whom
    as_of: dt.datetime
    moveouts: list[Task]
    complaints: list[Task]
    repairs: list[Task]
    problems: list[Problem]
    leases: list[Task] = field(default_factory=list)
    training: list[Task] = field(default_factory=list)
    improvements: list[Task] = field(default_factory=list)
    inquiries: list[Task] = field(default_factory=list)

    @property
    def tasks(self) -> list[Task]:
        return (self.moveouts + self.complaints + self.repairs + self.leases + self.training + self.improvements
                + self.inquiries)

    @property
    def overdue(self) -> int:
        return sum(t.overdue for t in self.tasks)

    @property
    def exit_code(self) -> int:
        return EXIT_OVERDUE if self.overdue else 0

    def to_json(self) -> dict:
        return {"staff": self.whom.staff_id, "departments": list(self.whom.departments),
                "as_of": self.as_of.isoformat(), "total": len(self.tasks), "overdue": self.overdue,
                "moveouts": [t.to_json(self.as_of) for t in self.moveouts],
                "complaints": [t.to_json(self.as_of) for t in self.complaints],
                "repairs": [t.to_json(self.as_of) for t in self.repairs],
                "leases": [t.to_json(self.as_of) for t in self.leases],
                "training": [t.to_json(self.as_of) for t in self.training],
                "improvements": [t.to_json(self.as_of) for t in self.improvements],
                "inquiries": [t.to_json(self.as_of) for t in self.inquiries],
                "problems": [p.to_json() for p in self.problems]}


def _hours(since: dt.datetime, until: dt.datetime) -> Decimal:
    return (Decimal((until - since).total_seconds()) / 3600).quantize(TENTH, rounding=ROUND_HALF_UP)


def _when(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None  # a hand-edited time: `wuye verify` reports it; the step counts as unsigned


def _order(tasks: list[Task]) -> list[Task]:
    """Overdue first, then by deadline (none last), then by id."""
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    return sorted(tasks, key=lambda t: (not t.overdue, t.due or far, t.ref, t.step or ""))


# --- move-out steps ---------------------------------------------------------------------------


def _money_waits(wf, case, signed: dict[str, dict], step: str) -> bool:
    """Whether optional `step` is the payout or collection that moves the settlement's balance,
    still unmoved (a writeoff is management's call, never a task with a deadline)."""
    from wuye.moveout import standards

    if step not in ("payout", "collection"):
        return False
    ctx = standards.Context(None, wf, case, signed, None, lambda *_: None)
    return bool(standards.money_step_open(ctx, step))


def _barred(wf, signed: dict[str, dict], step: str, staff_id: str) -> bool:
    """The person signed another step that the workflow says must have a different signer."""
    return any((signed.get(other) or {}).get("signer") == staff_id for _, other in wf.separated_from(step))


def moveout_tasks(store: Store, who: Whom, as_of: dt.datetime, names: dict[str, str]) -> tuple[list[Task], list[Problem]]:
    from wuye.moveout import cases as moveout
    from wuye.moveout import workflow

    wf = workflow.load(store)
    tasks: list[Task] = []
    problems: list[Problem] = []
    mine = set(who.departments)
    for tid, cid in moveout.case_dirs(store):
        case = moveout.load_case(store, cid, (tid, f"tenants/{tid}/moveout/{cid}"))
        problems += case.problems
        opened = _when(case.info.get("opened_at"))
        if case.closed:
            tasks += _amendment_tasks(wf, case, who, as_of, names)
        if case.closed or opened is None or opened > as_of:
            continue
        gone = case.cancellation  # withdrawn by then (a tenant who renewed): waits for nobody
        if gone is not None and (_when(gone.data.get("signed_at")) or as_of) <= as_of:
            continue
        # The latest revision of each step signed by the moment, in latest_steps' shape.
        signed: dict[str, dict] = {}
        at: dict[str, dt.datetime] = {}
        for e in case.entries:
            when = _when(e.data.get("signed_at"))
            if when is None or when > as_of:
                continue
            if e.step not in signed or e.revision > signed[e.step].get("revision", 1):
                signed[e.step] = e.data
            at[e.step] = max(at.get(e.step, when), when)
        if wf.closing.id in signed:
            continue
        for sid in wf.order:
            spec = wf.steps[sid]
            if sid in signed or not all(n in signed for n in spec.needs) or not mine & set(spec.signers):
                continue
            if spec.optional and not _money_waits(wf, case, signed, sid):
                continue
            if who.staff_id and _barred(wf, signed, sid, who.staff_id):
                continue
            # Waiting since the last of its needs was signed (a correction restarts nothing: the
            # step could be signed from the first signature on).
            since = max((at[n] for n in spec.needs), default=opened)
            due = since + dt.timedelta(hours=spec.deadline_hours) if spec.deadline_hours else None
            dept = next(d for d in spec.signers if d in mine)
            tasks.append(Task("moveout", cid, wf.title(sid), tid, names.get(tid) or str(case.info.get("company") or tid),
                              dept, since.astimezone(as_of.tzinfo), due.astimezone(as_of.tzinfo) if due else None,
                              due is not None and as_of > due, step=sid, deadline_hours=spec.deadline_hours))
    return tasks, problems


def _amendment_tasks(wf, case, who: Whom, as_of: dt.datetime, names: dict[str, str]) -> list[Task]:
    """A closed case's amendment waiting for management's approval (never the amender's own
    task), or its approved refund waiting for finance to pay it out."""
    from wuye.moveout.amendment_check import AMEND, APPROVE, PAYOUT, _data, _money, approval_of, payout_of

    latest = case.latest(AMEND)
    when = _when(latest.data.get("signed_at")) if latest is not None else None
    if when is None or when > as_of:
        return []
    approval = approval_of(case, latest)
    if approval is None:
        step, spec, since = APPROVE, wf.approval, when
        if who.staff_id and who.staff_id == latest.data.get("signer"):
            return []
    else:
        diff = _money(_data(approval).get("difference"))
        since = _when(approval.data.get("signed_at"))
        spec = wf.amendment_payout
        # An amount due (negative) waits as an item of the ledger, not as a step.
        if diff is None or diff <= 0 or spec is None or since is None or since > as_of or payout_of(case, approval) is not None:
            return []
        step = PAYOUT
    mine = [d for d in spec.signers if d in who.departments]
    if not mine:
        return []
    tid = case.tenant_id
    return [Task("moveout", case.id, wf.title(step), tid, names.get(tid) or str(case.info.get("company") or tid), mine[0],
                 since.astimezone(as_of.tzinfo), None, False, step=step)]


# --- complaints and repairs -------------------------------------------------------------------


def _assignee(item, as_of: dt.datetime) -> str | None:
    """Whom the record names at the moment: the last assignment in its history up to then, or,
    for an entry kept by hand without one, its field."""
    from wuye.desk.servicedesk import _aware

    history = [h for h in item.record.history if h.action == "assign"]
    if not history:
        return item.record.assigned_to
    known = [h for h in history if _aware(h.at, as_of.tzinfo) <= as_of]
    return known[-1].assignee if known else None


def record_tasks(store: Store, who: Whom, as_of: dt.datetime) -> tuple[list[Task], list[Problem]]:
    from wuye.desk.servicedesk import COMPLAINT, REPAIR, clock, read_items

    limits = store.config.limits
    tasks: list[Task] = []
    problems: list[Problem] = []
    mine = set(who.departments)
    for kind in (COMPLAINT, REPAIR):
        items, found = read_items(store, kind, brief=True)
        problems += found
        for item in items:
            if item.received is None or item.received > as_of:
                continue
            clk = clock(item, limits, as_of)
            if clk.status == "closed":
                continue
            dept = clk.department or DESK_DEPARTMENT
            assignee = _assignee(item, as_of)
            if who.staff_id is not None:
                if not (assignee == who.staff_id or (assignee is None and dept in mine)):
                    continue
            elif dept not in mine:
                continue
            late = clk.overdue(as_of)
            start, _, resolved = clk.cycles[-1]
            if not clk.responded:
                due = clk.response_due
            elif not resolved:
                due = clk.resolution_due
            else:
                due = None  # done and waiting for the call-back that closes it: no limit
            # Waiting for a response since it came in; after that, since the resolution clock
            # last started (a reopening starts it again).
            tasks.append(Task(kind.key, item.ref, kind.status_label(clk.status), item.tenant_id,
                              item.company, dept, start if clk.responded else item.received,
                              due, bool(late), status=clk.status, assignee=assignee, late=late))
    return tasks, problems


# --- leases, training, improvement actions ------------------------------------------------------


def _day_end(day: dt.date, tz) -> dt.datetime:
    """The first moment after `day`: a lease runs, and an action may be done, through its last day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def lease_tasks(store: Store, who: Whom, as_of: dt.datetime) -> list[Task]:
    from wuye.desk import leases

    if "leasing" not in who.departments:
        return []
    days = store.config.reminders.lease_expiry_days
    tz = as_of.tzinfo
    return [Task("lease", e.tenant_id, tr("租期 %s 结束", "lease ends %s") % e.lease_end.isoformat(), e.tenant_id, e.company,
                 "leasing", _day_end(e.lease_end - dt.timedelta(days=days + 1), tz), _day_end(e.lease_end, tz), e.overdue)
            for e in leases.expiring(store, as_of.date(), days)]


def training_tasks(store: Store, who: Whom, as_of: dt.datetime) -> tuple[list[Task], list[Problem]]:
    from wuye.desk import training

    standing, problems = training.standing(store, as_of.date())
    manager = "management" in who.departments
    tasks = []
    for d in standing:
        if not d.due:
            continue
        if not manager and (d.staff_id != who.staff_id if who.staff_id else not set(d.departments) & set(who.departments)):
            continue
        parts = [tr("尚差 %s 学时", "%s h short") % d.short] if d.short > 0 else []
        parts += [tr("必修：%s", "required: %s") % c for c in d.missing]
        start = dt.datetime(d.year, 1, 1, tzinfo=as_of.tzinfo)
        tasks.append(Task("training", d.staff_id, tr("；", "; ").join(parts), "", d.staff_id, d.departments[0], start,
                          dt.datetime(d.year + 1, 1, 1, tzinfo=as_of.tzinfo), False, assignee=d.staff_id))
    return tasks, problems


def improvement_tasks(store: Store, who: Whom, as_of: dt.datetime) -> tuple[list[Task], list[Problem]]:
    from wuye.desk import improvements

    found, problems = improvements.actions(store)
    tasks = []
    for a in found:
        if a.status != "open" or (a.recorded_at is not None and a.recorded_at > as_of):
            continue
        if who.staff_id is not None:
            if a.owner != who.staff_id:
                continue
        else:
            try:
                depts = store.staff(a.owner).departments
            except WuyeError:
                depts = []
            if not set(depts) & set(who.departments):
                continue
        due = _day_end(a.due, as_of.tzinfo)
        tasks.append(Task("improvement", a.id, tr("针对 %s", "for %s") % a.ref, a.tenant_id or "", "",
                          "", a.recorded_at or as_of, due, as_of >= due, assignee=a.owner))
    return tasks, problems


# --- inquiries to follow up -------------------------------------------------------------------


def inquiry_tasks(store: Store, who: Whom, as_of: dt.datetime) -> tuple[list[Task], list[Problem]]:
    """接待/咨询 not answered on the spot and not yet followed up: on whoever must follow up, or on
    everyone of the department while it names nobody (the rule of complaints and repairs). Due by
    the end of its due day; waiting since it came in."""
    from wuye.desk import inquiries

    rows, problems = inquiries.waiting(store, as_of)
    mine = set(who.departments)
    tasks = []
    for row, st in rows:
        dept = st.department or DESK_DEPARTMENT
        if who.staff_id is not None:
            if not (st.assignee == who.staff_id or (st.assignee is None and dept in mine)):
                continue
        elif dept not in mine:
            continue
        due = inquiries.deadline(st.due, as_of.tzinfo) if st.due else None
        tasks.append(Task("inquiry", row["id"], row["status_label"], row.get("tenant_id"), row["company"], dept,
                          dt.datetime.fromisoformat(row["received_at"]), due, due is not None and as_of > due,
                          status=st.status, assignee=st.assignee))
    return tasks, problems


# --- entry point -------------------------------------------------------------------------------


def build(store: Store, staff_id: str | None = None, dept: str | None = None, as_of: str | None = None) -> Todo:
    """Everything waiting on `staff_id` or on `dept` as of `as_of` (default: now)."""
    from wuye.desk.servicedesk import parse_time
    from wuye.storage.index import tenant_index

    who = whom(store, staff_id, dept)
    moment = parse_time(as_of, store.tz(), "--as-of") if as_of else store.now()
    names = {tid: name for tid, name, _ in tenant_index(store)}
    moveouts, p1 = moveout_tasks(store, who, moment, names)
    records, p2 = record_tasks(store, who, moment)
    trained, p3 = training_tasks(store, who, moment)
    improving, p4 = improvement_tasks(store, who, moment)
    asked, p5 = inquiry_tasks(store, who, moment)
    return Todo(who, moment, _order(moveouts), _order([t for t in records if t.kind == "complaint"]),
                _order([t for t in records if t.kind == "repair"]), p1 + p2 + p3 + p4 + p5,
                _order(lease_tasks(store, who, moment)), _order(trained), _order(improving), _order(asked))
