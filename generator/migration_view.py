"""What the migration templates (migration.py.j2, mongo_migration.py.j2) are rendered from:
a plan's steps as code lines, ``up`` in order and ``down`` in reverse, and the class name
and title made of the migration's name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .migration_plan import Plan

Op = TypeVar("Op")


@dataclass(frozen=True)
class StepView:
    summary: str
    destructive: str | None
    lines: list[str]


@dataclass
class MigrationView:
    title: str
    cls: str
    up: list[StepView]
    down: list[StepView]
    warnings: list[str]
    imports: str = ""
    uses_decimal: bool = False
    uses_fn: bool = False  # fn.now() / fn.raw() defaults


def migration_view(
    name: str, plan: Plan[Op], code: Callable[[list[Op]], list[str]]
) -> MigrationView:
    """The view of migration ``name`` (a slug); ``code`` writes operations as lines."""
    up = [StepView(c.summary, c.destructive, code(c.up)) for c in plan.changes]
    down = [StepView(c.summary, None, code(c.down)) for c in reversed(plan.changes)]
    cls = "".join(p.capitalize() for p in name.split("_")) or "Migration"
    return MigrationView(
        title=name.replace("_", " ").capitalize(),
        cls=cls if cls[0].isalpha() else f"Migration{cls}",
        up=up,
        down=down,
        warnings=plan.warnings,
    )
