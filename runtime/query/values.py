"""Which Python values may be bound as parameters.

A comparison takes a scalar; a dict or an arbitrary object there is a ``TypeError``, never a
change to the statement (the class of bug behind the Knex and PyMySQL injection CVEs).
Inserted and updated values may also be ``dict``/``list`` (JSON columns).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import operator
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any, cast, overload


def naive_utc(value: datetime.datetime) -> datetime.datetime:
    """An aware datetime as the same instant in naive UTC: how a column without a time
    zone (MySQL DATETIME, PostgreSQL timestamp) holds it, and models read it back."""
    return value.astimezone(datetime.UTC).replace(tzinfo=None)


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

_SCALAR_SET = frozenset(SCALAR_TYPES) - {enum.Enum}
SCALAR_SET = _SCALAR_SET  # exact types bound as they are (enums and subclasses go the slow way)


def check_scalar(value: Any, where: str) -> Any:
    """Return ``value`` when it may be compared; raise ``TypeError`` naming ``where``."""
    if value is None or type(value) in _SCALAR_SET:
        return value
    if isinstance(value, SCALAR_TYPES):
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


_WRITABLE_TYPES = frozenset(t for t in SCALAR_TYPES if t is not enum.Enum) | {
    dict,
    list,
    type(None),
}


def rows_as_tuples(
    rows: Sequence[Mapping[str, Any]], columns: tuple[str, ...], *, lazy: bool = False
) -> Sequence[tuple[Any, ...]]:
    """Rows (mappings with exactly ``columns`` as keys) as value tuples. The common case
    (plain dicts) runs in C: one scan of the types, one of the sizes, then one
    ``itemgetter`` call per row (a missing key raises there).

    ``lazy``: plain dicts are only checked here (their keys, in one more scan) and read as
    tuples when the rows are used (``DictRows``): no copy of every row up front, which
    for a bulk load costs more than the check (the new tuples also wake the collector)."""
    width = len(columns)
    if set(map(type, rows)) != {dict} or set(map(len, rows)) != {width}:
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping) or len(row) != width:
                _bad_row(index, row, columns)
    elif lazy and width > 1 and set().union(*rows) == set(columns):
        # every row: a dict of `width` keys, all among the `width` columns: exactly them
        return DictRows(tuple(rows), columns)
    try:
        if width == 1:
            (only,) = columns
            return tuple([(row[only],) for row in rows])
        # a list first: tuple(map(...)) cannot size itself and regrows as it goes
        return tuple([*map(itemgetter(*columns), rows)])
    except KeyError:
        for index, row in enumerate(rows):
            if any(c not in row for c in columns):
                _bad_row(index, row, columns)
        raise


class DictRows(Sequence[tuple[Any, ...]]):
    """Dicts with exactly ``columns`` as keys (``rows_as_tuples`` checked), seen as the
    tuples of their values in ``columns`` order, each made as it is read."""

    __slots__ = ("_get", "_rows", "columns")

    def __init__(self, rows: tuple[Mapping[str, Any], ...], columns: tuple[str, ...]) -> None:
        if len(columns) < 2:
            raise ValueError("DictRows needs two columns or more")
        self._rows = rows
        self.columns = columns
        self._get: Callable[[Mapping[str, Any]], tuple[Any, ...]] = itemgetter(*columns)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> tuple[Any, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> DictRows: ...

    def __getitem__(self, index: int | slice) -> tuple[Any, ...] | DictRows:
        if isinstance(index, slice):
            return DictRows(self._rows[index], self.columns)
        return self._get(self._rows[index])

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return map(self._get, self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DictRows | tuple | list):
            return len(self) == len(other) and all(map(operator.eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DictRows({len(self)} rows of {', '.join(self.columns)})"


def sequences_as_tuples(
    rows: Sequence[Sequence[Any]], columns: tuple[str, ...]
) -> Sequence[tuple[Any, ...]]:
    """Rows given as sequences of values in ``columns`` order, each checked for width.
    Tuples are taken as they are (no copy of a row); lists become tuples."""
    width = len(columns)
    types = set(map(type, rows))
    if set(map(len, rows)) != {width} or not {tuple, list} >= types:
        for index, row in enumerate(rows):
            if isinstance(row, str | bytes | Mapping) or not isinstance(row, Sequence):
                raise TypeError(
                    f"insert_many() row {index} is a {type(row).__name__}; with columns= "
                    f"every row is a tuple or list of values"
                )
            if len(row) != width:
                raise ValueError(
                    f"insert_many() row {index} has {len(row)} values for the {width} "
                    f"columns ({', '.join(columns)})"
                )
    elif types == {tuple}:  # the bulk-load fast path: nothing to convert
        tuples = cast("Sequence[tuple[Any, ...]]", rows)
        return tuples if type(tuples) is tuple else tuple(tuples)
    return tuple([row if type(row) is tuple else tuple(row) for row in rows])


def checked_rows(
    values: Sequence[tuple[Any, ...]],
    columns: tuple[str, ...],
    encode_json: Callable[[Any], Any] | None = None,
) -> Sequence[tuple[Any, ...]]:
    """Every value checked as by ``check_writable`` (one scan of the value types, in C,
    for the common case) and dict/list values passed through ``encode_json`` when given."""
    types = set(map(type, chain.from_iterable(values)))
    if not types <= _WRITABLE_TYPES:  # rare: enums to convert, subclasses, a value to refuse
        values = tuple(
            tuple(check_writable(v, f"insert {c!r}") for c, v in zip(columns, row, strict=True))
            for row in values
        )
        types = set(map(type, chain.from_iterable(values)))
    if encode_json is not None and (dict in types or list in types):
        values = tuple(
            tuple(encode_json(v) if isinstance(v, dict | list) else v for v in row)
            for row in values
        )
    return values


def _bad_row(index: int, row: object, columns: tuple[str, ...]) -> None:
    shown = sorted(row) if isinstance(row, Mapping) else type(row).__name__
    raise ValueError(
        f"insert_many() row {index} has columns {shown}; every row needs the same columns "
        f"as row 0 ({', '.join(columns)})"
    )
