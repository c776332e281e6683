"""The query cache on Redis (``cache.backend = "redis://..."``), on every SQL engine: results
shared between processes (worker subprocesses, cache_worker.py), a write in one process
seen by the others as soon as it returns (plain and in a transaction), a result read
while another process wrote never served afterwards, values round-tripping with their
types, raw SQL writes and fragments, and one tenant's rows never another's (PostgreSQL
row-level security). Outages: test_cache_redis_outages.py.

The shared Redis on 127.0.0.1:6379 is used with a key prefix unique to each test (its keys
are deleted afterwards). Redis unreachable skips, or fails under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextvars import ContextVar
from datetime import date, datetime
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from jadugar import DatabaseManager
from jadugar.connection import Session

from .conftest import MakeDb, Tables
from .redis_cache_support import (
    SHARED_REDIS,
    StartWorkers,
    Statements,
    Worker,
    by_id,
    fill,
    unavailable,
    uncached,
)

pytestmark = pytest.mark.asyncio


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own on the shared Redis; its keys go afterwards."""
    host, port = SHARED_REDIS
    client = redis.Redis(host=host, port=port, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        unavailable(f"Redis not reachable at {host}:{port}: {exc}")
    name = f"jt_{uuid.uuid4().hex[:10]}:"
    try:
        yield name
    finally:
        doomed = list(client.scan_iter(match=f"{name}*", count=1000))
        if doomed:
            client.delete(*doomed)
        client.close()


@pytest.fixture
def redis_url() -> str:
    host, port = SHARED_REDIS
    return f"redis://{host}:{port}/0"


@pytest.fixture
async def workers(
    db: DatabaseManager, redis_url: str, prefix: str, tmp_path: Path
) -> AsyncIterator[StartWorkers]:
    """``await workers(2, table)``: worker processes on this test's database and prefix."""
    started: list[Worker] = []

    async def start(count: int, table: str) -> list[Worker]:
        args = [db.options.reveal_url(), redis_url, prefix, table]
        new = await asyncio.gather(
            *(Worker.start(args, tmp_path / f"worker{len(started) + i}.log") for i in range(count))
        )
        started.extend(new)
        return list(new)

    yield start
    await asyncio.gather(*(w.stop() for w in started))


# ---- sharing between processes --------------------------------------------------------------


async def test_processes_share_cached_results(
    db: DatabaseManager, tables: Tables, workers: StartWorkers
) -> None:
    await fill(db, tables.items)
    a, b = await workers(2, tables.items)
    first = await a.call(op="read")
    assert (first["statements"], first["misses"], first["hits"]) == (1, 1, 0)
    second = await b.call(op="read")  # another process: what A cached
    assert (second["statements"], second["misses"], second["hits"]) == (0, 0, 1)
    assert first["rows"] == second["rows"] == await uncached(db, tables.items)


@pytest.mark.parametrize("in_transaction", [False, True], ids=["plain", "transaction"])
async def test_a_write_in_one_process_is_seen_by_the_others_when_it_returns(
    make_db: MakeDb,
    db: DatabaseManager,
    tables: Tables,
    workers: StartWorkers,
    redis_url: str,
    prefix: str,
    in_transaction: bool,
) -> None:
    await fill(db, tables.items)
    a, b = await workers(2, tables.items)
    here = await make_db(cache={"backend": redis_url, "key_prefix": prefix})
    statements = Statements(here)
    await a.call(op="read")
    assert (await b.call(op="read"))["statements"] == 0
    await by_id(here, tables.items)()
    assert statements.take() == 0  # this process too reads what A cached
    await a.call(op="update", id=1, label="changed", tx=in_transaction)
    # right after A's write returned: the next read of B (and of this process) is fresh
    seen = await b.call(op="read")
    assert seen["statements"] == 1 and "'changed'" in seen["rows"]
    assert seen["rows"] == await uncached(db, tables.items)
    assert (await by_id(here, tables.items)())[0]["label"] == "changed"
    assert statements.take() == 0  # B stored the fresh rows: a hit
    again = await a.call(op="read")
    assert again["statements"] == 0 and again["rows"] == seen["rows"]


async def test_a_read_between_another_process_write_and_its_commit_ends_with_the_commit(
    db: DatabaseManager, tables: Tables, workers: StartWorkers
) -> None:
    await fill(db, tables.items)
    a, b = await workers(2, tables.items)
    await a.call(op="read")
    assert (await a.call(op="begin_update", id=2, label="committed"))["ok"]
    before = await b.call(op="read")  # the committed state, before A's COMMIT: stored
    assert before["statements"] == 1 and "'committed'" not in before["rows"]
    assert (await a.call(op="commit"))["ok"]
    after = await b.call(op="read")
    assert after["statements"] == 1 and "'committed'" in after["rows"]


async def test_a_result_read_during_another_process_write_is_not_served_after_it(
    make_db: MakeDb,
    tables: Tables,
    redis_url: str,
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """B reads the old rows; A's write commits and returns before B stores them. B stores
    them under the versions it took before reading, which A's write changed."""
    options = {"cache": {"backend": redis_url, "key_prefix": prefix}}
    a, b = await make_db(**options), await make_db(**options)  # two backends: two "processes"
    await fill(a, tables.items)
    fetch = Session.fetch
    armed = [True]

    async def fetch_then_a_writes(self: Session, *args: Any, **kwargs: Any) -> Any:
        rows = await fetch(self, *args, **kwargs)
        if self.manager is b and armed:
            armed.clear()  # once, right after B's read, before B stores what it read
            await a.query.table(tables.items).where({"id": 1}).update({"label": "newer"})
        return rows

    monkeypatch.setattr(Session, "fetch", fetch_then_a_writes)
    old = await by_id(b, tables.items)()
    assert old[0]["label"] == "label 1" and not armed
    statements = Statements(b)
    assert (await by_id(b, tables.items)())[0]["label"] == "newer"
    assert statements.take() == 1
    assert (await by_id(a, tables.items)())[0]["label"] == "newer"


async def test_raw_writes_and_raw_fragments_across_managers(
    make_db: MakeDb, tables: Tables, redis_url: str, prefix: str
) -> None:
    """A raw write changes the whole database's version; a query with a raw fragment
    depends on every table's writes."""
    options = {"cache": {"backend": redis_url, "key_prefix": prefix}}
    a, b = await make_db(**options), await make_db(**options)
    await tables.seed()
    users, posts = tables.users, tables.posts
    count = b.query.table(users).cache().count
    prolific = (
        b.query.table(users)
        .where_raw(f"id IN (SELECT user_id FROM {tables.q(posts)} WHERE views > ?)", [50])
        .cache()
        .count
    )
    assert await count() == 5 and await prolific() == 1
    statements = Statements(b)
    await a.query.raw(f"DELETE FROM {tables.q(posts)} WHERE views < ?", [6]).execute()
    await a.query.raw(f"UPDATE {tables.q(users)} SET age = ? WHERE name = ?", [1, "Ada"]).execute()
    assert await count() == 5 and statements.take() == 1  # raw writes: every entry read again
    assert await prolific() == 1 and statements.take() == 1
    await a.query.table(posts).where({"title": "Again"}).update({"views": 60})  # Bob's post
    assert await count() == 5 and statements.take() == 0  # reads users only: still cached
    assert await prolific() == 2 and statements.take() == 1  # a raw fragment: any write


# ---- values ---------------------------------------------------------------------------------


VALUES: dict[str, Any] = {
    "amount": Decimal("12345.67"),
    "ratio": 0.1,
    "big": 2**53 + 1,
    "flag": True,
    "zero": False,
    "day": date(2024, 2, 29),
    "at": datetime(2024, 2, 29, 23, 59, 58, 123456),
    "moment": clock(13, 14, 15),
    "ident": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "blob": b"\x00\xffbytes\n",
    "doc": {"tags": ["a", "b"], "n": 1, "x": 1.5, "ok": True, "none": None},
    "title": "caf\u00e9 \u2603 'quoted' \"double\"",
}


def kinds(row: dict[str, Any]) -> list[type]:
    """The values' types; asyncpg's own UUID class (a uuid.UUID) comes back as uuid.UUID."""
    return [uuid.UUID if isinstance(v, uuid.UUID) else type(v) for v in row.values()]


async def test_values_come_back_with_their_types(
    make_db: MakeDb, db: DatabaseManager, redis_url: str, prefix: str, workers: StartWorkers
) -> None:
    table = f"jt_types_{uuid.uuid4().hex[:8]}"

    def columns(t: Any) -> None:
        t.increments("id")
        t.decimal("amount", 10, 2).nullable()
        t.double("ratio").nullable()
        t.big_integer("big").nullable()
        t.boolean("flag").nullable()
        t.boolean("zero").nullable()
        t.date("day").nullable()
        t.timestamp("at").nullable()
        t.time("moment").nullable()
        t.uuid("ident").nullable()
        t.binary("blob").nullable()
        t.json("doc").nullable()
        t.string("title").nullable()

    await db.query.schema.create_table(table, columns)
    try:
        await db.query.table(table).insert_many([VALUES, dict.fromkeys(VALUES)])
        expected = await db.query.table(table).order_by("id").all()
        options = {"cache": {"backend": redis_url, "key_prefix": prefix}}
        a, b = await make_db(**options), await make_db(**options)
        assert repr(await by_id(a, table)()) == repr(expected)  # read, stored
        statements = Statements(b)
        cached = await by_id(b, table)()
        assert statements.take() == 0 and b.cache_metrics().hits == 1
        assert repr(cached) == repr(expected)  # repr shows True vs 1, Decimal vs float
        assert [kinds(row) for row in cached] == [kinds(row) for row in expected]
        (worker,) = await workers(1, table)  # and in another process
        answer = await worker.call(op="read")
        assert answer["statements"] == 0 and answer["rows"] == repr(expected)
    finally:
        await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(table)}").execute()


# ---- tenants (PostgreSQL row-level security) ------------------------------------------------

tenant: ContextVar[int | None] = ContextVar("redis_cache_tenant", default=None)


def _tenant_settings() -> Mapping[str, str]:
    current = tenant.get()
    return {} if current is None else {"app.tenant_id": str(current)}


@pytest.fixture
async def rls_table(db: DatabaseManager) -> AsyncIterator[tuple[str, str]]:
    """A table with a policy ``tenant_id = app.tenant_id`` and a role bound by it."""
    suffix = uuid.uuid4().hex[:8]
    role, table = f"jt_rls_role_{suffix}", f"jt_rls_{suffix}"
    statements = [
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS",
        f"CREATE TABLE {table} (id SERIAL PRIMARY KEY, tenant_id INTEGER NOT NULL,"
        " title TEXT NOT NULL)",
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_tenant ON {table} USING"
        " (tenant_id = nullif(current_setting('app.tenant_id', true), '')::int)",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}",
        f"INSERT INTO {table} (tenant_id, title) VALUES (1, 'one-a'), (1, 'one-b'), (2, 'two-a')",
    ]
    try:
        for sql in statements:
            await db.query.raw(sql).execute()
        yield role, table
    finally:
        await db.query.raw(f"DROP TABLE IF EXISTS {table}").execute()
        await db.query.raw(f"DROP ROLE IF EXISTS {role}").execute()


@pytest.mark.engines("postgres")
async def test_a_shared_cached_read_is_never_another_tenants(
    db: DatabaseManager, rls_table: tuple[str, str], redis_url: str, prefix: str
) -> None:
    role, table = rls_table
    url = db.options.reveal_url().replace("postgres@", f"{role}@", 1)
    options: dict[str, Any] = {
        "url": url,
        "session_variables": _tenant_settings,
        "cache": {"backend": redis_url, "key_prefix": prefix},
    }
    async with DatabaseManager(**options) as one, DatabaseManager(**options) as two:

        async def titles(app: DatabaseManager) -> list[str]:
            return [
                r["title"] for r in await app.query.table(table).order_by("title").cache().all()
            ]

        tenant.set(1)
        assert await titles(one) == ["one-a", "one-b"]
        tenant.set(2)
        assert await titles(two) == ["two-a"]  # not tenant 1's entry
        assert (two.cache_metrics().hits, two.cache_metrics().misses) == (0, 1)
        tenant.set(1)
        assert await titles(two) == ["one-a", "one-b"]  # tenant 1's entry, from one
        assert two.cache_metrics().hits == 1
        tenant.set(None)
        assert await titles(two) == []
        assert two.cache_metrics().misses == 2
