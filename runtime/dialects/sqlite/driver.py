"""The SQLite driver, on aiosqlite (the only module importing it).

aiosqlite runs one sqlite3 connection on its own thread and hands calls to it through a
queue. Every operation here is ONE hop to that thread: the statement, the fetch and the
dict building run together there (the public aiosqlite cursor API costs three hops per
query: execute, fetchall, close; one hop makes primary-key lookups about 3x faster). This
uses aiosqlite's ``Connection._execute`` and ``_conn``, stable since aiosqlite 0.11.

Small reads skip the worker thread: a SELECT first runs on the event loop's thread with a
budget of SQLite VM instructions, and one that needs more (or fails) runs again on the
worker (see ``worker.fetch_inline``). A primary-key lookup then costs a few microseconds
instead of two thread hops. Only on WAL (or in-memory) databases, where a reader never waits for a
lock, and never while a call on the worker may still be running.

``:memory:`` gives every connection its own empty database: pool it with one connection.

Timeouts and cancellation call ``sqlite3.Connection.interrupt()`` (thread-safe), so the
running statement really stops; a watchdog repeats the interrupt until the statement has
ended, because an interrupt that lands before the statement's first step is a no-op. The
connection stays usable afterwards (calls on it queue behind the interrupted one).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, TypeVar

import aiosqlite

from ...errors import DatabaseConnectionError, IntegrityError, QueryTimeoutError
from ...query.row_chunks import made
from ..base import ConnectParams, ExecResult, Row
from .errors import connect_error, translate
from .worker import (
    WHOLE_COUNT,
    Op,
    fetch_inline,
    quote,
    w_close_opened,
    w_execute,
    w_fetch,
    w_fk_constraint,
    w_many,
    w_pragmas,
    w_script,
    w_stream_close,
    w_stream_next,
    w_stream_open,
)

T = TypeVar("T")

_WATCHDOG_INTERVAL = 0.02  # seconds between repeated interrupts of an aborted statement
_DEFAULT_BUSY_TIMEOUT = 5.0  # seconds


# --- the connection ------------------------------------------------------------------------


class SQLiteConnection:
    """One aiosqlite connection behind the DriverConnection Protocol."""

    __slots__ = (
        "_aio",
        "_db",
        "_loop",
        "_settled",
        "_submit",
        "broken",
        "created_at",
        "inline_reads",
        "last_used",
    )

    def __init__(self, aio: aiosqlite.Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._aio = aio
        self._db: sqlite3.Connection = aio._conn
        self._submit: Callable[..., Any] = aio._execute
        self._loop = loop
        self.broken = False
        self.created_at = loop.time()
        self.last_used = self.created_at
        self.inline_reads = False  # set once the connection is known to be fit for them
        self._settled = True  # no call on the worker thread may still be running (_on_worker)

    @property
    def in_transaction(self) -> bool:
        # A call cancelled mid-way may still run on the worker (a BEGIN about to open a
        # transaction, a COMMIT about to end one): until a later call has ended, say yes,
        # so the pool's ROLLBACK, queued behind it, runs before the connection is reused.
        return not self._settled or self._db.in_transaction

    @property
    def session_id(self) -> int | None:
        return None

    # -- plumbing

    def _interrupt(self, op: Op) -> None:
        """Stop ``op`` on the worker thread: interrupt now and until it has ended."""
        op.abort = True
        if op.running:
            try:
                self._db.interrupt()
            except sqlite3.Error:
                return
            self._loop.call_later(_WATCHDOG_INTERVAL, self._interrupt, op)

    def _expire(self, op: Op) -> None:
        op.timed_out = True
        self._interrupt(op)

    async def _call(
        self,
        fn: Callable[..., T],
        sql: str | None,
        params: Sequence[Any] | None,
        timeout: float | None,
        *args: Any,
    ) -> T:
        op = Op()
        handle = None if timeout is None else self._loop.call_later(timeout, self._expire, op)
        try:
            result: T = await self._on_worker(fn, op, *args)
            return result
        except asyncio.CancelledError:
            self._interrupt(op)
            raise
        except Exception as exc:
            raise await self._failure(exc, op, sql, params, timeout) from exc
        finally:
            if handle is not None:
                handle.cancel()

    async def _on_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(sqlite3 connection, *args)`` on the worker thread. ``_settled`` is False
        until it is known to have ended there: a call cancelled mid-way may still run, and
        the sqlite3 connection must never be used from both threads at once."""
        self._settled = False
        try:
            result: T = await self._submit(fn, self._db, *args)
        except asyncio.CancelledError:
            raise
        except BaseException:
            self._settled = True  # it failed there: it has ended
            raise
        self._settled = True
        return result

    async def _failure(
        self,
        exc: Exception,
        op: Op,
        sql: str | None,
        params: Sequence[Any] | None,
        timeout: float | None,
    ) -> Exception:
        """The ``jadugar.errors`` exception for a failed call (to raise from ``exc``)."""
        err = translate(exc, sql, params)
        if isinstance(err, IntegrityError) and err.kind == "foreign_key" and sql:
            err = await self._name_foreign_key(err, sql)
        if op.timed_out and isinstance(err, QueryTimeoutError):
            err = QueryTimeoutError(
                f"statement ran past its {timeout:g}s timeout and was interrupted",
                sql=sql,
                code=err.code or "SQLITE_INTERRUPT",
                orig=exc,
            )
        elif isinstance(err, DatabaseConnectionError):
            self.broken = True
        return err

    async def _name_foreign_key(self, err: IntegrityError, sql: str) -> IntegrityError:
        try:
            name: str | None = await self._on_worker(w_fk_constraint, None, sql)
        except Exception:
            return err
        if not name:
            return err
        return IntegrityError(
            f"foreign key constraint failed: {name}",
            sql=err.sql,
            code=err.code,
            orig=err.orig,
            constraint=name,
            kind=err.kind,
        )

    # -- DriverConnection

    async def fetch(self, sql: str, params: Sequence[Any], timeout: float | None) -> list[Row]:
        found = (
            fetch_inline(self._db, sql, params)
            if self.inline_reads
            and self._settled
            and sql.startswith("SELECT")
            and WHOLE_COUNT(sql) is None
            else None
        )
        if found is not None:
            description, rows = found
        else:
            description, rows = await self._call(w_fetch, sql, params, timeout, sql, params)
        if description is None:
            return []
        names = [d[0] for d in description]
        return [dict(zip(names, row, strict=False)) for row in rows]

    async def execute(self, sql: str, params: Sequence[Any], timeout: float | None) -> ExecResult:
        return await self._call(w_execute, sql, params, timeout, sql, params)

    async def execute_script(self, sql: str, timeout: float | None) -> None:
        await self._call(w_script, sql, None, timeout, sql, ())

    async def execute_many(
        self, sql: str, rows: Sequence[Sequence[Any]], timeout: float | None
    ) -> int:
        if not rows:
            return 0
        return await self._call(w_many, sql, None, timeout, sql, rows)

    async def copy_records(
        self,
        table: str,
        columns: Sequence[str],
        records: Sequence[Sequence[Any]],
        timeout: float | None,
    ) -> int:
        """No COPY in SQLite: one prepared INSERT run for every record (executemany)."""
        records = made(records)  # rows checked in chunks: all made first
        cols = ", ".join(quote(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {quote(table)} ({cols}) VALUES ({marks})"
        return await self.execute_many(sql, records, timeout)

    async def stream(
        self, sql: str, params: Sequence[Any], batch_size: int, timeout: float | None
    ) -> AsyncGenerator[list[Row], None]:
        """A sqlite3 cursor read ``batch_size`` rows at a time: constant memory."""
        opened: list[sqlite3.Cursor] = []
        try:
            cur, rows = await self._call(
                w_stream_open, sql, params, timeout, opened, sql, params, batch_size
            )
        except asyncio.CancelledError:
            # the open may still finish on the worker, and its unfinished SELECT would hold
            # a read snapshot (a later BEGIN IMMEDIATE fails): close it there, behind it
            with contextlib.suppress(Exception):
                await self._on_worker(w_close_opened, None, opened)
            raise
        try:
            while rows:
                yield rows
                if len(rows) < batch_size:
                    break
                rows = await self._call(w_stream_next, sql, params, timeout, cur, batch_size)
        finally:
            if not self.broken:
                with contextlib.suppress(Exception):  # else the cursor dies with the connection
                    await self._on_worker(w_stream_close, None, cur)

    async def ping(self) -> None:
        try:
            await self._call(w_fetch, "SELECT 1", None, 5.0, "SELECT 1", ())
        except DatabaseConnectionError:
            raise
        except Exception as exc:
            self.broken = True
            raise DatabaseConnectionError(f"SQLite connection failed its ping: {exc}") from exc

    async def server_version(self) -> str:
        return sqlite3.sqlite_version

    async def close(self) -> None:
        self.broken = True
        try:
            await self._aio.close()
        except Exception as exc:
            raise translate(exc, None) from exc

    def terminate(self) -> None:
        self.broken = True
        with contextlib.suppress(sqlite3.Error, ValueError):
            self._db.interrupt()
        self._aio.stop()


def _daemon(connecting: aiosqlite.Connection) -> None:
    """aiosqlite's worker thread is not a daemon: a program that ends without
    ``disconnect()`` would hang at exit waiting for it. SQLite (WAL) survives the thread
    stopping mid-statement; the transaction is rolled back on the next open."""
    thread = getattr(connecting, "_thread", None)
    if isinstance(thread, threading.Thread) and not thread.is_alive():
        thread.daemon = True


class SQLiteDriver:
    """Opens SQLite connections: autocommit (the core sends BEGIN/COMMIT), WAL, foreign
    keys on, ``busy_timeout`` from ``options["busy_timeout"]`` seconds (default 5), inline
    reads unless ``options["inline_reads"]`` is false."""

    async def connect(self, params: ConnectParams) -> SQLiteConnection:
        path = params.path or ":memory:"
        where = params.describe()
        options = params.options
        try:
            busy = float(options.get("busy_timeout", _DEFAULT_BUSY_TIMEOUT))
        except ValueError:
            busy = _DEFAULT_BUSY_TIMEOUT
        pragmas = [f"PRAGMA busy_timeout = {int(busy * 1000)}"]
        in_memory = path == ":memory:" or path == "" or "mode=memory" in path
        if not in_memory:
            pragmas.append("PRAGMA journal_mode = WAL")
        pragmas += ["PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"]

        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(params.connect_timeout):
                connecting = aiosqlite.connect(
                    path,
                    isolation_level=None,
                    uri=path.startswith("file:"),
                    check_same_thread=False,  # inline reads; never two threads at once
                )
                _daemon(connecting)
                aio = await connecting
        except Exception as exc:
            raise connect_error(exc, where) from exc
        conn = SQLiteConnection(aio, loop)
        try:
            mode = await conn._call(w_pragmas, None, None, params.connect_timeout, pragmas)
        except BaseException as exc:
            conn.terminate()
            if isinstance(exc, Exception):
                raise connect_error(exc, where) from exc
            raise
        # a WAL reader never waits for a lock; in memory, no other connection holds one
        wanted = options.get("inline_reads", "true").lower() not in ("false", "0", "no", "off")
        conn.inline_reads = wanted and (in_memory or mode == "wal")
        return conn
