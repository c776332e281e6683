"""The seed's call forms, typed: ``where(column, op, value)`` on model queries and the
filter after ``update(...)`` / ``delete()`` on the table builder.

Checked by ``tests/typing/test_typing.py`` with ``mypy --strict``; never executed.
"""

from __future__ import annotations

import datetime
from typing import assert_type

from blog import Post, PostQuery, User, UserQuery

from jadugar import DatabaseManager, DeleteQuery, UpdateQuery


async def frequent_users() -> int:
    query = User.query().where("login_count", ">", 1)
    assert_type(query, UserQuery)
    return await query.where("name", "ilike", "a%").where("id", "in", [1, 2]).count()


def by_every_form(born: datetime.date) -> UserQuery:
    return (
        User.query()
        .where("birthday", "between", (born, born))
        .where("deleted_at", "=", None)
        .where("email", "ada@example.com")
        .where({"active": True})
        .where(User.c.login_count >= 3)
    )


def drafts() -> PostQuery:
    return Post.query().where("status", "!=", "archived").where("rating", ">=", 2.5)


async def deactivate(db: DatabaseManager) -> int:
    users = db.query.table("users")
    update = users.update({"active": False}).where("age", "<", 5)  # any: untyped values
    assert_type(update, UpdateQuery)
    delete = users.delete().where_in("id", [1, 2])  # any: untyped values
    delete = delete.or_where("age", None)
    assert_type(delete, DeleteQuery)
    return (await update).row_count + (await delete.all_rows()).row_count
