"""The records index (.git/wuye/index.sqlite) never answers other than the files: a report read
from it equals the report computed from the files (WUYE_NO_CACHE=1) after a hand edit, a
`git pull`, a `git checkout` of an older commit, with the index deleted, damaged, from other
code, and with two processes filling it at once."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import git

RECORDS = Path(__file__).resolve().parent.parent / "records"
AS_OF = "2026-11-30T00:00"
REPORTS = ("arrears", "complaints", "repairs", "satisfaction", "completeness")
FEE = "tenants/T0001/payments.yaml"


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    p = subprocess.run(["git", "-c", "user.name=wuye test", "-c", "user.email=test@wuye.invalid", "commit", "-q", "-m", message],
                       cwd=root, capture_output=True, text=True)
    assert p.returncode == 0, (p.stdout, p.stderr)


@pytest.fixture
def sample(tmp_path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(RECORDS, root)
    git(tmp_path, "init", "-q", str(root))
    commit(root, "sample store")
    return root


def wuye(root: Path, *args: str, cached: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "WUYE_NO_CACHE"}
    if not cached:
        env["WUYE_NO_CACHE"] = "1"
    return subprocess.run([sys.executable, "-m", "wuye", "--store", str(root), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def report(root: Path, name: str, cached: bool = True) -> dict:
    args = ["report", name, "--json"] + ([] if name == "completeness" else ["--as-of", AS_OF])
    p = wuye(root, *args, cached=cached)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    if name == "completeness":
        out.pop("as_of")  # the archive as it is now: measured at the moment of running
    return out


def index_path(root: Path) -> Path:
    return root / ".git" / "wuye" / "index.sqlite"


def delete_index(root: Path) -> None:
    """What a user may do while no wuye runs: delete the index, with its WAL files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index_path(root)}{suffix}").unlink(missing_ok=True)


def rows(root: Path) -> dict[str, str]:
    with sqlite3.connect(index_path(root)) as con:
        return dict(con.execute("SELECT rel, blob FROM files"))


def same_as_files(root: Path, names=REPORTS) -> dict:
    out = {}
    for name in names:
        out[name] = report(root, name)
        assert out[name] == report(root, name, cached=False), name
    return out


def edit_fee(root: Path, old: str, new: str, keep_mtime: bool = False) -> None:
    """Change T0001's first fee payment by hand, to a text of the same size; `keep_mtime` puts
    the file's mtime back (as some editors and copy tools do; git itself then misses an edit
    made in the same second as its index, which ctime to the nanosecond does not)."""
    p = root / FEE
    st = p.stat()
    text = p.read_text(encoding="utf-8")
    assert len(old) == len(new) and text.count(f"paid: '{old}'") >= 1
    p.write_text(text.replace(f"paid: '{old}'", f"paid: '{new}'", 1), encoding="utf-8")
    if keep_mtime:
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))


def total(rep: dict) -> Decimal:
    return Decimal(rep["summary"]["total"])


def test_reports_from_the_index_equal_reports_from_the_files(sample):
    first = same_as_files(sample)
    assert index_path(sample).is_file()
    indexed = rows(sample)
    # Every list file the reports read is indexed, by the blob id git gives its bytes.
    assert indexed[FEE] == git(sample, "hash-object", FEE).strip()
    assert any(rel.endswith("/complaints.yaml") for rel in indexed)
    # A second run reads the index and answers the same.
    assert same_as_files(sample) == first
    assert first["arrears"]["summary"]["tenants"] > 0 and first["complaints"]["summary"]["received"] > 0


def test_a_hand_edit_behind_the_index_is_read(sample):
    before = report(sample, "arrears")
    time.sleep(2.1)  # past the racy window: the rows' stat signatures are now trusted
    edit_fee(sample, "46807.80", "46807.70", keep_mtime=True)  # ten fen now unpaid
    after = same_as_files(sample, ["arrears"])["arrears"]
    assert total(after) - total(before) == Decimal("0.10")
    assert rows(sample)[FEE] == git(sample, "hash-object", FEE).strip()


def test_a_checkout_of_an_older_commit_is_read(sample):
    before = report(sample, "arrears")
    edit_fee(sample, "46807.80", "40000.00")
    commit(sample, "fee edited")
    edited = same_as_files(sample, ["arrears"])["arrears"]
    assert total(edited) - total(before) == Decimal("6807.80")
    git(sample, "checkout", "-q", "HEAD~1", "--", ".")
    assert same_as_files(sample, ["arrears"])["arrears"] == before
    git(sample, "checkout", "-q", "HEAD", "--", ".")
    assert report(sample, "arrears") == edited


