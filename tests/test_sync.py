"""Several offices on one archive: `wuye sync` between clones of a guarded central repository.

A central bare repository (`wuye remote init-central`) and two or three clones of the `tenant`
store in the test's tmp dir; every office shares the fixture's WUYE_KEYS, so each can sign as any
department. The tests run interleaved commands in each clone, sync them in several orders and
check that every entry arrived everywhere, that each clone passes `wuye verify`, and that every
refusal (a real conflict, an unknown, unreachable or unrelated remote, conflict markers, a push the
central refuses, a local store that fails verify) leaves the store exactly as it was.

`Offices` is shared with test_central.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import git, snapshot
from test_moveout import MoveOut, plain_git

Y = 2025  # complaint times are given with --at, in the past


class Offices:
    """The central repository and the offices' clones of the `tenant` store (office `a`)."""

    def __init__(self, run, store, tmp_path):
        self.run, self.tmp = run, tmp_path
        self.central = tmp_path / "central.git"
        self.ok(run("remote", "init-central", self.central, store=None))
        self.a = Path(store.root)
        self.ok(run("remote", "add", "origin", self.central, "--as", "wangli", store=self.a))
        self.ok(self.sync(self.a))

    @staticmethod
    def ok(result):
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def clone(self, name: str) -> Path:
        path = self.tmp / name
        git(self.tmp, "clone", "-q", str(self.central), str(path))
        # A new office pins the root the first office gave it (out of band: here, read from a).
        self.ok(self.run("remote", "add", "origin", self.central, "--root", self.root_fpr(), store=path))
        return path

    def root_fpr(self) -> str:
        from wuye.trust import pins

        return pins.read(self.a)["root"]

    def sync(self, where, *extra, as_="wangli"):
        args = ("--as", as_) if as_ else ()
        return self.run("sync", *args, *extra, store=where)

    def do(self, where, *args):
        return self.ok(self.run(*args, store=where))

    def moveout(self, where, case=None) -> MoveOut:
        from wuye.storage.store import Store

        mo = MoveOut(lambda *a, **k: self.run(*a, store=where, **k), Store(where), self.tmp)
        mo.case = case
        return mo

    def central_head(self) -> str:
        return git(self.central, "rev-parse", "main").strip()


@pytest.fixture
def offices(run, tenant, tmp_path):
    return Offices(run, tenant, tmp_path)


def _entries(root: Path, tid: str, category: str) -> list[dict]:
    from wuye.storage import yamlio

    return yamlio.read(root / f"tenants/{tid}/{category}.yaml", "x")["entries"]


def _verified(run, root: Path) -> None:
    r = run("verify", store=root)
    assert r.exit_code == 0, r.stdout + r.stderr


# --- the done-when scenario -----------------------------------------------------------------


