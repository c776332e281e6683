"""Validating many rows for ``create_many``, and pydantic's errors as Jadugar's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pydantic

from ..errors import ValidationError
from .rows import RowPlan

if TYPE_CHECKING:
    from .base import Model


def validated(
    model: type[Model], plan: RowPlan, values: Sequence[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows' values in ``plan.columns`` order, or ``ValidationError`` naming each bad
    field as ``<row index>.<field>``."""
    data = plan.already_valid(values) if plan.already_valid is not None else None
    if data is not None:
        return data
    try:
        checked = plan.validate_rows.validate_python(values)
    except pydantic.ValidationError as exc:
        raise validation_error(model.__name__, exc) from None
    return list(map(plan.values, checked))


def validation_error(model: str, exc: pydantic.ValidationError) -> ValidationError:
    errors: list[dict[str, object]] = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return ValidationError(f"invalid {model}: {listed}", errors=errors)
