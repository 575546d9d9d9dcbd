"""The move-out workflow through the CLI: a case taken through every step, one commit per step
authored by the signer, the closing effects of release, and every refusal (which changes nothing).

The helpers at the top (`MoveOut`, `SIGNERS`, `DATA`, `plain_git`) are shared with
test_settlement.py, test_verify.py and test_workflow.py.
"""

from __future__ import annotations

import json
import textwrap
import os
import shutil
import subprocess
from itertools import count
from pathlib import Path

import pytest

from conftest import git

# --- shared helpers ----------------------------------------------------------------------------

ORDER = ("notice", "application", "return_pass", "engineering_inspection", "security_inspection",
         "settlement", "handover", "release")
TITLES = {"notice": "租售部书面通知", "application": "迁出申请/确认单", "return_pass": "退证",
          "engineering_inspection": "工程部验房", "security_inspection": "保安部检查",
          "settlement": "财务结算", "handover": "客服交接", "release": "放行并通知",
          "payout": "退款支付", "collection": "应补款收取", "writeoff": "核销或转催收"}
SIGNERS = {"notice": "zhaomin", "application": "wangli", "return_pass": "wangli",
           "engineering_inspection": "zhangwei", "security_inspection": "chenjing",
           "settlement": "liuyang", "handover": "wangli", "release": "chenjing",
           "payout": "liuyang", "collection": "liuyang", "writeoff": "sunhao"}
NAMES = {"wangli": "王丽", "zhangwei": "张伟", "liuyang": "刘洋", "chenjing": "陈静", "zhaomin": "赵敏", "sunhao": "孙浩"}
DEPTS = {"wangli": "客服部", "zhangwei": "工程部", "liuyang": "财务部", "chenjing": "保安部", "zhaomin": "租售部"}

# What each signed step records by default: everything handed back, one damage.
DATA = {
    "application": {"representative": "李明", "representative_phone": "13812345678", "form_received": True,
                    "received_on": "2026-11-20"},
    "return_pass": {"access_cards_returned": 3},
    "engineering_inspection": {"equipment_checked": True, "meter_electricity": "1023.5", "power_off": True,
                               "ac_off": True,
                               "damages": [{"location": "1205 卫生间", "description": "洗手盆开裂", "amount": "300.00"}]},
    "security_inspection": {"extinguishers_returned": 2, "fire_equipment_ok": True},
    "handover": {"keys_returned": 2, "customer_cards_returned": 1, "renovation": "restored",
                 "lease_terminated": True, "new_phone": "13998765432",
                 "forwarding_address": "北京市朝阳区建国路 88 号 SOHO 现代城 2 号楼 1501",
                 "contact_name": "李明"},
    "release": {"release_pass_no": "FX-2026-118", "released_on": "2026-12-31"},
}
MOVE_IN = {"move_in_date": "2023-01-01", "access_cards_issued": 3, "keys_issued": 2, "customer_cards_issued": 1,
           "extinguishers_rented": 2, "meter_readings": {"electricity": "1000.0"}}

_files = count()


def plain_git(root, *args: str) -> str:
    """git as a person at the store would run it: with an identity of their own."""
    p = subprocess.run(["git", "-c", "user.name=某人", "-c", "user.email=someone@example.invalid", *args],
                       cwd=root, capture_output=True, text=True, check=False)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


def commit_count(store) -> int:
    return int(git(Path(store.root) if hasattr(store, "root") else store, "rev-list", "--count", "HEAD").strip())


