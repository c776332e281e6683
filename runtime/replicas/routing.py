"""Reads on replicas: which replica serves a read, and falling back when none can.

``fetch_on_replica`` / ``stream_on_replica`` return ``None`` when the read belongs on the
primary (``strong``, no replica in rotation, none caught up with this context's writes):
the session then runs it there as usual. A replica that fails is taken out of rotation and
the next one is tried."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Coroutine, Iterable, Sequence
from contextlib import aclosing
from typing import Any

from ..dialects.base import DriverConnection
from ..errors import (
    DatabaseConnectionError,
    JadugarError,
    PoolTimeoutError,
    QueryError,
    SerializationError,
)
from . import probes
from .consistency import ReadOptions
from .positions import Position
from .replica import Replica
from .replica_set import ReplicaSet

Row = dict[str, Any]


async def _serving(
    replicas: ReplicaSet, read: ReadOptions, tried: list[Replica]
) -> tuple[Replica, DriverConnection] | None:
    """A replica allowed to serve ``read`` and a connection of its pool, or ``None``."""
    level = replicas.level(read)
    if level == "strong":
        return None
    required: Position | None = None
    if level == "read_your_writes":
        required = await replicas.written_position()
    while True:
        candidates = replicas.candidates(level, read.max_lag, tried)
        if not candidates:
            return None
        replica = candidates[0]
        if required is not None:  # one known to have replayed the writes, if any
            replica = next((r for r in candidates if r.has_replayed(required)), replica)
        tried.append(replica)
        try:
            conn = await replica.pool.acquire()
        except DatabaseConnectionError as exc:
            replicas.take_out(replica, exc)
            continue
        except PoolTimeoutError:
            continue  # busy, not down: the next replica, or the primary
        if required is None or replica.has_replayed(required):
            return replica, conn
        # not known to have it yet: ask the replica itself
        if not await _survives(replicas, replica, conn, _ask_position(replicas, replica, conn)):
            continue
        if replica.has_replayed(required):
            return replica, conn
        await replica.pool.release(conn)
        return None  # the least busy replica is behind this context's writes: primary


async def _survives(
    replicas: ReplicaSet,
    replica: Replica,
    conn: DriverConnection,
    work: Coroutine[Any, Any, None],
) -> bool:
    """Await ``work`` on ``conn`` of ``replica``: False when the replica failed (``conn``
    released, the replica taken out); any other error releases ``conn`` and is raised."""
    try:
        await work
    except DatabaseConnectionError as exc:
        await replica.pool.release(conn)
        replicas.take_out(replica, exc)
        return False
    except BaseException:
        await replica.pool.release(conn)
        raise
    return True


async def _ask_position(replicas: ReplicaSet, replica: Replica, conn: DriverConnection) -> None:
    replica.reached(await probes.replica_position(replicas.dialect, conn))


async def _run_scripts(conn: DriverConnection, statements: Iterable[str]) -> None:
    for statement in statements:
        await conn.execute_script(statement, None)


async def fetch_on_replica(
    replicas: ReplicaSet,
    sql: str,
    params: Sequence[Any],
    timeout: float | None,
    read: ReadOptions,
) -> list[Row] | None:
    """Rows read on a replica, or ``None``: run it on the primary."""
    events = replicas.manager.events
    tried: list[Replica] = []
    while True:
        serving = await _serving(replicas, read, tried)
        if serving is None:
            return None
        replica, conn = serving
        started = time.perf_counter()
        try:
            rows = await conn.fetch(sql, params, timeout)
        except DatabaseConnectionError as exc:
            replicas.take_out(replica, exc)
            continue
        except SerializationError:
            # a hot standby cancels a read that conflicts with replay: the primary has it
            return None
        except JadugarError as exc:
            if isinstance(exc, QueryError) and exc.sql is None:
                exc.sql = sql
            if events.has("error"):
                events.emit("error", {"sql": sql, "error": exc, "target": replica.name})
            raise
        finally:
            await replica.pool.release(conn)
        if events.has("query"):
            events.emit(
                "query",
                {
                    "sql": sql,
                    "params": tuple(params),
                    "duration": time.perf_counter() - started,
                    "row_count": len(rows),
                    "target": replica.name,
                },
            )
        return rows


async def stream_on_replica(
    replicas: ReplicaSet,
    sql: str,
    params: Sequence[Any],
    batch_size: int,
    timeout: float | None,
    read: ReadOptions,
) -> AsyncGenerator[list[Row], None] | None:
    """Batches from a server-side cursor on a replica, or ``None``: stream from the
    primary. A replica failing before the first batch is replaced by the next one."""
    tried: list[Replica] = []
    begin = replicas.manager.dialect.compiler.begin_sql(None, True)
    while True:
        serving = await _serving(replicas, read, tried)
        if serving is None:
            return None
        replica, conn = serving
        if not await _survives(replicas, replica, conn, _run_scripts(conn, begin)):
            continue
        return _batches(replica, conn, sql, params, batch_size, timeout)


async def _batches(
    replica: Replica,
    conn: DriverConnection,
    sql: str,
    params: Sequence[Any],
    batch_size: int,
    timeout: float | None,
) -> AsyncGenerator[list[Row], None]:
    try:
        async with aclosing(conn.stream(sql, params, batch_size, timeout)) as it:
            async for batch in it:
                yield batch
        await conn.execute_script("COMMIT", None)
    finally:
        await replica.pool.release(conn)  # rolls back a transaction left open
