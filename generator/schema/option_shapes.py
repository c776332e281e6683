"""The options a schema file's entries take and the values each option accepts.

The key lists, the value shapes and the per-type rules the validator (``validate.py``)
checks against, kept apart so that the JSON Schema for editors (``schema_json.py``) reads
the same tables.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from .model import FIELD_TYPES, RELATION_KINDS, ForeignKeyAction, RawEntry
from .names import is_identifier

MODEL_KEYS = (
    *("table", "timestamps", "soft_deletes", "fields", "indexes", "relations"),
    *("renamed_from", "engine", "description"),
    *("primary_key", "checks", "foreign_keys"),
)
FIELD_KEYS = (
    *("type", "primary_key", "auto_increment", "nullable", "default", "max_length"),
    *("precision", "scale", "values", "unique", "index", "hidden", "renamed_from", "references"),
    *("encrypted", "searchable"),
    *("fields", "many"),
    *("db_name", "server_default"),
)
# What a field of an embedded document cannot have: those belong to the model's own fields.
NOT_EMBEDDABLE = ("primary_key", "auto_increment", "unique", "index", "references", "hidden")
MONGODB_TYPES = ("objectid", "embedded")
INDEX_KEYS = ("columns", "unique", "name", "expire_after_seconds")
RELATION_KEYS = (
    *("kind", "model", "foreign_key", "other_key", "local_key", "through"),
    *("on_delete", "on_update"),
)
REFERENCE_KEYS = ("model", "field", "on_delete", "on_update", "name")
CHECK_KEYS = ("name", "expression")
FOREIGN_KEY_KEYS = ("columns", "references", "on_delete", "on_update", "name")
FOREIGN_KEY_REFERENCE_KEYS = ("model", "fields")
SERVER_DEFAULTS = ("now", "uuid")
# The types each server_default keyword fits ({sql: ...} fits every SQL type).
SERVER_DEFAULT_TYPES = {"now": ("datetime",), "uuid": ("uuid",)}
NAME_BYTES = 63  # the strictest identifier limit of the SQL engines (PostgreSQL)
ACTIONS: tuple[str, ...] = ForeignKeyAction.__args__  # type: ignore[attr-defined]
INTEGER_TYPES = ("int", "bigint", "smallint")
# The keys each relation kind takes, and the model that must have that field: "this" one,
# the "other" one, or the "pivot" (when a model declares the through table).
KIND_KEYS = {
    "belongs_to": {"foreign_key": "this", "other_key": "other"},
    "has_one": {"foreign_key": "other", "local_key": "this"},
    "has_many": {"foreign_key": "other", "local_key": "this"},
    "belongs_to_many": {"through": "", "foreign_key": "pivot", "other_key": "pivot"},
}
# Field options only some types take.
TYPE_OPTIONS = {
    "auto_increment": INTEGER_TYPES,
    "max_length": ("str",),
    "precision": ("decimal",),
    "scale": ("decimal",),
    "values": ("enum",),
    "fields": ("embedded",),
    "many": ("embedded",),
}
# Field options an encrypted field cannot take, and why.
ENCRYPTED_CONFLICTS = {
    "primary_key": ("a primary key", "its value is part of every ciphertext of the row"),
    "auto_increment": ("auto-increment", "the database numbers it in plain"),
    "references": ("a foreign key (references)", "a foreign key compares plain values"),
    "index": ("indexed", "ciphertexts are never equal; use searchable: true for lookups"),
    "server_default": ("given a server_default", "the database would store its value in plain"),
    "db_name": ("renamed with db_name", "not supported for encrypted fields yet"),
}
# Types without a literal default in a schema file (only null).
NO_LITERAL_TYPES = ("date", "time", "datetime", "uuid", "json", "bytes", "objectid", "embedded")


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _count(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def is_names(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def is_column_name(value: object) -> bool:
    """A name a column can have in the database: any text but dots and NUL, 63 bytes."""
    return (
        isinstance(value, str)
        and bool(value.strip())
        and "." not in value
        and "\x00" not in value
        and len(value.encode()) <= NAME_BYTES
    )


def _keys(value: object) -> bool:
    """A relation key: a field name, or a list of them (a composite key)."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) and is_identifier(v) for v in value)
    return isinstance(value, str) and is_identifier(value)


def is_server_default(value: object) -> bool:
    if isinstance(value, dict):
        sql = value.get("sql")
        return set(value) == {"sql"} and isinstance(sql, str) and bool(sql.strip())
    return value in SERVER_DEFAULTS


