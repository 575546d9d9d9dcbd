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

from wuye.storage import yamlio
from wuye.archive.dossier import pinyin_initials
from wuye.cli import app
from wuye.admin.create import FOLDERS, GITIGNORE, default_text
from wuye.models.archive import CATEGORIES
from wuye.models.store import Staff, StoreConfig, Unit
from wuye.trust.staff import allowed_signers_text

RECORDS = Path(__file__).resolve().parent.parent / "records"
TENANTS = RECORDS / "tenants"
CST = dt.timedelta(hours=8)
# The service desk's categories, their store-wide id prefixes and the time a record is received.
DESK = {"complaints": ("TS", "received_at"), "repairs": ("BX", "reported_at")}
DESK_ID = re.compile(r"(TS|BX)-(\d{4})-(\d{4})")
# Every report over the sample is measured at this moment, so the numbers do not move with the clock.
AS_OF = "2026-11-27T12:00"


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
                ids = [e["id"] for e in records]
                if c.key in DESK:
                    # Entries kept by hand before the service desk keep their per-file ids and come
                    # first; the desk's own ids are store-wide (checked in the desk tests below).
                    legacy = [i for i in ids if not DESK_ID.fullmatch(i)]
                    assert ids[: len(legacy)] == legacy, path
                    ids = legacy
                assert ids == [f"{c.prefix}-{i:04d}" for i in range(1, len(ids) + 1)], path
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


# --- the service desk: a year of complaints, repairs, surveys and notices --------------------------


def desk_records(key: str) -> list[tuple[str, dict]]:
    return [(tid, e) for tid in tenant_ids() for e in entries(tid, key)]


def stamp(value) -> dt.datetime:
    when = dt.datetime.fromisoformat(str(value))
    assert when.utcoffset() == CST, value
    assert when < dt.datetime(2026, 12, 1, tzinfo=when.tzinfo), value
    return when


def active_tenants() -> set[str]:
    return {tid for tid in tenant_ids() if load(TENANTS / tid / "profile.yaml").get("status", "active") != "moved_out"}


@pytest.mark.parametrize("key", sorted(DESK))
def test_desk_ids_are_store_wide_and_numbered_in_order_of_receipt(key):
    prefix, received = DESK[key]
    desk = sorted((stamp(e[received]), e["id"]) for _, e in desk_records(key) if DESK_ID.fullmatch(e["id"]))
    assert len(desk) >= 15
    numbers: dict[int, list[int]] = {}
    for when, eid in desk:
        m = DESK_ID.fullmatch(eid)
        assert m[1] == prefix and int(m[2]) == when.year, eid
        numbers.setdefault(when.year, []).append(int(m[3]))
    for year, ns in numbers.items():
        assert ns == list(range(1, len(ns) + 1)), year  # no gap, no repeat, in the order received
    for tid in tenant_ids():
        times = [stamp(e[received]) for e in entries(tid, key)]
        assert times == sorted(times), tid


@pytest.mark.parametrize("key", sorted(DESK))
def test_every_record_is_consistent_and_its_history_walks_the_state_machine(key):
    from wuye.models.store import DEPARTMENTS
    from wuye.desk.servicedesk import COMPLAINT, REPAIR

    kind = COMPLAINT if key == "complaints" else REPAIR
    staff = staff_ids()
    _, received = DESK[key]
    for tid, e in desk_records(key):
        where = f"{tid}/{e['id']}"
        status = e["status"]
        # A rating is what closes the loop: a closed record has its closing time and rating, and
        # a rated one has been closed (a repair once sat in the sample rated but still "done").
        if status == "closed":
            assert "closed_at" in e and "satisfaction" in e, where
        if "satisfaction" in e or "closed_at" in e:
            assert status == "closed" or e.get("reopened"), where
        if kind is COMPLAINT:
            if status in ("responded", "resolved", "closed"):
                assert e.get("response"), where
            if status in ("resolved", "closed"):
                assert e.get("result"), where
        else:
            if status in ("done", "closed"):
                assert "done_at" in e and re.fullmatch(r"\d+\.\d{2}", e["cost"]), where
            if status != "open":
                assert e["assigned_to"] in staff, where
        history = e.get("history") or []
        if DESK_ID.fullmatch(e["id"]):
            assert history, where  # every desk record keeps its whole history
        if not history:
            continue
        first = history[0]
        assert (first["action"], first["by"]) == ("open", e["recorded_by"]), where
        assert stamp(first["at"]) == stamp(e[received]), where
        state, last = None, None
        for h in history:
            when = stamp(h["at"])
            assert last is None or when >= last, (where, h)
            last = when
            assert h["by"] in staff and h.get("assignee", h["by"]) in staff, (where, h)
            assert h.get("department", "engineering") in DEPARTMENTS, (where, h)
            state = "open" if h["action"] == "open" and state is None else kind.flow[state][h["action"]]
            assert h["status"] == state, (where, h)
        assert state == status, where
        closes = [h for h in history if h["action"] == "close"]
        if closes:
            assert closes[-1]["satisfaction"] == e["satisfaction"] and stamp(closes[-1]["at"]) == stamp(e["closed_at"]), where
        dones = [h for h in history if h["action"] == "done"]
        if dones:
            assert dones[-1]["cost"] == e["cost"] and stamp(dones[-1]["at"]) == stamp(e["done_at"]), where


