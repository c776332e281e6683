"""Aware datetimes bound to ``timestamp without time zone``: sent as naive UTC.

asyncpg refuses an aware datetime for a ``timestamp`` parameter or column (its binary
encoder subtracts a naive epoch; ``driver.py`` recognises the refusal). Models read such
columns back as UTC, so the same instant goes in as naive UTC. Only where the server type
is ``timestamp``: asyncpg reads a naive value for ``timestamptz`` in the client's local
time zone, so those stay aware. No driver import here (DESIGN: only ``driver.py``).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

TIMESTAMP = "timestamp"  # asyncpg's name of timestamp without time zone


def _aware(value: object) -> bool:
    return isinstance(value, datetime.datetime) and value.utcoffset() is not None


def _naive(value: datetime.datetime) -> datetime.datetime:
    return value.astimezone(datetime.UTC).replace(tzinfo=None)


def naive_for_timestamps(values: Sequence[Any], types: Sequence[str]) -> list[Any] | None:
    """``values`` with the aware datetimes bound to ``timestamp`` as naive UTC, or None
    when there is none."""
    at = [i for i, kind in enumerate(types) if kind == TIMESTAMP and i < len(values)]
    if not any(_aware(values[i]) for i in at):
        return None
    fixed = list(values)
    for i in at:
        if _aware(fixed[i]):
            fixed[i] = _naive(fixed[i])
    return fixed


def rows_naive_for_timestamps(
    rows: Sequence[Sequence[Any]], types: Sequence[str]
) -> Sequence[Sequence[Any]]:
    """``naive_for_timestamps`` of every row (``rows`` itself when the columns hold no
    ``timestamp``: no row is looked at)."""
    if TIMESTAMP not in types:
        return rows
    return [
        row if (fixed := naive_for_timestamps(row, types)) is None else tuple(fixed) for row in rows
    ]
