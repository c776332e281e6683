"""QueryBuilder: ``db.query`` / ``db.get_query_builder()``, the entry to tables and raw SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, cast

from .builder import RawQuery, TableQueryBuilder
from .expressions import Functions, fn
from .literals import escape, format_sql

if TYPE_CHECKING:
    from ..connection import Session
    from ..dialects.mongodb.schema import MongoSchemaBuilder
    from ..schema_builder import SchemaBuilder
    from ..transaction import Transaction


class QueryBuilder:
    """``qb.table("users").where(...)``, ``qb.raw(sql, params)``, ``qb.transaction()``.

    On a document store (MongoDB) ``table()`` gives the dialect's builder (same building
    methods, terminal methods compiled to its operations) and the SQL-only entry points
    (``raw``, ``format``, ``escape``, ``quote``) raise ``UnsupportedOperation``; ``schema``
    is a ``MongoSchemaBuilder`` there (typed by ``document_schema``)."""

    __slots__ = ("_session", "_table_type")

    fn: Functions = fn

    def __init__(self, session: Session) -> None:
        self._session = session
        self._table_type: type[TableQueryBuilder] = TableQueryBuilder
        if session.capabilities.document_store:  # its own builder, chosen once
            engine = session.dialect.document_engine
            assert engine is not None, "a document store's dialect has a document_engine"
            self._table_type = engine.table_type

    @property
    def document_store(self) -> bool:
        """True on a document store (MongoDB): no SQL, ``schema`` is a MongoSchemaBuilder."""
        return self._session.capabilities.document_store

    def table(self, name: str) -> TableQueryBuilder:
        if self._session.capabilities.document_store:
            from ..migrations.dry_run import DryRunSession

            if isinstance(self._session, DryRunSession):
                # MongoDB operations run on the connection, not through the session: a dry
                # run cannot record them, so it refuses instead of running them for real
                from ..errors import UnsupportedOperation

                raise UnsupportedOperation(
                    "data access in a migration dry run",
                    self._session.dialect.name,
                    "a dry run lists the schema operations (db.schema) only",
                )
        return self._table_type(self._session, name)

    def _sql_only(self, operation: str) -> NoReturn:
        from ..errors import UnsupportedOperation

        raise UnsupportedOperation(
            operation, self._session.dialect.name, "there is no SQL on a document store"
        )

    def raw(self, sql: str, params: Sequence[Any] = ()) -> RawQuery:
        if self._session.capabilities.document_store:
            self._sql_only("raw")
        return RawQuery(self._session, sql, params)

    def transaction(self, *, isolation: str | None = None, read_only: bool = False) -> Transaction:
        from ..transaction import Transaction

        manager = self._session.manager
        if self._session.capabilities.document_store:
            return cast(
                "Transaction", manager.transaction(isolation=isolation, read_only=read_only)
            )
        return Transaction(manager, isolation=isolation, read_only=read_only)

    @property
    def schema(self) -> SchemaBuilder:
        """A new SchemaBuilder on this builder's session (SPEC 5); ``qb.schema()`` works too:
        ``await qb.schema.create_table("tags", lambda t: t.string("name"))``."""
        from ..schema_builder import SchemaBuilder

        engine = self._session.dialect.document_engine if self.document_store else None
        if engine is not None:
            # the document store's schema builder, typed as the SQL one so SQL code keeps
            # its types: use ``document_schema`` for checked document-store code
            return cast("SchemaBuilder", engine.schema(self._session))
        return SchemaBuilder(self._session)

    @property
    def document_schema(self) -> MongoSchemaBuilder:
        """A new MongoSchemaBuilder on a document store (MongoDB): what ``schema`` returns
        there, with its own type: ``await db.document_schema.create_collection("events")``."""
        engine = self._session.dialect.document_engine
        if engine is None:
            from ..errors import UnsupportedOperation

            raise UnsupportedOperation(
                "document_schema", self._session.dialect.name, "use schema (SQL SchemaBuilder)"
            )
        return cast("MongoSchemaBuilder", engine.schema(self._session))

    def escape(self, value: Any) -> str:
        """A SQL literal for display and logs; statements always bind values instead."""
        if self._session.capabilities.document_store:
            self._sql_only("escape")
        return escape(value, backslash_escapes=self._session.compiler.backslash_escapes)

    def format(self, sql: str, params: Sequence[Any]) -> str:
        """``sql`` with ``params`` inlined as literals, for display and logs only."""
        if self._session.capabilities.document_store:
            self._sql_only("format")
        compiler = self._session.compiler
        return format_sql(
            sql,
            params,
            backslash_escapes=compiler.backslash_escapes,
            pyformat=compiler.pyformat,
        )

    def quote(self, identifier: str) -> str:
        """An identifier quoted for this dialect, as it appears in SQL text you write."""
        if self._session.capabilities.document_store:
            self._sql_only("quote")
        return self._session.compiler.quote_name(identifier)
