"""`wuye import`: ledgers and record sheets in, validated first, written all at once in one commit.

Ledgers are built here as real files: xlsx workbooks with openpyxl (merged title rows, Chinese
headers, mixed date formats), CSV in UTF-8 with a BOM and in GBK, YAML. Every refusal is checked
to name the file, row and column, and to leave the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import textwrap

from conftest import git

from wuye.storage import yamlio


def uscc(seed: str) -> str:
    """A fictitious unified social credit code that passes its checksum."""
    from stdnum.cn import uscc as mod

    body = ("91110105MA" + seed + "0000000")[:17]
    return body + mod.calc_check_digit(body)


USCC_A, USCC_B, USCC_C, USCC_D = uscc("0LDQQU"), uscc("01J8T9"), uscc("04NNRU"), uscc("0P8FN1")

HEADERS = ["序号", "客户名称", "统一社会信用代码", "房号", "面积（㎡）", "联系人", "联系电话", "租赁押金（元）", "装修押金",
           "入驻日期", "租期开始", "租期结束"]


def rows():
    """Three tenants as an office's ledger holds them: every cell in a different mess."""
    return [
        [1, "博雅科技（北京）有限公司", USCC_A, "1205", 126.4, "高志远", "138 1234 5678", "¥120,000.00", "5万",
         dt.date(2024, 1, 5), "2024/1/1", "2026年12月31日"],
        [2, "北京云帆数据科技有限公司", USCC_B.lower(), "1201、1202", "312.5、287.6", "李娜", "+86 138-0112-6439", 432000,
         None, 45296, "2023.03.01", "2028-02-29"],
        [3, "ＡＢＣ咨询有限公司 ", USCC_C, "８０５室", "２３６．８５", "何静", "１８２１０５７３９６４", "119,340.00元", "",
         "2024年1月5日", "2024/1/1", "2026/12/31"],
    ]


