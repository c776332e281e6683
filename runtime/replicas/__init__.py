"""Read replicas (``DatabaseOptions.replicas``): one pool per replica, reads routed by
consistency level, lagging or failing replicas taken out and checked again later.

- consistency.py: the ``Consistency`` levels and per-query ``ReadOptions``;
- positions.py: replication positions and the read-your-writes marks (a context variable);
- probes.py: per-dialect position and lag queries;
- replica.py / replica_set.py: the replicas, their health and the selection;
- routing.py: running a read on a replica, falling back to the next or to the primary.
"""

from __future__ import annotations

from .consistency import CONSISTENCY_LEVELS, DEFAULT_READ, Consistency, ReadOptions

__all__ = ["CONSISTENCY_LEVELS", "DEFAULT_READ", "Consistency", "ReadOptions"]
