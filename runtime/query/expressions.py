"""Typed column objects and SQL functions that build expression nodes.

age = Column[int]("age")
qb.table("users").where((age > 18) & age.is_not_null())
age > "x"   # mypy: unsupported operand type
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from . import tree
from .values import check_scalar

T = TypeVar("T")


class SqlExpr:
    """An expression usable in ``select``, ``where``, ``order_by`` and ``update`` values."""

    __slots__ = ("node",)

    def __init__(self, node: tree.Expr) -> None:
        self.node = node

    def as_(self, name: str) -> SqlExpr:
        return SqlExpr(tree.Alias(self.node, name))

    def __repr__(self) -> str:
        return f"SqlExpr({self.node!r})"


class Condition(SqlExpr):
    """A boolean expression; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def __and__(self, other: Condition) -> Condition:
        return Condition(tree.And((self.node, _condition(other).node)))

    def __or__(self, other: Condition) -> Condition:
        return Condition(tree.Or((self.node, _condition(other).node)))

    def __invert__(self) -> Condition:
        return Condition(tree.Not(self.node))

    def __bool__(self) -> bool:
        raise TypeError(
            "a column comparison is a SQL condition, not a bool: combine conditions with "
            "& | ~ instead of and/or/not"
        )


def _condition(value: object) -> Condition:
    if isinstance(value, Condition):
        return value
    raise TypeError(f"expected a Condition, got {type(value).__name__}")


def _operand(value: object, where: str) -> tree.Expr:
    if isinstance(value, SqlExpr):
        return value.node
    return tree.Value(check_scalar(value, where))


class Column(SqlExpr, Generic[T]):
    """A column holding values of type ``T``; operators build typed conditions."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        super().__init__(tree.ColumnRef(name))
        self.name = name

    def _cmp(self, op: str, other: object) -> Condition:
        if other is None and op in ("=", "!="):
            return Condition(tree.IsNull(self.node, negate=op == "!="))
        return Condition(tree.Compare(self.node, op, _operand(other, f"column {self.name!r}")))

    def __eq__(self, other: T | Column[T] | None) -> Condition:  # type: ignore[override]
        return self._cmp("=", other)

    def __ne__(self, other: T | Column[T] | None) -> Condition:  # type: ignore[override]
        return self._cmp("!=", other)

    def __lt__(self, other: T | Column[T]) -> Condition:
        return self._cmp("<", other)

    def __le__(self, other: T | Column[T]) -> Condition:
        return self._cmp("<=", other)

    def __gt__(self, other: T | Column[T]) -> Condition:
        return self._cmp(">", other)

    def __ge__(self, other: T | Column[T]) -> Condition:
        return self._cmp(">=", other)

    __hash__ = SqlExpr.__hash__

    def like(self, pattern: str) -> Condition:
        return self._cmp("like", pattern)

    def ilike(self, pattern: str) -> Condition:
        return self._cmp("ilike", pattern)

    def _list(self, values: Iterable[T]) -> tuple[tree.Expr, ...]:
        where = f"column {self.name!r} IN"
        if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
            raise TypeError(f"{where}: expected a list of values, got {type(values).__name__}")
        return tuple(_operand(v, where) for v in values)

    def in_(self, values: Iterable[T]) -> Condition:
        return Condition(tree.InList(self.node, self._list(values)))

    def not_in(self, values: Iterable[T]) -> Condition:
        return Condition(tree.InList(self.node, self._list(values), negate=True))

    def is_null(self) -> Condition:
        return Condition(tree.IsNull(self.node))

    def is_not_null(self) -> Condition:
        return Condition(tree.IsNull(self.node, negate=True))

    def between(self, low: T, high: T) -> Condition:
        where = f"column {self.name!r}"
        return Condition(tree.Between(self.node, _operand(low, where), _operand(high, where)))

    def asc(self) -> tree.Order:
        return tree.Order(self.node)

    def desc(self) -> tree.Order:
        return tree.Order(self.node, descending=True)


def _arg(value: str | SqlExpr) -> tree.Expr:
    return tree.ColumnRef(value) if isinstance(value, str) else value.node


class Functions:
    """Portable SQL functions: ``qb.fn.now()``, ``fn.count()``, ``fn.sum("total").as_("t")``."""

    def now(self) -> SqlExpr:
        return SqlExpr(tree.Func("now"))

    def count(self, column: str | SqlExpr = "*", *, distinct: bool = False) -> SqlExpr:
        return SqlExpr(tree.Func("count", (_arg(column),), distinct))

    def sum(self, column: str | SqlExpr) -> SqlExpr:
        return SqlExpr(tree.Func("sum", (_arg(column),)))

    def avg(self, column: str | SqlExpr) -> SqlExpr:
        return SqlExpr(tree.Func("avg", (_arg(column),)))

    def min(self, column: str | SqlExpr) -> SqlExpr:
        return SqlExpr(tree.Func("min", (_arg(column),)))

    def max(self, column: str | SqlExpr) -> SqlExpr:
        return SqlExpr(tree.Func("max", (_arg(column),)))

    def lower(self, column: str | SqlExpr) -> SqlExpr:
        return SqlExpr(tree.Func("lower", (_arg(column),)))

    def upper(self, column: str | SqlExpr) -> SqlExpr:
        return SqlExpr(tree.Func("upper", (_arg(column),)))

    def coalesce(self, *args: str | SqlExpr | Any) -> SqlExpr:
        nodes = tuple(
            _arg(a) if isinstance(a, str | SqlExpr) else tree.Value(check_scalar(a, "coalesce"))
            for a in args
        )
        return SqlExpr(tree.Func("coalesce", nodes))

    def raw(self, sql: str, *params: Any) -> SqlExpr:
        return SqlExpr(tree.RawExpr(sql, tuple(check_scalar(p, "raw") for p in params)))


fn = Functions()
