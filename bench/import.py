"""Benchmark `wuye import`: a realistic ledger of N tenants into a fresh store.

    python bench/import.py [N] [--keep DIR] [--csv]

Generates an xlsx tenant ledger (客户台账) of N tenants (default 10,000) as an office's would look:
a merged title row, Chinese headers, several units per tenant now and then, phones with spaces or
dashes, amounts as `¥120,000.00` or `12万`, dates in four formats. Creates a fresh store with one
staff member, then runs `wuye import` on it in a child process (so the figures are the import's
own: wall time, tenants per second, peak resident memory of the importing process and of git),
then imports the same file again (it must change nothing and make no commit).

Target on a 2-core machine: 10,000 tenants in under 60 s and under 500 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国志宏文斌浩宇欣怡晨阳佳琪子涵梓轩"
PLACES = ("北京", "上海", "深圳", "杭州", "广州", "成都", "南京", "武汉", "天津", "西安")
WORDS = ("云帆", "衡信", "华锐", "青禾", "木石", "星辰", "瑞丰", "知行", "博远", "启明", "蓝鲸", "中科", "汇通", "鼎盛",
         "嘉禾", "金桥", "远景", "新元", "卓越", "恒泰", "安达", "泰和", "同创", "宏图", "天择", "聚能", "海纳", "鸿运")
TRADES = ("数据科技", "律师事务所", "贸易", "企业管理咨询", "建筑设计", "互动网络科技", "国际货运代理", "教育科技",
          "人力资源服务", "文化传媒", "广告", "软件", "信息技术", "医疗器械", "投资管理", "会计师事务所")
FORMS = ("有限公司", "有限责任公司", "股份有限公司", "（北京）有限公司")


def uscc(rng: random.Random) -> str:
    from stdnum.cn import uscc as mod

    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "9111010" + str(rng.randint(5, 8)) + "MA" + "".join(rng.choice(alphabet) for _ in range(7))
    return body + mod.calc_check_digit(body)


def messy_phone(rng: random.Random) -> str:
    prefix = rng.choice(("13", "18")) + rng.choice("0123456789") if rng.random() < 0.7 else "15" + rng.choice("0123589")
    number = prefix + "".join(rng.choice("0123456789") for _ in range(8))
    style = rng.randrange(4)
    if style == 0:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == 1:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 2:
        return "+86 " + number
    return number


def messy_amount(rng: random.Random, yuan: int) -> object:
    style = rng.randrange(4)
    if style == 0:
        return f"¥{yuan:,.2f}"
    if style == 1 and yuan % 1000 == 0:
        return f"{yuan / 10000:g}万"
    if style == 2:
        return yuan
    return f"{yuan:,}"


def messy_date(rng: random.Random, d):
    style = rng.randrange(4)
    if style == 0:
        return f"{d.year}/{d.month}/{d.day}"
    if style == 1:
        return f"{d.year}年{d.month}月{d.day}日"
    if style == 2:
        return f"{d.year}.{d.month:02d}.{d.day:02d}"
    return d  # a real Excel date cell


def generate(n: int, path: Path, seed: int = 42) -> None:
    import datetime as dt

    from openpyxl import Workbook

    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户台账")
    ws.append(["柏彦大厦客户台账（2026 年 11 月）"])
    ws.append(["序号", "客户名称", "统一社会信用代码", "房号", "面积（㎡）", "联系人", "联系电话", "租赁押金（元）",
               "装修押金", "入驻日期", "租期开始", "租期结束"])
    names: set[str] = set()
    floor_units = {}
    for i in range(1, n + 1):
        while True:
            name = rng.choice(PLACES) + rng.choice(WORDS) + rng.choice(WORDS) + rng.choice(TRADES) + rng.choice(FORMS)
            if name not in names:
                names.add(name)
                break
        count = 2 if rng.random() < 0.1 else 1
        units = []
        for _ in range(count):
            floor = rng.randint(2, 60)
            floor_units[floor] = floor_units.get(floor, 0) + 1
            units.append(f"{floor}{floor_units[floor]:03d}")
        areas = [round(rng.uniform(40, 600), 2) for _ in units]
        start = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(2500))
        start = start.replace(day=min(start.day, 28))
        end = start.replace(year=start.year + rng.choice((2, 3, 5))) - dt.timedelta(days=1)
        move_in = start + dt.timedelta(days=rng.randrange(60))
        rent = int(sum(areas) * rng.choice((180, 210, 240))) // 100 * 100
        ws.append([
            i, name + (" " if rng.random() < 0.05 else ""), uscc(rng), "、".join(units),
            "、".join(f"{a:.2f}" for a in areas) if count > 1 else areas[0],
            rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
            messy_phone(rng), messy_amount(rng, rent * 3),
            messy_amount(rng, rng.choice((10000, 20000, 30000, 50000))) if rng.random() < 0.6 else None,
            messy_date(rng, move_in), messy_date(rng, start), messy_date(rng, end),
        ])
    wb.save(path)


def make_store(root: Path):
    """A store founded by its manager, who imports: a ledger's deposits and rent are money, which
    only finance or management may seal (trust/money.py)."""
    from wuye.admin.create import init_store

    return init_store(root, "基准大厦", managers=[("zhaomin", "赵敏")])


CHILD = r"""
import sys, time, json, resource
from pathlib import Path
from wuye.transfer import importing
from wuye.storage.store import Store
last = {}
def progress(stage, done, total):
    last[stage] = time.perf_counter()
