"""``create_many`` takes ``<Model>Create`` rows."""

from __future__ import annotations

from blog import Post


async def load(user_id: int) -> int:
    await Post.create_many([{"user_id": user_id}])  # E: typeddict-item
    await Post.create_many([{"user_id": user_id, "title": "x", "rating": "5"}])  # E: typeddict-item
    await Post.create_many([{"user_id": 1, "title": "x", "pin": 1}])  # E: typeddict-unknown-key
    return 0
