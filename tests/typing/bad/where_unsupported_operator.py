"""``where(column, op, value)`` takes only the supported operators, and only those that
fit the column's type."""

from __future__ import annotations

from blog import Post, PostQuery, User, UserQuery


def unknown_operator() -> UserQuery:
    return User.query().where("login_count", "=>", 1)  # E: call-overload, no-any-return


def sql_spelling() -> UserQuery:
    return User.query().where("id", "NOT IN", [1])  # E: call-overload, no-any-return


def like_on_a_number() -> UserQuery:
    return User.query().where("login_count", "like", "1%")  # E: call-overload, no-any-return


def ordering_a_bool() -> UserQuery:
    return User.query().where("active", ">", False)  # E: call-overload, no-any-return


def ordering_an_enum() -> PostQuery:
    return Post.query().where("status", "<", "published")  # E: call-overload, no-any-return
