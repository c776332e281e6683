"""Model scopes: default filters a model class applies to every read, update and delete.

    tenant: ContextVar[int] = ContextVar("tenant")
    Post.add_scope("tenant", lambda: {"tenant_id": tenant.get()})
    await Post.query().without_scope("tenant").count()   # opt out by name

A scope is a function of no arguments, called each time a query runs, returning
- a mapping of column to value (equalities: the fast path, and the values ``create`` fills),
- a ``Condition`` (``Post.c.status != "archived"``), or
- ``None``: no filter this time.

Scopes belong to the class they are added to and to its subclasses, never to siblings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..query.expressions import Condition
from .encode import encode_node

if TYPE_CHECKING:
    from ..query.builder import TableQueryBuilder
    from .base import Model

ScopeFilter = Mapping[str, object] | Condition | None
Scope = Callable[[], ScopeFilter]

_declared: dict[type[Model], dict[str, Scope]] = {}
_resolved: dict[type[Model], tuple[tuple[str, Scope], ...]] = {}  # per class, MRO merged
NONE_SKIPPED: frozenset[str] = frozenset()


def add(model: type[Model], name: str, scope: Scope) -> None:
    if not isinstance(name, str) or not name:
        raise TypeError(f"add_scope() needs a name (str), got {name!r}")
    if not callable(scope):
        raise TypeError(
            f"add_scope({name!r}, ...) needs a function of no arguments returning a mapping, "
            f"a Condition or None; got {type(scope).__name__}"
        )
    _declared.setdefault(model, {})[name] = scope
    _resolved.clear()


def remove(model: type[Model], name: str | None) -> None:
    declared = _declared.get(model, {})
    if name is None:
        _declared.pop(model, None)
    elif declared.pop(name, None) is None:
        raise ConfigurationError(f"{model.__name__} has no scope {name!r} of its own to remove")
    _resolved.clear()


def of(model: type[Model]) -> tuple[tuple[str, Scope], ...]:
    """The scopes ``model`` applies: its bases' first, a subclass's replacing a same name."""
    found = _resolved.get(model)
    if found is None:
        merged: dict[str, Scope] = {}
        for klass in reversed(model.__mro__):
            merged.update(_declared.get(klass, {}))
        found = _resolved[model] = tuple(merged.items())
    return found


def check_names(model: type[Model], names: tuple[str, ...]) -> frozenset[str]:
    known = {name for name, _ in of(model)}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise ConfigurationError(
            f"without_scope({unknown[0]!r}): {model.__name__} has no such scope (its scopes: "
            f"{listed})"
        )
    return frozenset(names)


def apply(
    model: type[Model], builder: TableQueryBuilder, skip: frozenset[str] = NONE_SKIPPED
) -> TableQueryBuilder:
    """``builder`` filtered by every scope of ``model`` not named in ``skip``."""
    if not _declared:
        return builder
    for name, scope in of(model):
        if name in skip:
            continue
        value = scope()
        if value is None:
            continue
        if isinstance(value, Condition):
            if model._document_store():
                value = Condition(encode_node(value.node))
            builder = builder.where(value)
        elif isinstance(value, Mapping):
            if value:
                builder = builder.where(model._stored(value))
        else:
            raise ConfigurationError(
                f"scope {name!r} of {model.__name__} returned {type(value).__name__}: a scope "
                "returns a mapping of column to value, a Condition, or None"
            )
    return builder


def fill(model: type[Model], values: Mapping[str, Any]) -> Mapping[str, Any]:
    """``values`` of a new row with the columns the mapping scopes name and the row leaves
    out (absent or ``None``) filled from the scopes."""
    if not _declared:
        return values
    filled: dict[str, Any] | None = None
    for _, scope in of(model):
        given = scope()
        if not isinstance(given, Mapping):
            continue
        for column, value in given.items():
            if (filled or values).get(column) is None:
                if filled is None:
                    filled = dict(values)
                filled[column] = value
    return values if filled is None else filled


__all__ = ["Scope", "ScopeFilter", "add", "apply", "check_names", "fill", "of", "remove"]
