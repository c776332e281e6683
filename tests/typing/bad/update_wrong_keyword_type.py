"""``update`` rejects a keyword whose value has the wrong type."""

from __future__ import annotations

from blog import Post, User


async def deactivate() -> User:
    return await User.update(1, active="no")  # E: arg-type


async def clear_name() -> User:
    return await User.update(1, name=None)  # E: arg-type


async def bad_status() -> Post:
    return await Post.update(1, status="hidden")  # E: arg-type
