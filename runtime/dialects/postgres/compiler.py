"""PostgreSQL: "quotes", $n placeholders, native ILIKE, RETURNING, ON CONFLICT."""

from __future__ import annotations

from typing import Any

from ...query.compiler import SqlCompiler


class PostgresCompiler(SqlCompiler):
    dialect_name = "postgres"
    driver_checks_values = True
    encodes_json = False  # the driver registers json/jsonb codecs

    def placeholder(self, index: int) -> str:
        return f"${index}"

    def adapt_json(self, value: dict[str, Any] | list[Any]) -> Any:
        return value
