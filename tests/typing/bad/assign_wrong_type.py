"""Assigning a value of the wrong type to a model attribute."""

from __future__ import annotations

import datetime

from blog import Post, User


def rename(user: User) -> None:
    user.name = 3  # E: assignment


def clear_email(user: User) -> None:
    user.email = None  # E: assignment


def set_birthday(user: User) -> None:
    user.birthday = datetime.datetime(1990, 1, 1).isoformat()  # E: assignment


def hide(post: Post) -> None:
    post.status = "hidden"  # E: assignment
