"""DatabaseManager: configuration → dialect + pool; transactions, events, health.

async with DatabaseManager(url="postgresql://app@127.0.0.1/app") as db:
    rows = await db.query.table("users").where({"active": True}).all()
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, overload

from .cache import CacheBackend, CacheMetrics, QueryCache, backend_from_options
from .config import DatabaseOptions, MigrationOptions
from .connection import Session
from .dialects import get_dialect
from .dialects.base import Dialect, DocumentClient, DriverConnection
from .errors import ConfigurationError, DatabaseConnectionError, JadugarError
from .events import EventEmitter, Handler
from .health import HealthStatus
from .migration_results import MigrationRun
from .pool import ConnectionPool, PoolMetrics, PoolStatus
from .query.query_builder import QueryBuilder
from .read_only import session_sql as read_only_session_sql
from .schema_builder import SchemaBuilder
from .transaction import Transaction, run_in_transaction

if TYPE_CHECKING:
    from .dialects.mongodb.driver import MongoConnection
    from .dialects.mongodb.schema import MongoSchemaBuilder
    from .replicas.replica_set import ReplicaSet

T = TypeVar("T")
logger = logging.getLogger("jadugar")


class DatabaseManager:
    """Owns the configuration, the dialect, the pool and the event handlers of one database."""

    def __init__(
        self,
        options: DatabaseOptions | None = None,
        *,
        cache_backend: CacheBackend | None = None,
        **kwargs: Any,
    ) -> None:
        """``cache_backend``: where ``.cache()`` results live (default: what
        ``options.cache.backend`` names, an in-memory LRU bounded by ``options.cache``
        or a Redis shared by processes)."""
        if options is None:
            options = DatabaseOptions(**kwargs)
        elif kwargs:
            options = options.model_copy(update=kwargs)
        self.options = options
        engine = options.engine
        if engine is None:  # pragma: no cover - DatabaseOptions always infers it
            raise ConfigurationError("no engine: give engine= or a URL", field="engine")
        self.dialect: Dialect = get_dialect(engine)
        # a document store has no ConnectionPool: one client, itself a pool, and builders
        # of its own, all from its dialect (Dialect.document_engine)
        self._engine = self.dialect.document_engine
        self.document_store = self._engine is not None
        if self._engine is not None and options.replicas:
            raise ConfigurationError(f"replicas: {self._engine.replicas_hint}", field="replicas")
        self.events = EventEmitter()
        self.default_timeout: float | None = options.timeout
        self._params = options.connect_params()
        self._pool: ConnectionPool[DriverConnection] | None = None
        self._document: DocumentClient | None = None
        if cache_backend is None:
            cache_backend = backend_from_options(options.cache)
        self.query_cache = QueryCache(options.url_masked, options.cache, cache_backend)
        # the read replicas once connected (runtime/replicas); None without replicas
        self.replica_set: ReplicaSet | None = None
        self._session = Session(self)
        self.query: QueryBuilder = QueryBuilder(self._session)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, /, **overrides: Any
    ) -> DatabaseManager:
        """Configured from JADUGAR_DATABASE_URL, else DATABASE_URL, else a local SQLite file.
        (A cache backend: ``DatabaseManager(DatabaseOptions.from_env(), cache_backend=...)``.)"""
        return cls(DatabaseOptions.from_env(environ, **overrides))

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"<DatabaseManager {self.options.url_masked} {state}>"

    # ---- lifecycle --------------------------------------------------------------------
    @property
    def pool(self) -> ConnectionPool[DriverConnection]:
        if self._pool is None:
            if self.document_store:
                raise ConfigurationError(
                    f"{self.dialect.name} has no ConnectionPool: its client is its own pool; "
                    "use db.pool_status() / db.pool_metrics()",
                    field="engine",
                )
            raise DatabaseConnectionError(_NOT_CONNECTED)
        return self._pool

    @property
    def document_connection(self) -> MongoConnection:
        """The connection of a document store: one client, its own pool. (Typed as
        MongoDB's, the one document store, for annotations only.)"""
        if self._document is None:
            if not self.document_store:
                raise ConfigurationError(
                    f"{self.dialect.name} is not a document store: use db.pool", field="engine"
                )
            raise DatabaseConnectionError(_NOT_CONNECTED)
        return cast("MongoConnection", self._document)

    @property
    def connected(self) -> bool:
        return self._pool is not None or self._document is not None

    def pool_status(self) -> PoolStatus:
        """The connection pool's numbers now (the client's pool on MongoDB)."""
        if self._document is not None:
            return self._document.pool_status()
        return self.pool.get_status()

    def pool_metrics(self) -> PoolMetrics:
        """The connection pool's counters since it opened (the client's pool on MongoDB)."""
        if self._document is not None:
            return self._document.pool_metrics()
        return self.pool.get_metrics()

    def cache_metrics(self) -> CacheMetrics:
        """The query cache's counters: hits, misses, entries, invalidations."""
        return self.query_cache.metrics()

    async def invalidate_cache(self, *tables: str) -> None:
        """Drop the cached results that read ``tables`` (every one when none is given): for
        writes Jadugar does not see (another process, a trigger, a cascade)."""
        if tables:
            await self.query_cache.invalidate(tables)
        else:
            await self.query_cache.clear()

    async def connect(self) -> None:
        if self.connected:
            return
        if self._engine is not None:
            self._document = await self._engine.connect(self._params, self.options.pool)
            # the models' default manager when no other connected one is (as SQL managers)
            _became_connected(self)
            self.events.emit("connect", {"engine": self.dialect.name})
            return
        pool_options = self.options.pool
        if self._params.path == ":memory:" and pool_options.max != 1:
            # every SQLite :memory: connection is its own database: share one
            pool_options = pool_options.model_copy(
                update={"max": 1, "min": min(1, pool_options.min)}
            )
        driver = self.dialect.driver
        params = self._params
        setup = read_only_session_sql(self.dialect.name) if self.options.read_only else None

        warned = False

        async def factory() -> DriverConnection:
            nonlocal warned
            conn = await driver.connect(params)
            # behind a pooler (PgBouncer) the server session changes between transactions:
            # session state set here would stay on a server connection other clients share
            pooled = bool(getattr(conn, "behind_pooler", False))
            if pooled and not warned:
                warned = True
                _warn_pooled(self.options, params.statement_cache)
            if setup is not None and not pooled:  # the server refuses writes too
                try:
                    await conn.execute_script(setup, None)
                except BaseException:
                    await conn.close()
                    raise
            return conn

        pool: ConnectionPool[DriverConnection] = ConnectionPool(
            factory, pool_options, name="primary", describe=self.options.url_masked
        )
        if self.events.has("pool:acquire") or self.events.has("pool:release"):
            self._wire_pool_events(pool)
        await pool.open()
        self._pool = pool
        if self.options.replicas:
            from .replicas.replica_set import ReplicaSet

            replicas = ReplicaSet(self)
            try:
                await replicas.open()
            except BaseException:
                self._pool = None
                await replicas.close()
                await pool.close()
                raise
            self.replica_set = replicas
        await self.query_cache.connect()  # Redis unreachable: a warning, reads uncached
        _became_connected(self)
        self.events.emit("connect", {"engine": self.dialect.name})

    def _wire_pool_events(self, pool: ConnectionPool[DriverConnection]) -> None:
        events = self.events

        def acquired(conn: DriverConnection) -> None:
            events.emit("pool:acquire", {"session_id": conn.session_id})

        def released(conn: DriverConnection) -> None:
            events.emit("pool:release", {"session_id": conn.session_id})

        pool.on_acquire = acquired
        pool.on_release = released

    async def open_connection(self) -> DriverConnection:
        """A connection of its own, outside the pool (the migration lock holds one); the
        caller closes it."""
        if self.document_store:
            from .errors import UnsupportedOperation

            raise UnsupportedOperation(
                "open_connection()", self.dialect.name, "use db.document_connection"
            )
        return await self.dialect.driver.connect(self._params)

    async def disconnect(self) -> None:
        document, self._document = self._document, None
        if document is not None:
            _became_disconnected(self)
            await document.close()
            self.events.emit("disconnect", {"engine": self.dialect.name})
            return
        pool, self._pool = self._pool, None
        replicas, self.replica_set = self.replica_set, None
        _became_disconnected(self)
        if replicas is not None:
            await replicas.close()
        if pool is not None:
            await self.query_cache.close()
            await pool.close()
            self.events.emit("disconnect", {"engine": self.dialect.name})

    async def __aenter__(self) -> DatabaseManager:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    # ---- events -----------------------------------------------------------------------
    def on(self, event: str, handler: Handler) -> DatabaseManager:
        self.events.on(event, handler)
        if event.startswith("pool:") and self._pool is not None:
            self._wire_pool_events(self._pool)
        return self

    def off(self, event: str, handler: Handler) -> DatabaseManager:
        self.events.off(event, handler)
        return self

    # ---- queries and transactions -----------------------------------------------------
    def get_query_builder(self) -> QueryBuilder:
        return self.query

    # ---- migrations (SPEC 6 through MigrationManager) ---------------------------------
    async def migrate(
        self, options: MigrationOptions | None = None, *, dry_run: bool = False
    ) -> list[MigrationRun]:
        """Apply the pending migrations of ``options`` (default: ``self.options.migrations``):
        ``await db.migrate(MigrationOptions(directory="generated/migrations"))``."""
        return await _migrator()(options, self).migrate(dry_run=dry_run)

    async def rollback(
        self, steps: int = 1, options: MigrationOptions | None = None, *, dry_run: bool = False
    ) -> list[MigrationRun]:
        """Undo the last ``steps`` applied migrations, newest first."""
        return await _migrator()(options, self).rollback(steps, dry_run=dry_run)

    @property
    def schema(self) -> SchemaBuilder:
        """A new SchemaBuilder (SPEC 5): ``await db.schema.drop_table("tags")``. On a
        document store (MongoDB) a ``MongoSchemaBuilder`` (see ``document_schema``)."""
        return self.query.schema

    @property
    def document_schema(self) -> MongoSchemaBuilder:
        """A new MongoSchemaBuilder (MongoDB only), typed: collections, indexes, validators."""
        return self.query.document_schema

    @overload
    def transaction(
        self, fn: None = None, *, isolation: str | None = None, read_only: bool = False
    ) -> Transaction: ...

    @overload
    def transaction(
        self,
        fn: Callable[[Transaction], Awaitable[T]],
        *,
        isolation: str | None = None,
        read_only: bool = False,
    ) -> Awaitable[T]: ...

    def transaction(
        self,
        fn: Callable[[Transaction], Awaitable[T]] | None = None,
        *,
        isolation: str | None = None,
        read_only: bool = False,
    ) -> Transaction | Awaitable[T]:
        """``async with db.transaction() as tx:`` or ``await db.transaction(fn)`` (retried
        on serialization failures). Nested calls become savepoints.

        On MongoDB: a client session's transaction (``DocumentTransaction``), on a replica
        set or sharded cluster only (``UnsupportedOperation`` on a standalone server and on
        mongomock, when the block is entered); no savepoints, no retries, no isolation."""
        if self._engine is not None:  # its own transaction, with Transaction's surface
            return cast("Transaction", self._engine.transaction(self, fn, isolation, read_only))
        if fn is None:
            return Transaction(self, isolation=isolation, read_only=read_only)
        return run_in_transaction(self, fn, isolation=isolation, read_only=read_only)

    # ---- health -----------------------------------------------------------------------
    async def health_check(self) -> HealthStatus:
        """Ping the server through the pool: latency, version and pool status."""
        engine = self.dialect.name
        if self._document is not None:
            return await self._document_health(engine, self._document)
        if self._pool is None:
            return HealthStatus(healthy=False, engine=engine, error="not connected")
        replicas: list[HealthStatus] = []
        if self.replica_set is not None:
            from .replicas.health import replica_health

            replicas = await replica_health(self.replica_set)
        started = time.perf_counter()
        try:
            async with self._pool.connection() as conn:
                await conn.ping()
                latency = (time.perf_counter() - started) * 1000
                version = await conn.server_version()
        except JadugarError as exc:
            return HealthStatus(
                healthy=False,
                engine=engine,
                error=str(exc),
                pool=self._pool.get_status(),
                replicas=replicas,
            )
        return HealthStatus(
            healthy=True,
            engine=engine,
            latency_ms=round(latency, 3),
            server_version=version,
            pool=self._pool.get_status(),
            replicas=replicas,
        )

    async def _document_health(self, engine: str, conn: DocumentClient) -> HealthStatus:
        started = time.perf_counter()
        try:
            await conn.ping()
            latency = (time.perf_counter() - started) * 1000
            version = await conn.server_version()
        except JadugarError as exc:
            return HealthStatus(
                healthy=False, engine=engine, error=str(exc), pool=conn.pool_status()
            )
        return HealthStatus(
            healthy=True,
            engine=engine,
            latency_ms=round(latency, 3),
            server_version=version,
            pool=conn.pool_status(),
        )


def _warn_pooled(options: DatabaseOptions, statement_cache: bool) -> None:
    """What cannot hold behind a connection pooler, said once per manager."""
    where = options.url_masked
    if statement_cache:
        logger.warning(
            "%s is behind a connection pooler (PgBouncer?) and statement_cache is on: "
            "prepared statements fail under transaction pooling unless the pooler keeps "
            "them (PgBouncer >= 1.21 with max_prepared_statements); set statement_cache="
            "False (JADUGAR_STATEMENT_CACHE=false, or ?statement_cache=false in the URL)",
            where,
        )
    if options.read_only:
        logger.warning(
            "read_only: %s is behind a connection pooler, so the server is not told to "
            "refuse writes for the session (the setting would stay on a server connection "
            "that other clients share). Jadugar still refuses writes and transactions "
            "begin READ ONLY; for the server to refuse the rest, make the role read-only: "
            "ALTER ROLE <role> SET default_transaction_read_only = on",
            where,
        )


_NOT_CONNECTED = (
    "the DatabaseManager is not connected: call `await db.connect()` or use "
    "`async with DatabaseManager(...) as db`"
)


# ---- what the layers above plug in ---------------------------------------------------
# (an import may only go down: tests/unit/test_layers.py)

_connected: list[DatabaseManager] = []  # the manager models use when none is bound


def _became_connected(manager: DatabaseManager) -> None:
    if not _connected or not _connected[0].connected:
        _connected[:] = [manager]


def _became_disconnected(manager: DatabaseManager) -> None:
    if _connected and _connected[0] is manager:
        _connected.clear()


def last_connected() -> DatabaseManager | None:
    """The manager that connected last and is still connected (models without a bound
    manager use it)."""
    return _connected[0] if _connected else None


class Migrator(Protocol):
    async def migrate(self, *, dry_run: bool = False) -> list[MigrationRun]: ...

    async def rollback(self, steps: int = 1, *, dry_run: bool = False) -> list[MigrationRun]: ...


MigratorFactory = Callable[[MigrationOptions | None, DatabaseManager], Migrator]
_migrators: list[MigratorFactory] = []


def use_migrator(factory: MigratorFactory) -> None:
    """``db.migrate()`` / ``db.rollback()`` delegate to ``factory(options, db)``:
    ``jadugar.migrations`` registers its ``MigrationManager`` (``import jadugar`` does)."""
    _migrators[:] = [factory]


def _migrator() -> MigratorFactory:
    if not _migrators:
        raise ConfigurationError(
            "db.migrate() needs jadugar.migrations: `import jadugar.migrations` first"
        )
    return _migrators[0]