def test_a_pull_is_read(sample, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(sample), str(clone))
    before = same_as_files(clone, ["arrears", "complaints"])
    edit_fee(sample, "46807.80", "46000.00")
    # A complaint gone from the office that pushed: the clone must stop counting it.
    comp = sample / "tenants/T0001/complaints.yaml"
    comp.write_text("entries: []\n", encoding="utf-8")
    commit(sample, "fee and complaints edited")
    git(clone, "pull", "-q", "--ff-only")
    after = same_as_files(clone, ["arrears", "complaints"])
    assert total(after["arrears"]) - total(before["arrears"]) == Decimal("807.80")
    assert after["complaints"]["summary"]["received"] < before["complaints"]["summary"]["received"]


def test_a_file_read_by_two_kinds_of_work_keeps_a_row_for_each(sample):
    # The reports keep a complaints file as briefs, `complaint list` as validated entries: one
    # must not evict the other (each run would parse every file again).
    rel = "tenants/T0001/complaints.yaml"
    for _ in range(2):
        assert report(sample, "complaints")["summary"]["received"] > 0
        assert wuye(sample, "complaint", "list", "--json").returncode == 0
    with sqlite3.connect(index_path(sample)) as con:
        kinds = sorted(k for k, in con.execute("SELECT kind FROM files WHERE rel=?", (rel,)))
    assert kinds[0].startswith("brief:complaints:") and kinds[1] == "entries:complaints" and len(kinds) == 2


def test_briefs_follow_the_staff_files_and_the_old_ones_are_dropped(sample):
    # A brief's timeline may name a department from staff/ (an older repair's assignee): its rows
    # are filed under a digest of the staff files and wuye.yaml, and a change files them anew.
    def kinds() -> list[str]:
        with sqlite3.connect(index_path(sample)) as con:
            return sorted(k for k, in con.execute("SELECT DISTINCT kind FROM files WHERE kind LIKE 'brief:repairs:%'"))

    first = same_as_files(sample, ["repairs"])["repairs"]
    (old,) = kinds()
    staff = sorted((sample / "staff").glob("*.yaml"))[0]
    staff.write_text(staff.read_text(encoding="utf-8") + "# 备注\n", encoding="utf-8")
    assert same_as_files(sample, ["repairs"])["repairs"] == first
    (new,) = kinds()
    assert new != old  # filed anew, and the old rows gone


@pytest.mark.parametrize("damage", ["deleted", "garbage", "truncated", "other code"])
def test_a_missing_damaged_or_foreign_index_is_rebuilt(sample, damage):
    first = same_as_files(sample, ["arrears", "repairs"])
    p = index_path(sample)
    if damage == "deleted":
        delete_index(sample)
    elif damage == "garbage":
        p.write_bytes(b"not a database at all\n" * 100)
    elif damage == "truncated":
        p.write_bytes(p.read_bytes()[:1500])
    else:
        with sqlite3.connect(p) as con:
            con.execute("UPDATE meta SET value='0 another version' WHERE key='code'")
            # A row that this code would never have made: it must not survive.
            con.execute("UPDATE files SET blob='0' * 1, value=NULL WHERE rel=?", (FEE,))
    edit_fee(sample, "46807.80", "46807.79")
    second = same_as_files(sample, ["arrears", "repairs"])
    assert total(second["arrears"]) - total(first["arrears"]) == Decimal("0.01")
    assert second["repairs"] == first["repairs"]
    assert rows(sample)[FEE] == git(sample, "hash-object", FEE).strip()


def test_a_damaged_index_in_use_by_another_process_is_left_to_it(sample):
    """Deleting a WAL database under an open connection loses that connection's commits (and
    can leave a file without tables): a damaged index is deleted only by a process alone with it."""
    import fcntl

    first = same_as_files(sample, ["arrears"])
    p = index_path(sample)
    p.write_bytes(b"not a database at all\n" * 100)
    held = os.open(f"{p}.lock", os.O_RDWR)  # what every open connection holds
    try:
        fcntl.flock(held, fcntl.LOCK_SH)
        assert report(sample, "arrears") == first["arrears"]  # from the files
        assert p.read_bytes().startswith(b"not a database")  # not deleted under the other user
    finally:
        os.close(held)
    assert report(sample, "arrears") == first["arrears"]
    assert rows(sample)  # alone with it, the next process rebuilt it


