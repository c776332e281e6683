"""The JSON Schema of the YAML schema-file format, for completion and checks in editors.

A YAML schema file whose first line is ``# yaml-language-server: $schema=jadugar.schema.json``
gets completion, hover text and errors in any editor running the YAML language server (VS
Code's YAML extension among them). ``jadugar schema-json`` writes the file.

The JSON Schema is derived, each time it is asked for, from the format's own definition in
``schema/option_shapes.py``: the option names come from the key lists the validator checks
(``MODEL_KEYS``, ``FIELD_KEYS``, ``INDEX_KEYS``, ``RELATION_KEYS``, ``REFERENCE_KEYS``), the
value of an option from its entry in the validator's table of value shapes, the types,
relation kinds and foreign key actions from the IR's ``Literal`` types, the options that only
some types or relation kinds take from ``TYPE_OPTIONS`` and ``KIND_KEYS``, and names from the
patterns of ``schema/names.py``. An option added to the format is in the JSON Schema at the
next run; one whose value shape this module does not know yet is accepted with any value
(``untyped_options()`` lists those, and a test fails on them).

The JSON Schema checks less than ``jadugar generate``: what needs the other models (a relation
to an unknown model, a reference to a missing field), reserved field names and one primary key
per model are left to the validator.
"""

from __future__ import annotations

import json
import keyword
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jadugar.errors import ConfigurationError

from .schema import names
from .schema import option_shapes as rules
from .schema.model import FIELD_TYPES, RELATION_KINDS, ModelSpec

DRAFT = "http://json-schema.org/draft-07/schema#"
FILE_NAME = "jadugar.schema.json"
# The first line of a YAML schema file kept beside the JSON Schema (in the schemas folder);
# the language server resolves the path from the YAML file's folder.
MODELINE_TEXT = f"yaml-language-server: $schema={FILE_NAME}"
MODELINE = f"# {MODELINE_TEXT}"
# What yaml_source reads at the top of a file.
TOP_KEYS = ("models",)
# Options the validator requires of each kind of entry (validate.check_field and the rest).
REQUIRED = {
    "model": ("fields",),
    "field": ("type",),
    "index": ("columns",),
    "relation": ("kind", "model"),
    "reference": ("model",),
    "check": ("name", "expression"),
    "foreign_key": ("columns", "references"),
    "foreign_key_reference": ("model",),
}
# The option a type cannot go without (validate.check_type_options, check_mongodb_type).
NEEDED_BY_TYPE = {"enum": "values", "embedded": "fields"}
Fragment = dict[str, Any]  # a piece of JSON Schema

