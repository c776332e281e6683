"""``ModelQuery.update`` takes the model's updatable fields with their types."""

from __future__ import annotations

from blog import Post


async def archive() -> int:
    await Post.query().update(state="archived")  # E: call-arg
    await Post.query().update(id=3)  # E: call-arg
    return await Post.query().update(status="gone")  # E: arg-type
