"""The SQLite driver, on aiosqlite (the only module importing it).

aiosqlite runs one sqlite3 connection on its own thread and hands calls to it through a
queue. Every operation here is ONE hop to that thread: the statement, the fetch and the
dict building run together there (the public aiosqlite cursor API costs three hops per
query: execute, fetchall, close; one hop makes primary-key lookups about 3x faster). This
uses aiosqlite's ``Connection._execute`` and ``_conn``, stable since aiosqlite 0.11.

Small reads skip the worker thread: a SELECT first runs on the event loop's thread with a
budget of SQLite VM instructions, and one that needs more (or fails) runs again on the
worker (see ``_fetch_inline``). A primary-key lookup then costs a few microseconds instead
of two thread hops. Only on WAL (or in-memory) databases, where a reader never waits for a
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
import datetime
import decimal
import enum
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from typing import Any, TypeVar

import aiosqlite

from ...errors import DatabaseConnectionError, IntegrityError, QueryTimeoutError
from ...query.row_chunks import made
from ..base import ConnectParams, ExecResult, Row
from .errors import connect_error, translate

T = TypeVar("T")

_WATCHDOG_INTERVAL = 0.02  # seconds between repeated interrupts of an aborted statement
_DEFAULT_BUSY_TIMEOUT = 5.0  # seconds


class _Op:
    """One call on the worker thread: the loop side sets ``abort``, the worker sets
    ``running`` while the statement is in SQLite."""

    # class-level defaults, no __init__: one is made for every query
    abort = False
    running = False
    timed_out = False

    def start(self) -> None:
        # running before abort is read: the loop side sets abort, then reads running
        self.running = True
        if self.abort:
            self.running = False
            raise sqlite3.OperationalError("interrupted")


# --- functions run on the aiosqlite worker thread -----------------------------------------


def _adapt(value: Any) -> Any:
    """Values sqlite3 cannot bind natively (only reached after a binding error)."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)  # as the compiler writes it
    if isinstance(value, enum.Enum):
        return _adapt(value.value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return value


def _is_binding_error(exc: sqlite3.Error) -> bool:
    return "binding parameter" in str(exc)


def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
    try:
        return conn.execute(sql, params)
    except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
        if not _is_binding_error(exc):
            raise
        return conn.execute(sql, [_adapt(v) for v in params])


def _dicts(description: Any, rows: list[Any]) -> list[Row]:
    cols = [d[0] for d in description]
    return [dict(zip(cols, r, strict=False)) for r in rows]


def _w_fetch(
    conn: sqlite3.Connection, op: _Op, sql: str, params: Sequence[Any]
) -> tuple[Any, list[Any]]:
    """The description and the rows as tuples: the dicts are built on the loop, which
    leaves the worker thread (ten of them contending for the GIL under load) the least to
    do while it holds the GIL. ``_Op.start`` inlined: this runs for every query."""
    op.running = True  # before abort is read: the loop side sets abort, then reads running
    try:
        if op.abort:
            raise sqlite3.OperationalError("interrupted")
        try:
            cur = conn.execute(sql, params)
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
            if not _is_binding_error(exc):
                raise
            cur = conn.execute(sql, [_adapt(v) for v in params])
        return cur.description, cur.fetchall()  # fetchall leaves the cursor done: no close()
    finally:
        op.running = False


def _is_insert(sql: str) -> bool:
    head = sql.lstrip()[:7].upper()
    return head.startswith(("INSERT", "REPLACE"))


# A read may run on the event loop's own thread, skipping the two thread hops that cost
# far more than a small query (a primary-key lookup runs in a few microseconds). It gets a
# budget of SQLite VM instructions: one that needs more is stopped there (no writes, so
# nothing to undo) and runs again on the worker thread, where timeouts and cancellation
# apply. So the loop is never held for long; any error also goes to the worker, which
# reports it as usual. WAL readers take no lock that waits (busy_timeout never applies).
_INLINE_STEPS = 2000
# SQLite calls the progress handler each time a statement's step count, summed over every
# run of the cached prepared statement, passes a multiple of N: a budget of one call of N
# would stop a 13-step lookup once in every 150 runs. So the handler is called every
# _BUDGET_TICK steps and stops the statement at the budget's last tick of this run.
_BUDGET_TICK = 100
# COUNT(*) of a whole table is one VM instruction that walks every page: never inline
_WHOLE_COUNT = re.compile(r"count\s*\(", re.IGNORECASE).search


def _fetch_inline(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any]
) -> tuple[Any, list[Any]] | None:
    ticks = iter(range(_INLINE_STEPS // _BUDGET_TICK))

    def over_budget() -> bool:
        return next(ticks, None) is None

    conn.set_progress_handler(over_budget, _BUDGET_TICK)
    try:
        cur = conn.execute(sql, params)
        return cur.description, cur.fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.set_progress_handler(None, 0)


def _w_execute(conn: sqlite3.Connection, op: _Op, sql: str, params: Sequence[Any]) -> ExecResult:
    op.start()
    try:
        cur = _execute(conn, sql, params)
        try:
            description = cur.description
            raw_rows = cur.fetchall() if description is not None else []
            count = cur.rowcount
            last_id = cur.lastrowid
        finally:
            cur.close()
    finally:
        op.running = False
    if description is not None:
        # RETURNING: one row per affected row
        rows = _dicts(description, raw_rows)
        count = len(rows)
    else:
        rows = []
        count = max(count, 0)
    # sqlite3 reports the connection's last insert rowid after any statement: only an
    # INSERT that wrote a row has an id of its own.
    insert_id = last_id if count > 0 and last_id and _is_insert(sql) else None
    return ExecResult(rows, count, insert_id)


def _statements(script: str) -> Iterator[str]:
    """Split a script at the semicolons that end statements (not those inside strings,
    comments or trigger bodies)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        yield buffer  # incomplete: let SQLite report the syntax error


def _w_script(conn: sqlite3.Connection, op: _Op, sql: str, params: Sequence[Any]) -> None:
    op.start()
    try:
        if sql == "ROLLBACK" and not conn.in_transaction:
            return  # nothing to undo: a no-op, as on PostgreSQL and MySQL (not an error)
        try:
            conn.execute(sql).close()
        except sqlite3.ProgrammingError as exc:
            if "one statement at a time" not in str(exc):
                raise
            # several statements; not executescript(), which COMMITs an open transaction
            for statement in _statements(sql):
                conn.execute(statement).close()
    finally:
        op.running = False


def _w_many(conn: sqlite3.Connection, op: _Op, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    op.start()
    try:
        # the rows before one sqlite3 cannot bind are already in: undo them before the
        # retry with adapted values, or they would be inserted twice
        conn.execute("SAVEPOINT jadugar_many").close()
        try:
            try:
                cur = conn.executemany(sql, rows)
            except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
                if not _is_binding_error(exc):
                    raise
                conn.execute("ROLLBACK TO SAVEPOINT jadugar_many").close()
                cur = conn.executemany(sql, [[_adapt(v) for v in row] for row in rows])
        except BaseException:
            conn.execute("ROLLBACK TO SAVEPOINT jadugar_many").close()
            conn.execute("RELEASE SAVEPOINT jadugar_many").close()
            raise
        conn.execute("RELEASE SAVEPOINT jadugar_many").close()
        count = cur.rowcount
        cur.close()
    finally:
        op.running = False
    return max(count, 0)


def _w_stream_open(
    conn: sqlite3.Connection,
    op: _Op,
    opened: list[sqlite3.Cursor],
    sql: str,
    params: Sequence[Any],
    size: int,
) -> tuple[sqlite3.Cursor, list[Row]]:
    op.start()
    try:
        cur = _execute(conn, sql, params)
        opened.append(cur)
        if cur.description is None:
            cur.close()
            return cur, []
        return cur, _dicts(cur.description, cur.fetchmany(size))
    finally:
        op.running = False


def _w_stream_next(conn: sqlite3.Connection, op: _Op, cur: sqlite3.Cursor, size: int) -> list[Row]:
    op.start()
    try:
        return _dicts(cur.description, cur.fetchmany(size))
    finally:
        op.running = False


def _w_stream_close(conn: sqlite3.Connection, op: _Op | None, cur: sqlite3.Cursor) -> None:
    cur.close()


def _w_close_opened(conn: sqlite3.Connection, op: _Op | None, opened: list[Any]) -> None:
    for cur in opened:
        cur.close()


def _w_pragmas(conn: sqlite3.Connection, op: _Op, statements: Sequence[str]) -> str:
    """Run ``statements``; the journal mode they leave."""
    for statement in statements:
        for attempt in range(_PRAGMA_ATTEMPTS):
            try:
                conn.execute(statement).close()
                break
            except sqlite3.OperationalError as exc:
                # switching a brand-new file to WAL can report SQLITE_BUSY while another
                # connection opens it, whatever busy_timeout says: wait and retry
                if "locked" not in str(exc) or attempt == _PRAGMA_ATTEMPTS - 1:
                    raise
                time.sleep(0.02)
    return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()


_PRAGMA_ATTEMPTS = 100
_NAME = r'"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[\w$]+'
_DML_TABLE = re.compile(
    rf"^\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    rf"\s+(?:(?:{_NAME})\s*\.\s*)?({_NAME})",
    re.IGNORECASE,
)
_NAMED_FK = re.compile(rf"CONSTRAINT\s+({_NAME})\s+FOREIGN\s+KEY\s*\(([^)]*)\)", re.IGNORECASE)


def _unquote(name: str) -> str:
    name = name.strip()
    if name[:1] in ('"', "`", "[") and len(name) >= 2:
        return name[1:-1].replace('""', '"')
    return name


def _w_fk_constraint(conn: sqlite3.Connection, op: _Op | None, sql: str) -> str | None:
    """SQLite does not say which foreign key failed: name it from the statement's table
    (its only foreign key, by declared name when it has one), else the table itself."""
    match = _DML_TABLE.match(sql)
    if match is None:
        return None
    table = _unquote(match.group(2))
    if match.group(1).upper().startswith("DELETE"):
        return table  # one of its rows is still referenced
    keys = conn.execute(f"PRAGMA foreign_key_list({_quote(table)})").fetchall()
    ids = {key[0] for key in keys}
    if len(ids) != 1:
        return table
    columns = [key[3] for key in keys]
    found = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    for name, cols in _NAMED_FK.findall(found[0] if found and found[0] else ""):
        if [_unquote(c) for c in cols.split(",")] == columns:
            return _unquote(name)
    return f"{table}.{', '.join(columns)}"


def _quote(name: str) -> str:
    return ".".join("`" + part.replace("`", "``") + "`" for part in name.split("."))


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

    def _interrupt(self, op: _Op) -> None:
        """Stop ``op`` on the worker thread: interrupt now and until it has ended."""
        op.abort = True
        if op.running:
            try:
                self._db.interrupt()
            except sqlite3.Error:
                return
            self._loop.call_later(_WATCHDOG_INTERVAL, self._interrupt, op)

    def _expire(self, op: _Op) -> None:
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
        op = _Op()
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
        op: _Op,
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
            name: str | None = await self._on_worker(_w_fk_constraint, None, sql)
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
            _fetch_inline(self._db, sql, params)
            if self.inline_reads
            and self._settled
            and sql.startswith("SELECT")
            and _WHOLE_COUNT(sql) is None
            else None
        )
        if found is not None:
            description, rows = found
        else:
            description, rows = await self._call(_w_fetch, sql, params, timeout, sql, params)
        if description is None:
            return []
        names = [d[0] for d in description]
        return [dict(zip(names, row, strict=False)) for row in rows]

    async def execute(self, sql: str, params: Sequence[Any], timeout: float | None) -> ExecResult:
        return await self._call(_w_execute, sql, params, timeout, sql, params)

    async def execute_script(self, sql: str, timeout: float | None) -> None:
        await self._call(_w_script, sql, None, timeout, sql, ())

    async def execute_many(
        self, sql: str, rows: Sequence[Sequence[Any]], timeout: float | None
    ) -> int:
        if not rows:
            return 0
        return await self._call(_w_many, sql, None, timeout, sql, rows)

    async def copy_records(
        self,
        table: str,
        columns: Sequence[str],
        records: Sequence[Sequence[Any]],
        timeout: float | None,
    ) -> int:
        """No COPY in SQLite: one prepared INSERT run for every record (executemany)."""
        records = made(records)  # rows checked in chunks: all made first
        cols = ", ".join(_quote(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {_quote(table)} ({cols}) VALUES ({marks})"
        return await self.execute_many(sql, records, timeout)

    async def stream(
        self, sql: str, params: Sequence[Any], batch_size: int, timeout: float | None
    ) -> AsyncGenerator[list[Row], None]:
        """A sqlite3 cursor read ``batch_size`` rows at a time: constant memory."""
        opened: list[sqlite3.Cursor] = []
        try:
            cur, rows = await self._call(
                _w_stream_open, sql, params, timeout, opened, sql, params, batch_size
            )
        except asyncio.CancelledError:
            # the open may still finish on the worker, and its unfinished SELECT would hold
            # a read snapshot (a later BEGIN IMMEDIATE fails): close it there, behind it
            with contextlib.suppress(Exception):
                await self._on_worker(_w_close_opened, None, opened)
            raise
        try:
            while rows:
                yield rows
                if len(rows) < batch_size:
                    break
                rows = await self._call(_w_stream_next, sql, params, timeout, cur, batch_size)
        finally:
            if not self.broken:
                with contextlib.suppress(Exception):  # else the cursor dies with the connection
                    await self._on_worker(_w_stream_close, None, cur)

    async def ping(self) -> None:
        try:
            await self._call(_w_fetch, "SELECT 1", None, 5.0, "SELECT 1", ())
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
            mode = await conn._call(_w_pragmas, None, None, params.connect_timeout, pragmas)
        except BaseException as exc:
            conn.terminate()
            if isinstance(exc, Exception):
                raise connect_error(exc, where) from exc
            raise
        # a WAL reader never waits for a lock; in memory, no other connection holds one
        wanted = options.get("inline_reads", "true").lower() not in ("false", "0", "no", "off")
        conn.inline_reads = wanted and (in_memory or mode == "wal")
        return conn
