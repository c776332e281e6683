"""Schema files written as Python classes (``schemas/*.py``), the twin of the YAML form.

Each ``Schema`` subclass is a model (its docstring is the description); annotated
attributes are its fields; relations are assigned without annotation::

    from decimal import Decimal
    from typing import Literal

    from jadugar_generator.dsl import Index, ModelOptions, Reference, Schema, belongs_to
    from jadugar_generator.dsl import column, has_many


    class User(Schema):
        model_options = ModelOptions(table="users", timestamps=True, indexes=[Index("name")])

        id: int = column(primary_key=True, auto_increment=True)
        name: str = column(max_length=120)
        active: bool = True
        nickname: str | None = None
        posts = has_many("Post", foreign_key="user_id")


    class Post(Schema):
        id: int = column(primary_key=True, auto_increment=True)
        user_id: int = column(references=Reference(model="User", on_delete="cascade"))
        status: Literal["draft", "published"] = "draft"
        price: Decimal = column(precision=8, scale=2, default=Decimal("0"))
        author = belongs_to("User", foreign_key="user_id")

Python types give the schema type: int, float, Decimal (decimal), str, bool, date, time,
datetime, UUID (uuid), bytes, dict/list (json), ``Literal["a", "b"]`` (enum with those
values); ``X | None`` makes the field nullable. ``column(type=...)`` narrows: bigint or
smallint for int, text for str, json for any annotation.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticUndefined

from .schema.model import FieldType, ForeignKeyAction, Reference

__all__ = [
    "Check",
    "Column",
    "Embedded",
    "ForeignKey",
    "Index",
    "ModelOptions",
    "Reference",
    "Relation",
    "Schema",
    "SqlDefault",
    "belongs_to",
    "belongs_to_many",
    "column",
    "has_many",
    "has_one",
]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


_UNSET: Any = _Unset()


@dataclass(frozen=True)
class SqlDefault:
    """A server default written as SQL: ``column(server_default=SqlDefault("'none'"))``
    (the YAML form's ``server_default: {sql: "'none'"}``)."""

    sql: str


@dataclass(frozen=True, kw_only=True)
class Column:
    """The options of one field; made by ``column()``."""

    type: FieldType | None = None
    primary_key: bool = False
    auto_increment: bool = False
    default: object = _UNSET
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    unique: bool = False
    index: bool = False
    hidden: bool = False
    renamed_from: str | None = None
    references: Reference | None = None
    encrypted: bool = False
    searchable: bool = False
    db_name: str | None = None
    server_default: Literal["now", "uuid"] | SqlDefault | None = None

    def options(self) -> dict[str, object]:
        """The options given, as the YAML form writes them."""
        found = _given(self)
        if self.references is not None:
            found["references"] = self.references.model_dump(
                include=self.references.model_fields_set
            )
        if isinstance(self.server_default, SqlDefault):
            found["server_default"] = {"sql": self.server_default.sql}
        return found


def column(
    *,
    type: FieldType | None = None,
    primary_key: bool = False,
    auto_increment: bool = False,
    default: object = _UNSET,
    max_length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    unique: bool = False,
    index: bool = False,
    hidden: bool = False,
    renamed_from: str | None = None,
    references: Reference | None = None,
    encrypted: bool = False,
    searchable: bool = False,
    db_name: str | None = None,
    server_default: Literal["now", "uuid"] | SqlDefault | None = None,
) -> Any:
    """A field's options: ``email: str = column(max_length=255, unique=True)``.

    Typed ``Any`` so that it can stand as the default of any annotation.
    """
    return Column(
        type=type,
        primary_key=primary_key,
        auto_increment=auto_increment,
        default=default,
        max_length=max_length,
        precision=precision,
        scale=scale,
        unique=unique,
        index=index,
        hidden=hidden,
        renamed_from=renamed_from,
        references=references,
        encrypted=encrypted,
        searchable=searchable,
        db_name=db_name,
        server_default=server_default,
    )


@dataclass(frozen=True)
class Check:
    """A named CHECK constraint: ``Check("order_lines_price_not_negative", "price >= 0")``."""

    name: str
    expression: str

    def options(self) -> dict[str, object]:
        return {"name": self.name, "expression": self.expression}


@dataclass(frozen=True, init=False)
class ForeignKey:
    """A foreign key over one or more fields:
    ``ForeignKey(["order_id", "line_no"], "OrderLine", on_delete="cascade")`` (``fields``:
    the referenced fields, default its primary key)."""

    columns: tuple[str, ...]
    model: str
    fields: tuple[str, ...] | None = None
    on_delete: ForeignKeyAction | None = None
    on_update: ForeignKeyAction | None = None
    name: str | None = None

    def __init__(
        self,
        columns: Sequence[str],
        model: str,
        fields: Sequence[str] | None = None,
        *,
        on_delete: ForeignKeyAction | None = None,
        on_update: ForeignKeyAction | None = None,
        name: str | None = None,
    ) -> None:
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "fields", None if fields is None else tuple(fields))
        object.__setattr__(self, "on_delete", on_delete)
        object.__setattr__(self, "on_update", on_update)
        object.__setattr__(self, "name", name)

    def options(self) -> dict[str, object]:
        """The options given, as the YAML form writes them."""
        reference: dict[str, object] = {"model": self.model}
        if self.fields is not None:
            reference["fields"] = list(self.fields)
        found: dict[str, object] = {"columns": list(self.columns), "references": reference}
        for key in ("on_delete", "on_update", "name"):
            if getattr(self, key) is not None:
                found[key] = getattr(self, key)
        return found


