"""What every SQL statement's compilation shares: the compiled statement type, the
dialect settings and hooks (placeholders, quoting, transaction statements), identifier
quoting, and the visitor dispatch the statement visitors build on.

``SqlCompiler`` (compiler.py) sits on top of this, through ``WriteCompiler``
(compile_writes.py); dialects subclass ``SqlCompiler`` and override these hooks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NamedTuple

from . import tree
from .compile_placeholders import _convert_placeholders

ISOLATION_LEVELS = ("read_uncommitted", "read_committed", "repeatable_read", "serializable")


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


class CompilerBase:
    """Dialect settings and hooks, quoting and dispatch (standard SQL); a dialect subclass
    of ``SqlCompiler`` sets them."""

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

    # filled by SqlCompiler.__init__
    _quoted: dict[str, str]
    _visitors: dict[type[tree.Node], Callable[[Any, _State], None]]

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

    # ---- quoting -----------------------------------------------------------------------
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

    def _table(self, table: tree.TableRef) -> str:
        if table.alias:
            return f"{self.quote(table.name)} AS {self.quote(table.alias)}"
        return self.quote(table.name)

    # ---- raw SQL, isolation ------------------------------------------------------------
    def convert_placeholders(self, sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        """Turn ``$n`` or ``?`` placeholders of raw SQL into this dialect's, skipping
        quoted strings, identifiers and comments; returns the SQL and ordered params."""
        return _convert_placeholders(self, sql, tuple(params))

    def isolation_check(self, isolation: str | None) -> None:
        if isolation is not None and isolation not in ISOLATION_LEVELS:
            raise ValueError(
                f"unknown isolation level {isolation!r}; use one of {', '.join(ISOLATION_LEVELS)}"
            )

    def _isolation_words(self, isolation: str) -> str:
        self.isolation_check(isolation)
        return isolation.replace("_", " ").upper()

    # ---- dispatch ----------------------------------------------------------------------
    def _visit(self, node: tree.Node, state: _State) -> None:
        visitor = self._visitors.get(type(node))
        if visitor is None:
            raise TypeError(f"{type(self).__name__} cannot compile {type(node).__name__}")
        visitor(node, state)

    def _bind(self, value: Any, state: _State) -> str:
        state.params.append(value)
        return self.placeholder(len(state.params))

    def _sub(self, node: tree.Node, state: _State) -> str:
        """Compile a sub-expression into its own string (params still shared)."""
        saved = state.parts
        state.parts = []
        self._visit(node, state)
        text = "".join(state.parts)
        state.parts = saved
        return text

    def _append_raw(self, sql: str, params: tuple[Any, ...], state: _State) -> None:
        converted, ordered = _convert_placeholders(self, sql, params, offset=len(state.params))
        state.parts.append(converted)
        state.params.extend(ordered)
