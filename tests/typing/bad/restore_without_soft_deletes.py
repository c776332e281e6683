"""``restore`` / ``force_delete`` exist only on models with soft deletes."""

from __future__ import annotations

from blog import Post


async def undo(post: Post) -> None:
    await post.restore()  # E: attr-defined
    await post.force_delete()  # E: attr-defined
    await Post.query().restore()  # E: attr-defined
