"""``find_by`` / ``filter_by`` reject filter values of the wrong type."""

from __future__ import annotations

from blog import Post, PostQuery, User, UserQuery


def by_keyword() -> UserQuery:
    return User.find_by(active="yes")  # E: arg-type


def by_mapping() -> UserQuery:
    return User.find_by({"login_count": "3"})  # E: arg-type


def by_status() -> PostQuery:
    return Post.find_by(status="deleted")  # E: arg-type


def chained() -> UserQuery:
    return User.query().filter_by(id="1")  # E: arg-type
