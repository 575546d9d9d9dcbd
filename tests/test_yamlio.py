"""Reading YAML strictly (located refusals) and writing it back round-trip (comments survive).

The first half tests `wuye.yaml` functions directly; the second feeds the same bad files to
`wuye archive add --file` and checks the refusal: exit 1, the file and line named, nothing changed.
"""

from __future__ import annotations

import textwrap

import pytest

from wuye.storage import yamlio
from wuye.errors import WuyeError

GOOD_REPAIR = textwrap.dedent("""\
    reported_at: 2026-11-03T09:30:00+08:00
    location: 1205 室卫生间
    description: 洗手盆下水管漏水
""")

# name -> (file bytes, the fragments the refusal must name)
BAD_FILES = {
    "malformed": (b"reported_at: [2026\nlocation: a\n", ["YAML 格式错误", ":2:9:"]),
    "duplicate_key": (
        "reported_at: 2026-11-03T09:30:00+08:00\nlocation: 一楼\nlocation: 二楼\ndescription: x\n".encode(),
        ["重复的键", "location", ":3:1:"],
    ),
    "anchor_alias": (
        b"reported_at: &t 2026-11-03T09:30:00+08:00\nlocation: a\ndescription: *t\n",
        ["锚点或别名", ":1:14:"],
    ),
    "alias_only": (b"location: a\ndescription: *t\n", ["锚点或别名", ":2:14:"]),
    "python_tag": (
        b"reported_at: 2026-11-03T09:30:00+08:00\nlocation: !!python/object:os.system x\ndescription: x\n",
        ["标签", "python/object", ":2:11:"],
    ),
    "local_tag": (b"location: !secret x\ndescription: y\n", ["标签", ":1:11:"]),
    "invalid_utf8": (
        "reported_at: 2026-11-03T09:30:00+08:00\nlocation: 一楼\n".encode() + b"description: \xb0\xec\xb9\xab\n",
        ["UTF-8", ":3:14:"],
    ),
    # Saved by an old editor as GBK (柏 is b0 d8: a stray continuation byte in UTF-8).
    "gbk": ("location: 柏彦大厦\ndescription: 漏水\n".encode("gbk"), ["UTF-8", ":1:11:"]),
    "nul_byte": (b"location: a\x00\ndescription: b\n", ["空字符", ":1"]),
    "too_big": (b"description: " + b"x" * (1024 * 1024) + b"\n", ["1 MiB"]),
}


def _write(tmp_path, name: str, raw: bytes):
    p = tmp_path / f"{name}.yaml"
    p.write_bytes(raw)
    return p


# --- the reader ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_reader_refuses_with_file_line_and_column(tmp_path, name):
    raw, fragments = BAD_FILES[name]
    p = _write(tmp_path, name, raw)
    with pytest.raises(WuyeError) as e:
        yamlio.read(p, f"in/{name}.yaml")
    message = str(e.value)
    assert message.startswith(f"in/{name}.yaml")
    for f in fragments:
        assert f in message, (f, message)
    assert e.value.problems and e.value.problems[0].path == f"in/{name}.yaml"


def test_reader_accepts_exactly_one_mebibyte(tmp_path):
    body = b"note: " + b"x" * (yamlio.MAX_BYTES - len(b"note: ") - 1) + b"\n"
    assert len(body) == yamlio.MAX_BYTES
    assert yamlio.read(_write(tmp_path, "edge", body), "edge.yaml")["note"].startswith("xxx")


def test_reader_skips_a_utf8_bom_and_keeps_chinese(tmp_path):
    p = _write(tmp_path, "bom", "\ufeffname: 柏彦科技\n".encode("utf-8"))
    assert yamlio.read(p, "bom.yaml") == {"name": "柏彦科技"}


def test_reader_keeps_quoted_numbers_as_text(tmp_path):
    p = _write(tmp_path, "q", b"phone: '013812345678'\nbare: 013812345678\nid: '0101'\n")
    data = yamlio.read(p, "q.yaml")
    assert data["phone"] == "013812345678" and data["id"] == "0101"
    assert data["bare"] != "013812345678"  # unquoted, YAML made it a number: why the models refuse it


