"""``migrate --dry-run``: a session that runs reads (introspection) for real and records
every write instead of running it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..connection import Session
from ..dialects.base import ExecResult
from ..query import tree
from ..query.compiler import CompiledQuery
from ..query.literals import format_sql
from ..query.result import QueryResult

if TYPE_CHECKING:
    from ..session_host import SessionHost


class DryRunSession(Session):
    """Writes are appended to ``statements`` and never reach the database."""

    __slots__ = ("statements",)

    def __init__(self, manager: SessionHost) -> None:
        super().__init__(manager)
        self.statements: list[str] = []

    async def execute(self, compiled: CompiledQuery, timeout: float | None) -> ExecResult:
        compiler = self.compiler
        self.statements.append(
            format_sql(
                compiled.sql,
                compiled.params,
                backslash_escapes=compiler.backslash_escapes,
                pyformat=compiler.pyformat,
            )
        )
        return ExecResult([], 0)

    async def insert_many(
        self,
        table: tree.TableRef,
        columns: tuple[str, ...],
        rows: Sequence[tuple[Any, ...]],
        returning: tuple[str, ...],
        on_conflict: tree.OnConflict | None,
        timeout: float | None,
    ) -> QueryResult:
        self.statements.append(f"-- insert {len(rows)} row(s) into {table.name}")
        return QueryResult([], 0)
