"""The argument forms of a model query's ``where``, checked against the model's columns:

    User.query().where(User.c.login_count >= 10)      # typed column conditions
    User.query().where({"active": True})              # a mapping of equalities
    User.query().where("email", "ada@example.com")    # (column, value): an equality
    User.query().where("login_count", ">", 10)        # (column, op, value): the seed's form

The generated query classes type each form per column (``UserQuery.where``); this module
is what runs, for callers mypy does not check too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import QueryError
from ..query.conditions import condition_from
from ..query.expressions import Condition

if TYPE_CHECKING:
    from .base import Model

Equalities = dict[str, Any]
"""``where({...})`` and ``where(column, value)``: equalities, filtered as ``find_by``."""


def where_form(model: type[Model], args: tuple[object, ...]) -> Equalities | tuple[Condition, ...]:
    """``args`` of ``where(...)`` as equalities or as conditions on ``model``'s columns."""
    if len(args) == 1 and isinstance(args[0], Mapping):
        values = args[0]
        if not values:
            raise ValueError("where() got an empty mapping; leave where() out to keep every row")
        return {column_name(model, key): value for key, value in values.items()}
    if args and isinstance(args[0], str):
        if len(args) == 2:
            return {column_name(model, args[0]): args[1]}
        if len(args) == 3:
            column, op, value = args
            node = condition_from((model._column(column_name(model, column)), op, value))
            return (Condition(node),)
        raise TypeError(
            f"where({args[0]!r}, ...) takes (column, value) or (column, op, value), "
            f"got {len(args)} arguments"
        )
    for arg in args:
        if not isinstance(arg, Condition):
            raise TypeError(
                f"{model.__name__}.query().where() takes conditions "
                f"({model.__name__}.c.<column> > value), a mapping, (column, value) or "
                f"(column, op, value); got {type(arg).__name__}"
            )
    return tuple(arg for arg in args if isinstance(arg, Condition))


def column_name(model: type[Model], name: object) -> str:
    """``name`` (bare, or qualified by the model's table) as the model's column name."""
    if not isinstance(name, str):
        raise TypeError(f"where() column names must be str, got {type(name).__name__}")
    meta = model.__jadugar__
    bare = name.removeprefix(f"{meta.table}.")
    if meta.column(bare) is None:
        known = ", ".join(c.name for c in meta.columns)
        raise QueryError(
            f"where({name!r}, ...): {meta.name} has no column {bare!r} (its columns: {known})"
        )
    return bare
