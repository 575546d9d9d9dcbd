"""The official YAML test suite (../shared/yaml-test-suite, MIT; see its README) as an external
corpus for the store's reader: every case is read to the value the suite expects (its in.json) or
to ruamel's safe-loader value, or refused with a located one-line problem; never a crash. Every
case the reader accepts is written back by the round-trip writer and read again to the same value.

The counts per class are asserted (and printed with -s), so a ruamel upgrade that changes how the
suite reads shows up here first.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import same_value

from wuye.errors import WuyeError
from wuye.storage import yamlio

# Beside the checkout (../shared, as main and every worktree sit), or where WUYE_YAML_SUITE says.
SUITE = Path(os.environ.get("WUYE_YAML_SUITE") or Path(__file__).resolve().parents[2] / "shared" / "yaml-test-suite")
if not SUITE.is_dir():
    SUITE = Path("/work/shared/yaml-test-suite")
CASES = sorted(str(p.parent.relative_to(SUITE)) for p in SUITE.rglob("in.yaml"))
LOCATED = re.compile(r"^(?P<path>[^\n:]+):(?P<line>\d+):(?P<col>\d+): [^\n]+$")


def json_documents(text: str) -> list:
    decoder, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        value, i = decoder.raw_decode(text, i)
        out.append(value)


def same(a, b) -> bool:
    return same_value(a, b)


def as_json(value):
    """The reader's value as the suite's JSON writes it (dicts unordered, numbers by value)."""
    return json.loads(json.dumps(value, default=str))


def classify(case: str) -> str:
    """'read equal', 'refused located' (failing the test otherwise, with the reason)."""
    folder = SUITE / case
    rel = f"{case}/in.yaml"
    raw = (folder / "in.yaml").read_bytes()
    try:
        value = yamlio.loads(yamlio.text_of(raw, rel), rel)
    except WuyeError as e:
        message = str(e)
        m = LOCATED.match(message)
        assert m and m["path"] == rel, f"refused without a located one-line problem: {message!r}"
        assert e.problems and e.problems[0].line == int(m["line"])
        return "refused located"
    text = yamlio.text_of(raw, rel)
    expected = []
    if (folder / "in.json").is_file():
        expected = json_documents((folder / "in.json").read_text(encoding="utf-8"))
    matches_suite = len(expected) == 1 and as_json(value) == expected[0] or not expected and value is None
    assert matches_suite or same(value, yamlio.ruamel_load(text)), (case, value, expected)
    # What the reader accepts, the writer writes back, and the reader reads again the same.
    written = yamlio.dumps(yamlio.load_roundtrip(text, rel))
    again = yamlio.loads(written, "written.yaml")
    assert as_json(again) == as_json(value), (case, written)
    return "read equal" if not (folder / "error").exists() else "read equal (an error case ruamel accepts)"


@pytest.mark.parametrize("case", CASES)
def test_every_case_of_the_yaml_suite_is_read_or_refused_located(case):
    classify(case)


def test_the_suite_counts():
    assert len(CASES) > 350, SUITE  # the corpus is there, whole
    counts = Counter(classify(c) for c in CASES)
    print("yaml-test-suite:", dict(counts))
    assert counts["read equal"] > 150 and counts["refused located"] > 150
    assert sum(counts.values()) == len(CASES)
