"""The default cache backend: an in-process LRU bounded by entries and, optionally, bytes."""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .backend import ANY_TABLE, CacheKey, Row


@dataclass(slots=True)
class _Entry:
    rows: list[Row]
    tables: frozenset[str]
    expires: float | None  # monotonic seconds
    size: int


class MemoryCacheBackend:
    """Least recently used entries go first once ``max_entries`` (or ``max_bytes``, an
    estimate of the rows' memory) is exceeded; expired entries are dropped when met."""

    def __init__(
        self,
        max_entries: int = 1000,
        max_bytes: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        if max_bytes is not None and max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1 or None, got {max_bytes}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.evictions = 0  # entries dropped to stay within the bounds
        self._clock = clock
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._bytes = 0
        # (database, table) -> keys of the entries that read it
        self._by_table: dict[tuple[str, str], set[CacheKey]] = {}

    @property
    def bytes_used(self) -> int:
        return self._bytes

    async def get(self, key: CacheKey) -> list[Row] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires is not None and entry.expires <= self._clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.rows

    async def set(
        self, key: CacheKey, rows: list[Row], tables: frozenset[str], ttl: float | None
    ) -> None:
        size = _estimate_bytes(rows) if self.max_bytes is not None else 0
        if self.max_bytes is not None and size > self.max_bytes:
            return  # larger than the whole cache: not worth evicting everything for
        if key in self._entries:
            self._drop(key)
        expires = None if ttl is None else self._clock() + ttl
        self._entries[key] = _Entry(rows, tables, expires, size)
        self._bytes += size
        for table in tables:
            self._by_table.setdefault((key.database, table), set()).add(key)
        while len(self._entries) > self.max_entries or (
            self.max_bytes is not None and self._bytes > self.max_bytes
        ):
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.evictions += 1

    async def invalidate(self, database: str, tables: Iterable[str]) -> int:
        doomed: set[CacheKey] = set()
        index = self._by_table
        for table in (*tables, ANY_TABLE):
            keys = index.pop((database, table), None)  # whole: not emptied key by key
            if keys:
                doomed |= keys
        for key in doomed:
            self._drop(key)
        return len(doomed)

    async def clear(self, database: str | None = None) -> int:
        if database is None:
            count = len(self._entries)
            self._entries.clear()
            self._by_table.clear()
            self._bytes = 0
            return count
        doomed = [key for key in self._entries if key.database == database]
        for key in doomed:
            self._drop(key)
        return len(doomed)

    def entry_count(self) -> int:
        return len(self._entries)

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
        for table in entry.tables:
            index = (key.database, table)
            keys = self._by_table.get(index)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_table[index]


def _estimate_bytes(rows: list[Row]) -> int:
    """Roughly what the rows hold in memory: the list, each dict and each value (values
    shared between rows, like small ints and interned strings, are counted each time)."""
    size = sys.getsizeof(rows)
    getsizeof = sys.getsizeof
    for row in rows:
        size += getsizeof(row)
        for value in row.values():
            size += getsizeof(value)
    return size
