"""A realistic synthetic store of N tenants, for the benchmarks: `python bench/make_store.py N`.

What it makes (deterministic for a given N, --seed and month of running):
  - the store's own files as `wuye init` writes them (wuye.yaml, the default workflow, .gitattributes,
    the merge driver in the repository's config, the local git settings of wuye.audit);
  - eight staff with real Ed25519 keys (private keys in a key folder beside the store), valid from
    the start; one engineer is revoked after 2.5 years and the finance clerk's key is rotated after
    3, so signatures are checked against key windows as in a store that has lived a few years;
  - N tenants, each with all twelve archive category files (some lists still empty), a unit file
    each plus some vacant units, a few attachments pinned by sha256;
  - five years of history (ending two months ago) as commits: move-ins month by month, quarterly
    property fees, building-wide notices, repairs and complaints walked through the service desk,
    violations, supplements, profile updates; many files per commit (one commit per kind of work
    per month), so 10,000 tenants take minutes, not the hours one commit per command would;
  - move-out cases in every state (only the notice, each later step, a correction, closed), about
    3 % of the tenants, signed step by step by `wuye.moveout` itself (start, sign, settle: the real
    checks, settlement, standards and closing effects) with the staff's keys at the simulated
    time; their files are committed in monthly batches too.

Archive files are written directly as YAML text (the round-trip dumper would take an hour for five
million lines) in the layout wuye writes, and committed with git's own plumbing: one
`git fast-import` stream, every commit authored by a staff member at its simulated date, the
objects in one pack; at the end the index is read from HEAD and refreshed, as after a clone.

The store goes to CACHE/store-N (default CACHE=/tmp/wuye-bench), its keys to CACHE/keys-N, and a
manifest to CACHE/store-N.json naming what the benchmarks use (a full dossier, search queries that
match exactly one tenant, a case in each state). An existing store is reused unless --force.

    python bench/make_store.py 10000            # ~ minutes on 2 cores; prints how long it took
    python bench/make_store.py 100 --force

Other bench scripts import `ensure(n)` from here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("WUYE_BENCH_CACHE", "/tmp/wuye-bench"))
TZ = dt.timezone(dt.timedelta(hours=8))


def month_add(d: dt.date, k: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + k, 12)
    return dt.date(y, m + 1, 1)


# Five years that ended two months ago: nothing is dated in the future (the models refuse that).
END = month_add(dt.date.today(), -2)  # the last simulated month
START = month_add(END, -58)
SINCE = dt.datetime.combine(month_add(START, -1), dt.time(9, 0), tzinfo=TZ)  # keys valid from

STAFF = (
    ("wangli", "王丽", "customer_service"),
    ("liuqiang", "刘强", "customer_service"),
    ("zhaomin", "赵敏", "leasing"),
    ("zhangwei", "张伟", "engineering"),
    ("liyong", "李勇", "engineering"),     # revoked REVOKE_AT
    ("chenjing", "陈静", "security"),
    ("sunhong", "孙红", "finance"),        # key rotated ROTATE_AT
    ("sunhao", "孙浩", "management"),
)
REVOKE_AT = dt.datetime.combine(month_add(START, 30) - dt.timedelta(days=1), dt.time(18, 0), tzinfo=TZ)
ROTATE_AT = dt.datetime.combine(month_add(START, 36) + dt.timedelta(days=1), dt.time(9, 0), tzinfo=TZ)

CITIES = ["北京", "上海", "天津", "深圳", "杭州", "南京", "成都", "武汉", "西安", "广州", "苏州", "青岛", "厦门", "重庆", "长沙"]
CHARS = list("华信通达恒泰中天宏远瑞丰鑫源博雅星河金辉德盛新锐安康永辉汇聚明智启航创联卓越嘉禾盛世宇翔云帆海纳东方北辰"
             "兴业正大九州方圆万象和平长城高远睿思致远领航天成聚力")
INDUSTRIES = [("科技", "软件和信息技术服务业"), ("信息技术", "软件和信息技术服务业"), ("物流", "交通运输业"),
              ("商贸", "批发和零售业"), ("咨询", "商务服务业"), ("传媒", "文化、体育和娱乐业"), ("设计", "专业技术服务业"),
              ("投资管理", "资本市场服务"), ("教育科技", "教育"), ("医疗器械", "批发和零售业"), ("建筑工程", "建筑业"),
              ("翻译", "商务服务业"), ("广告", "商务服务业"), ("会计师事务所", "商务服务业"), ("律师事务所", "法律服务")]
NATURES = ["有限责任公司", "有限责任公司（自然人投资或控股）", "股份有限公司", "外商独资企业", "合伙企业"]
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玲飞鹏辉宇浩凯")
TITLES = ["行政经理", "财务主管", "办公室主任", "总经理助理", "前台", "IT 主管", "人事经理"]
REPAIRS = [("卫生间", "洗手盆下水管漏水"), ("办公区", "吊顶灯管不亮"), ("会议室", "空调出风口滴水"), ("茶水间", "水龙头关不严"),
           ("机房", "精密空调报警"), ("前台", "门禁读卡器失灵"), ("走廊", "地毯起翘"), ("经理室", "窗户把手松动")]
COMPLAINTS = ["电梯早高峰等候时间过长", "卫生间异味", "空调温度偏高", "夜间施工噪音", "快递无人代收", "停车场指引不清",
              "保洁不及时", "大堂访客登记排队"]
NOTICES = [(6, "circular", "通报〔%d〕%d号", "%d 年上半年消防安全检查结果通报", ["保安部", "工程部"]),
           (11, "notice", "通知〔%d〕%d号", "关于 %d—%d 年度冬季供暖的通知", ["工程部"]),
           (3, "notice", "通知〔%d〕%d号", "关于 %d 年春季电梯维保停运的通知", ["工程部"])]

# How many of each kind of open case (by the last step signed), besides the closed ones.
OPEN_STAGES = ("notice", "application", "return_pass", "engineering_inspection", "security_inspection",
               "settlement", "handover")


# --- YAML text, written the way wuye's dumper lays it out ------------------------------------

_PLAIN = re.compile(r"[\u4e00-\u9fffA-Za-z][^:#'\"\n]*")
_KEYWORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dt.datetime):
        return f"'{v.isoformat()}'"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return f"'{v}'"
    s = str(v)
    if _PLAIN.fullmatch(s) and s == s.strip() and s.lower() not in _KEYWORDS and not s.endswith(("-", ",")):
        return s
    return "'" + s.replace("'", "''") + "'"


def emit(data: dict, indent: int) -> list[str]:
    """Lines of a mapping at `indent` spaces (sequences indented 4 with the dash at 2, as wuye does)."""
    pad = " " * indent
    out = []
    for k, v in data.items():
        if v is None or v == [] or v == {}:
            continue
        if isinstance(v, dict):
            out.append(f"{pad}{k}:")
            out += emit(v, indent + 2)
        elif isinstance(v, list):
            out.append(f"{pad}{k}:")
            for item in v:
                out += entry_lines(item, indent + 2) if isinstance(item, dict) else [f"{pad}  - {scalar(item)}"]
        else:
            out.append(f"{pad}{k}: {scalar(v)}")
    return out


def entry_lines(entry: dict, indent: int = 2) -> list[str]:
    lines = emit(entry, indent + 2)
    first = lines[0]
    return [" " * indent + "- " + first[indent + 2:], *lines[1:]]


HEADERS = {
    "profile": "# 1. 客户单位资料 / Company profile", "payments": "# 2. 缴费记录（含押金） / Payments and deposits",
    "renovation": "# 3. 装修工程文件 / Renovation files", "move_in": "# 4. 迁入资料 / Move-in record",
    "supplement": "# 5. 客户资料补充 / Supplementary information", "contacts": "# 6. 客户联络资料 / Contacts",
    "emergency": "# 7. 紧急事故联络人 / Emergency contacts", "correspondence": "# 8. 与管理处往来文件 / Correspondence",
    "violations": "# 9. 违规事项与欠费记录 / Violations and arrears", "repairs": "# 10. 维修记录 / Repairs",
    "complaints": "# 11. 投诉记录 / Complaints", "engineering": "# 12. 工程档案（二次装修） / Engineering files",
}
PREFIX = {"payments": "PAY", "renovation": "REN", "supplement": "SUP", "contacts": "CON", "emergency": "EMG",
          "correspondence": "COR", "violations": "VIO", "repairs": "REP", "complaints": "CMP", "engineering": "ENG"}


class Tenant:
    """A tenant as the generator keeps it: records as text, so a file is rewritten by joining."""

    def __init__(self, tid: str, name: str, pinyin: str, units: list[str], moved_in: dt.date):
        self.id, self.name, self.pinyin, self.units, self.moved_in = tid, name, pinyin, units, moved_in
        self.single: dict[str, dict] = {}
        self.lists: dict[str, list[str]] = {}
        self.frozen = False  # once a move-out starts, wuye itself owns the files

    def add(self, key: str, entry: dict) -> str:
        entries = self.lists.setdefault(key, [])
        eid = f"{PREFIX[key]}-{len(entries) + 1:04d}"
        entries.append("\n".join(entry_lines({"id": eid, **entry})) + "\n")
        return eid

    def text(self, key: str) -> str:
        if key in self.single:
            return HEADERS[key] + "\n" + "\n".join(emit(self.single[key], 0)) + "\n"
        entries = self.lists.get(key)
        return HEADERS[key] + ("\nentries:\n" + "".join(entries) if entries else "\nentries: []\n")

    def rel(self, key: str) -> str:
        return f"tenants/{self.id}/{key}.yaml"


# --- git --------------------------------------------------------------------------------------


class Git:
    """git for the generator: one `git fast-import` stream for the whole history (a pack, no
    loose objects, no index to rewrite per commit), then the index read from HEAD."""

    def __init__(self, root: Path):
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
        self.stream = None

    def __call__(self, *args: str, input: bytes | None = None, env: dict | None = None) -> str:
        p = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=self.root, input=input,
                           capture_output=True, env={**self.env, **(env or {})})
        if p.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {p.stderr.decode(errors='replace')}")
        return p.stdout.decode()

    def commit(self, files: dict[str, bytes], message: str, who: tuple[str, str], when: dt.datetime) -> None:
        if self.stream is None:
            self.stream = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=self.root,
                                           stdin=subprocess.PIPE, env=self.env)
        name, email = who
        stamp = f"{name} <{email}> {int(when.timestamp())} {when.strftime('%z')}"
        msg = message.encode()
        out = [f"commit refs/heads/main\nauthor {stamp}\ncommitter {stamp}\n".encode(), b"data %d\n" % len(msg), msg, b"\n"]
        for path in sorted(files):
            data = files[path]
            out += [b"M 100644 inline ", path.encode(), b"\ndata %d\n" % len(data), data, b"\n"]
        out.append(b"\n")
        self.stream.stdin.write(b"".join(out))

    def finish(self) -> None:
        self.stream.stdin.write(b"done\n")
        self.stream.stdin.close()
        if self.stream.wait() != 0:
            raise RuntimeError("git fast-import failed")
        self("read-tree", "HEAD")
        # The index as git itself keeps it after a checkout: stat data fresh for every file.
        self("update-index", "-q", "--refresh")
        self("status", "--porcelain")  # fills the untracked cache, as the store's first status would


# --- the generator ----------------------------------------------------------------------------


def months():
    m = START
    while m <= END:
        yield m
        m = month_add(m, 1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


class Generator:
    def __init__(self, root: Path, keys: Path, n: int, seed: int):
        self.root, self.keys, self.n = root, keys, n
        self.rng = random.Random(seed)
        self.git = Git(root)
        self.tenants: list[Tenant] = []
        self.units: dict[str, dict] = {}
        self.pending: dict[str, bytes | None] = {}  # files written since the last commit (None: wuye wrote it)
        self.commits = 0
        self.staff: dict[str, object] = {}
        self.sim_now = at(START)

    # files
    def write(self, rel: str, text: str | bytes) -> None:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8") if isinstance(text, str) else text
        p.write_bytes(data)
        self.pending[rel] = data

    def save(self, t: Tenant, *keys: str) -> None:
        for k in keys:
            self.write(t.rel(k), t.text(k))

    def commit(self, message: str, who: str, when: dt.datetime) -> None:
        if not self.pending:
            return
        member = self.staff.get(who)
        ident = (member.name, member.author_email()) if member is not None else ("wuye", "wuye@wuye.invalid")
        files = {rel: data if data is not None else (self.root / rel).read_bytes() for rel, data in self.pending.items()}
        self.git.commit(files, message, ident, when)
        self.pending.clear()
        self.commits += 1

    # people and codes
    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))

    def mobile(self) -> str:
        return self.rng.choice(("138", "139", "136", "135", "186", "158", "150", "131")) + f"{self.rng.randrange(10**8):08d}"

    def uscc(self) -> str:
        from stdnum.cn import uscc

        body = "91" + "110105" + "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        return body + uscc.calc_check_digit(body)

    def ric(self) -> str:
        from stdnum.cn import ric

        birth = dt.date(1960, 1, 1) + dt.timedelta(days=self.rng.randrange(365 * 35))
        body = "110108" + birth.strftime("%Y%m%d") + f"{self.rng.randrange(1000):03d}"
        return body + ric.calc_check_digit(body + "0")  # it expects a place for the digit

    # --- setup ------------------------------------------------------------------------------

    def init(self) -> None:
        """What `wuye init` writes, committed at the start of the history."""
        from wuye.storage import git as audit
        from wuye.sync import merging
        from wuye.storage import yamlio
        from wuye.admin.create import FOLDERS, GITIGNORE, default_text

        self.root.mkdir(parents=True)
        audit.init_repository(self.root)
        merging.register(self.root)
        config = yamlio.load_roundtrip(default_text("wuye.yaml"))
        config["building"]["name"] = f"合成大厦（{self.n} 户）"
        self.write("wuye.yaml", yamlio.dumps(config))
        self.write("workflows/moveout.yaml", default_text("moveout.yaml"))
        self.write(".gitignore", GITIGNORE)
        self.write(".gitattributes", merging.GITATTRIBUTES)
        for d in FOLDERS:
            self.write(f"{d}/.gitkeep", "")
        self.commit("init: 新建档案库 合成大厦\n\nWuye-Building: 合成大厦\n", "", SINCE)

    def register_staff(self) -> None:
        from wuye.trust import signing
        from wuye.storage import yamlio
        from wuye.models.store import Staff, StaffKey
        from wuye.trust.staff import ALLOWED_SIGNERS, allowed_signers_text

        os.environ["WUYE_KEYS"] = str(self.keys)
        for sid, name, dept in STAFF:
            pem, public = signing.generate_key(f"{sid}@wuye")
            signing.save_private_key(sid, pem, public)
            member = Staff(id=sid, name=name, departments=[dept], keys=[StaffKey(public_key=public, valid_from=SINCE)])
            self.staff[sid] = member
            self.write(f"staff/{sid}.yaml", yamlio.dumps(yamlio.plain(member.model_dump())))
        self.write(ALLOWED_SIGNERS, allowed_signers_text(list(self.staff.values())))
        self.commit("staff: 登记员工 %d 人\n\nWuye-Actor: sunhao\n" % len(STAFF), "sunhao", SINCE + dt.timedelta(hours=1))

    def found_chain(self) -> None:
        """The manager founds the authority chain from the staff just registered, as `wuye trust
        init --as sunhao` does (wuye.trust.authority, the real service): staff changes, signed
        move-out steps and the sealed ledger are then judged by it, as in an office."""
        from wuye.trust import authority

        store = self.open_store()
        self.sim_now = SINCE + dt.timedelta(hours=1, minutes=30)
        outcome = authority.trust_init(store, "sunhao")
        assert outcome.complete, "the root waits for approval: the generator founds with one manager"
        self.commit("authority 1: 孙浩 建立授权链的根\n\nWuye-Authority: 1\nWuye-Actor: sunhao\n", "sunhao", self.sim_now)

    def change_staff(self, sid: str, when: dt.datetime, revoke: bool) -> None:
        """Revoke a member, or rotate their key, at `when`: `wuye staff revoke` / `wuye staff key
        --as sunhao`, the real services, each a new version of the authority chain."""
        from wuye.trust import staff

        # The services wait for the next whole second of the wall clock (staff._next_second);
        # here time is the simulation's.
        staff._next_second = lambda store: when
        self.sim_now = when
        if revoke:
            member = staff.revoke(self.store, sid, "sunhao")
            what = "停用 %s 并吊销其密钥" % member.name
        else:
            member = staff.issue_key(self.store, sid, actor_id="sunhao")
            what = "为 %s 发放新签名密钥" % member.name
        self.staff[sid] = member
        self.commit(f"staff {sid}: {what}\n\nWuye-Staff: {sid}\nWuye-Actor: sunhao\n", "sunhao", when)
        self.store._staff.clear()

    def plan_tenants(self) -> None:
        from wuye.archive.dossier import pinyin_initials

        all_months = list(months())
        names = set()
        special = self.n // 2  # the tenant the look-up benchmarks use: every category, findable
        for i in range(self.n):
            tid = f"T{i + 1:05d}"
            if i == special:
                name = "北京博雅翼数据科技有限公司"
            else:
                while True:
                    brand = "".join(self.rng.sample(CHARS, 2))
                    suffix, _ = self.rng.choice(INDUSTRIES)
                    name = f"{self.rng.choice(CITIES)}{brand}{suffix}有限公司"
                    if name not in names:
                        break
            names.add(name)
            tower, k = "ABCDEFGH"[i // 1600], i % 1600
            unit = f"{tower}{k // 40 + 2:02d}{k % 40 + 1:02d}"
            units = [unit]
            # Half were tenants before the system came; the rest move in over the five years.
            moved_in = all_months[0] if self.rng.random() < 0.5 or i == special else self.rng.choice(all_months)
            self.tenants.append(Tenant(tid, name, pinyin_initials(name), units, moved_in))
        # Vacant units, never leased.
        for j in range(max(5, self.n // 20)):
            self.units[f"V{j // 40 + 2:02d}{j % 40 + 1:02d}"] = {"status": "vacant"}

    # --- what happens in a month --------------------------------------------------------------

    def move_in(self, t: Tenant, day: dt.date, full: bool = False) -> None:
        rng = self.rng
        suffix = next((s for s, _ in INDUSTRIES if s in t.name), "科技")
        industry = dict(INDUSTRIES)[suffix]
        clerk = "wangli" if rng.random() < 0.6 else "liuqiang"
        when = at(day, 9 + rng.randrange(8), rng.randrange(60))
        lease_end = dt.date(day.year + rng.choice((2, 3, 5)), day.month, 1) - dt.timedelta(days=1)
        t.single["profile"] = {
            "tenant_id": t.id, "name": t.name, "uscc": self.uscc(), "legal_rep": self.person(), "legal_rep_id": self.ric(),
            "nature": rng.choice(NATURES), "industry": industry, "headcount": rng.randrange(3, 200),
            "staff_composition": f"管理 {rng.randrange(1, 10)} 人、业务 {rng.randrange(2, 80)} 人",
            "units": t.units, "lease_start": day, "lease_end": lease_end,
            "phone": f"010-{rng.randrange(6, 9)}{rng.randrange(10**6, 10**7)}", "email": f"office@{t.id.lower()}.example",
            "status": "active", "pinyin": t.pinyin, "updated_by": clerk, "updated_at": when,
        }
        parking = [f"B{rng.randrange(1, 4)}-{rng.randrange(1, 400):03d}" for _ in range(rng.choice((0, 0, 0, 1, 2)))]
        t.single["move_in"] = {
            "move_in_date": day, "access_cards_issued": rng.randrange(2, 60), "keys_issued": rng.randrange(2, 8),
            "customer_cards_issued": rng.randrange(1, 4), "parking_spaces": parking,
            "parking_cards_issued": len(parking), "parking_lock_keys_issued": len(parking),
            "extinguishers_rented": rng.randrange(0, 5),
            "meter_readings": {"electricity": Decimal(f"{rng.randrange(1000, 90000)}.{rng.randrange(10)}"),
                               "water": Decimal(f"{rng.randrange(10, 900)}.{rng.randrange(10)}")},
            "updated_by": clerk, "updated_at": when,
        }
        rent = Decimal(rng.randrange(20, 600) * 1000)
        t.add("payments", {"kind": "deposit", "item": "租赁押金", "amount": rent, "paid": rent, "paid_on": day,
                           "deposit_status": "held", "receipt_no": f"SJ-{day.year}-{rng.randrange(10**4):04d}",
                           "note": "三个月租金", "recorded_by": "sunhong", "recorded_at": when})
        docs = []
        if rng.random() < 0.05:
            content = (f"%PDF-1.4 合成图纸 {t.id}\n".encode() + rng.randbytes(rng.randrange(2000, 20000)))
            path = f"attachments/装修图纸-{t.id}.pdf"
            self.write(f"tenants/{t.id}/{path}", content)
            docs = [{"path": path, "sha256": hashlib.sha256(content).hexdigest(), "title": "二次装修施工图"}]
        contractor = f"{rng.choice(CITIES)}{''.join(rng.sample(CHARS, 2))}装饰工程有限公司"
        t.add("renovation", {"project": f"{t.units[0]} 单元二次装修（办公区、会议室）", "contractor": contractor,
                             "contractor_phone": self.mobile(), "applied_on": day - dt.timedelta(days=20),
                             "approved_on": day - dt.timedelta(days=15), "approved_by": "zhangwei",
                             "deposit": Decimal("20000.00"), "start": day - dt.timedelta(days=14),
                             "end": day - dt.timedelta(days=3), "accepted_on": day - dt.timedelta(days=2),
                             "acceptance": "passed", "documents": docs, "recorded_by": "zhangwei", "recorded_at": when})
        t.add("supplement", {"date": day, "note": "营业执照副本、法人身份证复印件存档", "recorded_by": clerk, "recorded_at": when})
        for k in range(rng.choice((1, 2, 2, 3))):
            t.add("contacts", {"kind": "contact", "name": self.person(), "title": TITLES[k], "phone": self.mobile(),
                               "email": f"c{k}@{t.id.lower()}.example", "primary": k == 0,
                               "recorded_by": clerk, "recorded_at": when})
        for k in range(rng.choice((1, 2))):
            t.add("emergency", {"name": self.person(), "relation": TITLES[k], "phone_24h": self.mobile(), "priority": k + 1,
                                "recorded_by": clerk, "recorded_at": when})
        t.add("engineering", {"date": day - dt.timedelta(days=15), "title": "二次装修平面图、天花图及消防平面图", "kind": "drawing",
                              "description": "施工图一套（纸质存档于工程部图纸柜）", "recorded_by": "zhangwei", "recorded_at": when})
        t.add("engineering", {"date": day - dt.timedelta(days=2), "title": "二次装修竣工验收记录", "kind": "inspection",
                              "recorded_by": "zhangwei", "recorded_at": when})
        t.lists.setdefault("correspondence", [])
        t.lists.setdefault("repairs", [])
        t.lists.setdefault("violations", [])  # every dossier has all twelve files, some lists still empty
        t.lists.setdefault("complaints", [])
        if full:  # the dossier the look-up benchmarks show: an entry in every list
            t.add("correspondence", {"date": day, "direction": "in", "kind": "letter", "subject": "关于延长空调供应时间的申请",
                                     "summary": "客户申请工作日空调供应延长至 21:00", "departments": ["工程部", "财务部"],
                                     "recorded_by": clerk, "recorded_at": when})
            t.add("violations", {"date": day, "kind": "violation", "description": "在消防通道堆放杂物", "amount": Decimal("500.00"),
                                 "status": "settled", "resolved_on": day + dt.timedelta(days=5), "recorded_by": clerk, "recorded_at": when})
        for u in t.units:
            self.units[u] = {"status": "leased", "tenant": t.id}
            self.write_unit(u)
        self.save(t, *t.single, *t.lists)

    def write_unit(self, u: str) -> None:
        info = self.units[u]
        floor = int(u[1:3])
        data = {"id": u, "floor": floor, "area": Decimal(f"{80 + (hash(u) % 400)}.50"),
                "meters": {"electricity": f"E-{u}", "water": f"W-{u}"}, "status": info["status"], "tenant": info.get("tenant")}
        self.write(f"units/{u}.yaml", "\n".join(emit(data, 0)) + "\n")

    def quarterly_fees(self, month: dt.date, active: list[Tenant]) -> None:
        q = (month.month - 1) // 3 + 1
        for t in active:
            amount = Decimal(int(Decimal(t.single["move_in"]["access_cards_issued"]) * 1500)) + Decimal("2400.00")
            paid = amount if self.rng.random() > 0.02 else Decimal("0.00")
            entry = {"kind": "fee", "item": "物业管理费", "period": f"{month.year}-Q{q}", "amount": amount, "paid": paid,
                     "due_date": month + dt.timedelta(days=9), "recorded_by": "sunhong",
                     "recorded_at": at(month + dt.timedelta(days=self.rng.randrange(3, 9)), 11)}
            if paid:
                entry.update(paid_on=month + dt.timedelta(days=self.rng.randrange(3, 9)),
                             receipt_no=f"WY-{month.year}-{self.rng.randrange(10**5):05d}")
            t.add("payments", entry)
            self.save(t, "payments")

    def notice(self, month: dt.date, active: list[Tenant]) -> None:
        for m, kind, ref, subject, depts in NOTICES:
            if m != month.month:
                continue
            number = self.rng.randrange(1, 30)
            title = subject % ((month.year, month.year + 1) if subject.count("%d") == 2 else (month.year,))
            for t in active:
                t.add("correspondence", {"date": month + dt.timedelta(days=2), "direction": "out", "kind": kind,
                                         "ref_no": ref % (month.year, number), "subject": title, "departments": depts,
                                         "recorded_by": "wangli", "recorded_at": at(month + dt.timedelta(days=2), 9, 30)})
                self.save(t, "correspondence")

    def service(self, t: Tenant, day: dt.date) -> list[str]:
        rng, done = self.rng, []
        r = rng.random()
        if r < 0.06:
            loc, desc = rng.choice(REPAIRS)
            opened = at(day, 9 + rng.randrange(8), rng.randrange(60))
            assigned, finished, closed = (opened + dt.timedelta(hours=h) for h in (1, 5, 30))
            cost = Decimal(rng.choice((0, 0, 50, 120, 300)))
            score = rng.randrange(3, 6)
            t.add("repairs", {
                "reported_at": opened, "location": f"{t.units[0]} {loc}", "description": desc, "assigned_dept": "engineering",
                "assigned_to": "zhangwei", "assigned_at": assigned, "done_at": finished, "result": "已修复", "cost": cost if cost else None,
                "closed_at": closed, "satisfaction": score, "status": "closed",
                "history": [
                    {"at": opened, "by": "wangli", "action": "open", "status": "open", "note": desc},
                    {"at": assigned, "by": "wangli", "action": "assign", "status": "assigned", "department": "engineering", "assignee": "zhangwei"},
                    {"at": finished, "by": "zhangwei", "action": "done", "status": "done", "note": "已修复", "cost": cost if cost else None},
                    {"at": closed, "by": "wangli", "action": "close", "status": "closed", "satisfaction": score},
                ],
                "recorded_by": "wangli", "recorded_at": opened})
            done.append("repairs")
        elif r < 0.075:
            received = at(day, 9 + rng.randrange(8), rng.randrange(60))
            desc = rng.choice(COMPLAINTS)
            t.add("complaints", {
                "received_at": received, "channel": rng.choice(("phone", "counter", "online")), "description": desc,
                "assigned_dept": "customer_service", "assigned_to": "wangli", "assigned_at": received + dt.timedelta(hours=1),
                "response": "已安排专人跟进处理", "responded_at": received + dt.timedelta(hours=3), "result": "已处理",
                "resolved_at": received + dt.timedelta(days=2), "closed_at": received + dt.timedelta(days=3),
                "satisfaction": rng.randrange(3, 6), "status": "closed",
                "history": [
                    {"at": received, "by": "wangli", "action": "open", "status": "open", "note": desc},
                    {"at": received + dt.timedelta(hours=1), "by": "wangli", "action": "assign", "status": "assigned",
                     "department": "customer_service", "assignee": "wangli"},
                ],
                "recorded_by": "wangli", "recorded_at": received})
            done.append("complaints")
        elif r < 0.085:
            arrears = rng.random() < 0.5
            settled = rng.random() < 0.8
            t.add("violations", {"date": day, "kind": "arrears" if arrears else "violation",
                                 "description": "逾期未缴物业管理费" if arrears else "在消防通道堆放杂物",
                                 "amount": Decimal(rng.choice((200, 500, 2000))), "status": "settled" if settled else "open",
                                 "resolved_on": day + dt.timedelta(days=10) if settled else None,
                                 "recorded_by": "wangli", "recorded_at": at(day, 15)})
            done.append("violations")
        elif r < 0.095:
            t.add("supplement", {"date": day, "note": "补充更新后的营业执照副本", "recorded_by": "liuqiang", "recorded_at": at(day, 14)})
            done.append("supplement")
        elif r < 0.1:
            t.single["profile"]["headcount"] = rng.randrange(3, 200)
            t.single["profile"]["updated_by"] = "wangli"
            t.single["profile"]["updated_at"] = at(day, 16)
            done.append("profile")
        if done:
            self.save(t, *done)
        return done

    # --- move-out cases, through wuye.moveout itself --------------------------------------------

    def open_store(self):
        """The store for wuye's own services, its commits diverted into the month's batch."""
        from wuye.storage import git as audit
        from wuye.storage.store import Store

        store = Store(self.root)
        store.now = lambda: self.sim_now  # signing time, staff validity and settlement dates
        gen = self

        def batched(root, paths, message, author=None, when=None):
            gen.pending.update(dict.fromkeys(paths))
            return "0" * 40

        audit.commit = batched
        # Settling refuses an archive with uncommitted changes; here every file waits for the
        # month's batch (and git's index is only read at the end), so each settlement is
        # committed on its own right after it instead (run_case).
        from wuye.moveout import cases as moveout

        moveout._refuse_uncommitted = lambda store, case: None
        # The ledger is written by this generator's own emitter, unsealed, and sealed once at the
        # end by finance (`wuye migrate`), as an office adopting wuye does; until then settling
        # would refuse it.
        moveout._refuse_unsealed = lambda store, case: None
        # A synthetic store needs no durability: wuye's fsyncs (several per signature) would
        # otherwise be most of the time on a slow disk.
        os.fsync = lambda fd: None
        return store

    def seal_ledger(self) -> None:
        """Finance seals every ledger item in one commit (wuye.admin.migrate, the real service)."""
        from wuye.admin.migrate import migrate
        from wuye.trust import money

        store = self.store if getattr(self, "store", None) is not None else self.open_store()
        if not money.sealing_on(store):
            return  # no authority chain written (WUYE_BENCH_CASES=0): nothing can be sealed
        t = time.perf_counter()
        result = migrate(store, "sunhong")
        self.commit(f"migrate: 封存 {len(result.sealed)} 项\n\nWuye-Action: migrate\nWuye-Actor: sunhong\n", "sunhong", self.sim_now)
        print(f"  ledger sealed: {len(result.sealed)} items in {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)

    def seal_tenant(self, tid: str) -> None:
        """Finance seals one tenant's ledger items before its case is settled (`wuye migrate`, the
        real service, over that tenant alone): a statement cites sealed items, and sealing them
        after the settlement would be a change to what it cited, which verify refuses."""
        from wuye.admin.migrate import migrate
        from wuye.trust import money

        store = self.store
        if not money.sealing_on(store):
            return
        store.tenant_ids = lambda: [tid]
        try:
            migrate(store, "sunhong")
        finally:
            del store.tenant_ids
        self.commit(f"migrate: 封存 {tid} 的收费项目\n\nWuye-Action: migrate\nWuye-Actor: sunhong\n", "sunhong", self.sim_now)

    def plan_cases(self) -> list[tuple[Tenant, dt.date, str]]:
        """(tenant, start month, last step) of each case: closed ones over the years, open ones now."""
        early = [t for t in self.tenants if t.moved_in <= month_add(START, 11) and t.id != self.tenants[self.n // 2].id]
        count = max(len(OPEN_STAGES) * 2 + 4, self.n * 3 // 100)
        chosen = self.rng.sample(early, min(count, len(early)))
        plan = []
        n_open = max(len(OPEN_STAGES) + 1, count // 3)
        all_months = [m for m in months() if month_add(START, 14) <= m < month_add(END, -1)]
        for k, t in enumerate(chosen):
            if k < n_open:
                plan.append((t, month_add(END, -(k % 2)), OPEN_STAGES[k % len(OPEN_STAGES)]))
            else:
                plan.append((t, self.rng.choice(all_months), "release"))
        return plan

    def run_case(self, t: Tenant, month: dt.date, last: str, correct: bool) -> tuple[str, str]:
        from wuye.moveout import cases as moveout
        from wuye.errors import WuyeError

        rng = self.rng
        mi = t.single["move_in"]
        day = month + dt.timedelta(days=rng.randrange(0, 6))
        engineer = "liyong" if at(day) + dt.timedelta(days=10) < REVOKE_AT and rng.random() < 0.5 else "zhangwei"
        order = ("notice", "application", "return_pass", "engineering_inspection", "security_inspection",
                 "settlement", "handover", "payout", "release")
        short = rng.random() < 0.15
        data = {
            "application": {"representative": self.person(), "representative_phone": self.mobile(), "form_received": True,
                            "received_on": day.isoformat()},
            "return_pass": {"access_cards_returned": mi["access_cards_issued"] - (1 if short else 0)},
            "engineering_inspection": {"equipment_checked": True, "power_off": True, "ac_off": True,
                                       "meter_electricity": str(mi["meter_readings"]["electricity"] + rng.randrange(100, 9000)),
                                       "meter_water": str(mi["meter_readings"]["water"] + rng.randrange(1, 90)),
                                       "damages": ([{"location": f"{t.units[0]} 会议室", "description": "墙面破损",
                                                     "amount": "300.00"}] if rng.random() < 0.3 else [])},
            "security_inspection": {"extinguishers_returned": mi["extinguishers_rented"], "fire_equipment_ok": True},
            "handover": {"keys_returned": mi["keys_issued"], "customer_cards_returned": mi["customer_cards_issued"],
                         "parking_cards_returned": mi["parking_cards_issued"],
                         "parking_lock_keys_returned": mi["parking_lock_keys_issued"],
                         "renovation": rng.choice(("restored", "kept")), "lease_terminated": True,
                         "parking_lease_terminated": True if mi["parking_spaces"] else None,
                         "new_phone": self.mobile(), "forwarding_address": f"{rng.choice(CITIES)}市朝阳区建国路 {rng.randrange(1, 200)} 号",
                         "contact_name": self.person()},
            "release": {"release_pass_no": f"FX-{day.year}-{rng.randrange(1000):03d}", "released_on": None},
        }
        signer = {"application": "wangli", "return_pass": "liuqiang", "engineering_inspection": engineer,
                  "security_inspection": "chenjing", "settlement": "sunhong", "handover": "wangli", "release": "chenjing"}
        t.frozen = True
        self.sim_now = at(day, 10, rng.randrange(60))
        result = moveout.start(self.store, t.id, "zhaomin", (day + dt.timedelta(days=30)).isoformat(), "租约到期，不再续租",
                               {"notice_ref": f"ZS-{day.year}-{rng.randrange(1000):03d}"})
        case = result.case_id
        for k, step in enumerate(order[1:order.index(last) + 1], start=1):
            self.sim_now = at(day + dt.timedelta(days=k), 10 + rng.randrange(7), rng.randrange(60))
            try:
                if step == "payout":
                    # Finance moves the settlement's money before release (the workflow's payout
                    # or collection step): the refund paid out, or the amount due received.
                    from decimal import Decimal

                    from wuye.storage import yamlio

                    steps = self.root / "tenants" / t.id / "moveout" / case / "steps"
                    revs = sorted(steps.glob("settlement*.yaml"), key=lambda p: int(p.name.split(".")[1]) if p.name.count(".") == 2 else 1)
                    balance = Decimal(yamlio.read(revs[-1], "x")["data"]["balance"])
                    paid = self.sim_now.date().isoformat()
                    if balance > 0:
                        moveout.sign(self.store, case, "payout", "sunhong", {
                            "amount": str(balance), "paid_on": paid, "method": "transfer", "voucher": f"FK-{day.year}-{rng.randrange(10**4):04d}"})
                    elif balance < 0:
                        moveout.sign(self.store, case, "collection", "sunhong", {
                            "amount": str(-balance), "received_on": paid, "method": "transfer",
                            "receipt_no": f"SK-{day.year}-{rng.randrange(10**4):04d}"})
                    continue
                if step == "settlement":
                    self.seal_tenant(t.id)
                    moveout.settle(self.store, case, "sunhong", receipt_no=f"JS-{day.year}-{rng.randrange(10**4):04d}")
                    # A statement is judged by the archive at the commit that adds it (verify's
                    # statements check): its own commit, as `wuye moveout settle` makes, not one
                    # batch with the release, whose closing marks settle the archive.
                    self.commit(f"moveout {case}: 财务结算\n\nWuye-Case: {case}\nWuye-Step: settlement\nWuye-Signer: sunhong\n",
                                "sunhong", self.sim_now)
                else:
                    values = {k2: v for k2, v in data[step].items() if v is not None}
                    if step == "release":
                        values["released_on"] = self.sim_now.date().isoformat()
                    moveout.sign(self.store, case, step, signer[step], values)
            except WuyeError as e:  # a standard not met: the case stays where it is, as at the counter
                print(f"  {case} stops before {step}: {' '.join(str(e).splitlines()[:3])}", file=sys.stderr)
                return case, order[k - 1]
            if correct and step == "application":
                self.sim_now += dt.timedelta(hours=2)
                moveout.sign(self.store, case, step, "wangli", {**data[step], "representative_phone": self.mobile()}, correct=True)
        return case, last

    # --- the whole history --------------------------------------------------------------------

    def run(self) -> dict:
        t0 = time.perf_counter()
        self.store = None
        self.init()
        self.register_staff()
        self.found_chain()
        self.plan_tenants()
        self.store = self.open_store()
        cases = {}
        plan = self.plan_cases()
        by_month: dict[dt.date, list] = {}
        for item in plan:
            by_month.setdefault(item[1], []).append(item)
        for u in [u for u, info in self.units.items() if info["status"] == "vacant"]:
            self.write_unit(u)
        self.commit("units: 登记空置单元\n\nWuye-Actor: wangli\n", "wangli", SINCE + dt.timedelta(hours=2))
        corrected = False
        for month in months():
            if month == month_add(REVOKE_AT.date(), 1):  # recorded the month after
                self.change_staff("liyong", REVOKE_AT, revoke=True)
            if month == month_add(ROTATE_AT.date(), 0):
                self.change_staff("sunhong", ROTATE_AT, revoke=False)
            arriving = [t for t in self.tenants if t.moved_in == month]
            for t in arriving:
                self.move_in(t, month + dt.timedelta(days=self.rng.randrange(0, 25)), full=t is self.tenants[self.n // 2])
            self.commit(f"archive: {month:%Y-%m} 新建档案 {len(arriving)} 户\n\nWuye-Actor: wangli\n", "wangli",
                        at(month + dt.timedelta(days=27), 18))
            active = [t for t in self.tenants if t.moved_in <= month and not t.frozen]
            if month.month in (1, 4, 7, 10):
                self.quarterly_fees(month, active)
                self.commit(f"archive: {month.year}-Q{(month.month - 1) // 3 + 1} 物业管理费 {len(active)} 户\n\nWuye-Category: payments\n"
                            "Wuye-Actor: sunhong\n", "sunhong", at(month + dt.timedelta(days=9), 17))
            self.notice(month, active)
            self.commit(f"notice: {month:%Y-%m} 通知 {len(active)} 户\n\nWuye-Category: correspondence\nWuye-Actor: wangli\n",
                        "wangli", at(month + dt.timedelta(days=2), 9, 40))
            counts: dict[str, int] = {}
            for t in active:
                for k in self.service(t, month + dt.timedelta(days=self.rng.randrange(0, 27))):
                    counts[k] = counts.get(k, 0) + 1
            summary = "、".join(f"{k} {v}" for k, v in sorted(counts.items()))
            self.commit(f"archive: {month:%Y-%m} 日常记录（{summary}）\n\nWuye-Actor: wangli\n", "wangli", at(month + dt.timedelta(days=28), 18))
            # WUYE_BENCH_CASES=0: no move-out cases (signing them needs the authority chain, which
            # this generator does not write yet; without one `moveout start` refuses).
            for t, _, last in by_month.get(month, []) if os.environ.get("WUYE_BENCH_CASES", "1") != "0" else []:
                want_correct = not corrected and last not in ("notice",)
                case, reached = self.run_case(t, month, last, want_correct)
                # Its entries committed now, at its last signing time: left for a later case's
                # settlement commit (dated at that case's time) they would enter history before
                # they were signed, which verify rightly refuses.
                self.commit(f"moveout {case}: 签字至 {reached}\n\nWuye-Case: {case}\nWuye-Actor: wangli\n", "wangli",
                            self.sim_now + dt.timedelta(minutes=1))
                corrected = corrected or want_correct
                key = "closed" if reached == "release" else reached
                cases.setdefault(key, []).append(case)
            if month in by_month and os.environ.get("WUYE_BENCH_CASES", "1") != "0":
                self.commit(f"moveout: {month:%Y-%m} 迁出案件签字（{len(by_month[month])} 案）\n\nWuye-Actor: wangli\n", "wangli",
                            at(month + dt.timedelta(days=29), 18))
            if month.month == 12:
                print(f"  {month.year}: {self.commits} commits, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        self.seal_ledger()
        self.git.finish()
        print(f"  history written: {self.commits} commits in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        return cases


def _queries(tenants: list[Tenant], target: Tenant) -> tuple[str, str]:
    """A pinyin fragment and a name fragment that each match `target` alone."""
    pinyin = next((target.pinyin[i:i + n] for n in range(4, len(target.pinyin) + 1) for i in range(len(target.pinyin) - n + 1)
                   if sum(target.pinyin[i:i + n] in t.pinyin for t in tenants) == 1), target.pinyin)
    name = next((target.name[i:i + n] for n in range(2, len(target.name) + 1) for i in range(len(target.name) - n + 1)
                 if sum(target.name[i:i + n] in t.name for t in tenants) == 1), target.name)
    return pinyin, name


def build(n: int, cache: Path, seed: int = 7) -> dict:
    root, keys, manifest = cache / f"store-{n}", cache / f"keys-{n}", cache / f"store-{n}.json"
    for p in (root, keys):
        shutil.rmtree(p, ignore_errors=True)
    manifest.unlink(missing_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    gen = Generator(root, keys, n, seed)
    cases = gen.run()
    target = gen.tenants[n // 2]
    pinyin, name = _queries(gen.tenants, target)
    files = int(subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.count("\n"))
    commits = int(gen.git("rev-list", "--count", "HEAD").strip())
    info = {
        "n": n, "seed": seed, "store": str(root), "keys": str(keys), "seconds": round(time.perf_counter() - t0, 1),
        "files": files, "commits": commits, "head": gen.git("rev-parse", "HEAD").strip(),
        "tenant": target.id, "pinyin_query": pinyin, "name_query": name,
        "add_tenant": next(t.id for t in gen.tenants[n // 2 + 1:] + gen.tenants if not t.frozen),
        "cases": {k: sorted(v) for k, v in cases.items()},
        "staff": [s for s, _, _ in STAFF],
    }
    manifest.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return info


def ensure(n: int, cache: Path = DEFAULT_CACHE, force: bool = False, seed: int = 7) -> dict:
    """The manifest of CACHE/store-N, generating the store first if it is missing (or --force)."""
    manifest = cache / f"store-{n}.json"
    if manifest.is_file() and not force:
        info = json.loads(manifest.read_text(encoding="utf-8"))
        if Path(info["store"]).is_dir():
            return info
    print(f"generating a store of {n} tenants in {cache} …", file=sys.stderr, flush=True)
    info = build(n, cache, seed)
    print(f"generated {n} tenants, {info['files']} files, {info['commits']} commits in {info['seconds']:.0f} s",
          file=sys.stderr, flush=True)
    return info


# --- what the other bench scripts share ---------------------------------------------------------


def wuye_command() -> list[str]:
    script = Path(sys.executable).with_name("wuye")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "wuye"]


def bench_env(keys: str | Path | None = None, **extra: str) -> dict:
    """The caller's environment without its wuye and git settings: no global git config, private
    keys from the store's key folder, wide plain output.

    Bytecode is cached as an installed package has it (pip compiles on install): a caller's
    PYTHONDONTWRITEBYTECODE would make every run recompile wuye's own modules from source when it
    is installed editable, while the libraries it is compared with have theirs from site-packages.
    The cache goes to a folder of the bench cache, so the checkout stays clean."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "WUYE_")) and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", COLUMNS="120", NO_COLOR="1", TERM="dumb",
               PYTHONPYCACHEPREFIX=str(DEFAULT_CACHE / "pycache"))
    if keys is not None:
        env["WUYE_KEYS"] = str(keys)
    env.update(extra)
    return env


