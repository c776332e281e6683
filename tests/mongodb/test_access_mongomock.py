"""Access control on a MongoDB manager (mongomock, in process): a read-only manager refuses
writes on the client, and model scopes filter documents as they filter rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable
from contextvars import ContextVar
from typing import cast

import pytest

from jadugar import DatabaseManager, ReadOnlyError
from jadugar.dialects.mongodb.builder import MongoTableQueryBuilder
from jadugar.dialects.mongodb.driver import drop_mongomock_store

from ..integration.access_models import NOTES, AcAuthor, AcNote

tenant: ContextVar[int] = ContextVar("tenant")


@pytest.fixture
async def store() -> AsyncIterator[str]:
    name = f"jm_{uuid.uuid4().hex[:12]}"
    try:
        yield f"mongomock://{name}"
    finally:
        AcNote.remove_scope()
        AcNote.bind(None)
        AcAuthor.bind(None)
        drop_mongomock_store(name)


async def test_read_only_manager_refuses_document_writes(store: str) -> None:
    async with DatabaseManager(url=store) as db:
        AcNote.bind(db)
        note = await AcNote.create(title="kept")
        async with DatabaseManager(url=store, read_only=True) as ro:
            AcNote.bind(ro)
            seen: list[object] = []
            ro.on("query", seen.append)
            table = ro.query.table(NOTES)
            writes: list[tuple[str, Awaitable[object]]] = [
                ("insert", table.insert({"title": "x"})),
                ("insert_many", table.insert_many([{"title": "x"}])),
                ("update", table.where({"title": "kept"}).update({"title": "y"})),
                ("delete", table.where({"title": "kept"}).delete()),
            ]
            for operation, write in writes:
                with pytest.raises(ReadOnlyError) as caught:
                    await write
                assert (caught.value.operation, caught.value.table) == (operation, NOTES)
            with pytest.raises(ReadOnlyError, match=r"^reserve_keys on"):
                await cast("MongoTableQueryBuilder", table).reserve_keys()
            with pytest.raises(ReadOnlyError, match=r"^AcNote\.create\(\)"):
                await AcNote.create(title="new")
            found = await AcNote.find(note.id)
            found.title = "changed"
            with pytest.raises(ReadOnlyError, match=r"^AcNote\.save\(\)"):
                await found.save()
            with pytest.raises(ReadOnlyError, match="drop_collection"):
                await ro.document_schema.drop_collection(NOTES)
            assert await AcNote.query().count() == 1
        AcNote.bind(db)
        assert [n.title for n in await AcNote.query()] == ["kept"]


async def test_scopes_filter_documents(store: str) -> None:
    async with DatabaseManager(url=store) as db:
        AcNote.bind(db)
        AcNote.add_scope("tenant", lambda: {"tenant_id": tenant.get()})
        tenant.set(1)
        one = await AcNote.create(title="one")
        tenant.set(2)
        await AcNote.create(title="two")
        assert [(n.title, n.tenant_id) for n in await AcNote.query()] == [("two", 2)]
        assert await AcNote.find_or_none(one.id) is None
        assert await AcNote.query().update(title="mine") == 1
        assert await AcNote.query().without_scope("tenant").count() == 2
        titles = sorted(n.title for n in await AcNote.query().without_scopes())
        assert titles == ["mine", "one"]
