"""Push receipts: the central repository signs every accepted push, every clone checks its history
against them (trust/receipts.py, verify/receipts_check.py, the post-receive hook in sync/central.py).

The central here is reached by path (the same hooks run over ssh: tests/test_git_server.py). The
attacks are made with plain git, as anyone with write access to a store could make them: a receipt
signed by another key, a receipt spliced out of the chain, the central's history rewritten before a
fresh clone, an office's branch forced back; each makes `wuye verify` fail with a stable code
naming the receipt and the head, on a fresh clone too (which has no verified-head of its own).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from conftest import git
from test_moveout import plain_git
from test_sync import Offices

REF = "refs/wuye/receipts"


@pytest.fixture
def offices(run, tenant, tmp_path):
    return Offices(run, tenant, tmp_path)


def central_key(run, central: Path) -> str:
    r = run("remote", "init-central", "--show-key", central, store=None)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip()


def fresh_clone(offices: Offices, name: str, *pin: str) -> Path:
    """A new office: `git clone` of the central, then `wuye remote add origin URL [--central KEY]`."""
    path = offices.tmp / name
    git(offices.tmp, "clone", "-q", "--no-local", str(offices.central), str(path))  # objects as over a network
    offices.ok(offices.run("remote", "add", "origin", offices.central, "--root", offices.root_fpr(), *pin, store=path))
    plain_git(path, "fetch", "-q", "origin")  # remote add's refspec brings the receipts
    return path


def verify(run, root: Path) -> tuple[int, list[dict]]:
    r = run("verify", "--json", store=root)
    return r.exit_code, json.loads(r.stdout)["problems"]


def codes(problems: list[dict]) -> list[str]:
    return [p["code"] for p in problems]


def receipt_commits(root: Path) -> list[str]:
    return git(root, "rev-list", "--reverse", REF).split()


def receipt(root: Path, commit: str) -> dict:
    return json.loads(git(root, "cat-file", "blob", f"{commit}:receipt.json"))


def forge(root: Path, body: dict, pem: bytes, parent: str | None) -> str:
    """A receipt commit made with plain git and a key of one's own; REF moved to it."""
    from wuye.trust import signing

    data = signing.canonical_bytes(body)
    sig = signing.sign(data, signing.private_key_from_pem(pem, "k"), signing.RECEIPT_NAMESPACE)
    blobs = [subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=root, input=b, capture_output=True, check=True).stdout.decode().strip()
             for b in (data, sig.encode())]
    tree = subprocess.run(["git", "mktree"], cwd=root, capture_output=True, check=True, text=True,
                          input=f"100644 blob {blobs[0]}\treceipt.json\n100644 blob {blobs[1]}\treceipt.sig\n").stdout.strip()
    commit = plain_git(root, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", "receipt").strip()
    plain_git(root, "update-ref", REF, commit)
    return commit


# --- the central's key and the receipts it signs ---------------------------------------------


def test_init_central_makes_a_private_key_inside_the_bare_repository_and_prints_its_public_key(run, tmp_path):
    central = tmp_path / "central.git"
    r = run("remote", "init-central", central, store=None)
    assert r.exit_code == 0, r.stderr
    key = central / "wuye" / "central-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = central_key(run, central)
    assert public.startswith("ssh-ed25519 ") and public in r.stderr
    # ssh-keygen derives the same public key from the private one: it is a plain OpenSSH key.
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True, text=True, check=True).stdout
    assert derived.split()[:2] == public.split()[:2]
    assert (central / "hooks" / "post-receive").stat().st_mode & stat.S_IXUSR
    # --update keeps the key: rotating it would orphan every office's pin.
    assert run("remote", "init-central", "--update", central, store=None).exit_code == 0
    assert central_key(run, central) == public
    r = run("remote", "init-central", "--show-key", tmp_path / "nothing.git", store=None)
    assert r.exit_code == 1 and "init-central --update" in r.stderr


