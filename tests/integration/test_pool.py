"""ConnectionPool on real servers: limits, timeouts, metrics, broken connections,
transaction reset on release, lifetimes, and cancellation at every await (SPEC 3).

Leaks are checked on the server: every connection the pool opened is tracked by its
session id, and a separate monitor connection asks ``pg_stat_activity`` /
``information_schema.processlist`` which of them are still alive.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from jadugar.dialects.base import ConnectParams, Driver, DriverConnection
from jadugar.errors import (
    DatabaseConnectionError,
    JadugarError,
    PoolTimeoutError,
    TransactionError,
)
from jadugar.pool import ConnectionPool

from ..engines import connect_params, selected_engines

DRIVERS = {
    "postgres": ("jadugar.dialects.postgres.driver", "PostgresDriver"),
    "mysql": ("jadugar.dialects.mysql.driver", "MySQLDriver"),
    "sqlite": ("jadugar.dialects.sqlite.driver", "SQLiteDriver"),
}
# Server-side views of sessions; SQLite has none (session_id is None there).
SESSIONS_SQL = {
    "postgres": "SELECT pid AS id FROM pg_stat_activity WHERE pid IN ({ids})",
    "mysql": "SELECT id AS id FROM information_schema.processlist WHERE id IN ({ids})",
}
COUNT_SQL = {
    "postgres": "SELECT count(*) AS n FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    "mysql": "SELECT count(*) AS n FROM information_schema.processlist "
    "WHERE db = DATABASE() AND id <> CONNECTION_ID()",
}
KILL_SQL = {
    "postgres": "SELECT pg_terminate_backend({id})",
    "mysql": "KILL {id}",
}
SLOW_SQL = {
    "postgres": "SELECT pg_sleep(10)",
    "mysql": "SELECT SLEEP(10)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 1000000000) SELECT count(*) FROM c",
}


@dataclass(frozen=True)
class Opts:
    """Satisfies ``jadugar.pool.PoolOptionsLike`` (the test does not depend on config.py)."""

    min: int = 0
    max: int = 5
    idle_timeout: float | None = 60.0
    acquire_timeout: float | None = 5.0
    create_timeout: float | None = 5.0
    max_lifetime: float | None = 3600.0
    ping_after: float | None = 30.0


class Factory:
    """Opens driver connections for the pool and remembers every one of them."""

    def __init__(self, driver: Driver, params: ConnectParams) -> None:
        self.driver = driver
        self.params = params
        self.delay = 0.0  # a slow network, before the driver is called
        self.opened: list[DriverConnection] = []
        self.sessions: dict[int, int] = {}  # id(conn) -> server session, read while open

    async def __call__(self) -> DriverConnection:
        if self.delay:
            await asyncio.sleep(self.delay)
        conn = await self.driver.connect(self.params)
        self.opened.append(conn)
        if conn.session_id is not None:
            self.sessions[id(conn)] = conn.session_id
        return conn

    def session_ids(self) -> set[int]:
        return set(self.sessions.values())

    def session_of(self, conn: DriverConnection) -> int:
        return self.sessions[id(conn)]


class Env:
    """One engine's driver, parameters, monitor connection and the pools a test made."""

    def __init__(self, engine: str, params: ConnectParams, driver: Driver) -> None:
        self.engine = engine
        self.params = params
        self.driver = driver
        self.monitor: DriverConnection | None = None
        self.pools: list[tuple[ConnectionPool[DriverConnection], Factory]] = []
        self.tables: list[str] = []

    @property
    def has_sessions(self) -> bool:
        return self.engine in SESSIONS_SQL

    def pool(self, **options: Any) -> tuple[ConnectionPool[DriverConnection], Factory]:
        factory = Factory(self.driver, self.params)
        pool: ConnectionPool[DriverConnection] = ConnectionPool(
            factory, Opts(**options), describe=self.params.describe()
        )
        self.pools.append((pool, factory))
        return pool, factory

    async def alive(self, ids: set[int]) -> set[int]:
        """Which of these server sessions still exist."""
        if not ids or self.monitor is None:
            return set()
        sql = SESSIONS_SQL[self.engine].format(ids=", ".join(str(i) for i in sorted(ids)))
        rows = await self.monitor.fetch(sql, [], 5.0)
        return {int(r["id"]) for r in rows}

    async def session_count(self) -> int:
        assert self.monitor is not None
        rows = await self.monitor.fetch(COUNT_SQL[self.engine], [], 5.0)
        return int(rows[0]["n"])

    async def kill(self, session_id: int) -> None:
        assert self.monitor is not None
        await self.monitor.execute_script(KILL_SQL[self.engine].format(id=session_id), 5.0)
        await until(lambda: self.alive({session_id}), lambda alive: not alive)

    async def table(self) -> str:
        name = f"pool_t_{uuid.uuid4().hex[:10]}"
        conn = await self.driver.connect(self.params)
        try:
            await conn.execute_script(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, v INTEGER)", 5)
        finally:
            await conn.close()
        self.tables.append(name)
        return name


