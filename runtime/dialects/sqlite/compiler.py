"""SQLite: "quotes", ? placeholders, ON CONFLICT, RETURNING (3.35+), BEGIN IMMEDIATE."""

from __future__ import annotations

import sqlite3

from ...query.compiler import SqlCompiler

SQLITE_VERSION = tuple(int(p) for p in sqlite3.sqlite_version.split("."))


class SQLiteCompiler(SqlCompiler):
    dialect_name = "sqlite"
    driver_checks_values = True
    # `backticks`, not "double quotes": SQLite reads an unknown "name" as a string literal
    # (its double-quoted-string fallback), which would turn a typo into a constant.
    quote_char = "`"
    supports_right_join = SQLITE_VERSION >= (3, 39, 0)
    supports_returning = SQLITE_VERSION >= (3, 35, 0)
    max_identifier_length = 1024

    def ilike_sql(self, left: str, right: str, negate: bool = False) -> str:
        op = "NOT LIKE" if negate else "LIKE"
        return f"LOWER({left}) {op} LOWER({right})"

    def limit_offset_sql(self, limit: int | None, offset: int | None) -> str:
        sql = f" LIMIT {int(limit) if limit is not None else -1}"
        if offset is not None:
            sql += f" OFFSET {int(offset)}"
        return sql

    def schema_changes_sql(self, *, before: bool) -> list[str]:
        # PRAGMA foreign_keys is ignored inside a transaction: set it around one, so a table
        # rebuild's DROP TABLE does not cascade (the rebuild checks foreign keys itself)
        return ["PRAGMA foreign_keys = OFF" if before else "PRAGMA foreign_keys = ON"]

    def begin_sql(self, isolation: str | None, read_only: bool) -> list[str]:
        # SQLite transactions are always serializable; a write transaction takes the write
        # lock up front so concurrent writers wait (busy_timeout) instead of failing later.
        self.isolation_check(isolation)
        return ["BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE"]
