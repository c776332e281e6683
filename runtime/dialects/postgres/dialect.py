"""The PostgreSQL dialect (asyncpg)."""

from __future__ import annotations

from ...query.compiler import SqlCompiler
from ..base import Driver
from ..capabilities import Capabilities
from .compiler import PostgresCompiler


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

    @property
    def driver(self) -> Driver:
        from .driver import PostgresDriver

        return PostgresDriver()
