"""The writing half of ``SqlCompiler``: INSERT (one row set, or bulk placeholders),
UPDATE, DELETE, upsert and RETURNING; ``upsert_sql`` and ``default_values_sql`` are
dialect hooks."""

from __future__ import annotations

from typing import Any

from ..errors import UnsupportedOperation
from . import tree
from .compile_base import CompiledQuery, CompilerBase, _State


class WriteCompiler(CompilerBase):
    """Mixed into ``SqlCompiler``: the write statements' visitors and hooks."""

    # filled by SqlCompiler.__init__
    _insert_sql: dict[tuple[Any, ...], CompiledQuery]

    def upsert_sql(self, node: tree.OnConflict) -> str:
        cols = ", ".join(self.quote_column(c) for c in node.columns)
        if not node.update:
            return f" ON CONFLICT ({cols}) DO NOTHING"
        sets = ", ".join(f"{self.quote_column(c)} = EXCLUDED.{self.quote(c)}" for c in node.update)
        return f" ON CONFLICT ({cols}) DO UPDATE SET {sets}"

    def default_values_sql(self) -> str:
        return " DEFAULT VALUES"

    def insert_rows_sql(
        self,
        table: tree.TableRef,
        columns: tuple[str, ...],
        row_count: int,
        returning: tuple[str, ...],
        on_conflict: tree.OnConflict | None,
    ) -> CompiledQuery:
        """``INSERT … VALUES`` with placeholders for ``row_count`` rows (no params), cached:
        bulk inserts repeat the same shape chunk after chunk."""
        key = (table, columns, row_count, returning, on_conflict)
        cached = self._insert_sql.get(key)
        if cached is not None:
            return cached
        width = len(columns)
        if self.placeholder(1) == self.placeholder(2):  # positional: ? or %s
            row = "(" + ", ".join([self.placeholder(1)] * width) + ")"
            values = ", ".join([row] * row_count)
        else:
            values = ", ".join(
                "(" + ", ".join(self.placeholder(r * width + i) for i in range(1, width + 1)) + ")"
                for r in range(row_count)
            )
        state = _State()
        state.parts.append(
            f"INSERT INTO {self._table(table)} ("
            + ", ".join(self.quote_column(c) for c in columns)
            + ") VALUES "
            + values
        )
        if on_conflict is not None:
            state.parts.append(self.upsert_sql(on_conflict))
        self._returning(returning, state)
        compiled = CompiledQuery("".join(state.parts), ())
        if len(self._insert_sql) >= 64:
            self._insert_sql.clear()
        self._insert_sql[key] = compiled
        return compiled

    def _returning(self, columns: tuple[str, ...], state: _State) -> None:
        if not columns:
            return
        if not self.supports_returning:
            raise UnsupportedOperation("RETURNING", self.dialect_name)
        state.parts.append(
            " RETURNING " + ", ".join("*" if c == "*" else self.quote(c) for c in columns)
        )

    def _visit_insert(self, node: tree.Insert, state: _State) -> None:
        parts = state.parts
        parts.append("INSERT INTO " + self._table(node.table))
        if node.columns:
            parts.append(" (" + ", ".join(self.quote_column(c) for c in node.columns) + ") VALUES ")
            for r, row in enumerate(node.rows):
                parts.append(", (" if r else "(")
                for i, value in enumerate(row):
                    if i:
                        parts.append(", ")
                    self._visit(value, state)
                parts.append(")")
        else:
            parts.append(self.default_values_sql())
        if node.on_conflict is not None:
            parts.append(self.upsert_sql(node.on_conflict))
        self._returning(node.returning, state)

    def _visit_update(self, node: tree.Update, state: _State) -> None:
        parts = state.parts
        parts.append("UPDATE " + self._table(node.table) + " SET ")
        for i, (column, value) in enumerate(node.assignments):
            if i:
                parts.append(", ")
            parts.append(self.quote_column(column) + " = ")
            self._visit(value, state)
        if node.where is not None:
            parts.append(" WHERE ")
            self._visit(node.where, state)
        self._returning(node.returning, state)

    def _visit_delete(self, node: tree.Delete, state: _State) -> None:
        state.parts.append("DELETE FROM " + self._table(node.table))
        if node.where is not None:
            state.parts.append(" WHERE ")
            self._visit(node.where, state)
        self._returning(node.returning, state)
