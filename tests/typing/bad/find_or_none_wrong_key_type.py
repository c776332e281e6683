"""``find_or_none`` takes the primary key's type."""

from __future__ import annotations

from blog import User


async def load(key: str) -> User | None:
    return await User.find_or_none(key)  # E: arg-type
