"""DdlCompiler: a pure function from DDL operations to SQL statements.

The base class writes standard SQL; each dialect (``dialects/<db>/ddl.py``) sets a few
hooks: type names, auto-increment, enum, literal defaults, ALTER COLUMN, how an index or a
foreign key is dropped, and the introspection queries. Identifiers are quoted by the
dialect's ``SqlCompiler``; defaults are written as literals by ``query.literals.escape``.

Planning (``plan``) is pure too. A dialect whose statements depend on the live schema
(SQLite's table rebuild) asks for what it needs by raising ``NeedState``; the async shell
(``SchemaBuilder``) reads it and plans again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import UnsupportedOperation
from .migrations import operations as ops
from .migrations.operations import ColumnDefinition, ForeignKeyReference
from .query import tree
from .query.compiler import SqlCompiler
from .query.expressions import SqlExpr
from .query.literals import escape, format_sql

Row = dict[str, Any]
Query = tuple[str, tuple[Any, ...]]  # SQL with ? placeholders, and its parameters

# ---- introspection results -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """A column as the database reports it (``type`` in the database's own words)."""

    name: str
    type: str
    nullable: bool
    default: str | None  # the default's SQL text; None when there is none
    primary_key: bool = False
    auto_increment: bool = False


@dataclass(frozen=True, slots=True)
class IndexInfo:
    name: str
    columns: tuple[str, ...]  # an expression's SQL text for expression indexes
    unique: bool
    primary: bool = False


@dataclass(frozen=True, slots=True)
class ForeignKeyInfo:
    name: str | None  # None: declared without a name (SQLite only)
    columns: tuple[str, ...]
    table: str
    references: tuple[str, ...]
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"


# ---- plans -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a plan. With ``check``, it is a query whose rows mean the change
    broke something; ``check`` is the error message."""

    sql: str
    check: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``execute()`` runs. ``isolated``: on one connection of its own, between
    ``setup`` + BEGIN and COMMIT + ``teardown`` (SQLite rebuilds with foreign keys off)."""

    body: tuple[Statement, ...]
    isolated: bool = False
    setup: tuple[str, ...] = ()
    begin: tuple[str, ...] = ()
    teardown: tuple[str, ...] = ()

    def statements(self) -> list[str]:
        """Every statement in the order it runs."""
        body = [s.sql for s in self.body]
        if not self.isolated:
            return body
        return [*self.setup, *self.begin, *body, "COMMIT", *self.teardown]


class NeedState(Exception):
    """Raised by ``plan``: it needs the live ``table`` (or, with ``table=None``, the
    database-wide environment) for ``operation``."""

    def __init__(self, operation: str, table: str | None) -> None:
        super().__init__(operation, table)
        self.operation = operation
        self.table = table


@dataclass
class StateSource:
    """What planning knows of the live database: table states by name (lower case) and the
    environment, as ``parse_state`` / ``parse_environment`` made them. A missing entry
    raises ``NeedState``."""

    in_transaction: bool = False
    tables: dict[str, Any] = field(default_factory=dict)
    environment: Any = None

    def table(self, name: str, operation: str) -> Any:
        key = name.lower()
        if key not in self.tables:
            raise NeedState(operation, name)
        return self.tables[key]

    def env(self, operation: str) -> Any:
        if self.environment is None:
            raise NeedState(operation, None)
        return self.environment


# ---- the compiler --------------------------------------------------------------------------


class DdlCompiler:
    """Standard DDL; dialects override the hooks in the first section."""

    dialect_name: ClassVar[str] = "sql"
    types: ClassVar[Mapping[str, str]] = {}  # ColumnType -> SQL, with {length} {precision} {scale}
    increments_types: ClassVar[Mapping[str, str]] = {}  # increments / big_increments -> SQL
    create_table_suffix: ClassVar[str] = ""
    unique_as_index: ClassVar[bool] = False  # unique constraints are unique indexes
    partial_indexes: ClassVar[bool] = True
    index_methods: ClassVar[frozenset[str] | None] = None  # None: any word
    fk_actions: ClassVar[frozenset[str]] = frozenset(ops.FK_ACTIONS)

    def __init__(self, sql: SqlCompiler) -> None:
        self.sql = sql

    # ---- hooks -------------------------------------------------------------------------
    def enum_type(self, column: ColumnDefinition) -> str:
        """The type of an enum column; the base checks values with a CHECK constraint."""
        return "TEXT"

    def enum_check(self, table: str, column: ColumnDefinition) -> str | None:
        values = ", ".join(self.literal(v) for v in column.values)
        name = self.constraint_name(table, (column.name,), "check")
        return f"CONSTRAINT {self.ident(name)} CHECK ({self.ident(column.name)} IN ({values}))"

    def literal(self, value: Any, column: ColumnDefinition | None = None) -> str:
        """A value as a SQL literal (defaults, enum values)."""
        return escape(value, backslash_escapes=self.sql.backslash_escapes)

    def now_default(self, column: ColumnDefinition) -> str:
        return self.sql.now_sql()

    def uuid_default(self, column: ColumnDefinition) -> str:
        """The default of ``uuid_default()``: a new random UUID per row."""
        raise UnsupportedOperation(
            f"a generated UUID default (column {column.name!r})", self.dialect_name
        )

    def wrap_default(self, column: ColumnDefinition, literal: str) -> str:
        return literal

    def alter_column(self, op: ops.AlterColumn) -> list[str]:
        raise UnsupportedOperation("alter_column", self.dialect_name)

    def drop_index(self, op: ops.DropIndex) -> list[str]:
        return [f"DROP INDEX {self.index_ref(op.table, op.name)}"]

    def drop_foreign_key(self, op: ops.DropForeignKey) -> list[str]:
        return [f"ALTER TABLE {self.table(op.table)} DROP CONSTRAINT {self.ident(op.name)}"]

    def drop_unique(self, op: ops.DropUnique) -> list[str]:
        if self.unique_as_index:
            return self.drop_index(ops.DropIndex(op.table, op.name))
        return [f"ALTER TABLE {self.table(op.table)} DROP CONSTRAINT {self.ident(op.name)}"]

    def index_method_sql(self, method: str) -> tuple[str, str]:
        """(text before the column list, text after it) for ``IndexOptions.method``."""
        return f" USING {method.upper()}", ""

    # introspection: (sql with ? placeholders, params) and row parsers
    def has_table_query(self, table: str) -> Query:
        raise NotImplementedError

    def columns_query(self, table: str) -> Query:
        raise NotImplementedError

    def parse_columns(self, rows: list[Row]) -> list[ColumnInfo]:
        raise NotImplementedError

    def indexes_query(self, table: str) -> Query:
        raise NotImplementedError

    def parse_indexes(self, rows: list[Row]) -> list[IndexInfo]:
        raise NotImplementedError

    def foreign_keys_query(self, table: str) -> Query:
        raise NotImplementedError

    def parse_foreign_keys(self, rows: list[Row]) -> list[ForeignKeyInfo]:
        raise NotImplementedError

    # live state for planning (only dialects whose plan raises NeedState)
    def state_query(self, table: str) -> Query:
        raise NotImplementedError

    def parse_state(self, table: str, rows: list[Row]) -> Any:
        raise NotImplementedError

    def environment_queries(self) -> list[Query]:
        raise NotImplementedError

    def parse_environment(self, results: list[list[Row]]) -> Any:
        raise NotImplementedError

    # ---- planning ----------------------------------------------------------------------
    def plan(self, operations: Sequence[ops.Operation], source: StateSource) -> Plan:
        """The statements for ``operations``; the base needs no live state."""
        return Plan(tuple(Statement(s) for op in operations for s in self.compile(op)))

    def compile(self, op: ops.Operation) -> list[str]:
        """The statements of one operation that needs no live state."""
        handler = self._handlers().get(type(op))
        if handler is None:
            raise TypeError(f"{type(self).__name__} cannot compile {type(op).__name__}")
        return handler(op)

    def _handlers(self) -> dict[type[ops.Operation], Callable[[Any], list[str]]]:
        return {
            ops.CreateTable: self.create_table,
            ops.DropTable: self.drop_table,
            ops.RenameTable: self.rename_table,
            ops.AddColumn: self.add_column,
            ops.DropColumn: self.drop_column,
            ops.RenameColumn: self.rename_column,
            ops.AlterColumn: self.alter_column,
            ops.CreateIndex: self.create_index,
            ops.DropIndex: self.drop_index,
            ops.AddForeignKey: self.add_foreign_key,
            ops.DropForeignKey: self.drop_foreign_key,
            ops.AddUnique: self.add_unique,
            ops.DropUnique: self.drop_unique,
            ops.AddCheck: self.add_check,
            ops.DropCheck: self.drop_check,
            ops.RawSql: lambda op: [op.sql],
        }

    # ---- operations --------------------------------------------------------------------
    def create_table(self, op: ops.CreateTable) -> list[str]:
        names = [c.name.lower() for c in op.columns]
        if not op.columns:
            raise ValueError(f"create_table({op.name!r}) has no columns")
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ValueError(f"create_table({op.name!r}): column {duplicate!r} is defined twice")
        primary = self.primary_key(op)
        for column in (*primary, *(c for u in op.uniques for c in u.columns)):
            if column.lower() not in names:
                raise ValueError(f"create_table({op.name!r}): no column {column!r}")
        inline = primary[0] if len(primary) == 1 and not op.primary_key else None
        keys = {k.lower() for k in primary}
        items = [
            self.column_sql(
                op.name,
                c.model_copy(update={"nullable": False}) if c.name.lower() in keys else c,
                primary=c.name == inline,
            )
            for c in op.columns
        ]
        if primary and inline is None:
            items.append(f"PRIMARY KEY ({self.idents(primary)})")
        after: list[str] = []
        for unique in (*self._column_uniques(op.columns), *op.uniques):
            if self.unique_as_index:
                after += self.add_unique(ops.AddUnique(op.name, unique.columns, unique.name))
            else:
                items.append(self.unique_sql(op.name, unique.columns, unique.name))
        for reference in (*self._column_references(op.columns), *op.foreign_keys):
            items.append(self.foreign_key_sql(op.name, reference))
        items += [self.check_sql(check.name, check.expression) for check in op.checks]
        indexes = [ops.IndexDefinition((c.name,)) for c in op.columns if c.index]
        for index in (*indexes, *op.indexes):
            after += self.create_index(ops.CreateIndex(op.name, index.columns, index.options))
        exists = "IF NOT EXISTS " if op.if_not_exists else ""
        head = f"CREATE TABLE {exists}{self.table(op.name)} ({', '.join(items)})"
        return [head + self.create_table_suffix, *after]

    def primary_key(self, op: ops.CreateTable) -> tuple[str, ...]:
        flagged = [c.name for c in op.columns if c.primary]
        keys = list(op.primary_key) + [c for c in flagged if c not in op.primary_key]
        auto = [c.name for c in op.columns if c.type in ops.AUTO_INCREMENT_TYPES]
        if auto and len(keys) > 1:
            raise ValueError(
                f"create_table({op.name!r}): {auto[0]!r} is an auto-increment primary key, "
                f"so the primary key cannot also cover {[k for k in keys if k != auto[0]]}"
            )
        return tuple(keys)

    def drop_table(self, op: ops.DropTable) -> list[str]:
        return [f"DROP TABLE {'IF EXISTS ' if op.if_exists else ''}{self.table(op.name)}"]

    def rename_table(self, op: ops.RenameTable) -> list[str]:
        return [f"ALTER TABLE {self.table(op.name)} RENAME TO {self.table(op.new_name)}"]

    def add_column(self, op: ops.AddColumn) -> list[str]:
        column = op.column
        statements = [
            f"ALTER TABLE {self.table(op.table)} ADD COLUMN "
            + self.column_sql(op.table, column, primary=column.primary)
        ]
        statements += self.column_extras(op.table, column)
        return statements

    def column_extras(self, table: str, column: ColumnDefinition) -> list[str]:
        """Unique, foreign key and index of a column added to an existing table."""
        statements: list[str] = []
        if column.unique:
            statements += self.add_unique(ops.AddUnique(table, (column.name,)))
        for reference in self._column_references((column,)):
            statements += self.add_foreign_key(ops.AddForeignKey(table, reference))
        if column.index:
            statements += self.create_index(ops.CreateIndex(table, (column.name,)))
        return statements

    def drop_column(self, op: ops.DropColumn) -> list[str]:
        return [f"ALTER TABLE {self.table(op.table)} DROP COLUMN {self.ident(op.column)}"]

    def rename_column(self, op: ops.RenameColumn) -> list[str]:
        return [
            f"ALTER TABLE {self.table(op.table)} RENAME COLUMN {self.ident(op.column)} "
            f"TO {self.ident(op.new_name)}"
        ]

    def create_index(self, op: ops.CreateIndex) -> list[str]:
        options = op.options
        suffix = "unique" if options.unique else "index"
        name = options.name or self.constraint_name(op.table, op.columns, suffix)
        before = after = ""
        if options.method is not None:
            if self.index_methods is not None and options.method not in self.index_methods:
                raise UnsupportedOperation(
                    f"index method {options.method!r}",
                    self.dialect_name,
                    "use one of " + ", ".join(sorted(self.index_methods)),
                )
            before, after = self.index_method_sql(options.method)
        where = ""
        if options.where is not None:
            if not self.partial_indexes:
                raise UnsupportedOperation(
                    "a partial index (IndexOptions.where)", self.dialect_name
                )
            where = f" WHERE {options.where}"
        unique = "UNIQUE " if options.unique else ""
        return [
            f"CREATE {unique}INDEX {self.ident(name)} ON {self.table(op.table)}{before} "
            f"({self.idents(op.columns)}){after}{where}"
        ]

    def add_foreign_key(self, op: ops.AddForeignKey) -> list[str]:
        return [
            f"ALTER TABLE {self.table(op.table)} ADD {self.foreign_key_sql(op.table, op.reference)}"
        ]

    def add_unique(self, op: ops.AddUnique) -> list[str]:
        if self.unique_as_index:
            options = ops.IndexOptions(name=op.name, unique=True)
            return self.create_index(ops.CreateIndex(op.table, op.columns, options))
        return [
            f"ALTER TABLE {self.table(op.table)} ADD {self.unique_sql(op.table, op.columns, op.name)}"
        ]

    def add_check(self, op: ops.AddCheck) -> list[str]:
        return [f"ALTER TABLE {self.table(op.table)} ADD {self.check_sql(op.name, op.expression)}"]

    def drop_check(self, op: ops.DropCheck) -> list[str]:
        return [f"ALTER TABLE {self.table(op.table)} DROP CONSTRAINT {self.ident(op.name)}"]

    # ---- pieces ------------------------------------------------------------------------
    def check_sql(self, name: str, expression: str) -> str:
        """``CONSTRAINT <name> CHECK (<expression>)``; the expression is written as given."""
        if not expression.strip():
            raise ValueError(f"check {name!r} has an empty expression")
        return f"CONSTRAINT {self.ident(name)} CHECK ({expression})"

    def column_sql(self, table: str, column: ColumnDefinition, *, primary: bool) -> str:
        """``name TYPE [NOT NULL] [DEFAULT x] [PRIMARY KEY] [CHECK]``."""
        name = self.ident(column.name)
        if column.type in ops.AUTO_INCREMENT_TYPES:
            if not primary:
                raise ValueError(
                    f"column {column.name!r}: an auto-increment column must be the whole "
                    "primary key"
                )
            return f"{name} {self.increments_types[column.type]}"
        parts = [name, self.column_type(column)]
        if not column.nullable:
            parts.append("NOT NULL")
        default = self.default_sql(column)
        if default is not None:
            parts.append(f"DEFAULT {default}")
        if primary:
            parts.append("PRIMARY KEY")
        if column.type == "enum":
            check = self.enum_check(table, column)
            if check:
                parts.append(check)
        return " ".join(parts)

    def column_type(self, column: ColumnDefinition) -> str:
        if column.type == "enum":
            return self.enum_type(column)
        return self.types[column.type].format(
            length=column.length, precision=column.precision, scale=column.scale
        )

    def default_sql(self, column: ColumnDefinition) -> str | None:
        value = column.default
        if value is None:
            return None
        if isinstance(value, SqlExpr):
            return self.expression_sql(column, value.node)
        return self.wrap_default(column, self.literal(value, column))

    def expression_sql(self, column: ColumnDefinition, node: tree.Expr) -> str:
        if isinstance(node, tree.Func) and node.name == "now" and not node.args:
            return self.now_default(column)
        if isinstance(node, tree.Func) and node.name == "uuid" and not node.args:
            return self.uuid_default(column)
        if isinstance(node, tree.RawExpr):
            text = format_sql(node.sql, node.params, backslash_escapes=self.sql.backslash_escapes)
            return f"({text})"
        raise ValueError(
            f"column {column.name!r}: a default is a value, fn.now(), uuid_default() or "
            f"fn.raw('sql'), not {type(node).__name__}"
        )

    def unique_sql(self, table: str, columns: Sequence[str], name: str | None) -> str:
        name = name or self.constraint_name(table, columns, "unique")
        return f"CONSTRAINT {self.ident(name)} UNIQUE ({self.idents(columns)})"

    def foreign_key_sql(self, table: str, reference: ForeignKeyReference) -> str:
        """``CONSTRAINT <table>_<columns>_fkey FOREIGN KEY (…) REFERENCES …``."""
        return (
            f"CONSTRAINT {self.ident(self.foreign_key_name(table, reference))} "
            f"FOREIGN KEY ({self.idents(reference.columns)}) {self.references_sql(reference)}"
        )

    def foreign_key_name(self, table: str, reference: ForeignKeyReference) -> str:
        return reference.name or self.constraint_name(table, reference.columns, "fkey")

    def references_sql(self, reference: ForeignKeyReference) -> str:
        sql = f"REFERENCES {self.table(reference.table)} ({self.idents(reference.references)})"
        for event, action in (("DELETE", reference.on_delete), ("UPDATE", reference.on_update)):
            if action is None:
                continue
            if action not in self.fk_actions:
                raise UnsupportedOperation(f"ON {event} {action}", self.dialect_name)
            sql += f" ON {event} {action}"
        return sql

    def _column_uniques(self, columns: Sequence[ColumnDefinition]) -> list[ops.UniqueConstraint]:
        return [ops.UniqueConstraint((c.name,)) for c in columns if c.unique and not c.primary]

    def _column_references(self, columns: Sequence[ColumnDefinition]) -> list[ForeignKeyReference]:
        found = []
        for column in columns:
            target = column.reference
            if target is not None:
                found.append(
                    ForeignKeyReference(
                        column.name, target[0], target[1], column.on_delete, column.on_update
                    )
                )
        return found

    # ---- names -------------------------------------------------------------------------
    def table(self, name: str) -> str:
        """A table name, quoted (``schema.table`` allowed)."""
        return self.sql.quote_name(name)

    def ident(self, name: str) -> str:
        """One identifier (column, index, constraint), quoted; dots are part of the name."""
        return self.sql._quote_part(name)

    def idents(self, names: Sequence[str]) -> str:
        return ", ".join(self.ident(n) for n in names)

    def index_ref(self, table: str, name: str) -> str:
        """An index by name, in the table's schema when the table name has one."""
        schema, _, _ = table.rpartition(".")
        return f"{self.sql.quote_name(schema)}.{self.ident(name)}" if schema else self.ident(name)

    def constraint_name(self, table: str, columns: Sequence[str], suffix: str) -> str:
        """``<table>_<columns>_<suffix>``, shortened with a hash to the identifier limit."""
        return shorten(
            "_".join((table.rpartition(".")[2], *columns, suffix)), self.sql.max_identifier_length
        )


def shorten(name: str, limit: int) -> str:
    """``name`` when it fits in ``limit`` bytes, else a prefix and 8 hex digits of its hash:
    deterministic, and distinct names stay distinct."""
    encoded = name.encode()
    if len(encoded) <= limit:
        return name
    digest = hashlib.sha1(encoded).hexdigest()[:8]
    prefix = encoded[: limit - 9].decode(errors="ignore").rstrip("_")
    return f"{prefix}_{digest}"
