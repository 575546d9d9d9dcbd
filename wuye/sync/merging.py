"""Merging two offices' versions of an archive file, entry by entry: `wuye merge-driver`.

Git calls this as the `wuye` merge driver (`merge.wuye.driver`, selected for `tenants/*/*.yaml`,
`units/*.yaml`, `allowed_signers` and the desk's registers `desk/*/*.yaml` by the store's `.gitattributes`) whenever both sides of a
merge changed one of those files, so a plain `git pull` merges as well as `wuye sync` does. The
three versions are read as the store's YAML (strictly: a version that is not, say a hand edit with
an anchor, falls back to git's line merge) and merged as data, three-way, value by value:
a value changed on one side only takes that side; the same change on both sides is one change;
two different changes of one value are a conflict, reported with both versions. On top of that:

- list categories (`entries:`) merge by entry id, so entries appended on two machines are all
  kept: the base's entries in this side's order, then the other side's new entries, then this
  side's new ones;
- a list that both sides only appended to (a complaint's `history`) keeps every appended item,
  in time order; and the current-state fields of that record (status, assignee, …) follow the side
  whose latest event is later, as replaying the events would;
- `updated_by`/`updated_at` of a one-record category take the later edit, so two edits of
  different fields of a profile merge cleanly while two edits of the same field conflict;
- `allowed_signers` merges line by line (it is regenerated from staff/ anyway).

Entry ids (CON-0003) are allocated per machine, so two offices working offline hand out the same
id. The other side's entries keep theirs ("theirs" is what `wuye sync` fetched: already on the
central repository and perhaps already copied to a third office), and when any new entry of this
side collides, this side's new entries are renumbered after the highest id of the merged list, in
order, and each renumbering is reported. That is only safe for an entry nothing cites yet: a
settlement signed here cites `payments.yaml#PAY-0003` in signed bytes that cannot change. So an
entry cited by any signed entry of HEAD (`git grep` of `<file>#<id>` under the tenant's move-out
cases) is not renumbered silently: it is a conflict, which `--resolve theirs` accepts (the entry
is renumbered and the citing case must then be corrected, as the notice says). Move-out case ids
(MO-2026-0001) cannot be renumbered at all, since every signed entry of a case names it: two
cases with one id are reported by `wuye verify` (and so refused by `wuye sync` and the central
repository), never merged into one.

This module reads the three files git hands it and writes only the result file (`%A`), plus a
line per renumbering to `$WUYE_MERGE_NOTES` when `wuye sync` asks for it; it never touches the
store's work tree or index, and takes no lock (the `wuye sync` that started the merge holds it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage import layout
from wuye.storage.atomic import write_atomic

DRIVER = layout.DRIVER
# Which files the driver merges: the layout's rules whose merge rule is entry by entry or line by
# line. Patterns follow gitignore rules: `*` stops at `/`, so the signed step entries
# (tenants/<t>/moveout/<case>/steps/*.yaml) keep git's own merge, where two signatures of one
# step are an add/add conflict, as they must be.
GITATTRIBUTES = layout.gitattributes()
NOTES_ENV = "WUYE_MERGE_NOTES"
RESOLVE_ENV = "WUYE_MERGE_RESOLVE"
SIDES = ("ours", "theirs")

STAMPS = ("updated_at", "updated_by")
TIME_KEYS = ("at", "recorded_at", "signed_at", "received_at", "reported_at")
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)$")


# --- registering the driver ---------------------------------------------------------------


def driver_command() -> str:
    """The command git runs: this very interpreter, so a venv install works without PATH.

    Isolated (`-I`): git starts the driver in the store's top folder, and a plain `python -m`
    puts that folder first on sys.path, so a `wuye/` package, a `sitecustomize.py` or any module
    committed at the store's root by another office would run here, with this clerk's keys, on
    the next merge (a `wuye sync` or a plain `git pull`). `-I` leaves the working folder off the
    path and ignores PYTHON* variables and the user's site folder: only the installed wuye runs.
    """
    import shlex

    return f"{shlex.quote(sys.executable)} -I -m wuye merge-driver %O %A %B %P"


def register(root: Path) -> None:
    """Define the driver in the repository's own config (never the user's global one).

    `pull.rebase=false`: the driver renumbers *this* side's new entries, which is only right
    when this side is the local one, as in a merge; a rebase swaps the sides.
    """
    set_config(root, {"merge.wuye.name": "wuye: archive YAML, entry by entry",
                      "merge.wuye.driver": driver_command(),
                      "pull.rebase": "false"})


def set_config(root: Path, settings: dict[str, str]) -> None:
    """Write repository config values that differ (one read, then only the writes needed)."""
    from wuye.storage import git as audit

    out = audit.run(root, "config", "--local", "--list", "-z", check=False)
    # -z: each entry is `key\nvalue\0`, so a value holding "=" or a newline reads back whole.
    current = dict(item.partition("\n")[::2] for item in out.split("\0") if item) if out is not None else {}
    for key, value in settings.items():
        # `--list` lower-cases section and variable names; no key of wuye's has a subsection
        # with capitals, so lower-casing the whole key finds it.
        if current.get(key.lower()) != value:
            audit.run(root, "config", key, value)


# --- results ------------------------------------------------------------------------------

class _Missing:
    """A key or entry absent from a version (None is a value a field can hold)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@dataclass
