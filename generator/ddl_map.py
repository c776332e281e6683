"""Schema IR -> the runtime's DDL definitions (``ColumnDefinition`` and friends).

Constraint and index names are always explicit and computed here, with the strictest
identifier limit of the SQL engines (63 bytes), so a migration creates the same names on
every engine and a later migration can drop them by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jadugar.migrations.operations import (
    ColumnDefinition,
    ForeignKeyReference,
    IndexDefinition,
    IndexOptions,
    UniqueConstraint,
)
from jadugar.schema_compiler import shorten

from .schema.model import FieldSpec, ModelSpec, Schema
from .schema.normalize import index_column

NAME_LIMIT = 63  # PostgreSQL's; MySQL allows 64

_TYPES = {
    "int": "integer",
    "bigint": "big_integer",
    "smallint": "small_integer",
    "float": "double",
    "decimal": "decimal",
    "str": "string",
    "text": "text",
    "bool": "boolean",
    "date": "date",
    "time": "time",
    "datetime": "timestamp",
    "uuid": "uuid",
    "json": "json",
    "bytes": "binary",
    "enum": "enum",
}
_AUTO = {"int": "increments", "bigint": "big_increments", "smallint": "increments"}
# how wide each type is, to tell a narrowing change (destructive) from a widening one
_WIDTH = {"small_integer": 1, "integer": 2, "big_integer": 3, "increments": 2, "big_increments": 3}


def constraint_name(table: str, columns: tuple[str, ...], suffix: str) -> str:
    return shorten("_".join((table, *columns, suffix)), NAME_LIMIT)


@dataclass(frozen=True)
class TableDef:
    """Everything the migrations create for one table, keyed for comparison."""

    name: str
    columns: dict[str, ColumnDefinition]  # in schema order
    uniques: dict[str, UniqueConstraint]  # by name
    indexes: dict[str, IndexDefinition]  # by name
    foreign_keys: dict[str, ForeignKeyReference]  # by name
    primary_key: tuple[str, ...] = ()  # table-level (pivots)


def column(field: FieldSpec, references: str | None = None) -> ColumnDefinition:
    """The column of ``field``; unique, index and references become named constraints of
    the table instead (see ``table``), so they can be added and dropped on their own.
    An encrypted field is a TEXT column of envelopes, without a default (it would be plain)."""
    if field.encrypted:
        return ColumnDefinition(field.name, "text", nullable=field.nullable)
    kind = _AUTO[field.type] if field.auto_increment else _TYPES[field.type]
    options: dict[str, Any] = {"nullable": field.nullable}
    if field.type == "str":
        options["length"] = field.max_length or 255
    if field.type == "decimal":
        options["precision"], options["scale"] = field.precision, field.scale
    if field.type == "enum":
        options["values"] = field.values
    if field.primary_key and not field.auto_increment:
        options["primary"] = True
    if field.has_default and field.default is not None:
        # a snapshot read back from JSON holds decimals as text: compare them as Decimal
        default = field.default
        options["default"] = Decimal(str(default)) if field.type == "decimal" else default
    return ColumnDefinition(field.name, kind, **options)  # type: ignore[arg-type]


def blind_index_column(field: FieldSpec) -> ColumnDefinition:
    """The HMAC-SHA256 (hex) of a searchable encrypted field, compared by equality lookups."""
    return ColumnDefinition(index_column(field.name), "string", length=64, nullable=field.nullable)


def table(schema: Schema, model: ModelSpec) -> TableDef:
    t = model.table
    uniques = {
        constraint_name(t, (f.name,), "unique"): UniqueConstraint(
            (f.name,), constraint_name(t, (f.name,), "unique")
        )
        for f in model.fields
        if f.unique and not f.primary_key and not f.encrypted
    }
    indexes: dict[str, IndexDefinition] = {}
    columns: dict[str, ColumnDefinition] = {}
    for f in model.fields:
        columns[f.name] = column(f)
        if f.index:
            name = constraint_name(t, (f.name,), "index")
            indexes[name] = IndexDefinition((f.name,), IndexOptions(name=name))
        if f.searchable:
            bidx = index_column(f.name)
            columns[bidx] = blind_index_column(f)
            if f.unique:
                name = constraint_name(t, (bidx,), "unique")
                uniques[name] = UniqueConstraint((bidx,), name)
            else:
                name = constraint_name(t, (bidx,), "index")
                indexes[name] = IndexDefinition((bidx,), IndexOptions(name=name))
    for index in model.indexes:
        suffix = "unique" if index.unique else "index"
        name = index.name or constraint_name(t, index.columns, suffix)
        if index.unique:
            uniques[name] = UniqueConstraint(index.columns, name)
        else:
            indexes[name] = IndexDefinition(index.columns, IndexOptions(name=name))
    foreign_keys: dict[str, ForeignKeyReference] = {}
    for f in model.fields:
        ref = f.references
        target = schema.model(ref.model) if ref else None
        if ref is None or target is None:
            continue
        name = constraint_name(t, (f.name,), "fkey")
        foreign_keys[name] = ForeignKeyReference(
            [f.name],
            target.table,
            [ref.field],
            _action(ref.on_delete),
            _action(ref.on_update),
            name,
        )
    return TableDef(t, columns, uniques, indexes, foreign_keys)


def pivot_tables(schema: Schema) -> list[TableDef]:
    """Pivot tables of belongs_to_many relations that no model declares as its table."""
    model_tables = {m.table for m in schema.models}
    found: dict[str, TableDef] = {}
    for model in schema.models:
        for relation in model.relations:
            through = relation.through
            other = schema.model(relation.model)
            if relation.kind != "belongs_to_many" or not through or other is None:
                continue
            if through in model_tables or through in found:
                continue
            assert relation.foreign_key and relation.other_key
            ours, theirs = model.primary_key, other.primary_key
            keys = (relation.foreign_key, relation.other_key)
            columns = {
                relation.foreign_key: _key_column(relation.foreign_key, ours),
                relation.other_key: _key_column(relation.other_key, theirs),
            }
            fks = {}
            for key, target, pk in ((keys[0], model, ours), (keys[1], other, theirs)):
                name = constraint_name(through, (key,), "fkey")
                fks[name] = ForeignKeyReference(
                    [key], target.table, [pk.name], "cascade", None, name
                )
            found[through] = TableDef(
                through, dict(sorted(columns.items())), {}, {}, fks, tuple(sorted(keys))
            )
    return [found[name] for name in sorted(found)]


def tables(schema: Schema) -> dict[str, TableDef]:
    """Every SQL table of the schema by name: the models' (MongoDB models left out) and
    the pivots."""
    result = {m.table: table(schema, m) for m in schema.models if m.engine == "sql"}
    result.update({p.name: p for p in pivot_tables(schema)})
    return result


def width(definition: ColumnDefinition) -> int:
    return _WIDTH.get(definition.type, 0)


def _key_column(name: str, key: FieldSpec) -> ColumnDefinition:
    kind = {"int": "integer", "bigint": "big_integer", "smallint": "small_integer"}.get(key.type)
    if kind is None:
        kind = _TYPES[key.type]
    options: dict[str, Any] = {"nullable": False}
    if key.type == "str":
        options["length"] = key.max_length or 255
    return ColumnDefinition(name, kind, **options)  # type: ignore[arg-type]


def _action(value: str) -> str | None:
    return None if value == "no_action" else value
