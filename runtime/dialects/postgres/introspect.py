"""PostgreSQL: the live schema of the current schema (``current_schema()``) from
pg_catalog, in six queries (relations, columns, constraints, indexes, enum labels,
triggers)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ...introspection.model import (
    Action,
    ColumnKind,
    Fetch,
    LiveCheck,
    LiveColumn,
    LiveDefault,
    LiveEnum,
    LiveForeignKey,
    LiveIndex,
    LiveSchema,
    LiveTable,
    Skipped,
)
from ...introspection.parsing import classify_default, in_list, only, unsupported_columns
from ...schema_compiler import shorten

_RELATIONS = """SELECT c.oid::int8 AS oid, c.relname AS name, c.relkind::text AS kind,
 c.relispartition AS partition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f'){only}
ORDER BY c.relname"""

_COLUMNS = """SELECT a.attrelid::int8 AS table_oid, a.attname AS name,
 format_type(a.atttypid, a.atttypmod) AS type, t.typname AS type_name,
 t.typtype::text AS type_kind, t.typcategory::text AS category, a.atttypid::int8 AS type_oid,
 NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS "default",
 a.attidentity::text AS identity, a.attgenerated::text AS generated
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0
 AND NOT a.attisdropped{only}
ORDER BY a.attrelid, a.attnum"""

_CONSTRAINTS = """SELECT con.conrelid::int8 AS table_oid, con.conname AS name,
 con.contype::text AS kind,
 ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(n, o)
   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
 fc.relname AS ref_table, fn.nspname = current_schema() AS ref_here,
 ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(n, o)
   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o)
   AS ref_columns,
 con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
 pg_get_constraintdef(con.oid) AS definition, con.conindid::int8 AS index_oid
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE n.nspname = current_schema(){only}
ORDER BY con.conrelid, con.conname"""

_INDEXES = """SELECT i.indrelid::int8 AS table_oid, ic.relname AS name, i.indexrelid::int8 AS oid,
 i.indisunique AS "unique", i.indisprimary AS "primary", am.amname AS method,
 pg_get_expr(i.indpred, i.indrelid) AS predicate, i.indexprs IS NOT NULL AS expressions,
 i.indnkeyatts AS key_count, i.indnatts AS all_count,
 ARRAY(SELECT COALESCE(a.attname::text, '') FROM unnest(i.indkey::int2[]) WITH ORDINALITY
   AS k(n, o) LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
   ORDER BY k.o) AS columns,
 EXISTS (SELECT 1 FROM unnest(i.indoption::int2[]) AS o(v) WHERE o.v <> 0) AS ordered,
 pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE n.nspname = current_schema(){only}
