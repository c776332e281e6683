"""``stream(batch_size=...)`` on real servers (SPEC 4): every row, in order, in constant
memory, and a stream left early gives its connection back.

Memory is measured with ``sys.getallocatedblocks()`` (live Python objects, sampled at every
row) and the process RSS (sampled at every batch), both for the stream and for ``all()`` in
the same test. tracemalloc would measure the same thing but slows the drivers five- to
eightfold, far past this test's time budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import time
from collections.abc import Callable

import psutil  # type: ignore[import-untyped]
import pytest

from jadugar import DatabaseManager

from .conftest import EngineSQL, Tables

pytestmark = pytest.mark.asyncio

ROWS = 200_000
LABEL = "x" * 40  # rows of a realistic size


async def fill(db: DatabaseManager, table: str, count: int) -> None:
    result = await db.query.table(table).insert_many(
        [{"n": i, "label": f"{i:08d}{LABEL}"} for i in range(count)]
    )
    assert result.row_count == count


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def assert_usable(db: DatabaseManager, table: str, count: int) -> None:
    """The pool is balanced and every pooled connection answers."""
    assert await eventually(lambda: db.pool.get_status().in_use == 0), db.pool.get_status()
    assert await db.query.table(table).count() == count
    conns = [await db.pool.acquire() for _ in range(db.pool.get_status().idle)]
    try:
        for conn in conns:
            assert await conn.fetch("SELECT 1 AS one", (), 5.0) == [{"one": 1}]
    finally:
        for conn in conns:
            await db.pool.release(conn)
    assert db.pool.get_status().in_use == 0


async def test_stream_yields_every_row_in_order_in_flat_memory(
    db: DatabaseManager, tables: Tables, engine_sql: EngineSQL
) -> None:
    filled = await db.query.raw(engine_sql.fill(tables.q(tables.items), ROWS, LABEL)).execute()
    assert filled.row_count == ROWS
    query = db.query.table(tables.items).select("n", "label").order_by("n")
    process = psutil.Process()

    gc.collect()
    blocks_before, rss_before = sys.getallocatedblocks(), process.memory_info().rss
    blocks_peak, rss_peak = blocks_before, rss_before
    expected = 0
    async for row in query.stream(batch_size=1000):
        if row["n"] != expected or row["label"] != f"{expected:08d}{LABEL}":
            pytest.fail(f"row {expected} out of order or wrong: {row}")
        expected += 1
        # sys.getallocatedblocks() walks the whole heap (slow late in a long run): sampled
        if expected % 50 == 0:
            blocks_peak = max(blocks_peak, sys.getallocatedblocks())
        if expected % 1000 == 0:
            rss_peak = max(rss_peak, process.memory_info().rss)
    del row
    assert expected == ROWS
    stream_blocks, stream_rss = blocks_peak - blocks_before, rss_peak - rss_before
    assert db.pool.get_status().in_use == 0

    gc.collect()
    blocks_before, rss_before = sys.getallocatedblocks(), process.memory_info().rss
    rows = await query.all()
    all_blocks = sys.getallocatedblocks() - blocks_before
    all_rss = process.memory_info().rss - rss_before
    assert len(rows) == ROWS and rows[-1] == {"n": ROWS - 1, "label": f"{ROWS - 1:08d}{LABEL}"}
    del rows

    assert stream_blocks < 0.25 * all_blocks, (stream_blocks, all_blocks)
    # RSS is coarse: late in a long test run, all() may reuse memory the process already
    # holds, so the ceiling is also absolute (the 200k rows of all() take far more than 16 MB)
    assert stream_rss < max(0.25 * all_rss, 16 * 2**20), (stream_rss, all_rss)


async def test_stream_of_filtered_and_empty_queries(db: DatabaseManager, tables: Tables) -> None:
    await fill(db, tables.items, 2500)
    items = db.query.table(tables.items)
    odd = [r["n"] async for r in items.where_raw("n % 2 = 1").order_by("n", "desc").stream(100)]
    assert odd == list(range(2499, 0, -2))
    exact = [
        r["n"] async for r in items.where("n", "<", 1000).order_by("n").stream(batch_size=1000)
    ]
    assert exact == list(range(1000))
    assert [r async for r in items.where({"n": -1}).stream(batch_size=10)] == []
    with pytest.raises(ValueError):
        async for _ in items.stream(batch_size=0):
            pass
    await assert_usable(db, tables.items, 2500)


async def test_breaking_out_of_a_stream_gives_the_connection_back(
    db: DatabaseManager, tables: Tables
) -> None:
    await fill(db, tables.items, 5000)
    items = db.query.table(tables.items).order_by("n")
    seen = 0
    async for row in items.stream(batch_size=100):
        seen += 1
        if row["n"] == 149:
            break
    assert seen == 150
    await assert_usable(db, tables.items, 5000)


async def test_a_write_right_after_leaving_a_stream_is_committed(
    db: DatabaseManager, tables: Tables
) -> None:
    """The stream's own read transaction must not become the task's current transaction:
    a write made just after ``break`` runs in autocommit and stays."""
    await fill(db, tables.items, 5000)
    items = db.query.table(tables.items)
    async for row in items.order_by("n").stream(batch_size=100):
        if row["n"] == 149:
            break
    created = await items.insert({"n": -1, "label": "after the stream"})
    assert created.row_count == 1
    await asyncio.sleep(0.05)  # let a left-over stream finish whatever it does
    assert await items.where({"n": -1}).count() == 1
    await assert_usable(db, tables.items, 5001)


async def test_a_closed_stream_releases_its_connection_at_once(
    db: DatabaseManager, tables: Tables
) -> None:
    await fill(db, tables.items, 5000)
    items = db.query.table(tables.items).order_by("n")
    stream = items.stream(batch_size=100)
    async with contextlib.aclosing(stream) as rows:
        async for row in rows:
            if row["n"] == 249:
                break
    # aclose() has returned: the stream's read transaction is over and its connection back
    assert db.pool.get_status().in_use == 0
    await assert_usable(db, tables.items, 5000)


async def test_stream_inside_a_transaction(db: DatabaseManager, tables: Tables) -> None:
    await fill(db, tables.items, 3000)
    async with db.transaction() as tx:
        await tx.table(tables.items).insert({"n": 3000, "label": "new"})
        items = tx.table(tables.items).order_by("n")
        stream = items.stream(batch_size=500)
        async with contextlib.aclosing(stream) as rows:
            async for row in rows:
                if row["n"] == 1200:
                    break
        # the transaction's connection is usable after leaving the stream early
        assert await tx.table(tables.items).count() == 3001
        labels = [row["label"] async for row in items.stream(batch_size=500)]
        assert len(labels) == 3001
        assert labels[-1] == "new"  # it sees the transaction's own row
    await assert_usable(db, tables.items, 3001)
