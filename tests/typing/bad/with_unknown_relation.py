"""``with_`` and ``load`` take only the model's relation paths."""

from __future__ import annotations

from blog import User, UserQuery


def friends() -> UserQuery:
    return User.query().with_("friends")  # E: arg-type


def nested_typo() -> UserQuery:
    return User.query().with_("posts", "posts.comment")  # E: arg-type


def column_is_not_a_relation() -> UserQuery:
    return User.query().with_("email")  # E: arg-type


async def load_friends(user: User) -> None:
    await user.load("friends")  # E: arg-type
