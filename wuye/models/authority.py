"""The authority of a store, as signed records: who may sign what, and the money settings in force.

`authority/<version>.yaml` is one version of the store's authority (trust/authority.py writes and
checks them): every staff member with their departments and keys, the management threshold, the
digest of the move-out workflow file and the fees, rates and proration rule a settlement uses. Each version names
the digest of the one before (a hash chain from the root written at `wuye init`) and carries the
signatures of `threshold` managers of the previous version, as TUF root metadata does. A proposal
(`authority/proposals/<version>.yaml`) is a version still short of signatures, with the files it
will write once approved.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from wuye.models.base import Record
from wuye.models.store import Department, Fees, Proration, Rates, StaffKey
from wuye.models.types import EntityId, OneLine

DIGEST = r"^sha256:[0-9a-f]{64}$"
Change = Literal["init", "staff.add", "staff.departments", "key.issue", "key.rotate", "staff.revoke",
                 "settings", "threshold"]


class Member(Record):
    """A staff member as the authority knows them (the signed twin of staff/<id>.yaml)."""

    name: OneLine = Field(title="姓名", description="员工姓名", min_length=1)
    departments: list[Department] = Field(title="部门", description="所属部门", min_length=1)
    email: str | None = Field(None, title="电子邮件", description="git 提交的作者邮箱")
    keys: list[StaffKey] = Field(default_factory=list, title="签名密钥", description="历来的公钥及有效期")
    revoked_at: dt.datetime | None = Field(None, title="停用时间", description="员工停用的时间")


class Signature(Record):
    signer: EntityId = Field(title="签名人", description="签署此版本的管理层员工编号")
    signature: str = Field(title="签名", description="OpenSSH SSHSIG 签名（命名空间 wuye-authority）")


class AuthorityRecord(Record):
    """authority/<version>.yaml: one version of who may sign what."""

    authority: int = Field(title="版本", description="授权记录的版本号，从 1 起逐一递增", ge=1)
    previous: str | None = Field(None, title="上一版本摘要", description="上一版本（不含签名）的 sha256 摘要", pattern=DIGEST)
    made_at: dt.datetime = Field(title="时间", description="提出此版本的时间，带时区")
    made_by: EntityId = Field(title="提出人", description="提出此版本的员工编号")
    change: Change = Field(title="变更", description="此版本改了什么")
    subject: EntityId | None = Field(None, title="对象", description="变更涉及的员工编号")
    threshold: int = Field(1, title="签名门槛", description="下一版本须有几位管理层签名", ge=1)
    staff: dict[EntityId, Member] = Field(default_factory=dict, title="员工", description="全部员工及其部门、密钥")
    workflow: str = Field(title="流程摘要", description="workflows/moveout.yaml 文件内容的 sha256 摘要", pattern=DIGEST)
    fees: Fees = Field(title="收费标准", description="迁出结算所用的收费标准")
    rates: Rates = Field(title="水电单价", description="迁出结算所用的水电单价")
    # Absent from versions signed before proration existed: they settle whole periods.
    proration: Proration = Field("none", title="当期费用折算", description="迁出结算所用的折算规则（wuye.yaml 的 moveout.proration）：day 按日；half_month 按半月；none 不折算")
    signatures: list[Signature] = Field(default_factory=list, title="签名", description="管理层对此版本的签名")

    @field_validator("made_at")
    @classmethod
    def _aware(cls, v):
        if v.tzinfo is None:
            raise ValueError("时间须带时区 / a time needs its offset")
        return v


class Proposal(Record):
    """authority/proposals/<version>.yaml: a version waiting for more managers' signatures, and the
    files (path → text) that approving it writes."""

    record: AuthorityRecord = Field(title="授权版本", description="待批准的授权版本（含已有签名）")
    files: dict[str, str] = Field(default_factory=dict, title="文件", description="批准后写入的文件及内容")
