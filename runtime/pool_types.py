"""What the pool needs from a connection and its options, and what it reports."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

WAIT_SAMPLES = 1024  # acquire wait times kept for the percentiles


class PooledConnection(Protocol):
    """What the pool needs from a connection (``dialects.base.DriverConnection`` has it)."""

    broken: bool
    created_at: float
    last_used: float

    @property
    def in_transaction(self) -> bool: ...

    async def ping(self) -> None: ...

    async def execute_script(self, sql: str, timeout: float | None) -> None: ...

    async def close(self) -> None: ...

    def terminate(self) -> None: ...


class PoolOptionsLike(Protocol):
    """The pool's settings (``config.PoolOptions``). Seconds; ``None`` turns a limit off."""

    @property
    def min(self) -> int: ...

    @property
    def max(self) -> int: ...

    @property
    def idle_timeout(self) -> float | None: ...

    @property
    def acquire_timeout(self) -> float | None: ...

    @property
    def create_timeout(self) -> float | None: ...

    @property
    def max_lifetime(self) -> float | None: ...

    @property
    def ping_after(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """A snapshot of the pool. ``size`` counts open connections and those being opened;
    at rest ``size == idle + in_use``."""

    size: int
    idle: int
    in_use: int
    waiting: int
    min: int
    max: int


@dataclass(frozen=True, slots=True)
class PoolMetrics:
    """Counters since the pool was created; wait times over the last acquires, in ms."""

    acquires: int
    releases: int
    creates: int
    destroys: int
    timeouts: int
    errors: int
    wait_p50_ms: float
    wait_p95_ms: float
    wait_max_ms: float


def pool_metrics(
    acquires: int,
    releases: int,
    creates: int,
    destroys: int,
    timeouts: int,
    errors: int,
    waits: Iterable[float],
) -> PoolMetrics:
    """The counters, and the percentiles and maximum of the wait samples (ms)."""
    ordered = sorted(waits)
    return PoolMetrics(
        acquires=acquires,
        releases=releases,
        creates=creates,
        destroys=destroys,
        timeouts=timeouts,
        errors=errors,
        wait_p50_ms=_percentile(ordered, 0.50),
        wait_p95_ms=_percentile(ordered, 0.95),
        wait_max_ms=ordered[-1] if ordered else 0.0,
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]
