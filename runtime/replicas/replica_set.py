"""The replicas of one manager: a pool each, a probe loop, selection and write marks.

``DatabaseManager.connect()`` opens it when ``DatabaseOptions.replicas`` is set; reads of
the builders reach it through ``Session.fetch_sql`` / ``Session.stream`` (routing.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from ..dialects.base import ConnectParams, Driver, DriverConnection
from ..errors import JadugarError, PoolTimeoutError
from ..pool import ConnectionPool
from . import positions, probes
from .consistency import Consistency, ReadOptions
from .positions import Position
from .replica import Replica

if TYPE_CHECKING:
    from ..session_host import SessionHost

logger = logging.getLogger("jadugar.replicas")
T = TypeVar("T")

PRIMARY = "primary"  # the ``target`` of a query event served by the primary


class ReplicaSet:
    """The manager's read replicas, in configuration order (``replicas[0]``, ...)."""

    def __init__(self, manager: SessionHost) -> None:
        options = manager.options
        self.manager = manager
        self.dialect = manager.dialect.name
        self.default_consistency: Consistency = options.default_consistency
        self.max_replica_lag = options.max_replica_lag
        self.check_interval = options.replica_check_interval
        # replica pools open connections on demand: a replica that is down at connect()
        # is only out of rotation, never a reason for connect() to fail
        pool_options = options.pool.replace(min=0)
        driver = manager.dialect.driver
        self.replicas: list[Replica] = []
        for index, url in enumerate(options.replicas):
            name = f"replicas[{index}]"
            pool: ConnectionPool[DriverConnection] = ConnectionPool(
                _connector(driver, options.connect_params(url)),
                pool_options,
                name=name,
                describe=url.masked,
            )
            self.replicas.append(Replica(name, url.masked, pool))
        self._turn = 0
        self._loop_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<ReplicaSet {self.replicas!r}>"

    # ---- lifecycle ----------------------------------------------------------------------
    async def open(self) -> None:
        """Open the pools, look at every replica once, then keep looking every
        ``replica_check_interval`` seconds."""
        for replica in self.replicas:
            await replica.pool.open()
        await self.check_all()
        self._loop_task = asyncio.get_running_loop().create_task(
            self._check_forever(), name="jadugar-replica-checks"
        )

    async def close(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.gather(*(replica.pool.close() for replica in self.replicas))

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                await self.check_all()
            except Exception:  # never let the loop die
                logger.exception("jadugar: checking the replicas failed")

    # ---- health and lag -----------------------------------------------------------------
    async def check_all(self) -> None:
        await asyncio.gather(*(self.check(replica) for replica in self.replicas))

    async def check(self, replica: Replica) -> None:
        """Probe one replica: position, lag, latency, version; up or down accordingly."""
        pool = replica.pool
        try:
            conn = await pool.acquire(probes.PROBE_TIMEOUT)
        except PoolTimeoutError as exc:
            status = pool.get_status()
            if status.in_use < status.max:  # not busy: connecting to it takes too long
                self.take_out(replica, exc)
            return  # else busy serving reads, so alive: look again next time
        except (JadugarError, OSError) as exc:
            self.take_out(replica, exc)
            return
        started = time.perf_counter()
        try:
            async with asyncio.timeout(probes.PROBE_TIMEOUT):
                probe = await probes.probe_replica(self.dialect, conn)
                replica.latency_ms = round((time.perf_counter() - started) * 1000, 3)
                if replica.server_version is None:
                    replica.server_version = await conn.server_version()
        except (JadugarError, TimeoutError, OSError) as exc:
            self.take_out(replica, exc)
            return
        finally:
            await pool.release(conn)
        if replica.came_up(probe.lag, probe.position):
            self._emit("replica:up", replica)
        if not replica.in_rotation(self.max_replica_lag):
            logger.info("jadugar: %s lags %s s: out of rotation", replica.name, probe.lag)

    def take_out(self, replica: Replica, error: BaseException) -> None:
        """A replica failed: out of rotation until a later check reaches it."""
        message = str(error) or type(error).__name__
        if replica.went_down(message):
            logger.warning("jadugar: %s (%s) is down: %s", replica.name, replica.describe, message)
            self._emit("replica:down", replica)

    def _emit(self, event: str, replica: Replica) -> None:
        events = self.manager.events
        if events.has(event):
            events.emit(event, {"target": replica.name, "error": replica.error})

    # ---- selection ----------------------------------------------------------------------
    def level(self, read: ReadOptions) -> Consistency:
        return read.level(self.default_consistency)

    def candidates(
        self, level: Consistency, max_lag: float | None, tried: Sequence[Replica] = ()
    ) -> list[Replica]:
        """Replicas that may serve a read of ``level``, least busy first, ties taken in
        turn (round robin)."""
        if level == "strong":
            return []
        limit = self.max_replica_lag
        eligible = [r for r in self.replicas if r.in_rotation(limit) and r not in tried]
        if level == "bounded_staleness":
            bound = limit if max_lag is None else max_lag
            now = time.monotonic()
            eligible = [r for r in eligible if r.staleness(now) <= bound]
        if len(eligible) > 1:
            start = self._turn % len(eligible)
            self._turn += 1
            eligible = eligible[start:] + eligible[:start]
            eligible.sort(key=Replica.busy)  # stable: the turn order breaks ties
        return eligible

    # ---- read-your-writes -----------------------------------------------------------------
    async def note_write(self, conn: DriverConnection) -> None:
        """The calling context committed a write on ``conn``, a primary connection still
        held: remember the primary's position now (asked later if it cannot be read)."""
        try:
            position = await probes.written_position(self.dialect, conn)
        except JadugarError:
            position = None
        positions.mark_write(self, position)

    def tracking(
        self, call: Callable[[DriverConnection], Awaitable[T]]
    ) -> Callable[[DriverConnection], Awaitable[T]]:
        """``call`` (a write on a pooled primary connection), then ``note_write``."""

        async def write(conn: DriverConnection) -> T:
            result = await call(conn)
            await self.note_write(conn)
            return result

        return write

    async def written_position(self) -> Position | None:
        """The primary position reads of this context must see (``None``: it wrote
        nothing): asked of the primary after each write, on the first read that needs it."""
        written = positions.written_position(self)
        if written is not True:
            return written or None
        pool = self.manager.pool
        conn = await pool.acquire()
        try:
            position = await probes.primary_position(self.dialect, conn)
        finally:
            await pool.release(conn)
        positions.resolve_write(self, position)
        return position


def _connector(driver: Driver, params: ConnectParams) -> Callable[[], Awaitable[DriverConnection]]:
    async def connect() -> DriverConnection:
        return await driver.connect(params)

    return connect
