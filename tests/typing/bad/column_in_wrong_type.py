"""``in_`` / ``not_in`` need elements of the column's type."""

from __future__ import annotations

from blog import User, UserQuery


def some_ids() -> UserQuery:
    return User.query().where(User.c.id.in_(["1", "2"]))  # E: list-item


def other_ids(ids: list[str]) -> UserQuery:
    return User.query().where(User.c.id.not_in(ids))  # E: arg-type