def test_two_processes_filling_the_index_at_once_stay_consistent(sample):
    expected = {name: report(sample, name, cached=False) for name in ("arrears", "repairs")}
    for rnd in range(3):
        delete_index(sample)
        if rnd:
            edit_fee(sample, "46807.80" if rnd == 1 else "46807.00", "46807.00" if rnd == 1 else "46807.80")
            expected = {name: report(sample, name, cached=False) for name in expected}
        env = {k: v for k, v in os.environ.items() if k != "WUYE_NO_CACHE"}
        procs = [subprocess.Popen([sys.executable, "-m", "wuye", "--store", str(sample), "report", name, "--json", "--as-of", AS_OF],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for name in ("arrears", "repairs", "arrears", "repairs")]
        outs = [p.communicate(timeout=300) for p in procs]
        assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
        for (out, _), name in zip(outs, ("arrears", "repairs", "arrears", "repairs")):
            assert json.loads(out) == expected[name]
        # Every row names the blob the file holds now.
        indexed = rows(sample)
        assert indexed
        for rel, blob in indexed.items():
            assert blob == git(sample, "hash-object", rel).strip(), rel
        assert same_as_files(sample, ["arrears", "repairs"]) == expected


BIG = os.environ.get("WUYE_BIG_TESTS", "") not in ("", "0")


def output(root: Path, *args: str, cached: bool = True) -> str:
    p = wuye(root, *args, cached=cached)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.slow
@pytest.mark.skipif(not BIG, reason="a 1,000-tenant store: WUYE_BIG_TESTS=1 runs it (bench/make_store.py 1000 is reused)")
def test_a_generated_store_of_1000_tenants_reports_the_same_from_the_index(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        import make_store
    finally:
        sys.path.pop(0)
    os.environ.setdefault("WUYE_BENCH_CASES", "0")
    info = make_store.ensure(1000)
    root = tmp_path / "store"
    git(tmp_path, "clone", "-q", info["store"], str(root))
    views = [("archive", "list", "--json"), ("archive", "show", info["pinyin_query"], "--json"),
             ("todo", "--as", "wangli", "--json", "--as-of", AS_OF), ("report", "leases", "--json", "--as-of", AS_OF),
             ("report", "moveouts", "--json", "--as-of", AS_OF)]

    def same_everywhere() -> dict:
        out = {}
        for name in REPORTS:
            out[name] = report(root, name)  # fills the index, or reads it
            assert out[name] == report(root, name) == report(root, name, cached=False), name
        for args in views:
            out[args] = output(root, *args)
            assert out[args] == output(root, *args) == output(root, *args, cached=False), args
        return out

    first = same_everywhere()
    assert Decimal(first["arrears"]["summary"]["total"]) > 0 and first["complaints"]["summary"]["received"] > 100
    # A payments file and a profile edited by hand, past the racy window, the mtime put back.
    time.sleep(2.1)
    tid = info["tenant"]
    pay = root / "tenants" / tid / "payments.yaml"
    st = pay.stat()
    text = pay.read_text(encoding="utf-8")
    unpaid = "  - id: PAY-9999\n    kind: fee\n    item: 物业管理费\n    period: '2026-Q1'\n    amount: '123.45'\n"
    pay.write_text(text.replace("entries:\n", "entries:\n" + unpaid, 1), encoding="utf-8")
    os.utime(pay, ns=(st.st_atime_ns, st.st_mtime_ns))
    prof = root / "tenants" / tid / "profile.yaml"
    prof.write_text(prof.read_text(encoding="utf-8").replace("status: active", "status: moved_out"), encoding="utf-8")
    edited = same_everywhere()
    assert Decimal(edited["arrears"]["summary"]["total"]) - Decimal(first["arrears"]["summary"]["total"]) == Decimal("123.45")
    # The hand edits undone by a checkout of what git holds: the first answers again.
    git(root, "checkout", "-q", "HEAD", "--", ".")
    assert same_everywhere() == first
    # An older commit checked out: read again, and the same from the files.
    git(root, "checkout", "-q", "HEAD~20", "--", "tenants")
    older = same_everywhere()
    assert older["repairs"] != first["repairs"]
