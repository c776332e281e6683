"""Relation properties are filled by ``with_``/``load``, never assigned."""

from __future__ import annotations

from blog import Post, User


def clear(user: User) -> None:
    user.posts = []  # E: misc


def reassign(post: Post, user: User) -> None:
    post.author = user  # E: misc