@dataclass(frozen=True, init=False)
class Index:
    """An index over one or more fields: ``Index("name", "active", unique=True)``."""

    columns: tuple[str, ...]
    unique: bool = False
    name: str | None = None
    expire_after_seconds: int | None = None  # MongoDB TTL index (one datetime field)

    def __init__(
        self,
        *columns: str,
        unique: bool = False,
        name: str | None = None,
        expire_after_seconds: int | None = None,
    ) -> None:
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "unique", unique)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "expire_after_seconds", expire_after_seconds)

    def options(self) -> dict[str, object]:
        """The options given, as the YAML form writes them."""
        return {**_given(self), "columns": list(self.columns)}


@dataclass(frozen=True, kw_only=True)
class ModelOptions:
    """Options of a model, assigned as ``model_options = ModelOptions(...)`` in its class.

    ``description`` defaults to the class docstring.
    """

    table: str | None = None
    timestamps: bool = False
    soft_deletes: bool = False
    indexes: Sequence[Index] = ()
    renamed_from: str | None = None
    engine: Literal["sql", "mongodb"] = "sql"
    description: str | None = None
    # a composite primary key, in key order: primary_key=("order_id", "line_no")
    primary_key: Sequence[str] | None = None
    checks: Sequence[Check] = ()
    foreign_keys: Sequence[ForeignKey] = ()

    def options(self) -> dict[str, object]:
        """The options given (indexes, checks and foreign keys apart), as the YAML form
        writes them."""
        found = _given(self)
        for entries in ("indexes", "checks", "foreign_keys"):
            found.pop(entries, None)
        if self.primary_key is not None:
            found["primary_key"] = list(self.primary_key)
        return found


@dataclass(frozen=True, kw_only=True)
class Relation:
    """A relation to another model; made by ``has_one``, ``has_many``, ``belongs_to``…"""

    kind: Literal["has_one", "has_many", "belongs_to", "belongs_to_many"]
    model: str
    # several fields (a list or tuple) for a composite key
    foreign_key: str | Sequence[str] | None = None
    other_key: str | Sequence[str] | None = None
    local_key: str | Sequence[str] | None = None
    through: str | None = None
    on_delete: ForeignKeyAction | None = None
    on_update: ForeignKeyAction | None = None

    def options(self) -> dict[str, object]:
        """The options given, as the YAML form writes them."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in _given(self).items()
        }


def _given(options: Any) -> dict[str, object]:
    """The fields of a dataclass that differ from their defaults."""
    return {
        f.name: getattr(options, f.name)
        for f in dataclasses.fields(options)
        if f.default is dataclasses.MISSING or getattr(options, f.name) != f.default
    }


def has_one(
    model: str,
    *,
    foreign_key: str | Sequence[str] | None = None,
    local_key: str | Sequence[str] | None = None,
    on_delete: ForeignKeyAction | None = None,
    on_update: ForeignKeyAction | None = None,
) -> Relation:
    """``profile = has_one("Profile")``: ``Profile.<this>_id`` points at this model."""
    return Relation(
        kind="has_one",
        model=model,
        foreign_key=foreign_key,
        local_key=local_key,
        on_delete=on_delete,
        on_update=on_update,
    )


def has_many(
    model: str,
    *,
    foreign_key: str | Sequence[str] | None = None,
    local_key: str | Sequence[str] | None = None,
    on_delete: ForeignKeyAction | None = None,
    on_update: ForeignKeyAction | None = None,
) -> Relation:
    """``posts = has_many("Post")``: ``Post.<this>_id`` points at this model."""
    return Relation(
        kind="has_many",
        model=model,
        foreign_key=foreign_key,
        local_key=local_key,
        on_delete=on_delete,
        on_update=on_update,
    )


def belongs_to(
    model: str,
    *,
    foreign_key: str | Sequence[str] | None = None,
    other_key: str | Sequence[str] | None = None,
    on_delete: ForeignKeyAction | None = None,
    on_update: ForeignKeyAction | None = None,
) -> Relation:
    """``author = belongs_to("User")``: this model's ``user_id`` points at ``User``."""
    return Relation(
        kind="belongs_to",
        model=model,
        foreign_key=foreign_key,
        other_key=other_key,
        on_delete=on_delete,
        on_update=on_update,
    )