async def until(
    probe: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], within: float = 5.0
) -> Any:
    """Poll ``probe`` until ``ok(result)``; returns the last result (asserted by the caller)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await probe()
        if ok(value) or loop.time() > deadline:
            return value
        await asyncio.sleep(0.01)


async def settled(pool: ConnectionPool[DriverConnection]) -> None:
    """Wait until the pool's background work is done, then assert its books balance."""

    async def status() -> Any:
        return pool.get_status()

    s = await until(status, lambda s: s.size == s.idle + s.in_use and not pool._tasks)
    assert s.size == s.idle + s.in_use, s
    assert s.waiting == 0, s
    assert s.size <= s.max, s
    m = pool.get_metrics()
    assert m.creates - m.destroys == s.size, (m, s)


async def no_leak(env: Env, pool: ConnectionPool[DriverConnection], factory: Factory) -> None:
    """Every session the pool opened is either still held by the pool or gone."""
    await settled(pool)
    if not env.has_sessions:
        return
    held = {factory.session_of(c) for c in list(pool._idle) + list(pool._in_use.values())}
    alive = await until(lambda: env.alive(factory.session_ids()), lambda a: a <= held)
    assert alive <= held, f"sessions leaked: {sorted(alive - held)}"
    assert len(held) == pool.get_status().size


@pytest.fixture(params=selected_engines())
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Env]:
    engine: str = request.param
    params = connect_params(engine, tmp_path)
    module, cls = DRIVERS[engine]
    driver: Driver = getattr(importlib.import_module(module), cls)()
    e = Env(engine, replace(params, connect_timeout=5.0), driver)
    if e.has_sessions:
        e.monitor = await driver.connect(params)
    else:
        # Create the SQLite file (and switch it to WAL) once, before pools open connections
        # concurrently: the driver's WAL switch can fail with SQLITE_BUSY when two connections
        # race on a brand-new file.
        await (await driver.connect(params)).close()
    try:
        yield e
    finally:
        for pool, factory in e.pools:
            await pool.close(timeout=1.0)
            if e.has_sessions:
                gone = await until(partial(e.alive, factory.session_ids()), lambda a: not a)
                assert not gone, f"sessions alive after close: {sorted(gone)}"
        if e.tables:
            conn = await driver.connect(params)
            for name in e.tables:
                await conn.execute_script(f"DROP TABLE IF EXISTS {name}", 5)
            await conn.close()
        if e.monitor is not None:
            await e.monitor.close()


async def cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def select_one(conn: DriverConnection) -> None:
    rows = await conn.fetch("SELECT 1 AS one", [], 5.0)
    assert rows == [{"one": 1}]


# -- limits, timeouts, metrics -----------------------------------------------------------------


async def test_open_makes_min_and_max_is_never_exceeded(env: Env) -> None:
    pool, factory = env.pool(min=2, max=5)
    await pool.open()
    assert pool.get_status().size == 2
    assert pool.get_status().idle == 2
    if env.has_sessions:
        assert len(await env.alive(factory.session_ids())) == 2

    peak = 0

    def on_acquire(conn: DriverConnection) -> None:
        nonlocal peak
        s = pool.get_status()
        assert s.size <= s.max
        peak = max(peak, s.in_use)

    pool.on_acquire = on_acquire

    async def work(i: int) -> None:
        async with pool.connection() as conn:
            await select_one(conn)
            await asyncio.sleep(0.001 * (i % 3))

    await asyncio.gather(*(work(i) for i in range(50)))
    await settled(pool)
    s, m = pool.get_status(), pool.get_metrics()
    assert peak == 5
    assert s.size <= 5
    assert len(factory.opened) <= 5
    assert m.acquires == m.releases == 50
    assert m.creates - m.destroys == s.size
    assert m.errors == 0 and m.timeouts == 0
    assert 0.0 <= m.wait_p50_ms <= m.wait_p95_ms <= m.wait_max_ms
    await no_leak(env, pool, factory)


