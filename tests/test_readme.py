"""The README runs: every ```console block of README.md is run, and what it shows is compared.

The convention (for whoever adds a console block):

- Blocks run in README order, in *scenes*. A scene is one fresh directory (its own HOME, key folder,
  UTC clock, `wuye` of this checkout on PATH) and lasts until the next scene marker. Markers are
  HTML comments on a line of their own before a block (invisible on GitHub):
    `<!-- readme-test: fresh -->`  an empty directory; the walk-through starts with `wuye init`.
    `<!-- readme-test: demo -->`   the demo store (`wuye demo --keep`), the current directory inside it,
                                   WUYE_KEYS set to its staff's keys.
    `<!-- readme-test: skip -->`   the next block alone is not run (say why in the sentence before it).
  A block with no marker goes on in the scene of the block before it (same directory, same store,
  what earlier blocks did stays done). Before the first marker, a fresh scene.
- In a block, `$ CMD` is a command (run by bash in the scene's current directory; `cd` carries
  over), `(DIR) $ CMD` runs in the directory DIR of the scene (a second office, a clone), a line
  starting with `#` is a comment, everything else is the output of the command above it.
- Paths: `/tmp/readme` stands for the fresh scene's directory, `/tmp/wk/demo` for the demo store,
  `/srv/wuye` for a folder `srv` in the scene (the central repositories).
- What is compared: the exit code (1 when the shown output starts with `错误：` or `error:`, else 0)
  and every shown output line, in order, among the command's output lines (stdout and stderr as one),
  after normalising what varies from run to run: commit hashes and other hex runs, fingerprints
  and public keys, key tails, times and dates of today, temp paths, runs of spaces and table
  borders. A command may print more lines than the README shows; the README shows none it does not
  print. Tables are compared row by row (their cells), borders ignored.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
MARKER = re.compile(r"^<!--\s*readme-test:\s*(fresh|demo|skip)\b.*-->\s*$")
PROMPT = re.compile(r"^(?:\((?P<dir>[^)]+)\)\s+)?\$ (?P<cmd>.*)$")


@dataclass
class Command:
    line: int  # 1-based line of README.md
    cmd: str
    where: str | None
    expected: list[str] = field(default_factory=list)


@dataclass
class Block:
    line: int
    scene: str  # "fresh" | "demo" | "same"
    skip: bool
    commands: list[Command]


def blocks(text: str) -> list[Block]:
    out: list[Block] = []
    pending: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i].strip())
        if m:
            pending.append(m.group(1))
        elif lines[i].strip() == "```console":
            start = i + 1
            body = []
            i += 1
            while lines[i].strip() != "```":
                body.append((i + 1, lines[i]))
                i += 1
            scene = next((p for p in pending if p in ("fresh", "demo")), "fresh" if not out else "same")
            out.append(Block(start, scene, "skip" in pending, _commands(body)))
            pending = []
        i += 1
    return out


def _commands(body) -> list[Command]:
    cmds: list[Command] = []
    for n, text in body:
        m = PROMPT.match(text)
        if m:
            cmds.append(Command(n, m.group("cmd"), m.group("dir")))
        elif text.startswith("#") or not text.strip():
            continue
        elif cmds:
            cmds[-1].expected.append(text)
    return cmds


# --- normalising what varies -----------------------------------------------------------------

_VARY = [
    (re.compile(r"ssh-ed25519 AAAA[A-Za-z0-9+/=…]+"), "<pubkey>"),
    (re.compile(r"SHA256:[A-Za-z0-9+/=]{43}"), "SHA256:<fp>"),
    (re.compile(r"sha256:[0-9a-f]{12,64}"), "sha256:<digest>"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-f*]{10,40}(?![0-9A-Za-z])"), "<hex>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?([+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"(?<!\d)\d{4}-\d\d-\d\d \d\d:\d\d(?!\d)"), "<time>"),
    (re.compile(r"(?<!\d)\d{14}(?!\d)"), "<time>"),
    # A bare date: the demo's dates and a signature's day follow the day the README runs
    # (in the building's time zone), so the day the README was written cannot be compared.
    (re.compile(r"(?<!\d)\d{4}-\d\d-\d\d(?![\d:T])"), "<date>"),
]


def normalise(line: str, paths: dict[str, str]) -> str:
    for real, shown in paths.items():
        line = line.replace(real, shown)
    line = re.sub(r"[│┃┏┓┗┛┡┩┠┨┌┐└┘├┤┬┴┼╇╈╋━─┳┻]", " ", line)
    for pattern, repl in _VARY:
        line = pattern.sub(repl, line)
    # A key tail in the staff table: 12 base64 characters, mixed case and digits.
    line = re.sub(r"(?<![\w+/])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])"
                  r"[A-Za-z0-9+/]{12}(?![\w+/])", "<key>", line)
    return " ".join(line.split())


# --- running a scene -------------------------------------------------------------------------


class Scene:
    def __init__(self, root: Path, kind: str):
        self.root = root
        home = root / ".home"
        home.mkdir(parents=True)
        (root / "srv" / "wuye").mkdir(parents=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GIT_", "WUYE_")) and k not in ("COLUMNS", "LINES", "EMAIL")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), TZ="UTC",
                   WUYE_KEYS=str(root / "keys"), GIT_CONFIG_GLOBAL=os.devnull,
                   GIT_CONFIG_NOSYSTEM="1", COLUMNS="250", TERM="dumb", NO_COLOR="1",
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
        self.env = env
        self.cwd = root
        self.paths = {str(root / "srv" / "wuye"): "/srv/wuye", str(root): "/tmp/readme"}
        if kind == "demo":
            demo = root / "demo"
            # Without WUYE_KEYS the demo keeps its staff's keys beside the store, in demo.keys.
            p = subprocess.run(["wuye", "demo", "--keep", str(demo)], cwd=root,
                               env={k: v for k, v in env.items() if k != "WUYE_KEYS"}, capture_output=True, text=True)
            assert p.returncode == 0, p.stderr
            env["WUYE_KEYS"] = str(root / "demo.keys")
            self.cwd = demo
            self.paths = {str(root / "srv" / "wuye"): "/srv/wuye", str(demo): "/tmp/wk/demo",
                          str(REPO_ROOT) + "/": "", str(root): "/tmp/readme"}

    def run(self, c: Command) -> tuple[int, list[str]]:
        cwd = self.cwd if c.where is None else self._dir(c.where)
        cmd = c.cmd.replace("/tmp/wk/demo", str(self.root / "demo")).replace(
            "/srv/wuye", str(self.root / "srv" / "wuye")).replace("records/", f"{REPO_ROOT}/records/")
        script = f"exec 2>&1\n{cmd}\nrc=$?\nprintf '\\n@@CWD@@%s' \"$PWD\"\nexit $rc\n"
        p = subprocess.run(["bash", "-c", script], cwd=cwd, env=self.env, capture_output=True,
                           text=True, timeout=120)
        out, _, new_cwd = p.stdout.rpartition("@@CWD@@")
        out = out[:-1]  # the newline printed before the marker
        if c.where is None:
            self.cwd = Path(new_cwd)
        return p.returncode, out.splitlines()

    def _dir(self, name: str) -> Path:
        # `(NAME) $`: a directory of the scene named NAME, the store when NAME is its building.
        for cand in (self.root / name, *self.root.glob(f"*/{name}")):
            if cand.is_dir():
                return cand
        return self.cwd


def _check(scene: Scene, c: Command) -> list[str]:
    code, lines = scene.run(c)
    shown = [normalise(e, scene.paths) for e in c.expected]
    got = [normalise(x, scene.paths) for x in lines]
    want_code = 1 if shown and shown[0].startswith(("错误：", "error:")) else 0
    problems = []
    if code != want_code:
        problems.append(f"README.md:{c.line}: `{c.cmd}` exit {code}, README implies {want_code}")
    pos = 0
    for e, raw in zip(shown, c.expected):
        if not e:
            continue
        try:
            pos = got.index(e, pos) + 1
        except ValueError:
            problems.append(f"README.md:{c.line}: `{c.cmd}` does not print: {raw.strip()}")
    if problems:
        problems.append("  it printed:\n    " + "\n    ".join(lines))
    return problems


def test_every_console_block_runs_as_shown(tmp_path):
    found = blocks(README.read_text(encoding="utf-8"))
    assert found, "README.md has no console block"
    problems: list[str] = []
    scene = None
    for n, b in enumerate(found):
        if b.skip:
            continue
        if scene is None or b.scene != "same":
            root = tmp_path / f"scene{n}"
            scene = Scene(root, "demo" if b.scene == "demo" else "fresh")
        for c in b.commands:
            problems += _check(scene, c)
    assert not problems, "\n".join(problems)


def test_the_convention_reads_markers_prompts_and_outputs():
    text = ("<!-- readme-test: demo -->\n```console\n$ wuye verify\n校验通过\n# note\n"
            "(finance) $ wuye sync\n```\n\n```console\n$ true\n```\n"
            "<!-- readme-test: skip -->\n```console\n$ false\n```\n")
    b = blocks(text)
    assert [(x.scene, x.skip) for x in b] == [("demo", False), ("same", False), ("same", True)]
    assert [(c.cmd, c.where, c.expected) for c in b[0].commands] == [
        ("wuye verify", None, ["校验通过"]), ("wuye sync", "finance", [])]
    assert normalise("│ sunhao │ 孙浩 │ +6R2pHssz7MK │ 2026-11-27 12:38 │ 3e52452149", {}) == \
        "sunhao 孙浩 <key> <time> <hex>"
