"""How fast are the whole-store reports? Each beside its floor, measured in the same run.

On a store made by bench/make_store.py (generated once into the bench cache and reused; a clone
of it is timed, so the bench store itself is never changed), runs each command as a fresh process,
round-robin (one run of each in turn, so that a noisy machine slows all alike):

  report R, warm          `wuye report R --json`, the records index (.git/wuye/index.sqlite) fresh
  report R, 1 changed     the same after one payments file is rewritten (one parse, not thousands)
  report R, no index      WUYE_NO_CACHE=1: every file parsed and validated (worker processes)
  floor: sqlite query     a Python process reading the same rows from the index (sqlite3 alone)
  floor: import typer     `python -c 'import typer'`: the cost of any typer command starting

and prints the median of each and its ratio to the SQLite floor.

    python bench/reports.py                 # 2,000 tenants
    python bench/reports.py --tenants 1000 -n 5

Not a test: nothing is asserted. WUYE_BENCH_CASES=0 is set for the generator (make_store.py says why).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("WUYE_BENCH_CASES", "0")
import make_store  # noqa: E402

REPORTS = ("arrears", "complaints", "repairs", "satisfaction")
KINDS = {"arrears": ("payments", "violations"), "complaints": ("complaints",), "repairs": ("repairs",),
         "satisfaction": ("complaints", "repairs")}
FLOOR = """import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
n = 0
for kind in sys.argv[2:]:
    for value, in con.execute("SELECT value FROM files WHERE kind=?", ("entries:" + kind,)):
        n += len(value or b"")
print(n)
"""


def timed(argv: list[str], env: dict, before=None) -> float:
    if before:
        before()
    t = time.perf_counter()
    p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {p.stderr[-500:]}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenants", type=int, default=2000)
    ap.add_argument("-n", type=int, default=5, help="runs of each (median)")
    args = ap.parse_args()
    info = make_store.ensure(args.tenants)
    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-reports-"))
    root = tmp / "store"
    subprocess.run(["git", "clone", "-q", info["store"], str(root)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WUYE_", "GIT_"))}
    env["WUYE_LANG"] = "en"
    cold_env = {**env, "WUYE_NO_CACHE": "1"}
    wuye = [sys.executable, "-m", "wuye", "--store", str(root)]
    db = root / ".git" / "wuye" / "index.sqlite"
    payments = root / "tenants" / info["tenant"] / "payments.yaml"

    def touch_one():  # one file changed by hand: a comment line toggled
        text = payments.read_text(encoding="utf-8")
        payments.write_text(text[:-len("# x\n")] if text.endswith("# x\n") else text + "# x\n", encoding="utf-8")

    for r in REPORTS:  # fills the index
        timed([*wuye, "report", r, "--json"], env)
    cases: dict[str, tuple[list[str], dict, object]] = {}
    for r in REPORTS:
        cases[f"report {r}, warm"] = ([*wuye, "report", r, "--json"], env, None)
        cases[f"report {r}, 1 file changed"] = ([*wuye, "report", r, "--json"], env, touch_one)
        cases[f"report {r}, no index"] = ([*wuye, "report", r, "--json"], cold_env, None)
        cases[f"floor for {r}: sqlite query"] = ([sys.executable, "-c", FLOOR, str(db), *KINDS[r]], env, None)
    cases["floor: python -c 'import typer'"] = ([sys.executable, "-c", "import typer"], env, None)
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.n):
        for k, (argv, e, before) in cases.items():
            times[k].append(timed(argv, e, before))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{args.tenants} tenants, {info['files']} files; {cpus} CPUs; median of {args.n} runs each")
    for r in REPORTS:
        floor = statistics.median(times[f"floor for {r}: sqlite query"])
        for what in ("warm", "1 file changed", "no index"):
            k = f"report {r}, {what}"
            m = statistics.median(times[k])
            print(f"  {k:<36} {m:7.3f} s   floor (sqlite query, same run) {floor:6.3f} s   {m / floor:5.1f}x")
    t = statistics.median(times["floor: python -c 'import typer'"])
    print(f"  {'python -c import typer':<36} {t:7.3f} s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
