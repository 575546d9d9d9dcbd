"""Issue 17, findings 1-3: 房号 as offices write them, a tenant found by 房号 in every command
that takes one, and `--set` by the field's Chinese title, with `archive fields` listing them.

Run through the CLI as a real subprocess, in both languages where the messages are new.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import git

UNITS = ("A座801", "3号楼2单元501室", "B1-1203", "商铺12号", "地下二层P-036")


def wuye(store, *args: str, lang: str | None = None):
    env = dict(os.environ, COLUMNS="250")
    if lang:
        env["WUYE_LANG"] = lang
    return subprocess.run([sys.executable, "-m", "wuye", "--store", str(store.root), *args],
                          capture_output=True, text=True, env=env, check=False)


@pytest.fixture
def office(store):
    """`store` with one tenant in each of UNITS, opened by the customer-service clerk."""
    for i, unit in enumerate(UNITS, 1):
        r = wuye(store, "archive", "new", f"T{i:04d}", "--name", f"北京柏彦{i}号公司", "--unit", unit, "--as", "wangli")
        assert r.returncode == 0, r.stderr
    return store


def test_real_units_go_in_and_are_shown_as_written(office):
    # Finding 1: 「房号 'A座801' 无效」 before; now every way an office writes a unit goes in.
    names = sorted(p.name for p in office.path("units").glob("*.yaml"))
    assert len(names) == len(UNITS)
    # The file names are safe ids, never the 房号 itself...
    assert "B1-1203.yaml" in names
    assert all(n.isascii() and "/" not in n for n in names)
    # ...and the 房号 is shown as entered.
    r = wuye(office, "archive", "show", "T0001", "profile")
    assert r.returncode == 0 and "A座801" in r.stdout
    r = wuye(office, "archive", "list", "--json")
    assert sorted(u for row in json.loads(r.stdout) for u in row["units"]) == sorted(UNITS)
    assert wuye(office, "verify").returncode == 0


def test_a_unit_typed_full_width_is_the_same_unit(office, refused):
    r = wuye(office, "archive", "new", "T0009", "--name", "别的公司", "--unit", "Ａ座８０１", "--as", "wangli")
    assert r.returncode == 1 and "T0001" in r.stderr and "A座801" not in os.listdir(office.path("units"))


@pytest.mark.parametrize("bad", ["../1205", "a/b", "x\\y", " "])
def test_an_unsafe_unit_is_refused_and_changes_nothing(store, bad):
    head = git(store.root, "rev-parse", "HEAD")
    r = wuye(store, "archive", "new", "T0002", "--name", "X", "--unit", bad, "--as", "wangli")
    assert r.returncode == 1 and "房号" in r.stderr and "Traceback" not in r.stderr
    assert git(store.root, "rev-parse", "HEAD") == head
    assert not store.path("tenants/T0002").exists()
    r = wuye(store, "archive", "new", "T0002", "--name", "X", "--unit", bad, "--as", "wangli", lang="en")
    assert r.returncode == 1 and "unit" in r.stderr and "房号" not in r.stderr


def test_every_command_finds_a_tenant_by_its_unit(office):
    # Finding 2: `archive add`, `moveout start` and `log` wanted the exact id.
    r = wuye(office, "archive", "add", "3号楼2单元501室", "contacts", "--set", "name=李雷", "--set", "phone=13812345678",
             "--as", "wangli")
    assert r.returncode == 0, r.stderr
    assert "T0002" in r.stdout + r.stderr
    assert office.path("tenants/T0002/contacts.yaml").is_file()
    # Full-width digits and letters are the same 房号.
    r = wuye(office, "archive", "show", "Ｂ１-１２０３", "profile")
    assert r.returncode == 0 and "T0003" in r.stdout
    r = wuye(office, "log", "商铺12号", "--json")
    assert r.returncode == 0 and {c["trailers"].get("Wuye-Tenant") for c in json.loads(r.stdout)} == {"T0004"}
    r = wuye(office, "moveout", "start", "地下二层P-036", "--date", "2026-12-30", "--as", "zhaomin")
    assert r.returncode == 0, r.stderr
    case = r.stdout.split()[0]
    assert office.path(f"tenants/T0005/moveout/{case}/case.yaml").is_file()


def test_a_name_fragment_or_pinyin_in_archive_add(office):
    r = wuye(office, "archive", "add", "bjby1", "contacts", "--set", "name=李雷", "--set", "phone=13812345678",
             "--as", "wangli")
    assert r.returncode == 0, r.stderr
    assert office.path("tenants/T0001/contacts.yaml").is_file()


@pytest.mark.parametrize("lang, words", [(None, "匹配到 5 个租户"), ("en", "matches 5 tenants")])
def test_an_ambiguous_tenant_lists_the_candidates(office, lang, words):
    head = git(office.root, "rev-parse", "HEAD")
    r = wuye(office, "archive", "add", "北京柏彦", "contacts", "--set", "name=李雷", "--set", "phone=13812345678",
             "--as", "wangli", lang=lang)
    assert r.returncode == 1 and words in r.stderr
    assert all(f"T000{i}" in r.stderr for i in range(1, 6))
    assert git(office.root, "rev-parse", "HEAD") == head


@pytest.mark.parametrize("lang, words", [(None, "找不到租户"), ("en", "no tenant matches")])
def test_no_such_unit(office, lang, words):
    r = wuye(office, "moveout", "start", "C座999", "--date", "2026-12-30", "--as", "zhaomin", lang=lang)
    assert r.returncode == 1 and words in r.stderr and "C座999" in r.stderr


def test_set_takes_the_chinese_title(office):
    # Finding 3: `--set 联系电话=…` was refused as an unknown field.
    r = wuye(office, "archive", "add", "T0001", "contacts", "--set", "姓名=李雷", "--set", "联系电话=13812345678",
             "--as", "wangli")
    assert r.returncode == 0, r.stderr
    text = office.path("tenants/T0001/contacts.yaml").read_text(encoding="utf-8")
    assert "name: 李雷" in text and "phone: '13812345678'" in text or "phone: \"13812345678\"" in text \
        or "phone: 13812345678" in text
    r = wuye(office, "archive", "add", "T0001", "profile", "--set", "行业=软件", "--as", "wangli")
    assert r.returncode == 0, r.stderr
    assert "industry: 软件" in office.path("tenants/T0001/profile.yaml").read_text(encoding="utf-8")


def test_archive_fields_lists_titles_types_and_required(store):
    r = wuye(store, "archive", "fields", "contacts", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["key"]: row for row in json.loads(r.stdout)}
    assert rows["phone"]["title"] == "电话" and rows["phone"]["required"] is True
    assert rows["note"]["required"] is False and rows["primary"]["type"] == "boolean"
    r = wuye(store, "archive", "fields", "客户联络资料")
    assert r.returncode == 0 and "主要联系人" in r.stdout and "必填" in r.stdout
    r = wuye(store, "archive", "fields", "contacts", lang="en")
    assert r.returncode == 0 and "Primary" in r.stdout and "required" in r.stdout and "主要联系人" not in r.stdout


def test_moveout_fields_lists_a_steps_fields(store):
    r = wuye(store, "moveout", "fields", "engineering_inspection", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["key"]: row for row in json.loads(r.stdout)}
    assert rows["meter_electricity"]["title"] == "电表终读数"
    r = wuye(store, "moveout", "fields", "nope")
    assert r.returncode == 1 and "未知步骤" in r.stderr


def test_a_ledger_of_real_units_imports_without_a_mapping(store, tmp_path):
    # Finding 1: a ledger whose 房号 column reads A座801 … was refused row by row, and each row
    # had a second error 「1 areas for 0 units」.
    ledger = tmp_path / "台账.csv"
    ledger.write_text("客户编号,公司名称,房号,面积\nL001,广州某某有限公司,A座801,120.5\n"
                      "L002,深圳某某有限公司,3号楼2单元501室,80\nL003,杭州某某有限公司,B1-1203,60\n", encoding="utf-8-sig")
    r = wuye(store, "import", str(ledger), "--as", "wangli")
    assert r.returncode == 0, r.stderr
    for unit, tid in (("A座801", "L001"), ("3号楼2单元501室", "L002"), ("B1-1203", "L003")):
        r = wuye(store, "archive", "show", unit, "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["tenant_id"] == tid
    assert "area: '60'" in store.path("units/B1-1203.yaml").read_text(encoding="utf-8")


def test_a_refused_unit_in_a_ledger_is_one_error_not_two(store, tmp_path):
    ledger = tmp_path / "台账.csv"
    ledger.write_text("客户编号,公司名称,房号,面积\nL001,广州某某有限公司,A座801\\1,120.5\n", encoding="utf-8-sig")
    head = git(store.root, "rev-parse", "HEAD")
    r = wuye(store, "import", str(ledger), "--as", "wangli")
    assert r.returncode == 1 and "台账.csv:2" in r.stderr
    assert "共 1 个问题" in r.stderr
    assert "areas for" not in r.stderr and "个面积对应" not in r.stderr
    assert git(store.root, "rev-parse", "HEAD") == head


def test_unit_show_and_list_by_unit_and_floor(office):
    # A floor is what the unit file says (a hand-kept or imported field).
    path = office.path("units/B1-1203.yaml")
    path.write_text(path.read_text(encoding="utf-8") + "floor: 12\n", encoding="utf-8")
    r = wuye(office, "unit", "list", "--json")
    assert r.returncode == 0 and sorted(row["unit"] for row in json.loads(r.stdout)) == sorted(UNITS)
    r = wuye(office, "unit", "list", "--floor", "12", "--json")
    assert [(row["unit"], row["tenant"]) for row in json.loads(r.stdout)] == [("B1-1203", "T0003")]
    r = wuye(office, "unit", "show", "Ａ座８０１")
    assert r.returncode == 0 and "房号: A座801" in r.stdout and "T0001" in r.stdout and "在租" in r.stdout
    r = wuye(office, "unit", "show", "A座801", lang="en")
    assert "unit: A座801" in r.stdout and "leased" in r.stdout
    for lang, words in ((None, "找不到房号"), ("en", "no unit")):
        r = wuye(office, "unit", "show", "C座999", lang=lang)
        assert r.returncode == 1 and words in r.stderr


def test_moveout_set_takes_the_chinese_title(office):
    r = wuye(office, "moveout", "start", "B1-1203", "--date", "2026-12-30", "--set", "退租原因=租约到期", "--as", "zhaomin")
    assert r.returncode == 0, r.stderr
    case = r.stdout.split()[0]
    assert "reason: 租约到期" in office.path(f"tenants/T0003/moveout/{case}/steps/notice.yaml").read_text(encoding="utf-8")
