"""DDL operations: frozen nodes between the SchemaBuilder (and the migration tooling) and the
per-dialect schema compiler (``jadugar.schema_compiler``).

The options objects of SPEC 5 (``ColumnDefinition``, ``IndexOptions``,
``ForeignKeyReference``) are frozen Pydantic models that take positional or keyword
arguments::

    ColumnDefinition("nickname", "string", length=50)
    IndexOptions(name="users_email_lower", unique=True, where="deleted_at IS NULL")
    ForeignKeyReference(["user_id"], "users", ["id"], on_delete="cascade")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, StrictStr, field_validator, model_validator

from ..query import tree
from ..query.expressions import SqlExpr
from ..query.values import check_writable

ColumnType = Literal[
    "increments",
    "big_increments",
    "integer",
    "big_integer",
    "small_integer",
    "float",
    "double",
    "decimal",
    "string",
    "text",
    "boolean",
    "date",
    "time",
    "timestamp",
    "uuid",
    "json",
    "binary",
    "enum",
]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
AUTO_INCREMENT_TYPES = frozenset({"increments", "big_increments"})
FK_ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION")


def fk_action(value: str | None) -> str | None:
    """``"set_null"`` / ``"set null"`` / ``"SET NULL"`` → ``"SET NULL"``; others refused."""
    if value is None:
        return None
    action = " ".join(value.replace("_", " ").split()).upper()
    if action not in FK_ACTIONS:
        raise ValueError(
            f"unknown foreign key action {value!r}; use one of "
            + ", ".join(a.lower() for a in FK_ACTIONS)
        )
    return action


def _names(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    names = tuple(value)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{what}: expected one or more column names, got {value!r}")
    return names


class ColumnDefinition(BaseModel):
    """One column: name, type and modifiers (what ``TableBuilder`` methods build).

    >>> ColumnDefinition("email", "string", length=100, nullable=False, unique=True).length
    100
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: StrictStr  # never coerced: bytes are not a name
    type: ColumnType
    length: int | None = None  # string (default 255)
    precision: int | None = None  # decimal (default 8)
    scale: int | None = None  # decimal (default 2)
    values: tuple[str, ...] = ()  # enum
    nullable: bool = True
    primary: bool = False
    unique: bool = False
    index: bool = False
    default: Any = None  # a value (literal in the DDL) or an expression: fn.now(), fn.raw()
    references: StrictStr | None = None  # "table.column"
    on_delete: str | None = None
    on_update: str | None = None

    def __init__(self, name: str, type: ColumnType, /, **options: Any) -> None:
        super().__init__(name=name, type=type, **options)

    @field_validator("on_delete", "on_update")
    @classmethod
    def _action(cls, value: str | None) -> str | None:
        return fk_action(value)

    @field_validator("default")
    @classmethod
    def _default(cls, value: Any) -> Any:
        if isinstance(value, SqlExpr):
            return value
        return check_writable(value, "default_to()")

    @model_validator(mode="after")
    def _check(self) -> ColumnDefinition:
        where = f"column {self.name!r}"
        if not self.name:
            raise ValueError("a column needs a name")
        fixes: dict[str, Any] = {}
        if self.type == "string" and self.length is None:
            fixes["length"] = 255
        if self.type == "decimal":
            fixes["precision"] = self.precision if self.precision is not None else 8
            fixes["scale"] = self.scale if self.scale is not None else 2
        if self.type in AUTO_INCREMENT_TYPES:
            if self.default is not None:
                raise ValueError(f"{where}: an auto-increment column cannot have a default")
            fixes["primary"] = True
        if self.primary or self.type in AUTO_INCREMENT_TYPES:
            fixes["nullable"] = False
        for key, value in fixes.items():
            object.__setattr__(self, key, value)
        if self.length is not None and self.length < 1:
            raise ValueError(f"{where}: length must be at least 1")
        if self.type == "decimal":
            assert self.precision is not None and self.scale is not None
            if not 0 <= self.scale <= self.precision or self.precision < 1:
                raise ValueError(
                    f"{where}: decimal needs 1 <= precision and 0 <= scale <= precision"
                )
        if self.type == "enum" and (not self.values or not all(self.values)):
            raise ValueError(f"{where}: enum() needs a list of non-empty values")
        if self.references is not None and "." not in self.references.strip("."):
            raise ValueError(f"{where}: references() takes 'table.column', got {self.references!r}")
        if (self.on_delete or self.on_update) and self.references is None:
            raise ValueError(f"{where}: on_delete()/on_update() need references() first")
        return self

    @property
    def reference(self) -> tuple[str, str] | None:
        """``references`` split into (table, column)."""
        if self.references is None:
            return None
        table, _, column = self.references.rpartition(".")
        return table, column