class Conflict:
    """Two different changes of one value: where, this side's and the other side's version."""

    where: str
    ours: Any
    theirs: Any
    reason: str = ""

    def describe(self, here: str | None = None, there: str | None = None) -> str:
        here = here or tr("本地", "here")
        there = there or tr("远端", "there")
        text = f"{self.where}: {here} {_show(self.ours, self.where)} ≠ {there} {_show(self.theirs, self.where)}"
        if self.reason:
            text += tr("（%s）", " (%s)") % self.reason
        return text


@dataclass
class Renumbered:
    path: str
    old: str
    new: str
    cited_by: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = tr("%s：本地新增的 %s 改编为 %s（对方也新增了 %s）",
                  "%s: %s added here is now %s (the other side added %s too)") % (self.path, self.old, self.new, self.old)
        if self.cited_by:
            text += tr("；以下已签字条目引用了原编号，请更正：%s" % "、".join(self.cited_by),
                       "; these signed entries cite the old id and must be corrected: %s" % ", ".join(self.cited_by))
        return text


@dataclass
class Merged:
    text: str | None  # the merged file when there is no conflict
    conflicts: list[Conflict] = field(default_factory=list)
    renumbered: list[Renumbered] = field(default_factory=list)
    resolved: list[Conflict] = field(default_factory=list)  # conflicts settled by a --resolve side

    @property
    def clean(self) -> bool:
        return not self.conflicts


class Unmergeable(Exception):
    """A version the driver cannot read as data; git's line merge takes over."""


def _show(value: Any, where: str = "") -> str:
    """A conflicting value as a message shows it: masked (privacy.py), by the field `where` ends
    in (`entries[C-0002].phone`), and every string in it as free text; a `name` inside a list's
    entries is taken for a person's (contacts, emergency), a profile's `name` is the company's. `wuye archive show --reveal` shows the values."""
    from wuye.archive import privacy

    if value is MISSING:
        return tr("（无）", "(absent)")
    key = re.split(r"[.\[]", where)[-1].rstrip("]") if where else None
    shown = privacy.mask_all(privacy.masked(plain(value), key if isinstance(value, str) else None, where.startswith("entries")))
    return json.dumps(shown, ensure_ascii=False, default=str)


# --- comparing ----------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Round-trip YAML nodes as plain values: key order and quoting style do not count."""
    if value is MISSING:
        return value
    if hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return plain(a) == plain(b)