class Run:
    """One timed command, run as a fresh process: wall time, and the peak memory of the largest
    process (wait4's ru_maxrss) and of the whole process tree (sampled from /proc every 20 ms)."""

    def __init__(self, argv: list[str], env: dict, ok=(0,), cwd=None):
        import threading

        self.argv = argv
        t = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.wait(0.02):
                peak[0] = max(peak[0], _tree_rss(p.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = _drain(p)
        _, status, usage = os.wait4(p.pid, 0)
        self.seconds = time.perf_counter() - t
        done.set()
        sampler.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        self.code, self.stdout, self.stderr = p.returncode, out, err
        self.max_rss_mb = usage.ru_maxrss / 1024
        self.tree_rss_mb = max(peak[0], usage.ru_maxrss) / 1024
        if self.code not in ok:
            sys.exit(f"bench: {' '.join(map(str, argv))} exited {self.code}:\n{err.decode(errors='replace')[-3000:]}")


def _drain(p) -> tuple[bytes, bytes]:
    import threading

    chunks = {"out": [], "err": []}

    def pump(stream, key):
        for block in iter(lambda: stream.read(65536), b""):
            chunks[key].append(block)

    threads = [threading.Thread(target=pump, args=(p.stdout, "out")), threading.Thread(target=pump, args=(p.stderr, "err"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return b"".join(chunks["out"]), b"".join(chunks["err"])


def _tree_rss(pid: int) -> int:
    """RSS in KiB of a process and its descendants (shared pages counted in each, so an upper bound)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total


def median(xs: list[float]) -> float:
    import statistics

    return statistics.median(xs)


def table(headers: list[str], rows: list[list], title: str | None = None) -> None:
    """A plain-text table, also valid Markdown."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print("| " + " | ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths)) + " |")


def _numeric(c: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d.,]+\s*[×%a-zA-Z]*", c))


def machine() -> str:
    import platform

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {git}, load average {os.getloadavg()[0]:.1f}"



# --- shared by the bench scripts ---------------------------------------------------------------

# The files' parse and nothing else, in `jobs` processes: every file wuye reads, parsed by wuye's
# own reader (storage/fastyaml.py) without validation or index (argv: root, jobs, globs...).
PARSE_FLOOR = """import glob, os, sys
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from wuye.storage import fastyaml  # wuye's own reader: the line reader, else ruamel's C parser

def parse(paths):
    n = 0
    for p in paths:
        with open(p, "rb") as f:
            n += len(fastyaml.parse(f.read().decode("utf-8")) or ())
    return n

root, jobs, patterns = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
paths = sorted(p for pat in patterns for p in glob.glob(os.path.join(root, pat)))
chunks = [paths[i::jobs] for i in range(jobs)]
if jobs < 2 or len(paths) < 2000:
    print(parse(paths))
else:
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        print(sum(pool.map(parse, chunks)))
"""


def timed(argv: list[str], env: dict, cwd: str | None = None, before=None) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds: user + system of the process and of everything it waited for,
    its stdout and stderr); `before` runs first, untimed. A failed run ends the bench."""
    import resource

    if before:
        before()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} exited {p.returncode}:\n{p.stderr[-2000:]}")
    return took, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime, (p.stdout + p.stderr).strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, help="tenants")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"where stores are kept (default {DEFAULT_CACHE})")
    ap.add_argument("--force", action="store_true", help="generate again even if the store exists")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    info = ensure(args.n, args.cache, args.force, args.seed)
    du = subprocess.run(["du", "-sh", info["store"]], capture_output=True, text=True).stdout.split()[0]
    pack = subprocess.run(["du", "-sh", str(Path(info["store"]) / ".git")], capture_output=True, text=True).stdout.split()[0]
    rows = [("tenants", info["n"]), ("tracked files", info["files"]), ("commits", info["commits"]),
            ("size on disk (.git)", f"{du} ({pack})"), ("generated in", f"{info['seconds']:.0f} s"),
            ("cases", ", ".join(f"{k} {len(v)}" for k, v in info["cases"].items())),
            ("look-up tenant", info["tenant"]), ("pinyin query", info["pinyin_query"]), ("name query", info["name_query"]),
            ("store", info["store"]), ("keys (WUYE_KEYS)", info["keys"])]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
