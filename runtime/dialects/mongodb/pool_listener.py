"""Pool numbers of a MongoDB client from PyMongo's connection-pool monitoring (CMAP
events): ``PoolListener`` counts them per server and gives ``pool_status()`` and
``pool_metrics()`` real counts."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...pool_types import WAIT_SAMPLES, PoolMetrics, PoolStatus, pool_metrics

if TYPE_CHECKING:
    from pymongo import monitoring


@dataclass(slots=True)
class _ServerPool:
    size: int = 0
    in_use: int = 0
    waiting: int = 0


def _listener_base() -> type:
    from pymongo import monitoring

    return monitoring.ConnectionPoolListener


class PoolListener:
    """Counts PyMongo's connection-pool (CMAP) events, per server, thread-safely (motor
    publishes them from its worker threads).

    ==========================  ============================================
    event                       effect
    ==========================  ============================================
    connection_created          ``creates`` +1, ``size`` +1
    connection_closed           ``destroys`` +1, ``size`` -1
    check_out_started           ``waiting`` +1
    checked_out                 ``waiting`` -1, ``in_use`` +1, ``acquires`` +1,
                                wait sample = ``event.duration``
    check_out_failed            ``waiting`` -1; ``timeouts`` +1 (reason
                                ``timeout``) or ``errors`` +1, wait sample
    checked_in                  ``in_use`` -1, ``releases`` +1
    pool_closed                 the server's pool forgotten
    ==========================  ============================================

    ``idle = size - in_use``. An instance is registered with the client through
    ``as_pymongo_listener()`` (a real ``ConnectionPoolListener`` subclass, created once
    PyMongo is imported).
    """

    def __init__(self, min_size: int = 0, max_size: int = 100) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self._lock = threading.Lock()
        self._servers: dict[Any, _ServerPool] = {}
        self._waits: deque[float] = deque(maxlen=WAIT_SAMPLES)
        self.acquires = 0
        self.releases = 0
        self.creates = 0
        self.destroys = 0
        self.timeouts = 0
        self.errors = 0

    def _server(self, address: Any) -> _ServerPool:
        found = self._servers.get(address)
        if found is None:
            found = self._servers[address] = _ServerPool()
        return found

    # -- the ConnectionPoolListener methods

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        with self._lock:
            self._server(event.address)

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        pass

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        pass  # the stale connections are closed one by one, each with connection_closed

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        with self._lock:
            self._servers.pop(event.address, None)

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        with self._lock:
            self.creates += 1
            self._server(event.address).size += 1

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        pass

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        with self._lock:
            self.destroys += 1
            server = self._servers.get(event.address)
            if server is not None:
                server.size = max(0, server.size - 1)

    def connection_check_out_started(
        self, event: monitoring.ConnectionCheckOutStartedEvent
    ) -> None:
        with self._lock:
            self._server(event.address).waiting += 1

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        with self._lock:
            server = self._server(event.address)
            server.waiting = max(0, server.waiting - 1)
            if event.reason == "timeout":
                self.timeouts += 1
            else:
                self.errors += 1
            if event.duration is not None:
                self._waits.append(event.duration * 1000.0)

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        with self._lock:
            server = self._server(event.address)
            server.waiting = max(0, server.waiting - 1)
            server.in_use += 1
            self.acquires += 1
            if event.duration is not None:
                self._waits.append(event.duration * 1000.0)

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        with self._lock:
            server = self._servers.get(event.address)
            if server is not None:
                server.in_use = max(0, server.in_use - 1)
            self.releases += 1

    # -- what the pool reports

    def status(self) -> PoolStatus:
        """Summed over the servers the client talks to; ``min``/``max`` are per server
        (``minPoolSize`` / ``maxPoolSize``)."""
        with self._lock:
            size = sum(s.size for s in self._servers.values())
            in_use = min(size, sum(s.in_use for s in self._servers.values()))
            waiting = sum(s.waiting for s in self._servers.values())
        return PoolStatus(
            size=size,
            idle=size - in_use,
            in_use=in_use,
            waiting=waiting,
            min=self.min_size,
            max=self.max_size,
        )

    def metrics(self) -> PoolMetrics:
        with self._lock:
            return pool_metrics(
                self.acquires,
                self.releases,
                self.creates,
                self.destroys,
                self.timeouts,
                self.errors,
                self._waits,
            )

    def as_pymongo_listener(self) -> monitoring.ConnectionPoolListener:
        """This listener as a ``pymongo.monitoring.ConnectionPoolListener`` (PyMongo checks
        the type of ``event_listeners``)."""
        adapter_type: type[monitoring.ConnectionPoolListener] = type(
            "JadugarPoolListener", (_listener_base(),), {}
        )
        adapter = adapter_type()
        for name in (
            "pool_created",
            "pool_ready",
            "pool_cleared",
            "pool_closed",
            "connection_created",
            "connection_ready",
            "connection_closed",
            "connection_check_out_started",
            "connection_check_out_failed",
            "connection_checked_out",
            "connection_checked_in",
        ):
            setattr(adapter, name, getattr(self, name))
        return adapter
