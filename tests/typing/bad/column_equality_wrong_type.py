"""``==`` / ``!=`` with a value of the wrong type.

mypy falls back to the right operand's ``__eq__`` (``int.__eq__(object) -> bool``), so the
comparison itself is typed ``bool`` rather than ``Condition``: the error is reported where
that ``bool`` is used as a condition (``where``, ``&``, ``|``). ``where`` is overloaded (its
typed column-name forms), so there no overload matches and the result is ``Any``.
"""

from __future__ import annotations

from blog import Post, User, UserQuery


def named_three() -> UserQuery:
    return User.query().where(User.c.name == 3)  # E: call-overload, no-any-return


def not_yes() -> UserQuery:
    return User.query().where(User.c.active != "yes")  # E: call-overload, no-any-return


def combined() -> UserQuery:
    return User.query().where((User.c.id > 1) & (User.c.name == 3))  # E: operator


def column_against_column() -> UserQuery:
    return User.query().where(User.c.id == Post.c.title)  # E: operator
