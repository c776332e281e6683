"""``update`` takes the primary key's type as its first argument."""

from __future__ import annotations

from blog import User


async def rename(key: str) -> User:
    return await User.update(key, name="Ada")  # E: arg-type
