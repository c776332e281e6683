"""Raw definitions -> the schema IR, filling in what a schema file leaves implicit.

Rules (the README repeats them):

- table: ``plural(snake_case(Model))`` (``BlogPost`` -> ``blog_posts``).
- ``timestamps: true`` appends ``created_at`` and ``updated_at`` (datetime, not null);
  ``soft_deletes: true`` appends ``deleted_at`` (datetime, nullable). The runtime fills them.
- decimal: precision 10, scale 2 unless given.
- primary key: the model's ``primary_key: [a, b]`` list, else the fields marked
  ``primary_key: true`` in field order; two or more make a composite key
  (``ModelSpec.composite_key``, and each of its fields is marked ``primary_key``).
- db_name: dropped when it equals the field's name.
- references: ``field`` is the target model's primary key unless given.
- foreign_keys: ``fields`` are the target model's primary key fields unless given.
- belongs_to: ``foreign_key = <other>_id``, ``other_key`` = the other model's primary key
  (a tuple of its fields when composite).
- has_one / has_many: ``foreign_key = <this>_id`` (on the other model), ``local_key`` = this
  model's primary key (a tuple when composite). Lists of fields become tuples.
- belongs_to_many: ``through`` = the two models' snake_case names sorted alphabetically,
  joined by ``_``, last word made plural (``Post`` + ``Tag`` -> ``post_tags``);
  ``foreign_key = <this>_id``, ``other_key = <other>_id``.
- models sorted by name; fields (then the managed columns), relations and indexes in the
  order written.

``normalize`` expects definitions that ``validate`` accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from .model import (
    CheckSpec,
    FieldSpec,
    ForeignKeySpec,
    IndexSpec,
    ModelSpec,
    RawEntry,
    RawModel,
    Reference,
    RelationSpec,
    ServerDefault,
)
from .model import Schema as SchemaIR
from .names import plural, snake_case, table_name

DEFAULT_PRECISION = 10
DEFAULT_SCALE = 2
SOFT_DELETE_FIELD = "deleted_at"
Managed = Literal["created_at", "updated_at", "deleted_at"]


Keys = str | tuple[str, ...]


def relation_keys(
    kind: str, this: str, other: str, this_key: Keys | None, other_key: Keys | None
) -> dict[str, Keys | None]:
    """The implicit keys of a relation from model ``this`` to model ``other``.

    ``this_key`` and ``other_key`` are the two models' primary key names (a tuple for a
    composite key; None when unknown).
    """
    if kind == "belongs_to":
        return {"foreign_key": f"{snake_case(other)}_id", "other_key": other_key}
    if kind in ("has_one", "has_many"):
        return {"foreign_key": f"{snake_case(this)}_id", "local_key": this_key}
    pair = "_".join(sorted((snake_case(this), snake_case(other))))
    return {
        "through": plural(pair),
        "foreign_key": f"{snake_case(this)}_id",
        "other_key": f"{snake_case(other)}_id",
    }


def index_column(name: str) -> str:
    """The blind index column of a searchable encrypted field (``jadugar.encryption``)."""
    return f"{name}_bidx"


def key_names(model: RawModel) -> tuple[str, ...]:
    """The primary key's field names in key order: the model's ``primary_key: [...]`` list,
    else the fields marked ``primary_key: true``."""
    listed = model.options.get("primary_key")
    if isinstance(listed, list) and all(isinstance(n, str) for n in listed):
        return tuple(dict.fromkeys(listed))
    return tuple(f.name for f in model.fields if f.options.get("primary_key") is True)


def primary_key_name(model: RawModel) -> str | None:
    """The name of the (first) primary key field, if any."""
    keys = key_names(model)
    return keys[0] if keys else None


def key_of(model: RawModel) -> Keys | None:
    """The primary key as relations name it: one field's name, a tuple for a composite key,
    None without a key."""
    keys = key_names(model)
    return (keys[0] if len(keys) == 1 else keys) if keys else None


def as_keys(value: object) -> Keys | None:
    """A relation key option as written (a name, or a list of names) -> str or tuple."""
    if isinstance(value, list | tuple):
        return value[0] if len(value) == 1 else tuple(value)
    return value if isinstance(value, str) else None


def managed_fields(model: RawModel) -> list[Managed]:
    """The columns that ``timestamps`` and ``soft_deletes`` add to ``model``."""
    names: list[Managed] = ["created_at", "updated_at"] if model.options.get("timestamps") else []
    if model.options.get("soft_deletes") is True:
        names.append("deleted_at")
    return names


def normalize(models: Sequence[RawModel]) -> SchemaIR:
    """The schema IR of validated raw models, every implicit value filled in."""
    keys = {m.name: key_names(m) for m in models}
    specs = [_model(m, keys) for m in sorted(models, key=lambda m: m.name)]
    return SchemaIR(models=tuple(specs))


def _model(model: RawModel, keys: dict[str, tuple[str, ...]]) -> ModelSpec:
    own = keys[model.name]
    fields = [_field(f, keys, f.name in own) for f in model.fields]
    for name in managed_fields(model):
        fields.append(
            FieldSpec(
                name=name,
                type="datetime",
                nullable=name == SOFT_DELETE_FIELD,
                managed=name,
                location=model.location,
            )
        )
    indexes = [
        IndexSpec.model_validate({**i.options, "location": i.location}) for i in model.indexes
    ]
    options = dict(model.options)
    options.pop("primary_key", None)
    return ModelSpec.model_validate(
        {
            "table": table_name(model.name),
            **options,
            "name": model.name,
            "fields": fields,
            "indexes": indexes,
            "relations": [_relation(r, model.name, keys) for r in model.relations],
            "composite_key": own if len(own) > 1 else (),
            "checks": [
                CheckSpec(location=c.location, **c.options)  # type: ignore[arg-type]
                for c in model.checks
            ],
            "foreign_keys": [_foreign_key(fk, keys) for fk in model.foreign_keys],
            "location": model.location,
        }
    )


def _foreign_key(entry: RawEntry, keys: dict[str, tuple[str, ...]]) -> ForeignKeySpec:
    options: dict[str, Any] = dict(entry.options)
    reference = dict(options.pop("references"))
    model = reference["model"]
    return ForeignKeySpec(
        columns=tuple(options.pop("columns")),
        model=model,
        fields=tuple(reference.get("fields") or keys[model]),
        location=entry.location,
        **options,
    )


def _field(field: RawEntry, keys: dict[str, tuple[str, ...]], key: bool = False) -> FieldSpec:
    options: dict[str, Any] = dict(field.options)
    kind = options["type"]
    if key:
        options["primary_key"] = True
    if options.get("db_name") == field.name:
        del options["db_name"]
    server_default = options.get("server_default")
    if isinstance(server_default, str):
        options["server_default"] = ServerDefault(kind=server_default)  # type: ignore[arg-type]
    elif isinstance(server_default, dict):
        options["server_default"] = ServerDefault(kind="sql", sql=server_default["sql"])
    if kind == "decimal":
        options.setdefault("precision", DEFAULT_PRECISION)
        options.setdefault("scale", DEFAULT_SCALE)
    if "default" in options:
        options["has_default"] = True
        options["default"] = _coerce_default(kind, options["default"])
    if "values" in options:
        options["values"] = tuple(options["values"])
    if "references" in options:
        reference = dict(options["references"])
        reference.setdefault("field", keys[reference["model"]][0])
        options["references"] = Reference(**reference)
    if "fields" in options:  # an embedded document's fields (validated as entries)
        options["fields"] = tuple(_field(f, keys) for f in options["fields"])
    return FieldSpec(name=field.name, location=field.location, **options)


def _coerce_default(kind: str, value: object) -> object:
    if value is None or isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, int):
        return float(value)
    if kind == "decimal" and isinstance(value, int | float | str):
        return Decimal(str(value))
    return value


def _relation(relation: RawEntry, this: str, keys: dict[str, tuple[str, ...]]) -> RelationSpec:
    options: dict[str, Any] = dict(relation.options)
    other = options["model"]
    for key in ("foreign_key", "other_key", "local_key"):
        if key in options:
            options[key] = as_keys(options[key])
    implicit = relation_keys(
        options["kind"], this, other, _keys(keys.get(this, ())), _keys(keys.get(other, ()))
    )
    for key, value in implicit.items():
        options.setdefault(key, value)
    return RelationSpec(name=relation.name, location=relation.location, **options)


def _keys(names: tuple[str, ...]) -> Keys | None:
    return (names[0] if len(names) == 1 else names) if names else None
