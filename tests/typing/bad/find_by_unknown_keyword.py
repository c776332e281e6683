"""``find_by`` / ``filter_by`` reject filters on columns the model does not have."""

from __future__ import annotations

from blog import User, UserQuery


def by_keyword() -> UserQuery:
    return User.find_by(nickname="ada")  # E: call-arg


def by_mapping() -> UserQuery:
    return User.find_by({"nickname": "ada"})  # E: arg-type


def chained() -> UserQuery:
    return User.query().filter_by(nickname="ada")  # E: call-arg
