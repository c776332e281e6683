"""Helpers for compile tests: builders with no database, and ``assert_sql``.

    assert_sql(
        lambda qb: qb.table("users").where("id", 1),
        postgres=('SELECT * FROM "users" WHERE "id" = $1', (1,)),
        mysql=("SELECT * FROM `users` WHERE `id` = %s", (1,)),
        sqlite=("SELECT * FROM `users` WHERE `id` = ?", (1,)),
    )

Every dialect is a required keyword, so adding a dialect forces every case to be
considered. The query is a function of the ``QueryBuilder`` because a builder belongs to
one session (its compiler and capabilities decide, e.g., the default ``RETURNING``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from jadugar import DatabaseManager
from jadugar.dialects.capabilities import Capabilities
from jadugar.query.compiler import CompiledQuery, SqlCompiler
from jadugar.query.query_builder import QueryBuilder

if TYPE_CHECKING:
    from jadugar.connection import Session

DIALECTS = ("postgres", "mysql", "sqlite")
URLS = {
    "postgres": "postgresql://app@127.0.0.1:5432/app",
    "mysql": "mysql://app@127.0.0.1:3306/app",
    "sqlite": "sqlite:///:memory:",
}
QUOTE_CHARS = {"postgres": '"', "mysql": "`", "sqlite": "`"}


class Compilable(Protocol):
    def to_sql(self) -> CompiledQuery: ...


@dataclass(frozen=True)
class Raises:
    """Expected outcome of ``assert_sql`` for a dialect that must refuse the query."""

    error: type[BaseException]
    match: str = ""


Expected = tuple[str, Sequence[Any]] | Raises
QueryFn = Callable[[QueryBuilder], Compilable]


@functools.cache
def manager(dialect: str) -> DatabaseManager:
    """A DatabaseManager that is never connected: building and compiling need no I/O."""
    return DatabaseManager(url=URLS[dialect])


def qb(dialect: str) -> QueryBuilder:
    return manager(dialect).query


def compiler(dialect: str) -> SqlCompiler:
    return manager(dialect).dialect.compiler


class OfflineSession:
    """Just enough of ``Session`` for builders: ``compiler`` and ``capabilities``.

    Any statement that would reach the database fails with ``AssertionError`` unless
    ``rows`` is given, in which case ``fetch`` records the query and returns the rows.
    """

    def __init__(
        self,
        compiler: SqlCompiler,
        capabilities: Capabilities,
        rows: list[dict[str, Any]] | None = None,
    ) -> None:
        self.compiler = compiler
        self.capabilities = capabilities
        self.manager = None
        self.pinned = None
        self.read_only = False
        self.rows = rows
        self.fetched: list[CompiledQuery] = []

    async def fetch(
        self, compiled: CompiledQuery, timeout: float | None, read: object = None
    ) -> list[dict[str, Any]]:
        if self.rows is None:
            raise AssertionError(f"must not run: {compiled.sql}")
        self.fetched.append(compiled)
        return list(self.rows)

    async def execute(self, compiled: CompiledQuery, timeout: float | None) -> Any:
        raise AssertionError(f"must not run: {compiled.sql}")

    async def insert_many(self, *args: Any) -> Any:
        raise AssertionError("must not run: insert_many")

    def stream(self, *args: Any) -> Any:
        raise AssertionError("must not run: stream")


def offline_qb(
    dialect: str,
    *,
    compiler: SqlCompiler | None = None,
    rows: list[dict[str, Any]] | None = None,
) -> tuple[QueryBuilder, OfflineSession]:
    """A QueryBuilder over an OfflineSession (optionally with a custom compiler)."""
    real = manager(dialect).dialect
    session = OfflineSession(compiler or real.compiler, real.capabilities, rows)
    return QueryBuilder(cast("Session", session)), session


# ---- placeholders -------------------------------------------------------------------------
_QUOTED = {
    # strings, quoted identifiers and comments, as each server's lexer sees them
    "postgres": re.compile(r"'(?:[^']|'')*'" r'|"(?:[^"]|"")*"' r"|--[^\n]*|/\*.*?\*/", re.DOTALL),
    "sqlite": re.compile(
        r"'(?:[^']|'')*'" r'|"(?:[^"]|"")*"' r"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/",
        re.DOTALL,
    ),
}
_PYFORMAT = re.compile(r"%(.?)", re.DOTALL)


def placeholders(dialect: str, sql: str) -> int:
    """How many parameters the driver will bind into ``sql``.

    PostgreSQL: ``$n`` outside quotes, numbered 1..n with no gap; SQLite: ``?`` outside
    quotes; MySQL: the text goes through Python's ``%`` formatting *as a whole* (quotes do
    not protect anything), so every ``%`` must be ``%%`` or ``%s``.
    """
    if dialect == "mysql":
        count = 0
        for match in _PYFORMAT.finditer(sql):
            spec = match.group(1)
            if spec == "s":
                count += 1
            elif spec != "%":
                raise AssertionError(f"stray % in MySQL SQL (not %% or %s): {sql!r}")
        return count
    bare = _QUOTED[dialect].sub(" ", sql)
    if dialect == "postgres":
        numbers = [int(n) for n in re.findall(r"\$(\d+)", bare)]
        if numbers != list(range(1, len(numbers) + 1)):
            raise AssertionError(f"$n placeholders out of order: {numbers} in {sql!r}")
        return len(numbers)
    return bare.count("?")


def unquoted_text(dialect: str, sql: str) -> str:
    """``sql`` with its quoted identifiers blanked out (for balance checks)."""
    q = QUOTE_CHARS[dialect]
    return re.sub(
        f"{re.escape(q)}(?:[^{re.escape(q)}]|{re.escape(q * 2)})*{re.escape(q)}", " ", sql
    )


# ---- assert_sql ---------------------------------------------------------------------------
def _outcome(dialect: str, query: QueryFn) -> tuple[str, tuple[Any, ...]] | BaseException:
    try:
        compiled = query(qb(dialect)).to_sql()
    except Exception as exc:
        return exc
    return compiled.sql, compiled.params


def _typed(params: Sequence[Any]) -> list[tuple[type, Any]]:
    # 1 == True == 1.0 in Python; a bound parameter's type matters to the driver
    return [(type(p), p) for p in params]


def assert_sql(query: QueryFn, *, postgres: Expected, mysql: Expected, sqlite: Expected) -> None:
    """Compile ``query`` for every dialect and compare with the expected (sql, params)."""
    expected: dict[str, Expected] = {"postgres": postgres, "mysql": mysql, "sqlite": sqlite}
    problems: list[str] = []
    for dialect in DIALECTS:
        want = expected[dialect]
        got = _outcome(dialect, query)
        if isinstance(want, Raises):
            if not isinstance(got, want.error) or not re.search(want.match, str(got)):
                problems.append(
                    f"{dialect}: expected {want.error.__name__}({want.match!r}), got {got!r}"
                )
            continue
        if isinstance(got, BaseException):
            problems.append(f"{dialect}: raised {type(got).__name__}: {got}")
            continue
        want_sql, want_params = want
        sql, params = got
        if sql != want_sql:
            problems.append(f"{dialect} sql:\n  expected {want_sql!r}\n  got      {sql!r}")
        if _typed(params) != _typed(tuple(want_params)):
            problems.append(
                f"{dialect} params:\n  expected {tuple(want_params)!r}\n  got      {params!r}"
            )
        count = placeholders(dialect, sql)
        if count != len(params):
            problems.append(f"{dialect}: {count} placeholders but {len(params)} params in {sql!r}")
    if problems:
        raise AssertionError("\n".join(problems))


def compile_all(query: QueryFn) -> dict[str, CompiledQuery]:
    """The query compiled for every dialect (raises what the builder/compiler raises)."""
    return {dialect: query(qb(dialect)).to_sql() for dialect in DIALECTS}
