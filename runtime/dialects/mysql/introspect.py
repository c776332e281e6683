"""MySQL/MariaDB: the live schema of the current database (``DATABASE()``) from
information_schema: tables and views, columns, indexes, constraints, foreign keys, checks
and triggers.

MariaDB reports defaults as SQL (``'text'``, ``current_timestamp(6)``, ``NULL``), MySQL 8
reports literal defaults bare and marks expressions ``DEFAULT_GENERATED``: both are read.
The index InnoDB makes by itself for a foreign key (named after the constraint or its
first column, or left behind by DROP FOREIGN KEY of a key named ``<table>_<cols>_fkey``) is
left out: the engine makes it again with the key. MariaDB's JSON is
LONGTEXT with a ``json_valid()`` check named after the column: it reads as a json column.
"""

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
    LiveForeignKey,
    LiveIndex,
    LiveSchema,
    LiveTable,
    Skipped,
)
from ...introspection.parsing import (
    classify_default,
    is_number,
    only,
    tokens,
    unquote_string,
    unsupported_columns,
)
from ...schema_compiler import shorten

_TABLES = """SELECT TABLE_NAME AS name, TABLE_TYPE AS type
FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE(){only:TABLE_NAME}
ORDER BY TABLE_NAME"""

_COLUMNS = """SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, DATA_TYPE AS data_type,
 COLUMN_TYPE AS column_type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra,
 CHARACTER_MAXIMUM_LENGTH AS length, NUMERIC_PRECISION AS num_precision,
 NUMERIC_SCALE AS num_scale
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE(){only:TABLE_NAME}
ORDER BY TABLE_NAME, ORDINAL_POSITION"""

_STATISTICS = """SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS non_unique,
 COLUMN_NAME AS col, SUB_PART AS sub_part, INDEX_TYPE AS index_type
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE(){only:TABLE_NAME}
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"""

_CONSTRAINTS = """SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, CONSTRAINT_TYPE AS type
FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE(){only:TABLE_NAME}"""

_FOREIGN_KEYS = """SELECT k.TABLE_NAME AS tbl, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col,
 k.REFERENCED_TABLE_SCHEMA = DATABASE() AS here, k.REFERENCED_TABLE_NAME AS ref_table,
 k.REFERENCED_COLUMN_NAME AS ref_column, r.DELETE_RULE AS on_delete, r.UPDATE_RULE AS on_update
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
 AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL{only:k.TABLE_NAME}
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"""

# MariaDB names checks per table (CHECK_CONSTRAINTS has TABLE_NAME); MySQL per schema
_CHECKS_MARIADB = """SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE(){only:TABLE_NAME}
ORDER BY TABLE_NAME, CONSTRAINT_NAME"""
_CHECKS_MYSQL = """SELECT t.TABLE_NAME AS tbl, c.CONSTRAINT_NAME AS name, c.CHECK_CLAUSE AS clause
FROM information_schema.TABLE_CONSTRAINTS t JOIN information_schema.CHECK_CONSTRAINTS c
 ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
WHERE t.CONSTRAINT_SCHEMA = DATABASE() AND t.CONSTRAINT_TYPE = 'CHECK'{only:t.TABLE_NAME}
ORDER BY t.TABLE_NAME, c.CONSTRAINT_NAME"""

_TRIGGERS = """SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE(){only:EVENT_OBJECT_TABLE}
ORDER BY EVENT_OBJECT_TABLE, TRIGGER_NAME"""

_ACTIONS: dict[str, Action] = {
    "CASCADE": "cascade",
    "SET NULL": "set_null",
    "SET DEFAULT": "set_default",
    # InnoDB checks NO ACTION at once, as RESTRICT: both read as no_action
    "RESTRICT": "no_action",
    "NO ACTION": "no_action",
}
_SIMPLE: dict[str, ColumnKind] = {
    "mediumint": "int",
    "float": "float",
    "double": "float",
    "real": "float",
    "tinytext": "text",
    "text": "text",
    "mediumtext": "text",
    "longtext": "text",
    "json": "json",
    "uuid": "uuid",
    "date": "date",
    "time": "time",
    "datetime": "datetime",
    "timestamp": "datetime",
    "binary": "bytes",
    "varbinary": "bytes",
    "tinyblob": "bytes",
    "blob": "bytes",
    "mediumblob": "bytes",
    "longblob": "bytes",
}
_INTEGERS = frozenset({"int", "bigint", "smallint"})
# unsigned integers read as the next wider signed type, which holds all their values
_INTEGER_TYPES: dict[str, tuple[ColumnKind, ColumnKind]] = {
    "tinyint": ("smallint", "smallint"),
    "smallint": ("smallint", "int"),
    "mediumint": ("int", "int"),
    "int": ("int", "bigint"),
    "integer": ("int", "bigint"),
    "bigint": ("bigint", "bigint"),
}
NAME_LIMIT = 63  # Jadugar names constraints within PostgreSQL's limit on every engine
_ONLY = re.compile(r"\{only:([\w.]+)\}")
_NOW = re.compile(r"^current_timestamp(\(\d*\))?$|^now\(\d*\)$", re.IGNORECASE)


