"""The office's own registers that belong to no tenant: staff training (培训与发展) and the
improvement actions taken on low satisfaction scores and complaints (评价与改进).

Training is kept per staff member in `training/<staff-id>.yaml`, outside `staff/`: the staff
files are part of the signed authority chain (who may sign what), and a course attended is no
authority; keeping it there would make every training entry an authority change signed by a
threshold of managers. Improvement actions are one register per year, `improvements/<year>.yaml`,
numbered IMP-<year>-<nnnn> across the store. Nothing here imports git, typer or rich.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from wuye.models.base import Entry, Record
from wuye.models.types import EntityId, OneLine, Reading, Text

Assessment = Literal["pass", "fail"]
ASSESSMENTS = {"pass": ("合格", "pass"), "fail": ("不合格", "fail")}
ImprovementStatus = Literal["open", "done", "verified"]
IMPROVEMENT_STATUSES = {"open": ("进行中", "open"), "done": ("已完成", "done"), "verified": ("已验证", "verified")}


class TrainingRecord(Entry):
    """培训记录: one course a staff member attended, with its assessment."""

    course: OneLine = Field(title="课程", description="培训课程名称", min_length=1)
    date: dt.date = Field(title="培训日期", description="培训日期")
    hours: Reading = Field(title="学时", description="培训学时（小时），可带小数，如 1.5")
    trainer: OneLine = Field(title="培训讲师", description="讲师或培训机构", min_length=1)
    assessment: Assessment = Field(title="考核结果", description="pass 合格；fail 不合格")
    score: int | None = Field(None, title="考核成绩", description="考核分数（0–100），可不填", ge=0, le=100)
    certificate: OneLine | None = Field(None, title="证书编号", description="结业证书或上岗证编号，可不填")

    @field_validator("hours")
    @classmethod
    def _positive(cls, v: Decimal):
        if v <= 0 or v > 24:
            raise ValueError("学时应大于 0 且不超过 24 / hours must be more than 0 and at most 24")
        return v


class TrainingFile(Record):
    """training/<staff-id>.yaml: one staff member's training record."""

    staff: EntityId = Field(title="员工编号", description="此培训档案所属员工（即文件名）")
    entries: list[TrainingRecord] = Field(default_factory=list, title="培训记录", description="按时间登记的培训")


class ImprovementAction(Entry):
    """改进措施: what will be done about a low satisfaction score or a complaint, by whom and when,
    and what came of it once done; management verifies the result (the loop closes there)."""

    ref: OneLine = Field(title="针对", description="低分或投诉的编号，如 TS-2026-0003、BX-2026-0007、T0006/SUP-0002")
    source: Literal["complaint", "repair", "survey"] = Field(title="来源", description="complaint 投诉；repair 报修回访；survey 满意度调查")
    tenant_id: EntityId | None = Field(None, title="租户", description="低分或投诉所属的租户")
    action: Text = Field(title="改进措施", description="将要做什么", min_length=1)
    owner: EntityId = Field(title="负责人", description="负责落实的员工编号")
    due: dt.date = Field(title="完成期限", description="应完成的日期")
    status: ImprovementStatus = Field("open", title="状态", description="open 进行中；done 已完成；verified 已验证")
    done_at: dt.datetime | None = Field(None, title="完成时间", description="落实完成的时间")
    done_by: EntityId | None = Field(None, title="完成人", description="登记完成的员工编号")
    result: Text | None = Field(None, title="落实结果", description="做了什么、效果如何")
    verified_at: dt.datetime | None = Field(None, title="验证时间", description="管理层验证的时间")
    verified_by: EntityId | None = Field(None, title="验证人", description="验证的管理层员工编号")
    verification: Text | None = Field(None, title="验证意见", description="验证结论")

    @model_validator(mode="after")
    def _loop(self):
        if self.status in ("done", "verified") and (self.done_at is None or not self.result):
            raise ValueError("已完成的措施须有完成时间和结果 / a done action needs done_at and result")
        if self.status == "verified" and self.verified_at is None:
            raise ValueError("已验证的措施须有验证时间 / a verified action needs verified_at")
        return self


class ImprovementFile(Record):
    """improvements/<year>.yaml: the improvement actions opened in one year."""

    entries: list[ImprovementAction] = Field(default_factory=list, title="改进措施", description="当年登记的改进措施")
