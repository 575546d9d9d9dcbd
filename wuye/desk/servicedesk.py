"""The service desk (客户服务): complaints (投诉) and repairs (报修) walked through their states,
and the periodic satisfaction survey (满意度调查).

A complaint or a repair is one entry in its tenant's complaints.yaml or repairs.yaml (archive
categories 11 and 10), so `wuye archive show` keeps showing it. The entry holds its current state
(status, department, response, result, times) and a `history` list with one event per transition
(投诉闭环管理: 全程记录); every transition is one commit. Which transitions are allowed from which
state is the table in `COMPLAINT`/`REPAIR`, and a transition out of order is refused naming the
current state and what may be done next. Ids are TS-<year>-<nnnn> (投诉) and BX-<year>-<nnnn>
(报修), numbered per year across the whole store under the store lock; entries recorded before the
desk existed (CMP-0001, REP-0001, numbered per file) keep their ids and are named `T0001/CMP-0001`.

A repair of a common area (公共区域: a lift lobby, a stairwell, the car park) belongs to no
tenant, so it cannot live in a dossier: it is kept in the store-level register
`desk/repairs/<year>.yaml` (storage/layout.py), as the same `Repair` entry, numbered in the same
BX-<year> sequence and walked by the same `REPAIR` flow; only where its file is differs, and
`tenant_id` is None wherever it is read (listings, reports, todo show 公共区域 for it).

Time limits come from wuye.yaml `limits`. `timeline()` turns a record into its events (from its
history, with the older fields standing in for events a hand-kept entry never recorded) and
`clock()` replays them up to a moment, so `--overdue` and the reports measure every record as it
stood at that moment, not as it stands today. Survey answers are kept in the tenant's 客户资料补充
(supplement.yaml, category 5): see `record_survey` for why. This module writes only through
`Store.change` and reads only the store.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from operator import attrgetter
from decimal import Decimal
from typing import Any, Callable, NamedTuple

from wuye.storage import yamlio
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage.store import Store


# --- the two kinds of record and their state machines ----------------------------------------


@dataclass(frozen=True)
class Kind:
    """What differs between a complaint and a repair: file, id prefix, words, and allowed moves."""

    key: str  # complaint / repair: the CLI noun
    category: str  # complaints / repairs: the archive category
    prefix: str  # TS / BX
    zh: str
    en: str
    received_field: str  # received_at / reported_at
    # state -> {action: next state}: the only transitions there are.
    flow: dict[str, dict[str, str]]
    statuses: dict[str, tuple[str, str]]
    actions: dict[str, tuple[str, str]]
    # What "responded" and "resolved" mean for the time limits.
    response_action: str
    resolution_action: str

    @property
    def model(self):
        from wuye.models.archive import BY_KEY

        from wuye.models.archive import entry_model

        return entry_model(BY_KEY[self.category])

    def word(self) -> str:
        return tr(self.zh, self.en)

    def status_label(self, status: str) -> str:
        zh, en = self.statuses.get(status, (status, status))
        return tr(zh, en)

    def action_label(self, action: str) -> str:
        zh, en = self.actions.get(action, (action, action))
        return tr(zh, en)


COMPLAINT = Kind(
    key="complaint", category="complaints", prefix="TS", zh="投诉", en="complaint", received_field="received_at",
    flow={
        "open": {"assign": "assigned", "respond": "responded"},
        "assigned": {"assign": "assigned", "respond": "responded"},
        # Re-routing after a first response keeps the record "responded": the tenant has heard back.
        "responded": {"assign": "responded", "resolve": "resolved"},
        "resolved": {"close": "closed", "reopen": "reopened"},
        "closed": {"reopen": "reopened"},
        # A reopened complaint needs a new result before it can be closed again.
        "reopened": {"assign": "reopened", "respond": "reopened", "resolve": "resolved"},
    },
    statuses={"open": ("已受理", "open"), "assigned": ("已分派", "assigned"), "responded": ("已回复", "responded"),
              "resolved": ("已处理", "resolved"), "closed": ("已关闭", "closed"), "reopened": ("已重开", "reopened")},
    actions={"open": ("受理", "open"), "assign": ("分派", "assign"), "respond": ("回复", "respond"),
             "resolve": ("处理", "resolve"), "close": ("回访关闭", "close"), "reopen": ("重开", "reopen")},
    response_action="respond", resolution_action="resolve",
)

REPAIR = Kind(
    key="repair", category="repairs", prefix="BX", zh="报修", en="repair", received_field="reported_at",
    flow={
        "open": {"assign": "assigned"},
        "assigned": {"assign": "assigned", "done": "done"},
        "done": {"close": "closed"},
        "closed": {},
    },
    statuses={"open": ("已报修", "reported"), "assigned": ("已派工", "assigned"), "done": ("已完成", "done"),
              "closed": ("已关闭", "closed")},
    actions={"open": ("报修", "open"), "assign": ("派工", "assign"), "done": ("完工", "done"),
             "close": ("回访关闭", "close")},
    # A repair is "responded to" when someone is sent (派工), resolved when the work is done.
    response_action="assign", resolution_action="done",
)

KINDS = {"complaint": COMPLAINT, "repair": REPAIR}
CHANNELS = {"phone": ("电话", "phone"), "counter": ("前台", "counter"), "online": ("网上", "online"),
            "letter": ("信函", "letter"), "visit": ("上门", "visit")}


def channel_label(channel: str) -> str:
    zh, en = CHANNELS.get(channel, (channel, channel))
    return tr(zh, en)


def dept_label(dept: str | None) -> str:
    from wuye.models.store import DEPARTMENTS

    if dept is None:
        return tr("未分派", "unassigned")
    zh, en = DEPARTMENTS.get(dept, (dept, dept))
    return tr(zh, en)


# --- small parsers shared by the CLI and the reports -------------------------------------------


def parse_time(text: str, tz: dt.tzinfo, what: str = "--at") -> dt.datetime:
    """`2026-11-20T17:40`, `2026-11-20 17:40` or `2026-11-20` (midnight); without an offset, the
    building's time zone."""
    t = str(text).strip().replace(" ", "T", 1)
    try:
        when = dt.datetime.fromisoformat(t)
    except ValueError:
        raise WuyeError(tr("%s %r 不是有效的时间：应形如 2026-11-20T17:40（可带时区 +08:00）",
                           "%s %r is not a valid time: expected e.g. 2026-11-20T17:40 (an offset such as +08:00 is optional)") % (what, text)) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.astimezone(tz).replace(microsecond=0)


PERIOD_RE = re.compile(r"(?P<y>\d{4})(?:-(?:(?P<m>\d{2})|Q(?P<q>\d)))?")


@dataclass(frozen=True)
class Period:
    """A month (2026-11), a quarter (2026-Q4) or a year (2026): [start, end) in the building's zone."""

    label: str
    start: dt.datetime
    end: dt.datetime

    @property
    def grain(self) -> str:
        return "month" if len(self.label) == 7 and "Q" not in self.label else ("quarter" if "Q" in self.label else "year")

    def contains(self, when: dt.datetime | None) -> bool:
        return when is not None and self.start <= when < self.end


def parse_period(text: str, tz: dt.tzinfo) -> Period:
    m = PERIOD_RE.fullmatch(str(text).strip())
    bad = WuyeError(tr("期间 %r 无效：应为年（2026）、季度（2026-Q4）或月份（2026-11）",
                       "invalid period %r: give a year (2026), a quarter (2026-Q4) or a month (2026-11)") % text)
    if not m:
        raise bad
    y = int(m["y"])
    if m["m"]:
        month = int(m["m"])
        if not 1 <= month <= 12:
            raise bad
        return month_period(y, month, tz)
    if m["q"]:
        q = int(m["q"])
        if not 1 <= q <= 4:
            raise bad
        start = dt.datetime(y, 3 * q - 2, 1, tzinfo=tz)
        end = dt.datetime(y + 1, 1, 1, tzinfo=tz) if q == 4 else dt.datetime(y, 3 * q + 1, 1, tzinfo=tz)
        return Period(f"{y}-Q{q}", start, end)
    return Period(str(y), dt.datetime(y, 1, 1, tzinfo=tz), dt.datetime(y + 1, 1, 1, tzinfo=tz))


