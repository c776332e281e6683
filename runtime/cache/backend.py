"""What a query-result cache stores, and the interface a cache backend implements."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, NamedTuple, Protocol, runtime_checkable

Row = dict[str, Any]

ANY_TABLE = "*"
"""In an entry's tables: the query may read tables Jadugar cannot name (a raw SQL fragment),
so a write to any table of its database invalidates it."""


class CacheKey(NamedTuple):
    """One cached result: the compiled statement and its parameters, on one database."""

    database: str  # the manager's masked URL: managers sharing a backend stay apart
    sql: str
    params: tuple[Hashable, ...]


@runtime_checkable
class CacheBackend(Protocol):
    """Where cached results live. Async, so a networked store (Redis) can implement it.

    ``tables`` are lower-case, unqualified table names (``ANY_TABLE`` included as is);
    ``ttl`` is in seconds, ``None`` for no expiry. Rows handed to ``set`` are the backend's
    to keep; rows returned by ``get`` are copied by the caller before use."""

    async def get(self, key: CacheKey) -> list[Row] | None:
        """The rows stored under ``key``, or ``None`` when absent or expired."""
        ...

    async def set(
        self, key: CacheKey, rows: list[Row], tables: frozenset[str], ttl: float | None
    ) -> None:
        """Store ``rows``, recording the ``tables`` the query read (for ``invalidate``)."""
        ...

    async def invalidate(self, database: str, tables: Iterable[str]) -> int:
        """Drop the entries of ``database`` that read any of ``tables`` (and every entry
        marked ``ANY_TABLE``); returns how many were dropped."""
        ...

    async def clear(self, database: str | None = None) -> int:
        """Drop every entry of ``database`` (of every database when ``None``)."""
        ...

    def entry_count(self) -> int | None:
        """Entries held now, or ``None`` when the backend cannot tell cheaply."""
        ...


class Lookup(NamedTuple):
    """What a versioned backend found: the cached ``rows`` (``None`` on a miss) and, on a
    miss, the ``stamp`` to store a fresh result under (``None``: do not store it)."""

    rows: list[Row] | None
    stamp: str | None


@runtime_checkable
class VersionedCacheBackend(CacheBackend, Protocol):
    """A backend shared by several processes (Redis), where an entry is valid while the
    versions of the tables it read are unchanged. ``QueryCache`` calls ``lookup`` before
    it reads the database, so the versions recorded in ``stamp`` are from before the read:
    a result that a concurrent write (in any process) made stale is stored under versions
    that write has already changed, and is never served."""

    async def lookup(self, key: CacheKey, tables: frozenset[str]) -> Lookup:
        """The entry under ``key`` if the versions of ``tables`` still match it, else a
        miss with the current versions (one round trip)."""
        ...

    async def store(self, key: CacheKey, rows: list[Row], stamp: str, ttl: float | None) -> None:
        """Keep ``rows`` under ``key``, valid while the versions in ``stamp`` hold."""
        ...

    async def connect(self) -> None:
        """Check the store answers (a warning when not: reads go uncached meanwhile)."""
        ...

    async def close(self) -> None: ...