BOOL_SHAPE = (lambda v: isinstance(v, bool), "true or false")
NAME_SHAPE = (lambda v: isinstance(v, str) and is_identifier(v), "a name (letters, digits and _)")
ACTION_SHAPE = (lambda v: v in ACTIONS, f"one of {', '.join(ACTIONS)}")
POSITIVE_SHAPE = (lambda v: _count(v, 1), "a positive integer")
RELATION_KEYS_SHAPE = (_keys, "a field name, or a list of field names for a composite key")
# option -> (does it accept the value?, what it must be); type and kind are checked apart.
SHAPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "engine": (lambda v: v in ("sql", "mongodb"), "sql or mongodb"),
    "default": (lambda v: True, ""),
    "references": (lambda v: isinstance(v, dict), "a mapping such as {model: User}"),
    "max_length": POSITIVE_SHAPE,
    "precision": POSITIVE_SHAPE,
    "scale": (lambda v: _count(v, 0), "an integer, 0 or more"),
    "values": (is_names, "a non-empty list of strings"),
    "columns": (is_names, "a non-empty list of field names"),
    "description": (lambda v: isinstance(v, str), "a string"),
    "expire_after_seconds": (lambda v: _count(v, 0), "an integer, 0 or more (seconds)"),
    "model": (lambda v: isinstance(v, str), "a model name"),
    **dict.fromkeys(("timestamps", "soft_deletes", "primary_key", "auto_increment"), BOOL_SHAPE),
    **dict.fromkeys(
        ("nullable", "unique", "index", "hidden", "encrypted", "searchable"), BOOL_SHAPE
    ),
    "many": BOOL_SHAPE,
    "fields": (
        lambda v: isinstance(v, list) and bool(v) and all(isinstance(e, RawEntry) for e in v),
        "a mapping of field names to their options, such as {at: {type: datetime}}",
    ),
    **dict.fromkeys(("table", "renamed_from", "name", "field", "through"), NAME_SHAPE),
    **dict.fromkeys(("foreign_key", "other_key", "local_key"), RELATION_KEYS_SHAPE),
    **dict.fromkeys(("on_delete", "on_update"), ACTION_SHAPE),
    "db_name": (is_column_name, f"a column name (no dots, at most {NAME_BYTES} bytes)"),
    "server_default": (is_server_default, 'now, uuid or {sql: "<SQL expression>"}'),
    "expression": (
        lambda v: isinstance(v, str) and bool(v.strip()),
        'SQL text over the table\'s columns, such as "price >= 0"',
    ),
}
# Options whose value has another shape at the model level (a model's primary_key) or in a
# foreign_keys entry's references (fields: the referenced fields).
MODEL_SHAPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "primary_key": (is_names, "a list of field names, such as [order_id, line_no]"),
}
FOREIGN_KEY_REFERENCE_SHAPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "fields": (is_names, "a non-empty list of field names of the referenced model"),
}
# The shapes that differ by scope (model options; a foreign_keys entry's references).
SCOPE_SHAPES = {"model": MODEL_SHAPES, "foreign_key_reference": FOREIGN_KEY_REFERENCE_SHAPES}


def show(value: object) -> str:
    """A value as a schema file writes it: true, null, 'text', 3."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)


def option_problem(
    key: str,
    value: object,
    allowed: tuple[str, ...],
    what: str,
    shapes: dict[str, tuple[Callable[[object], bool], str]] | None = None,
) -> str | None:
    if key not in allowed:
        return f"unknown option '{key}' in {what}; allowed: {', '.join(allowed)}"
    if key == "type":
        known = ", ".join(FIELD_TYPES)
        return (
            None
            if value in FIELD_TYPES
            else f"unknown type {show(value)} for {what}; known types: {known}"
        )
    if key == "kind":
        known = ", ".join(RELATION_KINDS)
        return (
            None
            if value in RELATION_KINDS
            else f"unknown relation kind {show(value)} in {what}; known kinds: {known}"
        )
    accepts, wanted = (shapes or {}).get(key) or SHAPES[key]
    return (
        None if accepts(value) else f"option '{key}' of {what} must be {wanted}, not {show(value)}"
    )


def default_problem(what: str, kind: str, value: object, options: dict[str, object]) -> str | None:
    """Why ``value`` cannot be the default of field ``what`` of type ``kind``."""
    if value is None:
        nullable = options.get("nullable") is True
        return None if nullable else f"default null of {what} needs nullable: true"
    if kind in NO_LITERAL_TYPES:
        return f"{what} is {kind}: its default can only be null (the schema has no {kind} literal)"
    if kind == "enum":
        values = options.get("values")
        if isinstance(values, list) and value not in values:
            return f"default {show(value)} of {what} is not one of its values: {', '.join(values)}"
        return None
    fits = {
        "bool": isinstance(value, bool),
        "float": _int(value) or isinstance(value, float),
        "decimal": _int(value) or isinstance(value, float | Decimal) or _decimal_text(value),
        "str": isinstance(value, str),
        "text": isinstance(value, str),
    }.get(kind, _int(value))
    if not fits:
        return f"default {show(value)} of {what} does not fit its type {kind}"
    length = options.get("max_length")
    if isinstance(value, str) and isinstance(length, int) and len(value) > length:
        return f"default {show(value)} of {what} is longer than its max_length {length}"
    return None


def _decimal_text(value: object) -> bool:
    try:
        return isinstance(value, str) and Decimal(value).is_finite()
    except InvalidOperation:
        return False
