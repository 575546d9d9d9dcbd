"""The twelve archive categories of a tenant's dossier (客户档案, 第4篇).

One pydantic model per category, one YAML file per category in `tenants/<id>/`. `profile` and
`move_in` hold one record; the other ten are lists of dated entries (`entries:`). `CATEGORIES`
is the one registry the rest of wuye reads: file name, Chinese title, model, and whether it is a
list. The Chinese title of every field is its schema title, so the JSON Schemas and the screen
speak the regulations' words.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_serializer, model_validator

from wuye.models.archive_meta import BY_KEY, CATEGORIES, TENANT_STATUS_ZH, ArchiveCategory  # noqa: F401 (re-exported)
from wuye.models.base import Attachment, Entry, Record, SingleRecord
from wuye.models.store import Department
from wuye.models.types import USCC, Count, EntityId, IdCardNumber, Money, OneLine, Phone, Reading, UnitLabel

TenantStatus = Literal["active", "moving_out", "moved_out"]

# How far past now a time that records something done may lie: a day absorbs clocks that
# disagree and a time written without its offset (read here as UTC) in any zone, and still
# catches the typed-wrong year (2062 for 2026). Judged against the moment of validation, so a
# record accepted once is never refused later.
_SLACK = dt.timedelta(days=1)
# A move-in may be recorded before the day itself, but not years ahead.
_MOVE_IN_AHEAD = dt.timedelta(days=366)


def _in_future(value: dt.date | dt.datetime, ahead: dt.timedelta = _SLACK) -> bool:
    limit = dt.datetime.now(dt.timezone.utc) + ahead
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)) > limit
    return value > limit.date()


def _happened(value):
    """A time or date that records something done: not in the future."""
    if value is not None and _in_future(value):
        raise ValueError("%s 在将来；只能记录已经发生的事 / %s is in the future; record only what has happened"
                         % (value.isoformat(), value.isoformat()))
    return value


# 1 客户单位资料
class Profile(SingleRecord):
    """客户单位资料: who the tenant is."""

    tenant_id: EntityId = Field(title="客户编号", description="租户在本楼的编号，即目录名")
    name: OneLine = Field(title="公司名称", description="客户单位全称", min_length=1, max_length=200)
    uscc: USCC | None = Field(None, title="统一社会信用代码", description="18 位统一社会信用代码")
    legal_rep: OneLine | None = Field(None, title="法定代表人", description="法定代表人姓名")
    legal_rep_id: IdCardNumber | None = Field(None, title="法定代表人身份证号", description="18 位居民身份证号")
    nature: str | None = Field(None, title="公司性质", description="如 有限责任公司、外商独资、个体工商户")
    industry: str | None = Field(None, title="行业", description="所属行业")
    headcount: Count | None = Field(None, title="人员数", description="在本楼办公的人数", ge=0)
    staff_composition: str | None = Field(None, title="人员构成", description="人员构成说明，如 管理 5 人、技术 20 人")
    units: list[UnitLabel] = Field(default_factory=list, title="房号", description="所租单元的房号，照办公室的写法，如 A座801")
    lease_start: dt.date | None = Field(None, title="租期开始", description="租赁合同开始日期")
    lease_end: dt.date | None = Field(None, title="租期结束", description="租赁合同结束日期")
    phone: Phone | None = Field(None, title="总机电话", description="客户单位总机或前台电话")
    email: str | None = Field(None, title="电子邮件", description="客户单位的电子邮件")
    status: TenantStatus = Field("active", title="状态", description="active 在租；moving_out 迁出中；moved_out 已迁出")
    pinyin: str | None = Field(None, title="拼音首字母", description="公司名称的拼音首字母，供柜台检索（自动生成）")

    @model_validator(mode="after")
    def _lease_order(self):
        if self.lease_start and self.lease_end and self.lease_end < self.lease_start:
            raise ValueError("租期结束早于租期开始 / lease_end is before lease_start")
        return self


# 2 缴费记录（含押金）: the tenant's one receivables ledger. Every amount owed is one `fee` item
# here (a fee, a utility bill with the reading it was billed up to, a fine, a repair charged to the
# tenant, a damage, a move-out balance due), naming the record it came from in `source`; what was
# received against it is its `paid`. Arrears are derived from the open items: a violation record
# about unpaid money points at its item (`Violation.item`) and is never money a second time. The
# ledger is this category and not a new one because it is the regulations' 缴费记录 and already
# holds the deposits, which a settlement weighs against the same items.
LedgerSource = Literal["fee", "utility", "fine", "repair", "damage", "settlement", "other"]


class MoneySeal(Record):
    """Who answers for a ledger item as it stands: an SSHSIG signature (namespace `wuye-money`)
    over the item's canonical bytes, made under an authority version by a member who may handle
    money (trust/money.py). Anyone with write access can edit YAML; no one can seal it for finance."""

    by: EntityId = Field(title="签章人", description="签章员工编号")
    at: dt.datetime = Field(title="签章时间", description="签章时间，带时区")
    authority: int = Field(title="授权版本", description="签章所依据的授权链版本", ge=1)
    signature: str = Field(title="签名", description="OpenSSH SSHSIG 签名（wuye-money）", min_length=1)


class ClosedBy(Record):
    """What a move-out's closing changed in a sealed item (paid in the statement, deposit refunded
    or forfeited), with the values it had: verify restores them to check the seal, and checks the
    change against the case's signed statement."""

    case: str = Field(title="迁出案件", description="结清此项的迁出案件编号", pattern=r"^MO-\d{4}-\d{4}$")
    before: dict[str, bool | int | str | None] = Field(default_factory=dict, title="结清前",
                                          description="结清前的取值（缺项为空）")


