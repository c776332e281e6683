"""The history table (``jadugar_migrations`` by default): one row per applied migration."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Literal

from .planner import HistoryRow

if TYPE_CHECKING:
    from ..query.query_builder import QueryBuilder


class History:
    """Reads and writes the history rows through ``qb`` (so inside a migration's
    transaction the row is written atomically with the migration)."""

    def __init__(self, qb: QueryBuilder, table: str) -> None:
        self.qb = qb
        self.table = table

    async def ensure(self) -> None:
        if self.qb.document_store:
            return  # MongoDB: the history collection is created by its first insert
        # portable DDL: the same statement runs on PostgreSQL, MySQL/MariaDB and SQLite
        await self.qb.raw(
            f"CREATE TABLE IF NOT EXISTS {self.qb.quote(self.table)} ("
            "name VARCHAR(255) NOT NULL PRIMARY KEY, batch INTEGER NOT NULL, "
            "checksum VARCHAR(64) NOT NULL, applied_at VARCHAR(32) NOT NULL, "
            "state VARCHAR(16) NOT NULL, statements INTEGER NOT NULL, error TEXT, ran TEXT)"
        ).execute()

    async def rows(self) -> list[HistoryRow]:
        query = self.qb.table(self.table).options(use_replica=False)  # never a stale replica
        found = await query.order_by("batch").order_by("name").all()
        return [
            HistoryRow(
                r["name"],
                int(r["batch"]),
                r["checksum"],
                r["applied_at"],
                "partial" if r["state"] == "partial" else "applied",
                int(r["statements"]),
                r["error"],
                r["ran"],
            )
            for r in found
        ]

    async def record(
        self,
        name: str,
        batch: int,
        checksum: str,
        *,
        state: Literal["applied", "partial"] = "applied",
        statements: int = 0,
        error: str | None = None,
        ran: str | None = None,
    ) -> None:
        await self.qb.table(self.table).insert(
            {
                "name": name,
                "batch": batch,
                "checksum": checksum,
                "applied_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "state": state,
                "statements": statements,
                "error": error,
                "ran": ran,
            }
        )

    async def mark_applied(self, name: str, checksum: str) -> int:
        result = await (
            self.qb.table(self.table)
            .where({"name": name})
            .update({"state": "applied", "error": None, "checksum": checksum})
        )
        return result.row_count

    async def forget(self, name: str) -> int:
        result = await self.qb.table(self.table).where({"name": name}).delete()
        return result.row_count
