"""Auto-diff for MongoDB: the collections the existing document-store migrations produce
(their snapshot) vs the schema files -> the MongoSchemaBuilder operations of the next
migration, ``up`` and ``down``, with destructive steps marked. Pure: no database, no files.

Collections are renamed (a model's ``renamed_from`` or a new ``table``), created and
dropped; fields renamed with ``renamed_from`` are renamed in every document (``$rename``);
an index whose keys or options changed is dropped and created again; a validator that
changed is replaced (``collMod``).
"""

from __future__ import annotations

import dataclasses
from typing import TypeAlias

from jadugar.dialects.mongodb import schema as ops

from . import migration_plan
from .mongo_map import CollectionDef, IndexDef, collections
from .renames import field_moves, previous_model
from .schema.model import Schema

MongoPlan: TypeAlias = migration_plan.Plan[ops.SchemaOperation]


def _wrapped(validator: dict[str, object]) -> dict[str, object]:
    return {"$jsonSchema": validator} if validator else {}


def create_index(collection: str, name: str, index: IndexDef) -> ops.CreateIndex:
    keys = tuple((key, 1) for key in index.keys)
    return ops.CreateIndex(
        collection, keys, name, index.unique, index.expire_after_seconds, index.partial_filter
    )


def _create(collection: CollectionDef) -> list[ops.SchemaOperation]:
    steps: list[ops.SchemaOperation] = [
        ops.CreateCollection(collection.name, _wrapped(collection.validator))
    ]
    steps += [create_index(collection.name, n, i) for n, i in collection.indexes.items()]
    return steps


def diff(old: Schema | None, new: Schema) -> MongoPlan:
    """What turns the database of ``old`` (None: an empty database) into ``new``."""
    after = collections(new)
    plan = MongoPlan()
    renamed_fields = MongoPlan()
    before = _renames(old, new, collections(old) if old else {}, plan, renamed_fields)
    for name, current in before.items():
        target = after.get(name)
        if target is None:
            continue
        for key, index in current.indexes.items():
            if target.indexes.get(key) != index:
                plan.add(f"drop index {name}.{key}", [ops.DropIndex(name, key)],
                         [create_index(name, key, index)])  # fmt: skip
    # after the index drops: a unique index on the old path would see every renamed
    # document as holding null there, and fail the $rename with duplicates
    plan.changes += renamed_fields.changes
    for name, current in before.items():
        if name not in after:
            plan.add(f"drop collection {name}", [ops.DropCollection(name)], _create(current),
                     "drops the collection and every document in it")  # fmt: skip
    for name, target in after.items():
        if name not in before:
            plan.add(f"create collection {name}", _create(target), [ops.DropCollection(name)])
            continue
        current = before[name]
        if current.validator != target.validator:
            plan.add(f"change validator of {name}",
                     [ops.SetValidator(name, _wrapped(target.validator))],
                     [ops.SetValidator(name, _wrapped(current.validator))],
                     "documents written before that do not match it fail their next update")  # fmt: skip
        for key, index in target.indexes.items():
            if current.indexes.get(key) != index:
                risk = "fails if existing documents hold duplicates" if index.unique else None
                plan.add(f"add index {name}.{key}", [create_index(name, key, index)],
                         [ops.DropIndex(name, key)], risk)  # fmt: skip
    return plan


def _renames(
    old: Schema | None,
    new: Schema,
    before: dict[str, CollectionDef],
    plan: MongoPlan,
    fields: MongoPlan,
) -> dict[str, CollectionDef]:
    """Add collection renames (a model's ``renamed_from`` or new ``table``) to ``plan`` and
    field renames (``renamed_from``) to ``fields``; return ``before`` as it is after the
    collection renames. Indexes keep their names and paths: the database still has those,
    so where they differ from the schema's the diff drops and creates them again."""
    if old is None:
        return before
    result = dict(before)
    for model in new.models:
        previous = previous_model(old, new, model)
        if previous is None or previous.table not in result:
            continue
        current = result.pop(previous.table)
        if previous.table != model.table:
            plan.add(f"rename collection {previous.table} to {model.table}",
                     [ops.RenameCollection(previous.table, model.table)],
                     [ops.RenameCollection(model.table, previous.table)])  # fmt: skip
        for was, now in field_moves(previous, model).items():
            fields.add(f"rename field {model.table}.{was} to {now}",
                     [ops.RenameField(model.table, was, now)],
                     [ops.RenameField(model.table, now, was)])  # fmt: skip
        result[model.table] = dataclasses.replace(current, name=model.table)
    return dict(sorted(result.items()))
