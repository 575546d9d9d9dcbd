"""`wuye demo`: the sample building 北京柏彦大厦 walked through as a clerk at the counter sees it.

The demo copies the sample store (`records/` in a checkout, `wuye/_records` in a wheel) into a fresh
folder, makes it a git repository whose first commit holds the whole sample, gives every sample staff
member a fresh signing key, then records a morning's work through the same services the commands
call (a new tenant, its profile, a contact and a deposit, a repair, a supplement) and shows the
results with the commands themselves, run in-process, so the screen is exactly what `wuye archive
show`, `archive list`, `archive check` and `wuye log` print. It writes only into the demo folder and
its key folder: `WUYE_KEYS` points at that key folder while the demo runs and is restored after, and
a key already in it is never replaced. Without `--keep` both are removed at the end. `run()` walks
`STEPS`, a list of small step functions: a whole move-out of T0003 and its verification, the log,
and last a second move-out signed as far as the inspections, so that `wuye todo` has a step to show
waiting for engineering.
What the demo itself prints goes to stdout, in order with the tables; the commands it runs keep
their own stdout/stderr split.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

from wuye.errors import WuyeError
from wuye.i18n import tr

# The old Excel ledger is input for a later `wuye import`, not part of a store's layout.
NOT_IN_STORE = ("ledger",)

# The tenant a clerk opens during the demo: a software company signing for the vacant 1205.
# The codes are fictitious but pass their checksums, as the model requires.
NEW_TENANT_NAME = "博雅科技（北京）有限公司"
NEW_TENANT_QUERY = "bykj"  # its pinyin initials, as a clerk types them at the counter
NEW_TENANT_UNIT = "1205"
NEW_TENANT_PROFILE = [
    "uscc=91110105MA0LDQQU9L",
    "legal_rep=高志远",
    "legal_rep_id=110108198502146172",
    "nature=有限责任公司",
    "industry=软件和信息技术服务业",
    "headcount=12",
    "staff_composition=管理 2 人、研发 8 人、销售 2 人",
    "lease_start=2026-12-01",
    "lease_end=2029-11-30",
    "phone=010-82673350",
]


def records_dir() -> Path:
    """The sample store shipped with wuye: inside the package in a wheel, beside it in a checkout."""
    package = Path(__file__).parents[1]  # wuye/, from wuye/cli/demo.py
    for candidate in (package / "_records", package.parent / "records"):
        if (candidate / "wuye.yaml").is_file():
            return candidate
    raise WuyeError(
        tr("找不到示例数据：%s 和 %s 都没有 wuye.yaml；请重新安装 wuye，或在源码目录中运行",
           "the sample data is missing: neither %s nor %s holds wuye.yaml; reinstall wuye, or run it from a checkout")
           % (package / "_records", package.parent / "records")
    )


@dataclass
class Demo:
    """What the steps share: where the demo store and its keys are, and what earlier steps made."""

    sample: Path
    root: Path
    keys: Path
    # The root command (wuye's click group), handed in by the `demo` command: the demo drives the
    # very command line the clerk types into, without importing it (cli/__init__ imports this).
    command: Callable[..., object]
    store: object | None = None  # wuye.store.Store, opened by the first step
    new_tenant: str | None = None
    issued: list[Path] = field(default_factory=list)  # key files this run wrote, for clean-up
    section: int = 0

    def heading(self, zh: str, en: str) -> None:
        from wuye.cli.output import out

        self.section += 1
        out().print()
        out().rule(f"{self.section}. {tr(zh, en)}", align="left")

    def say(self, zh: str, en: str) -> None:
        self.line(tr(zh, en))

    def line(self, text: str) -> None:
        from wuye.cli.output import out

        # soft_wrap: a long line is left to the terminal rather than broken mid-word at 80 columns.
        out().print(text, markup=False, soft_wrap=True)

    def cli(self, *args: str, ok: tuple[int, ...] = (0,)) -> int:
        """Run one wuye command in-process on the demo store, as a clerk would type it; its exit
        code, which must be one of `ok` (`wuye todo` says 3 when something is overdue)."""
        self.line("$ wuye " + " ".join(args))
        # standalone_mode=False: a refusal comes back as exit code 1 (the command has already
        # said why on stderr) instead of ending the process, so the demo can stop cleanly.
        code = self.command(["--store", str(self.root), *args], standalone_mode=False) or 0
        if code not in ok:
            raise WuyeError(tr("演示中断：`wuye %s` 退出码 %s",
                               "the demo stopped: `wuye %s` exited with %s") % (" ".join(args), code))
        return code


Step = Callable[[Demo], None]


# --- the steps ----------------------------------------------------------------------------------


def copy_sample(demo: Demo) -> None:
    """The sample store becomes a new git repository whose first commit holds all of it."""
    from wuye.storage import git as audit
    from wuye.storage.store import Store

    demo.heading("复制示例大厦", "Copy the sample building")
    files = {}
    for path in sorted(demo.sample.rglob("*")):
        rel = path.relative_to(demo.sample).as_posix()
        if path.is_file() and rel.split("/")[0] not in NOT_IN_STORE and "__pycache__" not in rel:
            files[rel] = path.read_bytes()
    demo.root.mkdir(parents=True, exist_ok=True)
    audit.init_repository(demo.root)
    store = Store(demo.root)
    # The files are written through the change rather than copied first: a change commits only
    # what differs from the tree, so files already in place would give an empty first commit.
    name = Store(demo.sample).config.building.name
    with store.change(
        tr("demo: 由示例数据新建档案库 %s", "demo: create the store of %s from the sample data") % name,
        trailers={"Wuye-Building": name},
    ) as ch:
        for rel, content in files.items():
            ch.write(rel, content)
    demo.store = store
    demo.say("已把 %s 的 %d 个文件复制到 %s，并提交为第一个版本" % (name, len(files), demo.root),
             "copied %d files of %s into %s as the first commit" % (len(files), name, demo.root))


# The sample's manager (管理处经理), who founds the authority chain and issues everyone's key.
MANAGER = "chenjing"


def issue_keys(demo: Demo) -> None:
    """The manager founds the authority chain (`wuye trust init`), then issues every other sample
    staff member a fresh key: the sample ships public data only."""
    from wuye.trust import signing
    from wuye.trust import staff

    demo.heading("建立授权链，为员工发放签名密钥", "Found the authority chain, issue signing keys to the staff")
    demo.cli("trust", "init", "--as", MANAGER)
    demo.issued += [signing.private_key_path(MANAGER), Path(str(signing.private_key_path(MANAGER)) + ".pub")]
    for member in staff.all_staff(demo.store):
        if member.id == MANAGER:
            continue
        staff.issue_key(demo.store, member.id, actor_id=MANAGER)
        private = signing.private_key_path(member.id)
        demo.issued += [private, Path(str(private) + ".pub")]
    demo.say("私钥保存在 %s（不在档案库中）" % demo.keys, "private keys are in %s (outside the store)" % demo.keys)
    demo.cli("staff", "list")


def seal_ledger(demo: Demo) -> None:
    """The sample's ledger was kept before the chain: finance checks it and seals every item, as
    an office adopting wuye does once (`wuye migrate`)."""
    demo.heading("财务部核对账本并签章", "Finance checks the ledger and seals it")
    demo.cli("migrate", "--as", "sunhong")


def list_tenants(demo: Demo) -> None:
    demo.heading("租户一览", "The tenants")
    demo.cli("archive", "list")


def open_new_tenant(demo: Demo) -> None:
    """Leasing has signed a new tenant for a vacant unit; customer service opens its dossier."""
    from wuye.archive import dossier as archive

    demo.heading("新租户入驻：建档", "A new tenant: open the dossier")
    tid = _next_tenant_id(demo.store)
    result = archive.new(demo.store, tid, NEW_TENANT_NAME, NEW_TENANT_UNIT, "wangli")
    demo.new_tenant = tid
    _done(demo, result, "新建档案 %s %s，房号 %s" % (tid, NEW_TENANT_NAME, NEW_TENANT_UNIT),
          "opened %s %s in unit %s" % (tid, NEW_TENANT_NAME, NEW_TENANT_UNIT))
    result = archive.add(demo.store, tid, "profile", "wangli", sets=NEW_TENANT_PROFILE)
    _done(demo, result, "补录客户单位资料（统一社会信用代码、法定代表人、租期）",
          "completed the profile (credit code, legal representative, lease term)")
    result = archive.add(demo.store, tid, "contacts", "wangli",
                         sets=["name=许婷", "title=行政主管", "phone=13718846205", "primary=true"])
    _done(demo, result, "登记联系人 许婷", "added the contact 许婷")


def take_deposit(demo: Demo) -> None:
    from wuye.archive import dossier as archive

    demo.heading("财务部收取租赁押金", "Finance takes the lease deposit")
    today = demo.store.now().date().isoformat()
    result = archive.add(demo.store, demo.new_tenant, "payments", "sunhong", sets=[
        "kind=deposit", "item=租赁押金", "amount=56880.00", "paid=56880.00", f"paid_on={today}",
        "receipt_no=BY-SJ-2026-0091", "note=三个月租金"])
    _done(demo, result, "收到租赁押金 56880.00 元", "received a lease deposit of 56880.00 yuan")


def counter_lookup(demo: Demo) -> None:
    """At the counter a clerk types pinyin initials or part of a name, never a folder name."""
    from wuye.archive import dossier as archive

    demo.heading("柜台查询（拼音首字母、公司名称）", "Counter look-up (pinyin initials, part of the name)")
    tid = archive.find_tenant(demo.store, NEW_TENANT_QUERY)
    demo.line(f"{NEW_TENANT_QUERY} → {tid}")
    demo.cli("archive", "show", NEW_TENANT_QUERY)
    # T0003's lease ends this year: what it received at move-in is what it must hand back.
    demo.cli("archive", "show", "华锐", "move_in")


def record_repair_and_supplement(demo: Demo) -> None:
    from wuye.archive import dossier as archive

    demo.heading("报修与资料补充", "A repair call and a supplement")
    now = demo.store.now()
    # The service desk numbers the call BX-<year>-<n> and keeps its history for the reports.
    demo.cli("repair", "open", "T0001", "--location", "1202 室茶水间", "--text", "净水器漏水，地面有积水",
             "--urgent", "--as", "zhaomin")
    result = archive.add(demo.store, "T0004", "supplement", "wangli", sets=[
        f"date={now.date().isoformat()}", "note=客户回复续租意向函（租函〔2026〕18号）：同意续租两年，已转租售部办理续签"])
    _done(demo, result, "T0004 补充资料：同意续租", "T0004 supplement: agrees to renew")
    # A drawing filed with its engineering record: the file is committed with the record, so that
    # every office's clone holds it and `verify` checks it against its sha256.
    with tempfile.TemporaryDirectory() as tmp:
        drawing = Path(tmp) / "0805平面图.png"
        drawing.write_bytes(plan_png())
        result = archive.add(demo.store, "T0003", "engineering", "wangli", sets=[
            f"date={now.date().isoformat()}", "title=0805 室二次装修平面图", "kind=drawing"], attach=[drawing])
    _done(demo, result, "T0003 工程档案：平面图（附件已提交）", "T0003 engineering file: a floor plan (attachment committed)")


def plan_png(width: int = 240, height: int = 160) -> bytes:
    """A small grey floor plan as a PNG (the standard library only): walls, a partition, a door."""
    import struct
    import zlib

    def wall(x: int, y: int) -> bool:
        edge = x < 4 or y < 4 or x >= width - 4 or y >= height - 4
        partition = 140 <= x < 144 and not 60 <= y < 90  # with a door opening
        return edge or partition

    rows = b"".join(b"\0" + bytes(40 if wall(x, y) else 235 for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


MOVING_TENANT = "T0003"


def move_out(demo: Demo) -> None:
    """T0003 leaves: every department signs its step, finance settles, security releases."""
    from wuye.moveout import cases as moveout

    demo.heading("客户迁出：各部门依次签字", "A move-out, signed off department by department")
    t = MOVING_TENANT
    demo.cli("moveout", "start", t, "--date", "2026-12-31", "--reason", "公司扩张，迁往自有办公楼",
             "--set", "lease_end=2026-12-31", "--set", "notice_ref=租通〔2026〕31号", "--as", "liuqiang")
    case = moveout.list_cases(demo.store, open_only=True)[-1]["case"]
    demo.cli("moveout", "sign", case, "application", "--set", "representative=周建国",
             "--set", "representative_phone=13901087762", "--set", "form_received=true", "--as", "wangli")
    demo.cli("moveout", "sign", case, "return_pass", "--set", "access_cards_returned=3",
             "--set", "note=一张出入证遗失", "--as", "wangli")
    with tempfile.TemporaryDirectory() as tmp:
        inspection = Path(tmp) / "验房记录.yaml"
        inspection.write_text(
            "# 工程部验房记录\n"
            "equipment_checked: true\n"
            "meter_electricity: '21087.3'\n"
            "meter_water: '131.9'\n"
            "power_off: true\n"
            "ac_off: true\n"
            "damages:\n"
            "  - {location: 0805 室会议室, description: 玻璃隔断一块破裂, amount: '1850.00'}\n"
            "  - {location: 0805 室前台, description: 地毯烟头烫洞两处, amount: '320.00'}\n",
            encoding="utf-8")
        demo.cli("moveout", "sign", case, "engineering_inspection", "--file", str(inspection), "--as", "zhangwei")
    demo.cli("moveout", "sign", case, "security_inspection", "--set", "extinguishers_returned=2",
             "--set", "fire_equipment_ok=true", "--as", "liyong")
    demo.say("两项检查可在不同电脑上同时签字；现在财务部结算：", "The two inspections could be signed on two machines at once; now finance settles:")
    demo.cli("moveout", "settle", case, "--charge", "垃圾清运费=300.00", "--receipt", "BY-JS-2026-0117", "--as", "sunhong")
    # The statement's balance moves before the release: a refund paid out, or the amount due received.
    balance = Decimal(moveout.payload(demo.store, case, "settlement").data["data"]["balance"])
    today = demo.store.now().date().isoformat()
    if balance >= 0:
        demo.cli("moveout", "sign", case, "payout", "--set", f"amount={balance}", "--set", f"paid_on={today}",
                 "--set", "method=transfer", "--set", "account=6222020200118855123", "--set", "voucher=BY-FK-2026-0203",
                 "--as", "sunhong")
    else:
        demo.cli("moveout", "sign", case, "collection", "--set", f"amount={-balance}", "--set", f"received_on={today}",
                 "--set", "method=transfer", "--set", "receipt_no=BY-SK-2026-0203", "--as", "sunhong")
    demo.cli("moveout", "sign", case, "handover", "--set", "keys_returned=2", "--set", "customer_cards_returned=1",
             "--set", "parking_cards_returned=1", "--set", "parking_lock_keys_returned=1",
             "--set", "renovation=restored", "--set", "lease_terminated=true", "--set", "parking_lease_terminated=true",
             "--set", "new_phone=010-59876543", "--set", "forwarding_address=北京市海淀区中关村大街 27 号 15 层",
             "--set", "contact_name=周建国", "--as", "wangli")
    demo.cli("moveout", "sign", case, "release", "--set", "release_pass_no=FX-2026-0458",
             "--set", f"released_on={demo.store.now().date().isoformat()}", "--as", "liyong")
    demo.cli("moveout", "status", case)
    demo.heading("独立核验：任何人都能检查签名", "Independent verification: anyone can check a signature")
    demo.cli("verify")
    demo.say("不用 wuye 也能核验，例如工程部的签字：",
             "Without wuye, e.g. the engineering sign-off:")
    demo.line(f"$ wuye moveout payload {case} engineering_inspection > payload")
    demo.line(f"$ wuye moveout payload {case} engineering_inspection --signature > payload.sig")
    demo.line("$ ssh-keygen -Y verify -f allowed_signers -I zhangwei -n wuye-step -s payload.sig < payload")
    if shutil.which("ssh-keygen"):
        import subprocess
        from wuye.storage import layout

        entry = moveout.payload(demo.store, case, "engineering_inspection")
        with tempfile.TemporaryDirectory() as tmp:
            sig = Path(tmp) / "payload.sig"
            sig.write_text(entry.data["signature"], encoding="utf-8")
            done = subprocess.run(
                ["ssh-keygen", "-Y", "verify", "-f", str(demo.root / layout.ALLOWED_SIGNERS), "-I", entry.data["signer"],
                 "-n", "wuye-step", "-s", str(sig)], input=entry.payload, capture_output=True)
        demo.line((done.stdout or done.stderr).decode("utf-8", "replace").strip())


WAITING_TENANT = "T0006"


def waiting_for_engineering(demo: Demo) -> None:
    """A second move-out, signed as far as the inspections: engineering's to-do shows it waiting,
    beside the complaints and repairs the sample has assigned to engineering."""
    from wuye.moveout import cases as moveout

    demo.heading("部门待办：工程部有哪些事在等", "A department's to-do: what is waiting for engineering")
    demo.cli("moveout", "start", WAITING_TENANT, "--date", "2027-02-28", "--reason", "租约到期，不再续租",
             "--set", "lease_end=2027-02-28", "--as", "liuqiang")
    case = next(c["case"] for c in moveout.list_cases(demo.store, open_only=True) if c["tenant_id"] == WAITING_TENANT)
    demo.cli("moveout", "sign", case, "application", "--set", "representative=何晓东", "--set", "form_received=true",
             "--as", "wangli")
    demo.say("确认单已收到：工程部验房和保安部检查现在都可以签了。", "The form is in: the engineering and security inspections may both be signed now.")
    code = demo.cli("todo", "--dept", "engineering", ok=(0, 3))
    if code == 3:
        demo.say("退出码 3：有超时事项（脚本和定时任务据此提醒）。", "Exit code 3: something is overdue (for scripts and cron to act on).")


def check_archive(demo: Demo) -> None:
    demo.heading("档案完整性检查", "Archive completeness check")
    demo.cli("archive", "check")


def show_log(demo: Demo) -> None:
    demo.heading("操作日志（git log）", "The log (git log)")
    demo.cli("log", "-n", "20")


STEPS: list[Step] = [
    copy_sample,
    issue_keys,
    seal_ledger,
    list_tenants,
    open_new_tenant,
    take_deposit,
    counter_lookup,
    record_repair_and_supplement,
    check_archive,
    move_out,
    show_log,
    waiting_for_engineering,
]


# --- running ------------------------------------------------------------------------------------


def run(keep: Path | None, command: Callable[..., object]) -> None:
    """Run every step on a fresh copy of the sample; keep it in `keep`, else remove it after.
    `command` is wuye's root command, which each step calls as a clerk types it."""
    sample = records_dir()
    temp = None
    if keep is None:
        temp = Path(tempfile.mkdtemp(prefix="wuye-demo-"))
        root = temp / "store"
        keys = Path(os.environ["WUYE_KEYS"]).expanduser() if os.environ.get("WUYE_KEYS") else temp / "keys"
    else:
        root = Path(keep).expanduser().resolve()
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise WuyeError(tr("%s 已存在且不是空目录；演示档案库需要一个新目录或空目录",
                               "%s exists and is not an empty folder; the demo store needs a new or empty folder") % keep)
        keys = (Path(os.environ["WUYE_KEYS"]).expanduser() if os.environ.get("WUYE_KEYS")
                else root.with_name(root.name + ".keys"))
    demo = Demo(sample, root, keys, command)
    created_root = not root.exists()
    created_keys = not keys.exists()
    finished = False
    try:
        with _keys_env(keys):
            _refuse_existing_keys(demo)
            for step in STEPS:
                step(demo)
        finished = True
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
            _forget_keys(demo, keys, created_keys)
        elif not finished:
            # A demo that stopped half-way leaves nothing behind, as a refused command does.
            _remove_store(root, created_root)
            _forget_keys(demo, keys, created_keys)
    demo.heading("结束", "Done")
    if temp is not None:
        demo.say("演示档案库已删除。要保留它继续操作：wuye demo --keep 目录",
                 "the demo store has been removed. To keep it and carry on: wuye demo --keep DIR")
    else:
        demo.say("演示档案库保留在 %s，员工私钥在 %s。" % (root, keys),
                 "the demo store is kept in %s and the staff's private keys in %s." % (root, keys))
        demo.say("继续：wuye --store %s archive show T0001" % root, "carry on: wuye --store %s archive show T0001" % root)
        demo.say("以示例员工身份签字时请先设置 WUYE_KEYS=%s" % keys,
                 "to sign as a sample staff member, first set WUYE_KEYS=%s" % keys)


