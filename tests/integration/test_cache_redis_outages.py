"""The Redis query cache through outages, on every SQL engine: Redis unreachable at
connect, killed and restarted (nothing kept), and cut off from one process (a partition)
while it keeps its data: reads answer correctly from the database, writes work, one
warning per outage, and no stale result once Redis answers again.

Each test starts a ``redis-server`` of its own on a free port (never the shared one);
without the binary the tests skip, or fail under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jadugar.cache import RedisCacheBackend

from .conftest import MakeDb, Tables
from .redis_cache_support import (
    OwnRedis,
    Partition,
    Statements,
    by_id,
    fill,
    free_port,
    unavailable,
)

pytestmark = pytest.mark.asyncio

LOGGER = "jadugar.cache"


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("no redis-server binary on PATH")
        raise AssertionError("unreachable")  # pragma: no cover - skip and fail raise
    server = OwnRedis(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def backend_on(server: OwnRedis, prefix: str = "jt:") -> RedisCacheBackend:
    return RedisCacheBackend(server.url, prefix=prefix, timeout=0.2, retry_after=0.2)


def warnings_of(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno == logging.WARNING and text in r.getMessage()
    ]


async def test_redis_killed_and_restarted(
    make_db: MakeDb, tables: Tables, own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    a = await make_db(cache_backend=backend_on(own_redis))
    b = await make_db(cache_backend=backend_on(own_redis))
    await fill(a, tables.items)
    read = by_id(a, tables.items)
    statements = Statements(a)
    await read()
    assert (await by_id(b, tables.items)())[0]["label"] == "label 1"  # b: a hit
    assert b.cache_metrics().hits == 1
    statements.take()
    own_redis.kill()
    for _ in range(3):  # answered by the database, correctly, once per read
        assert [r["label"] for r in await read()] == ["label 1", "label 2", "label 3"]
        await asyncio.sleep(0.25)  # past retry_after: Redis is tried (and fails) again
    assert statements.take() == 3
    await a.query.table(tables.items).where({"id": 2}).update({"label": "written"})
    assert [r["label"] for r in await read()] == ["label 1", "written", "label 3"]
    failed = warnings_of(caplog, f"Redis at {own_redis.url} failed")
    backend = a.query_cache.backend
    assert isinstance(backend, RedisCacheBackend) and backend.failures >= 3
    assert len(failed) == 1, caplog.text  # one warning per outage, not per failure
    own_redis.start()  # empty: nothing on disk
    await asyncio.sleep(0.3)  # past retry_after
    statements.take()
    for _ in range(2):
        assert [r["label"] for r in await read()] == ["label 1", "written", "label 3"]
    assert statements.take() == 1  # cached again
    assert (await by_id(b, tables.items)())[1]["label"] == "written"
    assert warnings_of(caplog, "answers again")


async def test_a_partition_is_healed_before_anything_stale_is_served(
    make_db: MakeDb, tables: Tables, own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """A loses Redis (which keeps its entries and versions) and writes: once the link is
    back, A's background replay changes the versions before B, which never lost Redis,
    is served the old entry again."""
    caplog.set_level(logging.WARNING, LOGGER)
    async with Partition(own_redis.port) as link:
        backend = RedisCacheBackend(link.url, prefix="jt:", timeout=0.2, retry_after=0.2)
        a = await make_db(cache_backend=backend)
        b = await make_db(cache_backend=backend_on(own_redis))  # straight to Redis
        await fill(a, tables.items)
        await by_id(a, tables.items)()
        await by_id(b, tables.items)()
        assert b.cache_metrics().hits == 1
        link.cut = True
        started = time.monotonic()
        await a.query.table(tables.items).where({"id": 3}).update({"label": "cut off"})
        assert time.monotonic() - started < 5  # bounded by the backend's timeout
        assert (await by_id(a, tables.items)())[2]["label"] == "cut off"  # uncached
        assert warnings_of(caplog, "failed while invalidating")
        link.cut = False
        await asyncio.sleep(0.7)  # A's background replay, every retry_after
        assert backend.available
        assert (await by_id(b, tables.items)())[2]["label"] == "cut off"
        assert (await by_id(a, tables.items)())[2]["label"] == "cut off"


async def test_a_read_after_a_partition_replays_first(
    make_db: MakeDb, tables: Tables, own_redis: OwnRedis
) -> None:
    """Without the background replay, the first lookup of the process that wrote while
    cut off replays its version changes before it uses any entry."""
    async with Partition(own_redis.port) as link:
        backend = RedisCacheBackend(link.url, prefix="jt:", timeout=0.2, retry_after=0.2)
        a = await make_db(cache_backend=backend)
        await fill(a, tables.items)
        await by_id(a, tables.items)()
        link.cut = True
        await a.query.table(tables.items).where({"id": 1}).update({"label": "cut off"})
        assert backend._replayer is not None
        backend._replayer.cancel()  # only the lookup itself can replay now
        link.cut = False
        await asyncio.sleep(0.3)  # past retry_after
        assert not backend.available
        assert (await by_id(a, tables.items)())[0]["label"] == "cut off"
        assert backend.available


async def test_redis_unreachable_at_connect(
    make_db: MakeDb, tables: Tables, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, LOGGER)
    port = free_port()  # nothing listens there
    db = await make_db(
        cache={"backend": f"redis://:hunter2@127.0.0.1:{port}/0", "backend_timeout": 0.2}
    )
    (warning,) = warnings_of(caplog, "failed while connecting")
    assert f"redis://:***@127.0.0.1:{port}/0" in warning and "uncached" in warning
    assert "hunter2" not in caplog.text and "hunter2" not in repr(db.options)
    await fill(db, tables.items)  # writes work
    statements = Statements(db)
    for _ in range(2):
        assert len(await by_id(db, tables.items)()) == 3
    assert statements.take() == 2 and db.cache_metrics().hits == 0
    backend = db.query_cache.backend
    assert isinstance(backend, RedisCacheBackend) and not backend.available
