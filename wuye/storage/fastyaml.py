"""The objects of the store's YAML built about three times faster than ruamel's constructor
builds them, with the very same result: the builder behind `yamlio.loads`.

ruamel.yaml's "safe" C loader parses in C but builds the objects in Python, slowly: it makes a new
loader class on every call, looks up the YAML version for every scalar it resolves, and wraps every
node in generators and tag objects. Whole-store work (`wuye verify`, `archive check`, the search
index) reads 120,000 files, and a move-out board a dozen, so this module builds the objects itself
from the nodes ruamel's C parser composes:

- the loader class is made once; its resolver uses ruamel's own YAML 1.2 implicit resolvers (the
  same regular expressions, in the same order), looked up once instead of per scalar. ruamel's C
  path ignores `%YAML` directives and always resolves as 1.2, and so does this one;
- plain strings, mappings and sequences are built directly; every other scalar (null, bool, int,
  float, timestamp) is built by ruamel's own `SafeConstructor` method for it;
- anything else (a duplicate key, a merge key `<<`, a non-string key, an explicit tag) makes it
  start again with ruamel's own constructor on the same nodes, so errors and edge cases are
  exactly ruamel's.

The refusals around the parse (over 1 MiB, not UTF-8, NUL bytes, anchors, aliases and tags) and
the error messages are `yamlio.loads`'s. tests/test_cache.py checks that this builder and ruamel's
own constructor (`yamlio.ruamel_load`) agree on the sample store, on generated documents and on
the corner cases. This module touches no files.
"""

from __future__ import annotations

from typing import Any


_LOADER = None


class _Slow(Exception):
    """Not a shape the fast builder handles: build with ruamel's constructor instead."""


def _loader_class():
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    from _ruamel_yaml import CParser
    from ruamel.yaml.constructor import SafeConstructor
    from ruamel.yaml.nodes import ScalarNode, SequenceNode
    from ruamel.yaml.resolver import VersionedResolver, implicit_resolvers
    from ruamel.yaml.tag import Tag

    table: dict[str, list] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            t = Tag(suffix=tag)
            for ch in first or [None]:
                table.setdefault(ch, []).append((t, regexp.match, tag))
    anywhere = table.pop(None, [])
    first_char = {ch: [(t, m) for t, m, _ in rs + anywhere] for ch, rs in table.items()}
    none_first = [(t, m) for t, m, _ in anywhere]
    str_tag, seq_tag, map_tag = (Tag(suffix=f"tag:yaml.org,2002:{k}") for k in ("str", "seq", "map"))
    scalars = {}
    for rs in table.values():
        for t, _, tag in rs:
            kind = tag.rsplit(":", 1)[1]
            if kind in ("null", "bool", "int", "float", "timestamp"):
                scalars[id(t)] = SafeConstructor.yaml_constructors[tag]

    class Loader(CParser, SafeConstructor, VersionedResolver):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            self._parser = self._composer = self
            SafeConstructor.__init__(self, loader=self)
            self.allow_duplicate_keys = False
            VersionedResolver.__init__(self, version=None, loadumper=self)

        # There are no path resolvers in a safe loader: nothing to track while composing.
        def descend_resolver(self, current_node, current_index):
            pass

        def ascend_resolver(self):
            pass

        def resolve(self, kind, value, implicit):
            # VersionedResolver.resolve for YAML 1.2, with its table looked up once.
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, match in first_char.get(value[0], none_first) if value else first_char.get("", none_first):
                        if match(value):
                            return tag
                return str_tag
            return seq_tag if kind is SequenceNode else map_tag

        def build(self, node):
            t = node.ctag
            if t is str_tag:
                return node.value
            if t is map_tag:
                out = {}
                for k, v in node.value:
                    if k.ctag is not str_tag:
                        raise _Slow
                    key = k.value
                    if key in out:  # ruamel raises the duplicate-key error, with its message
                        raise _Slow
                    out[key] = self.build(v)
                return out
            if t is seq_tag:
                return [self.build(v) for v in node.value]
            construct = scalars.get(id(t))
            if construct is None:
                raise _Slow
            return construct(self, node)

    _LOADER = Loader
    return Loader


def parse(text: str) -> Any:
    """The objects of a YAML document, as ruamel's safe C loader builds them (`yamlio.loads`
    wraps this with the store's refusals and its error messages)."""
    loader = _loader_class()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return loader.build(node)
        except _Slow:
            return loader.construct_document(node)
    finally:
        loader.dispose()
