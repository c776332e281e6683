"""What ``.cache(ttl=...)`` records on a query."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CachePolicy:
    ttl: float | None  # seconds; None: the manager's ``cache.default_ttl``


def checked_ttl(ttl: float | None) -> float | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl):
        raise TypeError(f"cache(ttl=) takes seconds as a finite number or None, got {ttl!r}")
    if ttl <= 0:
        raise ValueError(f"cache(ttl=) must be more than 0 seconds, got {ttl!r}")
    return float(ttl)
