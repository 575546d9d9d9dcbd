"""The authority chain: who may sign what is itself signed, from a pinned root (issue 13).

Each attack of the issue is tried through the CLI (refused, nothing changed) and through plain git
edits and commits (`wuye verify` names the rule, the file and, for history, the commit)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import git
from test_moveout import MoveOut, plain_git
from test_verify import _digest, commit_by_hand, found, verify_json

from wuye.models.store import StaffKey
from wuye.moveout import cases as moveout
from wuye.storage import yamlio
from wuye.trust import authority, signing, staff
from wuye.trust import pins


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def codes(problems, path=None):
    return {p["code"] for p in problems if path is None or p["path"] == path}


def latest(store):
    return authority.load(store).latest


def forge_version(store, change, members, signers, *, base=None, subject=None, **extra) -> str:
    """Write authority/<n>.yaml by hand (with the files it vouches for), signed by `signers` with
    their private keys here, as someone with write access and those keys could."""
    base = base or latest(store)
    data = authority.record_data(store, base, signers[0], change, subject, members, **extra)
    for s in signers:
        authority.sign_data(data, s)
    rel = authority.rel_of(data["authority"])
    store.path(rel).write_text(yamlio.dumps(data), encoding="utf-8")
    for m in members:
        store.path(f"staff/{m.id}.yaml").write_text(yamlio.dumps(yamlio.plain(m.model_dump())), encoding="utf-8")
    store.path("allowed_signers").write_text(authority.allowed_signers_text(members), encoding="utf-8")
    return rel


def hand_entry(mo, step, signer, signed_at, key=None, version=None, data=None):
    """A step entry written and signed by hand (key: a private key object; default the signer's)."""
    needs = {"application": _digest(mo, "application")} if step == "engineering_inspection" else {}
    entry = {"case": mo.case, "tenant_id": "T0001", "step": step, "revision": 1, "needs": needs,
             "authority": version if version is not None else latest(mo.store).number,
             "signer": signer, "department": "engineering", "signed_at": signed_at.isoformat(),
             "data": data or {"equipment_checked": True, "meter_electricity": "1023.5", "power_off": True, "ac_off": True}}
    entry["signature"] = signing.sign(moveout.payload_of(entry), key or signing.load_private_key(signer))
    rel = mo.step_rel(step)
    mo.store.path(rel).write_text(yamlio.dumps({**entry, "signature": yamlio.literal(entry["signature"])}), encoding="utf-8")
    return rel


def replace_the_chain(store) -> None:
    """Every authority record deleted and a root of mallory's own making put in, committed by hand."""
    for p in store.path("authority").glob("*.yaml"):
        p.unlink()
    pem, public = signing.generate_key("mallory@wuye")
    signing.save_private_key("mallory", pem, public)
    mallory = staff.Staff(id="mallory", name="马洛", departments=["management"], keys=[StaffKey(public_key=public, valid_from=store.now())])
    data = authority.record_data(store, None, "mallory", "init", None, [mallory])
    authority.sign_data(data, "mallory")
    store.path(authority.rel_of(1)).write_text(yamlio.dumps(data), encoding="utf-8")
    commit_by_hand(type("M", (), {"store": store}))


# --- the root ------------------------------------------------------------------------------------


def test_the_store_is_founded_by_its_manager_and_the_root_is_pinned(store, run):
    data = json.loads(run("trust", "show", "--json").stdout)
    assert data["root"] == data["pinned_root"] and data["root"].startswith("SHA256:")
    assert [v["change"] for v in data["versions"]] == ["init"] + ["staff.add"] * 5
    assert all(v["signers"] == "sunhao" for v in data["versions"]) and data["problems"] == []
    assert run("verify").exit_code == 0


def test_init_names_the_founding_managers_and_prints_the_fingerprint(tmp_path, run):
    r = run("init", str(tmp_path / "s"), "--name", "柏彦", "--manager", "sunhao=孙浩", store=None)
    assert r.exit_code == 0, r.stderr
    root = authority.load(__import__("wuye.storage.store", fromlist=["Store"]).Store(tmp_path / "s")).root
    assert root.fingerprint in r.stderr
    assert pins.read(tmp_path / "s")["root"] == root.fingerprint
    bad = run("init", str(tmp_path / "t"), "--manager", "sunhao", store=None)
    assert bad.exit_code == 1 and "编号=姓名" in bad.stderr and not (tmp_path / "t").exists()


def test_the_first_member_of_an_empty_store_must_be_a_manager(tmp_path, run):
    assert run("init", str(tmp_path / "s"), store=None).exit_code == 0
    r = run("staff", "add", "wangli", "--name", "王丽", "--dept", "customer_service", store=tmp_path / "s")
    assert r.exit_code == 1 and "管理层" in r.stderr
    assert not (tmp_path / "s" / "staff" / "wangli.yaml").exists()
    r = run("staff", "add", "sunhao", "--name", "孙浩", "--dept", "management", store=tmp_path / "s")
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "s" / "authority" / "0001.yaml").is_file()
    assert run("verify", store=tmp_path / "s").exit_code == 0


