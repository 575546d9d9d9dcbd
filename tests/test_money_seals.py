"""Money only finance answers for (issue 16, item 8): every ledger item is sealed, and verify judges
each seal by the authority chain, so that a hostile edit with plain git cannot record a payment,
raise a deposit, forgive a debt or move a seal, even with a real key of someone outside finance.

Each attack is made through the CLI where it can be and with plain git where the CLI refuses it:
a person at the store edits payments.yaml with a text editor and commits, with their own git
identity; the one with an engineer's key signs with it (wuye.trust.signing, as anyone holding the
key file could). The amounts are written out by hand.
"""

from __future__ import annotations

import json

import pytest

from conftest import git
from test_moveout import plain_git
from test_verify import found

from wuye.storage import yamlio
from wuye.trust import money, signing

PAY = "tenants/T0001/payments.yaml"
FEE = ["kind=fee", "item=物业管理费", "period=2026-11", "amount=9971.00", "paid=0.00", "due_date=2026-11-10"]
DEPOSIT = ["kind=deposit", "item=租赁押金", "amount=120000.00", "paid=120000.00", "paid_on=2026-01-05", "receipt_no=SJ-0001"]


def problems(run, env=None) -> tuple[int, list[dict]]:
    r = run("verify", "--json", env=env)
    data = json.loads(r.stdout)
    assert data["ok"] == (r.exit_code == 0)
    return r.exit_code, [p for p in data["problems"] if p["level"] == "error"]


def commit(store, message="手工修改") -> str:
    plain_git(store.root, "add", "-A")
    plain_git(store.root, "commit", "-qm", message)
    return git(store.root, "rev-parse", "HEAD").strip()[:10]


def edit(store, change) -> None:
    """Change payments.yaml as a text editor would: read, change, write back."""
    path = store.path(PAY)
    doc = yamlio.load_roundtrip(path.read_text(encoding="utf-8"))
    change(doc["entries"])
    path.write_text(yamlio.dumps(doc), encoding="utf-8")


@pytest.fixture
def ledger(tenant, run):
    """T0001 with a lease deposit and an unpaid November fee, both recorded by finance (liuyang)."""
    assert run("archive", "add", "T0001", "payments", *sum((["--set", s] for s in DEPOSIT), []), "--as", "liuyang").exit_code == 0
    assert run("archive", "add", "T0001", "payments", *sum((["--set", s] for s in FEE), []), "--as", "liuyang").exit_code == 0
    return tenant


def test_finance_records_are_sealed_and_verify(ledger, run):
    entries = yamlio.read(ledger.path(PAY), PAY)["entries"]
    latest = max(int(p.stem) for p in ledger.path("authority").glob("*.yaml"))  # the founding and five staff added
    assert latest == 6
    assert [(e["id"], e["seal"]["by"], e["seal"]["authority"]) for e in entries] == [("PAY-0001", "liuyang", 6), ("PAY-0002", "liuyang", 6)]
    assert problems(run) == (0, [])
    # The seal is finance's word on this tenant's item: the same bytes under another tenant are
    # not sealed (the tenant id is signed with the item).
    other = money.payload("T0002", money.restored(entries[1]), "liuyang", entries[1]["seal"]["at"], 6)
    mine = money.payload("T0001", money.restored(entries[1]), "liuyang", entries[1]["seal"]["at"], 6)
    assert other != mine


def test_a_fee_marked_paid_by_hand_is_found_with_its_commit(ledger, run):
    def mark_paid(entries):
        entries[1]["paid"] = "9971.00"
        entries[1]["paid_on"] = "2026-11-08"
    edit(ledger, mark_paid)
    c = commit(ledger)
    code, found_ = problems(run)
    assert code == 1 and found(found_, PAY, "money.seal-bad", "PAY-0002", c)
    line = next(n for n, l in enumerate(ledger.path(PAY).read_text(encoding="utf-8").splitlines(), 1) if l.strip() == "- id: PAY-0002")
    assert [p["line"] for p in found_ if p["code"] == "money.seal-bad"] == [line]
    r = run("verify", env={"WUYE_LANG": "en"})
    assert r.exit_code == 1 and "PAY-0002: the seal does not match the item (changed after it was sealed)" in r.stdout


