"""How fast is a look-up at the counter? `wuye archive show` against its floor.

Runs, each N times as a fresh process (after one untimed warm-up):
  1. `wuye archive show <tenant>`                      the real command;
  2. `python -c "import typer"`                         the price of the CLI framework alone;
  3. a minimal typer + ruamel.yaml (C loader) + rich script that reads the same twelve files and
     prints them as tables: what the look-up would cost with nothing of wuye's own;
  4. `python -c pass`                                   the interpreter's start-up.
and prints the median and fastest wall time of each, and ratios to the minimal script.

    python bench/show.py                  # builds a small store in a temp dir (a few seconds)
    python bench/show.py STORE [-t T0001] [-n 20]

Not a test: nothing is asserted. Private keys of the built store go to a temp WUYE_KEYS; git's
global config is ignored, so the bench never depends on (or touches) the machine's identity.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

MINIMAL = textwrap.dedent('''\
    """The floor: read a dossier's YAML with the C loader, print it with rich, under typer."""
    from pathlib import Path

    import typer

    app = typer.Typer()


    @app.command()
    def show(store: Path, tenant: str):
        from rich.console import Console
        from rich.table import Table
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=False)
        console = Console()
        for path in sorted((store / "tenants" / tenant).glob("*.yaml")):
            data = yaml.load(path.read_text(encoding="utf-8")) or {}
            entries = data.get("entries") if isinstance(data, dict) else None
            if entries is None:
                table = Table(title=path.stem, show_header=False)
                table.add_column()
                table.add_column()
                for k, v in data.items():
                    table.add_row(str(k), str(v))
            else:
                columns = list(dict.fromkeys(k for e in entries for k in e))
                table = Table(title=path.stem)
                for c in columns:
                    table.add_column(c)
                for e in entries:
                    table.add_row(*(str(e.get(c, "")) for c in columns))
            console.print(table)


    if __name__ == "__main__":
        app()
''')

# One record of each category for the tenant that is looked up (the others have a profile only).
SAMPLES = {
    "payments": "kind: fee\nitem: 物业管理费\nperiod: 2026-11\namount: '12000.00'\npaid: '12000.00'\npaid_on: 2026-11-05\n",
    "renovation": "project: 办公室装修\ncontractor: 北京华美装饰工程有限公司\ncontractor_phone: '13700001111'\n"
                  "deposit: '20000.00'\nacceptance: passed\n",
    "move_in": "move_in_date: 2024-01-05\naccess_cards_issued: 12\nkeys_issued: 4\n"
               "meter_readings:\n  electricity: '10234.5'\n  water: '321'\n",
    "supplement": "date: 2025-03-01\nnote: 补充营业执照副本（已换证）\n",
    "contacts": "name: 李雷\ntitle: 行政经理\nphone: '13812345678'\nprimary: true\n",
    "emergency": "name: 张三\nrelation: 物业联络人\nphone_24h: '13900001234'\n",
    "correspondence": "date: 2026-10-20\ndirection: out\nkind: notice\nref_no: 通知〔2026〕12号\nsubject: 停水通知\n",
    "violations": "date: 2026-10-31\nkind: arrears\ndescription: 欠缴 10 月物业管理费\namount: '12000.00'\n",
    "repairs": "reported_at: 2026-11-03T09:30:00+08:00\nlocation: 1205 室卫生间\ndescription: 洗手盆下水管漏水\n",
    "complaints": "received_at: 2026-11-04T10:00:00+08:00\nchannel: phone\ndescription: 空调噪音过大\n",
    "engineering": "date: 2024-01-02\ntitle: 二次装修施工图\nkind: drawing\n",
}
NAMES = ["柏彦科技", "国贸物流", "华联商贸", "东方律师事务所", "星河传媒", "中科信息", "京东方贸易", "蓝天教育",
         "金融街咨询", "长城证券营业部", "新世纪设计", "恒通会计师事务所", "阳光保险代理", "万达影视", "天元律师事务所",
         "博雅翻译", "远洋地产经纪", "同仁医疗器械", "北辰软件", "和平建筑设计"]


def build_store(root: Path) -> str:
    """A store with 20 tenants; T0001 has all twelve categories. Returns T0001."""
    from wuye import archive, staff
    from wuye.create import init_store
    from wuye.errors import WuyeError

    store = init_store(root, "柏彦大厦")
    staff.add(store, "wangli", "王丽", ["customer_service"])
    for i, name in enumerate(NAMES, 1):
        archive.new(store, f"T{i:04d}", name, f"{1200 + i}", "wangli")
    inputs = root.parent / "inputs"
    inputs.mkdir()
    for key, body in SAMPLES.items():
        f = inputs / f"{key}.yaml"
        f.write_text(body, encoding="utf-8")
        try:
            archive.add(store, "T0001", key, "wangli", file=f)
        except WuyeError as e:  # a model changed under the bench: show less, but still measure
            print(f"bench: skipped {key}: {e}", file=sys.stderr)
    return "T0001"


def wuye_command() -> list[str]:
    script = Path(sys.executable).with_name("wuye")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "wuye"]


def timed(argv: list[str], n: int, env: dict) -> list[float]:
    def once() -> float:
        t = time.perf_counter()
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - t
        if p.returncode != 0:
            sys.exit(f"bench: {' '.join(argv)} failed ({p.returncode}):\n{p.stderr.decode(errors='replace')}")
        return elapsed

    once()  # warm-up: file cache and .pyc files
    return [once() for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store", nargs="?", type=Path, help="an existing store (default: build a small one)")
    ap.add_argument("-t", "--tenant", help="the tenant to show (default: the first one)")
    ap.add_argument("-n", type=int, default=10, help="runs of each command (default 10)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "WUYE_"))}
    env.update(WUYE_KEYS=str(tmp / "keys"), GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               COLUMNS="120", NO_COLOR="1")
    os.environ.update(env)
    try:
        if args.store is None:
            t = time.perf_counter()
            tenant = build_store(tmp / "store")
            store = tmp / "store"
            print(f"built a store of {len(NAMES)} tenants in {time.perf_counter() - t:.1f} s (a temp dir, removed after)")
        else:
            store = args.store.resolve()
            tenant = args.tenant or sorted(p.name for p in (store / "tenants").iterdir() if p.is_dir())[0]
        tenant = args.tenant or tenant
        minimal = tmp / "minimal_show.py"
        minimal.write_text(MINIMAL, encoding="utf-8")

        cases = [
            (f"wuye archive show {tenant}", [*wuye_command(), "--store", str(store), "archive", "show", tenant]),
            ("python -c 'import typer'", [sys.executable, "-c", "import typer"]),
            ("typer + ruamel(C) + rich, same files", [sys.executable, str(minimal), str(store), tenant]),
            ("python -c pass", [sys.executable, "-c", "pass"]),
        ]
        results = [(label, timed(argv, args.n, env)) for label, argv in cases]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    floor = statistics.median(results[2][1])
    width = max(len(label) for label, _ in results)
    print(f"\n{args.n} runs each, wall time of a fresh process (ms)\n")
    print(f"{'command':<{width}}  {'median':>8}  {'fastest':>8}  {'× minimal':>9}")
    for label, times in results:
        med = statistics.median(times)
        print(f"{label:<{width}}  {med * 1000:8.1f}  {min(times) * 1000:8.1f}  {med / floor:9.2f}")


if __name__ == "__main__":
    main()
