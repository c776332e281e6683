"""One async connection pool for every SQL dialect (SPEC 3).

The pool knows connections only through :class:`PooledConnection`, which every driver's
``DriverConnection`` satisfies. The hot path (an idle connection, no waiters, a release
outside a transaction) takes no lock and creates no task: a deque pop, a few ``loop.time()``
comparisons and a dict insert. Everything that can block (opening, pinging, rolling back,
closing) happens off that path, and everything a cancelled task leaves half done is finished
or undone by the pool:

- a task cancelled while waiting gives back a connection handed to it at that moment;
- connections are opened in pool-owned tasks, so cancelling the acquirer does not cut a
  handshake in half: the new connection goes to the next waiter or to the idle set;
- ``release`` rolls back an open transaction in a shielded task, which finishes (or destroys
  the connection) even when the releasing task is cancelled.

This module has acquire, release, the waiters' shared timer and the lifecycle; the books
and their upkeep (opening, rolling back, closing, the idle reaper) are in ``upkeep.py``.

Example::

    pool = ConnectionPool(lambda: driver.connect(params), options, describe=params.describe())
    await pool.open()
    async with pool.connection() as conn:
        rows = await conn.fetch("SELECT 1", [], None)
    await pool.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from types import TracebackType
from typing import Generic

from ..errors import DatabaseConnectionError, JadugarError, PoolTimeoutError, TransactionError
from ..pool_types import (
    PooledConnection,
    PoolMetrics,
    PoolOptionsLike,
    PoolStatus,
    pool_metrics,
)
from .upkeep import C, PoolUpkeep

__all__ = [
    "ConnectionPool",
    "PoolMetrics",
    "PoolOptionsLike",
    "PoolStatus",
    "PooledConnection",
]

logger = logging.getLogger("jadugar.pool")

_CLOCK_RESOLUTION = time.get_clock_info("monotonic").resolution  # as asyncio's loop uses


class _ConnectionContext(Generic[C]):
    """``async with pool.connection() as conn``: releases on any exit, cancellation included."""

    __slots__ = ("_conn", "_pool", "_timeout")

    def __init__(self, pool: ConnectionPool[C], timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn: C | None = None

    async def __aenter__(self) -> C:
        self._conn = await self._pool.acquire(self._timeout)
        return self._conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._pool.release(conn)


class ConnectionPool(PoolUpkeep[C]):
    """A bounded, FIFO-fair async pool of driver connections. The constructor,
    ``ConnectionPool(factory, options, *, name="primary", describe="")``, is
    ``PoolUpkeep``'s.

    Example::

        pool = ConnectionPool(factory, PoolOptions(min=1, max=10), describe="postgres://app@db/app")
        await pool.open()
        conn = await pool.acquire()
        try:
            await conn.fetch("SELECT 1", [], None)
        finally:
            await pool.release(conn)
        print(pool.get_status(), pool.get_metrics())
        await pool.close()
    """

    def __repr__(self) -> str:
        s = self.get_status()
        state = "closed" if self._closed else "open" if self._opened else "new"
        return (
            f"<ConnectionPool {self.name!r} {state} {self.describe}: size={s.size} idle={s.idle} "
            f"in_use={s.in_use} waiting={s.waiting} min={s.min} max={s.max}>"
        )

    @property
    def closed(self) -> bool:
        return self._closed

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Open ``min`` connections and start the idle reaper. Raises the first connection
        error (closing whatever did open). Calling it again is a no-op."""
        if self._opened:
            if self._closed:
                raise JadugarError(f"pool '{self.name}' for {self.describe} is closed")
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._time = loop.time
        tasks = [loop.create_task(self._connect()) for _ in range(self._min)]
        done = False
        try:
            if tasks:
                await asyncio.wait(tasks)
            done = True
        finally:
            if not done:  # open() itself was cancelled: stop the handshakes still running
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks)
            opened = [t.result() for t in tasks if not t.cancelled() and t.exception() is None]
            failures = [e for t in tasks if not t.cancelled() and (e := t.exception()) is not None]
            if not done or failures:
                self._errors += len(failures)
                await asyncio.gather(*(self._close_conn(c) for c in opened))
        if failures:
            raise failures[0]
        now = self._time()
        for conn in opened:
            conn.last_used = now
            self._idle.append(conn)
        self._size += len(opened)
        self._creates += len(opened)
        self._opened = True
        self._reaper = loop.create_task(self._reap_forever(), name=f"jadugar-pool-{self.name}")

    async def close(self, timeout: float = 5.0) -> None:
        """Close the pool: fail the waiters, close idle connections, wait up to ``timeout``
        seconds for the ones in use to come back, then terminate those."""
        if self._closed:
            return
        self._closed = True
        if not self._opened:
            return
        self._disarm()
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(
                    DatabaseConnectionError(
                        f"pool '{self.name}' was closed while waiting for a connection to "
                        f"{self.describe}"
                    )
                )
        while self._idle:
            self._discard(self._idle.popleft(), graceful=True)
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.wait([self._reaper])
            self._reaper = None
        deadline = self._time() + timeout
        while (self._in_use or self._resetting or self._creating) and self._time() < deadline:
            await asyncio.sleep(0.005)
        for conn in list(self._in_use.values()):
            logger.warning("pool %r: terminating a connection still in use at close", self.name)
            self._discard(conn, graceful=False)
        self._in_use.clear()
        self._stale.clear()
        for task in list(self._tasks):
            if task.get_name() != "jadugar-pool-close":
                task.cancel()  # openings and rollbacks past the grace period: they clean up
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def clear(self) -> None:
        """Close every idle connection now; connections in use are destroyed when released,
        connections being opened are discarded. The pool stays usable (and refills to min)."""
        self._generation += 1
        self._stale.update(self._in_use)
        self._stale.update(self._resetting)
        closing = []
        while self._idle:
            conn = self._idle.popleft()
            self._size -= 1
            self._destroys += 1
            closing.append(self._close_conn(conn))
        await asyncio.gather(*closing)
        self._maybe_grow()

    # -- acquire / release -------------------------------------------------------------------

    async def acquire(self, timeout: float | None = None) -> C:
        """A connection, waiting up to ``timeout`` seconds (default ``acquire_timeout``);
        ``PoolTimeoutError`` after that. Hand it back with :meth:`release`."""
        idle = self._idle
        if idle and not self._waiters:
            conn = idle.pop()
            now = self._time()
            if (
                not conn.broken
                and now - conn.last_used <= self._ping_after
                and now - conn.created_at <= self._max_lifetime
            ):
                self._in_use[id(conn)] = conn
                self._acquires += 1
                self._waits.append(0.0)
                if self.on_acquire is not None:
                    self._call_hook(self.on_acquire, conn)
                return conn
            idle.append(conn)  # needs a ping or must go: the slow path sees to it
            return await self._acquire_slow(timeout)
        if self._closed or not self._opened:
            return await self._acquire_slow(timeout)
        # Every connection is busy: queue up, first come first served. Inline (no helper
        # coroutine): under load this is the common case.
        start = self._time()
        loop = self._loop
        assert loop is not None
        fut: asyncio.Future[C] = loop.create_future()
        self._waiters.append(fut)
        self._maybe_grow()
        if timeout is None:
            timeout = self._acquire_timeout
        if timeout is not None:
            deadline = start + timeout
            self._deadlines[fut] = (deadline, timeout)
            if deadline < self._timer_at:
                self._arm(deadline)
        try:
            conn = await fut
        except BaseException:
            if not fut.done() or fut.cancelled():
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
            elif fut.exception() is None:
                # Handed a connection just as we were cancelled: it goes back, not astray.
                conn = fut.result()
                del self._in_use[id(conn)]
                self._hand_out(conn)
            raise
        finally:
            if timeout is not None:
                del self._deadlines[fut]
        self._acquires += 1
        self._waits.append((self._time() - start) * 1000.0)
        if self.on_acquire is not None:
            self._call_hook(self.on_acquire, conn)
        return conn

    def connection(self, timeout: float | None = None) -> _ConnectionContext[C]:
        """``async with pool.connection() as conn:`` acquire, then release on any exit."""
        return _ConnectionContext(self, timeout)

    async def release(self, conn: C) -> None:
        """Give a connection back. A broken one is destroyed; one inside a transaction is
        rolled back first (shielded: it completes even if this task is cancelled)."""
        reset = self.release_nowait(conn)
        if reset is not None:
            await asyncio.shield(reset)

    def release_nowait(self, conn: C) -> asyncio.Task[None] | None:
        """:meth:`release` without a coroutine, for hot paths: None when the connection is
        back (or destroyed), else the rollback task to await (through ``asyncio.shield``)."""
        key = id(conn)
        if self._in_use.pop(key, None) is None:
            self._not_ours(conn, key)
            return None
        self._releases += 1
        if self.on_release is not None:
            self._call_hook(self.on_release, conn)
        try:
            dirty = conn.in_transaction
        except Exception:  # a driver that cannot even tell: do not trust the connection
            conn.broken = True
            dirty = False
        if conn.broken or self._closed or (self._stale and key in self._stale):
            self._stale.discard(key)
            self._discard(conn, graceful=not conn.broken)
        elif dirty:
            self._resetting[key] = conn
            return self._spawn(self._reset(conn), "jadugar-pool-reset")
        else:
            now = self._time()
            conn.last_used = now
            if now - conn.created_at > self._max_lifetime:
                self._discard(conn, graceful=True)
            else:
                self._hand_out(conn)
        return None

    # -- observation ---------------------------------------------------------------------------

    def get_status(self) -> PoolStatus:
        return PoolStatus(
            size=self._size,
            idle=len(self._idle),
            in_use=len(self._in_use) + len(self._resetting),
            waiting=len(self._waiters),
            min=self._min,
            max=self._max,
        )

    def get_metrics(self) -> PoolMetrics:
        return pool_metrics(
            self._acquires,
            self._releases,
            self._creates,
            self._destroys,
            self._timeouts,
            self._errors,
            self._waits,
        )

    # -- internals: acquiring --------------------------------------------------------------

    async def _acquire_slow(self, timeout: float | None) -> C:
        """``acquire`` when the pool is not open, or idle connections need a check first."""
        if self._closed or not self._opened:
            state = "closed" if self._closed else "not open: call `await pool.open()` first"
            raise JadugarError(f"pool '{self.name}' for {self.describe} is {state}")
        start = self._time()
        while self._idle and not self._waiters:
            conn = self._idle.pop()
            if await self._checked_out(conn):
                return self._acquired(conn, start)
        return await self.acquire(timeout)  # none usable: queue up

    def _acquired(self, conn: C, start: float) -> C:
        self._acquires += 1
        self._waits.append((self._time() - start) * 1000.0)
        if self.on_acquire is not None:
            self._call_hook(self.on_acquire, conn)
        return conn

    async def _checked_out(self, conn: C) -> bool:
        """Check an idle connection before handing it out; on True it is in ``_in_use``."""
        now = self._time()
        if conn.broken or now - conn.created_at > self._max_lifetime:
            self._discard(conn, graceful=not conn.broken)
            return False
        key = id(conn)
        self._in_use[key] = conn
        if now - conn.last_used <= self._ping_after:
            return True
        try:
            async with asyncio.timeout(self._ping_timeout):
                await conn.ping()
        except BaseException as exc:
            # Dead, or the ping was cut by cancellation: either way it cannot be trusted.
            self._in_use.pop(key, None)
            self._stale.discard(key)
            self._discard(conn, graceful=False)
            if not isinstance(exc, Exception):
                raise
            self._errors += 1
            logger.info(
                "pool %r: idle connection failed its ping (%s); replacing it", self.name, exc
            )
            return False
        conn.last_used = self._time()
        return True

    def _arm(self, deadline: float) -> None:
        """(Re)arm the shared waiter timer for ``deadline`` (loop time)."""
        loop = self._loop
        assert loop is not None
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(deadline, self._expire_due)
        self._timer_at = deadline

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = math.inf

    def _expire_due(self) -> None:
        """Timer callback: fail the waiters whose deadline has passed, re-arm for the next."""
        self._timer = None
        self._timer_at = math.inf
        now = self._time() + _CLOCK_RESOLUTION  # the loop runs a timer up to this early
        following = math.inf
        for fut, (deadline, timeout) in list(self._deadlines.items()):
            if fut.done():
                continue
            if deadline <= now:
                self._expire(fut, timeout)
            elif deadline < following:
                following = deadline
        if following < self._timer_at:
            self._arm(following)

    def _expire(self, fut: asyncio.Future[C], timeout: float) -> None:
        """The waiter behind ``fut`` ran out of time."""
        if fut.done():
            return
        waiting = len(self._waiters)
        with contextlib.suppress(ValueError):
            self._waiters.remove(fut)
        self._timeouts += 1
        in_use = len(self._in_use) + len(self._resetting)
        fut.set_exception(
            PoolTimeoutError(
                f"timed out after {timeout:g}s waiting for a connection to {self.describe}: "
                f"{in_use} of {self._max} in use, {waiting} waiting (pool '{self.name}': "
                "release connections sooner, or raise PoolOptions.max or acquire_timeout)",
                in_use=in_use,
                size=self._size,
                max_size=self._max,
            )
        )

    def _not_ours(self, conn: C, key: int) -> None:
        if self._closed:
            return  # terminated by close(): nothing left to give back
        if key in self._resetting:
            raise TransactionError(
                f"connection released twice to pool '{self.name}' ({self.describe}): it is "
                "already being rolled back; release each acquired connection exactly once"
            )
        raise TransactionError(
            f"connection released to pool '{self.name}' ({self.describe}) that is not checked "
            "out from it: already released, or acquired from another pool; release each "
            "acquired connection exactly once"
        )

    @staticmethod
    def _call_hook(hook: Callable[[C], None], conn: C) -> None:
        try:
            hook(conn)
        except Exception:
            logger.exception("pool hook %r failed", hook)
