"""What a generated model class tells the runtime about its table: plain frozen data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

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


@dataclass(frozen=True, slots=True)
class RelationMeta:
    """``model`` is the related class name in the same generated package.

    has_one / has_many: ``foreign_key`` on the related table points at our ``local_key``.
    belongs_to: our ``foreign_key`` points at the related table's ``other_key``.
    belongs_to_many: pivot ``through`` holds ``foreign_key`` (ours) and ``other_key`` (theirs).
    """

    kind: RelationKind
    model: str
    foreign_key: str
    other_key: str = "id"
    local_key: str = "id"
    through: str | None = None


@dataclass(frozen=True, slots=True)
class ModelMeta:
    name: str
    table: str
    primary_key: str
    columns: tuple[ColumnMeta, ...]
    relations: dict[str, RelationMeta] = field(default_factory=dict)
    timestamps: bool = False
    soft_deletes: bool = False

    def column(self, name: str) -> ColumnMeta | None:
        return next((c for c in self.columns if c.name == name), None)


def auto(**constraints: Any) -> Any:
    """A field the database or the runtime fills in on insert (an auto-increment key, a
    timestamp): typed as its column type, ``None`` until the row is saved."""
    return Field(default=None, **constraints)