@contextmanager
def _keys_env(keys: Path) -> Iterator[None]:
    """Point WUYE_KEYS at the demo's key folder for the run, so the user's own keys are never used."""
    before = os.environ.get("WUYE_KEYS")
    os.environ["WUYE_KEYS"] = str(keys)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("WUYE_KEYS", None)
        else:
            os.environ["WUYE_KEYS"] = before


def _refuse_existing_keys(demo: Demo) -> None:
    """A key already there would be rotated aside by `issue_key`: refuse rather than touch it."""
    from wuye.trust import signing

    ids = sorted(p.stem for p in (demo.sample / "staff").glob("*.yaml"))
    taken = [signing.private_key_path(i) for i in ids
             if signing.private_key_path(i).exists() or Path(str(signing.private_key_path(i)) + ".pub").exists()]
    if taken:
        raise WuyeError(
            tr("密钥目录 %s 中已有示例员工的密钥（%s）；演示不会替换已有密钥。请把 WUYE_KEYS 指向一个空目录，或移走这些文件",
               "the key folder %s already holds keys of sample staff (%s); the demo never replaces a key. "
               "Point WUYE_KEYS at an empty folder, or move those files away")
               % (demo.keys, ", ".join(p.name for p in taken))
        )


def _forget_keys(demo: Demo, keys: Path, created: bool) -> None:
    """Remove the keys this run wrote (their store is gone), and the key folder if the run made it."""
    for path in demo.issued:
        path.unlink(missing_ok=True)
    if created and keys.is_dir() and not any(keys.iterdir()):
        keys.rmdir()


def _remove_store(root: Path, created: bool) -> None:
    if not root.is_dir():
        return
    if created:
        shutil.rmtree(root, ignore_errors=True)
        return
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _next_tenant_id(store) -> str:
    numbers = [int(t[1:]) for t in store.tenant_ids() if re.fullmatch(r"T\d+", t)]
    return "T%04d" % (max(numbers, default=0) + 1)


def _done(demo: Demo, result, zh: str, en: str) -> None:
    commit = (result.commit or "")[:10]
    demo.say("✓ %s（%s，提交 %s）" % (zh, result.tenant_id, commit), "✓ %s (%s, commit %s)" % (en, result.tenant_id, commit))
    for warning in result.warnings:
        demo.say("  警告：" + warning, "  warning: " + warning)
