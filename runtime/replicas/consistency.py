"""Read consistency levels and the per-query read options (``.options(consistency=...)``).

Dependency-free: ``config`` imports the ``Consistency`` type from here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Consistency = Literal["strong", "eventual", "read_your_writes", "bounded_staleness"]
"""Where a read may run when replicas are configured:

- ``strong``: the primary;
- ``eventual``: any healthy replica in rotation (round robin, least busy first);
- ``read_your_writes``: a replica that has replayed this context's last write, else the
  primary;
- ``bounded_staleness``: a replica whose lag is at most ``max_lag`` seconds, else the
  primary."""

CONSISTENCY_LEVELS: tuple[str, ...] = get_args(Consistency)


def check_consistency(value: object, what: str = "consistency") -> Consistency:
    """``value`` if it names a level; ``ValueError`` naming the levels otherwise."""
    if value not in CONSISTENCY_LEVELS:
        raise ValueError(
            f"{what} must be one of {', '.join(map(repr, CONSISTENCY_LEVELS))}, got {value!r}"
        )
    return value  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """One query's routing wishes; ``None`` fields follow the manager's defaults.

    ``use_replica=False`` forces the primary; ``use_replica=True`` allows a replica even
    when the default consistency is ``strong`` (then reading as ``eventual``); ``max_lag``
    alone means ``bounded_staleness``."""

    use_replica: bool | None = None
    consistency: Consistency | None = None
    max_lag: float | None = None

    def merged(
        self,
        use_replica: bool | None,
        consistency: Consistency | None,
        max_lag: float | None,
    ) -> ReadOptions:
        """These options with the given (not ``None``) ones replaced, checked."""
        if use_replica is not None and not isinstance(use_replica, bool):
            raise TypeError(f"use_replica must be True or False, got {use_replica!r}")
        if consistency is not None:
            check_consistency(consistency)
        if max_lag is not None and (
            isinstance(max_lag, bool) or not isinstance(max_lag, int | float) or max_lag < 0
        ):
            raise ValueError(f"max_lag must be a number of seconds >= 0, got {max_lag!r}")
        return ReadOptions(
            self.use_replica if use_replica is None else use_replica,
            self.consistency if consistency is None else consistency,
            self.max_lag if max_lag is None else float(max_lag),
        )

    def level(self, default: Consistency) -> Consistency:
        """The consistency this read asks for, given the manager's default."""
        if self.use_replica is False:
            return "strong"
        if self.consistency is not None:
            return self.consistency
        if self.max_lag is not None:
            return "bounded_staleness"
        if self.use_replica and default == "strong":
            return "eventual"
        return default


DEFAULT_READ = ReadOptions()
"""A builder read with no options of its own: the manager's default consistency."""

_READ_HEADS = frozenset({"select", "show", "values", "table", "explain", "describe"})


def is_read_statement(sql: str) -> bool:
    """SQL that only reads, as far as its first word and a RETURNING/locking clause tell:
    only such raw SQL may run on a replica (``WITH`` may hide a write: never routed)."""
    head = sql.lstrip(" \t\r\n(").split(None, 1)
    if not head or head[0].lower() not in _READ_HEADS:
        return False
    lowered = sql.lower()
    return " for update" not in lowered and " for share" not in lowered and " into " not in lowered
