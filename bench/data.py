"""The benchmark data: one seeded table to read, one empty table to bulk-load."""

from __future__ import annotations

import random
from typing import Any

ROWS_TABLE = "bench_rows"  # seeded with ROW_COUNT rows: fetch and lookups read it
INSERT_TABLE = "bench_insert"  # emptied before every insert_many run
COLUMNS = ("id", "name", "email", "score")

ROW_COUNT = 10_000
LOOKUPS = 2_000
INSERT_COUNT = 10_000
CONCURRENT_TASKS = 1_000
POOL_SIZE = 10

Record = tuple[int, str, str, float]

# Same shape on every engine; score values are exact binary fractions, so floats compare equal.
DDL: dict[str, str] = {
    "postgres": (
        "CREATE TABLE {table} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL,"
        " email VARCHAR(255) NOT NULL, score DOUBLE PRECISION NOT NULL)"
    ),
    "mysql": (
        "CREATE TABLE {table} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL,"
        " email VARCHAR(255) NOT NULL, score DOUBLE NOT NULL) ENGINE=InnoDB"
    ),
    "sqlite": (
        "CREATE TABLE {table} (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL,"
        " email VARCHAR(255) NOT NULL, score REAL NOT NULL)"
    ),
}


def record(i: int) -> Record:
    return (i, f"name {i}", f"user{i}@example.com", i * 0.25)


def records(count: int) -> list[Record]:
    return [record(i) for i in range(1, count + 1)]


def as_dicts(rows: list[Record]) -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


def lookup_ids(count: int, seed: int = 42) -> list[int]:
    """Primary keys spread over the whole table, the same sequence on every run."""
    rng = random.Random(seed)
    return [rng.randint(1, ROW_COUNT) for _ in range(count)]
