"""Identifiers: the one rule for every id that can become part of a path.

Kept apart from the pydantic types so that look-ups and the signing module can check ids without
importing pydantic.
"""

from __future__ import annotations

import re

from wuye.i18n import tr

ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# A move-out case id (MO-2026-0003): the models' `pattern=` and every look-up by path use this one.
CASE_ID_PATTERN = r"^MO-\d{4}-\d{4,}$"


def check_id(value: str, what: str = "id") -> str:
    """Refuse anything that could escape its folder: only ASCII letters, digits, '_' and '-'."""
    if not isinstance(value, str) or not ID_RE.fullmatch(value):
        raise ValueError(
            tr(
                "%s %r 无效：只能用字母、数字、下划线和连字符，以字母或数字开头，最长 64 个字符",
                "%s %r is invalid: use only letters, digits, '_' and '-', starting with a letter or digit, at most 64 characters",
            ) % (what, value)
        )
    return value
