"""The MySQL/MariaDB driver, on aiomysql (the only module importing it).

Statements go through ``Connection.query`` directly, not through a cursor object: one
call, no cursor allocation, no ``SHOW WARNINGS`` round trip (aiomysql's cursors send one
whenever a statement has warnings). Values are escaped by the connection's own
``escape()``; ``dict``/``list`` values are sent as JSON text.

Timeouts and cancellation. The MySQL protocol cannot cancel a statement in-band, so:

- On MariaDB, a statement with a timeout is sent as ``SET STATEMENT max_statement_time=T
  FOR …``: the server stops it itself (error 1969 -> ``QueryTimeoutError``) and the
  connection stays usable. A client timer at ``T + 0.25 s`` backs it up.
- Whenever the client timer fires (MySQL, scripts, streams, or the MariaDB backstop) or
  the task is cancelled mid-statement, the connection is closed and marked ``broken``
  and a short side connection sends ``KILL QUERY <id>`` so the server stops the work. On
  timeout the KILL is awaited (up to 0.2 s, then it goes on in the background: a stalled
  network must not hold the caller) before ``QueryTimeoutError`` is raised; on
  cancellation it runs in the background so ``CancelledError`` propagates at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import json
import logging
from collections.abc import AsyncGenerator, Sequence
from typing import Any, NoReturn

import aiomysql
from pymysql.constants import CLIENT

from ...errors import DatabaseConnectionError, QueryError, QueryTimeoutError
from ...hosts import HostSet, format_host
from ...query.row_chunks import made
from ...query.values import naive_utc
from ..base import ConnectParams, ExecResult, Row
from ..failures import connection_failed
from .errors import connect_error, failure_reason, translate

log = logging.getLogger("jadugar.mysql")

_SERVER_TIMEOUT_GRACE = 0.25  # client backstop after MariaDB's max_statement_time
_KILL_TIMEOUT = 5.0  # bound on the side connection that sends KILL QUERY
_KILL_WAIT = 0.2  # how long a timed-out call waits for its KILL (then it goes on alone)
_PING_TIMEOUT = 5.0
_CLOSE_TIMEOUT = 5.0
_COPY_CHUNK_BYTES = 1 << 20  # multi-row INSERT statements of about 1 MiB
_JSON_TYPES = (dict, list)
# hex literals: valid whatever the sql_mode (NO_BACKSLASH_ESCAPES), and aiomysql 0.3's own
# bytes escaping is broken with PyMySQL 1.2 (escape_bytes_prefixed became a string)
_BINARY_TYPES = (bytes, bytearray, memoryview)
# values the connection's escape() writes as they are (anything else: _escape_special)
_PLAIN = frozenset({str, int, float, bool, type(None), decimal.Decimal, datetime.date})
_background: set[asyncio.Task[None]] = set()  # KILL QUERY tasks started on cancellation


def _connect_kwargs(params: ConnectParams, connect_timeout: float) -> dict[str, Any]:
    return {
        "host": params.host or "localhost",
        "port": params.port or 3306,
        "user": params.user,
        "password": params.password or "",
        "db": params.database,
        "ssl": params.ssl,
        "connect_timeout": connect_timeout,
        "autocommit": True,
        "charset": "utf8mb4",
        # UPDATE reports rows matched, not rows changed, like PostgreSQL and SQLite
        "client_flag": CLIENT.FOUND_ROWS,
        # NOW()/CURRENT_TIMESTAMP and TIMESTAMP columns in UTC, as models read DATETIMEs
        "init_command": "SET time_zone = '+00:00'",
    }


def _dicts(description: Any, rows: Any) -> list[Row]:
    cols = [d[0] for d in description]
    return [dict(zip(cols, r, strict=False)) for r in rows]


def _quote(name: str) -> str:
    return ".".join("`" + part.replace("`", "``") + "`" for part in name.split("."))


class MySQLConnection:
    """One aiomysql connection behind the DriverConnection Protocol."""

    __slots__ = (
        "_broken",
        "_mariadb",
        "_params",
        "_raw",
        "_server_timeout",
        "_thread_id",
        "created_at",
        "last_used",
    )

    def __init__(self, raw: Any, params: ConnectParams, loop: asyncio.AbstractEventLoop) -> None:
        self._raw = raw
        self._params = params
        self._thread_id: int = int(raw.thread_id())
        self._mariadb = "mariadb" in str(raw.get_server_info()).lower()
        # MariaDB: enforce timeouts on the server with SET STATEMENT max_statement_time
        self._server_timeout = self._mariadb
        self._broken = False
        self.created_at = loop.time()
        self.last_used = self.created_at

    @property
    def broken(self) -> bool:
        """Never hand this connection out again (also true once the driver closed it)."""
        return self._broken or bool(self._raw.closed)

    @broken.setter
    def broken(self, value: bool) -> None:
        self._broken = value

    @property
    def in_transaction(self) -> bool:
        return bool(self._raw.get_transaction_status())

    @property
    def session_id(self) -> int | None:
        return self._thread_id

    # -- plumbing

    def _text(self, sql: str, params: Sequence[Any] | None) -> str:
        """The statement as sent: placeholders filled in. SQL from the compiler has its
        literal ``%`` doubled (pyformat) with or without parameters; hand-written SQL with
        a lone ``%`` and no parameters (which cannot be pyformat) is sent as it is."""
        if params:
            return self._escape(sql, params)
        if "%" in sql:
            try:
                return sql % ()
            except (TypeError, ValueError):
                return sql
        return sql

    def _escape(self, sql: str, params: Sequence[Any]) -> str:
        escape = self._raw.escape
        special = self._escape_special
        try:
            values = tuple([escape(v) if type(v) in _PLAIN else special(v) for v in params])
            return sql % values
        except (TypeError, ValueError) as exc:
            raise QueryError(
                f"cannot bind the parameters ({len(params)} given): {exc}", sql=sql, orig=exc
            ) from exc

    def _escape_special(self, value: Any) -> str:
        """A value the connection's ``escape()`` does not write as Jadugar means it."""
        if isinstance(value, _JSON_TYPES):
            return self._raw.escape(json.dumps(value))  # type: ignore[no-any-return]
        if isinstance(value, _BINARY_TYPES):
            return "X'" + bytes(value).hex() + "'"
        if isinstance(value, datetime.datetime) and value.utcoffset() is not None:
            # DATETIME has no time zone and models read it back as UTC: the same instant
            value = naive_utc(value)
        return self._raw.escape(value)  # type: ignore[no-any-return]

    def _fail(self, exc: BaseException, sql: str | None, params: Sequence[Any] | None) -> NoReturn:
        err = translate(exc, sql, params)
        if isinstance(err, DatabaseConnectionError) or self._raw.closed:
            self.broken = True
        raise err from exc

    async def _kill_query(self) -> None:
        """Stop this session's statement on the server, from a short side connection."""
        try:
            async with asyncio.timeout(_KILL_TIMEOUT):
                side = await aiomysql.connect(**_connect_kwargs(self._params, _KILL_TIMEOUT))
                try:
                    await side.query(f"KILL QUERY {self._thread_id:d}")
                finally:
                    side.close()
        except Exception as exc:  # the session may be gone already: nothing left to stop
            log.debug("KILL QUERY %s failed: %s", self._thread_id, exc)

    def _abandon(self) -> asyncio.Task[None]:
        """Never reuse this connection; stop the server work (the KILL, in the background)."""
        self.broken = True
        self._raw.close()
        task = asyncio.get_running_loop().create_task(self._kill_query())
        _background.add(task)
        task.add_done_callback(_background.discard)
        return task

    async def _timed_out(self, sql: str | None, timeout: float, exc: BaseException) -> NoReturn:
        await asyncio.wait([self._abandon()], timeout=_KILL_WAIT)
        raise QueryTimeoutError(
            f"statement ran past its {timeout:g}s timeout: it was killed on the server and "
            "the connection closed",
            sql=sql,
            orig=exc,
        ) from exc

    async def _run(
        self,
        sql: str,
        params: Sequence[Any] | None,
        timeout: float | None,
        server_timeout: bool = True,
        text: str | None = None,
    ) -> Any:
        """Send one statement; returns aiomysql's result (rows, description, counts).
        ``text``, when given, is sent instead of ``sql`` bound with ``params`` (which then
        only serve the error message)."""
        raw = self._raw
        if text is None:
            text = self._text(sql, params)
        if timeout is None:
            try:
                await raw.query(text)
            except asyncio.CancelledError:
                self._abandon()
                raise
            except Exception as exc:
                self._fail(exc, sql, params)
        else:
            limit = timeout
            if server_timeout and self._server_timeout:
                text = f"SET STATEMENT max_statement_time={max(timeout, 1e-6):.6f} FOR {text}"
                limit = timeout + _SERVER_TIMEOUT_GRACE
            timer = asyncio.timeout(limit)
            try:
                async with timer:
                    await raw.query(text)
            except TimeoutError as exc:
                if not timer.expired():
                    self._fail(exc, sql, params)
                await self._timed_out(sql, timeout, exc)
            except asyncio.CancelledError:
                self._abandon()
                raise
            except Exception as exc:
                self._fail(exc, sql, params)
        result = raw._result
        if result.has_next:
            await self._drain(sql)
        return result

    async def _drain(self, sql: str | None) -> None:
        """Read the results of the remaining statements of a multi-statement text."""
        raw = self._raw
        try:
            while raw._result is not None and raw._result.has_next:
                await raw.next_result()
        except asyncio.CancelledError:
            self._abandon()
            raise
        except Exception as exc:
            self._fail(exc, sql, None)

    # -- DriverConnection

    async def fetch(self, sql: str, params: Sequence[Any], timeout: float | None) -> list[Row]:
        result = await self._run(sql, params, timeout)
        description = result.description
        if not description:
            return []
        cols = [d[0] for d in description]
        return [dict(zip(cols, r, strict=False)) for r in result.rows]

    async def execute(self, sql: str, params: Sequence[Any], timeout: float | None) -> ExecResult:
        result = await self._run(sql, params, timeout)
        if result.description:  # MariaDB INSERT/DELETE … RETURNING
            rows = _dicts(result.description, result.rows)
            return ExecResult(rows, len(rows))
        insert_id = result.insert_id
        return ExecResult([], int(result.affected_rows or 0), int(insert_id) if insert_id else None)

    async def execute_script(self, sql: str, timeout: float | None) -> None:
        await self._run(sql, None, timeout, server_timeout=False)

    async def execute_many(
        self, sql: str, rows: Sequence[Sequence[Any]], timeout: float | None
    ) -> int:
        """One statement per parameter set (correct for any SQL; the query layer builds
        multi-row VALUES itself for bulk inserts). ``timeout`` bounds the whole call."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        total = 0
        for row in rows:
            remaining = None if deadline is None else max(deadline - loop.time(), 1e-3)
            result = await self._run(sql, row, remaining)
            total += int(result.affected_rows or 0)
        return total

    async def copy_records(
        self,
        table: str,
        columns: Sequence[str],
        records: Sequence[Sequence[Any]],
        timeout: float | None,
    ) -> int:
        """No COPY here: multi-row INSERT statements of about 1 MiB each."""
        records = made(records)  # rows checked in chunks: all made first
        if not records:
            return 0
        prefix = f"INSERT INTO {_quote(table)} ({', '.join(_quote(c) for c in columns)}) VALUES "
        marks = "(" + ", ".join("%s" for _ in columns) + ")"
        shown = f"{prefix}{marks}, …"
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        total = 0
        chunk: list[str] = []
        values: list[Any] = []  # only for keeping them out of an error message
        size = 0
        for record in records:
            text = self._escape(marks, record)
            chunk.append(text)
            values.extend(record)
            size += len(text) + 2
            if size >= _COPY_CHUNK_BYTES:
                total += await self._copy_chunk(shown, prefix, chunk, values, deadline, loop)
                chunk, values, size = [], [], 0
        if chunk:
            total += await self._copy_chunk(shown, prefix, chunk, values, deadline, loop)
        return total

    async def _copy_chunk(
        self,
        shown: str,
        prefix: str,
        chunk: list[str],
        values: list[Any],
        deadline: float | None,
        loop: asyncio.AbstractEventLoop,
    ) -> int:
        remaining = None if deadline is None else max(deadline - loop.time(), 1e-3)
        result = await self._run(shown, values, remaining, text=prefix + ", ".join(chunk))
        return int(result.affected_rows or 0)

    async def stream(
        self, sql: str, params: Sequence[Any], batch_size: int, timeout: float | None
    ) -> AsyncGenerator[list[Row], None]:
        """Unbuffered (``SSCursor``): rows come off the socket ``batch_size`` at a time.
        Leaving early reads and discards the rest, so the connection stays in sync."""
        text = self._text(sql, params)
        cursor = await self._raw.cursor(aiomysql.SSCursor)
        done = False
        try:
            await self._timed(cursor.execute(text), sql, params, timeout)
            cols = [d[0] for d in cursor.description] if cursor.description else []
            while cols:
                rows = await self._timed(cursor.fetchmany(batch_size), sql, params, timeout)
                if rows:
                    yield [dict(zip(cols, r, strict=False)) for r in rows]
                if len(rows) < batch_size:
                    break
            done = True
        finally:
            if not self.broken:
                try:
                    await cursor.close()  # drains unread rows
                except asyncio.CancelledError:
                    self._abandon()
                    raise
                except Exception as exc:
                    if done:
                        self._fail(exc, sql, params)
                    self.broken = True
                    self._raw.close()

    async def _timed(
        self, awaitable: Any, sql: str, params: Sequence[Any], timeout: float | None
    ) -> Any:
        timer = asyncio.timeout(timeout)
        try:
            async with timer:
                return await awaitable
        except TimeoutError as exc:
            if timeout is None or not timer.expired():
                self._fail(exc, sql, params)
            await self._timed_out(sql, timeout, exc)
        except asyncio.CancelledError:
            self._abandon()
            raise
        except Exception as exc:
            self._fail(exc, sql, params)

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(_PING_TIMEOUT):
                await self._raw.ping(reconnect=False)
        except asyncio.CancelledError:
            self._abandon()
            raise
        except Exception as exc:
            self.broken = True
            self._raw.close()
            err = translate(exc, None)
            raise DatabaseConnectionError(f"MySQL connection failed its ping: {err}") from exc

    async def server_version(self) -> str:
        return str(self._raw.get_server_info())

    async def close(self) -> None:
        self.broken = True
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self._raw.ensure_closed()
        except (Exception, asyncio.CancelledError) as exc:
            self._raw.close()
            if isinstance(exc, asyncio.CancelledError):
                raise

    def terminate(self) -> None:
        self.broken = True
        self._raw.close()


class MySQLDriver:
    """Opens aiomysql connections: autocommit (the core sends START TRANSACTION/COMMIT),
    utf8mb4, UPDATE counts matched rows (``CLIENT.FOUND_ROWS``).

    A URL naming several hosts (a Galera cluster) tries them in the order its ``HostSet``
    gives (``host_selection``), each bounded by ``connect_timeout``; a host that refuses,
    does not answer in time, or is a Galera node not ready for clients (``wsrep_ready``
    OFF: joining, or cut off from the primary component) is skipped, and the error when
    every host fails names each host with its reason. The pool's ``create_timeout`` bounds
    the whole search: keep ``connect_timeout`` well under it (2-3 s for a cluster on a LAN)
    so that a host that does not answer leaves time for the next one."""

    async def connect(self, params: ConnectParams) -> MySQLConnection:
        if params.hosts is not None:
            return await self._connect_any(params, params.hosts)
        try:
            raw = await self._open(params)
        except Exception as exc:
            raise connect_error(exc, params.describe(), params.password) from exc
        return MySQLConnection(raw, params, asyncio.get_running_loop())

    @staticmethod
    async def _open(params: ConnectParams) -> Any:
        # aiomysql bounds only the TCP connect; this bounds the handshake too
        async with asyncio.timeout(params.connect_timeout):
            return await aiomysql.connect(**_connect_kwargs(params, params.connect_timeout))

    async def _connect_any(self, params: ConnectParams, hosts: HostSet) -> MySQLConnection:
        failures: list[str] = []
        order = hosts.order()
        causal = hosts.policy == "round_robin"
        for host in order:
            one = dataclasses.replace(params, host=host[0], port=host[1], hosts=None)
            raw: Any = None
            try:
                raw = await self._open(one)
                problem = await _prepare_node(raw, params.connect_timeout, causal=causal)
            except Exception as exc:
                problem = failure_reason(exc)
            except BaseException:  # cancelled: leave no half-made connection behind
                if raw is not None:
                    raw.close()
                # most likely the pool's create_timeout, spent on this host: the next
                # connection tries the others first
                hosts.failed(host)
                raise
            if problem is not None:
                if raw is not None:
                    raw.close()
                hosts.failed(host)
                failures.append(f"{format_host(host)} ({problem})")
                continue
            hosts.succeeded(host)
            if failures:
                log.info(
                    "connected to %s after skipping %s", format_host(host), "; ".join(failures)
                )
            return MySQLConnection(raw, one, asyncio.get_running_loop())
        raise connection_failed(
            params.describe(),
            f"none of the {len(order)} hosts took the connection: " + "; ".join(failures),
            params.password,
        )


async def _prepare_node(raw: Any, timeout: float, *, causal: bool) -> str | None:
    """Check a server of a multi-host URL; returns why it cannot take work now, if so.

    A Galera node that is not ready (``wsrep_ready`` OFF: joining, donating by a blocking
    method, or outside the primary component) is refused. With ``causal`` (round robin:
    the statements of one request land on different nodes) a Galera session gets
    ``wsrep_sync_wait = 1``: a read waits until its node has applied every write the
    cluster committed before it, so a write made through one connection is seen through
    any other. A server that is not a Galera node (no ``wsrep_ready`` status) is taken
    as it is."""
    async with asyncio.timeout(timeout):
        await raw.query("SHOW GLOBAL STATUS LIKE 'wsrep_ready'")
        rows = raw._result.rows or ()
        if not rows:
            return None
        value = str(rows[0][1])
        if value.upper() != "ON":
            return f"Galera node not ready: wsrep_ready={value}"
        if causal:
            await raw.query("SET SESSION wsrep_sync_wait = 1")
    return None
