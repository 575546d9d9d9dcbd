"""A large store document is merged by worker processes (transfer/importing.py: _dossier_batch),
each file staged as soon as it is made (Store.Change.stage), and its blobs committed through `git
fast-import` (storage/git.py: _blobs). What that writes must be byte for byte what one process
writes; a refusal must say the same, in the same order, and leave nothing behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import git
from test_export import fresh_store
from test_transfer_stream import _without_seals

from wuye.storage import git as audit
from wuye.transfer import importing

N = 260  # past importing.PARALLEL_DOSSIERS; four files each, past git.PACK_MIN
STAMP = {"recorded_by": "liuyang", "recorded_at": "2026-01-05T09:00:00+08:00"}


def test_the_sizes_reach_the_parallel_paths():
    assert N >= importing.PARALLEL_DOSSIERS and 4 * N >= audit.PACK_MIN


def _document(bad: dict[int, dict] | None = None) -> dict:
    tenants = []
    for i in range(1, N + 1):
        tenants.append({
            "tenant_id": f"T{i:04d}",
            "profile": {"name": f"北京测试{i}号科技有限公司", "units": [], "updated_by": "liuyang",
                        "updated_at": "2026-01-05T09:00:00+08:00"},
            "contacts": {"entries": [{"id": "CON-0001", "name": f"联系人{i}", "phone": f"1381234{i:04d}", "primary": True, **STAMP}]},
            "payments": {"entries": [
                {"id": "PAY-0001", "kind": "fee", "item": "物业管理费", "period": "2026-01", "amount": f"{1000 + i}.50",
                 "paid": f"{1000 + i}.50", "paid_on": "2026-01-08", "receipt_no": f"R{i:05d}", **STAMP},
                {"id": "PAY-0002", "kind": "deposit", "item": "租赁押金", "amount": "30000.00", "paid": "30000.00",
                 "deposit_status": "held", **STAMP}]},
            "supplement": {"entries": [{"id": "SUP-0001", "date": "2026-01-0%d" % (1 + i % 9), "note": "补充说明 $Id: x $", **STAMP}]},
        })
    for i, change in (bad or {}).items():
        tenants[i]["payments"]["entries"][0].update(change)
    return {"wuye_export": 1, "building": "柏彦大厦", "units": [], "tenants": tenants}


def _import(store, doc_path, jobs: int, actor: str = "liuyang") -> subprocess.CompletedProcess:
    env = {**os.environ, "WUYE_JOBS": str(jobs), "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "wuye", "--store", str(store.root), "import", "--as", actor, str(doc_path)],
                          env=env, capture_output=True, text=True)


def _files(store) -> dict[str, str]:
    out = {}
    for rel in git(store.root, "ls-files").split():
        if rel.startswith(("tenants/", "units/")):
            out[rel] = (store.root / rel).read_text(encoding="utf-8")
    return out


@pytest.fixture
def document(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps(_document(), ensure_ascii=False), encoding="utf-8")
    return path


def test_workers_write_what_one_process_writes(_store_template, tmp_path, document, store):
    """(`store` for its staff keys.)"""
    one = fresh_store(_store_template, tmp_path / "one")
    two = fresh_store(_store_template, tmp_path / "two")
    r1, r2 = _import(one, document, 1), _import(two, document, 2)
    assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr, r2.stderr)
    assert re.sub(r"提交 \w+", "", r1.stderr) == re.sub(r"提交 \w+", "", r2.stderr)
    assert f"新建 {N} 个租户" in r2.stderr and f"新增 {4 * N} 条记录" in r2.stderr
    a, b = _files(one), _files(two)
    assert len([rel for rel in a if rel.startswith("tenants/T")]) == 4 * N  # profile, contacts, payments, supplement
    assert sorted(a) == sorted(b)
    for rel in a:
        # Each import seals its payments anew: the signature and its time are its own.
        assert _without_seals(a[rel]) == _without_seals(b[rel]), rel
    assert b["tenants/T0007/payments.yaml"].count("    seal:\n") == 2
    assert "1007.50" in b["tenants/T0007/payments.yaml"] and "联系人7" in b["tenants/T0007/contacts.yaml"]
    for store_ in (one, two):
        root = store_.root
        assert git(root, "status", "--porcelain") == ""
        assert int(git(root, "rev-list", "--count", "HEAD")) == int(git(_store_template[0], "rev-list", "--count", "HEAD")) + 1
        subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=root, check=True, capture_output=True)
        assert not list((root / ".git" / "wuye" / "staging").glob("*"))
    # The blobs went into one pack, not 1,300 loose objects (git.PACK_MIN).
    assert list((two.root / ".git" / "objects" / "pack").glob("*.pack"))
    v = subprocess.run([sys.executable, "-m", "wuye", "--store", str(two.root), "verify"], capture_output=True, text=True,
                       env={**os.environ, "WUYE_JOBS": "2"})
    assert v.returncode == 0, v.stdout + v.stderr


def test_a_refusal_found_by_workers_reads_as_one_process_says_it_and_writes_nothing(_store_template, tmp_path, store, snapshot):
    path = tmp_path / "bad.json"
    # Problems early and late in the document, so that two workers find them.
    path.write_text(json.dumps(_document({20: {"amount": "-5"}, 231: {"paid_on": "2026-02-30"}}), ensure_ascii=False), encoding="utf-8")
    said = []
    for jobs in (1, 2):
        target = fresh_store(_store_template, tmp_path / f"j{jobs}")
        before = snapshot(target)
        r = _import(target, path, jobs)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert snapshot(target) == before
        assert not list((target.root / ".git" / "wuye" / "staging").glob("*"))
        said.append(r.stderr)
    assert said[0] == said[1]
    assert "共 2 个问题" in said[1]
    assert said[1].index("tenants.20.payments") < said[1].index("tenants.231.payments")


def test_an_importer_who_may_not_seal_is_refused_by_the_workers_too(_store_template, tmp_path, document, store, snapshot):
    target = fresh_store(_store_template, tmp_path / "clerk")
    before = snapshot(target)
    r = _import(target, document, 2, actor="wangli")  # customer service: no seal on money
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "wangli" in r.stderr and ("财务" in r.stderr)
    assert snapshot(target) == before
    assert not list((target.root / ".git" / "wuye" / "staging").glob("*"))


def test_fast_import_is_given_only_the_bytes_git_itself_would_store(tmp_path):
    """With an `ident` attribute git stores `$Id$` where the file says `$Id: x $`: such files are
    written by `hash-object -w`, and the commit holds git's own blobs."""
    root = tmp_path / "repo"
    audit.init_repository(root)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("kept/* ident\n")
    paths = []
    for i in range(audit.PACK_MIN + 5):
        folder = "kept" if i % 100 == 0 else "plain"
        rel = f"{folder}/f{i:05d}.yaml"
        (root / folder).mkdir(exist_ok=True)
        (root / rel).write_text(f"n: {i}\nnote: $Id: x $\n")
        paths.append(rel)
    # Every blob is in the object store as soon as _blobs says it is, under git's own name (the
    # commit is made before `update-index`, which would write a missing one only afterwards).
    ids = audit._blobs(root, paths, audit.environment())
    assert ids == [git(root, "hash-object", rel).strip() for rel in paths]
    present = subprocess.run(["git", "cat-file", "--batch-check"], cwd=root, input="".join(i + "\n" for i in ids),
                             capture_output=True, text=True, check=True).stdout
    assert "missing" not in present and len(present.splitlines()) == len(ids)
    commit = audit.commit(root, paths, "many files\n")
    assert commit is not None
    assert git(root, "status", "--porcelain") == ""
    listed = dict(line.split("\t")[::-1] for line in git(root, "ls-tree", "-r", commit).splitlines())
    for rel in paths:
        want = git(root, "hash-object", rel).strip()
        assert listed[rel].split()[2] == want, rel
    assert git(root, "cat-file", "-p", f"{commit}:kept/f00000.yaml") == "n: 0\nnote: $Id$\n"
    assert git(root, "cat-file", "-p", f"{commit}:plain/f00001.yaml") == "n: 1\nnote: $Id: x $\n"
    assert list((root / ".git" / "objects" / "pack").glob("*.pack"))
    subprocess.run(["git", "fsck", "--strict"], cwd=root, check=True, capture_output=True)


