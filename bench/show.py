"""How fast is a look-up at the counter? `wuye archive show` and `wuye moveout status` against their floor.

On a store made by bench/make_store.py (10,000 tenants by default; generated once into the bench
cache and reused), runs each command as a fresh process, round-robin (one run of each in turn, so
that a noisy machine slows all of them alike), after one untimed warm-up of each:

  wuye archive show <id>              a dossier, all twelve categories
  wuye archive show <pinyin>          the same tenant found by pinyin initials (search)
  wuye archive show <name>            ... by part of the company name (search)
  wuye moveout status <case>          a closed case's board (all steps, the seven standards)
  wuye moveout status <case>, records changed
                                      the same after the tenant's payments file changed (a comment
                                      line toggled before each run, as when finance records a fee):
                                      the standards computed again, the signatures known sound
  wuye moveout status <case>, cold    the same, its cached board deleted before each run: every
                                      signature checked, every model built
  minimal show                        typer + ruamel.yaml (C loader) + rich: the same twelve files
                                      read and printed as tables, nothing of wuye's own
  minimal status                      the same for the board: finds the case folder as wuye does,
                                      reads the case, its entries, the workflow, wuye.yaml, the staff
                                      and the tenant's move_in/payments/violations, prints two tables
  python -c 'import typer', python -c pass    the machine's floor, in the same run

and prints the median and fastest wall time of each with its ratio to the floor it is judged by.
Targets (issue 7): a look-up within 1.25x its minimal script; a search within 1.25x a look-up.

    python bench/show.py                    # the 10,000-tenant store
    python bench/show.py --tenants 1000 -n 15
    python bench/show.py --store PATH --tenant T0001 --case MO-2026-0001 --keys KEYDIR

Not a test: nothing is asserted. git's global config is ignored; nothing in the store changes
except wuye's own caches under .git/wuye/.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_store  # noqa: E402  (the sibling script: store generation and shared helpers)

MINIMAL_SHOW = textwrap.dedent('''\
    """The floor of `archive show`: a dossier's YAML read with the C loader, printed with rich."""
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

