"""The pool's books and their upkeep: which connections are idle, in use, being opened
or rolled back (and the counters), opening connections for waiters in pool-owned tasks,
rolling back those released inside a transaction, closing, and the idle reaper.

``ConnectionPool`` (``jadugar.pool``) builds acquire, release and the lifecycle on top.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

from ..errors import DatabaseConnectionError, JadugarError
from ..pool_types import WAIT_SAMPLES, PooledConnection, PoolOptionsLike

logger = logging.getLogger("jadugar.pool")

ROLLBACK_TIMEOUT = 5.0  # seconds allowed to roll back a connection released mid-transaction
CLOSE_TIMEOUT = 2.0  # seconds allowed for a polite close before the connection is terminated
PING_TIMEOUT = 5.0  # upper bound of a liveness ping (also bounded by create_timeout)
REFILL_BACKOFF = 1.0  # seconds the reaper waits after a failed opening before refilling to min

C = TypeVar("C", bound=PooledConnection)


def _seconds(value: float | None) -> float:
    """``None`` (no limit) as infinity, so hot-path comparisons need no branch."""
    return math.inf if value is None else float(value)


class PoolUpkeep(Generic[C]):
    """The books of a ``ConnectionPool`` (its constructor is this one) and their upkeep."""

    def __init__(
        self,
        factory: Callable[[], Awaitable[C]],
        options: PoolOptionsLike,
        *,
        name: str = "primary",
        describe: str = "",
    ) -> None:
        if options.min < 0 or options.max < 1 or options.min > options.max:
            raise JadugarError(
                f"pool '{name}': need 0 <= min <= max and max >= 1, got min={options.min} "
                f"max={options.max}; fix PoolOptions"
            )
        self.name = name
        self.describe = describe or "the database"
        self.options = options
        self.on_acquire: Callable[[C], None] | None = None
        self.on_release: Callable[[C], None] | None = None
        self._factory = factory
        self._min = options.min
        self._max = options.max
        self._idle_timeout = _seconds(options.idle_timeout)
        self._acquire_timeout = options.acquire_timeout
        self._create_timeout = options.create_timeout
        self._max_lifetime = _seconds(options.max_lifetime)
        self._ping_after = _seconds(options.ping_after)
        self._ping_timeout = min(PING_TIMEOUT, _seconds(options.create_timeout))
        self._time: Callable[[], float] = time.monotonic  # loop.time once opened
        self._loop: asyncio.AbstractEventLoop | None = None
        # Newest at the right: acquire pops there (warm connections), the reaper trims the left.
        self._idle: deque[C] = deque()
        self._in_use: dict[int, C] = {}  # checked out (or being pinged), by id()
        self._resetting: dict[int, C] = {}  # released mid-transaction, rolling back
        self._waiters: deque[asyncio.Future[C]] = deque()
        # acquire deadlines of the waiters: one shared timer, armed for the earliest (a
        # timer per waiter costs a heap push and a cancel on every contended acquire)
        self._deadlines: dict[asyncio.Future[C], tuple[float, float]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._stale: set[int] = set()  # in use at clear(): destroyed when released
        self._generation = 0  # bumped by clear(); connections opened before are not kept
        self._size = 0  # open + opening: never above max
        self._creating = 0
        self._failed_at = -math.inf  # loop time of the last failed opening
        self._tasks: set[asyncio.Task[None]] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._opened = False
        self._closed = False
        self._acquires = 0
        self._releases = 0
        self._creates = 0
        self._destroys = 0
        self._timeouts = 0
        self._errors = 0
        self._waits: deque[float] = deque(maxlen=WAIT_SAMPLES)

    def _hand_out(self, conn: C) -> None:
        """A free connection goes to the first live waiter, else to the idle deque."""
        waiters = self._waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                self._in_use[id(conn)] = conn
                fut.set_result(conn)
                return
        self._idle.append(conn)

    # -- internals: creating and destroying ------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        loop = self._loop
        assert loop is not None
        task = loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _maybe_grow(self) -> None:
        """Open connections for waiters not already covered by one being opened."""
        if self._closed or not self._opened:
            return
        while self._size < self._max and (
            len(self._waiters) > self._creating or self._size < self._min
        ):
            self._size += 1
            self._creating += 1
            self._spawn(self._create(self._generation), "jadugar-pool-create")

    async def _connect(self) -> C:
        """One new connection, bounded by ``create_timeout``; errors are ours, not the driver's."""
        limit = self._create_timeout
        try:
            async with asyncio.timeout(limit) as scope:
                return await self._factory()
        except JadugarError:
            raise
        except TimeoutError as exc:
            if scope.expired():
                raise DatabaseConnectionError(
                    f"could not open a connection to {self.describe} within {limit:g}s "
                    "(PoolOptions.create_timeout): is the server up and reachable?"
                ) from exc
            raise DatabaseConnectionError(
                f"could not open a connection to {self.describe}: timed out"
            ) from exc
        except Exception as exc:
            raise DatabaseConnectionError(
                f"could not open a connection to {self.describe}: {type(exc).__name__}: {exc}"
            ) from exc

    async def _create(self, generation: int) -> None:
        """Pool-owned task: open one connection for the first waiter (or the idle set)."""
        try:
            conn = await self._connect()
        except BaseException as exc:
            self._creating -= 1
            self._size -= 1
            if not isinstance(exc, Exception):
                raise  # cancelled by close()
            self._errors += 1
            self._failed_at = self._time()
            while self._waiters:
                fut = self._waiters.popleft()
                if not fut.done():
                    fut.set_exception(exc)
                    break
            else:
                logger.warning("pool %r: could not open a connection: %s", self.name, exc)
            self._maybe_grow()  # the other waiters still need theirs
            return
        self._creating -= 1
        self._creates += 1
        conn.last_used = self._time()
        if self._closed or generation != self._generation:
            self._size -= 1
            self._destroys += 1
            await self._close_conn(conn)
            self._maybe_grow()
            return
        self._hand_out(conn)

    async def _reset(self, conn: C) -> None:
        """Pool-owned task: roll back a connection released inside a transaction."""
        key = id(conn)
        try:
            async with asyncio.timeout(ROLLBACK_TIMEOUT + 1.0):
                await conn.execute_script("ROLLBACK", ROLLBACK_TIMEOUT)
        except BaseException as exc:
            self._resetting.pop(key, None)
            self._stale.discard(key)
            self._discard(conn, graceful=False)
            if not isinstance(exc, Exception):
                raise
            self._errors += 1
            logger.info(
                "pool %r: rollback on release failed (%s); connection dropped", self.name, exc
            )
            return
        self._resetting.pop(key, None)
        now = self._time()
        conn.last_used = now
        if (
            conn.broken
            or self._still_in_transaction(conn)
            or self._closed
            or key in self._stale
            or now - conn.created_at > self._max_lifetime
        ):
            self._stale.discard(key)
            self._discard(conn, graceful=not conn.broken)
        else:
            self._hand_out(conn)

    def _discard(self, conn: C, *, graceful: bool) -> None:
        """Take a connection (already out of idle/in-use) off the books and close it."""
        self._size -= 1
        self._destroys += 1
        if graceful and self._loop is not None:
            self._spawn(self._close_conn(conn), "jadugar-pool-close")
        else:
            try:
                conn.terminate()
            except Exception as exc:
                logger.debug("pool %r: terminate failed: %s", self.name, exc)
        self._maybe_grow()

    async def _close_conn(self, conn: C) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await conn.close()
        except BaseException as exc:
            try:
                conn.terminate()
            except Exception as exc2:
                logger.debug("pool %r: terminate failed: %s", self.name, exc2)
            if not isinstance(exc, Exception):
                raise

    # -- internals: the reaper -------------------------------------------------------------

    async def _reap_forever(self) -> None:
        period = min(self._idle_timeout, self._max_lifetime, 10.0) / 2
        period = max(0.005, period)
        while True:
            await asyncio.sleep(period)
            try:
                self._reap()
            except Exception:  # never let the reaper die silently
                logger.exception("pool %r: reaper failed", self.name)

    def _reap(self) -> None:
        """Close idle connections above ``min`` idle for ``idle_timeout`` and any idle one past
        ``max_lifetime``; refill to ``min``."""
        now = self._time()
        idle = self._idle
        for conn in [c for c in idle if c.broken or now - c.created_at > self._max_lifetime]:
            idle.remove(conn)
            self._discard(conn, graceful=not conn.broken)
        while idle and self._size > self._min and now - idle[0].last_used > self._idle_timeout:
            self._discard(idle.popleft(), graceful=True)
        if now - self._failed_at >= REFILL_BACKOFF:
            self._maybe_grow()

    @staticmethod
    def _still_in_transaction(conn: C) -> bool:
        try:
            return conn.in_transaction
        except Exception:
            return True