@pytest.mark.slow  # four large imports killed, each followed by the next command: ~15 s
@pytest.mark.parametrize("point", ["stage", "journal", "published", "git-add"])
def test_a_large_import_killed_is_undone_or_finished_by_the_next_command(_store_template, tmp_path, document, store,
                                                                           snapshot, point):
    """Killed before its commit point (`stage`: the workers' files staged, no journal), the store
    is as before and the next command clears the staging folder; killed after it, the next command
    finishes the import, with every file the workers staged."""
    target = fresh_store(_store_template, tmp_path / "victim")
    before = snapshot(target)
    env = {**os.environ, "WUYE_JOBS": "2", "WUYE_FAULT": point}
    r = subprocess.run([sys.executable, "-m", "wuye", "--store", str(target.root), "import", "--as", "liuyang", str(document)],
                       env=env, capture_output=True, text=True)
    assert r.returncode == -9, r.stderr
    if point in ("stage", "journal"):
        assert list((target.root / ".git" / "wuye" / "staging").glob("*"))  # the workers' files, staged
    nxt = subprocess.run([sys.executable, "-m", "wuye", "--store", str(target.root), "archive", "new", "T0900", "--name",
                          "北京下一条命令有限公司", "--unit", "1205", "--as", "wangli"], env={**os.environ}, capture_output=True, text=True)
    assert nxt.returncode == 0, nxt.stderr
    assert not list((target.root / ".git" / "wuye" / "staging").glob("*"))
    subjects = git(target.root, "log", "--format=%s", "-3").splitlines()
    if point == "stage":  # nothing to finish: only the next command's tenant is new
        assert len(subjects) == 3 and not subjects[1].startswith("import")
        assert [rel for rel in _files(target) if rel.startswith("tenants/T")] == [
            rel for rel in _files(target) if rel.startswith("tenants/T0900/")]
        assert git(target.root, "status", "--porcelain") == ""
        return
    assert "已完成上次被中断的修改" in nxt.stderr + nxt.stdout
    assert subjects[1].startswith("import big.json")
    imported = [rel for rel in _files(target) if rel.startswith("tenants/T") and not rel.startswith("tenants/T0900/")]
    assert len(imported) == 4 * N
    assert git(target.root, "status", "--porcelain") == ""