def month_period(y: int, month: int, tz: dt.tzinfo) -> Period:
    start = dt.datetime(y, month, 1, tzinfo=tz)
    end = dt.datetime(y + 1, 1, 1, tzinfo=tz) if month == 12 else dt.datetime(y, month + 1, 1, tzinfo=tz)
    return Period(f"{y}-{month:02d}", start, end)


def quarter_of(when: dt.datetime, tz: dt.tzinfo) -> Period:
    return parse_period(f"{when.year}-Q{(when.month - 1) // 3 + 1}", tz)


def _satisfaction(value: Any) -> int:
    try:
        score = int(str(value).strip())
    except ValueError:
        score = 0
    if str(score) != str(value).strip() or not 1 <= score <= 5:
        raise WuyeError(tr("满意度应为 1 到 5 的整数（5 最满意），而不是 %r",
                           "satisfaction must be a whole number from 1 to 5 (5 is best), not %r") % value)
    return score


def _text(value: str | None, what_zh: str, what_en: str) -> str:
    if value is None or not str(value).strip():
        raise WuyeError(tr("%s不能为空" % what_zh, "%s must not be empty" % what_en))
    return str(value).strip()


def _department(dept: str) -> str:
    from wuye.models.store import DEPARTMENTS

    if dept not in DEPARTMENTS:
        raise WuyeError(tr("未知部门 %r；可用：%s" % (dept, "、".join(f"{k}（{v[0]}）" for k, v in DEPARTMENTS.items())),
                           "unknown department %r; choose from: %s" % (dept, ", ".join(DEPARTMENTS))))
    return dept


def _assignee(store: Store, staff_id: str, dept: str):
    """A registered, active staff member of `dept`."""
    person = store.staff(staff_id)
    if person.revoked_at is not None and person.revoked_at <= store.now():
        raise WuyeError(tr("员工 %s 已停用，不能分派给此人", "staff member %s is revoked and cannot be assigned") % staff_id)
    if dept not in person.departments:
        raise WuyeError(tr("%s（%s）不属于%s；其部门：%s" % (staff_id, person.name, dept_label(dept), "、".join(dept_label(d) for d in person.departments)),
                           "%s (%s) is not in %s; their departments: %s" % (staff_id, person.name, dept, ", ".join(person.departments))))
    return person


# --- finding a record ------------------------------------------------------------------------


def _entries(raw: bytes, rel: str) -> list[dict]:
    data = yamlio.loads(yamlio.decode(raw, rel), rel)
    entries = data.get("entries") if isinstance(data, dict) else None
    return [e for e in entries or [] if isinstance(e, dict)]


def common_label() -> str:
    return tr("公共区域", "common area")


def _common_rel(year: int) -> str:
    from wuye.storage.layout import COMMON_REPAIRS_DIR

    return f"{COMMON_REPAIRS_DIR}/{year}.yaml"


def common_files(store: Store) -> list[str]:
    """The common-area repair registers there are, oldest year first (a link is no register)."""
    from wuye.storage.layout import BY_NAME, COMMON_REPAIRS_DIR

    d = store.root / COMMON_REPAIRS_DIR
    if not d.is_dir():
        return []
    rels = [f"{COMMON_REPAIRS_DIR}/{e.name}" for e in os.scandir(d) if e.is_file(follow_symlinks=False)]
    return sorted(r for r in rels if BY_NAME["common_repairs"].compiled.match(r))


def _files(store: Store, kind: Kind, tids: list[str], common: bool) -> list[tuple[str | None, str]]:
    """(tenant id or None, file) of every file that may hold a record of `kind`."""
    out: list[tuple[str | None, str]] = [(t, f"tenants/{t}/{kind.category}.yaml") for t in tids]
    if common and kind is REPAIR:
        out += [(None, rel) for rel in common_files(store)]
    return out


def find_record(store: Store, kind: Kind, ref: str) -> tuple[str | None, str, str]:
    """(tenant id or None for a common area, entry id, the file holding it) of `TS-2026-0042`,
    or of `T0001/CMP-0001` for an older per-file id.

    A plain id is looked for in every tenant's file (and, for a repair, in the common-area
    registers). Which files hold it comes from the records index (`_id_rows`: the entry ids of
    each file, re-read where the file changed), so a step costs a stat of each tenant's file,
    not a read; the files it names are read and parsed here, so a hit is always the file's word.
    """
    from wuye.models.types import check_id
    from wuye.storage import cache

    ref = str(ref).strip()
    tid, sep, eid = ref.replace(":", "/").rpartition("/")
    try:
        check_id(eid, tr("%s编号" % kind.zh, "%s id" % kind.en))
        if sep:
            check_id(tid, tr("租户编号", "tenant id"))
    except ValueError as e:
        raise WuyeError(str(e)) from None
    needle = eid.encode("utf-8")
    line = f"\n{eid}\n"
    files = _files(store, kind, [tid] if sep else store.tenant_ids(), not sep)
    # Which tenants' files may hold it, from the records index (each file's entry ids, fresh by
    # stat and blob id); whatever it names is then read and checked below, as every file was.
    rows = _id_rows(store, kind, [rel for t, rel in files if t is not None]) if not sep and cache.enabled() else None
    hits = []
    for t, rel in files:
        if rows is not None and t is not None:
            text = rows.get(rel)
            # Absent, or its entries have other ids; a `?` line (ids unknown, or an id that is
            # itself `?`) only costs reading that file. (The texts' shape: above `_parse_ids`.)
            if text is None or (line not in text and "\n?\n" not in text):
                continue
        try:
            raw = store.read_bytes(rel)
        except (FileNotFoundError, NotADirectoryError):
            continue
        if needle in raw and any(str(e.get("id")) == eid for e in _entries(raw, rel)):
            hits.append((t, rel))
    if len(hits) == 1:
        return hits[0][0], eid, hits[0][1]
    if not hits:
        other = next((k for k in KINDS.values() if k is not kind and eid.startswith(k.prefix + "-")), None)
        hint = tr("（%s- 是%s编号，请用 `wuye %s`）" % (other.prefix, other.zh, other.key),
                  " (%s- is a %s id; use `wuye %s`)" % (other.prefix, other.en, other.key)) if other else ""
        raise WuyeError(tr("找不到%s %s%s；用 `wuye %s list` 查看" % (kind.zh, ref, hint, kind.key),
                           "no %s %s%s; see `wuye %s list`" % (kind.en, ref, hint, kind.key)))
    names = ", ".join(f"{t or rel}/{eid}" for t, rel in hits[:10])
    raise WuyeError(tr("%s编号 %s 在 %d 个租户的档案中都有，请写成 租户/编号，如：%s" % (kind.zh, eid, len(hits), names),
                       "%s id %s is in %d tenants' files; name it as TENANT/ID, e.g. %s" % (kind.en, eid, len(hits), names)))


def locate(store: Store, kind: Kind, ref: str) -> tuple[str | None, str]:
    """(tenant id, or None for a common-area repair; entry id) of a record id."""
    tid, eid, _ = find_record(store, kind, ref)
    return tid, eid


def display_ref(kind: Kind, tenant_id: str, entry_id: str) -> str:
    """Store-wide ids stand alone; per-file ids of older entries need their tenant."""
    return entry_id if entry_id.startswith(kind.prefix + "-") else f"{tenant_id}/{entry_id}"


