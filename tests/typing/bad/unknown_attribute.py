"""Attributes, columns and relations the model does not have."""

from __future__ import annotations

from blog import Post, User


def nickname(user: User) -> object:
    return user.nickname  # E: attr-defined


def author_of_user(user: User) -> object:
    return user.author  # E: attr-defined


def tag_count(post: Post) -> object:
    return post.author_count  # E: attr-defined


def nickname_column() -> object:
    return User.c.nickname  # E: attr-defined


async def find_all() -> object:
    return await User.find_all()  # E: attr-defined
