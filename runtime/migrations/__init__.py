"""Schema changes: DDL operations (``operations``) shared by the SchemaBuilder and the
migration tooling."""

from __future__ import annotations

from .migration import Migration
from .operations import (
    ColumnDefinition,
    ForeignKeyReference,
    IndexOptions,
    Operation,
    uuid_default,
)
from .planner import MigrationStatus
from .runner import MigrationManager, MigrationRun

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
