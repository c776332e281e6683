"""PostgreSQL on asyncpg directly: ``asyncpg.create_pool`` of Jadugar's size, records to dicts.

asyncpg's pool sends ``RESET ALL``, ``UNLISTEN *``… to the server on every release (one
more round trip per query); Jadugar's pool does not, so the bench passes ``reset=`` a no-op
and both sides do the same work: asyncpg still rolls back a connection released inside a
transaction, as Jadugar does."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from jadugar.dialects.base import ConnectParams

from .data import COLUMNS, DDL, INSERT_TABLE, POOL_SIZE, ROW_COUNT, ROWS_TABLE, Record, records

FETCH_SQL = f'SELECT * FROM "{ROWS_TABLE}"'
LOOKUP_SQL = f'SELECT * FROM "{ROWS_TABLE}" WHERE "id" = $1 LIMIT 1'

BASELINES = {
    "fetch": "asyncpg fetch + dict(r)",
    "lookups": "pool.fetchrow + dict(r)",
    "insert_many": "copy_records_to_table",
    "concurrent": "pool.fetchrow + dict(r)",
}


async def _no_reset(conn: Any) -> None:
    return None


class RawPostgres:
    name = "postgres"
    baselines = BASELINES

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, params: ConnectParams) -> RawPostgres:
        pool = await asyncpg.create_pool(
            host=params.host,
            port=params.port,
            user=params.user,
            password=params.password,
            database=params.database,
            min_size=POOL_SIZE,
            max_size=POOL_SIZE,
            timeout=5,
            reset=_no_reset,
        )
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    async def server_version(self) -> str:
        async with self.pool.acquire() as conn:
            return "PostgreSQL " + str(await conn.fetchval("SHOW server_version"))

    async def setup(self) -> None:
        async with self.pool.acquire() as conn:
            for table in (ROWS_TABLE, INSERT_TABLE):
                await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
                await conn.execute(DDL["postgres"].format(table=f'"{table}"'))
            await conn.copy_records_to_table(ROWS_TABLE, records=records(ROW_COUNT))
            await conn.execute(f'VACUUM ANALYZE "{ROWS_TABLE}"')

    async def teardown(self) -> None:
        async with self.pool.acquire() as conn:
            for table in (ROWS_TABLE, INSERT_TABLE):
                await conn.execute(f'DROP TABLE IF EXISTS "{table}"')

    # ---- the workloads

    async def fetch(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(FETCH_SQL)
        return [dict(r) for r in rows]

    async def lookup(self, key: int) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(LOOKUP_SQL, key)
        return dict(row) if row is not None else None

    async def lookups(self, keys: list[int]) -> list[dict[str, Any] | None]:
        lookup = self.lookup
        return [await lookup(k) for k in keys]

    async def concurrent(self, keys: list[int]) -> list[dict[str, Any] | None]:
        return await asyncio.gather(*(self.lookup(k) for k in keys))

    async def insert_many(self, rows: list[Record]) -> None:
        async with self.pool.acquire() as conn:
            await conn.copy_records_to_table(INSERT_TABLE, records=rows, columns=COLUMNS)

    async def reset_insert(self) -> None:
        await self.pool.execute(f'TRUNCATE "{INSERT_TABLE}"')

    async def inserted(self) -> tuple[int, Any]:
        async with self.pool.acquire() as conn:
            count = await conn.fetchval(f'SELECT count(*) FROM "{INSERT_TABLE}"')
            last = await conn.fetchrow(f'SELECT * FROM "{INSERT_TABLE}" ORDER BY id DESC LIMIT 1')
        return count, dict(last) if last else None
