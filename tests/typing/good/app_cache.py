"""Cached reads: ``.cache()`` keeps the query's type, the metrics and options are typed,
and an application's own cache backend satisfies ``CacheBackend``.

Checked by ``tests/typing/test_typing.py`` with ``mypy --strict``; never executed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_type

from blog import Post, User, UserQuery

from jadugar import CacheBackend, CacheKey, CacheMetrics, CacheOptions, DatabaseManager


def admins() -> UserQuery:
    return User.query().where(User.c.active == True).cache(ttl=60).order_by("name")  # noqa: E712


async def dashboard(db: DatabaseManager) -> int:
    users = await admins().get()
    assert_type(users, list[User])
    first = await Post.query().cache().first()
    assert_type(first, Post | None)
    total = await User.query().cache(ttl=5).count()
    metrics = db.cache_metrics()
    assert_type(metrics, CacheMetrics)
    assert_type(metrics.entries, int | None)
    await db.invalidate_cache("users", "posts")
    return total + metrics.hits - metrics.misses


class NullCache:
    """Caches nothing: every read goes to the database."""

    async def get(self, key: CacheKey) -> list[dict[str, object]] | None:
        return None

    async def set(
        self,
        key: CacheKey,
        rows: list[dict[str, object]],
        tables: frozenset[str],
        ttl: float | None,
    ) -> None:
        return None

    async def invalidate(self, database: str, tables: Iterable[str]) -> int:
        return 0

    async def clear(self, database: str | None = None) -> int:
        return 0

    def entry_count(self) -> int | None:
        return 0


def manager(url: str) -> DatabaseManager:
    backend: CacheBackend = NullCache()
    options = CacheOptions(max_entries=10, default_ttl=None)
    return DatabaseManager(url=url, cache=options, cache_backend=backend)