class Payment(Entry):
    """缴费记录: an amount owed for a period (and what was paid against it), or a deposit held."""

    kind: Literal["fee", "deposit"] = Field(title="类别", description="fee 费用；deposit 押金")
    item: str = Field(title="项目", description="如 物业管理费、租金、水电费、租赁押金、装修押金", min_length=1)
    period: str | None = Field(None, title="所属期间", description="费用所属期间，如 2026-10（月）、2026-Q4（季）、2026-H2（半年）或 2026（年）",
                               pattern=r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4]|-H[12])?$")
    amount: Money = Field(title="金额", description="应收金额或押金金额（元，两位小数）")
    paid: Money = Field(default=0, title="已付", description="已收金额（元）；押金为实收金额", validate_default=True)
    due_date: dt.date | None = Field(None, title="应缴日期", description="费用的最后缴纳日期")
    paid_on: dt.date | None = Field(None, title="缴费日期", description="实际缴费日期")
    deposit_status: Literal["held", "refunded", "forfeited"] | None = Field(
        None, title="押金状态", description="held 持有；refunded 已退；forfeited 没收（仅押金）")
    receipt_no: str | None = Field(None, title="收据号", description="收据或发票号码")
    source: LedgerSource = Field("fee", title="来源类别", description="fee 费用；utility 水电费；fine 罚款；repair 维修费；damage 损坏赔偿；settlement 迁出结算应补；other 其他")
    source_ref: str | None = Field(None, title="来源记录", description="产生此笔应收的记录，如 violations.yaml#VIO-0002、repairs.yaml#REP-0001、MO-2026-0001")
    unit: UnitLabel | None = Field(None, title="所属单元", description="此笔费用或押金所属的单元（房号）；租户租有多个单元时，部分迁出只结算所迁单元的款项")
    space: str | None = Field(None, title="车位", description="此笔费用所属的车位（move_in.yaml 的车位租约）；按车位租约的终止日折算")
    meter: Literal["electricity", "water"] | None = Field(None, title="表计", description="水电费账单所计的表：electricity 电表；water 水表")
    reading: Reading | None = Field(None, title="计费止度", description="水电费账单计费到的读数；迁出结算从最后计费的读数起算")
    written_off: bool = Field(False, title="已核销", description="经管理层批准核销（不再追收）")
    note: str | None = Field(None, title="备注", description="备注")
    seal: MoneySeal | None = Field(None, title="签章", description="财务（或管理层）对此项的签章（自动填写）")
    closed_by: ClosedBy | None = Field(None, title="迁出结清", description="迁出结算结清此项时的记录（自动填写）")

    _paid_on = field_validator("paid_on")(_happened)

    @model_validator(mode="after")
    def _deposit_fields(self):
        if self.kind == "deposit" and self.deposit_status is None:
            self.deposit_status = "held"
        if self.kind == "fee" and self.deposit_status is not None:
            raise ValueError("费用条目不能有押金状态 / deposit_status is only for deposits")
        if (self.meter is None) != (self.reading is None):
            raise ValueError("水电费账单须同时写表计（meter）和计费止度（reading） / a utility bill needs both meter and reading")
        return self

    @property
    def unpaid(self):
        """What is still owed on this item: nothing on a deposit or an item written off."""
        if self.kind != "fee" or self.written_off:
            return 0
        return max(self.amount - self.paid, 0)


