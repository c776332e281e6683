"""The MySQL/MariaDB dialect (aiomysql)."""

from __future__ import annotations

import functools

from ...introspection.model import SchemaReader
from ...query.compiler import SqlCompiler
from ...schema_compiler import DdlCompiler
from ..base import Driver
from ..capabilities import Capabilities
from ..locks import MigrationLock
from .compiler import MySQLCompiler
from .lock import mysql_lock


class MySQLDialect:
    name = "mysql"
    capabilities = Capabilities(
        returning=False,
        transactional_ddl=False,
        savepoints=True,
        right_join=True,
        ilike=False,
        upsert="on_duplicate_key",
        bulk_insert="values",
        server_side_cursor=True,
        max_params=65535,
        isolation_levels=("read_uncommitted", "read_committed", "repeatable_read", "serializable"),
        placeholder="%s",
    )

    def __init__(self) -> None:
        self.compiler: SqlCompiler = MySQLCompiler()
        self.migration_lock: MigrationLock = mysql_lock()

    @functools.cached_property
    def ddl(self) -> DdlCompiler:
        from .ddl import MySQLDdl

        return MySQLDdl(self.compiler)

    document_engine = None  # a SQL engine: a ConnectionPool and the SQL builders

    @property
    def schema_reader(self) -> SchemaReader:
        from . import introspect

        return introspect

    @property
    def driver(self) -> Driver:
        from .driver import MySQLDriver

        return MySQLDriver()
