"""The MySQL/MariaDB dialect (aiomysql)."""

from __future__ import annotations

from ...query.compiler import SqlCompiler
from ..base import Driver
from ..capabilities import Capabilities
from .compiler import MySQLCompiler


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

    @property
    def driver(self) -> Driver:
        from .driver import MySQLDriver

        return MySQLDriver()