# --- 1, 2: registering, revoking -------------------------------------------------------------------


def test_registering_oneself_into_every_department_is_refused(store, run, snapshot, refused):
    before = snapshot(store)
    r = run("staff", "add", "mallory", "--name", "马洛", "--dept", "finance", "--dept", "management", "--dept", "security")
    refused(r, "管理层")
    assert snapshot(store) == before
    assert not (Path(os.environ["WUYE_KEYS"]) / "mallory").exists()


def test_a_clerk_can_neither_register_a_manager_nor_revoke_finance(store, run, snapshot, refused):
    before = snapshot(store)
    refused(run("staff", "add", "mallory", "--name", "马洛", "--dept", "management", "--as", "wangli"), "管理层")
    refused(run("staff", "revoke", "liuyang", "--as", "wangli"), "管理层")
    refused(run("staff", "dept", "wangli", "--dept", "management", "--as", "wangli"), "管理层")
    assert snapshot(store) == before


def test_a_manager_changes_departments_in_a_new_version(store, run):
    r = run("staff", "dept", "wangli", "--dept", "customer_service", "--dept", "leasing", "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    assert latest(store).record.change == "staff.departments"
    assert latest(store).member("wangli").departments == ["customer_service", "leasing"]
    assert run("verify").exit_code == 0


def test_a_staff_file_added_by_plain_git_is_nobody(store, run):
    """Attack 1 with plain git: mallory's file and her allowed_signers line, committed by hand."""
    pem, public = signing.generate_key("mallory@wuye")
    signing.save_private_key("mallory", pem, public)
    mallory = staff.Staff(id="mallory", name="马洛", departments=["finance", "management"],
                          keys=[StaffKey(public_key=public, valid_from=store.now())])
    store.path("staff/mallory.yaml").write_text(yamlio.dumps(yamlio.plain(mallory.model_dump())), encoding="utf-8")
    store.path("allowed_signers").write_text(staff.allowed_signers_text([*staff.all_staff(store)]), encoding="utf-8")
    plain_git(store.root, "add", "-A")
    plain_git(store.root, "commit", "-q", "-m", "add mallory")
    code, problems = verify_json(run)
    assert code == 1
    assert "authority.staff-unlisted" in codes(problems, "staff/mallory.yaml")
    assert "staff.allowed-signers-mismatch" in codes(problems, "allowed_signers")
    # and she can act in nothing: the chain does not know her
    r = run("staff", "add", "eve", "--name", "夏娃", "--dept", "finance", "--as", "mallory")
    assert r.exit_code == 1 and "mallory" in r.stderr


def test_an_authority_version_signed_by_a_clerk_fails_the_threshold(store, run):
    """Attack 2 with plain git: a new version adding a manager, signed by the clerk's real key."""
    pem, public = signing.generate_key("mallory@wuye")
    mallory = staff.Staff(id="mallory", name="马洛", departments=["management"],
                          keys=[StaffKey(public_key=public, valid_from=store.now())])
    rel = forge_version(store, "staff.add", [*latest(store).members.values(), mallory], ["wangli"], subject="mallory")
    commit_by_hand(type("M", (), {"store": store}))
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "authority.threshold", "7")


# --- 3, 6: keys -------------------------------------------------------------------------------------


