"""`wuye archive new/add/show/list/check`: the twelve categories on disk, one commit per change,
values checked by the models, look-ups at the counter, and refusals that change nothing."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from conftest import git

from wuye.storage import yamlio

VALID_USCC = "91110000802100433B"
BAD_CHECKSUM_USCC = "91110000802100433A"
VALID_RIC = "11010519491231002X"
BAD_RIC = "110101199003071234"


def read(store, rel: str):
    return yamlio.read(store.path(rel), rel)


def add(run, *args, who="wangli"):
    r = run("archive", "add", *args, "--as", who)
    assert r.exit_code == 0, r.stderr
    return r


def contact(run, name="李雷", phone="13812345678", *more):
    return add(run, "T0001", "contacts", "--set", f"name={name}", "--set", f"phone={phone}", *more)


def repair_file(tmp_path, body: str, name="repair.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


# --- new -------------------------------------------------------------------------------------


def test_new_opens_a_dossier_and_leases_the_unit(store, run, git_log):
    before = len(git_log(store))
    r = run("archive", "new", "T0001", "--name", "柏彦科技", "--unit", "1205", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert "已新建档案 T0001" in r.stderr

    profile = read(store, "tenants/T0001/profile.yaml")
    assert profile["tenant_id"] == "T0001" and profile["name"] == "柏彦科技"
    assert profile["units"] == ["1205"]  # a string, though it looks like a number
    assert profile["status"] == "active" and profile["pinyin"] == "bykj"
    assert profile["updated_by"] == "wangli" and profile["updated_at"].endswith("+08:00")
    text = store.path("tenants/T0001/profile.yaml").read_text(encoding="utf-8")
    assert text.startswith("# 1. 客户单位资料 / Company profile\n")
    assert list(profile)[-2:] == ["updated_by", "updated_at"]
    assert read(store, "units/1205.yaml") == {"id": "1205", "status": "leased", "tenant": "T0001"}

    log = git_log(store)
    assert len(log) == before + 1
    c = log[0]
    assert (c.author, c.email) == ("王丽", "wangli@wuye.invalid")
    assert c.subject == "archive T0001: 新建档案 柏彦科技"
    assert c.trailers == {"Wuye-Tenant": "T0001", "Wuye-Category": "profile", "Wuye-Actor": "wangli"}
    assert sorted(c.files) == ["tenants/T0001/profile.yaml", "units/1205.yaml"]
    assert git(store.root, "status", "--porcelain") == ""


def test_new_from_a_profile_file(store, run, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(textwrap.dedent(f"""\
        name: 北京柏彦科技有限公司
        uscc: '{VALID_USCC}'
        legal_rep: 李明
        legal_rep_id: '{VALID_RIC}'
        phone: '010-65881234'
        headcount: 25
        lease_start: 2024-01-01
        lease_end: 2026-12-31
    """), encoding="utf-8")
    r = run("archive", "new", "T0002", "--file", p, "--unit", "0801", "--as", "zhaomin")
    assert r.exit_code == 0, r.stderr
    profile = read(store, "tenants/T0002/profile.yaml")
    assert profile["uscc"] == VALID_USCC and profile["legal_rep_id"] == VALID_RIC
    assert profile["phone"] == "010-65881234" and profile["units"] == ["0801"]
    assert profile["pinyin"] == "bjbykjyxgs"
    assert str(profile["lease_end"]) == "2026-12-31"


def test_new_takes_the_actor_from_wuye_user(store, run, git_log, monkeypatch):
    monkeypatch.setenv("WUYE_USER", "zhaomin")
    assert run("archive", "new", "T0001", "--name", "柏彦科技").exit_code == 0
    assert git_log(store)[0].author == "赵敏"


def test_new_refuses_an_existing_tenant(tenant, run, snapshot, refused):
    before = snapshot(tenant)
    refused(run("archive", "new", "T0001", "--name", "别的公司", "--as", "wangli"), "T0001 已存在", "archive add")
    assert snapshot(tenant) == before


def test_new_refuses_a_unit_leased_to_another_tenant(tenant, run, snapshot, refused):
    before = snapshot(tenant)
    refused(run("archive", "new", "T0002", "--name", "别的公司", "--unit", "1205", "--as", "wangli"),
            "1205", "T0001", "units/1205.yaml")
    assert snapshot(tenant) == before


@pytest.mark.parametrize("args, fragments", [
    (("new", "../x", "--name", "X", "--as", "wangli"), ["租户编号", "../x", "无效"]),
    (("new", "a/b", "--name", "X", "--as", "wangli"), ["租户编号", "a/b", "无效"]),
    (("new", "T0002", "--name", "X", "--unit", "../1205", "--as", "wangli"), ["房号", "无效"]),
    (("new", "T0002", "--as", "wangli"), ["name", "缺少必填项"]),
    (("new", "T0002", "--name", "X"), ["--as", "WUYE_USER"]),
    (("new", "T0002", "--name", "X", "--as", "nobody"), ["未知员工", "nobody"]),
    (("new", "T0002", "--name", "X", "--as", "../wangli"), ["员工编号", "无效"]),
    (("add", "../x", "repairs", "--set", "location=a", "--as", "wangli"), ["租户编号", "无效"]),
    (("add", "a/b", "repairs", "--set", "location=a", "--as", "wangli"), ["租户编号", "无效"]),
    (("add", "T0009", "repairs", "--set", "location=a", "--as", "wangli"), ["T0009 不存在", "archive new"]),
    (("add", "T0001", "kitchen", "--set", "a=b", "--as", "wangli"), ["未知档案类别", "kitchen", "repairs（维修记录）"]),
    (("add", "T0001", "repairs", "--as", "wangli"), ["--file", "--set"]),
    (("add", "T0001", "repairs", "--set", "location", "--as", "wangli"), ["字段=值"]),
    (("add", "T0001", "contacts", "--set", "name=李雷", "--set", "phone=13812345678"), ["--as"]),
    (("add", "T0001", "contacts", "--set", "name=李雷", "--set", "phone=13812345678", "--as", "ghost"),
     ["未知员工", "ghost"]),
    (("add", "T0001", "profile", "--set", "tenant_id=T0002", "--as", "wangli"), ["tenant_id"]),
    (("add", "T0001", "contacts", "--set", "name=李雷", "--set", "phone=13812345678", "--set", "mobile=1",
      "--as", "wangli"), ["mobile", "未知字段"]),
    (("add", "T0001", "repairs", "--set", "location=大堂", "--set", "description=灯",
      "--as", "wangli"), ["reported_at", "缺少必填项"]),
])
def test_refusals_change_nothing(tenant, run, snapshot, refused, args, fragments):
    before = snapshot(tenant)
    r = run("archive", *args)
    refused(r, *fragments)
    assert r.stdout == ""
    assert snapshot(tenant) == before


# --- values parsed by the models -------------------------------------------------------------


def test_set_values_are_parsed_by_the_model_and_phones_stay_strings(tenant, run):
    contact(run, "李雷", "013812345678")
    contact(run, "韩梅梅", "010-65881234", "--set", "primary=true", "--set", "title=行政经理")
    (a, b) = read(tenant, "tenants/T0001/contacts.yaml")["entries"]
    assert a["phone"] == "013812345678" and isinstance(a["phone"], str)
    assert b["phone"] == "010-65881234" and b["primary"] is True and b["title"] == "行政经理"
    text = tenant.path("tenants/T0001/contacts.yaml").read_text(encoding="utf-8")
    assert "phone: '013812345678'" in text  # quoted on disk: read back as text by any tool


def test_money_is_kept_as_a_two_place_string(tenant, run):
    add(run, "T0001", "payments", "--set", "kind=fee", "--set", "item=物业管理费", "--set", "period=2026-11",
        "--set", "amount=12,000", "--set", "paid=6000.5", who="liuyang")
    add(run, "T0001", "payments", "--set", "kind=deposit", "--set", "item=租赁押金", "--set", "amount=36000", who="liuyang")
    fee, deposit = read(tenant, "tenants/T0001/payments.yaml")["entries"]
    assert (fee["amount"], fee["paid"]) == ("12000.00", "6000.50")
    assert deposit["deposit_status"] == "held" and deposit["paid"] == "0.00"


@pytest.mark.parametrize("sets, fragments", [
    (["amount=-1"], ["amount", "金额不能为负"]),
    (["amount=1.005"], ["amount", "两位小数"]),
    (["amount=十元"], ["amount", "不是数字"]),
    (["amount=1", "period=2026-13"], ["period"]),
    (["amount=1", "kind=gift"], ["kind", "应为以下之一", "'fee'"]),
])
def test_bad_money_and_choices_are_refused(tenant, run, snapshot, refused, sets, fragments):
    base = {"kind": "fee", "item": "物业管理费"}
    base.update(s.split("=", 1) for s in sets)
    args = [x for k, v in base.items() for x in ("--set", f"{k}={v}")]
    before = snapshot(tenant)
    refused(run("archive", "add", "T0001", "payments", *args, "--as", "liuyang"), "--set", *fragments)
    assert snapshot(tenant) == before


@pytest.mark.parametrize("field, value, fragment", [
    ("legal_rep_id", BAD_RIC, "身份证号无效"),
    ("legal_rep_id", "1101051949123", "身份证号无效"),
    ("phone", "12345", "电话号码无效"),
    ("phone", "138-1234-567", "电话号码无效"),
    ("uscc", "9111000080210043", "统一社会信用代码无效"),
    ("headcount", "many", "headcount"),
    ("lease_start", "2026-02-30", "lease_start"),
])
def test_bad_profile_values_are_refused(tenant, run, snapshot, refused, field, value, fragment):
    before = snapshot(tenant)
    refused(run("archive", "add", "T0001", "profile", "--set", f"{field}={value}", "--as", "wangli"), field, fragment)
    assert snapshot(tenant) == before


def test_a_bad_uscc_checksum_is_a_warning_and_is_kept(tenant, run, git_log):
    r = add(run, "T0001", "profile", "--set", f"uscc={BAD_CHECKSUM_USCC}")
    assert "警告" in r.stderr and BAD_CHECKSUM_USCC in r.stderr and "校验位" in r.stderr
    assert read(tenant, "tenants/T0001/profile.yaml")["uscc"] == BAD_CHECKSUM_USCC
    assert git_log(tenant)[0].trailers["Wuye-Category"] == "profile"

    shown = run("archive", "show", "T0001", "--json")
    assert json.loads(shown.stdout)["categories"]["profile"]["uscc"] == BAD_CHECKSUM_USCC
    checked = run("archive", "check", "T0001")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "tenants/T0001/profile.yaml" in checked.stdout and "[warning]" in checked.stdout
    assert BAD_CHECKSUM_USCC in checked.stdout


def test_a_valid_ric_and_uscc_are_accepted(tenant, run):
    r = add(run, "T0001", "profile", "--set", f"uscc={VALID_USCC}", "--set", f"legal_rep_id={VALID_RIC}")
    assert "警告" not in r.stderr
    profile = read(tenant, "tenants/T0001/profile.yaml")
    assert (profile["uscc"], profile["legal_rep_id"]) == (VALID_USCC, VALID_RIC)


def test_wrong_types_in_a_file_are_refused_with_their_lines(tenant, run, snapshot, refused, tmp_path):
    p = repair_file(tmp_path, """\
        reported_at: 2026-11-03T09:30:00+08:00
        location: 1205
        description: [漏水]
        urgent: maybe
        satisfaction: 9
    """)
    before = snapshot(tenant)
    r = run("archive", "add", "T0001", "repairs", "--file", p, "--as", "wangli")
    refused(r, f"{p}:2:1: location:", "加上引号", f"{p}:3:1: description:", f"{p}:4:1: urgent:", f"{p}:5:1: satisfaction:")
    assert snapshot(tenant) == before


def test_an_unquoted_phone_in_a_file_is_refused_not_guessed(tenant, run, snapshot, refused, tmp_path):
    p = repair_file(tmp_path, """\
        - name: 李雷
          phone: '13812345678'
        - name: 韩梅梅
          phone: 013812345678
    """, "contacts.yaml")
    before = snapshot(tenant)
    refused(run("archive", "add", "T0001", "contacts", "--file", p, "--as", "wangli"),
            f"{p}:4:3: 1.phone:", "加上引号")
    assert snapshot(tenant) == before


# --- list categories -------------------------------------------------------------------------


def test_list_entries_get_ids_and_who_recorded_them(tenant, run, git_log):
    contact(run)
    r = contact(run, "韩梅梅", "13912345678")
    assert "CON-0002" in r.stderr
    entries = read(tenant, "tenants/T0001/contacts.yaml")["entries"]
    assert [e["id"] for e in entries] == ["CON-0001", "CON-0002"]
    for e in entries:
        assert e["recorded_by"] == "wangli" and e["recorded_at"].endswith("+08:00")
        assert list(e)[0] == "id" and list(e)[-2:] == ["recorded_by", "recorded_at"]
    assert tenant.path("tenants/T0001/contacts.yaml").read_text(encoding="utf-8").startswith("# 6. 客户联络资料")

    c = git_log(tenant)[0]
    assert c.subject == "archive T0001: 客户联络资料 1 条"
    assert c.trailers == {"Wuye-Tenant": "T0001", "Wuye-Category": "contacts", "Wuye-Entry": "CON-0002",
                          "Wuye-Actor": "wangli"}
    assert c.files == ["tenants/T0001/contacts.yaml"]


def test_several_entries_from_one_file_are_one_commit(tenant, run, git_log, tmp_path):
    p = repair_file(tmp_path, """\
        entries:
          - reported_at: 2026-11-03T09:30:00+08:00
            location: 1205 室卫生间
            description: 洗手盆下水管漏水
          - reported_at: 2026-11-04T14:00:00+08:00
            location: 1205 室
            description: 空调不制冷
            urgent: true
            id: REP-9999          # assigned by wuye, not taken from the file
            recorded_by: sunhao   # nor this
    """)
    before = len(git_log(tenant))
    r = add(run, "T0001", "repairs", "--file", p, who="zhangwei")
    entries = read(tenant, "tenants/T0001/repairs.yaml")["entries"]
    assert [e["id"] for e in entries] == ["REP-0001", "REP-0002"]
    assert all(e["recorded_by"] == "zhangwei" for e in entries)
    assert entries[1]["urgent"] is True
    log = git_log(tenant)
    assert len(log) == before + 1
    assert log[0].trailers["Wuye-Entry"] == "REP-0001, REP-0002"
    assert log[0].subject == "archive T0001: 维修记录 2 条"
    assert "REP-0001, REP-0002" in r.stderr


def test_ids_continue_after_the_highest(tenant, run):
    for _ in range(3):
        add(run, "T0001", "supplement", "--set", "note=补充")
    path = tenant.path("tenants/T0001/supplement.yaml")
    doc = yamlio.load_roundtrip(path.read_text(encoding="utf-8"))
    del doc["entries"][1]  # a clerk removed SUP-0002 by hand
    path.write_text(yamlio.dumps(doc), encoding="utf-8")
    add(run, "T0001", "supplement", "--set", "note=再补充")
    assert [e["id"] for e in read(tenant, "tenants/T0001/supplement.yaml")["entries"]] == \
        ["SUP-0001", "SUP-0003", "SUP-0004"]


@pytest.mark.parametrize("name", ["repairs", "repairs.yaml", "10", "维修记录", "维修", "Repairs"])
def test_a_category_by_file_name_number_or_title(tenant, run, name):
    add(run, "T0001", name, "--set", "reported_at=2026-11-03T09:30:00+08:00", "--set", "location=大堂",
        "--set", "description=灯不亮")
    assert read(tenant, "tenants/T0001/repairs.yaml")["entries"][0]["location"] == "大堂"


# --- one-record categories -------------------------------------------------------------------


def test_profile_fields_are_updated_in_place(tenant, run, git_log):
    add(run, "T0001", "profile", "--set", "name=柏彦智能科技", "--set", "headcount=30", "--set", "units=1205,1206")
    profile = read(tenant, "tenants/T0001/profile.yaml")
    assert profile["name"] == "柏彦智能科技" and profile["pinyin"] == "byznkj"
    assert profile["headcount"] == 30 and profile["units"] == ["1205", "1206"]
    assert list(profile)[-2:] == ["updated_by", "updated_at"]  # new fields go before the stamp
    c = git_log(tenant)[0]
    # The fields by their titles, as the clerk reads them (not name, headcount, units).
    assert c.subject == "archive T0001: 客户单位资料 更新 公司名称、人员数、房号"
    assert c.trailers == {"Wuye-Tenant": "T0001", "Wuye-Category": "profile", "Wuye-Actor": "wangli"}


def test_move_in_and_its_nested_meter_readings(tenant, run):
    add(run, "T0001", "move_in", "--set", "move_in_date=2024-01-05", "--set", "access_cards_issued=12",
        "--set", "meter_readings.electricity=10234.5", "--set", "parking_spaces=B1-021，B1-022")
    add(run, "T0001", "迁入资料", "--set", "meter_readings.water=321")
    data = read(tenant, "tenants/T0001/move_in.yaml")
    assert data["meter_readings"] == {"electricity": "10234.5", "water": "321"}
    assert data["access_cards_issued"] == 12 and data["parking_spaces"] == ["B1-021", "B1-022"]
    assert str(data["move_in_date"]) == "2024-01-05"


def test_setting_the_same_values_again_makes_no_commit(tenant, run, snapshot):
    add(run, "T0001", "profile", "--set", "headcount=30")
    before = snapshot(tenant)
    r = add(run, "T0001", "profile", "--set", "headcount=30", "--set", "name=柏彦科技")
    assert "没有变化" in r.stderr
    assert snapshot(tenant) == before


# --- hand edits ------------------------------------------------------------------------------


def test_a_hand_written_comment_survives_archive_add(tenant, run, tmp_path):
    contact(run)
    path = tenant.path("tenants/T0001/contacts.yaml")
    text = path.read_text(encoding="utf-8")
    text = text.replace("# 6. 客户联络资料 / Contacts\n", "# 6. 客户联络资料 / Contacts\n# 王丽：李雷已离职，待更新\n")
    text = text.replace("name: 李雷\n", "name: 李雷  # 前台\n")
    path.write_text(text, encoding="utf-8")
    git(tenant.root, "-c", "user.name=王丽", "-c", "user.email=wangli@wuye.invalid", "commit", "-qam", "手工备注")

    contact(run, "韩梅梅", "13912345678")
    after = path.read_text(encoding="utf-8")
    assert after.startswith(text)  # every byte of the hand-kept file is still there, first
    assert "# 王丽：李雷已离职，待更新" in after and "name: 李雷  # 前台" in after
    assert [e["name"] for e in read(tenant, "tenants/T0001/contacts.yaml")["entries"]] == ["李雷", "韩梅梅"]


def test_a_comment_in_a_one_record_file_survives_an_update(tenant, run):
    path = tenant.path("tenants/T0001/profile.yaml")
    text = path.read_text(encoding="utf-8").replace("name: 柏彦科技\n", "name: 柏彦科技  # 营业执照上的名称\n")
    path.write_text(text, encoding="utf-8")
    add(run, "T0001", "profile", "--set", "industry=软件")
    after = path.read_text(encoding="utf-8")
    assert "name: 柏彦科技  # 营业执照上的名称\n" in after and "industry: 软件" in after


def test_add_refuses_to_write_into_an_invalid_hand_edit(tenant, run, snapshot, refused):
    contact(run)
    path = tenant.path("tenants/T0001/contacts.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("phone: '13812345678'", "phone: '12'"), encoding="utf-8")
    before = snapshot(tenant)
    refused(contact_result := run("archive", "add", "T0001", "contacts", "--set", "name=韩梅梅",
                                  "--set", "phone=13912345678", "--as", "wangli"),
            "tenants/T0001/contacts.yaml:6:5:", "请先修正此文件")
    assert contact_result.stdout == ""
    assert snapshot(tenant) == before


# --- show ------------------------------------------------------------------------------------


@pytest.fixture
def two_tenants(tenant, run):
    assert run("archive", "new", "T0002", "--name", "柏彦咨询", "--unit", "1206", "--as", "wangli").exit_code == 0
    assert run("archive", "new", "T0003", "--name", "国贸物流", "--unit", "0301", "--as", "wangli").exit_code == 0
    return tenant


@pytest.mark.parametrize("query, expected", [
    ("T0001", "T0001"), ("t0002", "T0002"), ("科技", "T0001"), ("柏彦咨询", "T0002"),
    ("bykj", "T0001"), ("BYZX", "T0002"), ("gmwl", "T0003"), ("物流", "T0003"),
])
def test_show_finds_a_tenant_by_id_name_or_pinyin_initials(two_tenants, run, query, expected):
    r = run("archive", "show", query, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["tenant_id"] == expected


@pytest.mark.parametrize("query", ["柏彦", "by"])
def test_an_ambiguous_query_lists_the_candidates(two_tenants, run, refused, query):
    r = run("archive", "show", query)
    refused(r, "匹配到 2 个租户", "T0001  柏彦科技", "T0002  柏彦咨询")
    assert "T0003" not in r.stderr and r.stdout == ""


def test_no_match_is_refused(two_tenants, run, refused):
    refused(run("archive", "show", "万达"), "找不到租户", "万达")
    refused(run("archive", "show", "../T0001"), "找不到租户")


def test_show_masks_personal_data_unless_revealed(tenant, run):
    contact(run, "李雷", "13812345678")
    add(run, "T0001", "emergency", "--set", "name=张三", "--set", "phone_24h=13900001234")
    add(run, "T0001", "profile", "--set", f"legal_rep_id={VALID_RIC}")
    r = run("archive", "show", "T0001")
    assert r.exit_code == 0, r.stderr
    assert "138****5678" in r.stdout and "139****1234" in r.stdout and "110105********002X" in r.stdout
    assert "13812345678" not in r.stdout and VALID_RIC not in r.stdout
    # contacts' names are personal data too (issue 6): 李* on screen; the company name is not
    assert "李*" in r.stdout and "李雷" not in r.stdout and "张*" in r.stdout
    assert "柏彦科技" in r.stdout and "客户联络资料" in r.stdout

    masked = json.loads(run("archive", "show", "T0001", "--json").stdout)
    assert masked["categories"]["contacts"]["entries"][0]["phone"] == "138****5678"

    shown = run("archive", "show", "T0001", "--reveal", "--as", "wangli")
    assert "13812345678" in shown.stdout and VALID_RIC in shown.stdout
    revealed = json.loads(run("archive", "show", "T0001", "--json", "--reveal", "--as", "wangli").stdout)
    assert revealed["categories"]["contacts"]["entries"][0]["phone"] == "13812345678"


def test_show_json_lists_categories_and_what_is_missing(tenant, run):
    contact(run)
    data = json.loads(run("archive", "show", "bykj", "--json").stdout)
    assert data["tenant_id"] == "T0001" and data["problems"] == []
    assert data["categories"]["profile"]["name"] == "柏彦科技"
    assert data["categories"]["contacts"]["entries"][0]["id"] == "CON-0001"
    assert set(data["missing"]) == {"payments", "renovation", "move_in", "supplement", "emergency",
                                    "correspondence", "violations", "repairs", "complaints", "engineering"}


def test_show_one_category(tenant, run):
    contact(run)
    r = run("archive", "show", "T0001", "客户联络资料")
    assert r.exit_code == 0, r.stderr
    assert "李*" in r.stdout and "维修记录" not in r.stdout
    data = json.loads(run("archive", "show", "T0001", "contacts", "--json").stdout)
    assert set(data["categories"]) == {"profile", "contacts"}
    assert data["missing"] == []  # only what was read can be missing


def test_show_reports_a_broken_file_and_shows_the_rest(tenant, run):
    contact(run)
    tenant.path("tenants/T0001/contacts.yaml").write_text("entries:\n  - name: a\n    name: b\n", encoding="utf-8")
    r = run("archive", "show", "T0001")
    assert r.exit_code == 1  # the rest is shown, and the unreadable file makes it a failure (issue 15)
    assert "柏彦科技" in r.stdout
    assert "tenants/T0001/contacts.yaml:3:5:" in r.stderr and "重复的键" in r.stderr
    data = json.loads(run("archive", "show", "T0001", "--json").stdout)
    assert data["problems"][0]["path"] == "tenants/T0001/contacts.yaml" and data["problems"][0]["line"] == 3


def test_show_survives_a_profile_that_is_not_a_mapping(tenant, run):
    tenant.path("tenants/T0001/profile.yaml").write_text("- 柏彦科技\n", encoding="utf-8")
    r = run("archive", "show", "T0001")
    assert r.exit_code == 1, r.stderr
    assert "tenants/T0001/profile.yaml:1:1:" in r.stderr and "Traceback" not in r.stderr


# --- list and check --------------------------------------------------------------------------


def test_list_shows_each_tenant_and_how_complete_the_dossier_is(two_tenants, run):
    contact(run)
    rows = {row["tenant_id"]: row for row in json.loads(run("archive", "list", "--json").stdout)}
    assert set(rows) == {"T0001", "T0002", "T0003"}
    assert rows["T0001"] == {"tenant_id": "T0001", "name": "柏彦科技", "units": ["1205"], "status": "active",
                             "status_label": "在租", "categories": 2}
    assert rows["T0003"]["categories"] == 1
    table = run("archive", "list")
    assert table.exit_code == 0
    assert "国贸物流" in table.stdout and "0301" in table.stdout and "在租" in table.stdout


def test_list_of_an_empty_store(store, run):
    assert json.loads(run("archive", "list", "--json").stdout) == []


def test_check_reports_what_each_dossier_lacks(tenant, run):
    contact(run)
    r = run("archive", "check")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "T0001：缺 10 类" in r.stdout and "0 个错误" in r.stderr
    assert "迁入资料" in r.stdout and "move_in" not in r.stdout  # by title, as the clerk reads it
    r = run("archive", "check", env={"WUYE_LANG": "en"})
    assert "lacks 10 categories" in r.stdout and "Move-in" in r.stdout and not re.search(r"[\u4e00-\u9fff]", r.stdout)
    data = json.loads(run("archive", "check", "--json").stdout)
    assert data["ok"] is True and data["tenants"] == 1 and len(data["missing"]["T0001"]) == 10


def test_check_is_clean_for_a_complete_dossier(tenant, run):
    for category in ("payments", "renovation", "move_in", "supplement", "contacts", "emergency",
                     "correspondence", "violations", "repairs", "complaints", "engineering"):
        if category == "move_in":
            add(run, "T0001", category, "--set", "access_cards_issued=2")
        else:  # an empty list file is a present category
            tenant.path(f"tenants/T0001/{category}.yaml").write_text("entries: []\n", encoding="utf-8")
    data = json.loads(run("archive", "check", "T0001", "--json").stdout)
    assert data == {"tenants": 1, "problems": [], "missing": {"T0001": []}, "ok": True}


def test_check_locates_an_invalid_hand_edit_and_exits_1(two_tenants, run):
    add(run, "T0001", "repairs", "--set", "reported_at=2026-11-03T09:30:00+08:00", "--set", "location=大堂",
        "--set", "description=灯不亮", "--set", "cost=120")
    path = two_tenants.path("tenants/T0001/repairs.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("cost: '120.00'", "cost: '-3'")
                    .replace("status: open", "status: opne"), encoding="utf-8")
    r = run("archive", "check")
    assert r.exit_code == 1
    located = [re.match(r"tenants/T0001/repairs\.yaml:(\d+):(\d+): (entries\.0\.\w+): ", ln) for ln in r.stdout.splitlines()]
    places = {m[3]: (int(m[1]), int(m[2])) for m in located if m}
    assert set(places) == {"entries.0.cost", "entries.0.status"}
    text_lines = path.read_text(encoding="utf-8").splitlines()
    for field, (line, col) in places.items():  # each points at its own key
        assert text_lines[line - 1][col - 1:].startswith(field.rsplit(".", 1)[1] + ":")
    assert "金额不能为负" in r.stdout
    assert "2 个错误" in r.stderr

    data = json.loads(run("archive", "check", "--json").stdout)
    assert data["ok"] is False and {p["level"] for p in data["problems"]} == {"error"}
    assert {p["code"] for p in data["problems"]} == {"schema.invalid"}
    # One tenant at a time: the other one is fine.
    assert run("archive", "check", "T0002").exit_code == 0


def test_check_finds_a_typo_a_duplicate_key_and_a_mismatched_id(tenant, run):
    path = tenant.path("tenants/T0001/profile.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("tenant_id: T0001", "tenant_id: T0002")
                    .replace("status: active", "status: active\nheadcout: 3"), encoding="utf-8")
    tenant.path("tenants/T0001/move_in.yaml").write_text("keys_issued: 1\nkeys_issued: 2\n", encoding="utf-8")
    r = run("archive", "check", "--json")
    assert r.exit_code == 1
    problems = {(p["path"], p["line"]): (p["code"], p["message"]) for p in json.loads(r.stdout)["problems"]}
    assert any(c == "schema.invalid" and "headcout" in m for c, m in problems.values())
    assert problems[("tenants/T0001/move_in.yaml", 2)][0] == "yaml.syntax"
    assert any(c == "archive.tenant-mismatch" and "T0002" in m for c, m in problems.values())


def test_check_says_a_tenant_without_profile_is_an_error(store, run):
    store.path("tenants/T0404").mkdir()
    store.path("tenants/T0404/contacts.yaml").write_text("entries: []\n", encoding="utf-8")
    r = run("archive", "check")
    assert r.exit_code == 1
    assert "tenants/T0404/profile.yaml" in r.stdout
    problems = json.loads(run("archive", "check", "--json").stdout)["problems"]
    assert [(p["code"], p["path"]) for p in problems] == [("archive.profile-missing", "tenants/T0404/profile.yaml")]


def test_english_messages(tenant, run, refused, monkeypatch):
    monkeypatch.setenv("WUYE_LANG", "en")
    refused(run("archive", "add", "T0001", "kitchen", "--set", "a=b", "--as", "wangli"),
            "error: unknown archive category 'kitchen'")
    r = run("archive", "add", "T0001", "contacts", "--set", "name=Li Lei", "--set", "phone=12", "--as", "wangli")
    refused(r, "invalid phone number")
    assert "电话" not in r.stderr
    ok = run("archive", "add", "T0001", "contacts", "--set", "name=Li Lei", "--set", "phone=13812345678",
             "--as", "wangli")
    assert "recorded T0001 contacts CON-0001" in ok.stderr


def test_a_long_listing_is_printed_as_plain_aligned_columns(two_tenants, run, monkeypatch):
    # Past LONG_LISTING rows (every tenant of a company) the table is plain text: one line a row,
    # columns aligned as a terminal shows them, a Chinese character two columns wide.
    from rich.cells import cell_len

    from wuye.cli import output

    monkeypatch.setattr(output, "LONG_LISTING", 2)
    r = run("archive", "list")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["编号", "公司名称", "房号", "状态", "档案类别数"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    rows = lines[2:]
    assert [line.split()[0] for line in rows] == ["T0001", "T0002", "T0003"]
    assert any("国贸物流" in line for line in rows) and not any("│" in line or "┃" in line for line in lines)
    # Every column starts at the same display column on every line.
    import re

    starts = {tuple(cell_len(line[:m.start()]) for m in re.finditer(r"\S+(?: \S+)*", line)) for line in [lines[0], *rows]}
    assert len(starts) == 1 and len(next(iter(starts))) == 5, starts
    # At or below the threshold it is the boxed table.
    monkeypatch.setattr(output, "LONG_LISTING", 3)
    assert "┃" in run("archive", "list").stdout


def test_english_dossier_headers_are_english(tenant, run, monkeypatch):
    # labels.json carries each field's English title: WUYE_LANG=en shows no Chinese header, while
    # the Chinese view keeps the regulations' terms.
    import re

    run("archive", "add", "T0001", "contacts", "--set", "name=Li Lei", "--set", "phone=13812345678",
        "--set", "title=Office manager", "--as", "wangli")
    monkeypatch.setenv("COLUMNS", "200")
    zh = run("archive", "show", "T0001", "contacts").stdout
    assert "姓名" in zh and "电话" in zh
    monkeypatch.setenv("WUYE_LANG", "en")
    en = run("archive", "show", "T0001", "contacts").stdout
    header = next(line for line in en.splitlines() if "┃" in line)
    assert "Name" in header and "Phone" in header
    assert not re.search(r"[\u4e00-\u9fff]", header), header
    profile = run("archive", "show", "T0001", "profile").stdout
    assert "Tenant ID" in profile and "客户编号" not in profile
