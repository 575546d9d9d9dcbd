"""The hostile corpus of issue 15 against every command that reads a user's file or a store file.

Each input is fed (as `--file`, or written into a store file and committed with plain git) to each
reader, and every run must end with exit 1, the file named as `path:line:col:` on one line, no
traceback, no signal, and the store as it was. The inputs that segfaulted ruamel's C composer
(30,000 levels of nesting) run the CLI as a real subprocess, so a crash is a signal the test sees
rather than the end of the test process. Inputs the reader accepts (trailing tabs, markup) are
checked to be written back and shown as data.

The default run feeds every input to the file commands and to the two cheapest store readers;
`test_the_whole_store_matrix` (slow) feeds every input to every store reader.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, git, snapshot
from test_hostile import FILE_COMMANDS, HOSTILE, _template, fill, hs  # noqa: F401 (fixtures)

# Refused while reading, whatever reads them: issue 15's reproducers 1-7, 13, 15-17.
READ_REFUSED = {
    "ts-month-13.yaml": "2:7", "ts-feb-30.yaml": "2:7", "ts-year-0.yaml": "2:7", "ts-hour-24.yaml": "2:7",
    "ts-minute-60.yaml": "2:5", "ts-second-60.yaml": "2:5", "ts-offset-24.yaml": "2:5",
    "num-hex-empty.yaml": "2:8", "num-octal-empty.yaml": "2:8", "num-binary-empty.yaml": "2:8",
    "num-minus-empty.yaml": "2:8", "num-plus-empty.yaml": "2:8", "num-dot-empty.yaml": "2:8",
    "num-4301-digits.yaml": "2:8",
    "key-complex-nested.yaml": "2:3", "key-flow-mapping.yaml": "2:1", "key-list.yaml": "2:1", "key-date.yaml": "2:1",
    "raw-bel.yaml": "1:8", "raw-esc.yaml": "1:8", "raw-del.yaml": "1:8", "raw-c1.yaml": "1:8", "raw-fffe.yaml": "1:8",
    "escaped-controls.yaml": "1:7",
    "nel.yaml": "1:8", "line-separator.yaml": "1:8", "paragraph-separator.yaml": "1:8",
    "bang-tag.yaml": "1:7", "merge-key.yaml": "1:1", "duplicate-multiline.yaml": "2:1",
    "nul.yaml": "1:", "deep-nesting.yaml": "1:", "DEEP-FLOW": "1:", "DEEP-BLOCK": "2:",
}
# Made by the test (60 KB each), not kept in the corpus: what segfaulted the C composer.
DEPTH = 30_000
GENERATED = {"DEEP-FLOW": "note: " + "[" * DEPTH + "]" * DEPTH + "\n", "DEEP-BLOCK": "note:\n  " + "- " * DEPTH + "x\n"}
SUBPROCESS = {"DEEP-FLOW", "DEEP-BLOCK", "deep-nesting.yaml"}
LOCATED = re.compile(r"(?P<path>\S+?):(?P<line>\d+):(?P<col>\d+): ")


def corpus_file(name: str, tmp_path: Path) -> Path:
    p = tmp_path / (name.lower() + ".yaml" if name in GENERATED else name)
    if name in GENERATED:
        p.write_text(GENERATED[name], encoding="utf-8")
    else:
        p.write_bytes((HOSTILE / name).read_bytes())
    return p


def cli(run, store, argv, subprocess_run: bool):
    """(exit code, stdout, stderr) of the CLI, in-process or as a real process."""
    if not subprocess_run:
        r = run(*argv, store=store)
        return r.exit_code, r.stdout, r.stderr
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    p = subprocess.run([sys.executable, "-m", "wuye", "--store", str(store.root), *map(str, argv)],
                       capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def refused_located(run, store, argv, rel: str, where: str, name: str, report: bool = False) -> str:
    """Run argv; assert exit 1 (no signal), one located line naming rel at `where`, nothing changed.
    Returns the class of the outcome for the counts."""
    before = snapshot(store, os.environ["WUYE_KEYS"])
    code, stdout, stderr = cli(run, store, argv, name in SUBPROCESS)
    if "--json" in argv:  # the problems are data: each with its path, line and column
        import json

        problems = [p for p in json.loads(stdout)["problems"] if p["path"] == rel]
        stdout = "".join(f"{p['path']}:{p['line']}:{p['col']}: {p['message']}\n" for p in problems)
    said = stderr + (stdout if report else "")
    assert code == 1, (argv, code, stdout[-2000:], stderr[-2000:])
    assert "Traceback" not in said and "Error:" not in said.replace("错误：", ""), said[-3000:]
    lines = [ln for ln in said.splitlines() if rel in ln]
    assert lines, (rel, said[-3000:])
    m = LOCATED.search(lines[0])
    assert m and m["path"].endswith(rel) and f"{m['line']}:{m['col']}".startswith(where), (where, lines[0])
    if not report:
        assert stdout == "" and len([ln for ln in stderr.splitlines() if ln.strip()]) == 1, stderr
    assert snapshot(store, os.environ["WUYE_KEYS"]) == before, argv
    return "refused located"


# --- a user's file -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(FILE_COMMANDS))
@pytest.mark.parametrize("name", list(READ_REFUSED))
def test_every_hostile_file_is_refused_located_by_every_file_command(hs, run, tmp_path, name, command):
    path = corpus_file(name, tmp_path)
    refused_located(run, hs, fill(FILE_COMMANDS[command], hs, path), str(path), READ_REFUSED[name], name)


# Refused by the models, located: reproducers 10, 11, 12 and 14.
MODEL_REFUSED = [
    ("money-29-digits.yaml", ["archive", "add", "T0001", "payments", "--file", "F", "--as", "wangli"], "3:1", "9,999,999,999.99"),
    ("money-1e30.yaml", ["archive", "add", "T0001", "payments", "--file", "F", "--as", "wangli"], "3:1", "9,999,999,999.99"),
    ("units-scalar.yaml", ["archive", "new", "T0003", "--file", "F", "--as", "wangli"], "2:1", "units"),
    ("count-beyond-2-53.yaml", ["moveout", "sign", "CASE", "return_pass", "--file", "F", "--as", "wangli"], "1:1",
     "access_cards_returned"),
]


@pytest.mark.parametrize("name,argv,where,said", MODEL_REFUSED, ids=[m[0] for m in MODEL_REFUSED])
def test_a_record_out_of_bounds_is_refused_located(hs, run, tmp_path, name, argv, where, said):
    path = corpus_file(name, tmp_path)
    before = snapshot(hs, os.environ["WUYE_KEYS"])
    r = run(*fill(argv, hs, path), store=hs)
    assert r.exit_code == 1 and "Traceback" not in r.stderr, (r.exit_code, r.stderr)
    assert f"{path}:{where}" in r.stderr and said in r.stderr, r.stderr
    assert snapshot(hs, os.environ["WUYE_KEYS"]) == before


@pytest.mark.parametrize("argv,said", [
    (["archive", "add", "T0001", "payments", "--set", "kind=fee", "--set", "item=物业费", "--set", "amount=1e30"], "9,999,999,999.99"),
    (["archive", "add", "T0001", "payments", "--set", "kind=fee", "--set", "item=物业费",
      "--set", "amount=99999999999999999999999999999"], "9,999,999,999.99"),
    (["archive", "add", "T0001", "supplement", "--set", "note=a\x1b[2Jb"], "U+001B"),
    (["archive", "add", "T0001", "supplement", "--set", "note=a\x9bb"], "U+009B"),
    (["moveout", "sign", "CASE", "return_pass", "--set", "access_cards_returned=99999999999999999999"], "access_cards_returned"),
], ids=["money-1e30", "money-29-digits", "esc", "c1", "count"])
def test_a_hostile_set_value_is_refused(hs, run, argv, said):
    before = snapshot(hs, os.environ["WUYE_KEYS"])
    r = run(*[hs.case if a == "CASE" else a for a in argv], "--as", "wangli", store=hs)
    assert r.exit_code == 1 and said in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert snapshot(hs, os.environ["WUYE_KEYS"]) == before


def test_a_json_import_nested_100000_deep_is_refused(hs, run, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    before = snapshot(hs, os.environ["WUYE_KEYS"])
    code, stdout, stderr = cli(run, hs, ["import", path, "--as", "wangli"], True)
    assert code == 1 and str(path) in stderr and "Traceback" not in stderr, (code, stderr[-2000:])
    assert snapshot(hs, os.environ["WUYE_KEYS"]) == before


# --- a store file, edited and committed with plain git --------------------------------------------


def commit_into(store, rel: str, raw: bytes) -> None:
    store.path(rel).write_bytes(raw)
    git(store.root, "add", "-A")
    git(store.root, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "hand edit")


STORE_READERS = {
    # A look-up shows what it could read, and names what it could not (exit 1).
    "archive show": (["archive", "show", "T0001"], True),
    "archive show --json": (["archive", "show", "T0001", "--json"], True),
    "archive check": (["archive", "check"], True),
    "verify": (["verify"], True),
    "archive add": (["archive", "add", "T0001", "contacts", "--set", "name=王五", "--set", "phone=13900000000", "--as", "wangli"], False),
}
DEFAULT_READERS = ("archive show", "archive check")


def store_matrix(hs, run, tmp_path, name, readers):
    rel = "tenants/T0001/contacts.yaml"
    commit_into(hs, rel, corpus_file(name, tmp_path).read_bytes())
    return [refused_located(run, hs, argv, rel, READ_REFUSED[name], name, report) for argv, report in
            (STORE_READERS[r] for r in readers)]


@pytest.mark.parametrize("name", list(READ_REFUSED))
def test_every_hostile_store_file_is_refused_located(hs, run, tmp_path, name):
    store_matrix(hs, run, tmp_path, name, DEFAULT_READERS)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(READ_REFUSED))
def test_the_whole_store_matrix(hs, run, tmp_path, name):
    store_matrix(hs, run, tmp_path, name, list(STORE_READERS))


@pytest.mark.parametrize("name", ["raw-esc.yaml", "key-date.yaml", "escaped-controls.yaml", "ts-feb-30.yaml"])
def test_a_hostile_profile_is_named_by_every_reader_of_it(hs, run, tmp_path, name):
    rel = "tenants/T0001/profile.yaml"
    commit_into(hs, rel, corpus_file(name, tmp_path).read_bytes())
    for argv, report in (STORE_READERS["archive show"], STORE_READERS["verify"], (["archive", "show", "柏彦"], True)):
        refused_located(run, hs, argv, rel, READ_REFUSED[name], name, report)


# --- accepted, so written back and shown as data ---------------------------------------------------


@pytest.mark.parametrize("name", ["trailing-tab.yaml", "tab-after-colon.yaml", "block-spaces-first.yaml"])
def test_a_file_the_reader_accepts_is_written_back(hs, run, tmp_path, name):
    """ruamel's round-trip loader refuses these; the reader accepts them, so the writer must too."""
    from wuye.storage import yamlio

    path = corpus_file(name, tmp_path)
    r = run("archive", "add", "T0001", "supplement", "--file", path, "--as", "wangli", store=hs)
    assert r.exit_code == 0, r.stderr
    rel = "tenants/T0001/supplement.yaml"
    entries = yamlio.read(hs.path(rel), rel)["entries"]
    assert "柜子" in entries[-1]["note"]
    # The same text as a store file, edited by hand: the next `archive add` writes it back.
    text = hs.path(rel).read_text(encoding="utf-8")
    commit_into(hs, rel, text.replace("柜子", "柜子\t", 1).encode() + b"# hand note\t\n")
    assert run("archive", "check", store=hs).exit_code == 0
    r = run("archive", "add", "T0001", "supplement", "--set", "note=第二条", "--as", "wangli", store=hs)
    assert r.exit_code == 0, r.stderr
    notes = [e["note"] for e in yamlio.read(hs.path(rel), rel)["entries"]]
    assert notes[-1] == "第二条" and any("柜子" in n for n in notes)