@pytest.mark.slow  # several offices, many syncs: 3–6 s
def test_three_offices_work_offline_and_sync_in_several_orders(offices, run, git_log):
    a = offices.a
    mo = offices.moveout(a)
    mo.move_in()
    mo.start()
    mo.ok(mo.sign("application"))
    complaint = offices.do(a, "complaint", "open", "T0001", "--channel", "phone", "--text", "电梯等候过久",
                           "--at", f"{Y}-03-01T09:00", "--as", "wangli").stdout.strip()
    offices.ok(offices.sync(a))
    b, c = offices.clone("b"), offices.clone("c")

    # Offline, in three offices at once.
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    offices.do(a, "complaint", "assign", complaint, "--dept", "engineering", "--to", "zhangwei",
               "--at", f"{Y}-03-01T10:00", "--as", "wangli")
    offices.do(b, "archive", "add", "T0001", "contacts", "--set", "name=张三", "--set", "phone=13912345678", "--as", "wangli")
    mo.ok(offices.moveout(b, mo.case).sign("engineering_inspection"))
    offices.do(b, "complaint", "respond", complaint, "--text", "已联系电梯公司，本周内调整", "--at", f"{Y}-03-01T11:00", "--as", "zhaomin")
    offices.do(c, "archive", "new", "T0002", "--name", "华锐通达贸易", "--unit", "1202", "--as", "wangli")
    mo.ok(offices.moveout(c, mo.case).sign("security_inspection"))
    offices.do(c, "archive", "add", "T0001", "contacts", "--set", "name=钱五", "--set", "phone=13700000000", "--as", "wangli")
    # One office changes the authority offline (two offices doing so at once: the next test).
    offices.do(a, "staff", "add", "zhouqi", "--name", "周琪", "--dept", "finance", "--as", "sunhao")

    r = offices.ok(offices.sync(b))  # b was first: a plain push
    assert "已推送 3 个提交" in r.stderr
    r = offices.ok(offices.sync(c, as_="zhangwei"))  # c merges b's work
    assert "CON-0001 改编为 CON-0002" in r.stderr
    r = offices.ok(offices.sync(a, as_=None))  # a merges both, as the system identity
    assert "已合并" in r.stderr
    for where in (b, c):
        assert "快进" in offices.ok(offices.sync(where)).stderr

    head = offices.central_head()
    for where in (a, b, c):
        assert git(where, "rev-parse", "HEAD").strip() == head
        assert git(where, "status", "--porcelain", "--untracked-files=all") == ""
        _verified(run, where)
    # Every entry arrived everywhere, with ids unique in the file.
    people = _entries(a, "T0001", "contacts")
    assert sorted(e["name"] for e in people) == ["张三", "李明", "钱五"]
    assert sorted(e["id"] for e in people) == ["CON-0001", "CON-0002", "CON-0003"]
    steps = sorted(p.name for p in (a / f"tenants/T0001/moveout/{mo.case}/steps").iterdir())
    assert steps == ["application.yaml", "engineering_inspection.yaml", "notice.yaml", "security_inspection.yaml"]
    assert (a / "tenants/T0002/profile.yaml").is_file()
    signers = (a / "allowed_signers").read_text(encoding="utf-8")  # merged, and as staff/ says (verify)
    assert "\nzhouqi " in signers
    # The complaint was handled in two offices: both events kept, in order; the later state wins.
    [entry] = _entries(a, "T0001", "complaints")
    assert [e["action"] for e in entry["history"]] == ["open", "assign", "respond"]
    assert entry["status"] == "responded" and entry["assigned_to"] == "zhangwei"
    # Merge commits: one per integrating office, authored by who synced (or the system).
    merges = [x for x in git_log(a) if x.subject.startswith("sync: ")]
    assert [(m.author, m.email) for m in merges] == [("wuye", "wuye@wuye.invalid"), ("张伟", "zhangwei@wuye.invalid")]
    assert merges[1].trailers["Wuye-Renumbered"] == "tenants/T0001/contacts.yaml CON-0001 -> CON-0002"
    assert merges[1].trailers["Wuye-Actor"] == "zhangwei"
    # The case goes on from the merged history: finance settles on both inspections.
    mo.ok(mo.sign("return_pass"))
    mo.ok(mo.settle())
    r = offices.ok(offices.sync(a, "--json"))
    result = json.loads(r.stdout)
    assert (result["state"], result["sent"], result["received"]) == ("pushed", 2, 0)
    assert result["head"] == offices.central_head() and result["remote"] == "origin"


# --- real conflicts ---------------------------------------------------------------------------