# 3 装修工程文件
class Renovation(Entry):
    """装修工程文件: a fit-out project, its approval, deposit and acceptance."""

    project: str = Field(title="工程名称", description="装修工程名称或内容", min_length=1)
    contractor: str | None = Field(None, title="施工单位", description="装修施工单位")
    contractor_phone: Phone | None = Field(None, title="施工单位电话", description="施工负责人电话")
    applied_on: dt.date | None = Field(None, title="申请日期", description="装修申请日期")
    approved_on: dt.date | None = Field(None, title="批准日期", description="管理处批准日期")
    approved_by: EntityId | None = Field(None, title="批准人", description="批准的员工编号")
    deposit: Money | None = Field(None, title="装修押金", description="装修押金金额（押金本身记在缴费记录中）")
    start: dt.date | None = Field(None, title="开工日期", description="开工日期")
    end: dt.date | None = Field(None, title="完工日期", description="完工日期")
    accepted_on: dt.date | None = Field(None, title="验收日期", description="竣工验收日期")
    acceptance: Literal["passed", "failed", "pending"] | None = Field(None, title="验收结果", description="passed 通过；failed 不通过；pending 待验收")
    documents: list[Attachment] = Field(default_factory=list, title="文件", description="图纸、批文等附件")
    note: str | None = Field(None, title="备注", description="备注")

    _done = field_validator("approved_on", "accepted_on")(_happened)


class MeterReadings(Record):
    electricity: Reading | None = Field(None, title="电表读数", description="电表读数（度）")
    water: Reading | None = Field(None, title="水表读数", description="水表读数（吨）")


class MeterChange(Record):
    """换表: a meter replaced during the lease. The old meter's last reading closes what it
    measured; the new one counts on from its own first reading (the settlement bills both)."""

    meter: Literal["electricity", "water"] = Field(title="表计", description="electricity 电表；water 水表")
    date: dt.date = Field(title="换表日期", description="换表的日期")
    old_final: Reading = Field(title="旧表止度", description="拆下的旧表最后读数")
    new_start: Reading = Field(title="新表起度", description="装上的新表起始读数")
    note: str | None = Field(None, title="备注", description="如 表计故障更换、新表表号")


# 4 迁入时填具之资料
class UnitIssue(Record):
    """What one unit of a tenant with several received at move-in: a partial move-out (one unit
    of two) counts the cards and keys handed back against these, not against the tenant's totals."""

    unit: UnitLabel = Field(title="房号", description="单元的房号")
    access_cards_issued: Count = Field(0, title="出入证发放数", description="为此单元发放的出入证数量", ge=0)
    keys_issued: Count = Field(0, title="单元钥匙发放数", description="此单元的门钥匙数量", ge=0)
    customer_cards_issued: Count = Field(0, title="客户卡发放数", description="为此单元发放的客户卡数量", ge=0)
    extinguishers_rented: Count = Field(0, title="租用灭火器数", description="此单元租用的灭火器数量", ge=0)
    meter_readings: MeterReadings = Field(default_factory=MeterReadings, title="迁入表底", description="此单元的水电表迁入读数")


