"""What an auto-diff produces, for the SQL migrations (diff.py, operations of
``jadugar.migrations.operations``) and the MongoDB ones (mongo_diff.py, MongoSchemaBuilder
operations) alike: the steps of the next migration, each with its ``up`` and ``down``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Op = TypeVar("Op")


@dataclass
class Change(Generic[Op]):
    """One step: what ``up`` does, what ``down`` undoes, and why it may lose data."""

    summary: str
    up: list[Op]
    down: list[Op]
    destructive: str | None = None


@dataclass
class Plan(Generic[Op]):
    changes: list[Change[Op]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def warnings(self) -> list[str]:
        return [f"{c.summary}: {c.destructive}" for c in self.changes if c.destructive]

    def add(self, summary: str, up: Iterable[Op], down: Iterable[Op],
            destructive: str | None = None) -> None:  # fmt: skip
        self.changes.append(Change(summary, list(up), list(down), destructive))
