"""Finding a complaint or repair by id, and numbering a new one, through the records index.

`servicedesk.find_record` and `_next_id` no longer read every tenant's complaints.yaml or
repairs.yaml on each step: the records index (.git/wuye/index.sqlite, kind desk-ids:<category>)
keeps each file's entry ids and the highest TS-/BX-<year> number it mentions, fresh by stat and
blob id. These tests change files behind the index's back (a hand edit of the same size with its
mtime put back, a record moved to another tenant by hand, a `git pull` of a second office's
work) and check that a record is still found where it is, refused where it is not, and that no
number is handed out twice. The index's rows are aged first (their `seen` time moved back), so
a row is trusted by its stat signature alone, as it is on a store whose files are old, instead
of being re-hashed as a row written in the same second always is.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import git

Y = 2025


def _index(root: Path) -> Path:
    return root / ".git" / "wuye" / "index.sqlite"


def _age_rows(root: Path) -> int:
    """Make every desk-ids row look recorded a minute after its file was last written, so that the
    next command trusts it on its stat signature alone (git's racily-clean rule no longer applies)."""
    with sqlite3.connect(_index(root)) as con:
        n = con.execute("UPDATE files SET seen = seen + 60000000000 WHERE kind LIKE 'desk-ids:%'").rowcount
    assert n > 0  # the step before did go through the index
    return n


def _desk_rows(root: Path, kind: str = "desk-ids:complaints") -> set[str]:
    with sqlite3.connect(_index(root)) as con:
        return {rel for rel, in con.execute("SELECT rel FROM files WHERE kind = ?", (kind,))}


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    """A hand edit of the same size, with the file's mtime put back (as some editors do)."""
    p = root / rel
    st = p.stat()
    text = p.read_text(encoding="utf-8")
    assert len(old.encode()) == len(new.encode()) and old in text
    p.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert p.stat().st_size == st.st_size and p.stat().st_mtime_ns == st.st_mtime_ns


def _open(run, tid: str, at: str, store=None) -> str:
    kw = {} if store is None else {"store": store}
    r = run("complaint", "open", tid, "--channel", "phone", "--text", "空调噪音", "--at", at, "--as", "wangli", **kw)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture
def two(tenant):
    from wuye.archive import dossier as archive

    archive.new(tenant, "T0002", "华锐通达贸易", "1202", "wangli")
    archive.new(tenant, "T0003", "远景咨询", "1203", "wangli")
    return tenant


def test_a_record_renamed_by_hand_behind_the_index_is_found_by_its_new_id_only(two, run, snapshot, refused):
    store = two
    assert _open(run, "T0001", f"{Y}-11-03T09:00") == f"TS-{Y}-0001"
    assert _open(run, "T0002", f"{Y}-11-03T09:10") == f"TS-{Y}-0002"
    r = run("complaint", "assign", f"TS-{Y}-0001", "--dept", "engineering", "--at", f"{Y}-11-03T10:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    assert {"tenants/T0001/complaints.yaml", "tenants/T0002/complaints.yaml"} <= _desk_rows(store.root)
    _age_rows(store.root)
    # TS-2025-0001 becomes TS-2025-0007 in T0001's file: same size, same mtime, only ctime moves.
    _edit(store.root, "tenants/T0001/complaints.yaml", f"TS-{Y}-0001", f"TS-{Y}-0007")
    subprocess.run(["git", "-c", "user.name=某人", "-c", "user.email=x@example.invalid", "commit", "-q", "-am", "hand edit"],
                   cwd=store.root, check=True)
    before = snapshot(store)
    r = run("complaint", "respond", f"TS-{Y}-0001", "--text", "已安排", "--as", "wangli")
    refused(r, "找不到投诉", f"TS-{Y}-0001")
    assert snapshot(store) == before
    r = run("complaint", "respond", f"TS-{Y}-0007", "--text", "已安排", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    from wuye.storage import yamlio

    [e] = yamlio.read(store.path("tenants/T0001/complaints.yaml"), "c")["entries"]
    assert e["id"] == f"TS-{Y}-0007" and e["status"] == "responded" and e["response"] == "已安排"
    # The next number is above the one written by hand.
    assert _open(run, "T0003", f"{Y}-11-04T09:00") == f"TS-{Y}-0008"


def test_a_record_moved_to_another_tenant_by_hand_is_found_there(two, run, refused):
    store = two
    cid = _open(run, "T0001", f"{Y}-11-03T09:00")
    r = run("complaint", "assign", cid, "--dept", "engineering", "--at", f"{Y}-11-03T10:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    _age_rows(store.root)
    # The clerk filed it under the wrong tenant, and moves it by hand.
    src, dst = store.path("tenants/T0001/complaints.yaml"), store.path("tenants/T0003/complaints.yaml")
    text = src.read_text(encoding="utf-8")
    head, sep, body = text.partition("entries:\n")
    assert not dst.exists() and sep
    dst.write_text(text, encoding="utf-8")
    src.write_text(head + "entries: []\n", encoding="utf-8")
    r = run("complaint", "respond", cid, "--text", "已联系", "--at", f"{Y}-11-03T11:00", "--as", "wangli")
    assert r.exit_code == 0, r.stderr
    from conftest import git_log

    c = git_log(store)[0]
    assert c.trailers["Wuye-Tenant"] == "T0003" and c.files == ["tenants/T0003/complaints.yaml"]
    # A copy left behind by hand makes the id ambiguous: refused, naming both tenants.
    _age_rows(store.root)
    src.write_text(head + sep + body, encoding="utf-8")
    r = run("complaint", "resolve", cid, "--result", "已处理", "--as", "wangli")
    refused(r, cid, "2 个租户", f"T0001/{cid}", f"T0003/{cid}")


def test_a_number_mentioned_anywhere_by_hand_is_never_handed_out_again(two, run):
    store = two
    assert _open(run, "T0001", f"{Y}-03-01T09:00") == f"TS-{Y}-0001"
    assert _open(run, "T0002", f"{Y}-03-01T09:10") == f"TS-{Y}-0002"
    _age_rows(store.root)
    # A note in T0002's file cites a complaint number from the paper log, same size, mtime kept.
    _edit(store.root, "tenants/T0002/complaints.yaml", "空调噪音", f"TS-{Y}-0041")
    assert _open(run, "T0003", f"{Y}-03-02T09:00") == f"TS-{Y}-0042"
    # Repairs have their own sequence, through their own rows of the index.
    r = run("repair", "open", "T0001", "--location", "洗手间", "--text", "漏水", "--at", f"{Y}-03-02T10:00", "--as", "wangli")
    assert r.stdout.strip() == f"BX-{Y}-0001"
    r = run("repair", "open", "T0002", "--location", "大堂", "--text", "灯不亮", "--at", f"{Y}-03-02T10:05", "--as", "wangli")
    assert r.stdout.strip() == f"BX-{Y}-0002"
    assert _desk_rows(store.root, "desk-ids:repairs") == {"tenants/T0001/repairs.yaml"}  # the one file there was
    # The same with no index at all: the files are read directly and agree.
    r = run("complaint", "open", "T0001", "--channel", "phone", "--text", "x", "--at", f"{Y}-03-03T09:00", "--as", "wangli",
            env={"WUYE_NO_CACHE": "1"})
    assert r.stdout.strip() == f"TS-{Y}-0043"
    r = run("complaint", "assign", f"TS-{Y}-0043", "--dept", "engineering", "--at", f"{Y}-03-03T10:00", "--as", "wangli",
            env={"WUYE_NO_CACHE": "1"})
    assert r.exit_code == 0, r.stderr


def test_an_unreadable_file_is_still_named_when_it_may_hold_the_id(two, run, refused):
    store = two
    cid = _open(run, "T0001", f"{Y}-03-01T09:00")
    _open(run, "T0002", f"{Y}-03-01T09:10")
    _age_rows(store.root)
    # T0002's file broken by hand (a tab), with the id in it: only the file can say, and it is named.
    p = store.path("tenants/T0002/complaints.yaml")
    p.write_text(p.read_text(encoding="utf-8").replace(f"TS-{Y}-0002", cid).replace("  - id:", "\t- id:", 1), encoding="utf-8")
    r = run("complaint", "assign", cid, "--dept", "engineering", "--as", "wangli")
    refused(r, "tenants/T0002/complaints.yaml")


def test_a_second_offices_ids_after_a_merge_still_work(two, run, tmp_path, refused):
    """Two offices open complaints offline and hand out the same numbers, in one shared file and
    in different tenants' files. After `git pull` (the merge driver renumbers this side's colliding
    entry of the shared file, rewriting it behind the index), every record is found, a number held
    by several tenants is refused as ambiguous and then named as TENANT/ID, and the next number is
    above all of them."""
    from wuye.storage import yamlio
    from wuye.storage.store import Store
    from wuye.sync.offices import configure

    a = two
    assert _open(run, "T0001", f"{Y}-05-01T09:00") == f"TS-{Y}-0001"
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(a.root), str(other))
    configure(other)
    b = Store(other)
    assert _open(run, "T0002", f"{Y}-05-02T09:00", a) == f"TS-{Y}-0002"
    assert _open(run, "T0003", f"{Y}-05-02T09:05", a) == f"TS-{Y}-0003"
    assert _open(run, "T0002", f"{Y}-05-02T09:10", b) == f"TS-{Y}-0002"  # the same file as a's 0002
    assert _open(run, "T0001", f"{Y}-05-02T09:15", b) == f"TS-{Y}-0003"
    _age_rows(other)
    p = subprocess.run(["git", "-c", "user.name=某人", "-c", "user.email=x@example.invalid", "pull", "-q", "--no-edit"],
                       cwd=other, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr

    def ids(tid):
        return [(e["id"], e["received_at"][11:16]) for e in yamlio.read(other / f"tenants/{tid}/complaints.yaml", "c")["entries"]]

    # a's entry (already published) kept its number; b's was renumbered after it.
    assert ids("T0002") == [(f"TS-{Y}-0002", "09:00"), (f"TS-{Y}-0003", "09:10")]
    assert ids("T0001") == [(f"TS-{Y}-0001", "09:00"), (f"TS-{Y}-0003", "09:15")]
    assert ids("T0003") == [(f"TS-{Y}-0003", "09:05")]
    r = run("complaint", "respond", f"TS-{Y}-0002", "--text", "已回复", "--at", f"{Y}-05-03T09:00", "--as", "wangli", store=b)
    assert r.exit_code == 0, r.stderr
    from conftest import git_log

    assert git_log(b)[0].files == ["tenants/T0002/complaints.yaml"]
    r = run("complaint", "respond", f"TS-{Y}-0003", "--text", "已回复", "--at", f"{Y}-05-03T09:00", "--as", "wangli", store=b)
    refused(r, f"TS-{Y}-0003", "3 个租户", f"T0001/TS-{Y}-0003", f"T0002/TS-{Y}-0003", f"T0003/TS-{Y}-0003")
    for tid in ("T0001", "T0002", "T0003"):
        r = run("complaint", "respond", f"{tid}/TS-{Y}-0003", "--text", "已回复", "--at", f"{Y}-05-03T09:10", "--as", "wangli",
                store=b)
        assert r.exit_code == 0, (tid, r.stderr)
        assert git_log(b)[0].files == [f"tenants/{tid}/complaints.yaml"]
    assert _open(run, "T0003", f"{Y}-05-04T09:00", b) == f"TS-{Y}-0004"


def test_index_texts_reads_a_file_again_only_when_it_changed(tmp_path):
    """storage/index.py `texts`, which the desk reads its ids through: a row is trusted on its stat
    signature once aged, a same-size edit with its mtime put back is still seen (ctime), an
    unchanged rewrite keeps the row by blob id, an absent file is None and its row dropped, a link
    is handed to the parse as None and never remembered."""
    from wuye.storage import index

    root = tmp_path / "store"
    (root / "t").mkdir(parents=True)
    git(tmp_path, "init", "-q", str(root))
    (root / "t" / "a.yaml").write_text("one\n", encoding="utf-8")
    (root / "t" / "b.yaml").write_text("two\n", encoding="utf-8")
    (root / "t" / "link.yaml").symlink_to("a.yaml")
    rels = ["t/a.yaml", "t/b.yaml", "t/gone.yaml", "t/link.yaml"]
    seen: list[tuple[str, bytes | None]] = []

    def parse(_root, items):
        seen.extend(items)
        return ["-" if raw is None else raw.decode().upper() for _, raw in items]

    assert index.texts(root, "test:texts", rels, parse) == {"t/a.yaml": "ONE\n", "t/b.yaml": "TWO\n", "t/gone.yaml": None,
                                                            "t/link.yaml": "-"}
    assert sorted(seen) == [("t/a.yaml", b"one\n"), ("t/b.yaml", b"two\n"), ("t/link.yaml", None)]
    with sqlite3.connect(_index(root)) as con:
        assert {r for r, in con.execute("SELECT rel FROM files WHERE kind='test:texts'")} == {"t/a.yaml", "t/b.yaml"}
        con.execute("UPDATE files SET seen = seen + 60000000000 WHERE kind='test:texts'")
    seen.clear()
    _edit(root, "t/a.yaml", "one", "uno")  # same size, mtime put back
    (root / "t" / "b.yaml").write_text("two\n", encoding="utf-8")  # rewritten, the same bytes
    got = index.texts(root, "test:texts", rels, parse)
    assert got["t/a.yaml"] == "UNO\n" and got["t/b.yaml"] == "TWO\n"
    assert sorted(seen) == [("t/a.yaml", b"uno\n"), ("t/link.yaml", None)]  # b kept by its blob id
    (root / "t" / "b.yaml").unlink()
    assert index.texts(root, "test:texts", rels, parse)["t/b.yaml"] is None
    with sqlite3.connect(_index(root)) as con:
        assert {r for r, in con.execute("SELECT rel FROM files WHERE kind='test:texts'")} == {"t/a.yaml"}
