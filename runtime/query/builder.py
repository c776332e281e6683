"""Immutable query builders. Every method returns a new builder, so a base query can be
reused safely:

    active = db.query.table("users").where({"active": True})
    adults = await active.where("age", ">=", 18).order_by("name").all()
    n = await active.count()
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import UnsafeQueryError
from . import tree
from .compiler import CompiledQuery
from .expressions import SqlExpr
from .result import QueryResult
from .values import check_scalar, check_writable

if TYPE_CHECKING:
    from ..connection import Session

Row = dict[str, Any]
WhereArg = Any  # Mapping | Condition | str column | callable grouping; checked at run time
_OPERATORS = frozenset(
    ["=", "!=", "<>", "<", "<=", ">", ">=", "like", "not_like", "ilike", "not_ilike",
     "in", "not_in", "between", "not_between"]
)  # fmt: skip


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
    return tree.Compare(left, "=", tree.Value(check_scalar(value, f"where {column!r}")))


def _operation(column: str | SqlExpr, op: str, value: Any) -> tree.Expr:
    if not isinstance(op, str) or op.lower() not in _OPERATORS:
        raise ValueError(f"unknown operator {op!r}; use one of {', '.join(sorted(_OPERATORS))}")
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
        if isinstance(arg, SqlExpr):
            return arg.node
        if isinstance(arg, Mapping):
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
            if not isinstance(grouped, TableQueryBuilder) or grouped._where is None:
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


def _table_ref(name: str) -> tree.TableRef:
    if not isinstance(name, str):
        raise TypeError(f"table name must be a str, got {type(name).__name__}")
    parts = name.split()
    if len(parts) == 3 and parts[1].lower() == "as":
        return tree.TableRef(parts[0], parts[2])
    return tree.TableRef(name)


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


class TableQueryBuilder:
    """``qb.table(name)``: select, filter, join, aggregate, and start writes."""

    __slots__ = (
        "_all_rows",
        "_columns",
        "_distinct",
        "_group_by",
        "_having",
        "_joins",
        "_limit",
        "_offset",
        "_order_by",
        "_session",
        "_table",
        "_timeout",
        "_where",
    )

    def __init__(self, session: Session, table: str | tree.TableRef) -> None:
        self._session = session
        self._table = table if isinstance(table, tree.TableRef) else _table_ref(table)
        self._columns: tuple[tree.Expr, ...] = ()
        self._where: tree.Expr | None = None
        self._joins: tuple[tree.Join, ...] = ()
        self._group_by: tuple[tree.Expr, ...] = ()
        self._having: tree.Expr | None = None
        self._order_by: tuple[tree.Order, ...] = ()
        self._limit: int | None = None
        self._offset: int | None = None
        self._distinct = False
        self._all_rows = False
        self._timeout: float | None = None

    def _copy(self) -> TableQueryBuilder:
        new = object.__new__(type(self))
        for slot in TableQueryBuilder.__slots__:
            object.__setattr__(new, slot, getattr(self, slot))
        return new

    def _blank(self) -> TableQueryBuilder:
        return TableQueryBuilder(self._session, self._table)

    # ---- building --------------------------------------------------------------------
    def select(self, *columns: str | SqlExpr) -> TableQueryBuilder:
        new = self._copy()
        split = self._session.compiler.split_alias
        new._columns = self._columns + tuple(
            split(c) if isinstance(c, str) else _column(c) for c in columns
        )
        return new

    def distinct(self) -> TableQueryBuilder:
        new = self._copy()
        new._distinct = True
        return new

    def where(self, *args: WhereArg) -> TableQueryBuilder:
        new = self._copy()
        new._where = _and(self._where, condition_from(args, self))
        return new

    def or_where(self, *args: WhereArg) -> TableQueryBuilder:
        new = self._copy()
        new._where = _or(self._where, condition_from(args, self))
        return new

    def where_not(self, *args: WhereArg) -> TableQueryBuilder:
        new = self._copy()
        new._where = _and(self._where, tree.Not(condition_from(args, self)))
        return new

    def where_in(self, column: str | SqlExpr, values: Iterable[Any]) -> TableQueryBuilder:
        return self.where(column, "in", values)

    def where_not_in(self, column: str | SqlExpr, values: Iterable[Any]) -> TableQueryBuilder:
        return self.where(column, "not_in", values)

    def where_null(self, column: str | SqlExpr) -> TableQueryBuilder:
        new = self._copy()
        new._where = _and(self._where, tree.IsNull(_column(column)))
        return new

    def where_not_null(self, column: str | SqlExpr) -> TableQueryBuilder:
        new = self._copy()
        new._where = _and(self._where, tree.IsNull(_column(column), negate=True))
        return new

    def where_between(self, column: str | SqlExpr, low: Any, high: Any) -> TableQueryBuilder:
        return self.where(column, "between", (low, high))

    def where_not_between(self, column: str | SqlExpr, low: Any, high: Any) -> TableQueryBuilder:
        return self.where(column, "not_between", (low, high))

    def where_raw(self, sql: str, params: Sequence[Any] = ()) -> TableQueryBuilder:
        values = tuple(check_scalar(p, "where_raw") for p in params)
        new = self._copy()
        new._where = _and(self._where, tree.RawExpr(sql, values))
        return new

    def join(self, table: str, *on: Any) -> TableQueryBuilder:
        return self._join("inner", table, on)

    def left_join(self, table: str, *on: Any) -> TableQueryBuilder:
        return self._join("left", table, on)

    def right_join(self, table: str, *on: Any) -> TableQueryBuilder:
        return self._join("right", table, on)

    def _join(self, kind: str, table: str, on: tuple[Any, ...]) -> TableQueryBuilder:
        new = self._copy()
        new._joins = (*self._joins, tree.Join(kind, _table_ref(table), _join_condition(on)))
        return new

    def group_by(self, *columns: str | SqlExpr) -> TableQueryBuilder:
        new = self._copy()
        new._group_by = self._group_by + tuple(_column(c) for c in columns)
        return new

    def having(self, *args: WhereArg) -> TableQueryBuilder:
        new = self._copy()
        new._having = _and(self._having, condition_from(args))
        return new

    def order_by(
        self, column: str | SqlExpr | tree.Order, direction: str = "asc"
    ) -> TableQueryBuilder:
        if isinstance(column, tree.Order):
            order = column
        else:
            if not isinstance(direction, str) or direction.lower() not in ("asc", "desc"):
                raise ValueError(f"order_by direction must be 'asc' or 'desc', got {direction!r}")
            order = tree.Order(_column(column), direction.lower() == "desc")
        new = self._copy()
        new._order_by = (*self._order_by, order)
        return new

    def limit(self, limit: int) -> TableQueryBuilder:
        new = self._copy()
        new._limit = _non_negative_int(limit, "limit")
        return new

    def offset(self, offset: int) -> TableQueryBuilder:
        new = self._copy()
        new._offset = _non_negative_int(offset, "offset")
        return new

    def all_rows(self) -> TableQueryBuilder:
        """Allow ``update()``/``delete()`` with no ``where``: touch every row on purpose."""
        new = self._copy()
        new._all_rows = True
        return new

    def options(self, *, timeout: float | None = None) -> TableQueryBuilder:
        new = self._copy()
        new._timeout = timeout
        return new

    # ---- compiling -------------------------------------------------------------------
    def to_node(self) -> tree.Select:
        return tree.Select(
            self._table,
            self._columns,
            self._where,
            self._joins,
            self._group_by,
            self._having,
            self._order_by,
            self._limit,
            self._offset,
            self._distinct,
        )

    def to_sql(self) -> CompiledQuery:
        return self._session.compiler.compile(self.to_node())

    # ---- reading ---------------------------------------------------------------------
    async def all(self) -> list[Row]:
        return await self._session.fetch(self.to_sql(), self._timeout)

    async def first(self) -> Row | None:
        new = self._copy()
        new._limit = 1
        rows = await self._session.fetch(new.to_sql(), self._timeout)
        return rows[0] if rows else None

    async def execute(self) -> QueryResult:
        rows = await self.all()
        return QueryResult(rows, len(rows))

    def __await__(self) -> Generator[Any, None, list[Row]]:
        return self.all().__await__()

    async def stream(self, batch_size: int = 1000) -> AsyncIterator[Row]:
        """Rows one by one from a server-side cursor, ``batch_size`` at a time."""
        async for batch in self._session.stream(self.to_sql(), batch_size, self._timeout):
            for row in batch:
                yield row

    async def _aggregate(self, func: str, column: str | SqlExpr) -> Any:
        node = self.to_node()
        aggregate = tree.Alias(tree.Func(func, (_column(column),)), "aggregate")
        if node.limit is not None or node.offset is not None or node.group_by or node.distinct:
            select = tree.Select(tree.Subquery(node, "sub"), (aggregate,))
        else:
            select = tree.Select(node.table, (aggregate,), node.where, node.joins)
        rows = await self._session.fetch(self._session.compiler.compile(select), self._timeout)
        return next(iter(rows[0].values())) if rows else None

    async def count(self, column: str | SqlExpr | None = None) -> int:
        value = await self._aggregate("count", column if column is not None else "*")
        return int(value or 0)

    async def sum(self, column: str | SqlExpr) -> Any:
        return await self._aggregate("sum", column)

    async def avg(self, column: str | SqlExpr) -> Any:
        return await self._aggregate("avg", column)

    async def min(self, column: str | SqlExpr) -> Any:
        return await self._aggregate("min", column)

    async def max(self, column: str | SqlExpr) -> Any:
        return await self._aggregate("max", column)

    async def exists(self) -> bool:
        return await self.limit(1).first() is not None

    # ---- writing ---------------------------------------------------------------------
    def insert(self, data: Mapping[str, Any]) -> InsertQuery:
        columns, row = _row(data)
        return InsertQuery(self, columns, (row,))

    def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> InsertQuery:
        if isinstance(rows, Mapping) or not isinstance(rows, Sequence):
            raise TypeError("insert_many() takes a list of mappings")
        if not rows:
            return InsertQuery(self, (), ())
        first = rows[0]
        if not isinstance(first, Mapping):
            raise TypeError(f"insert_many() rows must be mappings, got {type(first).__name__}")
        columns = tuple(first)
        for column in columns:
            if not isinstance(column, str):
                raise TypeError(f"column names must be str, got {type(column).__name__}")
        key_set = set(columns)
        values: list[tuple[Any, ...]] = []
        for index, data in enumerate(rows):
            if not isinstance(data, Mapping) or data.keys() != key_set:
                raise ValueError(
                    f"insert_many() row {index} has columns {sorted(data) if isinstance(data, Mapping) else data!r}; "
                    f"every row needs the same columns as row 0 ({', '.join(columns)})"
                )
            values.append(tuple(check_writable(data[c], f"insert {c!r}") for c in columns))
        return InsertQuery(self, columns, tuple(values), bulk=True)

    def upsert(
        self,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        conflict: Sequence[str],
        update: Sequence[str] | None = None,
    ) -> InsertQuery:
        """Insert, or on a conflict over ``conflict`` columns update ``update`` (default:
        every inserted column not in ``conflict``; an empty list means do nothing)."""
        query = self.insert(data) if isinstance(data, Mapping) else self.insert_many(data)
        if not conflict:
            raise ValueError("upsert() needs the conflict columns (a unique key)")
        conflict_cols = tuple(conflict)
        update_cols = (
            tuple(c for c in query.columns if c not in conflict_cols)
            if update is None
            else tuple(update)
        )
        return query._with(on_conflict=tree.OnConflict(conflict_cols, update_cols))

    def update(self, data: Mapping[str, Any]) -> UpdateQuery:
        if not isinstance(data, Mapping) or not data:
            raise ValueError("update() takes a non-empty mapping of column to value")
        assignments = tuple(
            (
                _name(k),
                v.node
                if isinstance(v, SqlExpr)
                else tree.Value(check_writable(v, f"update {k!r}")),
            )
            for k, v in data.items()
        )
        return UpdateQuery(self, assignments)

    def delete(self) -> DeleteQuery:
        return DeleteQuery(self)


def _name(column: object) -> str:
    if not isinstance(column, str):
        raise TypeError(f"column names must be str, got {type(column).__name__}")
    return column


def _row(data: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[tree.Expr, ...]]:
    if not isinstance(data, Mapping):
        raise TypeError(f"insert() takes a mapping of column to value, got {type(data).__name__}")
    columns = tuple(_name(c) for c in data)
    values = tuple(
        v.node if isinstance(v, SqlExpr) else tree.Value(check_writable(v, f"insert {c!r}"))
        for c, v in data.items()
    )
    return columns, values


def _non_negative_int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"{what} must be a non-negative int, got {value!r}")
    return value


class InsertQuery:
    """An insert (one row, many rows, or an upsert). Await it or call ``execute()``."""

    __slots__ = ("_base", "_bulk", "_on_conflict", "_returning", "columns", "rows")

    def __init__(
        self,
        base: TableQueryBuilder,
        columns: tuple[str, ...],
        rows: tuple[tuple[Any, ...], ...],
        *,
        bulk: bool = False,
        returning: tuple[str, ...] | None = None,
        on_conflict: tree.OnConflict | None = None,
    ) -> None:
        self._base = base
        self.columns = columns
        self.rows = rows  # tuples of Expr (single insert) or raw values (bulk)
        self._bulk = bulk
        self._returning = returning
        self._on_conflict = on_conflict

    def _with(
        self,
        *,
        returning: tuple[str, ...] | None = None,
        on_conflict: tree.OnConflict | None = None,
    ) -> InsertQuery:
        return InsertQuery(
            self._base,
            self.columns,
            self.rows,
            bulk=self._bulk,
            returning=returning if returning is not None else self._returning,
            on_conflict=on_conflict if on_conflict is not None else self._on_conflict,
        )

    def returning(self, *columns: str) -> InsertQuery:
        return self._with(returning=tuple(_name(c) for c in columns) or ("*",))

    def _node_rows(self) -> tuple[tuple[tree.Expr, ...], ...]:
        if not self._bulk:
            return self.rows
        return tuple(tuple(tree.Value(v) for v in row) for row in self.rows)

    def _returning_columns(self) -> tuple[str, ...]:
        if self._returning is not None:
            return self._returning
        if not self._bulk and self._base._session.capabilities.returning:
            return ("*",)
        return ()

    def to_node(self) -> tree.Insert:
        return tree.Insert(
            self._base._table,
            self.columns,
            self._node_rows(),
            self._returning_columns(),
            self._on_conflict,
        )

    def to_sql(self) -> CompiledQuery:
        return self._base._session.compiler.compile(self.to_node())

    async def execute(self) -> QueryResult:
        session = self._base._session
        if self._bulk:
            return await session.insert_many(
                self._base._table,
                self.columns,
                self.rows,
                self._returning or (),
                self._on_conflict,
                self._base._timeout,
            )
        result = await session.execute(self.to_sql(), self._base._timeout)
        return QueryResult.from_insert(result)

    def __await__(self) -> Generator[Any, None, QueryResult]:
        return self.execute().__await__()


class _FilteredWrite:
    __slots__ = ("_all", "_base", "_returning")

    _verb: str = ""

    def __init__(self, base: TableQueryBuilder) -> None:
        self._base = base
        self._all = base._all_rows
        self._returning: tuple[str, ...] = ()

    def all_rows(self) -> Any:
        new = self._clone()
        new._all = True
        return new

    def returning(self, *columns: str) -> Any:
        new = self._clone()
        new._returning = tuple(_name(c) for c in columns) or ("*",)
        return new

    def _clone(self) -> Any:
        raise NotImplementedError

    def _check_safe(self) -> None:
        if self._base._where is None and not self._all:
            raise UnsafeQueryError(
                f"{self._verb}() on {self._base._table.name!r} has no where(): it would touch "
                f"every row. Add a where(), or call .all_rows() if that is what you mean."
            )
        if self._base._joins or self._base._limit is not None or self._base._order_by:
            raise ValueError(f"{self._verb}() does not take joins, order_by or limit")

    def to_sql(self) -> CompiledQuery:
        return self._base._session.compiler.compile(self.to_node())

    def to_node(self) -> tree.Node:
        raise NotImplementedError

    async def execute(self) -> QueryResult:
        self._check_safe()
        result = await self._base._session.execute(self.to_sql(), self._base._timeout)
        return QueryResult(result.rows, result.row_count)

    def __await__(self) -> Generator[Any, None, QueryResult]:
        return self.execute().__await__()


class UpdateQuery(_FilteredWrite):
    """``update(data)``; refuses to run without ``where`` unless ``all_rows()``."""

    __slots__ = ("_assignments",)
    _verb = "update"

    def __init__(
        self, base: TableQueryBuilder, assignments: tuple[tuple[str, tree.Expr], ...]
    ) -> None:
        super().__init__(base)
        self._assignments = assignments

    def _clone(self) -> UpdateQuery:
        new = UpdateQuery(self._base, self._assignments)
        new._all, new._returning = self._all, self._returning
        return new

    def to_node(self) -> tree.Update:
        return tree.Update(self._base._table, self._assignments, self._base._where, self._returning)


class DeleteQuery(_FilteredWrite):
    """``delete()``; refuses to run without ``where`` unless ``all_rows()``."""

    __slots__ = ()
    _verb = "delete"

    def _clone(self) -> DeleteQuery:
        new = DeleteQuery(self._base)
        new._all, new._returning = self._all, self._returning
        return new

    def to_node(self) -> tree.Delete:
        return tree.Delete(self._base._table, self._base._where, self._returning)


class RawQuery:
    """``qb.raw(sql, params)``: SQL text with bound parameters ($1 or ? placeholders)."""

    __slots__ = ("_params", "_session", "_sql", "_timeout")

    def __init__(self, session: Session, sql: str, params: Sequence[Any] = ()) -> None:
        if isinstance(params, str | bytes | Mapping):
            raise TypeError("raw() params must be a list or tuple of values")
        self._session = session
        self._sql = sql
        self._params = tuple(check_writable(p, "raw") for p in params)
        self._timeout: float | None = None

    def options(self, *, timeout: float | None = None) -> RawQuery:
        new = RawQuery(self._session, self._sql, self._params)
        new._timeout = timeout
        return new

    def to_sql(self) -> CompiledQuery:
        return self._session.compiler.compile(tree.Raw(self._sql, self._params))

    async def all(self) -> list[Row]:
        return await self._session.fetch(self.to_sql(), self._timeout)

    async def first(self) -> Row | None:
        rows = await self.all()
        return rows[0] if rows else None

    async def execute(self) -> QueryResult:
        compiled = self.to_sql()
        if _returns_rows(compiled.sql):
            rows = await self._session.fetch(compiled, self._timeout)
            return QueryResult(rows, len(rows))
        result = await self._session.execute(compiled, self._timeout)
        return QueryResult.from_insert(result)

    def __await__(self) -> Generator[Any, None, QueryResult]:
        return self.execute().__await__()


_ROW_STATEMENTS = ("select", "with", "values", "show", "pragma", "explain", "describe", "table")


def _returns_rows(sql: str) -> bool:
    head = sql.lstrip(" \t\n(").split(None, 1)
    return bool(head) and (head[0].lower() in _ROW_STATEMENTS or " returning " in sql.lower())
