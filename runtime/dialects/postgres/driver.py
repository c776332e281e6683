"""The PostgreSQL driver, on asyncpg (the only module importing it).

Hot paths are one asyncpg call plus ``list(map(dict, records))``.

Timeouts use asyncpg's own ``timeout=`` (no extra task): on expiry asyncpg sends the
server a CancelRequest from a side connection. Before raising ``QueryTimeoutError`` the
driver waits for the server to have ended the statement (a ``SELECT 1`` queued behind the
cancel), so the work is really gone and the connection is usable, or ``broken`` when no
answer comes. A task cancelled mid-statement is cancelled on the server the same way by
asyncpg, in the background, and ``CancelledError`` propagates at once; the next statement
on the connection waits for that cancel. ``broken`` is also true once asyncpg has closed
the connection for any reason.

Behind a connection pooler (PgBouncer) the key asyncpg got at login is the pooler's, not a
server session's: the driver compares it with ``pg_backend_pid()`` once per connection
(``behind_pooler``). Such a connection has no ``session_id``, and the manager sets no
session-level state on it (runtime/manager.py), since the pooler would leave it on a
server connection that its other clients share.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from contextlib import aclosing
from typing import Any, NoReturn, TypeVar

import asyncpg

from ...errors import DatabaseConnectionError
from ...query.row_chunks import RowChunks
from ..base import ConnectParams, ExecResult, Row
from .copy_text import chunk_encoder
from .errors import connect_error, translate
from .naive_utc import naive_for_timestamps, rows_naive_for_timestamps

_PING_TIMEOUT = 5.0
_CLOSE_TIMEOUT = 5.0
_RESYNC_TIMEOUT = 0.25  # a healthy server acknowledges a cancel in milliseconds

T = TypeVar("T")

_has_returning = re.compile(r"\bRETURNING\b", re.IGNORECASE).search
_REFUSED_AWARE = re.compile(
    r"^invalid input for query argument \$\d+: .*offset-naive and offset-aware", re.S
).match


def _refused_aware(exc: Exception) -> bool:
    """asyncpg refused an aware datetime while encoding it: nothing was sent yet, so the
    statement may run again (inside a transaction too)."""
    return isinstance(exc, asyncpg.DataError) and _REFUSED_AWARE(str(exc)) is not None


def _json_encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def _jsonb_encode(value: Any) -> bytes:
    return b"\x01" + json.dumps(value).encode()  # jsonb binary format: version 1, text


def _jsonb_decode(data: bytes) -> Any:
    return json.loads(data[1:])


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _status_count(status: str) -> int:
    """Rows affected from a command tag: ``INSERT 0 5`` -> 5, ``UPDATE 3`` -> 3."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