def _when(value: Any):
    """A comparable time for ordering: stored times are ISO 8601 strings with an offset."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    try:
        t = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _is_map(x: Any) -> bool:
    return x is not MISSING and hasattr(x, "items")


def _is_seq(x: Any) -> bool:
    return isinstance(x, list)


def _get(m: Any, key: Any) -> Any:
    return m[key] if _is_map(m) and key in m else MISSING


# --- the merge ----------------------------------------------------------------------------


class _Merger:
    """One three-way merge of a file; `ours` is changed in place into the result."""

    def __init__(self, path: str, prefer: str | None, cited: Callable[[str, str], list[str]] | None):
        self.path = path
        self.prefer = prefer
        self.cited = cited or (lambda path, entry_id: [])
        self.conflicts: list[Conflict] = []
        self.resolved: list[Conflict] = []
        self.renumbered: list[Renumbered] = []

    def conflict(self, where: str, o: Any, t: Any, reason: str = "", side: str | None = None) -> Any:
        """A conflict: settled by the side asked for (by --resolve, or by a newer event), else kept."""
        c = Conflict(where, plain(o), plain(t), reason)
        if side is None and self.prefer in SIDES:
            side = self.prefer
            self.resolved.append(c)
        if side in SIDES:
            return o if side == "ours" else t
        self.conflicts.append(c)
        return o

    def value(self, b: Any, o: Any, t: Any, where: str, side: str | None = None) -> Any:
        if same(o, t):
            return o
        if same(o, b):
            return t
        if same(t, b):
            return o
        if _is_map(o) and _is_map(t) and (b is MISSING or _is_map(b)):
            return self.mapping({} if b is MISSING else b, o, t, where)
        if _is_seq(o) and _is_seq(t) and (b is MISSING or _is_seq(b)):
            merged = self.sequence([] if b is MISSING else b, o, t, where)
            if merged is not MISSING:
                return merged
        return self.conflict(where, o, t, side=side)

    def mapping(self, b, o, t, where: str, top: bool = False):
        side = _newer_history(b, o, t)
        keys = [k for k in o if k not in STAMPS]
        keys += [k for k in t if k not in o and k not in STAMPS]
        keys += [k for k in b if k not in o and k not in t and k not in STAMPS]
        for k in keys:
            sub = f"{where}.{k}" if where else str(k)
            if top and k == "entries" and _is_seq(_get(o, k)) and _is_seq(_get(t, k)) \
                    and _entry_list(_get(b, k), o[k], t[k]):
                result = self.entries(_get(b, k), o[k], t[k], sub)
            else:
                # The newer side settles current-state fields, never the events themselves.
                result = self.value(_get(b, k), _get(o, k), _get(t, k), sub, side=side if k != "history" else None)
            _put(o, k, result)
        self.stamps(b, o, t, where)
        return o

    def stamps(self, b, o, t, where: str) -> None:
        """Who last updated a record, and when: the later of two edits."""
        present = [k for k in STAMPS if k in o or k in t or k in b]
        if not present:
            return
        o_changed = any(not same(_get(o, k), _get(b, k)) for k in present)
        t_changed = any(not same(_get(t, k), _get(b, k)) for k in present)
        if t_changed and (not o_changed or _later(_get(t, "updated_at"), _get(o, "updated_at"))):
            for k in present:
                _put(o, k, _get(t, k))

    def sequence(self, b, o, t, where: str):
        """A list both sides only appended to: every appended item, in time order."""
        n = len(b)
        if len(o) < n or len(t) < n or not all(same(x, y) for x, y in zip(o[:n], b)) \
                or not all(same(x, y) for x, y in zip(t[:n], b)):
            return MISSING
        theirs_new = list(t[n:])
        ours_new = [x for x in o[n:] if not any(same(x, y) for y in theirs_new)]
        added = _sorted_by_time(theirs_new + ours_new)
        del o[n:]
        o.extend(added)
        return o

    def entries(self, b, o, t, where: str):
        """A list category's entries, merged by id; colliding new ids of this side renumbered."""
        b = [] if b is MISSING else b
        B = {str(e["id"]): e for e in b}
        T = {str(e["id"]): e for e in t}
        O = {str(e["id"]): e for e in o}
        kept = []
        for e in o:
            eid = str(e["id"])
            if eid not in B:
                continue
            sub = f"{where}[{eid}]"
            if eid in T:
                kept.append(self.value(B[eid], e, T[eid], sub))
            elif not same(e, B[eid]):
                if self.conflict(sub, e, MISSING, tr("对方删除了此条，本地改动了它", "deleted there, changed here")) is not MISSING:
                    kept.append(e)
        for eid, e in B.items():
            if eid not in O and eid in T and not same(T[eid], e):
                if self.conflict(f"{where}[{eid}]", MISSING, T[eid], tr("本地删除了此条，对方改动了它", "deleted here, changed there")) is not MISSING:
                    kept.append(T[eid])
        theirs_new = [e for e in t if str(e["id"]) not in B]
        theirs_ids = {str(e["id"]) for e in theirs_new}
        ours_new = [e for e in o if str(e["id"]) not in B
                    and not (str(e["id"]) in theirs_ids and same(e, T[str(e["id"])]))]
        if any(str(e["id"]) in theirs_ids for e in ours_new):
            self.renumber(ours_new, kept + theirs_new, where)
        del o[:]
        o.extend(kept + theirs_new + ours_new)
        return o

    def renumber(self, ours_new: list, taken: list, where: str) -> None:
        """Give this side's new entries the next free ids after everything else in the list."""
        highest: dict[tuple[str, int], int] = {}
        for e in taken:
            m = _NUMBERED.match(str(e["id"]))
            if m:
                key = (m["prefix"], len(m["digits"]))
                highest[key] = max(highest.get(key, 0), int(m["digits"]))
        filename = self.path.rsplit("/", 1)[-1]
        for e in ours_new:
            old = str(e["id"])
            m = _NUMBERED.match(old)
            if not m:
                self.conflict(f"{where}[{old}]", e, MISSING, tr("两边都新增了此编号，且无法重新编号", "both sides added this id, which cannot be renumbered"))
                continue
            key = (m["prefix"], len(m["digits"]))
            number = max(highest.get(key, 0), 0) + 1
            highest[key] = number
            new = f"{m['prefix']}{number:0{len(m['digits'])}d}"
            if new == old:
                continue
            cited = self.cited(filename, old)
            if cited and self.prefer != "theirs":
                self.conflicts.append(Conflict(f"{where}[{old}]", plain(e), MISSING, tr(
                    "两边都新增了 %s，而本地的这一条已被已签字条目引用（%s），不能自动改编号；"
                    "用 --resolve theirs 接受改编号，再更正引用它的案件" % (old, "、".join(cited)),
                    "both sides added %s, and the one added here is cited by signed entries (%s), so it is not renumbered "
                    "silently; --resolve theirs accepts the renumbering, after which the citing case must be corrected" % (old, ", ".join(cited)))))
                continue
            e["id"] = new
            self.renumbered.append(Renumbered(self.path, old, new, cited))


