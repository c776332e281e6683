"""SQLite on aiosqlite directly: a small pool (an ``asyncio.LifoQueue``) of Jadugar's size
over the same file with the same pragmas (WAL, synchronous=NORMAL). Last in, first out like
Jadugar's pool, so sequential workloads reuse one connection (and its worker thread); the
concurrent one spreads over all ten.

Rows as dicts the fastest way measured through aiosqlite's public API: for a big result a
cursor (execute, fetchall, close: three hops to the worker thread) and ``dict(zip)`` on the
loop; for one row ``execute_fetchall`` (one hop) zipped with the known column names.
Bulk inserts: ``executemany`` inside BEGIN/COMMIT."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiosqlite

from .data import COLUMNS, DDL, INSERT_TABLE, POOL_SIZE, ROW_COUNT, ROWS_TABLE, Record, records

FETCH_SQL = f'SELECT * FROM "{ROWS_TABLE}"'
LOOKUP_SQL = f'SELECT * FROM "{ROWS_TABLE}" WHERE "id" = ? LIMIT 1'
INSERT_SQL = 'INSERT INTO "{table}" ({columns}) VALUES ({marks})'.format(
    table=INSERT_TABLE,
    columns=", ".join(f'"{c}"' for c in COLUMNS),
    marks=", ".join("?" for _ in COLUMNS),
)
PRAGMAS = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL")

BASELINES = {
    "fetch": "cursor fetchall + dict(zip)",
    "lookups": "execute_fetchall + dict(zip)",
    "insert_many": "executemany in BEGIN/COMMIT",
    "concurrent": "execute_fetchall, LIFO queue of 10",
}


class RawSQLite:
    name = "sqlite"
    baselines = BASELINES

    def __init__(self, conns: list[aiosqlite.Connection]) -> None:
        self.conns = conns
        self.free: asyncio.LifoQueue[aiosqlite.Connection] = asyncio.LifoQueue()
        for conn in conns:
            self.free.put_nowait(conn)

    @classmethod
    async def open(cls, path: str) -> RawSQLite:
        conns = []
        for _ in range(POOL_SIZE):
            conn = await aiosqlite.connect(path, isolation_level=None)
            for pragma in PRAGMAS:
                await conn.execute(pragma)
            conns.append(conn)
        return cls(conns)

    async def close(self) -> None:
        for conn in self.conns:
            await conn.close()

    async def server_version(self) -> str:
        return f"SQLite library {sqlite3.sqlite_version}"

    async def setup(self) -> None:
        conn = self.conns[0]
        for table in (ROWS_TABLE, INSERT_TABLE):
            await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
            await conn.execute(DDL["sqlite"].format(table=f'"{table}"'))
        await conn.execute("BEGIN")
        await conn.executemany(INSERT_SQL.replace(INSERT_TABLE, ROWS_TABLE), records(ROW_COUNT))
        await conn.execute("COMMIT")
        await conn.execute("ANALYZE")

    async def teardown(self) -> None:
        for table in (ROWS_TABLE, INSERT_TABLE):
            await self.conns[0].execute(f'DROP TABLE IF EXISTS "{table}"')

    # ---- the workloads

    async def fetch(self) -> list[dict[str, Any]]:
        conn = await self.free.get()
        try:
            async with conn.execute(FETCH_SQL) as cur:
                names = [d[0] for d in cur.description]
                rows = await cur.fetchall()
        finally:
            self.free.put_nowait(conn)
        return [dict(zip(names, r, strict=False)) for r in rows]

    async def lookup(self, key: int) -> dict[str, Any] | None:
        conn = await self.free.get()
        try:
            rows = await conn.execute_fetchall(LOOKUP_SQL, (key,))
        finally:
            self.free.put_nowait(conn)
        for row in rows:
            return dict(zip(COLUMNS, row, strict=True))
        return None

    async def lookups(self, keys: list[int]) -> list[dict[str, Any] | None]:
        lookup = self.lookup
        return [await lookup(k) for k in keys]

    async def concurrent(self, keys: list[int]) -> list[dict[str, Any] | None]:
        return await asyncio.gather(*(self.lookup(k) for k in keys))

    async def insert_many(self, rows: list[Record]) -> None:
        conn = await self.free.get()
        try:
            await conn.execute("BEGIN")
            await conn.executemany(INSERT_SQL, rows)
            await conn.execute("COMMIT")
        finally:
            self.free.put_nowait(conn)

    async def reset_insert(self) -> None:
        await self.conns[0].execute(f'DELETE FROM "{INSERT_TABLE}"')

    async def inserted(self) -> tuple[int, Any]:
        conn = self.conns[0]
        async with conn.execute(f'SELECT count(*) FROM "{INSERT_TABLE}"') as cur:
            row = await cur.fetchone()
        async with conn.execute(f'SELECT * FROM "{INSERT_TABLE}" ORDER BY id DESC LIMIT 1') as cur:
            last = await cur.fetchone()
            names = [d[0] for d in cur.description]
        return (row[0] if row else 0), dict(zip(names, last, strict=False)) if last else None
