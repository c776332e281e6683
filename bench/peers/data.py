"""The peer benchmark's tables and data: the same rows for every contender.

Tables are created with plain SQL (one DDL for all five contenders) by the raw side:

- ``peer_narrow``: 4 columns, 10k rows (fetch, lookups);
- ``peer_wide``: 30 columns (int, str, float, bool, date), 10k rows (fetch);
- ``peer_insert``: ``peer_narrow``'s shape, emptied before every insert run;
- ``peer_parent`` / ``peer_child``: 50 parents x 20 children (eager load); the transaction
  workload adds parents and children after them, removed before every run.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

NARROW = "peer_narrow"
WIDE = "peer_wide"
INSERT = "peer_insert"
PARENT = "peer_parent"
CHILD = "peer_child"

ROW_COUNT = 10_000
LOOKUPS = 2_000
INSERT_COUNT = 10_000
TRANSACTIONS = 200
PARENTS = 50
CHILDREN_EACH = 20
POOL_SIZE = 10

NARROW_COLUMNS = ("id", "name", "email", "score")
PARENT_COLUMNS = ("id", "name")
CHILD_COLUMNS = ("id", "parent_id", "title", "position")


def _wide_columns() -> tuple[tuple[str, str], ...]:
    kinds = ["int"] * 9 + ["str"] * 10 + ["float"] * 5 + ["bool"] * 3 + ["date"] * 2
    counters: dict[str, int] = {}
    out = [("id", "int")]
    for kind in kinds:
        counters[kind] = counters.get(kind, 0) + 1
        out.append((f"{kind}_{counters[kind]}", kind))
    return tuple(out)


WIDE_KINDS = _wide_columns()  # (name, kind): id + 29 columns
WIDE_COLUMNS = tuple(name for name, _ in WIDE_KINDS)
SQL_TYPES = {
    "int": "INTEGER NOT NULL",
    "str": "VARCHAR(100) NOT NULL",
    "float": "DOUBLE PRECISION NOT NULL",
    "bool": "BOOLEAN NOT NULL",
    "date": "DATE NOT NULL",
}

DDL = (
    f"CREATE TABLE {NARROW} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL,"
    " email VARCHAR(255) NOT NULL, score DOUBLE PRECISION NOT NULL)",
    f"CREATE TABLE {INSERT} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL,"
    " email VARCHAR(255) NOT NULL, score DOUBLE PRECISION NOT NULL)",
    f"CREATE TABLE {WIDE} (id INTEGER PRIMARY KEY, "
    + ", ".join(f"{name} {SQL_TYPES[kind]}" for name, kind in WIDE_KINDS[1:])
    + ")",
    f"CREATE TABLE {PARENT} (id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL)",
    f"CREATE TABLE {CHILD} (id SERIAL PRIMARY KEY,"
    f" parent_id INTEGER NOT NULL REFERENCES {PARENT} (id) ON DELETE CASCADE,"
    " title VARCHAR(100) NOT NULL, position INTEGER NOT NULL)",
    f"CREATE INDEX {CHILD}_parent_id_index ON {CHILD} (parent_id)",
)
TABLES = (CHILD, PARENT, NARROW, INSERT, WIDE)  # drop order

NarrowRecord = tuple[int, str, str, float]


def narrow(i: int) -> NarrowRecord:
    return (i, f"name {i}", f"user{i}@example.com", i * 0.25)


def narrow_rows(count: int) -> list[NarrowRecord]:
    return [narrow(i) for i in range(1, count + 1)]


def wide(i: int) -> tuple[Any, ...]:
    epoch = datetime.date(2020, 1, 1)
    values: list[Any] = [i]
    for j, (_, kind) in enumerate(WIDE_KINDS[1:], start=1):
        if kind == "int":
            values.append(i * j)
        elif kind == "str":
            values.append(f"value {j} of row {i}")
        elif kind == "float":
            values.append(i * 0.5 + j)
        elif kind == "bool":
            values.append((i + j) % 2 == 0)
        else:
            values.append(epoch + datetime.timedelta(days=(i + j) % 1000))
    return tuple(values)


def wide_rows(count: int) -> list[tuple[Any, ...]]:
    return [wide(i) for i in range(1, count + 1)]


def parent_rows() -> list[tuple[int, str]]:
    return [(p, f"parent {p}") for p in range(1, PARENTS + 1)]


def child_rows() -> list[tuple[int, int, str, int]]:
    out: list[tuple[int, int, str, int]] = []
    for p in range(1, PARENTS + 1):
        for k in range(CHILDREN_EACH):
            out.append((len(out) + 1, p, f"child {k} of {p}", k))
    return out


def lookup_ids(count: int = LOOKUPS, seed: int = 42) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, ROW_COUNT) for _ in range(count)]


def canon(objects: list[Any], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Rows (dicts or objects with attributes) as tuples, for comparing contenders."""
    if objects and isinstance(objects[0], dict):
        return [tuple(o[c] for c in columns) for o in objects]
    return [tuple(getattr(o, c) for c in columns) for o in objects]


def canon_tree(pairs: list[tuple[Any, list[Any]]]) -> list[tuple[Any, ...]]:
    """(parent, children) pairs as sorted tuples: the eager load's answer, contender-free."""
    out = []
    for parent, children in pairs:
        (head,) = canon([parent], PARENT_COLUMNS)
        out.append((*head, sorted(canon(children, CHILD_COLUMNS))))
    return sorted(out)