ORDER BY i.indrelid, ic.relname"""

_ENUMS = """SELECT t.oid::int8 AS oid, t.typname AS name, e.enumlabel AS value
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
ORDER BY t.typname, e.enumsortorder"""

_TRIGGERS = """SELECT t.tgname AS name, c.relname AS "table"
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND NOT t.tgisinternal{only}
ORDER BY c.relname, t.tgname"""

_ACTIONS: dict[str, Action] = {
    "a": "no_action",
    "r": "restrict",
    "c": "cascade",
    "n": "set_null",
    "d": "set_default",
}
_KINDS: dict[str, ColumnKind] = {
    "int4": "int",
    "int8": "bigint",
    "int2": "smallint",
    "float4": "float",
    "float8": "float",
    "text": "text",
    "bool": "bool",
    "date": "date",
    "time": "time",
    "timetz": "time",
    "timestamp": "datetime",
    "timestamptz": "datetime",
    "uuid": "uuid",
    "json": "json",
    "jsonb": "json",
    "bytea": "bytes",
}
_INTEGERS = frozenset({"int", "bigint", "smallint"})
_LENGTH = re.compile(r"\((\d+)\)")
_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")
NAME_LIMIT = 63


async def read_schema(fetch: Fetch, tables: Sequence[str] | None = None) -> LiveSchema:
    """The current schema's tables (only ``tables`` when given), views and triggers."""
    condition, names = only("c.relname", tables)

    async def read(sql: str) -> list[dict[str, Any]]:
        return await fetch(sql.replace("{only}", condition), names)

    relations = await read(_RELATIONS)
    columns = await read(_COLUMNS)
    constraints = await read(_CONSTRAINTS)
    indexes = await read(_INDEXES)
    enum_rows = await fetch(_ENUMS, ())
    triggers = await read(_TRIGGERS)
    version = await fetch(
        "SELECT current_setting('server_version') AS v, current_database() AS database,"
        " current_schema() AS schema",
        (),
    )

    enum_values: dict[int, list[str]] = defaultdict(list)
    enum_names: dict[int, str] = {}
    for row in enum_rows:
        enum_values[row["oid"]].append(row["value"])
        enum_names[row["oid"]] = row["name"]
    skipped: list[Skipped] = []
    owned: dict[int, str] = {}
    for row in relations:
        kind = row["kind"]
        if kind in ("v", "m"):
            what = "a materialized view" if kind == "m" else "a view"
            skipped.append(Skipped("view", row["name"], f"{what}; schema files describe tables"))
        elif kind == "f":
            skipped.append(Skipped("table", row["name"], "a foreign table"))
        elif row["partition"]:
            skipped.append(Skipped("table", row["name"], "a partition of another table"))
        else:
            owned[row["oid"]] = row["name"]
    by_table: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in columns:
        by_table[row["table_oid"]].append(row)
    cons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in constraints:
        cons[row["table_oid"]].append(row)
    idx: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in indexes:
        idx[row["table_oid"]].append(row)
    live_tables = [
        _table(
            name,
            by_table[oid],
            cons[oid],
            idx[oid],
            enum_values,
            enum_names,
            skipped,
        )
        for oid, name in sorted(owned.items(), key=lambda item: item[1])
    ]
    for row in triggers:
        skipped.append(
            Skipped("trigger", f"{row['name']} on {row['table']}", "triggers are not expressible")
        )
    used = {c.enum_type for t in live_tables for c in t.columns if c.enum_type}
    enums = tuple(
        LiveEnum(enum_names[oid], tuple(values))
        for oid, values in sorted(enum_values.items(), key=lambda item: enum_names[item[0]])
        if enum_names[oid] in used
    )
    schema = version[0]["schema"] if version else None
    database = version[0]["database"] if version else None
    return LiveSchema(
        "postgres",
        tuple(live_tables),
        enums,
        tuple(skipped),
        database=f"{database}.{schema}" if database and schema else database,
        server_version=str(version[0]["v"]) if version else None,
    )


def _table(
    name: str,
    column_rows: list[dict[str, Any]],
    constraint_rows: list[dict[str, Any]],
    index_rows: list[dict[str, Any]],
    enum_values: dict[int, list[str]],
    enum_names: dict[int, str],
    skipped: list[Skipped],
) -> LiveTable:
    primary: tuple[str, ...] = ()
    primary_name: str | None = None
    uniques: list[LiveIndex] = []
    foreign_keys: list[LiveForeignKey] = []
    checks: list[LiveCheck] = []
    constraint_indexes: set[int] = set()
    for row in constraint_rows:
        kind, columns = row["kind"], tuple(row["columns"])
        if kind in ("p", "u", "x"):
            constraint_indexes.add(row["index_oid"])
        if kind == "p":
            primary, primary_name = columns, row["name"]
        elif kind == "u":
            uniques.append(LiveIndex(row["name"], columns, True, constraint=True))
        elif kind == "f":
            if not row["ref_here"]:
                where = f"{row['name']} on {name}"
                skipped.append(
                    Skipped("foreign key", where, "it points at a table in another schema")
                )
                continue
            foreign_keys.append(
                LiveForeignKey(
                    row["name"],
                    columns,
                    row["ref_table"],
                    tuple(row["ref_columns"]),
                    _ACTIONS.get(row["on_delete"], "no_action"),
                    _ACTIONS.get(row["on_update"], "no_action"),
                )
            )
        elif kind == "c":
            checks.append(LiveCheck(row["name"], _check_expression(row["definition"])))
        elif kind == "x":
            what = f"{row['name']} on {name}"
            skipped.append(Skipped("constraint", what, "an exclusion constraint"))
        elif kind == "t":
            what = f"{row['name']} on {name}"
            skipped.append(Skipped("trigger", what, "a constraint trigger"))
    live_columns = [_column(name, row, enum_values, enum_names) for row in column_rows]
    # TEXT + CHECK (col IN (...)) named <table>_<col>_check: how enums are made here
    for number, column in enumerate(live_columns):
        if column.kind != "text":
            continue
        check_name = shorten(f"{name}_{column.name}_check", NAME_LIMIT)
        check = next((c for c in checks if c.name == check_name), None)
        parsed = in_list(check.expression) if check else None
        if check is not None and parsed is not None and parsed[0] == column.name:
            live_columns[number] = _replace(column, kind="enum", values=parsed[1])
            checks.remove(check)
    indexes = list(uniques)
    for row in index_rows:
        if row["oid"] in constraint_indexes or row["primary"]:
            continue
        index_name = f"{row['name']} on {name}"
        reason = _index_problem(row)
        if reason:
            skipped.append(Skipped("index", index_name, reason))
            continue
        keys = tuple(row["columns"][: row["key_count"]])
        indexes.append(LiveIndex(row["name"], keys, bool(row["unique"])))
    skipped.extend(unsupported_columns(name, live_columns))
    return LiveTable(
        name,
        tuple(live_columns),
        primary,
        primary_name,
        tuple(sorted(indexes, key=lambda i: i.name or "")),
        tuple(foreign_keys),
        tuple(checks),
    )


