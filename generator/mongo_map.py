"""Schema IR -> what the MongoDB migrations create: one collection per model (both
engines: the same generated models run on MongoDB) and per pivot of a belongs_to_many,
each with its ``$jsonSchema`` validator and its indexes.

Index names are the SQL migrations' (``users_email_unique``), so both histories name
the same index the same way. The model key is stored as ``_id`` and left out of the
validator (its type depends on who assigns it: a counter, the application or the server).
How values are stored (``runtime/models/encode.py``) decides each field's BSON type:
``date``, ``time``, ``uuid`` and ``decimal`` are text, ``datetime`` a BSON date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import ddl_map
from .ddl_map import constraint_name
from .schema.model import FieldSpec, ModelSpec, Schema
from .typemap import OBJECTID_PATTERN

# field type -> the BSON types a stored value may have ($jsonSchema ``bsonType``)
BSON_TYPES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("int", "bigint", "smallint"), ("int", "long")),
    "float": ("double", "int", "long"),
    "decimal": ("string", "decimal"),  # text (exact); a Decimal128 written by others reads too
    **dict.fromkeys(("str", "text", "date", "time", "uuid", "enum"), ("string",)),
    "bool": ("bool",),
    "datetime": ("date",),
    "bytes": ("binData",),
    "objectid": ("string",),  # the key (_id) is an ObjectId; other fields keep the text
    "json": (),  # any value
}
# field type -> the ``$type`` that matches a stored non-null value (partial unique indexes)
_PRESENT: dict[str, str] = {
    **dict.fromkeys(("int", "bigint", "smallint", "float"), "number"),
    "bool": "bool",
    "datetime": "date",
    "bytes": "binData",
    "json": "object",
}


@dataclass(frozen=True)
class IndexDef:
    keys: tuple[str, ...]
    unique: bool = False
    expire_after_seconds: int | None = None
    partial_filter: dict[str, Any] | None = None


@dataclass(frozen=True)
class CollectionDef:
    name: str
    validator: dict[str, Any]  # a $jsonSchema document; {} for none
    indexes: dict[str, IndexDef]  # by name


def field_schema(field: FieldSpec) -> dict[str, Any]:
    """The ``$jsonSchema`` of one field's stored value."""
    if field.type == "embedded":
        document = _document(field.fields)
        if field.many:
            document = {"bsonType": "array", "items": document}
        if field.nullable:
            document["bsonType"] = [document["bsonType"], "null"]
        return document
    types = list(BSON_TYPES[field.type])
    found: dict[str, Any] = {}
    if types:
        if field.nullable:
            types.append("null")
        found["bsonType"] = types[0] if len(types) == 1 else types
    if field.type == "str" and field.max_length:
        found["maxLength"] = field.max_length
    if field.type == "enum":
        found["enum"] = [*field.values, *([None] if field.nullable else [])]
    if field.type == "objectid":
        found["pattern"] = OBJECTID_PATTERN
    return found


def _document(fields: tuple[FieldSpec, ...]) -> dict[str, Any]:
    """An object with these fields: the ones without null or a default are required (a
    list of embedded documents defaults to [])."""
    required = [
        f.name
        for f in fields
        if not f.nullable
        and not (f.has_default and f.default is not None)
        and not (f.type == "embedded" and f.many)
    ]
    schema: dict[str, Any] = {"bsonType": "object"}
    if required:
        schema["required"] = required
    schema["properties"] = {f.name: field_schema(f) for f in fields}
    return schema


def validator(model: ModelSpec) -> dict[str, Any]:
    return _document(tuple(f for f in model.fields if not f.primary_key))


def _present(fields: list[FieldSpec]) -> dict[str, Any] | None:
    """The partial filter of a unique index with nullable fields: like SQL's UNIQUE, it
    lets many documents hold null (MongoDB would count null as a value)."""
    nullable = [f for f in fields if f.nullable]
    if not nullable:
        return None
    return {f.name: {"$type": _PRESENT.get(f.type, "string")} for f in nullable}


def indexes(model: ModelSpec) -> dict[str, IndexDef]:
    t = model.table
    found: dict[str, IndexDef] = {}
    for f in model.fields:
        if f.unique and not f.primary_key:
            found[constraint_name(t, (f.name,), "unique")] = IndexDef(
                (f.name,), True, partial_filter=_present([f])
            )
        if f.index:
            found[constraint_name(t, (f.name,), "index")] = IndexDef((f.name,))
    for index in model.indexes:
        name = index.name or constraint_name(
            t, index.columns, "unique" if index.unique else "index"
        )
        columns = [model.field(c) for c in index.columns]
        partial = _present([c for c in columns if c is not None]) if index.unique else None
        found[name] = IndexDef(index.columns, index.unique, index.expire_after_seconds, partial)
    return dict(sorted(found.items()))


def collection(model: ModelSpec) -> CollectionDef:
    return CollectionDef(model.table, validator(model), indexes(model))


def collections(schema: Schema) -> dict[str, CollectionDef]:
    """Every collection of the schema by name: the models' and the pivots'."""
    found = {m.table: collection(m) for m in schema.models}
    for pivot in ddl_map.pivot_tables(schema):
        keys = pivot.primary_key
        name = constraint_name(pivot.name, keys, "unique")
        found[pivot.name] = CollectionDef(pivot.name, {}, {name: IndexDef(keys, True)})
    return dict(sorted(found.items()))