@pytest.mark.slow  # several offices, many syncs: 3–6 s
def test_a_real_conflict_changes_nothing_and_is_finished_by_resolve_or_by_hand(offices, run, git_log):
    from wuye.storage import yamlio

    a = offices.a
    b, c = offices.clone("b"), offices.clone("c")
    offices.do(a, "archive", "add", "T0001", "profile", "--set", "phone=010-11111111", "--set", "industry=软件", "--as", "wangli")
    offices.do(b, "archive", "add", "T0001", "profile", "--set", "phone=010-22222222", "--set", "headcount=20", "--as", "zhaomin")
    offices.do(c, "archive", "add", "T0001", "profile", "--set", "phone=010-33333333", "--as", "zhaomin")
    offices.ok(offices.sync(a))
    before = snapshot(b)
    tracking = git(b, "rev-parse", "origin/main").strip()

    r = offices.sync(b)
    assert r.exit_code == 1
    assert 'tenants/T0001/profile.yaml: phone: 本地 "010*****2222" ≠ 远端 "010*****1111"' in r.stderr  # masked
    assert "22222222" not in r.stderr and "11111111" not in r.stderr
    assert "--resolve tenants/T0001/profile.yaml=theirs" in r.stderr and "git merge origin/main" in r.stderr
    assert snapshot(b) == before  # nothing changed ...
    assert git(b, "rev-parse", "origin/main").strip() == offices.central_head() != tracking  # ... but the fetch

    # Office b chooses a side: it wins at the conflicting value only, the rest still merges.
    r = offices.ok(offices.sync(b, "--resolve", "tenants/T0001/profile.yaml=theirs"))
    assert "tenants/T0001/profile.yaml=theirs" in r.stderr
    profile = yamlio.read(b / "tenants/T0001/profile.yaml", "p")
    assert (profile["phone"], profile["industry"], profile["headcount"]) == ("010-11111111", "软件", 20)
    assert git_log(b)[0].trailers["Wuye-Resolved"] == "tenants/T0001/profile.yaml=theirs"
    assert git(b, "rev-parse", "HEAD").strip() == offices.central_head()
    _verified(run, b)

    # Office c merges by hand: git merge, edit the file, git add, git commit, wuye sync.
    assert offices.sync(c).exit_code == 1
    p = subprocess.run(["git", "-c", "user.name=某人", "-c", "user.email=someone@example.invalid", "merge", "origin/main"],
                       cwd=c, capture_output=True, text=True)
    assert p.returncode == 1 and "tenants/T0001/profile.yaml" in p.stdout
    text = (c / "tenants/T0001/profile.yaml").read_text(encoding="utf-8")
    assert "<<<<<<<" in text and "010-33333333" in text and "010-11111111" in text
    doc = yamlio.loads(yamlio.read_text(b / "tenants/T0001/profile.yaml", "p"), "p")
    doc["phone"] = "010-33333333"
    (c / "tenants/T0001/profile.yaml").write_text(yamlio.dumps(doc), encoding="utf-8")
    plain_git(c, "add", "tenants/T0001/profile.yaml")
    plain_git(c, "commit", "-q", "--no-edit")
    offices.ok(offices.sync(c))
    assert yamlio.read(c / "tenants/T0001/profile.yaml", "p")["phone"] == "010-33333333"
    _verified(run, c)


@pytest.mark.slow  # several offices, many syncs: 3–6 s
def test_one_step_signed_in_two_offices_is_withdrawn_and_signed_again_as_documented(offices, run):
    a = offices.a
    mo = offices.moveout(a)
    mo.move_in()
    mo.start()
    mo.ok(mo.sign("application"))
    offices.ok(offices.sync(a))
    b = offices.clone("b")
    mo.ok(mo.sign("engineering_inspection"))
    there = offices.moveout(b, mo.case)
    mo.ok(there.sign("engineering_inspection", meter_electricity="1030.0"))
    offices.ok(offices.sync(a))
    before = snapshot(b)

    step = f"tenants/T0001/moveout/{mo.case}/steps/engineering_inspection.yaml"
    for extra in ((), ("--resolve", "theirs")):  # no side can be chosen for a signed entry
        r = offices.sync(b, *extra)
        assert r.exit_code == 1
        assert f"{step}: 两处都签了此条目：本地 zhangwei @" in r.stderr and "远端 zhangwei @" in r.stderr
        assert "撤回本地签字" in r.stderr
        assert snapshot(b) == before

    # The withdrawal `wuye sync --help` documents; the reading is then signed as a correction.
    help_text = run("sync", "--help", store=None).stdout
    assert "git branch keep/local" in help_text and "git reset --hard origin/main" in help_text
    plain_git(b, "branch", "keep/local")
    plain_git(b, "reset", "-q", "--hard", "origin/main")
    (b / ".git/wuye/verified-head").unlink()
    mo.ok(there.sign("engineering_inspection", None, None, "--correct", meter_electricity="1030.0"))
    r = offices.ok(offices.sync(b))
    assert "已推送 1 个提交" in r.stderr
    assert (a / step).read_bytes() == (b / step).read_bytes()
    assert there.entry("engineering_inspection", 2)["data"]["meter_electricity"] == "1030.0"
    _verified(run, b)