def _sorted_by_time(items: list) -> list:
    keyed = []
    for i, x in enumerate(items):
        when = next((_when(x[k]) for k in TIME_KEYS if _is_map(x) and k in x), None)
        if when is None:
            return items
        keyed.append((when, i, x))
    return [x for _, _, x in sorted(keyed, key=lambda p: (p[0], p[1]))]


def _newer_history(b, o, t) -> str | None:
    """The side whose latest event is later, when both appended events to a record's history."""
    bh, oh, th = _get(b, "history"), _get(o, "history"), _get(t, "history")
    if not (_is_seq(oh) and _is_seq(th)):
        return None
    n = len(bh) if _is_seq(bh) else 0
    if len(oh) <= n or len(th) <= n:
        return None
    last_o = max((w for w in (_when(e.get("at")) for e in oh[n:] if _is_map(e)) if w), default=None)
    last_t = max((w for w in (_when(e.get("at")) for e in th[n:] if _is_map(e)) if w), default=None)
    if last_o is None or last_t is None or last_o == last_t:
        return None
    return "theirs" if last_t > last_o else "ours"


def _later(a: Any, b: Any) -> bool:
    ta, tb = _when(a), _when(b)
    if ta is None or tb is None:
        return str(a) > str(b)
    return ta > tb


