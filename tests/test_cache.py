"""The derived cache (wuye/storage/cache.py) is never trusted over the files: whatever changes behind its
back is read again, a deleted cache is rebuilt, a damaged one is ignored and rebuilt, and every
attack `wuye verify` catches is still caught when the cache is warm. Also: the fast YAML loader
gives exactly what yamlio gives. Correctness only; speed is measured in bench/, not here."""

from __future__ import annotations

import inspect
import json
import os
import pickle
import sqlite3
import textwrap
import time
from pathlib import Path

import pytest

from conftest import git, same_value
from test_moveout import MoveOut, plain_git

import test_verify
from wuye.storage import cache, verdicts
from wuye.verify import money_check
from wuye.storage import fastyaml
from wuye.storage import yamlio
from wuye.errors import WuyeError


def cache_file(store, name: str):
    return store.root / ".git" / "wuye" / "cache" / name


def rows(store, sql: str, *args) -> list[tuple]:
    """Rows of the verdicts' and boards' tables (storage/cache.py) in the records index's database."""
    con = sqlite3.connect(index_file(store))
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def verdict_files(store) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in rows(store, "SELECT rel, blob, deps, attachments_ok FROM verdict_files")}


def kept_board(store, case_id: str) -> dict | None:
    got = rows(store, "SELECT board FROM boards WHERE case_id=?", case_id)
    return json.loads(got[0][0]) if got else None


def index_file(store) -> Path:
    return store.root / ".git" / "wuye" / "index.sqlite"


def profile_row(store, tid: str) -> tuple:
    """What the records index holds of a tenant's profile: (name, pinyin, units, status, lease end)."""
    with sqlite3.connect(index_file(store)) as con:
        row = con.execute("SELECT value FROM files WHERE kind='profile' AND rel=?", (f"tenants/{tid}/profile.yaml",)).fetchone()
    assert row is not None, f"no row for {tid}"
    return pickle.loads(row[0])


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def verify(run) -> tuple[int, list[dict]]:
    r = run("verify", "--json")
    data = json.loads(r.stdout)
    assert data["ok"] == (r.exit_code == 0)
    return r.exit_code, [p for p in data["problems"] if p["level"] == "error"]


# --- the fast loader reads exactly what yamlio reads ------------------------------------------

CORNERS = [
    "", "# only a comment\n", "a: 1\n", "a: 0o17\nb: 0x1F\nc: 1_000\nd: -3\ne: +5\nf: 017\n",
    "a: 1.5\nb: .inf\nc: -.Inf\nd: 1e3\ne: .5\n", "a: .nan\n",
    "a: true\nb: True\nc: FALSE\nd: yes\ne: no\nf: on\n", "a: ~\nb: null\nc:\nd: Null\n",
    "a: 2026-01-01\nb: 2026-01-01T10:00:00+08:00\nc: 2026-1-1 10:00:00\nd: 2026-01-01 10:00:00.5Z\ne: '2026-01-01'\n",
    "<<: {a: 1}\nb: 2\n", "a: {<<: [{x: 1}, {y: 2}], z: 3}\n", "=: v\n", "a: !!str 1\n", "a: ! 1\n",
    "1: a\ntrue: b\nnull: c\n2026-01-01: d\n", "[1, 2, {a: b}]\n", "- a\n- - b\n  - c\n- {d: [e, f]}\n",
    "a: |\n  line 1\n  line 2\nb: >\n  folded\n  text\n", "a: 'it''s'\nb: \"tab\\there\"\n", "a: 柏彦科技\n名称: 值\n",
    "a: 1\na: 2\n", "a: {b: 1, b: 2}\n", "a: [1, 2\n", "a: b: c\n", "--- 1\n--- 2\n", "a: &x 1\nb: *x\n",
    "a: !!python/object:os.system 1\n", "? [a, b]\n: c\n", "a: 'x\n", "%YAML 1.1\n---\na: yes\n",
]


def ruamel_loads(text, rel):
    """yamlio.loads with ruamel's own constructor building the objects: the reference."""
    return yamlio.loads(text, rel, build=yamlio.ruamel_load)


def outcome(load, text):
    try:
        return "ok", load(text, "f.yaml")
    except WuyeError as e:
        return "refused", str(e).split(": ")[0]  # where: the two builders word a refusal differently


