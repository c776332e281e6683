"""Drift: where the live database differs from the schema the migrations produce (the
snapshot beside them), each difference one sentence.

Compared, for every table of the snapshot (tables only in the database are not: a
database may hold other applications' tables): the table itself; its columns, with their
nullability, type (normalized per engine: ``varchar(255)`` is ``str max_length 255``,
MySQL's ``tinyint(1)`` a bool, ``CHAR(36)`` a uuid, a TEXT column with a
``CHECK (col IN (...))`` an enum) and default (literals by value, ``now`` and ``uuid`` by
meaning, other expressions by their text with quoting, casts and spacing looked
through); the primary key; unique constraints and indexes (columns, uniqueness, names);
foreign keys (columns, target, actions) and checks (by name: every engine rewrites check
expressions in its own words). What a schema file cannot express (views, triggers,
partial and expression indexes, columns of unsupported types) is not reported.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jadugar.introspection import LiveColumn, LiveIndex, LiveSchema, LiveTable, introspect
from jadugar.introspection.model import describe_kind
from jadugar.introspection.parsing import classify_default, same_expression, to_kind
from jadugar.manager import DatabaseManager
from jadugar.migrations.operations import AUTO_INCREMENT_TYPES, ColumnDefinition
from jadugar.migrations.operations import ForeignKeyReference as Fk
from jadugar.query import tree
from jadugar.query.expressions import SqlExpr

from . import ddl_map
from .ddl_map import TableDef
from .makemigrations import read_snapshot

# ColumnDefinition types -> the schema-file type a live column of that type reads as
_KINDS = {
    "increments": "int",
    "big_increments": "bigint",
    "integer": "int",
    "big_integer": "bigint",
    "small_integer": "smallint",
    "float": "float",
    "double": "float",
    "decimal": "decimal",
    "string": "str",
    "text": "text",
    "boolean": "bool",
    "date": "date",
    "time": "time",
    "timestamp": "datetime",
    "uuid": "uuid",
    "json": "json",
    "binary": "bytes",
    "enum": "enum",
}
_ACTIONS = {
    None: "no_action",
    "NO ACTION": "no_action",
    "RESTRICT": "restrict",
    "CASCADE": "cascade",
    "SET NULL": "set_null",
    "SET DEFAULT": "set_default",
}


async def drift(db: DatabaseManager, migrations: Path) -> list[str] | None:
    """The differences, or None when there is no snapshot to compare with."""
    expected = read_snapshot(migrations)
    if expected is None:
        return None
    if db.document_store:
        from .mongo_drift import drift as document_drift

        return await document_drift(db, expected)
    tables = ddl_map.tables(expected)
    return compare(tables, await introspect(db, list(tables)))


def compare(tables: dict[str, TableDef], live: LiveSchema) -> list[str]:
    """The sentences for every difference between ``tables`` (what the migrations make)
    and ``live`` (what the database holds)."""
    problems: list[str] = []
    for name, table in tables.items():
        found = live.table(name)
        if found is None:
            problems.append(f"table {name} is missing from the database")
            continue
        problems += _Table(table, found, live.engine).problems()
    return problems


class _Table:
    def __init__(self, expected: TableDef, live: LiveTable, engine: str) -> None:
        self.expected, self.live, self.engine = expected, live, engine
        self.name = expected.name
        self.folded = engine != "postgres"  # names compared case-insensitively
        self.out: list[str] = []

    def problems(self) -> list[str]:
        self.columns()
        self.primary_key()
        self.indexes()
        self.foreign_keys()
        self.checks()
        return self.out

    def same(self, a: str | None, b: str | None) -> bool:
        if a is None or b is None:
            return a is b
        return a.lower() == b.lower() if self.folded else a == b

    def same_columns(self, a: tuple[str, ...], b: tuple[str, ...]) -> bool:
        return len(a) == len(b) and all(self.same(x, y) for x, y in zip(a, b, strict=True))

    # ---- columns -------------------------------------------------------------------------
    def columns(self) -> None:
        name = self.name
        seen: set[str] = set()
        for column, definition in self.expected.columns.items():
            info = self.live.column(column)
            if info is None:
                self.out.append(f"column {name}.{column} is missing from the database")
                continue
            seen.add(info.name)
            if info.kind is None:
                self.out.append(
                    f"column {name}.{column} is {info.type} in the database "
                    f"({info.unsupported}), {_describe(definition, self.engine)} in the schema"
                )
                continue
            primary = info.name in self.live.primary_key or definition.primary
            if info.nullable != definition.nullable and not primary:
                want = "nullable" if definition.nullable else "NOT NULL"
                have = "nullable" if info.nullable else "NOT NULL"
                self.out.append(
                    f"column {name}.{column} is {have} in the database, {want} in the schema"
                )
            self.column_type(column, definition, info)
            self.column_default(column, definition, info)
        for info in self.live.columns:
            if info.name not in seen and info.kind is not None:
                self.out.append(
                    f"column {name}.{info.name} is in the database but not in the schema"
                )

    def column_type(self, column: str, definition: ColumnDefinition, info: LiveColumn) -> None:
        want = _signature(definition, self.engine)
        have = (info.kind, info.length, info.precision, info.scale, info.values)
        if info.kind != "str":
            have = (info.kind, None, info.precision, info.scale, info.values)
        if want != have:
            self.out.append(
                f"column {self.name}.{column} is {info.type} ({info.describe_type()}) in the "
                f"database, {_describe(definition, self.engine)} in the schema"
            )

    def column_default(self, column: str, definition: ColumnDefinition, info: LiveColumn) -> None:
        if definition.type in AUTO_INCREMENT_TYPES or info.auto_increment:
            return
        kind = _KINDS[definition.type]
        want = _expected_default(definition.default)
        have = info.default
        where = f"column {self.name}.{column}"
        if want is None:
            if have is not None:
                self.out.append(
                    f"{where} defaults to {have.sql} in the database, has no default in the schema"
                )
            return
        shown = _show_default(want)
        if have is None:
            self.out.append(
                f"{where} has no default in the database, defaults to {shown} in the schema"
            )
            return
        same = False
        if want[0] == "literal" and have.kind == "literal" and have.value is not None:
            same = _same_value(want[1], to_kind(have.value, kind), kind)
        elif want[0] in ("now", "uuid"):
            same = have.kind == want[0]
        elif want[0] == "sql":
            same = have.kind == "sql" and same_expression(str(want[1]), have.sql)
        if not same:
            self.out.append(
                f"{where} defaults to {have.sql} in the database, to {shown} in the schema"
            )

    # ---- keys ----------------------------------------------------------------------------
    def primary_key(self) -> None:
        want, have = self.expected.key, self.live.primary_key
        if not self.same_columns(want, have):
            shown = f"({', '.join(have)})" if have else "missing"
            self.out.append(
                f"the primary key of {self.name} is {shown} in the database, "
                f"({', '.join(want)}) in the schema"
            )

    def indexes(self) -> None:
        expected: list[tuple[str, tuple[str, ...], bool]] = [
            (key, tuple(u.columns), True) for key, u in self.expected.uniques.items()
        ] + [(key, tuple(i.columns), False) for key, i in self.expected.indexes.items()]
        live = list(self.live.indexes)
        matched: dict[str, LiveIndex] = {}
        for key, _columns, _unique in expected:  # by name first
            found = next((i for i in live if self.same(i.name, key)), None)
            if found is not None:
                matched[key] = found
                live.remove(found)
        for key, columns, unique in expected:  # then by content, for renamed ones
            if key in matched:
                continue
            found = next(
                (i for i in live if i.unique == unique and self.same_columns(i.columns, columns)),
                None,
            )
            if found is not None:
                matched[key] = found
                live.remove(found)
        for key, columns, unique in expected:
            what = f"{'unique constraint' if unique else 'index'} {key} on {self.on(columns)}"
            found = matched.get(key)
            if found is None:
                self.out.append(f"{what} is missing from the database")
                continue
            if found.name is not None and not self.same(found.name, key):
                self.out.append(f"{what} is named {found.name} in the database")
            if not self.same_columns(found.columns, columns):
                self.out.append(f"{what} covers ({', '.join(found.columns)}) in the database")
            if found.unique != unique:
                if unique:
                    self.out.append(f"{what} is unique in the schema, not in the database")
                else:
                    self.out.append(f"{what} is unique in the database, not in the schema")
        for index in live:
            kind = "unique constraint" if index.unique else "index"
            label = f" {index.name}" if index.name else ""
            self.out.append(
                f"{kind}{label} on {self.on(index.columns)} is in the database but not in "
                "the schema"
            )

    def on(self, columns: tuple[str, ...]) -> str:
        return f"{self.name}({', '.join(columns)})"

    def foreign_keys(self) -> None:
        live = list(self.live.foreign_keys)
        pairs: list[tuple[str, Fk, Any]] = []
        for key, fk in self.expected.foreign_keys.items():
            found = next((f for f in live if self.same(f.name, key)), None)
            if found is None:
                found = next(
                    (
                        f
                        for f in live
                        if self.same_columns(f.columns, tuple(fk.columns))
                        and self.same(f.table, fk.table)
                    ),
                    None,
                )
            if found is not None:
                live.remove(found)
            pairs.append((key, fk, found))
        for key, fk, found in pairs:
            target = f"{fk.table}({', '.join(fk.references)})"
            what = f"foreign key {key} on {self.on(tuple(fk.columns))}"
            if found is None:
                self.out.append(f"{what} -> {target} is missing from the database")
                continue
            if found.name is not None and not self.same(found.name, key):
                self.out.append(f"{what} is named {found.name} in the database")
            if not self.same_columns(found.columns, tuple(fk.columns)):
                self.out.append(f"{what} covers ({', '.join(found.columns)}) in the database")
            theirs = f"{found.table}({', '.join(found.references)})"
            if not self.same(found.table, fk.table) or not self.same_columns(
                found.references, tuple(fk.references)
            ):
                self.out.append(
                    f"{what} points at {target} in the schema, at {theirs} in the database"
                )
            for event, want_word, have in (
                ("DELETE", fk.on_delete, found.on_delete),
                ("UPDATE", fk.on_update, found.on_update),
            ):
                want = self.action(_ACTIONS.get(want_word, "no_action"))
                if want != self.action(have):
                    self.out.append(
                        f"{what} has ON {event} {_show_action(have)} in the database, "
                        f"ON {event} {_show_action(want)} in the schema"
                    )
        for found in live:
            label = f" {found.name}" if found.name else ""
            target = f"{found.table}({', '.join(found.references)})"
            self.out.append(
                f"foreign key{label} on {self.on(found.columns)} -> {target} is in the "
                "database but not in the schema"
            )

    def action(self, value: str) -> str:
        # InnoDB checks NO ACTION at once: it is RESTRICT there
        return "no_action" if self.engine == "mysql" and value == "restrict" else value

    def checks(self) -> None:
        live = list(self.live.checks)
        for key in self.expected.checks:
            found = next((c for c in live if self.same(c.name, key)), None)
            if found is None:
                self.out.append(f"check {key} on {self.name} is missing from the database")
            else:
                live.remove(found)
        for check in live:
            self.out.append(
                f"check {check.name} on {self.name} ({check.expression}) is in the database "
                "but not in the schema"
            )


def _signature(
    definition: ColumnDefinition, engine: str
) -> tuple[str, int | None, int | None, int | None, tuple[str, ...]]:
    kind = _KINDS[definition.type]
    if engine == "sqlite" and definition.type == "big_increments":
        kind = "int"  # INTEGER PRIMARY KEY: SQLite's integers are 64-bit
    if engine == "postgres" and definition.type == "increments":
        kind = "int"  # SERIAL
    length = definition.length if kind == "str" else None
    precision = definition.precision if kind == "decimal" else None
    scale = definition.scale if kind == "decimal" else None
    values = tuple(definition.values) if kind == "enum" else ()
    return (kind, length, precision, scale, values)


def _describe(definition: ColumnDefinition, engine: str) -> str:
    kind, length, precision, scale, values = _signature(definition, engine)
    return describe_kind(kind, length, precision, scale, values)


def _expected_default(value: object) -> tuple[str, object] | None:
    """("literal", value), ("now", None), ("uuid", None) or ("sql", text); None: none."""
    if value is None:
        return None
    if isinstance(value, SqlExpr):
        node = value.node
        if isinstance(node, tree.Func) and not node.args and node.name in ("now", "uuid"):
            return (node.name, None)
        if isinstance(node, tree.RawExpr):
            parsed = classify_default(node.sql)
            if parsed is None:
                return None
            if parsed.kind == "literal":
                return ("literal", parsed.value)
            if parsed.kind in ("now", "uuid"):
                return (parsed.kind, None)
            return ("sql", node.sql)
        return ("sql", repr(node))
    return ("literal", value)


def _show_default(want: tuple[str, object]) -> str:
    kind, value = want
    if kind == "now":
        return "now (the current time)"
    if kind == "uuid":
        return "uuid (a new random UUID)"
    if kind == "sql":
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def _same_value(want: object, have: object, kind: str) -> bool:
    if have is None:
        return False
    if kind in ("decimal", "float"):
        try:
            return Decimal(str(want)) == Decimal(str(have))
        except InvalidOperation:
            return False
    if kind == "bool":
        return bool(want) == bool(have) and isinstance(have, bool)
    if kind in ("int", "bigint", "smallint"):
        return str(want) == str(have)
    return want == have


def _show_action(action: str) -> str:
    return action.replace("_", " ").upper()
