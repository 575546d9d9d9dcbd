"""What the counter view needs to know about the categories, without importing pydantic.

`archive show` must start fast, so it reads field titles from the generated labels.json and the
category order and status names from here; models/archive.py keeps the one definition of the
models and a test checks that the two agree.
"""

from __future__ import annotations

from ..i18n import tr

CATEGORY_ORDER = (
    "profile", "payments", "renovation", "move_in", "supplement", "contacts",
    "emergency", "correspondence", "violations", "repairs", "complaints", "engineering",
)
SKIP_COLUMNS = frozenset({"recorded_by", "recorded_at", "documents"})
TENANT_STATUS = {"active": ("在租", "active"), "moving_out": ("迁出中", "moving out"), "moved_out": ("已迁出", "moved out")}


def status_label(status: str) -> str:
    zh, en = TENANT_STATUS.get(status, (status, status))
    return tr(zh, en)
