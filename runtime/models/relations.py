"""Eager loading: one query per relation level (keys in batches), never one per row.

A relation's keys are one field or, for a composite key, a tuple of fields matched pairwise
(``foreign_key: [order_id, line_no]``); rows are matched by the tuple of their values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..query import tree
from ..query.expressions import Condition, fn
from . import registry
from .meta import RelationMeta

if TYPE_CHECKING:
    from ..query.builder import TableQueryBuilder
    from .base import Model

BATCH = 1000  # keys per IN list; stays under every engine's parameter limit


def _names(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


def _value(obj: Any, names: tuple[str, ...]) -> Any:
    """The key of ``obj`` on these fields: one value, or a tuple of values."""
    if len(names) == 1:
        return getattr(obj, names[0])
    return tuple(getattr(obj, name) for name in names)


async def load_relations(
    model: type[Model], parents: Sequence[Model], paths: Iterable[str]
) -> None:
    """Fill ``paths`` (``"posts"``, ``"posts.comments"``) on ``parents``."""
    nested: dict[str, list[str]] = {}
    for path in paths:
        head, _, rest = path.partition(".")
        nested.setdefault(head, [])
        if rest:
            nested[head].append(rest)
    for name, tails in nested.items():
        relation = _relation(model, name)
        target = registry.related(model, relation.model)
        children = await _load_one(model, target, relation, name, parents)
        if tails and children:
            await load_relations(target, children, tails)


async def load_counts(model: type[Model], parents: Sequence[Model], names: Iterable[str]) -> None:
    """Fill ``<name>_count`` with one grouped query per relation."""
    for name in names:
        relation = _relation(model, name)
        target = registry.related(model, relation.model)
        local = _names(relation.local_key)
        if relation.kind == "belongs_to_many":
            table = _pivot(model, relation)
            columns = _names(relation.foreign_key)  # the pivot's columns
        elif relation.kind in ("has_many", "has_one"):
            table = _scoped(target)
            columns = tuple(target._column(n) for n in _names(relation.foreign_key))
        else:
            raise ConfigurationError(
                f"with_count({name!r}): {relation.kind} relations have no count"
            )
        keys = _keys(parents, local)
        counts: dict[Any, int] = {}
        for chunk in _batches(keys, len(columns)):
            query = table.select(*columns, fn.count().as_("n"))
            rows = await _matching(query, model, local, columns, chunk).group_by(*columns).all()
            counts.update((_row_key(row, columns), int(row["n"])) for row in rows)
        for parent in parents:
            parent._private().setdefault("_loaded", {})[f"{name}_count"] = counts.get(
                _value(parent, local), 0
            )


async def _load_one(
    model: type[Model],
    target: type[Model],
    relation: RelationMeta,
    name: str,
    parents: Sequence[Model],
) -> list[Model]:
    kind = relation.kind
    if kind == "belongs_to":
        ours, theirs = _names(relation.foreign_key), _names(relation.other_key)
        found = await _fetch(target, theirs, _keys(parents, ours))
        by_key = {_value(child, theirs): child for child in found}
        for parent in parents:
            _store(parent, name, by_key.get(_value(parent, ours)))
        return found
    if kind == "belongs_to_many":
        local = _names(relation.local_key)
        near, far = _names(relation.foreign_key), _names(relation.other_key)  # pivot columns
        links: list[dict[str, Any]] = []
        pivot = _pivot(model, relation)
        for chunk in _batches(_keys(parents, local), len(near)):
            query = pivot.select(*near, *far)
            links += await _matching(query, model, local, near, chunk).all()
        target_keys = target.__jadugar__.keys
        found = await _fetch(target, target_keys, _unique(_row_key(row, far) for row in links))
        by_key = {_value(child, target_keys): child for child in found}
        grouped: dict[Any, list[Model]] = defaultdict(list)
        for row in links:
            child = by_key.get(_row_key(row, far))
            if child is not None:
                grouped[_row_key(row, near)].append(child)
        for parent in parents:
            _store(parent, name, grouped.get(_value(parent, local), []))
        return found
    local, theirs = _names(relation.local_key), _names(relation.foreign_key)
    found = await _fetch(target, theirs, _keys(parents, local))
    grouped = defaultdict(list)
    for child in found:
        grouped[_value(child, theirs)].append(child)
    for parent in parents:
        children = grouped.get(_value(parent, local), [])
        _store(
            parent, name, children if kind == "has_many" else (children[0] if children else None)
        )
    return found


async def _fetch(target: type[Model], names: tuple[str, ...], keys: list[Any]) -> list[Model]:
    """The rows of ``target`` whose fields ``names`` hold one of ``keys``."""
    found: list[Model] = []
    columns = tuple(target._column(n) for n in names)
    for chunk in _batches(keys, len(names)):
        query = _matching(_scoped(target), target, names, columns, chunk)
        found += target._from_rows(await query.all())
    return found


def _matching(
    query: TableQueryBuilder,
    model: type[Model],
    names: tuple[str, ...],
    columns: tuple[str, ...],
    keys: list[Any],
) -> TableQueryBuilder:
    """``query`` kept to the rows whose ``columns`` hold one of ``keys`` (the values of
    ``model``'s fields ``names``): ``IN (...)`` for one column, else an OR of ANDs."""
    if len(columns) == 1:
        return query.where_in(columns[0], _stored(model, names[0], keys))
    refs = [tree.ColumnRef(c) for c in columns]
    node = tree.Or(
        tuple(
            tree.And(
                tuple(
                    tree.Compare(ref, "=", tree.Value(value))
                    for ref, value in zip(refs, key, strict=True)
                )
            )
            for key in keys
        )
    )
    return query.where(Condition(node))


def _row_key(row: dict[str, Any], columns: tuple[str, ...]) -> Any:
    if len(columns) == 1:
        return row[columns[0]]
    return tuple(row[c] for c in columns)


def _stored(model: type[Model], column: str, keys: list[Any]) -> list[Any]:
    """Keys as ``model.column`` stores them (encoded on a document store only)."""
    encode = model._encoders.get(column)
    if encode is None or not model._document_store():
        return keys
    return [encode(key) for key in keys]


def _scoped(target: type[Model]) -> TableQueryBuilder:
    query = target._table()
    return query.where_null("deleted_at") if target.__jadugar__.soft_deletes else query


def _pivot(model: type[Model], relation: RelationMeta) -> TableQueryBuilder:
    assert relation.through is not None
    return registry.manager_for(model).query.table(relation.through)


def _relation(model: type[Model], name: str) -> RelationMeta:
    relation = model.__jadugar__.relations.get(name)
    if relation is None:
        known = ", ".join(sorted(model.__jadugar__.relations)) or "none"
        raise ConfigurationError(f"{model.__name__} has no relation {name!r} (known: {known})")
    return relation


def _keys(parents: Sequence[Model], names: tuple[str, ...]) -> list[Any]:
    """The distinct keys of ``parents`` on these fields; a key with a None part matches
    nothing and is left out."""
    if len(names) == 1:
        return _unique(getattr(p, names[0]) for p in parents)
    return [k for k in dict.fromkeys(_value(p, names) for p in parents) if None not in k]


def _unique(values: Iterable[Any]) -> list[Any]:
    return [v for v in dict.fromkeys(values) if v is not None]


def _batches(keys: list[Any], width: int = 1) -> Iterable[list[Any]]:
    size = max(1, BATCH // width)
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _store(parent: Model, name: str, value: object) -> None:
    parent._private().setdefault("_loaded", {})[name] = value