async def read_schema(fetch: Fetch, tables: Sequence[str] | None = None) -> LiveSchema:
    """The current database's tables (only ``tables`` when given), views and triggers."""
    version_rows = await fetch("SELECT VERSION() AS v, DATABASE() AS db", ())
    version = str(version_rows[0]["v"]) if version_rows else ""
    mariadb = "mariadb" in version.lower()

    async def read(sql: str) -> list[dict[str, Any]]:
        found = _ONLY.search(sql)
        assert found is not None
        condition, names = only(found.group(1), tables)
        return await fetch(sql[: found.start()] + condition + sql[found.end() :], names)

    tables_found = await read(_TABLES)
    columns = await read(_COLUMNS)
    statistics = await read(_STATISTICS)
    constraints = await read(_CONSTRAINTS)
    foreign_keys = await read(_FOREIGN_KEYS)
    checks = await read(_CHECKS_MARIADB if mariadb else _CHECKS_MYSQL)
    triggers = await read(_TRIGGERS)

    skipped: list[Skipped] = []
    names: list[str] = []
    for row in tables_found:
        if row["type"] == "VIEW":
            skipped.append(Skipped("view", row["name"], "a view; schema files describe tables"))
        elif row["type"] in ("BASE TABLE", "SYSTEM VERSIONED"):
            names.append(row["name"])
        else:
            skipped.append(Skipped("table", row["name"], f"a {str(row['type']).lower()}"))
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for key, rows in (
        ("columns", columns),
        ("statistics", statistics),
        ("constraints", constraints),
        ("foreign_keys", foreign_keys),
        ("checks", checks),
    ):
        for row in rows:
            grouped[row["tbl"]][key].append(row)
    live = [_table(name, grouped[name], mariadb, skipped) for name in sorted(names)]
    for row in triggers:
        skipped.append(
            Skipped("trigger", f"{row['name']} on {row['tbl']}", "triggers are not expressible")
        )
    return LiveSchema(
        "mysql",
        tuple(live),
        (),
        tuple(skipped),
        database=str(version_rows[0]["db"]) if version_rows else None,
        server_version=version,
    )


def _table(
    name: str, rows: dict[str, list[dict[str, Any]]], mariadb: bool, skipped: list[Skipped]
) -> LiveTable:
    checks = [LiveCheck(r["name"], str(r["clause"])) for r in rows["checks"]]
    columns = []
    for row in rows["columns"]:
        column = _column(row, mariadb)
        json_check = next(
            (
                c
                for c in checks
                if column.kind == "text"
                and "longtext" in column.type.lower()
                and _is_json_valid(c.expression, column.name)
            ),
            None,
        )
        if json_check is not None:
            checks.remove(json_check)
            column = LiveColumn(
                column.name, column.type, "json", column.nullable, column.default, notes=()
            )
        columns.append(column)
    skipped.extend(unsupported_columns(name, columns))
    foreign_keys: list[LiveForeignKey] = []
    parts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows["foreign_keys"]:
        parts[row["name"]].append(row)
    for fk_name, fk_rows in parts.items():
        first = fk_rows[0]
        if not first["here"]:
            where = f"{fk_name} on {name}"
            skipped.append(
                Skipped("foreign key", where, "it points at a table in another database")
            )
            continue
        foreign_keys.append(
            LiveForeignKey(
                fk_name,
                tuple(r["col"] for r in fk_rows),
                first["ref_table"],
                tuple(r["ref_column"] for r in fk_rows),
                _ACTIONS.get(str(first["on_delete"]).upper(), "no_action"),
                _ACTIONS.get(str(first["on_update"]).upper(), "no_action"),
            )
        )
    constraint_names = {r["name"] for r in rows["constraints"] if r["type"] == "UNIQUE"}
    index_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows["statistics"]:
        index_rows[row["name"]].append(row)
    primary: tuple[str, ...] = ()
    indexes: list[LiveIndex] = []
    for index_name, parts_of in index_rows.items():
        cols = tuple(r["col"] for r in parts_of)
        if index_name == "PRIMARY":
            primary = tuple(str(c) for c in cols)
            continue
        where = f"{index_name} on {name}"
        kind = str(parts_of[0]["index_type"]).upper()
        unique = not int(parts_of[0]["non_unique"])
        if any(c is None for c in cols):
            skipped.append(Skipped("index", where, "an expression index"))
        elif any(r["sub_part"] is not None for r in parts_of):
            skipped.append(Skipped("index", where, "an index on a prefix of a column"))
        elif kind not in ("BTREE", "HASH"):
            skipped.append(Skipped("index", where, f"a {kind.lower()} index"))
        elif not unique and _made_for_a_foreign_key(name, index_name, cols, foreign_keys):
            continue
        else:
            indexes.append(LiveIndex(index_name, cols, unique, index_name in constraint_names))
    return LiveTable(
        name,
        tuple(columns),
        primary,
        "PRIMARY" if primary else None,
        tuple(sorted(indexes, key=lambda i: i.name or "")),
        tuple(foreign_keys),
        tuple(checks),
    )


