"""Two small models for tests/integration/test_access_control.py, written as the generator
writes them, over tables unique to this process (``create_tables`` / ``drop_tables``).

``AcAuthor`` has many ``AcNote``; notes carry a ``tenant_id`` and soft deletes.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import ClassVar, Literal, NotRequired, TypedDict, Unpack

from jadugar import Column, DatabaseManager
from jadugar.models import ColumnMeta, KeyedDelete, Model, ModelMeta, ModelQuery, RelationMeta, auto

SUFFIX = uuid.uuid4().hex[:8]
AUTHORS = f"ac_authors_{SUFFIX}"
NOTES = f"ac_notes_{SUFFIX}"

NoteColumn = Literal["id", "tenant_id", "author_id", "title", "deleted_at"]


class NoteCreate(TypedDict):
    title: str
    tenant_id: NotRequired[int | None]
    author_id: NotRequired[int | None]


class NoteUpdate(TypedDict, total=False):
    title: str
    tenant_id: int | None


class AcNoteColumns:
    tenant_id: ClassVar = Column[int](f"{NOTES}.tenant_id")
    title: ClassVar = Column[str](f"{NOTES}.title")


class AcAuthor(Model):
    __jadugar__: ClassVar[ModelMeta] = ModelMeta(
        name="AcAuthor",
        table=AUTHORS,
        primary_key="id",
        columns=(
            ColumnMeta("id", "int", primary_key=True, auto_increment=True),
            ColumnMeta("name", "str"),
        ),
        relations={
            "notes": RelationMeta("has_many", "AcNote", foreign_key="author_id", local_key="id")
        },
    )
    delete: ClassVar[KeyedDelete[int]] = KeyedDelete()

    id: int = auto()
    name: str

    @property
    def notes(self) -> list[AcNote]:
        notes: list[AcNote] = self._related("notes")
        return notes

    @property
    def notes_count(self) -> int:
        return self._count("notes")

    @classmethod
    def query(cls) -> ModelQuery[AcAuthor, Literal["id", "name"], Literal["notes"]]:
        return ModelQuery(cls)

    @classmethod
    async def create(cls, name: str) -> AcAuthor:
        return await cls._create({"name": name})

    @classmethod
    async def find(cls, key: int) -> AcAuthor:
        return await cls._find(key)


class AcNoteQuery(ModelQuery["AcNote", NoteColumn, Literal["author"]]):
    __slots__ = ()

    async def update(self, **values: Unpack[NoteUpdate]) -> int:
        return await self._update(values)

    async def restore(self) -> int:
        return await self._restore()

    async def force_delete(self) -> int:
        return await self._force_delete()


class AcNote(Model):
    __jadugar__: ClassVar[ModelMeta] = ModelMeta(
        name="AcNote",
        table=NOTES,
        primary_key="id",
        columns=(
            ColumnMeta("id", "int", primary_key=True, auto_increment=True),
            ColumnMeta("tenant_id", "int", nullable=True),
            ColumnMeta("author_id", "int", nullable=True),
            ColumnMeta("title", "str"),
            ColumnMeta("deleted_at", "datetime", nullable=True, managed="deleted_at"),
        ),
        relations={
            "author": RelationMeta("belongs_to", "AcAuthor", foreign_key="author_id"),
        },
        soft_deletes=True,
    )
    c: ClassVar[type[AcNoteColumns]] = AcNoteColumns
    delete: ClassVar[KeyedDelete[int]] = KeyedDelete()

    id: int = auto()
    tenant_id: int | None = None
    author_id: int | None = None
    title: str
    deleted_at: datetime.datetime | None = None

    @classmethod
    def query(cls) -> AcNoteQuery:
        return AcNoteQuery(cls)

    @classmethod
    async def find(cls, key: int) -> AcNote:
        return await cls._find(key)

    @classmethod
    async def find_or_none(cls, key: int) -> AcNote | None:
        return await cls._find_or_none(key)

    @classmethod
    def find_by(cls, **values: object) -> AcNoteQuery:
        return cls.query()._filter(values)

    @classmethod
    async def create(cls, **values: Unpack[NoteCreate]) -> AcNote:
        return await cls._create(values)

    @classmethod
    async def create_many(cls, rows: Sequence[NoteCreate], /) -> int:
        return await cls._create_many(rows)

    @classmethod
    async def update(cls, key: int, **values: Unpack[NoteUpdate]) -> AcNote:
        return await cls._update(key, values)

    async def restore(self) -> None:
        await self._restore()

    async def force_delete(self) -> None:
        await self._force_delete()


async def create_tables(db: DatabaseManager) -> None:
    await drop_tables(db)
    await db.schema.create_table(AUTHORS, lambda t: (t.increments("id"), t.string("name")))
    await db.schema.create_table(
        NOTES,
        lambda t: (
            t.increments("id"),
            t.integer("tenant_id").nullable(),
            t.integer("author_id").nullable(),
            t.string("title"),
            t.soft_deletes(),
        ),
    )


async def drop_tables(db: DatabaseManager) -> None:
    await db.schema.drop_table(NOTES, if_exists=True).drop_table(AUTHORS, if_exists=True)