def test_thousands_of_new_folders_are_written_by_mktree_as_git_lays_them_out(tmp_path, monkeypatch):
    """One commit of PACK_MIN folders and more (storage/git.py: _write_trees): the trees git
    writes are the ones wuye laid out, nested folders and a folder of a thousand included."""
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))  # which git commands ran (environment() keeps GIT_TRACE*)
    root = tmp_path / "repo"
    audit.init_repository(root)
    paths = []
    for i in range(audit.PACK_MIN + 3):
        rel = f"tenants/T{i:04d}/{'moveout/MO-1/' if i % 7 == 0 else ''}profile.yaml"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"n: {i}\n")
        paths.append(rel)
    commit = audit.commit(root, paths, "folders\n")
    ran = trace.read_text()
    assert "mktree -z --batch" in ran and "fast-import" in ran, ran
    assert "hash-object -t tree" not in ran, [line for line in ran.splitlines() if "-t tree" in line]
    assert git(root, "status", "--porcelain") == ""
    # git's own index gives the same root tree as wuye's commit.
    assert git(root, "write-tree").strip() == git(root, "rev-parse", f"{commit}^{{tree}}").strip()
    assert git(root, "cat-file", "-p", f"{commit}:tenants/T0007/moveout/MO-1/profile.yaml") == "n: 7\n"
    assert len(git(root, "ls-tree", f"{commit}:tenants").splitlines()) == audit.PACK_MIN + 3
    subprocess.run(["git", "fsck", "--strict"], cwd=root, check=True, capture_output=True)


@pytest.mark.parametrize("damage", ["truncated", "duplicate key"])
def test_a_large_document_broken_near_its_end_is_refused_in_one_line_while_workers_run(_store_template, tmp_path, store,
                                                                                      snapshot, damage):
    """The outline pass refuses a damaged document before any worker starts; a file that only
    breaks on the second pass (changed meanwhile) is refused by the stream the workers are fed
    from. Either way one line names the file, and nothing is written or left staged."""
    text = json.dumps(_document(), ensure_ascii=False, indent=1)
    if damage == "truncated":
        text = text[:-200]
    else:
        text = text.replace('"name": "联系人250"', '"name": "联系人250", "name": "又一个"')
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    target = fresh_store(_store_template, tmp_path / "target")
    before = snapshot(target)
    r = _import(target, path, 2)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.strip().splitlines() if "broken.json" in line]
    assert len(lines) == 1, r.stderr
    assert snapshot(target) == before
    assert not list((target.root / ".git" / "wuye" / "staging").glob("*"))


def test_a_document_changed_while_the_workers_read_it_is_refused(_store_template, tmp_path, store, snapshot, monkeypatch):
    """Between the outline and the dossiers the file changes: the second pass's sha256 differs,
    and the import is refused with nothing written (in-process, so the file can be changed at
    the moment the outline is done)."""
    from wuye.errors import WuyeError
    from wuye.transfer import jsonstream

    path = tmp_path / "moving.json"
    path.write_text(json.dumps(_document(), ensure_ascii=False), encoding="utf-8")
    target = fresh_store(_store_template, tmp_path / "target")
    before = snapshot(target)
    outline = jsonstream.outline

    def outline_then_change(p, label):
        found = outline(p, label)
        doc = _document()
        doc["tenants"][200]["profile"]["name"] = "北京改过的名字有限公司"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return found

    monkeypatch.setattr(jsonstream, "outline", outline_then_change)
    monkeypatch.setenv("WUYE_JOBS", "2")
    with pytest.raises(WuyeError, match="导入期间文件有变动|changed while it was imported"):
        importing.import_files(target, [path], "liuyang")
    assert snapshot(target) == before
    assert not list((target.root / ".git" / "wuye" / "staging").glob("*"))
