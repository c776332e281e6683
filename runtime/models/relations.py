"""Eager loading: one query per relation level (keys in batches), never one per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..query.expressions import fn
from . import registry
from .meta import RelationMeta

if TYPE_CHECKING:
    from ..query.builder import TableQueryBuilder
    from .base import Model

BATCH = 1000  # keys per IN list; stays under every engine's parameter limit


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
        if relation.kind == "belongs_to_many":
            table = _pivot(model, relation)
            key_of = relation.local_key
        elif relation.kind in ("has_many", "has_one"):
            table = _scoped(target)
            key_of = relation.local_key
        else:
            raise ConfigurationError(
                f"with_count({name!r}): {relation.kind} relations have no count"
            )
        keys = _keys(parents, key_of)
        counts: dict[Any, int] = {}
        for chunk in _batches(keys):
            rows = await (
                table.select(relation.foreign_key, fn.count().as_("n"))
                .where_in(relation.foreign_key, _stored(model, key_of, chunk))
                .group_by(relation.foreign_key)
                .all()
            )
            counts.update((row[relation.foreign_key], int(row["n"])) for row in rows)
        for parent in parents:
            parent._private().setdefault("_loaded", {})[f"{name}_count"] = counts.get(
                getattr(parent, key_of), 0
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
        keys = _keys(parents, relation.foreign_key)
        found = await _fetch(target, relation.other_key, keys)
        by_key = {getattr(child, relation.other_key): child for child in found}
        for parent in parents:
            _store(parent, name, by_key.get(getattr(parent, relation.foreign_key)))
        return found
    if kind == "belongs_to_many":
        keys = _keys(parents, relation.local_key)
        links: list[dict[str, Any]] = []
        pivot = _pivot(model, relation)
        for chunk in _batches(keys):
            links += (
                await pivot.select(relation.foreign_key, relation.other_key)
                .where_in(relation.foreign_key, _stored(model, relation.local_key, chunk))
                .all()
            )
        target_key = target.__jadugar__.primary_key
        found = await _fetch(target, target_key, _unique(row[relation.other_key] for row in links))
        by_key = {getattr(child, target_key): child for child in found}
        grouped: dict[Any, list[Model]] = defaultdict(list)
        for row in links:
            child = by_key.get(row[relation.other_key])
            if child is not None:
                grouped[row[relation.foreign_key]].append(child)
        for parent in parents:
            _store(parent, name, grouped.get(getattr(parent, relation.local_key), []))
        return found
    keys = _keys(parents, relation.local_key)
    found = await _fetch(target, relation.foreign_key, keys)
    grouped = defaultdict(list)
    for child in found:
        grouped[getattr(child, relation.foreign_key)].append(child)
    for parent in parents:
        children = grouped.get(getattr(parent, relation.local_key), [])
        _store(
            parent, name, children if kind == "has_many" else (children[0] if children else None)
        )
    return found


async def _fetch(target: type[Model], column: str, keys: list[Any]) -> list[Model]:
    found: list[Model] = []
    for chunk in _batches(keys):
        found += target._from_rows(
            await _scoped(target).where_in(column, _stored(target, column, chunk)).all()
        )
    return found


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


def _keys(parents: Sequence[Model], column: str) -> list[Any]:
    return _unique(getattr(p, column) for p in parents)


def _unique(values: Iterable[Any]) -> list[Any]:
    return [v for v in dict.fromkeys(values) if v is not None]


def _batches(keys: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(keys), BATCH):
        yield keys[start : start + BATCH]


def _store(parent: Model, name: str, value: object) -> None:
    parent._private().setdefault("_loaded", {})[name] = value
