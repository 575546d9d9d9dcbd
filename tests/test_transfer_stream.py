"""Big transfers: the JSON export read as a stream (transfer/jsonstream.py), refusing a malformed or
hostile document with one line that says where and writing nothing; the demo store's export
imported into an empty store; the xlsx writer (transfer/xlsx.py) read back cell by cell by both
readers, against values written out here by hand."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import pytest
from test_export import fresh_store, full  # noqa: F401 (the fixture)
from test_import import imported

from wuye.storage import yamlio


def _doc(tenants) -> dict:
    return {"wuye_export": 1, "building": "柏彦大厦", "units": [], "tenants": tenants}


PROFILE = {"tenant_id": "T0009", "profile": {"name": "北京星辰互动网络科技有限公司", "units": []}}

# (name, bytes of the file, what the one line of the refusal must hold)
HOSTILE = [
    ("syntax", (json.dumps(_doc([PROFILE]), ensure_ascii=False, indent=2)[:-40] + "\n  x: 1\n}").encode(),
     [r"bad\.json:\d+:\d+: ", "JSON 格式错误"]),
    ("truncated", json.dumps(_doc([PROFILE]), ensure_ascii=False, indent=2).encode()[:-30],
     [r"bad\.json:\d+:\d+: ", "文件提前结束"]),
    ("duplicate key", b'{"wuye_export": 1, "tenants": [{"tenant_id": "T0009", "profile": {"name": "A", "name": "B"}}]}',
     [r"bad\.json: tenants\[0\]: ", "重复的键：name"]),
    ("deep nesting", b'{"wuye_export": 1, "tenants": [{"tenant_id": "T0009", "note": ' + b"[" * 5000 + b"]" * 5000 + b"}]}",
     [r"bad\.json:1:\d+: ", "嵌套层数过多"]),
    ("not UTF-8", b'{"wuye_export": 1, "tenants": [{"tenant_id": "T\xff"}]}', [r"bad\.json:1:\d+: ", "JSON 格式错误"]),
    ("empty", b"", [r"bad\.json", "文件"]),
    ("tenants not a list", b'{"wuye_export": 1, "tenants": {"T0009": {}}}', [r"bad\.json: tenants: ", "应为租户档案的列表"]),
    ("a dossier without id", json.dumps(_doc([{"profile": {"name": "X"}}])).encode(), [r"bad\.json: tenants\[0\]: ", "tenant_id"]),
    ("trailing garbage", json.dumps(_doc([PROFILE])).encode() + b" {}", [r"bad\.json:1:\d+: ", "JSON 格式错误"]),
]


@pytest.mark.parametrize("name,data,expected", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_malformed_json_export_is_refused_in_one_line_and_nothing_is_written(store, run, refused, snapshot, tmp_path,
                                                                                name, data, expected):
    bad = tmp_path / "bad.json"
    bad.write_bytes(data)
    before = snapshot(store)
    r = run("import", bad, "--as", "liuyang")
    refused(r)
    # One line naming the file and where (a refusal found by the models has the import's heading
    # above its problems, as every refused import has).
    lines = [line for line in r.stderr.strip().splitlines() if "bad.json" in line]
    assert "Traceback" not in r.stderr and len(lines) == 1 and len(r.stderr.strip().splitlines()) <= 2, r.stderr
    for pattern in expected:
        assert re.search(pattern, lines[0]), (pattern, lines[0])
    assert snapshot(store) == before


def test_a_syntax_error_is_placed_at_its_line_and_column(store, run, refused, tmp_path):
    text = json.dumps(_doc([PROFILE, {**PROFILE, "tenant_id": "T0010"}]), ensure_ascii=False, indent=2)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if '"T0010"' in line)
    lines[at] = lines[at].replace('"T0010"', "T0010")  # an unquoted text, on line at + 1
    bad = tmp_path / "bad.json"
    bad.write_text("\n".join(lines), encoding="utf-8")
    col = lines[at].index("T0010") + 1
    r = run("import", bad, "--as", "liuyang")
    refused(r, f"bad.json:{at + 1}:{col}: ")


def test_a_large_streamed_export_names_the_dossier_of_an_invalid_record(store, run, refused, snapshot, tmp_path):
    """Past the stream's first chunks (64 KiB), a record the models refuse is still named by its
    place in the document, and nothing of the dossiers before it is written."""
    tenants = [{"tenant_id": f"T{i:04d}", "profile": {"name": f"公司{i}", "units": []},
                "supplement": {"entries": [{"date": "2026-01-0%d" % (1 + i % 9), "note": "补充" * 20}]}} for i in range(1, 601)]
    tenants[450]["supplement"]["entries"][0]["date"] = "2026-02-30"
    big = tmp_path / "big.json"
    big.write_text(json.dumps(_doc(tenants), ensure_ascii=False, indent=2), encoding="utf-8")
    assert big.stat().st_size > 200_000
    before = snapshot(store)
    r = run("import", big, "--as", "liuyang")
    refused(r, "big.json: tenants.450.supplement.entries.0.date: ")
    assert "共 1 个问题" in r.stderr
    assert snapshot(store) == before


def _without_seals(text: str) -> str:
    """A payments file without its items' seals: whoever imports seals every item anew (the
    importing store's finance answers for it; trust/money.py), so the signature and time differ."""
    return re.sub(r"\n    seal:\n(      .*\n)+", "\n", text)


