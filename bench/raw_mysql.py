"""MariaDB/MySQL on aiomysql directly: ``aiomysql.create_pool`` of Jadugar's size, autocommit,
rows as dicts through ``DictCursor`` (as fast as a plain cursor plus ``dict(zip(...))``,
measured), bulk insert by ``executemany``, which aiomysql rewrites into multi-row INSERT
statements of up to ~1 MB."""

from __future__ import annotations

import asyncio
from typing import Any

import aiomysql

from jadugar.dialects.base import ConnectParams

from .data import COLUMNS, DDL, INSERT_TABLE, POOL_SIZE, ROW_COUNT, ROWS_TABLE, Record, records

FETCH_SQL = f"SELECT * FROM `{ROWS_TABLE}`"
LOOKUP_SQL = f"SELECT * FROM `{ROWS_TABLE}` WHERE `id` = %s LIMIT 1"
INSERT_SQL = (
    f"INSERT INTO `{INSERT_TABLE}` ({', '.join(f'`{c}`' for c in COLUMNS)}) "
    f"VALUES ({', '.join('%s' for _ in COLUMNS)})"
)

BASELINES = {
    "fetch": "DictCursor fetchall",
    "lookups": "pool + DictCursor fetchone",
    "insert_many": "cursor.executemany (multi-row)",
    "concurrent": "pool + DictCursor fetchone",
}


class RawMySQL:
    name = "mysql"
    baselines = BASELINES

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, params: ConnectParams) -> RawMySQL:
        pool = await asyncio.wait_for(
            aiomysql.create_pool(
                host=params.host or "127.0.0.1",
                port=params.port or 3306,
                user=params.user,
                password=params.password or "",
                db=params.database,
                minsize=POOL_SIZE,
                maxsize=POOL_SIZE,
                autocommit=True,
                charset="utf8mb4",
            ),
            5,
        )
        return cls(pool)

    async def close(self) -> None:
        self.pool.close()
        await self.pool.wait_closed()

    async def _script(self, *statements: str) -> None:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            for sql in statements:
                await cur.execute(sql)

    async def server_version(self) -> str:
        async with self.pool.acquire() as conn:
            return "server " + str(conn.get_server_info())

    async def setup(self) -> None:
        drops = [f"DROP TABLE IF EXISTS `{t}`" for t in (ROWS_TABLE, INSERT_TABLE)]
        creates = [DDL["mysql"].format(table=f"`{t}`") for t in (ROWS_TABLE, INSERT_TABLE)]
        await self._script(*drops, *creates)
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.executemany(INSERT_SQL.replace(INSERT_TABLE, ROWS_TABLE), records(ROW_COUNT))
            await cur.execute(f"ANALYZE TABLE `{ROWS_TABLE}`")
            await cur.fetchall()

    async def teardown(self) -> None:
        await self._script(*(f"DROP TABLE IF EXISTS `{t}`" for t in (ROWS_TABLE, INSERT_TABLE)))

    # ---- the workloads

    async def fetch(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn, conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(FETCH_SQL)
            return list(await cur.fetchall())

    async def lookup(self, key: int) -> dict[str, Any] | None:
        async with self.pool.acquire() as conn, conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(LOOKUP_SQL, (key,))
            row: dict[str, Any] | None = await cur.fetchone()
            return row

    async def lookups(self, keys: list[int]) -> list[dict[str, Any] | None]:
        lookup = self.lookup
        return [await lookup(k) for k in keys]

    async def concurrent(self, keys: list[int]) -> list[dict[str, Any] | None]:
        return await asyncio.gather(*(self.lookup(k) for k in keys))

    async def insert_many(self, rows: list[Record]) -> None:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.executemany(INSERT_SQL, rows)

    async def reset_insert(self) -> None:
        await self._script(f"TRUNCATE TABLE `{INSERT_TABLE}`")

    async def inserted(self) -> tuple[int, Any]:
        async with self.pool.acquire() as conn, conn.cursor(aiomysql.DictCursor) as cur:
            await cur.execute(f"SELECT count(*) AS n FROM `{INSERT_TABLE}`")
            count = (await cur.fetchone())["n"]
            await cur.execute(f"SELECT * FROM `{INSERT_TABLE}` ORDER BY id DESC LIMIT 1")
            last = await cur.fetchone()
        return count, last
