"""``HealthStatus``: what ``DatabaseManager.health_check()`` found (replicas included)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .pool_types import PoolStatus


class HealthStatus(BaseModel):
    """What ``health_check()`` found."""

    model_config = ConfigDict(frozen=True)

    healthy: bool
    engine: str
    latency_ms: float | None = None
    server_version: str | None = None
    pool: PoolStatus | None = None
    error: str | None = None
    replicas: list[HealthStatus] = []
    name: str | None = None  # a replica's: "replicas[0]", ...
    lag_seconds: float | None = None  # a replica's replication lag
