"""Write queries (insert, insert_many, upsert, update, delete) and raw SQL."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self, cast

from ..cache.backend import ANY_TABLE
from ..errors import UnsafeQueryError
from ..read_only import ensure_raw_read, refused
from ..replicas.consistency import Consistency, ReadOptions, is_read_statement
from . import tree
from .compiler import CompiledQuery
from .conditions import WhereArg
from .expressions import SqlExpr
from .result import QueryResult
from .values import check_writable

if TYPE_CHECKING:
    from ..connection import Session
    from .builder import TableQueryBuilder

Row = dict[str, Any]


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


class InsertQuery:
    """An insert (one row, many rows, or an upsert). Await it or call ``execute()``."""

    __slots__ = ("_base", "_bulk", "_on_conflict", "_returning", "columns", "rows")

    def __init__(
        self,
        base: TableQueryBuilder,
        columns: tuple[str, ...],
        rows: Sequence[tuple[Any, ...]],
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
            return cast("tuple[tuple[tree.Expr, ...], ...]", self.rows)
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

    def _check_writable(self) -> None:
        session = self._base._session
        if session.read_only:
            what = "upsert" if self._on_conflict else "insert_many" if self._bulk else "insert"
            raise refused(session.manager, what, self._base._table.name)

    async def execute(self) -> QueryResult:
        self._check_writable()
        session = self._base._session
        table = self._base._table
        if self._bulk:
            inserted = await session.insert_many(
                table,
                self.columns,
                self.rows,
                self._returning or (),
                self._on_conflict,
                self._base._timeout,
            )
        else:
            result = await session.execute(self.to_sql(), self._base._timeout)
            inserted = QueryResult.from_insert(result)
        await session.manager.query_cache.written(session, (table.name,))
        return inserted

    def __await__(self) -> Generator[Any, None, QueryResult]:
        return self.execute().__await__()


class _FilteredWrite:
    """An update or a delete. Its filter is its table builder's: ``where`` and the other
    filters may come before ``update()``/``delete()`` or after, as in Knex, with the same
    statement either way; every call returns a new query."""

    __slots__ = ("_all", "_base", "_returning")

    _verb: str = ""

    def __init__(self, base: TableQueryBuilder) -> None:
        self._base = base
        self._all = base._all_rows
        self._returning: tuple[str, ...] = ()

    def all_rows(self) -> Self:
        """Run with no ``where``: touch every row on purpose."""
        new: Self = self._clone()
        new._all = True
        return new

    def returning(self, *columns: str) -> Self:
        new: Self = self._clone()
        new._returning = tuple(_name(c) for c in columns) or ("*",)
        return new

    def _clone(self) -> Any:
        raise NotImplementedError

    def _filtered(self, base: TableQueryBuilder) -> Self:
        new: Self = self._clone()
        new._base = base
        return new

    # ---- filters, after update()/delete() -----------------------------------------------
    def where(self, *args: WhereArg) -> Self:
        """Filter the rows to write, as ``TableQueryBuilder.where``; either order works:

        ``await qb.table("users").update({"active": False}).where("age", "<", 5)``
        is ``await qb.table("users").where("age", "<", 5).update({"active": False})``.
        """
        return self._filtered(self._base.where(*args))

    def or_where(self, *args: WhereArg) -> Self:
        """``... OR <condition>``: ``delete().where("age", "<", 5).or_where("age", None)``."""
        return self._filtered(self._base.or_where(*args))

    def where_not(self, *args: WhereArg) -> Self:
        """``AND NOT <condition>``: ``update({"active": True}).where_not({"banned": True})``."""
        return self._filtered(self._base.where_not(*args))

    def where_in(self, column: str | SqlExpr, values: Iterable[Any]) -> Self:
        """``delete().where_in("id", [1, 2, 3])``."""
        return self._filtered(self._base.where_in(column, values))

    def where_not_in(self, column: str | SqlExpr, values: Iterable[Any]) -> Self:
        return self._filtered(self._base.where_not_in(column, values))

    def where_null(self, column: str | SqlExpr) -> Self:
        """``update({"age": 0}).where_null("age")``."""
        return self._filtered(self._base.where_null(column))

    def where_not_null(self, column: str | SqlExpr) -> Self:
        return self._filtered(self._base.where_not_null(column))

    def where_between(self, column: str | SqlExpr, low: Any, high: Any) -> Self:
        """``delete().where_between("age", 1, 5)`` (both ends included)."""
        return self._filtered(self._base.where_between(column, low, high))

    def where_not_between(self, column: str | SqlExpr, low: Any, high: Any) -> Self:
        return self._filtered(self._base.where_not_between(column, low, high))

    def where_raw(self, sql: str, params: Sequence[Any] = ()) -> Self:
        """``delete().where_raw("age < ?", [5])``: SQL text with bound parameters."""
        return self._filtered(self._base.where_raw(sql, params))

    def _check_safe(self) -> None:
        if self._base._where is None and not self._all:
            raise UnsafeQueryError(
                f"{self._verb}() on {self._base._table.name!r} has no where(): it would touch "
                f"every row. Add a where(), or call .all_rows() if that is what you mean."
            )
        if self._base._joins or self._base._limit is not None or self._base._order_by:
            raise ValueError(f"{self._verb}() does not take joins, order_by or limit")
        session = self._base._session
        if session.read_only:
            raise refused(session.manager, self._verb, self._base._table.name)

    def to_sql(self) -> CompiledQuery:
        return self._base._session.compiler.compile(self.to_node())

    def to_node(self) -> tree.Node:
        raise NotImplementedError

    async def execute(self) -> QueryResult:
        self._check_safe()
        session = self._base._session
        result = await session.execute(self.to_sql(), self._base._timeout)
        await session.manager.query_cache.written(session, (self._base._table.name,))
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

    __slots__ = ("_params", "_read", "_session", "_sql", "_timeout")

    def __init__(self, session: Session, sql: str, params: Sequence[Any] = ()) -> None:
        if isinstance(params, str | bytes | Mapping):
            raise TypeError("raw() params must be a list or tuple of values")
        self._session = session
        self._sql = sql
        self._params = tuple(check_writable(p, "raw") for p in params)
        self._timeout: float | None = None
        self._read: ReadOptions | None = None  # None: the primary (raw SQL may write)

    def options(
        self,
        *,
        timeout: float | None = None,
        use_replica: bool | None = None,
        consistency: Consistency | None = None,
        max_lag: float | None = None,
    ) -> RawQuery:
        """As ``TableQueryBuilder.options``, except that raw SQL runs on the primary unless
        asked otherwise here, and then only a statement that reads (SELECT, ...)."""
        new = RawQuery(self._session, self._sql, self._params)
        new._timeout = timeout
        asked = use_replica is not None or consistency is not None or max_lag is not None
        if asked or self._read is not None:
            new._read = (self._read or ReadOptions()).merged(use_replica, consistency, max_lag)
        return new

    def _routing(self, sql: str) -> ReadOptions | None:
        read = self._read
        return read if read is not None and is_read_statement(sql) else None

    def to_sql(self) -> CompiledQuery:
        return self._session.compiler.compile(tree.Raw(self._sql, self._params))

    def _check_read(self) -> None:
        session = self._session
        if session.read_only:
            ensure_raw_read(session.manager, self._sql)

    async def all(self) -> list[Row]:
        self._check_read()
        compiled = self.to_sql()
        rows = await self._session.fetch(compiled, self._timeout, self._routing(compiled.sql))
        if _may_write(self._sql):
            await self._session.manager.query_cache.written(self._session, (ANY_TABLE,))
        return rows

    async def first(self) -> Row | None:
        rows = await self.all()
        return rows[0] if rows else None

    async def execute(self) -> QueryResult:
        self._check_read()
        compiled = self.to_sql()
        if _returns_rows(compiled.sql):
            rows = await self._session.fetch(compiled, self._timeout, self._routing(compiled.sql))
            outcome = QueryResult(rows, len(rows))
        else:
            result = await self._session.execute(compiled, self._timeout)
            outcome = QueryResult.from_insert(result)
        if _may_write(compiled.sql):
            # which tables a SQL text changes is not parsed (CTEs, triggers, procedures):
            # every cached result of this database goes
            await self._session.manager.query_cache.written(self._session, (ANY_TABLE,))
        return outcome

    def __await__(self) -> Generator[Any, None, QueryResult]:
        return self.execute().__await__()


_READ_STATEMENTS = frozenset(("select", "show", "explain", "describe", "desc", "table", "values"))


def _may_write(sql: str) -> bool:
    """Not plainly a read: anything but SELECT (without INTO), SHOW, EXPLAIN (without
    ANALYZE), DESCRIBE, TABLE or VALUES. WITH counts as a write, as it may hold one; a
    SELECT calling a function that writes is not recognised."""
    head = sql.lstrip(" \t\n(").split(None, 1)
    if not head or head[0].lower() not in _READ_STATEMENTS:
        return True
    lowered = sql.lower()
    return (head[0].lower() == "explain" and "analyze" in lowered) or " into " in lowered


_ROW_STATEMENTS = ("select", "with", "values", "show", "pragma", "explain", "describe", "table")


def _returns_rows(sql: str) -> bool:
    head = sql.lstrip(" \t\n(").split(None, 1)
    return bool(head) and (head[0].lower() in _ROW_STATEMENTS or " returning " in sql.lower())