def test_the_desk_has_a_year_of_history():
    complaints = [(t, e) for t, e in desk_records("complaints") if stamp(e["received_at"]).year == 2026]
    repairs = [(t, e) for t, e in desk_records("repairs") if stamp(e["reported_at"]).year == 2026]
    assert 15 <= len(complaints) <= 25 and 20 <= len(repairs) <= 30
    assert len({t for t, _ in complaints}) >= 7 and len({t for t, _ in repairs}) >= 7
    assert {stamp(e["received_at"]).month for _, e in complaints} == set(range(1, 12))
    assert {e["channel"] for _, e in complaints} == {"phone", "counter", "online", "letter", "visit"}
    assert sum(e["status"] == "closed" for _, e in complaints) > len(complaints) / 2
    assert sum(e["status"] == "closed" for _, e in repairs) > len(repairs) / 2
    assert [e["reopened"] for _, e in complaints if e.get("reopened")] == [1]
    assert sum(e["urgent"] for _, e in repairs) >= 3
    assert any(Decimal(e.get("cost", "0")) > 0 for _, e in repairs)
    assert any(e["status"] == "open" for _, e in repairs) and any(e["status"] != "closed" for _, e in complaints)


SURVEY_NOTE = re.compile(r"满意度调查 (?P<period>\d{4}-Q[1-4])：(?P<score>[1-5]) 分(?:。意见：(?P<comment>\S.*))?")