class ParkingLease(Record):
    """车位租约: a parking space rented as a lease of its own, ended at a move-out's handover or
    on its own (`wuye parking end`). A settlement prorates the space's ledger items to its end."""

    space: OneLine = Field(title="车位", description="车位编号，如 B2-017", min_length=1, max_length=64)
    unit: UnitLabel | None = Field(None, title="随租单元", description="车位随哪个单元租用；空为随租户（租户最后迁出时退租）")
    start: dt.date | None = Field(None, title="起租日期", description="车位租约开始日期")
    end: dt.date | None = Field(None, title="租约到期", description="车位租约约定的结束日期")
    monthly_fee: Money | None = Field(None, title="月租金", description="车位每月租金（元）")
    ended_on: dt.date | None = Field(None, title="退租日期", description="车位实际退租的日期")
    ended_by: EntityId | None = Field(None, title="办理人", description="办理车位退租的员工")
    PLAIN_ID: ClassVar[str] = "space"  # written as this field alone when nothing else is known

    settled_case: str | None = Field(None, title="结算案件", description="结算了此车位租约的迁出案件（结案时写入）；之后的案件不再结算")

    @model_validator(mode="before")
    @classmethod
    def _plain_id(cls, v):
        # Stores from before parking leases list the spaces as plain ids: `- B2-017`.
        return {"space": v} if isinstance(v, str) else v

    @model_serializer(mode="wrap")
    def _as_id(self, handler):
        # A lease that says nothing but its space is written as the plain id it was read from.
        data = handler(self)
        return data["space"] if isinstance(data, dict) and all(v is None for k, v in data.items() if k != "space") else data


class MoveIn(SingleRecord):
    """迁入资料: what the tenant received when moving in (counted again at move-out)."""

    move_in_date: dt.date | None = Field(None, title="迁入日期", description="客户迁入日期")
    access_cards_issued: Count = Field(0, title="出入证发放数", description="发放的出入证数量", ge=0)
    keys_issued: Count = Field(0, title="单元钥匙发放数", description="发放的单元门钥匙数量", ge=0)
    customer_cards_issued: Count = Field(0, title="客户卡发放数", description="发放的客户卡数量", ge=0)
    per_unit: list[UnitIssue] = Field(default_factory=list, title="按单元发放", description="租有多个单元时，各单元发放的钥匙、证卡与表底（部分迁出按单元清点）")
    parking_spaces: list[ParkingLease] = Field(default_factory=list, title="车位", description="所租车位：每个车位一份租约（旧档案只写车位编号，读作一份没有日期的租约）")
    parking_cards_issued: Count = Field(0, title="停车卡发放数", description="发放的停车卡数量", ge=0)
    parking_lock_keys_issued: Count = Field(0, title="车位锁钥匙发放数", description="发放的车位锁钥匙数量", ge=0)
    extinguishers_rented: Count = Field(0, title="租用灭火器数", description="向管理处租用的灭火器数量", ge=0)
    meter_readings: MeterReadings = Field(default_factory=MeterReadings, title="迁入表底", description="迁入时的水电表读数")
    meter_changes: list[MeterChange] = Field(default_factory=list, title="换表记录",
                                             description="租期内更换水电表的记录（旧表止度、新表起度）")
    note: str | None = Field(None, title="备注", description="备注")

    def cite(self, field: str) -> str:
        """Where a settlement line's count or reading comes from (moveout/partial.py's view of
        one case names per-unit fields instead)."""
        return field

    @field_validator("move_in_date")
    @classmethod
    def _not_years_ahead(cls, v):
        if v is not None and _in_future(v, _MOVE_IN_AHEAD):
            raise ValueError("迁入日期 %s 在一年以后，不像是真的（年份写错了？） / move_in_date %s is more than a year ahead "
                             "(a mistyped year?)" % (v.isoformat(), v.isoformat()))
        return v


