"""The move-out procedure as data, its cases, and the signed step entries.

`WorkflowFile` is `workflows/moveout.yaml`: each step's Chinese title, the departments that may
sign it, the steps it needs, and the fields it records, with types. `step_data_model` turns a
step's fields into a pydantic model, so the data of every signed entry is validated like any
record. `MoveOutCase` is a case's `case.yaml`; `StepEntry` is one signed sign-off, which is never
edited: a correction is a new revision that names the digest of the one it supersedes. A
cancellation (`CancelSpec`: who may withdraw a started move-out) is signed as an entry of the same
shape, `steps/cancel.yaml`, so it is verified by the same rules as every step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator

from wuye.models.base import Record
from wuye.models.ids import CASE_ID_PATTERN
from wuye.models.store import Department
from wuye.models.types import Count, EntityId, Money, Phone, Reading, SignedMoney, UnitLabel

FieldType = Literal["text", "int", "bool", "date", "datetime", "money", "signed_money", "reading", "phone", "choice", "list"]


class FieldSpec(Record):
    """One field a step records."""

    name: str = Field(title="字段名", description="英文 snake_case 字段名", pattern=r"^[a-z][a-z0-9_]{0,63}$")
    type: FieldType = Field(title="类型", description="text 文本；int 整数；bool 是否；date 日期；datetime 时间；money 金额；"
                            "signed_money 可为负的金额；reading 读数；phone 电话；choice 选项；list 列表")
    title: str = Field(title="中文名称", description="字段的中文名称", min_length=1)
    title_en: str | None = Field(None, title="英文名称", description="字段的英文名称")
    required: bool = Field(False, title="必填", description="是否必填")
    must_be: bool | None = Field(None, title="必须为", description="bool 字段须取的值（如 已关闭电闸 必须为 true）")
    blocks_when: bool | None = Field(None, title="记录为此值时暂停", description="bool 字段记录为此值时（如 消防设施完好 为 false），"
                                     "需要此步骤的步骤和放行都不能签字，直至更正的条目记录为另一值（moveout/blocks.py）")
    choices: list[str] | None = Field(None, title="选项", description="choice 字段的可选值")
    items: list["FieldSpec"] | None = Field(None, title="列表项字段", description="list 字段每一项的字段")


class StepSpec(Record):
    """One step of the procedure: who signs it, after which steps, recording what."""

    id: EntityId = Field(title="步骤编号", description="英文步骤编号，如 engineering_inspection")
    title: str = Field(title="中文名称", description="步骤的中文名称", min_length=1)
    title_en: str | None = Field(None, title="英文名称", description="步骤的英文名称")
    signers: list[Department] = Field(title="签字部门", description="可签此步骤的部门", min_length=1)
    needs: list[str] = Field(default_factory=list, title="前置步骤", description="须先签字的步骤")
    fields: list[FieldSpec] = Field(default_factory=list, title="记录字段", description="此步骤记录的字段")
    computed: bool = Field(False, title="由程序计算", description="内容由 wuye 计算（如财务结算），不能直接签字")
    closes: bool = Field(False, title="结案步骤", description="签字后结案：单元空置，租户已迁出")
    optional: bool = Field(False, title="按需签字", description="只在案件需要时签字（如退款支付、应补款收取），结案时不要求")
    deadline_hours: int | None = Field(None, title="办理时限（小时）", gt=0,
                                       description="前置步骤签字后（首个步骤：开案后）多少小时内应签字；"
                                       "`wuye todo` 据此标出超时的步骤。不填则不限时")


# The entry name of a cancellation (steps/cancel.yaml): no step of a workflow may take it.
CANCEL = "cancel"


class CancelSpec(Record):
    """Who may cancel a started move-out (撤销迁出: a tenant who renews after all). Leasing, which
    starts the move-out with its notice, and management by default; a building may change it."""

    signers: list[Department] = Field(["leasing", "management"], title="签字部门", description="可撤销迁出的部门", min_length=1)
    title: str = Field("撤销迁出", title="中文名称", description="撤销的中文名称", min_length=1)
    title_en: str | None = Field("Move-out cancelled", title="英文名称", description="撤销的英文名称")


# The entry names of an amendment of a closed case and of management's approval of it
# (steps/amendment.yaml, steps/amendment_approval.yaml, and the refund's payout
# steps/amendment_payout.yaml; moveout/amendment.py): no step may take them.
AMEND = "amendment"
APPROVE = "amendment_approval"
AMEND_PAYOUT = "amendment_payout"


class AmendSpec(Record):
    """Who may amend a closed case (结案后更正: a corrected statement, the difference a new item or a
    refund) and who approves it. Finance, which signs statements, or management amends; management
    approves, always a member other than the one who amended (moveout/amendment.py)."""

    signers: list[Department] = Field(["finance", "management"], title="更正签字部门", description="可签结案后更正的部门", min_length=1)
    approvers: list[Department] = Field(["management"], title="审批部门", description="可批准更正的部门（批准人不能是更正人本人）", min_length=1)
    title: str = Field("结案后更正", title="中文名称", description="更正的中文名称", min_length=1)
    title_en: str | None = Field("Amendment after closing", title="英文名称", description="更正的英文名称")


class WorkflowFile(Record):
    """workflows/moveout.yaml: the move-out procedure of this building."""

    workflow: Literal["moveout"] = Field(title="流程", description="流程名称")
    title: str = Field(title="中文名称", description="流程的中文名称")
    title_en: str | None = Field(None, title="英文名称", description="流程的英文名称")
    steps: list[StepSpec] = Field(title="步骤", description="流程的步骤", min_length=1)
    separate: list[list[EntityId]] = Field(default_factory=list, title="职责分离",
                                           description="每组中的步骤须由不同的人签字（如 [settlement, release]），兼任几个部门的人也不例外")
    cancel: CancelSpec = Field(default_factory=CancelSpec, title="撤销迁出",
                               description="谁可撤销已开案的迁出（结算签字之前）；未写时为租售部和管理层")
    amend: AmendSpec = Field(default_factory=AmendSpec, title="结案后更正",
                             description="谁可更正已结案案件的结算、谁批准；未写时财务部或管理层更正，管理层另一位成员批准")


class MoveOutCase(Record):
    """case.yaml: a move-out case. Its state is derived from its signed steps."""

    id: str = Field(title="案件编号", description="如 MO-2026-0003", pattern=CASE_ID_PATTERN)
    tenant_id: EntityId = Field(title="客户编号", description="迁出的租户")
    company: str = Field(title="公司名称", description="开案时的公司名称")
    units: list[UnitLabel] = Field(default_factory=list, title="房号", description="迁出的单元（房号照办公室写法）")
    units_kept: list[UnitLabel] = Field(default_factory=list, title="留租单元", description="部分迁出时租户继续租用的单元；空为整户迁出")
    opened_at: dt.datetime = Field(title="开案时间", description="开案时间")
    opened_by: EntityId = Field(title="开案人", description="开案员工")
    status: Literal["open", "closed", "cancelled"] = Field("open", title="状态", description="open 办理中；closed 已结案；cancelled 已撤销")
    closed_at: dt.datetime | None = Field(None, title="结案时间", description="放行结案的时间")
    cancelled_at: dt.datetime | None = Field(None, title="撤销时间", description="撤销迁出的时间（撤销条目 steps/cancel.yaml 签字之时）")


class StepAttachment(Record):
    """A file signed with a step (附件): the scan of the paper the tenant signed, a photo of a
    damage or of a meter. Under the tenant's attachments/moveout/<case>/ folder, pinned by its
    sha256, with the name, size and type it was taken with: all inside the signed bytes, so the
    signature is bound to this very file."""

    path: str = Field(title="文件", description="相对租户目录的路径，如 attachments/moveout/MO-2026-0003/签字页.jpg",
                      pattern=r"^attachments/moveout/[^/]+/[^/]+$")
    name: str = Field(title="原文件名", description="附件登记时的文件名", min_length=1)
    size: int = Field(title="大小（字节）", description="文件大小", ge=0)
    type: Literal["jpeg", "png", "pdf", "heic"] = Field(title="类型", description="按文件内容判断的类型")
    sha256: str = Field(title="SHA-256", description="文件内容的 SHA-256 十六进制摘要", pattern=r"^[0-9a-f]{64}$")


class StepEntry(Record):
    """A signed sign-off of one step of a case (steps/<step>.yaml, corrections <step>.N.yaml)."""

    case: str = Field(title="案件编号", description="所属案件", pattern=CASE_ID_PATTERN)
    tenant_id: EntityId = Field(title="客户编号", description="迁出的租户")
    step: EntityId = Field(title="步骤", description="步骤编号")
    revision: int = Field(1, title="版本", description="1 为首次签字，更正时递增", ge=1)
    supersedes: str | None = Field(None, title="更正的签字", description="被更正版本的摘要 sha256:…",
                                   pattern=r"^sha256:[0-9a-f]{64}$")
    needs: dict[str, str] = Field(default_factory=dict, title="前置签字", description="所依赖步骤签字的摘要")
    authority: int | None = Field(None, title="授权版本", description="签字时所依据的授权链版本（authority/<版本>.yaml）", ge=1)
    signer: EntityId = Field(title="签字人", description="签字员工编号")
    department: Department = Field(title="部门", description="签字人以哪个部门签字")
    signed_at: dt.datetime = Field(title="签字时间", description="签字时间，带时区")
    data: dict[str, Any] = Field(default_factory=dict, title="记录内容", description="步骤记录的字段")
    attachments: list[StepAttachment] | None = Field(None, title="附件", description="随此条目签字提交的文件（签字页扫描件、照片），各以 sha256 固定")
    seals: dict[str, str] | None = Field(None, title="封存", description="结案步骤或撤销：案件中其余每个条目的文件名及其摘要 sha256:…")
    signature: str | None = Field(None, title="签名", description="OpenSSH SSHSIG 签名（命名空间 wuye-step）")

    @field_validator("needs", "seals")
    @classmethod
    def _digests(cls, v, info):
        import re

        for step, digest in (v or {}).items():
            if not re.fullmatch(r"sha256:[0-9a-f]{64}", str(digest)):
                raise ValueError("%s.%s 不是 sha256 摘要 / is not a sha256 digest" % (info.field_name, step))
        return v


_TYPES: dict[str, Any] = {
    "text": str,
    "int": Count,
    "bool": bool,
    "date": dt.date,
    "datetime": dt.datetime,
    "money": Money,
    "signed_money": SignedMoney,
    "reading": Reading,
    "phone": Phone,
}


def step_data_model(spec: StepSpec | FieldSpec, name: str | None = None):
    """A pydantic model of a step's data (or of a list field's items), built from the spec."""
    from pydantic import create_model, model_validator

    fields: dict[str, Any] = {}
    for f in spec.fields if isinstance(spec, StepSpec) else spec.items or []:
        if f.type == "list":
            ann: Any = list[step_data_model(f, f"{name or 'Item'}_{f.name}")]
        elif f.type == "choice":
            ann = Literal[tuple(f.choices or [""])]
        elif f.type == "int":
            ann = Count  # within 2^53: the signed canonical JSON holds no larger integer
            fields[f.name] = (ann if f.required else ann | None, Field(... if f.required else None, title=f.title, ge=0))
            continue
        else:
            ann = _TYPES[f.type]
        default = ... if f.required else ([] if f.type == "list" else None)
        fields[f.name] = (ann if f.required or f.type == "list" else ann | None, Field(default, title=f.title))

    musts = {f.name: (f.must_be, f.title) for f in (spec.fields if isinstance(spec, StepSpec) else []) if f.must_be is not None}

    def _must(self):
        for fname, (value, title) in musts.items():
            if getattr(self, fname) is not None and getattr(self, fname) != value:
                raise ValueError("%s（%s）必须为 %s / must be %s" % (title, fname, str(value).lower(), str(value).lower()))
        return self

    validators = {"_must": model_validator(mode="after")(_must)} if musts else {}
    return create_model(name or f"StepData_{spec.id}", __base__=Record, __validators__=validators, **fields)
