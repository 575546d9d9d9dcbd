"""Hostile input: the corpus in tests/hostile/ (and a 5 MB file made here) run against every
command that reads input, and hostile arguments against every command that takes an id or text.

Every case must end with exit code 1 (2 for a usage error), a message on stderr naming the problem,
and an unchanged store: HEAD, `git status --porcelain` and every file's bytes (`snapshot`), the
key folder included. Store files edited by hand are read by `archive check`, `verify`,
`moveout status` and the writers that must refuse to build on them. Shell metacharacters in names
and texts are stored literally and never run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import git, isolate, snapshot
from test_moveout import DATA

HOSTILE = Path(__file__).parent / "hostile"
BIG = "5MB"  # made by the test: a 5 MB file is not committed

# Files refused before their content is looked at, whatever the command: (file, what the message says).
UNREADABLE = {
    "malformed.yaml": ["malformed.yaml:2:6", "YAML 格式错误"],
    "truncated.yaml": ["truncated.yaml:2:16", "YAML 格式错误"],
    "gbk.yaml": ["gbk.yaml:1:7", "不是 UTF-8"],
    "invalid-utf8.yaml": ["invalid-utf8.yaml:1:7", "不是 UTF-8"],
    "bomb.yaml": ["bomb.yaml:1:4", "锚点或别名"],
    "python-tag.yaml": ["python-tag.yaml:1:7", "不允许使用标签 tag:yaml.org,2002:python/object/apply:os.system"],
    "unknown-tag.yaml": ["unknown-tag.yaml:1:7", "不允许使用标签 !vip"],
    "duplicate-keys.yaml": ["duplicate-keys.yaml:3:1", "重复的键"],
    "binary.bin": ["binary.bin:1:5", "不是 UTF-8"],
    "nul.yaml": ["nul.yaml:1", "空字符"],
    "multi-document.yaml": ["multi-document.yaml:3:1", "YAML 格式错误"],
    # Nested past Python's recursion limit (no archive file nests more than a few levels).
    "deep-nesting.yaml": ["deep-nesting.yaml", "嵌套层数过多"],
    BIG: ["big.yaml", "超过 1 MiB"],
}
# Text bodies (notices) are not YAML: only the encoding-level refusals apply to them.
UNREADABLE_TEXT = ("gbk.yaml", "invalid-utf8.yaml", "binary.bin", "nul.yaml", BIG)

# Every command that reads a YAML/JSON input file; F is the file.
FILE_COMMANDS = {
    "archive new": ["archive", "new", "T0003", "--name", "乙公司", "--file", "F", "--as", "wangli"],
    "archive add": ["archive", "add", "T0001", "contacts", "--file", "F", "--as", "wangli"],
    "moveout start": ["moveout", "start", "T0002", "--date", "2026-12-31", "--file", "F", "--as", "zhaomin"],
    "moveout sign": ["moveout", "sign", "CASE", "return_pass", "--file", "F", "--as", "wangli"],
    "import": ["import", "F", "--format", "yaml", "--as", "wangli"],
}


@pytest.fixture(scope="module")
def _template(_store_template, tmp_path_factory):
    """The session store plus T0001 (unit 1205) with an open case (notice and application
    signed) and an open repair; built once for the module."""
    from wuye.archive import dossier as archive
    from wuye.moveout import cases as moveout
    from wuye.desk import servicedesk
    from wuye.storage.store import Store

    src, keys = _store_template
    base = tmp_path_factory.mktemp("hostile")
    root = base / "store"
    shutil.copytree(src, root, symlinks=True)
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base / "home")
        mp.setenv("WUYE_KEYS", str(keys))
        store = Store(root)
        archive.new(store, "T0001", "柏彦科技", "1205", "wangli")
        case = moveout.start(store, "T0001", "zhaomin", "2026-12-31", "租约到期").case_id
        moveout.sign(store, case, "application", "wangli", DATA["application"])
        repair = servicedesk.open_repair(store, "T0001", "1205 茶水间", "水龙头漏水", False, "wangli", None).ref
        archive.new(store, "T0002", "国贸商贸", "1206", "wangli")  # no case: for `moveout start`
    return root, keys, case, repair


@pytest.fixture
def hs(_template, tmp_path):
    """A fresh copy of the template store (and its keys in this test's WUYE_KEYS)."""
    from wuye.storage.store import Store

    root, keys, case, repair = _template
    shutil.copytree(root, tmp_path / "store", symlinks=True)
    shutil.copytree(keys, os.environ["WUYE_KEYS"], symlinks=True)
    store = Store((tmp_path / "store").resolve())
    store.case, store.repair = case, repair
    return store


def corpus(name: str, tmp_path: Path) -> Path:
    """A corpus file copied beside the test (so messages name it by its own name), or the big one."""
    if name == BIG:
        p = tmp_path / "big.yaml"
        with open(p, "w", encoding="utf-8") as f:
            f.write("name: 李明\nphone: \"13812345678\"\nnote: |\n")
            line = "  " + "很长的备注" * 20 + "\n"
            while f.tell() < 5 * 1024 * 1024:
                f.write(line)
        return p
    p = tmp_path / name
    shutil.copy(HOSTILE / name, p)
    return p


def refused_unchanged(run, store, argv, fragments, code=1, report=False):
    """Run argv; assert the exit code, every fragment on stderr (or, for a checking command that
    reports its findings as data, on stdout), and an unchanged store and keys."""
    before = snapshot(store, os.environ["WUYE_KEYS"])
    r = run(*argv, store=store)
    assert r.exit_code == code, (argv, r.exit_code, r.stdout, r.stderr)
    said = r.stderr + (r.stdout if code == 2 or report else "")
    if not report and code == 1:
        assert r.stdout == "", r.stdout  # a refusal prints no data
    for f in fragments:
        assert f in said, (f, said)
    assert "Traceback" not in said
    assert snapshot(store, os.environ["WUYE_KEYS"]) == before, argv
    return r


def located(fragments: list[str], name: str, where: str) -> list[str]:
    """The expected fragments with the corpus file's name replaced by where it was read from."""
    out = []
    for f in fragments:
        for prefix in (name, "big.yaml"):
            if f.startswith(prefix):
                f = where + f[len(prefix):]
                break
        out.append(f)
    return out


def fill(argv, store, path) -> list[str]:
    return [str(path) if a == "F" else store.case if a == "CASE" else store.repair if a == "REF" else a for a in argv]


# --- input files -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(FILE_COMMANDS))
@pytest.mark.parametrize("name", list(UNREADABLE))
def test_an_unreadable_input_file_is_refused_by_every_command(hs, run, tmp_path, name, command):
    path = corpus(name, tmp_path)
    said = UNREADABLE[name]
    if command == "import" and name == BIG:
        # An export document may well be bigger than 1 MiB: import reads it, and refuses its content.
        said = ["big.yaml", "wuye export"]
    refused_unchanged(run, hs, fill(FILE_COMMANDS[command], hs, path), located(said, name, str(path)))


@pytest.mark.parametrize("name", UNREADABLE_TEXT)
def test_an_unreadable_notice_body_is_refused(hs, run, tmp_path, name):
    path = corpus(name, tmp_path)
    refused_unchanged(run, hs, ["notice", "send", "--subject", "停水通知", "--file", path, "--to", "all", "--as", "wangli"],
                      [str(path), UNREADABLE[name][1]])


@pytest.mark.parametrize("name", list(UNREADABLE) + ["key-junk.pub", "key-truncated.pub", "key-two-lines.pub", "scalar.yaml"])
def test_an_unreadable_key_file_is_refused(hs, run, tmp_path, name):
    path = corpus(name, tmp_path)
    said = "太大" if name == BIG else "不是有效的 OpenSSH 公钥文件" if name not in ("gbk.yaml", "invalid-utf8.yaml") else "OpenSSH"
    refused_unchanged(run, hs, ["staff", "add", "lisi", "--name", "李四", "--dept", "finance", "--key", path, "--as", "sunhao"],
                      [str(path), said])


def test_an_rsa_key_is_refused_for_its_type(hs, run, tmp_path):
    path = corpus("key-rsa.pub", tmp_path)
    refused_unchanged(run, hs, ["staff", "add", "lisi", "--name", "李四", "--dept", "finance", "--key", path, "--as", "sunhao"],
                      ["ssh-rsa", "ssh-ed25519"])


# What each of the other corpus files is fed to, and what the refusal must say. F is the file.
ADD = ["archive", "add", "T0001"]
SEMANTIC = [
    ("phone-as-integer.yaml", ADD + ["contacts", "--file", "F"], ["phone-as-integer.yaml:2:1", "phone", "加上引号"]),
    ("phone-leading-zero.yaml", ADD + ["contacts", "--file", "F"], ["phone-leading-zero.yaml:2:1", "10****1234", "开头的 0 会丢失"]),  # masked (issue 14)
    ("phone-invalid.yaml", ADD + ["contacts", "--file", "F"], ["phone-invalid.yaml:2:1", "电话号码无效"]),
    ("unknown-field.yaml", ADD + ["contacts", "--file", "F"], ["unknown-field.yaml:1:1", "nmae", "未知字段"]),
    ("name-newline.yaml", ADD + ["contacts", "--file", "F"], ["name-newline.yaml:1:1", "name", "U+000A"]),
    ("name-bidi.yaml", ADD + ["contacts", "--file", "F"], ["name-bidi.yaml:1:1", "U+202E"]),
    ("name-empty.yaml", ADD + ["contacts", "--file", "F"], ["name-empty.yaml:1:1", "name"]),
    ("scalar.yaml", ADD + ["contacts", "--file", "F"], ["scalar.yaml", "应为一条记录"]),
    ("empty.yaml", ADD + ["contacts", "--file", "F"], ["empty.yaml", "应为一条记录"]),
    ("amount-negative.yaml", ADD + ["payments", "--file", "F"], ["amount-negative.yaml:3:1", "金额不能为负"]),
    ("amount-nan.yaml", ADD + ["payments", "--file", "F"], ["amount-nan.yaml:3:1", "不是有限的数字"]),
    ("amount-nan-text.yaml", ADD + ["payments", "--file", "F"], ["amount-nan-text.yaml:3:1", "不是有限的数字"]),
    ("amount-infinite.yaml", ADD + ["payments", "--file", "F"], ["amount-infinite.yaml:3:1", "不是有限的数字"]),
    ("amount-fraction-of-fen.yaml", ADD + ["payments", "--file", "F"], ["amount-fraction-of-fen.yaml:3:1", "两位小数"]),
    ("amount-true.yaml", ADD + ["payments", "--file", "F"], ["amount-true.yaml:3:1", "不是真假值"]),
    ("paid-in-future.yaml", ADD + ["payments", "--file", "F"], ["paid-in-future.yaml:5:1", "paid_on", "在将来"]),
    ("repair-in-future.yaml", ADD + ["repairs", "--file", "F"], ["repair-in-future.yaml:1:1", "reported_at", "在将来"]),
    ("repair-bad-time.yaml", ADD + ["repairs", "--file", "F"], ["repair-bad-time.yaml:1:1", "reported_at"]),
    ("move-in-far-future.yaml", ADD + ["move_in", "--file", "F"], ["move-in-far-future.yaml:1:1", "一年以后"]),
    ("move-in-negative-count.yaml", ADD + ["move_in", "--file", "F"], ["move-in-negative-count.yaml:2:1", "access_cards_issued"]),
    ("profile-unit-leading-zero.yaml", ["archive", "new", "T0003", "--file", "F"], ["profile-unit-leading-zero.yaml:2:9", "801", "加上引号"]),
    ("profile-id-checksum.yaml", ["archive", "new", "T0003", "--file", "F"], ["profile-id-checksum.yaml:2:1", "身份证号无效"]),
    ("profile-path-unit.yaml", ["archive", "new", "T0003", "--file", "F"], ["profile-path-unit.yaml:2:9", "'../../etc' 无效"]),
    ("profile-list.yaml", ["archive", "new", "T0003", "--file", "F"], ["profile-list.yaml", "映射"]),
    ("profile-uscc-malformed.yaml", ["archive", "new", "T0003", "--file", "F"], ["profile-uscc-malformed.yaml:2:1", "统一社会信用代码无效"]),
    ("step-wrong-types.yaml", ["moveout", "sign", "CASE", "engineering_inspection", "--file", "F"],
     ["工程部验房", "equipment_checked", "读数不能为负", "damages.0.amount: 金额不能为负"]),
    ("step-extra-field.yaml", ["moveout", "sign", "CASE", "security_inspection", "--file", "F"], ["保安部检查", "signed_by_boss", "未知字段"]),
    ("scalar.yaml", ["moveout", "sign", "CASE", "return_pass", "--file", "F"], ["scalar.yaml", "应为字段映射"]),
    ("import-bad-rows.csv", ["import", "F"], ["import-bad-rows.csv:2:1", "'../x'", "import-bad-rows.csv:2:6", "金额不能为负",
                                              "import-bad-rows.csv:2:7", "一年以后", "import-bad-rows.csv:3:5", "电话号码无效",
                                              "import-bad-rows.csv:3:6", "不是数字"]),
    ("import-binary.csv", ["import", "F"], ["import-binary.csv", "不是 UTF-8"]),
    ("import-not-a-workbook.xlsx", ["import", "F"], ["import-not-a-workbook.xlsx", "xlsx"]),
    ("import-shell-id.csv", ["import", "F"], ["import-shell-id.csv:2:1", "不能用作文件名"]),
    ("import-bomb.yaml", ["import", "F"], ["import-bomb.yaml:1:4", "锚点或别名"]),
    ("empty.yaml", ["import", "F"], ["empty.yaml"]),
]
_SIGNER = {"engineering_inspection": "zhangwei", "security_inspection": "chenjing", "return_pass": "wangli"}


@pytest.mark.parametrize("name,argv,fragments", SEMANTIC, ids=[f"{n}-{a[0]}-{a[1]}" for n, a, _ in SEMANTIC])
def test_a_bad_record_is_refused_naming_the_problem(hs, run, tmp_path, name, argv, fragments):
    path = corpus(name, tmp_path)
    argv = fill(argv, hs, path)
    actor = _SIGNER.get(argv[3], "wangli") if argv[0] == "moveout" else "wangli"
    refused_unchanged(run, hs, [*argv, "--as", actor], located(fragments, name, str(path)))


def test_a_5_mb_file_is_refused_by_import(hs, run, tmp_path):
    big = corpus(BIG, tmp_path)
    csv = big.with_suffix(".csv")
    big.rename(csv)
    r = refused_unchanged(run, hs, ["import", csv, "--as", "wangli"], [str(csv)])
    assert len(r.stderr) < 10_000  # the message names the problem, it does not echo the file


# --- store files edited by hand ----------------------------------------------------------------


STORE_FILE_CASES = list(UNREADABLE.items()) + [
    ("phone-as-integer.yaml", ["phone-as-integer.yaml:2", "加上引号"]),
    ("name-newline.yaml", ["name-newline.yaml:2", "U+000A"]),
    ("repair-in-future.yaml", ["repair-in-future.yaml", "在将来"]),
]


@pytest.mark.parametrize("name,fragments", STORE_FILE_CASES, ids=[n for n, _ in STORE_FILE_CASES])
def test_a_hand_edited_archive_file_is_reported_by_every_reader(hs, run, tmp_path, name, fragments):
    """The bad content replaces tenants/T0001/contacts.yaml (or repairs.yaml for a repair)."""
    category = "repairs" if name.startswith("repair") else "contacts"
    rel = f"tenants/T0001/{category}.yaml"
    raw = corpus(name, tmp_path).read_bytes()
    if category == "contacts" and name in ("phone-as-integer.yaml", "name-newline.yaml"):
        # As a stored file: the record sits in `entries:`.
        raw = b"entries:\n  - id: CON-0001\n" + b"".join(b"    " + line + b"\n" for line in raw.splitlines())
    if category == "repairs":
        raw = b"entries:\n  - id: REP-0009\n" + b"".join(b"    " + line + b"\n" for line in raw.splitlines())
    hs.path(rel).write_bytes(raw)
    said = located(fragments, name, rel)
    if name in ("phone-as-integer.yaml", "name-newline.yaml"):
        said = [rel, fragments[1]]  # the lines moved under `entries:`
    refused_unchanged(run, hs, ["archive", "check"], said, report=True)
    refused_unchanged(run, hs, ["verify"], said, report=True)
    refused_unchanged(run, hs, ["archive", "add", "T0001", category, "--set", "name=王五", "--set", "phone=13900000000",
                                "--as", "wangli"], [rel])


@pytest.mark.parametrize("name", ["malformed.yaml", "python-tag.yaml", "duplicate-keys.yaml", "binary.bin", "nul.yaml", BIG])
def test_a_hand_edited_step_entry_is_reported_and_nothing_is_signed_on_it(hs, run, tmp_path, name):
    rel = f"tenants/T0001/moveout/{hs.case}/steps/application.yaml"
    hs.path(rel).write_bytes(corpus(name, tmp_path).read_bytes())
    refused_unchanged(run, hs, ["moveout", "status", hs.case], [rel], report=True)
    refused_unchanged(run, hs, ["verify"], [rel], report=True)
    refused_unchanged(run, hs, ["moveout", "sign", hs.case, "return_pass", "--set", "access_cards_returned=3", "--as", "wangli"], [rel])


def test_a_tampered_step_entry_fails_its_signature(hs, run):
    rel = f"tenants/T0001/moveout/{hs.case}/steps/application.yaml"
    text = hs.path(rel).read_text(encoding="utf-8")
    assert "李明" in text
    hs.path(rel).write_text(text.replace("李明", "李鸣"), encoding="utf-8")
    refused_unchanged(run, hs, ["verify"], [rel, "签名无效"], report=True)
    refused_unchanged(run, hs, ["moveout", "sign", hs.case, "return_pass", "--set", "access_cards_returned=3", "--as", "wangli"],
                      [rel, "签名无效"])


def test_a_workflow_with_a_cycle_stops_every_move_out_command(hs, run, tmp_path):
    hs.path("workflows/moveout.yaml").write_bytes((HOSTILE / "workflow-cycle.yaml").read_bytes())
    for argv in (["moveout", "status", hs.case], ["verify"],
                 ["moveout", "sign", hs.case, "return_pass", "--set", "access_cards_returned=3", "--as", "wangli"],
                 ["moveout", "start", "T0002", "--date", "2026-12-31", "--as", "zhaomin"]):
        refused_unchanged(run, hs, argv, ["workflows/moveout.yaml", "循环", "application → handover"], report=argv[0] == "verify")


# --- arguments -----------------------------------------------------------------------------------

PATHLIKE = ["../x", "a/b", "/etc/passwd", "T0001\x00", "T" * 300, "Ｔ0001", ".git", "T0001;rm -rf ~", "", "T0001\n"]
ID_COMMANDS = {
    "archive new": (["archive", "new", "ID", "--name", "某公司", "--as", "wangli"], ["租户编号"]),
    "archive add": (["archive", "add", "ID", "supplement", "--set", "note=x", "--as", "wangli"], ["租户编号"]),
    # A tenant is looked up by id, 房号 or name: what is no folder name and matches no one is not found.
    "moveout start": (["moveout", "start", "ID", "--date", "2026-12-31", "--as", "zhaomin"], ["租户"]),
    "staff add": (["staff", "add", "ID", "--name", "某人", "--dept", "finance", "--as", "sunhao"], ["员工编号"]),
    "as": (["archive", "add", "T0001", "supplement", "--set", "note=x", "--as", "ID"], ["员工编号", "请用 --as"]),
    "moveout sign": (["moveout", "sign", "ID", "application", "--as", "wangli"], ["案件编号"]),
    "notice to": (["notice", "send", "--subject", "通知", "--file", "BODY", "--to", "ID", "--as", "wangli"], ["找不到租户", "无效", "收件"]),
}


_NAMES = ["dotdot", "slash", "absolute", "nul", "long", "fullwidth", "dotgit", "shell", "empty", "newline"]
# `--to` takes a list (`T0001, T0002`): its items are trimmed, so a trailing newline is no id of its own.
_ID_CASES = [(c, b) for c in ID_COMMANDS for b in PATHLIKE if not (c == "notice to" and b == "T0001\n")]


@pytest.mark.parametrize("command,bad", _ID_CASES, ids=[f"{c}-{_NAMES[PATHLIKE.index(b)]}" for c, b in _ID_CASES])
def test_a_path_like_id_is_refused(hs, run, tmp_path, command, bad):
    argv, said = ID_COMMANDS[command]
    body = tmp_path / "body.md"
    body.write_text("明日停水。\n", encoding="utf-8")
    argv = [bad if a == "ID" else str(body) if a == "BODY" else a for a in argv]
    r = refused_unchanged(run, hs, argv, [])
    assert any(s in r.stderr for s in said), r.stderr
    # nothing escaped its folder
    assert not (hs.root.parent / "x").exists() and not (hs.root / "tenants" / "a").exists()


@pytest.mark.parametrize("bad", PATHLIKE[:7], ids=["dotdot", "slash", "absolute", "nul", "long", "fullwidth", "dotgit"])
def test_a_path_like_tenant_is_not_found_by_readers(hs, run, bad):
    for argv in (["archive", "show", bad], ["archive", "check", bad], ["complaint", "open", bad, "--channel", "phone", "--text", "x",
                                                                         "--as", "wangli"],
                 ["repair", "open", bad, "--location", "x", "--text", "y", "--as", "wangli"]):
        refused_unchanged(run, hs, argv, ["找不到租户"])


ARGUMENTS = [
    (["archive", "add", "T0001", "../../wuye", "--set", "a=b", "--as", "wangli"], ["未知档案类别 '../../wuye'"]),
    (["archive", "add", "T0001", "profile", "--set", "units=../x", "--as", "wangli"], ["--set: units.0", "'../x' 无效"]),
    (["archive", "add", "T0001", "supplement", "--set", "../x=1", "--as", "wangli"], ["未知字段"]),
    (["archive", "add", "T0001", "supplement", "--set", "no-equals-sign", "--as", "wangli"], ["--set 应写成 字段=值"]),
    (["archive", "add", "T0001", "contacts", "--set", "name=李\n明", "--set", "phone=13812345678", "--as", "wangli"], ["U+000A"]),
    (["archive", "add", "T0001", "contacts", "--set", "name=李明", "--set", "phone=138\x0012345678", "--as", "wangli"], ["电话号码无效"]),
    (["archive", "add", "T0001", "payments", "--set", "kind=fee", "--set", "item=物业费", "--set", "amount=-1", "--as", "wangli"],
     ["金额不能为负"]),
    (["archive", "add", "T0001", "payments", "--set", "kind=fee", "--set", "item=物业费", "--set", "amount=NaN", "--as", "wangli"],
     ["不是有限的数字"]),
    (["archive", "add", "T0001", "repairs", "--set", "reported_at=2099-01-01T09:00:00+08:00", "--set", "location=x",
      "--set", "description=y", "--as", "wangli"], ["reported_at", "在将来"]),
    (["archive", "add", "T0001", "move_in", "--set", "move_in_date=2099-01-01", "--as", "wangli"], ["一年以后"]),
    (["moveout", "start", "T0002", "--date", "2099-99-99", "--as", "zhaomin"], ["planned_date"]),
    (["complaint", "open", "T0001", "--channel", "phone", "--text", "x", "--at", "2099-01-01T00:00", "--as", "wangli"], ["在将来"]),
    (["complaint", "open", "T0001", "--channel", "$(reboot)", "--text", "x", "--as", "wangli"], ["$(reboot)"]),
    (["repair", "open", "T0001", "--location", "x", "--text", "y", "--at", "2099-01-01T00:00", "--as", "wangli"], ["在将来"]),
    (["repair", "done", "REF", "--cost", "-5", "--as", "zhangwei"], ["金额不能为负"]),
    (["repair", "done", "REF", "--cost", "NaN", "--as", "zhangwei"], ["不是有限的数字"]),
    (["repair", "done", "../REF", "--as", "zhangwei"], ["'..' 无效"]),
    (["survey", "record", "T0001", "--period", "2026-Q4", "--score", "NaN", "--as", "wangli"], ["1 到 5"]),
    (["staff", "add", "lisi", "--name", "李四\nWuye-Actor: boss", "--dept", "finance", "--as", "sunhao"], ["U+000A"]),
    (["staff", "add", "lisi", "--name", "李四 <boss@x>", "--dept", "finance", "--as", "sunhao"], ["< 或 >"]),
    (["staff", "add", "lisi", "--name", "李四", "--dept", "../finance", "--as", "sunhao"], ["未知部门"]),
    (["archive", "new", "T0003", "--name", "乙公司\n\nWuye-Signer: chenjing", "--as", "wangli"], ["U+000A"]),
    (["archive", "new", "T0003", "--name", "乙公司", "--unit", "../1205", "--as", "wangli"], ["'../1205' 无效"]),
]
USAGE = [
    ["archive", "new"],
    ["archive", "add", "T0001", "contacts", "--no-such-option"],
    ["moveout", "sign", "--as"],
    ["import"],
]


@pytest.mark.parametrize("argv,fragments", ARGUMENTS, ids=[" ".join(a[:2]) + f"-{i}" for i, (a, _) in enumerate(ARGUMENTS)])
def test_a_hostile_argument_is_refused_naming_it(hs, run, argv, fragments):
    argv = [hs.repair if a == "REF" else a.replace("REF", hs.repair) for a in argv]
    refused_unchanged(run, hs, argv, fragments)


@pytest.mark.parametrize("argv", USAGE, ids=[" ".join(a) for a in USAGE])
def test_a_usage_error_exits_2_and_changes_nothing(hs, run, argv):
    refused_unchanged(run, hs, argv, ["错误："], code=2)


def test_the_corpus_has_at_least_forty_files():
    assert len([p for p in HOSTILE.iterdir() if p.is_file() and p.name != "README.md"]) >= 40


# --- shell metacharacters are data -----------------------------------------------------------------

SHELLY = "$(touch pwned1); `touch pwned2` | touch pwned3 && rm -rf ~ ${HOME} > /dev/null 'x\" #"


def test_shell_metacharacters_are_stored_literally_never_run(hs, run, tmp_path):
    from wuye.storage import yamlio

    r = run("archive", "new", "T0100", "--name", SHELLY, "--unit", "1300", "--as", "wangli", store=hs)
    assert r.exit_code == 0, r.stderr
    assert yamlio.read(hs.path("tenants/T0100/profile.yaml"), "p")["name"] == SHELLY
    r = run("complaint", "open", "T0100", "--channel", "phone", "--text", SHELLY, "--as", "wangli", store=hs)
    assert r.exit_code == 0, r.stderr
    r = run("archive", "add", "T0100", "supplement", "--set", f"note={SHELLY}", "--as", "wangli", store=hs)
    assert r.exit_code == 0, r.stderr
    notes = yamlio.read(hs.path("tenants/T0100/supplement.yaml"), "s")["entries"]
    assert notes[-1]["note"] == SHELLY
    subjects = git(hs.root, "log", "-3", "--format=%s").splitlines()
    assert any(SHELLY in s for s in subjects), subjects
    for where in (tmp_path, hs.root, Path.cwd(), Path.home()):
        assert not any((where / f"pwned{i}").exists() for i in (1, 2, 3)), where
    assert run("verify", store=hs).exit_code == 0