def test_a_deposit_added_by_hand_has_no_seal(ledger, run):
    def add(entries):
        entries.append({"id": "PAY-0003", "kind": "deposit", "item": "装修押金", "amount": "50000.00", "paid": "50000.00",
                        "deposit_status": "held"})
    edit(ledger, add)
    c = commit(ledger)
    code, found_ = problems(run)
    assert code == 1 and found(found_, PAY, "money.unsealed", "PAY-0003", c)
    # doctor says what to do: find the commit, revert it, or have finance seal what it checked
    r = run("doctor")
    assert r.exit_code == 1 and "git revert" in r.stdout and "wuye migrate --as" in r.stdout


def test_an_engineer_cannot_seal_a_payment_with_a_real_key(ledger, run):
    """zhangwei holds a real, valid key: sealing with it is a valid signature by a member who may
    not handle money, and a payment is not a charge."""
    from wuye.trust.authority import private_key_for
    from wuye.storage.store import Store

    store = Store(ledger.root)
    key = private_key_for(store.staff("zhangwei"))

    def forge(entries):
        e = entries[1]
        e["paid"] = "9971.00"
        at, n = e["seal"]["at"], e["seal"]["authority"]
        body = money.restored({k: v for k, v in e.items() if k != "seal"})
        armored = signing.sign(money.payload("T0001", yamlio.loads(yamlio.dumps(body), "x"), "zhangwei", at, n), key, money.NAMESPACE)
        e["seal"] = {"by": "zhangwei", "at": at, "authority": n,
                     "signature": "".join(l for l in armored.splitlines() if not l.startswith("-----"))}
    edit(ledger, forge)
    c = commit(ledger)
    code, found_ = problems(run)
    assert code == 1 and found(found_, PAY, "money.sealer-not-allowed", "PAY-0002", "zhangwei", c)


def test_a_seal_claimed_for_finance_but_made_with_an_engineers_key(ledger, run):
    from wuye.trust.authority import private_key_for
    from wuye.storage.store import Store

    key = private_key_for(Store(ledger.root).staff("zhangwei"))

    def forge(entries):
        e = entries[1]
        e["written_off"] = True
        at, n = e["seal"]["at"], e["seal"]["authority"]
        body = yamlio.loads(yamlio.dumps(money.restored({k: v for k, v in e.items() if k != "seal"})), "x")
        armored = signing.sign(money.payload("T0001", body, "liuyang", at, n), key, money.NAMESPACE)
        e["seal"]["signature"] = "".join(l for l in armored.splitlines() if not l.startswith("-----"))
    edit(ledger, forge)
    commit(ledger)
    code, found_ = problems(run)
    assert code == 1 and found(found_, PAY, "money.seal-bad", "PAY-0002", "liuyang")


def test_a_seal_moved_to_another_time_or_version_does_not_hold(ledger, run):
    def backdate(entries):
        entries[0]["seal"]["at"] = "2026-01-01T09:00:00+08:00"
    edit(ledger, backdate)
    commit(ledger)
    code, found_ = problems(run)
    assert code == 1 and found(found_, PAY, "money.seal-bad", "PAY-0001")


def test_a_forged_closing_mark_is_refused(ledger, run):
    """Marking the fee paid 'by a move-out' that never settled it."""
    def close(entries):
        e = entries[1]
        e["closed_by"] = {"case": "MO-2026-0009", "before": {"paid": "0.00", "paid_on": None, "receipt_no": None,
                                                             "note": None, "deposit_status": None}}
        e["paid"] = "9971.00"
    edit(ledger, close)
    commit(ledger)
    code, found_ = problems(run)
    assert code == 1 and found(found_, PAY, "money.closing-bad", "PAY-0002", "MO-2026-0009")


