"""``order_by`` takes only the model's column names (and ``"asc"``/``"desc"``)."""

from __future__ import annotations

from blog import User, UserQuery


def newest() -> UserQuery:
    return User.query().order_by("signup_date")  # E: arg-type


def bad_direction() -> UserQuery:
    return User.query().order_by("created_at", "descending")  # E: arg-type