# Hover text of each option; an option missing here is described by what its value must be.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "model": {
        "table": "The table (or MongoDB collection); default: plural snake_case of the name.",
        "description": "The model's docstring in the generated code.",
        "timestamps": "Adds created_at and updated_at (UTC datetimes the runtime sets).",
        "soft_deletes": "Adds deleted_at; deleted rows are hidden from queries by default.",
        "fields": "The columns: field name -> its options, such as {type: str, max_length: 120}.",
        "indexes": "Indexes over several columns: a list of {columns: [...]}.",
        "relations": "Relations to other models: name -> {kind: ..., model: ...}.",
        "renamed_from": "The model's previous name: makemigrations renames instead of drop+add.",
        "engine": "sql (the default), or mongodb for a model kept only on MongoDB.",
        "primary_key": "A composite primary key: its fields, in key order.",
        "checks": "Named CHECK constraints: a list of {name: ..., expression: <SQL>}.",
        "foreign_keys": "Foreign keys over one or more columns: {columns: [...], references: ...}.",
    },
    "field": {
        "type": "The column type.",
        "primary_key": "This field is the primary key.",
        "auto_increment": "The database numbers new rows (int, bigint, smallint).",
        "nullable": "The column accepts null (the Python type is X | None).",
        "default": "The value of new rows; a literal of the field's type, or null.",
        "max_length": "Longest accepted string (type str), checked before the database sees it.",
        "precision": "Total digits of a decimal (default 10).",
        "scale": "Digits after the point of a decimal (default 2).",
        "values": "The values of an enum.",
        "unique": "No two rows have the same value.",
        "index": "An index on this column.",
        "hidden": "Left out of model_dump().",
        "renamed_from": "The column's previous name: makemigrations renames instead of drop+add.",
        "references": "A foreign key: {model: User, field: id, on_delete: cascade}.",
        "encrypted": "Stored sealed with AES-GCM (jadugar.encryption); SQL models only.",
        "searchable": "An encrypted field with a blind index column, for equality lookups.",
        "fields": "An embedded document's fields (type embedded, engine: mongodb).",
        "many": "A list of embedded documents rather than one.",
        "db_name": "The column's name in the database, when it is not the field's name.",
        "server_default": "A default the database computes: now, uuid or {sql: <expression>}.",
    },
    "index": {
        "columns": "The indexed columns, in order.",
        "unique": "A unique index.",
        "name": "The index name; default: derived from the table and columns.",
        "expire_after_seconds": "MongoDB TTL index: documents expire this long after the date.",
    },
    "relation": {
        "kind": "has_one, has_many, belongs_to or belongs_to_many.",
        "model": "The other model.",
        "foreign_key": "The joining column (on the other model for has_one/has_many).",
        "other_key": "belongs_to: the other model's key; belongs_to_many: the pivot's column.",
        "local_key": "has_one / has_many: this model's key (default: its primary key).",
        "through": "belongs_to_many: the pivot table (default: e.g. post_tags).",
        "on_delete": "What the foreign key does when the referenced row is deleted.",
        "on_update": "What the foreign key does when the referenced key changes.",
    },
    "reference": {
        "model": "The referenced model.",
        "field": "The referenced field (default: its primary key).",
        "on_delete": "What happens to this row when the referenced row is deleted.",
        "on_update": "What happens to this row when the referenced key changes.",
        "name": "The foreign key constraint's name; default: <table>_<column>_fkey.",
    },
    "check": {
        "name": "The constraint's name: checks are added and dropped by name.",
        "expression": "SQL text over the table's columns, written as given for the engine.",
    },
    "foreign_key": {
        "columns": "This model's fields that point, in order.",
        "references": "The referenced model and its fields: {model: Order, fields: [id]}.",
        "on_delete": "What happens to this row when the referenced row is deleted.",
        "on_update": "What happens to this row when the referenced key changes.",
        "name": "The constraint's name; default: <table>_<columns>_fkey.",
    },
    "foreign_key_reference": {
        "model": "The referenced model.",
        "fields": "The referenced fields, pairwise with columns (default: its primary key).",
    },
}


def _anchored(pattern: str) -> str:
    return f"^{pattern}$"


# Python identifiers (ASCII) that are not keywords (names.is_identifier), and the two cases
# of names.py; each a definition of its own, referred to by these.
NAME: Fragment = {"$ref": "#/definitions/name"}
MODEL_NAME: Fragment = {"$ref": "#/definitions/model_name"}
FIELD_NAME: Fragment = {"$ref": "#/definitions/field_name"}
ACTIONS: Fragment = {"$ref": "#/definitions/action"}


def _name_definitions() -> dict[str, Fragment]:
    not_keyword = {"not": {"enum": list(keyword.kwlist)}}
    return {
        "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", **not_keyword},
        "model_name": {
            "description": "A PascalCase name such as BlogPost.",
            "type": "string",
            "pattern": _anchored(names._PASCAL.pattern),
            **not_keyword,
        },
        "field_name": {
            "description": "A lower snake_case name such as created_at.",
            "type": "string",
            "pattern": _anchored(names._SNAKE.pattern),
            **not_keyword,
        },
        "action": {"enum": list(rules.ACTIONS)},
    }


def _engines() -> list[str]:
    return list(typing.get_args(ModelSpec.model_fields["engine"].annotation))


def _names() -> Fragment:
    return {"type": "array", "items": {"type": "string"}, "minItems": 1}


