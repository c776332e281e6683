"""``select`` takes only the model's column names."""

from __future__ import annotations

from blog import Post, PostQuery, User, UserQuery


def names() -> UserQuery:
    return User.query().select("id", "nickname")  # E: arg-type


def relation_is_not_a_column() -> PostQuery:
    return Post.query().select("author")  # E: arg-type
