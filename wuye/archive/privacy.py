"""Personal data on screen (个人信息): masked by default, shown with `--reveal`, and every reveal logged.

What is personal data in a store (see README, "Personal data"): phone numbers of contacts, emergency
contacts, contractors and move-out representatives; 身份证号 of legal representatives; the names of
people (contacts, emergency contacts, legal representatives, the representative and contact at
move-out); and whatever a clerk typed into free text (a complaint's "请回电 138…"). Company names,
unit numbers and 统一社会信用代码 are not.

Every human-readable output, and `--json` too, shows `138****5678`, `110105********002X` and `李*`
unless `--reveal` is given. A reveal, `wuye export` and `wuye moveout payload` (whose bytes and files
are exact by purpose and not masked) need an identity (`--as`/WUYE_USER, a registered staff
member: `identity`) and `record_reveal` appends who, the login, when, which command and which record
to `.git/wuye/access.log`: local to this copy of the store, never committed or pushed, so the audit
of reads stays on the machine where they happened. The log is hash-chained: each line carries the
sha256 of the line before it (the first, of no bytes at all), so a deleted, inserted or edited line
breaks the chain and `wuye doctor` says where (`chain_breaks`). A log cut short at its end, or a
changed last line, leaves no break to find: an office that reviews the log notes its length.

Free text (a complaint's "请回电 138 1234 5678") is masked by `mask_text`: 身份证号 by their
shape (18 characters, the checksum not required: a mistyped number is still a person's), phone
numbers by `phonenumbers.PhoneNumberMatcher` (region CN, however written: `138-1234-5678`,
`+8613812345678`, `（010）65881234`). phonenumbers costs ~35 ms to import, so it is imported only when
a text holds a run of at least seven digits that could be a number (dates and wuye's record ids
taken out first); plain text costs a few regexes.
This module imports nothing heavy: it runs on the look-up path.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from wuye.storage import layout

ACCESS_LOG = "wuye/access.log"  # under .git/

# Which keys are personal data is said per file by the store's layout; masking goes by the key
# alone, wherever it stands (a step's data, an import row), so the sets are the union.
_PERSONAL = layout.personal_keys()
PHONE_KEYS = _PERSONAL.phones
ID_KEYS = _PERSONAL.ids
NAME_KEYS = _PERSONAL.names
# Categories whose entries' `name` is a person's (elsewhere `name` is a company's).
PERSON_CATEGORIES = layout.person_categories()
# Free text a clerk types: phone and ID numbers inside it are masked too.
TEXT_KEYS = frozenset({"note", "description", "summary", "result", "response", "comment", "reason", "text", "address"})

_RIC = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
# The pre-filter: a run of digits and the separators phone numbers are written with, holding at
# least seven digits (the shortest local number). Dates and times do not pass (`2026-11-20` has
# eight digits but is taken out by its shape first; `12:38` breaks a run), nor amounts (`.` does).
_RUN = re.compile(r"[+＋(（0-9０-９][0-9０-９ \-－()（）]{5,}[0-9０-９]")
_DATE = re.compile(r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])")
# wuye's own record ids (`MO-2026-0003`, `TS-2026-0022`, `CON-0001`), common in free text, and
# never a phone number: taken out before the pre-filter counts digits, like dates.
_RECORD_ID = re.compile(r"(?<![0-9A-Za-z])[A-Z]{2,4}-(?:[0-9]{4}-)?[0-9]{4}(?![0-9])")


def mask_phone(value: str) -> str:
    """138****5678: the first three and last four digits."""
    if len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    return "*" * len(value)


def mask_id(value: str) -> str:
    """110105********002X: the region code and the last four."""
    return value[:6] + "*" * max(len(value) - 10, 0) + value[-4:]


def mask_name(value: str) -> str:
    """李* / 欧** / J***: the first character."""
    return value[:1] + "*" * (len(value) - 1) if len(value) > 1 else "*"


def _may_hold_phone(value: str) -> bool:
    plain = _RECORD_ID.sub("/", _DATE.sub("/", value))
    return any(sum(c.isdigit() for c in m.group()) >= 7 for m in _RUN.finditer(plain))


def _mask_number(raw: str, national: str) -> str:
    """The digits of one phone number as written, masked: the country code and trunk prefix as
    written, then of the national number a mobile's first three or a landline's area code, and
    the last four; the digits between become `*`, the separators stay (`138 **** 5678`)."""
    import phonenumbers

    digits = [i for i, c in enumerate(raw) if c.isdigit()]
    lead = max(len(digits) - len(national), 0)  # 86, 0086 or the trunk 0
    if len(national) == 11 and national.startswith("1"):
        keep = 3
    else:
        keep = phonenumbers.length_of_geographical_area_code(phonenumbers.parse(national, "CN"))
    hidden = digits[lead + keep: len(digits) - 4]
    if not hidden:  # too short to keep both ends: only the last four stay
        hidden = digits[:-4]
    chars = list(raw)
    for i in hidden:
        chars[i] = "*"
    return "".join(chars)


def mask_text(value: str) -> str:
    """Phone and ID numbers inside free text, however they are written."""
    value = _RIC.sub(lambda m: m[1] + "*" * 8 + m[3], value)
    if not _may_hold_phone(value):
        return value
    import phonenumbers

    out, last = [], 0
    for m in phonenumbers.PhoneNumberMatcher(value, "CN"):
        out += [value[last:m.start], _mask_number(m.raw_string, str(m.number.national_number))]
        last = m.end
    return "".join(out) + value[last:]


# In a message, a quoted value of seven or more digits: a mistyped phone or ID number quoted by a
# refusal (`电话号码无效：'1381234567'`) is no valid number, and still a person's. Only quoted
# ones: a commit id in a message (`提交 1234567890`) can be all digits.
_QUOTED_DIGITS = re.compile(r"""(['"‘“])([0-9][0-9 -]{5,}[0-9Xx])(['"’”])""")


def mask_message(value: str) -> str:
    """A message (an error, a problem, a conflict): `mask_text`, and quoted digit runs."""
    def hide(m: re.Match) -> str:
        if sum(c.isdigit() for c in m[2]) < 7 or _DATE.fullmatch(m[2]):  # `'2025-13-01'` is a date, if a bad one
            return m[0]
        return m[1] + mask_phone(m[2]) + m[3]

    return _QUOTED_DIGITS.sub(hide, mask_text(value))


def mask_all(value: Any) -> Any:
    """Every string in `value` through `mask_message`: for what quotes records without saying
    which field a value is (an error, a finding, a sync conflict, a line of a diff)."""
    if isinstance(value, str):
        return mask_message(value)
    if isinstance(value, dict):
        return {k: mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_all(v) for v in value]
    return value


def mask_yaml_line(line: str) -> str:
    """One line of a store's YAML as a diff or a conflict quotes it: `phone: "13812345678"` masked
    by its key as `masked` would, then whatever free text is left by `mask_text`."""
    m = re.match(r"^([+ -]?\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*:\s*)(['\"]?)(.*?)(['\"]?)\s*$", line)
    if m and m[5] and m[2] in PHONE_KEYS | ID_KEYS | NAME_KEYS | {"name"}:
        value = m[5]
        if m[2] in PHONE_KEYS:
            value = mask_phone(value)
        elif m[2] in ID_KEYS:
            value = mask_id(value)
        else:
            # `name` is a person's only in some files; a line out of context cannot tell, and a
            # company's name in a conflict line is not worth the risk of printing a person's.
            value = mask_name(value)
        line = f"{m[1]}{m[2]}{m[3]}{m[4]}{value}{m[6]}"
    return mask_message(line)


def masked(value: Any, key: str | None = None, person: bool = False) -> Any:
    """`value` with its personal data masked; `person`: a `name` in it is a person's."""
    if isinstance(value, dict):
        return {k: masked(v, k, person) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key, person) for v in value]
    if not isinstance(value, str) or key is None:
        return value
    if key in PHONE_KEYS:
        return mask_phone(value)
    if key in ID_KEYS:
        return mask_id(value)
    if key in NAME_KEYS or (person and key == "name"):
        return mask_name(value)
    if key in TEXT_KEYS:
        return mask_text(value)
    return value


