"""``with_count`` takes only the model's relation paths."""

from __future__ import annotations

from blog import User, UserQuery


def friends() -> UserQuery:
    return User.query().with_count("friends")  # E: arg-type
