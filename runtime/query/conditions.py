"""The where/join argument forms of SPEC 4, turned into expression nodes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import tree
from .expressions import SqlExpr
from .operators import OPERATORS
from .values import SCALAR_SET, check_scalar

if TYPE_CHECKING:
    from .builder import TableQueryBuilder

WhereArg = Any  # Mapping | Condition | str column | callable grouping; checked at run time


def _column(name: str | SqlExpr, what: str = "column") -> tree.Expr:
    if isinstance(name, SqlExpr):
        return name.node
    if not isinstance(name, str):
        raise TypeError(
            f"{what} must be a column name (str) or a column, got {type(name).__name__}"
        )
    return tree.ColumnRef(name)


def _equals(column: str, value: Any) -> tree.Expr:
    left = _column(column)
    if value is None:
        return tree.IsNull(left)
    if isinstance(value, list | tuple | set | frozenset):
        where = f"where {column!r} IN"
        return tree.InList(left, tuple(tree.Value(check_scalar(v, where)) for v in value))
    if type(value) not in SCALAR_SET:
        value = check_scalar(value, f"where {column!r}")
    return tree.Compare(left, "=", tree.Value(value))


def _operation(column: str | SqlExpr, op: str, value: Any) -> tree.Expr:
    if not isinstance(op, str) or op.lower() not in OPERATORS:
        raise ValueError(f"unknown operator {op!r}; use one of {', '.join(sorted(OPERATORS))}")
    op = op.lower()
    left = _column(column)
    where = f"where {column if isinstance(column, str) else 'expression'!r} {op}"
    if op in ("in", "not_in"):
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise TypeError(f"{where}: expected a list of values, got {type(value).__name__}")
        values = tuple(tree.Value(check_scalar(v, where)) for v in value)
        return tree.InList(left, values, negate=op == "not_in")
    if op in ("between", "not_between"):
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise TypeError(f"{where}: expected a (low, high) pair")
        low, high = (tree.Value(check_scalar(v, where)) for v in value)
        return tree.Between(left, low, high, negate=op == "not_between")
    if value is None and op in ("=", "!=", "<>"):
        return tree.IsNull(left, negate=op != "=")
    right = value.node if isinstance(value, SqlExpr) else tree.Value(check_scalar(value, where))
    return tree.Compare(left, op, right)


def condition_from(args: tuple[Any, ...], builder: TableQueryBuilder | None = None) -> tree.Expr:
    """The where forms of SPEC 4 turned into one expression node."""
    if len(args) == 1:
        arg = args[0]
        if type(arg) is dict and len(arg) == 1:  # where({"id": 5}): the hot case
            ((key, value),) = arg.items()
            if type(key) is str and type(value) in SCALAR_SET:
                return tree.Compare(tree.ColumnRef(key), "=", tree.Value(value))
        if isinstance(arg, SqlExpr):
            return arg.node
        if type(arg) is dict or isinstance(arg, Mapping):
            if not arg:
                raise ValueError("where() got an empty mapping")
            items = []
            for key, value in arg.items():
                if not isinstance(key, str):
                    raise TypeError(f"where() keys must be column names, got {type(key).__name__}")
                items.append(_equals(key, value))
            return items[0] if len(items) == 1 else tree.And(tuple(items))
        if callable(arg) and builder is not None:
            grouped = arg(builder._blank())
            if not isinstance(grouped, type(builder)) or grouped._where is None:
                raise TypeError("a where() group function must return the builder with conditions")
            return grouped._where
        raise TypeError(
            f"where() takes a mapping, a condition, (column, value) or (column, op, value); "
            f"got {type(arg).__name__}"
        )
    if len(args) == 2:
        column, value = args
        if isinstance(column, SqlExpr):
            return _operation(column, "=", value)
        return _equals(column, value)
    if len(args) == 3:
        return _operation(*args)
    raise TypeError(f"where() takes 1 to 3 arguments, got {len(args)}")


def _and(left: tree.Expr | None, right: tree.Expr) -> tree.Expr:
    if left is None:
        return right
    if isinstance(left, tree.And):
        return tree.And((*left.items, right))
    return tree.And((left, right))


def _or(left: tree.Expr | None, right: tree.Expr) -> tree.Expr:
    if left is None:
        return right
    if isinstance(left, tree.Or):
        return tree.Or((*left.items, right))
    return tree.Or((left, right))


_TABLE_REFS: dict[str, tree.TableRef] = {}  # TableRefs are immutable: one per name is enough


def _table_ref(name: str) -> tree.TableRef:
    ref = _TABLE_REFS.get(name) if type(name) is str else None
    if ref is not None:
        return ref
    if not isinstance(name, str):
        raise TypeError(f"table name must be a str, got {type(name).__name__}")
    parts = name.split()
    if len(parts) == 3 and parts[1].lower() == "as":
        ref = tree.TableRef(parts[0], parts[2])
    else:
        ref = tree.TableRef(name)
    if len(_TABLE_REFS) < 1024:
        _TABLE_REFS[name] = ref
    return ref


def _join_condition(args: tuple[Any, ...]) -> tree.Expr:
    if len(args) == 1:
        cond = args[0]
        if isinstance(cond, SqlExpr):
            return cond.node
        if isinstance(cond, Mapping):
            items = tuple(
                tree.Compare(_column(left), "=", _column(right)) for left, right in cond.items()
            )
            if not items:
                raise ValueError("join() got an empty mapping")
            return items[0] if len(items) == 1 else tree.And(items)
    elif len(args) == 2:
        return tree.Compare(_column(args[0]), "=", _column(args[1]))
    elif len(args) == 3:
        left, op, right = args
        if op not in ("=", "!=", "<>", "<", "<=", ">", ">="):
            raise ValueError(f"unknown join operator {op!r}")
        return tree.Compare(_column(left), op, _column(right))
    raise TypeError(
        "join() takes a mapping {'users.id': 'posts.user_id'}, a condition, "
        "(left, right) or (left, op, right)"
    )