def masked_dossier(data: dict, reveal: bool) -> dict:
    """A dossier's categories (key -> file data) as they may be shown."""
    if reveal:
        return data
    return {c: masked(d, None, c in PERSON_CATEGORIES) for c, d in data.items()}


def shown(data: Any, reveal: bool, person: bool = False) -> Any:
    return data if reveal else masked(data, None, person)


# --- who revealed what: the access log -------------------------------------------------------

GENESIS = hashlib.sha256(b"").hexdigest()  # what the first line of the log names as the one before


def identity(store, actor_id: str | None, what: str) -> str:
    """The staff id that reveals, exports or prints exact bytes (`what`: the option or command):
    `--as`, else WUYE_USER, a registered and not revoked member. Refused otherwise: an unnamed
    read of personal data is what the access log exists to rule out."""
    import os

    from wuye.errors import WuyeError
    from wuye.i18n import tr

    if not (actor_id or os.environ.get("WUYE_USER")):
        raise WuyeError(tr("%s 输出完整的个人信息，须说明是谁：请加 --as 员工编号（或设环境变量 WUYE_USER）；此次访问会记入本机访问日志",
                           "%s gives personal data in full, so it needs to know who you are: add --as STAFF_ID "
                           "(or set WUYE_USER); the access is logged on this machine") % what)
    return store.actor(actor_id).id


