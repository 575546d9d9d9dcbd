"""The line reader of fastyaml (the store's own layout, read without the C parser's nodes) agrees
with the C parser wherever it reads a document, and does read the store's own files.

The property that matters: whenever the line reader returns objects, they are exactly what the C
parser builds from the same text (same types, same key order); whenever the text is anything it
was not written for, it steps aside (and the C parser then refuses or builds as before).
"""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from wuye.errors import WuyeError
from wuye.storage import fastyaml, yamlio


def c_parser(text: str):
    """fastyaml.parse without the line reader: the C parser's nodes, built by fastyaml's builder."""
    loader = fastyaml._loader_class()(text)
    try:
        node = loader.get_single_node()
        return None if node is None else loader.build(node)
    finally:
        loader.dispose()


def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)  # nan


def agree(text: str) -> bool:
    """True when the line reader read `text` (and then agreed with the C parser)."""
    got = fastyaml._block(text)
    if got is fastyaml._OTHER:
        return False
    assert same(got, c_parser(text)), text
    return True


def test_a_record_as_the_writer_writes_it_is_read_line_by_line_with_every_type():
    text = textwrap.dedent("""\
        # 2. 缴费记录 / Payments
        entries:
          - id: PAY-0001
            kind: deposit
            amount: '51000'
            paid_on: 2021-12-20
            count: 12
            primary: true
            none:
            note: 三个月租金
            quoted: 'it''s'
            docs: []
          - id: PAY-0002
            units:
            - D0701
            - D0702
        headcount: 129
        """)
    got = fastyaml._block(text)
    assert got == {"entries": [
        {"id": "PAY-0001", "kind": "deposit", "amount": "51000", "paid_on": dt.date(2021, 12, 20), "count": 12,
         "primary": True, "none": None, "note": "三个月租金", "quoted": "it's", "docs": []},
        {"id": "PAY-0002", "units": ["D0701", "D0702"]}], "headcount": 129}
    assert same(got, c_parser(text))
    assert fastyaml.parse(text) == got


@pytest.mark.parametrize("text", [
    "a: b: c\n", "a: x #c\n", "a: 'x\n", "a: 'x' y'\n", "a: \"q\"\n", "a:\tb\n", "a: b\r\n", "a: |\n  x\n",
    "a: [1]\n", "a: {b: 1}\n", "a: 1\na: 2\n", "a: x\n  more\n", "a:\n  b: 1\n c: 2\n", "- a\n- - b\n", "-\n",
    "--- 1\n", "? a\n: b\n", "a: &x 1\n", "a: *x\n", "a: !!str 1\n", "<<: x\n", "true: a\n", "1: a\n", "a: 2026-02-30\n",
    "a: 0x_\n", "a: %x\n", "a: @x\n", "a: `x\n", "a: x:\n", "a: x \n", "  a: 1\n", "a: " + "9" * 41 + "\n", "a: =\n",
    "名称: 值\n", "a:  b\n", "",
])
def test_anything_else_goes_to_the_c_parser(text):
    assert fastyaml._block(text) is fastyaml._OTHER
    # ...which decides as before: the same outcome through yamlio.loads, refused or built.
    try:
        yamlio.loads(text, "f.yaml")
    except WuyeError:  # refused with its position, as before
        pass


def test_every_sample_and_default_file_is_read_line_by_line_or_handed_on_and_agrees():
    from conftest import REPO_ROOT

    files = sorted((REPO_ROOT / "records").rglob("*.yaml")) + sorted((REPO_ROOT / "wuye" / "defaults").glob("*.yaml"))
    read = sum(agree(f.read_text(encoding="utf-8")) for f in files)
    assert read > len(files) // 2, (read, len(files))  # the reader is used, not always stepped around