def _entry_list(*versions) -> bool:
    """Every version a list of mappings, each with a unique id: a list category's entries."""
    for v in versions:
        if v is MISSING:
            continue
        if not _is_seq(v) or not all(_is_map(e) and isinstance(e.get("id"), str) for e in v):
            return False
        if len({e["id"] for e in v}) != len(v):
            return False
    return True


def _put(m, key, value) -> None:
    """Set, add or remove a key of a round-trip mapping; a new key goes before the stamps."""
    if value is MISSING:
        if key in m:
            del m[key]
        return
    if key in m:
        m[key] = value
        return
    pos = next((i for i, k in enumerate(m) if k in STAMPS + ("recorded_by", "recorded_at")), len(m))
    if hasattr(m, "insert"):
        m.insert(pos, key, value)
    else:
        m[key] = value


# --- whole files --------------------------------------------------------------------------


def _load(text: str, path: str):
    """A version as round-trip data (comments kept); None for an absent or empty file."""
    from wuye.storage import yamlio

    if not text.strip():
        return None
    try:
        yamlio.loads(text, path)  # the store's strict rules: no anchors, tags, duplicate keys
    except WuyeError as e:
        raise Unmergeable(str(e)) from None
    data = yamlio.load_roundtrip(text)
    if data is not None and not _is_map(data):
        raise Unmergeable(tr("%s 不是映射", "%s is not a mapping") % path)
    return data


def merge_texts(base: str, ours: str, theirs: str, path: str, prefer: str | None = None,
                cited: Callable[[str, str], list[str]] | None = None) -> Merged:
    """Merge three versions of a store file; `cited(file, id)` names signed entries citing an id.

    Raises Unmergeable when a version is not the store's YAML (git's line merge then decides).
    """
    if path.rsplit("/", 1)[-1] == layout.ALLOWED_SIGNERS:
        return _merge_lines(base, ours, theirs)
    from wuye.storage import yamlio
    from ruamel.yaml.comments import CommentedMap

    b, o, t = (_load(x, path) for x in (base, ours, theirs))
    if o is None:
        o = CommentedMap()
    merger = _Merger(path, prefer, cited)
    merger.mapping(b if b is not None else {}, o, t if t is not None else {}, "", top=True)
    text = yamlio.dumps(o) if not merger.conflicts else None
    return Merged(text, merger.conflicts, merger.renumbered, merger.resolved)


def _merge_lines(base: str, ours: str, theirs: str) -> Merged:
    """allowed_signers: keep every line either side added, drop what either side removed."""
    b, o, t = (x.splitlines() for x in (base, ours, theirs))
    removed = (set(b) - set(o)) | (set(b) - set(t))
    comments = [line for line in o if line.startswith("#")] + [line for line in t if line.startswith("#") and line not in o]
    keys = [line for line in o if not line.startswith("#") and line not in removed]
    keys += [line for line in t if not line.startswith("#") and line not in removed and line not in keys]
    keys.sort(key=lambda line: line.split(" ", 1)[0])  # by principal, as wuye writes it; stable
    return Merged("\n".join(comments + keys) + "\n")