# Value shapes of the validator's table (option_shapes.SHAPES) that are shared tuples.
_SHARED: list[tuple[object, Callable[[], Fragment]]] = [
    (rules.BOOL_SHAPE, lambda: {"type": "boolean"}),
    (rules.NAME_SHAPE, lambda: dict(NAME)),
    (rules.ACTION_SHAPE, lambda: dict(ACTIONS)),
    (rules.POSITIVE_SHAPE, lambda: {"type": "integer", "minimum": 1}),
]
_TEXT = {"type": "string", "pattern": "\\S"}  # not blank (validate: v.strip())
# The others, by option name (their checks are lambdas of their own in option_shapes.SHAPES).
_OWN: dict[str, Callable[[], Fragment]] = {
    "engine": lambda: {"enum": _engines()},
    "default": lambda: {},  # narrowed by the field's type below
    "references": lambda: {"$ref": "#/definitions/reference"},
    "scale": lambda: {"type": "integer", "minimum": 0},
    "values": lambda: _names(),
    "columns": lambda: _names(),
    "description": lambda: {"type": "string"},
    "expire_after_seconds": lambda: {"type": "integer", "minimum": 0},
    "model": lambda: dict(MODEL_NAME),
    "fields": lambda: {
        "type": "object",
        "minProperties": 1,
        "propertyNames": FIELD_NAME,
        "additionalProperties": {"$ref": "#/definitions/embedded_field"},
    },
    "type": lambda: {"enum": list(FIELD_TYPES)},
    "kind": lambda: {"enum": list(RELATION_KINDS)},
    "db_name": lambda: {
        "type": "string",
        "pattern": "^[^.\\u0000]*[^.\\s\\u0000][^.\\u0000]*$",
        "maxLength": rules.NAME_BYTES,
    },
    "server_default": lambda: {
        "anyOf": [
            {"enum": list(rules.SERVER_DEFAULTS)},
            {
                "type": "object",
                "properties": {"sql": dict(_TEXT)},
                "required": ["sql"],
                "additionalProperties": False,
            },
        ]
    },
    "expression": lambda: dict(_TEXT),
    **dict.fromkeys(
        ("foreign_key", "other_key", "local_key"),
        lambda: {"anyOf": [dict(NAME), {"type": "array", "items": NAME, "minItems": 1}]},
    ),
}
# Options whose value depends on the scope (option_shapes.SCOPE_SHAPES and the references of a
# foreign_keys entry).
_SCOPED: dict[tuple[str, str], Callable[[], Fragment]] = {
    ("model", "primary_key"): lambda: _names(),
    ("foreign_key", "references"): lambda: {"$ref": "#/definitions/foreign_key_reference"},
    ("foreign_key_reference", "fields"): lambda: _names(),
}
# The entries of a model, which yaml_source reads apart from its options.
_MODEL_ENTRIES: dict[str, Fragment] = {
    "fields": {
        "type": "object",
        "minProperties": 1,
        "propertyNames": FIELD_NAME,
        "additionalProperties": {"$ref": "#/definitions/field"},
    },
    "indexes": {"type": "array", "items": {"$ref": "#/definitions/index"}},
    "checks": {"type": "array", "items": {"$ref": "#/definitions/check"}},
    "foreign_keys": {"type": "array", "items": {"$ref": "#/definitions/foreign_key"}},
    "relations": {
        "type": "object",
        "propertyNames": FIELD_NAME,
        "additionalProperties": {"$ref": "#/definitions/relation"},
    },
}


# The options of each scope, as the validator lists them.
SCOPES: dict[str, tuple[str, ...]] = {
    "model": rules.MODEL_KEYS,
    "field": rules.FIELD_KEYS,
    "index": rules.INDEX_KEYS,
    "relation": rules.RELATION_KEYS,
    "reference": rules.REFERENCE_KEYS,
    "check": rules.CHECK_KEYS,
    "foreign_key": rules.FOREIGN_KEY_KEYS,
    "foreign_key_reference": rules.FOREIGN_KEY_REFERENCE_KEYS,
}


def _value(scope: str, key: str) -> Fragment | None:
    """What option ``key`` of a ``scope`` takes; None for a shape this module does not know."""
    if scope == "model" and key in _MODEL_ENTRIES:
        return dict(_MODEL_ENTRIES[key])
    if (scope, key) in _SCOPED:
        return _SCOPED[scope, key]()
    if key in _OWN:
        return _OWN[key]()
    shape = rules.SHAPES.get(key)
    return next((make() for known, make in _SHARED if known is shape), None)


def _option(scope: str, key: str) -> Fragment:
    """The JSON Schema of option ``key`` of a ``scope`` (model, field, index, ...)."""
    shape = rules.SCOPE_SHAPES.get(scope, {}).get(key) or rules.SHAPES.get(key)
    wanted = shape[1] if shape else ""
    described = DESCRIPTIONS.get(scope, {}).get(key)
    text = described or (f"Must be {wanted}." if wanted else "")
    fragment = _value(scope, key) or {}  # unknown shape: any value (see untyped_options)
    return {"description": text, **fragment} if text else fragment


