"""PostgreSQL DDL: SERIAL, TIMESTAMPTZ, JSONB, TEXT + CHECK enums, ALTER COLUMN piecewise,
introspection from pg_catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ...migrations import operations as ops
from ...migrations.operations import ColumnDefinition
from ...schema_compiler import (
    ColumnInfo,
    DdlCompiler,
    ForeignKeyInfo,
    IndexInfo,
    Query,
    Row,
)

_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

_COLUMNS = """SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
 NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS "default",
 EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary
   AND a.attnum = ANY (i.indkey)) AS primary_key,
 a.attidentity <> '' OR COALESCE(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%'
   AS auto_increment
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum"""

_INDEXES = """SELECT ic.relname AS name, i.indisunique AS "unique", i.indisprimary AS "primary",
 array_agg(COALESCE(a.attname::text, pg_get_indexdef(i.indexrelid, k.n::int, true))
   ORDER BY k.n) AS columns
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
WHERE i.indrelid = to_regclass(?) AND k.n <= i.indnkeyatts
GROUP BY ic.relname, i.indisunique, i.indisprimary ORDER BY ic.relname"""

_FOREIGN_KEYS = """SELECT c.conname AS name,
 ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)
   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
 c.confrelid::regclass::text AS "table",
 ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o)
   JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)
   AS "references",
 c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update
FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = to_regclass(?)
ORDER BY c.conname"""


class PostgresDdl(DdlCompiler):
    dialect_name = "postgres"
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
        "timestamp": "TIMESTAMPTZ",
        "uuid": "UUID",
        "json": "JSONB",
        "binary": "BYTEA",
        # the type an auto-increment column has when altered (SERIAL is not a type)
        "increments": "INTEGER",
        "big_increments": "BIGINT",
    }
    increments_types: ClassVar[Mapping[str, str]] = {
        "increments": "SERIAL PRIMARY KEY",
        "big_increments": "BIGSERIAL PRIMARY KEY",
    }

    def literal(self, value: Any, column: ColumnDefinition | None = None) -> str:
        if isinstance(value, bytes | bytearray | memoryview):
            return "'\\x" + bytes(value).hex() + "'::bytea"
        return super().literal(value, column)

    def uuid_default(self, column: ColumnDefinition) -> str:
        return "gen_random_uuid()"  # built in since PostgreSQL 13

    def alter_column(self, op: ops.AlterColumn) -> list[str]:
        """One ALTER TABLE with an action per change; a type change drops the default first
        (an old default may not cast) and replaces the enum CHECK."""
        column, changes = op.column, op.changes
        name = self.ident(column.name)
        actions: list[str] = []
        if "type" in changes:
            check = self.ident(self.constraint_name(op.table, (column.name,), "check"))
            sql_type = self.column_type(column)
            actions.append(f"DROP CONSTRAINT IF EXISTS {check}")
            if column.type not in ops.AUTO_INCREMENT_TYPES:
                actions.append(f"ALTER COLUMN {name} DROP DEFAULT")
            actions.append(f"ALTER COLUMN {name} TYPE {sql_type} USING {name}::{sql_type}")
        if "nullable" in changes:
            actions.append(f"ALTER COLUMN {name} {'DROP' if column.nullable else 'SET'} NOT NULL")
        if (
            "default" in changes or "type" in changes
        ) and column.type not in ops.AUTO_INCREMENT_TYPES:
            default = self.default_sql(column)
            if default is not None:
                actions.append(f"ALTER COLUMN {name} SET DEFAULT {default}")
            elif "type" not in changes:
                actions.append(f"ALTER COLUMN {name} DROP DEFAULT")
        if "type" in changes and column.type == "enum":
            actions.append(f"ADD {self.enum_check(op.table, column)}")
        if not actions:
            return []
        return [f"ALTER TABLE {self.table(op.table)} " + ", ".join(actions)]

    # ---- introspection -----------------------------------------------------------------
    def has_table_query(self, table: str) -> Query:
        return "SELECT to_regclass(?) IS NOT NULL AS found", (self.table(table),)

    def columns_query(self, table: str) -> Query:
        return _COLUMNS, (self.table(table),)

    def parse_columns(self, rows: list[Row]) -> list[ColumnInfo]:
        return [
            ColumnInfo(
                r["name"],
                r["type"],
                bool(r["nullable"]),
                r["default"],
                bool(r["primary_key"]),
                bool(r["auto_increment"]),
            )
            for r in rows
        ]

    def indexes_query(self, table: str) -> Query:
        return _INDEXES, (self.table(table),)

    def parse_indexes(self, rows: list[Row]) -> list[IndexInfo]:
        return [
            IndexInfo(r["name"], tuple(r["columns"]), bool(r["unique"]), bool(r["primary"]))
            for r in rows
        ]

    def foreign_keys_query(self, table: str) -> Query:
        return _FOREIGN_KEYS, (self.table(table),)

    def parse_foreign_keys(self, rows: list[Row]) -> list[ForeignKeyInfo]:
        return [
            ForeignKeyInfo(
                r["name"],
                tuple(r["columns"]),
                r["table"].strip('"'),
                tuple(r["references"]),
                _ACTIONS.get(r["on_delete"], "NO ACTION"),
                _ACTIONS.get(r["on_update"], "NO ACTION"),
            )
            for r in rows
        ]
