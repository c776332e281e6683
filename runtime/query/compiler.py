"""SqlCompiler: a pure function from a query tree to ``CompiledQuery(sql, params)``.

One ``_visit_*`` per node type; dialects override small hooks (quoting, placeholders,
upsert, ILIKE, function names, transaction statements). Split by concern: this module has
SELECT, its expressions and the SQL caches; the classes below it are ``WriteCompiler``
(compile_writes.py: INSERT, UPDATE, DELETE, upsert, RETURNING) and ``CompilerBase``
(compile_base.py: settings, hooks, quoting, dispatch).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeGuard

from ..errors import UnsupportedOperation
from . import tree
from .compile_base import ISOLATION_LEVELS, CompiledQuery, _State
from .compile_writes import WriteCompiler

__all__ = ["ISOLATION_LEVELS", "CompiledQuery", "SqlCompiler"]

_COMPARE_OPS = {
    "=": "=",
    "!=": "<>",
    "<>": "<>",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "like": "LIKE",
    "not_like": "NOT LIKE",
}
_FUNC_NAMES = {
    "count": "COUNT",
    "sum": "SUM",
    "avg": "AVG",
    "min": "MIN",
    "max": "MAX",
    "lower": "LOWER",
    "upper": "UPPER",
    "coalesce": "COALESCE",
}
_ALIAS_RE = re.compile(r"^(.+?)\s+as\s+(.+)$", re.IGNORECASE)


class SqlCompiler(WriteCompiler):
    """Base compiler (standard SQL); a dialect subclass sets the hooks (in compile_base.py
    and compile_writes.py)."""

    def __init__(self) -> None:
        self._quoted: dict[str, str] = {}
        self._insert_sql: dict[tuple[Any, ...], CompiledQuery] = {}
        self._select_sql: dict[tuple[Any, ...], str] = {}
        # SELECT text by a builder's own shape key (TableQueryBuilder._compiled): filled
        # and read by the builder, so a repeated lookup skips building the tree's key too
        self.builder_sql: dict[tuple[Any, ...], str] = {}
        self._visitors: dict[type[tree.Node], Callable[[Any, _State], None]] = {
            tree.ColumnRef: self._visit_column,
            tree.Value: self._visit_value,
            tree.RawExpr: self._visit_raw_expr,
            tree.Compare: self._visit_compare,
            tree.InList: self._visit_in,
            tree.Between: self._visit_between,
            tree.IsNull: self._visit_is_null,
            tree.And: self._visit_and,
            tree.Or: self._visit_or,
            tree.Not: self._visit_not,
            tree.Func: self._visit_func,
            tree.Alias: self._visit_alias,
            tree.Select: self._visit_select,
            tree.Insert: self._visit_insert,
            tree.Update: self._visit_update,
            tree.Delete: self._visit_delete,
            tree.Raw: self._visit_raw,
        }

    # ---- public ------------------------------------------------------------------------
    def compile(self, node: tree.Node) -> CompiledQuery:
        if type(node) is tree.Select:
            return self.compile_select(
                node.table,
                node.columns,
                node.where,
                node.joins,
                node.group_by,
                node.having,
                node.order_by,
                node.limit,
                node.offset,
                node.distinct,
            )
        return self._compile(node)

    def compile_select(
        self,
        table: tree.TableRef | tree.Subquery,
        columns: tuple[tree.Expr, ...] = (),
        where: tree.Expr | None = None,
        joins: tuple[tree.Join, ...] = (),
        group_by: tuple[tree.Expr, ...] = (),
        having: tree.Expr | None = None,
        order_by: tuple[tree.Order, ...] = (),
        limit: int | None = None,
        offset: int | None = None,
        distinct: bool = False,
    ) -> CompiledQuery:
        """A SELECT from its parts. SELECTs repeat the same shape with other values, so the
        SQL text is cached by shape (values taken out as params) and no node is built for a
        cache hit."""
        params: list[Any] = []
        key: tuple[Any, ...] | None = None
        if type(table) is tree.TableRef:
            try:
                key = (
                    table.name,
                    table.alias,
                    tuple([_shape(c, params) for c in columns]) if columns else (),
                    tuple([(j.kind, j.table, _shape(j.on, params)) for j in joins])
                    if joins
                    else (),
                    None if where is None else _shape(where, params),
                    tuple([_shape(g, params) for g in group_by]) if group_by else (),
                    None if having is None else _shape(having, params),
                    tuple([(_shape(o.expr, params), o.descending) for o in order_by])
                    if order_by
                    else (),
                    limit,
                    offset,
                    distinct,
                )
            except _NotCacheable:
                key = None
            if key is not None:
                sql = self._select_sql.get(key)
                if sql is not None:
                    return CompiledQuery(sql, tuple(params))
        node = tree.Select(
            table, columns, where, joins, group_by, having, order_by, limit, offset, distinct
        )
        compiled = self._compile(node)
        if key is not None:
            if len(self._select_sql) >= 1024:
                self._select_sql.clear()
            self._select_sql[key] = compiled.sql
        return compiled

    def remember_builder_sql(self, key: tuple[Any, ...], sql: str) -> None:
        if len(self.builder_sql) >= 1024:
            self.builder_sql.clear()
        self.builder_sql[key] = sql

    def _compile(self, node: tree.Node) -> CompiledQuery:
        state = _State()
        self._visit(node, state)
        return CompiledQuery("".join(state.parts), tuple(state.params))

    # ---- visitors ----------------------------------------------------------------------
    def _visit_column(self, node: tree.ColumnRef, state: _State) -> None:
        state.parts.append(self.quote(node.name))

    def _visit_value(self, node: tree.Value, state: _State) -> None:
        value = node.value
        if isinstance(value, dict | list):
            value = self.adapt_json(value)
        state.parts.append(self._bind(value, state))

    def _visit_raw_expr(self, node: tree.RawExpr, state: _State) -> None:
        self._append_raw(node.sql, node.params, state)

    def _visit_compare(self, node: tree.Compare, state: _State) -> None:
        if node.op in ("ilike", "not_ilike"):
            left = self._sub(node.left, state)
            right = self._sub(node.right, state)
            if not self.supports_ilike:
                raise UnsupportedOperation("ILIKE", self.dialect_name)
            state.parts.append(self.ilike_sql(left, right, negate=node.op == "not_ilike"))
            return
        op = _COMPARE_OPS.get(node.op)
        if op is None:
            raise ValueError(f"unknown operator {node.op!r}")
        self._visit(node.left, state)
        state.parts.append(f" {op} ")
        self._visit(node.right, state)

    def _visit_in(self, node: tree.InList, state: _State) -> None:
        if not node.values:
            # x IN () is invalid SQL; an empty list matches nothing (NOT IN: everything)
            state.parts.append("1 = 1" if node.negate else "1 = 0")
            return
        self._visit(node.left, state)
        state.parts.append(" NOT IN (" if node.negate else " IN (")
        for i, value in enumerate(node.values):
            if i:
                state.parts.append(", ")
            self._visit(value, state)
        state.parts.append(")")

    def _visit_between(self, node: tree.Between, state: _State) -> None:
        self._visit(node.left, state)
        state.parts.append(" NOT BETWEEN " if node.negate else " BETWEEN ")
        self._visit(node.low, state)
        state.parts.append(" AND ")
        self._visit(node.high, state)

    def _visit_is_null(self, node: tree.IsNull, state: _State) -> None:
        self._visit(node.operand, state)
        state.parts.append(" IS NOT NULL" if node.negate else " IS NULL")

    def _visit_bool(self, items: tuple[tree.Expr, ...], joiner: str, state: _State) -> None:
        if len(items) == 1:
            self._visit(items[0], state)
            return
        for i, item in enumerate(items):
            if i:
                state.parts.append(joiner)
            if isinstance(item, tree.And | tree.Or | tree.RawExpr):
                state.parts.append("(")
                self._visit(item, state)
                state.parts.append(")")
            else:
                self._visit(item, state)

    def _visit_and(self, node: tree.And, state: _State) -> None:
        self._visit_bool(node.items, " AND ", state)

    def _visit_or(self, node: tree.Or, state: _State) -> None:
        self._visit_bool(node.items, " OR ", state)

    def _visit_not(self, node: tree.Not, state: _State) -> None:
        state.parts.append("NOT (")
        self._visit(node.item, state)
        state.parts.append(")")

    def _visit_func(self, node: tree.Func, state: _State) -> None:
        if node.name == "now":
            state.parts.append(self.now_sql())
            return
        name = _FUNC_NAMES.get(node.name)
        if name is None:
            raise ValueError(f"unknown SQL function {node.name!r}")
        state.parts.append(name + ("(DISTINCT " if node.distinct else "("))
        for i, arg in enumerate(node.args):
            if i:
                state.parts.append(", ")
            if name == "COUNT" and _is_star(arg):
                state.parts.append(self._star(arg.name))
            else:
                self._visit(arg, state)
        state.parts.append(")")

    def _visit_alias(self, node: tree.Alias, state: _State) -> None:
        self._visit(node.expr, state)
        state.parts.append(" AS " + self.quote(node.name))

    def _from(self, table: tree.TableRef | tree.Subquery, state: _State) -> str:
        if isinstance(table, tree.TableRef):
            return self._table(table)
        return "(" + self._sub(table.select, state) + ") AS " + self.quote(table.alias)

    def _visit_select(self, node: tree.Select, state: _State) -> None:
        parts = state.parts
        parts.append("SELECT DISTINCT " if node.distinct else "SELECT ")
        if node.columns:
            for i, col in enumerate(node.columns):
                if i:
                    parts.append(", ")
                if _is_star(col):
                    parts.append(self._star(col.name))
                else:
                    self._visit(col, state)
        else:
            parts.append("*")
        parts.append(" FROM " + self._from(node.table, state))
        for join in node.joins:
            if join.kind == "right" and not self.supports_right_join:
                raise UnsupportedOperation(
                    "RIGHT JOIN", self.dialect_name, "swap the tables and use left_join()"
                )
            parts.append(f" {join.kind.upper()} JOIN " if join.kind != "inner" else " INNER JOIN ")
            parts.append(self._table(join.table) + " ON ")
            self._visit(join.on, state)
        if node.where is not None:
            parts.append(" WHERE ")
            self._visit(node.where, state)
        if node.group_by:
            parts.append(" GROUP BY ")
            for i, col in enumerate(node.group_by):
                if i:
                    parts.append(", ")
                self._visit(col, state)
        if node.having is not None:
            parts.append(" HAVING ")
            self._visit(node.having, state)
        if node.order_by:
            parts.append(" ORDER BY ")
            for i, order in enumerate(node.order_by):
                if i:
                    parts.append(", ")
                self._visit(order.expr, state)
                parts.append(" DESC" if order.descending else " ASC")
        if node.limit is not None or node.offset is not None:
            parts.append(self.limit_offset_sql(node.limit, node.offset))

    def _visit_raw(self, node: tree.Raw, state: _State) -> None:
        self._append_raw(node.sql, node.params, state)

    def split_alias(self, column: str) -> tree.Expr:
        """``"users.name as author"`` → an aliased column reference."""
        match = _ALIAS_RE.match(column)
        if match:
            return tree.Alias(tree.ColumnRef(match.group(1).strip()), match.group(2).strip())
        return tree.ColumnRef(column)


def _is_star(node: tree.Node) -> TypeGuard[tree.ColumnRef]:
    """``*`` or ``table.*``: every column, where a select list or COUNT takes it."""
    return isinstance(node, tree.ColumnRef) and (node.name == "*" or node.name.endswith(".*"))


class _NotCacheable(Exception):
    pass


_VALUE = object()  # one bound value in a shape key


def _shape(e: tree.Node, params: list[Any]) -> Any:
    """A hashable key of ``e`` with its values taken out into ``params``, in the order the
    compiler binds them. Raises ``_NotCacheable`` for nodes whose SQL depends on more."""
    if type(e) is tree.ColumnRef:
        return e.name
    if type(e) is tree.Value:
        if isinstance(e.value, dict | list):  # JSON: adapt_json may change the text
            raise _NotCacheable
        params.append(e.value)
        return _VALUE
    if type(e) is tree.Compare:
        left = _shape(e.left, params)
        return (1, left, e.op, _shape(e.right, params))
    if type(e) is tree.And:
        return (2, *[_shape(i, params) for i in e.items])
    if type(e) is tree.Or:
        return (3, *[_shape(i, params) for i in e.items])
    if type(e) is tree.IsNull:
        return (4, _shape(e.operand, params), e.negate)
    if type(e) is tree.InList:
        left = _shape(e.left, params)
        return (5, left, e.negate, *[_shape(v, params) for v in e.values])
    if type(e) is tree.Between:
        left, low = _shape(e.left, params), _shape(e.low, params)
        return (6, left, low, _shape(e.high, params), e.negate)
    if type(e) is tree.Not:
        return (7, _shape(e.item, params))
    if type(e) is tree.Func:
        return (8, e.name, e.distinct, *[_shape(a, params) for a in e.args])
    if type(e) is tree.Alias:
        return (9, _shape(e.expr, params), e.name)
    raise _NotCacheable  # RawExpr (its text is rewritten), subqueries, anything new
