"""The seed's and Knex's call forms on every SQL engine: ``where(column, op, value)`` on
model queries, and ``update(...)`` / ``delete()`` with the filter after them."""

from __future__ import annotations

import pytest
from blog import User

from jadugar import DatabaseManager, QueryError, UnsafeQueryError

from .conftest import Tables
from .test_models import blog  # noqa: F401  (the fixture)


async def test_update_then_where_changes_the_filtered_rows(tables: Tables) -> None:
    await tables.seed()
    users = tables.db.query.table(tables.users)
    done = await users.update({"active": False}).where("age", "<", 30).execute()
    assert done.row_count == 2  # Bob (17), Eve (29)
    assert await users.where({"active": False}).count() == 2
    assert await users.where("active", True).count() == 3


async def test_both_orders_compile_and_count_alike(tables: Tables) -> None:
    await tables.seed()
    users = tables.db.query.table(tables.users)
    before = users.where("age", ">", 30).update({"score": None})
    after = users.update({"score": None}).where("age", ">", 30)
    assert before.to_sql() == after.to_sql()
    assert (await after).row_count == 2  # Ada, Dee
    assert await users.where_null("score").count() == 3


async def test_delete_then_where_and_or_where(tables: Tables) -> None:
    await tables.seed()
    posts = tables.db.query.table(tables.posts)
    done = await posts.delete().where("views", "<", 6).or_where("title", "Notes").execute()
    assert done.row_count == 3  # Hello (5), Solo (1), Notes
    assert await posts.count() == 3
    await posts.delete().where_in("title", ["Engines", "Again"])
    assert [r["title"] for r in await posts.all()] == ["Letters"]


async def test_write_without_filter_still_needs_all_rows(tables: Tables) -> None:
    await tables.seed()
    users = tables.db.query.table(tables.users)
    with pytest.raises(UnsafeQueryError, match="all_rows"):
        await users.update({"active": False})
    with pytest.raises(UnsafeQueryError, match="all_rows"):
        await users.delete().returning()
    assert (await users.update({"active": True}).all_rows()).row_count == 5


async def test_model_query_takes_column_op_value(blog: DatabaseManager) -> None:  # noqa: F811
    for n, name in enumerate(["Ada", "Bob", "Cy"]):
        await User.create(
            name=name, email=f"{name}@x.org", password_hash="x" * 20, login_count=n * 5
        )
    assert await User.query().where("login_count", ">", 1).count() == 2
    assert await User.query().where("login_count", "between", (0, 5)).count() == 2
    assert await User.query().where("name", "in", ["Ada", "Cy"]).count() == 2
    assert await User.query().where("email", "ilike", "b%").count() == 1
    assert await User.query().where("birthday", "=", None).count() == 3
    assert await User.query().where("name", "Bob").count() == 1
    assert await User.query().where({"name": "Cy", "active": True}).count() == 1
    with pytest.raises(QueryError, match="User has no column 'total'"):
        User.query().where("total", ">", 1)  # type: ignore[call-overload]
