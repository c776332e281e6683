"""Values as drivers return them -> the Python types a model declares.

Drivers differ (SQLite keeps dates as text and booleans as 0/1; JSON arrives as text on
every engine), so each column type that needs it gets one small converter; a value that
already has the right type passes through untouched.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from .documents import decode_objectid, embedded_decoder
from .meta import ColumnMeta

Decoder = Callable[[Any], Any]


def _bool(v: Any) -> Any:
    return v if v is None or v.__class__ is bool else bool(v)


def _datetime(v: Any) -> Any:
    if isinstance(v, str):
        v = datetime.datetime.fromisoformat(v)
    if isinstance(v, datetime.datetime) and v.tzinfo is None:
        return v.replace(tzinfo=datetime.UTC)
    return v


def _date(v: Any) -> Any:
    return datetime.date.fromisoformat(v) if isinstance(v, str) else v


def _time(v: Any) -> Any:
    if isinstance(v, str):
        return datetime.time.fromisoformat(v)
    if isinstance(v, datetime.timedelta):  # MySQL TIME arrives as a timedelta
        return (datetime.datetime.min + v).time()
    return v


def _decimal(v: Any) -> Any:
    if v is None or v.__class__ is Decimal:
        return v
    if isinstance(v, str | float | int):
        return Decimal(str(v))
    to_decimal = getattr(v, "to_decimal", None)  # BSON's Decimal128 (a document store)
    return v if to_decimal is None else to_decimal()


def _uuid(v: Any) -> Any:
    if isinstance(v, str):
        return uuid.UUID(v)
    if isinstance(v, bytes):
        return uuid.UUID(bytes=v)
    return v


def _json(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str | bytes) else v


def _bytes(v: Any) -> Any:
    return bytes(v) if isinstance(v, bytearray | memoryview) else v


DECODERS: dict[str, Decoder] = {
    "bool": _bool,
    "datetime": _datetime,
    "date": _date,
    "time": _time,
    "decimal": _decimal,
    "uuid": _uuid,
    "json": _json,
    "bytes": _bytes,
    "objectid": decode_objectid,
}


def decoders_for(
    columns: tuple[ColumnMeta, ...], model: type[BaseModel] | None = None
) -> tuple[tuple[str, Decoder], ...]:
    found = [(c.name, DECODERS[c.type]) for c in columns if c.type in DECODERS]
    if model is not None:  # embedded documents: validated into the field's own models
        found += [
            (c.name, embedded_decoder(model.model_fields[c.name].annotation))
            for c in columns
            if c.type == "embedded"
        ]
    return tuple(found)