def test_an_engineer_raises_a_repair_charge_under_their_own_seal(ledger, run):
    r = run("repair", "open", "T0001", "--location", "1205 室卫生间", "--text", "洗手盆被租户员工砸裂", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    rid = r.stdout.split()[0]
    assert run("repair", "assign", rid, "--to", "zhangwei", "--as", "wangli").exit_code == 0
    r = run("repair", "done", rid, "--cost", "350.00", "--chargeable", "--as", "zhangwei")
    assert r.exit_code == 0, r.stderr
    item = yamlio.read(ledger.path(PAY), PAY)["entries"][-1]
    assert (item["amount"], item["paid"], item["seal"]["by"]) == ("350.00", "0.00", "zhangwei")
    assert problems(run) == (0, [])


def test_the_cli_refuses_money_to_anyone_outside_finance(ledger, run, snapshot, refused):
    before = snapshot(ledger)
    refused(run("archive", "add", "T0001", "payments", *sum((["--set", s] for s in DEPOSIT), []), "--as", "zhangwei"),
            "财务部", "zhangwei")
    refused(run("migrate", "--as", "zhangwei"), "财务部", "zhangwei")
    assert snapshot(ledger) == before


def test_migrate_seals_a_hand_kept_ledger_once_finance_has_checked_it(tenant, run, snapshot, refused, git_log):
    """An office adopting wuye: a ledger typed by hand before, and an arrear kept the old way
    (a violation record about the same unpaid November fee: 9971.00, counted once) and one
    about money the ledger does not hold (the July air-conditioning, 2380.00)."""
    tenant.path(PAY).write_text(
        "entries:\n"
        "  - {id: PAY-0001, kind: deposit, item: 租赁押金, amount: '120000.00', paid: '120000.00', deposit_status: held}\n"
        "  - {id: PAY-0002, kind: fee, item: 物业管理费, period: 2026-11, amount: '9971.00', paid: '0.00'}\n", encoding="utf-8")
    tenant.path("tenants/T0001/violations.yaml").write_text(
        "entries:\n"
        "  - {id: VIO-0001, date: 2026-11-20, kind: arrears, description: 11月物业费欠缴, amount: '9971.00'}\n"
        "  - {id: VIO-0002, date: 2026-08-01, kind: arrears, description: 7月加时空调费欠缴, amount: '2380.00'}\n", encoding="utf-8")
    commit(tenant, "旧台账")
    code, found_ = problems(run)
    assert code == 1 and found(found_, PAY, "money.unsealed", "PAY-0001") and found(found_, PAY, "money.unsealed", "PAY-0002")
    # Kept the old way, the November fee is owed twice: 9971.00 + 9971.00 + 2380.00.
    assert json.loads(run("report", "arrears", "--json").stdout)["summary"]["total"] == "22322.00"

    before = snapshot(tenant)
    refused(run("migrate", "--as", "wangli"), "财务部", "wangli")
    r = run("migrate", "--dry-run", "--as", "liuyang")
    assert r.exit_code == 0 and "T0001：PAY-0002 物业管理费 9971.00 元 待签章" in r.stdout and "试运行" in r.stderr
    assert "T0001：欠费 VIO-0001 关联到应收 PAY-0002" in r.stdout and "T0001：欠费 VIO-0002 记为新应收 PAY-0003" in r.stdout
    assert snapshot(tenant) == before

    r = run("migrate", "--as", "liuyang")
    assert r.exit_code == 0, r.stderr
    c = git_log(tenant)[0]
    assert c.author == "刘洋" and c.trailers["Wuye-Action"] == "migrate"
    assert sorted(c.files) == ["tenants/T0001/payments.yaml", "tenants/T0001/violations.yaml"]
    entries = yamlio.read(tenant.path(PAY), PAY)["entries"]
    assert [(e["id"], e["amount"], e["source"] if "source" in e else "fee", e["seal"]["by"]) for e in entries] == [
        ("PAY-0001", "120000.00", "fee", "liuyang"), ("PAY-0002", "9971.00", "fee", "liuyang"),
        ("PAY-0003", "2380.00", "other", "liuyang")]
    links = [(v["id"], v["item"]) for v in yamlio.read(tenant.path("tenants/T0001/violations.yaml"), "v")["entries"]]
    assert links == [("VIO-0001", "PAY-0002"), ("VIO-0002", "PAY-0003")]
    assert problems(run) == (0, [])
    # once in the ledger, the November fee is owed once: 9971.00 + 2380.00
    assert json.loads(run("report", "arrears", "--json").stdout)["summary"]["total"] == "12351.00"
    # a second run finds nothing to do and commits nothing
    head = git(tenant.root, "rev-parse", "HEAD")
    r = run("migrate", "--as", "liuyang", env={"WUYE_LANG": "en"})
    assert r.exit_code == 0 and "nothing to migrate" in r.stderr and git(tenant.root, "rev-parse", "HEAD") == head


def test_a_fine_is_a_ledger_item_so_waiving_the_record_by_hand_forgives_nothing(tenant, run):
    """Customer service records a 300.00 fine (占用消防通道): the ledger gets the item, sealed by
    the clerk as a charge; the violation record points at it. Marking the record waived with a text
    editor leaves the tenant owing 300.00; marking the item paid breaks its seal."""
    r = run("archive", "add", "T0001", "violations", "--set", "date=2026-11-20", "--set", "kind=violation",
            "--set", "description=占用消防通道", "--set", "amount=300.00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    item = yamlio.read(tenant.path(PAY), PAY)["entries"][0]
    assert (item["id"], item["amount"], item["paid"], item["source"], item["source_ref"], item["seal"]["by"]) == (
        "PAY-0001", "300.00", "0.00", "fine", "violations.yaml#VIO-0001", "wangli")
    vio = yamlio.read(tenant.path("tenants/T0001/violations.yaml"), "v")["entries"][0]
    assert vio["item"] == "PAY-0001"
    assert problems(run) == (0, [])
    assert json.loads(run("report", "arrears", "--json").stdout)["summary"]["total"] == "300.00"

    path = tenant.path("tenants/T0001/violations.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("status: open", "status: waived"), encoding="utf-8")
    commit(tenant, "免了")
    assert json.loads(run("report", "arrears", "--json").stdout)["summary"]["total"] == "300.00"

    edit(tenant, lambda entries: entries[0].update(paid="300.00"))
    c = commit(tenant)
    code, found_ = problems(run)
    assert code == 1 and found(found_, PAY, "money.seal-bad", "PAY-0001", c)


def test_two_offices_recording_payments_offline_merge_and_still_verify(tenant, run, tmp_path):
    """Finance records a payment in each of two clones; the merge renumbers this side's PAY-0001
    to PAY-0002, and its seal still holds: the seal does not cover the id a merge may change."""
    import subprocess

    from wuye.archive import dossier as archive
    from wuye.storage.store import Store
    from wuye.sync.offices import configure

    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(tenant.root), str(other))
    configure(other)
    archive.add(tenant, "T0001", "payments", "liuyang", sets=FEE)
    archive.add(Store(other), "T0001", "payments", "liuyang", sets=DEPOSIT)
    p = subprocess.run(["git", "-c", "user.name=某人", "-c", "user.email=someone@example.invalid", "pull", "-q", "--no-edit"],
                       cwd=other, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    entries = yamlio.read(other / PAY, PAY)["entries"]
    assert [(e["id"], e["kind"], e["seal"]["by"]) for e in entries] == [("PAY-0001", "fee", "liuyang"), ("PAY-0002", "deposit", "liuyang")]
    r = run("verify", store=Store(other))
    assert r.exit_code == 0, r.stdout + r.stderr


@pytest.mark.parametrize("hostile", ["scalar.yaml", "ts-feb-30.yaml", "num-4301-digits.yaml", "profile-list.yaml", "bomb.yaml"])
def test_migrate_refuses_a_ledger_it_cannot_read_and_changes_nothing(ledger, run, snapshot, refused, hostile):
    from conftest import REPO_ROOT

    ledger.path(PAY).write_bytes((REPO_ROOT / "tests" / "hostile" / hostile).read_bytes())
    commit(ledger, "坏文件")
    before = snapshot(ledger)
    r = run("migrate", "--as", "liuyang")
    refused(r, PAY)
    assert "Traceback" not in r.stdout + r.stderr
    assert snapshot(ledger) == before