class MoveOut:
    """Drives a case through the CLI with `run`; input files go to `tmp_path/in` (outside the store)."""

    def __init__(self, run, store, tmp_path, tenant_id="T0001"):
        self.run, self.store, self.tenant_id = run, store, tenant_id
        self.inputs = tmp_path / "in"
        self.inputs.mkdir(exist_ok=True)
        self.case = None

    def file(self, data) -> Path:
        p = self.inputs / f"input-{next(_files)}.yaml"
        p.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        return p

    def archive(self, category, data, as_=None):
        # Money is finance's to record; the rest the customer-service clerk's.
        as_ = as_ or ("liuyang" if category == "payments" else "wangli")
        r = self.run("archive", "add", self.tenant_id, category, "--file", self.file(data), "--as", as_)
        assert r.exit_code == 0, r.stderr
        return r

    def move_in(self, **changes):
        return self.archive("move_in", {**MOVE_IN, **changes})

    def start(self, as_="zhaomin", date="2026-12-31", reason="租约到期，不再续租"):
        r = self.run("moveout", "start", self.tenant_id, "--date", date, "--reason", reason, "--as", as_)
        assert r.exit_code == 0, r.stderr
        self.case = r.stdout.splitlines()[0]
        return r

    def sign(self, step, data=None, as_=None, *extra, case=None, **changes):
        values = dict(DATA.get(step, {}) if data is None else data)
        values.update(changes)
        return self.run("moveout", "sign", case or self.case, step, "--file", self.file(values),
                        "--as", as_ or SIGNERS[step], *extra)

    def settle(self, *extra, as_="liuyang", case=None):
        return self.run("moveout", "settle", case or self.case, "--as", as_, *extra)

    def balance(self):
        """The balance of the latest settlement revision, as signed."""
        from decimal import Decimal

        revs = sorted(self.store.path(self.step_rel("settlement")).parent.glob("settlement*.yaml"),
                      key=lambda p: int(p.name.split(".")[1]) if p.name.count(".") == 2 else 1)
        from wuye.storage import yamlio

        return Decimal(yamlio.read(revs[-1], "x")["data"]["balance"])

    def pay(self, **changes):
        """Finance moves the settlement's money: pays the refund out, or receives the amount due."""
        b = self.balance()
        if b > 0:
            return self.ok(self.sign("payout", {"amount": str(b), "paid_on": self.store.now().date().isoformat(), "method": "transfer",
                                                "account": "6222020200112233445", "voucher": "FK-2026-0042", **changes}))
        if b < 0:
            return self.ok(self.sign("collection", {"amount": str(-b), "received_on": self.store.now().date().isoformat(), "method": "transfer",
                                                    "receipt_no": "SK-2026-0042", **changes}))
        return None

    def ok(self, result):
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def walk(self, upto="release", skip=(), move_in=True, **data):
        """Start a case (with the move-in record) and sign every step up to `upto`, inclusive.

        `data` overrides a step's data: walk(handover={...}).
        """
        if move_in:
            self.move_in()
        self.start()
        for step in ORDER[1:ORDER.index(upto) + 1]:
            if step in skip:
                continue
            if step == "settlement":
                self.ok(self.settle())
            elif step == "release":
                self.pay()
                self.ok(self.sign(step, data.get(step)))
            else:
                self.ok(self.sign(step, data.get(step)))
        return self.case

    def step_rel(self, step, revision=1):
        name = f"{step}.yaml" if revision == 1 else f"{step}.{revision}.yaml"
        return f"tenants/{self.tenant_id}/moveout/{self.case}/steps/{name}"

    def entry(self, step, revision=1) -> dict:
        from wuye.storage import yamlio

        return yamlio.read(self.store.path(self.step_rel(step, revision)), "x")

    def status(self):
        r = self.run("moveout", "status", self.case, "--json")
        return json.loads(r.stdout), r


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def year(store) -> int:
    return store.now().year


# --- the whole case, step by step --------------------------------------------------------------


def _show_files(store, commit) -> list[str]:
    out = git(store.root, "show", "--name-only", "--format=", commit)
    return sorted(line for line in out.splitlines() if line)


def _check_step_commit(store, git_log, before, case, step, expected_files, signer=None):
    log = git_log(store)
    assert len(log) == before + 1, [c.subject for c in log[:3]]
    c = log[0]
    signer = signer or SIGNERS[step]
    assert (c.author, c.email) == (NAMES[signer], f"{signer}@wuye.invalid")
    assert (c.committer, c.committer_email) == (NAMES[signer], f"{signer}@wuye.invalid")
    assert c.subject.startswith(f"moveout {case}: ")
    assert TITLES[step] in c.subject and NAMES[signer] in c.subject and DEPTS[signer] in c.subject
    assert c.trailers == {"Wuye-Tenant": "T0001", "Wuye-Case": case, "Wuye-Step": step, "Wuye-Signer": signer}
    assert _show_files(store, c.commit) == sorted(expected_files)
    assert git(store.root, "status", "--porcelain", "--untracked-files=all") == ""
    return c


