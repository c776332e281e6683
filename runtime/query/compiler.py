"""SqlCompiler: a pure function from a query tree to ``CompiledQuery(sql, params)``.

One ``_visit_*`` per node type; dialects override small hooks (quoting, placeholders,
upsert, ILIKE, function names, transaction statements).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple, TypeGuard

from ..errors import UnsupportedOperation
from . import tree

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
ISOLATION_LEVELS = ("read_uncommitted", "read_committed", "repeatable_read", "serializable")
_ALIAS_RE = re.compile(r"^(.+?)\s+as\s+(.+)$", re.IGNORECASE)


class CompiledQuery(NamedTuple):
    """A statement and its parameters: ``sql, params = query.to_sql()``. A NamedTuple, not
    a frozen dataclass: one is made for every query, and this builds in a third of the time."""

    sql: str
    params: tuple[Any, ...]


class _State:
    __slots__ = ("params", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []


class SqlCompiler:
    """Base compiler (standard SQL); a dialect subclass sets the hooks below."""

    dialect_name: ClassVar[str] = "sql"
    quote_char: ClassVar[str] = '"'
    supports_right_join: ClassVar[bool] = True
    supports_ilike: ClassVar[bool] = True
    supports_returning: ClassVar[bool] = True
    max_identifier_length: ClassVar[int] = 63
    encodes_json: ClassVar[bool] = True  # dict/list values become JSON text (adapt_json)
    # the driver binds values through typed encoders that refuse (or adapt) any other type,
    # so bulk rows need no Python-side type scan; False where values are escaped into text
    driver_checks_values: ClassVar[bool] = False
    backslash_escapes: ClassVar[bool] = False  # string literals treat \ as an escape
    pyformat: ClassVar[bool] = False  # the driver %-formats statements: a literal % is %%

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

    # ---- hooks -------------------------------------------------------------------------
    def placeholder(self, index: int) -> str:
        """The placeholder for the ``index``-th (1-based) parameter."""
        return "?"

    def escape_percent(self, sql: str) -> str:
        """Literal ``%`` in statement text (doubled where the driver uses pyformat)."""
        return sql.replace("%", "%%") if self.pyformat else sql

    def adapt_json(self, value: dict[str, Any] | list[Any]) -> Any:
        return json.dumps(value, separators=(",", ":"), default=str)

    def now_sql(self) -> str:
        return "CURRENT_TIMESTAMP"

    def ilike_sql(self, left: str, right: str, negate: bool = False) -> str:
        op = "NOT ILIKE" if negate else "ILIKE"
        return f"{left} {op} {right}"

    def limit_offset_sql(self, limit: int | None, offset: int | None) -> str:
        sql = ""
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        if offset is not None:
            if limit is None:
                sql += " LIMIT ALL"
            sql += f" OFFSET {int(offset)}"
        return sql

    def upsert_sql(self, node: tree.OnConflict) -> str:
        cols = ", ".join(self.quote_column(c) for c in node.columns)
        if not node.update:
            return f" ON CONFLICT ({cols}) DO NOTHING"
        sets = ", ".join(f"{self.quote_column(c)} = EXCLUDED.{self.quote(c)}" for c in node.update)
        return f" ON CONFLICT ({cols}) DO UPDATE SET {sets}"

    def schema_changes_sql(self, *, before: bool) -> list[str]:
        """Statements run on a migration transaction's connection before BEGIN and after
        it ends (none by default)."""
        return []

    def begin_sql(self, isolation: str | None, read_only: bool) -> list[str]:
        sql = "BEGIN"
        if isolation:
            sql += " ISOLATION LEVEL " + self._isolation_words(isolation)
        if read_only:
            sql += " READ ONLY"
        return [sql]

    def savepoint_sql(self, name: str) -> str:
        return f"SAVEPOINT {self.quote(name)}"

    def release_savepoint_sql(self, name: str) -> str:
        return f"RELEASE SAVEPOINT {self.quote(name)}"

    def rollback_to_savepoint_sql(self, name: str) -> str:
        return f"ROLLBACK TO SAVEPOINT {self.quote(name)}"

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

    def insert_rows_sql(
        self,
        table: tree.TableRef,
        columns: tuple[str, ...],
        row_count: int,
        returning: tuple[str, ...],
        on_conflict: tree.OnConflict | None,
    ) -> CompiledQuery:
        """``INSERT … VALUES`` with placeholders for ``row_count`` rows (no params), cached:
        bulk inserts repeat the same shape chunk after chunk."""
        key = (table, columns, row_count, returning, on_conflict)
        cached = self._insert_sql.get(key)
        if cached is not None:
            return cached
        width = len(columns)
        if self.placeholder(1) == self.placeholder(2):  # positional: ? or %s
            row = "(" + ", ".join([self.placeholder(1)] * width) + ")"
            values = ", ".join([row] * row_count)
        else:
            values = ", ".join(
                "(" + ", ".join(self.placeholder(r * width + i) for i in range(1, width + 1)) + ")"
                for r in range(row_count)
            )
        state = _State()
        state.parts.append(
            f"INSERT INTO {self._table(table)} ("
            + ", ".join(self.quote_column(c) for c in columns)
            + ") VALUES "
            + values
        )
        if on_conflict is not None:
            state.parts.append(self.upsert_sql(on_conflict))
        self._returning(returning, state)
        compiled = CompiledQuery("".join(state.parts), ())
        if len(self._insert_sql) >= 64:
            self._insert_sql.clear()
        self._insert_sql[key] = compiled
        return compiled

    def quote(self, identifier: str) -> str:
        """Quote one identifier, or a dotted ``table.column``, as it goes into a compiled
        statement (``escape_percent`` applied); ``*`` stays bare."""
        cached = self._quoted.get(identifier)
        if cached is not None:
            return cached
        quoted = self.escape_percent(self.quote_name(identifier))
        if len(self._quoted) < 4096:
            self._quoted[identifier] = quoted
        return quoted

    def quote_name(self, identifier: str) -> str:
        """The quoted identifier as written in SQL text (what ``raw()`` expects)."""
        if not isinstance(identifier, str):
            raise TypeError(f"an identifier must be a str, got {type(identifier).__name__}")
        return ".".join(self._quote_part(p) for p in identifier.split("."))

    def quote_column(self, identifier: str) -> str:
        """One column of the statement's table (insert, update and upsert keys): a bare
        name, never qualified."""
        quoted = self.quote(identifier)  # a NUL, an empty part or '*' refused first
        if "." in identifier:
            raise ValueError(
                f"invalid column {identifier!r}: a write names the table's own columns, "
                "without a table or schema before them"
            )
        return quoted

    def _star(self, name: str) -> str:
        """``*`` or ``table.*``, where the statement takes them (select lists, COUNT,
        RETURNING)."""
        return "*" if name == "*" else self.quote(name[:-2]) + ".*"

    def _quote_part(self, part: str) -> str:
        if part == "*":
            raise ValueError(
                "invalid identifier '*': it stands for every column only in select(), "
                "count() and returning(), not as a name"
            )
        if not part or "\x00" in part:
            raise ValueError(f"invalid identifier {part!r}: empty or contains a NUL byte")
        if len(part.encode()) > self.max_identifier_length:
            raise ValueError(
                f"identifier {part[:20]!r}… is longer than {self.max_identifier_length} bytes"
            )
        q = self.quote_char
        return q + part.replace(q, q + q) + q

    def convert_placeholders(self, sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        """Turn ``$n`` or ``?`` placeholders of raw SQL into this dialect's, skipping
        quoted strings, identifiers and comments; returns the SQL and ordered params."""
        return _convert_placeholders(self, sql, tuple(params))

    def isolation_check(self, isolation: str | None) -> None:
        if isolation is not None and isolation not in ISOLATION_LEVELS:
            raise ValueError(
                f"unknown isolation level {isolation!r}; use one of {', '.join(ISOLATION_LEVELS)}"
            )

    # ---- visitors ----------------------------------------------------------------------
    def _visit(self, node: tree.Node, state: _State) -> None:
        visitor = self._visitors.get(type(node))
        if visitor is None:
            raise TypeError(f"{type(self).__name__} cannot compile {type(node).__name__}")
        visitor(node, state)

    def _bind(self, value: Any, state: _State) -> str:
        state.params.append(value)
        return self.placeholder(len(state.params))

    def _visit_column(self, node: tree.ColumnRef, state: _State) -> None:
        state.parts.append(self.quote(node.name))

    def _visit_value(self, node: tree.Value, state: _State) -> None:
        value = node.value
        if isinstance(value, dict | list):
            value = self.adapt_json(value)
        state.parts.append(self._bind(value, state))

    def _visit_raw_expr(self, node: tree.RawExpr, state: _State) -> None:
        self._append_raw(node.sql, node.params, state)

    def _append_raw(self, sql: str, params: tuple[Any, ...], state: _State) -> None:
        converted, ordered = _convert_placeholders(self, sql, params, offset=len(state.params))
        state.parts.append(converted)
        state.params.extend(ordered)

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

    def _sub(self, node: tree.Node, state: _State) -> str:
        """Compile a sub-expression into its own string (params still shared)."""
        saved = state.parts
        state.parts = []
        self._visit(node, state)
        text = "".join(state.parts)
        state.parts = saved
        return text

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

    def _table(self, table: tree.TableRef) -> str:
        if table.alias:
            return f"{self.quote(table.name)} AS {self.quote(table.alias)}"
        return self.quote(table.name)

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

    def _returning(self, columns: tuple[str, ...], state: _State) -> None:
        if not columns:
            return
        if not self.supports_returning:
            raise UnsupportedOperation("RETURNING", self.dialect_name)
        state.parts.append(
            " RETURNING " + ", ".join("*" if c == "*" else self.quote(c) for c in columns)
        )

    def _visit_insert(self, node: tree.Insert, state: _State) -> None:
        parts = state.parts
        parts.append("INSERT INTO " + self._table(node.table))
        if node.columns:
            parts.append(" (" + ", ".join(self.quote_column(c) for c in node.columns) + ") VALUES ")
            for r, row in enumerate(node.rows):
                parts.append(", (" if r else "(")
                for i, value in enumerate(row):
                    if i:
                        parts.append(", ")
                    self._visit(value, state)
                parts.append(")")
        else:
            parts.append(self.default_values_sql())
        if node.on_conflict is not None:
            parts.append(self.upsert_sql(node.on_conflict))
        self._returning(node.returning, state)

    def default_values_sql(self) -> str:
        return " DEFAULT VALUES"

    def _visit_update(self, node: tree.Update, state: _State) -> None:
        parts = state.parts
        parts.append("UPDATE " + self._table(node.table) + " SET ")
        for i, (column, value) in enumerate(node.assignments):
            if i:
                parts.append(", ")
            parts.append(self.quote_column(column) + " = ")
            self._visit(value, state)
        if node.where is not None:
            parts.append(" WHERE ")
            self._visit(node.where, state)
        self._returning(node.returning, state)

    def _visit_delete(self, node: tree.Delete, state: _State) -> None:
        state.parts.append("DELETE FROM " + self._table(node.table))
        if node.where is not None:
            state.parts.append(" WHERE ")
            self._visit(node.where, state)
        self._returning(node.returning, state)

    def _visit_raw(self, node: tree.Raw, state: _State) -> None:
        self._append_raw(node.sql, node.params, state)

    # ---- helpers -----------------------------------------------------------------------
    def _isolation_words(self, isolation: str) -> str:
        self.isolation_check(isolation)
        return isolation.replace("_", " ").upper()

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


_PLACEHOLDER_RE = re.compile(
    r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|--[^\n]*|/\*.*?\*/|\$\d+|\?)""",
    re.DOTALL,
)
# MySQL string literals also end only at an unescaped quote, and "#" starts a comment
_PLACEHOLDER_BACKSLASH_RE = re.compile(
    r"""('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`(?:[^`]|``)*`|--[^\n]*|\#[^\n]*|/\*.*?\*/|\$\d+|\?)""",
    re.DOTALL,
)


