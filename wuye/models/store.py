"""The store's own records: the building settings (wuye.yaml), units (房号) and staff.

Departments are fixed by the regulations (租售部, 客服部, 工程部, 财务部, 保安部, plus management);
each has an English id used in commands and a Chinese name used on screen.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from wuye.models.base import Record
from wuye.models.types import EntityId, Money, OneLine, Reading, UnitLabel
from wuye.models.zones import zone

Department = Literal["leasing", "customer_service", "engineering", "finance", "security", "management"]
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "leasing": ("租售部", "Leasing"),
    "customer_service": ("客服部", "Customer service"),
    "engineering": ("工程部", "Engineering"),
    "finance": ("财务部", "Finance"),
    "security": ("保安部", "Security"),
    "management": ("管理层", "Management"),
}


class Building(Record):
    name: str = Field(title="大厦名称", description="大厦或项目名称", min_length=1)
    address: str | None = Field(None, title="地址", description="大厦地址")
    management_office: str | None = Field(None, title="管理处", description="管理处名称")


class Fees(Record):
    """Charges for what a tenant does not hand back at move-out, per item."""

    access_card: Money = Field(Decimal("50.00"), title="出入证工本费", description="每张未交回出入证的费用（元）")
    unit_key: Money = Field(Decimal("100.00"), title="单元钥匙费", description="每把未交回单元钥匙的费用（元）")
    customer_card: Money = Field(Decimal("20.00"), title="客户卡工本费", description="每张未交回客户卡的费用（元）")
    parking_card: Money = Field(Decimal("100.00"), title="停车卡工本费", description="每张未交回停车卡的费用（元）")
    parking_lock_key: Money = Field(Decimal("50.00"), title="车位锁钥匙费", description="每把未交回车位锁钥匙的费用（元）")
    extinguisher: Money = Field(Decimal("200.00"), title="灭火器赔偿", description="每具未退回租用灭火器的赔偿（元）")


class Rates(Record):
    """Utility rates for the final meter readings."""

    electricity: Reading = Field(Decimal("1.20"), title="电价", description="元/度")
    water: Reading = Field(Decimal("5.80"), title="水价", description="元/吨")


class TimeLimits(Record):
    """Service time limits in hours (used by the service desk and its reports)."""

    complaint_response_hours: int = Field(24, title="投诉回复时限（小时）", description="受理后多少小时内须回复", ge=1)
    complaint_resolution_hours: int = Field(168, title="投诉处理时限（小时）", description="受理后多少小时内须处理完毕", ge=1)
    repair_response_hours: int = Field(24, title="报修响应时限（小时）", description="普通报修多少小时内派工", ge=1)
    urgent_repair_response_hours: int = Field(2, title="紧急报修响应时限（小时）", description="紧急报修多少小时内派工", ge=1)
    repair_resolution_hours: int = Field(72, title="报修完成时限（小时）", description="报修后多少小时内完成", ge=1)


class TrainingPolicy(Record):
    """What the office asks of its staff's training each calendar year (培训与发展: 定期对客服人员
    进行专业培训). A staff member of one of `departments` is due while their hours of the year are
    below `yearly_hours`, or while a course of `required_courses` has no passed record that year."""

    yearly_hours: Reading = Field(Decimal("16"), title="年度最低学时", description="每人每年至少的培训学时（小时）")
    required_courses: list[OneLine] = Field(default_factory=list, title="必修课程", description="每人每年须考核合格的课程名称")
    departments: list[Department] = Field(default_factory=lambda: ["customer_service"], title="适用部门",
                                          description="要求培训的部门（默认客服部）")


class Reminders(Record):
    """How far ahead the office is reminded of what is coming."""

    lease_expiry_days: int = Field(90, title="租约到期提醒（天）", description="租期结束前多少天起提醒租售部", ge=1, le=3650)


Proration = Literal["none", "day", "half_month"]


class MoveOutRules(Record):
    """How a move-out is judged: the fee of the period it falls in, and the notice it needs."""

    # Part of the authority with the fees and rates (trust/authority.py): it changes what a signed
    # statement says. A store written before this key has none, which settles as it always did.
    proration: Proration = Field("none", title="当期费用折算",
                                 description="迁出日期所在期间的费用如何折算：day 按日；half_month 按半月（每月 1-15 日为前半月）；"
                                 "none 不折算（整期计收）")
    notice_days: int = Field(30, title="提前通知天数",
                             description="计划迁出日期至少在申请退租日期之后多少天；不足或已过，须由经办人以 --short-notice 说明理由确认；0 不检查",
                             ge=0, le=366)


class ChargeRules(Record):
    """Finance's rule for amounts charged outside the periodic fees (desk/charges.py)."""

    repair_due_days: int = Field(30, title="维修费缴纳期限（天）", description="向客户收费的维修，完工后多少天内缴纳", ge=0, le=366)


