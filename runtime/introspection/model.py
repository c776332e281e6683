"""A live database schema as plain, frozen data: what ``introspect()`` reads.

Each engine's reader (``dialects/<engine>/introspect.py``) fills these classes from its
catalog. Types are reported twice: ``type`` in the database's own words
(``character varying(255)``, ``int(11)``, ``NUMERIC(10, 2)``) and ``kind`` with
``length``/``precision``/``scale``/``values``, the schema-file type the column reads as
(``str`` with ``max_length`` 255, ``int``, ``decimal`` 10, 2). What a schema file cannot
express (views, triggers, partial and expression indexes, columns of other types, ...) is
listed in ``LiveSchema.skipped`` with the reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar

# The schema-file types a column can read as (generator/schema/model.py FieldType, SQL ones).
ColumnKind = Literal[
    "int",
    "bigint",
    "smallint",
    "float",
    "decimal",
    "str",
    "text",
    "bool",
    "date",
    "time",
    "datetime",
    "uuid",
    "json",
    "bytes",
    "enum",
]
DefaultKind = Literal["literal", "now", "uuid", "sql"]
# Foreign key actions in the schema files' words.
Action = Literal["cascade", "restrict", "set_null", "set_default", "no_action"]
LiteralValue = bool | int | Decimal | str


@dataclass(frozen=True, slots=True)
class LiveDefault:
    """A column default. ``literal``: ``value`` (a quoted text is a ``str``, a number an
    ``int`` or ``Decimal``, ``true``/``false`` a ``bool``); ``now``: the current time;
    ``uuid``: a new random UUID; ``sql``: any other expression. ``sql`` is always the text
    the database reports (``'draft'::text``, ``current_timestamp(6)``)."""

    kind: DefaultKind
    sql: str
    value: LiteralValue | None = None


@dataclass(frozen=True, slots=True)
class LiveColumn:
    """One column. ``kind`` is None when no schema-file type holds it (``unsupported``
    says why); such columns are kept here so that drift still knows they exist."""

    name: str
    type: str  # the database's words
    kind: ColumnKind | None
    nullable: bool
    default: LiveDefault | None = None
    auto_increment: bool = False
    length: int | None = None  # str
    precision: int | None = None  # decimal
    scale: int | None = None  # decimal
    values: tuple[str, ...] = ()  # enum: in declared order
    enum_type: str | None = None  # PostgreSQL: the CREATE TYPE ... AS ENUM it uses
    unsupported: str | None = None  # why ``kind`` is None
    notes: tuple[str, ...] = ()  # what the column has that a schema file does not say

    def describe_type(self) -> str:
        """The type in schema-file words: ``str max_length 255``, ``decimal(10, 2)``."""
        return describe_kind(self.kind, self.length, self.precision, self.scale, self.values)


def describe_kind(
    kind: str | None,
    length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    values: tuple[str, ...] = (),
) -> str:
    if kind is None:
        return "an unsupported type"
    if kind == "str":
        return f"str max_length {length}" if length else "str"
    if kind == "decimal":
        return f"decimal({precision}, {scale})"
    if kind == "enum":
        return f"enum ({', '.join(values)})"
    return kind


@dataclass(frozen=True, slots=True)
class LiveIndex:
    """A unique constraint or an index (not the primary key's). ``name`` is None for an
    index the database named itself where the name cannot be used (SQLite's
    ``sqlite_autoindex_*``). ``constraint``: declared as a UNIQUE constraint."""

    name: str | None
    columns: tuple[str, ...]
    unique: bool
    constraint: bool = False


@dataclass(frozen=True, slots=True)
class LiveForeignKey:
    name: str | None  # None: declared without a name (SQLite)
    columns: tuple[str, ...]
    table: str
    references: tuple[str, ...]
    on_delete: Action = "no_action"
    on_update: Action = "no_action"


@dataclass(frozen=True, slots=True)
class LiveCheck:
    name: str | None  # None: declared without a name (SQLite)
    expression: str  # as the database reports it, without CHECK ( )


@dataclass(frozen=True, slots=True)
class LiveTable:
    name: str
    columns: tuple[LiveColumn, ...]
    primary_key: tuple[str, ...] = ()  # in key order
    primary_key_name: str | None = None
    indexes: tuple[LiveIndex, ...] = ()
    foreign_keys: tuple[LiveForeignKey, ...] = ()
    # named checks; the checks that make a column an enum (TEXT + CHECK IN) or a json
    # column (MariaDB's json_valid) are part of that column instead
    checks: tuple[LiveCheck, ...] = ()

    def column(self, name: str) -> LiveColumn | None:
        """The column called ``name`` (compared exactly, then case-insensitively)."""
        return _find(self.columns, name)


@dataclass(frozen=True, slots=True)
class LiveEnum:
    """A PostgreSQL enum type (CREATE TYPE ... AS ENUM)."""

    name: str
    values: tuple[str, ...]


SkippedKind = Literal[
    "table", "view", "trigger", "index", "column", "check", "foreign key", "default", "constraint"
]


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the database that a schema file cannot express."""

    kind: SkippedKind
    name: str  # qualified where that helps: "posts.search", "index posts_title_idx on posts"
    reason: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LiveSchema:
    """Every table of the database (PostgreSQL: of the current schema), sorted by name."""

    engine: str
    tables: tuple[LiveTable, ...]
    enums: tuple[LiveEnum, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    database: str | None = None  # the database (or schema) read
    server_version: str | None = None

    def table(self, name: str) -> LiveTable | None:
        """The table called ``name`` (compared exactly, then case-insensitively)."""
        return _find(self.tables, name)


_Named = TypeVar("_Named", LiveColumn, LiveTable)


def _find(items: tuple[_Named, ...], name: str) -> _Named | None:
    exact = next((i for i in items if i.name == name), None)
    if exact is not None:
        return exact
    folded = [i for i in items if i.name.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


Fetch = Callable[[str, Sequence[Any]], Awaitable[list[dict[str, Any]]]]
"""Runs one catalog query: ``await fetch(sql, params)`` -> rows as dicts."""


class SchemaReader(Protocol):
    """An engine's catalog reader (``dialects/<engine>/introspect.py``, the dialect's
    ``schema_reader``)."""

    async def read_schema(
        self, fetch: Fetch, tables: Sequence[str] | None = None
    ) -> LiveSchema: ...
