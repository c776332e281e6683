"""``Model.delete(key)`` takes the primary key's type; ``instance.delete()`` takes nothing."""

from __future__ import annotations

from blog import User


async def remove(key: str) -> None:
    await User.delete(key)  # E: arg-type


async def remove_without_key() -> None:
    await User.delete()  # E: call-arg


async def remove_loaded(user: User) -> None:
    await user.delete(user.id)  # E: call-arg
