"""How long does a manager wait for `wuye verify` (and `wuye archive check`) on 10,000 tenants?
Each figure beside its floor, measured in the same run.

On a clone of a store made by bench/make_store.py (10,000 tenants by default; generated once into
the bench cache and reused; the clone is timed, so the bench store itself is never changed):

  wuye verify, cold           no derived cache (.git/wuye/index.sqlite, which holds the verdicts,
                              deleted before each run): every file read, parsed and validated,
                              every signature checked, all of git history read (worker processes,
                              one per CPU)
  wuye verify, warm           nothing changed since the last run: verdicts by git blob id
  wuye verify, one file changed   one archive file edited by hand (not committed) since the last run
  wuye archive check, cold / warm
  WUYE_JOBS=1 wuye verify, cold   (with --single) the cold run in one process, for comparison

and the floors, each a fresh process too:

  parallel cold parse         every file a cold verify reads (units, every tenant's archive files,
                              the move-out cases), parsed with wuye's own reader
                              (storage/fastyaml.py) and nothing else: no validation, no
                              signatures, no git; in as many processes as wuye's workers
                              (the floor of "cold")
  git status                  what noticing any change among the store's files costs at the least:
                              git's own stat of every tracked file (the floor of "warm")
  python -c pass              a Python process

For each: the median and fastest wall time, the median CPU time (user + system of the process and
of every process it waited for: workers, git; on a shared machine the steadier figure), and the
peak memory of the largest process (wait4's ru_maxrss) and of the whole process tree (sampled from
/proc every 20 ms; shared pages are counted in every process, so it is an upper bound). "Cold"
means wuye's cache is empty; the operating system's page cache is warm (the files were read
before). Targets (issue 19): cold under 15 s, warm under 1 s, peak memory under 500 MB.

    python bench/verify.py                 # 3 cold and 5 warm runs of each
    python bench/verify.py --tenants 1000 --cold 3 --warm 5 --single
    WUYE_BENCH_CACHE=/tmp/wuye-bench-me python bench/verify.py   # a store generated there

Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_store  # noqa: E402  (the sibling script: store generation and shared helpers)

GLOBS = ["units/*.yaml", "tenants/*/*.yaml", "tenants/*/moveout/*/case.yaml", "tenants/*/moveout/*/steps/*.yaml"]


class Timed(make_store.Run):
    """make_store.Run, with the CPU time of the process and everything it waited for."""

    def __init__(self, argv, env, ok=(0,), cwd=None):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        super().__init__(argv, env, ok=ok, cwd=cwd)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=10000, help="size of the make_store store (default 10000)")
    ap.add_argument("--cold", type=int, default=3, help="cold runs of each (default 3)")
    ap.add_argument("--warm", type=int, default=5, help="warm runs of each (default 5)")
    ap.add_argument("--single", action="store_true", help="also one cold verify in a single process (WUYE_JOBS=1)")
    args = ap.parse_args()

    info = make_store.ensure(args.tenants)
    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-verify-"))
    root = tmp / "store"
    subprocess.run(["git", "clone", "-q", info["store"], str(root)], check=True)
    # The root pinned, as an office's clone has it (`wuye remote add --root FPR`): unpinned, every
    # run warns so, and a run that warns is never taken as the store's standing verdict.
    (root / ".git" / "wuye").mkdir(exist_ok=True)
    shutil.copyfile(Path(info["store"], ".git", "wuye", "pins.json"), root / ".git" / "wuye" / "pins.json")
    env = make_store.bench_env(info["keys"])
    wuye = [*make_store.wuye_command(), "--store", str(root)]
    derived = root / ".git" / "wuye"
    verify, check = [*wuye, "verify"], [*wuye, "archive", "check"]
    edited = root / "tenants" / info["tenant"] / "supplement.yaml"
    original = edited.read_bytes()
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    code_dir = str(Path(__file__).resolve().parents[1])  # the floor imports this checkout's reader

    def cold(i: int = 0) -> None:
        for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm", "cache"):
            p = derived / name
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

    def touch_one(i: int) -> None:
        edited.write_bytes(original + f"# 基准测试 {i} {time.time_ns()}\n".encode())

    results: list[tuple[str, list]] = []

    def measure(label: str, argv: list[str], runs: int, before=None, run_env=None, cwd=None) -> None:
        got = []
        for i in range(runs):
            if before:
                before(i)
            got.append(Timed(argv, run_env or env, ok=(0, 1), cwd=cwd))
        results.append((label, got))
        r = got[-1]
        print(f"  {label}: {make_store.median([x.seconds for x in got]):.2f} s, cpu {make_store.median([x.cpu for x in got]):.2f} s "
              f"(exit {r.code}; {r.stderr.decode(errors='replace').strip().splitlines()[-1] if r.stderr.strip() else ''})",
              file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    try:
        Timed(verify, env, ok=(0, 1))  # warm-up: page cache, .pyc files
        measure("python -c pass", [sys.executable, "-c", "pass"], 5)
        measure("floor: parallel cold parse", [sys.executable, "-c", make_store.PARSE_FLOOR, str(root), str(jobs), *GLOBS], args.cold,
                cwd=code_dir)
        measure("wuye verify, cold", verify, args.cold, cold)
        measure("floor: git status", ["git", "-C", str(root), "status", "--porcelain"], args.warm)
        measure("wuye verify, warm", verify, args.warm)
        measure("wuye verify, one file changed", verify, args.warm, touch_one)
        edited.write_bytes(original)
        Timed(verify, env, ok=(0, 1))
        measure("wuye archive check, cold", check, args.cold, cold)
        measure("wuye archive check, warm", check, args.warm)
        if args.single:
            measure("WUYE_JOBS=1 wuye verify, cold", verify, 1, cold, {**env, "WUYE_JOBS": "1"})
    finally:
        edited.write_bytes(original)
    elapsed = time.perf_counter() - started

    med = {label: make_store.median([r.seconds for r in got]) for label, got in results}
    floors = {"wuye verify, cold": "floor: parallel cold parse", "wuye archive check, cold": "floor: parallel cold parse",
              "WUYE_JOBS=1 wuye verify, cold": "floor: parallel cold parse", "wuye verify, warm": "floor: git status",
              "wuye verify, one file changed": "floor: git status", "wuye archive check, warm": "floor: git status"}
    rows = []
    for label, got in results:
        secs = [r.seconds for r in got]
        floor = floors.get(label)
        rows.append([label, len(got), f"{med[label]:.2f}", f"{min(secs):.2f}", f"{make_store.median([r.cpu for r in got]):.2f}",
                     f"{med[label] / med[floor]:.1f}x {floor[7:]}" if floor else "",
                     f"{max(r.max_rss_mb for r in got):.0f}", f"{max(r.tree_rss_mb for r in got):.0f}",
                     "ok" if got[-1].code == 0 else f"exit {got[-1].code}"])
    print(f"store: a clone of {info['store']}: {info['n']:,} tenants, {info['files']:,} files, {info['commits']:,} commits")
    print(f"machine: {make_store.machine()} (load average {load_before:.1f} when the run started)")
    make_store.table(["command", "runs", "median s", "fastest s", "cpu s", "to its floor", "peak MB (largest process)",
                      "peak MB (process tree)", "result"],
                     rows, f"wall time of a fresh process ({elapsed:.0f} s in all)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
