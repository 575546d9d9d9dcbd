"""Does a write slow down as the store grows, and does the service desk cost more than a plain
record? Every write a clerk makes at the counter, on a small store and a large one, side by side.

On clones of stores made by bench/make_store.py (the bench stores themselves are never changed:
each is cloned into a temporary folder, given the settings `wuye init` gives a store, and
deleted at the end), after one untimed round that fills the records index, each command runs as
a fresh process, round-robin over the stores (one run of each in turn, so a noisy machine slows
all alike):

  archive add <t> supplement --set note=…       a record appended: one file, one commit
  complaint open / assign / respond / resolve / close     one complaint walked through the desk
  repair open / assign / done / close                     one repair walked through the desk
  moveout sign <case> return_pass --correct     a signed correction of an open case
  python -c pass                                the machine's floor
  the floor of a look-up by id                  a fresh python that stats every tenant's
                                                complaints.yaml and reads their rows from the
                                                records index: what the index's freshness rule
                                                costs any step that finds a record by id

Each command works on a tenant of its own, chosen in every store so that the file it rewrites is
as large as the median one of the smallest store (a write's cost follows the size of the file it
rewrites, and the generator gives every tenant a history of its own); the tenants are printed.

The bench stores have no move-out cases (make_store.py writes no authority chain with
WUYE_BENCH_CASES=0), so each clone gets one here, untimed, through the CLI: `wuye trust init`
founds the chain from the clone's staff, then a case is opened and signed up to return_pass.

Printed: the median wall time of each command and its CPU time (user + system of the process
and of every git it waited for, from getrusage: on a shared machine the steadier figure), its
ratio to the same command on the smallest store (target: within 1.2x) and, for the desk's
steps, to `archive add` on the same store (target: within 1.2x).

    python bench/write.py                                  # 100 and 10,000 tenants, 7 runs
    python bench/write.py --sizes 100 1000 -n 5
    python bench/write.py --code /path/to/other/checkout   # also that checkout's wuye, its own clones
    python bench/write.py --profile /tmp/prof              # then one cProfile run of each on the largest

A store of N tenants is looked for in each --cache folder in turn (default: $WUYE_BENCH_CACHE,
then /tmp/wuye-bench) and generated in the first if none has it. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("WUYE_BENCH_CASES", "0")
import make_store  # noqa: E402  (the sibling script: store generation and shared helpers)

HERE = Path(__file__).resolve().parents[1]
# The repository settings `wuye init` writes (storage/git.py LOCAL_CONFIG): a `git clone` has none,
# and without core.splitIndex every commit rewrites the whole 12 MB index of a 10,000-tenant store.
LOCAL_CONFIG = {"core.splitIndex": "true", "core.untrackedCache": "true", "core.quotePath": "false",
                "commit.gpgSign": "false", "tag.gpgSign": "false", "gc.auto": "0"}
STEPS = ["archive add", "complaint open", "complaint assign", "complaint respond", "complaint resolve",
         "complaint close", "repair open", "repair assign", "repair done", "repair close", "moveout sign"]
FLOOR = "python -c pass"
# What finding a record by id cannot do without, on a store of N tenants: a stat of every tenant's
# complaints.yaml and a read of their rows from the records index (the index's freshness rule:
# each file asked for is stat'ed, every time). Timed as a fresh process beside the commands.
LOOKUP_FLOOR = """import os, sqlite3, sys
root = sys.argv[1]
con = sqlite3.connect(os.path.join(root, ".git", "wuye", "index.sqlite"))
rows = {r[0]: r for r in con.execute("SELECT rel, ino, size, mtime, ctime, seen, value FROM files WHERE kind=?",
                                     ("desk-ids:complaints",))}