def test_each_accepted_push_gets_a_receipt_chained_to_the_one_before_and_checkable_with_ssh_keygen(offices, run, tmp_path):
    from wuye.trust import signing

    a = offices.a
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    offices.ok(offices.sync(a))
    commits = receipt_commits(offices.central)
    assert len(commits) == 2  # the first push (in Offices) and this one
    first, second = (receipt(offices.central, c) for c in commits)
    assert first["previous"] is None and first["old"] == "0" * 40
    assert second["ref"] == "refs/heads/main" and second["new"] == offices.central_head() == git(a, "rev-parse", "HEAD").strip()
    assert second["old"] == first["new"]
    # The message names both object ids whole: twelve digits of an abbreviation (029086071588)
    # would read as a phone number to the suite's personal-data scan, and to an auditor's.
    from commit_scan import personal_numbers

    message = git(offices.central, "log", "-1", "--format=%s", commits[1]).strip()
    assert message == f"receipt: refs/heads/main {second['old']}..{second['new']}"
    assert personal_numbers("receipt: refs/heads/main " + "0290860715881" + "1" * 27 + ".." + "0" * 40) == []
    raw_first = git(offices.central, "cat-file", "blob", f"{commits[0]}:receipt.json").encode()
    assert second["previous"] == signing.digest(raw_first)
    assert datetime.fromisoformat(second["time"]).utcoffset() is not None
    # The office holds the receipt of its own push already (fetched right after pushing).
    assert git(a, "rev-parse", REF).strip() == commits[-1]
    # Anyone can check a receipt with ssh-keygen alone.
    public = central_key(run, offices.central)
    (tmp_path / "allowed").write_text(f"central {public}\n")
    (tmp_path / "r.json").write_bytes(git(offices.central, "cat-file", "blob", f"{commits[1]}:receipt.json").encode())
    (tmp_path / "r.sig").write_text(git(offices.central, "cat-file", "blob", f"{commits[1]}:receipt.sig"))
    p = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "central", "-n", "wuye-receipt",
                        "-s", str(tmp_path / "r.sig")], stdin=open(tmp_path / "r.json", "rb"), capture_output=True, text=True)
    assert p.returncode == 0 and "Good" in p.stdout, p.stdout + p.stderr
    # The private key is in no object of the central repository.
    pem = (offices.central / "wuye" / "central-key").read_bytes()
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=offices.central, capture_output=True, check=True).stdout
    assert pem.splitlines()[1] not in objects


