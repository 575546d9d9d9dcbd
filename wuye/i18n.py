"""The two languages of wuye's messages.

Clerks read Chinese; `WUYE_LANG=en` switches every message to English. Each message is written
once, in both languages, where it is raised: `tr("找不到租户", "tenant not found")`. This keeps the
two texts side by side for reviewers and needs no catalogue files or gettext machinery.
"""

from __future__ import annotations

import os


def english() -> bool:
    return os.environ.get("WUYE_LANG", "").lower().startswith("en")


def tr(zh: str, en: str) -> str:
    """The message in the user's language (Chinese unless WUYE_LANG=en)."""
    return en if english() else zh
