"""Raw asyncpg: the baseline, and the owner of the tables (plain SQL, the same for all)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import asyncpg

from .data import (
    CHILD,
    DDL,
    INSERT,
    NARROW,
    NARROW_COLUMNS,
    PARENT,
    PARENTS,
    POOL_SIZE,
    ROW_COUNT,
    TABLES,
    WIDE,
    WIDE_COLUMNS,
    NarrowRecord,
    canon,
    child_rows,
    narrow_rows,
    parent_rows,
    wide_rows,
)

LOOKUP_SQL = f"SELECT * FROM {NARROW} WHERE id = $1"
PARENT_SQL = f"INSERT INTO {PARENT} (name) VALUES ($1) RETURNING id"
CHILD_SQL = f"INSERT INTO {CHILD} (parent_id, title, position) VALUES ($1, $2, $3)"
EAGER_PARENTS = f"SELECT * FROM {PARENT} ORDER BY id LIMIT {PARENTS}"
EAGER_CHILDREN = f"SELECT * FROM {CHILD} WHERE parent_id = ANY($1::int[])"


async def _no_reset(conn: Any) -> None:  # as bench/raw_postgres.py: no RESET ALL per release
    return None


API = {
    "fetch": "conn.fetch + dict(r)",
    "lookups": "pool.fetchrow + dict(r)",
    "insert": "copy_records_to_table",
    "transaction": "conn.transaction(), 2 INSERTs",
    "eager": "2 queries + grouping into dicts",
}  # what this contender calls, per workload kind


class RawSide:
    name = "asyncpg (raw)"

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.api: dict[str, str] = API

    @classmethod
    async def open(cls, url: str) -> RawSide:
        pool = await asyncpg.create_pool(
            url, min_size=POOL_SIZE, max_size=POOL_SIZE, timeout=5, reset=_no_reset
        )
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    async def server_version(self) -> str:
        return "PostgreSQL " + str(await self.pool.fetchval("SHOW server_version"))

    # ---- tables

    async def setup(self) -> None:
        async with self.pool.acquire() as conn:
            await self._drop(conn)
            for statement in DDL:
                await conn.execute(statement)
            await conn.copy_records_to_table(NARROW, records=narrow_rows(ROW_COUNT))
            await conn.copy_records_to_table(WIDE, records=wide_rows(ROW_COUNT))
            await conn.copy_records_to_table(PARENT, records=parent_rows())
            await conn.copy_records_to_table(CHILD, records=child_rows())
            for table in (PARENT, CHILD):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            for table in TABLES:
                await conn.execute(f"VACUUM ANALYZE {table}")

    async def teardown(self) -> None:
        async with self.pool.acquire() as conn:
            await self._drop(conn)

    async def _drop(self, conn: Any) -> None:
        for table in TABLES:
            await conn.execute(f"DROP TABLE IF EXISTS {table}")

    async def reset_insert(self) -> None:
        await self.pool.execute(f"TRUNCATE {INSERT}")

    async def inserted(self) -> tuple[int, Any]:
        count = await self.pool.fetchval(f"SELECT count(*) FROM {INSERT}")
        last = await self.pool.fetchrow(f"SELECT * FROM {INSERT} ORDER BY id DESC LIMIT 1")
        return count, tuple(last) if last else None

    async def reset_transactions(self) -> None:
        await self.pool.execute(f"DELETE FROM {PARENT} WHERE id > {PARENTS}")

    async def transacted(self) -> tuple[Any, ...]:
        """What the transaction workload left: new parents, new children, their shapes."""
        row = await self.pool.fetchrow(
            f"SELECT count(DISTINCT p.id), count(c.id), min(p.name), max(c.title), "
            f"bool_and(c.position = 0) FROM {PARENT} p JOIN {CHILD} c ON c.parent_id = p.id "
            f"WHERE p.id > {PARENTS}"
        )
        return tuple(row)

    # ---- the workloads

    async def fetch_narrow(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(f"SELECT * FROM {NARROW}")
        return [dict(r) for r in rows]

    async def fetch_wide(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(f"SELECT * FROM {WIDE}")
        return [dict(r) for r in rows]

    async def lookups(self, keys: list[int]) -> list[dict[str, Any]]:
        fetchrow = self.pool.fetchrow
        return [dict(await fetchrow(LOOKUP_SQL, k)) for k in keys]

    async def insert(self, rows: list[NarrowRecord], dicts: list[dict[str, Any]]) -> None:
        async with self.pool.acquire() as conn:
            await conn.copy_records_to_table(INSERT, records=rows, columns=NARROW_COLUMNS)

    async def transactions(self, count: int) -> None:
        for i in range(count):
            async with self.pool.acquire() as conn, conn.transaction():
                parent = await conn.fetchval(PARENT_SQL, f"tx {i}")
                await conn.execute(CHILD_SQL, parent, f"child of tx {i}", 0)

    async def eager(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            parents = [dict(r) for r in await conn.fetch(EAGER_PARENTS)]
            children = await conn.fetch(EAGER_CHILDREN, [p["id"] for p in parents])
        grouped: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        for child in children:
            grouped[child["parent_id"]].append(dict(child))
        for parent in parents:
            parent["children"] = grouped[parent["id"]]
        return parents

    def tree(self, result: list[dict[str, Any]]) -> list[tuple[Any, list[Any]]]:
        return [(p, p["children"]) for p in result]


def check_fetch(result: list[Any], wide: bool) -> list[tuple[Any, ...]]:
    return canon(result, WIDE_COLUMNS if wide else NARROW_COLUMNS)
