"""Chinese all through, English all through (issue 17, item 5): every view of the demo store, in
both languages, speaks only its language, except for what the office itself wrote.

The rule a test can check: in the default (Chinese) interface, a run of Latin letters on screen
must come from the store's own records (an email, a staff id, a file name), be a code the clerk
types (a choice such as `held`), or be one of the few names that have no Chinese (git, JSON,
sha256); with WUYE_LANG=en, a run of Chinese characters must come from the records (a company's
name, an address, a fee the office named). A label, a header, a unit of measure, a type name or a
punctuation mark of the other language fails it. Commands quoted for the clerk to run (`wuye …`)
are left out: they are typed as they are.

`wuye log` is checked in Chinese only: its summaries are the commit messages as recorded, in
the language of whoever committed them, which is history, not interface.
"""

from __future__ import annotations

import re
import subprocess
import sys
import typing

import pytest

from test_columns import demo  # noqa: F401  (the demo store, in a clerk's environment)

VIEWS = [
    ["log"], ["log", "T0003"], ["verify"], ["doctor"],
    ["archive", "list"], ["archive", "show", "T0001"], ["archive", "show", "T0003"], ["archive", "show", "T0001", "payments"],
    ["archive", "check"], ["archive", "fields", "payments"], ["archive", "fields", "move_in"],
    ["unit", "list"], ["unit", "show", "1202"],
    ["moveout", "list"], ["moveout", "status", "MO-2026-0001"], ["moveout", "status", "MO-2026-0002"],
    ["moveout", "fields", "engineering_inspection"], ["moveout", "fields", "settlement"],
    *[["report", r] for r in ("complaints", "repairs", "satisfaction", "arrears", "moveouts", "completeness", "leases", "training")],
    ["todo", "--dept", "engineering"], ["todo", "--dept", "finance"],
    ["complaint", "list"], ["repair", "list"], ["complaint", "show", "TS-2026-0001"], ["repair", "show", "BX-2026-0001"],
    ["notice", "list"], ["survey", "list"], ["inquiry", "list"], ["training", "list"], ["improve", "list"],
    ["staff", "list"], ["trust", "show"],
]
HISTORY = {("log",), ("log", "T0003")}
# Names with no Chinese word in use, and the units of the meters.
NAMES = {"wuye", "git", "JSON", "json", "YAML", "yaml", "sha256", "SHA256", "OpenSSH", "ssh", "keygen", "Ed25519",
         "HEAD", "kWh", "xlsx", "csv", "PDF", "pdf", "USCC"}
LATIN = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]+")
WORD = re.compile(r"[\u3400-\u9fff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


@pytest.fixture(scope="module")
def written(demo) -> str:  # noqa: F811
    """Everything the office wrote: the records, the staff, the units, the settings (not the
    workflow file, whose titles are the interface's own)."""
    root, _ = demo
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*")
                     if p.is_file() and ".git" not in p.parts and "workflows" not in p.parts and p.suffix in (".yaml", ".md", ""))


@pytest.fixture(scope="module")
def codes() -> set[str]:
    """What a clerk types: the field keys (`--set phone=…`, shown beside their titles), the step
    ids and their field keys, and the codes of a choice (held, refunded, fee …)."""
    from pathlib import Path

    import wuye
    from wuye.models import archive as models

    workflow = (Path(wuye.__file__).parent / "defaults" / "moveout.yaml").read_text(encoding="utf-8")
    found: set[str] = set(re.findall(r"(?:name|id): (\w+)", workflow))
    for model in [getattr(models, n) for n in dir(models)]:
        found.update(getattr(model, "model_fields", {}) if isinstance(model, type) else ())
        for f in getattr(model, "model_fields", {}).values() if isinstance(model, type) else ():
            for arg in typing.get_args(f.annotation) or (f.annotation,):
                found.update(a for a in typing.get_args(arg) if isinstance(a, str))
                if typing.get_origin(f.annotation) is typing.Literal:
                    found.update(a for a in typing.get_args(f.annotation) if isinstance(a, str))
    return found


def foreign(line: str, written: str) -> list[str]:
    """The runs of Chinese on an English screen line that the office did not write. Punctuation
    alone (`、` between English words) is the office's only beside what it stood beside in the
    records (`〔2026〕`, `1201、1202`); a table cell's folded edge has nothing beside it."""
    out = []
    for m in CJK.finditer(line):
        run = m.group()
        if WORD.search(run):
            if run not in written:
                out.append(run)
            continue
        before = line[:m.start()].rstrip(" │┃")[-1:]
        after = line[m.end():].lstrip(" │┃")[:1]
        if (before or after) and not ((before and before + run in written) or (after and run + after in written)):
            out.append(f"{before}{run}{after}")
    return out


def screen(demo, lang: str, args: list[str]) -> str:  # noqa: F811
    """What the clerk sees, stdout and stderr (the hints and the next steps go there)."""
    root, env = demo
    p = subprocess.run([sys.executable, "-m", "wuye", "--store", str(root), *args], cwd=root,
                       env=dict(env, COLUMNS="100", WUYE_LANG=lang), capture_output=True, text=True, timeout=120)
    assert p.returncode in (0, 3) and "Traceback" not in p.stderr, (args, p.stderr)  # 3: todo has overdue items
    text = p.stdout + p.stderr
    text = re.sub(r"`[^`]*`", "", text)  # a command quoted to run
    text = re.sub(r"(ssh-ed25519|SHA256:)\S*", "", text)  # keys and fingerprints
    return text


@pytest.mark.parametrize("args", VIEWS, ids=" ".join)
def test_the_chinese_interface_shows_no_english_but_what_the_office_wrote(demo, written, codes, args):  # noqa: F811
    text = screen(demo, "zh", args)
    # A long word folded across two lines of a table (a file name) is still the office's.
    leaks = sorted({w for w in LATIN.findall(text) if w not in NAMES and w not in codes and w not in written})
    assert leaks == [], (args, leaks)


@pytest.mark.parametrize("args", [v for v in VIEWS if tuple(v) not in HISTORY], ids=" ".join)
def test_the_english_interface_shows_no_chinese_but_what_the_office_wrote(demo, written, args):  # noqa: F811
    text = screen(demo, "en", args)
    leaks = sorted({run for line in text.splitlines() for run in foreign(line, written)})
    assert leaks == [], (args, leaks)


def test_a_label_of_the_other_language_would_be_caught(demo, written, codes):  # noqa: F811
    # The check itself can fail: an English type name and a Chinese comma are not the office's.
    assert "boolean" not in written and "boolean" not in codes
    assert foreign("next: Release (security)；Handover", written) == [")；H"]
    assert foreign("missing: renovation、violations", written) == ["n、v"]
    assert CJK.findall("next: 放行并通知（保安部）") == ["放行并通知（保安部）"] and "放行并通知（保安部）" not in written