class StoreConfig(Record):
    """wuye.yaml: the building, its fees and rates, and settings."""

    wuye: int = Field(1, title="格式版本", description="wuye.yaml 的格式版本", ge=1, le=1)
    building: Building = Field(title="大厦", description="大厦信息")
    fees: Fees = Field(default_factory=Fees, title="收费标准", description="迁出时未交回物品的收费")
    rates: Rates = Field(default_factory=Rates, title="水电单价", description="结算水电费用的单价")
    limits: TimeLimits = Field(default_factory=TimeLimits, title="服务时限", description="投诉和报修的时限")
    training: TrainingPolicy = Field(default_factory=TrainingPolicy, title="培训要求", description="员工年度培训的要求")
    reminders: Reminders = Field(default_factory=Reminders, title="提醒", description="租约到期等提醒的提前天数")
    moveout: MoveOutRules = Field(default_factory=MoveOutRules, title="迁出规则", description="当期费用折算和提前通知天数")
    charges: ChargeRules = Field(default_factory=ChargeRules, title="收费规则", description="有偿维修等的缴纳期限")
    timezone: str = Field("+08:00", title="时区", description="记录时间使用的时区偏移", pattern=r"^[+-]\d{2}:\d{2}$")
    # The central repository refuses a larger attachment (storage/allowlist.py): a scan is a few MiB,
    # and every office's clone carries every byte pushed, for ever.
    attachment_max_mib: int = Field(20, title="附件大小上限（MiB）", description="单个附件的最大大小；中央仓库拒收更大的附件",
                                    ge=1, le=1024)

    def tz(self) -> dt.timezone:
        return _zone(self.timezone)


def _zone(text: str) -> dt.timezone:
    """The zone of a `+08:00`, the one object of its offset (models/zones.py says why)."""
    sign = 1 if text[0] == "+" else -1
    h, m = int(text[1:3]), int(text[4:6])
    return zone(sign * dt.timedelta(hours=h, minutes=m))


class UnitMeters(Record):
    electricity: str | None = Field(None, title="电表号", description="电表编号")
    water: str | None = Field(None, title="水表号", description="水表编号")


class Unit(Record):
    """A unit (房号) of the building."""

    id: EntityId = Field(title="房号", description="单元编号即文件名：房号本身可作文件名时就是房号，否则由房号生成（ids.unit_id），不作显示")
    label: UnitLabel | None = Field(None, title="房号写法", description="照办公室写法的房号，如 A座801；缺省即单元编号")
    floor: int | None = Field(None, title="楼层", description="所在楼层")
    area: Reading | None = Field(None, title="面积", description="建筑面积（平方米）")
    meters: UnitMeters = Field(default_factory=UnitMeters, title="表计", description="水电表编号")
    status: Literal["leased", "vacant"] = Field("vacant", title="房态", description="leased 在租；vacant 空置")
    tenant: EntityId | None = Field(None, title="租户", description="在租时的客户编号")

    @classmethod
    def of(cls, label: str, **fields) -> "Unit":
        """The unit of a 房号 as entered, under its derived file name."""
        from wuye.models.ids import unit_id

        uid = unit_id(label)
        return cls(id=uid, label=None if label == uid else label, **fields)

    def file_data(self) -> dict:
        """What its file holds: `label` only when the 房号 differs from the file name."""
        data = self.model_dump()
        if data.get("label") is None:
            data.pop("label", None)
        return data

    @property
    def shown(self) -> str:
        """The 房号 as the office wrote it (a unit written before free-text 房号 has only its id)."""
        return self.label or self.id


class StaffKey(Record):
    """One signing key of a staff member and the time it is valid in.

    A staff member keeps every key they ever had: rotating or revoking a key ends its window,
    and the signatures made inside that window stay valid years later.
    """

    public_key: str = Field(title="公钥", description="OpenSSH ed25519 公钥", pattern=r"^ssh-ed25519 [A-Za-z0-9+/=]+( .*)?$")
    valid_from: dt.datetime = Field(title="生效时间", description="公钥开始生效的时间，带时区")
    revoked_at: dt.datetime | None = Field(None, title="吊销时间", description="公钥吊销的时间，带时区；之后的签名无效")

    @field_validator("valid_from", "revoked_at")
    @classmethod
    def _aware(cls, v):
        if v is not None and v.tzinfo is None:
            raise ValueError("时间须带时区，如 2026-11-27T09:00:00+08:00 / a time needs its offset")
        return v

    def valid_at(self, when: dt.datetime) -> bool:
        return self.valid_from <= when and (self.revoked_at is None or when < self.revoked_at)


class Staff(Record):
    """A staff member who may act in the store, with the keys their signatures verify against."""

    id: EntityId = Field(title="员工编号", description="员工编号，也是签名的主体名（principal）")
    name: OneLine = Field(title="姓名", description="员工姓名", min_length=1)
    departments: list[Department] = Field(title="部门", description="所属部门，可多个", min_length=1)
    email: str | None = Field(None, title="电子邮件", description="电子邮件，用作 git 提交的作者邮箱")
    keys: list[StaffKey] = Field(default_factory=list, title="签名密钥", description="历来的签名公钥及其有效期；无密钥者不能签字")
    revoked_at: dt.datetime | None = Field(None, title="停用时间", description="员工停用（离职）的时间；之后不能再操作")

    @field_validator("name")
    @classmethod
    def _git_ident(cls, v):
        # The name is the git author of every commit this person makes; git drops < and > from
        # an author name silently, so the log would not show the name in staff/.
        if "<" in v or ">" in v:
            raise ValueError("姓名不能含 < 或 > / a name cannot contain < or >")
        return v

    @field_validator("departments")
    @classmethod
    def _no_duplicates(cls, v):
        return list(dict.fromkeys(v))

    def author_email(self) -> str:
        return self.email or f"{self.id}@wuye.invalid"

    def current_key(self) -> StaffKey | None:
        live = [k for k in self.keys if k.revoked_at is None]
        return live[-1] if live else None

    def key_for(self, public_key: str, when: dt.datetime) -> StaffKey | None:
        """The key with this public key that was valid at `when`, if any."""
        blob = public_key.split()[:2]
        for k in self.keys:
            if k.public_key.split()[:2] == blob and k.valid_at(when):
                return k
        return None
