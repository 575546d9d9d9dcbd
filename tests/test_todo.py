"""`wuye todo` through the CLI: the move-out steps a department or a person may sign now, with how
long each has waited against its deadline; the complaints and repairs they hold; exit code 3 when
something is overdue, 0 when not; JSON for scripts; both languages at 80 columns. And the desk
refusing a complaint or repair for a tenant who has moved out.

Move-out steps are signed now (signatures carry the real time), so their moments are taken from
the signed entries; complaints and repairs are entered with `--at` in the past.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys

import pytest

from test_moveout import MoveOut

NARROW = {"COLUMNS": "80"}
EN = {"COLUMNS": "80", "WUYE_LANG": "en"}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
Y = 2025


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def todo(run, *args, env=NARROW):
    return run("todo", *args, env=env)


def todo_json(run, *args) -> tuple[dict, int]:
    r = todo(run, *args, "--json")
    assert r.exit_code in (0, 3), r.stderr
    return json.loads(r.stdout), r.exit_code


def signed_at(mo, step) -> dt.datetime:
    return dt.datetime.fromisoformat(mo.entry(step)["signed_at"])


def moment(when: dt.datetime, **delta) -> str:
    return (when + dt.timedelta(**delta)).isoformat()


def waiting(data, case) -> list[str]:
    return [t["step"] for t in data["moveouts"] if t["ref"] == case]


# --- move-out steps ---------------------------------------------------------------------------


def test_a_case_waits_for_engineering_and_no_longer_for_security_once_security_signed(mo, run):
    mo.move_in()
    mo.start()
    # Before the application only customer service has something to sign.
    data, _ = todo_json(run, "--dept", "engineering")
    assert waiting(data, mo.case) == []
    assert waiting(todo_json(run, "--dept", "customer_service")[0], mo.case) == ["application"]
    mo.ok(mo.sign("application"))
    assert waiting(todo_json(run, "--dept", "engineering")[0], mo.case) == ["engineering_inspection"]
    assert waiting(todo_json(run, "--dept", "security")[0], mo.case) == ["security_inspection"]
    assert waiting(todo_json(run, "--dept", "customer_service")[0], mo.case) == ["return_pass"]
    mo.ok(mo.sign("security_inspection"))
    assert waiting(todo_json(run, "--dept", "engineering")[0], mo.case) == ["engineering_inspection"]
    assert waiting(todo_json(run, "--dept", "security")[0], mo.case) == []
    # Finance waits for all three of its needs.
    assert waiting(todo_json(run, "--dept", "finance")[0], mo.case) == []

    r = todo(run, "--dept", "engineering")
    assert r.exit_code == 0, r.stderr
    assert mo.case in r.stdout and "工程部验房" in r.stdout and "48时" in r.stdout
    assert "保安部检查" not in r.stdout
    r = todo(run, "--dept", "security")
    assert r.exit_code == 0 and mo.case not in r.stdout and "（无）" in r.stdout


def test_a_person_sees_what_their_department_signs(mo, run):
    mo.move_in()
    mo.start()
    mo.ok(mo.sign("application"))
    assert waiting(todo_json(run, "--as", "zhangwei")[0], mo.case) == ["engineering_inspection"]
    assert waiting(todo_json(run, "--staff", "chenjing")[0], mo.case) == ["security_inspection"]
    assert waiting(todo_json(run, "--as", "liuyang")[0], mo.case) == []
    data, _ = todo_json(run, "--as", "zhangwei")
    assert (data["staff"], data["departments"]) == ("zhangwei", ["engineering"])


def test_a_step_past_its_deadline_is_overdue_and_exits_3(mo, run):
    mo.move_in()
    mo.start()
    mo.ok(mo.sign("application"))
    since = signed_at(mo, "application")
    # Engineering's deadline is 48 hours from the application (workflows/moveout.yaml).
    data, code = todo_json(run, "--dept", "engineering", "--as-of", moment(since, hours=47))
    assert code == 0
    [task] = data["moveouts"]
    assert task == {"kind": "moveout", "ref": mo.case, "step": "engineering_inspection", "status": None, "what": "工程部验房",
                    "tenant_id": "T0001", "company": "柏彦科技", "department": "engineering", "assignee": None,
                    "since": since.isoformat(), "waited_hours": 47.0, "deadline_hours": 48,
                    "due": moment(since, hours=48), "overdue": False, "overdue_hours": None, "late": []}
    assert (data["total"], data["overdue"]) == (1, 0)

    data, code = todo_json(run, "--dept", "engineering", "--as-of", moment(since, hours=49, minutes=30))
    assert code == 3
    [task] = data["moveouts"]
    assert (task["overdue"], task["waited_hours"], task["overdue_hours"]) == (True, 49.5, 1.5)
    assert (data["total"], data["overdue"]) == (1, 1)
    r = todo(run, "--dept", "engineering", "--as-of", moment(since, hours=49, minutes=30))
    assert r.exit_code == 3
    [line] = [l for l in r.stdout.splitlines() if mo.case in l]
    assert line.strip("│ ").startswith("超时") and "2天1时" in line  # 49.5 hours waited, shown whole

    # The return of cards (72 hours) is not late yet at the same moment.
    data, code = todo_json(run, "--dept", "customer_service", "--as-of", moment(since, hours=49, minutes=30))
    assert code == 0 and waiting(data, mo.case) == ["return_pass"]


def test_only_the_step_that_moves_the_balance_waits_after_settlement(mo, run):
    mo.walk(upto="settlement")
    balance = mo.balance()
    data, _ = todo_json(run, "--dept", "finance")
    # The statement's balance decides: a refund is paid out, an amount due received.
    assert waiting(data, mo.case) == (["payout"] if balance > 0 else ["collection"])
    assert waiting(todo_json(run, "--dept", "management")[0], mo.case) == []  # no writeoff asked for
    assert waiting(todo_json(run, "--dept", "customer_service")[0], mo.case) == ["handover"]
    mo.pay()
    assert waiting(todo_json(run, "--dept", "finance")[0], mo.case) == []


def test_a_closed_case_waits_for_nobody(mo, run):
    mo.walk()
    for dept in ("leasing", "customer_service", "engineering", "finance", "security", "management"):
        data, code = todo_json(run, "--dept", dept)
        assert waiting(data, mo.case) == [] and code == 0, dept


def test_a_cancelled_case_waits_for_nobody_from_its_cancellation_on(mo, run):
    mo.move_in()
    mo.start()
    mo.ok(mo.sign("application"))
    assert waiting(todo_json(run, "--dept", "engineering")[0], mo.case) == ["engineering_inspection"]
    r = run("moveout", "cancel", mo.case, "--reason", "客户决定续租", "--as", "zhaomin")
    assert r.exit_code == 0, r.stderr
    for dept in ("leasing", "customer_service", "engineering", "security", "finance"):
        assert waiting(todo_json(run, "--dept", dept)[0], mo.case) == [], dept


# --- complaints and repairs --------------------------------------------------------------------


def _repair(run, at=f"{Y}-11-04T08:00"):
    r = run("repair", "open", "T0001", "--location", "1205 室机房", "--text", "精密空调高温告警", "--at", at, "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip()


def _complaint(run, at=f"{Y}-11-04T08:00"):
    r = run("complaint", "open", "T0001", "--channel", "phone", "--text", "空调噪音大", "--at", at, "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip()


def refs(data, key) -> list[str]:
    return [t["ref"] for t in data[key]]


def test_a_repair_waits_on_the_desk_then_on_whom_it_is_assigned_to(tenant, run):
    rid = _repair(run)
    data, code = todo_json(run, "--dept", "customer_service", "--as-of", f"{Y}-11-04T10:00")
    assert refs(data, "repairs") == [rid] and code == 0
    [task] = data["repairs"]
    assert (task["status"], task["department"], task["due"], task["overdue"]) == (
        "open", "customer_service", f"{Y}-11-05T08:00:00+08:00", False)  # 24 hours to send someone
    assert refs(todo_json(run, "--dept", "engineering", "--as-of", f"{Y}-11-04T10:00")[0], "repairs") == []

    r = run("repair", "assign", rid, "--to", "zhangwei", "--at", f"{Y}-11-04T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert refs(todo_json(run, "--dept", "customer_service", "--as-of", f"{Y}-11-04T10:00")[0], "repairs") == []
    for who in (("--dept", "engineering"), ("--as", "zhangwei")):
        data, code = todo_json(run, *who, "--as-of", f"{Y}-11-04T10:00")
        assert refs(data, "repairs") == [rid] and code == 0, who
        [task] = data["repairs"]
        # Sent on time: now the 72 hours to be done count.
        assert (task["assignee"], task["due"], task["late"]) == ("zhangwei", f"{Y}-11-07T08:00:00+08:00", [])
    # Before it was assigned, it was still the desk's.
    assert refs(todo_json(run, "--dept", "customer_service", "--as-of", f"{Y}-11-04T08:30")[0], "repairs") == [rid]

    data, code = todo_json(run, "--as", "zhangwei", "--as-of", f"{Y}-11-07T09:00")
    assert code == 3 and data["repairs"][0]["late"] == ["resolution"] and data["repairs"][0]["overdue"]
    r = todo(run, "--as", "zhangwei", "--as-of", f"{Y}-11-07T09:00")
    assert r.exit_code == 3
    [line] = [l for l in r.stdout.splitlines() if rid in l]
    assert line.strip("│ ").startswith("超时") and "11-07 08:00" in line


def test_a_complaint_for_a_department_shows_to_each_of_its_people_until_one_is_named(tenant, run):
    cid = _complaint(run)
    r = run("complaint", "assign", cid, "--dept", "engineering", "--at", f"{Y}-11-04T09:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    data, code = todo_json(run, "--as", "zhangwei", "--as-of", f"{Y}-11-04T10:00")
    assert refs(data, "complaints") == [cid] and code == 0
    assert data["complaints"][0]["assignee"] is None
    # Past the 24 hours to respond.
    data, code = todo_json(run, "--dept", "engineering", "--as-of", f"{Y}-11-05T09:00")
    assert code == 3 and data["complaints"][0]["late"] == ["response"]
    for args in (("respond", cid, "--text", "已安排检修", "--at", f"{Y}-11-04T12:00", "--as", "zhangwei"),
                 ("resolve", cid, "--result", "已更换风机", "--at", f"{Y}-11-04T15:00", "--as", "zhangwei"),
                 ("close", cid, "--satisfaction", "5", "--at", f"{Y}-11-04T16:00", "--as", "wangli")):
        assert run("complaint", *args).exit_code == 0
    data, code = todo_json(run, "--dept", "engineering", "--as-of", f"{Y}-11-05T09:00")
    assert refs(data, "complaints") == [] and code == 0  # closed: waiting on nobody


# --- the screen ----------------------------------------------------------------------------------


def test_the_list_fits_80_columns_in_both_languages_with_ids_whole(mo, run):
    from rich.cells import cell_len

    mo.move_in()
    mo.start()
    mo.ok(mo.sign("application"))
    rid = _repair(run)
    assert run("repair", "assign", rid, "--to", "zhangwei", "--at", f"{Y}-11-04T09:00", "--as", "wangli").exit_code == 0
    for env in (NARROW, EN):
        r = todo(run, "--dept", "engineering", env=env)
        assert r.exit_code == 3, r.stderr  # the repair of 2025 is long overdue
        lines = r.stdout.splitlines()
        assert all(cell_len(l) <= 80 for l in lines), "\n".join(lines)
        for ref in (mo.case, rid, "T0001", "zhangwei"):
            assert any(ref in l for l in lines), (ref, r.stdout)
    en = todo(run, "--dept", "engineering", env=EN)
    # Only the company's name is Chinese: every header, title and word is English.
    assert CJK.findall(en.stdout.replace("柏彦科技", "")) == [], en.stdout
    assert "Engineering inspection" in en.stdout and "overdue" in en.stdout and "Repairs (1)" in en.stdout
    assert "1 overdue" in en.stderr
    zh = todo(run, "--dept", "engineering")
    assert "工程部的待办" in zh.stdout and "报修（1）" in zh.stdout and "超时 1 项" in zh.stderr


def test_help_documents_the_exit_codes(run):
    r = run("todo", "--help", store=None)
    assert r.exit_code == 0 and "3 有超时事项" in r.stdout and "0 没有超时事项" in r.stdout
    # Help texts are chosen when the command line is built: English needs a process of its own.
    env = {k: v for k, v in os.environ.items()}
    p = subprocess.run([sys.executable, "-m", "wuye", "todo", "--help"], env={**env, "WUYE_LANG": "en"},
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "3 something overdue" in p.stdout and "0 nothing overdue" in p.stdout


@pytest.mark.parametrize("args,fragments", [
    (("--dept", "plumbing"), ("plumbing", "engineering")),
    (("--as", "nobody"), ("nobody",)),
    (("--as", "zhangwei", "--dept", "engineering"), ("--dept",)),
    ((), ("--as",)),
    (("--dept", "engineering", "--as-of", "yesterday"), ("--as-of", "yesterday")),
])
def test_bad_input_is_refused_in_one_line(tenant, run, refused, args, fragments):
    r = todo(run, *args)
    refused(r, *fragments)
    assert len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


# --- no desk records for a tenant who has left --------------------------------------------------


def test_no_complaint_or_repair_for_a_tenant_who_has_moved_out(mo, run, snapshot, refused):
    mo.walk()  # released: the case is closed and the tenant moved out
    before = snapshot(mo.store)
    for args in (("repair", "open", "T0001", "--location", "1205", "--text", "漏水"),
                 ("complaint", "open", "柏彦", "--channel", "phone", "--text", "噪音")):
        r = run(*args, "--as", "wangli")
        refused(r, "T0001", "已迁出")
        assert len(r.stderr.strip().splitlines()) == 1
        assert snapshot(mo.store) == before
    r = run("repair", "open", "T0001", "--location", "1205", "--text", "漏水", "--as", "wangli", env={"WUYE_LANG": "en"})
    refused(r, "T0001", "has moved out")
    assert snapshot(mo.store) == before
