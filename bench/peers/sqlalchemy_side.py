"""SQLAlchemy 2 async ORM on asyncpg: declarative models, ``AsyncSession``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

from .data import CHILD, INSERT, NARROW, PARENT, PARENTS, WIDE, WIDE_KINDS, NarrowRecord


class Base(DeclarativeBase):
    pass


class Narrow(Base):
    __tablename__ = NARROW
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)


class Inserted(Base):
    __tablename__ = INSERT
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(255))
    score: Mapped[float] = mapped_column(Float)


class Parent(Base):
    __tablename__ = PARENT
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    children: Mapped[list[Child]] = relationship(back_populates="parent")


class Child(Base):
    __tablename__ = CHILD
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey(f"{PARENT}.id"))
    title: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    parent: Mapped[Parent] = relationship(back_populates="children")


_TYPES: dict[str, Any] = {
    "int": Integer,
    "str": lambda: String(100),
    "float": Float,
    "bool": Boolean,
    "date": Date,
}
Wide: Any = type(
    "Wide",
    (Base,),
    {
        "__tablename__": WIDE,
        "id": mapped_column(Integer, primary_key=True, autoincrement=False),
        **{name: mapped_column(_TYPES[kind]()) for name, kind in WIDE_KINDS[1:]},
    },
)


API = {
    "fetch": "session.scalars(select(M))",
    "lookups": "session.get(M, key, populate_existing)",
    "insert": "session.execute(insert(M), dicts)",
    "transaction": "session.begin(), add(Parent(children=[…]))",
    "eager": "selectinload(Parent.children)",
}  # what this contender calls, per workload kind


class SQLAlchemySide:
    name = "SQLAlchemy"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.api: dict[str, str] = API
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str, pool: int) -> SQLAlchemySide:
        engine = create_async_engine(
            url.replace("postgresql://", "postgresql+asyncpg://", 1),
            pool_size=pool,
            max_overflow=0,
        )
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def fetch_narrow(self) -> list[Any]:
        async with self.session() as session:
            return list((await session.scalars(select(Narrow))).all())

    async def fetch_wide(self) -> list[Any]:
        async with self.session() as session:
            return list((await session.scalars(select(Wide))).all())

    async def lookups(self, keys: list[int]) -> list[Any]:
        # One session for the whole run (one connection, the kindest to SQLAlchemy);
        # populate_existing so a key seen before still costs its query, as for the others.
        async with self.session() as session:
            return [await session.get(Narrow, k, populate_existing=True) for k in keys]

    async def insert(self, rows: list[NarrowRecord], dicts: list[dict[str, Any]]) -> None:
        async with self.session() as session, session.begin():
            await session.execute(insert(Inserted), dicts)

    async def transactions(self, count: int) -> None:
        for i in range(count):
            async with self.session() as session, session.begin():
                child = Child(title=f"child of tx {i}", position=0)
                session.add(Parent(name=f"tx {i}", children=[child]))

    async def eager(self) -> list[Any]:
        query = select(Parent).order_by(Parent.id).limit(PARENTS)
        async with self.session() as session:
            result = await session.scalars(query.options(selectinload(Parent.children)))
            return list(result.all())

    def tree(self, result: list[Any]) -> list[tuple[Any, list[Any]]]:
        return [(p, list(p.children)) for p in result]
