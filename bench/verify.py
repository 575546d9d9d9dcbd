"""How long does a manager wait for `wuye verify` (and `wuye archive check`) on 10,000 tenants?

On a store made by bench/make_store.py (10,000 tenants by default; generated once and reused):

  wuye verify, cold           the derived cache (.git/wuye/cache) deleted before each run: every
                              file read, parsed and validated, every signature checked, all of git
                              history read (in worker processes, one per CPU)
  wuye verify, warm           nothing changed since the last run: results by git blob id
  wuye verify, one file changed   one archive file edited (not committed) since the last run
  wuye archive check, cold / warm
  WUYE_JOBS=1 wuye verify, cold   (with --single) the cold run in one process, for comparison

with the median and fastest wall time, and the peak memory: of the largest process (wait4's
ru_maxrss: the parent or any worker) and of the whole process tree (sampled from /proc every
20 ms; shared pages are counted in every process, so it is an upper bound). The machine's
baseline is measured in the same run: `python -c pass` and a fixed CPU-bound loop. "Cold" means
wuye's cache is empty; the operating system's page cache is warm (the files were read before).
Targets (issue 7): cold under 60 s, warm under 3 s, peak memory under 500 MB.

    python bench/verify.py                 # 3 cold and 7 warm runs of each
    python bench/verify.py --tenants 1000 --cold 3 --warm 5 --single
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_store  # noqa: E402  (the sibling script: store generation and shared helpers)

CPU_LOOP = "import hashlib\nh = b''\nfor i in range(400_000):\n    h = hashlib.sha1(h + b'%d' % i).digest()"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=10000, help="size of the make_store store (default 10000)")
    ap.add_argument("--cold", type=int, default=3, help="cold runs of each (default 3)")
    ap.add_argument("--warm", type=int, default=7, help="warm runs of each (default 7)")
    ap.add_argument("--single", action="store_true", help="also one cold verify in a single process (WUYE_JOBS=1)")
    args = ap.parse_args()

    info = make_store.ensure(args.tenants)
    root = Path(info["store"])
    env = make_store.bench_env(info["keys"])
    wuye = [*make_store.wuye_command(), "--store", str(root)]
    cache = root / ".git" / "wuye" / "cache"
    verify, check = [*wuye, "verify"], [*wuye, "archive", "check"]
    edited = root / "tenants" / info["tenant"] / "supplement.yaml"
    original = edited.read_bytes()

    def cold():
        shutil.rmtree(cache, ignore_errors=True)

    results: list[tuple[str, list]] = []

    def measure(label: str, argv: list[str], runs: int, before=None, run_env=None) -> None:
        got = []
        for i in range(runs):
            if before:
                before(i)
            got.append(make_store.Run(argv, run_env or env, ok=(0, 1)))
        results.append((label, got))
        r = got[-1]
        print(f"  {label}: {make_store.median([x.seconds for x in got]):.2f} s (exit {r.code}; "
              f"{r.stderr.decode(errors='replace').strip().splitlines()[-1] if r.stderr.strip() else ''})",
              file=sys.stderr, flush=True)

    def touch_one(i: int) -> None:
        edited.write_bytes(original + f"# 基准测试 {i} {time.time_ns()}\n".encode())

    started = time.perf_counter()
    try:
        make_store.Run(verify, env, ok=(0, 1))  # warm-up: page cache, .pyc files
        baseline = [make_store.Run([sys.executable, "-c", "pass"], env).seconds for _ in range(5)]
        cpu = [make_store.Run([sys.executable, "-c", CPU_LOOP], env).seconds for _ in range(3)]
        measure("wuye verify, cold", verify, args.cold, lambda i: cold())
        measure("wuye verify, warm", verify, args.warm)
        measure("wuye verify, one file changed", verify, args.warm, touch_one)
        edited.write_bytes(original)
        make_store.Run(verify, env, ok=(0, 1))
        measure("wuye archive check, cold", check, args.cold, lambda i: cold())
        measure("wuye archive check, warm", check, args.warm)
        if args.single:
            measure("WUYE_JOBS=1 wuye verify, cold", verify, 1, lambda i: cold(), {**env, "WUYE_JOBS": "1"})
        make_store.Run(verify, env, ok=(0, 1))  # leave the cache warm
    finally:
        edited.write_bytes(original)
    elapsed = time.perf_counter() - started

    rows = []
    for label, got in results:
        secs = [r.seconds for r in got]
        rows.append([label, len(got), f"{make_store.median(secs):.2f}", f"{min(secs):.2f}",
                     f"{max(r.max_rss_mb for r in got):.0f}", f"{max(r.tree_rss_mb for r in got):.0f}",
                     "ok" if got[-1].code == 0 else f"exit {got[-1].code}"])
    print(f"store: {root}: {info['n']:,} tenants, {info['files']:,} files, {info['commits']:,} commits")
    print(f"machine: {make_store.machine()}")
    print(f"baseline: python -c pass {make_store.median(baseline) * 1000:.0f} ms; "
          f"a fixed CPU-bound loop {make_store.median(cpu):.2f} s (same run)")
    make_store.table(["command", "runs", "median s", "fastest s", "peak MB (largest process)", "peak MB (process tree)", "result"],
                     rows, f"wall time of a fresh process ({elapsed:.0f} s in all)")


if __name__ == "__main__":
    main()