def test_asterisk_and_ampersand_inside_text_are_not_aliases(tmp_path):
    p = _write(tmp_path, "t", "note: 'A&B 公司 * 2'\nother: \"!重要\"\n".encode())
    assert yamlio.read(p, "t.yaml") == {"note": "A&B 公司 * 2", "other": "!重要"}


def test_reader_refuses_a_missing_file_and_a_directory(tmp_path):
    with pytest.raises(WuyeError, match="不存在"):
        yamlio.read(tmp_path / "nope.yaml", "nope.yaml")
    with pytest.raises(WuyeError, match="目录"):
        yamlio.read(tmp_path, "dir")


def test_english_refusal(tmp_path, monkeypatch):
    monkeypatch.setenv("WUYE_LANG", "en")
    raw, _ = BAD_FILES["duplicate_key"]
    with pytest.raises(WuyeError, match="duplicate key"):
        yamlio.read(_write(tmp_path, "d", raw), "d.yaml")


# --- the round trip --------------------------------------------------------------------------

HAND_KEPT = textwrap.dedent("""\
    # 10. 维修记录 / Repairs
    entries:
      - id: REP-0001
        reported_at: '2026-11-01T09:00:00+08:00'
        location: '1205'
        description: 漏水  # 卫生间，王丽手记
        cost: '120.00'
        recorded_by: wangli
        recorded_at: '2026-11-01T09:05:00+08:00'
""")


def test_round_trip_keeps_text_comments_and_order_byte_for_byte():
    assert yamlio.dumps(yamlio.load_roundtrip(HAND_KEPT)) == HAND_KEPT


def test_round_trip_edit_keeps_other_comments():
    doc = yamlio.load_roundtrip(HAND_KEPT)
    doc["entries"][0]["cost"] = "150.00"
    out = yamlio.dumps(doc)
    assert "# 卫生间，王丽手记" in out and "# 10. 维修记录" in out
    assert "cost: '150.00'" in out


def test_dump_never_folds_a_long_chinese_line():
    text = "很长的说明" * 200
    out = yamlio.dumps({"note": text})
    assert out == f"note: {text}\n"


def test_a_value_met_twice_is_written_twice_not_as_an_alias():
    """The line reader hands out one date object for equal fields; the reader refuses anchors,
    so the writer must never make one of them (nor of a list a caller reuses)."""
    import datetime as dt

    day, items = dt.date(2024, 1, 1), ["门禁卡"]
    out = yamlio.dumps({"moved_in": day, "signed_on": day, "a": {"keys": items}, "b": {"keys": items}})
    assert out == "moved_in: 2024-01-01\nsigned_on: 2024-01-01\na:\n  keys:\n    - 门禁卡\nb:\n  keys:\n    - 门禁卡\n"
    assert yamlio.loads(out, "x.yaml")["b"] == {"keys": ["门禁卡"]}


def test_plain_writes_money_as_strings_and_drops_empty_values():
    import datetime as dt
    from decimal import Decimal

    tz = dt.timezone(dt.timedelta(hours=8))
    data = yamlio.plain({"amount": Decimal("120.00"), "at": dt.datetime(2026, 11, 1, 9, 0, tzinfo=tz),
                         "day": dt.date(2026, 11, 1), "none": None, "empty": [], "nested": {"x": Decimal("1.5")}})
    assert data == {"amount": "120.00", "at": "2026-11-01T09:00:00+08:00", "day": dt.date(2026, 11, 1),
                    "nested": {"x": "1.5"}}
    assert "'120.00'" in yamlio.dumps(data)  # quoted: read back as text, never a float


# --- locating model errors -------------------------------------------------------------------


