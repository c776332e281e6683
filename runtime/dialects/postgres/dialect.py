"""The PostgreSQL dialect (asyncpg)."""

from __future__ import annotations

import functools

from ...introspection.model import SchemaReader
from ...query.compiler import SqlCompiler
from ...schema_compiler import DdlCompiler
from ..base import Driver
from ..capabilities import Capabilities
from ..locks import MigrationLock
from .compiler import PostgresCompiler
from .lock import postgres_lock


class PostgresDialect:
    name = "postgres"
    capabilities = Capabilities(
        returning=True,
        transactional_ddl=True,
        savepoints=True,
        right_join=True,
        ilike=True,
        upsert="on_conflict",
        bulk_insert="copy",
        server_side_cursor=True,
        max_params=32767,
        isolation_levels=("read_uncommitted", "read_committed", "repeatable_read", "serializable"),
        placeholder="$n",
    )

    def __init__(self) -> None:
        self.compiler: SqlCompiler = PostgresCompiler()
        self.migration_lock: MigrationLock = postgres_lock()

    @functools.cached_property
    def ddl(self) -> DdlCompiler:
        from .ddl import PostgresDdl

        return PostgresDdl(self.compiler)

    document_engine = None  # a SQL engine: a ConnectionPool and the SQL builders

    @property
    def schema_reader(self) -> SchemaReader:
        from . import introspect

        return introspect

    @property
    def driver(self) -> Driver:
        from .driver import PostgresDriver

        return PostgresDriver()
