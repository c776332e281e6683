"""The typed ``where(column, value)`` / ``where(column, op, value)`` overloads of a generated
query class, computed here so the template only prints them.

Each column takes the operator groups of ``jadugar.query.operators`` that make sense for
its type, with a value of that type; columns that take the same (operator group, value
type) share one overload, so a model has a few overloads per value type, not per column:

    def where(self, column: Literal["id", "login_count"], op: ComparisonOp, value: int, /)
    def where(self, column: Literal["name", "email"], op: PatternOp, value: str, /)
    def where(self, column: Literal["birthday", "deleted_at"], op: EqualityOp, value: None, /)
"""

from __future__ import annotations

from collections.abc import Iterable

from .schema.model import FieldSpec

ORDERED = frozenset(
    ["smallint", "int", "bigint", "float", "decimal", "str", "text", "date", "time", "datetime"]
)  # <, <=, >, >= and between mean the same on every engine
TEXT = frozenset(["str", "text"])  # like / ilike
UNFILTERED = frozenset(["json", "embedded"])  # no string-form where: a document is no scalar

OPERATOR_ALIASES = ("ComparisonOp", "EqualityOp", "MembershipOp", "PatternOp", "RangeOp")


def _column_forms(spec: FieldSpec, annotation: str, value: str) -> list[tuple[str | None, str]]:
    """(operator group or None for ``(column, value)``, value annotation) of one column.
    ``annotation`` includes ``| None``; ``value`` is the column type without it."""
    comparable = spec.type in ORDERED and not spec.encrypted  # a blind index: equality only
    forms: list[tuple[str | None, str]] = [(None, annotation)]
    forms.append(("ComparisonOp" if comparable else "EqualityOp", value))
    if spec.nullable:
        forms.append(("EqualityOp", "None"))
    if spec.type in TEXT and not spec.encrypted:
        forms.append(("PatternOp", "str"))
    forms.append(("MembershipOp", f"Iterable[{value}]"))
    if comparable:
        forms.append(("RangeOp", f"tuple[{value}, {value}] | list[{value}]"))
    return forms


def where_overloads(columns: Iterable[tuple[FieldSpec, str, str]]) -> tuple[str, ...]:
    """The parameter lists (after ``self``) of the ``where`` overloads for ``columns``:
    (spec, annotation with ``| None``, column type) of each field the query may filter on
    (``in_where``), in schema order; overloads in the order their first column comes."""
    grouped: dict[tuple[str | None, str], list[str]] = {}
    for spec, annotation, value in columns:
        if spec.type in UNFILTERED:
            continue
        for form in _column_forms(spec, annotation, value):
            grouped.setdefault(form, []).append(spec.name)
    overloads = []
    # (column, value) first, then (column, op, value); each in the order columns come
    for (op, value), names in sorted(grouped.items(), key=lambda item: item[0][0] is not None):
        column = "Literal[" + ", ".join(f'"{n}"' for n in names) + "]"
        operator = "" if op is None else f"op: {op}, "
        overloads.append(f"column: {column}, {operator}value: {value}, /")
    return tuple(overloads)


def operator_aliases(overloads: Iterable[str]) -> list[str]:
    """The ``jadugar.models`` operator aliases these overloads use (to import)."""
    text = " ".join(overloads)
    return [alias for alias in OPERATOR_ALIASES if f"op: {alias}," in text]
