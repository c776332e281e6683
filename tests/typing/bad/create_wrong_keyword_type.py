"""``create`` rejects a keyword whose value has the wrong type."""

from __future__ import annotations

import datetime

from blog import Post, User


async def signup() -> User:
    return await User.create(name="A", email="e", password_hash="h", login_count="3")  # E: arg-type


async def signup_with_birthday() -> User:
    day = "1990-01-01"
    return await User.create(name="A", email="e", password_hash="h", birthday=day)  # E: arg-type


async def required_column_is_not_nullable() -> User:
    return await User.create(name=None, email="e", password_hash="h")  # E: arg-type


async def enum_value_outside_the_literal() -> Post:
    return await Post.create(user_id=1, title="t", status="deleted")  # E: arg-type


async def datetime_for_a_date() -> Post:
    day = datetime.date(2024, 1, 1)
    return await Post.create(user_id=1, title="t", published_at=day)  # E: arg-type
