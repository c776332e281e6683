"""Drift on MongoDB: where the live database differs from the collections and indexes the
document-store migrations produce (their snapshot); reported as sentences. Validators are
not compared (mongomock keeps none)."""

from __future__ import annotations

from jadugar.manager import DatabaseManager

from .mongo_map import collections
from .schema.model import Schema


async def drift(db: DatabaseManager, expected: Schema) -> list[str]:
    schema = db.document_schema
    live = set(await schema.collections())
    problems: list[str] = []
    for name, collection in collections(expected).items():
        if name not in live:
            problems.append(f"collection {name} is missing from the database")
            continue
        indexes = {i.name: i for i in await schema.indexes(name)}
        for key, index in collection.indexes.items():
            found = indexes.get(key)
            if found is None:
                problems.append(f"index {name}.{key} is missing from the database")
            elif tuple(f for f, _ in found.keys) != index.keys or found.unique != index.unique:
                problems.append(f"index {name}.{key} differs from the schema's")
    return problems
