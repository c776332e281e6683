"""The seams between the core and a database: connection parameters, the driver Protocol,
and the Dialect that bundles a compiler, capabilities and a driver.

Drivers (``dialects/<db>/driver.py``) are the only modules importing asyncpg, aiomysql or
aiosqlite, and they import lazily. Every driver method raises only ``jadugar.errors`` types:
driver exceptions are translated once, there.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..connect_params import ConnectParams

if TYPE_CHECKING:
    from ..config import PoolOptions
    from ..introspection.model import SchemaReader
    from ..pool_types import PoolMetrics, PoolStatus
    from ..query.compiler import SqlCompiler
    from ..schema_compiler import DdlCompiler
    from .capabilities import Capabilities
    from .locks import MigrationLock

__all__ = [
    "ConnectParams",
    "Dialect",
    "DocumentClient",
    "DocumentEngine",
    "Driver",
    "DriverConnection",
    "ExecResult",
    "Row",
]

Row = dict[str, Any]


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


class DocumentClient(Protocol):
    """A document store's one client, itself a pool (``Dialect.document_engine.connect``)."""

    def pool_status(self) -> PoolStatus: ...

    def pool_metrics(self) -> PoolMetrics: ...

    async def ping(self) -> None: ...

    async def server_version(self) -> str: ...

    async def close(self) -> None: ...


class DocumentEngine(Protocol):
    """What a document store plugs in where SQL engines have a ``ConnectionPool``, the SQL
    builders and ``Transaction``: the manager and the query builder ask the dialect for it
    (``Dialect.document_engine``) and never name the engine. Sessions, managers and
    builders are typed ``Any`` here: they live in layers above the dialects."""

    replicas_hint: str  # why DatabaseOptions.replicas does not apply, and what does
    table_type: type[Any]  # what ``db.query.table(name)`` builds: ``table_type(session, name)``

    async def connect(self, params: ConnectParams, pool: PoolOptions) -> DocumentClient: ...

    def schema(self, session: Any) -> Any:
        """``db.schema`` / ``db.document_schema`` on this engine."""
        ...

    def transaction(
        self,
        manager: Any,
        fn: Callable[[Any], Awaitable[Any]] | None,
        isolation: str | None,
        read_only: bool,
    ) -> Any:
        """``db.transaction()`` (an async context manager) or ``db.transaction(fn)``."""
        ...


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

    @property
    def document_engine(self) -> DocumentEngine | None:
        """A document store's parts (MongoDB), imported on first use; None on SQL."""
        ...

    @property
    def schema_reader(self) -> SchemaReader | None:
        """The live-schema reader (``jadugar.introspection``), imported on first use;
        None where the engine has none."""
        ...