def write_xlsx(path, data=None, headers=HEADERS, sheet="客户台账", extra=None):
    """A ledger workbook: a merged title row, a blank row, the header, the rows, blank trailing rows."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["柏彦大厦客户台账"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append([])
    ws.append(headers)
    for r in data if data is not None else rows():
        ws.append(r)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy/m/d"
    for _ in range(3):
        ws.append(["  "] * len(headers))  # rows a clerk cleared with the space bar
    for name, (hdrs, body) in (extra or {}).items():
        other = wb.create_sheet(name)
        other.append(hdrs)
        for r in body:
            other.append(r)
    wb.save(path)
    return path


def write_csv(path, text, encoding="utf-8-sig"):
    path.write_bytes(textwrap.dedent(text).encode(encoding))
    return path


def read(store, rel):
    return yamlio.read(store.path(rel), rel)


def imported(result):
    assert result.exit_code == 0, result.stderr
    return result


# --- a ledger in, one commit --------------------------------------------------------------------


def test_xlsx_ledger_imports_every_tenant_in_one_commit(store, run, git_log, tmp_path):
    path = write_xlsx(tmp_path / "客户台账.xlsx", rows() + [rows()[0]])  # the first row twice
    before = git_log(store)
    r = imported(run("import", path, "--as", "liuyang"))
    assert "━" not in r.stderr  # no progress bar when stderr is not a terminal
    assert "客户台账.xlsx[客户台账]:7" in r.stderr and "只导入一次" in r.stderr  # the repeated row, named

    p = read(store, "tenants/T0001/profile.yaml")
    assert p["name"] == "博雅科技（北京）有限公司" and p["uscc"] == USCC_A and p["units"] == ["1205"]
    assert p["lease_start"] == dt.date(2024, 1, 1) and p["lease_end"] == dt.date(2026, 12, 31)
    assert p["pinyin"] == "bykjbjyxgs" and p["updated_by"] == "liuyang"
    assert read(store, "tenants/T0001/contacts.yaml")["entries"][0] | {"recorded_at": None} == {
        "id": "CON-0001", "kind": "contact", "name": "高志远", "phone": "13812345678", "primary": True,
        "recorded_by": "liuyang", "recorded_at": None}
    deposits = read(store, "tenants/T0001/payments.yaml")["entries"]
    assert [(d["item"], d["amount"], d["paid"], d["deposit_status"]) for d in deposits] == [
        ("租赁押金", "120000.00", "120000.00", "held"), ("装修押金", "50000.00", "50000.00", "held")]
    assert read(store, "tenants/T0001/move_in.yaml")["move_in_date"] == dt.date(2024, 1, 5)
    assert read(store, "units/1205.yaml") == {"id": "1205", "area": "126.4", "status": "leased", "tenant": "T0001"}
    # Full-width digits, lower-case codes, an Excel date serial, 室 and stray spaces, all read.
    t2 = read(store, "tenants/T0002/profile.yaml")
    assert t2["uscc"] == USCC_B and t2["units"] == ["1201", "1202"]
    assert read(store, "tenants/T0002/move_in.yaml")["move_in_date"] == dt.date(2024, 1, 5)
    assert read(store, "units/1202.yaml")["area"] == "287.6"
    t3 = read(store, "tenants/T0003/profile.yaml")
    assert t3["name"] == "ABC咨询有限公司" and t3["units"] == ["805"]
    assert read(store, "tenants/T0003/contacts.yaml")["entries"][0]["phone"] == "18210573964"
    assert read(store, "units/805.yaml")["area"] == "236.85"
    assert read(store, "tenants/T0003/payments.yaml")["entries"][0]["amount"] == "119340.00"

    log = git_log(store)
    assert len(log) == len(before) + 1
    c = log[0]
    assert (c.author, c.email, c.committer) == ("刘洋", "liuyang@wuye.invalid", "刘洋")
    assert c.subject.startswith("import 客户台账.xlsx:") and "新建 3 个租户" in c.subject
    assert c.trailers["Wuye-Source"] == "客户台账.xlsx"
    assert c.trailers["Wuye-Source-Sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert c.trailers["Wuye-Import"] == "ledger" and c.trailers["Wuye-Created"] == "3"
    assert c.trailers["Wuye-Actor"] == "liuyang"
    assert sorted(c.files) == sorted([f"tenants/T000{i}/{f}.yaml" for i in (1, 2, 3) for f in ("profile", "contacts", "payments", "move_in")]
                                     + [f"units/{u}.yaml" for u in ("1205", "1201", "1202", "805")])
    assert git(store.root, "status", "--porcelain") == ""


def test_importing_the_same_ledger_again_changes_nothing(store, run, snapshot, tmp_path):
    path = write_xlsx(tmp_path / "l.xlsx")
    imported(run("import", path, "--as", "liuyang"))
    before = snapshot(store)
    r = imported(run("import", path, "--as", "liuyang"))
    assert "没有变化，未提交" in r.stderr
    assert snapshot(store) == before


def test_an_updated_ledger_updates_what_changed_and_says_what(store, run, git_log, snapshot, refused, tmp_path):
    imported(run("import", write_xlsx(tmp_path / "v1.xlsx"), "--as", "liuyang"))
    # A clerk's comment in the profile must survive the import's edit.
    prof = store.path("tenants/T0001/profile.yaml")
    prof.write_text(prof.read_text(encoding="utf-8").replace("lease_start:", "# 续租谈判中\nlease_start:"), encoding="utf-8")
    git(store.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "hand edit")
    data = rows()
    data[0][11] = "2027/12/31"  # lease extended
    data[0][5], data[0][6] = "王强", "139 0000 1111"  # a new contact person
    data[0][7] = "¥150,000"  # deposit topped up
    # A deposit is money: leasing may not record it, even in a ledger it keeps; management may.
    unchanged = snapshot(store)
    refused(run("import", write_xlsx(tmp_path / "v2.xlsx", data), "--as", "zhaomin", "-v"), "财务部、管理层", "zhaomin")
    assert snapshot(store) == unchanged
    r = imported(run("import", write_xlsx(tmp_path / "v2.xlsx", data), "--as", "sunhao", "-v"))
    assert "T0001 博雅科技（北京）有限公司" in r.stdout
    assert "profile.lease_end: 2026-12-31 → 2027-12-31" in r.stdout
    assert "contacts CON-0002: 王* 139****1111" in r.stdout  # a person's name and phone masked without --reveal
    assert "王强" not in r.stdout and "13900001111" not in r.stdout
    assert "contacts.CON-0001.primary: True → False" in r.stdout
    assert "PAY-0001.amount: 120000.00 → 150000.00" in r.stdout
    assert "T0002" not in r.stdout
    c = git_log(store)[0]
    assert c.author == "孙浩" and c.trailers["Wuye-Updated"] == "1" and c.trailers["Wuye-Created"] == "0"
    assert c.trailers["Wuye-Tenant"] == "T0001"
    assert sorted(c.files) == ["tenants/T0001/contacts.yaml", "tenants/T0001/payments.yaml", "tenants/T0001/profile.yaml"]
    text = prof.read_text(encoding="utf-8")
    assert "# 续租谈判中" in text and "lease_end: 2027-12-31" in text and "updated_by: sunhao" in text
    contacts = read(store, "tenants/T0001/contacts.yaml")["entries"]
    assert [(e["name"], e["primary"]) for e in contacts] == [("高志远", False), ("王强", True)]


def test_dry_run_shows_the_changes_and_writes_nothing(store, run, snapshot, tmp_path):
    path = write_xlsx(tmp_path / "l.xlsx")
    before = snapshot(store)
    r = imported(run("import", path, "--as", "liuyang", "--dry-run", "-v", "--reveal"))
    assert "演练（未写入）" in r.stderr and "新建 3 个租户" in r.stderr
    assert "T0002 北京云帆数据科技有限公司（新建）" in r.stdout and "李娜 13801126439" in r.stdout
    assert "units/1201.status: — → leased" not in r.stdout  # new units are part of the new tenant
    assert snapshot(store) == before
    j = imported(run("import", path, "--as", "liuyang", "--dry-run", "--json"))
    import json

    data = json.loads(j.stdout)
    assert data["dry_run"] is True and data["created"] == ["T0001", "T0002", "T0003"] and data["commit"] is None
    assert snapshot(store) == before
    # --json masks personal data as every other output does; --reveal shows it, and is logged.
    assert "13801126439" not in j.stdout and "李娜" not in j.stdout and "138****6439" in j.stdout
    from wuye.archive.privacy import reveals

    assert [(e["command"], e["staff"]) for e in reveals(store.root)] == [("import", "liuyang")]  # the -v --reveal above
    j = imported(run("import", path, "--as", "liuyang", "--dry-run", "--json", "--reveal"))
    assert "13801126439" in j.stdout and "李娜" in j.stdout
    assert len(reveals(store.root)) == 2 and str(path) in reveals(store.root)[1]["subject"]


LEDGER_CSV = """\
    客户编号,客户名称,统一社会信用代码,房号,面积,联系人,联系电话,租赁押金,入驻日期,租期 
    ,博雅科技（北京）有限公司,{a},1205,126.4,高志远,138-1234-5678,"￥120,000.00",2024.01.05,2024/1/1-2026/12/31
    T0100,北京云帆数据科技有限公司,{b},1201,312.5,李娜,13801126439,43.2万,2024年1月5日,2023/3/1至2028/2/29
    ,,,,,,,,,
    """.format(a=USCC_A, b=USCC_B)


def test_csv_in_utf8_with_bom_and_in_gbk_read_the_same(store, run, snapshot, tmp_path):
    imported(run("import", write_csv(tmp_path / "bom.csv", LEDGER_CSV), "--as", "liuyang"))
    assert read(store, "tenants/T0100/profile.yaml")["lease_end"] == dt.date(2028, 2, 29)
    assert read(store, "tenants/T0101/profile.yaml")["name"] == "博雅科技（北京）有限公司"  # after the given id
    before = snapshot(store)
    # The same ledger saved by Excel on a Chinese Windows: GBK, detected and read alike.
    gbk = write_csv(tmp_path / "gbk.csv", LEDGER_CSV, "gbk")
    r = imported(run("import", gbk, "--as", "liuyang"))
    assert "没有变化" in r.stderr and snapshot(store) == before
    imported(run("import", gbk, "--as", "liuyang", "--encoding", "gbk"))
    assert snapshot(store) == before


def test_a_file_in_an_unknown_encoding_names_encoding(store, run, snapshot, refused, tmp_path):
    bad = tmp_path / "big5.csv"
    bad.write_bytes("客户名称,房号\n".encode("utf-8") + b"\x80\x80,1205\n")
    before = snapshot(store)
    refused(run("import", bad, "--as", "liuyang"), "big5.csv", "--encoding")
    refused(run("import", bad, "--as", "liuyang", "--encoding", "gbk"), "big5.csv", "gbk")
    refused(run("import", bad, "--as", "liuyang", "--encoding", "klingon"), "klingon")
    assert snapshot(store) == before


# --- bad input: refused with file, row and column; the store unchanged ---------------------------


def encrypted_xlsx(path):
    """What Excel writes for a password-protected workbook: an OLE compound file holding
    EncryptionInfo and EncryptedPackage streams (a minimal but well-formed one)."""
    sector = 512
    end, free, fat_sect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16))
    header += struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, bytes(6), 0, 1, 1, 0, 0x1000, end, 0, end, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108
    fat = [fat_sect, end] + list(range(3, 10)) + [end] + list(range(11, 18)) + [end]
    fat += [free] * (128 - len(fat))

    def entry(name, kind, left, right, child, start, size):
        raw = (name + "\0").encode("utf-16-le") if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBBIII", len(raw), kind, 1, left, right, child) + bytes(16)
                + struct.pack("<IQQIQ", 0, 0, 0, start, size))

    directory = (entry("Root Entry", 5, nostream, nostream, 1, end, 0)
                 + entry("EncryptionInfo", 2, nostream, 2, nostream, 2, 4096)
                 + entry("EncryptedPackage", 2, nostream, nostream, nostream, 10, 4096)
                 + entry("", 0, nostream, nostream, nostream, 0, 0))
    body = struct.pack("<128I", *fat) + directory + bytes(4096) + bytes(4096)
    assert len(header) == sector and len(body) % sector == 0
    path.write_bytes(bytes(header) + body)
    return path


def bad_inputs(tmp_path):
    """(name, file, extra args, fragments the refusal must show)."""
    def csv(name, text):
        return write_csv(tmp_path / name, text)

    head = "客户名称,统一社会信用代码,房号,联系人,联系电话,租赁押金\n"
    good = f"博雅科技,{USCC_A},1205,高志远,13812345678,120000\n"
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04 this is no workbook")
    bad_phone = rows()
    bad_phone[1][6] = "1380112"
    return [
        ("missing", tmp_path / "nope.xlsx", [], ["nope.xlsx", "文件不存在"]),
        ("unreadable", garbage, [], ["garbage.xlsx", "无法作为 xlsx 工作簿读取"]),
        ("password", encrypted_xlsx(tmp_path / "locked.xlsx"), [], ["locked.xlsx", "密码保护"]),
        ("no header", csv("nohead.csv", "甲,乙,丙\n1,2,3\n"), [], ["nohead.csv", "找不到表头行"]),
        ("unknown header", csv("unknown.csv", "客户名称,房号,客户等级\n博雅科技,1205,A\n"), [],
         ["unknown.csv:1:3", "客户等级", "--mapping"]),
        ("bad uscc", csv("uscc.csv", head + "博雅科技,12345,1205,高志远,13812345678,120000\n"), [],
         ["uscc.csv:2:2", "统一社会信用代码"]),
        ("bad phone", csv("phone.csv", head + "博雅科技,,1205,高志远,1380112,120000\n"), [], ["phone.csv:2:5", "电话号码无效"]),
        ("bad phone xlsx", write_xlsx(tmp_path / "phone.xlsx", bad_phone), [], ["phone.xlsx[客户台账]:5:G", "电话号码无效"]),
        ("negative", csv("neg.csv", head + "博雅科技,,1205,高志远,13812345678,-500\n"), [], ["neg.csv:2:6", "不能为负"]),
        ("not a number", csv("nan.csv", head + "博雅科技,,1205,高志远,13812345678,十二万\n"), [], ["nan.csv:2:6", "不是数字"]),
        ("no such category", csv("cat.csv", head + good), ["--category", "parking"], ["未知档案类别", "parking"]),
        ("unsafe id", csv("id.csv", "客户编号,客户名称\n../T1,博雅科技\n"), [], ["id.csv:2:1", "不能用作文件名"]),
        ("same tenant twice", csv("twice.csv", head + good + f"博雅科技,{USCC_A},1206,高志远,13812345678,120000\n"), [],
         ["twice.csv:3", "twice.csv:2", "两行内容不同", "房号"]),
        ("bad date", csv("date.csv", "客户名称,入驻日期\n博雅科技,1/5/2024\n"), [], ["date.csv:2:2", "歧义"]),
        ("xls", csv("old.xls", "x"), [], ["old.xls", ".xls"]),
    ]


def test_bad_input_is_refused_with_its_place_and_nothing_written(store, run, snapshot, refused, tmp_path):
    before = snapshot(store)
    for name, path, args, fragments in bad_inputs(tmp_path):
        r = run("import", path, "--as", "liuyang", *args)
        refused(r, *fragments)
        assert snapshot(store) == before, name


def test_any_error_refuses_the_whole_import_listing_every_problem(store, run, snapshot, refused, tmp_path):
    data = rows()
    data[1][6] = "12345"
    data[2][7] = "-1"
    before = snapshot(store)
    r = run("import", write_xlsx(tmp_path / "l.xlsx", data), "--as", "liuyang")
    refused(r, "共 2 个问题", "l.xlsx[客户台账]:5:G", "l.xlsx[客户台账]:6:H")
    assert snapshot(store) == before


def test_a_unit_leased_to_another_tenant_is_refused(tenant, run, snapshot, refused, tmp_path):
    before = snapshot(tenant)
    r = run("import", write_csv(tmp_path / "l.csv", "客户名称,房号\n北京新客户有限公司,1205\n"), "--as", "liuyang", store=tenant)
    refused(r, "l.csv:2:2", "1205", "T0001")
    assert snapshot(tenant) == before


def test_unknown_staff_is_refused(store, run, snapshot, refused, tmp_path):
    before = snapshot(store)
    refused(run("import", write_xlsx(tmp_path / "l.xlsx"), "--as", "nobody"), "nobody")
    assert snapshot(store) == before


def test_mapping_names_headers_the_table_does_not_know(store, run, snapshot, refused, tmp_path):
    path = write_csv(tmp_path / "l.csv", "租户全称,铺面编号,客户等级\n博雅科技,1205,A\n")
    refused(run("import", path, "--as", "liuyang"), "找不到表头行", "租户全称")
    one = write_csv(tmp_path / "one.csv", "客户名称,铺面编号,客户等级,联系人\n博雅科技,1205,A,高志远\n")
    refused(run("import", one, "--as", "liuyang"), "one.csv:1:2", "铺面编号", "one.csv:1:3", "客户等级")
    bad = tmp_path / "bad.yaml"
    bad.write_text("租户全称: company_name\n", encoding="utf-8")
    before = snapshot(store)
    refused(run("import", path, "--as", "liuyang", "--mapping", bad), "bad.yaml", "company_name")
    assert snapshot(store) == before
    m = tmp_path / "m.yaml"
    m.write_text("租户全称: name\n铺面编号: units\n客户等级: ignore\n", encoding="utf-8")
    imported(run("import", path, "--as", "liuyang", "--mapping", m))
    assert read(store, "tenants/T0001/profile.yaml")["units"] == ["1205"]


# --- record sheets and several sheets -----------------------------------------------------------


def test_payments_from_finance_append_to_each_tenant_once(tenant, run, git_log, snapshot, refused, tmp_path):
    fees = write_csv(tmp_path / "缴费.csv", """\
        客户编号,客户名称,费用项目,所属期间,应收金额,实收金额,缴费日期,收据编号
        T0001,,物业管理费,2026年10月,"¥9,971.00",9971,2026/10/8,WY-1001
        ,柏彦科技,物业管理费,2026-11,9971,0,,
        """)
    r = imported(run("import", fees, "--as", "liuyang", "--category", "payments", store=tenant))
    assert "新增 2 条记录" in r.stderr
    entries = read(tenant, "tenants/T0001/payments.yaml")["entries"]
    assert [(e["id"], e["kind"], e["period"], e["amount"], e["paid"]) for e in entries] == [
        ("PAY-0001", "fee", "2026-10", "9971.00", "9971.00"), ("PAY-0002", "fee", "2026-11", "9971.00", "0.00")]
    assert entries[0]["receipt_no"] == "WY-1001" and entries[0]["paid_on"] == dt.date(2026, 10, 8)
    c = git_log(tenant)[0]
    assert c.trailers["Wuye-Import"] == "payments" and c.trailers["Wuye-Records"] == "2" and c.author == "刘洋"
    before = snapshot(tenant)
    assert "没有变化" in imported(run("import", fees, "--as", "liuyang", "--category", "payments", store=tenant)).stderr
    assert snapshot(tenant) == before
    unknown = write_csv(tmp_path / "u.csv", "客户名称,项目,金额\n不存在的公司,物业管理费,100\n")
    refused(run("import", unknown, "--as", "liuyang", "--category", "缴费记录", store=tenant), "u.csv:2:1", "不存在的公司")
    assert snapshot(tenant) == before


def test_a_json_cell_nested_too_deeply_is_refused_at_its_cell(tenant, run, snapshot, refused, tmp_path):
    """A closing mark's `before` is a JSON object in its cell (as the export writes it); a hostile
    cell of 100,000 `[` would overflow Python's JSON parser, and is one located refusal instead."""
    before = snapshot(tenant)
    bad = write_csv(tmp_path / "n.csv", "客户编号,项目,金额,迁出结清·迁出案件,迁出结清·结清前\n"
                    "T0001,物业管理费,100,MO-2026-0001," + "[" * 100_000 + "\n")
    refused(run("import", bad, "--as", "liuyang", "--category", "payments", store=tenant), "n.csv:2:5", "嵌套过深")
    assert snapshot(tenant) == before


