"""Introspection: the live schema of a database as data (``LiveSchema``).

    from jadugar.introspection import introspect
    live = await introspect(db)                 # every table (PostgreSQL: current schema)
    users = live.table("users")
    [c.name for c in users.columns], users.primary_key, users.indexes, users.foreign_keys

One reader per engine (``jadugar.dialects.<engine>.introspect``) reads its catalog in a
few queries; the dialect names it (``Dialect.schema_reader``). Read-only: nothing is changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import UnsupportedOperation
from .model import (
    ColumnKind,
    Fetch,
    LiveCheck,
    LiveColumn,
    LiveDefault,
    LiveEnum,
    LiveForeignKey,
    LiveIndex,
    LiveSchema,
    LiveTable,
    SchemaReader,
    Skipped,
    describe_kind,
)

if TYPE_CHECKING:
    from ..dialects.base import Dialect
    from ..query.query_builder import QueryBuilder


class IntrospectionHost(Protocol):
    """What ``introspect`` uses of the manager: its dialect and its query builder."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def query(self) -> QueryBuilder: ...


async def introspect(db: IntrospectionHost, tables: Sequence[str] | None = None) -> LiveSchema:
    """The live schema of ``db`` (connected on first use, as every query does); with
    ``tables``, only those tables are read (views and triggers on them included)."""
    reader = db.dialect.schema_reader
    if reader is None:
        raise UnsupportedOperation(
            "introspection", db.dialect.name, "reading a live schema works on the SQL engines"
        )

    async def fetch(sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        result = await db.query.raw(sql, list(params)).execute()
        return [dict(row) for row in result.rows]

    return await reader.read_schema(fetch, tables)


__all__ = [
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
    "SchemaReader",
    "Skipped",
    "describe_kind",
    "introspect",
]