def test_issuing_someone_elses_key_without_their_key_or_a_manager_is_refused(store, run, snapshot, refused):
    keys = Path(os.environ["WUYE_KEYS"])
    (keys / "liuyang").unlink()
    (keys / "liuyang.pub").unlink()
    before = snapshot(store)
    refused(run("staff", "key", "liuyang"), "当前私钥")
    refused(run("staff", "key", "liuyang", "--as", "wangli"), "管理层")
    assert snapshot(store) == before
    assert not (keys / "liuyang").exists()


def test_a_member_rotates_their_own_key_and_the_retired_key_is_gone(store, run):
    keys = Path(os.environ["WUYE_KEYS"])
    old = (keys / "zhangwei").read_bytes()
    r = run("staff", "key", "zhangwei")
    assert r.exit_code == 0, r.stderr
    v = latest(store)
    assert v.record.change == "key.rotate" and [s.signer for s in v.record.signatures] == ["zhangwei"]
    assert (keys / "zhangwei").read_bytes() != old
    assert sorted(p.name for p in keys.iterdir() if p.name.startswith("zhangwei")) == ["zhangwei", "zhangwei.pub"]
    public = signing.public_line_from_private((keys / "zhangwei").read_bytes(), "")
    assert v.member("zhangwei").current_key().public_key.split()[:2] == public.split()[:2]
    assert run("verify").exit_code == 0


def test_a_rotation_that_changes_anything_else_is_not_a_rotation(store, run):
    """A member's own key may sign their rotation, and only that: slipping a department in fails."""
    base = latest(store)
    me = base.member("zhangwei")
    pem, public = signing.generate_key("x@wuye")
    now = store.now()
    keys = [k.model_copy(update={"revoked_at": now}) for k in me.keys] + [StaffKey(public_key=public, valid_from=now)]
    me = me.model_copy(update={"keys": keys, "departments": ["engineering", "finance"]})
    rel = forge_version(store, "key.rotate", [*[m for m in base.members.values() if m.id != "zhangwei"], me], ["zhangwei"],
                        subject="zhangwei")
    commit_by_hand(type("M", (), {"store": store}))
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "authority.threshold")


def test_a_key_appended_by_hand_signs_nothing(mo, run):
    """Attack 4: a key added to staff/liuyang.yaml (valid from 2020), allowed_signers regenerated,
    plain commit; an entry signed with it."""
    mo.walk("application")
    pem, public = signing.generate_key("forged@wuye")
    rel = "staff/zhangwei.yaml"
    doc = yamlio.read(mo.store.path(rel), rel)
    doc["keys"].append({"public_key": public, "valid_from": "2020-01-01T00:00:00+08:00"})
    mo.store.path(rel).write_text(yamlio.dumps(doc), encoding="utf-8")
    mo.store._staff.clear()
    mo.store.path("allowed_signers").write_text(staff.allowed_signers_text(staff.all_staff(mo.store)), encoding="utf-8")
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    entry_rel = hand_entry(mo, "engineering_inspection", "zhangwei", mo.store.now(), key=load_ssh_private_key(pem, None))
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert "authority.staff-mismatch" in codes(problems, rel)
    assert "key.not-signer" in codes(problems, entry_rel)
    assert sha


def test_a_revoked_member_signing_backdated_after_the_revocation(mo, run):
    """Attack 6: signed_at one second before the revocation, naming the version before it,
    committed after it."""
    mo.walk("application")
    before = latest(mo.store)
    mo.ok(run("staff", "revoke", "zhangwei", "--as", "sunhao"))
    revoked_at = latest(mo.store).member("zhangwei").revoked_at
    rel = hand_entry(mo, "engineering_inspection", "zhangwei", revoked_at - dt.timedelta(seconds=1), version=before.number)
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "entry.after-revocation", authority.rel_of(before.number + 1))


def test_a_signing_time_in_2099(mo, run):
    mo.walk("application")
    rel = hand_entry(mo, "engineering_inspection", "zhangwei", dt.datetime(2099, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "entry.signed-after-commit", sha)


def test_a_retired_key_kept_aside_cannot_sign_inside_its_old_window(mo, run):
    mo.walk("application")
    keys = Path(os.environ["WUYE_KEYS"])
    kept = keys.parent / "kept-zhangwei"
    shutil.copy(keys / "zhangwei", kept)
    before = latest(mo.store)
    signed_at = mo.store.now()
    mo.ok(run("staff", "key", "zhangwei"))
    from cryptography.hazmat.primitives.serialization import load_ssh_private_key

    rel = hand_entry(mo, "engineering_inspection", "zhangwei", signed_at, key=load_ssh_private_key(kept.read_bytes(), None),
                     version=before.number)
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "entry.after-revocation")


