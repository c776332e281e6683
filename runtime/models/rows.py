"""Validators for many rows at once, built once per model class.

``create_many`` validates a whole list of ``<Model>Create`` dicts in one pydantic call (a
``TypeAdapter`` over a ``TypedDict`` made from the model's own fields, so the same
constraints apply, defaults filled in by pydantic-core) instead of building one model
instance per row; ``ModelQuery.update`` validates its values the same way.
"""

from __future__ import annotations

import datetime
import decimal
import types
import uuid
from dataclasses import dataclass
from operator import itemgetter
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Literal,
    NotRequired,
    Union,
    cast,
    get_args,
    get_origin,
)

import annotated_types
from pydantic import ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from ..query.row_chunks import ColumnKind
from .meta import ColumnMeta

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .base import Model

_FORBID = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class RowPlan:
    """How ``create_many`` turns validated dicts into value tuples."""

    validate_rows: TypeAdapter[list[dict[str, Any]]]
    columns: tuple[str, ...]  # the create columns, in schema order
    values: Callable[[dict[str, Any]], tuple[Any, ...]]  # one validated row -> its values
    already_valid: Callable[[Sequence[Any]], list[tuple[Any, ...]] | None] | None = None
    kinds: tuple[ColumnKind | None, ...] = ()  # each column's value type once validated


_plans: dict[tuple[type[Model], frozenset[str]], RowPlan] = {}
_updates: dict[type[Model], TypeAdapter[dict[str, Any]]] = {}


def _generated(column: ColumnMeta) -> bool:
    return (column.primary_key and column.auto_increment) or column.managed is not None


def _typed_dict(name: str, fields: dict[str, Any], total: bool) -> type:
    make: Any = TypedDict  # built at run time from the model's fields
    row: type = make(name, fields, total=total)
    row.__pydantic_config__ = _FORBID  # type: ignore[attr-defined]
    return row


def _annotated(annotation: Any, metadata: list[Any]) -> Any:
    return Annotated[annotation, *metadata] if metadata else annotation


def create_plan(model: type[Model], omit: frozenset[str] = frozenset()) -> RowPlan:
    """The plan of ``create_many`` rows; the fields in ``omit`` (server defaults no row
    gives) are validated but left out of the inserted columns."""
    plan = _plans.get((model, omit))
    if plan is not None:
        return plan
    fields: dict[str, Any] = {}
    columns: list[str] = []
    for column in model.__jadugar__.columns:
        if _generated(column):
            continue
        if column.name in omit:
            info = model.model_fields[column.name]
            optional: Any = info.annotation
            fields[column.name] = NotRequired[_annotated(optional | None, info.metadata)]
            continue
        info = model.model_fields[column.name]
        if info.is_required():
            fields[column.name] = _annotated(info.annotation, info.metadata)
        else:
            default = (
                Field(default_factory=info.default_factory)
                if info.default_factory is not None
                else Field(default=info.default)
            )
            fields[column.name] = NotRequired[
                _annotated(info.annotation, [*info.metadata, default])
            ]
        columns.append(column.name)
    row = _typed_dict(f"{model.__name__}CreateRow", fields, total=True)
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    if len(columns) == 1:
        one = columns[0]
        values = lambda r: (r[one],)  # noqa: E731
    else:
        values = itemgetter(*columns)
    many: Any = list[row]  # type: ignore[valid-type]
    checks = [_column_check(model.model_fields[name]) for name in columns]
    already_valid = (
        _all_valid(tuple(columns), cast("list[_ColumnCheck]", checks))
        if all(check is not None for check in checks)
        else None
    )
    kinds = tuple(_output_kind(model.model_fields[name].annotation) for name in columns)
    plan = RowPlan(TypeAdapter(many), tuple(columns), values, already_valid, kinds)
    _plans[(model, omit)] = plan
    return plan


def update_validator(model: type[Model]) -> TypeAdapter[dict[str, Any]]:
    adapter = _updates.get(model)
    if adapter is None:
        fields: dict[str, Any] = {}
        for column in model.__jadugar__.columns:
            if column.primary_key or column.managed is not None:
                continue
            info = model.model_fields[column.name]
            fields[column.name] = _annotated(info.annotation, info.metadata)
        row = _typed_dict(f"{model.__name__}UpdateRow", fields, total=False)
        adapter = _updates[model] = TypeAdapter(row)
    return adapter


