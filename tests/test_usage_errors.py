"""A usage error (an unknown option or command, a missing argument, a value of the wrong type)
is said in the reader's language, like every other refusal: `错误：…` then the usage line, exit
2, nothing on stdout and nothing changed. typer alone says them in English (issue 17, item 5).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# click's English words; none may reach a Chinese screen.
ENGLISH = re.compile(r"\b(Error|Usage|Try|Invalid|Missing|No such|Possible|Got unexpected|requires|OPTIONS|COMMAND|ARGS)\b")

CASES = [
    # args, the Chinese error line, the English one
    (["archive", "show", "T0001", "--only"], "错误：没有选项 --only", "error: no such option: --only"),
    (["archive", "show", "T0001", "--jsn"], "错误：没有选项 --jsn；是不是：", "error: no such option: --jsn; did you mean: "),
    (["archive", "add"], "错误：缺少参数 tenant", "error: missing argument tenant"),
    (["archive", "bogus"], "错误：没有命令 bogus", "error: no such command: bogus"),
    (["bogus"], "错误：没有命令 bogus", "error: no such command: bogus"),
    (["log", "-n", "many"], "错误：-n / --limit 的值无效：应为整数", "error: invalid value for -n / --limit: Input should be a valid integer"),
    (["archive", "show", "T0001", "extra", "junk"], "错误：多余的参数：junk", "error: unexpected extra argument(s): junk"),
    (["archive", "show", "T0001", "--as"], "错误：选项 --as 需要一个值", "error: option --as needs a value"),
]


def wuye(store, lang: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, WUYE_LANG=lang, COLUMNS="80")
    return subprocess.run([sys.executable, "-m", "wuye", "--store", str(store.root), *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args,zh,en", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_usage_error_is_said_in_chinese_and_in_english(tenant, snapshot, args, zh, en):
    before = snapshot(tenant)
    r = wuye(tenant, "zh", *args)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0].startswith(zh), r.stderr
    assert not ENGLISH.search(r.stderr), r.stderr
    assert "Traceback" not in r.stderr
    if len(lines) > 1:  # the usage line, and where the command's help is
        assert len(lines) == 2 and lines[1].startswith("用法：wuye ") and "--help" in lines[1], r.stderr
    r = wuye(tenant, "en", *args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines()[0].startswith(en), r.stderr
    assert not CJK.search(r.stderr), r.stderr
    assert snapshot(tenant) == before


def test_the_suggestions_name_the_options_that_exist(tenant):
    r = wuye(tenant, "zh", "archive", "show", "T0001", "--jsn")
    assert "--json" in r.stderr.splitlines()[0]


def test_a_bad_choice_lists_the_choices(tenant):
    r = wuye(tenant, "zh", "staff", "add", "somebody", "--name", "某人", "--dept", "kitchen", "--as", "sunhao")
    assert r.returncode in (1, 2), r.stderr
    assert r.stderr.startswith("错误：") and not ENGLISH.search(r.stderr), r.stderr


def test_wuye_alone_still_shows_its_help(tenant):
    r = subprocess.run([sys.executable, "-m", "wuye"], env=dict(os.environ, COLUMNS="80"), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2
    assert "archive" in r.stdout + r.stderr and "Traceback" not in r.stderr


CLICK_WORDS = re.compile(r"\b(Usage|Options|Arguments|Commands|Show this message|required|default:)")


def _every_command_path() -> list[list[str]]:
    from typer.main import get_command

    from wuye.cli import app

    paths, todo = [], [([], get_command(app))]
    while todo:
        path, cmd = todo.pop()
        paths.append(path)
        todo += [(path + [name], sub) for name, sub in getattr(cmd, "commands", {}).items()]
    return sorted(paths)


def test_every_commands_help_is_in_chinese_and_in_english(run, monkeypatch):
    paths = _every_command_path()
    assert len(paths) > 60  # the whole tree was walked
    for path in paths:
        r = run(*path, "--help", store=None)
        assert r.exit_code == 0, (path, r.stderr)
        assert r.stdout.startswith("用法：wuye"), (path, r.stdout[:80])
        assert not CLICK_WORDS.search(r.stdout), (path, CLICK_WORDS.search(r.stdout).group(0))
    monkeypatch.setenv("WUYE_LANG", "en")
    for path in (["archive", "show"], ["moveout", "settle"], ["log"], []):
        r = run(*path, "--help", store=None)
        assert r.stdout.startswith("Usage: wuye") and "Options:" in r.stdout and "显示本帮助" not in r.stdout


def test_each_command_word_mounts_the_module_that_has_it():
    """`wuye NOUN` mounts only the module MODULES names for NOUN (wuye/cli/__init__.py): every
    command of the whole tree must be in the table, and found in that module alone."""
    import subprocess
    import sys

    from typer.main import get_command

    from wuye.cli import MODULES, app

    words = sorted(get_command(app).commands)
    assert sorted(MODULES) == words
    probe = ("import sys; from typer.main import get_command; import wuye.cli as c; "
             "c._mount([c.MODULES[sys.argv[1]]]); print(sorted(get_command(c._root).commands))")
    for word in ("archive", "complaint", "report", "remote", "verify"):
        p = subprocess.run([sys.executable, "-c", probe, word], capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        got = eval(p.stdout)  # a list of names printed by the probe
        assert word in got
        assert set(got) == {w for w in words if MODULES[w] == MODULES[word]}


def test_the_command_word_is_found_after_the_store_option():
    from wuye.cli import _noun

    assert _noun(["--store", "/tmp/x", "archive", "show"]) == "archive"
    assert _noun(["--store=/tmp/x", "report", "arrears"]) == "report"
    assert _noun(["--help"]) is None
    assert _noun([]) is None
    assert _noun(["--store", "archive"]) is None  # "archive" was the store's path
