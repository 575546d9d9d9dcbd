"""The twelve archive categories as a registry, without importing pydantic.

A look-up at the counter must start fast, so the registry (number, file, Chinese and English
titles, list or one record, entry id prefix) lives here, and field titles come from the generated
labels.json; models/archive.py binds a pydantic model to each category (`entry_model(category)`; this
module never imports it). A test checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from wuye.i18n import tr


@dataclass(frozen=True)
class ArchiveCategory:
    """One of the twelve categories: its number, file, titles, shape and entry id prefix."""

    number: int
    key: str
    title: str  # 中文
    title_en: str
    is_list: bool
    prefix: str  # entry ids: PAY-0001

    @property
    def filename(self) -> str:
        return f"{self.key}.yaml"


# Who may write a category, where not everyone may: money is finance's (management may too).
WRITERS: dict[str, tuple[str, ...]] = {"payments": ("finance", "management")}

CATEGORIES: tuple[ArchiveCategory, ...] = (
    ArchiveCategory(1, "profile", "客户单位资料", "Company profile", False, ""),
    ArchiveCategory(2, "payments", "缴费记录（含押金）", "Payments and deposits", True, "PAY"),
    ArchiveCategory(3, "renovation", "装修工程文件", "Renovation files", True, "REN"),
    ArchiveCategory(4, "move_in", "迁入资料", "Move-in record", False, ""),
    ArchiveCategory(5, "supplement", "客户资料补充", "Supplementary information", True, "SUP"),
    ArchiveCategory(6, "contacts", "客户联络资料", "Contacts", True, "CON"),
    ArchiveCategory(7, "emergency", "紧急事故联络人", "Emergency contacts", True, "EMG"),
    ArchiveCategory(8, "correspondence", "与管理处往来文件", "Correspondence", True, "COR"),
    ArchiveCategory(9, "violations", "违规事项与欠费记录", "Violations and arrears", True, "VIO"),
    ArchiveCategory(10, "repairs", "维修记录", "Repairs", True, "REP"),
    ArchiveCategory(11, "complaints", "投诉记录", "Complaints", True, "CMP"),
    ArchiveCategory(12, "engineering", "工程档案（二次装修）", "Engineering files", True, "ENG"),
)
BY_KEY = {c.key: c for c in CATEGORIES}
CATEGORY_ORDER = tuple(c.key for c in CATEGORIES)
# Columns left out of the counter's tables: bookkeeping, attachments, and a service record's
# history (shown by `wuye complaint show` / `wuye repair show`).
SKIP_COLUMNS = frozenset({"recorded_by", "recorded_at", "documents", "history", "seal", "closed_by"})
TENANT_STATUS = {"active": ("在租", "active"), "moving_out": ("迁出中", "moving out"), "moved_out": ("已迁出", "moved out")}
TENANT_STATUS_ZH = {k: zh for k, (zh, _) in TENANT_STATUS.items()}


def status_label(status: str) -> str:
    zh, en = TENANT_STATUS.get(status, (status, status))
    return tr(zh, en)
