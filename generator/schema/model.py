"""The schema IR: pure, frozen data that both schema forms (YAML, Pydantic classes) load into.

Everything downstream (generator views, migration diff) reads only these classes.
``normalize`` (see ``normalize.py``) fills in what a schema leaves implicit: table names,
timestamp and soft-delete columns, ordering.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from jadugar.introspection.model import Action, ColumnKind

# A field's type: a column kind of the SQL engines (what ``jadugar pull`` reads back), or
# one that only MongoDB models have.
FieldType = Literal[ColumnKind, "objectid", "embedded"]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]

ForeignKeyAction = Action  # in the schema files' words
RelationKind = Literal["has_one", "has_many", "belongs_to", "belongs_to_many"]
RELATION_KINDS: tuple[str, ...] = RelationKind.__args__  # type: ignore[attr-defined]

# A default is a literal written in the schema; datetime/date/uuid defaults are not literals.
DefaultValue = bool | int | float | Decimal | str | None


class Location(BaseModel):
    """Where a definition was written, for error messages; never part of equality checks."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int | None = None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reference(_Frozen):
    """A foreign key: this field points at ``model.field``; ``name`` is the constraint's
    (default ``<table>_<column>_fkey``)."""

    model: str
    field: str = "id"
    on_delete: ForeignKeyAction = "no_action"
    on_update: ForeignKeyAction = "no_action"
    name: str | None = None


class ServerDefault(_Frozen):
    """A default the database computes: ``now`` (the current time), ``uuid`` (a new random
    UUID), or ``sql`` (the expression ``sql``, written as given for every engine)."""

    kind: Literal["now", "uuid", "sql"]
    sql: str | None = None


class CheckSpec(_Frozen):
    """A named CHECK constraint; ``expression`` is SQL text over the table's columns."""

    name: str
    expression: str
    location: Location | None = None


class ForeignKeySpec(_Frozen):
    """A (composite) foreign key: this model's ``columns`` (field names) point at ``fields``
    of ``model`` (its primary key by default), pairwise."""

    columns: tuple[str, ...]
    model: str
    fields: tuple[str, ...]
    on_delete: ForeignKeyAction = "no_action"
    on_update: ForeignKeyAction = "no_action"
    name: str | None = None
    location: Location | None = None


class FieldSpec(_Frozen):
    """One column. ``has_default`` tells an explicit ``default: null`` from no default."""

    name: str
    type: FieldType
    primary_key: bool = False
    auto_increment: bool = False
    nullable: bool = False
    default: DefaultValue = None
    has_default: bool = False
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    values: tuple[str, ...] = ()
    unique: bool = False
    index: bool = False
    hidden: bool = False
    renamed_from: str | None = None
    references: Reference | None = None
    # The column's name in the database when it is not the field's name.
    db_name: str | None = None
    # A default the database computes on insert (the model leaves the field out when None).
    server_default: ServerDefault | None = None
    # Stored sealed with AES-GCM (jadugar.encryption); searchable adds a blind index column.
    encrypted: bool = False
    searchable: bool = False
    # Set by normalize for created_at/updated_at/deleted_at: the runtime fills them.
    managed: Literal["created_at", "updated_at", "deleted_at"] | None = None
    # type embedded (engine: mongodb): the embedded document's fields; many: a list of them
    fields: tuple[FieldSpec, ...] = ()
    many: bool = False
    location: Location | None = None

    @property
    def column(self) -> str:
        """The column's name in the database: ``db_name``, else the field's name."""
        return self.db_name or self.name


class IndexSpec(_Frozen):
    columns: tuple[str, ...]
    unique: bool = False
    name: str | None = None
    # MongoDB: a TTL index (one datetime field); a plain index on the SQL engines
    expire_after_seconds: int | None = None
    location: Location | None = None


class RelationSpec(_Frozen):
    """A relation between models.

    has_one / has_many: ``foreign_key`` is on the other model, pointing at ``local_key``.
    belongs_to: ``foreign_key`` is on this model, pointing at the other model's ``other_key``
    (its primary key by default). belongs_to_many: pivot table ``through`` with
    ``foreign_key`` (to this model) and ``other_key`` (to the other model).
    """

    name: str
    kind: RelationKind
    model: str
    # one field, or several for a composite key (pairwise with the other side's)
    foreign_key: str | tuple[str, ...] | None = None
    other_key: str | tuple[str, ...] | None = None
    local_key: str | tuple[str, ...] | None = None
    through: str | None = None
    on_delete: ForeignKeyAction | None = None
    on_update: ForeignKeyAction | None = None
    location: Location | None = None

    def columns(self, key: Literal["foreign_key", "other_key", "local_key"]) -> tuple[str, ...]:
        """``foreign_key``, ``other_key`` or ``local_key`` as a tuple of field names."""
        value = getattr(self, key)
        return () if value is None else (value,) if isinstance(value, str) else tuple(value)


class ModelSpec(_Frozen):
    name: str
    table: str
    fields: tuple[FieldSpec, ...]
    timestamps: bool = False
    soft_deletes: bool = False
    indexes: tuple[IndexSpec, ...] = ()
    relations: tuple[RelationSpec, ...] = ()
    renamed_from: str | None = None
    engine: Literal["sql", "mongodb"] = "sql"
    description: str | None = None
    # a composite primary key: its fields, in key order (empty for a one-field key)
    composite_key: tuple[str, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    foreign_keys: tuple[ForeignKeySpec, ...] = ()
    location: Location | None = None

    @property
    def primary_key(self) -> FieldSpec:
        """The key field (the first one of a composite key)."""
        return self.key_fields[0]

    @property
    def key_fields(self) -> tuple[FieldSpec, ...]:
        """The primary key's fields, in key order."""
        if self.composite_key:
            return tuple(f for n in self.composite_key for f in self.fields if f.name == n)
        return tuple(f for f in self.fields if f.primary_key)[:1]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


class Schema(_Frozen):
    """Every model of a project, sorted by name."""

    models: tuple[ModelSpec, ...]

    def model(self, name: str) -> ModelSpec | None:
        return next((m for m in self.models if m.name == name), None)


def without_locations(value: BaseModel) -> dict[str, object]:
    """The dump used to compare two schemas: locations (file, line) left out."""
    return _strip(value.model_dump())  # type: ignore[return-value]


def _strip(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "location"}
    if isinstance(value, list | tuple):
        return [_strip(v) for v in value]
    return value


# Raw definitions: what a schema file says (YAML or Python classes), before validation and
# normalize. Options keep the names and values as written; nothing is checked yet.


@dataclass(frozen=True, kw_only=True)
class RawEntry:
    """A field, relation or index as written: its unchecked options and where they are."""

    name: str
    options: dict[str, object]
    location: Location
    option_lines: dict[str, int] = dataclass_field(default_factory=dict)

    def line(self, option: str | None = None) -> int | None:
        """The line of ``option`` when known, else the line of the definition."""
        return self.option_lines.get(option or "", self.location.line)


@dataclass(frozen=True, kw_only=True)
class RawModel(RawEntry):
    """A model as written: model options plus its raw fields, indexes and relations."""

    fields: list[RawEntry] = dataclass_field(default_factory=list)
    indexes: list[RawEntry] = dataclass_field(default_factory=list)
    relations: list[RawEntry] = dataclass_field(default_factory=list)
    checks: list[RawEntry] = dataclass_field(default_factory=list)
    foreign_keys: list[RawEntry] = dataclass_field(default_factory=list)