def test_a_fresh_clone_verifies_against_the_receipts_and_knows_when_a_commit_was_first_witnessed(offices, run):
    from wuye.trust import receipts

    key = central_key(run, offices.central)
    b = fresh_clone(offices, "b", "--central", key)
    assert not (b / ".git" / "wuye" / "verified-head").exists()
    status, problems = verify(run, b)
    assert status == 0 and problems == [], problems
    from wuye.trust import pins

    assert pins.read(b)["central"] == " ".join(key.split()[:2])
    # A plain `git fetch` brings the receipts too (remote add's refspec).
    assert REF + "*:" + REF + "*" in git(b, "config", "--get-all", "remote.origin.fetch")
    pushed = git(b, "rev-parse", "HEAD").strip()
    when = receipts.first_witnessed(b, pushed)
    first = receipt(b, receipt_commits(b)[0])
    assert when == datetime.fromisoformat(first["time"])
    offices.do(b, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    assert receipts.first_witnessed(b, git(b, "rev-parse", "HEAD").strip()) is None  # not pushed yet
    offices.ok(offices.sync(b))
    later = receipts.first_witnessed(b, git(b, "rev-parse", "HEAD").strip())
    assert later is not None and later >= when
    assert receipts.first_witnessed(b, pushed) == when


def test_receipts_without_a_pinned_central_key_are_a_warning_not_a_pass(offices, run):
    b = fresh_clone(offices, "b")
    status, problems = verify(run, b)
    assert status == 0
    assert codes(problems) == ["receipt.unpinned"] and problems[0]["level"] == "warning"
    assert "--central" in problems[0]["message"]


# --- attacks --------------------------------------------------------------------------------


def test_a_receipt_signed_by_another_key_fails_verify(offices, run):
    from wuye.trust import signing

    b = fresh_clone(offices, "b", "--central", central_key(run, offices.central))
    tip = git(b, "rev-parse", REF).strip()
    last = receipt(b, tip)
    pem, _ = signing.generate_key("mallory")
    head = git(b, "rev-parse", "HEAD").strip()
    body = {**last, "old": last["new"], "new": head, "time": "2026-01-01T00:00:00+08:00",
            "previous": signing.digest(git(b, "cat-file", "blob", f"{tip}:receipt.json").encode())}
    forged = forge(b, body, pem, tip)
    status, problems = verify(run, b)
    assert status == 1
    assert codes(problems) == ["receipt.signature"], problems
    assert forged[:10] in problems[0]["message"]

    # Pinning the wrong key makes every genuine receipt fail the same way.
    plain_git(b, "update-ref", REF, tip)
    _, other = signing.generate_key("other")
    offices.ok(run("remote", "add", "origin", offices.central, "--central", other, store=b))
    status, problems = verify(run, b)
    assert status == 1 and set(codes(problems)) == {"receipt.signature"} and len(problems) == len(receipt_commits(b))


@pytest.mark.slow  # three pushes, then a fresh clone: 4-7 s
def test_a_receipt_cut_out_of_the_chain_fails_verify(offices, run):
    a = offices.a
    for n in range(2):
        offices.do(a, "archive", "add", "T0001", "contacts", "--set", f"name=李明{n}", "--set", "phone=13812345678", "--as", "wangli")
        offices.ok(offices.sync(a))
    b = fresh_clone(offices, "b", "--central", central_key(run, offices.central))
    first, middle, last = receipt_commits(b)
    # The last receipt's own commit, re-parented onto the first: signatures intact, one receipt gone.
    tree = git(b, "rev-parse", f"{last}^{{tree}}").strip()
    plain_git(b, "update-ref", REF, plain_git(b, "commit-tree", tree, "-p", first, "-m", "receipt").strip())
    status, problems = verify(run, b)
    assert status == 1 and codes(problems) == ["receipt.chain"], problems
    assert middle not in problems[0]["message"]  # it names what it found: the digest the receipt expects


def test_a_receipt_for_a_head_not_in_the_history_fails_a_fresh_clone(offices, run):
    """The central's branch rewritten on the server (by someone with its file system): a fresh clone
    of it lacks the witnessed head, and its verify says so, though it has no marker of its own."""
    a = offices.a
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    offices.ok(offices.sync(a))
    witnessed = offices.central_head()
    git(offices.central, "update-ref", "refs/heads/main", "main~1")
    c = fresh_clone(offices, "c", "--central", central_key(run, offices.central))
    assert git(c, "cat-file", "-t", witnessed, check=False).strip() != "commit"
    status, problems = verify(run, c)
    assert status == 1 and codes(problems) == ["receipt.head-missing"], problems
    assert witnessed in problems[0]["message"] and receipt_commits(c)[-1][:10] in problems[0]["message"]


def test_history_forced_back_after_a_witnessed_push_fails_verify_without_a_verified_head(offices, run):
    """An office's branch and remote-tracking branch forced back past a pushed commit (a case
    filtered out, say): no .git/wuye/verified-head is needed to see it, the receipts are enough."""
    b = fresh_clone(offices, "b", "--central", central_key(run, offices.central))
    offices.do(b, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    offices.ok(offices.sync(b))
    witnessed = git(b, "rev-parse", "HEAD").strip()
    (b / ".git" / "wuye" / "verified-head").unlink()
    plain_git(b, "reset", "-q", "--hard", "HEAD~1")
    plain_git(b, "update-ref", "refs/remotes/origin/main", "HEAD")
    status, problems = verify(run, b)
    assert status == 1 and codes(problems) == ["receipt.head-rewritten"], problems
    assert witnessed in problems[0]["message"]
    # Behind but not rewritten (the remote-tracking branch still has it, as after a plain fetch): fine.
    plain_git(b, "update-ref", "refs/remotes/origin/main", witnessed)
    status, problems = verify(run, b)
    assert status == 0, problems


def test_a_receipt_nested_100000_deep_is_a_problem_not_a_traceback(store, run):
    """Whoever can write to a store can move its receipts ref: a receipt.json of 100,000 `[` (which
    overflows Python's JSON parser) is one that does not read, named as such."""
    blobs = [subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=store.root, input=b, capture_output=True,
                            check=True).stdout.decode().strip() for b in (b"[" * 100_000, b"not a signature")]
    tree = subprocess.run(["git", "mktree"], cwd=store.root, capture_output=True, check=True, text=True,
                          input=f"100644 blob {blobs[0]}\treceipt.json\n100644 blob {blobs[1]}\treceipt.sig\n").stdout.strip()
    plain_git(store.root, "update-ref", REF, plain_git(store.root, "commit-tree", tree, "-m", "receipt").strip())
    status, problems = verify(run, store.root)
    assert status == 1 and "receipt.malformed" in codes(problems), problems


def test_a_store_never_pushed_keeps_the_local_check(store, run):
    status, problems = verify(run, Path(store.root))
    assert status == 0 and problems == []
    head = git(store.root, "rev-parse", "HEAD").strip()
    assert (Path(store.root) / ".git" / "wuye" / "verified-head").read_text().strip() == head


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("args, said", [
    (("--central", "ssh-rsa AAAAB3NzaC1yc2E"), "公钥"),
    (("--central", "not a key"), "公钥"),
    (("--root", "abc"), "SHA256:"),
])
def test_remote_add_refuses_a_pin_that_is_not_one_and_changes_nothing(store, run, snapshot, tmp_path, args, said):
    before = snapshot(store)
    config = (Path(store.root) / ".git" / "config").read_text()
    pinned = (Path(store.root) / ".git" / "wuye" / "pins.json").read_text()  # the root, pinned at init
    r = run("remote", "add", "origin", tmp_path / "central.git", *args)
    assert r.exit_code == 1 and said in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(store) == before
    assert (Path(store.root) / ".git" / "config").read_text() == config
    assert (Path(store.root) / ".git" / "wuye" / "pins.json").read_text() == pinned


def test_remote_add_pins_the_root_and_the_central_key(store, run, tmp_path, refused):
    from wuye.trust import pins, signing

    root = pins.read(Path(store.root))["root"]
    _, key = signing.generate_key("central")
    refused(run("remote", "add", "origin", tmp_path / "central.git", "--root", "SHA256:abcdef"), "SHA256:abcdef")
    assert pins.read(Path(store.root)) == {"root": root}  # a pin is never moved by a command line
    r = run("remote", "add", "origin", tmp_path / "central.git", "--central", key, "--root", root)
    assert r.exit_code == 0, r.stderr
    assert pins.read(Path(store.root)) == {"central": " ".join(key.split()[:2]), "root": root}


def test_the_post_receive_hook_outside_git_says_what_it_is_for(run):
    r = run("remote", "post-receive", store=None, input="")
    assert r.exit_code == 1 and "post-receive" in r.stderr and "Traceback" not in r.stderr


def test_the_hook_reports_a_receipt_it_could_not_write_and_the_push_stands(offices):
    """No key (removed by hand): the push was accepted already; the pusher is told no receipt was made."""
    a = offices.a
    os.unlink(offices.central / "wuye" / "central-key")
    before = receipt_commits(offices.central)
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    p = subprocess.run(["git", "push", "origin", "main"], cwd=a, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "no push receipt was written" in p.stderr or "未能为 refs/heads/main 写入推送回执" in p.stderr, p.stderr
    assert receipt_commits(offices.central) == before
    assert offices.central_head() == git(a, "rev-parse", "HEAD").strip()


def test_an_office_cannot_push_receipts_of_its_own_to_the_central(offices, run):
    """Only the central's hook writes refs/wuye/receipts: a pushed one is refused like any non-branch."""
    from wuye.trust import signing

    a = offices.a
    tip = git(a, "rev-parse", REF).strip()
    pem, _ = signing.generate_key("mallory")
    head = git(a, "rev-parse", "HEAD").strip()
    forge(a, {"ref": "refs/heads/main", "old": head, "new": head, "time": "2026-01-01T00:00:00+08:00",
              "previous": signing.digest(git(a, "cat-file", "blob", f"{tip}:receipt.json").encode())}, pem, tip)
    p = subprocess.run(["git", "push", "origin", f"{REF}:{REF}"], cwd=a, capture_output=True, text=True)
    assert p.returncode != 0 and "中央仓库只接受分支" in p.stderr, p.stderr
    assert git(offices.central, "rev-parse", REF).strip() == tip


def test_a_signing_time_after_the_central_received_the_entry(offices, run):
    """An office signs an entry "two hours from now" and commits it with a matching committer date
    (both under its control), then pushes: the central's receipt, on the server's clock, is the
    bound that the commit time is not (entry.signed-after-receipt)."""
    import datetime as dt

    from wuye.moveout import cases as moveout
    from wuye.storage import yamlio
    from wuye.storage.store import Store
    from wuye.trust import authority, signing

    a = offices.a
    offices.ok(run("remote", "add", "origin", offices.central, "--central", central_key(run, offices.central), store=a))
    offices.do(a, "moveout", "start", "T0001", "--date", "2026-12-31", "--as", "zhaomin")
    offices.ok(offices.sync(a))
    store = Store(a)
    case = moveout.load_case(store, moveout.list_cases(store)[0]["case"])
    later = store.now() + dt.timedelta(hours=2)
    entry = {"case": case.id, "tenant_id": "T0001", "step": "application", "revision": 1,
             "needs": {"notice": case.latest("notice").digest}, "authority": authority.load(store).latest.number,
             "signer": "wangli", "department": "customer_service", "signed_at": later.isoformat(),
             "data": {"representative": "李明", "form_received": True}}
    entry["signature"] = signing.sign(moveout.payload_of(entry), signing.load_private_key("wangli"))
    rel = f"{case.dir}/steps/application.yaml"
    store.path(rel).write_text(yamlio.dumps({**entry, "signature": yamlio.literal(entry["signature"])}), encoding="utf-8")
    plain_git(a, "add", "-A")
    env = {**os.environ, "GIT_COMMITTER_DATE": later.isoformat(), "GIT_AUTHOR_DATE": later.isoformat()}
    subprocess.run(["git", "-c", "user.name=王丽", "-c", "user.email=w@example.invalid", "commit", "-q", "-m", "受理"],
                   cwd=a, env=env, check=True)
    plain_git(a, "push", "-q", "origin", "main")
    plain_git(a, "fetch", "-q", "origin")
    status, problems = verify(run, a)
    assert status == 1
    assert [p["code"] for p in problems if p["path"] == rel] == ["entry.signed-after-receipt"], problems
