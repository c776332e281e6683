"""Replication positions, and the write marks of read-your-writes.

A position is, per replication domain, how far a server has got: PostgreSQL has one
domain (the WAL LSN, ``pg_current_wal_lsn()`` on the primary, ``pg_last_wal_replay_lsn()``
on a standby); MariaDB has one per GTID domain (``@@gtid_binlog_pos`` on the primary,
``@@gtid_current_pos`` on a replica). A replica has replayed a write when its position
covers the write's position in every domain.

Writes are marked in a context variable: the first read-your-writes read after a write asks
the primary for its position (at or past the write's commit) and keeps it until the next
write. The mark is a shared object, so tasks started after a write (they copy the context)
see that write and the ones they make themselves.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

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


class WriteMark:
    """Writes made through one replica set in one context: ``generation`` counts them;
    ``position`` is the primary's position read after write number ``resolved``."""

    __slots__ = ("generation", "position", "resolved")

    def __init__(self) -> None:
        self.generation = 0
        self.position: Position | None = None
        self.resolved = -1


_marks: contextvars.ContextVar[WeakKeyDictionary[ReplicaSet, WriteMark] | None] = (
    contextvars.ContextVar("jadugar_replica_writes", default=None)
)


def mark_write(replicas: ReplicaSet) -> None:
    """Note that the calling context wrote through ``replicas``' primary (after commit)."""
    marks = _marks.get()
    if marks is None:
        marks = WeakKeyDictionary()
        _marks.set(marks)
    mark = marks.get(replicas)
    if mark is None:
        mark = marks[replicas] = WriteMark()
    mark.generation += 1


def write_mark(replicas: ReplicaSet) -> WriteMark | None:
    """The calling context's writes through ``replicas``, ``None`` when it made none."""
    marks = _marks.get()
    return None if marks is None else marks.get(replicas)