# --- 5: the workflow and the money settings -----------------------------------------------------------


def _add_signer_to_settlement(store, dept):
    p = store.path("workflows/moveout.yaml")
    doc = yamlio.load_roundtrip(p.read_text(encoding="utf-8"))
    step = next(s for s in doc["steps"] if s["id"] == "settlement")
    step["signers"] = [dept] if dept != "+customer_service" else [*step["signers"], "customer_service"]
    p.write_text(yamlio.dumps(doc), encoding="utf-8")


def test_a_workflow_edited_by_plain_git_lets_no_clerk_settle(mo, run, refused):
    mo.walk("return_pass")
    mo.ok(mo.sign("engineering_inspection"))
    mo.ok(mo.sign("security_inspection"))
    _add_signer_to_settlement(mo.store, "+customer_service")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and "authority.workflow-mismatch" in codes(problems, "workflows/moveout.yaml")
    refused(mo.settle(as_="wangli"), "财务部")  # the case keeps the workflow it was opened under
    assert not mo.store.path(mo.step_rel("settlement")).exists()


def test_a_signed_workflow_change_leaves_a_closed_case_judged_by_its_own(mo, run, refused):
    mo.walk("release")
    # Finance no longer settles, by a change management signs: the closed case, settled by
    # finance under its own version, still verifies.
    _add_signer_to_settlement(mo.store, "customer_service")
    refused(run("trust", "update", "--as", "wangli"), "管理层")
    r = run("trust", "update", "--as", "sunhao")
    assert r.exit_code == 0, r.stderr
    assert latest(mo.store).record.change == "settings"
    assert git(mo.store.root, "status", "--porcelain") == ""  # the edited file went into the commit
    r = run("verify")
    assert r.exit_code == 0, r.stdout + r.stderr


def test_fees_edited_by_hand_fail_until_management_signs_them(store, run, refused):
    p = store.path("wuye.yaml")
    doc = yamlio.load_roundtrip(p.read_text(encoding="utf-8"))
    doc.setdefault("fees", {})["unit_key"] = "1.00"
    p.write_text(yamlio.dumps(doc), encoding="utf-8")
    code, problems = verify_json(run)
    assert code == 1 and "authority.settings-mismatch" in codes(problems, "wuye.yaml")
    refused(run("trust", "update", "--as", "liuyang"), "管理层")
    assert run("trust", "update", "--as", "sunhao").exit_code == 0
    assert str(latest(store).record.fees.unit_key) == "1.00"
    assert run("verify").exit_code == 0
    refused(run("trust", "update", "--as", "sunhao"), "无需签署")


# --- two-person control ----------------------------------------------------------------------------


@pytest.fixture
def two(tmp_path, run):
    """A store founded by two managers with threshold 2, and a third manager approved by both."""
    root = tmp_path / "two"
    r = run("init", str(root), "--manager", "ma=马经理", "--manager", "mb=白经理", "--threshold", "2", store=None)
    assert r.exit_code == 0, r.stderr
    return root


def test_two_person_control_needs_a_second_manager(two, run, refused):
    r = run("staff", "add", "wangli", "--name", "王丽", "--dept", "customer_service", "--as", "ma", store=two)
    assert r.exit_code == 0 and "approve 2" in r.stderr.replace("approve  2", "approve 2") or "trust approve 2" in r.stderr
    assert not (two / "staff" / "wangli.yaml").exists() and (two / "authority/proposals/0002.yaml").is_file()
    assert run("verify", store=two).exit_code == 0
    refused(run("trust", "approve", "2", "--as", "ma", store=two), "另一位管理层")
    refused(run("staff", "add", "zhangwei", "--name", "张伟", "--dept", "engineering", "--as", "mb", store=two), "approve 2")
    r = run("trust", "approve", "2", "--as", "mb", store=two)
    assert r.exit_code == 0, r.stderr
    assert (two / "staff" / "wangli.yaml").is_file() and not (two / "authority/proposals/0002.yaml").exists()
    rec = yamlio.read(two / "authority" / "0002.yaml", "x")
    assert [s["signer"] for s in rec["signatures"]] == ["ma", "mb"]
    assert run("verify", store=two).exit_code == 0


