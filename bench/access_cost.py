"""What access control costs on the hot path: ``Model.find()`` lookups on SQLite, plain,
on a read-only manager, and with a scope (a tenant id from a context variable).

    .venv/bin/python -m bench.access_cost [lookups]

Each case runs the lookups ``ROUNDS`` times; the best round is reported (microseconds per
lookup). On a tree without scopes (before access control) the scope case is skipped.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from contextvars import ContextVar
from pathlib import Path
from typing import ClassVar

from jadugar import DatabaseManager, DatabaseOptions
from jadugar.models import ColumnMeta, Model, ModelMeta, auto

ROUNDS = 5
ROWS = 1000
tenant: ContextVar[int] = ContextVar("tenant", default=1)


class Note(Model):
    __jadugar__: ClassVar[ModelMeta] = ModelMeta(
        name="Note",
        table="notes",
        primary_key="id",
        columns=(
            ColumnMeta("id", "int", primary_key=True, auto_increment=True),
            ColumnMeta("tenant_id", "int"),
            ColumnMeta("title", "str"),
        ),
    )

    id: int = auto()
    tenant_id: int
    title: str

    @classmethod
    async def find(cls, key: int) -> Note:
        return await cls._find(key)


async def _best(lookups: int) -> float:
    keys = [1 + i % ROWS for i in range(lookups)]
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for key in keys:
            await Note.find(key)
        best = min(best, time.perf_counter() - started)
    return best / lookups * 1e6


async def main(lookups: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        async with DatabaseManager(url=url) as db:
            await db.query.raw(
                "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " tenant_id INTEGER NOT NULL, title TEXT NOT NULL)"
            ).execute()
            await db.query.table("notes").insert_many(
                [{"tenant_id": 1, "title": f"note {i}"} for i in range(ROWS)]
            )
            await Note.find(1)  # warm the statement caches
            print(f"plain       {await _best(lookups):6.1f} µs/find")
            if hasattr(Note, "add_scope"):
                Note.add_scope("tenant", lambda: {"tenant_id": tenant.get()})
                print(f"scoped      {await _best(lookups):6.1f} µs/find")
                Note.remove_scope()
        if "read_only" not in DatabaseOptions.model_fields:
            return
        async with DatabaseManager(url=url, read_only=True) as ro:
            Note.bind(ro)
            print(f"read-only   {await _best(lookups):6.1f} µs/find")
            Note.bind(None)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