@pytest.mark.slow  # several offices, many syncs: 3–6 s
def test_one_case_id_opened_in_two_offices_is_refused_and_reopened_as_documented(offices, run):
    a = offices.a
    offices.do(a, "archive", "new", "T0002", "--name", "华锐通达贸易", "--unit", "1202", "--as", "wangli")
    offices.ok(offices.sync(a))
    b = offices.clone("b")
    case = offices.moveout(a)
    case.start()
    other = offices.moveout(b)
    other.tenant_id = "T0002"
    other.start()
    assert case.case == other.case  # both offices allocated the same id offline
    offices.ok(offices.sync(a))
    before = snapshot(b)

    r = offices.sync(b)
    assert r.exit_code == 1
    assert f"案件编号 {case.case} 同时用于租户 T0001、T0002" in r.stderr
    assert snapshot(b) == before
    _verified(run, b)  # the undone merge left no trace: not even "history was rewritten"

    # The recovery `wuye sync --help` documents: keep the local case on a branch, reopen it.
    assert "git reset --hard origin/main" in run("sync", "--help", store=None).stdout
    plain_git(b, "branch", "keep/local")
    plain_git(b, "reset", "-q", "--hard", "origin/main")
    (b / ".git/wuye/verified-head").unlink()
    other.start()
    assert other.case != case.case
    offices.ok(offices.sync(b))
    _verified(run, b)


# --- bad input ----------------------------------------------------------------------------------


def test_unknown_unreachable_and_unrelated_remotes_are_refused_changing_nothing(offices, run, tmp_path):
    from wuye.admin.create import init_store

    a = offices.a
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    before = snapshot(a)

    r = offices.sync(a, "--remote", "nowhere")
    assert r.exit_code == 1 and "没有名为 nowhere 的远端仓库" in r.stderr and "origin" in r.stderr
    offices.do(a, "remote", "add", "far", str(tmp_path / "no-such-place.git"))
    r = offices.sync(a, "--remote", "far")
    assert r.exit_code == 1 and "无法连接远端仓库 far" in r.stderr and "no-such-place.git" in r.stderr

    init_store(tmp_path / "elsewhere", "另一座大厦")
    offices.do(a, "remote", "add", "elsewhere", str(tmp_path / "elsewhere"))
    r = offices.sync(a, "--remote", "elsewhere")
    assert r.exit_code == 1 and "没有共同的历史" in r.stderr
    assert git(a, "rev-parse", "elsewhere/main").strip()  # only the remote-tracking ref moved
    assert snapshot(a) == before
    assert git(offices.central, "rev-parse", "main").strip() != git(a, "rev-parse", "HEAD").strip()

    r = run("remote", "add", "far", "/somewhere/else.git", store=a)
    assert r.exit_code == 1 and "git remote set-url far" in r.stderr


