"""Jadugar: a typed, code-generated, async data-access layer.

Example: ``async with DatabaseManager(url="sqlite:///app.db") as db:`` then
``await db.query.table("users").insert({"name": "Ada"})``.
"""

from __future__ import annotations

from .cache import CacheBackend, CacheKey, CacheMetrics, MemoryCacheBackend
from .config import (
    CacheOptions,
    DatabaseOptions,
    EncryptionOptions,
    MigrationOptions,
    PoolOptions,
    RetryOptions,
)
from .connection import Session
from .errors import (
    ConfigurationError,
    DatabaseConnectionError,
    DecryptionError,
    EncryptionError,
    IntegrityError,
    JadugarError,
    MigrationChecksumError,
    MigrationError,
    MigrationLockError,
    NotFoundError,
    PoolTimeoutError,
    QueryError,
    QueryTimeoutError,
    ReadOnlyError,
    RelationNotLoadedError,
    SchemaError,
    SerializationError,
    TransactionError,
    UnsafeQueryError,
    UnsupportedOperation,
    ValidationError,
)
from .health import HealthStatus
from .manager import DatabaseManager
from .migrations.operations import ColumnDefinition, ForeignKeyReference, IndexOptions
from .models import Model, ModelEvent, ModelQuery, Page, RelationshipBuilder
from .pool import ConnectionPool, PoolMetrics, PoolStatus
from .query.builder import DeleteQuery, InsertQuery, RawQuery, TableQueryBuilder, UpdateQuery
from .query.compiler import CompiledQuery
from .query.expressions import Column, Condition, SqlExpr, fn
from .query.query_builder import QueryBuilder
from .query.result import QueryResult
from .schema_builder import ColumnBuilder, SchemaBuilder, TableBuilder
from .schema_compiler import ColumnInfo, ForeignKeyInfo, IndexInfo
from .transaction import Transaction

# the runner registers itself for db.migrate() / db.rollback() (manager.use_migrator)
from .migrations import runner as _migrations_runner  # noqa: F401  # isort: skip

__version__ = "0.1.0"

__all__ = [
    "CacheBackend",
    "CacheKey",
    "CacheMetrics",
    "CacheOptions",
    "Column",
    "ColumnBuilder",
    "ColumnDefinition",
    "ColumnInfo",
    "CompiledQuery",
    "Condition",
    "ConfigurationError",
    "ConnectionPool",
    "DatabaseConnectionError",
    "DatabaseManager",
    "DatabaseOptions",
    "DecryptionError",
    "DeleteQuery",
    "EncryptionError",
    "EncryptionOptions",
    "ForeignKeyInfo",
    "ForeignKeyReference",
    "HealthStatus",
    "IndexInfo",
    "IndexOptions",
    "InsertQuery",
    "IntegrityError",
    "JadugarError",
    "MemoryCacheBackend",
    "MigrationChecksumError",
    "MigrationError",
    "MigrationLockError",
    "MigrationOptions",
    "Model",
    "ModelEvent",
    "ModelQuery",
    "NotFoundError",
    "Page",
    "PoolMetrics",
    "PoolOptions",
    "PoolStatus",
    "PoolTimeoutError",
    "QueryBuilder",
    "QueryError",
    "QueryResult",
    "QueryTimeoutError",
    "RawQuery",
    "ReadOnlyError",
    "RelationNotLoadedError",
    "RelationshipBuilder",
    "RetryOptions",
    "SchemaBuilder",
    "SchemaError",
    "SerializationError",
    "Session",
    "SqlExpr",
    "TableBuilder",
    "TableQueryBuilder",
    "Transaction",
    "TransactionError",
    "UnsafeQueryError",
    "UnsupportedOperation",
    "UpdateQuery",
    "ValidationError",
    "fn",
]