def test_repairs_from_a_yaml_list(tenant, run, tmp_path):
    f = tmp_path / "repairs.yaml"
    f.write_text(textwrap.dedent("""\
        - 客户编号: T0001
          报修时间: 2026-11-02 09:30
          位置: 1205 室卫生间
          内容: 水龙头漏水
          紧急: 否
        - tenant_id: T0001
          reported_at: '2026-11-03T14:00:00+08:00'
          location: 1205 室
          description: 空调不制冷
          urgent: true
        """), encoding="utf-8")
    imported(run("import", f, "--as", "zhangwei", "--category", "repairs", store=tenant))
    entries = read(tenant, "tenants/T0001/repairs.yaml")["entries"]
    assert [(e["id"], e["description"], e["urgent"]) for e in entries] == [
        ("REP-0001", "水龙头漏水", False), ("REP-0002", "空调不制冷", True)]
    assert entries[0]["reported_at"] == "2026-11-02T09:30:00+08:00"


def test_a_workbook_with_ledger_sheets_and_a_payments_sheet(store, run, git_log, tmp_path):
    data = rows()
    fees = (["客户名称", "项目", "所属期间", "金额", "已付"],
            [["北京云帆数据科技有限公司", "物业管理费", dt.date(2026, 10, 1), 46807.8, 46807.8]])
    second = (HEADERS, [[4, "北京星辰互动网络科技有限公司", USCC_D, "502", 142.75, "黄磊", "18501237740", 85650, None,
                         "2025/3/1", "2025-03-01", "2027-02-28"]])
    path = write_xlsx(tmp_path / "全部.xlsx", data, extra={"B座": second, "缴费记录（含押金）": fees, "下拉选项": (["行业"], [["软件"]])})
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb["下拉选项"].sheet_state = "hidden"
    wb.save(path)
    r = imported(run("import", path, "--as", "liuyang"))
    assert "全部.xlsx[下拉选项]: 警告：隐藏的工作表，未导入" in r.stderr
    assert read(store, "tenants/T0004/profile.yaml")["name"] == "北京星辰互动网络科技有限公司"
    pay = read(store, "tenants/T0002/payments.yaml")["entries"]
    assert [(e["kind"], e["item"], e.get("period"), e["amount"]) for e in pay] == [
        ("deposit", "租赁押金", None, "432000.00"), ("fee", "物业管理费", "2026-10", "46807.80")]
    c = git_log(store)[0]
    assert c.trailers["Wuye-Import"] == "ledger, payments" and c.trailers["Wuye-Created"] == "4"


