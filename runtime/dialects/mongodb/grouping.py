"""Grouped reads for ``MongoCompiler``: ``group_by`` / ``having`` / aggregates in
``select()`` and ``distinct`` over columns -> ``$group`` pipeline stages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import UnsupportedOperation
from ...query import tree
from .filters import DIALECT, FilterCompiler, Scope, replace_funcs
from .ops import Document

AGGREGATE_FIELD = "aggregate"  # the field holding sum/avg/min/max/count in a result document
AGGREGATES = frozenset(["count", "sum", "avg", "min", "max"])


class Grouping:
    """``$group`` stages and accumulators, naming fields through ``filters``."""

    def __init__(self, filters: FilterCompiler) -> None:
        self.filters = filters

    def output(self, alias: str) -> str:
        """The stored name of an output column named ``alias``."""
        if "." in alias:
            raise ValueError(f"invalid alias {alias!r}: no dots in an output name")
        return self.filters.field(alias, Scope())

    def stages(
        self,
        scope: Scope,
        columns: tuple[tree.Expr, ...],
        group_by: tuple[tree.Expr, ...],
        having: tree.Expr | None,
        order_by: tuple[tree.Order, ...],
        distinct: bool,
    ) -> list[Document]:
        """``$group`` (keys ``_id.k0``…, accumulators ``a0``…), ``$addFields`` finishing
        distinct accumulators, ``$match`` (having), ``$sort``, then ``$project`` to the
        output names. (``$skip``/``$limit`` come after, from the caller.)"""
        aggregates = any(map(is_aggregate, columns))
        if distinct and group_by and not aggregates:
            raise UnsupportedOperation("distinct() with group_by()", DIALECT)
        if distinct and not group_by and not aggregates:
            group_by = tuple(c.expr if isinstance(c, tree.Alias) else c for c in columns)
        keys: dict[str, str] = {}  # stored field → "_id.k<i>"
        group_id: Document = {}
        for expr in group_by:
            if not isinstance(expr, tree.ColumnRef) or star_column(expr, scope):
                raise UnsupportedOperation("group_by() on an expression", DIALECT)
            stored = self.filters.field(expr.name, scope)
            if stored not in keys:
                keys[stored] = f"_id.k{len(keys)}"
                group_id[f"k{len(keys) - 1}"] = "$" + stored
        group: Document = {"_id": group_id or None}
        finishing: Document = {}
        accumulated: list[tuple[tree.Func, str]] = []

        def accumulate(func: tree.Func) -> str:
            for known, name in accumulated:
                if known == func:
                    return name
            name = f"a{len(accumulated)}"
            accumulator, finish = self.accumulator(func, scope)
            group[name] = accumulator
            if finish is not None:
                finishing[name] = finish(name)
            accumulated.append((func, name))
            return name

        names: dict[str, str] = {}  # a name in having/order_by → its field after $group
        for stored, key in keys.items():
            names[stored] = key
        for expr in group_by:
            assert isinstance(expr, tree.ColumnRef)
            names[expr.name] = keys[self.filters.field(expr.name, scope)]
        project: Document = {"_id": 0}
        for column in columns:
            expr = column.expr if isinstance(column, tree.Alias) else column
            if isinstance(expr, tree.Func) and expr.name in AGGREGATES:
                if not isinstance(column, tree.Alias):
                    raise UnsupportedOperation(
                        f"{expr.name}() in select() without a name",
                        DIALECT,
                        f"name it: fn.{expr.name}(…).as_('x')",
                    )
                field = out = accumulate(expr)
            elif isinstance(expr, tree.ColumnRef) and not star_column(expr, scope):
                out = self.filters.field(expr.name, scope)  # a grouped column's own name
                if out not in keys:
                    raise ValueError(f"column {expr.name!r} is selected but not in group_by()")
                field = keys[out]
            else:
                raise UnsupportedOperation("this select() column with group_by()", DIALECT)
            if isinstance(column, tree.Alias):
                out = self.output(column.name)
                names[column.name] = field
            project[out] = "$" + field
        stages: list[Document] = [{"$group": group}]
        after = Scope(scope.tables, names)
        having_filter: Document = {}
        if having is not None:
            replaced = replace_funcs(having, accumulate)
            having_filter = self.filters.filter(replaced, after)
        sort: dict[str, int] = {}
        for order in order_by:
            target = order.expr
            if isinstance(target, tree.Func) and target.name in AGGREGATES:
                name = accumulate(target)
            elif isinstance(target, tree.ColumnRef):
                name = self.filters.field(target.name, after)
            else:
                raise UnsupportedOperation("order_by() on an expression", DIALECT)
            sort[name] = -1 if order.descending else 1
        if finishing:
            stages.append({"$addFields": finishing})
        if having_filter:
            stages.append({"$match": having_filter})
        if sort:
            stages.append({"$sort": sort})
        stages.append({"$project": project})
        return stages

    def accumulator(self, func: tree.Func, scope: Scope) -> tuple[Any, Callable[[str], Any] | None]:
        """A ``$group`` accumulator for an aggregate function, and for ``distinct`` ones the
        ``$addFields`` expression turning the collected set into the value."""
        if func.name not in AGGREGATES or len(func.args) > 1:
            raise ValueError(f"not an aggregate: {func.name}() with {len(func.args)} arguments")
        target = func.args[0] if func.args else tree.ColumnRef("*")
        if is_star(target):
            if func.name != "count" or func.distinct:
                raise ValueError(f"{func.name}{'(distinct)' if func.distinct else ''}(*)")
            return {"$sum": 1}, None
        value = self.filters.expr(target, scope)
        if func.distinct:
            if func.name == "count":  # SQL COUNT(DISTINCT) skips NULL
                return {"$addToSet": value}, lambda f: {
                    "$size": {"$setDifference": ["$" + f, [None]]}
                }
            return {"$addToSet": value}, lambda f: {"$" + func.name: "$" + f}
        if func.name == "count":
            return {"$sum": {"$cond": [{"$eq": [{"$ifNull": [value, None]}, None]}, 0, 1]}}, None
        return {"$" + func.name: value}, None


def star_column(column: tree.ColumnRef, scope: Scope) -> bool:
    """``*`` or ``table.*`` (of a collection of this query)."""
    name = column.name
    if name == "*":
        return True
    if name.endswith(".*"):
        if name[:-2] in scope.tables:
            return True
        raise ValueError(f"{name!r}: no such collection in this query")
    return False


def is_star(node: tree.Expr) -> bool:
    return isinstance(node, tree.ColumnRef) and (node.name == "*" or node.name.endswith(".*"))


def is_aggregate(column: tree.Expr) -> bool:
    expr = column.expr if isinstance(column, tree.Alias) else column
    return isinstance(expr, tree.Func) and expr.name in AGGREGATES