# 5 客户资料补充
class Supplement(Entry):
    """客户资料补充: a dated addition to the dossier."""

    date: dt.date | None = Field(None, title="日期", description="补充资料的日期")
    note: str = Field(title="内容", description="补充的资料内容", min_length=1)
    documents: list[Attachment] = Field(default_factory=list, title="文件", description="附件")


# 6 客户联络资料
class Contact(Entry):
    """客户联络资料: a person to reach, or the forwarding address after move-out."""

    kind: Literal["contact", "forwarding"] = Field("contact", title="类别", description="contact 联络人；forwarding 迁出后的联系方式与邮件转收地址")
    name: OneLine = Field(title="姓名", description="联系人姓名", min_length=1)
    title: str | None = Field(None, title="职务", description="职务或部门")
    phone: Phone = Field(title="电话", description="联系电话")
    email: str | None = Field(None, title="电子邮件", description="电子邮件")
    address: str | None = Field(None, title="地址", description="通讯或邮件转收地址")
    primary: bool = Field(False, title="主要联系人", description="是否为主要联系人")
    note: str | None = Field(None, title="备注", description="备注")


# 7 紧急事故联络人
class EmergencyContact(Entry):
    """紧急事故联络人: who to call at any hour, in order."""

    name: OneLine = Field(title="姓名", description="紧急联络人姓名", min_length=1)
    relation: str | None = Field(None, title="关系", description="与客户的关系，如 行政经理、业主")
    phone_24h: Phone = Field(title="24 小时电话", description="24 小时可接通的电话")
    priority: Count = Field(1, title="顺序", description="联络顺序，1 为最先", ge=1)


# 8 与管理处往来文件
class Correspondence(Entry):
    """与管理处往来文件: notices, reports and circulars in and out, with reference numbers."""

    date: dt.date = Field(title="日期", description="发文或收文日期")
    direction: Literal["in", "out"] = Field(title="方向", description="in 客户来文；out 管理处发文")
    kind: Literal["notice", "report", "circular", "letter", "other"] = Field(
        "notice", title="文件类别", description="notice 通知；report 报告；circular 通报；letter 函件；other 其他")
    ref_no: str | None = Field(None, title="文号", description="文件编号，如 通知〔2026〕12号")
    subject: str = Field(title="标题", description="文件标题", min_length=1)
    summary: str | None = Field(None, title="摘要", description="内容摘要")
    departments: list[str] = Field(default_factory=list, title="知会部门", description="抄送或知会的部门")
    documents: list[Attachment] = Field(default_factory=list, title="文件", description="附件")


# 9 违规事项与欠费记录
class Violation(Entry):
    """违规事项与欠费记录: a breach of the rules or an arrear, with its amount and status."""

    date: dt.date = Field(title="日期", description="发生或发现日期")
    kind: Literal["violation", "arrears"] = Field(title="类别", description="violation 违规；arrears 欠费")
    description: str = Field(title="内容", description="违规或欠费事项", min_length=1)
    amount: Money = Field(default=0, title="金额", description="罚款、赔偿或欠费金额（元）", validate_default=True)
    status: Literal["open", "settled", "waived"] = Field("open", title="状态", description="open 未处理；settled 已结清；waived 已免除")
    resolved_on: dt.date | None = Field(None, title="处理日期", description="结清或免除的日期")
    item: EntityId | None = Field(None, title="应收条目", description="此事项所涉的缴费记录条目（如 PAY-0002）；有此条目时金额只记在缴费记录里，不重复计")

    _done = field_validator("date", "resolved_on")(_happened)
    note: str | None = Field(None, title="备注", description="备注，如结清的方式（迁出结算冲抵押金）")


# 10 维修记录 and 11 投诉记录: the service desk's records (servicedesk.py walks them through their
# states). Each keeps its current state in its own fields and every transition in `history`, so
# the file answers both "where is it now" and "who did what, when" without reading git.
ServiceAction = Literal["open", "assign", "respond", "resolve", "done", "close", "reopen"]


