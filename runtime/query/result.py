"""QueryResult: rows, affected count, inserted keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..dialects.base import ExecResult

Row = dict[str, Any]


@dataclass(slots=True)
class QueryResult:
    """``rows`` (dicts), ``row_count``, ``inserted_ids``, and ``id`` (the first inserted key)."""

    rows: list[Row]
    row_count: int
    inserted_ids: list[Any] = field(default_factory=list)

    @property
    def id(self) -> Any:
        return self.inserted_ids[0] if self.inserted_ids else None

    @classmethod
    def from_insert(cls, result: ExecResult, key: str = "id") -> QueryResult:
        if result.rows:
            ids = [row[key] if key in row else next(iter(row.values())) for row in result.rows]
        elif result.last_insert_id:
            ids = [result.last_insert_id]
        else:
            ids = []
        return cls(result.rows, result.row_count, ids)
