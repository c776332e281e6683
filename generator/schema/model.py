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

FieldType = Literal[
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
    # engine: mongodb only
    "objectid",
    "embedded",
]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]

ForeignKeyAction = Literal["cascade", "restrict", "set_null", "set_default", "no_action"]
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
    """A foreign key: this field points at ``model.field``."""

    model: str
    field: str = "id"
    on_delete: ForeignKeyAction = "no_action"
    on_update: ForeignKeyAction = "no_action"


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
    # Stored sealed with AES-GCM (jadugar.encryption); searchable adds a blind index column.
    encrypted: bool = False
    searchable: bool = False
    # Set by normalize for created_at/updated_at/deleted_at: the runtime fills them.
    managed: Literal["created_at", "updated_at", "deleted_at"] | None = None
    # type embedded (engine: mongodb): the embedded document's fields; many: a list of them
    fields: tuple[FieldSpec, ...] = ()
    many: bool = False
    location: Location | None = None


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
    foreign_key: str | None = None
    other_key: str | None = None
    local_key: str | None = None
    through: str | None = None
    on_delete: ForeignKeyAction | None = None
    on_update: ForeignKeyAction | None = None
    location: Location | None = None


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
    location: Location | None = None

    @property
    def primary_key(self) -> FieldSpec:
        return next(f for f in self.fields if f.primary_key)

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
