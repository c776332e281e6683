"""Validators for many rows at once, built once per model class.

``create_many`` validates a whole list of ``<Model>Create`` dicts in one pydantic call (a
``TypeAdapter`` over a ``TypedDict`` made from the model's own fields, so the same
constraints apply, defaults filled in by pydantic-core) instead of building one model
instance per row; ``ModelQuery.update`` validates its values the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Annotated, Any, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from .meta import ColumnMeta

if TYPE_CHECKING:
    from collections.abc import Callable

    from .base import Model

_FORBID = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class RowPlan:
    """How ``create_many`` turns validated dicts into value tuples."""

    validate_rows: TypeAdapter[list[dict[str, Any]]]
    columns: tuple[str, ...]  # the create columns, in schema order
    values: Callable[[dict[str, Any]], tuple[Any, ...]]  # one validated row -> its values


_plans: dict[type[Model], RowPlan] = {}
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


def create_plan(model: type[Model]) -> RowPlan:
    plan = _plans.get(model)
    if plan is not None:
        return plan
    fields: dict[str, Any] = {}
    columns: list[str] = []
    for column in model.__jadugar__.columns:
        if _generated(column):
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
    plan = RowPlan(TypeAdapter(many), tuple(columns), values)
    _plans[model] = plan
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
