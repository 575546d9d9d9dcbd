"""`wuye export`: xlsx with a sheet per category, a CSV ledger, and the store's own JSON/YAML; every
one of them imports back to the same store content."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import pytest
from test_import import USCC_D, imported, write_xlsx

from wuye.storage import yamlio
from wuye.models.archive import BY_KEY, CATEGORIES
from wuye.storage.store import Store


@pytest.fixture
def full(store, run, tmp_path):
    """A store with three tenants from a ledger, then records of several kinds from other feeds."""
    imported(run("import", write_xlsx(tmp_path / "l.xlsx"), "--as", "liuyang"))
    feeds = {
        "move_in": "客户编号,出入证发放数,车位,迁入表底·电表读数,迁入表底·水表读数\nT0001,12,B1-006、B1-007,9650.2,231.50\n",
        "payments": "客户编号,类别,项目,所属期间,金额,已付,应缴日期\nT0001,费用,物业管理费,2026-10,9971.05,0,2026-10-10\n",
        "correspondence": "客户编号,日期,方向,文件类别,文号,标题,知会部门\nT0002,2026-11-02,out,notice,通知〔2026〕12号,停水通知,engineering、security\n",
        "emergency": "客户名称,姓名,24 小时电话,顺序\n北京云帆数据科技有限公司,李娜,13801126439,2\n",
        "violations": "客户编号,日期,类别,内容,金额\nT0003,2026-09-01,欠费,9 月物业费未缴,9971.00\n",
    }
    for key, text in feeds.items():
        f = tmp_path / f"{key}.csv"
        f.write_text(text, encoding="utf-8")
        imported(run("import", f, "--as", "liuyang", "--category", key))
    return store


def fresh_store(_store_template, tmp_path) -> Store:
    """Another store with the same staff and nothing else (the session template, copied)."""
    src, _ = _store_template
    root = tmp_path / "fresh"
    shutil.copytree(src, root, symlinks=True)
    return Store(root.resolve())


def content(store: Store) -> dict:
    """Every tenant and unit file, as its model reads it: typed values (an area of 231.50 and one
    of 231.5 are equal), comments and formatting aside."""
    from wuye.models.archive import file_model
    from wuye.models.store import Unit

    out = {}
    for tid in store.tenant_ids():
        for c in CATEGORIES:
            rel = f"tenants/{tid}/{c.filename}"
            if store.path(rel).is_file():
                data = yamlio.read(store.path(rel), rel)
                if c.key == "payments":
                    # Who answers for each item is the importing store's finance: a seal is made
                    # anew by whoever imports (trust/money.py), so it is not content to compare.
                    assert all(e.get("seal") for e in data["entries"])
                    data = {**data, "entries": [{k: v for k, v in e.items() if k != "seal"} for e in data["entries"]]}
                out[rel] = file_model(c).model_validate(data)
    for p in sorted(store.path("units").glob("*.yaml")):
        out[f"units/{p.name}"] = Unit.model_validate(yamlio.read(p, p.name))
    return out


def test_xlsx_has_a_sheet_per_category_with_chinese_headers_and_real_types(full, run, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "档案.xlsx"
    r = imported(run("export", "--as", "wangli", "-o", out))
    assert "已导出 3 个租户" in r.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == [c.title for c in CATEGORIES] + ["单元"]
    ws = wb["缴费记录（含押金）"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:6] == ["客户编号", "客户名称", "编号", "类别", "项目", "所属期间"] and header[-2:] == ["记录人", "记录时间"]
    rows = {(r[0].value, r[2].value): {h: c for h, c in zip(header, r)} for r in ws.iter_rows(min_row=2)}
    fee = rows[("T0001", "PAY-0003")]
    assert fee["金额"].value == 9971.05 and fee["金额"].number_format == "#,##0.00"
    assert fee["应缴日期"].is_date and fee["应缴日期"].value.date() == dt.date(2026, 10, 10)
    assert fee["记录时间"].is_date and fee["记录人"].value == "liuyang"
    assert fee["类别"].value == "费用" and fee["已付"].value == 0
    assert rows[("T0001", "PAY-0001")]["金额"].value == 120000
    profile = wb["客户单位资料"]
    assert [c.value for c in profile[1]][:3] == ["客户编号", "公司名称", "统一社会信用代码"]
    assert profile["A2"].value == "T0001" and profile.cell(2, [c.value for c in profile[1]].index("租期开始") + 1).is_date
    units = wb["单元"]
    assert [c.value for c in units[1]][:3] == ["房号", "楼层", "面积"] and units["A2"].data_type == "s"


def test_every_format_imports_back_to_the_same_content(full, run, snapshot, git_log, _store_template, tmp_path):
    before = snapshot(full)
    expected = content(full)
    for name in ("all.xlsx", "all.json", "all.yaml"):
        out = tmp_path / name
        imported(run("export", "--as", "wangli", "-o", out))
        # Into the same store: nothing to do, no commit.
        r = imported(run("import", out, "--as", "liuyang"))
        assert "没有变化" in r.stderr and snapshot(full) == before, name
        # Into an empty store: the same records, ids and stamps.
        other = fresh_store(_store_template, tmp_path / name.replace(".", "-"))
        imported(run("import", out, "--as", "sunhao", store=other))
        assert content(other) == expected, name
        assert git_log(other)[0].trailers["Wuye-Created"] == "3"


def test_an_english_export_has_english_headers_and_imports_back(full, run, snapshot, _store_template, tmp_path):
    """With WUYE_LANG=en no header or sheet name is Chinese (the fields' keys, the categories'
    English titles), choices keep their codes, and the workbook imports back the same."""
    from openpyxl import load_workbook

    en = {"WUYE_LANG": "en"}
    cjk = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
    out = tmp_path / "all-en.xlsx"
    imported(run("export", "--as", "wangli", "-o", out, env=en))
    wb = load_workbook(out)
    assert wb.sheetnames == [c.title_en[:31] for c in CATEGORIES] + ["units"]
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        assert header and not any(cjk.search(str(h)) for h in header), (ws.title, header)
    pay = wb[BY_KEY["payments"].title_en[:31]]
    header = [c.value for c in pay[1]]
    assert header[:5] == ["tenant_id", "tenant_name", "id", "kind", "item"]
    kinds = {r[3].value for r in pay.iter_rows(min_row=2)}
    assert kinds == {"fee", "deposit"}  # codes, in English
    other = fresh_store(_store_template, tmp_path / "en")
    imported(run("import", out, "--as", "sunhao", store=other))
    assert content(other) == content(full)
    csv_out = tmp_path / "ledger-en.csv"
    imported(run("export", "--as", "wangli", "-o", csv_out, env=en))
    assert csv_out.read_text(encoding="utf-8-sig").startswith("tenant_id,name,uscc,")
    before = snapshot(full)
    assert imported(run("import", csv_out, "--as", "liuyang")).exit_code == 0
    assert snapshot(full) == before  # the same ledger: nothing changed


def test_the_csv_ledger_reads_back_as_a_ledger(full, run, snapshot, tmp_path):
    out = tmp_path / "台账.csv"
    imported(run("export", "--as", "wangli", "-o", out))
    raw = out.read_bytes()
    assert raw.startswith("\ufeff客户编号,客户名称,统一社会信用代码".encode("utf-8"))
    text = raw.decode("utf-8-sig")
    assert "T0002,北京云帆数据科技有限公司" in text and "1201、1202,312.5、287.6" in text
    before = snapshot(full)
    assert "没有变化" in imported(run("import", out, "--as", "liuyang")).stderr
    assert snapshot(full) == before


def test_one_category_or_one_tenant(full, run, tmp_path):
    out = tmp_path / "pay.csv"
    imported(run("export", "--as", "wangli", "--category", "payments", "--tenant", "T0001", "-o", out))
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("客户编号,客户名称,编号,类别,项目") and len(lines) == 1 + 3
    r = imported(run("export", "--as", "wangli", "--format", "json", "--tenant", "云帆", "-o", "-"))
    doc = json.loads(r.stdout)
    assert [t["tenant_id"] for t in doc["tenants"]] == ["T0002"] and "units" in doc
    assert doc["tenants"][0]["emergency"]["entries"][0]["phone_24h"] == "13801126439"


def test_bad_export_requests_are_refused(full, run, refused, tmp_path):
    refused(run("export", "--as", "wangli", "-o", tmp_path / "x.pdf"), "--format")
    refused(run("export", "--as", "wangli", "-o", "-", "--format", "xlsx"), "xlsx")
    refused(run("export", "--as", "wangli", "-o", tmp_path / "x.xlsx", "--category", "parking"), "未知档案类别")
    refused(run("export", "--as", "wangli", "-o", tmp_path / "missing" / "x.csv"), "不存在")
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize("fmt", ["json", "yaml", "xlsx", "csv"])
def test_an_export_that_fails_midway_leaves_no_file(full, run, refused, tmp_path, fmt):
    # json and yaml are written a tenant at a time; a store file that cannot be read, found after
    # some tenants were written, must not leave half an export under the name asked for.
    last = sorted(p.name for p in (full.root / "tenants").iterdir() if p.is_dir())[-1]
    full.path(f"tenants/{last}/profile.yaml").write_text("name: [\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / f"archive.{fmt}"
    refused(run("export", "--as", "wangli", "-o", out), f"tenants/{last}/profile.yaml")
    assert list((tmp_path / "out").iterdir()) == []  # neither the file nor a temp file


def test_new_tenant_from_a_second_ledger_sheet_exports_with_its_units(full, run, tmp_path):
    from openpyxl import load_workbook

    data = [[4, "北京星辰互动网络科技有限公司", USCC_D, "502", 142.75, "黄磊", "18501237740", 85650, None,
             "2025/3/1", "2025-03-01", "2027-02-28"]]
    imported(run("import", write_xlsx(tmp_path / "b.xlsx", data), "--as", "liuyang"))
    out = tmp_path / "u.xlsx"
    imported(run("export", "--as", "wangli", "--category", "units", "-o", out))
    ws = load_workbook(out)["单元"]
    got = {r[0].value: (r[2].value, r[-2].value, r[-1].value) for r in ws.iter_rows(min_row=2)}
    assert got["502"] == (142.75, "在租", "T0004")
