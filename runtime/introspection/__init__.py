"""Introspection: the live schema of a database as data (``LiveSchema``).

    from jadugar.introspection import introspect
    live = await introspect(db)                 # every table (PostgreSQL: current schema)
    users = live.table("users")
    [c.name for c in users.columns], users.primary_key, users.indexes, users.foreign_keys

One reader per engine (``jadugar.dialects.<engine>.introspect``) reads its catalog in a
few queries; ``READERS`` maps the dialect's name to it. Read-only: nothing is changed.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import UnsupportedOperation
from .model import (
    ColumnKind,
    LiveCheck,
    LiveColumn,
    LiveDefault,
    LiveEnum,
    LiveForeignKey,
    LiveIndex,
    LiveSchema,
    LiveTable,
    Skipped,
    describe_kind,
)

if TYPE_CHECKING:
    from ..manager import DatabaseManager

Fetch = Callable[[str, Sequence[Any]], Awaitable[list[dict[str, Any]]]]

# dialect name -> the module whose ``read_schema(fetch)`` reads that engine's catalog
READERS = {
    "postgres": "jadugar.dialects.postgres.introspect",
    "mysql": "jadugar.dialects.mysql.introspect",
    "sqlite": "jadugar.dialects.sqlite.introspect",
}


class Reader(Protocol):
    async def read_schema(
        self, fetch: Fetch, tables: Sequence[str] | None = None
    ) -> LiveSchema: ...


async def introspect(db: DatabaseManager, tables: Sequence[str] | None = None) -> LiveSchema:
    """The live schema of ``db`` (connected on first use, as every query does); with
    ``tables``, only those tables are read (views and triggers on them included)."""
    name = db.dialect.name
    module = READERS.get(name)
    if module is None:
        raise UnsupportedOperation(
            "introspection", name, "reading a live schema works on the SQL engines"
        )
    reader: Reader = importlib.import_module(module)

    async def fetch(sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        result = await db.query.raw(sql, list(params)).execute()
        return [dict(row) for row in result.rows]

    return await reader.read_schema(fetch, tables)


__all__ = [
    "READERS",
    "ColumnKind",
    "Fetch",
    "LiveCheck",
    "LiveColumn",
    "LiveDefault",
    "LiveEnum",
    "LiveForeignKey",
    "LiveIndex",
    "LiveSchema",
    "LiveTable",
    "Skipped",
    "describe_kind",
    "introspect",
]