def _next_id(store: Store, kind: Kind, year: int) -> str:
    """The next TS-/BX- number of `year` across the store (called under the store lock).

    The highest number of the year in any tenant's file, as the file's bytes say (any mention
    counts, not only an entry's id, so a number cited anywhere is never handed out again), taken
    from the records index (`_id_rows`): each file is stat'ed, and read again only if it changed.
    Numbers stay store-wide because two offices merging must keep telling records apart: the
    merge driver renumbers only within one file (sync/merging.py), and a plain id found in two
    tenants' files is refused as ambiguous by `find_record`."""
    key = f"{kind.prefix}-{year}"
    top = 0
    tenants = store.root / "tenants"
    if tenants.is_dir():
        # A link is no tenant (Store.tenant_ids); folders whose names start with a dot still count
        # here, as they always have: numbering errs on the side of never repeating.
        rels = [f"tenants/{d.name}/{kind.category}.yaml" for d in os.scandir(tenants) if d.is_dir(follow_symlinks=False)]
        for rel, text in _id_rows(store, kind, rels).items():
            if text is None:
                continue  # no such file
            n = _top(text, key)
            top = max(top, n if n is not None else _highest(_read_or_empty(store, rel), key))
    for _, rel in _files(store, kind, [], True):  # a common-area repair takes a number of the same sequence
        top = max(top, _highest(store.read_bytes(rel), key))
    return f"{kind.prefix}-{year}-{top + 1:04d}"


# What the desk keeps of each tenant's complaints.yaml / repairs.yaml in the records index
# (storage/index.py `texts`): the ids of its entries and, by TS-/BX-<year>, the highest number its
# bytes mention. A stat of each file tells the index whether to read it again, so finding a record
# or numbering a new one costs 10,000 stats instead of 10,000 reads. The index decides only where
# to look and which numbers are taken; the record itself is always read from its file.
#
# The text of a file is three parts, one a line: its numbers (`TS-2026=42 BX-2025=3`, or `?` if
# the bytes could not be read), `=` (or `?` when the file is not readable YAML of a list category:
# only the file itself can then say what it holds), then one entry id a line. An id looked for is
# a valid id (check_id: no `=`, `?`, space or newline), so `\n<id>\n` can only match an id line.
_NUMBER_RE = re.compile(rb"\b(TS|BX)-(\d{4})-(\d{4,})\b")
_UNKNOWN = "?\n?\n"


def _highest(raw: bytes, key: str) -> int:
    """The highest <key>-<n> number mentioned in `raw` (0 if none); `key` is `TS-2026`."""
    prefix, _, year = key.partition("-")
    pattern = re.compile(rb"\b" + prefix.encode() + rb"-" + year.encode() + rb"-(\d{4,})\b")
    return max((int(m.group(1)) for m in pattern.finditer(raw)), default=0)


def _read_or_empty(store: Store, rel: str) -> bytes:
    try:
        return store.read_bytes(rel)
    except (FileNotFoundError, NotADirectoryError):
        return b""


def _numbers(raw: bytes) -> str:
    """`TS-2026=42 BX-2025=3`: the highest number of each sequence mentioned in a file's bytes."""
    highest: dict[str, int] = {}
    for m in _NUMBER_RE.finditer(raw):
        key = f"{m.group(1).decode()}-{m.group(2).decode()}"
        highest[key] = max(highest.get(key, 0), int(m.group(3)))
    return " ".join(f"{k}={v}" for k, v in sorted(highest.items()))


def _parse_ids(root: str, items: list[tuple[str, bytes | None]]) -> list[str]:
    """The text (above) of each (rel, bytes); module-level, for the index's worker processes."""
    out = []
    for rel, raw in items:
        if raw is None:  # a link or an unreadable file: the caller reads it itself, and refuses it
            out.append(_UNKNOWN)
            continue
        try:
            ids = "=\n" + "".join(f"{e.get('id')}\n" for e in _entries(raw, rel))
        except Exception:  # noqa: BLE001 (not YAML, or not the shape of a list category)
            ids = "?\n"
        out.append(f"{_numbers(raw)}\n{ids}")
    return out


def _top(text: str, key: str) -> int | None:
    """The highest number of sequence `key` (`TS-2026`) in a file's text; None if unknown."""
    line = text[:text.index("\n")]
    if line == "?":
        return None
    at = line.find(key + "=")
    if at < 0:
        return 0
    end = line.find(" ", at)
    return int(line[at + len(key) + 1:end if end >= 0 else len(line)])


def _id_rows(store: Store, kind: Kind, rels: list[str]) -> dict[str, str | None]:
    """{rel: its text (above), or None if the file is absent} of each tenant's `kind` file, from the
    records index where the file is unchanged. With the index off (WUYE_NO_CACHE) each file is read
    for its numbers only (its ids are left to the caller's own read): cheaper than the YAML parse."""
    from wuye.storage import cache

    if not cache.enabled():
        out: dict[str, str | None] = {}
        for rel in rels:
            try:
                raw = store.read_bytes(rel)
            except (FileNotFoundError, NotADirectoryError):
                out[rel] = None
                continue
            out[rel] = f"{_numbers(raw)}\n?\n"
        return out
    from wuye.storage.index import texts

    return texts(store.root, f"desk-ids:{kind.category}", rels, _parse_ids)


# --- writing ---------------------------------------------------------------------------------


@dataclass
class Result:
    kind: Kind
    ref: str
    tenant_id: str | None  # None: a common area's repair
    action: str
    status: str
    commit: str | None
    record: dict
    charge: str | None = None  # the ledger item a chargeable repair's completion entered


def _check_file(store: Store, tenant_id: str | None, kind: Kind, rel: str | None = None) -> None:
    """The file must be valid before the desk writes to it (as `archive add` insists)."""
    from wuye.archive.dossier import validate_file
    from wuye.models.archive_meta import BY_KEY

    if tenant_id is None:
        _, problems = _validate_common(store, rel)
    else:
        _, problems = validate_file(store, tenant_id, BY_KEY[kind.category])
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise WuyeError("\n".join(str(Problem(p.path, p.message + tr("（请先修正此文件）", " (fix this file first)"), p.line, p.col, code=p.code))
                                  for p in errors), errors)


def validated_register(store: Store, rel: str, model) -> tuple[Any, list[Problem]]:
    """A store-level register (common-area repairs, the inquiry log) validated by its model (None
    if missing), and its problems."""
    if not store.path(rel).is_file():
        return None, []
    try:
        data, text = store.read_data(rel)
    except WuyeError as e:
        return None, e.problems
    return yamlio.check_model(model, {} if data is None else data, rel, text)


def _validate_common(store: Store, rel: str) -> tuple[Any, list[Problem]]:
    from wuye.models.desk import CommonRepairList

    return validated_register(store, rel, CommonRepairList)


def _validated(kind: Kind, data: dict) -> dict:
    """The entry as the model accepts it, as YAML-ready values (refused with the field named)."""
    from pydantic import ValidationError

    try:
        obj = kind.model.model_validate(data)
    except ValidationError as e:
        raise WuyeError("\n".join(f"{'.'.join(map(str, err['loc']))}: {yamlio.describe(err)}" for err in e.errors(include_url=False))) from None
    return yamlio.plain(obj.model_dump())


def _set(entry, key: str, value, order: list[str]) -> None:
    """Set a key of a round-trip entry; a key new to the entry goes where the model orders it."""
    if key in entry:
        entry[key] = value
        return
    rank = {k: i for i, k in enumerate(order)}
    mine = rank.get(key, len(order))
    pos = next((i for i, k in enumerate(entry) if rank.get(k, len(order)) > mine), len(entry))
    entry.insert(pos, key, value)


def _field_order(kind: Kind) -> list[str]:
    from wuye.archive.dossier import ordered

    return list(ordered({k: None for k in kind.model.model_fields}))


