"""``health_check()``'s part about the replicas: each one looked at now."""

from __future__ import annotations

from ..health import HealthStatus
from .replica_set import ReplicaSet


async def replica_health(replicas: ReplicaSet) -> list[HealthStatus]:
    """Probe every replica now; ``healthy`` means in rotation (reachable, lag within
    ``max_replica_lag``)."""
    await replicas.check_all()
    engine = replicas.dialect
    statuses: list[HealthStatus] = []
    for replica in replicas.replicas:
        in_rotation = replica.in_rotation(replicas.max_replica_lag)
        error = replica.error
        if error is None and not in_rotation:
            error = (
                "replication lag unknown (is replication running?)"
                if replica.lag is None
                else f"lags {replica.lag:.3f} s, more than max_replica_lag "
                f"{replicas.max_replica_lag} s"
            )
        statuses.append(
            HealthStatus(
                healthy=in_rotation,
                engine=engine,
                name=replica.name,
                latency_ms=replica.latency_ms if replica.up else None,
                server_version=replica.server_version,
                pool=replica.pool.get_status(),
                error=error,
                lag_seconds=replica.lag if replica.up else None,
            )
        )
    return statuses
