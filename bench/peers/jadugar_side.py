"""Jadugar through its generated models: ``peerbench``, generated at bench start from
``bench/peers/schema/`` into a temporary folder put on ``sys.path``."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from jadugar import DatabaseManager, DatabaseOptions, PoolOptions

from .data import INSERT, NARROW_COLUMNS, PARENTS, WIDE_COLUMNS, NarrowRecord

SCHEMA = Path(__file__).with_name("schema")
PACKAGE = "peerbench"


def generate_models(out_dir: Path) -> Any:
    """Generate the bench package into ``out_dir`` and import it."""
    from jadugar_generator.generate import generate

    generate(SCHEMA, out_dir, PACKAGE, root=SCHEMA.parent.parent.parent)
    sys.path.insert(0, str(out_dir))
    module = importlib.import_module(PACKAGE)
    meta = module.Wide.__jadugar__
    assert tuple(c.name for c in meta.columns) == WIDE_COLUMNS, "schema/peers.yaml is stale"
    return module


BUILDER = "query.table().insert_many(tuples, columns=)"  # until Model.create_many exists
API = {
    "fetch": "Model.query().get()",
    "lookups": "await Model.find(key)",
    "transaction": "db.transaction(), Model.create x2",
    "eager": 'query().with_("children")',
}  # what this contender calls, per workload kind


class JadugarSide:
    name = "Jadugar"

    def __init__(self, db: DatabaseManager, models: Any) -> None:
        self.db = db
        self.m = models
        self.bulk = "create_many" if hasattr(models.Inserted, "create_many") else "insert_many"
        insert = "Inserted.create_many(dicts)" if self.bulk == "create_many" else BUILDER
        self.api: dict[str, str] = {**API, "insert": insert}

    @classmethod
    async def open(cls, url: str, models: Any, pool: int) -> JadugarSide:
        db = DatabaseManager(DatabaseOptions(url=url, pool=PoolOptions(min=pool, max=pool)))
        await db.connect()
        for model in (models.Narrow, models.Wide, models.Inserted, models.Parent, models.Child):
            model.bind(db)
        return cls(db, models)

    async def close(self) -> None:
        await self.db.disconnect()

    async def fetch_narrow(self) -> list[Any]:
        return await self.m.Narrow.query().get()

    async def fetch_wide(self) -> list[Any]:
        return await self.m.Wide.query().get()

    async def lookups(self, keys: list[int]) -> list[Any]:
        find = self.m.Narrow.find
        return [await find(k) for k in keys]

    async def insert(self, rows: list[NarrowRecord], dicts: list[dict[str, Any]]) -> None:
        if self.bulk == "create_many":
            await self.m.Inserted.create_many(dicts)
        else:
            await self.db.query.table(INSERT).insert_many(rows, columns=NARROW_COLUMNS)

    async def transactions(self, count: int) -> None:
        parent_model, child_model, db = self.m.Parent, self.m.Child, self.db
        for i in range(count):
            async with db.transaction():
                parent = await parent_model.create(name=f"tx {i}")
                await child_model.create(parent_id=parent.id, title=f"child of tx {i}", position=0)

    async def eager(self) -> list[Any]:
        query = self.m.Parent.query().order_by("id").limit(PARENTS).with_("children")
        return await query.get()

    def tree(self, result: list[Any]) -> list[tuple[Any, list[Any]]]:
        return [(p, p.children) for p in result]

    async def count_statements(self) -> int:
        """Statements one eager load sends, counted through the ``query`` event."""
        seen: list[str] = []

        def on_query(payload: dict[str, Any]) -> None:
            seen.append(str(payload.get("sql", "")))

        self.db.on("query", on_query)
        try:
            await self.eager()
        finally:
            self.db.off("query", on_query)
        return len(seen)
