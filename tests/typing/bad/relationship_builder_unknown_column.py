"""A relationship builder is the related model's typed query."""

from __future__ import annotations

from blog import Post, User


async def titles(user: User) -> list[User]:
    posts = user.has_many(Post, "user_id")
    await posts.with_("author.nickname").get()  # E: arg-type
    await posts.select("nickname").get()  # E: arg-type
    return await posts.get()  # E: return-value
