"""``create`` requires every column without a default."""

from __future__ import annotations

from blog import Comment, User


async def signup() -> User:
    return await User.create(name="Ada", email="a@x.io")  # E: call-arg


async def reply() -> Comment:
    return await Comment.create(body="hi")  # E: call-arg
