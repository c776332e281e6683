"""Piccolo on its asyncpg engine. Its tables are built per engine (``db=`` is fixed when a
Table class is created), so they are made in ``PiccoloSide.open``."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from piccolo.columns import Boolean, Date, DoublePrecision, ForeignKey, Integer, Serial, Varchar
from piccolo.columns.base import OnDelete
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from .data import CHILD, INSERT, NARROW, PARENT, PARENTS, WIDE, WIDE_KINDS, NarrowRecord

CHUNK = 5_000  # rows per INSERT: 4 params a row stays under PostgreSQL's 32,767 parameters


def _column(kind: str) -> Any:
    if kind == "int":
        return Integer()
    if kind == "str":
        return Varchar(length=100)
    if kind == "float":
        return DoublePrecision()
    if kind == "bool":
        return Boolean()
    return Date()


def _tables(engine: PostgresEngine) -> SimpleNamespace:
    def narrow(name: str, table: str) -> Any:
        return type(
            name,
            (Table,),
            {
                "id": Integer(primary_key=True),
                "name": Varchar(length=100),
                "email": Varchar(length=255),
                "score": DoublePrecision(),
            },
            tablename=table,
            db=engine,
        )

    wide = type(
        "Wide",
        (Table,),
        {
            "id": Integer(primary_key=True),
            **{name: _column(kind) for name, kind in WIDE_KINDS[1:]},
        },
        tablename=WIDE,
        db=engine,
    )
    parent: Any = type(
        "Parent", (Table,), {"id": Serial(primary_key=True), "name": Varchar(length=100)},
        tablename=PARENT, db=engine,
    )  # fmt: skip
    child = type(
        "Child",
        (Table,),
        {
            "id": Serial(primary_key=True),
            "parent_id": ForeignKey(references=parent, on_delete=OnDelete.cascade),
            "title": Varchar(length=100),
            "position": Integer(),
        },
        tablename=CHILD,
        db=engine,
    )
    return SimpleNamespace(
        Narrow=narrow("Narrow", NARROW),
        Inserted=narrow("Inserted", INSERT),
        Wide=wide,
        Parent=parent,
        Child=child,
    )


API = {
    "fetch": "await M.objects()",
    "lookups": "M.objects().get(M.id == key)",
    "insert": f"M.insert(*objects), {CHUNK:,} a statement",
    "transaction": "engine.transaction(), obj.save() x2",
    "eager": "no reverse-FK eager load: 2 objects() + grouping",
}  # what this contender calls, per workload kind


class PiccoloSide:
    name = "Piccolo"

    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine
        self.api: dict[str, str] = API
        self.t = _tables(engine)

    @classmethod
    async def open(cls, url: str, pool: int) -> PiccoloSide:
        parts = urlsplit(url)
        config = {
            "host": parts.hostname,
            "port": parts.port or 5432,
            "user": parts.username,
            "password": parts.password,
            "database": parts.path.lstrip("/"),
        }
        engine = PostgresEngine(config=config, extensions=())
        await engine.start_connection_pool(min_size=pool, max_size=pool)
        return cls(engine)

    async def close(self) -> None:
        await self.engine.close_connection_pool()

    async def fetch_narrow(self) -> list[Any]:
        return await self.t.Narrow.objects()

    async def fetch_wide(self) -> list[Any]:
        return await self.t.Wide.objects()

    async def lookups(self, keys: list[int]) -> list[Any]:
        narrow = self.t.Narrow
        return [await narrow.objects().get(narrow.id == k) for k in keys]

    async def insert(self, rows: list[NarrowRecord], dicts: list[dict[str, Any]]) -> None:
        inserted = self.t.Inserted
        objects = [inserted(**d) for d in dicts]
        async with self.engine.transaction():
            for start in range(0, len(objects), CHUNK):
                await inserted.insert(*objects[start : start + CHUNK])

    async def transactions(self, count: int) -> None:
        parent_table, child_table = self.t.Parent, self.t.Child
        for i in range(count):
            async with self.engine.transaction():
                parent = parent_table(name=f"tx {i}")
                await parent.save()
                await child_table(parent_id=parent.id, title=f"child of tx {i}", position=0).save()

    async def eager(self) -> list[tuple[Any, list[Any]]]:
        parent_table, child_table = self.t.Parent, self.t.Child
        parents = await parent_table.objects().order_by(parent_table.id).limit(PARENTS)
        ids = [p.id for p in parents]
        children = await child_table.objects().where(child_table.parent_id.is_in(ids))
        grouped: defaultdict[int, list[Any]] = defaultdict(list)
        for child in children:
            grouped[child.parent_id].append(child)
        return [(p, grouped[p.id]) for p in parents]

    def tree(self, result: list[tuple[Any, list[Any]]]) -> list[tuple[Any, list[Any]]]:
        return result
