"""Personal data stays in files (issue 14, items 5 and 6).

- Commit messages name the record and the action, never what a clerk typed: every free-text field
  of a representative set of commands holds phone and ID numbers, written every way a clerk
  writes them, and no commit message of the store holds one afterwards.
- Messages (errors, problems, sync conflicts, the diff a conflict shows) are masked as the screen
  is; free text is masked by phonenumbers (`138 1234 5678`, `+8613812345678`, `（010）65881234`).
- `--reveal`, `export` and `moveout payload` need a named staff member and are logged; the access
  log is a hash chain and `wuye doctor` says where it breaks.
- `doctor` keeps reporting a private key others could read until it is rotated; `--fix` tightens
  the mode and says so, and the finding stays.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap

import pytest

from conftest import git

VALID_RIC = "11010519491231002X"
RIC = "110105199001011234"  # an ID number with a wrong checksum is still a person's
# One phone or ID number written each way a clerk writes it.
WRITTEN = ("13812345678", "138 1234 5678", "138-1234-5678", "+8613812345678", "（010）65881234",
           "010-65881234", VALID_RIC, RIC)


def free_text(label: str) -> str:
    return f"{label}：已回电李明 " + "，".join(WRITTEN)


def leaks(text: str) -> list[str]:
    """Phone and ID numbers in `text`, whatever separators they were written with."""
    found = []
    digits = re.sub(r"[\s\-－()（）+＋]", "", text)
    found += re.findall(r"(?<![0-9A-Za-z])(?:86)?1[3-9][0-9]{9}(?![0-9A-Za-z])", digits)
    found += re.findall(r"(?<![0-9A-Za-z])0[0-9]{2,3}[0-9]{7,8}(?![0-9A-Za-z])", digits)
    found += re.findall(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])", text)
    found += [w for w in WRITTEN if w in text]
    return found


def ok(r):
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r


# --- commit messages -------------------------------------------------------------------------


def test_no_commit_message_holds_a_phone_or_id_number_from_any_free_text_field(tenant, run, tmp_path):
    def do(*args, as_="wangli"):
        return ok(run(*args, "--as", as_)).stdout.strip()

    do("archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678",
       "--set", f"note={free_text('联系人备注')}")
    do("archive", "add", "T0001", "supplement", "--set", f"note={free_text('补充')}")
    ts = do("complaint", "open", "T0001", "--channel", "phone", "--text", free_text("投诉"))
    do("complaint", "assign", ts, "--dept", "engineering", "--note", free_text("分派"))
    do("complaint", "respond", ts, "--text", free_text("回复"))
    do("complaint", "resolve", ts, "--result", free_text("处理"))
    do("complaint", "close", ts, "--satisfaction", "2", "--note", free_text("回访"))
    do("complaint", "reopen", ts, "--reason", free_text("重开"))
    bx = do("repair", "open", "T0001", "--location", free_text("位置"), "--text", free_text("故障"))
    do("repair", "assign", bx, "--to", "zhangwei", "--note", free_text("派工"))
    do("repair", "done", bx, "--cost", "0", "--note", free_text("完工"), as_="zhangwei")
    do("repair", "close", bx, "--satisfaction", "5", "--note", free_text("回访"))
    do("survey", "record", "T0001", "--period", "2026-Q4", "--score", "4", "--comment", free_text("意见"))
    body = tmp_path / "body.md"
    body.write_text(free_text("正文"), encoding="utf-8")
    do("notice", "send", "--subject", free_text("标题"), "--file", body, "--to", "all")
    ledger = tmp_path / "李明13812345678的缴费.csv"
    ledger.write_text("客户编号,费用项目,所属期间,应收金额,实收金额,备注\n"
                      f"T0001,物业管理费,2026-10,9971,9971,{free_text('缴费备注').replace('，', ' ')}\n", encoding="utf-8")
    do("import", ledger, "--category", "payments", as_="liuyang")
    do("moveout", "start", "T0001", "--date", "2027-01-31", "--reason", free_text("退租原因"), as_="zhaomin")

    messages = git(tenant.root, "log", "--format=%B%x00")
    assert messages.count("\0") >= 17  # every command above made its commit
    assert leaks(messages) == [], messages
    # The texts themselves are in the files, where they belong, and on screen masked.
    assert "138 1234 5678" in (tenant.root / "tenants/T0001/complaints.yaml").read_text(encoding="utf-8")
    shown = ok(run("log", "-n", "30")).stdout
    assert leaks(shown) == []


def test_a_complaints_commit_names_the_record_and_the_action_only(tenant, run, git_log):
    ts = ok(run("complaint", "open", "T0001", "--channel", "phone", "--text", "空调不制冷", "--as", "wangli")).stdout.strip()
    ok(run("complaint", "respond", ts, "--text", "已回电 13812345678", "--as", "wangli"))
    c = git_log(tenant)[0]
    assert c.subject == f"complaint {ts}: 回复"
    assert c.trailers == {"Wuye-Tenant": "T0001", "Wuye-Category": "complaints", "Wuye-Entry": ts,
                          "Wuye-Action": "respond", "Wuye-Status": "responded", "Wuye-Actor": "wangli"}
    ok(run("complaint", "resolve", ts, "--result", "已修好", "--as", "wangli", env={"WUYE_LANG": "en"}))
    assert git_log(tenant)[0].subject == f"complaint {ts}: resolve"


def test_older_history_that_quotes_free_text_is_masked_by_wuye_log(tenant, run):
    # A commit made before messages named only the record (or by hand): on screen it is masked.
    (tenant.root / "units/1205.yaml").write_text("id: '1205'\nstatus: leased\ntenant: T0001\n# x\n", encoding="utf-8")
    git(tenant.root, "-c", "user.name=旧版", "-c", "user.email=old@x", "commit", "-qam",
        "complaint TS-2025-0001: respond, 已回电李明 138 1234 5678，身份证110105199001011234\n\nWuye-Tenant: T0001")
    r = ok(run("log"))
    assert "138 **** 5678" in r.stdout and "110105********1234" in r.stdout and leaks(r.stdout) == []
    assert leaks(ok(run("log", "--json")).stdout) == []


# --- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize("written, masked", [
    ("请回电 138 1234 5678", "请回电 138 **** 5678"),
    ("请回电138-1234-5678。", "请回电138-****-5678。"),
    ("手机 +8613812345678", "手机 +86138****5678"),
    ("座机（010）65881234", "座机（010）****1234"),
    ("座机 (010) 6588-1234 转 8", "座机 (010) ****-1234 转 8"),
    ("深圳 0755 2345 6789", "深圳 0755 **** 6789"),
    ("李明13812345678，王芳13987654321", "李明138****5678，王芳139****4321"),
    ("身份证110105199001011234", "身份证110105********1234"),
    ("手机１３８１２３４５６７８", "手机１３８****５６７８"),
])
def test_phone_numbers_are_masked_however_they_are_written(written, masked):
    from wuye.archive.privacy import mask_text

    assert mask_text(written) == masked


@pytest.mark.parametrize("plain", ["金额 120000.00 元，2026-11-20 14:30", "订单 2026112712345678901", "T0042 的 1205 室",
                                   "MO-2026-0003 已结案"])
def test_text_that_holds_no_phone_number_is_left_as_it_is(plain):
    from wuye.archive.privacy import mask_text

    assert mask_text(plain) == plain


PROBE = textwrap.dedent("""\
    import sys
    from wuye.archive.privacy import mask_text
    print(mask_text(sys.argv[1]), "phonenumbers" in sys.modules)