# What the store's reader refuses, at its position, where ruamel's constructor builds a value:
# merge keys (anchors are refused, so `<<` only hides a key) and keys that are not text (ruamel
# refuses the `1:`/`true:` one too, as a duplicate key `True` on line 2).
STORE_RULES = {"<<: {a: 1}\nb: 2\n": "f.yaml:1:1", "a: {<<: [{x: 1}, {y: 2}], z: 3}\n": "f.yaml:1:5",
               "=: v\n": "f.yaml:1:1", "1: a\ntrue: b\nnull: c\n2026-01-01: d\n": "f.yaml:1:1", "? [a, b]\n: c\n": "f.yaml:1:3"}


def same(a, b) -> bool:
    return same_value(a, b, strict_sequences=True)


def test_yamlio_builds_with_the_fast_builder(monkeypatch):
    # So the agreement below is between two builders, not ruamel's with itself.
    assert yamlio.loads("a: [1, x]\n", "f.yaml") == {"a": [1, "x"]}

    def broken(text):
        raise RuntimeError("fast builder called")

    monkeypatch.setattr(fastyaml, "parse", broken)
    with pytest.raises(RuntimeError, match="fast builder called"):
        yamlio.loads("a: 1\n", "f.yaml")


@pytest.mark.parametrize("text", CORNERS)
def test_the_fast_builder_agrees_with_ruamels_constructor_on_corner_cases(text):
    (ka, va), (kb, vb) = outcome(ruamel_loads, text), outcome(yamlio.loads, text)
    if text in STORE_RULES:
        assert (ka == "ok" or "1: a" in text) and (kb, vb) == ("refused", STORE_RULES[text]), (text, va, vb)
    else:
        assert ka == kb and same(va, vb), (text, va, vb)


def test_the_fast_builder_agrees_with_ruamels_constructor_on_every_sample_file():
    from conftest import REPO_ROOT

    files = sorted((REPO_ROOT / "records").rglob("*.yaml")) + sorted((REPO_ROOT / "wuye" / "defaults").glob("*.yaml"))
    assert len(files) > 50
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert same(ruamel_loads(text, f.name), yamlio.loads(text, f.name)), f


def test_the_fast_builder_agrees_with_ruamels_constructor_on_generated_documents():
    from hypothesis import given, settings, strategies as st

    # Stored text holds no control characters but tab and newline (the writer refuses them).
    texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=[chr(c) for c in range(32) if c not in (9, 10)]
                                  + [chr(c) for c in range(0x7f, 0xa0)]), max_size=12)
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), texts,
                        st.dates().map(str), st.sampled_from(["0o7", "1_0", "~", "Yes", ".inf", "2026-01-01 09:00:00"]))
    docs = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(texts.filter(bool), inner, max_size=4)),
                        max_leaves=20)

    @settings(max_examples=150, deadline=None)
    @given(docs)
    def check(doc):
        text = yamlio.dumps({"d": doc})
        (ka, va), (kb, vb) = outcome(ruamel_loads, text), outcome(yamlio.loads, text)
        assert ka == kb and same(va, vb), text

    check()


# --- the counter's search, from the records index (storage/index.py) ------------------------------------------------------------------


