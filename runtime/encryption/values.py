"""A field's value <-> the plaintext bytes sealed in its envelope, by schema type.

The text forms are canonical (``Decimal`` as ``str``, dates in ISO form, JSON with sorted
keys), so one value always gives one plaintext: the blind index of ``find_by`` depends on it.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

Encode = Callable[[Any], bytes]
Decode = Callable[[bytes], Any]


def _text(value: Any) -> bytes:
    return str(value).encode()


def _float(value: Any) -> bytes:
    return repr(float(value)).encode()


def _bool(value: Any) -> bytes:
    return b"1" if value else b"0"


def _iso(value: Any) -> bytes:
    text: str = value.isoformat()
    return text.encode()


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _bytes(value: Any) -> bytes:
    return bytes(value)


def _datetime(raw: bytes) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(raw.decode())
    return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


ENCODE: dict[str, Encode] = {
    "int": _text,
    "bigint": _text,
    "smallint": _text,
    "float": _float,
    "decimal": _text,
    "str": _text,
    "text": _text,
    "enum": _text,
    "uuid": _text,
    "bool": _bool,
    "date": _iso,
    "time": _iso,
    "datetime": _iso,
    "json": _json,
    "bytes": _bytes,
}

DECODE: dict[str, Decode] = {
    "int": lambda raw: int(raw),
    "bigint": lambda raw: int(raw),
    "smallint": lambda raw: int(raw),
    "float": lambda raw: float(raw),
    "decimal": lambda raw: Decimal(raw.decode()),
    "str": lambda raw: raw.decode(),
    "text": lambda raw: raw.decode(),
    "enum": lambda raw: raw.decode(),
    "uuid": lambda raw: uuid.UUID(raw.decode()),
    "bool": lambda raw: raw == b"1",
    "date": lambda raw: datetime.date.fromisoformat(raw.decode()),
    "time": lambda raw: datetime.time.fromisoformat(raw.decode()),
    "datetime": _datetime,
    "json": lambda raw: json.loads(raw),
    "bytes": lambda raw: raw,
}