class ServiceEvent(Record):
    """服务记录的一次流转: one transition of a complaint or repair, appended, never edited."""

    at: dt.datetime = Field(title="时间", description="此次流转发生的时间，带时区")
    by: EntityId = Field(title="经办人", description="办理此次流转的员工编号")
    action: ServiceAction = Field(
        title="动作", description="open 受理/报修；assign 分派/派工；respond 回复；resolve 处理；done 完工；close 回访关闭；reopen 重开")
    status: str = Field(title="流转后状态", description="此次流转之后记录的状态")
    department: Department | None = Field(None, title="部门", description="分派到的部门（assign）")
    assignee: EntityId | None = Field(None, title="承办人", description="分派到的员工编号（assign）")
    note: str | None = Field(None, title="说明", description="投诉内容、回复、处理结果、完工情况或重开原因")
    cost: Money | None = Field(None, title="费用", description="完工时登记的维修费（元）")
    chargeable: bool | None = Field(None, title="向客户收费", description="完工时登记为向客户收费（done）")
    satisfaction: Count | None = Field(None, title="满意度", description="关闭时客户的评分 1–5", ge=1, le=5)

    _at = field_validator("at")(_happened)


# 10 维修记录
class Repair(Entry):
    """维修记录: a repair request from report to completion and the tenant's rating."""

    reported_at: dt.datetime = Field(title="报修时间", description="客户报修的时间")
    location: str = Field(title="位置", description="报修位置，如 1205 室卫生间", min_length=1)
    description: str = Field(title="内容", description="故障描述", min_length=1)
    urgent: bool = Field(False, title="紧急", description="是否紧急报修（响应时限按紧急报修计）")
    assigned_dept: Department | None = Field(None, title="维修部门", description="派工到的部门，通常为 engineering 工程部")
    assigned_to: EntityId | None = Field(None, title="维修人", description="派工的员工编号")
    assigned_at: dt.datetime | None = Field(None, title="派工时间", description="（最近一次）派工的时间")
    done_at: dt.datetime | None = Field(None, title="完成时间", description="维修完成时间")
    result: str | None = Field(None, title="维修情况", description="完工时登记的维修情况")
    cost: Money | None = Field(None, title="费用", description="维修费用（元）；向客户收费（chargeable）时即应收金额，否则由管理处承担")
    # None when not charged (absent from the file), so that the records written before it stay as they were.
    chargeable: bool | None = Field(None, title="向客户收费", description="true：此维修向客户收费，完工时按费用记入缴费记录（source: repair）；缺省由管理处承担")
    closed_at: dt.datetime | None = Field(None, title="关闭时间", description="回访并关闭的时间")
    satisfaction: Count | None = Field(None, title="满意度", description="客户评分 1–5", ge=1, le=5)
    status: Literal["open", "assigned", "done", "closed"] = Field("open", title="状态", description="open 已报修；assigned 已派工；done 已完成；closed 已回访关闭")
    history: list[ServiceEvent] = Field(default_factory=list, title="流转记录", description="每次流转一条，按时间先后追加（由 wuye repair 写入）")

    _done = field_validator("reported_at", "assigned_at", "done_at", "closed_at")(_happened)