def test_a_case_through_every_step_one_commit_each(mo, run, git_log, snapshot):
    store = mo.store
    cdir = "tenants/T0001/moveout"
    mo.move_in()
    before = len(git_log(store))

    r = mo.start()
    case = mo.case
    assert case == f"MO-{year(store)}-0001"
    assert r.stdout.splitlines() == [case]  # the id alone on stdout, for scripts
    c = _check_step_commit(store, git_log, before, case, "notice",
                           [f"{cdir}/{case}/case.yaml", f"{cdir}/{case}/steps/notice.yaml", "tenants/T0001/profile.yaml"])
    assert "开案" in c.subject and "柏彦科技" in c.subject
    notice = mo.entry("notice")
    assert notice["data"] == {"applied_on": store.now().date().isoformat(), "planned_date": "2026-12-31",
                              "reason": "租约到期，不再续租"}
    assert notice["needs"] == {} and notice["signer"] == "zhaomin" and notice["department"] == "leasing"
    assert notice["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    from wuye.storage import yamlio

    assert yamlio.read(store.path("tenants/T0001/profile.yaml"), "p")["status"] == "moving_out"
    case_info = yamlio.read(store.path(f"{cdir}/{case}/case.yaml"), "c")
    assert case_info["status"] == "open" and case_info["units"] == ["1205"] and case_info["opened_by"] == "zhaomin"

    for step in ("application", "return_pass", "engineering_inspection", "security_inspection"):
        before = len(git_log(store))
        mo.ok(mo.sign(step))
        _check_step_commit(store, git_log, before, case, step, [mo.step_rel(step)])

    eng = mo.entry("engineering_inspection")
    assert eng["data"]["damages"] == DATA["engineering_inspection"]["damages"]
    assert eng["needs"] == {"application": _digest(mo, "application")}

    # A dry run prints the statement and signs nothing.
    before_dry = snapshot(store)
    r = mo.ok(mo.settle("--dry-run", "--json", "--charge", "清洁费=350.00"))
    dry = json.loads(r.stdout)
    assert dry["balance"] == "-678.20"
    assert "试算，未签字" in r.stderr
    r = mo.ok(mo.settle("--dry-run", "--charge", "清洁费=350.00"))
    assert "迁出结算单" in r.stdout and "678.20" in r.stdout and "清洁费" in r.stdout
    assert snapshot(store) == before_dry

    before = len(git_log(store))
    r = mo.ok(mo.settle("--json", "--charge", "清洁费=350.00", "--receipt", "SJ-0099"))
    assert json.loads(r.stdout) == dry
    _check_step_commit(store, git_log, before, case, "settlement", [mo.step_rel("settlement")])
    settlement = mo.entry("settlement")
    assert settlement["data"] == {**dry, "settled_on": store.now().date().isoformat(), "receipt_no": "SJ-0099"}
    assert set(settlement["needs"]) == {"return_pass", "engineering_inspection", "security_inspection"}

    before = len(git_log(store))
    mo.ok(mo.sign("handover"))
    _check_step_commit(store, git_log, before, case, "handover", [mo.step_rel("handover")])

    # The tenant owes 678.20: release is refused until finance receives it.
    refused = mo.sign("release")
    assert refused.exit_code == 1 and "客户应补 678.20 元" in refused.stderr
    before = len(git_log(store))
    mo.pay()
    _check_step_commit(store, git_log, before, case, "collection", [mo.step_rel("collection")])

    before = len(git_log(store))
    r = mo.ok(mo.sign("release"))
    assert "已签字" in r.stderr
    _check_step_commit(store, git_log, before, case, "release", [
        mo.step_rel("release"), f"{cdir}/{case}/case.yaml", "units/1205.yaml", "tenants/T0001/profile.yaml",
        "tenants/T0001/contacts.yaml", "tenants/T0001/correspondence.yaml", "tenants/T0001/payments.yaml"])
    due = yamlio.read(store.path("tenants/T0001/payments.yaml"), "p")["entries"][-1]
    assert {k: due[k] for k in ("kind", "item", "source", "source_ref", "amount", "paid", "receipt_no", "written_off")} == {
        "kind": "fee", "item": "迁出结算应补款", "source": "settlement", "source_ref": case, "amount": "678.20",
        "paid": "678.20", "receipt_no": "SK-2026-0042", "written_off": False}

    # The closing effects, all in the release commit just checked.
    case_info = yamlio.read(store.path(f"{cdir}/{case}/case.yaml"), "c")
    assert case_info["status"] == "closed" and case_info["closed_at"]
    unit = yamlio.read(store.path("units/1205.yaml"), "u")
    assert unit["status"] == "vacant" and "tenant" not in unit
    assert yamlio.read(store.path("tenants/T0001/profile.yaml"), "p")["status"] == "moved_out"
    contacts = yamlio.read(store.path("tenants/T0001/contacts.yaml"), "c")["entries"]
    forwarding = [e for e in contacts if e["kind"] == "forwarding"]
    assert len(forwarding) == 1
    assert forwarding[0]["phone"] == "13998765432"
    assert forwarding[0]["address"] == DATA["handover"]["forwarding_address"]
    assert forwarding[0]["name"] == "李明" and forwarding[0]["recorded_by"] == "chenjing"
    notices = yamlio.read(store.path("tenants/T0001/correspondence.yaml"), "c")["entries"]
    assert len(notices) == 1
    assert notices[0]["direction"] == "out" and notices[0]["ref_no"] == case
    assert notices[0]["departments"] == ["engineering", "finance", "security"]
    assert "1205" in notices[0]["subject"] and "FX-2026-118" in notices[0]["summary"]
    # The archive is still valid after the closing edits.
    assert run("archive", "check", "T0001").exit_code == 0

    board, r = mo.status()
    assert r.exit_code == 0
    assert board["status"] == "closed" and board["problems"] == [] and board["next"] == []
    signed = [*ORDER[:6], "collection", *ORDER[6:]]
    assert [s["step"] for s in board["steps"] if s["state"] == "done"] == signed
    # The payout and the writeoff were not needed: the tenant owed money and paid it.
    assert {s["step"]: s["state"] for s in board["steps"] if s["state"] != "done"} == {"payout": "not_needed", "writeoff": "not_needed"}
    assert all(s["revision"] == 1 for s in board["steps"] if s["state"] == "done")
    assert [(s["step"], s["signer"]) for s in board["steps"] if s["state"] == "done"] == [(s, SIGNERS[s]) for s in signed]
    assert [s["number"] for s in board["standards"]] == ["1", "2", "3", "3.1", "4", "5", "6", "7"]
    assert all(s["met"] for s in board["standards"]), board["standards"]
    assert "客户应补 678.20 元：已收 678.20 元" in board["standards"][3]["detail"]
    assert "FX-2026-118" in board["standards"][7]["detail"]
    r = run("moveout", "status", case)  # the human board says the same
    assert r.exit_code == 0 and "已结案" in r.stdout and r.stdout.count("✓ 已签") == 9 and r.stdout.count("不需要") == 2

    all_cases = json.loads(run("moveout", "list", "--json").stdout)
    assert [(c["case"], c["status"], c["steps_signed"]) for c in all_cases] == [(case, "closed", sorted(signed))]
    assert json.loads(run("moveout", "list", "--open", "--json").stdout) == []

    assert run("verify").exit_code == 0

    # The tenant has moved out: no new case.
    before = snapshot(store)
    r = run("moveout", "start", "T0001", "--date", "2027-01-31", "--as", "zhaomin")
    assert r.exit_code == 1 and "已迁出" in r.stderr
    assert snapshot(store) == before
    # …and nothing more is signed on the closed case.
    r = mo.sign("release", None, None, "--correct")
    assert r.exit_code == 1 and "已结案" in r.stderr
    assert snapshot(store) == before


def test_closing_settles_in_the_archive_what_the_statement_settled(mo, run, git_log):
    # A held deposit, a refunded one, a part-paid fee, an open and a waived arrear.
    mo.archive("payments", [
        {"kind": "deposit", "item": "租赁押金", "amount": "30000.00"},
        {"kind": "deposit", "item": "装修押金", "amount": "5000.00", "deposit_status": "refunded"},
        {"kind": "fee", "item": "物业管理费", "period": "2026-11", "amount": "3000.00", "paid": "1000.00"},
    ])
    mo.archive("violations", [
        {"date": "2026-10-01", "kind": "arrears", "description": "停车费欠费", "amount": "600.00"},
        {"date": "2026-09-01", "kind": "violation", "description": "违规停放", "amount": "200.00", "status": "waived"},
    ])
    case = mo.walk("release")
    from wuye.storage import yamlio

    release = git_log(mo.store)[0]
    assert "tenants/T0001/payments.yaml" in release.files and "tenants/T0001/violations.yaml" in release.files
    pay = {e["id"]: e for e in yamlio.read(mo.store.path("tenants/T0001/payments.yaml"), "p")["entries"]}
    assert pay["PAY-0001"]["deposit_status"] == "refunded" and case in pay["PAY-0001"]["note"]
    assert pay["PAY-0002"]["deposit_status"] == "refunded" and "note" not in pay["PAY-0002"]  # not in the statement
    assert pay["PAY-0003"]["paid"] == "3000.00" and pay["PAY-0003"]["paid_on"]
    vio = {e["id"]: e for e in yamlio.read(mo.store.path("tenants/T0001/violations.yaml"), "v")["entries"]}
    assert vio["VIO-0001"]["status"] == "settled" and vio["VIO-0001"]["resolved_on"]
    assert vio["VIO-0002"]["status"] == "waived" and "resolved_on" not in vio["VIO-0002"]
    # Nothing is owed any more, and the closed case still meets every standard.
    arrears = json.loads(run("report", "arrears", "--json").stdout)
    assert "T0001" not in json.dumps(arrears, ensure_ascii=False)
    board, _ = mo.status()
    assert all(s["met"] for s in board["standards"]), board["standards"]
    assert run("verify").exit_code == 0


def _digest(mo, step, revision=1) -> str:
    from wuye.moveout import cases as moveout

    return moveout.payload(mo.store, mo.case, step, revision).digest


def test_english_commit_summary_names_the_case_and_step_id(mo, run, git_log):
    mo.walk("application")
    mo.ok(run("moveout", "sign", mo.case, "return_pass", "--set", "access_cards_returned=3", "--as", "wangli",
              env={"WUYE_LANG": "en"}))
    assert git_log(mo.store)[0].subject == f"moveout {mo.case}: return_pass signed by 王丽 (customer_service)"


def test_a_second_start_on_a_tenant_with_an_open_case_is_refused(mo, run, snapshot, refused):
    mo.start()
    before = snapshot(mo.store)
    refused(run("moveout", "start", "T0001", "--date", "2027-01-31", "--as", "zhaomin"), "已有办理中的迁出案件", mo.case)
    assert snapshot(mo.store) == before


def test_case_numbers_count_up_within_the_year_and_list_open_shows_open_cases(mo, run):
    from wuye.archive import dossier as archive

    mo.start()
    archive.new(mo.store, "T0002", "国贸咨询", "1301", "wangli")
    r = mo.ok(run("moveout", "start", "T0002", "--date", "2027-01-31", "--as", "zhaomin"))
    second = r.stdout.splitlines()[0]
    assert second == f"MO-{year(mo.store)}-0002"
    rows = json.loads(run("moveout", "list", "--open", "--json").stdout)
    assert [(r["case"], r["tenant_id"], r["status"], r["steps_signed"]) for r in rows] == [
        (mo.case, "T0001", "open", ["notice"]), (second, "T0002", "open", ["notice"])]


def test_start_refuses_an_unknown_tenant_and_a_non_leasing_signer(mo, run, snapshot, refused):
    before = snapshot(mo.store)
    refused(run("moveout", "start", "T0404", "--date", "2026-12-31", "--as", "zhaomin"), "T0404")
    refused(run("moveout", "start", "T0001", "--date", "2026-12-31", "--as", "wangli"), "wangli", "租售部")
    refused(run("moveout", "start", "T0001", "--date", "31/12/2026", "--as", "zhaomin"), "planned_date")
    refused(run("moveout", "start", "../T0001", "--date", "2026-12-31", "--as", "zhaomin"), "../T0001")
    assert snapshot(mo.store) == before


def test_status_shows_what_is_ready_and_what_is_blocked(mo, run):
    mo.walk("application")
    board, r = mo.status()
    assert r.exit_code == 0 and board["status"] == "open"
    states = {s["step"]: s["state"] for s in board["steps"]}
    assert states == {"notice": "done", "application": "done", "return_pass": "ready",
                      "engineering_inspection": "ready", "security_inspection": "ready",
                      "settlement": "blocked", "handover": "blocked", "release": "blocked",
                      "payout": "blocked", "collection": "blocked", "writeoff": "blocked"}
    assert {n["step"] for n in board["next"]} == {"return_pass", "engineering_inspection", "security_inspection"}
    waiting = {s["step"]: s["waiting_for"] for s in board["steps"]}
    assert sorted(waiting["settlement"]) == ["engineering_inspection", "return_pass", "security_inspection"]
    met = {s["number"]: s["met"] for s in board["standards"]}
    assert met == {"1": True, "2": False, "3": False, "3.1": False, "4": False, "5": False, "6": True, "7": False}
    r = run("moveout", "status", mo.case)
    assert "下一步" in r.stderr and "工程部验房" in r.stderr


def test_the_board_offers_only_the_money_steps_the_balance_still_needs(mo, run):
    # The tenant owes 678.20 (as the whole walk above settles it): no payout to offer, and once
    # finance has received it, neither a second collection nor a writeoff: only the release.
    mo.walk("handover")
    board, _ = mo.status()
    states = {s["step"]: s["state"] for s in board["steps"] if s["state"] != "done"}
    assert states == {"payout": "not_needed", "collection": "ready", "writeoff": "ready", "release": "blocked"}
    assert [n["step"] for n in board["next"]] == ["collection", "writeoff"]
    mo.pay()
    board, _ = mo.status()
    states = {s["step"]: s["state"] for s in board["steps"] if s["state"] != "done"}
    assert states == {"payout": "not_needed", "writeoff": "not_needed", "release": "ready"}
    assert [n["step"] for n in board["next"]] == ["release"]
    r = run("moveout", "status", mo.case)
    assert "下一步：放行并通知（保安部）" in r.stderr
    assert "核销" not in r.stderr.split("下一步")[1]


# --- refusals: each exit 1, named reason, nothing changed ------------------------------------


def test_a_signer_from_the_wrong_department_is_refused(mo, snapshot, refused):
    mo.walk("application")
    before = snapshot(mo.store)
    refused(mo.sign("engineering_inspection", as_="wangli"), "wangli", "工程部验房", "须由 工程部 签字")
    refused(mo.sign("security_inspection", as_="liuyang"), "liuyang", "保安部")
    refused(mo.sign("application", as_="sunhao"), "sunhao")
    assert snapshot(mo.store) == before


def test_a_revoked_staff_member_cannot_sign(mo, run, snapshot, refused, git_log):
    mo.walk("application")
    mo.ok(run("staff", "revoke", "zhangwei", "--as", "sunhao"))
    assert git_log(mo.store)[0].trailers["Wuye-Staff"] == "zhangwei"
    before = snapshot(mo.store)
    refused(mo.sign("engineering_inspection"), "zhangwei", "停用")
    assert snapshot(mo.store) == before


def test_a_missing_private_key_is_refused(mo, snapshot, refused):
    mo.walk("application")
    keys = Path(os.environ["WUYE_KEYS"])
    (keys / "zhangwei").unlink()
    before = snapshot(mo.store, keys)
    refused(mo.sign("engineering_inspection"), "本机没有员工 zhangwei 的私钥", str(keys / "zhangwei"))
    assert snapshot(mo.store, keys) == before


def test_opening_a_case_without_the_private_key_is_refused(mo, run, snapshot, refused):
    keys = Path(os.environ["WUYE_KEYS"])
    (keys / "zhaomin").unlink()
    before = snapshot(mo.store, keys)
    refused(run("moveout", "start", "T0001", "--date", "2026-12-31", "--as", "zhaomin"), "本机没有员工 zhaomin 的私钥")
    assert snapshot(mo.store, keys) == before
    assert json.loads(run("moveout", "list", "--json").stdout) == []


def test_a_private_key_that_is_not_the_registered_one_is_refused(mo, snapshot, refused):
    mo.walk("application")
    keys = Path(os.environ["WUYE_KEYS"])
    # zhangwei's key file replaced by chenjing's: a valid key, but not his.
    (keys / "zhangwei").unlink()
    shutil.copy2(keys / "chenjing", keys / "zhangwei")
    before = snapshot(mo.store, keys)
    refused(mo.sign("engineering_inspection"), "不是 staff/zhangwei.yaml 中登记的当前密钥")
    assert snapshot(mo.store, keys) == before


def test_signing_out_of_order_is_refused(mo, snapshot, refused):
    mo.start()
    before = snapshot(mo.store)
    refused(mo.sign("engineering_inspection"), "「工程部验房」须在", "「迁出申请/确认单」")
    refused(mo.sign("handover"), "「客服交接」须在", "「财务结算」")
    assert snapshot(mo.store) == before


def test_a_signed_step_needs_correct_and_a_correction_is_revision_two(mo, run, snapshot, refused, git_log):
    mo.walk("engineering_inspection")
    before = snapshot(mo.store)
    refused(mo.sign("engineering_inspection"), "已由 zhangwei", "--correct")
    refused(mo.sign("security_inspection", None, None, "--correct"), "尚未签字，无可更正")
    assert snapshot(mo.store) == before

    first = _digest(mo, "engineering_inspection")
    changed = {**DATA["engineering_inspection"], "meter_electricity": "1024.0"}
    mo.ok(mo.sign("engineering_inspection", changed, None, "--correct"))
    c = git_log(mo.store)[0]
    assert c.trailers["Wuye-Revision"] == "2" and c.trailers["Wuye-Step"] == "engineering_inspection"
    assert "更正（第 2 版）" in c.subject
    assert c.files == [mo.step_rel("engineering_inspection", 2)]
    rev2 = mo.entry("engineering_inspection", 2)
    assert rev2["revision"] == 2 and rev2["supersedes"] == first
    assert rev2["data"]["meter_electricity"] == "1024.0"
    # Revision 1 is untouched; the board and the payload show the latest.
    assert mo.entry("engineering_inspection")["data"]["meter_electricity"] == "1023.5"
    board, _ = mo.status()
    row = next(s for s in board["steps"] if s["step"] == "engineering_inspection")
    assert row["revision"] == 2 and row["digest"] == _digest(mo, "engineering_inspection", 2)
    assert run("verify").exit_code == 0


def test_settling_before_both_inspections_is_refused(mo, snapshot, refused):
    mo.walk("engineering_inspection", skip=("return_pass",))
    mo.ok(mo.sign("return_pass"))
    before = snapshot(mo.store)
    refused(mo.settle(), "「财务结算」须在", "「保安部检查」")
    refused(mo.settle("--correct"), "尚未签字")
    assert snapshot(mo.store) == before


def test_settlement_cannot_be_signed_directly(mo, run, snapshot, refused):
    mo.walk("security_inspection")
    before = snapshot(mo.store)
    refused(mo.sign("settlement", {"lines": [], "credits": "0.00", "charges": "0.00", "balance": "99999.00",
                                   "settled_on": "2026-12-01"}), "由 wuye 计算", "wuye moveout settle")
    assert snapshot(mo.store) == before


def test_only_finance_settles(mo, snapshot, refused):
    mo.walk("security_inspection")
    before = snapshot(mo.store)
    refused(mo.settle(as_="wangli"), "wangli", "财务部")
    assert snapshot(mo.store) == before


def test_release_before_the_settlement_is_refused(mo, snapshot, refused):
    mo.walk("security_inspection")
    before = snapshot(mo.store)
    r = mo.sign("release")
    refused(r, "管理标准未达到", "客户无拖欠费用", "财务尚未结算")
    assert snapshot(mo.store) == before


def test_keys_kept_and_not_charged_block_release_until_settle_correct_charges_them(mo, run, snapshot, refused, git_log):
    mo.walk("settlement")
    mo.ok(mo.settle("--correct", "--charge", "清洁费=350.00"))  # finance adds a charge: revision 2
    mo.ok(mo.sign("handover", {**DATA["handover"], "keys_returned": 1}))  # one key of two kept
    board, _ = mo.status()
    keys = board["standards"][1]
    assert not keys["met"] and "单元钥匙 1" in keys["detail"] and "settle --correct" in keys["detail"]

    before = snapshot(mo.store)
    refused(mo.sign("release"), "管理标准未达到", "出入证、单元钥匙如数交回", "单元钥匙 1")
    assert snapshot(mo.store) == before

    previous = _digest(mo, "settlement", 2)
    r = mo.ok(mo.settle("--correct", "--json"))
    lines = json.loads(r.stdout)["lines"]
    assert {"code": "unreturned:unit_key", "item": "未交回单元钥匙 1 × 100.00 元",
            "source": "move_in.yaml keys_issued / handover.yaml keys_returned; wuye.yaml fees.unit_key",
            "amount": "-100.00"} in lines
    # The other charge entered before is kept by the correction.
    assert [l for l in lines if l["code"] == "other"] == [
        {"code": "other", "item": "清洁费", "source": "settle --charge", "amount": "-350.00"}]
    rev3 = mo.entry("settlement", 3)
    assert rev3["supersedes"] == previous and rev3["data"]["lines"] == lines
    assert git_log(mo.store)[0].files == [mo.step_rel("settlement", 3)]

    mo.pay()
    mo.ok(mo.sign("release"))
    board, _ = mo.status()
    assert board["status"] == "closed" and all(s["met"] for s in board["standards"])
    assert run("verify").exit_code == 0


def test_an_unmet_parking_lease_blocks_release(mo, snapshot, refused):
    mo.move_in(parking_spaces=["B2-017"])
    mo.walk("handover", move_in=False)
    before = snapshot(mo.store)
    refused(mo.sign("release"), "车位 B2-017 未退租")
    assert snapshot(mo.store) == before
    mo.ok(mo.sign("handover", {**DATA["handover"], "parking_lease_terminated": True}, None, "--correct"))
    mo.pay()
    mo.ok(mo.sign("release"))


def test_an_archive_change_after_settlement_blocks_release(mo, snapshot, refused):
    mo.walk("handover")
    mo.archive("payments", {"kind": "fee", "item": "物业管理费", "period": "2026-12", "amount": "1500.00"})
    before = snapshot(mo.store)
    refused(mo.sign("release"), "客户无拖欠费用", "结算后档案有变化")
    assert snapshot(mo.store) == before
    r = mo.ok(mo.settle("--correct", "--json"))
    assert json.loads(r.stdout)["balance"] == "-1828.20"
    mo.pay()
    mo.ok(mo.sign("release"))


def test_a_case_id_that_is_not_a_case_id_is_refused(mo, run, snapshot):
    mo.walk("application")
    before = snapshot(mo.store)
    for case_id in ("../x", "../../etc", f"{mo.case}/../x", "x", "MO-26-1", f"{mo.case}/steps"):
        for args in (("sign", case_id, "return_pass", "--set", "access_cards_returned=3", "--as", "wangli"),
                     ("settle", case_id, "--as", "liuyang"), ("settle", case_id, "--dry-run", "--as", "liuyang"),
                     ("status", case_id), ("payload", case_id, "notice", "--as", "wangli")):
            r = run("moveout", *args)
            assert r.exit_code in (1, 2), (args, r.stdout, r.stderr)
            if r.exit_code == 1:
                assert "案件编号" in r.stderr and "无效" in r.stderr
    assert snapshot(mo.store) == before


def test_an_unknown_case_and_an_unknown_step_are_refused(mo, run, snapshot, refused):
    mo.walk("application")
    before = snapshot(mo.store)
    refused(run("moveout", "sign", "MO-2026-9999", "return_pass", "--set", "access_cards_returned=1", "--as", "wangli"),
            "找不到迁出案件 MO-2026-9999")
    refused(mo.sign("inspection_by_mayor", {}, "wangli"), "未知步骤", "inspection_by_mayor")
    assert snapshot(mo.store) == before


@pytest.mark.parametrize("step, changes, fragments", [
    ("engineering_inspection", {"power_off": False}, ("power_off", "必须为 true")),
    ("engineering_inspection", {"ac_off": False}, ("ac_off", "必须为 true")),
    ("engineering_inspection", {"meter_electricity": "-3"}, ("meter_electricity", "读数不能为负")),
    ("engineering_inspection", {"damages": [{"location": "门", "description": "坏", "amount": "12.345"}]},
     ("damages.0.amount", "两位小数")),
    ("engineering_inspection", {"mood": "good"}, ("mood", "未知字段")),
    ("application", {"representative_phone": "12345"}, ("representative_phone", "电话号码无效")),
    ("application", {"form_received": False}, ("form_received", "必须为 true")),
    ("return_pass", {"access_cards_returned": -1}, ("access_cards_returned",)),
])
def test_invalid_step_data_is_refused(mo, snapshot, refused, step, changes, fragments):
    mo.walk("application" if step != "application" else "notice")
    before = snapshot(mo.store)
    refused(mo.sign(step, **changes), *fragments)
    assert snapshot(mo.store) == before


def test_invalid_step_data_names_the_clerks_file_and_line(mo, snapshot, refused):
    # The clerk fixes the file they gave, so that is what the message names, with the line;
    # not the entry file that was never written.
    mo.walk("application")
    before = snapshot(mo.store)
    given = mo.inputs / "验房.yaml"
    given.write_text(textwrap.dedent("""\
        equipment_checked: true
        meter_electricity: "1023.5"
        power_off: true
        ac_off: true
        damages:
          - location: 1205 卫生间
            description: 洗手盆开裂
            amount: "300.123"
        """), encoding="utf-8")
    r = mo.run("moveout", "sign", mo.case, "engineering_inspection", "--file", given, "--as", SIGNERS["engineering_inspection"])
    refused(r, f"{given}:8:", "damages.0.amount", "两位小数")
    assert "steps/" not in r.stderr
    r = mo.run("moveout", "sign", mo.case, "return_pass", "--set", "access_cards_returned=-1", "--as", SIGNERS["return_pass"])
    refused(r, "--set", "access_cards_returned")
    assert "steps/" not in r.stderr
    assert snapshot(mo.store) == before


def test_invalid_handover_data_is_refused(mo, snapshot, refused):
    mo.walk("settlement")
    before = snapshot(mo.store)
    refused(mo.sign("handover", new_phone="0000"), "new_phone", "电话号码无效")
    refused(mo.sign("handover", lease_terminated=False), "lease_terminated", "必须为 true")
    refused(mo.sign("handover", renovation="demolished"), "renovation")
    refused(mo.sign("handover", {k: v for k, v in DATA["handover"].items() if k != "forwarding_address"}),
            "forwarding_address", "缺少必填项")
    assert snapshot(mo.store) == before


def test_nothing_is_signed_on_a_case_that_fails_verification(mo, snapshot, refused):
    mo.walk("application")
    rel = mo.step_rel("application")
    path = mo.store.path(rel)
    path.write_text(path.read_text(encoding="utf-8").replace("李明", "李亮"), encoding="utf-8")
    before = snapshot(mo.store)
    refused(mo.sign("return_pass"), "校验不通过", rel, "签名无效")
    assert snapshot(mo.store) == before


# --- the two inspections on different machines -------------------------------------------------


def test_the_two_inspections_signed_on_different_machines_merge_cleanly(mo, run, tmp_path):
    store = mo.store
    mo.walk("return_pass")
    origin = store.root
    machines = {}
    for name, signer in (("engineering-pc", "zhangwei"), ("security-pc", "chenjing")):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True, capture_output=True)
        keys = tmp_path / f"{name}-keys"  # each machine holds only its own signer's key
        keys.mkdir(mode=0o700)
        shutil.copy2(Path(os.environ["WUYE_KEYS"]) / signer, keys / signer)
        machines[name] = (clone, keys)

    clone, keys = machines["engineering-pc"]
    r = run("moveout", "sign", mo.case, "engineering_inspection", "--file", mo.file(DATA["engineering_inspection"]),
            "--as", "zhangwei", store=clone, env={"WUYE_KEYS": str(keys)})
    assert r.exit_code == 0, r.stderr
    # chenjing's key is not on this machine.
    r = run("moveout", "sign", mo.case, "security_inspection", "--file", mo.file(DATA["security_inspection"]),
            "--as", "chenjing", store=clone, env={"WUYE_KEYS": str(keys)})
    assert r.exit_code == 1 and "本机没有员工 chenjing 的私钥" in r.stderr
    clone, keys = machines["security-pc"]
    r = run("moveout", "sign", mo.case, "security_inspection", "--file", mo.file(DATA["security_inspection"]),
            "--as", "chenjing", store=clone, env={"WUYE_KEYS": str(keys)})
    assert r.exit_code == 0, r.stderr

    # Back at the office: plain git pulls both; different files, so no conflict.
    for name in machines:
        plain_git(origin, "pull", "-q", "--no-rebase", "--no-edit", str(machines[name][0]), "main")
    assert git(origin, "status", "--porcelain", "--untracked-files=all") == ""
    assert store.path(mo.step_rel("engineering_inspection")).is_file()
    assert store.path(mo.step_rel("security_inspection")).is_file()
    parents = git(origin, "log", "-1", "--format=%P").split()
    assert len(parents) == 2  # the second pull was a true merge

    r = run("verify")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "签字条目 5" in r.stderr
    r = mo.ok(mo.settle("--json"))
    assert json.loads(r.stdout)["balance"] == "-328.20"
    entry = mo.entry("settlement")
    assert entry["needs"]["engineering_inspection"] == _digest(mo, "engineering_inspection")
    assert entry["needs"]["security_inspection"] == _digest(mo, "security_inspection")
    assert run("verify").exit_code == 0
