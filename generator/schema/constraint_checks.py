"""Checks of what a model declares about its table as a whole: the primary key, the
columns (``db_name``, ``server_default``), checks, foreign keys and encrypted fields."""

from __future__ import annotations

from .checker_base import CheckerBase
from .model import RawEntry, RawModel
from .normalize import index_column, key_names, managed_fields
from .option_shapes import (
    CHECK_KEYS,
    ENCRYPTED_CONFLICTS,
    FOREIGN_KEY_KEYS,
    FOREIGN_KEY_REFERENCE_KEYS,
    FOREIGN_KEY_REFERENCE_SHAPES,
    is_column_name,
    is_names,
    is_server_default,
)


class ConstraintChecks(CheckerBase):
    def check_key(self, model: RawModel, fields: dict[str, RawEntry]) -> None:
        """One primary key per model: ``primary_key: true`` on one or more fields (a
        composite key in field order), or the model's ``primary_key: [a, b]`` (key order)."""
        name = model.name
        flagged = [f for f in fields.values() if f.options.get("primary_key") is True]
        listed = model.options.get("primary_key")
        if "primary_key" in model.options and not is_names(listed):
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
            column = db_name if is_column_name(db_name) else field.name
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
            if server_default is not None and is_server_default(server_default):
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
