"""Base classes of every stored record.

Records forbid unknown keys (a typo in a hand edit is an error, not silently dropped) and strip
stray spaces. List entries carry who recorded them and when; one-record categories carry who last
updated them and when. Nothing here imports git, typer or rich.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from wuye.models.types import EntityId, check_stored_text


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_default=False, defer_build=True)

    # Every text of every record, whichever way it came (a file, --set, an import): no control
    # characters, so nothing stored can move a terminal's cursor or retitle its window.
    _no_controls = field_validator("*")(classmethod(lambda cls, v: check_stored_text(v)))


class Entry(Record):
    """One entry of a list category (an append-only line of the dossier)."""

    id: EntityId | None = Field(None, title="编号", description="条目编号，在本文件内唯一；新增时自动分配")
    recorded_by: EntityId | None = Field(None, title="记录人", description="录入此条的员工编号（自动填写）")
    recorded_at: dt.datetime | None = Field(None, title="记录时间", description="录入时间，带时区（自动填写）")


class SingleRecord(Record):
    """A one-record category: fields are updated in place, the last editor is kept."""

    updated_by: EntityId | None = Field(None, title="更新人", description="最后更新此档案的员工编号（自动填写）")
    updated_at: dt.datetime | None = Field(None, title="更新时间", description="最后更新时间，带时区（自动填写）")


class Attachment(Record):
    """A scan or drawing under the tenant's attachments/ folder, pinned by its sha256."""

    path: str = Field(title="文件", description="相对租户目录的路径，如 attachments/合同.pdf")
    sha256: str = Field(title="SHA-256", description="文件内容的 SHA-256 十六进制摘要", pattern=r"^[0-9a-f]{64}$")
    title: str | None = Field(None, title="名称", description="文件说明")