def test_a_store_document_in_yaml_opens_dossiers(store, run, refused, snapshot, tmp_path):
    doc = tmp_path / "transfer.yaml"
    doc.write_text(textwrap.dedent(f"""\
        wuye_export: 1
        units:
          - id: '1205'
            floor: 12
            area: '126.40'
            status: leased
            tenant: T0042
        tenants:
          - tenant_id: T0042
            profile:
              tenant_id: T0042
              name: 博雅科技（北京）有限公司
              uscc: {USCC_A}
              units: ['1205']
              updated_by: sunhao
              updated_at: '2026-01-02T09:00:00+08:00'
            emergency:
              entries:
                - id: EMG-0007
                  name: 高志远
                  phone_24h: '13812345678'
                  recorded_by: sunhao
                  recorded_at: '2026-01-02T09:05:00+08:00'
        """), encoding="utf-8")
    imported(run("import", doc, "--as", "liuyang"))
    assert read(store, "tenants/T0042/profile.yaml")["updated_by"] == "sunhao"  # the source's own stamps
    assert read(store, "tenants/T0042/emergency.yaml")["entries"][0]["id"] == "EMG-0007"
    assert read(store, "units/1205.yaml")["floor"] == 12
    bad = tmp_path / "bad.yaml"
    bad.write_text(doc.read_text(encoding="utf-8").replace("'13812345678'", "'12345'"), encoding="utf-8")
    before = snapshot(store)
    refused(run("import", bad, "--as", "liuyang"), "bad.yaml:21:11", "phone_24h")
    assert snapshot(store) == before
