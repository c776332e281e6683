"""MySQL/MariaDB: `backticks`, %s placeholders, ON DUPLICATE KEY UPDATE, no RETURNING."""

from __future__ import annotations

from ...query import tree
from ...query.compiler import SqlCompiler

_NO_LIMIT = "18446744073709551615"  # MySQL has no OFFSET without LIMIT


class MySQLCompiler(SqlCompiler):
    dialect_name = "mysql"
    quote_char = "`"
    supports_returning = False
    max_identifier_length = 64
    backslash_escapes = True
    pyformat = True

    def placeholder(self, index: int) -> str:
        return "%s"

    def ilike_sql(self, left: str, right: str, negate: bool = False) -> str:
        op = "NOT LIKE" if negate else "LIKE"
        return f"LOWER({left}) {op} LOWER({right})"

    def limit_offset_sql(self, limit: int | None, offset: int | None) -> str:
        sql = f" LIMIT {int(limit) if limit is not None else _NO_LIMIT}"
        if offset is not None:
            sql += f" OFFSET {int(offset)}"
        return sql

    def upsert_sql(self, node: tree.OnConflict) -> str:
        # MariaDB has no "AS new" row alias; VALUES(col) works on MariaDB and MySQL 8.
        update = node.update or node.columns[:1]
        sets = ", ".join(
            f"{self.quote_column(c)} = VALUES({self.quote(c)})"
            if node.update
            else f"{self.quote(c)} = {self.quote(c)}"
            for c in update
        )
        return f" ON DUPLICATE KEY UPDATE {sets}"

    def default_values_sql(self) -> str:
        return " () VALUES ()"

    def begin_sql(self, isolation: str | None, read_only: bool) -> list[str]:
        statements = []
        if isolation:
            statements.append("SET TRANSACTION ISOLATION LEVEL " + self._isolation_words(isolation))
        statements.append("START TRANSACTION READ ONLY" if read_only else "START TRANSACTION")
        return statements