def test_markup_and_escapes_in_stored_text_are_shown_as_data(hs, run, tmp_path):
    path = corpus_file("markup.yaml", tmp_path)
    assert run("archive", "add", "T0001", "supplement", "--file", path, "--as", "wangli", store=hs).exit_code == 0
    r = run("archive", "show", "T0001", store=hs)
    assert r.exit_code == 0, r.stderr
    assert "[/bold] x [red]red[/red]" in r.stdout  # shown as typed, not as markup
    # A company named with markup, then a case opened for it: the board and the report show it.
    r = run("archive", "add", "T0002", "profile", "--set", "name=[/bold]甲[red]公司", "--as", "wangli", store=hs)
    assert r.exit_code == 0, r.stderr
    r = run("moveout", "start", "T0002", "--date", "2026-12-31", "--as", "zhaomin", store=hs)
    assert r.exit_code == 0, r.stderr
    case = [c for c in hs.path("tenants/T0002/moveout").iterdir()][0].name
    for argv in (["archive", "show", "T0002"], ["archive", "list"], ["moveout", "status", case], ["report", "moveouts"]):
        r = run(*argv, store=hs)
        assert r.exit_code == 0 and "Traceback" not in r.stderr, (argv, r.stderr)
        assert "[/bold]甲[red]公司" in r.stdout, (argv, r.stdout)


def test_output_shows_control_characters_escaped():
    from wuye.cli.output import visible

    assert visible("a\x1b[2Jb\x07\x9b\u202ec\td\n") == "a\\x1b[2Jb\\x07\\x9b\\u202ec\td\n"
