"""Benchmark `wuye export` and the import of its exports, each beside a floor measured in the same run.

    python bench/export.py [--tenants 10000] [-n 3] [--no-import]

On the store made by bench/make_store.py (generated once into the bench cache and reused; a clone
is measured, the cache is never touched). Every figure is a fresh child process: wall time, CPU
time (user + system, with its workers) and peak memory (resource.getrusage(RUSAGE_CHILDREN)
.ru_maxrss of a wrapper that runs only that command). Floors:

- xlsx, first run (no rows in the records index): every file the workbook shows parsed by
  storage/fastyaml in two processes, and their rows written by the bare writer (transfer/xlsx.py)
  with no validation, labels or conversion;
- xlsx, warm: the same rows read from the records index with one SQLite query, decompressed and
  written by the bare writer;
- json: every file parsed by fastyaml in one process (the export is one process);
- import of the JSON export: the file parsed by ijson (a dossier at a time), then the same files
  as the import wrote written with plain file writes, `git add` and `git commit`;
- import of the xlsx export: the workbook read by python-calamine, then the same writes.

Target (issue 19): xlsx under 20 s and 200 MB; an import of the 10,000-tenant export under 60 s and 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
os.environ.setdefault("WUYE_BENCH_CASES", "0")  # as bench/reports.py: the cached stores have no move-out cases
sys.path.insert(0, str(HERE))

WRAP = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True)
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024,
                  "err": p.stderr.decode("utf-8", "replace")[-2000:]}))
"""


def measure(cmd: list[str], env: dict | None = None) -> dict:
    p = subprocess.run([sys.executable, "-c", WRAP, *map(str, cmd)], capture_output=True, text=True, env=env)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if out["rc"] != 0:
        sys.stderr.write(out["err"])
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}")
    return out


def show(label: str, runs: list[dict], floor: dict | None = None, floor_label: str = "") -> None:
    wall = statistics.median(r["wall"] for r in runs)
    cpu = statistics.median(r["cpu"] for r in runs)
    rss = max(r["rss_mb"] for r in runs)
    line = f"{label:<34} {wall:7.2f} s (CPU {cpu:6.2f} s), peak {rss:5.0f} MB"
    if floor is not None:
        line += f"   floor {floor['wall']:6.2f} s (CPU {floor['cpu']:6.2f} s, {floor['rss_mb']:4.0f} MB): {wall / floor['wall']:.1f}×  [{floor_label}]"
    print(line, flush=True)


FLOOR_PARSE = r"""
import sys, os
from multiprocessing import Pool
from pathlib import Path
from wuye.storage import fastyaml
root = Path(sys.argv[1]); procs = int(sys.argv[2]); write = sys.argv[3] == "write"
names = ("profile", "payments", "renovation", "move_in", "supplement", "contacts", "emergency", "correspondence",
         "violations", "repairs", "complaints", "engineering")
rels = [f"tenants/{t}/{n}.yaml" for t in sorted(os.listdir(root / "tenants")) for n in names]
rels += [f"units/{u}" for u in sorted(os.listdir(root / "units"))]
def rows(rel):
    p = root / rel
    if not p.is_file():
        return []
    data = fastyaml.parse(p.read_text(encoding="utf-8"))
    records = data.get("entries") or [] if isinstance(data, dict) and "entries" in data else [data]
    return [[v for v in r.values() if isinstance(v, (str, int, float))] for r in records if isinstance(r, dict)]
if procs > 1:
    with Pool(procs) as pool:
        got = pool.map(rows, rels, chunksize=500)
else:
    got = [rows(r) for r in rels]
if write:
    import tempfile
    from wuye.transfer import xlsx
    def body():
        for file_rows in got:
            for r in file_rows:
                yield '<row r="\x00">' + "".join(xlsx.cell(f"{xlsx.column_letter(i)}\x00", v, None) for i, v in enumerate(r)) + "</row>"
    n = sum(len(x) for x in got)
    with tempfile.TemporaryFile() as f:
        wb = xlsx.Workbook(f)
        wb.sheet("rows", ["x"], [8], n, body())
        wb.close()
"""

FLOOR_WARM = r"""
import sqlite3, sys, tempfile, zlib
from wuye.transfer import xlsx
con = sqlite3.connect(sys.argv[1])
import pickle
blobs = [pickle.loads(v) for (v,) in con.execute("SELECT value FROM files WHERE kind >= 'xlsx:' AND kind < 'xlsx;'")]
def body():
    for v in blobs:
        if v and v[1]:
            yield from zlib.decompress(v[0]).decode().replace("\x02", "").split(xlsx.NEXT)
n = sum(v[1] for v in blobs if v)
with tempfile.TemporaryFile() as f:
    wb = xlsx.Workbook(f)
    wb.sheet("rows", ["x"], [8], n, body())
    wb.close()
"""

