"""Concurrent writers: four real `wuye` processes at once on one store, 50 operations each.

Each worker has its own tenant and its own move-out case, so every operation is legal whatever the
interleaving: it opens the case, signs application, return_pass and both inspections, corrects
return_pass six times, and adds 39 archive records (supplements, contacts, repairs) in between. The
store lock serialises the commits; `WUYE_LOCK_TIMEOUT` is generous, so an operation may only be
refused with the lock's message, never with a traceback. Then: every operation that succeeded is
exactly one commit touching only its own tenant, none is lost (entries and signed files counted),
the history is linear, the tree clean, and `wuye verify` passes.

The run took 51 s on two shared cores (load 4; 119 s at load 8): 200 processes, each paying Python's start-up and imports;
the time is printed with `-s`.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections import Counter

import pytest

from conftest import git, head
from test_crash import WUYE

WORKERS = 4
OPS = 50
LOCK_MESSAGE = "另一个 wuye 命令正在写入此档案库"


def plan(tid: str) -> list[tuple[str, list[str]]]:
    """(kind, argv) for one worker's 50 operations; `{case}` is filled in after the first."""
    signs = [
        ("sign", ["moveout", "sign", "{case}", "application", "--set", "representative=李明", "--set", "form_received=true",
                  "--as", "wangli"]),
        ("sign", ["moveout", "sign", "{case}", "return_pass", "--set", "access_cards_returned=3", "--as", "wangli"]),
        ("sign", ["moveout", "sign", "{case}", "engineering_inspection", "--set", "equipment_checked=true", "--set", "meter_electricity=1023.5",
                  "--set", "power_off=true", "--set", "ac_off=true", "--as", "zhangwei"]),
        ("sign", ["moveout", "sign", "{case}", "security_inspection", "--set", "extinguishers_returned=2",
                  "--set", "fire_equipment_ok=true", "--as", "chenjing"]),
    ] + [("sign", ["moveout", "sign", "{case}", "return_pass", "--set", f"access_cards_returned={n}", "--correct",
                   "--as", "wangli"]) for n in (2, 3, 2, 3, 2, 3)]
    adds = []
    for i in range(OPS - 1 - len(signs)):
        kind = ("supplement", "contacts", "repairs")[i % 3]
        sets = {"supplement": [f"note={tid} 第 {i} 条补充；并发写入"],
                "contacts": [f"name=联系人{i}", f"phone=1381234{i:04d}"],
                "repairs": ["reported_at=2026-11-20T09:30:00+08:00", f"location={tid} 第 {i} 处", "description=漏水"]}[kind]
        adds.append((kind, ["archive", "add", tid, kind, *[a for s in sets for a in ("--set", s)], "--as", "wangli"]))
    ops = [("start", ["moveout", "start", tid, "--date", "2026-12-31", "--reason", "并发测试", "--as", "zhaomin"])]
    # Spread the signatures among the archive records.
    step = len(adds) // len(signs)
    for n, s in enumerate(signs):
        ops += adds[n * step:(n + 1) * step] + [s]
    ops += adds[len(signs) * step:]
    assert len(ops) == OPS
    return ops


def worker(root, tid: str, results: list) -> None:
    env = dict(os.environ, WUYE_LOCK_TIMEOUT="120")
    case = None
    for kind, argv in plan(tid):
        argv = [a.replace("{case}", case or "") for a in argv]
        p = subprocess.run([WUYE, "--store", str(root), *argv], env=env, capture_output=True, text=True, timeout=300)
        if kind == "start" and p.returncode == 0:
            case = p.stdout.split()[0]
        results.append((tid, kind, argv, p.returncode, p.stderr))


@pytest.mark.slow  # 200 real processes: ~60 s
def test_four_writers_fifty_operations_each(store, run, capsys):
    from wuye.archive import dossier as archive

    tids = [f"T{n:04d}" for n in range(1, WORKERS + 1)]
    for n, tid in enumerate(tids):
        archive.new(store, tid, f"并发公司{n}", f"{1201 + n}", "wangli")
    base = head(store)
    results: list = []
    threads = [threading.Thread(target=worker, args=(store.root, tid, results)) for tid in tids]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n{WORKERS} writers × {OPS} operations: {elapsed:.1f} s")

    assert len(results) == WORKERS * OPS
    done = [r for r in results if r[3] == 0]
    for tid, kind, argv, code, err in results:
        assert "Traceback" not in err, err
        assert code == 0 or (code == 1 and LOCK_MESSAGE in err), (argv, code, err)
    # With a generous timeout nobody should even have been refused.
    assert len(done) == WORKERS * OPS, Counter((r[1], r[3]) for r in results)

    # One commit per operation, none lost, none extra, each touching only its own tenant.
    commits = git(store.root, "rev-list", f"{base}..HEAD").split()
    assert len(commits) == len(done)
    assert git(store.root, "rev-list", "--merges", "HEAD") == ""
    assert git(store.root, "rev-list", "--count", "HEAD").strip() == str(int(git(store.root, "rev-list", "--count", base)) + len(done))
    tenants = Counter()
    for c in commits:
        out = git(store.root, "show", "--name-only", "--format=%(trailers:key=Wuye-Tenant,valueonly)", c)
        lines = [x for x in out.splitlines() if x]
        tid, files = lines[0], lines[1:]
        tenants[tid] += 1
        assert files and all(f.startswith(f"tenants/{tid}/") for f in files), (c, lines)
    assert tenants == {tid: OPS for tid in tids}

    from wuye.storage import yamlio

    for tid in tids:
        mine = Counter(r[1] for r in done if r[0] == tid)
        for kind in ("supplement", "contacts", "repairs"):
            data = yamlio.read(store.path(f"tenants/{tid}/{kind}.yaml"), kind)
            entries = data["entries"]
            assert len(entries) == mine[kind], (tid, kind)
            assert len({e["id"] for e in entries}) == len(entries)
        steps = sorted(p.name for p in store.root.glob(f"tenants/{tid}/moveout/*/steps/*.yaml"))
        assert steps == sorted(["notice.yaml", "application.yaml", "engineering_inspection.yaml", "security_inspection.yaml",
                                "return_pass.yaml"] + [f"return_pass.{n}.yaml" for n in range(2, 8)])
    cases = sorted(p.parent.parent.name for p in store.root.glob("tenants/*/moveout/*/steps/notice.yaml"))
    assert len(set(cases)) == WORKERS and all(re.fullmatch(r"MO-\d{4}-000[1-4]", c) for c in cases)

    assert git(store.root, "status", "--porcelain", "-uall") == ""
    assert not (store.root / ".git/wuye/pending.json").exists()
    v = run("verify")
    assert v.exit_code == 0, (v.stdout, v.stderr)


def test_a_writer_that_cannot_get_the_lock_is_refused_with_a_message(tenant, snapshot):
    """The lock wait ends with a message and exit 1, not a traceback, and changes nothing."""
    from filelock import FileLock

    before = snapshot(tenant)
    with FileLock(str(tenant.root / ".git" / "wuye.lock")):
        started = time.monotonic()
        p = subprocess.run([WUYE, "--store", str(tenant.root), "archive", "add", "T0001", "supplement", "--set", "note=x",
                            "--as", "wangli"], env=dict(os.environ, WUYE_LOCK_TIMEOUT="0.5"), capture_output=True, text=True)
        waited = time.monotonic() - started
    assert p.returncode == 1 and LOCK_MESSAGE in p.stderr and "0.5" in p.stderr and "Traceback" not in p.stderr
    assert waited >= 0.5
    assert snapshot(tenant) == before
