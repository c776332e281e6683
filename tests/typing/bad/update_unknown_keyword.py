"""``update`` rejects keywords that are not updatable columns."""

from __future__ import annotations

from blog import User


async def rename() -> User:
    return await User.update(1, nickname="ada")  # E: call-arg


async def the_key_is_not_updatable() -> User:
    return await User.update(1, id=2)  # E: call-arg


async def managed_timestamps_are_not_updatable() -> User:
    return await User.update(1, updated_at=None)  # E: call-arg
