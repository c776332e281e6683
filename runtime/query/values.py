"""Which Python values may be bound as parameters.

A comparison takes a scalar; a dict or an arbitrary object there is a ``TypeError``, never a
change to the statement (the class of bug behind the Knex and PyMySQL injection CVEs).
Inserted and updated values may also be ``dict``/``list`` (JSON columns).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any

SCALAR_TYPES: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    decimal.Decimal,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    bytes,
    bytearray,
    memoryview,
    enum.Enum,
)

_SCALAR_SET = frozenset(SCALAR_TYPES)


def check_scalar(value: Any, where: str) -> Any:
    """Return ``value`` when it may be compared; raise ``TypeError`` naming ``where``."""
    if value is None or type(value) in _SCALAR_SET or isinstance(value, SCALAR_TYPES):
        return value.value if isinstance(value, enum.Enum) else value
    raise TypeError(
        f"{where}: expected a scalar value (str, int, float, bool, Decimal, date/time, UUID, "
        f"bytes or None), got {type(value).__name__}"
    )


def check_writable(value: Any, where: str) -> Any:
    """Values for INSERT/UPDATE: scalars, plus dict and list for JSON columns."""
    if value is None or type(value) in _SCALAR_SET:
        return value
    if isinstance(value, dict | list):
        return value
    return check_scalar(value, where)