# ---- rows that pydantic would return unchanged -----------------------------------------
# Lax validation of a value whose type is exactly the field's (an int for int, a str within
# its max_length, ...) returns that same value. When every row is a dict holding exactly the
# create columns and every value is such a value, create_many skips pydantic: a scan of the
# value types per column, in C. Anything else (a missing key, an int for a float, a
# subclass, a constraint not listed here) takes pydantic's path and its error messages.
_EXACT: dict[Any, type] = {
    int: int,
    float: float,
    str: str,
    bool: bool,
    bytes: bytes,
    datetime.date: datetime.date,
    datetime.datetime: datetime.datetime,
    datetime.time: datetime.time,
    uuid.UUID: uuid.UUID,
}
_NONE = type(None)


def _unwrapped(annotation: Any) -> tuple[Any, bool] | None:
    """``annotation`` without its ``| None``, and whether it had one; None for any other
    union."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return annotation, False
    members = get_args(annotation)
    rest = [m for m in members if m is not _NONE]
    return (rest[0], len(rest) < len(members)) if len(rest) == 1 else None


def _string_choices(annotation: Any) -> frozenset[str] | None:
    """The values of a Literal of strings, else None."""
    if get_origin(annotation) is not Literal:
        return None
    values = get_args(annotation)
    return frozenset(values) if all(type(v) is str for v in values) else None


def _output_kind(annotation: Any) -> ColumnKind | None:
    """The exact type pydantic returns for ``annotation`` (a plain type, a Literal of
    strings, either optional), or None when it is not that simple."""
    unwrapped = _unwrapped(annotation)
    if unwrapped is None:
        return None
    plain, nullable = unwrapped
    if _string_choices(plain) is not None:
        return ColumnKind(str, nullable)
    exact = _EXACT.get(plain) or (decimal.Decimal if plain is decimal.Decimal else None)
    return ColumnKind(exact, nullable) if exact is not None else None


@dataclass(frozen=True, slots=True)
class _ColumnCheck:
    allowed: frozenset[type]  # the exact value types (NoneType when nullable)
    choices: frozenset[Any] | None = None  # a Literal's values
    low: Any = None  # ge
    high: Any = None  # le
    max_length: int | None = None

    @property
    def plain(self) -> bool:
        return (
            self.choices is None
            and self.low is None
            and self.high is None
            and (self.max_length is None)
        )

    def passes(self, values: tuple[Any, ...]) -> bool:
        if not set(map(type, values)) <= self.allowed:
            return False
        if self.plain:
            return True
        present = [v for v in values if v is not None] if _NONE in self.allowed else values
        if not present:
            return True
        if self.choices is not None and not set(present) <= self.choices:
            return False
        if self.low is not None and min(present) < self.low:
            return False
        if self.high is not None and max(present) > self.high:
            return False
        return self.max_length is None or max(map(len, present)) <= self.max_length


def _column_check(info: Any) -> _ColumnCheck | None:
    unwrapped = _unwrapped(info.annotation)
    if unwrapped is None:
        return None
    annotation, nullable = unwrapped
    choices = _string_choices(annotation)
    exact = str if choices is not None else _EXACT.get(annotation)
    if exact is None:
        return None
    allowed = {exact, _NONE} if nullable else {exact}
    low = high = max_length = None
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Ge):
            low = constraint.ge
        elif isinstance(constraint, annotated_types.Le):
            high = constraint.le
        elif isinstance(constraint, annotated_types.MaxLen) and exact in (str, bytes):
            max_length = constraint.max_length
        else:
            return None
    return _ColumnCheck(frozenset(allowed), choices, low, high, max_length)


def _all_valid(
    columns: tuple[str, ...], checks: list[_ColumnCheck]
) -> Callable[[Sequence[Any]], list[tuple[Any, ...]] | None]:
    width = len(columns)
    get: Callable[[Any], Any] = itemgetter(*columns) if width > 1 else lambda r: (r[columns[0]],)

    def already_valid(rows: Sequence[Any]) -> list[tuple[Any, ...]] | None:
        if set(map(type, rows)) != {dict} or set(map(len, rows)) != {width}:
            return None
        try:
            tuples: list[tuple[Any, ...]] = list(map(get, rows))
        except KeyError:
            return None
        for check, values in zip(checks, zip(*tuples, strict=True), strict=True):
            if not check.passes(values):
                return None
        return tuples

    return already_valid
