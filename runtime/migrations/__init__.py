"""Schema changes: DDL operations (``operations``) shared by the SchemaBuilder and the
migration tooling.

``operations`` sits below the manager (the SchemaBuilder and the dialects' DDL use it), the
runner above it: the runner is imported on first use of its names, so importing
``jadugar.migrations.operations`` does not load the manager's upper layer
(tests/unit/test_layers.py). ``import jadugar`` loads it, which registers it for
``db.migrate()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .migration import Migration
from .operations import (
    ColumnDefinition,
    ForeignKeyReference,
    IndexOptions,
    Operation,
    uuid_default,
)
from .planner import MigrationStatus

if TYPE_CHECKING:
    from .runner import MigrationManager, MigrationRun

_RUNNER_NAMES = ("MigrationManager", "MigrationRun")


def __getattr__(name: str) -> Any:
    if name in _RUNNER_NAMES:
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ColumnDefinition",
    "ForeignKeyReference",
    "IndexOptions",
    "Migration",
    "MigrationManager",
    "MigrationRun",
    "MigrationStatus",
    "Operation",
    "uuid_default",
]
