"""Query result caching (``.cache(ttl=...)``): backends, the manager's cache, metrics.

rows = await db.query.table("countries").cache(ttl=300).all()
db.cache_metrics().hits
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import ANY_TABLE, CacheBackend, CacheKey, Lookup, VersionedCacheBackend
from .memory import MemoryCacheBackend
from .query_cache import CacheMetrics, QueryCache
from .redis_backend import RedisCacheBackend
from .tables import table_key, tables_read

if TYPE_CHECKING:
    from ..config import CacheOptions


def backend_from_options(options: CacheOptions) -> CacheBackend | None:
    """The backend ``cache.backend`` names: ``None`` for ``"memory"`` (the manager's own
    LRU), a ``RedisCacheBackend`` for a Redis URL (the ``redis`` package is imported then).

    >>> backend_from_options(CacheOptions(backend="redis://127.0.0.1:6379/0"))
    <RedisCacheBackend redis://127.0.0.1:6379/0 prefix='jadugar:'>
    """
    if not options.shared:
        return None
    return RedisCacheBackend(
        options.backend, prefix=options.key_prefix, timeout=options.backend_timeout
    )


__all__ = [
    "ANY_TABLE",
    "CacheBackend",
    "CacheKey",
    "CacheMetrics",
    "Lookup",
    "MemoryCacheBackend",
    "QueryCache",
    "RedisCacheBackend",
    "VersionedCacheBackend",
    "backend_from_options",
    "table_key",
    "tables_read",
]