def event_time(store: Store, at: str | None, now: dt.datetime) -> dt.datetime:
    """When something happened: now, or an earlier moment given with --at (never a later one):
    the desk logs on paper first and enters it later, with the time it really happened."""
    when = parse_time(at, store.tz()) if at else now
    if when > now:
        raise WuyeError(tr("--at %s 在将来；只能登记已经发生的事",
                           "--at %s is in the future; record only what has happened") % when.isoformat())
    return when


def _summary(kind: Kind, ref: str, action: str, detail: tuple[str, str]) -> str:
    """`complaint TS-2026-0042: 回复`, `repair BX-2026-0007: 派工至工程部（张伟）`.

    A detail names only what the store defines (a company, a channel, a department, a score, an
    amount), never what a clerk typed: a commit message is copied into every office's clone and
    `wuye log`, and cannot be taken back without rewriting history, so a phone number written
    into a response would stay there for good. The text itself is in the record's file."""
    zh, en = detail
    zh_sep = "" if zh.startswith("至") else "，"
    en_sep = " " if en.startswith("to ") else ", "
    return tr(f"{kind.key} {ref}: {kind.action_label(action)}" + (f"{zh_sep}{zh}" if zh else ""),
              f"{kind.key} {ref}: {action}" + (f"{en_sep}{en}" if en else ""))


def open_record(store: Store, kind: Kind, tenant: str | None, actor_id: str | None, fields: dict, at: str | None = None) -> Result:
    """Receive a complaint or a repair request: a new entry with its first event, one commit.
    A repair with no tenant (`tenant` None) is a common area's, kept in the year's register."""
    from wuye.archive.dossier import find_tenant, list_document, ordered
    from wuye.models.archive_meta import BY_KEY

    actor = store.actor(actor_id)
    common = tenant is None
    if common and kind is not REPAIR:
        raise WuyeError(tr("只有报修可以不针对租户（公共区域）", "only a repair can be for no tenant (a common area)"))
    tid = None if common else find_tenant(store, tenant)
    now = store.now()
    when = event_time(store, at, now)
    c = BY_KEY[kind.category]
    rel = _common_rel(when.year) if common else store.tenant_rel(tid, c.filename)
    note = fields.get("description")
    with store.change("", author=actor) as ch:
        profile = {} if common else yamlio.read(store.path(f"tenants/{tid}/profile.yaml"), "profile") or {}
        # A tenant who has left (the release of its move-out marks the profile so) has no unit
        # here to repair and no service to complain of; a call from them is correspondence.
        if isinstance(profile, dict) and profile.get("status") == "moved_out":
            raise WuyeError(tr("租户 %s 已迁出，不能再登记%s；如有来往请记入其往来文件（correspondence）",
                               "tenant %s has moved out: no %s can be opened for it; record any contact in its correspondence")
                            % (tid, kind.word()))
        _check_file(store, tid, kind, rel)
        if common:
            doc = yamlio.load_roundtrip(store.read_text(rel)) if store.path(rel).is_file() else None
            if doc is None:
                doc = {"entries": []}
            if doc.get("entries") is None:
                doc["entries"] = []
        else:
            doc = list_document(store, tid, c)
        eid = _next_id(store, kind, when.year)
        data = {"id": eid, kind.received_field: when, **fields, "status": "open",
                "history": [{"at": when, "by": actor.id, "action": "open", "status": "open", "note": note}],
                "recorded_by": actor.id, "recorded_at": now}
        entry = ordered(_validated(kind, data))
        doc["entries"].append(entry)
        ch.write_yaml(rel, doc)
        company = common_label() if common else str((profile if isinstance(profile, dict) else {}).get("name", tid))
        if kind is COMPLAINT:
            detail = (f"{company}（{channel_label(fields['channel'])}）", f"{company} by {fields['channel']}")
        else:
            urgent = fields.get("urgent")
            # The location of a common area is what a clerk typed: it stays in the file (see _summary).
            company_zh, company_en = ("公共区域", "common area") if common else (company, company)
            detail = (company_zh + ("（紧急）" if urgent else ""), company_en + (" (urgent)" if urgent else ""))
        ch.summary = _summary(kind, eid, "open", detail)
        ch.trailers = {**_owner_trailers(tid), "Wuye-Category": kind.category, "Wuye-Entry": eid,
                       "Wuye-Action": "open", "Wuye-Status": "open", "Wuye-Actor": actor.id}
    return Result(kind, eid, tid, "open", "open", ch.commit, entry)


def _owner_trailers(tid: str | None) -> dict:
    """Whose record a commit changes: the tenant's, or no one's (`Wuye-Area: common`)."""
    return {"Wuye-Tenant": tid} if tid is not None else {"Wuye-Area": "common"}


def open_complaint(store: Store, tenant: str, channel: str, text: str, actor_id: str | None, at: str | None = None) -> Result:
    """受理投诉: a complaint received through one of the channels; its id is TS-<year>-<nnnn>."""
    if channel not in CHANNELS:
        raise WuyeError(tr("未知渠道 %r；可用：%s" % (channel, "、".join(f"{k}（{v[0]}）" for k, v in CHANNELS.items())),
                           "unknown channel %r; choose from: %s" % (channel, ", ".join(CHANNELS))))
    return open_record(store, COMPLAINT, tenant, actor_id,
                       {"channel": channel, "description": _text(text, "投诉内容", "the complaint text")}, at)


def open_repair(store: Store, tenant: str | None, location: str, text: str, urgent: bool, actor_id: str | None,
                at: str | None = None) -> Result:
    """报修: a repair request; urgent ones have the shorter response limit. Id BX-<year>-<nnnn>.
    With no tenant, a common area's (公共区域报修)."""
    return open_record(store, REPAIR, tenant, actor_id,
                       {"location": _text(location, "报修位置", "the location"),
                        "description": _text(text, "故障描述", "the fault description"), "urgent": bool(urgent)}, at)


# An apply function gets the entry (plain values) and the new event, and returns the fields to
# set; it may add details to the event and refuse with a WuyeError.
Apply = Callable[[dict, dict], dict]


def transition(store: Store, kind: Kind, ref: str, action: str, actor_id: str | None, apply: Apply,
               detail: tuple[str, str] = ("", ""), at: str | None = None, trailers: dict | None = None,
               also: Callable | None = None) -> Result:
    """One move of a record's state machine: checked, applied, recorded in history, one commit.
    `also(change, tenant id, entry, actor, now)` writes what the move brings with it into the same
    commit (a chargeable repair's ledger item) and returns the trailers naming it."""
    actor = store.actor(actor_id)
    now = store.now()
    when = event_time(store, at, now)
    with store.change("", author=actor) as ch:
        tid, eid, rel = find_record(store, kind, ref)
        shown = display_ref(kind, tid, eid)
        _check_file(store, tid, kind, rel)
        doc = yamlio.load_roundtrip(store.read_text(rel))
        entry = next(e for e in doc["entries"] if str(e.get("id")) == eid)
        current = _validated(kind, dict(entry))
        status = current.get("status", "open")
        allowed = kind.flow.get(status, {})
        if action not in allowed:
            raise out_of_order(kind, shown, status, action)
        # The last moment the record knows of, from its history and (for an older entry) its fields.
        known = [current.get(f) for f in (kind.received_field, "assigned_at", "responded_at", "resolved_at", "done_at",
                                          "closed_at", "reopened_at")]
        known += [e["at"] for e in current.get("history") or []]
        latest = max(parse_time(t, store.tz()) for t in known if t)
        if when < latest:
            raise WuyeError(tr("--at %s 早于此%s的上一次流转（%s）；流转记录须按时间先后" % (when.isoformat(), kind.zh, latest.isoformat()),
                               "--at %s is before this %s's last transition (%s); history runs forward in time" % (when.isoformat(), kind.en, latest.isoformat())))
        event = {"at": when, "by": actor.id, "action": action, "status": allowed[action]}
        updates = apply(current, event)
        updates["status"] = allowed[action]
        new = _validated(kind, {**current, **updates, "history": [*(current.get("history") or []), event]})
        order = _field_order(kind)
        for key, value in updates.items():
            if value is None:
                entry.pop(key, None)  # a field the transition empties
            elif key in new:
                _set(entry, key, new[key], order)
        if entry.get("history") is None:
            _set(entry, "history", [], order)
        entry["history"].append(new["history"][-1])
        ch.write_yaml(rel, doc)
        extra = also(ch, tid, new, actor, now) if also is not None else {}
        ch.summary = _summary(kind, shown, action, detail)
        ch.trailers = {**_owner_trailers(tid), "Wuye-Category": kind.category, "Wuye-Entry": shown, "Wuye-Action": action,
                       "Wuye-Status": allowed[action], **(trailers or {}), **extra, "Wuye-Actor": actor.id}
    return Result(kind, shown, tid, action, allowed[action], ch.commit, new, extra.get("Wuye-Charge"))


