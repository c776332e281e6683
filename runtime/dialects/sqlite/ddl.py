"""SQLite DDL: INTEGER PRIMARY KEY AUTOINCREMENT, TEXT + CHECK enums, unique constraints as
named unique indexes, native ADD/DROP/RENAME COLUMN where SQLite allows them and the table
rebuild (``rebuild.py``) elsewhere; introspection through PRAGMA table functions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ...errors import UnsupportedOperation
from ...migrations import operations as ops
from ...migrations.operations import ColumnDefinition, ForeignKeyReference
from ...query.expressions import SqlExpr
from ...schema_compiler import (
    ColumnInfo,
    DdlCompiler,
    ForeignKeyInfo,
    IndexInfo,
    Plan,
    Query,
    Row,
    StateSource,
)
from . import rebuild
from . import sqltext as st

_STATE = (
    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? COLLATE NOCASE"
    " AND sql IS NOT NULL ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid"
)
_REFERENCES = (
    'SELECT m.name AS child, p."table" AS parent FROM sqlite_master AS m'
    " JOIN pragma_foreign_key_list(m.name) AS p WHERE m.type = 'table'"
)
_COLUMNS = (
    'SELECT name, type, "notnull" AS not_null, dflt_value, pk, hidden'
    " FROM pragma_table_xinfo(?) ORDER BY cid"
)
_INDEXES = (
    'SELECT il.name AS name, il."unique" AS "unique", il.origin AS origin,'
    " COALESCE(ii.name, '(expression)') AS \"column\""
    " FROM pragma_index_list(?) AS il JOIN pragma_index_info(il.name) AS ii"
    " ORDER BY il.name, ii.seqno"
)
_FOREIGN_KEYS = (
    'SELECT p.id AS id, p."table" AS ref_table, p."from" AS "column", p."to" AS ref_column,'
    " p.on_delete AS on_delete, p.on_update AS on_update,"
    " (SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE)"
    " AS table_sql FROM pragma_foreign_key_list(?) AS p ORDER BY p.id, p.seq"
)
_REBUILD_HINT = "it needs a table rebuild: plan it through SchemaBuilder (execute, to_sql_async)"
# SQLite has no UUID function: random version-4 text (8-4-4-4-12 lower-case hex digits)
_UUID4 = (
    "(lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||"
    " substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||"
    " substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))))"
)


class SQLiteDdl(DdlCompiler):
    dialect_name = "sqlite"
    types: ClassVar[Mapping[str, str]] = {
        "integer": "INTEGER",
        "big_integer": "BIGINT",
        "small_integer": "SMALLINT",
        "float": "REAL",
        "double": "DOUBLE PRECISION",
        "decimal": "NUMERIC({precision}, {scale})",
        "string": "VARCHAR({length})",
        "text": "TEXT",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "time": "TIME",
        "timestamp": "TIMESTAMP",
        "uuid": "CHAR(36)",
        "json": "JSON",
        "binary": "BLOB",
        "increments": "INTEGER",
        "big_increments": "INTEGER",
    }
    increments_types: ClassVar[Mapping[str, str]] = {
        "increments": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "big_increments": "INTEGER PRIMARY KEY AUTOINCREMENT",  # SQLite integers are 64-bit
    }
    unique_as_index = True
    index_methods = frozenset({"btree"})

    def index_method_sql(self, method: str) -> tuple[str, str]:
        return "", ""  # every SQLite index is a B-tree

    def uuid_default(self, column: ColumnDefinition) -> str:
        return _UUID4

    def plan(self, operations: Sequence[ops.Operation], source: StateSource) -> Plan:
        return rebuild.plan(self, list(operations), source)

    # ---- columns -----------------------------------------------------------------------
    def can_add_column(self, column: ColumnDefinition) -> bool:
        """What SQLite's ALTER TABLE ADD COLUMN accepts (else: a rebuild)."""
        return not (
            column.primary
            or isinstance(column.default, SqlExpr)
            or (not column.nullable and column.default is None)
            or (column.references is not None and column.default is not None)
        )

    def added_column(self, table: str, column: ColumnDefinition) -> str:
        """The definition ADD COLUMN takes: a foreign key goes inline, named."""
        sql = self.column_sql(table, column, primary=False)
        for reference in self._column_references((column,)):
            sql += " " + self.inline_foreign_key(table, reference)
        return sql

    def inline_foreign_key(self, table: str, reference: ForeignKeyReference) -> str:
        name = self.ident(self.foreign_key_name(table, reference))
        return f"CONSTRAINT {name} {self.references_sql(reference)}"

    def add_column(self, op: ops.AddColumn) -> list[str]:
        column = op.column
        if not self.can_add_column(column):
            raise UnsupportedOperation(f"add_column {column.name!r}", "sqlite", _REBUILD_HINT)
        statements = [
            f"ALTER TABLE {self.table(op.table)} ADD COLUMN {self.added_column(op.table, column)}"
        ]
        if column.unique:
            statements += self.add_unique(ops.AddUnique(op.table, (column.name,)))
        if column.index:
            statements += self.create_index(ops.CreateIndex(op.table, (column.name,)))
        return statements

    def altered_column(self, table: str, old: str, op: ops.AlterColumn) -> str:
        """The stored definition ``old`` with the type, nullability and default of
        ``op.column`` where ``op.changes`` says; other clauses kept as written."""
        column, changes = op.column, op.changes
        head = st.tokenize(old)[0].text
        _, type_text, clauses = st.split_column(old)
        enum_check = f"_{column.name.lower()}_check"
        kept = [
            c.text
            for c in clauses
            if not (
                (c.kind in ("NOT", "NULL") and "nullable" in changes)
                or (c.kind == "DEFAULT" and "default" in changes)
                or (
                    c.kind == "CHECK"
                    and "type" in changes
                    and (c.name or "").lower().endswith(enum_check)
                )
            )
        ]
        if "type" in changes:
            if column.type in ops.AUTO_INCREMENT_TYPES and not any(
                c.kind == "PRIMARY" for c in clauses
            ):
                raise UnsupportedOperation(
                    f"alter_column {column.name!r} into an auto-increment column", "sqlite"
                )
            type_text = self.column_type(column)
        added = []
        if "nullable" in changes and not column.nullable:
            added.append("NOT NULL")
        default = self.default_sql(column) if "default" in changes else None
        if default is not None:
            added.append(f"DEFAULT {default}")
        if "type" in changes and column.type == "enum":
            added.append(self.enum_check(table, column) or "")
        return " ".join(p for p in (head, type_text, *kept, *added) if p)

    def alter_column(self, op: ops.AlterColumn) -> list[str]:
        raise UnsupportedOperation("alter_column", "sqlite", _REBUILD_HINT)

    def add_foreign_key(self, op: ops.AddForeignKey) -> list[str]:
        raise UnsupportedOperation("add_foreign_key", "sqlite", _REBUILD_HINT)

    def add_check(self, op: ops.AddCheck) -> list[str]:
        raise UnsupportedOperation("add_check", "sqlite", _REBUILD_HINT)

    def drop_check(self, op: ops.DropCheck) -> list[str]:
        raise UnsupportedOperation("drop_check", "sqlite", _REBUILD_HINT)

    def drop_foreign_key(self, op: ops.DropForeignKey) -> list[str]:
        raise UnsupportedOperation("drop_foreign_key", "sqlite", _REBUILD_HINT)

    # ---- live state for the rebuild ----------------------------------------------------
    def state_query(self, table: str) -> Query:
        return _STATE, (table,)

    def parse_state(self, table: str, rows: list[Row]) -> Any:
        return rebuild.parse_state(table, rows)

    def environment_queries(self) -> list[Query]:
        return [("PRAGMA foreign_keys", ()), (_REFERENCES, ())]

    def parse_environment(self, results: list[list[Row]]) -> Any:
        flags, references = results
        return rebuild.Environment(
            bool(flags and flags[0]["foreign_keys"]),
            frozenset((r["child"].lower(), r["parent"].lower()) for r in references),
        )

    # ---- introspection -----------------------------------------------------------------
    def has_table_query(self, table: str) -> Query:
        return (
            "SELECT COUNT(*) AS found FROM sqlite_master WHERE type = 'table'"
            " AND name = ? COLLATE NOCASE",
            (table,),
        )

    def columns_query(self, table: str) -> Query:
        return _COLUMNS, (table,)

    def parse_columns(self, rows: list[Row]) -> list[ColumnInfo]:
        rows = [r for r in rows if r["hidden"] != 1]  # hidden columns of virtual tables
        keys = [r for r in rows if r["pk"]]
        out = []
        for r in rows:
            rowid = len(keys) == 1 and bool(r["pk"]) and r["type"].upper() == "INTEGER"
            out.append(
                ColumnInfo(
                    r["name"],
                    r["type"],
                    not (r["not_null"] or rowid),
                    r["dflt_value"],
                    bool(r["pk"]),
                    rowid,
                )
            )
        return out

    def indexes_query(self, table: str) -> Query:
        return _INDEXES, (table,)

    def parse_indexes(self, rows: list[Row]) -> list[IndexInfo]:
        columns: dict[str, list[str]] = defaultdict(list)
        flags: dict[str, tuple[bool, bool]] = {}
        for r in rows:
            columns[r["name"]].append(r["column"])
            flags[r["name"]] = (bool(r["unique"]), r["origin"] == "pk")
        return [IndexInfo(n, tuple(c), *flags[n]) for n, c in columns.items()]

    def foreign_keys_query(self, table: str) -> Query:
        return _FOREIGN_KEYS, (table, table)

    def parse_foreign_keys(self, rows: list[Row]) -> list[ForeignKeyInfo]:
        keys: dict[int, list[Row]] = defaultdict(list)
        for r in rows:
            keys[r["id"]].append(r)
        names = _foreign_key_names(rows[0]["table_sql"]) if rows else {}
        found = []
        for parts in reversed(keys.values()):  # PRAGMA lists the last declared first
            columns = tuple(r["column"] for r in parts)
            found.append(
                ForeignKeyInfo(
                    names.get(tuple(c.lower() for c in columns)),
                    columns,
                    parts[0]["ref_table"],
                    tuple(r["ref_column"] for r in parts if r["ref_column"] is not None),
                    parts[0]["on_delete"],
                    parts[0]["on_update"],
                )
            )
        return found


def _foreign_key_names(table_sql: str | None) -> dict[tuple[str, ...], str]:
    """Names written in CREATE TABLE, by the (lower-case) columns of each foreign key."""
    if not table_sql:
        return {}
    columns, constraints, _ = st.parse_create_table(table_sql)
    names: dict[tuple[str, ...], str] = {}
    for text in constraints:
        constraint = st.split_constraint(text)
        if constraint.kind == "FOREIGN" and constraint.name:
            names[tuple(c.lower() for c in constraint.columns)] = constraint.name
    for text in columns:
        name, _, clauses = st.split_column(text)
        for clause in clauses:
            if clause.kind == "REFERENCES" and clause.name:
                names[(name.lower(),)] = clause.name
    return names
