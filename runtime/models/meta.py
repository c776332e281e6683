"""What a generated model class tells the runtime about its table: plain frozen data."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from ..errors import ConfigurationError

RelationKind = Literal["has_one", "has_many", "belongs_to", "belongs_to_many"]
Managed = Literal["created_at", "updated_at", "deleted_at"]


@dataclass(frozen=True, slots=True)
class ColumnMeta:
    name: str
    type: str
    nullable: bool = False
    primary_key: bool = False
    auto_increment: bool = False
    managed: Managed | None = None
    hidden: bool = False
    encrypted: bool = False  # stored sealed (jadugar.encryption); the model holds plaintext
    searchable: bool = False  # encrypted with a blind index column <name>_bidx for equality
    db_name: str | None = None  # the column's name in the database, when not ``name``
    server_default: bool = False  # the database fills it on insert when the model holds None

    @property
    def column(self) -> str:
        """The column's name in the database."""
        return self.db_name or self.name


@dataclass(frozen=True, slots=True)
class RelationMeta:
    """``model`` is the related class name in the same generated package.

    has_one / has_many: ``foreign_key`` on the related table points at our ``local_key``.
    belongs_to: our ``foreign_key`` points at the related table's ``other_key``.
    belongs_to_many: pivot ``through`` holds ``foreign_key`` (ours) and ``other_key`` (theirs),
    named as the pivot's columns are in the database.

    A tuple of field names is a composite key, matched pairwise with the other side's.
    """

    kind: RelationKind
    model: str
    foreign_key: str | tuple[str, ...]
    other_key: str | tuple[str, ...] = "id"
    local_key: str | tuple[str, ...] = "id"
    through: str | None = None


@dataclass(frozen=True, slots=True)
class ModelMeta:
    """``primary_key``: the key field, or a tuple of them for a composite key (in key
    order; the model's key is then a tuple of their values)."""

    name: str
    table: str
    primary_key: str | tuple[str, ...]
    columns: tuple[ColumnMeta, ...]
    relations: dict[str, RelationMeta] = field(default_factory=dict)
    timestamps: bool = False
    soft_deletes: bool = False

    def column(self, name: str) -> ColumnMeta | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def keys(self) -> tuple[str, ...]:
        """The primary key's fields, in key order."""
        key = self.primary_key
        return (key,) if isinstance(key, str) else key

    @property
    def composite(self) -> bool:
        return not isinstance(self.primary_key, str)

    @property
    def single_key(self) -> str:
        """The one key field; ``ConfigurationError`` for a composite key."""
        if isinstance(self.primary_key, str):
            return self.primary_key
        raise ConfigurationError(
            f"{self.name} has a composite primary key ({', '.join(self.primary_key)}): this "
            "operation needs a one-field key"
        )


def auto(**constraints: Any) -> Any:
    """A field the database or the runtime fills in on insert (an auto-increment key, a
    timestamp): typed as its column type, ``None`` until the row is saved."""
    return Field(default=None, **constraints)


def timestamp_now() -> datetime.datetime:
    """The value the managed timestamp columns take: now, in UTC, to the second."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)