""")


def test_phonenumbers_is_imported_only_when_a_text_could_hold_a_number():
    def probe(text):
        out = subprocess.run([sys.executable, "-c", PROBE, text], capture_output=True, text=True, check=True).stdout
        return out.rsplit(" ", 1)[0], out.split()[-1] == "True"

    assert probe("空调不制冷，2026-11-20 14:30 报修，金额 120.00") == ("空调不制冷，2026-11-20 14:30 报修，金额 120.00", False)
    assert probe("迁出后联系方式（MO-2023-0003），见 TS-2026-0022") == ("迁出后联系方式（MO-2023-0003），见 TS-2026-0022", False)
    assert probe("请回电 138 1234 5678") == ("请回电 138 **** 5678", True)


def test_a_look_up_of_free_text_without_numbers_does_not_import_phonenumbers(tenant, run, tmp_path):
    from test_lookup_imports import imported, loaded

    ok(run("archive", "add", "T0001", "supplement", "--set", "note=2026-11-20 补交了营业执照复印件", "--as", "wangli"))
    p, code, modules = imported(tmp_path, "--store", str(tenant.root), "archive", "show", "T0001")
    assert code == 0 and "营业执照" in p.stdout, p.stderr
    assert loaded(modules, "phonenumbers") == []
    ok(run("archive", "add", "T0001", "supplement", "--set", "note=财务 138 1234 5678", "--as", "wangli"))
    p, code, modules = imported(tmp_path, "--store", str(tenant.root), "archive", "show", "T0001")
    assert code == 0 and "138 **** 5678" in p.stdout and "1234 5678" not in p.stdout
    assert loaded(modules, "phonenumbers")  # the probe sees it when it is needed


def test_an_error_that_quotes_a_file_masks_the_numbers(tenant, run, tmp_path, snapshot):
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: 李明\nphone: "13812345678"\nphone: "13900000000"\n', encoding="utf-8")
    before = snapshot(tenant)
    r = run("archive", "add", "T0001", "contacts", "--file", bad, "--as", "wangli")
    assert r.exit_code == 1 and "bad.yaml:3" in r.stderr and "重复的键" in r.stderr
    # The duplicate-key message names the key only (issue 15); no number reaches the screen.
    assert "13812345678" not in r.stderr and "13900000000" not in r.stderr and leaks(r.stderr) == [], r.stderr
    # A mistyped number is no valid phone, and still a person's.
    r = run("archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=1381234567890", "--as", "wangli")
    assert r.exit_code == 1 and "phone" in r.stderr and "1381234567890" not in r.stderr, r.stderr
    assert snapshot(tenant) == before


def test_check_and_verify_mask_what_a_problem_quotes(tenant, run):
    # A hand edit (plain git) puts a bad phone into a file; the problem quoting it is masked.
    path = tenant.root / "tenants/T0001/contacts.yaml"
    path.write_text("entries:\n- id: CON-0001\n  name: 李明\n  phone: '1381234567890'\n", encoding="utf-8")
    git(tenant.root, "add", "-A")
    git(tenant.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "手工改")
    for argv in (("archive", "check"), ("archive", "check", "--json"), ("verify",), ("verify", "--json"), ("doctor",), ("doctor", "--json")):
        r = run(*argv)
        assert r.exit_code == 1, (argv, r.stdout)
        assert "contacts.yaml" in r.stdout and "1381234567890" not in r.stdout + r.stderr, (argv, r.stdout)


def test_a_sync_conflict_and_its_diff_are_masked():
    from wuye.sync import merging, offices

    base = "entries:\n- id: CON-0001\n  name: 李明\n  phone: '13812345678'\n  note: 无\n"
    ours = base.replace("13812345678", "13900001111").replace("note: 无", "note: 改打 010-65881234")
    theirs = base.replace("13812345678", "13700002222").replace("note: 无", "note: 改打 13512345678")
    m = merging.merge_texts(base, ours, theirs, "tenants/T0001/contacts.yaml")
    text = "\n".join(c.describe() for c in m.conflicts)
    assert "139****1111" in text and "137****2222" in text and "010-****1234" in text and "135****5678" in text
    assert leaks(text) == [], text
    diff = offices._diff(ours, theirs)
    assert "phone" in diff and leaks(diff) == [], diff
    whole = merging.Conflict("entries[CON-0001]", {"name": "李明", "phone": "13812345678"}, merging.MISSING).describe()
    assert "李*" in whole and leaks(whole) == [] and "李明" not in whole


# --- identity and the access log -------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ("archive", "show", "T0001", "--reveal"),
    ("complaint", "list", "--reveal"),
    ("survey", "list", "--reveal"),
    ("export", "-o", "out.csv"),
    ("export", "--format", "json", "-o", "-"),
])
def test_a_reveal_or_an_export_without_an_identity_is_refused_and_logs_nothing(tenant, run, snapshot, tmp_path, argv):
    from wuye.archive.privacy import reveals

    before = snapshot(tenant)
    r = run(*argv)
    assert r.exit_code == 1 and "--as" in r.stderr and "WUYE_USER" in r.stderr and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    en = run(*argv, env={"WUYE_LANG": "en"})
    assert en.exit_code == 1 and "needs to know who you are" in en.stderr
    r = run(*argv, "--as", "nosuch")
    assert r.exit_code == 1 and "nosuch" in r.stderr
    assert reveals(tenant.root) == [] and not (tmp_path / "out.csv").exists()
    assert snapshot(tenant) == before


def test_export_and_payload_are_logged_with_who_took_them(tenant, run, tmp_path, monkeypatch):
    from wuye.archive.privacy import chain_breaks, reveals

    ok(run("moveout", "start", "T0001", "--date", "2027-01-31", "--as", "zhaomin"))
    case = git(tenant.root, "log", "-1", "--format=%(trailers:key=Wuye-Case,valueonly)").strip()
    ok(run("export", "-o", tmp_path / "all.json", "--as", "wangli"))
    ok(run("export", "--format", "csv", "-o", "-", "--tenant", "T0001", "--as", "sunhao"))
    refused = run("moveout", "payload", case, "notice")
    assert refused.exit_code == 1 and "--as" in refused.stderr and refused.stdout == ""
    assert ok(run("moveout", "payload", case, "notice", "--signature")).stdout.startswith("-----BEGIN SSH SIGNATURE")
    monkeypatch.setenv("WUYE_USER", "chenjing")
    assert json.loads(ok(run("moveout", "payload", case, "notice")).stdout)["case"] == case
    log = reveals(tenant.root)
    assert [(e["staff"], e["command"]) for e in log] == [("wangli", "export"), ("sunhao", "export"), ("chenjing", "moveout payload")]
    assert "all.json" in log[0]["subject"] and "tenant=T0001" in log[1]["subject"] and log[2]["subject"].startswith(f"{case} notice")
    assert chain_breaks(tenant.root) == []


def access_lines(store) -> list[str]:
    return (store.root / ".git/wuye/access.log").read_text(encoding="utf-8").splitlines()


def reveal_three(run):
    for who in ("wangli", "sunhao", "zhaomin"):
        ok(run("archive", "show", "T0001", "--reveal", "--as", who))


def test_the_access_log_is_a_chain_and_doctor_finds_a_deleted_line(tenant, run):
    import hashlib

    reveal_three(run)
    lines = access_lines(tenant)
    assert json.loads(lines[0])["prev"] == hashlib.sha256(b"").hexdigest()
    for before, line in zip(lines, lines[1:]):
        assert json.loads(line)["prev"] == hashlib.sha256(before.encode("utf-8")).hexdigest()
    assert "doctor.access-log-broken" not in run("doctor", "--json").stdout

    (tenant.root / ".git/wuye/access.log").write_text("\n".join([lines[0], lines[2]]) + "\n", encoding="utf-8")
    r = run("doctor", "--json")
    found = [f for f in json.loads(r.stdout)["findings"] if f["code"].startswith("doctor.access-log")]
    assert r.exit_code == 1 and [(f["code"], f["line"], f["path"]) for f in found] == [
        ("doctor.access-log-broken", 2, ".git/wuye/access.log")]
    text = run("doctor").stdout
    assert ".git/wuye/access.log:2:" in text and "删除" in text
    assert "line 2" in run("doctor", env={"WUYE_LANG": "en"}).stdout
    # --fix cannot put it right and does not pretend to: the finding stays, the file as it was.
    log = (tenant.root / ".git/wuye/access.log").read_bytes()
    r = run("doctor", "--fix", "--json")
    assert "doctor.access-log-broken" in r.stdout and (tenant.root / ".git/wuye/access.log").read_bytes() == log


def test_a_changed_name_in_the_access_log_breaks_the_chain(tenant, run):
    reveal_three(run)
    lines = access_lines(tenant)
    lines[0] = lines[0].replace('"wangli"', '"sunhao"')
    (tenant.root / ".git/wuye/access.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = [(f["code"], f["line"]) for f in json.loads(run("doctor", "--json").stdout)["findings"]
             if f["code"].startswith("doctor.access-log")]
    assert found == [("doctor.access-log-broken", 2)]
    # A new reveal chains on from the edited last line: the break stays where it was.
    ok(run("archive", "show", "T0001", "--reveal", "--as", "wangli"))
    assert [f["line"] for f in json.loads(run("doctor", "--json").stdout)["findings"] if f["code"] == "doctor.access-log-broken"] == [2]


def test_a_log_without_its_last_newline_still_chains(tenant, run):
    from wuye.archive.privacy import chain_breaks, reveals

    reveal_three(run)
    path = tenant.root / ".git/wuye/access.log"
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # an editor that drops the final newline
    ok(run("archive", "show", "T0001", "--reveal", "--as", "wangli"))
    assert len(reveals(tenant.root)) == 4 and chain_breaks(tenant.root) == []


def test_a_log_written_before_the_chain_is_one_warning_and_new_lines_chain_on(tenant, run):
    from wuye.archive.privacy import chain_breaks

    path = tenant.root / ".git/wuye/access.log"
    path.parent.mkdir(exist_ok=True)
    path.write_text('{"at": "2026-11-01T09:00:00+08:00", "staff": null, "login": "x", "command": "archive show", "subject": "T0001"}\n',
                    encoding="utf-8")
    ok(run("archive", "show", "T0001", "--reveal", "--as", "wangli"))
    assert chain_breaks(tenant.root) == [(1, "unchained")]
    data = json.loads(run("doctor", "--json").stdout)
    [f] = [f for f in data["findings"] if f["code"].startswith("doctor.access-log")]
    assert (f["code"], f["level"]) == ("doctor.access-log-unchained", "warning")


def test_reveals_at_the_same_time_keep_the_chain(tenant):
    from wuye.archive.privacy import chain_breaks, reveals

    script = textwrap.dedent("""\
        import sys
        from pathlib import Path
        from wuye.archive.privacy import record_reveal
        for i in range(30):
            record_reveal(Path(sys.argv[1]), "archive show", f"T0001 {i}", sys.argv[2])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tenant.root), who]) for who in ("wangli", "sunhao", "zhaomin")]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert len(reveals(tenant.root)) == 90 and chain_breaks(tenant.root) == []


