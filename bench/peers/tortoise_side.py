"""Tortoise ORM on asyncpg (its default PostgreSQL backend)."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise, fields
from tortoise.models import Model
from tortoise.transactions import in_transaction

from .data import CHILD, INSERT, NARROW, PARENT, PARENTS, WIDE, WIDE_KINDS, NarrowRecord


class Narrow(Model):
    id = fields.IntField(primary_key=True, generated=False)
    name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=255)
    score = fields.FloatField()

    class Meta:
        table = NARROW


class Inserted(Model):
    id = fields.IntField(primary_key=True, generated=False)
    name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=255)
    score = fields.FloatField()

    class Meta:
        table = INSERT


class Parent(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    children: fields.ReverseRelation[Child]

    class Meta:
        table = PARENT


class Child(Model):
    id = fields.IntField(primary_key=True)
    parent: fields.ForeignKeyRelation[Parent] = fields.ForeignKeyField(
        "models.Parent", related_name="children"
    )
    title = fields.CharField(max_length=100)
    position = fields.IntField()

    class Meta:
        table = CHILD


def _field(kind: str) -> Any:
    if kind == "int":
        return fields.IntField()
    if kind == "str":
        return fields.CharField(max_length=100)
    if kind == "float":
        return fields.FloatField()
    if kind == "bool":
        return fields.BooleanField()
    return fields.DateField()


Wide: Any = type(
    "Wide",
    (Model,),
    {
        "__module__": __name__,
        "id": fields.IntField(primary_key=True, generated=False),
        **{name: _field(kind) for name, kind in WIDE_KINDS[1:]},
        "Meta": type("Meta", (), {"table": WIDE}),
    },
)


API = {
    "fetch": "await M.all()",
    "lookups": "await M.get(id=key)",
    "insert": "M.bulk_create(objects)",
    "transaction": "in_transaction(), M.create x2",
    "eager": 'prefetch_related("children")',
}  # what this contender calls, per workload kind


class TortoiseSide:
    name = "Tortoise"

    def __init__(self) -> None:
        self.api: dict[str, str] = API

    @classmethod
    async def open(cls, url: str, pool: int) -> TortoiseSide:
        dsn = url.replace("postgresql://", "asyncpg://", 1)
        await Tortoise.init(
            db_url=f"{dsn}?minsize={pool}&maxsize={pool}",
            modules={"models": [__name__]},
            _enable_global_fallback=True,
        )
        return cls()

    async def close(self) -> None:
        await Tortoise.close_connections()

    async def fetch_narrow(self) -> list[Any]:
        return await Narrow.all()

    async def fetch_wide(self) -> list[Any]:
        return await Wide.all()

    async def lookups(self, keys: list[int]) -> list[Any]:
        get = Narrow.get
        return [await get(id=k) for k in keys]

    async def insert(self, rows: list[NarrowRecord], dicts: list[dict[str, Any]]) -> None:
        await Inserted.bulk_create([Inserted(**d) for d in dicts])

    async def transactions(self, count: int) -> None:
        for i in range(count):
            async with in_transaction():
                parent = await Parent.create(name=f"tx {i}")
                await Child.create(parent=parent, title=f"child of tx {i}", position=0)

    async def eager(self) -> list[Any]:
        return await Parent.all().order_by("id").limit(PARENTS).prefetch_related("children")

    def tree(self, result: list[Any]) -> list[tuple[Any, list[Any]]]:
        return [(p, list(p.children)) for p in result]
