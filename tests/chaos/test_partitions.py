"""Partitions (SPEC 3, 11): Jadugar talks to the server through a loopback proxy
(``proxy.py``) that stalls every byte (blackhole) or cuts every connection mid-query.

Every call made during the partition ends within its timeout (+ a small margin) with a
``jadugar`` error that says what happened, never a raw driver or socket exception; once
the proxy heals, the same manager serves queries again within a few seconds, its pool all
idle, without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from jadugar import DatabaseManager, JadugarError

from ..engines import SERVERS, URLS, require_server
from .figures import FigureBook
from .proxy import PartitionProxy

pytestmark = pytest.mark.engines("postgres", "mysql")

QUERY_TIMEOUT = 1.0  # seconds: DatabaseOptions.timeout, every statement
POOL_TIMEOUT = 0.5  # seconds: acquire, create and connect
MARGIN = 0.5  # seconds a call may end after its timeout
HARD_LIMIT = 10.0  # seconds: beyond this a call counts as hung (and the test says so)
RECOVERY_LIMIT = 5.0  # seconds the pool has to serve again after the heal
RECOVERY_QUERIES = 20
SLEEP = {"postgres": "SELECT pg_sleep(0.5) AS slept", "mysql": "SELECT SLEEP(0.5) AS slept"}

Call = Callable[[], Awaitable[Any]]


@dataclass
class Calls:
    """The calls made while the link was down: how long each took and what it raised."""

    elapsed: list[float] = field(default_factory=list)
    errors: list[BaseException | None] = field(default_factory=list)

    async def measure(self, call: Call) -> None:
        start = time.perf_counter()
        error: BaseException | None = None
        try:
            async with asyncio.timeout(HARD_LIMIT):
                await call()
        except Exception as exc:
            error = exc
        self.elapsed.append(time.perf_counter() - start)
        self.errors.append(error)

    @property
    def in_time(self) -> int:
        return sum(1 for took in self.elapsed if took <= QUERY_TIMEOUT + MARGIN)

    @property
    def clear(self) -> list[BaseException]:
        return [e for e in self.errors if isinstance(e, JadugarError) and str(e).strip()]

    @property
    def unclear(self) -> list[BaseException | None]:
        return [e for e in self.errors if not (isinstance(e, JadugarError) and str(e).strip())]

    @property
    def worst_ms(self) -> float:
        return round(max(self.elapsed, default=0.0) * 1000, 1)


@pytest.fixture
async def proxy(engine: str) -> AsyncIterator[PartitionProxy]:
    require_server(engine)
    host, port = SERVERS[engine]
    link = PartitionProxy(host, port)
    await link.start()
    yield link
    await link.stop()


@pytest.fixture
async def db(engine: str, proxy: PartitionProxy) -> AsyncIterator[DatabaseManager]:
    """A manager whose every connection goes through the proxy."""
    direct = f"127.0.0.1:{SERVERS[engine][1]}"
    manager = DatabaseManager(
        url=URLS[engine].replace(direct, f"127.0.0.1:{proxy.port}"),
        timeout=QUERY_TIMEOUT,
        connect_timeout=POOL_TIMEOUT,
        pool={
            "min": 1,
            "max": 4,
            "acquire_timeout": POOL_TIMEOUT,
            "create_timeout": POOL_TIMEOUT,
        },
    )
    await manager.connect()
    yield manager
    proxy.heal()
    async with asyncio.timeout(HARD_LIMIT):
        await manager.disconnect()


async def _select_one(db: DatabaseManager) -> None:
    rows = await db.query.raw("SELECT 1 AS one").all()
    assert [dict(row) for row in rows] == [{"one": 1}]


async def _warm(db: DatabaseManager, count: int = 3) -> None:
    """Open a few connections so the partition catches idle ones too."""
    await asyncio.gather(*(_select_one(db) for _ in range(count)))


async def _recover(db: DatabaseManager) -> float:
    """Milliseconds until RECOVERY_QUERIES queries in a row succeed (inf: never)."""
    start = time.perf_counter()
    in_a_row = 0
    while time.perf_counter() - start < RECOVERY_LIMIT:
        try:
            await _select_one(db)
            in_a_row += 1
        except JadugarError:
            in_a_row = 0
            await asyncio.sleep(0.05)
        if in_a_row >= RECOVERY_QUERIES:
            return round((time.perf_counter() - start) * 1000, 1)
    return float("inf")


async def _settled(db: DatabaseManager) -> int:
    """The pool's in_use once releases still rolling back are done (up to 2 s)."""
    deadline = time.perf_counter() + 2.0
    while db.pool_status().in_use and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)
    return db.pool_status().in_use


async def _in_flight(calls: Calls, call: Call, then: Callable[[], None]) -> None:
    """Start ``call``, and ``then()`` (the partition) while it runs."""
    task = asyncio.create_task(calls.measure(call))
    await asyncio.sleep(0.15)
    then()
    await task


def _record_and_check(
    figures: FigureBook, name: str, engine: str, calls: Calls, recovered_ms: float, in_use: int
) -> None:
    figures.record(
        name,
        engine,
        calls=len(calls.elapsed),
        ended_in_time=calls.in_time,
        worst_ms=calls.worst_ms,
        clear_errors=len(calls.clear),
        recovered_after_ms=recovered_ms,
        in_use_after=in_use,
    )
    assert calls.in_time == len(calls.elapsed), calls.elapsed
    assert not calls.unclear, [repr(e) for e in calls.unclear]
    assert recovered_ms != float("inf")
    assert in_use == 0


async def test_blackhole(
    db: DatabaseManager, proxy: PartitionProxy, engine: str, figures: FigureBook
) -> None:
    await _warm(db)
    calls = Calls()
    # a statement in flight when the link goes silent
    await _in_flight(calls, lambda: db.query.raw(SLEEP[engine]).all(), proxy.blackhole)
    # new statements during the blackhole: stalled idle connections and new ones alike
    await asyncio.gather(*(calls.measure(lambda: _select_one(db)) for _ in range(6)))
    # a transaction whose COMMIT meets the blackhole
    proxy.heal()
    await _recover(db)

    async def commit_into_the_void() -> None:
        async with db.transaction() as tx:
            await tx.raw("SELECT 1 AS one").all()
            proxy.blackhole()

    await calls.measure(commit_into_the_void)
    proxy.heal()
    recovered_ms = await _recover(db)
    _record_and_check(
        figures, "partition: blackhole", engine, calls, recovered_ms, await _settled(db)
    )


async def test_cut(
    db: DatabaseManager, proxy: PartitionProxy, engine: str, figures: FigureBook
) -> None:
    await _warm(db)
    calls = Calls()
    # a statement cut mid-flight
    await _in_flight(calls, lambda: db.query.raw(SLEEP[engine]).all(), proxy.cut)
    # new statements while every connection is refused
    await asyncio.gather(*(calls.measure(lambda: _select_one(db)) for _ in range(6)))
    proxy.heal()
    await _recover(db)

    # a transaction cut before its COMMIT
    async def cut_before_commit() -> None:
        async with db.transaction() as tx:
            await tx.raw("SELECT 1 AS one").all()
            proxy.cut()

    await calls.measure(cut_before_commit)
    proxy.heal()
    recovered_ms = await _recover(db)
    _record_and_check(figures, "partition: cut", engine, calls, recovered_ms, await _settled(db))
