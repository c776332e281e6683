"""Immutable query builders. Every method returns a new builder, so a base query can be
reused safely:

    active = db.query.table("users").where({"active": True})
    adults = await active.where("age", ">=", 18).order_by("name").all()
    n = await active.count()
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator, Awaitable, Generator, Iterable, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, cast, overload

from ..cache.policy import CachePolicy, checked_ttl
from ..cache.tables import tables_read
from ..replicas.consistency import DEFAULT_READ, Consistency, ReadOptions
from . import tree
from .compiler import CompiledQuery
from .conditions import WhereArg, _and, _column, _join_condition, _or, _table_ref, condition_from
from .expressions import SqlExpr
from .result import QueryResult
from .row_chunks import made
from .values import (
    SCALAR_SET,
    check_scalar,
    check_writable,
    checked_rows,
    rows_as_tuples,
    sequences_as_tuples,
)
from .writes import DeleteQuery, InsertQuery, RawQuery, UpdateQuery, _name, _row

if TYPE_CHECKING:
    from ..connection import Session

Row = dict[str, Any]

__all__ = ["DeleteQuery", "InsertQuery", "RawQuery", "TableQueryBuilder", "UpdateQuery"]


class TableQueryBuilder:
    """``qb.table(name)``: select, filter, join, aggregate, and start writes."""

    __slots__ = (
        "_all_rows",
        "_cache",
        "_columns",
        "_distinct",
        "_group_by",
        "_having",
        "_joins",
        "_limit",
        "_offset",
        "_order_by",
        "_read",
        "_session",
        "_table",
        "_timeout",
        "_where_node",
        "_wkey",
        "_wparams",
    )

    def __init__(self, session: Session, table: str | tree.TableRef) -> None:
        self._session = session
        self._table = table if isinstance(table, tree.TableRef) else _table_ref(table)
        self._columns: tuple[tree.Expr, ...] = ()
        self._where_node: tree.Expr | None = None
        self._joins: tuple[tree.Join, ...] = ()
        self._group_by: tuple[tree.Expr, ...] = ()
        self._having: tree.Expr | None = None
        self._order_by: tuple[tree.Order, ...] = ()
        self._limit: int | None = None
        self._offset: int | None = None
        self._distinct = False
        self._all_rows = False
        self._timeout: float | None = None
        self._cache: CachePolicy | None = None  # .cache(): reads go through the query cache
        self._read: ReadOptions = DEFAULT_READ  # replica routing (runtime/replicas)
        # The where condition: equalities (the hot case) are kept as their shape, a column
        # name or a tuple of them, with the values apart (_wparams, in binding order); the
        # tree is built only when asked for (_where), and a repeated query finds its SQL by
        # shape. None: no condition; _UNTRACKED: any other condition, in _where_node.
        self._wkey: Any = None
        self._wparams: tuple[Any, ...] = ()

    def _copy(self) -> TableQueryBuilder:
        # spelled out: this runs for every builder call, and a loop over __slots__ costs 3x
        new = object.__new__(type(self))
        new._session = self._session
        new._table = self._table
        new._columns = self._columns
        new._where_node = self._where_node
        new._joins = self._joins
        new._group_by = self._group_by
        new._having = self._having
        new._order_by = self._order_by
        new._limit = self._limit
        new._offset = self._offset
        new._distinct = self._distinct
        new._all_rows = self._all_rows
        new._timeout = self._timeout
        new._cache = self._cache
        new._read = self._read
        new._wkey = self._wkey
        new._wparams = self._wparams
        return new

    def _blank(self) -> TableQueryBuilder:
        return TableQueryBuilder(self._session, self._table)

    @property
    def _where(self) -> tree.Expr | None:
        node = self._where_node
        if node is None and self._wkey is not None:  # equalities not built into a tree yet
            node = self._where_node = _equalities(self._wkey, self._wparams)
        return node

    @_where.setter
    def _where(self, node: tree.Expr | None) -> None:
        self._where_node = node
        self._wkey = None if node is None else _UNTRACKED

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
        if len(args) == 1:
            arg = args[0]
            if type(arg) is dict and len(arg) == 1:  # where({"id": 5}): the hot case
                ((key, value),) = arg.items()
                if type(key) is str and type(value) in SCALAR_SET:
                    known = self._wkey
                    if known is None:
                        new._wkey = key
                        new._wparams = (value,)
                    elif known is _UNTRACKED:
                        new._where = _and(
                            self._where_node,
                            tree.Compare(tree.ColumnRef(key), "=", tree.Value(value)),
                        )
                    else:
                        new._wkey = (*known, key) if type(known) is tuple else (known, key)
                        new._wparams = (*self._wparams, value)
                        new._where_node = None
                    return new
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
        if isinstance(params, str | bytes | Mapping):
            raise TypeError("where_raw() params must be a list or tuple of values")
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

    def options(
        self,
        *,
        timeout: float | None = None,
        use_replica: bool | None = None,
        consistency: Consistency | None = None,
        max_lag: float | None = None,
    ) -> TableQueryBuilder:
        """``timeout``: seconds for this query. With read replicas configured: where its
        reads may run (``use_replica=False``: the primary; ``consistency``: "strong",
        "eventual", "read_your_writes" or "bounded_staleness"; ``max_lag``: seconds of
        staleness allowed, for "bounded_staleness"). Writes always run on the primary."""
        new = self._copy()
        new._timeout = timeout
        new._read = self._read.merged(use_replica, consistency, max_lag)
        return new

    def cache(self, ttl: float | None = None) -> TableQueryBuilder:
        """Serve this query's reads (``all``, ``first``, ``count`` and the other aggregates,
        ``exists``) from the query cache for ``ttl`` seconds (default:
        ``options.cache.default_ttl``), until a write through Jadugar to a table it reads.
        Inside a transaction the read goes to the database. ``stream()`` is never cached."""
        session = self._session
        if session.capabilities.document_store:
            from ..errors import UnsupportedOperation

            raise UnsupportedOperation(
                "cache()", session.dialect.name, "query results are cached on SQL databases only"
            )
        new = self._copy()
        new._cache = CachePolicy(checked_ttl(ttl))
        return new

    def _cached_fetch(
        self, compiled: CompiledQuery, select: tree.Select | None
    ) -> Awaitable[list[Row]]:
        """The rows of ``compiled`` (this query, or ``select`` built from it) through the
        query cache."""
        assert self._cache is not None

        def reads() -> frozenset[str]:
            return tables_read(self.to_node() if select is None else select)

        session = self._session
        return session.manager.query_cache.fetch(
            session, compiled, reads, self._cache.ttl, self._timeout, self._read
        )

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
        return self._compiled(self._limit)

    def _compiled(self, limit: int | None) -> CompiledQuery:
        """The statement with ``limit`` (``first()`` asks for 1)."""
        compiler = self._session.compiler
        wkey = self._wkey
        if (
            wkey is not _UNTRACKED
            and not self._columns
            and not self._joins
            and not self._group_by
            and self._having is None
            and not self._order_by
        ):
            # the hot path: a table filtered by equalities (or not at all), its SQL found by
            # the builder's shape: no tree, no compiler
            table = self._table
            key = (table.name, table.alias, wkey, limit, self._offset, self._distinct)
            sql = compiler.builder_sql.get(key)
            if sql is not None:
                return CompiledQuery(sql, self._wparams)
            compiled = compiler.compile_select(
                table, (), self._where, (), (), None, (), limit, self._offset, self._distinct
            )
            if compiled.params == self._wparams:  # (always: the shape keeps the bind order)
                compiler.remember_builder_sql(key, compiled.sql)
            return compiled
        # straight from the parts: a cached shape needs no Select node
        return compiler.compile_select(
            self._table,
            self._columns,
            self._where,
            self._joins,
            self._group_by,
            self._having,
            self._order_by,
            limit,
            self._offset,
            self._distinct,
        )

    # ---- reading ---------------------------------------------------------------------
    async def all(self) -> list[Row]:
        if self._cache is not None:
            return await self._cached_fetch(self._compiled(self._limit), None)
        return await self._session.fetch(self._compiled(self._limit), self._timeout, self._read)

    async def first(self) -> Row | None:
        if self._cache is not None:
            rows = await self._cached_fetch(self._compiled(1), None)
        else:
            rows = await self._session.fetch(self._compiled(1), self._timeout, self._read)
        return rows[0] if rows else None

    async def execute(self) -> QueryResult:
        rows = await self.all()
        return QueryResult(rows, len(rows))

    def __await__(self) -> Generator[Any, None, list[Row]]:
        return self.all().__await__()

    async def stream(self, batch_size: int = 1000) -> AsyncGenerator[Row, None]:
        """Rows one by one from a server-side cursor, ``batch_size`` at a time."""
        batches = self._session.stream(self.to_sql(), batch_size, self._timeout, self._read)
        async with aclosing(batches):
            async for batch in batches:
                for row in batch:
                    yield row

    async def _aggregate(self, func: str, column: str | SqlExpr) -> Any:
        node = self.to_node()
        target = _column(column)
        aggregate = tree.Alias(tree.Func(func, (target,)), "aggregate")
        wrap = node.limit is not None or node.offset is not None or node.distinct
        if wrap or node.group_by or node.having is not None:
            # aggregate over the rows the query returns: wrap it, exposing the target column
            outer: tree.Expr
            if isinstance(target, tree.ColumnRef) and target.name == "*":
                inner, outer = node, target
            elif node.columns:
                name = (
                    target.name.rsplit(".", 1)[-1] if isinstance(target, tree.ColumnRef) else None
                )
                inner, outer = node, tree.ColumnRef(f"sub.{name}") if name else target
            else:
                inner = dataclasses.replace(node, columns=(tree.Alias(target, "value"),))
                outer = tree.ColumnRef("sub.value")
            aggregate = tree.Alias(tree.Func(func, (outer,)), "aggregate")
            select = tree.Select(tree.Subquery(inner, "sub"), (aggregate,))
        else:
            select = tree.Select(node.table, (aggregate,), node.where, node.joins)
        compiled = self._session.compiler.compile(select)
        if self._cache is not None:
            rows = await self._cached_fetch(compiled, select)
        else:
            rows = await self._session.fetch(compiled, self._timeout, self._read)
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

    @overload
    def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> InsertQuery: ...

    @overload
    def insert_many(self, rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> InsertQuery: ...

    def insert_many(
        self,
        rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
        columns: Sequence[str] | None = None,
    ) -> InsertQuery:
        """Insert many rows: mappings with the same keys, or with ``columns=`` tuples of
        values in that order (skips turning dicts into tuples: the bulk-load fast path)."""
        if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Sequence):
            raise TypeError("insert_many() takes a list of rows")
        if columns is not None:
            names = (columns,) if isinstance(columns, str) else tuple(columns)
            if not names:
                raise ValueError("insert_many() columns= needs at least one column")
        elif not rows:
            return InsertQuery(self, (), (), bulk=True)
        else:
            first = rows[0]
            if not isinstance(first, Mapping):
                raise TypeError(
                    f"insert_many() rows must be mappings (or give columns=), "
                    f"got {type(first).__name__}"
                )
            names = tuple(first)
        for column in names:
            if not isinstance(column, str):
                raise TypeError(f"column names must be str, got {type(column).__name__}")
        if not rows:
            return InsertQuery(self, names, (), bulk=True)
        compiler = self._session.compiler
        if columns is None:
            dicts = cast("Sequence[Mapping[str, Any]]", rows)
            # read lazily where the values go to the driver as they are
            values = rows_as_tuples(dicts, names, lazy=compiler.driver_checks_values)
        else:
            values = sequences_as_tuples(cast("Sequence[Sequence[Any]]", rows), names)
        return self._insert_rows(names, values)

    def _insert_rows(
        self, columns: tuple[str, ...], values: Sequence[tuple[Any, ...]]
    ) -> InsertQuery:
        """``insert_many(rows, columns=columns)`` for rows known to be tuples of the right
        width (``create_many``'s validated values): the shape checks are skipped; the value
        checks the driver does not make itself are not."""
        compiler = self._session.compiler
        if not compiler.driver_checks_values:
            encode = compiler.adapt_json if compiler.encodes_json else None
            values = checked_rows(made(values), columns, encode)
        return InsertQuery(self, columns, values, bulk=True)

    def upsert(
        self,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        conflict: Sequence[str],
        update: Sequence[str] | None = None,
    ) -> InsertQuery:
        """Insert, or on a conflict over ``conflict`` columns update ``update`` (default:
        every inserted column not in ``conflict``; an empty list means do nothing)."""
        query = self.insert(data) if isinstance(data, Mapping) else self.insert_many(data)
        if isinstance(conflict, str):
            conflict = (conflict,)
        if isinstance(update, str):
            update = (update,)
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


_UNTRACKED = object()  # TableQueryBuilder._wkey: a where condition other than equalities


def _equalities(key: str | tuple[str, ...], params: tuple[Any, ...]) -> tree.Expr:
    """The tree of ``where({col: value})`` calls, as the builder would have built it."""
    if type(key) is str:
        return tree.Compare(tree.ColumnRef(key), "=", tree.Value(params[0]))
    return tree.And(
        tuple(
            tree.Compare(tree.ColumnRef(k), "=", tree.Value(v))
            for k, v in zip(key, params, strict=True)
        )
    )


def _non_negative_int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"{what} must be a non-negative int, got {value!r}")
    return value
