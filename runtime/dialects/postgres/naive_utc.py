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

from ...query.values import naive_utc

TIMESTAMP = "timestamp"  # asyncpg's name of timestamp without time zone


def _naive_at(values: Sequence[Any], at: Sequence[int]) -> list[Any] | None:
    """``values`` with the aware datetimes at positions ``at`` as naive UTC, or None when
    there is none."""
    fixed: list[Any] | None = None
    for i in at:
        value = values[i]
        if isinstance(value, datetime.datetime) and value.utcoffset() is not None:
            if fixed is None:
                fixed = list(values)
            fixed[i] = naive_utc(value)
    return fixed


def _timestamps(types: Sequence[str], width: int) -> list[int]:
    return [i for i, kind in enumerate(types[:width]) if kind == TIMESTAMP]


def naive_for_timestamps(values: Sequence[Any], types: Sequence[str]) -> list[Any] | None:
    """``values`` with the aware datetimes bound to ``timestamp`` as naive UTC, or None
    when there is none."""
    return _naive_at(values, _timestamps(types, len(values)))


def rows_naive_for_timestamps(
    rows: Sequence[Sequence[Any]], types: Sequence[str]
) -> Sequence[Sequence[Any]]:
    """``naive_for_timestamps`` of every row, the positions found once (``rows`` itself
    when the columns hold no ``timestamp``: no row is looked at)."""
    at = _timestamps(types, len(types))
    if not at:
        return rows
    return [row if (fixed := _naive_at(row, at)) is None else tuple(fixed) for row in rows]
