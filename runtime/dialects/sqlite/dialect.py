"""The SQLite dialect (aiosqlite), the embedded default."""

from __future__ import annotations

import functools

from ...introspection.model import SchemaReader
from ...query.compiler import SqlCompiler
from ...schema_compiler import DdlCompiler
from ..base import Driver
from ..capabilities import Capabilities
from ..locks import MigrationLock
from .compiler import SQLITE_VERSION, SQLiteCompiler
from .lock import SQLiteFileLock


class SQLiteDialect:
    name = "sqlite"
    capabilities = Capabilities(
        returning=SQLiteCompiler.supports_returning,
        transactional_ddl=True,
        savepoints=True,
        right_join=SQLiteCompiler.supports_right_join,
        ilike=False,
        upsert="on_conflict",
        # multi-row INSERT … VALUES: twice as fast as executemany's one statement per row
        bulk_insert="values",
        server_side_cursor=False,
        max_params=32766 if SQLITE_VERSION >= (3, 32, 0) else 999,  # SQLITE_MAX_VARIABLE_NUMBER
        isolation_levels=("serializable",),
        placeholder="?",
        alter_in_place=False,
    )

    def __init__(self) -> None:
        self.compiler: SqlCompiler = SQLiteCompiler()
        self.migration_lock: MigrationLock = SQLiteFileLock()

    @functools.cached_property
    def ddl(self) -> DdlCompiler:
        from .ddl import SQLiteDdl

        return SQLiteDdl(self.compiler)

    document_engine = None  # a SQL engine: a ConnectionPool and the SQL builders

    @property
    def schema_reader(self) -> SchemaReader:
        from . import introspect

        return introspect

    @property
    def driver(self) -> Driver:
        from .driver import SQLiteDriver

        return SQLiteDriver()
