"""Does a write slow down as the store grows? `wuye moveout sign` and `wuye archive add` on stores of
100, 1,000 and 10,000 tenants.

Each store comes from bench/make_store.py (generated once into the bench cache, reused). For each
store, round-robin over the stores (one run of each in turn, so a noisy machine slows all alike),
after one untimed warm-up:

  wuye archive add <tenant> supplement --set note=...      a record appended: one file, one commit
  wuye moveout sign <case> return_pass --correct ...       a signed correction of an open case: the
                                                           case verified, an entry signed, one commit
  git add + git commit -- <file>   (reference)             what the porcelain commit of one file costs
                                                           on that store, for comparison

plus `python -c pass` as the machine's floor. Each run is a real command that adds a commit, so
the clones grow by a few commits while measured (as they would at the counter). Each store is
timed as a clone in a temporary folder (the bench store itself is never changed), so a store made
with WUYE_BENCH_CASES=0 has no case to sign: bench/write.py opens one on its clone and times every
other counter write as well. Targets (issue 7): a write on 10,000 tenants within 1.5x the same write on 100, and
under 1 s.

    python bench/sign.py                 # 100, 1,000 and 10,000 tenants, 9 runs each
    python bench/sign.py --sizes 100 1000 -n 5
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_store  # noqa: E402  (the sibling script: store generation and shared helpers)
import write  # noqa: E402  (bench/write.py: the settings a clone is given)


def git(root: Path, *args: str, env: dict) -> str:
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000], help="store sizes (default 100 1000 10000)")
    ap.add_argument("-n", type=int, default=9, help="timed runs of each command on each store (default 9)")
    args = ap.parse_args()

    stores = {n: make_store.ensure(n) for n in args.sizes}
    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-sign-"))
    plans = {}
    for n, info in stores.items():
        open_cases = [c for k in ("return_pass", "engineering_inspection", "security_inspection", "settlement", "handover")
                      for c in info["cases"].get(k, [])]
        if not open_cases:
            sys.exit(f"bench: the store of {n} tenants has no open move-out case (made with WUYE_BENCH_CASES=0?); "
                     "bench/write.py opens one on its clone")
        case = open_cases[0]
        # A clone is timed, with the settings `wuye init` gives a store: the bench store itself is
        # never changed (other benchmarks read it at the same time).
        root = tmp / f"store-{n}"
        subprocess.run(["git", "clone", "-q", info["store"], str(root)], check=True)
        for key, value in write.LOCAL_CONFIG.items():
            subprocess.run(["git", "-C", str(root), "config", key, value], check=True)
        subprocess.run(["git", "-C", str(root), "update-index", "--split-index"], check=True)
        env = make_store.bench_env(info["keys"], WUYE_USER="wangli")
        data = tmp / f"return_pass-{n}.yaml"
        data.write_text("access_cards_returned: 1\nnote: 补交一张（基准测试）\n", encoding="utf-8")
        wuye = [*make_store.wuye_command(), "--store", str(root)]
        marker = root / ".git" / "wuye" / "verified-head"
        plans[n] = {
            "root": root, "env": env, "head": info["head"], "marker": marker.read_bytes() if marker.is_file() else None,
            "add": [*wuye, "archive", "add", info["add_tenant"], "supplement", "--set", "note=补充营业执照副本（基准测试）", "--as", "wangli"],
            "sign": [*wuye, "moveout", "sign", case, "return_pass", "--file", str(data), "--correct", "--as", "wangli"],
            "porcelain": f"tenants/{info['add_tenant']}/supplement.yaml",
            "case": case,
        }

    def porcelain(plan) -> float:
        """git add + git commit -- <file>, as audit.commit used to do it (the file appended to first)."""
        root, rel = plan["root"], plan["porcelain"]
        with open(root / rel, "a", encoding="utf-8") as f:
            f.write("  - id: SUP-9999\n    note: 基准测试\n")
        env = {**plan["env"], "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@wuye.invalid",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@wuye.invalid"}
        t = time.perf_counter()
        subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "add", "-A", "--", rel], cwd=root, env=env, check=True)
        subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "commit", "-q", "--no-verify", "-m", "bench", "--", rel],
                       cwd=root, env=env, check=True)
        elapsed = time.perf_counter() - t
        git(root, "reset", "-q", "--hard", "HEAD~1", env=plan["env"])  # untimed: the store as before
        return elapsed

    ops = ["add", "sign", "porcelain"]
    times = {(n, op): [] for n in args.sizes for op in ops}
    floor: list[float] = []
    started = time.perf_counter()
    try:
        for n in args.sizes:  # warm-up
            make_store.Run(plans[n]["add"], plans[n]["env"])
            make_store.Run(plans[n]["sign"], plans[n]["env"])
            porcelain(plans[n])
        for _ in range(args.n):
            for n in args.sizes:
                plan = plans[n]
                times[(n, "add")].append(make_store.Run(plan["add"], plan["env"]).seconds)
                times[(n, "sign")].append(make_store.Run(plan["sign"], plan["env"]).seconds)
                times[(n, "porcelain")].append(porcelain(plan))
            floor.append(make_store.Run([sys.executable, "-c", "pass"], make_store.bench_env()).seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the clones; the bench stores were never touched
    elapsed = time.perf_counter() - started

    smallest = min(args.sizes)
    labels = {"add": "wuye archive add … supplement", "sign": "wuye moveout sign … return_pass --correct",
              "porcelain": "reference: git add + git commit -- <file>"}
    rows = []
    for op in ops:
        for n in args.sizes:
            med = make_store.median(times[(n, op)])
            base = make_store.median(times[(smallest, op)])
            files = stores[n]["files"]
            rows.append([labels[op], f"{n:,}", f"{files:,}", f"{med * 1000:.0f}", f"{min(times[(n, op)]) * 1000:.0f}",
                         f"{med / base:.2f}×"])
    print(f"machine: {make_store.machine()}")
    print(f"python -c pass: median {make_store.median(floor) * 1000:.0f} ms (the floor, measured in the same run)")
    make_store.table(["command", "tenants", "files", "median ms", "fastest ms", f"× {smallest:,} tenants"], rows,
                     f"{args.n} runs of each on each store, round-robin, wall time of a fresh process ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
