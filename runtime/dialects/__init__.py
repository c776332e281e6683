"""Dialects by engine name, imported lazily so unused drivers are never loaded."""

from __future__ import annotations

from typing import cast

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
    if engine == "mongodb":
        from .mongodb.dialect import MongoDialect

        # a document store: its compiler is a MongoCompiler, not a SqlCompiler; the core
        # branches on capabilities.document_store before using it as one
        return cast("Dialect", MongoDialect())
    raise ConfigurationError(
        f"no dialect for engine {engine!r}; use postgres, mysql, sqlite or mongodb",
        field="engine",
    )