async def test_acquire_times_out_saying_how_many_are_in_use(env: Env) -> None:
    pool, _ = env.pool(min=0, max=2, acquire_timeout=0.1)
    await pool.open()
    held = [await pool.acquire(), await pool.acquire()]
    with pytest.raises(PoolTimeoutError) as info:
        await pool.acquire()
    err = info.value
    assert (err.in_use, err.size, err.max_size) == (2, 2, 2)
    assert "timed out after 0.1s" in str(err)
    assert "2 of 2 in use" in str(err)
    assert env.params.describe() in str(err)
    with pytest.raises(PoolTimeoutError):
        await pool.acquire(timeout=0.01)  # the per-call timeout wins
    assert pool.get_metrics().timeouts == 2
    assert pool.get_status().waiting == 0
    for conn in held:
        await pool.release(conn)
    await settled(pool)


async def test_waiters_are_served_first_come_first_served(env: Env) -> None:
    pool, _ = env.pool(min=1, max=1)
    await pool.open()
    held = await pool.acquire()
    order: list[int] = []

    async def waiter(i: int) -> None:
        async with pool.connection():
            order.append(i)

    tasks = []
    for i in range(5):
        tasks.append(asyncio.create_task(waiter(i)))
        await asyncio.sleep(0)
    await until(lambda: asyncio.sleep(0, pool.get_status().waiting), lambda n: n == 5)
    await pool.release(held)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    await settled(pool)


async def test_double_release_is_refused_and_counts_stay_right(env: Env) -> None:
    pool, _ = env.pool(min=1, max=2)
    await pool.open()
    conn = await pool.acquire()
    await pool.release(conn)
    with pytest.raises(TransactionError, match="released"):
        await pool.release(conn)
    assert pool.get_metrics().releases == 1
    await settled(pool)
    assert pool.get_status().idle == 1


async def test_closed_pool_refuses_acquire_and_closes_everything(env: Env) -> None:
    pool, factory = env.pool(min=2, max=3)
    await pool.open()
    conn = await pool.acquire()
    closing = asyncio.create_task(pool.close(timeout=5.0))
    await asyncio.sleep(0.01)
    await pool.release(conn)  # close() waits for it
    await closing
    with pytest.raises(JadugarError, match="closed"):
        await pool.acquire()
    assert pool.get_status().size == 0
    if env.has_sessions:
        assert not await until(lambda: env.alive(factory.session_ids()), lambda a: not a)


# -- cancellation: nothing leaks, wherever the task is cancelled ------------------------------


async def test_cancelled_while_waiting(env: Env) -> None:
    pool, factory = env.pool(min=1, max=1)
    await pool.open()
    held = await pool.acquire()
    waiters = [asyncio.create_task(pool.acquire()) for _ in range(5)]
    await until(lambda: asyncio.sleep(0, pool.get_status().waiting), lambda n: n == 5)
    for task in waiters:
        await cancel(task)
    assert pool.get_status().waiting == 0

    # Handed the connection in the very tick it was cancelled: the connection comes back.
    late = asyncio.create_task(pool.acquire())
    await until(lambda: asyncio.sleep(0, pool.get_status().waiting), lambda n: n == 1)
    await pool.release(held)
    assert pool.get_status().in_use == 1  # handed over to `late`, which has not run yet
    await cancel(late)
    s = pool.get_status()
    assert (s.size, s.idle, s.in_use, s.waiting) == (1, 1, 0, 0)
    async with pool.connection() as conn:
        await select_one(conn)
    await no_leak(env, pool, factory)


@pytest.mark.parametrize("ticks", [1, 2, 5, 20, 100])
async def test_cancelled_while_the_pool_opens_its_connection(env: Env, ticks: int) -> None:
    pool, factory = env.pool(min=0, max=2)
    await pool.open()
    task = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    assert pool.get_status().size == 1  # being opened for the waiting task
    for _ in range(ticks - 1):
        await asyncio.sleep(0)
    if task.done():  # opened before we got round to cancelling: an ordinary release
        await pool.release(task.result())
    else:
        await cancel(task)
    await settled(pool)  # the connection finished opening and went idle
    assert pool.get_status().in_use == 0
    async with pool.connection() as conn:
        await select_one(conn)
    await no_leak(env, pool, factory)


