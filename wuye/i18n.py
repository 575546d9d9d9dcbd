"""The two languages of wuye's messages.

Clerks read Chinese; `WUYE_LANG=en` switches every message to English. Each message is written
once, in both languages, where it is raised: `tr("找不到租户", "tenant not found")`. This keeps the
two texts side by side for reviewers and needs no catalogue files or gettext machinery.
"""

from __future__ import annotations

import os
from contextlib import contextmanager


def english() -> bool:
    return os.environ.get("WUYE_LANG", "").lower().startswith("en")


def tr(zh: str, en: str) -> str:
    """The message in the user's language (Chinese unless WUYE_LANG=en)."""
    return en if english() else zh


@contextmanager
def language(lang: str):
    """Messages in `lang` ("zh" or "en") inside the block, the caller's setting put back after.
    For recomputing what was written in a language not recorded with it (a signed statement's
    item texts), once in each language."""
    before = os.environ.get("WUYE_LANG")
    os.environ["WUYE_LANG"] = lang
    try:
        yield
    finally:
        if before is None:
            del os.environ["WUYE_LANG"]
        else:
            os.environ["WUYE_LANG"] = before