FLOOR_IMPORT = r"""
import os, subprocess, sys
from pathlib import Path
src, files_from, target, kind = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
if kind == "json":
    import ijson
    with src.open("rb") as f:
        n = sum(1 for _ in ijson.items(f, "tenants.item", use_float=True))
else:
    import python_calamine as cal
    wb = cal.CalamineWorkbook.from_path(str(src))
    n = sum(len(wb.get_sheet_by_name(s).to_python()) for s in wb.sheet_names)
rels = subprocess.run(["git", "ls-files", "-z", "tenants", "units"], cwd=files_from, capture_output=True).stdout.decode().split("\0")
rels = [r for r in rels if r]
subprocess.run(["git", "init", "-q", str(target)], check=True)
for rel in rels:
    data = (files_from / rel).read_bytes()
    p = target / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
os.sync()
env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
subprocess.run(["git", "add", "-A"], cwd=target, check=True)
subprocess.run(["git", "commit", "-q", "-m", "floor"], cwd=target, check=True, env=env)
"""


def empty_store(path: Path, keys: Path) -> None:
    code = ("import sys; from pathlib import Path; from wuye.admin.create import init_store; "
            "init_store(Path(sys.argv[1]), '基准大厦', managers=[('zhaomin', '赵敏')])")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env={**os.environ, "WUYE_KEYS": str(keys)})


def wait_for_packing(store: Path) -> None:
    time.sleep(0.5)
    while (store / ".git" / "gc.pid").exists():
        time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=10_000)
    ap.add_argument("-n", type=int, default=3, help="warm runs of each export (median)")
    ap.add_argument("--no-import", action="store_true", help="measure the exports only")
    args = ap.parse_args()
    from make_store import ensure  # the bench cache: made once, reused

    info = ensure(args.tenants)
    base = Path(tempfile.mkdtemp(prefix="wuye-bench-export-"))
    os.environ.setdefault("GIT_CONFIG_GLOBAL", os.devnull)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    from make_store import bench_env

    env = bench_env(info["keys"])
    wuye = [sys.executable, "-m", "wuye"]
    try:
        root = base / "store"
        subprocess.run(["git", "clone", "-q", info["store"], str(root)], check=True)
        print(f"{args.tenants} tenants, a fresh clone; load average {os.getloadavg()[0]:.1f}", flush=True)
        out = base / "out"
        out.mkdir()
        export = lambda fmt: wuye + ["--store", root, "export", "--as", "wangli", "-o", out / f"all.{fmt}"]  # noqa: E731

        cold_floor = measure([sys.executable, "-c", FLOOR_PARSE, root, 2, "write"])
        show("export xlsx, first run (no index)", [measure(export("xlsx"), env)], cold_floor, "fastyaml, 2 processes + bare writer")
        warm = [measure(export("xlsx"), env) for _ in range(args.n)]
        warm_floor = measure([sys.executable, "-c", FLOOR_WARM, root / ".git/wuye/index.sqlite"])
        show("export xlsx, warm", warm, warm_floor, "SQLite rows + bare writer")
        print(f"{'':<34} workbook {(out / 'all.xlsx').stat().st_size / 1e6:.1f} MB", flush=True)
        parse1 = measure([sys.executable, "-c", FLOOR_PARSE, root, 1, "parse"])
        show("export json", [measure(export("json"), env) for _ in range(args.n)], parse1, "fastyaml, 1 process")
        show("export csv (ledger)", [measure(export("csv"), env) for _ in range(args.n)])
        print(f"{'':<34} json {(out / 'all.json').stat().st_size / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f}", flush=True)
        if args.no_import:
            return
        for fmt in ("json", "xlsx"):
            keys = base / f"keys-{fmt}"
            target = base / f"import-{fmt}"
            empty_store(target, keys)
            run = measure(wuye + ["--store", target, "import", "--as", "zhaomin", out / f"all.{fmt}"], {**os.environ, "WUYE_KEYS": str(keys)})
            wait_for_packing(target)
            floor = measure([sys.executable, "-c", FLOOR_IMPORT, out / f"all.{fmt}", target, base / f"floor-{fmt}", fmt])
            show(f"import of the {fmt} export", [run], floor, ("ijson" if fmt == "json" else "calamine") + " + file writes + git add/commit")
        print(f"load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
