"""``Model.on`` takes only the ten event names, and a handler for this model."""

from __future__ import annotations

from blog import Post, User


def audit(user: User) -> None:
    print(user.email)


def published(post: Post) -> None:
    print(post.title)


def register() -> None:
    User.on("creatin", audit)  # E: arg-type
    User.on("creating", published)  # E: arg-type
    User.off("deleted", published)  # E: arg-type