def _convert_placeholders(
    compiler: SqlCompiler, sql: str, params: tuple[Any, ...], offset: int = 0
) -> tuple[str, tuple[Any, ...]]:
    out: list[str] = []
    ordered: list[Any] = []
    used: set[int] = set()
    position = 0
    last = 0
    style: str | None = None
    pattern = _PLACEHOLDER_BACKSLASH_RE if compiler.backslash_escapes else _PLACEHOLDER_RE
    for match in pattern.finditer(sql):
        token = match.group(0)
        if token[0] not in "$?":
            continue
        if token == "?":
            if style == "$":
                raise ValueError("raw SQL mixes $n and ? placeholders")
            style = "?"
            if position >= len(params):
                raise ValueError(f"raw SQL has more placeholders than the {len(params)} params")
            index = position + 1
            position += 1
        else:
            if style == "?":
                raise ValueError("raw SQL mixes $n and ? placeholders")
            style = "$"
            index = int(token[1:])
            if not 1 <= index <= len(params):
                raise ValueError(f"raw SQL uses {token} but only {len(params)} params were given")
        used.add(index)
        out.append(compiler.escape_percent(sql[last : match.start()]))
        ordered.append(params[index - 1])
        out.append(compiler.placeholder(offset + len(ordered)))
        last = match.end()
    if len(used) != len(params):
        raise ValueError(
            f"raw SQL uses {len(used)} of the {len(params)} params given: every param needs "
            f"a placeholder ($n or ?)"
        )
    out.append(compiler.escape_percent(sql[last:]))
    return "".join(out), tuple(ordered)
