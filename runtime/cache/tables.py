"""The tables a statement reads or writes, as cache entries record them."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable

from ..query import tree
from .backend import ANY_TABLE


@functools.lru_cache(maxsize=4096)
def table_key(name: str) -> str:
    """``Public.Users`` -> ``users``: qualified and unqualified spellings of a table meet
    (tables of the same name in two schemas invalidate each other: harmless)."""
    return name.rsplit(".", 1)[-1].strip('"`[]').lower()


def tables_read(select: tree.Select) -> frozenset[str]:
    """Its table, joined tables and the tables of subqueries; ``ANY_TABLE`` as well when
    a raw SQL fragment could name others."""
    found: set[str] = set()
    _walk(select, found)
    return frozenset(found)


def table_keys(names: Iterable[str]) -> frozenset[str]:
    return frozenset(map(table_key, names))


def _walk(node: object, found: set[str]) -> None:
    if isinstance(node, tree.TableRef):
        found.add(table_key(node.name))
    elif isinstance(node, tree.RawExpr | tree.Raw):
        found.add(ANY_TABLE)
    elif isinstance(node, tree.Node):
        for field in dataclasses.fields(node):  # type: ignore[arg-type]
            _walk(getattr(node, field.name), found)
    elif isinstance(node, tuple):
        for item in node:
            _walk(item, found)
