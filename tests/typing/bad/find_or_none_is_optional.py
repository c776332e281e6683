"""``find_or_none`` (and ``first``) may return ``None``: use it only after a check."""

from __future__ import annotations

from blog import User


async def name_of(key: int) -> str:
    return (await User.find_or_none(key)).name  # E: union-attr


async def first_email() -> str:
    return (await User.find_by(active=True).first()).email  # E: union-attr


async def not_a_user(key: int) -> User:
    return await User.find_or_none(key)  # E: return-value
