"""The same jobs through Jadugar's public API, identical on every engine."""

from __future__ import annotations

import asyncio
from typing import Any

from jadugar import DatabaseManager

from .data import COLUMNS, INSERT_TABLE, ROWS_TABLE


class JadugarSide:
    def __init__(self, db: DatabaseManager) -> None:
        self.db = db

    async def fetch(self) -> list[dict[str, Any]]:
        return await self.db.query.table(ROWS_TABLE).all()

    async def lookup(self, key: int) -> dict[str, Any] | None:
        return await self.db.query.table(ROWS_TABLE).where({"id": key}).first()

    async def lookups(self, keys: list[int]) -> list[dict[str, Any] | None]:
        lookup = self.lookup
        return [await lookup(k) for k in keys]

    async def cached_lookups(self, keys: list[int]) -> list[dict[str, Any] | None]:
        """The same lookups through ``.cache()`` (the manager's backend: Redis here)."""
        table = self.db.query.table(ROWS_TABLE)
        return [await table.where({"id": k}).cache(ttl=600).first() for k in keys]

    async def forget_cached(self) -> None:
        await self.db.invalidate_cache(ROWS_TABLE)

    async def concurrent(self, keys: list[int]) -> list[dict[str, Any] | None]:
        return await asyncio.gather(*(self.lookup(k) for k in keys))

    async def insert_many(self, rows: list[dict[str, Any]]) -> None:
        await self.db.query.table(INSERT_TABLE).insert_many(rows)

    async def insert_tuples(self, rows: list[tuple[Any, ...]]) -> None:
        await self.db.query.table(INSERT_TABLE).insert_many(rows, columns=COLUMNS)
