"""Identifiers: the one rule for every id that can become part of a path.

Kept apart from the pydantic types so that look-ups and the signing module can check ids without
importing pydantic.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

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


# --- units (房号) as offices write them ------------------------------------------------------
# A 房号 is free text (A座801, 3号楼2单元501室, 地下二层P-036); its file under units/ is named by
# unit_id(), which is safe as a path and the same for every way of typing the same 房号.


UNIT_MAX = 64


def unit_key(label: str) -> str:
    """A 房号 as matched: NFKC (full-width ８０１ is 801), spaces dropped, upper case."""
    return "".join(unicodedata.normalize("NFKC", str(label)).split()).upper()


def check_unit(label: str) -> str:
    """A 房号 as entered, refused only when empty, multi-line or too long (it is never a path)."""
    # '/', '\\' and control characters are refused although a 房号 never becomes a path: a
    # 房号 like ../1205 is a slip, not how an office writes a unit.
    if (not isinstance(label, str) or not unit_key(label) or len(label.strip()) > UNIT_MAX
            or any(ch in "/\\" or unicodedata.category(ch)[0] == "C" for ch in label)
            or not label.strip().strip(".")):  # '.' and '..' are path parts, not units
        raise ValueError(tr("房号 %r 无效：应为一行文字，1 到 %d 个字符，不含 / 和 \\", "unit %r is invalid: one line of 1 to %d characters, without / or \\")
                         % (label, UNIT_MAX))
    return label.strip()


def unit_id(label: str) -> str:
    """The file name (without .yaml) of a unit: the 房号 itself when it is already a safe id
    (1205, B1-1203), else its ASCII letters and digits and a short hash of the matched form
    (A座801 -> A-801-…), so two 房号 never share a file and nothing unsafe becomes a path."""
    plain = "".join(unicodedata.normalize("NFKC", check_unit(label)).split())
    if ID_RE.fullmatch(plain):
        return plain  # 1205 stays units/1205.yaml, as stores written before free-text 房号 have it
    key = unit_key(label)
    ascii_parts = re.findall(r"[A-Za-z0-9]+", key)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    stem = "-".join(ascii_parts)[:40]
    return f"{stem}-{digest}" if stem else f"U-{digest}"
