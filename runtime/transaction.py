"""Transactions: ``async with db.transaction() as tx`` and ``await db.transaction(fn)``.

A transaction entered while the task is already inside one becomes a savepoint. While the
block runs, every builder and model call made by the task uses the transaction's connection
(``connection.current_transaction``).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import session_settings
from .connection import PinnedTransaction, Session, current_transaction
from .dialects.base import DriverConnection
from .errors import DatabaseConnectionError, SerializationError, TransactionError

if TYPE_CHECKING:
    from .query.builder import RawQuery, TableQueryBuilder
    from .session_host import SessionHost

T = TypeVar("T")


class Transaction:
    """One transaction or savepoint. Use it as an async context manager."""

    def __init__(
        self,
        manager: SessionHost,
        *,
        isolation: str | None = None,
        read_only: bool = False,
        schema_changes: bool = False,
    ) -> None:
        manager.dialect.compiler.isolation_check(isolation)
        self.manager = manager
        self.isolation = isolation
        self.read_only = read_only or manager.options.read_only
        # a migration's transaction: the dialect may prepare the connection for DDL first
        # (SQLite turns foreign key enforcement off so a table rebuild keeps its rows)
        self.schema_changes = schema_changes
        self.parent: Transaction | None = None
        self.savepoint: str | None = None
        self.active = False
        self.lock = asyncio.Lock()
        self.streaming: asyncio.Task[Any] | None = None  # task iterating a stream() in it
        self._connection: DriverConnection | None = None
        self._token: contextvars.Token[PinnedTransaction | None] | None = None
        self._depth = 0
        self._session = Session(manager, pinned=self)
        self.cache_tables: set[str] = set()  # written in it: invalidated again at the end
        # COMMIT was sent: a connection lost from then on leaves the outcome unknown (the
        # server may have committed), so the transaction must not be run again blindly
        self.commit_sent = False

    @property
    def _timeout(self) -> float | None:
        """BEGIN, COMMIT, ROLLBACK and savepoints are bounded like any statement (a stalled
        link must not hold the caller past its timeout)."""
        return self.manager.default_timeout

    @property
    def connection(self) -> DriverConnection:
        if self._connection is None:
            raise TransactionError("the transaction has not started (use `async with`)")
        return self._connection

    def check_active(self) -> None:
        if not self.active:
            raise TransactionError(
                "the transaction has already ended; run queries inside its `async with` block"
            )

    # ---- query entry points, bound to this transaction's connection ---------------------
    def table(self, name: str) -> TableQueryBuilder:
        from .query.builder import TableQueryBuilder

        return TableQueryBuilder(self._session, name)

    def raw(self, sql: str, params: Sequence[Any] = ()) -> RawQuery:
        from .query.builder import RawQuery

        return RawQuery(self._session, sql, params)

    def transaction(self) -> Transaction:
        """A savepoint inside this transaction."""
        return Transaction(self.manager)

    # ---- lifecycle --------------------------------------------------------------------
    async def __aenter__(self) -> Transaction:
        if self._connection is not None:
            raise TransactionError("a Transaction object can be entered only once")
        compiler = self.manager.dialect.compiler
        parent = cast("Transaction | None", current_transaction.get())  # only these set it
        if parent is not None and parent.manager is self.manager and parent.active:
            self.parent = parent
            self._depth = parent._depth + 1
            self.savepoint = f"jadugar_sp_{self._depth}"
            self._connection = parent.connection
            async with parent.lock:
                await self._connection.execute_script(
                    compiler.savepoint_sql(self.savepoint), self._timeout
                )
        else:
            pool = self.manager.pool
            conn = await pool.acquire()
            try:
                for sql in self._schema_sql(before=True):
                    await conn.execute_script(sql, self._timeout)
                for sql in compiler.begin_sql(self.isolation, self.read_only):
                    await conn.execute_script(sql, self._timeout)
                await session_settings.apply(self.manager, conn)
            except BaseException:
                await pool.release(conn)
                raise
            self._connection = conn
        self.active = True
        self._token = current_transaction.set(self)
        self._emit("transaction:begin")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            try:
                current_transaction.reset(self._token)
            except ValueError:  # exited from another context: just clear it there
                current_transaction.set(self.parent)
            self._token = None
        self.active = False
        try:
            if exc_type is None:
                await self._commit()
            else:
                await self._rollback()
        finally:
            if self.cache_tables:  # the outermost transaction (savepoints record there)
                await self.manager.query_cache.invalidate(frozenset(self.cache_tables))

    async def _commit(self) -> None:
        conn = self.connection
        compiler = self.manager.dialect.compiler
        if self.savepoint is not None:
            assert self.parent is not None
            async with self.parent.lock:
                await conn.execute_script(
                    compiler.release_savepoint_sql(self.savepoint), self._timeout
                )
            self._emit("transaction:commit")
            return
        self.commit_sent = True
        try:
            await conn.execute_script("COMMIT", self._timeout)
        except BaseException:
            # a failed COMMIT leaves nothing committed; the pool rolls back or discards
            await self._restore(conn)
            await self.manager.pool.release(conn)
            self._emit("transaction:rollback")
            raise
        await self._restore(conn)
        replicas = self.manager.replica_set
        try:
            if replicas is not None and not self.read_only:
                await replicas.note_write(conn)  # read-your-writes: later reads see this commit
        finally:
            await self.manager.pool.release(conn)
        self._emit("transaction:commit")

    async def _rollback(self) -> None:
        conn = self.connection
        compiler = self.manager.dialect.compiler
        if self.savepoint is not None:
            assert self.parent is not None
            async with self.parent.lock:
                await conn.execute_script(
                    compiler.rollback_to_savepoint_sql(self.savepoint), self._timeout
                )
                await conn.execute_script(
                    compiler.release_savepoint_sql(self.savepoint), self._timeout
                )
            self._emit("transaction:rollback")
            return
        try:
            if not conn.broken:
                await conn.execute_script("ROLLBACK", self._timeout)
        except Exception:
            pass  # the pool sees the open transaction or the broken connection and handles it
        finally:
            await self._restore(conn)
            await self.manager.pool.release(conn)
            self._emit("transaction:rollback")

    def _schema_sql(self, *, before: bool) -> list[str]:
        if not self.schema_changes:
            return []
        return self.manager.dialect.compiler.schema_changes_sql(before=before)

    async def _restore(self, conn: DriverConnection) -> None:
        """Undo the schema-change setup; a connection that cannot be restored is dropped."""
        statements = self._schema_sql(before=False)
        if not statements or conn.broken:
            return
        try:
            for sql in statements:
                await conn.execute_script(sql, self._timeout)
        except Exception:
            conn.broken = True

    def _emit(self, event: str) -> None:
        events = self.manager.events
        if events.has(event):
            events.emit(event, {"savepoint": self.savepoint, "depth": self._depth})


async def run_in_transaction(
    manager: SessionHost,
    fn: Callable[[Transaction], Awaitable[T]],
    *,
    isolation: str | None,
    read_only: bool,
) -> T:
    """Run ``fn(tx)`` in a transaction; the whole function is retried (``RetryOptions``,
    with backoff and jitter) after a serialization failure or deadlock, rolled back, and
    after a lost connection before COMMIT was sent (nothing was committed: the server
    rolls back a transaction whose connection ends; a connection lost during COMMIT is
    raised, the outcome being unknown). On a Galera cluster a certification conflict (a
    write to the same rows committed first on another node) is a deadlock, often on
    COMMIT, and is retried the same way. Inside an outer transaction it is a savepoint
    and is not retried on its own."""
    retry = manager.options.retry_options
    attempt = 0
    while True:
        outer = current_transaction.get()
        nested = outer is not None and outer.manager is manager and outer.active
        tx = Transaction(manager, isolation=isolation, read_only=read_only)
        try:
            async with tx:
                return await fn(tx)
        except (SerializationError, DatabaseConnectionError) as exc:
            attempt += 1
            lost = isinstance(exc, DatabaseConnectionError)
            if nested or attempt >= retry.attempts or (lost and tx.commit_sent):
                raise
            if manager.events.has("retry"):
                manager.events.emit("retry", {"attempt": attempt, "error": exc})
            await asyncio.sleep(retry.delay(attempt))


__all__ = ["Transaction", "run_in_transaction"]