def test_a_company_renamed_behind_the_index_is_found_under_its_new_name(tenant, run):
    r = run("archive", "show", "柏彦", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["tenant_id"] == "T0001"
    assert profile_row(tenant, "T0001")[0] == "柏彦科技"  # the search built the index
    # A hand edit of the same length, with the file's mtime put back: only ctime tells.
    path = tenant.path("tenants/T0001/profile.yaml")
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    new = text.replace("柏彦科技", "鸿远商贸").replace("pinyin: bykj", "pinyin: hysm")
    assert len(new.encode()) == len(text.encode()) and new != text
    path.write_text(new, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = run("archive", "show", "鸿远", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["tenant_id"] == "T0001"
    assert run("archive", "show", "hysm", "--json").exit_code == 0
    assert run("archive", "show", "柏彦").exit_code == 1  # the old name is gone


def test_a_rename_through_wuye_is_found_too(tenant, run):
    assert run("archive", "show", "bykj").exit_code == 0
    r = run("archive", "add", "T0001", "profile", "--set", "name=华锐通达贸易", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    r = run("archive", "show", "hrtd", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["tenant_id"] == "T0001"
    assert run("archive", "show", "bykj").exit_code == 1


def test_tenants_added_and_removed_behind_the_index(tenant, run):
    assert run("archive", "show", "柏彦").exit_code == 0
    assert run("archive", "new", "T0002", "--name", "国贸物流", "--unit", "1206", "--as", "wangli").exit_code == 0
    r = run("archive", "show", "gmwl", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["tenant_id"] == "T0002"
    import shutil

    shutil.rmtree(tenant.path("tenants/T0002"))
    assert run("archive", "show", "gmwl").exit_code == 1


def test_a_profile_changed_in_the_same_tick_as_the_index_is_read_again(tenant, run):
    # Racily clean: edited right after the index was written, the same size, mtime and ctime
    # kept within the index's own second. The two-second window makes it be read again.
    assert run("archive", "show", "柏彦").exit_code == 0
    path = tenant.path("tenants/T0001/profile.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("柏彦科技", "鸿远商贸"), encoding="utf-8")
    assert run("archive", "show", "鸿远").exit_code == 0


def test_list_and_notices_to_all_see_a_profile_edited_behind_the_index(tenant, run, tmp_path):
    # archive list, the completeness report and `notice send --to all` read the index too.
    assert run("archive", "new", "T0002", "--name", "国贸物流", "--unit", "1206", "--as", "wangli").exit_code == 0
    rows = {r["tenant_id"]: r for r in json.loads(run("archive", "list", "--json").stdout)}
    assert rows["T0002"]["status"] == "active" and rows["T0002"]["units"] == ["1206"]
    path = tenant.path("tenants/T0002/profile.yaml")
    text = path.read_text(encoding="utf-8")
    assert "status: active" in text
    path.write_text(text.replace("1206", "1207").replace("status: active", "status: moved_out"), encoding="utf-8")
    tenant.path("tenants/T0001/contacts.yaml").write_text("entries: []\n", encoding="utf-8")
    rows = {r["tenant_id"]: r for r in json.loads(run("archive", "list", "--json").stdout)}
    assert rows["T0002"]["status"] == "moved_out" and rows["T0002"]["units"] == ["1207"]
    assert rows["T0001"]["categories"] == 2  # the new file counted
    git(tenant.root, "add", "-A")
    git(tenant.root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "by hand")
    (tmp_path / "body.md").write_text("周六停水。\n", encoding="utf-8")
    r = run("notice", "send", "--subject", "停水通知", "--file", tmp_path / "body.md", "--to", "all", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert list(tenant.path("tenants/T0001").glob("correspondence.yaml"))
    assert not tenant.path("tenants/T0002/correspondence.yaml").exists()  # moved out: not addressed


@pytest.mark.parametrize("damage", [b"\x00\xff garbage \x89PNG", b"SQLite format 3\x00" + b"\x00" * 200, b"", None])
def test_a_damaged_or_deleted_index_is_ignored_and_rebuilt(tenant, run, damage):
    assert run("archive", "show", "bykj").exit_code == 0
    f = index_file(tenant)
    if damage is None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{f}{suffix}").unlink(missing_ok=True)
    else:
        f.write_bytes(damage)
        Path(f"{f}-wal").unlink(missing_ok=True)
    r = run("archive", "show", "bykj", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["tenant_id"] == "T0001"
    assert profile_row(tenant, "T0001")[:2] == ("柏彦科技", "bykj")


def test_a_forged_entry_with_no_file_signature_is_not_trusted(tenant, run):
    assert run("archive", "show", "bykj").exit_code == 0
    forged = pickle.dumps(("冒名公司", "mmgs", ["1205"], "active", ""))
    with sqlite3.connect(index_file(tenant)) as con:
        con.execute("UPDATE files SET ino=NULL, size=NULL, mtime=NULL, ctime=NULL, blob='0', value=? WHERE rel=?",
                    (forged, "tenants/T0001/profile.yaml"))
    assert run("archive", "show", "mmgs").exit_code == 1
    assert run("archive", "show", "bykj").exit_code == 0


def test_a_profile_edited_past_the_racy_window_with_its_mtime_put_back_is_read_again(tenant, run):
    # Past the two-second window a row's stat signature is trusted: size and mtime kept, only
    # ctime (which `touch` cannot set back) tells the edit.
    assert run("archive", "show", "bykj").exit_code == 0
    time.sleep(2.1)
    path = tenant.path("tenants/T0001/profile.yaml")
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    new = text.replace("柏彦科技", "鸿远商贸").replace("pinyin: bykj", "pinyin: hysm")
    path.write_text(new, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    # ctime moved: the row is not used as it stands; its blob id is not this file's: read again.
    assert run("archive", "show", "hysm", "--json").exit_code == 0
    assert profile_row(tenant, "T0001")[:2] == ("鸿远商贸", "hysm")


def test_no_cache_is_written_with_wuye_no_cache(tenant, run, monkeypatch):
    monkeypatch.setenv("WUYE_NO_CACHE", "1")
    assert run("archive", "show", "bykj").exit_code == 0
    assert run("verify").exit_code == 0
    assert not (tenant.root / ".git" / "wuye" / "cache").exists()
    assert not index_file(tenant).exists()


# --- verify with a warm cache ---------------------------------------------------------------------


ATTACKS = [name for name, fn in inspect.getmembers(test_verify, inspect.isfunction)
           if name.startswith("test_") and "ssh_keygen" not in name]


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_attack_is_caught_with_a_warm_cache(attack, mo, run, tmp_path, monkeypatch):
    """Each of test_verify's attacks, with `wuye verify` and `moveout status` run (and the caches
    filled) on the sound store just before the attack is made."""
    walk = MoveOut.walk

    def walk_then_verify(self, *args, **kwargs):
        case = walk(self, *args, **kwargs)
        r = run("verify")
        assert r.exit_code == 0, r.stdout
        assert run("moveout", "status", case).exit_code == 0
        assert verdict_files(self.store) and kept_board(self.store, case) is not None
        return case

    monkeypatch.setattr(MoveOut, "walk", walk_then_verify)
    fn = getattr(test_verify, attack)
    given = {"mo": mo, "run": run, "tmp_path": tmp_path}
    fn(**{name: given[name] for name in inspect.signature(fn).parameters})


def test_a_tampered_entry_with_its_mtime_put_back_is_caught(mo, run):
    mo.walk("settlement")
    assert run("verify").exit_code == 0
    rel = mo.step_rel("engineering_inspection")
    path = mo.store.path(rel)
    st = path.stat()
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"300.00", b"800.00"))  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    code, problems = verify(run)
    assert code == 1 and any(p["path"] == rel and p["code"] == "signature.bad" for p in problems)
    # And the board at the counter says so too.
    assert run("moveout", "status", mo.case).exit_code == 1


def test_an_archive_file_broken_after_a_clean_run_is_caught(tenant, run):
    assert run("archive", "add", "T0001", "contacts", "--set", "name=李雷", "--set", "phone=13812345678", "--as", "wangli").exit_code == 0
    assert run("verify").exit_code == 0
    assert run("archive", "check").exit_code == 0
    path = tenant.path("tenants/T0001/contacts.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("'13812345678'", "'12345'"), encoding="utf-8")
    code, problems = verify(run)
    assert code == 1 and any(p["path"] == "tenants/T0001/contacts.yaml" and p["code"] == "schema.invalid" and "phone" in p["message"]
                             for p in problems)
    r = run("archive", "check")
    assert r.exit_code == 1 and "电话号码无效" in r.stdout
    plain_git(tenant.root, "commit", "-q", "-am", "改坏电话")  # committed: blob ids from the index now
    assert verify(run)[0] == 1 and run("archive", "check").exit_code == 1


def test_a_unit_broken_after_a_clean_run_is_caught(tenant, run):
    assert run("verify").exit_code == 0
    path = tenant.path("units/1205.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("status: leased", "status: rented"), encoding="utf-8")
    code, problems = verify(run)
    assert code == 1 and any(p["path"] == "units/1205.yaml" and p["code"] == "schema.invalid" for p in problems)


def test_an_attachment_replaced_after_a_clean_run_is_caught(tenant, run, tmp_path):
    import hashlib

    att = tenant.path("tenants/T0001/attachments/图纸.pdf")
    att.parent.mkdir()
    att.write_bytes(b"%PDF-1.4 drawing")
    record = tmp_path / "eng.yaml"
    record.write_text(textwrap.dedent(f"""\
        title: 二次装修施工图
        kind: drawing
        documents:
          - path: attachments/图纸.pdf
            sha256: {hashlib.sha256(b"%PDF-1.4 drawing").hexdigest()}
    """), encoding="utf-8")
    assert run("archive", "add", "T0001", "engineering", "--file", record, "--as", "wangli").exit_code == 0
    plain_git(tenant.root, "add", "-A")
    plain_git(tenant.root, "commit", "-q", "-m", "附件")
    assert run("verify").exit_code == 0
    att.write_bytes(b"%PDF-1.4 another drawing")
    code, problems = verify(run)
    assert code == 1 and [(p["code"], p["path"]) for p in problems] == [("attachment.digest", "tenants/T0001/engineering.yaml")]
    assert "attachments/图纸.pdf" in problems[0]["message"]
    att.unlink()
    code, problems = verify(run)
    assert code == 1 and [(p["code"], p["path"]) for p in problems] == [("attachment.missing", "tenants/T0001/engineering.yaml")]
    att.write_bytes(b"%PDF-1.4 drawing")
    assert run("verify").exit_code == 0


def test_a_signers_department_changed_after_a_clean_run_is_caught(mo, run):
    mo.walk("engineering_inspection")
    assert run("verify").exit_code == 0
    path = mo.store.path("staff/zhangwei.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("- engineering", "- security"), encoding="utf-8")
    code, problems = verify(run)
    # staff/ is no longer what the authority chain says (entries are judged by the chain itself)
    assert code == 1 and any(p["path"] == "staff/zhangwei.yaml" and p["code"] == "authority.staff-mismatch" for p in problems)


def test_a_workflow_changed_after_a_clean_run_is_caught(mo, run):
    mo.walk("engineering_inspection")
    assert run("verify").exit_code == 0
    path = mo.store.path("workflows/moveout.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("signers: [engineering]", "signers: [security]", 1), encoding="utf-8")
    code, problems = verify(run)
    # the file is no longer the one the chain signed (the case keeps the workflow of its version)
    assert code == 1 and any(p["path"] == "workflows/moveout.yaml" and p["code"] == "authority.workflow-mismatch" for p in problems)


def test_a_payment_recorded_after_the_settlement_shows_on_a_warm_board(mo, run):
    mo.walk("settlement")
    status, _ = mo.status()
    assert {s["number"]: s["met"] for s in status["standards"]}["3"] is True
    mo.archive("payments", {"kind": "fee", "item": "物业管理费", "period": "2026-12", "amount": "5000.00"}, as_="liuyang")
    status, _ = mo.status()
    assert {s["number"]: s["met"] for s in status["standards"]}["3"] is False


@pytest.mark.parametrize("damage", [b"\x00\xff garbage", b"SQLite format 3\x00" + b"\x00" * 200, b"", None])
def test_a_damaged_or_deleted_verify_cache_is_ignored_and_rebuilt(mo, run, damage):
    mo.walk("engineering_inspection")
    first = verify(run)
    f = index_file(mo.store)
    assert first[0] == 0 and verdict_files(mo.store)
    if damage is None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{f}{suffix}").unlink(missing_ok=True)
    else:
        f.write_bytes(damage)
        Path(f"{f}-wal").unlink(missing_ok=True)
    assert verify(run) == first
    assert "tenants/T0001/profile.yaml" in verdict_files(mo.store) and rows(mo.store, "SELECT * FROM verdict_cases")
    # A broken entry then is still caught.
    mo.store.path(mo.step_rel("application")).write_text("case: [\n", encoding="utf-8")
    assert verify(run)[0] == 1


def test_signing_leaves_the_new_board_for_the_counter(mo, run, monkeypatch):
    # The signer's process computes the case's new board; the next status shows it as it is and
    # as a fresh computation (no cache) gives it.
    mo.walk("engineering_inspection")
    kept = kept_board(mo.store, mo.case)
    assert {s["step"]: s["state"] for s in kept["steps"]}["engineering_inspection"] == "done"
    assert kept["problems"] == [] and kept["standards"]
    warm, r = mo.status()
    assert r.exit_code == 0 and warm == kept
    monkeypatch.setenv("WUYE_NO_CACHE", "1")
    fresh, _ = mo.status()
    assert fresh == kept


def test_when_only_the_tenants_records_change_the_signatures_are_not_checked_again(mo, run, tmp_path):
    # Finance records a fee during the move-out: the board's standards must be computed again,
    # but the case's entries, the workflow and the staff are the very bytes found sound before.
    from test_lookup_imports import imported, loaded

    mo.walk("settlement")
    mo.archive("payments", {"kind": "fee", "item": "物业管理费", "period": "2026-12", "amount": "5000.00"}, as_="liuyang")
    p, code, modules = imported(tmp_path, "--store", str(mo.store.root), "moveout", "status", mo.case, "--json")
    assert code == 0, p.stderr
    board = json.loads(p.stdout)
    assert {s["number"]: s["met"] for s in board["standards"]}["3"] is False  # the new fee is seen
    assert loaded(modules, "cryptography") == []  # ... and no signature was checked again
    # An entry changed behind the cache's back: everything is checked again, and the forgery found.
    path = mo.store.path(mo.step_rel("application"))
    path.write_text(path.read_text(encoding="utf-8").replace("李明", "李亮"), encoding="utf-8")
    mo.archive("payments", {"kind": "fee", "item": "物业管理费", "period": "2027-01", "amount": "5000.00"}, as_="liuyang")
    p, code, modules = imported(tmp_path, "--store", str(mo.store.root), "moveout", "status", mo.case)
    assert code == 1 and "签名无效" in p.stderr and mo.step_rel("application") in p.stderr
    assert loaded(modules, "cryptography")


def test_a_board_whose_files_changed_while_it_was_computed_is_not_kept(mo, run):
    # A writer records a fee while status computes the board: that board is shown, but not kept
    # under the key of the bytes read before it (the next status computes it again).
    from wuye.moveout import cases as moveout

    mo.walk("application")
    with sqlite3.connect(index_file(mo.store)) as con:
        con.execute("DELETE FROM boards")
    payments = mo.store.path("tenants/T0001/payments.yaml")

    def compute(where, verified):
        b = moveout.board(mo.store, mo.case, where, verified)
        payments.write_text((payments.read_text(encoding="utf-8") if payments.exists() else "") + "# 新的一笔\n",
                            encoding="utf-8")
        return b

    board = verdicts.board(mo.store, mo.case, compute)
    assert board["case"] == mo.case and board["problems"] == []
    assert kept_board(mo.store, mo.case) is None
    # Unchanged while computed: kept.
    again = verdicts.board(mo.store, mo.case, lambda where, verified: moveout.board(mo.store, mo.case, where, verified))
    assert kept_board(mo.store, mo.case) == again


def test_a_damaged_board_cache_is_ignored(mo, run):
    mo.walk("application")
    status, _ = mo.status()
    assert kept_board(mo.store, mo.case) == status
    with sqlite3.connect(index_file(mo.store)) as con:
        con.execute("UPDATE boards SET board=?", ("\x00 not json",))
    again, r = mo.status()
    assert r.exit_code == 0 and again == status


def test_forged_results_for_other_content_are_not_used(mo, run):
    # Results are keyed by blob id: an entry recorded for other bytes does not vouch for these.
    mo.walk("application")
    assert run("verify").exit_code == 0
    rel = "tenants/T0001/move_in.yaml"
    mo.store.path(rel).write_text("access_cards_issued: -1\n", encoding="utf-8")
    assert verdict_files(mo.store)[rel][0] == git(mo.store.root, "rev-parse", f"HEAD:{rel}").strip()  # clean, by blob id
    with sqlite3.connect(index_file(mo.store)) as con:
        con.execute("UPDATE verdict_files SET blob=? WHERE rel=?", ("0" * 40, rel))
    code, problems = verify(run)
    assert code == 1 and any(p["path"] == rel for p in problems)


def test_the_history_is_read_again_from_the_last_clean_commit(mo, run):
    mo.walk("return_pass")
    assert run("verify").exit_code == 0
    recorded = rows(mo.store, "SELECT key FROM verdict_checks WHERE name=?", verdicts.HISTORY)[0][0]
    assert recorded == git(mo.store.root, "rev-parse", "HEAD").strip()
    rel = mo.step_rel("return_pass")
    plain_git(mo.store.root, "rm", "-q", rel)
    plain_git(mo.store.root, "commit", "-q", "-m", "删掉")
    code, problems = verify(run)
    assert code == 1 and any(p["path"] == rel and "被删除" in p["message"] for p in problems)
    # A failed history check does not move the mark: it keeps saying so.
    assert rows(mo.store, "SELECT key FROM verdict_checks WHERE name=?", verdicts.HISTORY)[0][0] == recorded
    assert verify(run)[0] == 1


def test_worker_processes_find_what_one_process_finds(mo, run, monkeypatch):
    mo.walk("settlement")
    for tid, name in (("T0002", "国贸物流"), ("T0003", "华联商贸")):
        assert run("archive", "new", tid, "--name", name, "--as", "wangli").exit_code == 0
    mo.store.path("tenants/T0002/profile.yaml").write_text("tenant_id: T0002\nname: ''\n", encoding="utf-8")
    mo.store.path("units/9999.yaml").write_text("id: 9998\n", encoding="utf-8")
    # An unsealed ledger item written by hand: the money check (in workers too) reports it.
    ledger = mo.store.path("tenants/T0003/payments.yaml")
    ledger.write_text("entries:\n  - id: PAY-0001\n    kind: fee\n    item: 物业管理费\n    amount: '100.00'\n", encoding="utf-8")
    monkeypatch.setenv("WUYE_NO_CACHE", "1")
    alone = run("verify", "--json")
    assert any(p["code"].startswith("money.") and p["path"] == "tenants/T0003/payments.yaml"
               for p in json.loads(alone.stdout)["problems"]), alone.stdout
    monkeypatch.delenv("WUYE_NO_CACHE")
    monkeypatch.setattr(cache, "PARALLEL_MIN", 1)
    monkeypatch.setattr(money_check, "PARALLEL_FILES", 1)
    monkeypatch.setenv("WUYE_JOBS", "2")
    forked = run("verify", "--json")
    assert forked.exit_code == alone.exit_code == 1
    assert json.loads(forked.stdout) == json.loads(alone.stdout)
    assert run("verify", "--json").stdout == forked.stdout  # and warm


# --- the plumbing commit (audit.commit) lays trees out as git does ----------------------------


def test_the_plumbing_commit_lays_out_trees_as_git_does(tenant):
    from wuye.storage import git as audit

    root = tenant.root
    names = ["x/a.b", "x/a-b", "x/a0", "x/a/b", "x/ab", "x/A", "x/中文 附件.pdf", "x/a/c/d", "x/b"]
    for rel in names:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel + "\n", encoding="utf-8")
    sha = audit.commit(root, names, "test: trees\n")
    assert sha == git(root, "rev-parse", "HEAD").strip()
    plain_git(root, "fsck", "--strict", "--no-dangling")  # a misordered tree is an fsck error
    assert sorted(git(root, "-c", "core.quotePath=false", "ls-tree", "-r", "--name-only", "HEAD", "x").splitlines()) == sorted(names)
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    # The same tree as git's own index would write.
    assert git(root, "write-tree").strip() == git(root, "rev-parse", "HEAD^{tree}").strip()
    # Removing a file, and with it a whole folder.
    for rel in ("x/a/b", "x/a/c/d"):
        (root / rel).unlink()
    audit.commit(root, ["x/a/b", "x/a/c/d"], "test: remove\n")
    plain_git(root, "fsck", "--strict", "--no-dangling")
    assert "x/a/" not in git(root, "ls-tree", "-r", "--name-only", "HEAD", "x")
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_folder_where_head_has_a_file(tenant):
    from wuye.storage import git as audit

    root = tenant.root
    (root / "y").write_text("a file\n", encoding="utf-8")
    audit.commit(root, ["y"], "test: y\n")
    (root / "y").unlink()
    (root / "y").mkdir()
    (root / "y" / "z").write_text("now a folder\n", encoding="utf-8")
    audit.commit(root, ["y", "y/z"], "test: y/z\n")
    assert git(root, "ls-tree", "-r", "--name-only", "HEAD", "y").split() == ["y/z"]
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_writing_back_what_head_holds_makes_no_commit(tenant):
    from wuye.storage import git as audit

    root = tenant.root
    before = git(root, "rev-parse", "HEAD").strip()
    assert audit.commit(root, ["tenants/T0001/profile.yaml"], "test: nothing\n") is None
    assert git(root, "rev-parse", "HEAD").strip() == before


def test_a_name_the_plumbing_leaves_alone_is_committed_the_porcelain_way(tenant):
    from wuye.storage import git as audit

    root = tenant.root
    rel = 'tenants/T0001/attachments/报价"终稿".txt'
    (root / rel).parent.mkdir(parents=True)
    (root / rel).write_text("报价\n", encoding="utf-8")
    sha = audit.commit(root, [rel], "test: quoted\n")
    assert sha == git(root, "rev-parse", "HEAD").strip()
    assert git(root, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD").strip() == '"tenants/T0001/attachments/报价\\"终稿\\".txt"'
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""


# --- the verdicts in SQLite: what a run writes, and what it trusts -------------------------------


def _log_writes(store) -> None:
    """A table and triggers, put into the database by the test, recording every row a wuye
    process writes or deletes in the verdict tables from now on."""
    with sqlite3.connect(index_file(store)) as con:
        con.execute("CREATE TABLE IF NOT EXISTS test_writes (what TEXT)")
        for table, column in (("verdict_files", "rel"), ("verdict_cases", "cdir"), ("verdict_checks", "name")):
            con.execute(f"CREATE TRIGGER IF NOT EXISTS test_{table}_i AFTER INSERT ON {table} "
                        f"BEGIN INSERT INTO test_writes VALUES ('+' || new.{column}); END")
            con.execute(f"CREATE TRIGGER IF NOT EXISTS test_{table}_d AFTER DELETE ON {table} "
                        f"BEGIN INSERT INTO test_writes VALUES ('-' || old.{column}); END")
    con.close()


def _writes(store) -> list[str]:
    got = [w for (w,) in rows(store, "SELECT what FROM test_writes")]
    with sqlite3.connect(index_file(store)) as con:
        con.execute("DELETE FROM test_writes")
    con.close()
    return got


def test_a_warm_run_writes_no_row_and_a_one_file_change_writes_one(mo, run):
    mo.walk("engineering_inspection")
    assert run("verify").exit_code == 0
    _log_writes(mo.store)
    assert run("verify").exit_code == 0
    assert _writes(mo.store) == []  # nothing changed: nothing written
    rel = "tenants/T0001/profile.yaml"
    path = mo.store.path(rel)
    path.write_text(path.read_text(encoding="utf-8") + "# 手工备注\n", encoding="utf-8")
    assert run("verify").exit_code == 0
    assert _writes(mo.store) == [f"+{rel}"]  # the one file's new verdict (INSERT OR REPLACE: one row)
    path.write_text(path.read_text(encoding="utf-8").replace("柏彦科技", ""), encoding="utf-8")
    assert verify(run)[0] == 1
    assert _writes(mo.store) == [f"-{rel}"]  # no longer clean: its row goes, nothing else moves
    assert run("archive", "check").exit_code == 1
    assert _writes(mo.store) == []


def test_a_checkout_of_an_older_commit_is_checked_again(tenant, run):
    # A bad phone committed with plain git, then fixed; verify is clean on the fix. Checking the
    # older commit's file out (git's index names the older blob) must bring the problem back.
    assert run("archive", "add", "T0001", "contacts", "--set", "name=李雷", "--set", "phone=13812345678", "--as", "wangli").exit_code == 0
    rel = "tenants/T0001/contacts.yaml"
    path = tenant.path(rel)
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("'13812345678'", "'12345'"), encoding="utf-8")
    plain_git(tenant.root, "commit", "-q", "-am", "改坏电话")
    path.write_text(good, encoding="utf-8")
    plain_git(tenant.root, "commit", "-q", "-am", "改回电话")
    assert run("verify").exit_code == 0
    assert verdict_files(tenant)[rel][0] == git(tenant.root, "rev-parse", f"HEAD:{rel}").strip()
    plain_git(tenant.root, "checkout", "-q", "HEAD~1", "--", rel)
    code, problems = verify(run)
    assert code == 1 and any(p["path"] == rel and "phone" in p["message"] for p in problems)
    plain_git(tenant.root, "checkout", "-q", "HEAD", "--", rel)
    assert run("verify").exit_code == 0
    plain_git(tenant.root, "checkout", "-q", "HEAD~1")  # the whole older commit, detached
    assert verify(run)[0] == 1


def test_another_code_version_empties_the_verdicts(tenant, run):
    assert run("verify").exit_code == 0
    rel = "tenants/T0001/profile.yaml"
    with sqlite3.connect(index_file(tenant)) as con:
        con.execute("INSERT INTO verdict_files VALUES ('tenants/T9999/profile.yaml', 'x', NULL, 1)")
        con.execute("UPDATE meta SET value='another version' WHERE key='code'")
    con.close()
    assert run("archive", "check").exit_code == 0  # prunes nothing: only what it visited is kept as it was
    files = verdict_files(tenant)
    assert "tenants/T9999/profile.yaml" not in files and rel in files


def test_two_verify_processes_at_once_stay_consistent(mo, run):
    import subprocess
    import sys

    mo.walk("engineering_inspection")
    root = mo.store.root
    env = {k: v for k, v in os.environ.items() if k != "WUYE_NO_CACHE"}

    def both(expect: int) -> None:
        procs = [subprocess.Popen([sys.executable, "-m", "wuye", "--store", str(root), "verify", "--json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert [p.returncode for p in procs] == [expect, expect], [e for _, e in outs]
        assert json.loads(outs[0][0]) == json.loads(outs[1][0])

    rel = "tenants/T0001/contacts.yaml"
    for rnd in range(3):
        if rnd == 1:  # a broken file both find; then fixed again
            (root / rel).write_text("entries:\n  - name: 李雷\n    phone: '12345'\n", encoding="utf-8")
        elif rnd == 2:
            (root / rel).unlink()
        both(1 if rnd == 1 else 0)
        # Every row names the blob the file holds now, and a run without the cache agrees.
        for path, (blob, _, _) in verdict_files(mo.store).items():
            assert blob == git(root, "hash-object", path).strip(), path
        assert (rel in verdict_files(mo.store)) is False
        warm = run("verify", "--json")
        cold = run("verify", "--json", env={"WUYE_NO_CACHE": "1"})
        assert json.loads(warm.stdout) == json.loads(cold.stdout)
