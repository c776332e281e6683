"""Checks of raw definitions: every problem, each a plain sentence with its file and line.

Nothing stops at the first problem: ``validate`` returns them all, and the loader raises
one ``SchemaError`` listing them.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

from jadugar.errors import SchemaError

from .model import FIELD_TYPES, RELATION_KINDS, ForeignKeyAction, Location, RawEntry, RawModel
from .names import (
    RESERVED_PREFIXES,
    is_field_name,
    is_identifier,
    is_model_name,
    is_reserved,
    table_name,
)
from .normalize import (
    DEFAULT_PRECISION,
    as_keys,
    index_column,
    key_names,
    key_of,
    managed_fields,
    relation_keys,
)

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


def _names(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _column_name(value: object) -> bool:
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


def _server_default(value: object) -> bool:
    if isinstance(value, dict):
        sql = value.get("sql")
        return set(value) == {"sql"} and isinstance(sql, str) and bool(sql.strip())
    return value in SERVER_DEFAULTS


_BOOL = (lambda v: isinstance(v, bool), "true or false")
_NAME = (lambda v: isinstance(v, str) and is_identifier(v), "a name (letters, digits and _)")
_ACTION = (lambda v: v in ACTIONS, f"one of {', '.join(ACTIONS)}")
_POSITIVE = (lambda v: _count(v, 1), "a positive integer")
_RELATION_KEYS = (_keys, "a field name, or a list of field names for a composite key")
# option -> (does it accept the value?, what it must be); type and kind are checked apart.
_SHAPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "engine": (lambda v: v in ("sql", "mongodb"), "sql or mongodb"),
    "default": (lambda v: True, ""),
    "references": (lambda v: isinstance(v, dict), "a mapping such as {model: User}"),
    "max_length": _POSITIVE,
    "precision": _POSITIVE,
    "scale": (lambda v: _count(v, 0), "an integer, 0 or more"),
    "values": (_names, "a non-empty list of strings"),
    "columns": (_names, "a non-empty list of field names"),
    "description": (lambda v: isinstance(v, str), "a string"),
    "expire_after_seconds": (lambda v: _count(v, 0), "an integer, 0 or more (seconds)"),
    "model": (lambda v: isinstance(v, str), "a model name"),
    **dict.fromkeys(("timestamps", "soft_deletes", "primary_key", "auto_increment"), _BOOL),
    **dict.fromkeys(("nullable", "unique", "index", "hidden", "encrypted", "searchable"), _BOOL),
    "many": _BOOL,
    "fields": (
        lambda v: isinstance(v, list) and bool(v) and all(isinstance(e, RawEntry) for e in v),
        "a mapping of field names to their options, such as {at: {type: datetime}}",
    ),
    **dict.fromkeys(("table", "renamed_from", "name", "field", "through"), _NAME),
    **dict.fromkeys(("foreign_key", "other_key", "local_key"), _RELATION_KEYS),
    **dict.fromkeys(("on_delete", "on_update"), _ACTION),
    "db_name": (_column_name, f"a column name (no dots, at most {NAME_BYTES} bytes)"),
    "server_default": (_server_default, 'now, uuid or {sql: "<SQL expression>"}'),
    "expression": (
        lambda v: isinstance(v, str) and bool(v.strip()),
        'SQL text over the table\'s columns, such as "price >= 0"',
    ),
}
# Options whose value has another shape at the model level (a model's primary_key) or in a
# foreign_keys entry's references (fields: the referenced fields).
MODEL_SHAPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "primary_key": (_names, "a list of field names, such as [order_id, line_no]"),
}
FOREIGN_KEY_REFERENCE_SHAPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "fields": (_names, "a non-empty list of field names of the referenced model"),
}
# The shapes that differ by scope (model options; a foreign_keys entry's references).
SCOPE_SHAPES = {"model": MODEL_SHAPES, "foreign_key_reference": FOREIGN_KEY_REFERENCE_SHAPES}


def validate(models: Sequence[RawModel]) -> list[SchemaError]:
    """Every problem of ``models`` (all files together); empty when they are valid."""
    checker = _Checker(models)
    checker.run()
    return checker.problems


def show(value: object) -> str:
    """A value as a schema file writes it: true, null, 'text', 3."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else repr(value)


