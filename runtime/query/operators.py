"""The operators of ``where(column, op, value)`` (SPEC 4), as ``Literal`` types.

Generated query classes type each column's value by the operator group it is used with:

    User.query().where("login_count", ">=", 10)          # ComparisonOp, an int
    User.query().where("name", "ilike", "a%")             # PatternOp, a str
    User.query().where("id", "in", [1, 2, 3])             # MembershipOp, an iterable
    User.query().where("login_count", "between", (1, 9))  # RangeOp, a (low, high) pair
    User.query().where("deleted_at", "=", None)           # EqualityOp, None: IS NULL
"""

from __future__ import annotations

from typing import Literal, get_args

EqualityOp = Literal["=", "!=", "<>"]
"""Equal or not; with ``None`` as the value: ``IS NULL`` / ``IS NOT NULL``."""

ComparisonOp = Literal["=", "!=", "<>", "<", "<=", ">", ">="]
"""Equality and ordering, for a value of the column's type."""

PatternOp = Literal["like", "not_like", "ilike", "not_ilike"]
"""SQL ``LIKE`` patterns (``%`` and ``_``) on text columns; ``ilike`` ignores case."""

MembershipOp = Literal["in", "not_in"]
"""The column's value is (not) one of an iterable of values."""

RangeOp = Literal["between", "not_between"]
"""The column's value is (not) between ``(low, high)``, both included."""

WhereOp = Literal[
    "=", "!=", "<>", "<", "<=", ">", ">=", "like", "not_like", "ilike", "not_ilike",
    "in", "not_in", "between", "not_between",
]  # fmt: skip
"""Every operator ``where(column, op, value)`` takes."""

OPERATORS: frozenset[str] = frozenset(get_args(WhereOp))

__all__ = [
    "OPERATORS",
    "ComparisonOp",
    "EqualityOp",
    "MembershipOp",
    "PatternOp",
    "RangeOp",
    "WhereOp",
]