class IndexOptions(BaseModel):
    """``create_index`` options: ``name`` (default ``<table>_<columns>_index``, or
    ``_unique``), ``unique``, ``method`` (``btree``, ``hash``, ``gin``…) and ``where``
    (raw SQL for a partial index, written as for ``where_raw``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: StrictStr | None = None
    unique: bool = False
    method: str | None = None
    where: str | None = None

    def __init__(
        self,
        name: str | None = None,
        unique: bool = False,
        method: str | None = None,
        where: str | None = None,
    ) -> None:
        super().__init__(name=name, unique=unique, method=method, where=where)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str | None) -> str | None:
        if value is not None and not value.replace("_", "").isalnum():
            raise ValueError(
                f"index method must be a plain word (btree, hash, gin…), not {value!r}"
            )
        return value.lower() if value else None


class ForeignKeyReference(BaseModel):
    """A foreign key of ``columns`` to ``table`` (``references``: its columns).

    >>> ForeignKeyReference("user_id", "users", "id", on_delete="cascade").on_delete
    'CASCADE'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: tuple[str, ...]
    table: StrictStr
    references: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None
    name: StrictStr | None = None

    def __init__(
        self,
        columns: str | Sequence[str],
        table: str,
        references: str | Sequence[str],
        on_delete: str | None = None,
        on_update: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            columns=_names(columns, "ForeignKeyReference.columns"),
            table=table,
            references=_names(references, "ForeignKeyReference.references"),
            on_delete=on_delete,
            on_update=on_update,
            name=name,
        )

    @field_validator("on_delete", "on_update")
    @classmethod
    def _action(cls, value: str | None) -> str | None:
        return fk_action(value)

    @model_validator(mode="after")
    def _check(self) -> ForeignKeyReference:
        if len(self.columns) != len(self.references):
            raise ValueError(
                f"foreign key to {self.table!r}: {len(self.columns)} columns but "
                f"{len(self.references)} referenced columns"
            )
        return self


PLAIN_INDEX = IndexOptions()


def uuid_default() -> SqlExpr:
    """A column default the database computes: a new random UUID per row
    (``gen_random_uuid()`` on PostgreSQL, ``UUID()`` on MySQL/MariaDB, random version-4
    text on SQLite): ``t.uuid("token").default_to(uuid_default())``."""
    return SqlExpr(tree.Func("uuid"))


def same_default(a: Any, b: Any) -> bool:
    """Two column defaults are the same: equal values, or expressions of the same SQL
    (``SqlExpr`` compares by identity)."""
    if isinstance(a, SqlExpr) or isinstance(b, SqlExpr):
        return isinstance(a, SqlExpr) and isinstance(b, SqlExpr) and a.node == b.node
    return bool(a == b)


# ---- operations ----------------------------------------------------------------------------


class Operation:
    """Base of the DDL operations; ``kind`` is the SchemaBuilder method's name."""

    __slots__ = ()
    kind: ClassVar[str] = "operation"


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CheckConstraint:
    """``CONSTRAINT <name> CHECK (<expression>)``: the expression is SQL text, run as written."""

    name: str
    expression: str