def _index_problem(row: dict[str, Any]) -> str | None:
    if row["predicate"] is not None:
        return f"a partial index (WHERE {row['predicate']})"
    if row["expressions"] or "" in row["columns"][: row["key_count"]]:
        return f"an expression index ({row['definition']})"
    if row["method"] != "btree":
        return f"a {row['method']} index; schema files make btree indexes"
    if row["all_count"] != row["key_count"]:
        return "an index with INCLUDE columns"
    if row["ordered"]:
        return "an index with a DESC or NULLS FIRST/LAST column"
    return None


def _check_expression(definition: str) -> str:
    """``CHECK ((price >= 0)) NOT VALID`` -> ``(price >= 0)``."""
    text = definition.strip()
    if text.upper().endswith(" NOT VALID"):
        text = text[: -len(" NOT VALID")].rstrip()
    if text.upper().endswith(" NO INHERIT"):
        text = text[: -len(" NO INHERIT")].rstrip()
    if text.upper().startswith("CHECK"):
        text = text[5:].strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text


def _column(
    table: str, row: dict[str, Any], enum_values: dict[int, list[str]], enum_names: dict[int, str]
) -> LiveColumn:
    type_text: str = row["type"]
    type_name: str = row["type_name"]
    nullable = bool(row["nullable"])
    default_text: str | None = row["default"]
    kind: ColumnKind | None = _KINDS.get(type_name)
    options: dict[str, Any] = {}
    unsupported = None
    notes: list[str] = []
    if row["generated"]:
        kind, unsupported = None, "a generated column (GENERATED ALWAYS AS ...)"
    elif row["type_kind"] == "e":
        kind = "enum"
        options["values"] = tuple(enum_values.get(row["type_oid"], ()))
        options["enum_type"] = enum_names.get(row["type_oid"], type_name)
    elif row["type_kind"] == "d":
        unsupported = f"its type {type_text} is a domain"
    elif row["category"] == "A":
        unsupported = f"its type {type_text} is an array"
    elif type_name == "varchar":
        found = _LENGTH.search(type_text)
        if found:
            kind, options["length"] = "str", int(found.group(1))
        else:
            kind = "text"
    elif type_name == "bpchar":
        found = _LENGTH.search(type_text)
        kind, options["length"] = "str", int(found.group(1)) if found else 1
        notes.append("character(n) pads with spaces; the schema makes varchar(n)")
    elif type_name == "numeric":
        found = _NUMERIC.search(type_text.replace(" ", ""))
        if found:
            kind = "decimal"
            options["precision"], options["scale"] = int(found.group(1)), int(found.group(2))
        else:
            unsupported = "numeric without a precision and scale"
    if kind is None and unsupported is None:
        unsupported = f"its type {type_text} has no schema-file type"
    if type_name == "timestamp":
        notes.append(
            "timestamp without time zone: the models read it as UTC and must write naive "
            "datetimes (asyncpg refuses aware ones); migrations make timestamptz"
        )
    elif type_name == "json":
        notes.append("json: migrations make jsonb")
    elif type_name == "timetz":
        notes.append("time with time zone: migrations make time")
    auto = False
    default: LiveDefault | None = None
    if row["identity"]:
        auto = kind in _INTEGERS
        if not auto:
            notes.append(f"an identity column of type {type_text}")
    elif default_text is not None and default_text.startswith("nextval("):
        auto = kind in _INTEGERS  # serial; the sequence default is kept for a non-key column
        default = LiveDefault("sql", default_text)
    elif default_text is not None:
        default = classify_default(default_text)
    return LiveColumn(
        row["name"],
        type_text,
        kind,
        nullable,
        default,
        auto,
        unsupported=unsupported if kind is None else None,
        notes=tuple(notes),
        **options,
    )


def _replace(column: LiveColumn, **changes: Any) -> LiveColumn:
    from dataclasses import replace

    return replace(column, **changes)
