"""``python -m bench.cache_hit``: what a query-cache hit costs against the same lookup
uncached, on SQLite and PostgreSQL in one run.

Each round looks up ``LOOKUPS`` primary keys one by one: uncached (``.first()``), then
through the cache (``.cache().first()``, every key already cached: all hits). Rounds
alternate; the medians of ``ROUNDS`` rounds are printed, per lookup. Also: an ``update``
by key with the cache empty (its invalidation finds nothing), and what invalidating 200
cached entries of a table costs on its own.

PostgreSQL comes from ``JADUGAR_BENCH_POSTGRES_URL`` (default: the local test server);
unreachable, it is skipped with a line saying so.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from jadugar import DatabaseManager, JadugarError

LOOKUPS = 2000
ROUNDS = 7
TABLE = "bench_cache_items"
POSTGRES_URL = os.environ.get(
    "JADUGAR_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


async def _timed(job: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await job()
    return time.perf_counter() - started


async def measure(name: str, url: str) -> None:
    db = DatabaseManager(url=url, cache={"max_entries": LOOKUPS * 2})
    try:
        await db.connect()
    except JadugarError as exc:
        print(f"{name}: skipped ({exc})")
        return
    try:
        quoted = db.query.quote(TABLE)
        await db.query.raw(f"DROP TABLE IF EXISTS {quoted}").execute()
        await db.query.schema.create_table(
            TABLE, lambda t: (t.increments("id"), t.string("label"), t.integer("n"))
        )
        items = db.query.table(TABLE)
        await items.insert_many([{"label": f"item {i}", "n": i} for i in range(LOOKUPS)])
        keys = [int(row["id"]) for row in await items.select("id").all()]

        async def uncached() -> None:
            for key in keys:
                await items.where({"id": key}).first()

        async def cached() -> None:
            for key in keys:
                await items.where({"id": key}).cache(ttl=600).first()

        await cached()  # fill: every timed cached lookup is a hit
        plain: list[float] = []
        hits: list[float] = []
        for _ in range(ROUNDS):
            plain.append(await _timed(uncached))
            hits.append(await _timed(cached))
        metrics = db.cache_metrics()
        assert metrics.hits == ROUNDS * LOOKUPS, metrics

        updates = 200

        async def update() -> None:
            for key in keys[:updates]:
                await items.where({"id": key}).update({"n": key})

        await db.invalidate_cache()
        empty = await _timed(update)  # nothing cached: the invalidation finds no entry
        dropping: list[float] = []  # the invalidation alone, with 200 entries of the table
        for _ in range(ROUNDS):
            for key in keys[:updates]:
                await items.where({"id": key}).cache(ttl=600).first()
            assert db.cache_metrics().entries == updates
            started = time.perf_counter()
            await db.query_cache.invalidate([TABLE])
            dropping.append(time.perf_counter() - started)

        per_plain = statistics.median(plain) / LOOKUPS * 1e6
        per_hit = statistics.median(hits) / LOOKUPS * 1e6
        print(
            f"{name}: uncached lookup {per_plain:.1f} us, cache hit {per_hit:.1f} us "
            f"({per_plain / per_hit:.0f}x); update {empty / updates * 1e6:.0f} us with the "
            f"cache empty; invalidating 200 entries {statistics.median(dropping) * 1e6:.0f} us"
        )
        await db.query.raw(f"DROP TABLE {quoted}").execute()
    finally:
        await db.disconnect()


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        await measure("SQLite", f"sqlite:///{Path(folder) / 'cache.db'}")
    await measure("PostgreSQL", POSTGRES_URL)


if __name__ == "__main__":
    asyncio.run(main())
