"""Query result caching (``.cache(ttl=...)``): backends, the manager's cache, metrics.

rows = await db.query.table("countries").cache(ttl=300).all()
db.cache_metrics().hits
"""

from __future__ import annotations

from .backend import ANY_TABLE, CacheBackend, CacheKey
from .memory import MemoryCacheBackend
from .query_cache import CacheMetrics, QueryCache
from .tables import table_key, tables_read

__all__ = [
    "ANY_TABLE",
    "CacheBackend",
    "CacheKey",
    "CacheMetrics",
    "MemoryCacheBackend",
    "QueryCache",
    "table_key",
    "tables_read",
]
