"""MySQL/MariaDB DDL: AUTO_INCREMENT, DATETIME(6), native ENUM, InnoDB + utf8mb4, MODIFY
COLUMN, introspection from information_schema."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, ClassVar

from ...migrations import operations as ops
from ...migrations.operations import ColumnDefinition
from ...query.expressions import SqlExpr
from ...query.values import naive_utc
from ...schema_compiler import (
    ColumnInfo,
    DdlCompiler,
    ForeignKeyInfo,
    IndexInfo,
    Query,
    Row,
)

_COLUMNS = """SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE = 'YES' AS nullable,
 COLUMN_DEFAULT AS `default`, COLUMN_KEY = 'PRI' AS primary_key,
 EXTRA LIKE '%auto_increment%' AS auto_increment
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
ORDER BY ORDINAL_POSITION"""

_INDEXES = """SELECT INDEX_NAME AS name, NON_UNIQUE = 0 AS `unique`,
 COALESCE(COLUMN_NAME, '') AS `column`
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
ORDER BY INDEX_NAME, SEQ_IN_INDEX"""

_FOREIGN_KEYS = """SELECT k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS `column`,
 k.REFERENCED_TABLE_NAME AS ref_table, k.REFERENCED_COLUMN_NAME AS ref_column,
 r.DELETE_RULE AS on_delete, r.UPDATE_RULE AS on_update
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
 AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION"""

# types whose default must be an expression: MySQL 8 refuses a literal default on them
_BLOB_TYPES = frozenset({"text", "json", "binary"})


class MySQLDdl(DdlCompiler):
    dialect_name = "mysql"
    types: ClassVar[Mapping[str, str]] = {
        "integer": "INTEGER",
        "big_integer": "BIGINT",
        "small_integer": "SMALLINT",
        "float": "FLOAT",
        "double": "DOUBLE",
        "decimal": "DECIMAL({precision}, {scale})",
        "string": "VARCHAR({length})",
        "text": "LONGTEXT",  # TEXT stops at 64 KiB
        "boolean": "BOOLEAN",
        "date": "DATE",
        "time": "TIME(6)",
        "timestamp": "DATETIME(6)",
        "uuid": "CHAR(36)",
        "json": "JSON",
        "binary": "LONGBLOB",
        "increments": "INTEGER",
        "big_increments": "BIGINT",
    }
    increments_types: ClassVar[Mapping[str, str]] = {
        "increments": "INTEGER AUTO_INCREMENT PRIMARY KEY",
        "big_increments": "BIGINT AUTO_INCREMENT PRIMARY KEY",
    }
    create_table_suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    partial_indexes = False
    index_methods = frozenset({"btree", "hash"})
    fk_actions = frozenset({"CASCADE", "SET NULL", "RESTRICT", "NO ACTION"})  # InnoDB

    def enum_type(self, column: ColumnDefinition) -> str:
        return "ENUM(" + ", ".join(self.literal(v) for v in column.values) + ")"

    def enum_check(self, table: str, column: ColumnDefinition) -> str | None:
        return None

    def literal(self, value: Any, column: ColumnDefinition | None = None) -> str:
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = naive_utc(value)  # DATETIME holds no zone: as the driver binds them
        return super().literal(value, column)

    def now_default(self, column: ColumnDefinition) -> str:
        # DATETIME(6) refuses a default of lower precision
        return "CURRENT_TIMESTAMP(6)" if column.type == "timestamp" else "CURRENT_TIMESTAMP"

    def uuid_default(self, column: ColumnDefinition) -> str:
        return "(UUID())"  # an expression default: MariaDB 10.2, MySQL 8.0.13

    def wrap_default(self, column: ColumnDefinition, literal: str) -> str:
        return f"({literal})" if column.type in _BLOB_TYPES else literal

    def index_method_sql(self, method: str) -> tuple[str, str]:
        return "", f" USING {method.upper()}"

    def drop_index(self, op: ops.DropIndex) -> list[str]:
        return [f"DROP INDEX {self.ident(op.name)} ON {self.table(op.table)}"]

    def drop_foreign_key(self, op: ops.DropForeignKey) -> list[str]:
        return [f"ALTER TABLE {self.table(op.table)} DROP FOREIGN KEY {self.ident(op.name)}"]

    def drop_unique(self, op: ops.DropUnique) -> list[str]:
        return [f"ALTER TABLE {self.table(op.table)} DROP INDEX {self.ident(op.name)}"]

    def alter_column(self, op: ops.AlterColumn) -> list[str]:
        """A default alone: ALTER COLUMN SET/DROP DEFAULT. Anything else: MODIFY COLUMN,
        which restates the whole column from ``op.column`` (type, nullability, default)."""
        column = op.column
        table, name = self.table(op.table), self.ident(column.name)
        if op.changes == {"default"} and not isinstance(column.default, SqlExpr):
            if column.default is None:
                return [f"ALTER TABLE {table} ALTER COLUMN {name} DROP DEFAULT"]
            default = self.default_sql(column)
            return [f"ALTER TABLE {table} ALTER COLUMN {name} SET DEFAULT {default}"]
        if column.type in ops.AUTO_INCREMENT_TYPES:
            definition = (
                f"{self.ident(column.name)} {self.types[column.type]} NOT NULL AUTO_INCREMENT"
            )
        else:
            definition = self.column_sql(op.table, column, primary=False)
        return [f"ALTER TABLE {self.table(op.table)} MODIFY COLUMN {definition}"]

    # ---- introspection -----------------------------------------------------------------
    def has_table_query(self, table: str) -> Query:
        return (
            "SELECT COUNT(*) AS found FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            (table,),
        )

    def columns_query(self, table: str) -> Query:
        return _COLUMNS, (table,)

    def parse_columns(self, rows: list[Row]) -> list[ColumnInfo]:
        out = []
        for r in rows:
            default = r["default"]
            if default == "NULL":  # MariaDB reports "no default" of a nullable column so
                default = None
            out.append(
                ColumnInfo(
                    r["name"],
                    r["type"],
                    bool(r["nullable"]),
                    default,
                    bool(r["primary_key"]),
                    bool(r["auto_increment"]),
                )
            )
        return out

    def indexes_query(self, table: str) -> Query:
        return _INDEXES, (table,)

    def parse_indexes(self, rows: list[Row]) -> list[IndexInfo]:
        columns: dict[str, list[str]] = defaultdict(list)
        unique: dict[str, bool] = {}
        for r in rows:
            columns[r["name"]].append(r["column"])
            unique[r["name"]] = bool(r["unique"])
        return [IndexInfo(n, tuple(c), unique[n], n == "PRIMARY") for n, c in columns.items()]

    def foreign_keys_query(self, table: str) -> Query:
        return _FOREIGN_KEYS, (table,)

    def parse_foreign_keys(self, rows: list[Row]) -> list[ForeignKeyInfo]:
        keys: dict[str, list[Row]] = defaultdict(list)
        for r in rows:
            keys[r["name"]].append(r)
        return [
            ForeignKeyInfo(
                name,
                tuple(r["column"] for r in parts),
                parts[0]["ref_table"],
                tuple(r["ref_column"] for r in parts),
                parts[0]["on_delete"],
                parts[0]["on_update"],
            )
            for name, parts in keys.items()
        ]
