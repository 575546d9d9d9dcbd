"""How fast are the whole-store reports and listings? Each beside its floors, measured in the same run.

On a store made by bench/make_store.py (generated once into the bench cache and reused; a clone
of it is timed, so the bench store itself is never changed), runs each command as a fresh process,
round-robin (one run of each in turn, so that a noisy machine slows all alike), after one untimed
run of each that fills the records index:

  R, warm                 `wuye report R --json` (or the listing), the records index
                          (.git/wuye/index.sqlite) fresh
  R, 1 file changed       the same after one of the files it reads is rewritten by hand (one
                          parse, not thousands)
  R, no index             WUYE_NO_CACHE=1: every file parsed and validated (worker processes)

and the floors, each a fresh Python process too:

  sqlite query            the rows R reads, selected from the same index with sqlite3 alone
                          (the target: warm within 3x of it)
  sqlite + stat           the same rows, and a stat of each file they came from: the least an
                          index can do that trusts no writer to say what changed and runs no
                          daemon (a hand edit or a pull is found by its file's stat)
  parallel cold parse     every file R reads, parsed with ruamel's C parser and wuye's own object
                          builder (storage/fastyaml.py, the fastest reader there is here) and
                          nothing else: no validation, no index; in as many processes as wuye's
                          workers (the target: no index within 1.2x)
  python -c 'import typer'  what any typer command costs before it does anything

and prints the median wall time of each, its CPU time (user + system, workers included: on a
shared machine the steadier figure) and its ratios to its floors.

    python bench/reports.py                         # 1,000 tenants
    python bench/reports.py --tenants 10000 -n 3
    python bench/reports.py --code ../other         # another checkout's wuye package, run from there

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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("WUYE_BENCH_CASES", "0")
import make_store  # noqa: E402

# What each command reads: the index rows' kinds (LIKE patterns) and the files (globs under the
# store) that a cold run parses.
# What each command reads: the index rows' kinds (LIKE patterns: this code's and earlier code's,
# each run finds only its own) and the files (globs under the store) that a cold run parses.
COMMANDS = {
    "report arrears": (["profile", "owed:%", "entries:payments", "entries:violations"],
                       ["tenants/*/profile.yaml", "tenants/*/payments.yaml", "tenants/*/violations.yaml"]),
    "report complaints": (["profile", "brief:complaints:%", "entries:complaints"], ["tenants/*/profile.yaml", "tenants/*/complaints.yaml"]),
    "report repairs": (["profile", "brief:repairs:%", "entries:repairs"], ["tenants/*/profile.yaml", "tenants/*/repairs.yaml"]),
    "report satisfaction": (["profile", "brief:%", "entries:complaints", "entries:repairs"],
                            ["tenants/*/profile.yaml", "tenants/*/complaints.yaml", "tenants/*/repairs.yaml"]),
    "report completeness": (["profile"], ["tenants/*/profile.yaml"]),
    "report moveouts": ([], ["tenants/*/moveout/*/case.yaml", "tenants/*/moveout/*/steps/*.yaml"]),
    "archive list": (["profile"], ["tenants/*/profile.yaml"]),
}
# The file a hand edit changes before each "1 file changed" run, by what the command reads.
CHANGED = {"report arrears": "payments", "report complaints": "complaints", "report repairs": "repairs",
           "report satisfaction": "repairs", "report completeness": "profile", "archive list": "profile",
           "report moveouts": None}

TYPER = "python -c 'import typer'"
SQLITE_FLOOR = """import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
n = 0
for kind in sys.argv[2:]:
    for value, in con.execute("SELECT value FROM files WHERE kind LIKE ?", (kind,)):
        n += len(value or b"")
print(n)
"""

# The same rows, each file they were read from stat'ed: what any index must do that trusts no writer
# to have told it what changed (a hand edit, a pull) and runs no daemon watching the folder.
SQLITE_STAT_FLOOR = """import os, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
fd = os.open(sys.argv[2], os.O_RDONLY)
n = 0
for kind in sys.argv[3:]:
    for rel, value in con.execute("SELECT rel, value FROM files WHERE kind LIKE ?", (kind,)):
        os.stat(rel, dir_fd=fd, follow_symlinks=False)
        n += len(value or b"")
