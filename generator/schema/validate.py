"""Checks of raw definitions: every problem, each a plain sentence with its file and line.

Nothing stops at the first problem: ``validate`` returns them all, and the loader raises
one ``SchemaError`` listing them.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence

from jadugar.errors import SchemaError

from .checker_base import either, first_defined, table_of
from .constraint_checks import ConstraintChecks
from .model import FIELD_TYPES, RawEntry, RawModel
from .names import (
    RESERVED_PREFIXES,
    is_field_name,
    is_model_name,
    is_reserved,
)
from .normalize import (
    DEFAULT_PRECISION,
    as_keys,
    key_names,
    key_of,
    managed_fields,
    relation_keys,
)
from .option_shapes import (
    FIELD_KEYS,
    INDEX_KEYS,
    KIND_KEYS,
    MODEL_KEYS,
    MODEL_SHAPES,
    MONGODB_TYPES,
    NOT_EMBEDDABLE,
    REFERENCE_KEYS,
    RELATION_KEYS,
    SERVER_DEFAULT_TYPES,
    TYPE_OPTIONS,
    default_problem,
)


def validate(models: Sequence[RawModel]) -> list[SchemaError]:
    """Every problem of ``models`` (all files together); empty when they are valid."""
    checker = _Checker(models)
    checker.run()
    return checker.problems


def _reserved(name: str) -> str:
    if keyword.iskeyword(name):
        return "a Python keyword"
    if name.startswith(RESERVED_PREFIXES):
        return f"names starting with {' or '.join(RESERVED_PREFIXES)} belong to pydantic"
    return "the generated model class has an attribute of that name"


class _Checker(ConstraintChecks):
    def run(self) -> None:
        tables: dict[str, RawModel] = {}
        for model in self.all:
            first = self.models.setdefault(model.name, model)
            if first is not model:
                where = first_defined(model.location, first.location)
                self.problem(f"duplicate model '{model.name}' {where}", model)
                continue
            table = table_of(model)
            other = tables.setdefault(table, model)
            if other is not model:
                message = f"models {other.name} and {model.name} both use table '{table}'"
                self.problem(f"{message}; give one of them another table", model, "table")
        for model in self.models.values():
            self.check_model(model)

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
                where = first_defined(field.location, first.location)
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
                where = first_defined(relation.location, first.location)
                self.problem(
                    f"duplicate relation '{relation.name}' in model {name} {where}", relation
                )
                continue
            self.check_name(relation, "relation", name)
            if relation.name in fields:
                message = f"relation {name}.{relation.name} has the same name as a field of {name}"
                self.problem(f"{message}; rename one of them", relation)
            self.check_relation(model, relation)

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
            types = either(SERVER_DEFAULT_TYPES[server_default])
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
                where = first_defined(inner.location, first.location)
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
                message = f"option '{option}' of {what} needs type {either(types)}, not {kind}"
                self.problem(message, field, option)
        if kind == "enum" and "values" not in field.options:
            self.problem(f"enum {what} needs values: a non-empty list of strings", field)

    def check_default(
        self, what: str, field: RawEntry, kind: str, options: dict[str, object]
    ) -> None:
        if "default" in options:
            wrong = default_problem(what, kind, options["default"], options)
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
        pivot = next((m for m in self.models.values() if table_of(m) == keys["through"]), None)
        if pivot is None:
            return
        for key in ("foreign_key", "other_key"):
            name = keys[key]
            if isinstance(name, str) and name not in self.columns(pivot.name):
                message = f"{head} goes through table '{keys['through']}', whose model {pivot.name} has no field '{name}'"
                self.problem(f"{message}; add the field or set {key}", relation, key)
