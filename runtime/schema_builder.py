"""SchemaBuilder (SPEC 5): records DDL operations, then runs them.

    await db.schema.create_table("users", lambda t: (t.increments("id"), t.string("name")))
    await db.schema.add_column("users", ColumnDefinition("bio", "text")).drop_column("users", "x")

    schema = db.schema                      # a new, empty builder on every access
    with schema.create_table("posts") as t: # the block records ...
        t.increments("id")
    await schema.execute()                  # ... and execute() runs the batch

    async with db.schema.create_table("tags") as t:  # or: runs when the block ends
        t.string("name").unique()

A builder is a recorder: each method appends an operation and returns the builder, so calls
chain. ``await builder`` is ``await builder.execute()``, which runs the batch in order and
empties it. Statements run where the builder's session runs them: inside a migration's
transaction when there is one. ``to_sql()`` lists the statements without running them; on
SQLite a change that needs the table rebuild depends on the live table, so its statements
come from ``await to_sql_async()`` (``to_sql()`` says so). Both show exactly what
``execute()`` runs.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Awaitable, Callable, Generator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, overload

from .cache.backend import ANY_TABLE
from .connection import Session, current_transaction
from .errors import IntegrityError, JadugarError, QueryError, UnsupportedOperation
from .migrations import operations as ops
from .migrations.operations import ColumnDefinition, ForeignKeyReference, IndexOptions
from .query import tree
from .query.compiler import CompiledQuery
from .read_only import refused
from .schema_compiler import (
    ColumnInfo,
    DdlCompiler,
    ForeignKeyInfo,
    IndexInfo,
    NeedState,
    Plan,
    Query,
    Row,
    Statement,
    StateSource,
)
from .table_builder import ColumnBuilder, TableBuilder

if TYPE_CHECKING:
    from .dialects.base import DriverConnection
    from .session_host import SessionHost

Fetch = Callable[[Query], Awaitable[list[Row]]]


def _names(columns: str | Sequence[str]) -> tuple[str, ...]:
    return (columns,) if isinstance(columns, str) else tuple(columns)


class TableBlock:
    """What ``create_table(name)`` without ``fn`` returns: a ``with`` block records the
    table in its SchemaBuilder; an ``async with`` block also runs the batch at its end."""

    __slots__ = ("_if_not_exists", "_schema", "_table")

    def __init__(self, schema: SchemaBuilder, table: TableBuilder, if_not_exists: bool) -> None:
        self._schema = schema
        self._table = table
        self._if_not_exists = if_not_exists

    def __enter__(self) -> TableBuilder:
        return self._table

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._schema.add(self._table.to_operation(if_not_exists=self._if_not_exists))
            self._schema._unseen = True

    async def __aenter__(self) -> TableBuilder:
        return self._table

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.__exit__(None, None, None)
            await self._schema.execute()


class SchemaBuilder:
    """Creates, alters and inspects tables. Get one from ``db.schema`` (or ``qb.schema()``)."""

    __slots__ = ("_operations", "_session", "_unseen")

    def __init__(self, session: Session, operations: Sequence[ops.Operation] = ()) -> None:
        self._session = session
        self._operations: list[ops.Operation] = list(operations)
        self._unseen = False  # a `with` block recorded operations nobody ran or looked at

    def __del__(self) -> None:
        if self._unseen and self._operations:
            warnings.warn(
                f"a SchemaBuilder with {len(self._operations)} recorded operation(s) was dropped "
                "without running them: keep the builder (`schema = db.schema`) and "
                "`await schema.execute()` after its `with` blocks, or use `async with`",
                RuntimeWarning,
                stacklevel=2,
            )

    def __call__(self) -> SchemaBuilder:
        """``qb.schema()`` (SPEC's spelling) is the same builder as ``qb.schema``."""
        return self

    def __repr__(self) -> str:
        return f"<SchemaBuilder {len(self._operations)} operation(s)>"

    @property
    def operations(self) -> tuple[ops.Operation, ...]:
        """The recorded operations, in order."""
        self._unseen = False
        return tuple(self._operations)

    @property
    def _ddl(self) -> DdlCompiler:
        return self._session.dialect.ddl

    def add(self, *operations: ops.Operation) -> SchemaBuilder:
        """Record operations built elsewhere (the migration tooling):
        ``schema.add(DropIndex("users", "users_email_index"))``."""
        for op in operations:
            if not isinstance(op, ops.OPERATIONS):
                raise TypeError(f"not a DDL operation: {op!r}")
        self._operations.extend(operations)
        return self

    # ---- tables ------------------------------------------------------------------------
    @overload
    def create_table(
        self, name: str, fn: Callable[[TableBuilder], object], *, if_not_exists: bool = False
    ) -> SchemaBuilder: ...

    @overload
    def create_table(
        self, name: str, fn: None = None, *, if_not_exists: bool = False
    ) -> TableBlock: ...

    def create_table(
        self,
        name: str,
        fn: Callable[[TableBuilder], object] | None = None,
        *,
        if_not_exists: bool = False,
    ) -> SchemaBuilder | TableBlock:
        """``create_table("users", lambda t: (t.increments("id"), t.string("name")))``, or
        as a block: ``with schema.create_table("users") as t:`` / ``async with …``."""
        table = TableBuilder(name)
        if fn is None:
            return TableBlock(self, table, if_not_exists)
        fn(table)
        return self.add(table.to_operation(if_not_exists=if_not_exists))

    def alter_table(self, name: str, fn: Callable[[TableBuilder], object]) -> SchemaBuilder:
        """New columns, uniques, indexes and foreign keys with the table builder's methods:
        ``alter_table("users", lambda t: t.string("nickname", 50).nullable())``."""
        table = TableBuilder(name)
        fn(table)
        return self.add(*table.to_changes())

    def drop_table(self, name: str, *, if_exists: bool = False) -> SchemaBuilder:
        """``drop_table("users")``; ``if_exists=True`` for DROP TABLE IF EXISTS."""
        return self.add(ops.DropTable(name, if_exists))

    def rename_table(self, name: str, new_name: str) -> SchemaBuilder:
        """``rename_table("people", "users")``."""
        return self.add(ops.RenameTable(name, new_name))

    # ---- columns -----------------------------------------------------------------------
    def add_column(self, table: str, column: ColumnDefinition | ColumnBuilder) -> SchemaBuilder:
        """``add_column("users", ColumnDefinition("bio", "text"))``."""
        if isinstance(column, ColumnBuilder):
            column = column.definition()
        return self.add(ops.AddColumn(table, column))

    def drop_column(self, table: str, column: str) -> SchemaBuilder:
        """``drop_column("users", "bio")``: indexes and constraints on it go too (on SQLite
        by a table rebuild when it has any)."""
        return self.add(ops.DropColumn(table, column))

    def rename_column(self, table: str, column: str, new_name: str) -> SchemaBuilder:
        """``rename_column("users", "name", "full_name")``."""
        return self.add(ops.RenameColumn(table, column, new_name))

    def alter_column(
        self,
        table: str,
        column: ColumnDefinition | ColumnBuilder,
        *,
        changes: Sequence[str] = ("type", "nullable", "default"),
    ) -> SchemaBuilder:
        """The column becomes ``column``'s type, nullability and default; ``changes``
        narrows what is changed: ``alter_column("users", ColumnDefinition("age",
        "big_integer", nullable=False), changes=["type", "nullable"])``."""
        if isinstance(column, ColumnBuilder):
            column = column.definition()
        wanted = frozenset(changes)
        if not wanted or not wanted <= ops.ALTER_CHANGES:
            raise ValueError(f"alter_column changes must be among {sorted(ops.ALTER_CHANGES)}")
        return self.add(ops.AlterColumn(table, column, wanted))

    # ---- indexes and keys --------------------------------------------------------------
    def create_index(
        self, table: str, columns: str | Sequence[str], options: IndexOptions | None = None
    ) -> SchemaBuilder:
        """``create_index("users", ["email"], IndexOptions(unique=True))``."""
        return self.add(ops.CreateIndex(table, _names(columns), options or IndexOptions()))

    def drop_index(self, table: str, index: str | Sequence[str]) -> SchemaBuilder:
        """``drop_index("users", "users_email_index")`` or by columns:
        ``drop_index("users", ["email"])`` (the default name)."""
        return self.add(ops.DropIndex(table, self._name(table, index, "index")))

    def add_foreign_key(self, table: str, reference: ForeignKeyReference) -> SchemaBuilder:
        """``add_foreign_key("posts", ForeignKeyReference("user_id", "users", "id",
        on_delete="cascade"))``."""
        return self.add(ops.AddForeignKey(table, reference))

    def drop_foreign_key(self, table: str, foreign_key: str | Sequence[str]) -> SchemaBuilder:
        """``drop_foreign_key("posts", "posts_user_id_fkey")`` or by columns:
        ``drop_foreign_key("posts", ["user_id"])``."""
        columns = () if isinstance(foreign_key, str) else tuple(foreign_key)
        name = self._name(table, foreign_key, "fkey")
        return self.add(ops.DropForeignKey(table, name, columns))

    def add_unique(
        self, table: str, columns: str | Sequence[str], name: str | None = None
    ) -> SchemaBuilder:
        """``add_unique("users", ["team_id", "email"])``: ``<table>_<columns>_unique``."""
        return self.add(ops.AddUnique(table, _names(columns), name))

    def drop_unique(self, table: str, unique: str | Sequence[str]) -> SchemaBuilder:
        """``drop_unique("users", ["email"])`` or by name."""
        return self.add(ops.DropUnique(table, self._name(table, unique, "unique")))

    def add_check(self, table: str, name: str, expression: str) -> SchemaBuilder:
        """``add_check("order_lines", "order_lines_price_not_negative", "price >= 0")``: a
        named CHECK constraint (SQLite: by a table rebuild)."""
        return self.add(ops.AddCheck(table, name, expression))

    def drop_check(self, table: str, name: str) -> SchemaBuilder:
        """``drop_check("order_lines", "order_lines_price_not_negative")``."""
        return self.add(ops.DropCheck(table, name))

    def raw(self, sql: str) -> SchemaBuilder:
        """A statement of your own, run as written in its place in the batch."""
        return self.add(ops.RawSql(sql))

    def _name(self, table: str, given: str | Sequence[str], suffix: str) -> str:
        if isinstance(given, str):
            return given
        return self._ddl.constraint_name(table, tuple(given), suffix)

    # ---- statements --------------------------------------------------------------------
    def to_sql(self) -> list[str]:
        """The statements ``execute()`` runs, in order (server text: a literal ``%`` is
        written once). A SQLite table rebuild raises ``UnsupportedOperation`` pointing to
        ``to_sql_async()``: its statements come from the live table."""
        self._unseen = False
        try:
            return self._ddl.plan(
                self._operations, StateSource(self._in_transaction())
            ).statements()
        except NeedState as need:
            where = f" on table {need.table!r}" if need.table else ""
            raise UnsupportedOperation(
                f"to_sql() of {need.operation}{where}",
                self._ddl.dialect_name,
                "its statements depend on the live table definition (a table rebuild): "
                "use `await schema.to_sql_async()`",
            ) from None

    async def to_sql_async(self) -> list[str]:
        """``to_sql()`` that may read the live schema: exactly what ``execute()`` runs."""
        self._unseen = False
        return (await self._plan(self._fetch, self._in_transaction())).statements()

    async def execute(self) -> None:
        """Run the recorded operations in order, then forget them."""
        self._unseen = False
        if self._session.read_only and self._operations:
            first = self._operations[0]
            table = getattr(first, "table", None) or getattr(first, "name", None)
            raise refused(self._session.manager, f"schema change {first.kind}()", table)
        plan = await self._plan(self._fetch, self._in_transaction())
        if type(self._session).execute is not Session.execute:
            # a session that takes writes over (the migration dry run) sees every statement
            for sql in plan.statements():
                await self._session.execute(self._statement(sql), None)
        elif plan.isolated:
            await self._run_isolated(plan)
        else:
            for statement in plan.body:
                await self._run_on_session(statement)
        # a schema change (a rename, a dropped column) may change any cached result
        await self._session.manager.query_cache.written(self._session, (ANY_TABLE,))
        self._operations.clear()

    def __await__(self) -> Generator[Any, None, None]:
        return self.execute().__await__()

    def _in_transaction(self) -> bool:
        session = self._session
        if session.pinned is not None:
            return True
        tx = current_transaction.get()
        return tx is not None and tx.manager is session.manager and tx.active

    async def _plan(self, fetch: Fetch, in_transaction: bool) -> Plan:
        """Plan; each ``NeedState`` reads one more piece of live schema, then plans again."""
        ddl = self._ddl
        source = StateSource(in_transaction)
        while True:
            try:
                return ddl.plan(self._operations, source)
            except NeedState as need:
                if need.table is None:
                    results = [await fetch(q) for q in ddl.environment_queries()]
                    source.environment = ddl.parse_environment(results)
                else:
                    rows = await fetch(ddl.state_query(need.table))
                    source.tables[need.table.lower()] = ddl.parse_state(need.table, rows)

    def _statement(self, sql: str) -> CompiledQuery:
        """DDL as the driver takes it: no parameters, so no placeholders to convert."""
        return CompiledQuery(self._session.compiler.escape_percent(sql), ())

    async def _run_on_session(self, statement: Statement) -> None:
        compiled = self._statement(statement.sql)
        if statement.check is None:
            await self._session.execute(compiled, None)
        elif rows := await self._session.fetch(compiled, None):
            raise _check_failed(statement, rows)

    async def _run_isolated(self, plan: Plan) -> None:
        """On a connection of its own: setup (foreign keys off), BEGIN, the body planned
        again under the write lock, COMMIT, teardown (back on; a connection that could not
        be restored is discarded)."""
        manager = self._session.manager
        async with manager.pool.connection() as conn:
            runner = _ConnectionRunner(manager, conn)
            try:
                for sql in (*plan.setup, *plan.begin):
                    await runner.run(Statement(sql))
                body = (await self._plan(runner.fetch, True)).body
                for statement in body:
                    await runner.run(statement)
                await runner.run(Statement("COMMIT"))
            except BaseException:
                if conn.in_transaction and not conn.broken:
                    with contextlib.suppress(Exception):
                        await conn.execute_script("ROLLBACK", None)
                raise
            finally:
                try:
                    for sql in plan.teardown:
                        await runner.run(Statement(sql))
                except BaseException:
                    conn.broken = True  # never hand out a connection with foreign keys off
                    raise

    # ---- introspection -----------------------------------------------------------------
    async def _fetch(self, query: Query) -> list[Row]:
        sql, params = query
        return await self._session.fetch(
            self._session.compiler.compile(tree.Raw(sql, params)), None
        )

    async def has_table(self, name: str) -> bool:
        """``await schema.has_table("users")``."""
        rows = await self._fetch(self._ddl.has_table_query(name))
        return bool(rows and rows[0]["found"])

    async def has_column(self, table: str, column: str) -> bool:
        """``await schema.has_column("users", "email")`` (names compared case-insensitively)."""
        return any(c.name.lower() == column.lower() for c in await self.columns(table))

    async def columns(self, table: str) -> list[ColumnInfo]:
        """``await schema.columns("users")``: name, type (the database's words), nullable,
        default (SQL text), primary_key, auto_increment; in table order."""
        return self._ddl.parse_columns(await self._fetch(self._ddl.columns_query(table)))

    async def indexes(self, table: str) -> list[IndexInfo]:
        """``await schema.indexes("users")``: name, columns, unique, primary (unique
        constraints appear as their indexes)."""
        return self._ddl.parse_indexes(await self._fetch(self._ddl.indexes_query(table)))

    async def foreign_keys(self, table: str) -> list[ForeignKeyInfo]:
        """``await schema.foreign_keys("posts")``: name, columns, table, references,
        on_delete, on_update."""
        return self._ddl.parse_foreign_keys(await self._fetch(self._ddl.foreign_keys_query(table)))


class _ConnectionRunner:
    """Statements on one connection outside the Session, with the same query/error events."""

    def __init__(self, manager: SessionHost, conn: DriverConnection) -> None:
        self.manager = manager
        self.conn = conn
        self.compiler = manager.dialect.compiler

    async def fetch(self, query: Query) -> list[Row]:
        compiled = self.compiler.compile(tree.Raw(*query))
        rows: list[Row] = await self._observe(
            compiled.sql,
            self.conn.fetch(compiled.sql, compiled.params, self.manager.default_timeout),
        )
        return rows

    async def run(self, statement: Statement) -> None:
        sql = self.compiler.escape_percent(statement.sql)
        timeout = self.manager.default_timeout
        if statement.check is not None:
            rows = await self._observe(sql, self.conn.fetch(sql, (), timeout))
            if rows:
                raise _check_failed(statement, rows)
        else:
            await self._observe(sql, self.conn.execute_script(sql, timeout))

    async def _observe(self, sql: str, call: Awaitable[Any]) -> Any:
        events = self.manager.events
        started = time.perf_counter()
        try:
            result = await call
        except JadugarError as exc:
            if isinstance(exc, QueryError) and exc.sql is None:
                exc.sql = sql
            if events.has("error"):
                events.emit("error", {"sql": sql, "error": exc})
            raise
        if events.has("query"):
            count = len(result) if isinstance(result, list) else 0
            duration = time.perf_counter() - started
            events.emit(
                "query", {"sql": sql, "params": (), "duration": duration, "row_count": count}
            )
        return result


def _check_failed(statement: Statement, rows: list[Row]) -> IntegrityError:
    shown = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in rows[:5])
    more = f" (and {len(rows) - 5} more)" if len(rows) > 5 else ""
    table = str(rows[0].get("table", "")) or None
    return IntegrityError(
        f"{statement.check}: {shown}{more}", sql=statement.sql, kind="foreign_key", constraint=table
    )


__all__ = ["ColumnBuilder", "SchemaBuilder", "TableBlock", "TableBuilder"]