print(n)
"""



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenants", type=int, default=1000)
    ap.add_argument("-n", type=int, default=5, help="runs of each (median)")
    ap.add_argument("--code", help="run the wuye package of this checkout (python -m wuye from there)")
    ap.add_argument("--only", nargs="*", help="only these commands (e.g. 'report arrears')")
    args = ap.parse_args()
    info = make_store.ensure(args.tenants)
    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-reports-"))
    root = tmp / "store"
    subprocess.run(["git", "clone", "-q", info["store"], str(root)], check=True)
    env = make_store.bench_env(info["keys"], WUYE_LANG="en")
    cold_env = {**env, "WUYE_NO_CACHE": "1"}
    cwd = args.code
    wuye = ([sys.executable, "-m", "wuye"] if cwd else make_store.wuye_command()) + ["--store", str(root)]
    db = root / ".git" / "wuye" / "index.sqlite"
    jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    commands = {k: v for k, v in COMMANDS.items() if not args.only or k in args.only}

    def toggle(name: str):
        path = root / "tenants" / info["tenant"] / f"{name}.yaml"

        def edit():  # one file changed by hand: a comment line toggled
            text = path.read_text(encoding="utf-8")
            path.write_text(text[:-len("# x\n")] if text.endswith("# x\n") else text + "# x\n", encoding="utf-8")
        return edit

    cases: dict[str, tuple[list[str], dict, str | None, object]] = {}
    for name, (kinds, globs) in commands.items():
        argv = [*wuye, *name.split(), "--json"]
        cases[f"{name}, warm"] = (argv, env, cwd, None)
        if CHANGED[name]:
            cases[f"{name}, 1 file changed"] = (argv, env, cwd, toggle(CHANGED[name]))
        cases[f"{name}, no index"] = (argv, cold_env, cwd, None)
        if kinds:
            cases[f"{name}: sqlite query"] = ([sys.executable, "-c", SQLITE_FLOOR, str(db), *kinds], env, None, None)
            cases[f"{name}: sqlite + stat"] = ([sys.executable, "-c", SQLITE_STAT_FLOOR, str(db), str(root), *kinds], env, None, None)
        # From the same checkout as wuye, so that it imports the same reader.
        cases[f"{name}: parallel cold parse"] = ([sys.executable, "-c", make_store.PARSE_FLOOR, str(root), str(jobs), *globs], env,
                                                 cwd or str(Path(__file__).resolve().parents[1]), None)
    cases[TYPER] = ([sys.executable, "-c", "import typer"], env, None, None)
    for argv, e, c, _ in cases.values():  # fills the index (and warms the disk cache)
        make_store.timed(argv, e, c)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
    for _ in range(args.n):
        for k, (argv, e, c, before) in cases.items():
            times[k].append(make_store.timed(argv, e, c, before)[:2])
    med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    print(f"{args.tenants} tenants, {info['files']} files; {make_store.machine()}; median of {args.n} runs each"
          + (f"; wuye from {cwd}" if cwd else ""))
    typer = med[TYPER]
    for name in commands:
        sq, cp = med.get(f"{name}: sqlite query"), med[f"{name}: parallel cold parse"]
        ss = med.get(f"{name}: sqlite + stat")
        for what in ("warm", "1 file changed", "no index"):
            k = f"{name}, {what}"
            if k not in med:
                continue
            m = med[k]
            if what == "no index" or sq is None:
                floor = f"parallel cold parse {cp:6.3f} s  {m / cp:5.1f}x (target 1.2x)"
            else:
                floor = (f"sqlite query {sq:6.3f} s  {m / sq:5.1f}x (target 3x); with a stat of each file {ss:6.3f} s"
                         f"  {m / ss:5.1f}x; minus import typer {max(m - typer, 0):6.3f} s")
            print(f"  {k:<38} {m:7.3f} s (cpu {cpu[k]:6.3f} s)   {floor}")
    print(f"  {TYPER:<38} {typer:7.3f} s (cpu {cpu[TYPER]:6.3f} s)")
    print("  floors' cpu: " + ", ".join(f"{k} {v:.3f} s" for k, v in cpu.items() if ":" in k))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