@pytest.mark.slow  # the whole demo in a real process, then two imports: ~20 s
def test_the_demo_store_round_trips_through_its_json_and_xlsx_exports(tmp_path, run, store, _store_template):
    """(`store` for its staff keys.) `wuye demo --keep`, exported as JSON, imported into an empty store: every record as the
    demo has it (model by model), and the same bytes as the whole-document path (the YAML export)
    writes, file by file; exported as a workbook and imported, every record's values."""
    import os

    from test_export import content

    from wuye.storage.store import Store

    demo, keys = tmp_path / "demo", tmp_path / "demo-keys"
    env = {**os.environ, "WUYE_KEYS": str(keys)}
    subprocess.run([sys.executable, "-m", "wuye", "demo", "--keep", str(demo)], env=env, check=True, capture_output=True)
    out = {}
    for fmt in ("json", "yaml", "xlsx"):
        out[fmt] = tmp_path / f"demo.{fmt}"
        subprocess.run([sys.executable, "-m", "wuye", "--store", str(demo), "export", "--as", "wangli", "-o", str(out[fmt])],
                       env=env, check=True, capture_output=True)
    made = {}
    for fmt in ("json", "yaml", "xlsx"):
        other = fresh_store(_store_template, tmp_path / fmt)
        imported(run("import", out[fmt], "--as", "sunhao", store=other))
        made[fmt] = other
    def records(store) -> dict:
        # A closed item's closing mark (closed_by) names a move-out case of the demo's; the import
        # leaves it out, as it makes the seal anew (importing.STAMPS).
        out = {rel: m.model_dump(mode="json") for rel, m in content(store).items()}
        for rel, data in out.items():
            if rel.endswith("/payments.yaml"):
                data["entries"] = [{k: v for k, v in e.items() if k != "closed_by"} for e in data["entries"]]
        return out

    assert records(made["json"]) == records(Store(demo))
    # The workbook too, closing marks (a JSON object in a cell) included: the bench's 10,000-tenant
    # export could not be imported, its closed items refused as "closed_by.before: not a mapping".
    # A number cell keeps the value, not its trailing zeros (an area of 312.50 comes back 312.5):
    # compared as the models' values (Decimal("312.50") == Decimal("312.5")).
    def values(store) -> dict:
        out = content(store)
        for rel, m in out.items():
            if rel.endswith("/payments.yaml"):
                out[rel] = m.model_copy(update={"entries": [e.model_copy(update={"closed_by": None}) for e in m.entries]})
        return out

    assert values(made["xlsx"]) == values(Store(demo))
    files = sorted(p.relative_to(made["json"].root).as_posix() for p in made["json"].root.glob("tenants/*/*.yaml"))
    assert len(files) > 90  # eleven tenants, most categories each
    assert files == sorted(p.relative_to(made["yaml"].root).as_posix() for p in made["yaml"].root.glob("tenants/*/*.yaml"))
    for rel in files + sorted(p.relative_to(made["json"].root).as_posix() for p in made["json"].root.glob("units/*.yaml")):
        a = (made["json"].root / rel).read_text(encoding="utf-8")
        b = (made["yaml"].root / rel).read_text(encoding="utf-8")
        assert _without_seals(a) == _without_seals(b), rel
        yamlio.loads(a, rel)


# --- the xlsx writer ------------------------------------------------------------------------------


