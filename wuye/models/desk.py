"""The service desk's store-level registers: what is no tenant's file.

- 接待/咨询登记 (the reception and inquiry log): `desk/inquiries/<yyyy-mm>.yaml`, one entry per
  visit or call, a tenant's or a visitor's (see wuye/desk/inquiries.py for why one register);
- 公共区域报修 (common-area repairs): `desk/repairs/<yyyy>.yaml`, the very `Repair` entries a
  tenant's repairs.yaml holds, walked by the same state machine (servicedesk.REPAIR).

Both files have the shape of a list category (`entries:` with unique ids), so the merge driver,
the entry index and the round-trip editors treat them as they treat a tenant's files.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from wuye.models.archive import EntryList, Repair, _happened
from wuye.models.base import Entry, Record
from wuye.models.store import Department
from wuye.models.types import EntityId, OneLine, Phone

InquiryChannel = Literal["visit", "phone", "counter", "online", "letter"]
InquiryStatus = Literal["answered", "pending", "done"]


class InquiryEvent(Record):
    """接待/咨询的一次办理: the first reception, a follow-up contact or the final answer; appended, never edited."""

    at: dt.datetime = Field(title="时间", description="办理时间，带时区")
    by: EntityId = Field(title="经办人", description="办理的员工编号")
    action: Literal["open", "follow_up", "done"] = Field(
        title="动作", description="open 接待登记；follow_up 跟进；done 跟进完成")
    status: InquiryStatus = Field(title="办理后状态", description="此次办理之后的状态")
    note: str | None = Field(None, title="说明", description="咨询事项、跟进情况或最终答复")
    due: dt.date | None = Field(None, title="跟进期限", description="此次办理之后的跟进期限")
    assignee: EntityId | None = Field(None, title="跟进人", description="负责跟进的员工编号")
    department: Department | None = Field(None, title="跟进部门", description="负责跟进的部门")

    _at = field_validator("at")(_happened)


class Inquiry(Entry):
    """接待/咨询登记: who came or called, about what, who answered, and the follow-up if any."""

    received_at: dt.datetime = Field(title="接待时间", description="来访或来电的时间")
    channel: InquiryChannel = Field(title="方式", description="visit 来访；phone 来电；counter 前台；online 网上；letter 信函")
    tenant_id: EntityId | None = Field(None, title="租户", description="来访或来电的租户编号；非租户访客不填")
    visitor_name: OneLine | None = Field(None, title="来访人", description="来访或来电人的姓名（访客必填）")
    visitor_phone: Phone | None = Field(None, title="联系电话", description="来访或来电人的电话（访客必填）")
    description: str = Field(title="咨询事项", description="来访或来电所询问的事", min_length=1)
    answered_by: EntityId = Field(title="接待人", description="接待并登记的员工编号")
    on_the_spot: bool = Field(title="当场答复", description="是否当场答复完毕；否则须跟进")
    response: str | None = Field(None, title="答复", description="给来访人的答复（当场或跟进完成时）")
    follow_up_due: dt.date | None = Field(None, title="跟进期限", description="未当场答复时，须在此日期前跟进答复")
    follow_up_dept: Department | None = Field(None, title="跟进部门", description="负责跟进的部门")
    follow_up_to: EntityId | None = Field(None, title="跟进人", description="负责跟进的员工编号")
    done_at: dt.datetime | None = Field(None, title="完成时间", description="跟进答复完毕的时间")
    status: InquiryStatus = Field("answered", title="状态", description="answered 已当场答复；pending 待跟进；done 已跟进完成")
    history: list[InquiryEvent] = Field(default_factory=list, title="办理记录", description="每次办理一条（由 wuye inquiry 写入）")

    _done = field_validator("received_at", "done_at")(_happened)

    @model_validator(mode="after")
    def _who_and_loop(self):
        if self.tenant_id is None and not self.visitor_name:
            raise ValueError("非租户访客须登记姓名 / a visitor who is not a tenant needs a name")
        if not self.on_the_spot and self.follow_up_due is None:
            raise ValueError("未当场答复的咨询须有跟进期限 / an inquiry not answered on the spot needs a follow-up due date")
        if self.follow_up_due is not None and self.follow_up_due < self.received_at.date():
            raise ValueError("跟进期限早于接待日期 / the follow-up is due before the inquiry was received")
        return self


class InquiryList(EntryList):
    """接待/咨询登记簿（一个月）: the inquiries received in one month."""

    entries: list[Inquiry] = Field(default_factory=list, title="接待/咨询登记")


class CommonRepairList(EntryList):
    """公共区域报修（一年）: the common-area repairs reported in one year."""

    entries: list[Repair] = Field(default_factory=list, title="公共区域报修")
