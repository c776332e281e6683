"""The seams between the core and a database: connection parameters, the driver Protocol,
and the Dialect that bundles a compiler, capabilities and a driver.

Drivers (``dialects/<db>/driver.py``) are the only modules importing asyncpg, aiomysql or
aiosqlite, and they import lazily. Every driver method raises only ``jadugar.errors`` types:
driver exceptions are translated once, there.
"""

from __future__ import annotations

import ssl as _ssl
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..hosts import HostSet, format_host

if TYPE_CHECKING:
    from ..query.compiler import SqlCompiler
    from ..schema_compiler import DdlCompiler
    from .capabilities import Capabilities
    from .locks import MigrationLock

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ConnectParams:
    """Everything a driver needs to open one connection; built by ``DatabaseOptions``."""

    engine: str
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    path: str | None = None  # SQLite file, or ":memory:"
    ssl: _ssl.SSLContext | None = None  # None: plain text
    ssl_mode: str = "disable"
    connect_timeout: float = 10.0
    statement_cache: bool = True  # prepared-statement cache (turn off behind PgBouncer)
    options: dict[str, str] = field(default_factory=dict, repr=False)  # extra URL query options
    scheme: str | None = None  # the URL's scheme as written ("mongodb+srv", "postgresql"...)
    ssl_root_cert: str | None = None  # the CA file (PEM) of verify-ca / verify-full
    # a URL naming several hosts (MySQL: a Galera cluster): which one a new connection
    # goes to (runtime/hosts.py); host/port are then the first of them. None: one host.
    hosts: HostSet | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """Where this points, for messages: never the password."""
        if self.path is not None:
            return f"{self.engine} file {self.path}"
        user = f"{self.user}@" if self.user else ""
        where = f"{self.host}:{self.port}"
        if self.hosts is not None:
            where = ",".join(format_host(h) for h in self.hosts.hosts)
        return f"{self.engine}://{user}{where}/{self.database or ''}"


@dataclass(slots=True)
class ExecResult:
    """What a write returned: rows (RETURNING), affected count, and the last insert id."""

    rows: list[Row]
    row_count: int
    last_insert_id: int | None = None


class DriverConnection(Protocol):
    """One open connection. ``timeout`` is seconds for this statement, ``None`` for none.

    On timeout a driver stops the statement on the server, raises ``QueryTimeoutError``
    and either leaves the connection usable or sets ``broken``. A task cancelled mid-call
    does the same, then re-raises ``CancelledError``.
    """

    broken: bool  # must never be handed out again
    created_at: float  # loop.time() at creation
    last_used: float  # loop.time() of the last release

    @property
    def in_transaction(self) -> bool: ...

    @property
    def session_id(self) -> int | None:
        """Server-side id (PostgreSQL backend pid, MySQL connection id)."""
        ...

    async def fetch(self, sql: str, params: Sequence[Any], timeout: float | None) -> list[Row]: ...

    async def execute(self, sql: str, params: Sequence[Any], timeout: float | None) -> ExecResult:
        """Run a write; returns RETURNING rows when the statement has them."""
        ...

    async def execute_script(self, sql: str, timeout: float | None) -> None:
        """Run a statement without parameters and without results (BEGIN, SAVEPOINT, DDL)."""
        ...

    async def execute_many(
        self, sql: str, rows: Sequence[Sequence[Any]], timeout: float | None
    ) -> int: ...

    async def copy_records(
        self,
        table: str,
        columns: Sequence[str],
        records: Sequence[Sequence[Any]],
        timeout: float | None,
    ) -> int:
        """Bulk load (PostgreSQL COPY). Only called when ``capabilities.copy``.
        ``records`` may be a ``RowChunks`` (rows checked a chunk at a time): a driver
        that cannot stream them makes every row first (``row_chunks.made``)."""
        ...

    def stream(
        self, sql: str, params: Sequence[Any], batch_size: int, timeout: float | None
    ) -> AsyncGenerator[list[Row], None]:
        """Batches from a server-side cursor. Must be consumed inside a transaction on
        drivers that need one (the caller opens it)."""
        ...

    async def ping(self) -> None:
        """Cheap liveness check; raises ``DatabaseConnectionError`` when dead."""
        ...

    async def server_version(self) -> str: ...

    async def close(self) -> None: ...

    def terminate(self) -> None:
        """Drop the connection now, without a goodbye (used when it cannot be trusted)."""
        ...


class Driver(Protocol):
    async def connect(self, params: ConnectParams) -> DriverConnection: ...


class Dialect(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def compiler(self) -> SqlCompiler: ...

    @property
    def ddl(self) -> DdlCompiler:
        """The schema (DDL) compiler, imported on first use."""
        ...

    @property
    def driver(self) -> Driver:
        """A new driver object (imports the driver library on first use)."""
        ...

    @property
    def migration_lock(self) -> MigrationLock: ...