async def test_cancelled_while_using_the_connection(env: Env) -> None:
    pool, factory = env.pool(min=1, max=2)
    await pool.open()
    started = asyncio.Event()

    async def slow_query() -> None:
        async with pool.connection() as conn:
            started.set()
            await conn.fetch(SLOW_SQL[env.engine], [], None)

    async def idle_holder() -> None:
        async with pool.connection():
            started.set()
            await asyncio.sleep(30)

    for body in (slow_query, idle_holder):
        started.clear()
        task = asyncio.create_task(body())
        await started.wait()
        await asyncio.sleep(0.05)
        await cancel(task)
        await settled(pool)
        assert pool.get_status().in_use == 0
        async with pool.connection() as conn:  # the pool still works
            await select_one(conn)
    m = pool.get_metrics()
    assert m.acquires == m.releases
    await no_leak(env, pool, factory)


async def test_cancelled_while_release_rolls_back(env: Env) -> None:
    table = await env.table()
    pool, factory = env.pool(min=1, max=1)
    await pool.open()
    for ticks in (1, 2):  # 1: the rollback task is not started yet; 2: it is running
        conn = await pool.acquire()
        await conn.execute_script("BEGIN", 5)
        await conn.execute(f"INSERT INTO {table} (id, v) VALUES (1, {ticks})", [], 5)
        assert conn.in_transaction
        releasing = asyncio.create_task(pool.release(conn))
        for _ in range(ticks):
            await asyncio.sleep(0)
        assert not releasing.done()
        assert pool.get_status().in_use == 1  # still rolling back
        await cancel(releasing)
        await settled(pool)  # the shielded rollback finished anyway
        async with pool.connection() as again:
            assert not again.in_transaction
            rows = await again.fetch(f"SELECT count(*) AS n FROM {table}", [], 5)
            assert rows[0]["n"] == 0
    await no_leak(env, pool, factory)


async def test_create_timeout_frees_the_slot_and_reaches_the_acquirer(env: Env) -> None:
    pool, factory = env.pool(min=0, max=1, create_timeout=0.05)
    await pool.open()
    factory.delay = 10.0
    with pytest.raises(DatabaseConnectionError, match="create_timeout"):
        await pool.acquire()
    s, m = pool.get_status(), pool.get_metrics()
    assert (s.size, s.waiting, m.errors, m.creates) == (0, 0, 1, 0)
    factory.delay = 0.0
    async with pool.connection() as conn:  # the slot was given back
        await select_one(conn)
    await no_leak(env, pool, factory)


async def test_close_cuts_handshakes_in_flight_without_leaking(env: Env) -> None:
    """close(timeout=0) cancels connections still being opened; none may survive."""
    if not env.has_sessions:
        pytest.skip("no server sessions to count")
    before = await env.session_count()
    for ticks in (1, 3, 10, 30):
        pool, _ = env.pool(min=0, max=4)
        await pool.open()
        tasks = [asyncio.create_task(pool.acquire()) for _ in range(4)]
        for _ in range(ticks):
            await asyncio.sleep(0)
        await pool.close(timeout=0)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, JadugarError) or not isinstance(r, BaseException) for r in results)
        assert pool.get_status().size == 0
    after = await until(env.session_count, lambda n: n <= before)
    assert after <= before, "half-opened connections survived close()"


async def test_cancel_storm_leaves_the_books_balanced(env: Env) -> None:
    pool, factory = env.pool(min=0, max=3)
    await pool.open()

    async def user(i: int) -> None:
        async with pool.connection() as conn:
            if i % 2:
                await conn.execute_script("BEGIN", 5)
            await select_one(conn)
            await asyncio.sleep(0.002)

    tasks = [asyncio.create_task(user(i)) for i in range(40)]
    for i, task in enumerate(tasks):
        if i % 3 == 0:
            await asyncio.sleep(0.001)
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await settled(pool)
    m = pool.get_metrics()
    assert m.acquires == m.releases
    await no_leak(env, pool, factory)


# -- broken connections ------------------------------------------------------------------------


