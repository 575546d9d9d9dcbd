"""The layout of a store: every path a store holds, with its model, merge rule and personal data.

One table, read by doctor (which files belong in a store, and which model checks them), privacy
(which keys are phones, ID numbers and people's names), merging (the `.gitattributes` that hands
files to `wuye merge-driver`), sync, verify, export and `wuye init`. Before it, each of those kept
its own list and they had drifted apart (doctor did not know the notices register).

Models are named, not imported ("wuye.models.store:Staff"): `import wuye.storage.layout` must stay
as cheap as a look-up at the counter, and pydantic loads only when `PathRule.load_model()` asks.
This module imports the category registry (no pydantic) and the standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wuye.models.archive_meta import BY_KEY, CATEGORIES
from wuye.models.ids import CASE_ID_PATTERN

CONFIG = "wuye.yaml"
WORKFLOW = "workflows/moveout.yaml"
ALLOWED_SIGNERS = "allowed_signers"
GITATTRIBUTES_FILE = ".gitattributes"
GITIGNORE_FILE = ".gitignore"
STAFF_DIR, UNITS_DIR, TENANTS_DIR, NOTICES_DIR = "staff", "units", "tenants", "notices"
# The office's registers that belong to no tenant (models/registers.py): training per staff member,
# kept apart from staff/ (the authority chain), and improvement actions per year.
TRAINING_DIR, IMPROVEMENTS_DIR = "training", "improvements"
# The authority chain (trust/authority.py): authority/<version>.yaml, four digits or more, and the
# proposals that wait for a second manager's approval.
AUTHORITY_DIR = "authority"
PROPOSALS_DIR = "authority/proposals"
# The service desk's store-level registers (wuye/models/desk.py): what belongs to no tenant. The
# inquiry log is kept a month a file and the common-area repairs a year a file, so that neither
# nears the 1 MiB a store file may hold (a busy desk logs some 20 inquiries a day).
DESK_DIR = "desk"
INQUIRIES_DIR = "desk/inquiries"
COMMON_REPAIRS_DIR = "desk/repairs"
# The folders a new store starts with (each holds a .gitkeep so that git keeps it).
FOLDERS = (STAFF_DIR, UNITS_DIR, TENANTS_DIR)
CASE_ID = re.compile(CASE_ID_PATTERN[1:-1])  # for fullmatch

DRIVER = "wuye"  # the merge driver's name in .gitattributes and the repository's config

# Merge rules: how two offices' changes to one file come together in `wuye sync`.
ENTRIES = "entries"  # wuye merge-driver: entry by entry, new entries renumbered, fields merged
LINES = "lines"  # wuye merge-driver, line by line: every line either side added, none it removed
TEXT = "text"  # git's own three-way text merge (a clash is a conflict for a person)
SIGNED = "signed"  # never rewritten by a merge: the bytes are signed, so git's own merge, no driver
BINARY = "binary"  # whole files: git keeps one side and reports a conflict if both changed
DRIVEN = (ENTRIES, LINES)


@dataclass(frozen=True)
class Personal:
    """The keys of a file whose values are personal data (README, "Personal data")."""

    phones: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()  # 身份证号
    names: frozenset[str] = frozenset()  # people's names
    person_name: bool = False  # the entries' own `name` is a person's (elsewhere a company's)


NONE = Personal()


@dataclass(frozen=True)
class PathRule:
    """One kind of file in a store: where it lives, what checks it, how it merges, what is personal."""

    name: str  # "config", "category:payments", "step"…
    regex: str  # the whole relative path, '/'-separated
    glob: str  # the same place in .gitattributes' glob syntax
    model: str | None  # "module:Class", loaded lazily; "workflow" for the workflow file; None: no model
    merge: str
    personal: Personal = NONE
    category: str | None = None  # the archive category's key
    compiled: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # anchored at both ends, so that `.match` is a whole-path match as `fullmatch` is
        object.__setattr__(self, "compiled", re.compile(rf"(?:{self.regex})\Z"))

    @property
    def driven(self) -> bool:
        return self.merge in DRIVEN

    def load_model(self):
        """The pydantic model this file is validated with (imports it now), or None."""
        if self.model is None or self.model == "workflow":
            return None
        if self.category is not None:
            from wuye.models.archive import file_model

            return file_model(BY_KEY[self.category])
        import importlib

        module, _, name = self.model.partition(":")
        return getattr(importlib.import_module(module), name)


_SEG = r"[^/]+"
_CATEGORY_PERSONAL = {
    "profile": Personal(phones=frozenset({"phone"}), ids=frozenset({"legal_rep_id"}), names=frozenset({"legal_rep"})),
    "renovation": Personal(phones=frozenset({"contractor_phone"})),
    "contacts": Personal(phones=frozenset({"phone"}), person_name=True),
    "emergency": Personal(phones=frozenset({"phone_24h"}), person_name=True),
}
# The default workflow's step fields that hold personal data (defaults/moveout.yaml: the tenant's
# representative at move-out and the new contact afterwards).
_STEP_PERSONAL = Personal(phones=frozenset({"representative_phone", "new_phone"}),
                          names=frozenset({"representative", "contact_name"}))

RULES: tuple[PathRule, ...] = (
    PathRule("config", re.escape(CONFIG), CONFIG, "wuye.models.store:StoreConfig", TEXT),
    PathRule("workflow", re.escape(WORKFLOW), WORKFLOW, "workflow", TEXT),
    PathRule("staff", rf"{STAFF_DIR}/{_SEG}\.yaml", f"{STAFF_DIR}/*.yaml", "wuye.models.store:Staff", TEXT),
    *(PathRule(f"category:{c.key}", rf"{TENANTS_DIR}/{_SEG}/{c.key}\.yaml",
               # one line in .gitattributes covers the twelve (git hands every such file to the driver)
               f"{TENANTS_DIR}/*/*.yaml", f"wuye.models.archive:file_model({c.key})", ENTRIES,
               _CATEGORY_PERSONAL.get(c.key, NONE), c.key) for c in CATEGORIES),
    PathRule("unit", rf"{UNITS_DIR}/{_SEG}\.yaml", f"{UNITS_DIR}/*.yaml", "wuye.models.store:Unit", ENTRIES),
    PathRule("signers", re.escape(ALLOWED_SIGNERS), ALLOWED_SIGNERS, None, LINES),
    PathRule("attachment", rf"{TENANTS_DIR}/{_SEG}/attachments/.+", f"{TENANTS_DIR}/*/attachments/**", None, BINARY),
    PathRule("case", rf"{TENANTS_DIR}/{_SEG}/moveout/{_SEG}/case\.yaml", f"{TENANTS_DIR}/*/moveout/*/case.yaml",
             "wuye.models.workflow:MoveOutCase", TEXT),
    PathRule("step", rf"{TENANTS_DIR}/{_SEG}/moveout/{_SEG}/steps/{_SEG}\.yaml", f"{TENANTS_DIR}/*/moveout/*/steps/*.yaml",
             "wuye.models.workflow:StepEntry", SIGNED, _STEP_PERSONAL),
    PathRule("authority", rf"{AUTHORITY_DIR}/\d{{4,}}\.yaml", f"{AUTHORITY_DIR}/*.yaml",
             "wuye.models.authority:AuthorityRecord", SIGNED),
    PathRule("proposal", rf"{PROPOSALS_DIR}/\d{{4,}}\.yaml", f"{PROPOSALS_DIR}/*.yaml",
             "wuye.models.authority:Proposal", TEXT),
    # Entry by entry, as the archive lists: two offices recording a course, or opening an action,
    # on the same day both keep theirs. The trainer is a person's name.
    PathRule("training", rf"{TRAINING_DIR}/{_SEG}\.yaml", f"{TRAINING_DIR}/*.yaml", "wuye.models.registers:TrainingFile",
             ENTRIES, Personal(names=frozenset({"trainer"}))),
    PathRule("improvements", rf"{IMPROVEMENTS_DIR}/\d{{4}}\.yaml", f"{IMPROVEMENTS_DIR}/*.yaml",
             "wuye.models.registers:ImprovementFile", ENTRIES),
    PathRule("inquiries", rf"{INQUIRIES_DIR}/\d{{4}}-\d{{2}}\.yaml", f"{DESK_DIR}/*/*.yaml", "wuye.models.desk:InquiryList",
             ENTRIES, Personal(phones=frozenset({"visitor_phone"}), names=frozenset({"visitor_name"}))),
    PathRule("common_repairs", rf"{COMMON_REPAIRS_DIR}/\d{{4}}\.yaml", f"{DESK_DIR}/*/*.yaml", "wuye.models.desk:CommonRepairList",
             ENTRIES),
    PathRule("notice", rf"{NOTICES_DIR}/\d{{4}}/{_SEG}\.md", f"{NOTICES_DIR}/*/*.md", None, TEXT),
    PathRule("gitattributes", re.escape(GITATTRIBUTES_FILE), GITATTRIBUTES_FILE, None, TEXT),
    PathRule("gitignore", re.escape(GITIGNORE_FILE), GITIGNORE_FILE, None, TEXT),
    PathRule("gitkeep", rf"(?:{_SEG}/)*\.gitkeep", "**/.gitkeep", None, TEXT),
)
BY_NAME = {r.name: r for r in RULES}

# The columns of an imported ledger that hold personal data: no file of the store, but `wuye
# import` shows its rows, masked like the records they become.
LEDGER_PERSONAL = Personal(phones=frozenset({"contact_phone", "company_phone"}), names=frozenset({"contact_name"}))


def match(rel: str) -> PathRule | None:
    """The rule for store file `rel` ('/'-separated, relative to the store), or None: no place for it."""
    for rule in RULES:
        if rule.compiled.match(rel):
            return rule
    return None


def driven(rel: str) -> bool:
    """Whether git hands `rel` to the wuye merge driver (by the .gitattributes below)."""
    return DRIVEN_RE.match(rel) is not None


def _globs(rules) -> list[str]:
    return list(dict.fromkeys(r.glob for r in rules))


# What the driver's .gitattributes globs select; `*` is one path segment there. Built from the
# globs themselves (not the rules' regexes), since git decides by them: an unknown
# tenants/T1/x.yaml reaches the driver too.
DRIVEN_RE = re.compile("^(" + "|".join(re.escape(g).replace(r"\*", _SEG) for g in _globs(r for r in RULES if r.driven)) + ")$")


def gitattributes() -> str:
    """The store's .gitattributes: the files that merge through `wuye merge-driver`."""
    lines = ["# wuye：档案文件按条目合并（wuye merge-driver） / wuye: archive files merge entry by entry\n"]
    lines += [f"{g} merge={DRIVER}\n" for g in _globs(r for r in RULES if r.driven)]
    return "".join(lines)


def personal_keys() -> Personal:
    """Every key of any file (and of a ledger row) that holds personal data, as one set each."""
    parts = [r.personal for r in RULES] + [LEDGER_PERSONAL]
    return Personal(phones=frozenset().union(*(p.phones for p in parts)),
                    ids=frozenset().union(*(p.ids for p in parts)),
                    names=frozenset().union(*(p.names for p in parts)))


def person_categories() -> frozenset[str]:
    """Categories whose entries' `name` is a person's."""
    return frozenset(r.category for r in RULES if r.category and r.personal.person_name)