def test_the_workbook_reads_back_cell_by_cell(full, run, tmp_path):  # noqa: F811 (the fixture)
    """The export's workbook as openpyxl and python-calamine read it: sheets, headers, values and
    their types, against values written out here by hand (the fixture's ledger and feeds)."""
    import python_calamine as calamine
    from openpyxl import load_workbook

    out = tmp_path / "all.xlsx"
    imported(run("export", "--as", "wangli", "-o", out))
    wb = load_workbook(out)
    assert wb.sheetnames[:3] == ["客户单位资料", "缴费记录（含押金）", "装修工程文件"] and wb.sheetnames[-1] == "单元"
    pay = wb["缴费记录（含押金）"]
    header = [c.value for c in pay[1]]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("DDEBF7") for c in pay[1])
    assert pay.freeze_panes == "A2" and pay.auto_filter.ref == f"A1:{pay.cell(1, len(header)).column_letter}{pay.max_row}"
    row = {h: c for h, c in zip(header, next(r for r in pay.iter_rows(min_row=2) if r[2].value == "PAY-0003"))}
    assert row["客户编号"].value == "T0001" and row["客户名称"].value == "博雅科技（北京）有限公司"
    assert row["项目"].value == "物业管理费" and row["所属期间"].value == "2026-10" and row["类别"].value == "费用"
    assert row["金额"].value == 9971.05 and row["金额"].data_type == "n" and row["金额"].number_format == "#,##0.00"
    assert row["应缴日期"].value == dt.datetime(2026, 10, 10) and row["应缴日期"].number_format == "yyyy-mm-dd"
    assert row["记录时间"].is_date and row["记录时间"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert row["已付"].value == 0 and row["缴费日期"].value is None
    move_in = wb["迁入资料"]
    mh = [c.value for c in move_in[1]]
    mrow = {h: c.value for h, c in zip(mh, move_in[2])}
    assert mrow["客户编号"] == "T0001" and mrow["出入证发放数"] == 12 and mrow["车位"] == "B1-006、B1-007"
    units = wb["单元"]
    got = {r[0].value: (r[1].value, r[2].value) for r in units.iter_rows(min_row=2)}
    assert got["1205"] == (None, 126.4)  # the ledger gave no floor

    cal = calamine.CalamineWorkbook.from_path(str(out))
    assert cal.sheet_names == wb.sheetnames
    rows = cal.get_sheet_by_name("缴费记录（含押金）").to_python()
    assert rows[0] == header
    fee = next(r for r in rows if r[2] == "PAY-0003")
    assert fee[:7] == ["T0001", "博雅科技（北京）有限公司", "PAY-0003", "费用", "物业管理费", "2026-10", 9971.05]
    assert fee[header.index("应缴日期")] == dt.date(2026, 10, 10)


def test_text_shaped_like_markup_or_a_formula_is_kept_as_text(tmp_path):
    """A clerk's note is text in the sheet, whatever it looks like: `<r>…</r>` (XlsxWriter would
    write it as raw XML), `=HYPERLINK(…)` (openpyxl would write a formula), `&`, spaces at its ends."""
    import io

    import python_calamine as calamine
    from openpyxl import load_workbook

    from wuye.transfer import xlsx

    notes = ["<r><t>x</t></r>", '=HYPERLINK("http://x","y")', "A & B < C", "  两端有空格 ", "第一行\n第二行"]
    body = [f'<row r="{xlsx.ROW}">' + xlsx.cell(f"A{xlsx.ROW}", n, None) + xlsx.cell(f"B{xlsx.ROW}", i, None) + "</row>"
            for i, n in enumerate(notes)]
    buf = io.BytesIO()
    wb = xlsx.Workbook(buf)
    wb.sheet("备注's", ["备注", "序号"], [10, 8], len(body), iter(body))
    wb.close()
    path = tmp_path / "n.xlsx"
    path.write_bytes(buf.getvalue())
    ws = load_workbook(path)["备注's"]
    assert [c.value for c in ws["A"]] == ["备注", *notes] and [c.data_type for c in ws["A"]][1:] == ["s"] * len(notes)
    assert [c.value for c in ws["B"]][1:] == [0, 1, 2, 3, 4]
    assert [r[0] for r in calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("备注's").to_python()] == ["备注", *notes]


def test_a_workbooks_sheets_are_read_from_the_bytes_the_import_hashed(tmp_path):
    """transfer/ledger.read_xlsx reads a sheet's rows when they are first used (a 10,000-tenant
    export's sheets read at once were 683 MB): from the bytes it was given, not from the file,
    which may have changed meanwhile. An empty sheet is still left out, and merged cells filled."""
    import openpyxl

    from wuye.transfer import ledger

    path = tmp_path / "w.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "缴费记录"
    ws["B2"], ws["C2"], ws["B3"] = "客户编号", "金额", "T0001"
    ws.merge_cells("B3:B4")
    ws["C3"], ws["C4"] = 10, 20
    wb.create_sheet("空表")
    wb.save(path)
    raw = path.read_bytes()
    tables, notes = ledger.read_xlsx(path, "w.xlsx", raw)
    assert [t.sheet for t in tables] == ["缴费记录"] and notes == []
    path.write_bytes(b"not a workbook any more")
    table = tables[0]
    assert list(table.rows) == [(2, ["客户编号", "金额"]), (3, ["T0001", 10]), (4, ["T0001", 20])]
    assert table.col0 == 1 and table.column(0) == "B"
    assert table.rows[1:] == [(3, ["T0001", 10]), (4, ["T0001", 20])]
