"""The merge driver (`wuye merge-driver %O %A %B %P`): archive files merged entry by entry.

Most tests call `merging.merge_texts(base, ours, theirs, path)` on inline YAML; the last ones run
the driver as git runs it (through the CLI on three files, and through a real `git merge` in two
clones of a store), checking the exit code, the file it leaves, and what it says.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import git
from wuye.sync import merging
from wuye.storage import yamlio

CONTACTS = "tenants/T0001/contacts.yaml"
PROFILE = "tenants/T0001/profile.yaml"
COMPLAINTS = "tenants/T0001/complaints.yaml"


def y(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def contact(eid: str, name: str, at: str = "2026-03-01T09:00:00+08:00", **extra) -> str:
    lines = [f"  - id: {eid}", f"    name: {name}", "    phone: '13800000000'"]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    lines += ["    recorded_by: wangli", f"    recorded_at: '{at}'"]
    return "\n".join(lines) + "\n"


def contacts(*entries: str, comment: str = "# 6. 客户联络资料 / Contacts\n") -> str:
    return comment + "entries:\n" + "".join(entries)


def ids(text: str) -> list[tuple[str, str]]:
    return [(e["id"], e["name"]) for e in yamlio.loads(text, "x")["entries"]]


BASE = contacts(contact("CON-0001", "李明"), contact("CON-0002", "王芳"))


# --- list categories ---------------------------------------------------------------------------


def test_entries_appended_on_both_sides_are_all_kept_and_ours_renumbered():
    ours = BASE + contact("CON-0003", "张三", "2026-03-02T10:00:00+08:00") + contact("CON-0004", "赵四")
    theirs = BASE + contact("CON-0003", "钱五", "2026-03-02T09:00:00+08:00")
    m = merging.merge_texts(BASE, ours, theirs, CONTACTS)
    assert m.clean
    # The other side's entry keeps its id (it is already published); ours follow, renumbered in order.
    assert ids(m.text) == [("CON-0001", "李明"), ("CON-0002", "王芳"), ("CON-0003", "钱五"),
                           ("CON-0004", "张三"), ("CON-0005", "赵四")]
    assert [(r.old, r.new) for r in m.renumbered] == [("CON-0003", "CON-0004"), ("CON-0004", "CON-0005")]
    assert m.text.startswith("# 6. 客户联络资料 / Contacts\n")  # the file's comment survives
    assert "CON-0003" in m.renumbered[0].describe() and "CON-0004" in m.renumbered[0].describe()


def test_no_collision_no_renumbering_and_the_same_entry_added_twice_is_kept_once():
    ours = BASE + contact("CON-0003", "张三")
    m = merging.merge_texts(BASE, ours, BASE, CONTACTS)
    assert ids(m.text)[-1] == ("CON-0003", "张三") and not m.renumbered
    m = merging.merge_texts(BASE, ours, ours, CONTACTS)
    assert ids(m.text) == ids(ours) and not m.renumbered


def test_an_edit_on_one_side_and_an_append_on_the_other_both_survive():
    edited = BASE.replace("name: 王芳", "name: 王芳芳")
    m = merging.merge_texts(BASE, edited, BASE + contact("CON-0003", "张三"), CONTACTS)
    assert m.clean
    assert ids(m.text) == [("CON-0001", "李明"), ("CON-0002", "王芳芳"), ("CON-0003", "张三")]


def test_the_same_entry_edited_two_ways_is_a_conflict_with_both_versions():
    ours = BASE.replace("name: 王芳", "name: 王芳芳")
    theirs = BASE.replace("name: 王芳", "name: 王方")
    m = merging.merge_texts(BASE, ours, theirs, CONTACTS)
    assert not m.clean and m.text is None
    [c] = m.conflicts
    assert (c.where, c.ours, c.theirs) == ("entries[CON-0002].name", "王芳芳", "王方")
    # Both versions are shown, masked as on screen: a conflict message is stderr, never revealed data.
    assert "王**" in c.describe() and "王*" in c.describe() and "王芳芳" not in c.describe() and "王方" not in c.describe()
    # A side chosen by --resolve settles it at that value only.
    assert ids(merging.merge_texts(BASE, ours, theirs, CONTACTS, prefer="theirs").text)[1] == ("CON-0002", "王方")
    assert ids(merging.merge_texts(BASE, ours, theirs, CONTACTS, prefer="ours").text)[1] == ("CON-0002", "王芳芳")


def test_deleted_on_one_side_and_changed_on_the_other_is_a_conflict():
    theirs = contacts(contact("CON-0001", "李明"))
    ours = BASE.replace("name: 王芳", "name: 王芳芳")
    m = merging.merge_texts(BASE, ours, theirs, CONTACTS)
    assert [c.where for c in m.conflicts] == ["entries[CON-0002]"]
    # Deleted on one side, untouched on the other: deleted.
    m = merging.merge_texts(BASE, BASE, theirs, CONTACTS)
    assert ids(m.text) == [("CON-0001", "李明")]


def test_a_file_created_on_both_sides_merges_from_an_empty_base():
    ours = contacts(contact("CON-0001", "张三"))
    theirs = contacts(contact("CON-0001", "钱五"))
    m = merging.merge_texts("", ours, theirs, CONTACTS)
    assert ids(m.text) == [("CON-0001", "钱五"), ("CON-0002", "张三")]


def test_a_collision_on_an_entry_cited_by_a_signed_entry_is_not_renumbered_silently():
    base = "entries: []\n"
    ours = "entries:\n  - id: PAY-0001\n    item: 租赁押金\n"
    theirs = "entries:\n  - id: PAY-0001\n    item: 物业管理费\n"
    cites = {("payments.yaml", "PAY-0001"): ["tenants/T0001/moveout/MO-2026-0001/steps/settlement.yaml"]}

    def cited(filename, entry_id):
        return cites.get((filename, entry_id), [])

    m = merging.merge_texts(base, ours, theirs, "tenants/T0001/payments.yaml", cited=cited)
    [c] = m.conflicts
    assert c.where == "entries[PAY-0001]" and "settlement.yaml" in c.reason and "--resolve theirs" in c.reason
    # --resolve theirs accepts the renumbering, and the notice names the entry to correct.
    m = merging.merge_texts(base, ours, theirs, "tenants/T0001/payments.yaml", prefer="theirs", cited=cited)
    assert [e["id"] for e in yamlio.loads(m.text, "x")["entries"]] == ["PAY-0001", "PAY-0002"]
    [r] = m.renumbered
    assert r.cited_by == ["tenants/T0001/moveout/MO-2026-0001/steps/settlement.yaml"]
    assert "settlement.yaml" in r.describe()
    # ours cannot win: the other side's id is already published.
    assert not merging.merge_texts(base, ours, theirs, "tenants/T0001/payments.yaml", prefer="ours", cited=cited).clean


# --- one-record categories ---------------------------------------------------------------------

PROFILE_BASE = y("""
    # 1. 客户单位资料 / Company profile
    tenant_id: T0001
    name: 柏彦科技
    units:
      - '1205'
    status: active
    updated_by: wangli
    updated_at: '2026-03-01T09:00:00+08:00'
