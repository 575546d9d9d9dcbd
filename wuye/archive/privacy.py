"""Personal data on screen (个人信息): masked by default, shown with `--reveal`, and every reveal logged.

What is personal data in a store (see README, "Personal data"): phone numbers of contacts, emergency
contacts, contractors and move-out representatives; 身份证号 of legal representatives; the names of
people (contacts, emergency contacts, legal representatives, the representative and contact at
move-out); and whatever a clerk typed into free text (a complaint's "请回电 138…"). Company names,
unit numbers and 统一社会信用代码 are not.

Every human-readable output, and `--json` too, shows `138****5678`, `110105********002X` and `李*`
unless `--reveal` is given; then `record_reveal` appends who (the staff id of `--as`/WUYE_USER and the
login), when, which command and which record to `.git/wuye/access.log`: local to this copy of the
store, never committed or pushed, so the audit of reads stays on the machine where they happened.
The signed bytes of `wuye moveout payload` and the files `wuye export` writes are exact by purpose
and are not masked. This module imports nothing heavy: it runs on the look-up path.
"""

from __future__ import annotations

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

_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(0[0-9]{2,3})(-?)([0-9]{3,4})([0-9]{4})(?![0-9])")
_RIC = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")


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


def mask_text(value: str) -> str:
    """Phone and ID numbers inside free text."""
    value = _RIC.sub(lambda m: m[1] + "*" * 8 + m[3], value)
    value = _MOBILE.sub(lambda m: m[1] + "****" + m[3], value)
    return _LANDLINE.sub(lambda m: m[1] + m[2] + "*" * len(m[3]) + m[4], value)


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


def record_reveal(root: Path, command: str, subject: str, actor: str | None = None) -> None:
    """Append who revealed what, and when, to the store's local access log (never committed)."""
    import datetime as dt
    import getpass
    import json
    import os

    staff = actor or os.environ.get("WUYE_USER") or None
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = None
    line = json.dumps({"at": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "staff": staff,
                       "login": login, "command": command, "subject": subject}, ensure_ascii=False)
    from wuye.storage.git import common_dir

    # Shared by every worktree of the repository, not per checkout: it records who saw what of
    # this copy of the store, and `git worktree remove` deletes a worktree's own git directory.
    path = common_dir(Path(root)) / ACCESS_LOG
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def reveals(root: Path) -> list[dict]:
    """The access log, oldest first."""
    import json

    from wuye.storage.git import common_dir

    path = common_dir(Path(root)) / ACCESS_LOG
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