def test_a_threshold_of_two_met_twice_by_the_same_key(two, run):
    from wuye.storage.store import Store

    s = Store(two)
    base = latest(s)
    pem, public = signing.generate_key("eve@wuye")
    eve = staff.Staff(id="eve", name="夏娃", departments=["management"], keys=[StaffKey(public_key=public, valid_from=s.now())])
    data = authority.record_data(s, base, "ma", "staff.add", "eve", [*base.members.values(), eve])
    authority.sign_data(data, "ma")
    one = str(data["signatures"][0]["signature"])
    data["signatures"] = [{"signer": "ma", "signature": yamlio.literal(one)}, {"signer": "mb", "signature": yamlio.literal(one)},
                          {"signer": "ma", "signature": yamlio.literal(one)}]
    (two / authority.rel_of(2)).write_text(yamlio.dumps(data), encoding="utf-8")
    (two / "staff" / "eve.yaml").write_text(yamlio.dumps(yamlio.plain(eve.model_dump())), encoding="utf-8")
    plain_git(two, "add", "-A")
    plain_git(two, "commit", "-q", "-m", "eve")
    code, problems = verify_json(lambda *a: run(*a, store=two))
    assert code == 1 and found(problems, "authority/0002.yaml", "authority.threshold", "1")


def test_an_approval_by_a_revoked_manager(tmp_path, run, refused):
    root = tmp_path / "three"
    assert run("init", str(root), "--manager", "ma=马", "--manager", "mb=白", "--manager", "mc=陈", "--threshold", "2", store=None).exit_code == 0
    assert run("staff", "revoke", "mc", "--as", "ma", store=root).exit_code == 0
    assert run("trust", "approve", "2", "--as", "mb", store=root).exit_code == 0
    assert run("staff", "add", "wangli", "--name", "王丽", "--dept", "customer_service", "--as", "ma", store=root).exit_code == 0
    refused(run("trust", "approve", "3", "--as", "mc", store=root), "停用")
    # By hand: mc's signature (made with mc's old key) completes the version.
    from wuye.storage.store import Store

    s = Store(root)
    data, files = authority.load_proposal(s, 3)
    authority.sign_data(data, "mc")
    data["signatures"] = [{"signer": x["signer"], "signature": yamlio.literal(str(x["signature"]))} for x in data["signatures"]]
    (root / authority.rel_of(3)).write_text(yamlio.dumps(data), encoding="utf-8")
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
    (root / authority.proposal_rel(3)).unlink()
    plain_git(root, "add", "-A")
    plain_git(root, "commit", "-q", "-m", "approve")
    code, problems = verify_json(lambda *a: run(*a, store=root))
    assert code == 1 and found(problems, "authority/0003.yaml", "authority.threshold")


# --- the chain itself ------------------------------------------------------------------------------


def test_a_fork_two_versions_after_one(store, run):
    """A version that names the one before the latest as its parent: two versions after one."""
    chain = authority.load(store)
    parent = chain.versions[-2]
    data = authority.record_data(store, parent, "sunhao", "staff.departments", "wangli", parent.members.values())
    data["authority"] = chain.latest.number + 1
    authority.sign_data(data, "sunhao")
    rel = authority.rel_of(data["authority"])
    store.path(rel).write_text(yamlio.dumps(data), encoding="utf-8")
    commit_by_hand(type("M", (), {"store": store}))
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "authority.chain-broken")


def test_an_authority_record_rewritten_in_history(store, run):
    rel = authority.rel_of(2)
    data = yamlio.read(store.path(rel), rel)
    data["made_at"] = "2020-01-01T00:00:00+08:00"
    authority.sign_data(data, "sunhao")
    store.path(rel).write_text(yamlio.dumps(data), encoding="utf-8")
    sha = commit_by_hand(type("M", (), {"store": store}))
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "history.authority-modified", sha)
    assert found(problems, authority.rel_of(3), "authority.chain-broken")


def test_a_replaced_root_does_not_match_the_pin(store, run, refused):
    """Someone replaces the whole chain with one of their own making (a new root they signed)."""
    replace_the_chain(store)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, "authority/0001.yaml", "authority.root-mismatch")
    refused(run("verify", "--root", "SHA256:notthisone"), "--root")


