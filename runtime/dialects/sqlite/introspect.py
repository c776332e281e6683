"""SQLite: the live schema from ``sqlite_master`` and the PRAGMA table functions.

Types are the declared words, read by SQLite's own rules where they are loose (``INT``
and ``INTEGER`` are ints, ``VARCHAR(n)`` a str); a column without a declared type is
unsupported. Check constraints and constraint names live only in the stored CREATE
TABLE text, which is parsed (``sqltext``); a TEXT column whose check is ``col IN (...)``
(named ``<table>_<col>_check``, or unnamed) is an enum, as Jadugar makes them here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
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
    in_list,
    strip_parens,
    unsupported_columns,
)
from ...schema_compiler import shorten
from . import sqltext as st

_MASTER = """SELECT type, name, tbl_name, sql FROM sqlite_master
WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name"""
_COLUMNS = """SELECT name, type, "notnull" AS not_null, dflt_value, pk, hidden
FROM pragma_table_xinfo(?) ORDER BY cid"""
_INDEX_LIST = 'SELECT name, "unique", origin, partial FROM pragma_index_list(?)'
_INDEX_INFO = (
    'SELECT seqno, cid, name, "desc" AS descending, key FROM pragma_index_xinfo(?) ORDER BY seqno'
)
_FOREIGN_KEYS = """SELECT id, seq, "table" AS ref_table, "from" AS col, "to" AS ref_column,
 on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq"""

_ACTIONS: dict[str, Action] = {
    "CASCADE": "cascade",
    "RESTRICT": "restrict",
    "SET NULL": "set_null",
    "SET DEFAULT": "set_default",
    "NO ACTION": "no_action",
}
_WORDS: dict[str, ColumnKind] = {
    "INTEGER": "int",
    "INT": "int",
    "MEDIUMINT": "int",
    "INT4": "int",
    "BIGINT": "bigint",
    "INT8": "bigint",
    "UNSIGNED BIG INT": "bigint",
    "SMALLINT": "smallint",
    "INT2": "smallint",
    "TINYINT": "smallint",
    "BOOLEAN": "bool",
    "BOOL": "bool",
    "TEXT": "text",
    "CLOB": "text",
    "VARCHAR": "text",
    "CHARACTER VARYING": "text",
    "NVARCHAR": "text",
    "UUID": "uuid",
    "JSON": "json",
    "JSONB": "json",
    "BLOB": "bytes",
    "BYTEA": "bytes",
    "REAL": "float",
    "DOUBLE": "float",
    "DOUBLE PRECISION": "float",
    "FLOAT": "float",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "datetime",
    "TIMESTAMPTZ": "datetime",
    "DATETIME": "datetime",
}
_STRINGS = frozenset(
    {"VARCHAR", "CHARACTER VARYING", "NVARCHAR", "VARYING CHARACTER", "NCHAR", "CHAR", "CHARACTER"}
)
_INTEGERS = frozenset({"int", "bigint", "smallint"})
_SIZED = re.compile(r"^([A-Z][A-Z ]*?)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")
# Jadugar's generated-UUID default here (runtime/dialects/sqlite/ddl.py)
_UUID_DEFAULT = re.compile(r"lower\s*\(\s*hex\s*\(\s*randomblob\s*\(\s*4\s*\)", re.IGNORECASE)
NAME_LIMIT = 63


async def read_schema(fetch: Fetch, tables: Sequence[str] | None = None) -> LiveSchema:
    """The database's tables (only ``tables`` when given; names compared as SQLite does,
    case-insensitively), views and triggers."""
    wanted = None if tables is None else {t.lower() for t in tables}
    master = [
        r
        for r in await fetch(_MASTER, ())
        if wanted is None or str(r["tbl_name"]).lower() in wanted
    ]
    version = await fetch("SELECT sqlite_version() AS v", ())
    skipped: list[Skipped] = []
    virtual = [
        r["name"]
        for r in master
        if r["type"] == "table" and str(r["sql"] or "").upper().startswith("CREATE VIRTUAL")
    ]
    found: list[tuple[str, str]] = []
    for row in master:
        kind, name, sql = row["type"], row["name"], row["sql"]
        if kind == "view":
            skipped.append(Skipped("view", name, "a view; schema files describe tables"))
        elif kind == "trigger":
            where = f"{name} on {row['tbl_name']}"
            skipped.append(Skipped("trigger", where, "triggers are not expressible"))
        elif kind == "table" and name in virtual:
            skipped.append(Skipped("table", name, "a virtual table"))
        elif kind == "table" and any(name.startswith(f"{v}_") for v in virtual):
            skipped.append(Skipped("table", name, "a shadow table of a virtual table"))
        elif kind == "table":
            found.append((name, str(sql or "")))
    live = [await _table(fetch, name, sql, skipped) for name, sql in sorted(found)]
    return LiveSchema(
        "sqlite",
        tuple(live),
        (),
        tuple(skipped),
        database="main",
        server_version=str(version[0]["v"]) if version else None,
    )


async def _table(fetch: Fetch, name: str, sql: str, skipped: list[Skipped]) -> LiveTable:
    all_rows = await fetch(_COLUMNS, (name,))
    column_rows = [r for r in all_rows if r["hidden"] == 0]
    generated = [r["name"] for r in all_rows if r["hidden"] in (2, 3)]
    for column in generated:
        what = "a generated column (GENERATED ALWAYS AS ...)"
        skipped.append(Skipped("column", f"{name}.{column}", what))
    keys = sorted((r for r in column_rows if r["pk"]), key=lambda r: r["pk"])
    primary = tuple(str(r["name"]) for r in keys)
    text = _Text(sql)
    columns: list[LiveColumn] = []
    without_rowid = text.without_rowid
    for row in column_rows:
        rowid = (
            len(keys) == 1
            and bool(row["pk"])
            and str(row["type"]).upper() == "INTEGER"
            and not without_rowid
        )
        columns.append(_column(row, rowid))
    checks = list(text.checks)
    # TEXT + CHECK ("col" IN (...)): Jadugar's enum columns here
    for number, column in enumerate(columns):
        if column.kind != "text":
            continue
        wanted = shorten(f"{name}_{column.name}_check", NAME_LIMIT)
        for check in checks:
            parsed = in_list(check.expression)
            if (
                parsed is not None
                and parsed[0].lower() == column.name.lower()
                and check.name in (None, wanted)
            ):
                columns[number] = replace(column, kind="enum", values=parsed[1])
                checks.remove(check)
                break
    named_checks = []
    for check in checks:
        if check.name is None:
            skipped.append(
                Skipped(
                    "check",
                    f"CHECK ({check.expression}) on {name}",
                    "it has no name; a schema file names its checks",
                )
            )
        else:
            named_checks.append(check)
    indexes: list[LiveIndex] = []
    for index in await fetch(_INDEX_LIST, (name,)):
        index_name = str(index["name"])
        origin = index["origin"]
        if origin == "pk":
            continue
        where = f"{index_name} on {name}"
        info = [r for r in await fetch(_INDEX_INFO, (index_name,)) if r["key"]]
        if index["partial"]:
            skipped.append(Skipped("index", where, "a partial index (WHERE ...)"))
            continue
        if any(r["cid"] == -2 for r in info):
            skipped.append(Skipped("index", where, "an expression index"))
            continue
        if any(r["descending"] for r in info):
            skipped.append(Skipped("index", where, "an index with a DESC column"))
            continue
        cols = tuple(str(r["name"]) for r in info)
        unique = bool(index["unique"])
        shown: str | None = index_name
        if origin == "u":  # a UNIQUE constraint: its name is in the table's text, if anywhere
            shown = text.unique_names.get(tuple(c.lower() for c in cols))
        indexes.append(LiveIndex(shown, cols, unique, constraint=origin == "u"))
    foreign_keys = await _foreign_keys(fetch, name, primary, text)
    skipped.extend(unsupported_columns(name, columns))
    return LiveTable(
        name,
        tuple(columns),
        primary,
        None,
        tuple(sorted(indexes, key=lambda i: i.name or "")),
        tuple(foreign_keys),
        tuple(named_checks),
    )


async def _foreign_keys(
    fetch: Fetch, name: str, primary: tuple[str, ...], text: _Text
) -> list[LiveForeignKey]:
    rows = await fetch(_FOREIGN_KEYS, (name,))
    parts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        parts[row["id"]].append(row)
    found = []
    for fk_rows in reversed(parts.values()):  # PRAGMA lists the last declared first
        first = fk_rows[0]
        columns = tuple(str(r["col"]) for r in fk_rows)
        references = tuple(str(r["ref_column"]) for r in fk_rows if r["ref_column"] is not None)
        if not references:  # REFERENCES t without columns: t's primary key
            references = await _primary_key(fetch, str(first["ref_table"]))
        found.append(
            LiveForeignKey(
                text.foreign_key_names.get(tuple(c.lower() for c in columns)),
                columns,
                str(first["ref_table"]),
                references,
                _ACTIONS.get(str(first["on_delete"]).upper(), "no_action"),
                _ACTIONS.get(str(first["on_update"]).upper(), "no_action"),
            )
        )
    return found


async def _primary_key(fetch: Fetch, table: str) -> tuple[str, ...]:
    rows = [r for r in await fetch(_COLUMNS, (table,)) if r["pk"]]
    return tuple(str(r["name"]) for r in sorted(rows, key=lambda r: r["pk"]))


class _Text:
    """What only the stored CREATE TABLE text says: checks, and the names of unique
    constraints and foreign keys."""

    def __init__(self, sql: str) -> None:
        self.checks: list[LiveCheck] = []
        self.unique_names: dict[tuple[str, ...], str] = {}
        self.foreign_key_names: dict[tuple[str, ...], str] = {}
        self.without_rowid = False
        try:
            columns, constraints, options = st.parse_create_table(sql)
        except ValueError:
            return
        self.without_rowid = "ROWID" in options.upper() and "WITHOUT" in options.upper()
        for item in constraints:
            constraint = st.split_constraint(item)
            key = tuple(c.lower() for c in constraint.columns)
            if constraint.kind == "CHECK":
                self.checks.append(LiveCheck(constraint.name, _check_body(item)))
            elif constraint.kind == "UNIQUE" and constraint.name:
                self.unique_names[key] = constraint.name
            elif constraint.kind == "FOREIGN" and constraint.name:
                self.foreign_key_names[key] = constraint.name
        for item in columns:
            column, _, clauses = st.split_column(item)
            for clause in clauses:
                if clause.kind == "CHECK":
                    self.checks.append(LiveCheck(clause.name, _check_body(clause.text)))
                elif clause.kind == "UNIQUE" and clause.name:
                    self.unique_names[(column.lower(),)] = clause.name
                elif clause.kind == "REFERENCES" and clause.name:
                    self.foreign_key_names[(column.lower(),)] = clause.name


def _check_body(text: str) -> str:
    """``CONSTRAINT "x" CHECK ("price" >= 0)`` -> ``"price" >= 0``."""
    keyword = next(t for t in st.tokenize(text) if t.word == "CHECK")
    return strip_parens(text[keyword.end :])


def _column(row: dict[str, Any], rowid: bool) -> LiveColumn:
    declared = " ".join(str(row["type"] or "").split())
    upper = declared.upper()
    kind: ColumnKind | None = _WORDS.get(upper)
    options: dict[str, Any] = {}
    notes: list[str] = []
    sized = _SIZED.match(upper)
    if sized is not None:
        word, first, second = sized.group(1).strip(), int(sized.group(2)), sized.group(3)
        if word in _STRINGS:
            if first == 36 and word in ("CHAR", "CHARACTER", "NCHAR"):
                kind = "uuid"  # how Jadugar stores a UUID here
            else:
                kind, options["length"] = "str", first
        elif word in ("NUMERIC", "DECIMAL"):
            kind = "decimal"
            options["precision"], options["scale"] = first, int(second or 0)
        elif word in _WORDS:
            kind = _WORDS[word]  # INT(11), DATETIME(6), FLOAT(8)
    unsupported = None
    if kind is None:
        unsupported = (
            "it has no declared type"
            if not declared
            else f"its type {declared} has no schema-file type"
        )
    default: LiveDefault | None = None
    text = row["dflt_value"]
    if text is not None:
        default = classify_default(str(text))
        if default is not None and default.kind == "sql" and _UUID_DEFAULT.search(str(text)):
            default = LiveDefault("uuid", str(text))
    return LiveColumn(
        str(row["name"]),
        declared,
        kind,
        not (row["not_null"] or rowid or (row["pk"] and kind in _INTEGERS and rowid)),
        default,
        rowid and kind in _INTEGERS,
        unsupported=unsupported,
        notes=tuple(notes),
        **options,
    )