def test_a_push_the_central_refuses_undoes_the_merge(offices, run):
    a = offices.a
    b = offices.clone("b")
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    offices.ok(offices.sync(a))
    offices.do(b, "archive", "add", "T0001", "emergency", "--set", "name=张三", "--set", "phone_24h=13912345678", "--as", "wangli")
    _verified(run, b)
    hook = offices.central / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho '本周冻结：暂停推送' >&2\nexit 1\n")
    before = snapshot(b)

    r = offices.sync(b)
    assert r.exit_code == 1
    assert "中央仓库的检查拒绝了这次推送" in r.stderr and "本周冻结：暂停推送" in r.stderr
    assert snapshot(b) == before  # the merge made for the push is gone
    _verified(run, b)  # and the verified marker points where it did


def test_a_merge_leaving_conflict_markers_is_refused(offices, run):
    a = offices.a
    b = offices.clone("b")
    (b / ".gitignore").write_text("<<<<<<< HEAD\n本地\n=======\n远端\n>>>>>>> origin/main\n", encoding="utf-8")
    plain_git(b, "add", ".gitignore")
    plain_git(b, "commit", "-q", "-m", "a bad hand merge")
    # the central takes it: a file of the layout, and the store still verifies
    plain_git(b, "push", "-q", "origin", "main")
    offices.do(a, "archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=13812345678", "--as", "wangli")
    before = snapshot(a)

    r = offices.sync(a)
    assert r.exit_code == 1 and "冲突标记" in r.stderr and ".gitignore:1" in r.stderr
    assert snapshot(a) == before


def test_a_local_store_failing_verify_is_not_synced(offices, run):
    a = offices.a
    mo = offices.moveout(a)
    mo.start()
    rel = mo.step_rel("notice")
    path = a / rel
    path.write_text(path.read_text(encoding="utf-8").replace("租约到期", "租约期满"), encoding="utf-8")
    plain_git(a, "commit", "-q", "-am", "edit a signed entry")
    central = offices.central_head()
    before = snapshot(a)

    r = offices.sync(a)
    assert r.exit_code == 1 and "本地档案库未通过 wuye verify" in r.stderr and rel in r.stderr
    assert snapshot(a) == before and offices.central_head() == central

    r = offices.sync(a, "--resolve", "sideways")
    assert r.exit_code == 1 and "--resolve" in r.stderr


def test_uncommitted_changes_are_refused(offices):
    a = offices.a
    p = a / "tenants/T0001/profile.yaml"
    p.write_text(p.read_text(encoding="utf-8") + "# 手工备注\n", encoding="utf-8")
    r = offices.sync(a)
    assert r.exit_code == 1 and "未提交的改动" in r.stderr and "tenants/T0001/profile.yaml" in r.stderr


