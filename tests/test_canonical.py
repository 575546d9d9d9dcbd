"""The canonical JSON that signatures cover (signing.canonical_bytes) against the reference, rfc8785.

canonical_bytes writes plain values with the C encoder of `json` and hands everything else to
rfc8785; a byte of difference would make a signature made by one version fail under the other.
So: every JSON value of the official YAML test suite's data, a fuzzer over values that reach both
paths (floats, huge integers, non-ASCII and astral keys, control characters, lone surrogates), and
the payload of a real seal, each written by both, byte for byte, or refused by both alike.
"""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings, strategies as st

from test_yaml_suite import SUITE, json_documents

from wuye.trust import signing


def outcome(write, value):
    try:
        return "ok", write(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as e:  # a lone surrogate in a key: rfc8785's own refusal
        return "refused", type(e).__name__


def same(value) -> None:
    assert outcome(signing.canonical_bytes, value) == outcome(rfc8785.dumps, value), value


def test_every_json_document_of_the_yaml_test_suite_is_written_as_the_reference_writes_it():
    files = sorted(SUITE.rglob("in.json"))
    assert len(files) > 250, SUITE
    taken = 0
    for p in files:
        for doc in json_documents(p.read_text(encoding="utf-8")):
            same(doc)
            # Each document also as the value of an entry, under a non-ASCII key, in a list.
            same({"entry": doc, "租户": [doc, None, True]})
            taken += signing._plain_json(doc)
    assert taken > 200  # most of the corpus goes the fast way, so the fast way is what is compared


KEYS = st.one_of(st.text(st.characters(max_codepoint=0x7F), max_size=6),
                 st.text(st.characters(blacklist_categories=()), max_size=4),  # astral, private use, surrogates
                 st.sampled_from(["id", "amount", "Id", "_", "a\x00", "\ue000", "\U0001f600", "ａ"]))
SCALARS = st.one_of(st.none(), st.booleans(),
                    st.integers(min_value=-(2**60), max_value=2**60),
                    st.sampled_from([2**53 - 1, 2**53, -(2**53 - 1), -(2**53), 0]),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.text(st.characters(blacklist_categories=()), max_size=12),
                    st.sampled_from(["\x7f", "\u2028", "\b\f\n\r\t\x01\x1f", '"\\', "100.00", "王丽"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(KEYS, inner, max_size=4)), max_leaves=20)


@settings(max_examples=1500, deadline=None)
@given(VALUES)
def test_any_value_is_written_as_the_reference_writes_it_or_refused_alike(value):
    same(value)


def test_what_the_fast_way_does_not_take_goes_to_the_reference():
    class Text(str):
        pass

    for value in (1.5, {"a": 1.0}, {"é": 1}, {1: "a"}, [2**53], Text("x"), {"a": "\ud800"}, float("nan")):
        assert not signing._plain_json(value) or value == {"a": "\ud800"}, value
        same(value)
    deep = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):  # what rfc8785 does with it: nothing wuye signs nests so
        signing.canonical_bytes(deep)


def test_a_seal_payload_is_the_bytes_written_out_here():
    from wuye.trust import money

    entry = {"id": "PAY-0002", "kind": "fee", "item": "物业管理费", "period": "2026-11", "amount": "9971.00",
             "paid": "0.00", "due_date": "2026-11-10", "note": "含\"引号\"与\\反斜杠\n换行"}
    got = money.payload("T0001", entry, "liuyang", "2026-11-02T09:30:00+08:00", 6)
    # The id is not signed (sync renumbers items two offices added offline: money.UNSIGNED).
    assert got == ('{"at":"2026-11-02T09:30:00+08:00","authority":6,"by":"liuyang","entry":{"amount":"9971.00",'
                   '"due_date":"2026-11-10","item":"物业管理费","kind":"fee","note":"含\\"引号\\"与\\\\反斜杠\\n换行",'
                   '"paid":"0.00","period":"2026-11"},"namespace":"wuye-money","tenant":"T0001"}').encode("utf-8")
    assert got == rfc8785.dumps(json.loads(got))