def test_survey_answers_are_worded_as_the_survey_command_writes_them():
    from wuye.desk.servicedesk import SURVEY_PREFIX, SURVEY_RE

    answers: dict[tuple[str, str], int] = {}
    for tid in tenant_ids():
        for e in entries(tid, "supplement"):
            if not e["note"].startswith(SURVEY_PREFIX):
                continue
            m = SURVEY_NOTE.fullmatch(e["note"])
            assert m and SURVEY_RE.match(e["note"]), (tid, e["id"])  # what the reports read back
            assert (tid, m["period"]) not in answers  # one answer per tenant and period
            answers[(tid, m["period"])] = int(m["score"])
            day = dt.date.fromisoformat(str(e["date"]))
            assert (day.year, (day.month - 1) // 3 + 1) == (int(m["period"][:4]), int(m["period"][-1])), (tid, e["id"])
    for q in range(1, 5):
        assert len([tid for tid, p in answers if p == f"2026-Q{q}"]) >= 7, q
    assert len(set(answers.values())) >= 3


def test_notices_are_kept_once_and_filed_in_every_addressees_dossier():
    filed: dict[str, list[tuple[str, dict]]] = {}
    for tid in tenant_ids():
        for e in entries(tid, "correspondence"):
            if e.get("ref_no"):
                filed.setdefault(e["ref_no"], []).append((tid, e))
    bodies = sorted((RECORDS / "notices").glob("*/*.md"))
    assert len(bodies) >= 2
    for path in bodies:
        rel = path.relative_to(RECORDS).as_posix()
        m = re.fullmatch(r"(notice|circular)-(\d{4})\.md", path.name)
        text = path.read_text(encoding="utf-8")
        assert m and text.startswith("---\n"), rel
        header = yamlio.loads(text[4:].split("\n---\n", 1)[0], rel)
        word = {"notice": "通知", "circular": "通报"}[m[1]]
        assert header["ref_no"] == f"{word}〔{path.parent.name}〕{int(m[2])}号" and header["kind"] == m[1], rel
        assert header["sent_by"] in staff_ids()
        copies = filed[header["ref_no"]]
        tids = {t for t, _ in copies}
        assert len(copies) == len(tids) == header["recipients"], rel
        assert tids == (active_tenants() if header["to"] == "all" else set(header["to"])), rel
        for _, e in copies:
            assert (e["subject"], str(e["date"]), e["direction"]) == (header["subject"], str(header["date"]), "out")
            assert e["summary"].endswith(f"（全文：{rel}）")
    # A number is given once per kind and year, in the order the notices went out.
    dates: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for ref, copies in filed.items():
        m = re.fullmatch(r"(通知|通报)〔(\d{4})〕(\d+)号", ref)
        if m:
            assert len({(str(e["date"]), e["subject"]) for _, e in copies}) == 1, ref
            dates.setdefault((m[1], m[2]), []).append((int(m[3]), str(copies[0][1]["date"])))
    for key, numbered in dates.items():
        assert [d for _, d in sorted(numbered)] == sorted(d for _, d in numbered), key


def report(store_copy: Path, name: str, *args: str) -> dict:
    result = CliRunner().invoke(app, ["--store", str(store_copy), "report", name, *args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["problems"] == []
    return data


def test_every_report_over_the_sample_shows_something(store_copy):
    year = ("--period", "2026", "--as-of", AS_OF)
    c = report(store_copy, "complaints", *year)
    s = c["summary"]
    assert s["received"] >= 15 and s["closed"] > s["open"] > 0
    assert s["reopened"] == 1 and s["overdue"] > s["overdue_open"] > 0
    assert s["mean_response_hours"] > 0 and 3 <= s["satisfaction"] <= 5
    assert len(c["by_channel"]) == 5 and len(c["by_department"]) >= 4
    assert [r["period"] for r in c["trend"] if r["received"]] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert {r["id"] for r in c["overdue_items"]} >= {e["id"] for _, e in desk_records("complaints") if e.get("reopened")}
    q3 = report(store_copy, "complaints", "--period", "2026-Q3")["summary"]
    assert q3["received"] > 0 and q3["reopened"] == 1 and q3["overdue"] > 0
    assert report(store_copy, "complaints", "--period", "2026-10")["summary"]["received"] > 0

    r = report(store_copy, "repairs", *year)["summary"]
    assert r["received"] >= 20 and r["urgent"] > 0 and r["overdue"] > r["overdue_open"] > 0
    assert Decimal(r["cost"]) > 0 and r["done"] >= r["closed"] > r["open"] > 0 and 3 <= r["satisfaction"] <= 5
    assert report(store_copy, "repairs", "--period", "2026-10")["summary"]["received"] > 0

    sat = report(store_copy, "satisfaction", *year)
    assert sat["summary"]["complaint_n"] > 0 and sat["summary"]["repair_n"] > 0 and sat["summary"]["survey_n"] > 0
    assert len([row for row in sat["trend"] if row["survey_n"]]) >= 3
    assert sat["low_ratings"]
    # A survey answer counts at the last moment of its period: the fourth quarter's, at the year's end.
    end = report(store_copy, "satisfaction", "--period", "2026", "--as-of", "2026-12-31T23:59:59")
    assert all(row["survey_n"] for row in end["trend"])

    a = report(store_copy, "arrears", "--period", "2026")
    assert a["summary"]["tenants"] > 0 and Decimal(a["summary"]["total"]) > 0
    assert "T0003" in {row["tenant_id"] for row in a["tenants"]}  # what the demo's move-out settles

    # Move-out cases need signatures by keys the sample does not ship: the demo makes one.
    m = report(store_copy, "moveouts", *year)
    assert m["summary"]["cases"] == 0 and m["cases"] == []

    done = report(store_copy, "completeness")["summary"]
    assert done["tenants"] == len(tenant_ids()) and 0 < done["complete"] < done["tenants"]


def test_verify_passes_on_a_git_copy_once_its_manager_founds_the_chain(store_copy):
    """The sample predates the authority chain: verify says so until `wuye trust init` (README, Trust)."""
    result = CliRunner().invoke(app, ["--store", str(store_copy), "verify"])
    assert result.exit_code == 1 and "trust init" in result.output
    result = CliRunner().invoke(app, ["--store", str(store_copy), "trust", "init", "--as", "chenjing"])
    assert result.exit_code == 0, result.output
    # The sample's ledger was kept before seals: verify names each item until finance (or, as
    # here, management) has checked and sealed it.
    result = CliRunner().invoke(app, ["--store", str(store_copy), "verify"])
    assert result.exit_code == 1 and "T0001/payments.yaml:3: PAY-0001" in result.output and "wuye migrate" in result.output
    result = CliRunner().invoke(app, ["--store", str(store_copy), "migrate", "--as", "chenjing"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["--store", str(store_copy), "verify"])
    assert result.exit_code == 0, result.output


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
