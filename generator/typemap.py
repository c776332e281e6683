"""Schema types -> Python annotations, the imports they need, and Pydantic constraints."""

from __future__ import annotations

from dataclasses import dataclass

from .schema.model import FieldSpec


@dataclass(frozen=True)
class PyType:
    annotation: str
    imports: tuple[str, ...] = ()  # "import x" lines
    constraints: tuple[tuple[str, object], ...] = ()


_INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}

OBJECTID_PATTERN = "^[0-9a-f]{24}$"

_SIMPLE: dict[str, PyType] = {
    "float": PyType("float"),
    "str": PyType("str"),
    "text": PyType("str"),
    "bool": PyType("bool"),
    "date": PyType("datetime.date", ("import datetime",)),
    "time": PyType("datetime.time", ("import datetime",)),
    "datetime": PyType("datetime.datetime", ("import datetime",)),
    "uuid": PyType("uuid.UUID", ("import uuid",)),
    "json": PyType("JsonValue", ("from pydantic import JsonValue",)),
    "bytes": PyType("bytes"),
}


def python_type(field: FieldSpec, enum_alias: str) -> PyType:
    """The annotation of ``field`` (without ``| None``); enums use ``enum_alias``."""
    if field.type in _INT_RANGES:
        low, high = _INT_RANGES[field.type]
        return PyType("int", (), (("ge", low), ("le", high)))
    if field.type == "decimal":
        return PyType(
            "Decimal",
            ("from decimal import Decimal",),
            (("max_digits", field.precision), ("decimal_places", field.scale)),
        )
    if field.type == "enum":
        return PyType(enum_alias)
    if field.type == "embedded":  # the generated embedded model is named like an enum alias
        return PyType(f"list[{enum_alias}]" if field.many else enum_alias)
    if field.type == "objectid":  # 24 hex digits: how the runtime hands out ObjectIds
        return PyType("str", (), () if field.primary_key else (("pattern", OBJECTID_PATTERN),))
    base = _SIMPLE[field.type]
    if field.max_length is not None:
        return PyType(base.annotation, base.imports, (("max_length", field.max_length),))
    return base


def default_literal(field: FieldSpec) -> str:
    """The default as Python source (decimal defaults become ``Decimal("…")``)."""
    value = field.default
    if value is None:
        return "None"
    if field.type == "decimal":
        text = str(value)
        return f"Decimal({text})" if text.lstrip("-").isdigit() else f'Decimal("{text}")'
    if field.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        return repr(float(value))
    return repr(value)
