"""``create`` rejects a keyword that is not a column of the model."""

from __future__ import annotations

from blog import Post, User


async def signup() -> User:
    return await User.create(name="A", email="e", password_hash="h", nickname="a")  # E: call-arg


async def managed_columns_are_not_arguments() -> User:
    return await User.create(name="A", email="e", password_hash="h", id=1)  # E: call-arg


async def timestamps_are_not_arguments() -> Post:
    return await Post.create(user_id=1, title="t", created_at=None)  # E: call-arg
