"""Schema IR -> the runtime's DDL definitions (``ColumnDefinition`` and friends).

Constraint and index names are always explicit and computed here, with the strictest
identifier limit of the SQL engines (63 bytes), so a migration creates the same names on
every engine and a later migration can drop them by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any

from jadugar.migrations.operations import (
    CheckConstraint,
    ColumnDefinition,
    ForeignKeyReference,
    IndexDefinition,
    IndexOptions,
    UniqueConstraint,
    uuid_default,
)
from jadugar.query.expressions import SqlExpr, fn
from jadugar.schema_compiler import shorten

from .schema.model import FieldSpec, ModelSpec, Schema, ServerDefault
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
    primary_key: tuple[str, ...] = ()  # table-level (pivots, composite keys)
    checks: dict[str, CheckConstraint] = dataclass_field(default_factory=dict)  # by name

    @property
    def key(self) -> tuple[str, ...]:
        """The primary key's columns: table-level, else the column marked primary."""
        if self.primary_key:
            return self.primary_key
        return tuple(c.name for c in self.columns.values() if c.primary)


def server_default(value: ServerDefault) -> SqlExpr:
    """``now``, ``uuid`` or ``{sql: ...}`` as the expression default of a column."""
    if value.kind == "now":
        return fn.now()
    if value.kind == "uuid":
        return uuid_default()
    assert value.sql is not None
    return fn.raw(value.sql)


def column(
    field: FieldSpec, references: str | None = None, *, in_key: bool = True
) -> ColumnDefinition:
    """The column of ``field`` (named by its ``db_name``); unique, index and references
    become named constraints of the table instead (see ``table``), so they can be added and
    dropped on their own. An encrypted field is a TEXT column of envelopes, without a
    default (it would be plain). ``in_key=False``: a column of a composite key, which the
    table declares (``TableDef.primary_key``)."""
    if field.encrypted:
        return ColumnDefinition(field.column, "text", nullable=field.nullable)
    kind = _AUTO[field.type] if field.auto_increment else _TYPES[field.type]
    options: dict[str, Any] = {"nullable": field.nullable}
    if field.type == "str":
        options["length"] = field.max_length or 255
    if field.type == "decimal":
        options["precision"], options["scale"] = field.precision, field.scale
    if field.type == "enum":
        options["values"] = field.values
    if field.primary_key and not field.auto_increment:
        if in_key:
            options["primary"] = True
        else:
            options["nullable"] = False
    if field.has_default and field.default is not None:
        # a snapshot read back from JSON holds decimals as text: compare them as Decimal
        default = field.default
        options["default"] = Decimal(str(default)) if field.type == "decimal" else default
    if field.server_default is not None:
        options["default"] = server_default(field.server_default)
    return ColumnDefinition(field.column, kind, **options)  # type: ignore[arg-type]


def blind_index_column(field: FieldSpec) -> ColumnDefinition:
    """The HMAC-SHA256 (hex) of a searchable encrypted field, compared by equality lookups."""
    return ColumnDefinition(index_column(field.name), "string", length=64, nullable=field.nullable)


def table(schema: Schema, model: ModelSpec) -> TableDef:
    """The table of ``model``: columns, constraints and indexes named by the columns'
    database names (``db_name``)."""
    t = model.table
    composite = bool(model.composite_key)

    def col(name: str) -> str:
        return _column_of(model, name)

    uniques = {
        constraint_name(t, (f.column,), "unique"): UniqueConstraint(
            (f.column,), constraint_name(t, (f.column,), "unique")
        )
        for f in model.fields
        if f.unique and not (f.primary_key and not composite) and not f.encrypted
    }
    indexes: dict[str, IndexDefinition] = {}
    columns: dict[str, ColumnDefinition] = {}
    for f in model.fields:
        columns[f.column] = column(f, in_key=not composite)
        if f.index:
            name = constraint_name(t, (f.column,), "index")
            indexes[name] = IndexDefinition((f.column,), IndexOptions(name=name))
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
        names = tuple(col(c) for c in index.columns)
        name = index.name or constraint_name(t, names, suffix)
        if index.unique:
            uniques[name] = UniqueConstraint(names, name)
        else:
            indexes[name] = IndexDefinition(names, IndexOptions(name=name))
    foreign_keys: dict[str, ForeignKeyReference] = {}
    for f in model.fields:
        ref = f.references
        target = schema.model(ref.model) if ref else None
        if ref is None or target is None:
            continue
        name = ref.name or constraint_name(t, (f.column,), "fkey")
        referenced = target.field(ref.field)
        foreign_keys[name] = ForeignKeyReference(
            [f.column],
            target.table,
            [referenced.column if referenced else ref.field],
            _action(ref.on_delete),
            _action(ref.on_update),
            name,
        )
    for fk in model.foreign_keys:
        target = schema.model(fk.model)
        if target is None:
            continue
        own = tuple(col(c) for c in fk.columns)
        name = fk.name or constraint_name(t, own, "fkey")
        theirs = [_column_of(target, f) for f in fk.fields]
        foreign_keys[name] = ForeignKeyReference(
            own, target.table, theirs, _action(fk.on_delete), _action(fk.on_update), name
        )
    key = tuple(col(n) for n in model.composite_key)
    checks = {c.name: CheckConstraint(c.name, c.expression) for c in model.checks}
    return TableDef(t, columns, uniques, indexes, foreign_keys, key, checks)


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
            assert isinstance(relation.foreign_key, str) and isinstance(relation.other_key, str)
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
                    [key], target.table, [pk.column], "cascade", None, name
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


def _column_of(model: ModelSpec, name: str) -> str:
    found = model.field(name)
    return found.column if found else name


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