def test_a_fresh_clone_pins_the_root_given_and_refuses_another(store, run, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(store.root), str(clone)], check=True, env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull})
    r = run("verify", store=clone)
    assert r.exit_code == 0 and "verify --root" in r.stdout + r.stderr  # a warning: nothing pinned yet
    root = json.loads(run("trust", "show", "--json").stdout)["root"]
    assert run("verify", "--root", root, store=clone).exit_code == 0
    assert pins.read(clone)["root"] == root
    assert run("verify", "--root", "SHA256:other", store=clone).exit_code == 1


def test_ssh_keygen_checks_an_authority_record(store, run, tmp_path):
    if shutil.which("ssh-keygen") is None:
        pytest.fail("ssh-keygen is missing: .ci/run installs openssh-client")
    body = tmp_path / "body"
    body.write_bytes(run("trust", "payload", "2").stdout_bytes)
    rec = yamlio.read(store.path(authority.rel_of(2)), "x")
    sig = tmp_path / "sig"
    sig.write_text(run("trust", "payload", "2", "--signature", "sunhao").stdout)
    assert sig.read_text() == str(rec["signatures"][0]["signature"])
    assert run("trust", "payload", "2", "--signature", "wangli").exit_code == 1
    ok = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(store.path("allowed_signers")), "-I", "sunhao",
                         "-n", "wuye-authority", "-s", str(sig)], stdin=body.open("rb"), capture_output=True, text=True)
    assert ok.returncode == 0 and "Good" in ok.stdout, ok.stderr
    body.write_bytes(body.read_bytes().replace(b'"staff.add"', b'"staff.revoke"'))
    bad = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(store.path("allowed_signers")), "-I", "sunhao",
                          "-n", "wuye-authority", "-s", str(sig)], stdin=body.open("rb"), capture_output=True, text=True)
    assert bad.returncode != 0


def test_an_older_store_gets_its_root_once(tmp_path, run, refused):
    """A store made before the chain (the sample in records/, committed as it is)."""
    from conftest import REPO_ROOT

    root = tmp_path / "old"
    shutil.copytree(REPO_ROOT / "records", root)
    for junk in ("ledger",):
        shutil.rmtree(root / junk, ignore_errors=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    plain_git(root, "add", "-A")
    plain_git(root, "commit", "-q", "-m", "before the chain")
    code, problems = verify_json(lambda *a: run(*a, store=root))
    assert code == 1 and "authority.missing" in codes(problems)
    refused(run("trust", "init", "--as", "wangli", store=root), "管理层")
    r = run("trust", "init", "--as", "chenjing", store=root)
    assert r.exit_code == 0, r.stderr
    assert "SHA256:" in r.stderr
    refused(run("trust", "init", "--as", "chenjing", store=root), "已有授权链")
    assert run("staff", "key", "wangli", "--as", "chenjing", store=root).exit_code == 0
    # Its ledger was kept before seals: management (or finance) checks it and seals it once.
    code, problems = verify_json(lambda *a: run(*a, store=root))
    assert code == 1 and codes(problems) == {"money.unsealed"}
    assert run("migrate", "--as", "chenjing", store=root).exit_code == 0
    r = run("verify", store=root)
    assert r.exit_code == 0, r.stdout + r.stderr


def test_the_central_pins_the_root_and_refuses_a_push_with_another_chain(store, run, tmp_path):
    root = pins.read(store.root)["root"]
    central = tmp_path / "central.git"
    assert run("remote", "init-central", central, "--root", "SHA256:not a root!", store=None).exit_code == 1
    assert not central.exists()
    assert run("remote", "init-central", central, "--root", root, store=None).exit_code == 0
    assert pins.read(central)["root"] == root
    assert run("remote", "add", "origin", central).exit_code == 0
    assert run("sync", "--as", "wangli").exit_code == 0
    # A chain of someone's own making (a new root) pushed with plain git: the hook refuses it.
    replace_the_chain(store)
    push = subprocess.run(["git", "push", "origin", "main"], cwd=store.root, capture_output=True, text=True,
                          env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull})
    assert push.returncode != 0 and "authority/0001.yaml" in push.stderr and root in push.stderr, push.stderr
