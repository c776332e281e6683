"""Values only a document store has (``engine: mongodb`` models): ``objectid`` fields and
embedded documents (``embedded``, one or a list).

An ``objectid`` is a ``str`` of 24 hex digits to the application. As the key it is a BSON
ObjectId in the database (the dialect converts it, ``objectid_keys``); any other
``objectid`` field is stored as that text, because the query builder's filter values are
scalars (an ObjectId is not one); one written as an ObjectId by others reads back as text.
An embedded document is a Pydantic model in the application
and a sub-document in the database: its ``date``, ``time``, ``uuid`` and ``Decimal`` values
are stored as the top-level ones are (``encode.py``), its datetimes come back as UTC.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pydantic
from pydantic import BaseModel, ConfigDict, TypeAdapter

from .validation import validation_error


def decode_objectid(v: Any) -> Any:
    return v if v is None or isinstance(v, str) else str(v)


def _utc(v: Any) -> Any:
    if isinstance(v, datetime.datetime) and v.tzinfo is None:
        return v.replace(tzinfo=datetime.UTC)
    if isinstance(v, dict):
        return {key: _utc(value) for key, value in v.items()}
    if isinstance(v, list):
        return [_utc(item) for item in v]
    return v


def embedded_decoder(annotation: Any) -> Callable[[Any], Any]:
    """Stored sub-document(s) -> the field's embedded model(s) (``annotation``)."""
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)

    def decode(v: Any) -> Any:
        if v is None or isinstance(v, BaseModel):
            return v
        return adapter.validate_python(_utc(v))

    return decode


def _invalid(model: str, exc: pydantic.ValidationError) -> Exception:
    return validation_error(model, exc)


class EmbeddedModel(BaseModel):
    """Base of the generated models of embedded documents: validated like ``Model`` (on
    creation and assignment, unknown fields refused), raising ``jadugar.ValidationError``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    if not TYPE_CHECKING:  # as in Model: pydantic's own signatures stay visible to mypy

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except pydantic.ValidationError as exc:
                raise _invalid(type(self).__name__, exc) from None

        __init__.__pydantic_base_init__ = True

        def __setattr__(self, name: str, value: Any) -> None:
            try:
                super().__setattr__(name, value)
            except pydantic.ValidationError as exc:
                raise _invalid(type(self).__name__, exc) from None
