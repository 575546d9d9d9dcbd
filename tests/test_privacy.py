"""Personal data on screen (issue 6): phones, ID numbers and people's names masked in every
human-readable output and in `--json` unless `--reveal`; every reveal logged locally (who, when,
what) in .git/wuye/access.log, outside anything git tracks; company names and codes are not masked.
"""

from __future__ import annotations

import json

from conftest import git

VALID_RIC = "11010519491231002X"
PHONE = "13812345678"


def ok(r):
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r


def people(run):
    ok(run("archive", "add", "T0001", "contacts", "--set", "name=李雷", "--set", f"phone={PHONE}", "--as", "wangli"))
    ok(run("archive", "add", "T0001", "emergency", "--set", "name=欧阳娜娜", "--set", "phone_24h=13900001234", "--as", "wangli"))
    ok(run("archive", "add", "T0001", "profile", "--set", "legal_rep=韩梅梅", "--set", f"legal_rep_id={VALID_RIC}",
           "--set", "uscc=91110000802100433B", "--as", "wangli"))
    ok(run("archive", "add", "T0001", "supplement", "--set", f"note=财务联系人手机 {PHONE}，身份证 {VALID_RIC}", "--as", "wangli"))


def test_archive_show_masks_phones_ids_and_names_on_screen_and_in_json(tenant, run, snapshot):
    people(run)
    before = snapshot(tenant)
    r = ok(run("archive", "show", "T0001"))
    for secret in (PHONE, "13900001234", VALID_RIC, "李雷", "欧阳娜娜", "韩梅梅"):
        assert secret not in r.stdout, secret
    for shown in ("138****5678", "139****1234", "110105********002X", "李*", "欧***", "韩**", "柏彦科技", "91110000802100433B"):
        assert shown in r.stdout, shown
    data = json.loads(ok(run("archive", "show", "T0001", "--json")).stdout)["categories"]
    assert data["contacts"]["entries"][0]["name"] == "李*" and data["contacts"]["entries"][0]["phone"] == "138****5678"
    assert data["emergency"]["entries"][0]["name"] == "欧***"
    assert data["profile"]["legal_rep"] == "韩**" and data["profile"]["legal_rep_id"] == "110105********002X"
    assert data["profile"]["name"] == "柏彦科技" and data["profile"]["uscc"] == "91110000802100433B"
    assert data["supplement"]["entries"][0]["note"] == "财务联系人手机 138****5678，身份证 110105********002X"
    assert snapshot(tenant) == before
    assert not (tenant.root / ".git/wuye/access.log").exists()  # nothing revealed, nothing logged


def test_a_reveal_shows_everything_and_is_logged_outside_git(tenant, run, snapshot, monkeypatch):
    from wuye.archive.privacy import reveals

    people(run)
    before = snapshot(tenant)
    monkeypatch.setenv("WUYE_USER", "wangli")
    r = ok(run("archive", "show", "T0001", "--reveal"))
    assert PHONE in r.stdout and VALID_RIC in r.stdout and "李雷" in r.stdout
    data = json.loads(ok(run("archive", "show", "T0001", "contacts", "--json", "--reveal")).stdout)
    assert data["categories"]["contacts"]["entries"][0]["name"] == "李雷"
    log = reveals(tenant.root)
    assert [(e["staff"], e["command"], e["subject"]) for e in log] == [("wangli", "archive show", "T0001"),
                                                                       ("wangli", "archive show", "T0001 contacts")]
    assert all(e["at"] and e["login"] for e in log)
    # the log is the local machine's: the store's files, status and history are as they were
    assert snapshot(tenant) == before
    assert ".git/wuye/access.log" not in git(tenant.root, "ls-files")


def test_complaint_and_repair_texts_are_masked_unless_revealed(tenant, run):
    ref = ok(run("complaint", "open", "T0001", "--channel", "phone", "--text", f"空调不制冷，请回电 {PHONE}", "--as", "wangli")).stdout.strip()
    rep = ok(run("repair", "open", "T0001", "--location", "1205", "--text", f"门禁卡失效，持卡人身份证 {VALID_RIC}",
                 "--as", "wangli")).stdout.strip()
    for argv, secret, masked in ((["complaint", "show", ref], PHONE, "138****5678"),
                                 (["complaint", "list"], PHONE, "138****5678"),
                                 (["repair", "show", rep], VALID_RIC, "110105********002X"),
                                 (["repair", "list"], VALID_RIC, "110105********002X")):
        for extra in ([], ["--json"]):
            r = ok(run(*argv, *extra))
            assert secret not in r.stdout and masked in r.stdout, (argv, extra, r.stdout)
        r = ok(run(*argv, "--json", "--reveal", "--as", "wangli"))
        assert secret in r.stdout
    from wuye.archive.privacy import reveals

    assert [e["command"] for e in reveals(tenant.root)] == ["complaint show", "complaint list", "repair show", "repair list"]


def test_survey_comments_are_masked_unless_revealed(tenant, run):
    ok(run("survey", "record", "T0001", "--period", "2026-Q4", "--score", "4", "--comment", f"保洁好，有事打 {PHONE}", "--as", "wangli"))
    r = ok(run("survey", "list", "--json"))
    assert PHONE not in r.stdout and "138****5678" in r.stdout
    assert PHONE in ok(run("survey", "list", "--json", "--reveal", "--as", "wangli")).stdout


def test_masking_functions():
    from wuye.archive.privacy import mask_name, mask_text

    assert mask_name("李") == "*" and mask_name("John") == "J***"
    assert mask_text("座机 010-65881234 或 0755 2345 6789") == "座机 010-****1234 或 0755 **** 6789"
    assert mask_text("订单 2026112712345678901") == "订单 2026112712345678901"  # 19 digits: no phone, no ID
    assert mask_text("金额 120000.00 元，2026-11-20") == "金额 120000.00 元，2026-11-20"
