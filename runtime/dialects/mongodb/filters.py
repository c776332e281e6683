"""Where trees → MongoDB filter documents, and expression nodes → aggregation expressions.

Pure: no driver import. The rules that keep user data from becoming query syntax (the
NoSQL-injection analogue of bound parameters):

- only *field names* can be operators in a filter, so every name is checked: a name (or a
  dotted segment) starting with ``$``, empty segments and NUL bytes are refused;
- a value in a filter is data: a ``str`` starting with ``$`` is a literal there. Values that
  MongoDB *would* read as syntax are wrapped: a ``dict`` (an operator document) or any other
  non-plain value under ``=`` becomes ``{"$eq": value}``; regular-expression objects are
  refused (``$in`` would run them as patterns);
- in aggregation expressions (``$expr``, ``$project``, ``$group``) a ``str`` starting with
  ``$`` *is* a field path, so every value there is ``{"$literal": value}``;
- LIKE patterns are translated piece by piece: ``%`` → ``.*``, ``_`` → ``.``, ``\\`` escapes
  the next character (as PostgreSQL and MySQL do), everything else ``re.escape``\\d.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_args

from ...errors import UnsupportedOperation
from ...query import tree
from ...query.operators import PatternOp
from .ops import Document

DIALECT = "mongodb"

_COMPARE = {
    "=": "$eq",
    "!=": "$ne",
    "<>": "$ne",
    "<": "$lt",
    "<=": "$lte",
    ">": "$gt",
    ">=": "$gte",
}
_FLIPPED = {"=": "=", "!=": "!=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_LIKE = frozenset(get_args(PatternOp))
_AGGREGATES = frozenset(["count", "sum", "avg", "min", "max"])
# values that mean only themselves at the top of a filter ({field: value})
_PLAIN_TYPES: frozenset[type] = frozenset(
    [str, int, float, bool, type(None), decimal.Decimal, datetime.datetime, datetime.date,
     datetime.time, datetime.timedelta, uuid.UUID, bytes]
)  # fmt: skip
_NOTHING: Document = {"_id": {"$in": []}}  # a filter no document matches


@dataclass(frozen=True)
class Scope:
    """What names mean in one part of a query: the collection names a ``table.column``
    prefix may carry, and output aliases (after a ``$project``/``$group``)."""

    tables: frozenset[str] = frozenset()
    aliases: Mapping[str, str] = field(default_factory=dict)


def like_to_regex(pattern: str) -> str:
    """An anchored regular expression matching what SQL ``LIKE pattern`` matches.

    Used with ``$options: "s"`` (``.`` matches newlines too); the end anchor is ``(?!.)``,
    not ``$`` (which would also match before a final newline, in PCRE and in Python).
    """
    if not isinstance(pattern, str):
        raise TypeError(f"a LIKE pattern must be a str, got {type(pattern).__name__}")
    out = ["^"]
    literal: list[str] = []

    def flush() -> None:
        if literal:
            out.append(re.escape("".join(literal)).replace("\x00", "\\x00"))
            literal.clear()

    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            literal.append(next(chars, "\\"))  # a trailing backslash is itself
        elif char == "%":
            flush()
            if out[-1] != ".*":  # %% is %
                out.append(".*")
        elif char == "_":
            flush()
            out.append(".")
        else:
            literal.append(char)
    flush()
    out.append("(?!.)")
    return "".join(out)


def _is_regex(value: Any) -> bool:
    kind = type(value)
    return isinstance(value, re.Pattern) or (
        kind.__name__ == "Regex" and kind.__module__.startswith("bson")
    )


def literal(value: Any) -> Any:
    """``value`` checked for use inside a filter operator (``$in``, ``$lt``, …)."""
    if _is_regex(value):
        raise TypeError("a regular expression cannot be a filter value; use like()")
    return value


class FilterCompiler:
    """``tree.Expr`` → filter document; names mapped (``key_field`` is stored as ``_id``)
    and checked, values kept as data."""

    def __init__(
        self, key_field: str | None = "id", encode_key: Callable[[Any], Any] | None = None
    ) -> None:
        self.key_field = key_field
        self.encode_key = encode_key

    # ---- names ---------------------------------------------------------------------------
    def field(self, name: str, scope: Scope) -> str:
        """The stored field name for a model column name (``id`` → ``_id``)."""
        alias = scope.aliases.get(name)
        if alias is not None:
            return alias
        if not isinstance(name, str):
            raise TypeError(f"a field name must be a str, got {type(name).__name__}")
        head, dot, rest = name.partition(".")
        if dot and head in scope.tables:
            name = rest
        check_field(name)
        key = self.key_field
        if key is not None and (name == key or name.startswith(key + ".")):
            return "_id" + name[len(key) :]
        return name

    def _value(self, stored: str, value: Any) -> Any:
        if stored == "_id" and self.encode_key is not None and value is not None:
            return self.encode_key(value)
        return value

    # ---- filters -------------------------------------------------------------------------
    def filter(self, node: tree.Expr | None, scope: Scope) -> Document:
        if node is None:
            return {}
        if isinstance(node, tree.Compare):
            return self._compare(node, scope)
        if isinstance(node, tree.And):
            return merge_and([self.filter(item, scope) for item in node.items])
        if isinstance(node, tree.Or):
            if not node.items:
                return dict(_NOTHING)
            if len(node.items) == 1:
                return self.filter(node.items[0], scope)
            return {"$or": [self.filter(item, scope) for item in node.items]}
        if isinstance(node, tree.Not):
            return {"$nor": [self.filter(node.item, scope)]}
        if isinstance(node, tree.IsNull) and isinstance(node.operand, tree.ColumnRef):
            name = self.field(node.operand.name, scope)
            return {name: {"$ne": None}} if node.negate else {name: None}
        if isinstance(node, tree.InList) and isinstance(node.left, tree.ColumnRef):
            values = _values(node.values)
            if values is not None:
                name = self.field(node.left.name, scope)
                checked = [literal(self._value(name, v)) for v in values]
                return {name: {"$nin" if node.negate else "$in": checked}}
        if (
            isinstance(node, tree.Between)
            and isinstance(node.left, tree.ColumnRef)
            and isinstance(node.low, tree.Value)
            and isinstance(node.high, tree.Value)
        ):
            name = self.field(node.left.name, scope)
            low = literal(self._value(name, node.low.value))
            high = literal(self._value(name, node.high.value))
            if node.negate:  # as SQL: a missing or null field is in neither branch
                return {"$or": [{name: {"$lt": low}}, {name: {"$gt": high}}]}
            return {name: {"$gte": low, "$lte": high}}
        if isinstance(node, tree.RawExpr):
            raise _raw_sql()
        return {"$expr": self.expr(node, scope)}

    def _compare(self, node: tree.Compare, scope: Scope) -> Document:
        left, op, right = node.left, node.op, node.right
        if type(left) is tree.Value and isinstance(right, tree.ColumnRef) and op in _FLIPPED:
            left, op, right = right, _FLIPPED[op], left
        if not isinstance(left, tree.ColumnRef) or type(right) is not tree.Value:
            return {"$expr": self.expr(node, scope)}  # column vs column, functions
        assert isinstance(right, tree.Value)
        name = self.field(left.name, scope)
        if op in _LIKE:
            regex = {"$regex": like_to_regex(right.value), "$options": _like_options(op)}
            # NOT LIKE: $nor, not {"$not": {"$regex", "$options"}} (refused by mongomock)
            return {"$nor": [{name: regex}]} if op.startswith("not_") else {name: regex}
        mongo_op = _COMPARE.get(op)
        if mongo_op is None:
            raise ValueError(f"unknown operator {op!r}")
        value = literal(self._value(name, right.value))
        if mongo_op == "$eq" and type(value) in _PLAIN_TYPES:
            return {name: value}
        return {name: {mongo_op: value}}  # {"$eq": {...}}: a dict value is data, not operators

    # ---- aggregation expressions ---------------------------------------------------------
    def expr(self, node: tree.Expr, scope: Scope) -> Any:
        """An aggregation expression (for ``$expr``, ``$project``, ``$group``)."""
        if isinstance(node, tree.ColumnRef):
            if node.name == "*" or node.name.endswith(".*"):
                raise ValueError("'*' is not a value")
            return "$" + self.field(node.name, scope)
        if isinstance(node, tree.Value):
            return {"$literal": node.value}
        if isinstance(node, tree.Compare):
            return self._expr_compare(node, scope)
        if isinstance(node, tree.And):
            return {"$and": [self.expr(i, scope) for i in node.items]}
        if isinstance(node, tree.Or):
            return {"$or": [self.expr(i, scope) for i in node.items]}
        if isinstance(node, tree.Not):
            return {"$not": [self.expr(node.item, scope)]}
        if isinstance(node, tree.IsNull):
            test = {"$eq": [{"$ifNull": [self.expr(node.operand, scope), None]}, None]}
            return {"$not": [test]} if node.negate else test
        if isinstance(node, tree.InList):
            values = _values(node.values)
            if values is None:
                raise UnsupportedOperation("IN over expressions", DIALECT)
            checked = [literal(v) for v in values]
            test = {"$in": [self.expr(node.left, scope), {"$literal": checked}]}
            return {"$not": [test]} if node.negate else test
        if isinstance(node, tree.Between):
            operand = self.expr(node.left, scope)
            test = {
                "$and": [
                    {"$gte": [operand, self.expr(node.low, scope)]},
                    {"$lte": [operand, self.expr(node.high, scope)]},
                ]
            }
            return {"$not": [test]} if node.negate else test
        if isinstance(node, tree.Func):
            return self._expr_func(node, scope)
        if isinstance(node, tree.RawExpr):
            raise _raw_sql()
        if isinstance(node, tree.Alias):
            raise UnsupportedOperation("an alias inside an expression", DIALECT)
        raise TypeError(f"MongoCompiler cannot compile {type(node).__name__}")

    def _expr_compare(self, node: tree.Compare, scope: Scope) -> Any:
        left = self.expr(node.left, scope)
        if node.op in _LIKE:
            if type(node.right) is not tree.Value:
                raise UnsupportedOperation("LIKE with a pattern that is not a value", DIALECT)
            assert isinstance(node.right, tree.Value)
            test = {
                "$regexMatch": {
                    "input": left,
                    "regex": like_to_regex(node.right.value),
                    "options": _like_options(node.op),
                }
            }
            return {"$not": [test]} if node.op.startswith("not_") else test
        op = _COMPARE.get(node.op)
        if op is None:
            raise ValueError(f"unknown operator {node.op!r}")
        return {op: [left, self.expr(node.right, scope)]}

    def _expr_func(self, node: tree.Func, scope: Scope) -> Any:
        args = [self.expr(a, scope) for a in node.args]
        if node.name == "now" and not args:
            return "$$NOW"
        if node.name == "lower" and len(args) == 1:
            return {"$toLower": args[0]}
        if node.name == "upper" and len(args) == 1:
            return {"$toUpper": args[0]}
        if node.name == "coalesce" and len(args) >= 2:
            return {"$ifNull": args}  # more than two arguments: MongoDB 5.0+
        if node.name in _AGGREGATES:
            raise UnsupportedOperation(
                f"{node.name}() outside select/having of a grouped query", DIALECT
            )
        raise ValueError(f"unknown function {node.name!r} with {len(args)} argument(s)")


def _values(nodes: tuple[tree.Expr, ...]) -> list[Any] | None:
    """The values of an IN list, or None when one of them is not a plain value."""
    values = []
    for node in nodes:
        if not isinstance(node, tree.Value):
            return None
        values.append(node.value)
    return values


def _raw_sql() -> UnsupportedOperation:
    return UnsupportedOperation(
        "where_raw / fn.raw (raw SQL)", DIALECT, "SQL text has no meaning on MongoDB"
    )


def _like_options(op: str) -> str:
    return "is" if op in ("ilike", "not_ilike") else "s"


def check_field(name: str) -> None:
    """Refuse names MongoDB would read as syntax: ``$`` at a segment start (an operator,
    ``$where`` …), empty segments (``a..b``) and NUL bytes."""
    if not name or "\x00" in name:
        raise ValueError(f"invalid field name {name!r}: empty or contains a NUL byte")
    for part in name.split("."):
        if not part or part[0] == "$":
            raise ValueError(
                f"invalid field name {name!r}: a name (or a dotted part) must not be empty "
                f"or start with '$' (MongoDB would read it as an operator)"
            )


def merge_and(filters: list[Document]) -> Document:
    """``$and`` of filters: one dict when their keys do not collide, else ``{"$and": […]}``."""
    filters = [f for f in filters if f]
    if not filters:
        return {}
    if len(filters) == 1:
        return filters[0]
    merged: Document = {}
    for part in filters:
        for name, value in part.items():
            known: Any = merged.get(name)
            if name not in merged:
                merged[name] = value
            elif _operators(known) and _operators(value) and not set(known) & set(value):
                merged[name] = known | value  # {"a": {"$gt": 1}} & {"a": {"$lt": 5}}
            else:
                flat: list[Document] = []
                for f in filters:
                    flat.extend(f["$and"] if f.keys() == {"$and"} else [f])
                return {"$and": flat}
    return merged


def _operators(value: Any) -> bool:
    """An operator document ({"$gt": 1, …}): at field level every dict this module builds is
    one (dict *values* are wrapped in ``$eq``)."""
    return isinstance(value, dict) and bool(value) and all(k.startswith("$") for k in value)


def replace_funcs(node: tree.Expr, field_of: Callable[[tree.Func], str]) -> tree.Expr:
    """``node`` with each aggregate ``Func`` replaced by a reference to the field
    ``field_of`` gives it (HAVING conditions over a ``$group``'s results)."""
    if isinstance(node, tree.Func) and node.name in _AGGREGATES:
        return tree.ColumnRef(field_of(node))
    if isinstance(node, tree.Compare):
        return tree.Compare(
            replace_funcs(node.left, field_of), node.op, replace_funcs(node.right, field_of)
        )
    if isinstance(node, tree.And):
        return tree.And(tuple(replace_funcs(i, field_of) for i in node.items))
    if isinstance(node, tree.Or):
        return tree.Or(tuple(replace_funcs(i, field_of) for i in node.items))
    if isinstance(node, tree.Not):
        return tree.Not(replace_funcs(node.item, field_of))
    if isinstance(node, tree.IsNull):
        return tree.IsNull(replace_funcs(node.operand, field_of), node.negate)
    if isinstance(node, tree.InList):
        return tree.InList(replace_funcs(node.left, field_of), node.values, node.negate)
    if isinstance(node, tree.Between):
        return tree.Between(replace_funcs(node.left, field_of), node.low, node.high, node.negate)
    return node
