"""The reader against ruamel's safe loader on generated documents: the shapes of issue 15
(timestamps in and out of range, numbers with no digits or thousands of them, complex keys,
nesting, unicode, control characters, NEL/LS/PS, BOM, CRLF and CR line ends), then truncated and
with a byte flipped. For each document the reader either reads ruamel's value or refuses with a
located one-line problem; it never raises anything else, and it never reads a value other than
ruamel's (the only deliberate differences are refusals). What it reads, the writer writes back.

The default run tries FUZZ_EXAMPLES documents; the slow one ten times as many.
"""

from __future__ import annotations

import re

import pytest

from conftest import same_value
from hypothesis import HealthCheck, given, settings, strategies as st

from wuye.errors import WuyeError
from wuye.storage import yamlio

FUZZ_EXAMPLES = 400
LOCATED = re.compile(r"^f\.yaml:\d+:\d+: [^\n]+$")

timestamps = st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32)) | st.builds(
    "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}{}".format, st.integers(1, 2100), st.integers(1, 12), st.integers(1, 31),
    st.integers(0, 25), st.integers(0, 61), st.integers(0, 61), st.sampled_from(["", "Z", "+08:00", "+24:00", "-00:30", ".5"]))
numbers = st.sampled_from(["0x_", "0o_", "0b_", "-_", "+_", "._", "0x1F", "0o17", "1_000", ".inf", "-.nan", "1e30", "1e400",
                           "0.1", "-0", "+12", "99999999999999999999"]) | st.integers(0, 5000).map(lambda n: "9" * n)
words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8) | st.sampled_from(
    ["\x1b[2J", "\x07", "\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "[/bold]", "'", '"', "a: b", "- x", "#", "&a", "*a",
     "! x", "!!str x", "<<", "~", "=", "?", "\t", "\\e", "柏彦科技"])
scalars = timestamps | numbers | words | st.sampled_from(['"a\\0b\\e[2Jc"', "'quoted'", "|\n  block\n", ">\n \n  folded\n"])


def flow(inner):
    return st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]") | st.lists(
        st.tuples(inner, inner), max_size=3).map(lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}")


values = st.recursive(scalars, flow, max_leaves=8)
keys = words | timestamps | numbers | st.sampled_from(["[a, b]", "[a, [b]]", "{a: b}", "? [a]"])
block = st.lists(st.tuples(keys, values), min_size=1, max_size=5).map(lambda kv: "".join(f"{k}: {v}\n" for k, v in kv))
nested = st.integers(1, 300).map(lambda n: "a: " + "[" * n + "]" * n + "\n") | st.integers(1, 200).map(
    lambda n: "a:\n  " + "- " * n + "x\n")


@st.composite
def documents(draw):
    text = draw(block | nested | st.lists(values, max_size=4).map(lambda xs: "".join(f"- {x}\n" for x in xs)))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = text.replace("\n", ending)
    if draw(st.booleans()):
        text = "\ufeff" + text
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip"]))
    raw = text.encode("utf-8")
    if damage == "truncate" and raw:
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
    elif damage == "flip" and raw:
        i = draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([raw[i] ^ (1 << draw(st.integers(0, 7)))]) + raw[i + 1:]
    return raw


def same(a, b) -> bool:
    return same_value(a, b)


COUNTS: dict[str, int] = {}


def depth(text: str) -> int:
    """The exact nesting, from the C parser's events (safe at any depth), or -1 if it fails."""
    import io

    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent

    d = deepest = 0
    try:
        for e in yamlio._safe_yaml().parse(io.StringIO(text)):
            d += isinstance(e, CollectionStartEvent) - isinstance(e, CollectionEndEvent)
            deepest = max(deepest, d)
    except YAMLError:
        return -1
    return deepest


def check(raw: bytes) -> str:
    from ruamel.yaml.error import YAMLError

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not yamlio._may_be_deep(text):
        # The cheap estimate that spares most files the event scan never lets a deep one through.
        assert depth(text) <= yamlio.MAX_DEPTH, text
    try:
        text = yamlio.text_of(raw, "f.yaml")
        value = yamlio.loads(text, "f.yaml")
    except WuyeError as e:
        assert LOCATED.match(str(e)) or str(e).startswith("f.yaml:"), repr(str(e))
        outcome = "refused located" if e.problems and e.problems[0].line else "refused unlocated"
        assert outcome == "refused located", repr(str(e))
        COUNTS[outcome] = COUNTS.get(outcome, 0) + 1
        return outcome
    try:
        reference = yamlio.ruamel_load(text)
    except (YAMLError, ValueError, TypeError, RecursionError):
        reference = None
        pytest.fail(f"read what ruamel refuses: {text!r} -> {value!r}")
    assert same(value, reference), (text, value, reference)
    written = yamlio.dumps(yamlio.load_roundtrip(text, "f.yaml"))
    assert same(yamlio.loads(written, "w.yaml"), value), (text, written)
    COUNTS["read equal"] = COUNTS.get("read equal", 0) + 1
    return "read equal"


def run_fuzz(examples: int) -> dict:
    COUNTS.clear()

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(documents())
    def fuzz(raw):
        check(raw)

    fuzz()
    print("fuzz:", examples, "examples:", dict(COUNTS))
    return dict(COUNTS)


def test_the_reader_agrees_with_ruamel_or_refuses_located():
    counts = run_fuzz(FUZZ_EXAMPLES)
    assert counts.get("read equal", 0) > 20 and counts.get("refused located", 0) > 20, counts


@pytest.mark.slow
def test_the_reader_agrees_with_ruamel_or_refuses_located_at_length():
    run_fuzz(FUZZ_EXAMPLES * 10)


@pytest.mark.parametrize("text", ["a: " + "[" * 30000 + "]" * 30000 + "\n", "a:\n  " + "- " * 30000 + "x\n",
                                  "- " * 101 + "x\n", "a: " + "{b: " * 150 + "c" + "}" * 150 + "\n"])
def test_deep_nesting_is_refused_before_the_composer_runs(text):
    with pytest.raises(WuyeError, match=r"^f\.yaml:\d+:\d+: .*嵌套层数过多"):
        yamlio.loads(text, "f.yaml")


def test_nesting_within_the_limit_is_read():
    v = yamlio.loads("a: " + "[" * 99 + "x" + "]" * 99 + "\n", "f.yaml")["a"]
    for _ in range(98):
        v = v[0]
    assert v == ["x"]
    v = yamlio.loads("- " * 99 + "x\n", "f.yaml")
    for _ in range(98):
        v = v[0]
    assert v == ["x"]
