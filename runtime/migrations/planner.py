"""Pure planning: migration files + history rows -> each migration's state, what to apply,
what to roll back, and what blocks ``migrate``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .files import MigrationFile

State = Literal["applied", "pending", "changed", "missing", "partial"]


@dataclass(frozen=True)
class HistoryRow:
    name: str
    batch: int
    checksum: str
    applied_at: str
    state: Literal["applied", "partial"] = "applied"
    statements: int = 0  # for a partial migration: statements that ran before it failed
    error: str | None = None
    ran: str | None = None  # the SQL of those statements, for repairing by hand


@dataclass(frozen=True)
class MigrationStatus:
    """One migration as ``get_status()`` reports it."""

    name: str
    state: State
    batch: int | None = None
    applied_at: str | None = None
    checksum: str | None = None
    statements: int = 0
    error: str | None = None


def statuses(files: Sequence[MigrationFile], rows: Sequence[HistoryRow]) -> list[MigrationStatus]:
    """Files in name order, then history rows whose file is gone (``missing``)."""
    by_name = {row.name: row for row in rows}
    result: list[MigrationStatus] = []
    for file in files:
        row = by_name.pop(file.name, None)
        if row is None:
            result.append(MigrationStatus(file.name, "pending", checksum=file.checksum))
            continue
        state: State = row.state
        if state == "applied" and row.checksum != file.checksum:
            state = "changed"
        result.append(
            MigrationStatus(
                file.name,
                state,
                row.batch,
                row.applied_at,
                file.checksum,
                row.statements,
                row.error,
            )
        )
    for row in sorted(by_name.values(), key=lambda r: r.name):
        result.append(MigrationStatus(row.name, "missing", row.batch, row.applied_at, row.checksum))
    return result


def blockers(states: Sequence[MigrationStatus], directory: str) -> list[str]:
    """Why ``migrate`` must not run, one sentence per problem (empty: go ahead)."""
    problems = []
    for s in states:
        if s.state == "changed":
            problems.append(
                f"{directory}/{s.name}.py was edited after it was applied (checksum differs): "
                "restore the file, or add a new migration for the new change"
            )
        elif s.state == "partial":
            problems.append(
                f"{s.name} failed part-way ({s.statements} statement(s) ran, no transactional "
                f"DDL here; error: {s.error}). Repair the database by hand, then run "
                f"`jadugar resolve {s.name} --applied` or `jadugar resolve {s.name} --rolled-back`"
            )
    return problems


def pending(states: Sequence[MigrationStatus]) -> list[str]:
    return [s.name for s in states if s.state == "pending"]


def last_batches(rows: Sequence[HistoryRow], steps: int) -> list[HistoryRow]:
    """The last ``steps`` applied migrations, newest first."""
    applied = [r for r in rows if r.state == "applied"]
    applied.sort(key=lambda r: (r.batch, r.name), reverse=True)
    return applied[: max(steps, 0)]
