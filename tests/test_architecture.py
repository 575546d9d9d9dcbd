"""The package layout is the architecture: dependencies point one way, and nothing hides a cycle.

Every import in wuye/ is read with `ast`, at the top of a module and inside functions alike (a lazy
import is still a dependency). Each subpackage has a rank; a module may import its own package and
packages ranked below it, never above or beside it, and no set of modules may import each other
round in a circle. The ranks are the ones the package docstrings state.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wuye"

# Lowest first. A package may import only packages with a smaller rank (and itself).
RANKS = {
    "wuye": 0,  # errors, i18n: what every layer speaks
    "wuye.models": 1,
    "wuye.storage": 2,
    "wuye.trust": 3,
    "wuye.archive": 4,
    "wuye.moveout": 5,
    "wuye.desk": 6,
    "wuye.printing": 6.5,  # papers: reads moveout and archive, read by the CLI alone
    "wuye.verify": 7,
    "wuye.transfer": 8,
    "wuye.sync": 8,
    "wuye.admin": 9,
    "wuye.cli": 10,
}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[tuple[str, int]]:
    """The wuye modules `name` imports, with the line of each import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            if t in known and t != name:
                found.add((t, node.lineno))
    return found


def package_of(module: str) -> str:
    if module == "wuye.__main__":
        return "wuye.cli"  # `python -m wuye` is the command line
    parts = module.split(".")
    if len(parts) >= 2 and ".".join(parts[:2]) in RANKS:
        return ".".join(parts[:2])
    return "wuye"


def graph() -> dict[str, set[tuple[str, int]]]:
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def test_every_subpackage_has_a_rank_and_says_its_job():
    for init in PACKAGE.glob("*/__init__.py"):
        name = f"wuye.{init.parent.name}"
        if name == "wuye.defaults":
            continue  # data, not code
        assert name in RANKS, f"{name} has no rank in this test"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"{init}: the docstring must say its job and what it may import"


def test_no_upward_or_sideways_import():
    bad = []
    for name, deps in graph().items():
        mine = package_of(name)
        for dep, line in deps:
            theirs = package_of(dep)
            if theirs != mine and RANKS[theirs] >= RANKS[mine]:
                bad.append(f"{name}:{line} imports {dep} ({theirs} is not below {mine})")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycle():
    g = {name: {d for d, _ in deps} for name, deps in graph().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


@pytest.mark.parametrize("source, expected", [
    ("from wuye.cli import app\n", {"wuye.cli"}),
    ("def f():\n    from ..storage import git\n", {"wuye.storage", "wuye.storage.git"}),
])
def test_the_walker_sees_lazy_and_relative_imports(tmp_path, source, expected):
    # The checks above are only as good as the walker: it must see imports inside functions too.
    path = tmp_path / "mod.py"
    path.write_text(source, encoding="utf-8")
    known = {"wuye.cli", "wuye.storage", "wuye.storage.git"}
    assert {d for d, _ in imports("wuye.archive.mod", path, known)} == expected


def test_bilingual_messages_are_formatted_once():
    # tr("找不到 %s" % x, "no %s" % x) writes the arguments twice, and the two copies drift apart;
    # the one form is tr("找不到 %s", "no %s") % x.
    twice = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"
                    and len(node.args) == 2
                    and all(isinstance(a, ast.BinOp) and isinstance(a.op, ast.Mod) for a in node.args)
                    and ast.dump(node.args[0].right) == ast.dump(node.args[1].right)):
                twice.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not twice, "format once, after tr(): " + ", ".join(twice)