t = time.perf_counter()
r = importing.import_files(Store(Path(sys.argv[1])), [Path(sys.argv[2])], "zhaomin", progress=progress)
end = time.perf_counter()
built = last.get("write", last.get("read", t))
print(json.dumps({"wall": end - t, "built": built - t, "stored": end - built, "created": len(r.created),
                  "records": r.records_added, "files": len(r.files), "commit": r.commit,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_import(store: Path, ledger: Path) -> dict:
    import json

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", CHILD, str(store), str(ledger)], capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(p.returncode)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["process_wall"] = elapsed
    out["children_rss_mb"] = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return out


def wait_for_packing(store: Path) -> float:
    """Seconds until the background `git gc --auto` the import started (if any) has finished: it
    runs after the import has returned, so it is waited for before the next run and reported."""
    t = time.perf_counter()
    time.sleep(0.5)  # git detaches, then writes gc.pid
    while (store / ".git" / "gc.pid").exists():
        time.sleep(0.2)
    return time.perf_counter() - t


def objects(store: Path) -> str:
    info = dict(line.split(": ", 1) for line in subprocess.run(
        ["git", "count-objects", "-v"], cwd=store, capture_output=True, text=True).stdout.splitlines())
    return (f"{int(info['count'])} loose ({int(info['size']) / 1024:.0f} MB), "
            f"{int(info['in-pack'])} packed ({int(info['size-pack']) / 1024:.0f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=10_000, help="tenants (default 10000)")
    ap.add_argument("--keep", type=Path, help="keep the store and ledger in this folder")
    args = ap.parse_args()

    base = Path(args.keep or tempfile.mkdtemp(prefix="wuye-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("WUYE_KEYS", str(base / "keys"))
    os.environ.setdefault("GIT_CONFIG_GLOBAL", os.devnull)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        ledger = base / f"客户台账-{args.n}.xlsx"
        t = time.perf_counter()
        generate(args.n, ledger)
        print(f"ledger: {args.n} tenants, {ledger.stat().st_size / 1e6:.1f} MB xlsx, generated in {time.perf_counter() - t:.1f} s")
        root = base / "store"
        for old in (root, base / "keys"):
            if old.exists():
                shutil.rmtree(old)
        make_store(root)

        first = run_import(root, ledger)
        print(f"import:   {first['created']} tenants created, {first['records']} records, {first['files']} files, one commit")
        print(f"          wall {first['wall']:.1f} s ({first['process_wall']:.1f} s with interpreter start-up), "
              f"{first['created'] / first['wall']:.0f} tenants/s")
        print(f"          read, check and build the files {first['built']:.1f} s; write them and commit {first['stored']:.1f} s")
        print(f"          peak memory {first['rss_mb']:.0f} MB (import process); {first['children_rss_mb']:.0f} MB (largest child, git included)")
        packing = wait_for_packing(root)
        print(f"          then git packed in the background for {packing:.1f} s: {objects(root)}")
        again = run_import(root, ledger)
        print(f"re-import: {again['files']} files changed, commit {again['commit']}, wall {again['wall']:.1f} s, "
              f"peak {again['rss_mb']:.0f} MB")
        commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
        print(f"store:    {commits} commits (init with its manager, import)")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