def _text_merge(ours: Path, base: Path, theirs: Path, path: str) -> int:
    """git's own line merge into `ours`, with conflict markers; the number of conflicts."""
    from wuye.storage import git as audit

    status, _, _ = audit.call(
        None, "merge-file", "-L", tr("本地", "ours") + f" {path}", "-L", "base", "-L", tr("对方", "theirs") + f" {path}",
        str(ours), str(base), str(theirs))
    return status


def cited_in_head(root: Path, tenant_dir: str) -> Callable[[str, str], list[str]]:
    """Signed entries of HEAD under a tenant's move-out cases citing `<file>#<id>`."""
    from wuye.storage import git as audit

    def cited(filename: str, entry_id: str) -> list[str]:
        if audit.head(root) is None:
            return []  # not in a repository, or no commit yet: no signed entry can be looked up
        out = audit.run(root, "grep", "-l", "-z", "-F", "-w", "-e", f"{filename}#{entry_id}", "HEAD", "--",
                        f"{tenant_dir}/moveout/", check=False)
        # -z: each hit is `HEAD:<path>\0`, whatever characters the path holds.
        return [item.split(":", 1)[1] for item in out.split("\0") if ":" in item] if out is not None else []

    return cited


def resolution_for(path: str, env: dict | None = None) -> str | None:
    """The side `wuye sync --resolve` chose for this path (or for every path), if any."""
    raw = (env if env is not None else os.environ).get(RESOLVE_ENV)
    if not raw:
        return None
    try:
        choices = json.loads(raw)
    except ValueError:
        return None
    side = choices.get(path, choices.get("*")) if isinstance(choices, dict) else None
    return side if side in SIDES else None


def run_driver(base: Path, ours: Path, theirs: Path, path: str) -> int:
    """What git's merge driver does: write the merge into `ours`; 0 if clean, 1 on conflict.

    A conflict leaves git's usual conflict markers in the file (so a person resolving a plain
    `git pull` sees what they know) and each conflicting value on stderr.
    """
    texts = []
    for p in (base, ours, theirs):
        try:
            texts.append(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            return 1 if _text_merge(ours, base, theirs, path) else 0
    tenant_dir = "/".join(path.split("/")[:2]) if path.startswith("tenants/") else ""
    cited = cited_in_head(Path.cwd(), tenant_dir) if tenant_dir else None
    try:
        merged = merge_texts(*texts, path, prefer=resolution_for(path), cited=cited)
    except Unmergeable as e:
        from wuye.archive.privacy import mask_message  # a YAML error may quote a value

        print(f"wuye merge-driver: {mask_message(str(e))}", file=sys.stderr)
        return 1 if _text_merge(ours, base, theirs, path) else 0
    _note(path, merged)
    for r in merged.renumbered:
        print(f"wuye: {r.describe()}", file=sys.stderr)
    if merged.conflicts:
        for c in merged.conflicts:
            print(f"wuye: {path}: {c.describe()}", file=sys.stderr)
        _text_merge(ours, base, theirs, path)
        return 1
    # No fsync: git reads the result at once and the merge is redone if anything is lost.
    write_atomic(ours, merged.text.encode("utf-8"), tmp=ours.with_name(ours.name + ".wuye-merge"), mode=0o666, sync=False)
    return 0


def _note(path: str, merged: Merged) -> None:
    """Tell the `wuye sync` that started this merge what was renumbered or resolved."""
    target = os.environ.get(NOTES_ENV)
    if not target or not (merged.renumbered or merged.resolved):
        return
    with open(target, "a", encoding="utf-8") as f:
        for r in merged.renumbered:
            f.write(json.dumps({"kind": "renumbered", "path": r.path, "old": r.old, "new": r.new,
                                "cited_by": r.cited_by}, ensure_ascii=False) + "\n")
        for c in merged.resolved:
            f.write(json.dumps({"kind": "resolved", "path": path, "where": c.where}, ensure_ascii=False) + "\n")