# 11 投诉记录
class Complaint(Entry):
    """投诉记录: a complaint from receipt to response, result and the tenant's rating."""

    received_at: dt.datetime = Field(title="受理时间", description="接到投诉的时间")
    channel: Literal["phone", "counter", "online", "letter", "visit"] = Field(
        title="渠道", description="phone 电话；counter 前台；online 网上；letter 信函；visit 上门")
    description: str = Field(title="内容", description="投诉内容", min_length=1)
    handler: str | None = Field(None, title="处理部门或人员", description="负责处理的部门或员工（手工记录的旧写法；新记录用处理部门和承办人）")
    assigned_dept: Department | None = Field(None, title="处理部门", description="分派到的部门")
    assigned_to: EntityId | None = Field(None, title="承办人", description="分派到的员工编号")
    assigned_at: dt.datetime | None = Field(None, title="分派时间", description="（最近一次）分派的时间")
    response: str | None = Field(None, title="回复", description="给客户的回复")
    responded_at: dt.datetime | None = Field(None, title="回复时间", description="（首次）回复客户的时间")
    result: str | None = Field(None, title="处理结果", description="处理结果")
    resolved_at: dt.datetime | None = Field(None, title="处理时间", description="（最近一次）处理完毕的时间；重开后须再次处理才能关闭")
    closed_at: dt.datetime | None = Field(None, title="关闭时间", description="（最近一次）回访并关闭的时间")
    satisfaction: Count | None = Field(None, title="满意度", description="客户评分 1–5（最近一次关闭时；每次评分都在流转记录中）", ge=1, le=5)
    reopened: Count = Field(0, title="重开次数", description="客户不满意而重开的次数", ge=0)
    reopened_at: dt.datetime | None = Field(None, title="重开时间", description="最近一次重开的时间；处理时限自此重新起算")
    status: Literal["open", "assigned", "responded", "resolved", "closed", "reopened"] = Field(
        "open", title="状态", description="open 已受理；assigned 已分派；responded 已回复；resolved 已处理；closed 已关闭；reopened 已重开")
    history: list[ServiceEvent] = Field(default_factory=list, title="流转记录", description="每次流转一条，按时间先后追加（由 wuye complaint 写入）")

    _done = field_validator("received_at", "assigned_at", "responded_at", "resolved_at", "closed_at", "reopened_at")(_happened)


# 12 工程档案（二次装修）
class EngineeringFile(Entry):
    """工程档案: engineering files and work procedures of the unit (second fit-out)."""

    date: dt.date | None = Field(None, title="日期", description="文件日期")
    title: str = Field(title="名称", description="文件或程序名称", min_length=1)
    kind: Literal["drawing", "permit", "procedure", "inspection", "other"] = Field(
        "other", title="类别", description="drawing 图纸；permit 许可；procedure 工作程序；inspection 检查记录；other 其他")
    description: str | None = Field(None, title="说明", description="说明")
    documents: list[Attachment] = Field(default_factory=list, title="文件", description="附件")


class EntryList(Record):
    """The file shape of a list category: `entries:` and nothing else."""

    entries: list = Field(default_factory=list)

    @field_validator("entries")
    @classmethod
    def _unique_ids(cls, entries):
        seen = set()
        for e in entries:
            if getattr(e, "id", None) is not None:
                if e.id in seen:
                    raise ValueError("条目编号重复 / duplicate entry id: %s" % e.id)
                seen.add(e.id)
        return entries


# The registry lives in archive_meta (no pydantic, for the look-up path); the models are bound
# to it here, by category key.
MODELS: dict[str, type[Record]] = {
    "profile": Profile,
    "payments": Payment,
    "renovation": Renovation,
    "move_in": MoveIn,
    "supplement": Supplement,
    "contacts": Contact,
    "emergency": EmergencyContact,
    "correspondence": Correspondence,
    "violations": Violation,
    "repairs": Repair,
    "complaints": Complaint,
    "engineering": EngineeringFile,
}


def list_model(category: ArchiveCategory) -> type[Record]:
    """The pydantic model of a list category's whole file."""
    from pydantic import create_model

    # Built once per category: building a pydantic class costs about a millisecond, and
    # check, verify and import validate tens of thousands of files.
    if category.key not in _LIST_MODELS:
        _LIST_MODELS[category.key] = create_model(
            f"{MODELS[category.key].__name__}List",
            __base__=EntryList,
            __doc__=f"{category.title}: {category.title_en}",
            entries=(list[MODELS[category.key]], Field(default_factory=list, title=category.title)),
        )
    return _LIST_MODELS[category.key]


_LIST_MODELS: dict[str, type[Record]] = {}


def file_model(category: ArchiveCategory) -> type[Record]:
    return list_model(category) if category.is_list else MODELS[category.key]


def entry_model(category: ArchiveCategory) -> type[Record]:
    """The model of one record of a category: the whole file of a one-record category, one entry of a list."""
    return MODELS[category.key]