MINIMAL_STATUS = textwrap.dedent('''\
    """The floor of `moveout status`: the files a board is made of, read with the C loader, printed with rich."""
    from pathlib import Path

    import typer

    app = typer.Typer()


    @app.command()
    def status(store: Path, case: str):
        from rich.console import Console
        from rich.table import Table
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=False)

        def load(p):
            return yaml.load(p.read_text(encoding="utf-8")) or {}

        (case_yaml,) = store.glob(f"tenants/*/moveout/{case}/case.yaml")
        info = load(case_yaml)
        tenant = store / "tenants" / info["tenant_id"]
        workflow = load(store / "workflows" / "moveout.yaml")
        load(store / "wuye.yaml")
        records = {k: load(tenant / f"{k}.yaml") for k in ("move_in", "payments", "violations")}
        staff = {p.stem: load(p) for p in sorted((store / "staff").glob("*.yaml"))}
        entries = {}
        for p in sorted((case_yaml.parent / "steps").glob("*.yaml")):
            e = load(p)
            entries[e["step"]] = e
        console = Console()
        console.print(f"{case}  {info.get('company')} ({info['tenant_id']})  {info.get('status')}")
        t = Table(title="steps")
        for h in ("step", "state", "signed by", "when", "signers"):
            t.add_column(h)
        for s in workflow["steps"]:
            e = entries.get(s["id"])
            who = staff.get(e["signer"], {}).get("name", "") if e else ""
            t.add_row(s["title"], "done" if e else "", who, str(e["signed_at"])[:16] if e else "", ", ".join(s["signers"]))
        console.print(t)
        t = Table(title="standards")
        t.add_column("")
        t.add_column("records")
        for k, v in records.items():
            t.add_row(k, str(len(v.get("entries", v))))
        console.print(t)


    if __name__ == "__main__":
        app()
''')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tenants", type=int, default=10000, help="size of the make_store store (default 10000)")
    ap.add_argument("--store", type=Path, help="an existing store instead (with --tenant, --case, --keys)")
    ap.add_argument("--tenant", help="the tenant to show (default: the manifest's)")
    ap.add_argument("--case", help="the case to show (default: the manifest's last closed case)")
    ap.add_argument("--keys", help="WUYE_KEYS for --store")
    ap.add_argument("-n", type=int, default=11, help="timed runs of each command (default 11)")
    args = ap.parse_args()

    if args.store:
        store, keys = args.store.resolve(), args.keys
        tenant = args.tenant or sorted(p.name for p in (store / "tenants").iterdir() if p.is_dir())[0]
        case = args.case
        queries = []
    else:
        info = make_store.ensure(args.tenants)
        store, keys = Path(info["store"]), info["keys"]
        tenant = args.tenant or info["tenant"]
        case = args.case or info["cases"]["closed"][-1]
        queries = [("pinyin", info["pinyin_query"]), ("name", info["name_query"])]
    env = make_store.bench_env(keys)
    wuye = [*make_store.wuye_command(), "--store", str(store)]
    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-show-"))
    index_db = store / ".git" / "wuye" / "index.sqlite"

    def forget_boards():  # the kept boards are rows of the records index's database (storage/verdicts.py)
        import sqlite3

        if index_db.exists():
            con = sqlite3.connect(index_db)
            try:
                con.execute("DELETE FROM boards")
                con.commit()
            except sqlite3.OperationalError:  # no such table yet
                pass
            finally:
                con.close()
    payments = next(store.glob(f"tenants/*/moveout/{case}/case.yaml")).parents[2] / "payments.yaml" if case else None
    original = payments.read_bytes() if payments is not None else b""
    toggle = [0]

    def records_change():
        toggle[0] ^= 1
        payments.write_bytes(original + (b"# bench: a change to the tenant's records\n" if toggle[0] else b""))

    try:
        (tmp / "minimal_show.py").write_text(MINIMAL_SHOW, encoding="utf-8")
        (tmp / "minimal_status.py").write_text(MINIMAL_STATUS, encoding="utf-8")
        cases = [("show", f"wuye archive show {tenant}", [*wuye, "archive", "show", tenant], None)]
        for kind, q in queries:
            cases.append((f"search-{kind}", f"wuye archive show {q}  ({kind} search)", [*wuye, "archive", "show", q], None))
        cases.append(("minimal-show", "minimal show (typer + ruamel C + rich)", [sys.executable, str(tmp / "minimal_show.py"), str(store), tenant], None))
        if case:
            cases += [
                ("status", f"wuye moveout status {case}", [*wuye, "moveout", "status", case], None),
                ("status-records", f"wuye moveout status {case}, records changed", [*wuye, "moveout", "status", case],
                 records_change),
                ("status-cold", f"wuye moveout status {case}, board not cached", [*wuye, "moveout", "status", case],
                 forget_boards),
                ("minimal-status", "minimal status (typer + ruamel C + rich)", [sys.executable, str(tmp / "minimal_status.py"), str(store), case], None),
            ]
        cases += [("typer", "python -c 'import typer'", [sys.executable, "-c", "import typer"], None),
                  ("pass", "python -c pass", [sys.executable, "-c", "pass"], None)]
        for _, _, argv, before in cases:  # warm-up: page cache, .pyc files, wuye's caches
            if before:
                before()
            make_store.Run(argv, env)
        times: dict[str, list[float]] = {key: [] for key, *_ in cases}
        started = time.perf_counter()
        for _ in range(args.n):
            for key, _, argv, before in cases:
                if before:
                    before()
                times[key].append(make_store.Run(argv, env).seconds)
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if payments is not None:
            payments.write_bytes(original)

    med = {k: make_store.median(v) for k, v in times.items()}
    judged = {"show": "minimal-show", "minimal-show": "minimal-show", "status": "minimal-status", "status-records": "minimal-status",
              "status-cold": "minimal-status", "minimal-status": "minimal-status"}
    rows = []
    for key, label, *_ in cases:
        floor = judged.get(key) or ("show" if key.startswith("search") else None)
        ratio = f"{med[key] / med[floor]:.2f}× {'minimal' if floor.startswith('minimal') else 'look-up'}" if floor else ""
        rows.append([label, f"{med[key] * 1000:.0f}", f"{min(times[key]) * 1000:.0f}", ratio])
    print(f"store: {store} ({sum(1 for p in (store / 'tenants').iterdir() if p.is_dir())} tenants)")
    print(f"machine: {make_store.machine()}")
    make_store.table(["command", "median ms", "fastest ms", "ratio (median)"], rows,
                     f"{args.n} runs of each, round-robin, wall time of a fresh process ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