# --- an exposed key (item 6) -----------------------------------------------------------------


def key_findings(run, *extra, env=None):
    r = run("doctor", "--json", *extra, env=env)
    return r, [f for f in json.loads(r.stdout)["findings"] if f["code"] in ("doctor.key-mode", "doctor.key-exposed")]


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_an_exposed_key_stays_reported_after_fix_until_it_is_rotated(tenant, run):
    from wuye.trust.signing import private_key_path

    key = private_key_path("wangli")
    key.chmod(0o644)
    r, found = key_findings(run)
    assert r.exit_code == 1 and sorted(f["code"] for f in found) == ["doctor.key-exposed", "doctor.key-mode"]
    exposed = next(f for f in found if f["code"] == "doctor.key-exposed")
    assert exposed["path"] == str(key) and not exposed["fixable"]
    assert "可能已被别人读到" in exposed["message"] and "wuye staff key wangli --as" in exposed["advice"]
    _, en = key_findings(run, env={"WUYE_LANG": "en"})
    assert any("this key may have been read" in f["message"] and "rotate it" in f["message"] for f in en)

    r, found = key_findings(run, "--fix", "--as", "sunhao")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # --fix tightens the mode ...
    assert r.exit_code == 1 and [f["code"] for f in found] == ["doctor.key-exposed"]  # ... and does not hide it
    assert any("600" in d for d in json.loads(r.stdout)["done"])
    text = run("doctor").stdout
    assert "this key" not in text and "可能已被别人读到" in text and "wuye staff key wangli" in text
    r, found = key_findings(run)  # and again later: the marker remembers
    assert r.exit_code == 1 and [f["code"] for f in found] == ["doctor.key-exposed"]

    ok(run("staff", "key", "wangli", "--as", "sunhao"))
    r, found = key_findings(run)
    assert found == [] and r.exit_code == 0, r.stdout
    # The new key works: the exposed one is retired beside it, not reported as current.
    ok(run("archive", "add", "T0001", "supplement", "--set", "note=新钥匙", "--as", "wangli"))


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_key_rotated_while_readable_leaves_nothing_readable_behind(tenant, run):
    from wuye.trust.signing import keys_dir, private_key_path

    private_key_path("chenjing").chmod(0o644)
    ok(run("staff", "key", "chenjing", "--as", "sunhao"))  # rotated before anyone ran doctor
    # The retired key is deleted by the rotation (issue 13), and the new one is 0600.
    assert sorted(p.name for p in keys_dir().iterdir() if p.name.startswith("chenjing")) == ["chenjing", "chenjing.pub"]
    assert stat.S_IMODE(private_key_path("chenjing").stat().st_mode) == 0o600
    r, found = key_findings(run)
    assert found == []


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_key_tightened_by_hand_after_doctor_saw_it_stays_reported(tenant, run):
    from wuye.trust.signing import private_key_path

    key = private_key_path("zhangwei")
    key.chmod(0o640)
    assert run("doctor").exit_code == 1
    key.chmod(0o600)  # chmod by hand hides nothing either
    r, found = key_findings(run)
    assert r.exit_code == 1 and [(f["code"], f["details"]["staff"]) for f in found] == [("doctor.key-exposed", "zhangwei")]
    assert "640" in found[0]["message"]
