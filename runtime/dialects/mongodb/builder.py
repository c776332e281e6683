"""The query builder on MongoDB: ``db.query.table("users")`` on a ``mongodb`` /
``mongomock`` manager is a ``MongoTableQueryBuilder``.

Building (``select``/``where``/``order_by``/``limit``/``group_by``…) is the SQL builder's
own, unchanged; only the terminal methods differ: they compile the builder's tree with
``MongoCompiler`` and run the operation on the manager's ``MongoConnection`` (inside the
task's ``db.transaction()`` when there is one). Rows come back through
``document_to_row``: ``_id`` is ``id``.

What has no meaning on MongoDB raises ``UnsupportedOperation`` naming the operation, when
it is called: ``join``/``left_join``/``right_join``, ``where_raw``, ``to_sql``, and on the
``QueryBuilder`` ``raw``/``format``/``escape``/``quote``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast, overload

from ...errors import JadugarError, TransactionError, UnsupportedOperation
from ...query import tree
from ...query.builder import TableQueryBuilder
from ...query.expressions import SqlExpr
from ...query.result import QueryResult
from ...query.writes import DeleteQuery, InsertQuery, UpdateQuery
from ...read_only import refused
from .compiler import AGGREGATE_FIELD, MongoCompiler
from .connection import document_connection
from .errors import describe
from .ops import Aggregate, Count, Find, InsertMany, MongoOperation, MongoResult

if TYPE_CHECKING:
    from ...connection import Session
    from ...session_host import SessionHost
    from .driver import MongoTransaction

Row = dict[str, Any]
T = TypeVar("T")
DIALECT = "mongodb"

__all__ = [
    "DocumentTransaction",
    "MongoDeleteQuery",
    "MongoInsertQuery",
    "MongoTableQueryBuilder",
    "MongoUpdateQuery",
    "unsupported",
]


def unsupported(operation: str, hint: str = "") -> NoReturn:
    raise UnsupportedOperation(operation, DIALECT, hint)


_NO_SQL = "MongoDB runs operations, not SQL text"
_NO_JOINS = (
    "collections are not joined; load related documents with a second query (where_in on the keys)"
)


# ---------------------------------------------------------------------------------------
# Transactions


current_document_transaction: ContextVar[DocumentTransaction | None] = ContextVar(
    "jadugar_document_transaction", default=None
)


class DocumentTransaction:
    """``async with db.transaction() as tx:`` on MongoDB: a client session with a
    transaction; every builder call of the task runs in it until the block ends (commit;
    any exception aborts). A replica set or sharded cluster is needed: a standalone server
    and mongomock raise ``UnsupportedOperation`` when the block is entered. No savepoints:
    a transaction inside a transaction raises ``UnsupportedOperation``."""

    def __init__(self, manager: SessionHost) -> None:
        self.manager = manager
        self.active = False
        self._session: MongoTransaction | None = None
        self._context: Any = None
        self._token: Token[DocumentTransaction | None] | None = None

    @property
    def session(self) -> MongoTransaction:
        if self._session is None or not self.active:
            raise TransactionError(
                "the transaction is not active; run queries inside its `async with` block"
            )
        return self._session

    def table(self, name: str) -> MongoTableQueryBuilder:
        return MongoTableQueryBuilder(self.manager._session, name)

    async def __aenter__(self) -> DocumentTransaction:
        outer = current_document_transaction.get()
        if outer is not None and outer.active and outer.manager is self.manager:
            unsupported("a transaction inside a transaction (savepoints)")
        context = document_connection(self.manager).start_transaction()
        self._session = await context.__aenter__()
        self._context = context
        self.active = True
        self._token = current_document_transaction.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.active = False
        if self._token is not None:
            current_document_transaction.reset(self._token)
            self._token = None
        context, self._context = self._context, None
        if context is not None:
            await context.__aexit__(exc_type, exc, tb)


async def run_in_document_transaction(
    manager: SessionHost, fn: Callable[[DocumentTransaction], Awaitable[T]]
) -> T:
    async with DocumentTransaction(manager) as tx:
        return await fn(tx)


# ---------------------------------------------------------------------------------------
# Running operations


def _compiler(session: Session) -> MongoCompiler:
    return cast("MongoCompiler", session.compiler)


async def _run(
    session: Session, op: MongoOperation, timeout: float | None, rows: int = -1
) -> MongoResult:
    """Run ``op`` on the manager's connection (in the task's transaction, if any), with
    the ``query`` / ``error`` events the SQL session emits (``sql``: the operation's shape,
    never a value)."""
    manager = session.manager
    if timeout is None:
        timeout = manager.default_timeout
    conn = document_connection(manager)
    tx = current_document_transaction.get()
    mongo_tx = tx.session if tx is not None and tx.manager is manager else None
    events = manager.events
    if not events.observes_queries:
        return await conn.execute(op, mongo_tx, timeout)
    started = time.perf_counter()
    try:
        result = await conn.execute(op, mongo_tx, timeout)
    except JadugarError as exc:
        if events.has("error"):
            events.emit("error", {"sql": describe(op), "error": exc})
        raise
    if events.has("query"):
        count = len(result.documents) if isinstance(op, Find | Aggregate) else result.count
        events.emit(
            "query",
            {
                "sql": describe(op),
                "params": (),
                "duration": time.perf_counter() - started,
                "row_count": count,
            },
        )
    return result


def _decode_ids(compiler: MongoCompiler, ids: list[Any]) -> list[Any]:
    decode = compiler.decode_key
    return ids if decode is None else [decode(i) for i in ids]


# ---------------------------------------------------------------------------------------
# The table builder


class MongoTableQueryBuilder(TableQueryBuilder):
    """``db.query.table(name)`` on MongoDB: the SQL builder's building methods, terminal
    methods compiled by ``MongoCompiler`` and run on the ``MongoConnection``."""

    __slots__ = ()

    def _blank(self) -> MongoTableQueryBuilder:
        return MongoTableQueryBuilder(self._session, self._table)

    # ---- what has no meaning here ------------------------------------------------------
    def where_raw(self, sql: str, params: Sequence[Any] = ()) -> NoReturn:
        unsupported("where_raw", "a SQL fragment has no meaning on MongoDB; use where()")

    def join(self, table: str, *on: Any) -> NoReturn:
        unsupported("join", _NO_JOINS)

    def left_join(self, table: str, *on: Any) -> NoReturn:
        unsupported("left_join", _NO_JOINS)

    def right_join(self, table: str, *on: Any) -> NoReturn:
        unsupported("right_join", _NO_JOINS)

    def to_sql(self) -> NoReturn:
        unsupported("to_sql", f"{_NO_SQL}; to_operation() shows the operation")

    # ---- compiling ---------------------------------------------------------------------
    def to_operation(self, limit: int | None = None) -> Find | Aggregate:
        """The ``find`` or ``aggregate`` this query runs (``limit``: ``first()`` asks for 1)."""
        node = self.to_node()
        if limit is not None and (node.limit is None or node.limit > limit):
            node = tree.Select(
                node.table,
                node.columns,
                node.where,
                node.joins,
                node.group_by,
                node.having,
                node.order_by,
                limit,
                node.offset,
                node.distinct,
            )
        op = _compiler(self._session).compile_node(node)
        assert isinstance(op, Find | Aggregate)
        return op

    # ---- reading -----------------------------------------------------------------------
    async def _documents(self, limit: int | None) -> list[Row]:
        op = self.to_operation(limit)
        result = await _run(self._session, op, self._timeout)
        to_row = _compiler(self._session).document_to_row
        return [to_row(document) for document in result.documents]

    async def all(self) -> list[Row]:
        return await self._documents(None)

    async def first(self) -> Row | None:
        rows = await self._documents(1)
        return rows[0] if rows else None

    async def stream(self, batch_size: int = 1000) -> AsyncGenerator[Row, None]:
        """Rows one by one from a server cursor, ``batch_size`` documents per ``getMore``
        (a grouped or computed query runs as one ``aggregate``)."""
        if batch_size < 1:
            raise ValueError("stream() batch_size must be at least 1")
        op = self.to_operation()
        session = self._session
        to_row = _compiler(session).document_to_row
        if isinstance(op, Aggregate):
            for row in await self._documents(None):
                yield row
            return
        manager = session.manager
        timeout = self._timeout if self._timeout is not None else manager.default_timeout
        tx = current_document_transaction.get()
        mongo_tx = tx.session if tx is not None and tx.manager is manager else None
        batches = document_connection(manager).stream(op, batch_size, mongo_tx, timeout)
        async with aclosing(batches):
            async for batch in batches:
                for document in batch:
                    yield to_row(document)

    async def _aggregate(self, func: str, column: str | SqlExpr) -> Any:
        target: str | tree.Expr = column.node if isinstance(column, SqlExpr) else column
        op: Count | Aggregate = _compiler(self._session).aggregate_over(
            func, target, self.to_node()
        )
        result = await _run(self._session, op, self._timeout)
        if isinstance(op, Count):
            return result.count
        return result.documents[0].get(AGGREGATE_FIELD) if result.documents else None

    async def reserve_keys(self, count: int = 1) -> int:
        """Auto-increment keys on MongoDB: reserve ``count`` values of this collection's
        counter (a document ``{"_id": <collection>, "seq": n}`` in ``jadugar_counters``,
        one atomic ``find_one_and_update``); returns the last one. Emits ``query``."""
        session = self._session
        manager = session.manager
        if session.read_only:
            raise refused(manager, "reserve_keys", self._table.name)
        timeout = self._timeout if self._timeout is not None else manager.default_timeout
        tx = current_document_transaction.get()
        mongo_tx = tx.session if tx is not None and tx.manager is manager else None
        name = self._table.name
        started = time.perf_counter()
        last = await document_connection(manager).next_sequence(name, count, mongo_tx, timeout)
        if manager.events.has("query"):
            manager.events.emit(
                "query",
                {
                    "sql": f"jadugar_counters.find_one_and_update({name!r}, $inc)",
                    "params": (),
                    "duration": time.perf_counter() - started,
                    "row_count": 1,
                },
            )
        return last

    # ---- writing -----------------------------------------------------------------------
    def insert(self, data: Mapping[str, Any]) -> MongoInsertQuery:
        return MongoInsertQuery.of(super().insert(data))

    @overload
    def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> MongoInsertQuery: ...

    @overload
    def insert_many(
        self, rows: Sequence[Sequence[Any]], columns: Sequence[str]
    ) -> MongoInsertQuery: ...

    def insert_many(
        self,
        rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
        columns: Sequence[str] | None = None,
    ) -> MongoInsertQuery:
        if columns is None:
            query = super().insert_many(cast("Sequence[Mapping[str, Any]]", rows))
        else:
            query = super().insert_many(cast("Sequence[Sequence[Any]]", rows), columns)
        return MongoInsertQuery.of(query)

    def upsert(
        self,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        conflict: Sequence[str],
        update: Sequence[str] | None = None,
    ) -> MongoInsertQuery:
        """One ``update_many(upsert=True)`` per row (``$set`` the update columns,
        ``$setOnInsert`` the others); several rows run one after the other, not atomically
        outside a transaction. Needs a unique index on the conflict columns, as SQL does."""
        return MongoInsertQuery.of(super().upsert(data, conflict, update))

    def update(self, data: Mapping[str, Any]) -> MongoUpdateQuery:
        query = super().update(data)
        return MongoUpdateQuery(self, query._assignments)

    def delete(self) -> MongoDeleteQuery:
        return MongoDeleteQuery(self)


# ---------------------------------------------------------------------------------------
# Writes


class MongoInsertQuery(InsertQuery):
    """``insert_one`` / ``insert_many`` (``id`` → ``_id``; no ``id``: the server assigns an
    ``ObjectId``), or upserts. ``QueryResult.inserted_ids`` are the ``_id`` values;
    ``returning()`` gives the inserted documents back as rows."""

    __slots__ = ()

    @classmethod
    def of(cls, query: InsertQuery) -> MongoInsertQuery:
        return cls(
            query._base,
            query.columns,
            query.rows,
            bulk=query._bulk,
            returning=query._returning,
            on_conflict=query._on_conflict,
        )

    def _with(
        self,
        *,
        returning: tuple[str, ...] | None = None,
        on_conflict: tree.OnConflict | None = None,
    ) -> MongoInsertQuery:
        return MongoInsertQuery.of(super()._with(returning=returning, on_conflict=on_conflict))

    def returning(self, *columns: str) -> MongoInsertQuery:
        return MongoInsertQuery.of(super().returning(*columns))

    def to_sql(self) -> NoReturn:
        unsupported("to_sql", _NO_SQL)

    async def execute(self) -> QueryResult:
        self._check_writable()
        base = self._base
        session = base._session
        compiler = _compiler(session)
        conflict = self._on_conflict
        if conflict is None:
            op = compiler.insert(base._table, self.columns, self.rows)
            result = await _run(session, op, base._timeout)
            ids = _decode_ids(compiler, result.inserted_ids)
            return QueryResult(self._returned(compiler, op, result), result.count, ids)
        upserts = compiler.upsert_many(
            base._table, self.columns, self.rows, conflict.columns, conflict.update
        )
        total = 0
        inserted: list[Any] = []
        for upsert in upserts:
            done = await _run(session, upsert, base._timeout)
            total += done.count
            inserted.extend(done.inserted_ids)
        return QueryResult([], total, _decode_ids(compiler, inserted))

    def _returned(self, compiler: MongoCompiler, op: InsertMany, result: MongoResult) -> list[Row]:
        wanted = self._returning
        if not wanted:
            return []
        rows = []
        for document, key in zip(op.documents, result.inserted_ids, strict=False):
            row = compiler.document_to_row({"_id": key, **document})
            if "*" not in wanted:
                row = {name: row.get(name) for name in wanted}
            rows.append(row)
        return rows


async def _filtered_write(query: UpdateQuery | DeleteQuery) -> QueryResult:
    query._check_safe()
    base = query._base
    session = base._session
    op = _compiler(session).compile_node(query.to_node())
    assert not isinstance(op, tuple)
    result = await _run(session, op, base._timeout)
    return QueryResult([], result.count)


class MongoUpdateQuery(UpdateQuery):
    """``update_many`` with ``$set`` (``fn.now()``: ``$currentDate``); ``row_count`` is the
    number of documents the filter matched (as the SQL engines count)."""

    __slots__ = ()

    def _clone(self) -> MongoUpdateQuery:
        new = MongoUpdateQuery(self._base, self._assignments)
        new._all, new._returning = self._all, self._returning
        return new

    def to_sql(self) -> NoReturn:
        unsupported("to_sql", _NO_SQL)

    async def execute(self) -> QueryResult:
        return await _filtered_write(self)


class MongoDeleteQuery(DeleteQuery):
    """``delete_many``; ``row_count`` is the number of documents deleted."""

    __slots__ = ()

    def _clone(self) -> MongoDeleteQuery:
        new = MongoDeleteQuery(self._base)
        new._all, new._returning = self._all, self._returning
        return new

    def to_sql(self) -> NoReturn:
        unsupported("to_sql", _NO_SQL)

    async def execute(self) -> QueryResult:
        return await _filtered_write(self)
