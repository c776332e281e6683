"""Raw definitions -> the schema IR, filling in what a schema file leaves implicit.

Rules (the README repeats them):

- table: ``plural(snake_case(Model))`` (``BlogPost`` -> ``blog_posts``).
- ``timestamps: true`` appends ``created_at`` and ``updated_at`` (datetime, not null);
  ``soft_deletes: true`` appends ``deleted_at`` (datetime, nullable). The runtime fills them.
- decimal: precision 10, scale 2 unless given.
- references: ``field`` is the target model's primary key unless given.
- belongs_to: ``foreign_key = <other>_id``, ``other_key`` = the other model's primary key.
- has_one / has_many: ``foreign_key = <this>_id`` (on the other model), ``local_key`` = this
  model's primary key.
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

from .model import FieldSpec, IndexSpec, ModelSpec, RawEntry, RawModel, Reference, RelationSpec
from .model import Schema as SchemaIR
from .names import plural, snake_case, table_name

DEFAULT_PRECISION = 10
DEFAULT_SCALE = 2
SOFT_DELETE_FIELD = "deleted_at"
Managed = Literal["created_at", "updated_at", "deleted_at"]


def relation_keys(
    kind: str, this: str, other: str, this_key: str | None, other_key: str | None
) -> dict[str, str | None]:
    """The implicit keys of a relation from model ``this`` to model ``other``.

    ``this_key`` and ``other_key`` are the two models' primary key names (None when unknown).
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


def primary_key_name(model: RawModel) -> str | None:
    """The name of the (first) field marked ``primary_key: true``, if any."""
    return next((f.name for f in model.fields if f.options.get("primary_key") is True), None)


def managed_fields(model: RawModel) -> list[Managed]:
    """The columns that ``timestamps`` and ``soft_deletes`` add to ``model``."""
    names: list[Managed] = ["created_at", "updated_at"] if model.options.get("timestamps") else []
    if model.options.get("soft_deletes") is True:
        names.append("deleted_at")
    return names


def normalize(models: Sequence[RawModel]) -> SchemaIR:
    """The schema IR of validated raw models, every implicit value filled in."""
    keys = {m.name: primary_key_name(m) for m in models}
    specs = [_model(m, keys) for m in sorted(models, key=lambda m: m.name)]
    return SchemaIR(models=tuple(specs))


def _model(model: RawModel, keys: dict[str, str | None]) -> ModelSpec:
    fields = [_field(f, keys) for f in model.fields]
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
    return ModelSpec.model_validate(
        {
            "table": table_name(model.name),
            **model.options,
            "name": model.name,
            "fields": fields,
            "indexes": indexes,
            "relations": [_relation(r, model.name, keys) for r in model.relations],
            "location": model.location,
        }
    )


def _field(field: RawEntry, keys: dict[str, str | None]) -> FieldSpec:
    options: dict[str, Any] = dict(field.options)
    kind = options["type"]
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
        reference.setdefault("field", keys[reference["model"]])
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


def _relation(relation: RawEntry, this: str, keys: dict[str, str | None]) -> RelationSpec:
    options: dict[str, Any] = dict(relation.options)
    other = options["model"]
    implicit = relation_keys(options["kind"], this, other, keys[this], keys.get(other))
    for key, value in implicit.items():
        options.setdefault(key, value)
    return RelationSpec(name=relation.name, location=relation.location, **options)
