"""QueryBuilder: ``db.query`` / ``db.get_query_builder()``, the entry to tables and raw SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .builder import RawQuery, TableQueryBuilder
from .expressions import Functions, fn
from .literals import escape, format_sql

if TYPE_CHECKING:
    from ..connection import Session
    from ..schema_builder import SchemaBuilder
    from ..transaction import Transaction


class QueryBuilder:
    """``qb.table("users").where(...)``, ``qb.raw(sql, params)``, ``qb.transaction()``."""

    __slots__ = ("_session",)

    fn: Functions = fn

    def __init__(self, session: Session) -> None:
        self._session = session

    def table(self, name: str) -> TableQueryBuilder:
        return TableQueryBuilder(self._session, name)

    def raw(self, sql: str, params: Sequence[Any] = ()) -> RawQuery:
        return RawQuery(self._session, sql, params)

    def transaction(self, *, isolation: str | None = None, read_only: bool = False) -> Transaction:
        from ..transaction import Transaction

        return Transaction(self._session.manager, isolation=isolation, read_only=read_only)

    @property
    def schema(self) -> SchemaBuilder:
        """A new SchemaBuilder on this builder's session (SPEC 5); ``qb.schema()`` works too:
        ``await qb.schema.create_table("tags", lambda t: t.string("name"))``."""
        from ..schema_builder import SchemaBuilder

        return SchemaBuilder(self._session)

    def escape(self, value: Any) -> str:
        """A SQL literal for display and logs; statements always bind values instead."""
        return escape(value, backslash_escapes=self._session.compiler.backslash_escapes)

    def format(self, sql: str, params: Sequence[Any]) -> str:
        """``sql`` with ``params`` inlined as literals, for display and logs only."""
        compiler = self._session.compiler
        return format_sql(
            sql,
            params,
            backslash_escapes=compiler.backslash_escapes,
            pyformat=compiler.pyformat,
        )

    def quote(self, identifier: str) -> str:
        """An identifier quoted for this dialect, as it appears in SQL text you write."""
        return self._session.compiler.quote_name(identifier)