def _object(scope: str, keys: Iterable[str], *rules_: Fragment) -> Fragment:
    keys = list(keys)
    body: Fragment = {
        "type": "object",
        "properties": {key: _option(scope, key) for key in keys},
        "additionalProperties": False,
    }
    required = [key for key in REQUIRED.get(scope, ()) if key in keys]
    if required:
        body["required"] = required
    if rules_:
        body["allOf"] = list(rules_)
    return body


def _when(condition: Fragment, then: Fragment) -> Fragment:
    return {"if": condition, "then": then}


def _set(option: str, value: object = True) -> Fragment:
    """``option`` is written and is ``value``."""
    return {"required": [option], "properties": {option: {"const": value}}}


def _written(option: str) -> Fragment:
    """``option`` is written and is not false (what validate checks for type options)."""
    return {"required": [option], "properties": {option: {"not": {"const": False}}}}


def _type_is(types: Iterable[str]) -> Fragment:
    return {"required": ["type"], "properties": {"type": {"enum": list(types)}}}


def _default_of(kind: str) -> Fragment:
    """What a literal default of type ``kind`` can be (option_shapes.default_problem)."""
    if kind in rules.NO_LITERAL_TYPES:
        return {"type": "null"}
    if kind in rules.INTEGER_TYPES:
        return {"type": ["integer", "null"]}
    decimal_text = {"type": "string", "pattern": r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"}
    shapes: dict[str, Fragment] = {
        "bool": {"type": ["boolean", "null"]},
        "float": {"type": ["number", "null"]},
        "decimal": {"anyOf": [{"type": ["number", "null"]}, decimal_text]},
        "str": {"type": ["string", "null"]},
        "text": {"type": ["string", "null"]},
        "enum": {"type": ["string", "null"]},
    }
    return shapes.get(kind, {"type": ["integer", "null"]})


def _field_rules(keys: Iterable[str]) -> list[Fragment]:
    keys = set(keys)
    found: list[Fragment] = []
    for option, types in rules.TYPE_OPTIONS.items():
        if option in keys:
            found.append(_when(_written(option), _type_is(types)))
    for kind, option in NEEDED_BY_TYPE.items():
        if option in keys:
            found.append(_when(_type_is([kind]), {"required": [option]}))
    by_default: dict[str, list[str]] = {}  # types whose defaults look alike, together
    for kind in FIELD_TYPES:
        by_default.setdefault(json.dumps(_default_of(kind)), []).append(kind)
    found += [
        _when(_type_is(kinds), {"properties": {"default": json.loads(default)}})
        for default, kinds in by_default.items()
    ]
    found.append(
        _when(
            {"required": ["default"], "properties": {"default": {"type": "null"}}},
            _set("nullable"),
        )
    )
    if "primary_key" in keys:
        found.append(_when(_set("primary_key"), {"properties": {"nullable": {"const": False}}}))
    if "server_default" in keys:  # option_shapes.SERVER_DEFAULT_TYPES
        for word, types in rules.SERVER_DEFAULT_TYPES.items():
            found.append(_when(_set("server_default", word), _type_is(types)))
    if {"encrypted", "searchable"} <= keys:
        found.append(_when(_set("searchable"), _set("encrypted")))
        conflicts = [option for option in rules.ENCRYPTED_CONFLICTS if option in keys]
        off: Fragment = {"enum": [False, None]}
        found.append(_when(_set("encrypted"), {"properties": dict.fromkeys(conflicts, off)}))
        unique = {"allOf": [_set("encrypted"), _set("unique")]}
        found.append(_when(unique, _set("searchable")))
    return found


def _relation_rules() -> list[Fragment]:
    """The options that only some relation kinds take (option_shapes.KIND_KEYS)."""
    everywhere = set.intersection(*(set(keys) for keys in rules.KIND_KEYS.values()))
    optional = sorted(set().union(*rules.KIND_KEYS.values()) - everywhere)
    found: list[Fragment] = []
    for kind, keys in rules.KIND_KEYS.items():
        barred = [key for key in optional if key not in keys]
        if barred:
            then = {"properties": dict.fromkeys(barred, False)}
            found.append(_when(_set("kind", kind), then))
    return found


def _model_rules() -> list[Fragment]:
    """objectid and embedded fields need engine: mongodb (validate.check_mongodb_type)."""
    not_mongodb = {"not": _set("engine", "mongodb")}
    sql_field = {"properties": {"type": {"not": {"enum": list(rules.MONGODB_TYPES)}}}}
    then = {"properties": {"fields": {"additionalProperties": sql_field}}}
    return [_when(not_mongodb, then)]


def json_schema() -> dict[str, object]:
    """The JSON Schema (draft-07) of a YAML schema file, as data."""
    embedded_keys = [k for k in rules.FIELD_KEYS if k not in rules.NOT_EMBEDDABLE]
    definitions: Fragment = {
        "model": _object("model", rules.MODEL_KEYS, *_model_rules()),
        "field": _object("field", rules.FIELD_KEYS, *_field_rules(rules.FIELD_KEYS)),
        "embedded_field": {
            "description": "A field of an embedded document: no key, index or reference.",
            **_object("field", embedded_keys, *_field_rules(embedded_keys)),
        },
        "index": _object("index", rules.INDEX_KEYS, _ttl_rule()),
        "relation": _object("relation", rules.RELATION_KEYS, *_relation_rules()),
        "reference": _object("reference", rules.REFERENCE_KEYS),
        "check": _object("check", rules.CHECK_KEYS),
        "foreign_key": _object("foreign_key", rules.FOREIGN_KEY_KEYS),
        "foreign_key_reference": _object("foreign_key_reference", rules.FOREIGN_KEY_REFERENCE_KEYS),
        **_name_definitions(),
    }
    top: Fragment = {
        "models": {
            "description": "Model name (PascalCase) -> its options, fields, indexes, relations.",
            "type": "object",
            "propertyNames": MODEL_NAME,
            "additionalProperties": {"$ref": "#/definitions/model"},
        }
    }
    return {
        "$schema": DRAFT,
        "title": "Jadugar schema file",
        "description": (
            "A YAML schema file of Jadugar (schemas/*.yaml). Written by `jadugar schema-json`; "
            "`jadugar generate` checks more than this schema does."
        ),
        "type": "object",
        "properties": {key: top[key] for key in TOP_KEYS},
        "additionalProperties": False,
        "definitions": definitions,
    }


def _ttl_rule() -> Fragment:
    """A TTL index has exactly one column (validate.check_ttl)."""
    return _when(
        {"required": ["expire_after_seconds"]}, {"properties": {"columns": {"maxItems": 1}}}
    )


def untyped_options() -> list[str]:
    """Options of the format whose values the JSON Schema does not check (``scope.option``):
    added to the validator with a value shape this module does not know yet."""
    return [
        f"{scope}.{key}"
        for scope, keys in SCOPES.items()
        for key in keys
        if _value(scope, key) is None
    ]


def schema_json_text() -> str:
    """The JSON Schema as the committed file holds it: stable, indented, one final newline."""
    return _dump(json_schema(), 0) + "\n"


WIDTH = 100


def _dump(value: object, indent: int, taken: int = 0) -> str:
    """JSON indented by two spaces, with an object or list that fits the line kept on one
    (``taken``: the characters before it on its line, past the indent)."""
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if indent + taken + len(flat) <= WIDTH or not isinstance(value, dict | list) or not value:
        return flat
    inner = " " * (indent + 2)
    if isinstance(value, list):
        items = [inner + _dump(item, indent + 2) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    pairs = [
        f"{inner}{name}: {_dump(item, indent + 2, len(name) + 2)}"
        for name, item in (
            (json.dumps(key, ensure_ascii=False), item) for key, item in value.items()
        )
    ]
    return "{\n" + ",\n".join(pairs) + "\n" + " " * indent + "}"


@dataclass(frozen=True)
class SchemaJsonResult:
    path: Path
    up_to_date: bool
    written: bool


def write_schema_json(path: Path, *, check: bool = False) -> SchemaJsonResult:
    """Writes the JSON Schema to ``path`` (unless it is current); with ``check``, only says
    whether the file is current."""
    text = schema_json_text()
    try:
        current = path.read_text(encoding="utf-8") == text if path.is_file() else False
        if check or current:
            return SchemaJsonResult(path, current, False)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc}", field="output") from None
    return SchemaJsonResult(path, True, True)
