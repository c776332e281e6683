"""``find`` takes the primary key's type."""

from __future__ import annotations

from blog import User


async def load(key: str) -> User:
    return await User.find(key)  # E: arg-type
