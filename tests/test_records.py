"""The sample store in records/: it validates, it fills the twelve categories, its data is well formed.

records/ is plain files in the project (no .git); each test that runs wuye works on a copy made a
git repository, as `wuye demo` does. The identifiers are fictitious but must pass the same checksums
a real clerk's entry would, so the sample never teaches a wrong format.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wuye import yamlio
from wuye.archive import pinyin_initials
from wuye.cli import app
from wuye.create import FOLDERS, GITIGNORE, default_text
from wuye.models.archive import CATEGORIES
from wuye.models.store import Staff, StoreConfig, Unit
from wuye.staff import allowed_signers_text

RECORDS = Path(__file__).resolve().parent.parent / "records"
TENANTS = RECORDS / "tenants"
CST = dt.timedelta(hours=8)


def load(path: Path):
    return yamlio.read(path, str(path.relative_to(RECORDS)))


def tenant_ids() -> list[str]:
    return sorted(p.name for p in TENANTS.iterdir() if p.is_dir())


def staff_ids() -> set[str]:
    return {p.stem for p in (RECORDS / "staff").glob("*.yaml")}


def entries(tid: str, key: str) -> list[dict]:
    path = TENANTS / tid / f"{key}.yaml"
    return (load(path) or {}).get("entries") or [] if path.is_file() else []


@pytest.fixture(scope="module")
def store_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample") / "store"
    shutil.copytree(RECORDS, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch, tmp_path):
    for var in ("WUYE_STORE", "WUYE_USER", "WUYE_LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WUYE_KEYS", str(tmp_path / "keys"))


def test_archive_check_finds_no_errors_and_no_warnings(store_copy):
    result = CliRunner().invoke(app, ["--store", str(store_copy), "archive", "check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["problems"] == []
    assert report["tenants"] == len(tenant_ids())
    # Some dossiers are deliberately thin, so the completeness report has something to show.
    assert any(report["missing"].values())


def test_layout_is_what_wuye_init_makes():
    assert not (RECORDS / ".git").exists()
    assert (RECORDS / ".gitignore").read_text(encoding="utf-8") == GITIGNORE
    for folder in FOLDERS:
        assert (RECORDS / folder / ".gitkeep").is_file()
    assert (RECORDS / "workflows" / "moveout.yaml").read_text(encoding="utf-8") == default_text("moveout.yaml")
    # No keys in the sample: allowed_signers is the header wuye writes for staff without keys.
    assert (RECORDS / "allowed_signers").read_text(encoding="utf-8") == allowed_signers_text([])


def test_store_files_validate_against_their_models():
    config = StoreConfig.model_validate(load(RECORDS / "wuye.yaml"))
    assert config.building.address and config.building.management_office
    for path in sorted((RECORDS / "units").glob("*.yaml")):
        unit = Unit.model_validate(load(path))
        assert unit.id == path.stem
        assert unit.area is not None and unit.meters.electricity
    for path in sorted((RECORDS / "staff").glob("*.yaml")):
        member = Staff.model_validate(load(path))
        assert member.id == path.stem
        assert member.keys == []


def test_enough_tenants_and_all_twelve_categories_filled():
    ids = tenant_ids()
    assert len(ids) >= 8
    assert ids[:3] == ["T0001", "T0002", "T0003"]
    present = {c.key for tid in ids for c in CATEGORIES if (TENANTS / tid / c.filename).is_file()}
    assert present == {c.key for c in CATEGORIES}
    for c in CATEGORIES:
        if c.is_list:
            assert any(entries(tid, c.key) for tid in ids), c.key


def test_staff_cover_every_department():
    members = [Staff.model_validate(load(p)) for p in (RECORDS / "staff").glob("*.yaml")]
    assert len(members) >= 6
    departments = {d for m in members for d in m.departments}
    assert {"leasing", "customer_service", "engineering", "finance", "security", "management"} <= departments
    assert sum("customer_service" in m.departments for m in members) >= 2


def test_every_code_id_number_and_phone_passes_its_checksum():
    import phonenumbers
    from stdnum.cn import ric, uscc

    seen = {"uscc": 0, "legal_rep_id": 0, "phone": 0}
    for tid in tenant_ids():
        for path in (TENANTS / tid).glob("*.yaml"):
            data = load(path)
            records = data.get("entries", []) if "entries" in data else [data]
            for record in records:
                if "uscc" in record:
                    assert uscc.is_valid(record["uscc"]), (path, record["uscc"])
                    seen["uscc"] += 1
                if "legal_rep_id" in record:
                    assert ric.is_valid(record["legal_rep_id"]), (path, record["legal_rep_id"])
                    seen["legal_rep_id"] += 1
                for key in ("phone", "phone_24h", "contractor_phone"):
                    if key in record:
                        number = phonenumbers.parse(record[key], "CN")
                        assert isinstance(record[key], str) and phonenumbers.is_valid_number(number), (path, record[key])
                        seen["phone"] += 1
    assert seen["uscc"] == seen["legal_rep_id"] == len(tenant_ids())
    assert seen["phone"] > 20


def test_entries_follow_the_conventions():
    staff = staff_ids()
    for tid in tenant_ids():
        for c in CATEGORIES:
            path = TENANTS / tid / c.filename
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            assert text.startswith(f"# {c.number}. {c.title}"), path  # the header wuye writes
            data = load(path)
            records = data["entries"] if c.is_list else [data]
            if c.is_list:
                assert [e["id"] for e in records] == [f"{c.prefix}-{i:04d}" for i in range(1, len(records) + 1)]
            for record in records:
                who = record.get("recorded_by", record.get("updated_by"))
                when = record.get("recorded_at", record.get("updated_at"))
                assert who in staff, (path, who)
                stamp = dt.datetime.fromisoformat(when)
                assert stamp.utcoffset() == CST, (path, when)
                assert dt.datetime(2023, 1, 1, tzinfo=stamp.tzinfo) <= stamp < dt.datetime(2026, 12, 1, tzinfo=stamp.tzinfo)
                for key in ("amount", "paid", "deposit", "cost"):
                    if key in record:
                        assert isinstance(record[key], str) and re.fullmatch(r"\d+\.\d{2}", record[key]), (path, key)
                for key in ("assigned_to", "approved_by"):
                    if key in record:
                        assert record[key] in staff, (path, record[key])


def test_units_and_profiles_agree():
    units = {p.stem: Unit.model_validate(load(p)) for p in (RECORDS / "units").glob("*.yaml")}
    assert len(units) >= 15 and len({u.floor for u in units.values()}) >= 4
    for tid in tenant_ids():
        profile = load(TENANTS / tid / "profile.yaml")
        assert profile["tenant_id"] == tid
        # pinyin is computed at write time; a stale one would make counter look-ups miss.
        assert profile["pinyin"] == pinyin_initials(profile["name"])
        for u in profile.get("units", []):
            assert units[u].status == "leased" and units[u].tenant == tid, (tid, u)
    for u in units.values():
        if u.status == "leased":
            assert u.id in load(TENANTS / u.tenant / "profile.yaml")["units"]
        else:
            assert u.tenant is None
    assert any(u.status == "vacant" for u in units.values())


def test_t0003_is_ready_for_a_full_move_out():
    payments = entries("T0003", "payments")
    held = [p for p in payments if p["kind"] == "deposit" and p.get("deposit_status", "held") == "held"]
    assert {p["item"] for p in held} >= {"租赁押金", "装修押金"}
    unpaid = [p for p in payments if p["kind"] == "fee" and Decimal(p["amount"]) > Decimal(p["paid"])]
    assert len(unpaid) >= 2
    arrears = [v for v in entries("T0003", "violations") if v["kind"] == "arrears" and v["status"] == "open"]
    assert len(arrears) == 1
    move_in = load(TENANTS / "T0003" / "move_in.yaml")
    assert (move_in["access_cards_issued"], move_in["keys_issued"]) == (4, 2)
    assert len(move_in["parking_spaces"]) == 1
    assert (move_in["parking_cards_issued"], move_in["parking_lock_keys_issued"]) == (1, 1)
    assert move_in["extinguishers_rented"] == 2
    assert set(move_in["meter_readings"]) == {"electricity", "water"}
    profile = load(TENANTS / "T0003" / "profile.yaml")
    assert profile["status"] == "active" and profile["units"] == ["805"]


def test_old_ledger_is_a_messy_utf8_bom_csv():
    raw = (RECORDS / "ledger" / "客户台账.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["客户名称", "统一社会信用代码", "房号", "面积", "联系人", "联系电话",
                       "租赁押金", "装修押金", "入驻日期", "租期开始", "租期结束"]
    body = rows[1:]
    assert len(body) >= 10 and all(len(r) == 11 for r in body)
    text = raw.decode("utf-8-sig")
    for mess in ("¥", "万", "年", "/", "．", "８"):
        assert mess in text, mess
    assert {r[0].strip() for r in body} >= {load(TENANTS / t / "profile.yaml")["name"] for t in ("T0001", "T0003")}