def _made_for_a_foreign_key(
    table: str, name: str, columns: tuple[str, ...], foreign_keys: list[LiveForeignKey]
) -> bool:
    """The index InnoDB made for a foreign key: named after the key or its first column;
    or left behind by DROP FOREIGN KEY of a key Jadugar named (``<table>_<cols>_fkey``)."""
    if any(fk.columns == columns and name in (fk.name, fk.columns[0]) for fk in foreign_keys):
        return True
    return name == shorten("_".join((table, *columns, "fkey")), NAME_LIMIT)


def _is_json_valid(clause: str, column: str) -> bool:
    found = [t for t in tokens(clause) if t[1] not in ("(", ")")]
    return (
        len(found) == 2
        and found[0][1].lower() == "json_valid"
        and found[1][1].strip("`").replace("``", "`") == column
    )


def _column(row: dict[str, Any], mariadb: bool) -> LiveColumn:
    data_type = str(row["data_type"]).lower()
    column_type = str(row["column_type"])
    lowered = column_type.lower()
    extra = str(row["extra"] or "").lower()
    unsigned = "unsigned" in lowered
    kind: ColumnKind | None = None
    options: dict[str, Any] = {}
    notes: list[str] = []
    unsupported: str | None = None
    if "generated" in extra and "default_generated" not in extra:
        unsupported = "a generated column (GENERATED ALWAYS AS ...)"
    elif data_type == "tinyint" and lowered.startswith("tinyint(1)") and not unsigned:
        kind = "bool"
    elif data_type in _INTEGER_TYPES:
        kind = _INTEGER_TYPES[data_type][1 if unsigned else 0]
        if unsigned:
            notes.append(f"{column_type}: read as {kind}, which holds every value")
            if data_type == "bigint":
                notes.append("values above 9223372036854775807 do not fit")
    elif data_type in ("decimal", "numeric"):
        kind = "decimal"
        options["precision"] = int(row["num_precision"])
        options["scale"] = int(row["num_scale"] or 0)
        if unsigned:
            notes.append(f"{column_type}: the schema makes a signed decimal")
    elif data_type == "varchar":
        kind, options["length"] = "str", int(row["length"])
    elif data_type == "char":
        length = int(row["length"])
        if length == 36:
            kind = "uuid"  # how Jadugar stores a UUID here
        else:
            kind, options["length"] = "str", length
            notes.append("CHAR(n) pads with spaces; the schema makes VARCHAR(n)")
    elif data_type == "enum":
        kind, options["values"] = "enum", _enum_values(column_type)
    elif data_type in _SIMPLE:
        kind = _SIMPLE[data_type]
    if kind is None and unsupported is None:
        unsupported = f"its type {column_type} has no schema-file type"
    if "on update" in extra:
        notes.append(f"{extra.strip()}: not expressible, kept by the database only")
    auto = "auto_increment" in extra and kind in _INTEGERS
    default = _default(row["dflt"], kind, extra, mariadb)
    return LiveColumn(
        str(row["name"]),
        column_type,
        kind,
        str(row["nullable"]).upper() == "YES",
        default,
        auto,
        unsupported=unsupported if kind is None else None,
        notes=tuple(notes),
        **options,
    )


def _enum_values(column_type: str) -> tuple[str, ...]:
    inner = column_type[column_type.index("(") + 1 : column_type.rindex(")")]
    return tuple(
        unquote_string(text, backslashes=True) for kind, text in tokens(inner) if kind == "string"
    )


def _default(
    value: object, kind: ColumnKind | None, extra: str, mariadb: bool
) -> LiveDefault | None:
    if value is None:
        return None
    text = str(value)
    if mariadb:
        if text.upper() == "NULL":
            return None
        if _NOW.match(text.strip()):
            return LiveDefault("now", text)
        return classify_default(text, backslashes=True)
    # MySQL 8: literals are bare, expressions are marked DEFAULT_GENERATED
    if "default_generated" in extra:
        if _NOW.match(text.strip()):
            return LiveDefault("now", text)
        return classify_default(text, backslashes=True)
    if _NOW.match(text.strip()):  # CURRENT_TIMESTAMP of a TIMESTAMP/DATETIME column
        return LiveDefault("now", text)
    if kind in ("str", "text", "enum", "uuid", "date", "time", "datetime", "json", "bytes"):
        quoted = "'" + text.replace("'", "''") + "'"
        return LiveDefault("literal", quoted, text)
    if is_number(text):
        return classify_default(text)
    return LiveDefault("literal", "'" + text.replace("'", "''") + "'", text)