def _first(location: Location, first: Location) -> str:
    where = (
        f"on line {first.line}" if first.file == location.file else f"in {first.file}:{first.line}"
    )
    return f"(first defined {where})"


def _either(words: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def _reserved(name: str) -> str:
    if keyword.iskeyword(name):
        return "a Python keyword"
    if name.startswith(RESERVED_PREFIXES):
        return f"names starting with {' or '.join(RESERVED_PREFIXES)} belong to pydantic"
    return "the generated model class has an attribute of that name"


class _Checker:
    def __init__(self, models: Sequence[RawModel]) -> None:
        self.all = models
        self.problems: list[SchemaError] = []
        self.models: dict[str, RawModel] = {}
        # check and foreign key names (lower case) -> the model and entry that used them
        self.constraints: dict[str, tuple[str, RawEntry]] = {}

    def problem(self, message: str, entry: RawEntry, option: str | None = None) -> None:
        file, line = entry.location.file, entry.line(option)
        self.problems.append(SchemaError(message, file=file, line=line))

    def run(self) -> None:
        tables: dict[str, RawModel] = {}
        for model in self.all:
            first = self.models.setdefault(model.name, model)
            if first is not model:
                where = _first(model.location, first.location)
                self.problem(f"duplicate model '{model.name}' {where}", model)
                continue
            table = _table(model)
            other = tables.setdefault(table, model)
            if other is not model:
                message = f"models {other.name} and {model.name} both use table '{table}'"
                self.problem(f"{message}; give one of them another table", model, "table")
        for model in self.models.values():
            self.check_model(model)

    def columns(self, model: str) -> list[str]:
        found = self.models[model]
        return list(dict.fromkeys([f.name for f in found.fields] + list(managed_fields(found))))

    def options(
        self,
        entry: RawEntry,
        options: object,
        allowed: tuple[str, ...],
        what: str,
        at: str = "",
        shapes: dict[str, tuple[Callable[[object], bool], str]] | None = None,
    ) -> dict[str, object]:
        """The options whose name and value are right; reports the others (at option ``at``).
        ``shapes`` overrides the value shapes of some options (``_SHAPES``)."""
        good: dict[str, object] = {}
        for key, value in options.items() if isinstance(options, dict) else ():
            wrong = _option_problem(key, value, allowed, what, shapes)
            if wrong:
                self.problem(wrong, entry, at or key)
            else:
                good[key] = value
        return good

    def check_name(self, entry: RawEntry, kind: str, model: str) -> None:
        what = f"{kind} name '{entry.name}' of model {model}"
        if is_reserved(entry.name):
            self.problem(f"{what} is reserved ({_reserved(entry.name)}); rename it", entry)
        elif not is_field_name(entry.name):
            self.problem(f"{what} must be a lower snake_case identifier such as created_at", entry)

    def check_model(self, model: RawModel) -> None:
        name = model.name
        if not is_model_name(name):
            self.problem(
                f"model name '{name}' must be a PascalCase identifier such as BlogPost", model
            )
        self.options(model, model.options, MODEL_KEYS, f"model {name}", shapes=MODEL_SHAPES)
        fields: dict[str, RawEntry] = {}
        for field in model.fields:
            first = fields.setdefault(field.name, field)
            if first is not field:
                where = _first(field.location, first.location)
                self.problem(f"duplicate field '{field.name}' in model {name} {where}", field)
                continue
            self.check_name(field, "field", name)
            self.check_field(name, field)
        for managed in managed_fields(model):
            if managed in fields:
                flag = "soft_deletes" if managed == "deleted_at" else "timestamps"
                message = f"field {name}.{managed} collides with the column that {flag}: true adds"
                self.problem(f"{message}; remove the field or the {flag} option", fields[managed])
        self.check_encryption(model, fields)
        self.check_key(model, fields)
        self.check_columns(model, fields)
        for index in model.indexes:
            self.check_index(model, index)
        for check in model.checks:
            self.check_check(model, check)
        for foreign_key in model.foreign_keys:
            self.check_foreign_key(model, foreign_key)
        relations: dict[str, RawEntry] = {}
        for relation in model.relations:
            first = relations.setdefault(relation.name, relation)
            if first is not relation:
                where = _first(relation.location, first.location)
                self.problem(
                    f"duplicate relation '{relation.name}' in model {name} {where}", relation
                )
                continue
            self.check_name(relation, "relation", name)
            if relation.name in fields:
                message = f"relation {name}.{relation.name} has the same name as a field of {name}"
                self.problem(f"{message}; rename one of them", relation)
            self.check_relation(model, relation)

    def check_key(self, model: RawModel, fields: dict[str, RawEntry]) -> None:
        """One primary key per model: ``primary_key: true`` on one or more fields (a
        composite key in field order), or the model's ``primary_key: [a, b]`` (key order)."""
        name = model.name
        flagged = [f for f in fields.values() if f.options.get("primary_key") is True]
        listed = model.options.get("primary_key")
        if "primary_key" in model.options and not _names(listed):
            return  # its shape is reported by options()
        keys = flagged
        if isinstance(listed, list):
            if flagged:
                marked = ", ".join(f.name for f in flagged)
                message = f"model {name} lists primary_key: [{', '.join(listed)}] and marks {marked} with primary_key: true"
                self.problem(f"{message}; use one of the two forms", model, "primary_key")
            keys = []
            for column in dict.fromkeys(listed):
                if listed.count(column) > 1:
                    message = f"the primary_key of model {name} names field '{column}' twice"
                    self.problem(message, model, "primary_key")
                if column in fields:
                    keys.append(fields[column])
                elif column in managed_fields(model):
                    message = f"the primary_key of model {name} names '{column}', a column the runtime fills"
                    self.problem(message, model, "primary_key")
                else:
                    message = f"the primary_key of model {name} names unknown field '{column}'; its fields are: {', '.join(fields)}"
                    self.problem(message, model, "primary_key")
            for field in keys:
                if field.options.get("nullable") is True:
                    message = f"primary key field {name}.{field.name} cannot be nullable"
                    self.problem(message, field, "nullable")
        elif not flagged:
            self.problem(
                f"model {name} has no primary key; mark one field with primary_key: true", model
            )
            return
        if len(keys) < 2:
            return
        listing = ", ".join(f.name for f in keys)
        composite = f"model {name} has a composite primary key ({listing})"
        if model.options.get("engine") == "mongodb":
            at = "primary_key" if isinstance(listed, list) else None
            self.problem(f"{composite}: MongoDB models take a one-field key", model, at)
        for field in fields.values():
            if field.options.get("auto_increment") is True:
                message = f"{composite}, so field {name}.{field.name} cannot be auto_increment"
                self.problem(
                    f"{message} (no engine here numbers one column of a composite key)",
                    field,
                    "auto_increment",
                )
            if field.options.get("encrypted") is True:
                message = f"{composite}: encrypted field {name}.{field.name} is not supported"
                self.problem(
                    f"{message} (a ciphertext is bound to a one-field key)", field, "encrypted"
                )

    def check_columns(self, model: RawModel, fields: dict[str, RawEntry]) -> None:
        """``db_name`` and ``server_default`` where the model allows them, and no two fields
        on one column (names compared case-insensitively, as MySQL and SQLite do)."""
        name = model.name
        mongodb = model.options.get("engine") == "mongodb"
        columns: dict[str, str] = {}
        for managed in managed_fields(model):
            columns.setdefault(managed.lower(), managed)
        for field in fields.values():
            for option in ("db_name", "server_default"):
                if mongodb and option in field.options:
                    message = f"option '{option}' of field {name}.{field.name} works on SQL models only (not engine: mongodb)"
                    self.problem(message, field, option)
            db_name = field.options.get("db_name")
            column = db_name if _column_name(db_name) else field.name
            assert isinstance(column, str)
            for own in (
                column,
                *([index_column(field.name)] if field.options.get("searchable") else []),
            ):
                other = columns.setdefault(own.lower(), field.name)
                if other == field.name:
                    continue
                said = f"db_name '{db_name}'" if db_name is not None else "its name"
                message = f"field {name}.{field.name} ({said}) and field {name}.{other} both map to column '{own}'"
                self.problem(
                    f"{message} (column names are compared case-insensitively); give each its own db_name",
                    field,
                    "db_name" if db_name is not None else None,
                )
            server_default = field.options.get("server_default")
            if server_default is not None and _server_default(server_default):
                what = f"field {name}.{field.name}"
                if "default" in field.options:
                    message = f"{what} has both default and server_default; keep one (default: the model fills it, server_default: the database does)"
                    self.problem(message, field, "server_default")
                if field.options.get("auto_increment") is True:
                    message = f"{what} is auto_increment and cannot also have a server_default"
                    self.problem(message, field, "server_default")
                if field.name in key_names(model):
                    message = f"primary key {what} cannot have a server_default (the model could not find the row again after the insert); set the key in the application, or use auto_increment"
                    self.problem(message, field, "server_default")
        if any(f.options.get("encrypted") is True for f in fields.values()):
            renamed = [
                f
                for f in fields.values()
                if "db_name" in f.options and f.options.get("encrypted") is not True
            ]
            for field in renamed:
                message = f"field {name}.{field.name}: db_name is not supported in a model with encrypted fields yet"
                self.problem(message, field, "db_name")

    def check_check(self, model: RawModel, check: RawEntry) -> None:
        what = f"a check of model {model.name}"
        options = self.options(check, check.options, CHECK_KEYS, what)
        if "name" not in check.options:
            self.problem(
                f"{what} has no name; add name: (checks are added and dropped by name)", check
            )
        if "expression" not in check.options:
            self.problem(
                f'{what} has no expression; add expression: "<SQL>", such as "price >= 0"', check
            )
        if model.options.get("engine") == "mongodb":
            self.problem(f"{what}: checks work on SQL models only (not engine: mongodb)", check)
        self.check_constraint_name(model, check, options.get("name"), "check")

    def check_constraint_name(
        self, model: RawModel, entry: RawEntry, name: object, kind: str, option: str = "name"
    ) -> None:
        """Check and foreign key names are unique in the whole schema (MySQL wants that)."""
        if not isinstance(name, str):
            return
        if len(name.encode()) > NAME_BYTES:
            message = (
                f"{kind} name '{name}' of model {model.name} is longer than {NAME_BYTES} bytes"
            )
            self.problem(f"{message} (PostgreSQL would cut it); shorten it", entry, option)
        first = self.constraints.setdefault(name.lower(), (model.name, entry))
        if first[1] is not entry:
            where = _first(entry.location, first[1].location)
            message = f"{kind} name '{name}' of model {model.name} is already the name of a constraint of model {first[0]} {where}"
            self.problem(f"{message}; constraint names are unique in a database", entry, option)

    def check_foreign_key(self, model: RawModel, entry: RawEntry) -> None:
        what = f"a foreign key of model {model.name}"
        options = self.options(entry, entry.options, FOREIGN_KEY_KEYS, what)
        if model.options.get("engine") == "mongodb":
            self.problem(
                f"{what}: foreign keys work on SQL models only (not engine: mongodb)", entry
            )
        if "columns" not in entry.options:
            self.problem(
                f"{what} has no columns; add columns: the fields of {model.name} that point", entry
            )
        reference = entry.options.get("references")
        if not isinstance(reference, dict) or "model" not in reference:
            self.problem(
                f"{what} needs references: {{model: ..., fields: [...]}}", entry, "references"
            )
        self.check_constraint_name(model, entry, options.get("name"), "foreign key")
        columns = options.get("columns")
        known = self.columns(model.name)
        mine: list[RawEntry | None] = []
        for column in columns if isinstance(columns, list) else ():
            if column not in known:
                message = (
                    f"{what} names unknown column '{column}'; its columns are: {', '.join(known)}"
                )
                self.problem(message, entry, "columns")
            mine.append(next((f for f in model.fields if f.name == column), None))
        if not isinstance(reference, dict):
            return
        ref = self.options(
            entry, reference, FOREIGN_KEY_REFERENCE_KEYS, f"the references of {what}", "references",
            shapes=FOREIGN_KEY_REFERENCE_SHAPES,
        )  # fmt: skip
        target = ref.get("model")
        if not isinstance(target, str):
            return
        if target not in self.models:
            message = f"{what} references unknown model '{target}'; known models: {', '.join(sorted(self.models))}"
            self.problem(message, entry, "references")
            return
        other = self.models[target]
        if other.options.get("engine") == "mongodb":
            message = f"{what} references {target}, a MongoDB model: foreign keys join SQL tables"
            self.problem(message, entry, "references")
            return
        fields = ref.get("fields", list(key_names(other)))
        if not isinstance(fields, list) or not isinstance(columns, list):
            return
        theirs = self.columns(target)
        for field in fields:
            if field not in theirs:
                message = f"{what} references {target}.{field}, but {target} has no field '{field}'"
                self.problem(message, entry, "references")
                return
        if len(fields) != len(columns):
            message = f"{what} has {len(columns)} column(s) ({', '.join(columns)}) but references {len(fields)} field(s) of {target} ({', '.join(fields)})"
            self.problem(f"{message}; give as many of each", entry, "references")
            return
        for column, field, found in zip(columns, fields, mine, strict=True):
            wanted = next((f for f in other.fields if f.name == field), None)
            kind = found.options.get("type") if found else None
            other_kind = wanted.options.get("type") if wanted else None
            if isinstance(kind, str) and isinstance(other_kind, str) and kind != other_kind:
                message = f"{what}: {model.name}.{column} is {kind} but references {target}.{field}, which is {other_kind}"
                self.problem(f"{message}; give both the same type", entry, "references")

    def check_encryption(self, model: RawModel, fields: dict[str, RawEntry]) -> None:
        """``encrypted`` and ``searchable``: what a ciphertext column can and cannot be."""
        sealed = [f for f in fields.values() if f.options.get("encrypted") is True]
        for field in fields.values():
            what = f"field {model.name}.{field.name}"
            if field.options.get("searchable") is True and field not in sealed:
                self.problem(
                    f"option 'searchable' of {what} needs encrypted: true", field, "searchable"
                )
        for field in sealed:
            what = f"encrypted field {model.name}.{field.name}"
            options = field.options
            for option, (role, why) in ENCRYPTED_CONFLICTS.items():
                if options.get(option, False) not in (False, None):
                    self.problem(f"{what} cannot be {role}: {why}", field, option)
            if options.get("unique") is True and options.get("searchable") is not True:
                message = f"{what} can be unique only with searchable: true"
                self.problem(
                    f"{message} (uniqueness is checked on its blind index)", field, "unique"
                )
            if model.options.get("engine") == "mongodb":
                message = f"{what}: encrypted fields work on SQL models only (not engine: mongodb)"
                self.problem(message, field, "encrypted")
            if options.get("searchable") is True and index_column(field.name) in fields:
                message = f"searchable {what} needs the column {index_column(field.name)} for its blind index"
                self.problem(
                    f"{message}, but a field has that name; rename it", field, "searchable"
                )
        for index in model.indexes:
            columns = index.options.get("columns")
            for column in columns if isinstance(columns, list) else ():
                if column in {f.name for f in sealed}:
                    message = f"an index of model {model.name} names encrypted field '{column}'"
                    self.problem(
                        f"{message}: ciphertexts are never equal; use searchable: true on the field",
                        index,
                        "columns",
                    )

    def check_field(self, model: str, field: RawEntry) -> None:
        what = f"field {model}.{field.name}"
        options = self.options(field, field.options, FIELD_KEYS, what)
        self.check_has_type(what, field)
        kind = options.get("type")
        if not isinstance(kind, str):
            return
        self.check_type_options(what, field, kind, options)
        precision, scale = options.get("precision", DEFAULT_PRECISION), options.get("scale")
        if (
            kind == "decimal"
            and isinstance(precision, int)
            and isinstance(scale, int)
            and scale > precision
        ):
            self.problem(
                f"scale {scale} of {what} is larger than its precision {precision}", field, "scale"
            )
        if options.get("primary_key") is True and options.get("nullable") is True:
            self.problem(f"primary key {what} cannot be nullable", field, "nullable")
        self.check_default(what, field, kind, options)
        server_default = options.get("server_default")
        if isinstance(server_default, str) and kind not in SERVER_DEFAULT_TYPES[server_default]:
            types = _either(SERVER_DEFAULT_TYPES[server_default])
            message = f"server_default {server_default} of {what} needs type {types}, not {kind}"
            self.problem(message, field, "server_default")
        if "references" in options:
            self.check_reference(model, field, kind, options["references"])
        if kind in MONGODB_TYPES:
            self.check_mongodb_type(model, field, kind, options)

    def check_mongodb_type(
        self, model: str, field: RawEntry, kind: str, options: dict[str, object], path: str = ""
    ) -> None:
        """objectid and embedded exist on MongoDB only; an embedded document's fields."""
        what = f"field {model}.{path or field.name}"
        engine = self.models[model].options.get("engine", "sql")
        if engine != "mongodb" and not path:
            message = (
                f"{what} is {kind}, which only MongoDB has; add engine: mongodb to model {model}"
            )
            self.problem(f"{message}, or use another type", field, "type")
        if kind == "objectid" or not isinstance(options.get("fields"), list):
            if kind == "embedded" and "fields" not in field.options:
                self.problem(f"embedded {what} needs fields: its document's fields", field)
            return
        if options.get("primary_key") is True:
            self.problem(f"{what} is embedded and cannot be the primary key", field, "primary_key")
        names: dict[str, RawEntry] = {}
        for inner in options["fields"]:  # type: ignore[attr-defined]
            assert isinstance(inner, RawEntry)
            inner_path = f"{path or field.name}.{inner.name}"
            first = names.setdefault(inner.name, inner)
            if first is not inner:
                where = _first(inner.location, first.location)
                self.problem(f"duplicate field '{inner_path}' in model {model} {where}", inner)
                continue
            if not is_field_name(inner.name):
                message = f"field name '{inner_path}' of model {model} must be a lower snake_case identifier"
                self.problem(message, inner)
            for option in NOT_EMBEDDABLE:
                if option in inner.options:
                    message = f"option '{option}' does not apply to {model}.{inner_path}, a field of an embedded document"
                    self.problem(message, inner, option)
            inner_what = f"field {model}.{inner_path}"
            inner_options = self.options(inner, inner.options, FIELD_KEYS, inner_what)
            inner_kind = inner_options.get("type")
            self.check_has_type(inner_what, inner)
            if inner_kind == "embedded":
                self.check_mongodb_type(model, inner, "embedded", inner_options, inner_path)
            elif isinstance(inner_kind, str):
                self.check_type_options(inner_what, inner, inner_kind, inner_options)
                self.check_default(inner_what, inner, inner_kind, inner_options)

    def check_has_type(self, what: str, field: RawEntry) -> None:
        if "type" not in field.options:
            self.problem(f"{what} has no type; add type: one of {', '.join(FIELD_TYPES)}", field)

    def check_type_options(
        self, what: str, field: RawEntry, kind: str, options: dict[str, object]
    ) -> None:
        """The options that only some types take, and the values an enum needs."""
        for option, types in TYPE_OPTIONS.items():
            if options.get(option, False) is not False and kind not in types:
                message = f"option '{option}' of {what} needs type {_either(types)}, not {kind}"
                self.problem(message, field, option)
        if kind == "enum" and "values" not in field.options:
            self.problem(f"enum {what} needs values: a non-empty list of strings", field)

    def check_default(
        self, what: str, field: RawEntry, kind: str, options: dict[str, object]
    ) -> None:
        if "default" in options:
            wrong = _default_problem(what, kind, options["default"], options)
            if wrong:
                self.problem(wrong, field, "default")

    def check_reference(self, model: str, field: RawEntry, kind: str, reference: object) -> None:
        what = f"field {model}.{field.name}"
        options = self.options(
            field, reference, REFERENCE_KEYS, f"the references of {what}", "references"
        )
        target = options.get("model")
        if not isinstance(reference, dict) or "model" not in reference:
            self.problem(
                f"the references of {what} need model: the model it points at", field, "references"
            )
        if not isinstance(target, str):
            return
        if target not in self.models:
            message = f"{what} references unknown model '{target}'; known models: {', '.join(sorted(self.models))}"
            self.problem(message, field, "references")
            return
        keys = key_names(self.models[target])
        if "field" not in options and len(keys) > 1:
            message = (
                f"{what} references {target}, whose primary key is composite ({', '.join(keys)})"
            )
            self.problem(
                f"{message}; set field:, or list the columns in the model's foreign_keys:",
                field,
                "references",
            )
            return
        self.check_constraint_name(
            self.models[model], field, options.get("name"), "foreign key", "references"
        )
        column = options.get("field", keys[0] if keys else None)
        if isinstance(column, str) and column not in self.columns(target):
            self.problem(
                f"{what} references {target}.{column}, but {target} has no field '{column}'",
                field,
                "references",
            )
            return
        found = next((f for f in self.models[target].fields if f.name == column), None)
        other = found.options.get("type") if found else None
        if isinstance(other, str) and other in FIELD_TYPES and other != kind:
            message = f"{what} is {kind} but references {target}.{column}, which is {other}"
            self.problem(f"{message}; give both the same type", field, "references")

    def check_index(self, model: RawModel, index: RawEntry) -> None:
        what = f"an index of model {model.name}"
        options = self.options(index, index.options, INDEX_KEYS, what)
        if "columns" not in index.options:
            self.problem(f"{what} has no columns; add columns: a list of field names", index)
        columns = options.get("columns")
        known = self.columns(model.name)
        for column in columns if isinstance(columns, list) else ():
            if column not in known:
                message = (
                    f"{what} names unknown column '{column}'; its columns are: {', '.join(known)}"
                )
                self.problem(message, index, "columns")
        if "expire_after_seconds" in options:
            self.check_ttl(model, index, columns)

    def check_ttl(self, model: RawModel, index: RawEntry, columns: object) -> None:
        """A TTL index (MongoDB) expires documents by one datetime field."""
        what = f"the TTL index (expire_after_seconds) of model {model.name}"
        if not isinstance(columns, list) or len(columns) != 1:
            self.problem(f"{what} must have exactly one column", index, "columns")
            return
        found = next((f for f in model.fields if f.name == columns[0]), None)
        kind = found.options.get("type") if found else None
        if found is not None and kind != "datetime":  # managed timestamps are datetimes
            message = f"{what} is on '{columns[0]}'; it must be a datetime field"
            self.problem(message, index, "columns")

    def check_relation(self, model: RawModel, relation: RawEntry) -> None:
        this = model.name
        what = f"relation {this}.{relation.name}"
        options = self.options(relation, relation.options, RELATION_KEYS, what)
        for required in ("kind", "model"):
            if required not in relation.options:
                self.problem(f"{what} has no {required}; add {required}: ...", relation)
        kind, other = options.get("kind"), options.get("model")
        if not isinstance(kind, str) or not isinstance(other, str):
            return
        for key in ("other_key", "local_key", "through"):
            if key in options and key not in KIND_KEYS[kind]:
                allowed = ", ".join((*KIND_KEYS[kind], "on_delete", "on_update"))
                message = (
                    f"option '{key}' does not apply to {kind} ({what}); {kind} takes: {allowed}"
                )
                self.problem(message, relation, key)
        if other not in self.models:
            message = f"{what} points to unknown model '{other}'; known models: {', '.join(sorted(self.models))}"
            self.problem(message, relation, "model")
            return
        keys = relation_keys(kind, this, other, key_of(model), key_of(self.models[other]))
        keys.update((k, as_keys(v)) for k, v in options.items() if k in keys)
        head = f"{what} ({kind} {other})"
        for key, owner in KIND_KEYS[kind].items():
            names, target = keys[key], {"this": this, "other": other}.get(owner)
            if names is None or target is None:
                continue
            for name in (names,) if isinstance(names, str) else names:
                if name not in self.columns(target):
                    message = f"{head} needs field {target}.{name}, which does not exist"
                    self.problem(f"{message}; add the field or set {key}", relation, key)
        if kind == "belongs_to_many":
            for key in ("foreign_key", "other_key"):
                if isinstance(keys[key], tuple):
                    message = f"{head}: {key} of a belongs_to_many is one column of the pivot"
                    self.problem(message, relation, key)
            for side in (model, self.models[other]):
                if len(key_names(side)) > 1:
                    message = f"{head}: {side.name} has a composite primary key; belongs_to_many needs a one-field key on both sides"
                    self.problem(
                        f"{message} (declare the pivot as a model and use has_many)", relation
                    )
                    return
            self.check_pivot(relation, head, keys)
            return
        ours = "other_key" if kind == "belongs_to" else "local_key"
        near, far = keys["foreign_key"], keys[ours]
        if near is None or far is None:
            return
        count = 1 if isinstance(near, str) else len(near)
        wanted = 1 if isinstance(far, str) else len(far)
        if count != wanted:
            keyed = other if kind == "belongs_to" else this
            listing = far if isinstance(far, str) else ", ".join(far)
            owner = this if kind == "belongs_to" else other
            message = f"{head} joins on {wanted} field(s) of {keyed} ({listing}) but foreign_key names {count}"
            self.problem(
                f"{message}; set foreign_key: a list of {wanted} fields of {owner}"
                + (f" (or {ours})" if ours in options else ""),
                relation,
                "foreign_key",
            )

    def check_pivot(
        self, relation: RawEntry, head: str, keys: dict[str, str | tuple[str, ...] | None]
    ) -> None:
        if keys["foreign_key"] == keys["other_key"]:
            message = f"{head} uses '{keys['foreign_key']}' as both foreign_key and other_key"
            self.problem(f"{message}; set them apart", relation)
        pivot = next((m for m in self.models.values() if _table(m) == keys["through"]), None)
        if pivot is None:
            return
        for key in ("foreign_key", "other_key"):
            name = keys[key]
            if isinstance(name, str) and name not in self.columns(pivot.name):
                message = f"{head} goes through table '{keys['through']}', whose model {pivot.name} has no field '{name}'"
                self.problem(f"{message}; add the field or set {key}", relation, key)


def _option_problem(
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
    accepts, wanted = (shapes or {}).get(key) or _SHAPES[key]
    return (
        None if accepts(value) else f"option '{key}' of {what} must be {wanted}, not {show(value)}"
    )


def _table(model: RawModel) -> str:
    table = model.options.get("table")
    return table if isinstance(table, str) else table_name(model.name)


def _default_problem(what: str, kind: str, value: object, options: dict[str, object]) -> str | None:
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
