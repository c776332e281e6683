"""Frozen query nodes: the only vocabulary between builders and compilers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Node:
    __slots__ = ()


class Expr(Node):
    """Anything that compiles to a SQL expression."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ColumnRef(Expr):
    name: str  # "col", "table.col", "*" or "table.*"


@dataclass(frozen=True, slots=True)
class Value(Expr):
    value: Any


@dataclass(frozen=True, slots=True)
class RawExpr(Expr):
    sql: str  # placeholders "?" or "$n", converted by the compiler
    params: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    left: Expr
    op: str  # = != < <= > >= like ilike not_like
    right: Expr


@dataclass(frozen=True, slots=True)
class InList(Expr):
    left: Expr
    values: tuple[Expr, ...]
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Between(Expr):
    left: Expr
    low: Expr
    high: Expr
    negate: bool = False


@dataclass(frozen=True, slots=True)
class IsNull(Expr):
    operand: Expr
    negate: bool = False


@dataclass(frozen=True, slots=True)
class And(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not(Expr):
    item: Expr


@dataclass(frozen=True, slots=True)
class Func(Expr):
    name: str  # count sum avg min max now lower upper coalesce
    args: tuple[Expr, ...] = ()
    distinct: bool = False


@dataclass(frozen=True, slots=True)
class Alias(Expr):
    expr: Expr
    name: str


@dataclass(frozen=True, slots=True)
class TableRef(Node):
    name: str
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class Subquery(Node):
    select: Select
    alias: str


@dataclass(frozen=True, slots=True)
class Join(Node):
    kind: str  # inner left right
    table: TableRef
    on: Expr


@dataclass(frozen=True, slots=True)
class Order(Node):
    expr: Expr
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Select(Node):
    table: TableRef | Subquery
    columns: tuple[Expr, ...] = ()
    where: Expr | None = None
    joins: tuple[Join, ...] = ()
    group_by: tuple[Expr, ...] = ()
    having: Expr | None = None
    order_by: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int | None = None
    distinct: bool = False


@dataclass(frozen=True, slots=True)
class OnConflict(Node):
    columns: tuple[str, ...]
    update: tuple[str, ...]  # empty: do nothing


@dataclass(frozen=True, slots=True)
class Insert(Node):
    table: TableRef
    columns: tuple[str, ...]
    rows: tuple[tuple[Expr, ...], ...]
    returning: tuple[str, ...] = ()
    on_conflict: OnConflict | None = None


@dataclass(frozen=True, slots=True)
class Update(Node):
    table: TableRef
    assignments: tuple[tuple[str, Expr], ...]
    where: Expr | None = None
    returning: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delete(Node):
    table: TableRef
    where: Expr | None = None
    returning: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Raw(Node):
    sql: str
    params: tuple[Any, ...] = ()


EXPRESSION_NODES: tuple[type[Expr], ...] = (
    ColumnRef,
    Value,
    RawExpr,
    Compare,
    InList,
    Between,
    IsNull,
    And,
    Or,
    Not,
    Func,
    Alias,
)
STATEMENT_NODES: tuple[type[Node], ...] = (Select, Insert, Update, Delete, Raw)
