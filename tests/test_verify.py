"""`wuye verify` against attacks on committed data: each tampering makes it exit 1 and name the file
and the reason. And the signed entries checked without wuye, by OpenSSH's own `ssh-keygen -Y verify`."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest

from conftest import git
from test_moveout import MoveOut, plain_git

from wuye.moveout import cases as moveout
from wuye.trust import signing
from wuye.storage import yamlio


@pytest.fixture
def mo(run, tenant, tmp_path):
    return MoveOut(run, tenant, tmp_path)


def verify_json(run) -> tuple[int, list[dict]]:
    r = run("verify", "--json")
    data = json.loads(r.stdout)
    assert data["ok"] == (r.exit_code == 0)
    return r.exit_code, [p for p in data["problems"] if p["level"] == "error"]


def found(problems, path, code, *fragments) -> bool:
    """A problem of this code at this path, whose message names each of `fragments` (a commit,
    a step: what locates it, not the wording, which the code stands for)."""
    return any(p["path"] == path and p["code"] == code and all(f in p["message"] for f in fragments) for p in problems)


def rewrite(mo, step, change, signer=None, revision=1) -> dict:
    """Change a stored entry and, with `signer`, sign it again with that member's private key
    (as someone holding the key could). Returns the new entry."""
    path = mo.store.path(mo.step_rel(step, revision))
    entry = yamlio.read(path, "entry")
    change(entry)
    if signer is not None:
        entry["signature"] = signing.sign(moveout.payload_of(entry), signing.load_private_key(signer))
    path.write_text(yamlio.dumps({**entry, "signature": yamlio.literal(entry["signature"])}), encoding="utf-8")
    return entry


def commit_by_hand(mo, message="手工修改"):
    plain_git(mo.store.root, "add", "-A")
    plain_git(mo.store.root, "commit", "-q", "-m", message)
    return git(mo.store.root, "rev-parse", "--short", "HEAD").strip()


def _digest(mo, step, revision=1):
    return moveout.payload(mo.store, mo.case, step, revision).digest


# --- a sound store --------------------------------------------------------------------------------


def test_a_sound_store_verifies(mo, run):
    mo.walk("release")
    r = run("verify")
    assert r.exit_code == 0, r.stdout
    assert r.stdout == ""
    assert "校验通过" in r.stderr and "迁出案件 1" in r.stderr and "签字条目 9" in r.stderr
    code, problems = verify_json(run)
    assert code == 0 and problems == []
    # The verified HEAD is remembered under .git, never in a tracked file.
    assert git(mo.store.root, "status", "--porcelain", "--untracked-files=all") == ""
    assert (mo.store.root / ".git" / "wuye" / "verified-head").read_text().strip() == git(mo.store.root, "rev-parse", "HEAD").strip()


# --- attacks on committed data --------------------------------------------------------------------


def test_an_edited_byte_in_a_signed_entry(mo, run):
    mo.walk("settlement")
    rel = mo.step_rel("engineering_inspection")
    path = mo.store.path(rel)
    raw = path.read_bytes()
    assert raw.count(b"300.00") == 1
    path.write_bytes(raw.replace(b"300.00", b"800.00"))  # one byte
    sha = commit_by_hand(mo, "改一下赔偿金额")
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "signature.bad")
    assert found(problems, rel, "history.entry-modified", sha)
    # The settlement named the original digest: the DAG is broken too.
    assert found(problems, mo.step_rel("settlement"), "dag.needs-unknown", "needs.engineering_inspection")
    r = run("verify")  # the plain output says the same, each line naming the file
    assert r.exit_code == 1 and f"{rel}: " in r.stdout and sha in r.stdout and "校验失败" in r.stderr
    # The board shows the problems and refuses, and nobody can sign on top of it.
    assert run("moveout", "status", mo.case).exit_code == 1
    r = mo.sign("handover")
    assert r.exit_code == 1 and "校验不通过" in r.stderr and rel in r.stderr


def test_an_edited_byte_in_a_signature(mo, run):
    mo.walk("application")
    rel = mo.step_rel("application")
    path = mo.store.path(rel)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i, l in enumerate(lines) if "BEGIN SSH SIGNATURE" in l) + 3
    body = lines[i].rstrip("\n")
    j = len(body) // 2
    lines[i] = body[:j] + ("A" if body[j] != "A" else "B") + body[j + 1:] + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "signature.bad")


def test_an_uncommitted_edit_is_caught_too(mo, run):
    mo.walk("application")
    rel = mo.step_rel("application")
    rewrite(mo, "application", lambda e: e["data"].update(representative="李亮"))
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "signature.bad")


def test_a_deleted_entry_breaks_the_dag_and_the_history(mo, run):
    mo.walk("settlement")
    rel = mo.step_rel("security_inspection")
    plain_git(mo.store.root, "rm", "-q", rel)
    sha = commit_by_hand(mo, "删掉保安部检查")
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, mo.step_rel("settlement"), "dag.needs-unknown", "needs.security_inspection")
    assert found(problems, rel, "history.entry-deleted", sha)


def test_a_deleted_entry_that_nothing_needs_is_caught_by_history(mo, run):
    mo.walk("security_inspection")
    rel = mo.step_rel("security_inspection")
    plain_git(mo.store.root, "rm", "-q", rel)
    sha = commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    # The case itself now looks consistent; only git's history shows what happened.
    assert problems == [{"code": "history.entry-deleted", "path": rel, "line": None, "col": None, "level": "error",
                         "message": f"已签字的条目在提交 {sha} 中被删除"}]
    r = run("verify")
    assert f"{rel}: 已签字的条目在提交 {sha} 中被删除" in r.stdout


def test_a_whole_case_deleted_is_caught_by_history(mo, run):
    mo.walk("security_inspection")
    plain_git(mo.store.root, "rm", "-q", "-r", f"tenants/T0001/moveout/{mo.case}")
    sha = commit_by_hand(mo, "清理")
    code, problems = verify_json(run)
    assert code == 1
    for step in ("notice", "application", "return_pass", "engineering_inspection", "security_inspection"):
        assert found(problems, mo.step_rel(step), "history.entry-deleted", sha), step


def test_a_signature_by_another_members_key(mo, run):
    mo.walk("engineering_inspection")
    rel = mo.step_rel("engineering_inspection")
    # Same payload, signed with chenjing's key instead of zhangwei's.
    entry = rewrite(mo, "engineering_inspection", lambda e: None, signer="chenjing")
    assert entry["signer"] == "zhangwei"
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "key.not-signer", "zhangwei")
    assert not found(problems, rel, "signature.bad")  # the signature itself is sound; the key is wrong


def test_a_signature_by_a_revoked_key_after_its_revocation(mo, run):
    mo.walk("application")
    mo.ok(run("staff", "revoke", "zhangwei", "--as", "sunhao"))
    later = (mo.store.now() + dt.timedelta(hours=1)).isoformat()
    # zhangwei still holds his private key and signs an inspection "later" by hand.
    entry = {"case": mo.case, "tenant_id": "T0001", "step": "engineering_inspection", "revision": 1,
             "needs": {"application": _digest(mo, "application")}, "signer": "zhangwei",
             "department": "engineering", "signed_at": later,
             "data": {"equipment_checked": True, "meter_electricity": "1023.5", "power_off": True, "ac_off": True}}
    entry["signature"] = signing.sign(moveout.payload_of(entry), signing.load_private_key("zhangwei"))
    rel = mo.step_rel("engineering_inspection")
    mo.store.path(rel).write_text(yamlio.dumps({**entry, "signature": yamlio.literal(entry["signature"])}), encoding="utf-8")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "key.not-valid-at")


def test_a_signer_claiming_a_department_they_are_not_in(mo, run):
    mo.walk("application")
    rel = mo.step_rel("engineering_inspection")
    entry = {"case": mo.case, "tenant_id": "T0001", "step": "engineering_inspection", "revision": 1,
             "needs": {"application": _digest(mo, "application")}, "signer": "wangli",
             "department": "engineering", "signed_at": mo.store.now().isoformat(),
             "data": {"equipment_checked": True, "meter_electricity": "1023.5", "power_off": True, "ac_off": True}}
    entry["signature"] = signing.sign(moveout.payload_of(entry), signing.load_private_key("wangli"))
    mo.store.path(rel).write_text(yamlio.dumps({**entry, "signature": yamlio.literal(entry["signature"])}), encoding="utf-8")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "dept.not-member", "wangli", "engineering")


def test_a_needs_digest_that_matches_nothing(mo, run):
    mo.walk("engineering_inspection")
    rel = mo.step_rel("engineering_inspection")
    notice = _digest(mo, "notice")
    # The rightful signer re-signs, so the signature is valid; but the DAG no longer holds.
    rewrite(mo, "engineering_inspection", lambda e: e["needs"].update(application=notice), signer="zhangwei")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, rel, "dag.needs-unknown", "needs.application")
    assert not any(p["path"] == rel and p["code"].startswith(("signature.", "key.")) for p in problems)


def test_needs_that_are_not_the_workflows(mo, run):
    mo.walk("engineering_inspection")
    rel = mo.step_rel("engineering_inspection")
    rewrite(mo, "engineering_inspection", lambda e: e.__setitem__("needs", {}), signer="zhangwei")
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "dag.needs-mismatch", "['application']")


def test_reordering_an_entry_before_what_it_needs(mo, run):
    mo.walk("engineering_inspection", skip=("return_pass",))
    app_rel, eng_rel = mo.step_rel("application"), mo.step_rel("engineering_inspection")
    later = (dt.datetime.fromisoformat(mo.entry("application")["signed_at"]) + dt.timedelta(hours=1)).isoformat()
    # The application is made to be signed an hour after the inspection that needs it; both are
    # re-signed by their rightful signers and the inspection points to the new digest, so every
    # signature and every digest holds and only the order is wrong.
    rewrite(mo, "application", lambda e: e.__setitem__("signed_at", later), signer="wangli")
    rewrite(mo, "engineering_inspection", lambda e: e["needs"].update(application=_digest(mo, "application")),
            signer="zhangwei")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1
    assert found(problems, eng_rel, "dag.order", "application")
    # The application's new signing time is also later than the commit that first brought it in.
    case_problems = [p for p in problems if p["code"] not in ("history.entry-modified", "entry.signed-after-commit")]
    assert case_problems == [p for p in problems if p["path"] == eng_rel and p["code"] == "dag.order"]
    assert found(problems, app_rel, "history.entry-modified")
    assert found(problems, app_rel, "entry.signed-after-commit")


def test_a_correction_chain_with_a_wrong_supersedes(mo, run):
    mo.walk("engineering_inspection")
    mo.ok(mo.sign("engineering_inspection", None, None, "--correct", meter_electricity="1030"))
    rel = mo.step_rel("engineering_inspection", 2)
    rewrite(mo, "engineering_inspection", lambda e: e.__setitem__("supersedes", _digest(mo, "notice")),
            signer="zhangwei", revision=2)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "correction.supersedes")


def test_an_entry_moved_to_another_case_or_file_name(mo, run):
    mo.walk("application")
    src = mo.store.path(mo.step_rel("application"))
    dst = mo.store.path(mo.step_rel("return_pass"))
    shutil.copy2(src, dst)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, mo.step_rel("return_pass"), "entry.file-name")


def test_a_closed_case_with_unsigned_steps(mo, run):
    mo.walk("application")
    rel = f"tenants/T0001/moveout/{mo.case}/case.yaml"
    path = mo.store.path(rel)
    path.write_text(path.read_text(encoding="utf-8").replace("status: open", "status: closed"), encoding="utf-8")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "case.incomplete", "release")


def test_a_hand_edited_allowed_signers(mo, run):
    mo.walk("notice")
    path = mo.store.path("allowed_signers")
    path.write_text(path.read_text() + "mallory ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc2DsUq9bTrVUPNL0bnGmXHu3MOXIqSRbXiq7ztdvce\n")
    commit_by_hand(mo)
    code, problems = verify_json(run)
    assert code == 1 and found(problems, "allowed_signers", "staff.allowed-signers-mismatch")


def test_a_rewritten_history(mo, run):
    mo.walk("application")
    assert run("verify").exit_code == 0
    mo.ok(mo.sign("return_pass"))
    assert run("verify").exit_code == 0  # new commits on top are fine
    plain_git(mo.store.root, "commit", "-q", "--amend", "-m", "moveout: 退证（改写过的说明）")
    code, problems = verify_json(run)
    assert code == 1 and [(p["path"], p["code"]) for p in problems] == [(".git", "history.head-rewritten")]
    assert "amend" in problems[0]["message"]
    # It keeps saying so: a failed verification does not move the marker.
    assert run("verify").exit_code == 1


def test_a_history_reset_that_drops_a_signed_step(mo, run):
    mo.walk("return_pass")
    assert run("verify").exit_code == 0
    plain_git(mo.store.root, "reset", "-q", "--hard", "HEAD~1")
    assert not mo.store.path(mo.step_rel("return_pass")).exists()
    code, problems = verify_json(run)
    assert code == 1 and found(problems, ".git", "history.head-rewritten")


def test_a_change_hidden_in_a_merge_commit(mo, run):
    """The rightful signer re-signs changed data and slips it into a merge: git log shows no diff
    for merges by default, so verify must compare a merge with its parents."""
    mo.walk("engineering_inspection", skip=("return_pass",))
    root = mo.store.root
    plain_git(root, "checkout", "-q", "-b", "counter")
    mo.ok(mo.sign("return_pass"))
    plain_git(root, "checkout", "-q", "main")
    plain_git(root, "merge", "-q", "--no-ff", "--no-commit", "counter")
    rel = mo.step_rel("engineering_inspection")
    rewrite(mo, "engineering_inspection", lambda e: e["data"].update(meter_electricity="1001.0"), signer="zhangwei")
    sha = commit_by_hand(mo, "Merge branch 'counter'")
    assert len(git(root, "log", "-1", "--format=%P").split()) == 2
    code, problems = verify_json(run)
    assert code == 1 and found(problems, rel, "history.entry-modified", sha)


# --- independent verification with OpenSSH ---------------------------------------------------


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_ssh_keygen_verifies_the_payload_and_rejects_a_changed_byte(mo, run, tmp_path):
    mo.walk("settlement")
    for step, signer in (("notice", "zhaomin"), ("engineering_inspection", "zhangwei"), ("settlement", "liuyang")):
        _check_with_ssh_keygen(mo, run, tmp_path, step, signer)


def _check_with_ssh_keygen(mo, run, tmp_path, step, signer):
    payload = run("moveout", "payload", mo.case, step, "--as", "sunhao").stdout_bytes
    sig = run("moveout", "payload", mo.case, step, "--signature").stdout_bytes
    assert sig.startswith(b"-----BEGIN SSH SIGNATURE-----") and sig.rstrip().endswith(b"-----END SSH SIGNATURE-----")
    # The payload is the canonical JSON of the entry without its signature; its sha256 is the digest.
    entry = mo.entry(step)
    assert json.loads(payload) == {k: v for k, v in entry.items() if k != "signature"}
    assert signing.digest(payload) == _digest(mo, step)
    sig_file = tmp_path / "entry.sig"
    sig_file.write_bytes(sig)
    allowed = str(mo.store.path("allowed_signers"))

    def ssh_verify(data: bytes, principal: str = signer):
        return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", allowed, "-I", principal, "-n", "wuye-step",
                               "-s", str(sig_file)], input=data, capture_output=True)

    ok = ssh_verify(payload)
    assert ok.returncode == 0, ok.stderr
    assert f'Good "wuye-step" signature for {signer}'.encode() in ok.stdout + ok.stderr

    i = payload.index(b'"signer"')
    changed = payload[:i + 2] + bytes([payload[i + 2] ^ 0x01]) + payload[i + 3:]
    assert len(changed) == len(payload) and changed != payload
    bad = ssh_verify(changed)
    assert bad.returncode != 0
    # Someone else's name does not fit the key either.
    assert ssh_verify(payload, "chenjing" if signer != "chenjing" else "wangli").returncode != 0


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_ssh_keygen_verifies_a_correction_revision(mo, run, tmp_path):
    mo.walk("application")
    mo.ok(mo.sign("application", None, None, "--correct", representative="李亮"))
    payload = run("moveout", "payload", mo.case, "application", "--revision", "2", "--as", "sunhao").stdout_bytes
    assert json.loads(payload)["supersedes"] == _digest(mo, "application", 1)
    (tmp_path / "s").write_bytes(run("moveout", "payload", mo.case, "application", "--revision", "2", "--signature").stdout_bytes)
    p = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(mo.store.path("allowed_signers")), "-I", "wangli",
                        "-n", "wuye-step", "-s", str(tmp_path / "s")], input=payload, capture_output=True)
    assert p.returncode == 0, p.stderr
    r = run("moveout", "payload", mo.case, "application", "--revision", "3", "--as", "sunhao")
    assert r.exit_code == 1 and "没有第 3 版" in r.stderr
    r = run("moveout", "payload", mo.case, "return_pass", "--as", "sunhao")
    assert r.exit_code == 1 and "尚未签字" in r.stderr
