"""TableBuilder and ColumnBuilder: what ``create_table(name, fn)`` hands to ``fn``.

    def users(t: TableBuilder) -> None:
        t.increments("id")
        t.string("email", 100).not_null().unique()
        t.integer("team_id").references("teams.id").on_delete("cascade")
        t.timestamps()

Builders record; ``TableBuilder.to_operation()`` turns the record into a frozen
``CreateTable`` operation (validated there: every mistake names the table and column).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .migrations import operations as ops
from .migrations.operations import ColumnDefinition, ForeignKeyReference, IndexOptions, fk_action
from .query.expressions import fn


def _columns(columns: str | Sequence[str]) -> tuple[str, ...]:
    return (columns,) if isinstance(columns, str) else tuple(columns)


class ColumnBuilder:
    """One column; every modifier returns the builder, so they chain."""

    __slots__ = ("_options", "name", "type")

    def __init__(self, name: str, type: ops.ColumnType, **options: Any) -> None:
        self.name = name
        self.type: ops.ColumnType = type
        self._options = options

    def not_null(self) -> ColumnBuilder:
        """``t.string("name").not_null()``: NOT NULL."""
        self._options["nullable"] = False
        return self

    def nullable(self) -> ColumnBuilder:
        """``t.string("bio").nullable()``: NULL allowed (the default)."""
        self._options["nullable"] = True
        return self

    def unique(self) -> ColumnBuilder:
        """``t.string("email").unique()``: constraint ``<table>_<column>_unique``."""
        self._options["unique"] = True
        return self

    def primary(self) -> ColumnBuilder:
        """``t.uuid("id").primary()``: the primary key (several: a composite key)."""
        self._options["primary"] = True
        return self

    def index(self) -> ColumnBuilder:
        """``t.integer("age").index()``: index ``<table>_<column>_index``."""
        self._options["index"] = True
        return self

    def default_to(self, value: Any) -> ColumnBuilder:
        """``default_to(0)``, ``default_to("draft")``, ``default_to(fn.now())`` or
        ``default_to(fn.raw("gen_random_uuid()"))``: values become escaped literals."""
        self._options["default"] = value
        return self

    def references(self, target: str) -> ColumnBuilder:
        """``t.integer("user_id").references("users.id")``: foreign key
        ``<table>_<column>_fkey``."""
        self._options["references"] = target
        return self

    def on_delete(self, action: str) -> ColumnBuilder:
        """``.on_delete("cascade")``: cascade, set null, set default, restrict, no action."""
        self._options["on_delete"] = fk_action(action)
        return self

    def on_update(self, action: str) -> ColumnBuilder:
        """``.on_update("cascade")``, as ``on_delete``."""
        self._options["on_update"] = fk_action(action)
        return self

    def definition(self) -> ColumnDefinition:
        """The frozen ``ColumnDefinition`` recorded so far."""
        return ColumnDefinition(self.name, self.type, **self._options)


class TableBuilder:
    """Columns, keys and indexes of one table (``create_table`` and ``alter_table``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.columns: list[ColumnBuilder] = []
        self.primary_key: tuple[str, ...] = ()
        self.uniques: list[ops.UniqueConstraint] = []
        self.indexes: list[ops.IndexDefinition] = []
        self.foreign_keys: list[ForeignKeyReference] = []
        self.checks: list[ops.CheckConstraint] = []

    def _add(self, name: str, type: ops.ColumnType, **options: Any) -> ColumnBuilder:
        column = ColumnBuilder(name, type, **options)
        self.columns.append(column)
        return column

    # ---- column types ------------------------------------------------------------------
    def increments(self, name: str = "id") -> ColumnBuilder:
        """``t.increments()``: auto-increment INTEGER primary key ``id``."""
        return self._add(name, "increments")

    def big_increments(self, name: str = "id") -> ColumnBuilder:
        """``t.big_increments()``: auto-increment BIGINT primary key ``id``."""
        return self._add(name, "big_increments")

    def integer(self, name: str) -> ColumnBuilder:
        """``t.integer("age")``."""
        return self._add(name, "integer")

    def big_integer(self, name: str) -> ColumnBuilder:
        """``t.big_integer("views")``."""
        return self._add(name, "big_integer")

    def small_integer(self, name: str) -> ColumnBuilder:
        """``t.small_integer("rank")``."""
        return self._add(name, "small_integer")

    def float(self, name: str) -> ColumnBuilder:
        """``t.float("ratio")``: single precision (REAL / FLOAT)."""
        return self._add(name, "float")

    def double(self, name: str) -> ColumnBuilder:
        """``t.double("latitude")``: double precision."""
        return self._add(name, "double")

    def decimal(self, name: str, precision: int = 8, scale: int = 2) -> ColumnBuilder:
        """``t.decimal("price", 10, 2)``: exact NUMERIC/DECIMAL(precision, scale)."""
        return self._add(name, "decimal", precision=precision, scale=scale)

    def string(self, name: str, length: int = 255) -> ColumnBuilder:
        """``t.string("email", 100)``: VARCHAR(length)."""
        return self._add(name, "string", length=length)

    def text(self, name: str) -> ColumnBuilder:
        """``t.text("body")``: unbounded text (LONGTEXT on MySQL)."""
        return self._add(name, "text")

    def boolean(self, name: str) -> ColumnBuilder:
        """``t.boolean("active").default_to(True)``."""
        return self._add(name, "boolean")

    def date(self, name: str) -> ColumnBuilder:
        """``t.date("born_on")``."""
        return self._add(name, "date")

    def time(self, name: str) -> ColumnBuilder:
        """``t.time("opens_at")``."""
        return self._add(name, "time")

    def timestamp(self, name: str) -> ColumnBuilder:
        """``t.timestamp("paid_at")``: TIMESTAMPTZ / DATETIME(6) / TIMESTAMP."""
        return self._add(name, "timestamp")

    def uuid(self, name: str) -> ColumnBuilder:
        """``t.uuid("id").primary()``: UUID / CHAR(36)."""
        return self._add(name, "uuid")

    def json(self, name: str) -> ColumnBuilder:
        """``t.json("settings")``: JSONB / JSON."""
        return self._add(name, "json")

    def binary(self, name: str) -> ColumnBuilder:
        """``t.binary("avatar")``: BYTEA / LONGBLOB / BLOB."""
        return self._add(name, "binary")

    def enum(self, name: str, values: Sequence[str]) -> ColumnBuilder:
        """``t.enum("status", ["draft", "published"])``: ENUM on MySQL, TEXT with a CHECK
        ``<table>_<column>_check`` elsewhere."""
        return self._add(name, "enum", values=tuple(values))

    # ---- table helpers -----------------------------------------------------------------
    def timestamps(self) -> TableBuilder:
        """``created_at`` and ``updated_at``: NOT NULL, DEFAULT now (the model layer sets
        ``updated_at`` on save; the database does not)."""
        self.timestamp("created_at").not_null().default_to(fn.now())
        self.timestamp("updated_at").not_null().default_to(fn.now())
        return self

    def soft_deletes(self) -> ColumnBuilder:
        """``deleted_at``, a nullable timestamp (models with soft deletes filter on it)."""
        return self.timestamp("deleted_at").nullable()

    def primary(self, columns: str | Sequence[str]) -> TableBuilder:
        """``t.primary(["post_id", "tag_id"])``: a (composite) primary key."""
        self.primary_key = _columns(columns)
        return self

    def unique(self, columns: str | Sequence[str], name: str | None = None) -> TableBuilder:
        """``t.unique(["team_id", "email"])``: constraint ``<table>_<columns>_unique``."""
        self.uniques.append(ops.UniqueConstraint(_columns(columns), name))
        return self

    def index(
        self,
        columns: str | Sequence[str],
        name: str | None = None,
        *,
        method: str | None = None,
        where: str | None = None,
    ) -> TableBuilder:
        """``t.index(["last_name", "first_name"])``: index ``<table>_<columns>_index``."""
        options = IndexOptions(name=name, method=method, where=where)
        self.indexes.append(ops.IndexDefinition(_columns(columns), options))
        return self

    def foreign(self, reference: ForeignKeyReference) -> TableBuilder:
        """``t.foreign(ForeignKeyReference(["a", "b"], "pairs", ["a", "b"]))``: a composite
        foreign key (single columns: ``references()``)."""
        self.foreign_keys.append(reference)
        return self

    def check(self, name: str, expression: str) -> TableBuilder:
        """``t.check("order_lines_price_not_negative", "price >= 0")``: a named CHECK
        constraint; the expression is SQL text, written as given."""
        self.checks.append(ops.CheckConstraint(name, expression))
        return self

    # ---- result ------------------------------------------------------------------------
    def definitions(self) -> tuple[ColumnDefinition, ...]:
        out = []
        for column in self.columns:
            try:
                out.append(column.definition())
            except ValueError as exc:
                raise ValueError(f"table {self.name!r}: {exc}") from None
        return tuple(out)

    def to_operation(self, *, if_not_exists: bool = False) -> ops.CreateTable:
        return ops.CreateTable(
            self.name,
            self.definitions(),
            self.primary_key,
            tuple(self.uniques),
            tuple(self.indexes),
            tuple(self.foreign_keys),
            if_not_exists,
            tuple(self.checks),
        )

    def to_changes(self) -> list[ops.Operation]:
        """What ``alter_table`` records: new columns, uniques, indexes, foreign keys."""
        if self.primary_key:
            raise ValueError(f"alter_table({self.name!r}): a primary key cannot be added here")
        changes: list[ops.Operation] = [ops.AddColumn(self.name, c) for c in self.definitions()]
        changes += [ops.AddUnique(self.name, u.columns, u.name) for u in self.uniques]
        changes += [ops.CreateIndex(self.name, i.columns, i.options) for i in self.indexes]
        changes += [ops.AddForeignKey(self.name, r) for r in self.foreign_keys]
        changes += [ops.AddCheck(self.name, c.name, c.expression) for c in self.checks]
        return changes