""")


def test_different_fields_of_a_profile_merge_and_the_later_stamp_wins():
    ours = PROFILE_BASE.replace("status: active\n", "status: active\nheadcount: 20\n").replace("09:00:00", "10:00:00")
    theirs = PROFILE_BASE.replace("status: active\n", "status: active\nindustry: 软件\n").replace("09:00:00", "11:00:00") \
        .replace("updated_by: wangli", "updated_by: zhaomin")
    m = merging.merge_texts(PROFILE_BASE, ours, theirs, PROFILE)
    assert m.clean
    data = yamlio.loads(m.text, "x")
    assert data["headcount"] == 20 and data["industry"] == "软件"
    assert (data["updated_by"], data["updated_at"]) == ("zhaomin", "2026-03-01T11:00:00+08:00")
    assert list(data)[-2:] == ["updated_by", "updated_at"]  # new fields go before the stamps
    # The same, merged the other way round, gives the same values.
    assert yamlio.loads(merging.merge_texts(PROFILE_BASE, theirs, ours, PROFILE).text, "x") == data


def test_the_same_field_of_a_profile_changed_two_ways_is_a_conflict():
    ours = PROFILE_BASE.replace("name: 柏彦科技", "name: 柏彦科技有限公司")
    theirs = PROFILE_BASE.replace("name: 柏彦科技", "name: 北京柏彦科技")
    m = merging.merge_texts(PROFILE_BASE, ours, theirs, PROFILE)
    assert [(c.where, c.ours, c.theirs) for c in m.conflicts] == [("name", "柏彦科技有限公司", "北京柏彦科技")]


# --- a complaint handled in two offices --------------------------------------------------------

COMPLAINT_BASE = y("""
    entries:
      - id: TS-2026-0001
        received_at: '2026-03-01T09:00:00+08:00'
        channel: phone
        description: 电梯等候过久
        status: open
        recorded_by: wangli
        recorded_at: '2026-03-01T09:00:00+08:00'
        history:
          - at: '2026-03-01T09:00:00+08:00'
            by: wangli
            action: open
            status: open