class PostgresConnection:
    """One asyncpg connection behind the DriverConnection Protocol."""

    __slots__ = (
        "_broken",
        "_cursors",
        "_named",
        "_pid",
        "_raw",
        "_unsettled",
        "behind_pooler",
        "created_at",
        "last_used",
    )

    def __init__(
        self,
        raw: Any,
        loop: asyncio.AbstractEventLoop,
        *,
        named_statements: bool = True,
        behind_pooler: bool = False,
    ) -> None:
        self._raw = raw
        # a pooler's cancel key is no server session: there is no session to name
        self._pid: int | None = None if behind_pooler else raw.get_server_pid()
        self.behind_pooler = behind_pooler  # server sessions change between transactions
        self._broken = False
        self._unsettled = False  # a cancelled statement may still be running (_cancelled)
        # False (statement_cache off, behind PgBouncer): no statement outlives its call
        self._named = named_statements
        self._cursors = 0  # SQL cursors declared, for unique names
        self.created_at = loop.time()
        self.last_used = self.created_at

    @property
    def broken(self) -> bool:
        """Never hand this connection out again (also true once the driver closed it)."""
        return self._broken or bool(self._raw.is_closed())

    @broken.setter
    def broken(self, value: bool) -> None:
        self._broken = value

    @property
    def in_transaction(self) -> bool:
        # after a cancel, asyncpg knows the transaction state only once the server has
        # ended the statement (a BEGIN may still open one): until a later statement has
        # completed, say yes, so the pool's ROLLBACK (which waits for that) runs first
        return self._unsettled or bool(self._raw.is_in_transaction())

    @property
    def session_id(self) -> int | None:
        return self._pid  # kept from connect: asyncpg forgets it once closed

    # -- failure paths (kept out of the hot paths)

    async def _fail(
        self, exc: BaseException, sql: str | None, params: Sequence[Any] | None
    ) -> NoReturn:
        err = translate(exc, sql, params)
        if isinstance(exc, TimeoutError):
            await self._resync()
        if isinstance(err, DatabaseConnectionError) or self._raw.is_closed():
            self.broken = True
        raise err from exc

    async def _resync(self) -> None:
        """After a timeout: wait until the server has acknowledged asyncpg's CancelRequest
        and ended the statement, so it is really gone when QueryTimeoutError is raised.
        Any server reply proves the connection is in sync (an aborted transaction answers
        with an error); no reply marks it broken."""
        try:
            await self._raw.execute("SELECT 1", timeout=_RESYNC_TIMEOUT)
        except asyncio.CancelledError:
            self._cancelled()
            raise
        except Exception as exc:
            if getattr(exc, "sqlstate", None) is None or self._raw.is_closed():
                self.broken = True
                self._raw.terminate()

    async def _guarded(
        self,
        operation: Callable[[], Awaitable[T]],
        sql: str | None,
        params: Sequence[Any] | None,
        rerun: Callable[[Sequence[Any]], Awaitable[T]] | None = None,
    ) -> T:
        """``operation()`` awaited, its errors translated (``sql`` and ``params``: what they
        name) and a cancellation or failure that closed the connection marking it broken.
        With ``rerun`` (the operation on other parameters), aware datetimes refused for
        ``timestamp without time zone`` parameters are sent again as naive UTC, all of them
        in one rerun (``naive_utc.py``)."""
        try:
            result = await operation()
        except asyncio.CancelledError:
            self._cancelled()
            raise
        except Exception as exc:
            if rerun is not None and params and sql is not None and _refused_aware(exc):
                fixed = naive_for_timestamps(params, await self._parameter_types(sql))
                if fixed is not None:
                    return await self._guarded(lambda: rerun(fixed), sql, fixed)
            await self._fail(exc, sql, params)
        self._unsettled = False
        return result

    def _cancelled(self) -> None:
        # asyncpg sends the server a CancelRequest itself and keeps the connection usable;
        # it only stays unusable when asyncpg had to close it.
        self._unsettled = True
        if self._raw.is_closed():
            self.broken = True

    # -- DriverConnection

    async def fetch(self, sql: str, params: Sequence[Any], timeout: float | None) -> list[Row]:
        def run(p: Sequence[Any]) -> Any:  # asyncpg is untyped
            return self._raw.fetch(sql, *p, timeout=timeout)

        records = await self._guarded(lambda: run(params), sql, params, run)
        return list(map(dict, records))

    async def execute(self, sql: str, params: Sequence[Any], timeout: float | None) -> ExecResult:
        if _has_returning(sql):
            rows = await self.fetch(sql, params, timeout)
            return ExecResult(rows, len(rows))

        def run(p: Sequence[Any]) -> Any:
            return self._raw.execute(sql, *p, timeout=timeout)

        status = await self._guarded(lambda: run(params), sql, params, run)
        return ExecResult([], _status_count(status))

    async def execute_script(self, sql: str, timeout: float | None) -> None:
        await self._guarded(lambda: self._raw.execute(sql, timeout=timeout), sql, None)

    async def execute_many(
        self, sql: str, rows: Sequence[Sequence[Any]], timeout: float | None
    ) -> int:
        """Pipelined (asyncpg ``executemany``). asyncpg reports no per-statement counts,
        so the result is the number of parameter sets executed."""
        if not rows:
            return 0
        await self._guarded(lambda: self._raw.executemany(sql, rows, timeout=timeout), sql, None)
        return len(rows)

    async def copy_records(
        self,
        table: str,
        columns: Sequence[str],
        records: Sequence[Sequence[Any]],
        timeout: float | None,
    ) -> int:
        """COPY … FROM STDIN. ``table`` may be ``schema.table``. ``RowChunks`` whose values
        all have an exact text form in their columns stream in COPY's text format, a chunk
        checked while the server stores the one before (``copy_text``); other rows go in
        asyncpg's binary format (faster to encode when there is nothing to check)."""
        targets = await self._column_types(table, columns)
        if isinstance(records, RowChunks):
            encode = chunk_encoder(records.kinds, records.tail, targets)
            if encode is not None:
                chunks = map(encode, records.chunks())
                return await self._copy_text(table, columns, chunks, timeout)
            records = records.rows()  # checked in full before the COPY starts
        records = rows_naive_for_timestamps(records, targets)
        return await self._copy_binary(table, columns, records, timeout)

    async def _copy_binary(
        self,
        table: str,
        columns: Sequence[str],
        records: Sequence[Sequence[Any]],
        timeout: float | None,
    ) -> int:
        schema, _, name = table.rpartition(".")
        status = await self._guarded(
            lambda: self._raw.copy_records_to_table(
                name,
                records=records,
                columns=list(columns),
                schema_name=schema or None,
                timeout=timeout,
            ),
            f"COPY {table} FROM STDIN",
            None,
        )
        return _status_count(status)

    async def _parameter_types(self, sql: str) -> tuple[str, ...]:
        """The server types of ``sql``'s parameters ($1, $2, ...), from its prepared
        statement (asyncpg's cached one: the statement that just refused a value)."""
        statement = await self._guarded(lambda: self._raw._prepare(sql, use_cache=True), sql, None)
        return tuple(parameter.name for parameter in statement.get_parameters())

    async def _column_types(self, table: str, columns: Sequence[str]) -> tuple[str, ...]:
        """The server types of ``columns``, from the statement asyncpg's own COPY prepares
        (the same cached statement: no extra round trip once cached)."""
        quoted = ".".join(_quote(part) for part in table.split("."))
        intro = f"SELECT {', '.join(_quote(c) for c in columns)} FROM {quoted} LIMIT 1"
        statement = await self._guarded(
            lambda: self._raw._prepare(intro, use_cache=True), intro, None
        )
        return tuple(attribute.type.name for attribute in statement.get_attributes())

    async def _copy_text(
        self,
        table: str,
        columns: Sequence[str],
        chunks: Iterator[bytes],
        timeout: float | None,
    ) -> int:
        """One COPY whose data is made while it runs: each chunk is made (checked,
        encoded) while the server stores the one before. A chunk that fails aborts the
        COPY (nothing is stored) and its error is raised as it is."""
        schema, _, name = table.rpartition(".")
        failed: list[BaseException] = []

        async def source() -> AsyncGenerator[bytes, None]:
            try:
                for data in chunks:
                    yield data
            except Exception as exc:
                failed.append(exc)
                raise

        try:
            status = await self._guarded(
                lambda: self._raw.copy_to_table(
                    name,
                    source=source(),
                    columns=list(columns),
                    schema_name=schema or None,
                    timeout=timeout,
                ),
                f"COPY {table} FROM STDIN",
                None,
            )
        except Exception:
            if failed:
                raise failed[0] from None
            raise
        return _status_count(status)

    async def stream(
        self, sql: str, params: Sequence[Any], batch_size: int, timeout: float | None
    ) -> AsyncGenerator[list[Row], None]:
        """A portal read ``batch_size`` rows at a time; needs an open transaction (the
        caller's). Leaving early leaves the portal to be closed by COMMIT/ROLLBACK."""
        if not self._named:
            async with aclosing(self._declared_stream(sql, params, batch_size, timeout)) as it:
                async for batch in it:
                    yield batch
            return
        cursor = await self._guarded(
            lambda: self._raw.cursor(sql, *params, timeout=timeout), sql, params
        )
        while True:
            records = await self._guarded(
                lambda: cursor.fetch(batch_size, timeout=timeout), sql, params
            )
            if records:
                yield list(map(dict, records))
            if len(records) < batch_size:
                return

    async def _declared_stream(
        self, sql: str, params: Sequence[Any], batch_size: int, timeout: float | None
    ) -> AsyncGenerator[list[Row], None]:
        """``stream`` by DECLARE / FETCH / CLOSE, each an unnamed statement: asyncpg's
        cursor prepares a named statement that stays on the server connection after the
        transaction (where PgBouncer may hand that connection to another client)."""
        self._cursors += 1
        name = f"jadugar_cursor_{self._cursors}"
        await self._run_unnamed(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}", params, timeout, sql)
        fetch = f"FETCH FORWARD {int(batch_size)} FROM {name}"
        while True:
            records = await self._guarded(
                lambda: self._raw.fetch(fetch, timeout=timeout), sql, params
            )
            if records:
                yield list(map(dict, records))
            if len(records) < batch_size:
                break
        await self._run_unnamed(f"CLOSE {name}", (), timeout, sql)

    async def _run_unnamed(
        self, statement: str, params: Sequence[Any], timeout: float | None, sql: str
    ) -> None:
        """``statement`` for ``sql`` (the one errors name)."""
        await self._guarded(
            lambda: self._raw.execute(statement, *params, timeout=timeout), sql, params
        )

    async def ping(self) -> None:
        try:
            await self._raw.execute("SELECT 1", timeout=_PING_TIMEOUT)
        except asyncio.CancelledError:
            self._cancelled()
            raise
        except Exception as exc:
            self.broken = True
            err = translate(exc, "SELECT 1")
            raise DatabaseConnectionError(f"PostgreSQL connection failed its ping: {err}") from exc

    async def server_version(self) -> str:
        return str(self._raw.get_settings().server_version)

    async def close(self) -> None:
        self.broken = True
        try:
            await self._raw.close(timeout=_CLOSE_TIMEOUT)
        except (Exception, asyncio.CancelledError):
            self._raw.terminate()
            raise

    def terminate(self) -> None:
        self.broken = True
        self._raw.terminate()