async def test_connection_killed_while_idle_is_never_handed_out(env: Env) -> None:
    if not env.has_sessions:
        pytest.skip("no server sessions to kill")
    pool, factory = env.pool(min=1, max=1, ping_after=0.0)
    await pool.open()
    victim = pool._idle[0]
    assert victim.session_id is not None
    await env.kill(victim.session_id)
    await asyncio.sleep(0.01)
    # A driver may already have seen the server close the socket (then ``broken`` says so
    # and no ping is needed); otherwise the ping before hand-out must catch it.
    noticed = victim.broken
    async with pool.connection() as conn:
        assert conn is not victim
        await select_one(conn)
    m = pool.get_metrics()
    assert m.destroys == 1 and m.creates == 2
    assert m.errors == (0 if noticed else 1)  # a failed ping counts as an error
    await no_leak(env, pool, factory)


async def test_connection_killed_while_in_use_is_discarded_on_release(env: Env) -> None:
    if not env.has_sessions:
        pytest.skip("no server sessions to kill")
    pool, factory = env.pool(min=1, max=1, ping_after=None)
    await pool.open()
    conn = await pool.acquire()
    assert conn.session_id is not None
    await env.kill(conn.session_id)
    with pytest.raises(JadugarError):
        await select_one(conn)
    assert conn.broken
    await pool.release(conn)
    assert conn not in pool._idle  # discarded at release, never parked
    assert pool.get_metrics().destroys == 1
    async with pool.connection() as fresh:
        assert fresh is not conn
        await select_one(fresh)
    assert pool.get_metrics().destroys == 1
    await no_leak(env, pool, factory)


async def test_released_inside_a_transaction_is_rolled_back(env: Env) -> None:
    table = await env.table()
    pool, factory = env.pool(min=1, max=1)
    await pool.open()
    conn = await pool.acquire()
    await conn.execute_script("BEGIN", 5)
    await conn.execute(f"INSERT INTO {table} (id, v) VALUES (1, 1)", [], 5)
    await pool.release(conn)
    async with pool.connection() as again:
        assert again is conn  # reused, not replaced
        assert not again.in_transaction
        rows = await again.fetch(f"SELECT count(*) AS n FROM {table}", [], 5)
        assert rows[0]["n"] == 0
    assert pool.get_metrics().destroys == 0
    await no_leak(env, pool, factory)


# -- lifetimes -----------------------------------------------------------------------------


async def test_max_lifetime_replaces_old_connections(env: Env) -> None:
    pool, factory = env.pool(min=0, max=2, max_lifetime=0.1, idle_timeout=None)
    await pool.open()
    first = await pool.acquire()
    await asyncio.sleep(0.12)
    await pool.release(first)  # too old: destroyed at release
    assert pool.get_metrics().destroys == 1
    second = await pool.acquire()
    assert second is not first
    await pool.release(second)
    await asyncio.sleep(0.12)  # too old while idle: gone (reaper or next acquire)
    async with pool.connection() as third:
        assert third is not second
        await select_one(third)
    assert pool.get_metrics().destroys == 2
    await no_leak(env, pool, factory)


async def test_idle_timeout_trims_down_to_min(env: Env) -> None:
    pool, factory = env.pool(min=1, max=4, idle_timeout=0.1)
    await pool.open()
    held = [await pool.acquire() for _ in range(4)]
    for conn in held:
        await pool.release(conn)
    assert pool.get_status().size == 4
    s = await until(lambda: asyncio.sleep(0, pool.get_status()), lambda s: s.size == 1)
    assert (s.size, s.idle) == (1, 1)
    await no_leak(env, pool, factory)
    assert len(factory.opened) == 4


async def test_clear_closes_idle_now_and_in_use_at_release(env: Env) -> None:
    pool, factory = env.pool(min=2, max=3)
    await pool.open()
    held = await pool.acquire()
    await pool.clear()
    await pool.release(held)  # in use at clear(): destroyed on release
    await settled(pool)
    assert held not in list(pool._idle)
    assert pool.get_status().size == 2  # refilled to min
    await no_leak(env, pool, factory)


async def test_no_server_sessions_leak(env: Env) -> None:
    """The session count seen by the server returns to where it was."""
    if not env.has_sessions:
        pytest.skip("no server sessions to count")
    before = await env.session_count()
    pool, _ = env.pool(min=2, max=4)
    await pool.open()

    async def user(i: int) -> None:
        async with pool.connection() as conn:
            await select_one(conn)

    tasks = [asyncio.create_task(user(i)) for i in range(20)]
    await asyncio.sleep(0)
    for task in tasks[::4]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await pool.close()
    after = await until(env.session_count, lambda n: n <= before)
    assert after <= before
