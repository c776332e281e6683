"""Ordering comparisons and ``between`` on a typed column need a value of its type."""

from __future__ import annotations

import datetime

from blog import Post, User, UserQuery


def frequent() -> UserQuery:
    return User.query().where(User.c.login_count > "x")  # E: operator


def recent() -> UserQuery:
    return User.query().where(User.c.created_at >= "2024-01-01")  # E: operator


def short_posts() -> UserQuery:
    return User.query().where(User.c.id < Post.c.title)  # E: operator


def born_between() -> UserQuery:
    end = datetime.date(2000, 1, 1)
    return User.query().where(User.c.birthday.between("1990", end))  # E: arg-type
