"""Running compiled queries: on the current transaction's connection when the calling task
is inside ``db.transaction()`` (a context variable), else on a pooled connection."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from . import session_settings
from .dialects.base import DriverConnection, ExecResult
from .errors import DatabaseConnectionError, JadugarError, QueryError, TransactionError
from .query import tree
from .query.compiler import CompiledQuery
from .query.result import QueryResult
from .query.row_chunks import RowChunks, made
from .replicas.consistency import ReadOptions, is_read_statement
from .replicas.routing import fetch_on_replica, stream_on_replica

if TYPE_CHECKING:
    from .session_host import SessionHost

Row = dict[str, Any]
T = TypeVar("T")


class PinnedTransaction(Protocol):
    """What a session uses of the transaction it runs in (``transaction.Transaction``, a
    layer above: it also hands out builders)."""

    manager: SessionHost
    active: bool
    lock: asyncio.Lock
    streaming: asyncio.Task[Any] | None
    cache_tables: set[str]

    @property
    def parent(self) -> PinnedTransaction | None: ...

    @property
    def connection(self) -> DriverConnection: ...

    def check_active(self) -> None: ...

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Any]: ...


current_transaction: contextvars.ContextVar[PinnedTransaction | None] = contextvars.ContextVar(
    "jadugar_transaction", default=None
)

COPY_THRESHOLD = 500  # rows from which COPY beats multi-row VALUES on PostgreSQL


class Session:
    """Where a builder's statements run. The manager's session follows the task's current
    transaction; a transaction's own session is pinned to its connection."""

    __slots__ = ("capabilities", "compiler", "dialect", "manager", "pinned", "read_only")

    def __init__(self, manager: SessionHost, pinned: PinnedTransaction | None = None) -> None:
        self.manager = manager
        self.dialect = manager.dialect
        self.compiler = manager.dialect.compiler
        self.capabilities = manager.dialect.capabilities
        self.pinned = pinned
        self.read_only = manager.options.read_only  # writes refused (runtime/read_only.py)

    def _transaction(self) -> PinnedTransaction | None:
        if self.pinned is not None:
            self.pinned.check_active()
            return self.pinned
        tx = current_transaction.get()
        if tx is not None and tx.manager is self.manager and tx.active:
            return tx
        return None

    async def _run(
        self,
        compiled: CompiledQuery,
        timeout: float | None,
        call: Callable[[DriverConnection], Awaitable[T]],
        *,
        retry_safe: bool,
        attempts_made: int = 0,
    ) -> T:
        manager = self.manager
        events = manager.events
        observed = events.has("query") or events.has("error")
        started = time.perf_counter() if observed else 0.0
        tx = self._transaction()
        try:
            if tx is not None:
                if tx.streaming is not None and tx.streaming is asyncio.current_task():
                    raise TransactionError(
                        "a stream() is still open on this transaction's connection: finish "
                        "or leave the `async for` before running other queries in it"
                    )
                async with tx.lock:
                    result = await call(tx.connection)
            else:
                if not retry_safe and manager.replica_set is not None:
                    call = manager.replica_set.tracking(call)  # for read-your-writes
                result = await self._on_pool(call, retry_safe, attempts_made)
        except JadugarError as exc:
            if isinstance(exc, QueryError) and exc.sql is None:
                exc.sql = compiled.sql
            if events.has("error"):
                events.emit("error", {"sql": compiled.sql, "error": exc})
            raise
        if observed and events.has("query"):
            count = len(result) if isinstance(result, list) else getattr(result, "row_count", 0)
            events.emit(
                "query",
                {
                    "sql": compiled.sql,
                    "params": compiled.params,
                    "duration": time.perf_counter() - started,
                    "row_count": count,
                    "target": "primary",
                },
            )
        return result

    async def _on_pool(
        self,
        call: Callable[[DriverConnection], Awaitable[T]],
        retry_safe: bool,
        attempt: int = 0,
    ) -> T:
        manager = self.manager
        pool = manager.pool
        while True:
            conn = await pool.acquire()
            try:
                if manager.options.session_variables is not None:
                    return await session_settings.run_in_short_transaction(manager, conn, call)
                return await call(conn)
            except DatabaseConnectionError as exc:
                retry = manager.options.retry_options
                attempt += 1
                if not retry_safe or attempt >= retry.attempts:
                    raise
                if manager.events.has("retry"):
                    manager.events.emit("retry", {"attempt": attempt, "error": exc})
                await asyncio.sleep(retry.delay(attempt))
            finally:
                await pool.release(conn)

    def fetch(
        self, compiled: CompiledQuery, timeout: float | None, read: ReadOptions | None = None
    ) -> Awaitable[list[Row]]:
        return self.fetch_sql(compiled.sql, compiled.params, timeout, read)

    async def fetch_sql(
        self,
        sql: str,
        params: tuple[Any, ...],
        timeout: float | None,
        read: ReadOptions | None = None,
    ) -> list[Row]:
        """Rows of ``sql``. ``read``: a builder read that may run on a replica (routed by
        its consistency when replicas are configured); ``None``: the primary."""
        manager = self.manager
        if timeout is None:
            timeout = manager.default_timeout
        pool = manager._pool
        attempts_made = 0
        if pool is not None and self.pinned is None and current_transaction.get() is None:
            if manager.replica_set is not None:  # the one check when there are none
                return await self._fetch_routed(sql, params, timeout, read)
            if not manager.events.observes_queries and manager.options.session_variables is None:
                # hot path: no transaction, nobody listening: one pooled call; a lost
                # connection falls through to _run, which retries (RetryOptions)
                conn = await pool.acquire()
                try:
                    return await conn.fetch(sql, params, timeout)
                except DatabaseConnectionError as exc:
                    retry = manager.options.retry_options
                    if retry.attempts <= 1:
                        raise
                    attempts_made = 1
                    if manager.events.has("retry"):
                        manager.events.emit("retry", {"attempt": 1, "error": exc})
                except QueryError as exc:
                    if exc.sql is None:
                        exc.sql = sql
                    raise
                finally:
                    reset = pool.release_nowait(conn)  # no coroutine unless it must roll back
                    if reset is not None:
                        await asyncio.shield(reset)
                await asyncio.sleep(manager.options.retry_options.delay(1))

        def call(conn: DriverConnection) -> Awaitable[list[Row]]:
            return conn.fetch(sql, params, timeout)

        return await self._run(
            CompiledQuery(sql, params), timeout, call, retry_safe=True, attempts_made=attempts_made
        )

    async def _fetch_routed(
        self, sql: str, params: tuple[Any, ...], timeout: float | None, read: ReadOptions | None
    ) -> list[Row]:
        """A read where its consistency allows, on a replica or else the primary."""
        replicas = self.manager.replica_set
        assert replicas is not None
        # session variables (row-level security) are set on the primary's transactions
        # only: such reads stay there
        if read is not None and self.manager.options.session_variables is None:
            rows = await fetch_on_replica(replicas, sql, params, timeout, read)
            if rows is not None:
                return rows

        def call(conn: DriverConnection) -> Awaitable[list[Row]]:
            return conn.fetch(sql, params, timeout)

        # raw SQL on the primary that may write (RETURNING): never retried, and _run tracks
        # its position for read-your-writes
        retry_safe = read is not None or is_read_statement(sql)
        return await self._run(CompiledQuery(sql, params), timeout, call, retry_safe=retry_safe)

    async def execute(self, compiled: CompiledQuery, timeout: float | None) -> ExecResult:
        sql, params = compiled.sql, compiled.params
        if timeout is None:
            timeout = self.manager.default_timeout

        def call(conn: DriverConnection) -> Awaitable[ExecResult]:
            return conn.execute(sql, params, timeout)

        return await self._run(compiled, timeout, call, retry_safe=False)

    async def insert_many(
        self,
        table: tree.TableRef,
        columns: tuple[str, ...],
        rows: Sequence[tuple[Any, ...]],
        returning: tuple[str, ...],
        on_conflict: tree.OnConflict | None,
        timeout: float | None,
    ) -> QueryResult:
        """Bulk insert by the dialect's fastest path, all-or-nothing: one statement (COPY,
        or one multi-row VALUES), or several inside one transaction."""
        if not rows:
            return QueryResult([], 0)
        caps = self.capabilities
        compiler = self.compiler
        plain = not returning and on_conflict is None and table.alias is None
        if caps.bulk_insert == "copy" and plain and len(rows) >= COPY_THRESHOLD:
            compiled = CompiledQuery(f"COPY {compiler.quote(table.name)} FROM STDIN", ())

            def copy(conn: DriverConnection) -> Awaitable[int]:
                return conn.copy_records(table.name, columns, rows, timeout)

            tx = self._transaction()
            # a chunk failing its check mid-COPY must not abort the whole transaction
            guard = (
                tx.transaction()
                if tx is not None and isinstance(rows, RowChunks)
                else contextlib.nullcontext()
            )
            async with guard:
                count = await self._run(compiled, timeout, copy, retry_safe=False)
            return QueryResult([], count)
        records = made(rows)  # already checked and JSON-encoded by the builder
        per_statement = max(1, min(1000, caps.max_params // len(columns)))
        single = caps.bulk_insert != "executemany" and len(rows) <= per_statement
        if not single and self._transaction() is None:
            async with self.manager.transaction():
                return await self.insert_many(
                    table, columns, records, returning, on_conflict, timeout
                )
        if caps.bulk_insert == "executemany" and not returning:
            compiled = compiler.insert_rows_sql(table, columns, 1, (), on_conflict)

            def many(conn: DriverConnection) -> Awaitable[int]:
                return conn.execute_many(compiled.sql, records, timeout)

            count = await self._run(compiled, timeout, many, retry_safe=False)
            return QueryResult([], count)
        total = 0
        out_rows: list[Row] = []
        ids: list[Any] = []
        for start in range(0, len(records), per_statement):
            chunk = records[start : start + per_statement]
            statement = compiler.insert_rows_sql(table, columns, len(chunk), returning, on_conflict)
            compiled = CompiledQuery(statement.sql, tuple(chain.from_iterable(chunk)))
            result = await self.execute(compiled, timeout)
            total += result.row_count
            out_rows.extend(result.rows)
            ids.extend(QueryResult.from_insert(result).inserted_ids if result.rows else ())
        return QueryResult(out_rows, total, ids)

    async def stream(
        self,
        compiled: CompiledQuery,
        batch_size: int,
        timeout: float | None,
        read: ReadOptions | None = None,
    ) -> AsyncGenerator[list[Row], None]:
        """Batches from a server-side cursor. Outside a transaction the stream holds its own
        pooled connection in a read-only transaction (not the task's current one), on a
        replica when ``read`` allows it."""
        if batch_size < 1:
            raise ValueError("stream() batch_size must be at least 1")
        if timeout is None:
            timeout = self.manager.default_timeout
        sql, params = compiled.sql, compiled.params
        tx = self._transaction()
        if tx is not None:
            async with tx.lock:
                tx.streaming = asyncio.current_task()
                try:
                    async with aclosing(
                        tx.connection.stream(sql, params, batch_size, timeout)
                    ) as it:
                        async for batch in it:
                            yield batch
                finally:
                    tx.streaming = None
            return
        replicas = self.manager.replica_set
        if (
            replicas is not None
            and read is not None
            and self.manager.options.session_variables is None
        ):
            batches = await stream_on_replica(replicas, sql, params, batch_size, timeout, read)
            if batches is not None:
                async with aclosing(batches) as it:
                    async for batch in it:
                        yield batch
                return
        pool = self.manager.pool
        compiler = self.compiler
        conn = await pool.acquire()
        try:
            for statement in compiler.begin_sql(None, True):
                await conn.execute_script(statement, None)
            await session_settings.apply(self.manager, conn)
            async with aclosing(conn.stream(sql, params, batch_size, timeout)) as it:
                async for batch in it:
                    yield batch
            await conn.execute_script("COMMIT", None)
        finally:
            await pool.release(conn)  # rolls back a transaction left open by an early exit