@dataclass(frozen=True, slots=True)
class IndexDefinition:
    columns: tuple[str, ...]
    options: IndexOptions = PLAIN_INDEX


@dataclass(frozen=True, slots=True)
class CreateTable(Operation):
    kind: ClassVar[str] = "create_table"
    name: str
    columns: tuple[ColumnDefinition, ...]
    primary_key: tuple[str, ...] = ()  # table-level primary([...])
    uniques: tuple[UniqueConstraint, ...] = ()
    indexes: tuple[IndexDefinition, ...] = ()
    foreign_keys: tuple[ForeignKeyReference, ...] = ()
    if_not_exists: bool = False
    checks: tuple[CheckConstraint, ...] = ()


@dataclass(frozen=True, slots=True)
class DropTable(Operation):
    kind: ClassVar[str] = "drop_table"
    name: str
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class RenameTable(Operation):
    kind: ClassVar[str] = "rename_table"
    name: str
    new_name: str


@dataclass(frozen=True, slots=True)
class AddColumn(Operation):
    kind: ClassVar[str] = "add_column"
    table: str
    column: ColumnDefinition


@dataclass(frozen=True, slots=True)
class DropColumn(Operation):
    kind: ClassVar[str] = "drop_column"
    table: str
    column: str


@dataclass(frozen=True, slots=True)
class RenameColumn(Operation):
    kind: ClassVar[str] = "rename_column"
    table: str
    column: str
    new_name: str


ALTER_CHANGES = frozenset({"type", "nullable", "default"})


@dataclass(frozen=True, slots=True)
class AlterColumn(Operation):
    """The column becomes ``column`` (type, nullability, default); ``changes`` says which of
    those differ, so a dialect that alters piecewise emits only those. Unique, index and
    foreign key flags of ``column`` are ignored: they are operations of their own."""

    kind: ClassVar[str] = "alter_column"
    table: str
    column: ColumnDefinition
    changes: frozenset[str] = ALTER_CHANGES


@dataclass(frozen=True, slots=True)
class CreateIndex(Operation):
    kind: ClassVar[str] = "create_index"
    table: str
    columns: tuple[str, ...]
    options: IndexOptions = PLAIN_INDEX


@dataclass(frozen=True, slots=True)
class DropIndex(Operation):
    kind: ClassVar[str] = "drop_index"
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class AddForeignKey(Operation):
    kind: ClassVar[str] = "add_foreign_key"
    table: str
    reference: ForeignKeyReference


@dataclass(frozen=True, slots=True)
class DropForeignKey(Operation):
    """Drop by ``name``; ``columns`` (when dropped by columns) lets SQLite also find a
    foreign key that was declared without a name."""

    kind: ClassVar[str] = "drop_foreign_key"
    table: str
    name: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AddUnique(Operation):
    kind: ClassVar[str] = "add_unique"
    table: str
    columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class DropUnique(Operation):
    kind: ClassVar[str] = "drop_unique"
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class AddCheck(Operation):
    """``ALTER TABLE … ADD CONSTRAINT <name> CHECK (<expression>)`` (SQLite: a rebuild)."""

    kind: ClassVar[str] = "add_check"
    table: str
    name: str
    expression: str


@dataclass(frozen=True, slots=True)
class DropCheck(Operation):
    kind: ClassVar[str] = "drop_check"
    table: str
    name: str


@dataclass(frozen=True, slots=True)
class RawSql(Operation):
    """A statement run as written (no placeholders, no parameters)."""

    kind: ClassVar[str] = "raw"
    sql: str


OPERATIONS: tuple[type[Operation], ...] = (
    CreateTable,
    DropTable,
    RenameTable,
    AddColumn,
    DropColumn,
    RenameColumn,
    AlterColumn,
    CreateIndex,
    DropIndex,
    AddForeignKey,
    DropForeignKey,
    AddUnique,
    DropUnique,
    AddCheck,
    DropCheck,
    RawSql,
)
