"""``db.query_cache``: cached reads, invalidation by writes, and the hit/miss counters.

A read through ``.cache()`` outside a transaction looks its statement up; a miss runs it
and stores the rows unless a write to one of its tables was made (through this manager)
while it ran, so a result older than that write is never stored. A read inside a
transaction neither reads nor fills the cache: it may see the transaction's own writes.

A write invalidates the tables it touched once it has run; inside a transaction it does
so again when the outermost transaction ends, so a result another task cached between the
write and the COMMIT (the pre-commit state) does not survive it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import session_settings
from ..query.compiler import CompiledQuery
from .backend import ANY_TABLE, CacheBackend, CacheKey, Row, VersionedCacheBackend
from .memory import MemoryCacheBackend
from .tables import table_keys

if TYPE_CHECKING:
    from ..config import CacheOptions
    from ..connection import Session
    from ..replicas.consistency import ReadOptions


@dataclass(frozen=True, slots=True)
class CacheMetrics:
    """Counters since the manager was created. ``entries`` is what the backend holds now
    (``None`` when it cannot tell); ``invalidations`` counts entries dropped by writes and
    by ``db.invalidate_cache()``; ``bypasses`` counts ``.cache()`` reads run inside a
    transaction (not looked up); ``evictions`` counts entries the in-memory backend dropped
    to stay within its bounds (0 for other backends)."""

    hits: int
    misses: int
    bypasses: int
    entries: int | None
    invalidations: int
    evictions: int


class QueryCache:
    """The manager's query cache: one backend, keys namespaced by ``database``."""

    def __init__(
        self, database: str, options: CacheOptions, backend: CacheBackend | None = None
    ) -> None:
        self.database = database
        self.options = options
        self.backend: CacheBackend = backend or MemoryCacheBackend(
            options.max_entries, options.max_bytes
        )
        # a private in-memory backend: nothing cached yet means no write has to reach it
        self._private = backend is None
        # a shared backend (Redis) that checks table versions: looked up before the read
        self._versioned = backend if isinstance(backend, VersionedCacheBackend) else None
        self._tables_of_sql: dict[str, frozenset[str]] = {}  # the same SQL reads the same tables
        self.hits = 0
        self.misses = 0
        self.bypasses = 0
        self.invalidations = 0
        # write generations, to refuse storing a result a concurrent write made stale
        self._generation = 0
        self._written_at: dict[str, int] = {}

    def metrics(self) -> CacheMetrics:
        backend = self.backend
        evictions = backend.evictions if isinstance(backend, MemoryCacheBackend) else 0
        return CacheMetrics(
            self.hits,
            self.misses,
            self.bypasses,
            backend.entry_count(),
            self.invalidations,
            evictions,
        )

    # ---- reads ----------------------------------------------------------------------
    async def fetch(
        self,
        session: Session,
        compiled: CompiledQuery,
        reads: Callable[[], frozenset[str]],
        ttl: float | None,
        timeout: float | None,
        read: ReadOptions | None = None,
    ) -> list[Row]:
        """``session.fetch(compiled)`` through the cache. ``reads`` gives the tables the
        statement reads (asked only on a miss); ``ttl`` None means ``default_ttl``."""
        if not self.options.enabled or session._transaction() is not None:
            self.bypasses += 1
            return await session.fetch(compiled, timeout, read)
        key = CacheKey(self.database, compiled.sql, self._params(session, compiled))
        if self._versioned is not None:
            return await self._fetch_versioned(
                self._versioned, key, session, compiled, reads, ttl, timeout, read
            )
        cached = await self.backend.get(key)
        if cached is not None:
            self.hits += 1
            return _copied(cached)
        self.misses += 1
        tables = reads()
        started = self._generation
        rows = await session.fetch(compiled, timeout, read)
        if not self._written_since(tables, started):
            ttl = self.options.default_ttl if ttl is None else ttl
            await self.backend.set(key, _copied(rows), tables, ttl)
        return rows

    async def _fetch_versioned(
        self,
        backend: VersionedCacheBackend,
        key: CacheKey,
        session: Session,
        compiled: CompiledQuery,
        reads: Callable[[], frozenset[str]],
        ttl: float | None,
        timeout: float | None,
        read: ReadOptions | None,
    ) -> list[Row]:
        """The lookup also returns the versions of the tables read, taken before the
        database read; the fresh rows are stored under them."""
        tables = self._tables_of_sql.get(compiled.sql)
        if tables is None:
            tables = reads()
            if len(self._tables_of_sql) >= 4096:
                self._tables_of_sql.clear()
            self._tables_of_sql[compiled.sql] = tables
        found = await backend.lookup(key, tables)
        if found.rows is not None:
            self.hits += 1
            return found.rows  # decoded for this call: already the caller's own
        self.misses += 1
        started = self._generation
        rows = await session.fetch(compiled, timeout, read)
        if found.stamp is not None and not self._written_since(tables, started):
            ttl = self.options.default_ttl if ttl is None else ttl
            await backend.store(key, rows, found.stamp, ttl)
        return rows

    async def connect(self) -> None:
        """A shared backend checks it can reach its store (a warning when not)."""
        if self._versioned is not None:
            await self._versioned.connect()

    async def close(self) -> None:
        if self._versioned is not None:
            await self._versioned.close()

    def _params(self, session: Session, compiled: CompiledQuery) -> tuple[Hashable, ...]:
        """The statement's parameters, and the session variables a row-level security
        policy may read (``session_variables``): one tenant's cached rows are never
        another's."""
        params = _hashable(compiled.params)
        variables = session_settings.current(session.manager)
        if variables is None:
            return params
        return (*params, ("session_variables", tuple(sorted(variables.items()))))

    def _written_since(self, tables: frozenset[str], generation: int) -> bool:
        if self._generation == generation:
            return False
        if ANY_TABLE in tables:
            return True
        written_at = self._written_at
        return any(written_at.get(t, -1) > generation for t in (*tables, ANY_TABLE))

    # ---- writes ---------------------------------------------------------------------
    async def written(self, session: Session, tables: Iterable[str]) -> None:
        """A write through ``session`` touched ``tables`` (``ANY_TABLE``: unknown ones)."""
        keys = table_keys(tables)
        tx = session._transaction()
        if tx is not None:
            root = tx
            while root.parent is not None:
                root = root.parent
            root.cache_tables.update(keys)
        await self._drop(keys)

    async def invalidate(self, tables: Iterable[str]) -> None:
        """Drop the entries that read any of ``tables`` (``ANY_TABLE``: every entry)."""
        await self._drop(table_keys(tables))

    async def clear(self) -> None:
        """Drop every entry of this database."""
        await self._drop(frozenset((ANY_TABLE,)))

    async def _drop(self, keys: frozenset[str]) -> None:
        self._generation = generation = self._generation + 1
        written_at = self._written_at
        for table in keys:
            written_at[table] = generation
        if self._private and not self.backend.entry_count():
            return  # nothing cached: nothing to look for
        if ANY_TABLE in keys:
            self.invalidations += await self.backend.clear(self.database)
        else:
            self.invalidations += await self.backend.invalidate(self.database, keys)


def _copied(rows: list[Row]) -> list[Row]:
    """Rows the caller may change without changing the cache: each dict copied, and JSON
    values (dicts, lists) copied in depth."""
    copies = [dict(row) for row in rows]
    for row in copies:
        for name, value in row.items():
            if type(value) in _NESTED:
                row[name] = copy.deepcopy(value)
    return copies


_NESTED = frozenset((dict, list))


def _hashable(params: tuple[Any, ...]) -> tuple[Hashable, ...]:
    """The parameters and their types (``True`` and ``1`` are equal, and hash alike, but
    are not the same parameter to every database)."""
    types = tuple(type(p).__name__ for p in params)
    try:
        hash(params)
    except TypeError:
        return (tuple(_frozen(p) for p in params), types)
    return (params, types)


def _frozen(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return ("set", frozenset(_frozen(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return (type(value).__name__, repr(value))
    return value  # type: ignore[no-any-return]
