"""``SessionHost``: what the session layer (sessions, transactions, replicas, the query
cache, read-only checks, session settings) uses of the manager that owns it.

``DatabaseManager`` implements it; the layers below the manager are typed by it instead of
importing the manager (an import may only go down: tests/unit/test_layers.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .cache.query_cache import QueryCache
    from .config import DatabaseOptions
    from .connection import Session
    from .dialects.base import Dialect, DriverConnection
    from .events import EventEmitter
    from .pool import ConnectionPool
    from .replicas.replica_set import ReplicaSet


class SessionHost(Protocol):
    options: DatabaseOptions
    dialect: Dialect
    events: EventEmitter
    query_cache: QueryCache
    replica_set: ReplicaSet | None
    _pool: ConnectionPool[DriverConnection] | None
    _session: Session  # the manager's own session, outside transactions

    @property
    def pool(self) -> ConnectionPool[DriverConnection]: ...

    @property
    def default_timeout(self) -> float | None: ...

    def transaction(
        self, fn: None = None, *, isolation: str | None = None, read_only: bool = False
    ) -> Any: ...