fd = os.open(root, os.O_RDONLY)
tenants = sorted(e.name for e in os.scandir(os.path.join(root, "tenants")) if e.is_dir(follow_symlinks=False))
fresh = 0
for t in tenants:
    rel = f"tenants/{t}/complaints.yaml"
    try:
        st = os.stat(rel, dir_fd=fd, follow_symlinks=False)
    except OSError:
        continue
    r = rows.get(rel)
    fresh += r is not None and r[3] == st.st_mtime_ns and r[4] == st.st_ctime_ns and r[2] == st.st_size and r[1] == st.st_ino
print(fresh, len(rows))
"""
# The file each kind of command rewrites.
CATEGORIES = {"archive add": "supplement", "complaint": "complaints", "repair": "repairs"}


def sizes(root: Path, category: str) -> dict[str, int]:
    """{tenant id: size of its <category>.yaml} (0 if it has none)."""
    out = {}
    for d in os.scandir(root / "tenants"):
        try:
            out[d.name] = os.stat(f"{d.path}/{category}.yaml").st_size
        except OSError:
            out[d.name] = 0
    return out


def typical_sizes(info: dict) -> dict[str, int]:
    """The median size of each category's files in a store (the smallest: the one every store's
    chosen tenants are matched to)."""
    return {c: int(statistics.median(sizes(Path(info["store"]), c).values())) for c in CATEGORIES.values()}


timed = make_store.timed


def manifest(n: int, caches: list[Path]) -> dict:
    for c in caches:
        if (c / f"store-{n}.json").is_file():
            return make_store.ensure(n, c)
    return make_store.ensure(n, caches[0])


class Target:
    """One clone of one bench store, run by one checkout's wuye."""

    def __init__(self, label: str, code: str | None, n: int, info: dict, tmp: Path, typical: dict[str, int]):
        self.label, self.code, self.n, self.info = label, code, n, info
        self.root = tmp / f"{label}-{n}"
        subprocess.run(["git", "clone", "-q", info["store"], str(self.root)], check=True)
        for key, value in LOCAL_CONFIG.items():
            subprocess.run(["git", "-C", str(self.root), "config", key, value], check=True)
        subprocess.run(["git", "-C", str(self.root), "update-index", "--split-index"], check=True)
        self.env = make_store.bench_env(info["keys"], WUYE_LANG="en", WUYE_USER="wangli")
        self.wuye = ([sys.executable, "-m", "wuye"] if code else make_store.wuye_command()) + ["--store", str(self.root)]
        tenants = sorted(p.name for p in (self.root / "tenants").iterdir())
        # Each command works on a tenant of its own (so that each file grows only by its own steps)
        # whose file is as large as the typical one of the smallest store: a write's cost follows
        # the size of the file it rewrites, and the generator gives each tenant its own history.
        self.sizes = {c: sizes(self.root, c) for c in CATEGORIES.values()}
        self.chosen: list[str] = []
        self.add_tenant, self.complaint_tenant, self.repair_tenant = (
            self._pick(CATEGORIES[k], typical[CATEGORIES[k]]) for k in ("archive add", "complaint", "repair"))
        self.case_tenant = next(t for t in tenants[len(tenants) // 3:] if t not in self.chosen)
        self.case = self._case()
        self.cards = self._cards()
        self.ids: dict[str, str] = {}
        self.runs = 0

    def _pick(self, category: str, size: int) -> str:
        tid = min((t for t in self.sizes[category] if t not in self.chosen), key=lambda t: (abs(self.sizes[category][t] - size), t))
        self.chosen.append(tid)
        return tid

    def run(self, *args: str) -> tuple[float, float, str]:
        return timed([*self.wuye, *args], self.env, self.code)

    def _cards(self) -> str:
        text = (self.root / "tenants" / self.case_tenant / "move_in.yaml").read_text(encoding="utf-8")
        m = re.search(r"^access_cards_issued: *(\d+)", text, re.M)
        return m.group(1) if m else "0"

    def _case(self) -> str:
        """A move-out case signed up to return_pass, made here through the CLI (untimed)."""
        import datetime as dt

        if not (self.root / "authority").exists():
            self.run("trust", "init", "--as", "sunhao")
        planned = (dt.date.today() + dt.timedelta(days=45)).isoformat()
        _, _, out = self.run("moveout", "start", self.case_tenant, "--date", planned, "--reason", "bench",
                             "--set", "notice_ref=ZS-BENCH", "--as", "zhaomin")
        case = out.split()[0]
        self.run("moveout", "sign", case, "application", "--set", "representative=张三", "--set",
                 "representative_phone=13800138000", "--set", "form_received=true", "--set",
                 f"received_on={dt.date.today().isoformat()}", "--as", "wangli")
        self.run("moveout", "sign", case, "return_pass", "--set", f"access_cards_returned={self._cards()}", "--as", "liuqiang")
        return case

    def argv(self, step: str) -> list[str]:
        self.runs += 1
        k = self.runs
        c, r = self.ids.get("complaint"), self.ids.get("repair")
        return {
            "archive add": ["archive", "add", self.add_tenant, "supplement", "--set", f"note=补充营业执照副本（基准测试 {k}）"],
            "complaint open": ["complaint", "open", self.complaint_tenant, "--channel", "phone", "--text", f"空调噪音（基准测试 {k}）"],
            "complaint assign": ["complaint", "assign", str(c), "--dept", "engineering", "--to", "zhangwei"],
            "complaint respond": ["complaint", "respond", str(c), "--text", "已安排工程部检查"],
            "complaint resolve": ["complaint", "resolve", str(c), "--result", "已更换风机轴承"],
            "complaint close": ["complaint", "close", str(c), "--satisfaction", "5"],
            "repair open": ["repair", "open", self.repair_tenant, "--location", "1205 洗手间", "--text", f"水龙头漏水（基准测试 {k}）"],
            "repair assign": ["repair", "assign", str(r), "--to", "zhangwei"],
            "repair done": ["repair", "done", str(r), "--cost", "0"],
            "repair close": ["repair", "close", str(r), "--satisfaction", "5"],
            "moveout sign": ["moveout", "sign", self.case, "return_pass", "--set", f"access_cards_returned={self.cards}",
                             "--set", f"note=补交（基准测试 {k}）", "--correct", "--as", "wangli"],
        }[step]

    def step(self, step: str) -> tuple[float, float]:
        wall, cpu, out = self.run(*self.argv(step))
        if step.endswith(" open"):
            self.ids[step.split()[0]] = out.split()[0]  # the new id is the first word printed
        return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 10000], help="store sizes (default 100 10000)")
    ap.add_argument("-n", type=int, default=7, help="timed runs of each step on each store (default 7)")
    ap.add_argument("--cache", type=Path, nargs="+",
                    default=[*([Path(os.environ["WUYE_BENCH_CACHE"])] if os.environ.get("WUYE_BENCH_CACHE") else []),
                             Path("/tmp/wuye-bench")], help="bench caches to look for store-N in, in order")
    ap.add_argument("--code", help="also time the wuye package of this checkout (python -m wuye from there)")
    ap.add_argument("--profile", type=Path, help="after timing, one cProfile run of each step on the largest store, here")
    args = ap.parse_args()

    infos = {n: manifest(n, args.cache) for n in args.sizes}
    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-write-"))
    variants = [("this", None)] + ([("other", str(Path(args.code).resolve()))] if args.code else [])
    started = time.perf_counter()
    try:
        typical = typical_sizes(infos[min(args.sizes)])
        targets = [Target(label, code, n, infos[n], tmp, typical) for label, code in variants for n in args.sizes]
        for t in targets:  # untimed: fills the records index, warms the disk cache
            for s in STEPS:
                t.step(s)
        times = {(t.label, t.n, s): [] for t in targets for s in STEPS}
        floor: list[tuple[float, float]] = []
        lookup: dict[int, list[tuple[float, float]]] = {n: [] for n in args.sizes}
        for _ in range(args.n):
            for s in STEPS:
                for t in targets:
                    times[(t.label, t.n, s)].append(t.step(s))
            floor.append(timed([sys.executable, "-c", "pass"], make_store.bench_env(), None)[:2])
            for t in targets:
                if t.code is None:
                    lookup[t.n].append(timed([sys.executable, "-c", LOOKUP_FLOOR, str(t.root)], make_store.bench_env(), None)[:2])
        elapsed = time.perf_counter() - started
        report(args, infos, variants, targets, times, floor, lookup, elapsed)
        if args.profile:
            profile(args.profile, [t for t in targets if t.n == max(args.sizes)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(args, infos, variants, targets, times, floor, lookup, elapsed) -> None:
    med = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    small, big = min(args.sizes), max(args.sizes)
    print(f"machine: {make_store.machine()}")
    print(f"{FLOOR}: {statistics.median(w for w, _ in floor) * 1000:.0f} ms (cpu {statistics.median(c for _, c in floor) * 1000:.0f} ms)")
    for n, runs in lookup.items():
        print(f"floor of a look-up by id on {n:,} tenants (stat every complaints.yaml, read its index rows, in a fresh "
              f"python): {statistics.median(w for w, _ in runs) * 1000:.0f} ms (cpu {statistics.median(c for _, c in runs) * 1000:.0f} ms)")
    for label, code in variants:
        who = "this checkout" if code is None else code
        headers = ["command"] + [f"{n:,} tenants: wall (cpu) ms" for n in args.sizes] + \
                  [f"{big:,} ÷ {small:,}: wall (cpu)", f"÷ archive add, {big:,}: wall (cpu)"]
        rows = []
        for s in STEPS:
            row = [f"wuye {s}"]
            for n in args.sizes:
                row.append(f"{med[(label, n, s)] * 1000:.0f} ({cpu[(label, n, s)] * 1000:.0f})")
            row.append(f"{med[(label, big, s)] / med[(label, small, s)]:.2f}× ({cpu[(label, big, s)] / cpu[(label, small, s)]:.2f}×)")
            add = (label, big, "archive add")
            row.append("" if s in ("archive add", "moveout sign") else
                       f"{med[(label, big, s)] / med[add]:.2f}× ({cpu[(label, big, s)] / cpu[add]:.2f}×)")
            rows.append(row)
        files = ", ".join(f"{n:,} tenants {infos[n]['files']:,} files" for n in args.sizes)
        for t in targets:
            if t.label == label:
                print(f"{t.n:,} tenants, {label}: " + ", ".join(
                    f"{k} on {tid} ({t.sizes[CATEGORIES[k]][tid]:,} bytes)" for k, tid in
                    (("archive add", t.add_tenant), ("complaint", t.complaint_tenant), ("repair", t.repair_tenant)))
                    + f", moveout on {t.case_tenant} ({t.case})")
        make_store.table(headers, rows, f"wuye of {who}; {files}; median of {args.n} fresh processes each, round-robin "
                                        f"({elapsed:.0f} s in all); targets: {big:,} ÷ {small:,} ≤ 1.2×, ÷ archive add ≤ 1.2×")
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def profile(out: Path, targets: list) -> None:
    """One run of each step under cProfile (on the largest store), saved as <label>-<step>.prof, and
    the functions of wuye that took the most time, cumulative."""
    import pstats

    out.mkdir(parents=True, exist_ok=True)
    for t in targets:
        for s in STEPS:
            prof = out / f"{t.label}-{s.replace(' ', '-')}.prof"
            argv = t.argv(s)
            cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "wuye", "--store", str(t.root), *argv]
            p = subprocess.run(cmd, env=t.env, cwd=t.code, capture_output=True, text=True)
            if p.returncode != 0:
                print(f"profile of {s} failed: {p.stderr[-500:]}")
                continue
            if s.endswith(" open"):
                t.ids[s.split()[0]] = p.stdout.split()[0]
            print(f"\n--- {t.label}, {t.n:,} tenants: wuye {s} (cProfile, {prof})")
            stats = pstats.Stats(str(prof))
            stats.sort_stats("cumulative").print_stats(r"wuye/(?!cli)", 12)


if __name__ == "__main__":
    main()
