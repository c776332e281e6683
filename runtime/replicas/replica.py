"""One read replica: its pool and what the last look at it found."""

from __future__ import annotations

import time

from ..dialects.base import DriverConnection
from ..pool import ConnectionPool
from .positions import Position, covers, later


class Replica:
    """A replica named ``replicas[i]`` (as in the configuration) with its own pool.

    In rotation while ``up`` (the last probe or read reached it) and its lag is known and
    at most the manager's ``max_replica_lag``."""

    __slots__ = (
        "checked_at",
        "describe",
        "error",
        "lag",
        "latency_ms",
        "name",
        "pool",
        "position",
        "server_version",
        "up",
    )

    def __init__(self, name: str, describe: str, pool: ConnectionPool[DriverConnection]) -> None:
        self.name = name
        self.describe = describe  # the masked URL
        self.pool = pool
        self.up = False  # until the first probe
        self.lag: float | None = None
        self.position: Position | None = None
        self.checked_at = 0.0  # time.monotonic() of the last successful probe
        self.error: str | None = "not checked yet"
        self.latency_ms: float | None = None
        self.server_version: str | None = None

    def __repr__(self) -> str:
        state = "up" if self.up else f"down ({self.error})"
        return f"<Replica {self.name} {self.describe} {state} lag={self.lag}>"

    def in_rotation(self, max_lag: float) -> bool:
        return self.up and self.lag is not None and self.lag <= max_lag

    def staleness(self, now: float) -> float:
        """An upper bound of how far behind the primary its data is now, in seconds: the
        lag measured, plus the time since (it may have stopped replaying meanwhile)."""
        lag = self.lag if self.lag is not None else float("inf")
        return lag + max(0.0, now - self.checked_at)

    def busy(self) -> int:
        status = self.pool.get_status()
        return status.in_use + status.waiting

    def has_replayed(self, position: Position) -> bool:
        return covers(self.position, position)

    def reached(self, position: Position | None) -> None:
        """Record a position seen on the replica (positions only move on)."""
        self.position = later(self.position, position)

    def went_down(self, error: str) -> bool:
        """Take it out of rotation; True when it was up."""
        was_up, self.up, self.error = self.up, False, error
        return was_up

    def came_up(self, lag: float | None, position: Position | None) -> bool:
        """A successful probe; True when it was down."""
        was_down = not self.up
        self.up, self.error, self.lag = True, None, lag
        self.checked_at = time.monotonic()
        self.reached(position)
        return was_down