def test_validation_errors_are_placed_on_their_line():
    from pydantic import ValidationError

    from wuye.models.archive import BY_KEY, file_model

    text = HAND_KEPT.replace("cost: '120.00'", "cost: '-3'")
    with pytest.raises(ValidationError) as e:
        file_model(BY_KEY["repairs"]).model_validate(yamlio.loads(text, "r.yaml"))
    (p,) = yamlio.validation_problems("r.yaml", text, e.value)
    assert (p.line, p.col) == (7, 5)
    assert str(p).startswith("r.yaml:7:5: entries.0.cost:")
    assert "负" in p.message


# --- the same bad files through the CLI ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_archive_add_refuses_a_bad_file_and_changes_nothing(tenant, run, snapshot, refused, tmp_path, name):
    raw, fragments = BAD_FILES[name]
    p = _write(tmp_path, name, raw)
    before = snapshot(tenant)
    r = run("archive", "add", "T0001", "repairs", "--file", p, "--as", "wangli")
    refused(r, str(p), *fragments)
    assert r.stdout == ""
    assert snapshot(tenant) == before


def test_archive_new_refuses_a_bad_profile_file(store, run, snapshot, refused, tmp_path):
    p = _write(tmp_path, "profile", b"name: A\nname: B\n")
    before = snapshot(store)
    refused(run("archive", "new", "T0009", "--file", p, "--as", "wangli"), f"{p}:2:1:", "重复的键")
    assert snapshot(store) == before


def test_a_good_file_is_accepted(tenant, run, tmp_path):
    p = tmp_path / "repair.yaml"
    p.write_text(GOOD_REPAIR, encoding="utf-8")
    r = run("archive", "add", "T0001", "repairs", "--file", p, "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert "REP-0001" in r.stderr


def test_a_json_file_is_accepted(tenant, run, tmp_path):
    p = tmp_path / "repair.json"
    p.write_text('{"reported_at": "2026-11-03T09:30:00+08:00", "location": "大堂", "description": "灯不亮"}',
                 encoding="utf-8")
    r = run("archive", "add", "T0001", "repairs", "--file", p, "--as", "wangli")
    assert r.exit_code == 0, r.stderr


def test_a_located_message_stays_on_one_line_on_a_narrow_terminal(tenant, run, tmp_path, monkeypatch):
    # Editors and scripts read `path:line:col: message` per line; rich must not wrap it.
    monkeypatch.setenv("COLUMNS", "40")
    raw, _ = BAD_FILES["duplicate_key"]
    p = _write(tmp_path, "a_rather_long_file_name_for_a_narrow_terminal", raw)
    r = run("archive", "add", "T0001", "repairs", "--file", p, "--as", "wangli")
    assert r.exit_code == 1
    (line,) = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert line.startswith(f"错误：{p}:3:1: ") and line.endswith("YAML 格式错误：重复的键：location")


@pytest.mark.parametrize("text, zh, en", [
    ("name: 柏彦: 科技\n", "此处不能有冒号（:）", "mapping values are not allowed in this context"),
    ("- a\nb: 1\n", "列表项应以「- 」开头", "did not find expected '-' indicator"),
    ("units: [801, 802\n", "方括号 [ ] 中缺少逗号或右方括号", "did not find expected ',' or ']'"),
    ("a: 1\n---\nb: 2\n", "一个文件只能有一份内容", "but found another document"),
])
def test_a_syntax_error_is_said_in_chinese_and_in_english_with_its_position(monkeypatch, text, zh, en):
    monkeypatch.delenv("WUYE_LANG", raising=False)
    with pytest.raises(WuyeError) as e:
        yamlio.loads(text, "tenants/T0001/profile.yaml")
    said = str(e.value)
    assert said.startswith("tenants/T0001/profile.yaml:") and "YAML 格式错误：" + zh in said
    assert not any(c.isascii() and c.isalpha() for c in said.split("：", 1)[1].split("（")[0]), said
    monkeypatch.setenv("WUYE_LANG", "en")
    with pytest.raises(WuyeError) as e:
        yamlio.loads(text, "tenants/T0001/profile.yaml")
    assert f"invalid YAML: {en}" in str(e.value)
