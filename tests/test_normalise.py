"""Reading the mess of old ledgers: every normaliser, the header mapping, and the fast YAML writer.

Each normaliser either returns the one value a cell can mean or raises ValueError with a message;
none guesses. The fast writer must produce exactly the bytes of the round-trip dumper.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wuye.transfer import ledger
from wuye.storage import yamlio
from wuye.transfer.importing import fast_dump


@pytest.mark.parametrize("raw, phone", [
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),
    (13812345678.0, "13812345678"),
    (13812345678, "13812345678"),
    ("010-6588 1234", "010-65881234"),
    ("(010)65881234", "010-65881234"),
    ("0755 8888 6666", "0755-88886666"),
    ("  ", None),
    ("-", None),
])
def test_phone_numbers_lose_spaces_and_dashes(raw, phone):
    assert ledger.norm_phone(raw) == phone


def test_two_phones_in_one_cell_are_refused():
    with pytest.raises(ValueError, match="13812345678/13912345678"):
        ledger.norm_phone("13812345678/13912345678")


@pytest.mark.parametrize("raw, amount", [
    ("¥120,000.00", "120000.00"),
    ("￥120,000", "120000.00"),
    ("12万", "120000.00"),
    ("14.211万", "142110.00"),
    ("1.5万元", "15000.00"),
    ("119,340.00元", "119340.00"),
    ("RMB 3,000", "3000.00"),
    ("１２０，０００", "120000.00"),
    (120000.0, "120000.00"),
    (0.1 + 0.2, "0.30"),
    (50000, "50000.00"),
    ("", None),
])
def test_amounts(raw, amount):
    got = ledger.norm_money(raw)
    assert (str(got) if got is not None else None) == amount


@pytest.mark.parametrize("raw, message", [
    ("-100", "不能为负"),
    ("(1,200.00)", "不能为负"),
    ("一万二", "不是数字"),
    ("12.345", "两位小数"),
    (True, "真假值"),
])
def test_bad_amounts_are_refused(raw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        ledger.norm_money(raw)


@pytest.mark.parametrize("raw", [
    "2024/1/5", "2024-01-05", "2024.01.05", "2024.1.5", "2024年1月5日", "2024 年 1 月 5 日", "20240105",
    "２０２４/１/５", dt.date(2024, 1, 5), dt.datetime(2024, 1, 5), 45296, 45296.0, "45296", "2024-01-05 00:00:00",
])
def test_dates_in_every_ledger_form(raw):
    assert ledger.norm_date(raw) == dt.date(2024, 1, 5)


@pytest.mark.parametrize("raw, message", [
    ("1/5/2024", "歧义"),
    ("05-01-2024", "歧义"),
    ("2024/2/30", "没有这一天"),
    ("下个月", "不是日期"),
    (123, "Excel 日期序号"),
    ("2024-01-05 14:30", "不含时间"),
])
def test_bad_dates_are_refused(raw, message):
    with pytest.raises(ValueError, match=message):
        ledger.norm_date(raw)


def test_times_take_the_buildings_zone_unless_they_name_one():
    tz = dt.timezone(dt.timedelta(hours=8))
    assert ledger.norm_datetime("2024/1/5 14:30", tz=tz) == dt.datetime(2024, 1, 5, 14, 30, tzinfo=tz)
    assert ledger.norm_datetime("2024-01-05T14:30:00+00:00", tz=tz) == dt.datetime(2024, 1, 5, 14, 30, tzinfo=dt.timezone.utc)
    assert ledger.norm_datetime(dt.datetime(2024, 1, 5, 9, 0), tz=tz).tzinfo == tz
    assert ledger.norm_datetime("2024年1月5日", tz=tz) == dt.datetime(2024, 1, 5, tzinfo=tz)


@pytest.mark.parametrize("raw, period", [
    ("2026-10", "2026-10"), ("2026年10月", "2026-10"), ("2026/1", "2026-01"), ("202610", "2026-10"),
    (dt.date(2026, 10, 1), "2026-10"), ("2026Q4", "2026-Q4"), ("2026年第四季度", "2026-Q4"), ("2026", "2026"),
    ("2026H1", "2026-H1"), ("2026-h2", "2026-H2"), ("2026年下半年", "2026-H2"), ("2026上半年", "2026-H1"),
])
def test_fee_periods(raw, period):
    assert ledger.norm_period(raw) == period


def test_a_day_is_not_a_period():
    with pytest.raises(ValueError, match="不是某一天"):
        ledger.norm_period(dt.date(2026, 10, 15))


def test_lease_terms_split_into_start_and_end():
    assert ledger.norm_date_range("2024/1/1-2026/12/31") == (dt.date(2024, 1, 1), dt.date(2026, 12, 31))
    assert ledger.norm_date_range("2024年1月1日至2026年12月31日") == (dt.date(2024, 1, 1), dt.date(2026, 12, 31))
    with pytest.raises(ValueError, match="开始日期至结束日期"):
        ledger.norm_date_range("三年")


def test_units_uscc_ids_and_text():
    assert ledger.norm_unit_list("1201、1202") == ["1201", "1202"]
    assert ledger.norm_unit_list("８０５") == ["805"]
    assert ledger.norm_unit_list("501室") == ["501"]
    assert ledger.norm_unit_list(1205.0) == ["1205"]
    assert ledger.norm_unit_list("2001,2002") == ["2001", "2002"]
    with pytest.raises(ValueError, match="无效"):
        ledger.norm_unit_list("A座/../x")  # '..' is no 房号
    assert ledger.norm_uscc("91110105ma0p61jp0x") == "91110105MA0P61JP0X"
    assert ledger.norm_uscc("3111 0000 2463 4127 82") == "311100002463412782"
    with pytest.raises(ValueError, match="文件名"):
        ledger.norm_id("../etc")
    assert ledger.norm_id("Ｔ０００１") == "T0001"
    # Full-width digits and letters fold; a company's full-width brackets stay.
    assert ledger.norm_text("  ＡＢＣ科技（北京）  有限公司 ") == "ABC科技（北京） 有限公司"
    assert ledger.norm_reading("186.4平米") == Decimal("186.4")
    assert ledger.norm_reading("383.5㎡") == Decimal("383.5")
    assert ledger.norm_reading_list("312.5、287.6") == [Decimal("312.5"), Decimal("287.6")]
    assert ledger.norm_reading_list("1,200.5") == [Decimal("1200.5")]
    assert ledger.norm_bool("是") is True and ledger.norm_bool("×") is False
    assert ledger.norm_int("12人") == 12
    with pytest.raises(ValueError):
        ledger.norm_int("十二")


def test_choices_take_values_or_chinese_labels():
    from wuye.models.archive import Payment

    spec = ledger.field_specs(Payment)["kind"]
    assert ledger.norm_choice("押金", choices=spec.choices) == "deposit"
    assert ledger.norm_choice("FEE", choices=spec.choices) == "fee"
    with pytest.raises(ValueError, match="fee"):
        ledger.norm_choice("租金", choices=spec.choices)


def test_headers_match_through_width_case_spaces_and_units():
    m = ledger.ledger_map()
    assert m.field_of("租赁押金（元）") == "lease_deposit"
    assert m.field_of(" 联 系 电 话 ") == "contact_phone"
    assert m.field_of("Company Name") == "name"
    assert m.field_of("面积(㎡)") == "area"
    assert m.field_of("序号") == ledger.IGNORE
    assert m.field_of("客户等级") is None
    m = ledger.ledger_map({"承租方名称": "name", "客户等级": "ignore"})
    assert m.field_of("承租方名称") == "name" and m.field_of("客户等级") == ledger.IGNORE


def test_column_letters():
    assert [ledger.col_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


# --- the fast writer -------------------------------------------------------------------------

def _rt(data: dict, comment: str | None = None) -> str:
    from ruamel.yaml.comments import CommentedMap

    doc = CommentedMap()
    if comment:
        doc.yaml_set_start_comment(comment)
    doc.update(data)
    return yamlio.dumps(doc)


SAMPLE = {
    "tenant_id": "T0001",
    "name": "博雅科技（北京）有限公司",
    "uscc": "91110105MA0LDQQU9L",
    "units": ["1205", "12-05", "B1-006"],
    "lease_start": dt.date(2024, 1, 5),
    "headcount": 12,
    "phone": "010-65881234",
    "mobile": "13812345678",
    "amount": "120000.00",
    "primary": True,
    "at": "2026-11-27T09:00:00+08:00",
    "note": "O'Neil: 说 \"好\" # 不是注释",
    "entries": [{"id": "PAY-0001", "kind": "deposit", "meter": {"water": "12.5"}, "tags": ["a", "yes", "null", ""]}],
}


def test_fast_writer_matches_the_round_trip_dumper():
    comment = "1. 客户单位资料 / Company profile"
    assert fast_dump(SAMPLE, comment) == _rt(SAMPLE, comment)
    assert fast_dump(SAMPLE) == _rt(SAMPLE)
    assert yamlio.loads(fast_dump(SAMPLE), "x") == SAMPLE
    # A seal's signature: long base64, written plain on one line by both writers.
    sealed = {"entries": [{"id": "PAY-0001", "seal": {"by": "qianfang", "signature": "U1NIU0lHAAAAAQAAADMAAAAL" + "c3No+/9z" * 40 + "Zg=="}}]}
    assert fast_dump(sealed) == _rt(sealed) and "signature: U1NIU0lH" in fast_dump(sealed)


_text = st.text(alphabet=st.sampled_from(list("0123456789aZ-_.:#'\" /、（）柏彦科技号+~@!%&*?,[]{}|>\tE")), max_size=14)
_scalar = st.one_of(_text, st.integers(-5, 10**12), st.booleans(), st.dates(dt.date(1990, 1, 1), dt.date(2100, 1, 1)))
_record = st.dictionaries(st.sampled_from(["id", "name", "phone", "amount", "note", "kind"]),
                          st.one_of(_scalar, st.lists(_scalar, min_size=1, max_size=3)), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["tenant_id", "name", "units", "note"]), st.one_of(_scalar, st.lists(_scalar, min_size=1, max_size=3)), min_size=1, max_size=4),
       st.lists(_record, min_size=1, max_size=3))
def test_fast_writer_agrees_on_any_record(head, entries):
    data = {**head, "entries": entries}
    assert fast_dump(data, "2. 缴费记录（含押金） / Payments and deposits") == _rt(data, "2. 缴费记录（含押金） / Payments and deposits")


def test_csv_headers_found_under_title_rows(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text(textwrap.dedent("""\
        柏彦大厦客户台账,,
        ,,
        序号,客户名称,房号
        1,柏彦科技,1205
        ,,
    """), encoding="utf-8-sig")
    table = ledger.read_csv(p, "l.csv", None, lambda t: True)
    m = ledger.ledger_map()
    assert ledger.find_header(table, m) == 2
    cols, problems = ledger.columns(table, 2, m)
    assert [c.field for c in cols] == [ledger.IGNORE, "name", "units"] and not problems
