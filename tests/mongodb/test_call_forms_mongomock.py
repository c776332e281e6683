"""On MongoDB (mongomock): ``where(column, op, value)`` on model queries, and
``update(...)`` / ``delete()`` with the filter after them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from blog import User

import jadugar.models
from jadugar import DatabaseManager, UnsafeQueryError
from jadugar.dialects.mongodb.driver import drop_mongomock_store


@pytest.fixture
async def mdb() -> AsyncIterator[DatabaseManager]:
    name = f"jm_{uuid.uuid4().hex[:12]}"
    manager = DatabaseManager(url=f"mongomock://{name}")
    try:
        async with manager:
            jadugar.models.bind(manager, package="blog")
            try:
                yield manager
            finally:
                jadugar.models.bind(None, package="blog")
    finally:
        drop_mongomock_store(name)


async def _users() -> None:
    for n, name in enumerate(["Ada", "Bob", "Cy"]):
        await User.create(
            name=name, email=f"{name}@x.org", password_hash="x" * 20, login_count=n * 5
        )


async def test_model_query_takes_column_op_value_mongomock(mdb: DatabaseManager) -> None:
    await _users()
    assert await User.query().where("login_count", ">", 1).count() == 2
    assert await User.query().where("login_count", "between", (0, 5)).count() == 2
    assert await User.query().where("name", "not_in", ["Ada"]).count() == 2
    assert await User.query().where("email", "ilike", "b%").count() == 1
    assert [u.name for u in await User.query().where("name", "Cy")] == ["Cy"]
    assert await User.query().where({"active": True}).count() == 3


async def test_update_and_delete_then_where_mongomock(mdb: DatabaseManager) -> None:
    await _users()
    users = mdb.query.table("users")
    done = await users.update({"active": False}).where("login_count", "<", 6).execute()
    assert done.row_count == 2
    assert await users.where({"active": False}).count() == 2
    assert (await users.delete().where("name", "Cy")).row_count == 1
    assert await users.count() == 2
    with pytest.raises(UnsafeQueryError, match="all_rows"):
        await users.delete()
    with pytest.raises(UnsafeQueryError, match="all_rows"):
        await users.update({"active": True})
