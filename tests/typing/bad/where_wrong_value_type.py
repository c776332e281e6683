"""``where(column, op, value)`` checks the value against the column's type."""

from __future__ import annotations

import datetime

from blog import Post, PostQuery, User, UserQuery


def count_as_text() -> UserQuery:
    return User.query().where("login_count", ">", "1")  # E: call-overload, no-any-return


def date_as_text() -> UserQuery:
    return User.query().where("birthday", ">=", "1990-01-01")  # E: call-overload, no-any-return


def unknown_enum_value() -> PostQuery:
    return Post.query().where("status", "=", "deleted")  # E: call-overload, no-any-return


def in_needs_a_list() -> UserQuery:
    return User.query().where("id", "in", 3)  # E: call-overload, no-any-return


def between_needs_a_pair_of_the_type() -> UserQuery:
    pair = ("1990", datetime.date(2000, 1, 1))
    return User.query().where("birthday", "between", pair)  # E: call-overload, no-any-return


def none_on_a_required_column() -> UserQuery:
    return User.query().where("name", "=", None)  # E: call-overload, no-any-return


def equality_form() -> UserQuery:
    return User.query().where("active", "yes")  # E: call-overload, no-any-return


def mapping_form() -> UserQuery:
    return User.query().where({"login_count": "3"})  # E: call-overload, no-any-return
