"""What an office pinned out of band: the fingerprint of its store's authority root, and the public
key of the central repository that signs push receipts.

Pins live in the repository's shared git directory (`<common dir>/wuye/pins.json`), never in a
tracked file: a pin that a commit could change would pin nothing. `wuye init` pins its own root;
`wuye remote add --root FPR [--central KEY]` and `wuye verify --root FPR` pin a clone's. Every
worktree of one repository shares the pins, as it shares the objects they vouch for.
"""

from __future__ import annotations

import json
from pathlib import Path

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage import git as audit
from wuye.storage.atomic import write_atomic

FILE = "wuye/pins.json"
KEYS = ("root", "central")


def _path(root: Path) -> Path:
    return audit.common_dir(root) / FILE


def read(root: Path) -> dict[str, str]:
    """The pins of the repository at `root`: {"root": "SHA256:…", "central": "ssh-ed25519 …"}, each
    present only once pinned. A damaged pin file is an error, never an empty pin."""
    try:
        p = _path(root)
    except audit.NotARepository:
        return {}  # a folder that is no repository (an export of a tree) has pinned nothing
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's parser goes
        data = None
    if not isinstance(data, dict) or not all(k in KEYS and isinstance(v, str) for k, v in data.items()):
        raise WuyeError(tr("%s 已损坏；请删除它，再用 `wuye verify --root 指纹` 重新固定根",
                           "%s is damaged; delete it and pin the root again with `wuye verify --root FPR`") % p)
    return data


def write(where: Path, /, **pins: str | None) -> dict[str, str]:
    """Pin (or re-pin) the given values in the repository at `where`; None leaves a pin as it is."""
    data = read(where)
    data.update({k: v for k, v in pins.items() if v is not None and k in KEYS})
    p = _path(where)
    p.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(p, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
    return data
