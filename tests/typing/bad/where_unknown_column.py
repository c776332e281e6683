"""``where(column, op, value)`` takes only the model's column names."""

from __future__ import annotations

from blog import Post, PostQuery, User, UserQuery


def by_total() -> UserQuery:
    return User.query().where("total", ">", 1)  # E: call-overload, no-any-return


def relation_is_not_a_column() -> PostQuery:
    return Post.query().where("author", "=", 1)  # E: call-overload, no-any-return


def two_argument_form() -> UserQuery:
    return User.query().where("nickname", "Ada")  # E: call-overload, no-any-return
