"""Rows and cache keys as text for a shared store (Redis): JSON with tagged values.

Every value a driver hands back round-trips exactly, type included: ``None``, ``bool``,
``int``, ``str`` and finite ``float`` are plain JSON; ``Decimal``, ``datetime`` (naive or
with a fixed offset), ``date``, ``time``, ``timedelta``, ``UUID``, ``bytes``, special
floats, lists, tuples and dicts (JSON columns) become ``[tag, payload]`` lists (a plain
list is never a value on its own, so nothing is ambiguous). A value of any other type
raises ``Uncacheable``: the result is then read from the database and not stored.

Never ``pickle``: anyone who can write to a shared store could make an unpickling reader
run code of their choosing. Decoding JSON can at worst yield wrong rows, never run code.

>>> from decimal import Decimal
>>> decode_rows(encode_rows([{"id": 1, "price": Decimal("9.50"), "ok": True}]))
[{'id': 1, 'price': Decimal('9.50'), 'ok': True}]
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from .backend import CacheKey, Row


class Uncacheable(ValueError):
    """A value the codec cannot round-trip exactly: the result is not stored."""


_PLAIN = frozenset((str, int, bool, type(None)))


def _offset(tz: object) -> float | None:
    """Seconds east of UTC of a fixed-offset ``timezone`` without a custom name; anything
    else (a ``ZoneInfo``, a named offset) would not come back the same."""
    if tz is None:
        return None
    if type(tz) is not timezone:
        raise Uncacheable(f"time zone {tz!r} is not a fixed offset")
    delta = tz.utcoffset(None)
    if tz != UTC and tz.tzname(None) != timezone(delta).tzname(None):
        raise Uncacheable(f"time zone {tz!r} has a name of its own")
    return delta.total_seconds()


def _tz(offset: float | None) -> timezone | None:
    if offset is None:
        return None
    return UTC if offset == 0 else timezone(timedelta(seconds=offset))


def _encode_datetime(value: datetime) -> list[Any]:
    if value.fold:
        raise Uncacheable("datetime with fold=1")
    return ["dt", value.replace(tzinfo=None).isoformat(), _offset(value.tzinfo)]


def _encode_time(value: time) -> list[Any]:
    if value.fold:
        raise Uncacheable("time with fold=1")
    return ["ti", value.replace(tzinfo=None).isoformat(), _offset(value.tzinfo)]


def _encode_float(value: float) -> float | list[Any]:
    return value if math.isfinite(value) else ["f", repr(value)]


def _encode_dict(value: dict[Any, Any]) -> list[Any]:
    pairs = []
    for name, item in value.items():
        if type(name) is not str:
            raise Uncacheable(f"dict key {name!r} is not text")
        pairs.append([name, encode_value(item)])
    return ["m", pairs]


_ENCODERS: dict[type, Callable[[Any], Any]] = {
    float: _encode_float,
    Decimal: lambda v: ["d", str(v)],
    datetime: _encode_datetime,
    date: lambda v: ["da", v.isoformat()],
    time: _encode_time,
    timedelta: lambda v: ["td", v.days, v.seconds, v.microseconds],
    uuid.UUID: lambda v: ["u", v.hex],
    bytes: lambda v: ["b", base64.b64encode(v).decode("ascii")],
    list: lambda v: ["l", [encode_value(item) for item in v]],
    tuple: lambda v: ["t", [encode_value(item) for item in v]],
    dict: _encode_dict,
}


def encode_value(value: Any) -> Any:
    """One value as JSON-ready data; ``Uncacheable`` for a type without an exact form."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is None:
        if isinstance(value, uuid.UUID):  # asyncpg's own UUID class: a uuid.UUID subclass
            return ["u", value.hex]
        raise Uncacheable(f"no exact text form for {kind.__name__} values")
    return encoder(value)


def _decode_datetime(text: str, offset: float | None) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=_tz(offset))


def _decode_time(text: str, offset: float | None) -> time:
    return time.fromisoformat(text).replace(tzinfo=_tz(offset))


_DECODERS: dict[str, Callable[..., Any]] = {
    "f": float,
    "d": Decimal,
    "dt": _decode_datetime,
    "da": date.fromisoformat,
    "ti": _decode_time,
    "td": lambda days, seconds, micro: timedelta(days, seconds, micro),
    "u": lambda text: uuid.UUID(hex=text),
    "b": base64.b64decode,
    "l": lambda items: [decode_value(item) for item in items],
    "t": lambda items: tuple(decode_value(item) for item in items),
    "m": lambda pairs: {name: decode_value(item) for name, item in pairs},
}


def decode_value(data: Any) -> Any:
    if type(data) is not list:
        return data
    tag, *payload = data
    return _DECODERS[tag](*payload)


def encode_rows(rows: list[Row]) -> str:
    """The rows as one JSON text: their column names once, then each row's values.
    Rows whose columns differ from the first row's are ``Uncacheable``."""
    if not rows:
        return "[[],[]]"
    columns = list(rows[0])
    width = len(columns)
    values = []
    encode = encode_value
    plain = _PLAIN
    for row in rows:
        if len(row) != width or list(row) != columns:
            raise Uncacheable("rows with different columns")
        values.append(
            [
                v if type(v) in plain or (type(v) is float and math.isfinite(v)) else encode(v)
                for v in row.values()
            ]
        )
    return json.dumps([columns, values], separators=(",", ":"), allow_nan=False)


def decode_rows(text: str | bytes) -> list[Row]:
    columns, values = json.loads(text)
    decode = decode_value
    return [
        dict(zip(columns, [v if type(v) is not list else decode(v) for v in row], strict=True))
        for row in values
    ]


# ---- keys ---------------------------------------------------------------------------------


def _key_part(value: Hashable) -> Any:
    """A cache key's parameter as data; sets are sorted by their text, so two processes
    (with different string hash seeds) spell the same key the same way."""
    if isinstance(value, frozenset | set):
        parts = [json.dumps(_key_part(item), sort_keys=True) for item in value]
        return ["s", sorted(parts)]
    if type(value) is tuple:
        return ["t", [_key_part(item) for item in value]]
    return encode_value(value)


def key_digest(key: CacheKey) -> str:
    """A stable name for ``key`` (SHA-256 of its statement and parameters, types
    included). ``Uncacheable`` when a parameter has no exact text form.

    >>> len(key_digest(CacheKey("sqlite:///a.db", "SELECT 1", ((), ()))))
    64
    """
    text = json.dumps(
        [key.database, key.sql, _key_part(key.params)], separators=(",", ":"), allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


__all__ = [
    "Uncacheable",
    "decode_rows",
    "decode_value",
    "encode_rows",
    "encode_value",
    "key_digest",
]