""")


def test_two_transitions_of_one_complaint_keep_both_events_and_the_later_state():
    assign = COMPLAINT_BASE.replace("    status: open\n", "    assigned_dept: engineering\n    status: assigned\n", 1) \
        + "      - at: '2026-03-01T10:00:00+08:00'\n        by: wangli\n        action: assign\n        status: assigned\n"
    respond = COMPLAINT_BASE.replace("    status: open\n", "    response: 已联系电梯公司\n    status: responded\n", 1) \
        + "      - at: '2026-03-01T11:00:00+08:00'\n        by: zhaomin\n        action: respond\n        status: responded\n"
    for ours, theirs in ((assign, respond), (respond, assign)):
        m = merging.merge_texts(COMPLAINT_BASE, ours, theirs, COMPLAINTS)
        assert m.clean, m.conflicts
        [entry] = yamlio.loads(m.text, "x")["entries"]
        assert [e["action"] for e in entry["history"]] == ["open", "assign", "respond"]  # in time order
        assert entry["status"] == "responded"  # as replaying the events gives
        assert entry["assigned_dept"] == "engineering" and entry["response"] == "已联系电梯公司"


# --- allowed_signers and unreadable versions ---------------------------------------------------


def test_allowed_signers_keeps_every_added_key_sorted_by_principal():
    head = "# generated\n"
    base = head + "liuyang k1\nwangli k2\n"
    m = merging.merge_texts(base, base + "zhaomin k3\n", head + "chenjing k4\nliuyang k1\nwangli k2\n", "allowed_signers")
    assert m.text == head + "chenjing k4\nliuyang k1\nwangli k2\nzhaomin k3\n"


def test_a_version_with_an_anchor_is_left_to_gits_line_merge():
    with pytest.raises(merging.Unmergeable):
        merging.merge_texts(BASE, BASE + "x: &a 1\ny: *a\n", BASE, CONTACTS)


# --- the driver as git runs it -----------------------------------------------------------------


def _files(tmp_path: Path, base: str, ours: str, theirs: str) -> list[Path]:
    paths = []
    for name, text in (("O", base), ("A", ours), ("B", theirs)):
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


def test_the_driver_writes_the_merge_into_A_and_exits_0(run, tmp_path):
    o, a, b = _files(tmp_path, BASE, BASE + contact("CON-0003", "张三"), BASE + contact("CON-0003", "钱五"))
    r = run("merge-driver", o, a, b, CONTACTS, store=None)
    assert r.exit_code == 0, r.stderr
    assert ids(a.read_text(encoding="utf-8"))[2:] == [("CON-0003", "钱五"), ("CON-0004", "张三")]
    assert "CON-0004" in r.stderr  # the renumbering is told


def test_the_driver_leaves_conflict_markers_and_exits_1_on_a_conflict(run, tmp_path):
    ours = PROFILE_BASE.replace("name: 柏彦科技", "name: 柏彦科技有限公司")
    theirs = PROFILE_BASE.replace("name: 柏彦科技", "name: 北京柏彦科技")
    o, a, b = _files(tmp_path, PROFILE_BASE, ours, theirs)
    r = run("merge-driver", o, a, b, PROFILE, store=None)
    assert r.exit_code == 1
    text = a.read_text(encoding="utf-8")
    assert "<<<<<<<" in text and "柏彦科技有限公司" in text and "北京柏彦科技" in text
    assert "name" in r.stderr and "北京柏彦科技" in r.stderr


def test_the_driver_follows_wuye_sync_resolve_and_notes_what_it_did(run, tmp_path, monkeypatch):
    ours = PROFILE_BASE.replace("name: 柏彦科技", "name: 柏彦科技有限公司")
    theirs = PROFILE_BASE.replace("name: 柏彦科技", "name: 北京柏彦科技")
    o, a, b = _files(tmp_path, PROFILE_BASE, ours, theirs)
    notes = tmp_path / "notes.jsonl"
    monkeypatch.setenv(merging.RESOLVE_ENV, json.dumps({PROFILE: "theirs"}))
    monkeypatch.setenv(merging.NOTES_ENV, str(notes))
    assert run("merge-driver", o, a, b, PROFILE, store=None).exit_code == 0
    assert yamlio.loads(a.read_text(encoding="utf-8"), "x")["name"] == "北京柏彦科技"
    assert [json.loads(line) for line in notes.read_text(encoding="utf-8").splitlines()] == \
        [{"kind": "resolved", "path": PROFILE, "where": "name"}]


def test_init_registers_the_driver_in_the_repository_config_and_gitattributes(store):
    assert git(store.root, "config", "merge.wuye.driver").strip().endswith("-m wuye merge-driver %O %A %B %P")
    assert git(store.root, "check-attr", "merge", "--", CONTACTS, "tenants/T0001/moveout/MO-2026-0001/steps/notice.yaml",
               "units/1205.yaml", "allowed_signers").splitlines() == [
        f"{CONTACTS}: merge: wuye",
        "tenants/T0001/moveout/MO-2026-0001/steps/notice.yaml: merge: unspecified",  # git's own merge for signed entries
        "units/1205.yaml: merge: wuye",
        "allowed_signers: merge: wuye",
    ]
    assert ".gitattributes" in git(store.root, "show", "--name-only", "--format=", git(store.root, "rev-list", "--max-parents=0", "HEAD").strip())


def test_a_plain_git_pull_merges_appended_entries(tenant, tmp_path):
    """Two clones append to one tenant's contacts; `git pull` (no wuye sync) merges them."""
    from wuye.archive import dossier as archive
    from wuye.storage.store import Store
    from wuye.sync.offices import configure

    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(tenant.root), str(other))
    configure(other)
    archive.add(tenant, "T0001", "contacts", "wangli", sets=["name=李明", "phone=13812345678"])
    archive.add(Store(other), "T0001", "contacts", "wangli", sets=["name=张三", "phone=13912345678"])
    p = subprocess.run(["git", "-c", "user.name=某人", "-c", "user.email=someone@example.invalid", "pull", "-q", "--no-edit"],
                       cwd=other, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "CON-0001" in p.stderr and "CON-0002" in p.stderr  # the driver tells what it renumbered
    assert ids((other / CONTACTS).read_text(encoding="utf-8")) == [("CON-0001", "李明"), ("CON-0002", "张三")]
    assert git(other, "status", "--porcelain") == ""


def test_cited_in_head_finds_signed_entries_citing_an_entry(tenant):
    """What the driver asks git before renumbering: `git grep` of HEAD under the tenant's cases."""
    rel = "tenants/T0001/moveout/MO-2026-0001/steps/settlement.yaml"
    (tenant.root / rel).parent.mkdir(parents=True)
    (tenant.root / rel).write_text("data:\n  lines:\n    - source: payments.yaml#PAY-0001\n", encoding="utf-8")
    subprocess.run(["git", "add", rel], cwd=tenant.root, check=True)
    subprocess.run(["git", "-c", "user.name=x", "-c", "user.email=x@x.invalid", "commit", "-q", "-m", "x"], cwd=tenant.root, check=True)
    cited = merging.cited_in_head(tenant.root, "tenants/T0001")
    assert cited("payments.yaml", "PAY-0001") == [rel]
    assert cited("payments.yaml", "PAY-0002") == [] and cited("violations.yaml", "PAY-0001") == []
    assert merging.cited_in_head(tenant.root, "tenants/T0002")("payments.yaml", "PAY-0001") == []
