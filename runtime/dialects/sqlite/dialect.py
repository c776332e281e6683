"""The SQLite dialect (aiosqlite), the embedded default."""

from __future__ import annotations

from ...query.compiler import SqlCompiler
from ..base import Driver
from ..capabilities import Capabilities
from .compiler import SQLiteCompiler


class SQLiteDialect:
    name = "sqlite"
    capabilities = Capabilities(
        returning=SQLiteCompiler.supports_returning,
        transactional_ddl=True,
        savepoints=True,
        right_join=SQLiteCompiler.supports_right_join,
        ilike=False,
        upsert="on_conflict",
        bulk_insert="executemany",
        server_side_cursor=False,
        max_params=32766,
        isolation_levels=("serializable",),
        placeholder="?",
    )

    def __init__(self) -> None:
        self.compiler: SqlCompiler = SQLiteCompiler()

    @property
    def driver(self) -> Driver:
        from .driver import SQLiteDriver

        return SQLiteDriver()