class PostgresDriver:
    """Opens asyncpg connections; json/jsonb values are ``json.dumps``/``json.loads``."""

    async def connect(self, params: ConnectParams) -> PostgresConnection:
        ssl: Any
        if params.ssl is not None:
            ssl = params.ssl
        elif params.ssl_mode and params.ssl_mode != "disable":
            ssl = params.ssl_mode
        else:
            ssl = False
        kwargs: dict[str, Any] = {
            "host": params.host,
            "port": params.port,
            "user": params.user,
            "password": params.password,
            "database": params.database,
            "ssl": ssl,
            "timeout": params.connect_timeout,
        }
        if not params.statement_cache:
            kwargs["statement_cache_size"] = 0
        # now() into a `timestamp` column in UTC, as models read such columns
        settings = {"timezone": "UTC"}
        application_name = params.options.get("application_name")
        if application_name:
            settings["application_name"] = application_name
        kwargs["server_settings"] = settings
        try:
            raw = await asyncpg.connect(**kwargs)
        except Exception as exc:
            raise connect_error(exc, params.describe(), params.password) from exc
        try:
            # binary format: also what COPY (copy_records_to_table) needs
            await raw.set_type_codec(
                "json",
                encoder=_json_encode,
                decoder=json.loads,
                schema="pg_catalog",
                format="binary",
            )
            await raw.set_type_codec(
                "jsonb",
                encoder=_jsonb_encode,
                decoder=_jsonb_decode,
                schema="pg_catalog",
                format="binary",
            )
            pooled = await _behind_pooler(raw, params.connect_timeout)
        except BaseException as exc:
            raw.terminate()
            if isinstance(exc, Exception):
                raise connect_error(exc, params.describe(), params.password) from exc
            raise
        return PostgresConnection(
            raw,
            asyncio.get_running_loop(),
            named_statements=params.statement_cache,
            behind_pooler=pooled,
        )


async def _behind_pooler(raw: Any, timeout: float) -> bool:
    """True when the server session answering is not the one whose key came at login: a
    pooler in between (PgBouncer sends its own keys). Read through ``COPY ... TO STDOUT``
    (simple protocol): no statement is prepared, whatever the statement cache says."""
    out = bytearray()

    async def sink(data: bytes) -> None:
        out.extend(data)

    await raw.copy_from_query("SELECT pg_backend_pid()", output=sink, timeout=timeout)
    key: int = raw.get_server_pid()
    return int(out) != key
