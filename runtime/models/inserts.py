"""Inserting rows for ``jadugar.Model``: ``save()`` of a new row and ``create_many``.

Functions of the model class or instance, called by ``Model._insert`` and
``Model._create_many``; they use the model's own class-level helpers (``_stored``,
``_auto_key``, ``_cipher``…) and keep no state of their own.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from ..gc_pause import collector_paused
from ..query.expressions import Column
from ..query.row_chunks import ColumnKind, RowChunks
from . import rows, scopes
from .meta import timestamp_now
from .validation import validated

if TYPE_CHECKING:
    from .base import Model

_STAMP_KINDS = (ColumnKind(datetime.datetime, False),) * 2  # created_at, updated_at


async def insert(obj: Model) -> None:
    """Insert ``obj`` as a new row: timestamps, the document store's key, scope columns,
    sealed fields; then the key and the server defaults the database gave it."""
    cls = type(obj)
    meta = cls.__jadugar__
    if meta.timestamps:
        stamp = timestamp_now()
        object.__setattr__(obj, "created_at", stamp)
        object.__setattr__(obj, "updated_at", stamp)
    auto_key = cls._auto_key()
    if auto_key is not None and getattr(obj, auto_key) is None:
        object.__setattr__(obj, auto_key, await cls._reserve_keys(1))
    data = {
        c.name: getattr(obj, c.name)
        for c in meta.columns
        if not ((c.auto_increment or c.server_default) and getattr(obj, c.name) is None)
        and c.managed != "deleted_at"
    }
    if meta.soft_deletes and cls._document_store():
        data["deleted_at"] = None  # a document has every field, so rows read back do
    filled = scopes.fill(cls, data)
    if filled is not data:  # columns a scope names, left out: set from the scope
        for name, value in filled.items():
            if data.get(name) is None and name in cls.model_fields:
                setattr(obj, name, value)
        data = dict(filled)
    if cls._cipher is not None:
        from ..encryption.writes import insert_sealed

        result = await insert_sealed(cls, data)
    else:
        result = await cls._unscoped_table().insert(cls._stored(data))
    primary = meta.primary_key
    if isinstance(primary, str) and getattr(obj, primary) is None:
        object.__setattr__(obj, primary, result.id)
    left = [n for n in cls._server_filled if getattr(obj, n) is None]
    if left:
        await _read_server_defaults(obj, left)


async def _read_server_defaults(obj: Model, names: list[str]) -> None:
    """The values the database gave the fields left to their server defaults (one
    SELECT by the key, on the primary)."""
    cls = type(obj)
    columns = [Column[Any](cls._column(n)) for n in names]  # a name is never read as SQL
    query = cls._unscoped_table().select(*columns).where(cls._stored(obj._key_dict()))
    row = await query.options(use_replica=False).first()
    if row is None:
        return
    for column, name in cls._to_fields:
        if column in row:
            row[name] = row.pop(column)
    decoders = dict(cls._decoders)
    for name in names:
        decode = decoders.get(name)
        value = row.get(name)
        object.__setattr__(obj, name, value if decode is None else decode(value))


async def create_many(model: type[Model], values: Sequence[Mapping[str, Any]]) -> int:
    """Validate every row in one call, fill defaults and timestamps, insert them with
    one bulk statement (COPY on PostgreSQL); no events, no models built."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        raise TypeError("create_many() takes a list of rows")
    if not values:
        return 0
    model._check_writable("create_many")
    if scopes.of(model):
        values = [scopes.fill(model, row) for row in values]
    plan = rows.create_plan(model, _left_to_server(model, values))
    columns = plan.columns
    kinds = plan.kinds
    tail: tuple[Any, ...] = ()
    if model.__jadugar__.timestamps:
        stamp = timestamp_now()
        tail = (stamp, stamp)
        columns = (*columns, "created_at", "updated_at")
        kinds = (*kinds, *_STAMP_KINDS)
    checked = RowChunks(len(values), _checker(model, plan, values), kinds, tail)
    if model._cipher is not None:
        from ..encryption.writes import create_many_sealed

        await create_many_sealed(model, columns, checked.rows())
    elif model._document_store():
        columns, data = await _documents(model, columns, checked.rows())
        await model._unscoped_table().insert_many(data, columns=columns)
    else:  # checked as the insert goes: PostgreSQL's COPY streams the rows
        if model._to_columns:
            columns = tuple(model._column(name) for name in columns)
        await model._unscoped_table()._insert_rows(columns, checked)
    return len(values)


def _left_to_server(model: type[Model], values: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """The fields with a server default that no row of ``create_many`` gives: left out
    of the insert, so the database fills them. Given in some rows only: refused."""
    if not model._server_filled:
        return frozenset()
    left: set[str] = set()
    for name in model._server_filled:
        given = sum(1 for row in values if isinstance(row, Mapping) and row.get(name) is not None)
        if given == 0:
            left.add(name)
        elif given != len(values):
            raise ValidationError(
                f"invalid {model.__name__}: {name} has a server default, so create_many() "
                f"takes it in every row or in none ({given} of {len(values)} rows give it)",
                errors=[{"field": name, "message": "given in some rows only", "type": "missing"}],
            )
    return frozenset(left)


async def _documents(
    model: type[Model], columns: tuple[str, ...], data: list[tuple[Any, ...]]
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """``create_many`` rows for a document store: values encoded, and numbered from
    the counter when the key is auto-increment (one reservation for all rows)."""
    encoders = [model._encoders.get(name) for name in columns]
    if any(encoders):
        data = [
            tuple(
                v if enc is None or v is None else enc(v)
                for enc, v in zip(encoders, row, strict=True)
            )
            for row in data
        ]
    if model.__jadugar__.soft_deletes:  # every field in every document
        columns = (*columns, "deleted_at")
        data = [(*row, None) for row in data]
    key = model._auto_key()
    if key is not None:
        last = await model._reserve_keys(len(data))
        first = last - len(data) + 1
        data = [(first + i, *row) for i, row in enumerate(data)]
        columns = (key, *columns)
    return columns, data


def _checker(
    model: type[Model], plan: rows.RowPlan, values: Sequence[Mapping[str, Any]]
) -> Callable[[int, int], list[tuple[Any, ...]]]:
    """``create_many``'s rows start:stop checked, as value tuples. A bad row in a chunk
    has every row checked, so the error names each bad row by its own index."""

    def check(start: int, stop: int) -> list[tuple[Any, ...]]:
        whole = start == 0 and stop == len(values)
        part = values if whole else values[start:stop]
        with collector_paused(stop - start):
            try:
                return validated(model, plan, part)
            except ValidationError:
                if not whole:
                    validated(model, plan, values)
                raise

    return check