VALUES = ["x", "abc def", "三个月租金", "a: b", "a #b", "a#b", "'x''y'", "'x", "''", "'a' b'", "-1", "- x", "-", "+5", "0o17",
          "0x1F", "1_000", "017", "1e3", ".5", ".inf", "-.Inf", ".nan", "2026-01-01", "2026-02-30", "2026-1-1 10:00:00",
          "2026-01-01T10:00:00+08:00", "0x_", "~", "null", "Null", "yes", "no", "on", "True", "FALSE", "[]", "{}", "[a]",
          "x:", ":x", "?x", "%x", "@x", "`x", "=", "<<", "全角\u3000空格", "a\u3000", "\u00a0x", "x\u2028y", "a b  c", "1.5",
          "12", "0", "a\\b", "'a\\b'", "a,b", "a]b", "*x", "&x", "!x", "|", ">", "#x"]
KEYS = ["a", "b", "id", "kind", "true", "null", "1", "x_y", "名称", "a b", "<<", "-a", "A9"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 0, 2, 2, 4, 6, 1, 3]),
                          st.sampled_from(["kv", "kv", "kv", "k", "item", "item kv", "comment", "blank"]),
                          st.sampled_from(KEYS), st.sampled_from(VALUES)), min_size=1, max_size=12))
def test_generated_documents_read_line_by_line_are_what_the_c_parser_reads(rows):
    lines = []
    for indent, form, key, value in rows:
        pad = " " * indent
        lines.append({"kv": f"{pad}{key}: {value}", "k": f"{pad}{key}:", "item": f"{pad}- {value}",
                      "item kv": f"{pad}- {key}: {value}", "comment": f"{pad}# {value}", "blank": ""}[form])
    text = "\n".join(lines) + "\n"
    try:
        expected = c_parser(text)
    except Exception:  # noqa: BLE001  (the C parser refuses it: the line reader must not read it)
        assert fastyaml._block(text) is fastyaml._OTHER, text
        return
    got = fastyaml._block(text)
    assert got is fastyaml._OTHER or same(got, expected), text


@pytest.mark.parametrize("value", VALUES)
def test_each_value_in_each_place_is_read_as_the_c_parser_reads_it(value):
    for text in (f"a: {value}\n", f"- {value}\n", f"a:\n  - k: {value}\n    b: 1\n", f"a:\n- {value}\nb: 2\n",
                 f"{value}: 1\n", f"a:\n  {value}: 1\n"):
        try:
            expected = c_parser(text)
        except Exception:  # noqa: BLE001  (refused by the C parser: the line reader steps aside)
            assert fastyaml._block(text) is fastyaml._OTHER, text
            continue
        got = fastyaml._block(text)
        assert got is fastyaml._OTHER or same(got, expected), text


def test_a_deeply_nested_document_goes_to_the_c_parsers_path_and_is_refused_there():
    text = "".join("  " * i + "a:\n" for i in range(600))
    assert fastyaml._block(text) is fastyaml._OTHER  # no recursion here, however deep
    with pytest.raises(WuyeError):
        yamlio.loads(text, "f.yaml")


# --- the official YAML test suite as the external corpus ---------------------------------------

from test_yaml_suite import CASES, SUITE  # noqa: E402  (the corpus beside the checkout)


def test_every_case_of_the_yaml_suite_the_line_reader_reads_is_what_the_c_parser_builds():
    """Over the whole suite (and each case's own variants: a trailing newline dropped, a comment
    line added), whatever the line reader accepts the C parser builds identically; the error
    cases it steps aside from. The count keeps the check from passing by reading nothing."""
    assert len(CASES) > 350, SUITE
    read = 0
    for case in CASES:
        folder = SUITE / case
        try:
            text = (folder / "in.yaml").read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        for variant in (text, text.rstrip("\n"), "# x\n" + text):
            got = fastyaml._block(variant)
            if got is fastyaml._OTHER:
                continue
            assert not (folder / "error").exists(), (case, "an error case read line by line")
            try:
                expected = c_parser(variant)
            except Exception as e:  # the C parser refuses what the line reader read: a disagreement
                raise AssertionError((case, variant, e)) from None
            assert same(got, expected), (case, variant)
            read += 1
    assert read > 20  # the suite's plain block documents are read line by line
