"""Model values -> what a document store (BSON, ``capabilities.document_store``) can keep.

The reverse of ``decode.py`` for the types BSON has no encoding for: ``date`` and ``time``
are stored as ISO text (which sorts as the values do), ``uuid`` as its text form and
``Decimal`` as its exact text (equality filters work; ``<``/``>``/sorting compare text, not
numbers: the query builder's values are scalars, so no ``Decimal128``; the decoder reads a
``Decimal128`` written by others back as ``Decimal`` too). ``datetime`` is
a BSON date (millisecond precision, read back naive UTC, made aware by the decoder);
``bytes``, ``bool``, numbers, text and JSON values (dicts, lists) are stored as they are.
SQL engines never see these encoders: the model layer applies them only for a document
store.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ..query import tree
from .meta import ColumnMeta

Encoder = Callable[[Any], Any]


def encode_embedded(v: Any) -> Any:
    """An embedded model (or a list of them) as the sub-document(s) to store."""
    if isinstance(v, BaseModel):
        v = v.model_dump()
    if isinstance(v, dict):
        return {key: encode_embedded(value) for key, value in v.items()}
    if isinstance(v, list | tuple):
        return [encode_embedded(item) for item in v]
    return encode_value(v)


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime.date | datetime.time) else v


def _date(v: Any) -> Any:
    # a datetime is a date too: it stays a BSON date
    if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
        return v.isoformat()
    return v


def _uuid(v: Any) -> Any:
    return str(v) if isinstance(v, uuid.UUID) else v


def _decimal(v: Any) -> Any:
    return str(v) if isinstance(v, Decimal) else v


ENCODERS: dict[str, Encoder] = {
    "date": _date,
    "time": _iso,
    "uuid": _uuid,
    "decimal": _decimal,
    "embedded": encode_embedded,
}


def encoders_for(columns: tuple[ColumnMeta, ...]) -> dict[str, Encoder]:
    return {c.name: ENCODERS[c.type] for c in columns if c.type in ENCODERS}


def encode_value(v: Any) -> Any:
    """One value by its Python type (condition values, where no column is known)."""
    if isinstance(v, datetime.datetime):
        return v
    if isinstance(v, datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, Decimal):
        return _decimal(v)
    if isinstance(v, list | tuple):
        return type(v)(encode_value(item) for item in v)
    return v


def encode_values(encoders: Mapping[str, Encoder], values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: (encoders[name](value) if name in encoders and value is not None else value)
        for name, value in values.items()
    }


def encode_node(node: Any) -> Any:
    """A condition tree with every ``Value`` encoded by ``encode_value``."""
    if isinstance(node, tree.Value):
        encoded = encode_value(node.value)
        return node if encoded is node.value else tree.Value(encoded)
    if isinstance(node, tuple):
        return tuple(encode_node(item) for item in node)
    if not dataclasses.is_dataclass(node) or isinstance(node, type):
        return node
    changes = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        new = encode_node(value)
        if new is not value:
            changes[f.name] = new
    return dataclasses.replace(node, **changes) if changes else node