def _log_path(root: Path) -> Path:
    from wuye.storage.git import common_dir

    # Shared by every worktree of the repository, not per checkout: it records who saw what of
    # this copy of the store, and `git worktree remove` deletes a worktree's own git directory.
    return common_dir(Path(root)) / ACCESS_LOG


def _digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _last_line(fd: int) -> bytes | None:
    """The log's last line (without its newline), read from its end: the log only grows."""
    import os

    size = os.fstat(fd).st_size
    if size == 0:
        return None
    back = min(size, 1 << 16)
    tail = os.pread(fd, back, size - back)
    lines = [line for line in tail.split(b"\n") if line.strip()]
    return lines[-1] if lines else None


def record_reveal(root: Path, command: str, subject: str, actor: str) -> None:
    """Append who revealed what, and when, to the store's local access log (never committed),
    chained to the line before it. `actor` is what `identity` returned."""
    import datetime as dt
    import getpass
    import json
    import os

    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = None
    path = _log_path(root)
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        try:
            import fcntl

            # Two reveals at once must not both chain to the same line.
            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:
            pass
        before = _last_line(fd)
        size = os.fstat(fd).st_size
        # A log whose last line lost its newline (an editor) must not have this line glued to it.
        lead = b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""
        line = json.dumps({"at": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "staff": actor,
                           "login": login, "command": command, "subject": mask_text(subject),
                           "prev": GENESIS if before is None else _digest(before)}, ensure_ascii=False)
        os.write(fd, lead + (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def _log_lines(root: Path) -> list[bytes]:
    path = _log_path(root)
    if not path.is_file() or path.is_symlink():
        return []
    return [line for line in path.read_bytes().split(b"\n") if line.strip()]


def reveals(root: Path) -> list[dict]:
    """The access log, oldest first."""
    import json

    return [json.loads(line) for line in _log_lines(root)]


def chain_breaks(root: Path) -> list[tuple[int, str]]:
    """Where the access log's chain is broken: (line number, reason key) for each line whose
    `prev` is not the digest of the line before it ("unreadable": not a JSON line;
    "unchained": no digest at all; "broken": a digest of something else: a line was deleted,
    inserted or edited)."""
    import json

    breaks = []
    prev = GENESIS
    for n, line in enumerate(_log_lines(root), 1):
        try:
            said = json.loads(line).get("prev")
        except (ValueError, AttributeError):
            breaks.append((n, "unreadable"))
        else:
            if said is None:
                breaks.append((n, "unchained"))
            elif said != prev:
                breaks.append((n, "broken"))
        prev = _digest(line)
    return breaks
