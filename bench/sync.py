"""How long is a fresh clone's first `wuye sync` at 10,000 tenants? Beside its floors, same run.

A central repository is made once per run from a clone of a make_store store (the first office ran
`wuye remote add`, so the driver's .gitattributes is committed, and pushed it: a plain bare clone,
since nothing is pushed in what is timed). Then, for each run, a new office clones the central and
registers it (`git clone`, `wuye remote add origin`: not timed) and its first `wuye sync` is timed:
nothing of its own to push, nothing new to integrate (offices.py `_contained` says why that needs
no verify). The floors, in the same clone right after:

  git fetch         what any sync costs at the least: asking the central for news
  git status        the clean-tree check a sync makes before it integrates anything

Each figure: median wall time and median CPU time (user + system, children included).
Target (issue 19): under 5 s.

    python bench/sync.py                     # 10,000 tenants, 3 runs
    python bench/sync.py --tenants 1000 -n 5

Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_store  # noqa: E402


timed = make_store.timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=10000)
    ap.add_argument("-n", type=int, default=3, help="fresh clones, each synced once (median)")
    args = ap.parse_args()
    info = make_store.ensure(args.tenants)
    env = make_store.bench_env(info["keys"])
    wuye = make_store.wuye_command()
    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-sync-"))
    first, central = tmp / "first", tmp / "central.git"
    subprocess.run(["git", "clone", "-q", info["store"], str(first)], check=True)
    subprocess.run(["git", "-C", str(first), "remote", "remove", "origin"], check=True)  # the bench store: not the central
    timed([*wuye, "--store", str(first), "remote", "add", "origin", str(central)], env)  # commits .gitattributes if new
    subprocess.run(["git", "clone", "-q", "--bare", str(first), str(central)], check=True)
    shutil.rmtree(first)

    times: dict[str, list[tuple[float, float]]] = {"wuye sync (first, fresh clone)": [], "git fetch": [], "git status": []}
    said = ""
    for i in range(args.n):
        office = tmp / f"office-{i}"
        subprocess.run(["git", "clone", "-q", str(central), str(office)], check=True, env=env)
        timed([*wuye, "--store", str(office), "remote", "add", "origin", str(central)], env)
        w, c, said = timed([*wuye, "--store", str(office), "sync"], env)
        times["wuye sync (first, fresh clone)"].append((w, c))
        times["git fetch"].append(timed(["git", "-C", str(office), "fetch", "-q", "origin"], env)[:2])
        times["git status"].append(timed(["git", "-C", str(office), "status", "--porcelain"], env)[:2])
        shutil.rmtree(office)
    med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    print(f"{args.tenants} tenants, {info['files']} files; {make_store.machine()}; median of {args.n} fresh clones")
    print(f"  wuye sync said: {said.splitlines()[-1] if said else ''}")
    s = "wuye sync (first, fresh clone)"
    print(f"  {s:<32} {med[s]:6.2f} s (cpu {cpu[s]:6.2f} s)   {med[s] / med['git fetch']:5.1f}x git fetch, "
          f"{med[s] / med['git status']:5.1f}x git status (target: under 5 s)")
    for k in ("git fetch", "git status"):
        print(f"  {k:<32} {med[k]:6.2f} s (cpu {cpu[k]:6.2f} s)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