def test_remote_add_registers_the_driver_in_a_store_without_gitattributes(tenant, run, tmp_path):
    """A store made before syncing existed gets .gitattributes in one commit, and the config."""
    root = tenant.root
    plain_git(root, "rm", "-q", ".gitattributes")
    plain_git(root, "commit", "-q", "-m", "an older store")
    plain_git(root, "config", "--unset", "merge.wuye.driver")
    r = run("remote", "add", "origin", str(tmp_path / "central.git"), "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert "merge=wuye" in (root / ".gitattributes").read_text(encoding="utf-8")
    assert git(root, "log", "-1", "--format=%an %s").startswith("王丽 remote: ")
    assert "merge-driver" in git(root, "config", "merge.wuye.driver")
    assert git(root, "remote", "get-url", "origin").strip() == str(tmp_path / "central.git")


def test_two_offices_changing_the_authority_offline_is_a_conflict_for_a_person(offices, run):
    """Authority versions are signed records numbered in a chain: two offices each writing version n
    cannot both be right, so sync merges neither and changes nothing; the office that has not
    pushed drops its change and makes it again on the merged chain."""
    a = offices.a
    c = offices.clone("c")
    offices.do(a, "staff", "add", "zhouqi", "--name", "周琪", "--dept", "finance", "--as", "sunhao")
    offices.do(c, "staff", "add", "lina", "--name", "李娜", "--dept", "security", "--as", "sunhao")
    offices.ok(offices.sync(a))
    before = git(c, "rev-parse", "HEAD").strip()
    r = offices.sync(c)
    assert r.exit_code == 1 and "authority/0007.yaml" in r.stderr
    assert git(c, "rev-parse", "HEAD").strip() == before and git(c, "status", "--porcelain") == ""
    # Redo it on the central's chain, as `wuye sync --help` says for signed records.
    from wuye.trust.signing import private_key_path

    git(c, "reset", "-q", "--hard", "origin/main")
    (c / ".git" / "wuye" / "verified-head").unlink()  # it names the dropped commit (sync --help)
    offices.do(c, "staff", "add", "lina", "--name", "李娜", "--dept", "security", "--key", private_key_path("lina"), "--as", "sunhao")
    offices.ok(offices.sync(c))
    _verified(run, c)


# --- a fresh clone's first sync: nothing of its own to verify, nothing to integrate ---------------


def _marker(root: Path) -> Path:
    return root / ".git" / "wuye" / "verified-head"


def test_a_fresh_clones_first_sync_verifies_nothing_and_changes_nothing(offices, run):
    # The clone holds only the central's commits and a clean tree: nothing of its own can leave,
    # and nothing new enters. So no verify runs (no verified marker is written: the sync vouches
    # for nothing), and the store, the central and the marker stay as they were.
    b = offices.clone("b")
    _marker(b).unlink(missing_ok=True)
    before, central = snapshot(b), offices.central_head()
    r = offices.sync(b)
    assert r.exit_code == 0, r.stderr
    assert "已是最新" in r.stdout + r.stderr
    assert not _marker(b).exists()
    assert snapshot(b) == before and offices.central_head() == central
    _verified(run, b)  # and the clone does verify, when asked


def _hostile_commit(root: Path, mo: MoveOut) -> str:
    """A signed entry edited and committed with plain git, as an attacker at the machine would."""
    rel = mo.step_rel("notice")
    path = root / rel
    path.write_text(path.read_text(encoding="utf-8").replace("租约到期", "租约期满"), encoding="utf-8")
    plain_git(root, "commit", "-q", "-am", "edit a signed entry")
    return rel


def test_a_hostile_local_commit_in_a_fresh_clone_is_still_refused(offices, run):
    a = offices.a
    offices.moveout(a).start()
    offices.ok(offices.sync(a))
    b = offices.clone("b")
    rel = _hostile_commit(b, offices.moveout(b, case=_case_id(a)))
    before, central = snapshot(b), offices.central_head()

    r = offices.sync(b)
    assert r.exit_code == 1 and "本地档案库未通过 wuye verify" in r.stderr and rel in r.stderr
    assert snapshot(b) == before and offices.central_head() == central


def test_a_hostile_remote_commit_is_still_refused_by_an_office_with_nothing_of_its_own(offices, run):
    # The central was written to behind its hook (a plain `git fetch` into the bare repository):
    # an office with no local commits fast-forwards to it only after verifying the result.
    a = offices.a
    offices.moveout(a).start()
    offices.ok(offices.sync(a))
    b = offices.clone("b")
    rel = _hostile_commit(b, offices.moveout(b, case=_case_id(a)))
    git(offices.central, "fetch", "-q", str(b), "+main:main")
    assert offices.central_head() == git(b, "rev-parse", "HEAD").strip()
    before = snapshot(a)

    r = offices.sync(a)
    assert r.exit_code == 1 and "整合后的结果未通过 wuye verify" in r.stderr and rel in r.stderr
    assert snapshot(a) == before

    c = offices.clone("c")  # a fresh clone of the hostile central: its sync vouches for nothing
    _marker(c).unlink(missing_ok=True)
    assert offices.sync(c).exit_code == 0 and not _marker(c).exists()
    r = run("verify", store=c)
    assert r.exit_code == 1 and rel in r.stdout + r.stderr


def _case_id(root: Path) -> str:
    return sorted(p.name for p in root.glob("tenants/T0001/moveout/*"))[-1]
