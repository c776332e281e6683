"""Replication positions, and the write marks of read-your-writes.

A position is, per replication domain, how far a server has got: PostgreSQL has one
domain (the WAL LSN, ``pg_current_wal_lsn()`` on the primary, ``pg_last_wal_replay_lsn()``
on a standby); MariaDB has one per GTID domain (``@@gtid_binlog_pos`` on the primary,
``@@gtid_current_pos`` on a replica). A replica has replayed a write when its position
covers the write's position in every domain.

Writes are marked in a context variable with the primary's position read right after the
commit on the write's own connection (``pg_current_wal_insert_lsn()``, MariaDB
``@@last_gtid``); when that could not be read, the next read-your-writes read asks the
primary for its current position (later, so it covers the write too). A task started after a write inherits its mark (tasks copy the context); a write in
a task is not seen by the task that started it.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .replica_set import ReplicaSet

Position = tuple[tuple[int, int], ...]
"""``((domain, sequence), ...)`` sorted by domain; a PostgreSQL LSN is domain 0."""


def parse_lsn(text: str | None) -> Position | None:
    """``"0/8015FA0"`` → ``((0, 0x8015FA0),)``; ``None`` stays ``None``."""
    if not text:
        return None
    high, _, low = text.partition("/")
    return ((0, (int(high, 16) << 32) + int(low, 16)),)


def parse_gtid(text: str | None) -> Position | None:
    """``"0-1-100,1-2-5"`` → ``((0, 100), (1, 5))``; an empty position is ``()``."""
    if text is None:
        return None
    seqs: dict[int, int] = {}
    for part in text.replace("\n", "").split(","):
        part = part.strip()
        if not part:
            continue
        domain, _server, seq = part.split("-")
        seqs[int(domain)] = max(seqs.get(int(domain), 0), int(seq))
    return tuple(sorted(seqs.items()))


def covers(have: Position | None, want: Position) -> bool:
    """True when ``have`` is at or past ``want`` in every domain of ``want``."""
    if have is None:
        return False
    reached = dict(have)
    return all(reached.get(domain, -1) >= seq for domain, seq in want)


def later(a: Position | None, b: Position | None) -> Position | None:
    """The per-domain maximum of two positions (a replica's position only moves on)."""
    if a is None or b is None:
        return b if a is None else a
    merged = dict(a)
    for domain, seq in b:
        merged[domain] = max(merged.get(domain, -1), seq)
    return tuple(sorted(merged.items()))


_UNRESOLVED: Position = ((-1, -1),)  # written, the primary's position not asked yet

_marks: contextvars.ContextVar[dict[ReplicaSet, Position] | None] = contextvars.ContextVar(
    "jadugar_replica_writes", default=None
)


def mark_write(replicas: ReplicaSet, position: Position | None) -> None:
    """Note that the calling context wrote through ``replicas``' primary: ``position``
    read after the commit, on the same connection (``None``: to be asked later). Copy on
    write: a task started later inherits the marks, and its own writes stay its."""
    marks = _marks.get()
    _marks.set({**(marks or {}), replicas: _UNRESOLVED if position is None else position})


def written_position(replicas: ReplicaSet) -> Position | bool | None:
    """The calling context's last write through ``replicas``: ``None`` when it made none,
    ``True`` when the primary's position after it is still to be asked, else that."""
    marks = _marks.get()
    position = None if marks is None else marks.get(replicas)
    return True if position is _UNRESOLVED else position


def resolve_write(replicas: ReplicaSet, position: Position) -> None:
    """The primary's position read after the context's last write (it covers that write)."""
    _marks.set({**(_marks.get() or {}), replicas: position})