def out_of_order(kind: Kind, ref: str, status: str, action: str) -> WuyeError:
    """The refusal of a move the state machine does not allow, naming what is allowed instead."""
    allowed = kind.flow.get(status, {})
    zh = {a: kind.actions.get(a, (a, a))[0] for a in (action, *allowed)}
    zh_next = "、".join(f"{zh[a]}（{a}）" for a in allowed) if allowed else "无（已结束）"
    en_next = ", ".join(allowed) if allowed else "nothing (it is finished)"
    return WuyeError(tr("%s %s 当前状态为「%s」（%s），不能%s（%s）；此时可以：%s" % (
        kind.zh, ref, kind.statuses.get(status, (status,))[0], status, zh[action], action, zh_next),
        "%s %s is %s; %s is not allowed now; allowed: %s" % (kind.en, ref, status, action, en_next)))


def assign(store: Store, kind: Kind, ref: str, dept: str | None, to: str | None, actor_id: str | None,
           at: str | None = None, note: str | None = None) -> Result:
    """分派 / 派工: send the record to a department (and a person in it)."""
    if kind is REPAIR and not to:
        raise WuyeError(tr("派工须用 --to 指定维修人（员工编号）", "a repair is assigned to a person: give --to STAFF"))
    if not dept:
        raise WuyeError(tr("请用 --dept 指定部门", "give the department with --dept"))
    dept = _department(dept)
    person = _assignee(store, to, dept) if to else None

    def apply(current: dict, event: dict) -> dict:
        event.update(department=dept, assignee=to, note=note)
        # Sent to a department without naming anyone: whoever had it before no longer does.
        return {"assigned_dept": dept, "assigned_to": to, "assigned_at": event["at"]}

    who = f"{dept_label(dept)}" + (f"（{person.name}）" if person else "")
    detail = (f"至{who}", f"to {dept}" + (f" ({to})" if to else ""))
    return transition(store, kind, ref, "assign", actor_id, apply, detail, at, {"Wuye-Department": dept})


def respond(store: Store, ref: str, text: str, actor_id: str | None, at: str | None = None) -> Result:
    """回复: what the tenant was told. The first response stops the response clock."""
    text = _text(text, "回复内容", "the response")

    def apply(current: dict, event: dict) -> dict:
        event["note"] = text
        updates = {"response": text}
        if not current.get("responded_at"):
            updates["responded_at"] = event["at"]
        return updates

    return transition(store, COMPLAINT, ref, "respond", actor_id, apply, at=at)


def resolve(store: Store, ref: str, result: str, actor_id: str | None, at: str | None = None) -> Result:
    """处理: the result. Stops the resolution clock."""
    result = _text(result, "处理结果", "the result")

    def apply(current: dict, event: dict) -> dict:
        event["note"] = result
        return {"result": result, "resolved_at": event["at"]}

    return transition(store, COMPLAINT, ref, "resolve", actor_id, apply, at=at)


def reopen(store: Store, ref: str, reason: str, actor_id: str | None, at: str | None = None) -> Result:
    """重开: the tenant is not satisfied; the resolution clock starts again from now."""
    reason = _text(reason, "重开原因", "the reason")

    def apply(current: dict, event: dict) -> dict:
        event["note"] = reason
        return {"reopened": int(current.get("reopened") or 0) + 1, "reopened_at": event["at"]}

    return transition(store, COMPLAINT, ref, "reopen", actor_id, apply, at=at)


def done(store: Store, ref: str, cost: str | None, actor_id: str | None, at: str | None = None, note: str | None = None,
         chargeable: bool = False) -> Result:
    """完工: the work is done, with what it cost (0 when free). A chargeable repair is charged to
    the tenant: its cost becomes an item of their ledger in the same commit (desk/charges.py);
    otherwise the cost is the office's."""
    from wuye.desk import charges
    from wuye.models.types import to_money

    try:
        amount = to_money(cost if cost not in (None, "") else "0")
    except ValueError as e:
        raise WuyeError(f"--cost {cost!r}: {e}") from None
    if chargeable:
        charges.may_charge(store.actor(actor_id))
        if amount <= 0:
            raise WuyeError(tr("向客户收费的维修须有费用：请用 --cost 金额", "a chargeable repair needs its cost: give --cost AMOUNT"))

    def apply(current: dict, event: dict) -> dict:
        event.update(cost=amount, note=note, chargeable=True if chargeable else None)
        updates = {"done_at": event["at"], "cost": amount}
        if chargeable:
            updates["chargeable"] = True
        if note:
            updates["result"] = note
        return updates

    def bill(ch, tid, entry, actor, now) -> dict:
        return {"Wuye-Charge": charges.bill(store, ch, tid, entry, actor, now)}

    detail = (f"费用 {amount} 元" + ("，向客户收费" if chargeable else ""), f"cost {amount} yuan" + (", charged to the tenant" if chargeable else ""))
    return transition(store, REPAIR, ref, "done", actor_id, apply, detail, at, also=bill if chargeable else None)


def close(store: Store, kind: Kind, ref: str, satisfaction: Any, actor_id: str | None, at: str | None = None,
          note: str | None = None) -> Result:
    """回访关闭: the tenant's rating closes the loop; a complaint needs a response and a result."""
    score = _satisfaction(satisfaction)

    def apply(current: dict, event: dict) -> dict:
        if kind is COMPLAINT:
            lacking = [zh for key, zh in (("response", "回复"), ("result", "处理结果")) if not current.get(key)]
            if lacking:
                ref_ = current.get("id")
                raise WuyeError(tr("投诉 %s 还没有%s，不能关闭：每个投诉须有回应、有结果" % (ref_, "和".join(lacking)),
                                   "complaint %s has no %s yet and cannot be closed: every complaint needs a response and a result"
                                   % (ref_, " and ".join(k for k in ("response", "result") if not current.get(k)))))
        event.update(satisfaction=score, note=note)
        return {"satisfaction": score, "closed_at": event["at"]}

    return transition(store, kind, ref, "close", actor_id, apply, (f"满意度 {score}", f"satisfaction {score}"), at)


# --- reading: timelines, clocks, listings ------------------------------------------------------


class Event(NamedTuple):
    """One transition as the reports read it; `at` is None for an older entry's step whose time
    was never written down. A tuple: a report reads 150,000 of them from the records index."""

    at: dt.datetime | None
    action: str
    department: str | None = None
    satisfaction: int | None = None
    cost: Decimal | None = None


