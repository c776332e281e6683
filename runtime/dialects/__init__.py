"""Dialects by engine name, imported lazily so unused drivers are never loaded."""

from __future__ import annotations

from ..errors import ConfigurationError
from .base import Dialect


def get_dialect(engine: str) -> Dialect:
    if engine == "postgres":
        from .postgres.dialect import PostgresDialect

        return PostgresDialect()
    if engine == "mysql":
        from .mysql.dialect import MySQLDialect

        return MySQLDialect()
    if engine == "sqlite":
        from .sqlite.dialect import SQLiteDialect

        return SQLiteDialect()
    raise ConfigurationError(
        f"no SQL dialect for engine {engine!r}; use postgres, mysql or sqlite", field="engine"
    )