def belongs_to_many(
    model: str,
    *,
    through: str | None = None,
    foreign_key: str | None = None,
    other_key: str | None = None,
    on_delete: ForeignKeyAction | None = None,
    on_update: ForeignKeyAction | None = None,
) -> Relation:
    """``tags = belongs_to_many("Tag")``: through the pivot table ``post_tags``."""
    return Relation(
        kind="belongs_to_many",
        model=model,
        through=through,
        foreign_key=foreign_key,
        other_key=other_key,
        on_delete=on_delete,
        on_update=on_update,
    )


class Embedded(BaseModel):
    """Base class of an embedded document (``engine: mongodb`` models): annotate a field
    with the class, or ``list[...]`` of it (``many``)::

        class Entry(Embedded):
            text: str
            at: datetime

        class Feed(Schema):
            model_options = ModelOptions(engine="mongodb")
            id: str = column(type="objectid", primary_key=True)
            entries: list[Entry]
    """


class Schema(BaseModel):
    """Base class of a model written in Python; see the module docstring."""

    model_config = ConfigDict(ignored_types=(Relation,))
    model_options: ClassVar[ModelOptions] = ModelOptions()


_TYPES: dict[object, str] = {
    int: "int",
    float: "float",
    Decimal: "decimal",
    str: "str",
    bool: "bool",
    date: "date",
    time: "time",
    datetime: "datetime",
    UUID: "uuid",
    bytes: "bytes",
    dict: "json",
    list: "json",
}
# Schema types that column(type=...) may choose for an annotation's type.
_NARROWER = {"int": ("bigint", "smallint"), "str": ("text", "objectid")}
_PYTHON_TYPES = "int, float, Decimal, str, bool, date, time, datetime, UUID, bytes, dict, list"


def _embedded(annotation: object) -> type[Embedded] | None:
    """The Embedded class of ``X`` or ``list[X]``."""
    args = get_args(annotation)
    if get_origin(annotation) is list and len(args) == 1:
        annotation = args[0]
    if isinstance(annotation, type) and issubclass(annotation, Embedded):
        return annotation
    return None


def field_options(annotation: object, value: object) -> dict[str, object]:
    """The YAML-form options of a field annotated ``annotation`` with class value ``value``.

    Raises ``ValueError`` with a plain sentence when the annotation has no schema type.
    """
    given = value.options() if isinstance(value, Column) else {}
    if not isinstance(value, Column) and value is not PydanticUndefined:
        given["default"] = value
    explicit = given.get("type")
    args = get_args(annotation)
    if get_origin(annotation) in (Union, types.UnionType) and type(None) in args:
        given["nullable"] = True
        rest = [a for a in args if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else annotation
    embedded = _embedded(annotation)
    if embedded is not None:  # the loader reads the class's fields (with their lines)
        given["type"], given["fields"] = "embedded", embedded
        if get_origin(annotation) is list:
            given["many"] = True
        return given
    if get_origin(annotation) is Literal:
        given["values"] = list(get_args(annotation))
        found: str | None = "enum"
    else:
        found = _TYPES.get(get_origin(annotation) or annotation)
    if explicit == "json" or (explicit is not None and explicit in _NARROWER.get(found or "", ())):
        return given
    shown = annotation.__name__ if isinstance(annotation, type) else repr(annotation)
    if found is None:
        raise ValueError(
            f"annotation {shown} has no schema type; use {_PYTHON_TYPES} or Literal[...],"
            " optionally | None"
        )
    if explicit not in (None, found):
        allowed = ", ".join((found, *_NARROWER.get(found, ()))) + " or json"
        raise ValueError(
            f"column(type={explicit!r}) does not fit the annotation {shown}: use {allowed}"
        )
    given["type"] = found
    return given
