"""Relation properties have precise types."""

from __future__ import annotations

from blog import Comment, Post, User


def comments_of(user: User) -> list[Comment]:
    posts: list[Comment] = user.posts  # E: assignment
    return posts


def author_of(post: Post) -> User:
    return post.author  # E: return-value


def author_name(post: Post) -> str:
    return post.author.name  # E: union-attr
