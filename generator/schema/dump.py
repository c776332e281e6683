"""The schema IR -> YAML text in SPEC 8's format, the inverse of the loader.

``load_files`` of the text gives back an IR equal to the one dumped (locations aside).
The output is stable: models in IR order (sorted by name), fields, indexes and relations
in the order written, and the options of each in a fixed order. Only options that differ
from what ``normalize`` would fill in are written (a relation's ``foreign_key`` is the one
exception: it is always written, so a reader sees which column joins). Fields, indexes and
relations are one flow mapping a line, as ``schemas/blog.yaml`` writes them::

    models:
      User:
        fields:
          id: {type: int, primary_key: true, auto_increment: true}
          name: {type: str, max_length: 120}
"""

from __future__ import annotations

import json
from decimal import Decimal

import yaml  # type: ignore[import-untyped]

from .model import (
    CheckSpec,
    FieldSpec,
    ForeignKeySpec,
    IndexSpec,
    ModelSpec,
    RelationSpec,
    Schema,
    ServerDefault,
)
from .names import table_name
from .normalize import DEFAULT_PRECISION, DEFAULT_SCALE, relation_keys

# The order options are written in (the order schemas/blog.yaml uses).
FIELD_ORDER = (
    *("type", "db_name", "primary_key", "auto_increment", "max_length", "precision", "scale"),
    *("values", "nullable", "default", "server_default", "unique", "index", "hidden"),
    *("renamed_from", "references"),
)
RELATION_ORDER = (
    *("kind", "model", "through", "foreign_key", "other_key", "local_key"),
    *("on_delete", "on_update"),
)
_IMPLICIT_DEFAULTS = {"precision": DEFAULT_PRECISION, "scale": DEFAULT_SCALE}


def dump(schema: Schema, header: str | None = None) -> str:
    """YAML text for ``schema``; ``header`` (any lines) is written first as comments."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    if not schema.models:
        return "\n".join([*lines, "models: {}", ""])
    lines.append("models:")
    for number, model in enumerate(schema.models):
        if number:
            lines.append("")
        lines += _model(model, schema)
    return "\n".join(lines) + "\n"


def _model(model: ModelSpec, schema: Schema) -> list[str]:
    options: dict[str, object] = {}
    if model.table != table_name(model.name):
        options["table"] = model.table
    if model.description is not None:
        options["description"] = model.description
    if model.engine != "sql":
        options["engine"] = model.engine
    if model.renamed_from is not None:
        options["renamed_from"] = model.renamed_from
    if model.timestamps:
        options["timestamps"] = True
    if model.soft_deletes:
        options["soft_deletes"] = True
    if model.composite_key:
        options["primary_key"] = list(model.composite_key)
    lines = [f"  {model.name}:"]
    lines += [f"    {key}: {_value(value)}" for key, value in options.items()]
    lines.append("    fields:")
    lines += [
        f"      {field.name}: {_value(field_options(field, schema, bool(model.composite_key)))}"
        for field in model.fields
        if field.managed is None
    ]
    if model.indexes:
        lines.append("    indexes:")
        lines += [f"      - {_value(_index(index))}" for index in model.indexes]
    if model.checks:
        lines.append("    checks:")
        lines += [f"      - {_value(_check(check))}" for check in model.checks]
    if model.foreign_keys:
        lines.append("    foreign_keys:")
        lines += [f"      - {_value(_foreign_key(fk, schema))}" for fk in model.foreign_keys]
    if model.relations:
        lines.append("    relations:")
        lines += [
            f"      {relation.name}: {_value(_relation(relation, model, schema))}"
            for relation in model.relations
        ]
    return lines


def field_options(field: FieldSpec, schema: Schema, composite: bool = False) -> dict[str, object]:
    """The options a schema file writes for ``field``: those that differ from the defaults.
    With ``composite``, the model lists its key (``primary_key: [...]``), not its fields."""
    options: dict[str, object] = {}
    for key in FIELD_ORDER:
        value = getattr(field, key)
        if key == "default":
            if field.has_default:
                options[key] = value
            continue
        if key == "primary_key" and composite:
            continue
        if key == "server_default":
            if field.server_default is not None:
                options[key] = _server_default(field.server_default)
            continue
        if key == "references" and field.references is not None:
            reference = field.references
            target = schema.model(reference.model)
            found: dict[str, object] = {"model": reference.model}
            if target is None or target.composite_key or reference.field != target.primary_key.name:
                found["field"] = reference.field
            for action in ("on_delete", "on_update"):
                if getattr(reference, action) != "no_action":
                    found[action] = getattr(reference, action)
            if reference.name is not None:
                found["name"] = reference.name
            options[key] = found
            continue
        default = _IMPLICIT_DEFAULTS.get(key, FieldSpec.model_fields[key].default)
        if value is not None and value != default:
            options[key] = list(value) if isinstance(value, tuple) else value
    if field.type == "embedded":  # engine: mongodb
        if field.many:
            options["many"] = True
        options["fields"] = {f.name: field_options(f, schema) for f in field.fields}
    return options


def _index(index: IndexSpec) -> dict[str, object]:
    options: dict[str, object] = {"columns": list(index.columns)}
    if index.unique:
        options["unique"] = True
    if index.name is not None:
        options["name"] = index.name
    if index.expire_after_seconds is not None:
        options["expire_after_seconds"] = index.expire_after_seconds
    return options


def _server_default(value: ServerDefault) -> object:
    return {"sql": value.sql} if value.kind == "sql" else value.kind


def _check(check: CheckSpec) -> dict[str, object]:
    return {"name": check.name, "expression": check.expression}


def _foreign_key(fk: ForeignKeySpec, schema: Schema) -> dict[str, object]:
    target = schema.model(fk.model)
    reference: dict[str, object] = {"model": fk.model}
    if target is None or fk.fields != tuple(f.name for f in target.key_fields):
        reference["fields"] = list(fk.fields)
    options: dict[str, object] = {"columns": list(fk.columns), "references": reference}
    for action in ("on_delete", "on_update"):
        if getattr(fk, action) != "no_action":
            options[action] = getattr(fk, action)
    if fk.name is not None:
        options["name"] = fk.name
    return options


def _key(model: ModelSpec | None) -> str | tuple[str, ...] | None:
    if model is None:
        return None
    names = tuple(f.name for f in model.key_fields)
    return names[0] if len(names) == 1 else names


def _relation(relation: RelationSpec, model: ModelSpec, schema: Schema) -> dict[str, object]:
    implicit = relation_keys(
        relation.kind, model.name, relation.model, _key(model), _key(schema.model(relation.model))
    )
    options: dict[str, object] = {}
    for key in RELATION_ORDER:
        value = getattr(relation, key)
        if value is None or (key != "foreign_key" and implicit.get(key) == value):
            continue
        options[key] = value
    return options


def _value(value: object) -> str:
    """``value`` as YAML flow text: mappings ``{a: 1}``, lists ``[a, b]``, scalars quoted
    only where YAML needs it."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, Decimal):
        # an integral Decimal is written as an integer, any other as its exact text
        return str(int(value)) if value == value.to_integral_value() else _value(str(value))
    if isinstance(value, str) and not value.isprintable():
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML "..." scalar
    text: str = yaml.safe_dump(
        [value], default_flow_style=True, allow_unicode=True, width=float("inf")
    )
    return text.strip()[1:-1]