@dataclass(slots=True)  # one per record of a whole-store report
class Item:
    """A complaint or repair as read for listings and reports."""

    kind: Kind
    tenant_id: str | None  # None: a common area's repair (company is then 公共区域)
    company: str
    record: Any  # the validated Complaint or Repair
    ref: str
    events: list[Event] = field(default_factory=list)
    received: dt.datetime | None = None  # in the building's zone
    # (limits, its last timed event, Clock): the replay of every event, which is the clock at
    # any moment from that event on; a report asks for it once per record and per trend row.
    replayed: tuple | None = field(default=None, repr=False, compare=False)


def _aware(when: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    # A hand-typed time without an offset is the building's local time (as --at reads it), so
    # that it compares with every other time instead of failing.
    return when.replace(tzinfo=tz) if when is not None and when.tzinfo is None else when


def _dept_in_text(text: str | None) -> str | None:
    """The department named in an older entry's free-text handler (工程部 张伟 -> engineering)."""
    from wuye.models.store import DEPARTMENTS

    for key, (zh, en) in DEPARTMENTS.items():
        if text and (zh in text or key in text):
            return key
    return None


def timeline(kind: Kind, rec, staff_dept: Callable[[str], str | None], tz: dt.tzinfo) -> list[Event]:
    """The record's events in time order: its history and the steps an older entry shows only in
    its fields (with their time where a field kept it)."""
    history = [Event(_aware(h.at, tz), h.action, h.department, h.satisfaction, h.cost) for h in rec.history]
    seen = {e.action for e in history}
    legacy: list[Event] = []

    def add(action: str, at, **kw) -> None:
        if action not in seen:
            legacy.append(Event(_aware(at, tz), action, **kw))

    add("open", getattr(rec, kind.received_field))
    if kind is COMPLAINT:
        dept = rec.assigned_dept or _dept_in_text(rec.handler)
        if dept or rec.assigned_to or rec.handler:
            add("assign", rec.assigned_at, department=dept)
        if rec.response or rec.status in ("responded", "resolved", "closed"):
            add("respond", rec.responded_at)
        if rec.result or rec.status in ("resolved", "closed"):
            add("resolve", rec.resolved_at)
    else:
        if rec.assigned_to or rec.status in ("assigned", "done", "closed"):
            add("assign", rec.assigned_at, department=rec.assigned_dept or (staff_dept(rec.assigned_to) if rec.assigned_to else None))
        if rec.done_at or rec.status in ("done", "closed"):
            add("done", rec.done_at, cost=rec.cost)
    if rec.status == "closed" or rec.closed_at:
        add("close", rec.closed_at, satisfaction=rec.satisfaction)
    return _in_time_order(legacy, history)


def _in_time_order(legacy: list[Event], history: list[Event]) -> list[Event]:
    """The field-taken steps and the recorded history as one sequence in time, for `clock()`
    to replay: a hand-kept entry may record part of its history (an `assign` at 09:00) while
    its fields hold a later step (`closed_at` 10:00); put side by side, the close would be
    replayed first and the record would end open. A step of unknown time keeps its place in
    the flow: it sorts at the time of the step before it (the legacy steps are in flow order),
    and on equal times the legacy steps, which stand for what came first, go before the
    history."""
    keyed = []
    last = None
    for n, e in enumerate(legacy):
        last = e.at if e.at is not None else last
        keyed.append((last, 0, n, e))
    prev = last
    for n, e in enumerate(history):
        prev = e.at if e.at is not None else prev
        keyed.append((prev, 1, n, e))
    floor = min((k[0] for k in keyed if k[0] is not None), default=None)
    keyed.sort(key=lambda k: (k[0] if k[0] is not None else floor or dt.datetime.min.replace(tzinfo=dt.timezone.utc), k[1], k[2]))
    return [k[3] for k in keyed]


@dataclass(slots=True)
class Clock:
    """A record's state at a moment, replayed from its events, and its time limits."""

    status: str
    department: str | None
    received: dt.datetime
    responded: bool
    response_at: dt.datetime | None
    # Resolution cycles: (clock start, resolved at, resolved?): one, plus one per reopening.
    cycles: list[list]
    response_due: dt.datetime
    resolution_hours: int

    @property
    def resolution_due(self) -> dt.datetime:
        return self.cycles[-1][0] + dt.timedelta(hours=self.resolution_hours)

    def response_state(self, as_of: dt.datetime) -> str | None:
        """'late' (done after the limit), 'overdue' (not done and past it), or None."""
        if self.responded:
            return "late" if self.response_at is not None and self.response_at > self.response_due else None
        return "overdue" if as_of > self.response_due else None

    def resolution_state(self, as_of: dt.datetime) -> str | None:
        worst = None
        for start, end, resolved in self.cycles:
            due = start + dt.timedelta(hours=self.resolution_hours)
            if resolved:
                if end is not None and end > due:
                    worst = worst or "late"
            elif as_of > due:
                worst = "overdue"
        return worst

    def overdue(self, as_of: dt.datetime) -> list[str]:
        """The limits this record is past and still waiting on, at `as_of`."""
        if self.status == "closed":
            return []
        return [name for name, state in (("response", self.response_state(as_of)), ("resolution", self.resolution_state(as_of)))
                if state == "overdue"]

    def late(self, as_of: dt.datetime) -> bool:
        """Missed a limit, whether or not it has been caught up since."""
        return self.response_state(as_of) is not None or self.resolution_state(as_of) is not None


def limits_for(kind: Kind, rec, limits) -> tuple[int, int]:
    if kind is COMPLAINT:
        return limits.complaint_response_hours, limits.complaint_resolution_hours
    return (limits.urgent_repair_response_hours if rec.urgent else limits.repair_response_hours), limits.repair_resolution_hours


def clock(item: Item, limits, as_of: dt.datetime) -> Clock:
    """Replay the events up to `as_of` (steps of unknown time count as done, never as late)."""
    done = item.replayed
    if done is not None and done[0] is limits and (done[1] is None or as_of >= done[1]):
        return done[2]
    kind, rec = item.kind, item.record
    response_hours, resolution_hours = limits_for(kind, rec, limits)
    received = item.received
    status, dept = "open", None
    responded, response_at = False, None
    cycles = [[received, None, False]]
    last = None
    for e in item.events:
        if e.at is not None:
            if e.at > as_of:
                break
            last = e.at if last is None or e.at > last else last
        moves = kind.flow.get(status)
        status = moves[e.action] if moves is not None and e.action in moves else _status_after(kind, e.action, status)
        if e.action == "assign" and e.department:
            dept = e.department
        if e.action == kind.response_action and not responded:
            responded, response_at = True, e.at
        if e.action == kind.resolution_action and not cycles[-1][2]:
            cycles[-1][1:] = [e.at, True]
        if e.action == "reopen":
            cycles.append([e.at, None, False])
    else:  # every event replayed: the same Clock for any later moment
        item.replayed = (limits, last, Clock(status, dept, received, responded, response_at, cycles,
                                             received + dt.timedelta(hours=response_hours), resolution_hours))
        return item.replayed[2]
    return Clock(status, dept, received, responded, response_at, cycles,
                 received + dt.timedelta(hours=response_hours), resolution_hours)


def _status_after(kind: Kind, action: str, status: str) -> str:
    # An older entry's steps may skip states the desk would insist on (a hand-kept entry can go
    # from received straight to closed): take the state the action leads to anywhere in the flow.
    for moves in kind.flow.values():
        if action in moves:
            return moves[action]
    return status



def _first_department(store: Store, cache: dict[str, str | None]):
    """A staff member's first department (None when unknown), each looked up once per run."""
    def lookup(sid: str) -> str | None:
        if sid not in cache:
            try:
                cache[sid] = store.staff(sid).departments[0]
            except WuyeError:
                cache[sid] = None
        return cache[sid]
    return lookup

def read_items(store: Store, kind: Kind, tenant_id: str | None = None, brief: bool = False) -> tuple[list[Item], list[Problem]]:
    """Every record of one kind (or of one tenant), validated; unreadable files become problems.

    `brief` (the whole-store reports, `wuye todo`): each tenant's record is a `Brief` (its id,
    urgency, channel and assignments) with its timeline, both kept in the records index by the
    file's blob id, so that a warm report builds no models and no timelines for the files that
    did not change. A timeline also depends on the building's time zone and the staff's
    departments: the rows are filed under a digest of wuye.yaml and of every staff file's bytes
    (`_brief_kind`)."""
    from wuye.archive.dossier import validated_entries
    from wuye.storage.index import tenant_index
    from wuye.models.archive_meta import BY_KEY

    c = BY_KEY[kind.category]
    names = {tid: name or tid for tid, name, _ in tenant_index(store)} if tenant_id is None else {}
    tids = [tenant_id] if tenant_id else store.tenant_ids()
    items: list[Item] = []
    problems: list[Problem] = []
    dept_cache: dict[str, str | None] = {}
    tz = store.tz()

    staff_dept = _first_department(store, dept_cache)

    present = [(tid, c.key) for tid in tids if store.path(f"tenants/{tid}/{c.filename}").is_file()]
    if brief:
        from wuye.storage.index import parsed, prune

        rels = [store.tenant_rel(tid, c.filename) for tid, _ in present]
        brief_kind = _brief_kind(store, kind)
        got = parsed(store.root, brief_kind, rels, _parse_briefs)
        prune(store.root, f"brief:{kind.category}:", brief_kind)
        files = [(tid, *(got[rel] or (None, []))) for (tid, _), rel in zip(present, rels)]
    else:
        files = [(tid, entries, found) for tid, _, entries, found in validated_entries(store, present)]
    for tid, entries, found in files:
        problems += found
        if entries is None:
            continue
        company = names.get(tid)
        if company is None:
            data = yamlio.read(store.path(f"tenants/{tid}/profile.yaml"), "profile") if store.tenant_exists(tid) else {}
            company = str((data or {}).get("name", tid))
        if brief:
            for rec, received, events in entries:
                items.append(Item(kind, tid, company, rec, display_ref(kind, tid, rec.id or "?"), [Event(*e) for e in events], received))
            continue
        for rec in entries:
            item = Item(kind, tid, company, rec, display_ref(kind, tid, rec.id or "?"),
                        received=_aware(getattr(rec, kind.received_field), tz))
            item.events = timeline(kind, rec, staff_dept, tz)
            items.append(item)
    for _, rel in _files(store, kind, [], tenant_id is None):
        obj, found = _validate_common(store, rel)
        problems += [p for p in found if p.level == "error"]
        for rec in obj.entries if obj is not None else ():
            item = Item(kind, None, common_label(), rec, rec.id or "?", received=_aware(getattr(rec, kind.received_field), tz))
            item.events = timeline(kind, rec, staff_dept, tz)
            items.append(item)
    items.sort(key=attrgetter("received", "ref"))
    return items, problems


class Assignment(NamedTuple):
    """An `assign` step of a record's history, as `wuye todo` reads it (when, and to whom)."""

    at: dt.datetime | None
    assignee: str | None
    action: str = "assign"


class Brief(NamedTuple):
    """What the reports and `wuye todo` read of a complaint or repair beside its timeline
    (read_items, brief): its id, urgency and channel, whom its fields name, and whom its
    history assigned it to. Tuples, as the index pickles them: a dataclass is rebuilt from its
    __dict__, several times slower for 27,000 records."""

    id: str | None
    urgent: bool = False
    channel: str | None = None
    assigned_to: str | None = None
    history: tuple[Assignment, ...] = ()


def _brief_kind(store: Store, kind: Kind) -> str:
    """The index rows' kind for brief records: the category and a digest of what a timeline
    reads besides the record (the zone in wuye.yaml, the departments in staff/)."""
    import hashlib

    from wuye.storage.layout import CONFIG

    try:
        staff = sorted(n for n in os.listdir(store.path("staff")) if n.endswith(".yaml"))
    except OSError:
        staff = []
    h = hashlib.sha1()
    for rel in [CONFIG, *(f"staff/{n}" for n in staff)]:
        try:
            raw = store.read_bytes(rel)
        except OSError:  # absent, a link, a folder: a state of its own
            raw = None
        h.update(f"{rel} {len(raw) if raw is not None else '-'}\n".encode() + (raw or b""))
    return f"brief:{kind.category}:{h.hexdigest()[:16]}"


def _parse_briefs(root: str, items: list) -> list:
    """Of each (rel, bytes) of a tenant's complaints or repairs file: ([(Brief, received,
    events as tuples)], errors), the records validated as validated_entries validates them."""
    from pathlib import Path

    from wuye.archive.dossier import _parse_entries

    store = Store(Path(root))
    tz = store.tz()
    dept_cache: dict[str, str | None] = {}

    staff_dept = _first_department(store, dept_cache)

    out = []
    for (rel, _), (entries, errors) in zip(items, _parse_entries(root, items)):
        if entries is None:
            out.append((None, errors))
            continue
        kind = COMPLAINT if rel.endswith(f"/{COMPLAINT.category}.yaml") else REPAIR
        briefs = []
        for rec in entries:
            events = [(_local(e.at, tz), e.action, e.department, e.satisfaction, e.cost) for e in timeline(kind, rec, staff_dept, tz)]
            assigned = tuple(Assignment(_local(h.at, tz), h.assignee) for h in rec.history if h.action == "assign")
            briefs.append((Brief(rec.id, bool(getattr(rec, "urgent", False)), getattr(rec, "channel", None), rec.assigned_to, assigned),
                           _local(getattr(rec, kind.received_field), tz), events))
        out.append((briefs, errors))
    return out


def _local(when: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    """The same instant in the building's zone, one zone object for every time: the validator
    gives each time its own, which pickle writes out (and a report rebuilds) one by one, and two
    times of different zone objects compare through both offsets (a report compares 27,000
    records' times with its window, several times each)."""
    if when is None:
        return None
    return when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)


def _row(item: Item, limits, as_of: dt.datetime) -> dict:
    rec, kind = item.record, item.kind
    clk = clock(item, limits, as_of)
    row = {
        "id": item.ref, "tenant_id": item.tenant_id, "company": item.company, "common_area": item.tenant_id is None,
        "status": rec.status, "status_label": kind.status_label(rec.status),
        kind.received_field: rec.model_dump(mode="json")[kind.received_field],
        "department": clk.department, "department_label": dept_label(clk.department) if clk.department else "",
        "assigned_to": rec.assigned_to,
        "response_due": clk.response_due.isoformat(), "resolution_due": clk.resolution_due.isoformat(),
        "overdue": clk.overdue(as_of),
        "description": rec.description,
    }
    if kind is COMPLAINT:
        row.update(channel=rec.channel, channel_label=channel_label(rec.channel), reopened=rec.reopened, satisfaction=rec.satisfaction)
    else:
        row.update(location=rec.location, urgent=rec.urgent, cost=str(rec.cost) if rec.cost is not None else None,
                   satisfaction=rec.satisfaction)
    return row


def listing(store: Store, kind: Kind, open_only: bool = False, overdue_only: bool = False, tenant: str | None = None,
            as_of: str | None = None) -> tuple[list[dict], list[Problem], dt.datetime]:
    """Rows for `list`: every record, or the open ones, or those past a limit at `as_of` (now)."""
    from wuye.archive.dossier import find_tenant

    when = parse_time(as_of, store.tz(), "--as-of") if as_of else store.now()
    tid = find_tenant(store, tenant) if tenant else None
    items, problems = read_items(store, kind, tid)
    limits = store.config.limits
    rows = []
    for item in items:
        if item.received > when:
            continue
        row = _row(item, limits, when)
        if open_only and item.record.status == "closed":
            continue
        if overdue_only and not row["overdue"]:
            continue
        rows.append(row)
    return rows, problems, when


def show(store: Store, kind: Kind, ref: str) -> dict:
    """One record: every field, its history, its limits and whether it is overdue now."""
    from wuye.archive.dossier import validate_file
    from wuye.models.archive_meta import BY_KEY

    tid, eid, rel = find_record(store, kind, ref)
    obj, problems = _validate_common(store, rel) if tid is None else validate_file(store, tid, BY_KEY[kind.category])
    errors = [p for p in problems if p.level == "error"]
    if obj is None or errors:
        raise WuyeError("\n".join(str(p) for p in errors), errors)
    items, _ = read_items(store, kind, tid)
    item = next(i for i in items if i.record.id == eid and i.tenant_id == tid)
    now = store.now()
    row = _row(item, store.config.limits, now)
    data = item.record.model_dump(mode="json", exclude_none=True)
    data.update({k: row[k] for k in ("id", "tenant_id", "company", "common_area", "status_label", "department", "response_due",
                                     "resolution_due", "overdue")})
    data["allowed"] = list(kind.flow.get(item.record.status, {}))
    data["as_of"] = now.isoformat()
    return data


# --- satisfaction surveys (满意度调查) ---------------------------------------------------------
#
# Where a survey answer lives: in the tenant's 客户资料补充 (supplement.yaml), as a dated entry
# whose note begins `满意度调查 <period>：<score> 分`. The regulations keep what is learnt about a
# tenant's needs and feedback in the dossier (客户信息管理: 建立健全客户档案……了解客户需求和反馈), and
# of the twelve categories only 客户资料补充 ("dated additions to the dossier") is for that kind of
# fact; a survey is neither correspondence nor a complaint. So `archive show`, exports and the
# move-out of a dossier carry it with no new file and no change to the Supplement model. The fixed
# wording is what `surveys()` reads back; it is Chinese whatever WUYE_LANG says, because it is
# data, not a message. One answer per tenant and period: a second is refused (correct by hand).

SURVEY_PREFIX = "满意度调查"
SURVEY_RE = re.compile(r"^满意度调查\s*(?P<period>\d{4}(?:-Q[1-4]|-\d{2})?)\s*[：:]\s*(?P<score>[1-5])\s*分(?:[。.；;]?\s*意见[：:]\s*(?P<comment>.*))?$", re.S)


@dataclass
class Survey:
    tenant_id: str
    entry_id: str
    period: str
    score: int
    comment: str | None
    date: dt.date | None
    recorded_by: str | None


def _survey_entries(store: Store, tid: str) -> list[Survey]:
    rel = f"tenants/{tid}/supplement.yaml"
    try:
        raw = store.read_bytes(rel)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return _surveys_in(raw, rel, tid)


def _surveys_in(raw: bytes, rel: str, tid: str) -> list[Survey]:
    if SURVEY_PREFIX.encode("utf-8") not in raw:
        return []
    out = []
    for e in _entries(raw, rel):
        m = SURVEY_RE.match(str(e.get("note") or "").strip())
        if m:
            date = e.get("date")
            if isinstance(date, str):
                try:
                    date = dt.date.fromisoformat(date)
                except ValueError:  # a hand edit; `archive check` reports it, the answer still counts
                    date = None
            out.append(Survey(tid, str(e.get("id")), m["period"], int(m["score"]), (m["comment"] or "").strip() or None,
                              date, e.get("recorded_by")))
    return out


def _parse_surveys(root: str, items: list) -> list:
    """([Survey] or None, problems) of each (rel, bytes) of a supplement file, for the records
    index: the satisfaction report reads every tenant's answers, a stat of each file when warm."""
    from pathlib import Path

    out = []
    for rel, raw in items:
        tid = rel.split("/")[1]
        try:
            got = _surveys_in(raw, rel, tid) if raw is not None else _survey_entries(Store(Path(root)), tid)
        except WuyeError as e:
            out.append((None, e.problems or [Problem(rel, str(e))]))
            continue
        out.append((got, []))
    return out


def surveys(store: Store, tenant_id: str | None = None) -> list[Survey]:
    if tenant_id:
        return _survey_entries(store, tenant_id)
    from wuye.storage.index import parsed

    rels = [f"tenants/{tid}/supplement.yaml" for tid in store.tenant_ids()]
    out: list[Survey] = []
    found_in = parsed(store.root, "surveys", rels, _parse_surveys)
    for rel in rels:  # in tenant order
        got = found_in[rel]
        if got is None:
            continue
        found, problems = got
        if found is None:  # refused as reading the file refuses it
            raise WuyeError("\n".join(str(p) for p in problems), problems)
        out += found
    return out


def record_survey(store: Store, tenant: str, period: str, score: Any, comment: str | None, actor_id: str | None,
                  date: str | None = None) -> tuple[str, str, str | None]:
    """Record a tenant's answer to the periodic survey: (tenant id, entry id, commit)."""
    from wuye.archive.dossier import append_entry, find_tenant, list_document
    from wuye.models.archive import BY_KEY, Supplement

    actor = store.actor(actor_id)
    tid = find_tenant(store, tenant)
    p = parse_period(period, store.tz())
    value = _satisfaction(score)
    now = store.now()
    try:
        day = dt.date.fromisoformat(str(date).strip()) if date else now.date()
    except ValueError:
        raise WuyeError(tr("--date %r 不是有效的日期：应形如 2026-12-20", "--date %r is not a valid date: expected e.g. 2026-12-20") % date) from None
    note = f"{SURVEY_PREFIX} {p.label}：{value} 分" + (f"。意见：{comment.strip()}" if comment and comment.strip() else "")
    c = BY_KEY["supplement"]
    rel = store.tenant_rel(tid, c.filename)
    with store.change("", author=actor) as ch:
        prior = [s for s in _survey_entries(store, tid) if s.period == p.label]
        if prior:
            raise WuyeError(tr("%s 的 %s 满意度调查已登记（%s %s，%d 分）；如需更正请编辑该条目",
                               "%s already has an answer for the %s survey (%s %s, score %d); edit that entry to correct it") % (tid, p.label, rel, prior[0].entry_id, prior[0].score))
        from wuye.archive.dossier import validate_file

        _, problems = validate_file(store, tid, c)
        errors = [p_ for p_ in problems if p_.level == "error"]
        if errors:
            raise WuyeError("\n".join(str(p_) for p_ in errors), errors)
        doc = list_document(store, tid, c)
        eid = append_entry(doc, c, {"date": day, "note": note, "recorded_by": actor.id, "recorded_at": now},
                           Supplement.model_validate).id
        ch.write_yaml(rel, doc)
        ch.summary = tr("survey %s: %s 满意度 %d 分", "survey %s: %s satisfaction %d") % (tid, p.label, value)
        ch.trailers = {"Wuye-Tenant": tid, "Wuye-Category": "supplement", "Wuye-Entry": eid, "Wuye-Survey": p.label,
                       "Wuye-Actor": actor.id}
    return tid, eid, ch.commit


def survey_rows(store: Store, period: str | None = None, tenant: str | None = None) -> list[dict]:
    """Survey answers as rows; with a period, those whose survey period lies within it."""
    from wuye.archive.dossier import find_tenant

    tz = store.tz()
    within = parse_period(period, tz) if period else None
    tid = find_tenant(store, tenant) if tenant else None
    rows = []
    for s in surveys(store, tid):
        if within is not None:
            p = parse_period(s.period, tz)
            if not (within.start <= p.start and p.end <= within.end):
                continue
        rows.append({"tenant_id": s.tenant_id, "period": s.period, "score": s.score, "comment": s.comment,
                     "date": s.date.isoformat() if s.date else None, "entry": s.entry_id, "recorded_by": s.recorded_by})
    rows.sort(key=lambda r: (r["period"], r["tenant_id"]))
    return rows
