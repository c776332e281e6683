"""MemoryCacheBackend on its own: LRU order, the entry and byte bounds, TTL, invalidation
by table; and the tables a query reads, as the cache records them."""

from __future__ import annotations

import pytest

from jadugar import CacheBackend, CacheKey, DatabaseManager, MemoryCacheBackend
from jadugar.cache import ANY_TABLE, tables_read

pytestmark = pytest.mark.asyncio

DB = "sqlite:///a.db"


def key(sql: str, *params: object, database: str = DB) -> CacheKey:
    return CacheKey(database, sql, params)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_it_is_a_cache_backend() -> None:
    assert isinstance(MemoryCacheBackend(), CacheBackend)
    with pytest.raises(ValueError, match="max_entries"):
        MemoryCacheBackend(0)


async def test_least_recently_used_goes_first() -> None:
    cache = MemoryCacheBackend(2)
    a, b, c = key("a"), key("b"), key("c")
    await cache.set(a, [{"v": 1}], frozenset({"t"}), None)
    await cache.set(b, [{"v": 2}], frozenset({"t"}), None)
    assert await cache.get(a) == [{"v": 1}]
    await cache.set(c, [{"v": 3}], frozenset({"u"}), None)
    assert await cache.get(b) is None
    assert await cache.get(a) == [{"v": 1}] and await cache.get(c) == [{"v": 3}]
    assert (cache.entry_count(), cache.evictions) == (2, 1)


async def test_the_byte_bound_evicts_and_refuses_what_cannot_fit() -> None:
    cache = MemoryCacheBackend(100, max_bytes=4000)
    rows = [{"id": i, "name": f"user number {i}"} for i in range(5)]
    await cache.set(key("one"), rows, frozenset({"t"}), None)
    used = cache.bytes_used
    assert 0 < used < 4000
    for n in range(10):
        await cache.set(key(f"more {n}"), list(rows), frozenset({"t"}), None)
    assert cache.bytes_used <= 4000 and cache.entry_count() == 4000 // used
    assert await cache.get(key("one")) is None  # the oldest went
    huge = [{"id": i, "text": "x" * 100} for i in range(100)]
    await cache.set(key("huge"), huge, frozenset({"t"}), None)
    assert await cache.get(key("huge")) is None
    assert cache.entry_count() == 4000 // used  # nothing evicted for it


async def test_entries_expire() -> None:
    clock = Clock()
    cache = MemoryCacheBackend(clock=clock)
    await cache.set(key("q"), [], frozenset({"t"}), 5.0)
    await cache.set(key("forever"), [], frozenset({"t"}), None)
    clock.now += 4.9
    assert await cache.get(key("q")) == []
    clock.now += 0.2
    assert await cache.get(key("q")) is None
    assert await cache.get(key("forever")) == []
    assert cache.entry_count() == 1


async def test_invalidation_by_table_and_database() -> None:
    cache = MemoryCacheBackend()
    other = "postgresql://app@h/other"
    await cache.set(key("users"), [], frozenset({"users"}), None)
    await cache.set(key("join"), [], frozenset({"users", "posts"}), None)
    await cache.set(key("posts"), [], frozenset({"posts"}), None)
    await cache.set(key("raw"), [], frozenset({"tags", ANY_TABLE}), None)
    await cache.set(key("users", database=other), [], frozenset({"users"}), None)
    assert await cache.invalidate(DB, ["users"]) == 3  # users, join and the raw one
    assert await cache.get(key("posts")) == []
    assert await cache.get(key("users", database=other)) == []
    assert await cache.invalidate(DB, ["nothing"]) == 0
    assert await cache.clear(DB) == 1
    assert cache.entry_count() == 1
    assert await cache.clear() == 1 and cache.entry_count() == 0


async def test_tables_read_by_a_query() -> None:
    db = DatabaseManager(url="sqlite:///:memory:")
    users = db.query.table("Users").join("main.posts", {"posts.user_id": "Users.id"})
    assert tables_read(users.to_node()) == {"users", "posts"}
    assert tables_read(users.where_raw("id > ?", [1]).to_node()) == {"users", "posts", ANY_TABLE}
