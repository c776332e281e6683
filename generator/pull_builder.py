"""``jadugar pull``'s mapping: a live schema (``jadugar.introspection``) -> the schema IR.

Mapping rules (the README repeats them):

- one model per table: PascalCase singular of the table (``blog_posts`` -> ``BlogPost``,
  ``OrderLines`` -> ``OrderLine``), ``table:`` kept as it is; tables Jadugar keeps for
  itself (``jadugar_*``, the migrations history), tables without a primary key and tables
  whose name a schema file cannot hold are left out, and so is everything that points at
  them;
- one field per column: snake_case, Python-safe (``class`` -> ``class_``), with
  ``db_name:`` when the column is named otherwise; the column's type, length, precision,
  scale, values and nullability; literal defaults as ``default:``, ``now``/``uuid``
  expressions as ``server_default: now|uuid``, any other expression as
  ``server_default: {sql: ...}`` as the database reports it. ``timestamps`` and
  ``soft_deletes`` are never inferred: such columns stay plain fields;
- the primary key (``primary_key: true``, or the model's ``primary_key: [a, b]``),
  ``auto_increment`` for a serial/identity/AUTO_INCREMENT/rowid key; unique constraints
  and indexes (``unique: true`` / ``index: true`` on a field when Jadugar's own name fits,
  else ``indexes:`` with their names); foreign keys (``references:`` on the field, or the
  model's ``foreign_keys:`` when composite) with their names and actions; named checks;
- relations from the foreign keys, both sides: ``belongs_to`` on the referencing model
  (named after the column without ``_id``, else after the model referenced), ``has_many``
  (``has_one`` when the key is unique) on the other, named after the referencing table
  in snake_case, made plural when it is not (``<column>_<plural>`` when one model
  references the other twice;
  ``children`` for a ``parent_id`` self-reference); a join table whose primary key is two
  foreign keys gives ``belongs_to_many`` on both sides. Clashes get ``_2``, ``_3``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from jadugar.introspection import (
    LiveColumn,
    LiveForeignKey,
    LiveIndex,
    LiveSchema,
    LiveTable,
)
from jadugar.introspection.parsing import to_kind
from jadugar.schema_compiler import shorten

from .pull_names import (
    NAME_LIMIT,
    _base,
    _nameable,
    _plural_noun,
    _relation_name,
    _unique,
    _unique_model,
    field_name,
    model_name,
)
from .schema.model import (
    CheckSpec,
    FieldSpec,
    ForeignKeySpec,
    IndexSpec,
    ModelSpec,
    Reference,
    RelationSpec,
    Schema,
    ServerDefault,
)
from .schema.names import is_identifier, plural, snake_case

BOOKKEEPING_PREFIX = "jadugar_"
# schema types without a literal default in a schema file (generator/schema/validate.py)
_NO_LITERAL = frozenset({"date", "time", "datetime", "uuid", "json", "bytes"})
_INTEGERS = frozenset({"int", "bigint", "smallint"})


@dataclass
class _Model:
    table: LiveTable
    name: str
    fields: dict[str, str] = field(default_factory=dict)  # column -> field name
    specs: dict[str, dict[str, object]] = field(default_factory=dict)  # field -> options
    key: tuple[str, ...] = ()  # field names
    indexes: list[IndexSpec] = field(default_factory=list)
    checks: list[CheckSpec] = field(default_factory=list)
    foreign_keys: list[ForeignKeySpec] = field(default_factory=list)
    relations: list[RelationSpec] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # field and relation names
    # (columns as field names, target model, target fields) of each foreign key kept
    links: list[tuple[tuple[str, ...], str, tuple[str, ...], LiveForeignKey]] = field(
        default_factory=list
    )

    def field_of(self, column: str) -> str | None:
        found = self.fields.get(column)
        if found is not None:
            return found
        folded = [f for c, f in self.fields.items() if c.lower() == column.lower()]
        return folded[0] if len(folded) == 1 else None


class _Builder:
    def __init__(self, live: LiveSchema, history: set[str]) -> None:
        self.live = live
        self.history = {h.lower() for h in history}
        self.skipped: list[str] = [str(s) for s in live.skipped]
        self.notes: list[str] = []
        self.models: dict[str, _Model] = {}  # by table name
        self.constraint_names: set[str] = set()  # check and foreign key names (lower case)

    def skip(self, kind: str, name: str, reason: str) -> None:
        self.skipped.append(f"{kind} {name}: {reason}")

    def build(self) -> Schema:
        names: set[str] = set()
        for table in self.live.tables:
            reason = self.table_problem(table)
            if reason is not None:
                self.skip("table", table.name, reason)
                continue
            self.models[table.name] = _Model(table, _unique_model(model_name(table.name), names))
        for model in self.models.values():
            self.fields(model)
        for model in self.models.values():
            self.keys_and_indexes(model)
        for model in self.models.values():
            self.references(model)
        for model in self.models.values():
            self.checks(model)
        self.relations()
        specs = [self.spec(m) for m in self.models.values()]
        return Schema(models=tuple(sorted(specs, key=lambda m: m.name)))

    def table_problem(self, table: LiveTable) -> str | None:
        lowered = table.name.lower()
        if lowered in self.history or lowered.startswith(BOOKKEEPING_PREFIX):
            return "Jadugar's own bookkeeping table"
        if not is_identifier(table.name) or len(table.name.encode()) > NAME_LIMIT:
            return "its name is not a table name a schema file can hold (letters, digits and _)"
        if not table.primary_key:
            return "it has no primary key (a model needs one)"
        for column in table.primary_key:
            found = table.column(column)
            if found is None or found.kind is None:
                return f"its primary key column {column} has an unsupported type"
        if not any(c.kind is not None for c in table.columns):
            return "none of its columns has a supported type"
        return None

    # ---- fields ---------------------------------------------------------------------------
    def fields(self, model: _Model) -> None:
        table = model.table
        single_key = len(table.primary_key) == 1
        for column in table.columns:
            if column.kind is None:
                continue  # listed by the reader
            name = _unique(field_name(column.name), model.taken)
            model.fields[column.name] = name
            options: dict[str, object] = {"name": name, "type": column.kind}
            if name != column.name:
                options["db_name"] = column.name
            in_key = any(column.name == k for k in table.primary_key)
            if in_key:
                options["primary_key"] = True
                if single_key and column.auto_increment and column.kind in _INTEGERS:
                    options["auto_increment"] = True
            elif column.auto_increment:
                self.notes.append(
                    f"{table.name}.{column.name}: AUTO_INCREMENT on a column outside the "
                    "primary key is not expressible; the field is a plain integer"
                )
            if column.kind == "str":
                options["max_length"] = column.length
            if column.kind == "decimal":
                options["precision"], options["scale"] = column.precision, column.scale
            if column.kind == "enum":
                options["values"] = column.values
            if column.nullable and not in_key:
                options["nullable"] = True
            self.default(table, column, options, in_key)
            for note in column.notes:
                self.notes.append(f"{table.name}.{column.name}: {note}")
            model.specs[name] = options
        model.key = tuple(model.fields[c] for c in table.primary_key)

    def default(
        self, table: LiveTable, column: LiveColumn, options: dict[str, object], in_key: bool
    ) -> None:
        value = column.default
        if value is None or options.get("auto_increment"):
            return
        kind = str(column.kind)
        server: ServerDefault | None = None
        if value.kind == "literal" and value.value is not None and kind not in _NO_LITERAL:
            literal = to_kind(value.value, kind)
            fits = literal is not None and not (
                (kind == "enum" and literal not in column.values)
                or (kind == "str" and len(str(literal)) > (column.length or 0))
            )
            if fits:
                options["default"] = float(Decimal(str(literal))) if kind == "float" else literal
                options["has_default"] = True
                return
        if value.kind == "now" and kind == "datetime":
            server = ServerDefault(kind="now")
        elif value.kind == "uuid" and kind == "uuid":
            server = ServerDefault(kind="uuid")
        else:
            server = ServerDefault(kind="sql", sql=value.sql)
        if in_key:
            self.skip(
                "default",
                f"{table.name}.{column.name} ({value.sql})",
                "a primary key field cannot have a server_default in a schema file",
            )
            return
        options["server_default"] = server

    # ---- keys, indexes ---------------------------------------------------------------------
    def keys_and_indexes(self, model: _Model) -> None:
        table = model.table
        for index in table.indexes:
            fields = self.index_fields(model, index)
            if fields is None:
                continue
            suffix = "unique" if index.unique else "index"
            default = shorten("_".join((table.name, *index.columns, suffix)), NAME_LIMIT)
            nameable = index.name is not None and _nameable(index.name)
            if index.name is not None and not nameable:
                self.notes.append(
                    f"index {index.name} on {table.name}: its name is not one a schema file "
                    f"can hold; the schema names it {default}"
                )
            if index.unique and fields == model.key:
                continue  # the primary key is unique already
            if len(fields) == 1 and (index.name is None or index.name == default or not nameable):
                spec = model.specs[fields[0]]
                if spec.get("unique" if index.unique else "index"):
                    continue
                spec["unique" if index.unique else "index"] = True
                continue
            name = index.name if nameable and index.name != default else None
            model.indexes.append(IndexSpec(columns=fields, unique=index.unique, name=name))

    def index_fields(self, model: _Model, index: LiveIndex) -> tuple[str, ...] | None:
        fields = [model.field_of(c) for c in index.columns]
        if any(f is None for f in fields):
            shown = index.name or f"({', '.join(index.columns)})"
            self.skip("index", f"{shown} on {model.table.name}", "it covers a column left out")
            return None
        return tuple(f for f in fields if f is not None)

    # ---- foreign keys --------------------------------------------------------------------
    def references(self, model: _Model) -> None:
        table = model.table
        referenced: set[str] = set()
        for fk in table.foreign_keys:
            shown = f"{fk.name or '(' + ', '.join(fk.columns) + ')'} on {table.name}"
            target = self.models.get(fk.table) or next(
                (m for t, m in self.models.items() if t.lower() == fk.table.lower()), None
            )
            if target is None:
                self.skip("foreign key", shown, f"it points at table {fk.table}, left out")
                continue
            own = [model.field_of(c) for c in fk.columns]
            theirs = [target.field_of(c) for c in fk.references]
            if any(f is None for f in own) or any(f is None for f in theirs):
                self.skip("foreign key", shown, "it covers a column left out")
                continue
            own_fields = tuple(f for f in own if f is not None)
            their_fields = tuple(f for f in theirs if f is not None)
            name = self.constraint_name(fk.name, table.name, fk.columns, "fkey", shown)
            if len(own_fields) == 1 and own_fields[0] not in referenced:
                referenced.add(own_fields[0])
                spec = model.specs[own_fields[0]]
                reference: dict[str, object] = {"model": target.name, "field": their_fields[0]}
                if fk.on_delete != "no_action":
                    reference["on_delete"] = fk.on_delete
                if fk.on_update != "no_action":
                    reference["on_update"] = fk.on_update
                if name is not None:
                    reference["name"] = name
                spec["references"] = reference
            else:
                model.foreign_keys.append(
                    ForeignKeySpec(
                        columns=own_fields,
                        model=target.name,
                        fields=their_fields,
                        on_delete=fk.on_delete,
                        on_update=fk.on_update,
                        name=name,
                    )
                )
            model.links.append((own_fields, target.table.name, their_fields, fk))

    def constraint_name(
        self, name: str | None, table: str, columns: tuple[str, ...], suffix: str, shown: str
    ) -> str | None:
        """The name to write for a constraint: None when it is Jadugar's default for it
        (or cannot be written: then the schema's default name is used, and said)."""
        if name is None:
            return None
        if name == shorten("_".join((table, *columns, suffix)), NAME_LIMIT):
            return None
        if not _nameable(name) or name.lower() in self.constraint_names:
            why = (
                "is used by another constraint"
                if _nameable(name)
                else "is not one a schema file can hold"
            )
            self.notes.append(f"{shown}: its name {why}; the schema uses its default name")
            return None
        self.constraint_names.add(name.lower())
        return name

    # ---- checks --------------------------------------------------------------------------
    def checks(self, model: _Model) -> None:
        for check in model.table.checks:
            shown = f"{check.name} on {model.table.name}"
            if check.name is None or not _nameable(check.name):
                self.skip("check", shown, "its name is not one a schema file can hold")
                continue
            if check.name.lower() in self.constraint_names:
                self.skip(
                    "check",
                    shown,
                    "another constraint has that name; a schema file needs unique names",
                )
                continue
            if not check.expression.strip():
                continue
            self.constraint_names.add(check.name.lower())
            model.checks.append(CheckSpec(name=check.name, expression=check.expression))

    # ---- relations -----------------------------------------------------------------------
    def relations(self) -> None:
        by_table = {m.table.name: m for m in self.models.values()}
        ordered = sorted(self.models.values(), key=lambda m: m.name)
        # belongs_to on the referencing side, first: they are named after the columns
        for model in ordered:
            for own, target_table, theirs, _fk in sorted(model.links, key=lambda link: link[0]):
                target = by_table[target_table]
                base = _base(own[0]) if len(own) == 1 else snake_case(target.name)
                if base in model.specs or base == own[0]:
                    base = snake_case(target.name)
                name = _unique(_relation_name(base), model.taken)
                options: dict[str, object] = {"foreign_key": own[0] if len(own) == 1 else own}
                if theirs != target.key:
                    options["other_key"] = theirs[0] if len(theirs) == 1 else theirs
                model.relations.append(
                    RelationSpec(name=name, kind="belongs_to", model=target.name, **options)  # type: ignore[arg-type]
                )
        # has_one / has_many on the referenced side
        for model in ordered:
            for own, target_table, theirs, _fk in sorted(model.links, key=lambda link: link[0]):
                target = by_table[target_table]
                twice = sum(1 for link in model.links if link[1] == target_table) > 1
                one = (
                    own == model.key
                    or any(
                        i.unique and tuple(model.field_of(c) for c in i.columns) == own
                        for i in model.table.indexes
                    )
                    or (len(own) == 1 and bool(model.specs[own[0]].get("unique")))
                )
                noun = snake_case(model.name) if one else _plural_noun(model.table.name)
                if model is target and len(own) == 1 and _base(own[0]) == "parent" and not one:
                    noun = "children"
                elif twice or model is target:
                    noun = f"{_base(own[0]) if len(own) == 1 else 'by'}_{noun}"
                name = _unique(_relation_name(noun), target.taken)
                options = {"foreign_key": own[0] if len(own) == 1 else own}
                if theirs != target.key:
                    options["local_key"] = theirs[0] if len(theirs) == 1 else theirs
                target.relations.append(
                    RelationSpec(
                        name=name,
                        kind="has_one" if one else "has_many",
                        model=model.name,
                        **options,  # type: ignore[arg-type]
                    )
                )
        # belongs_to_many through join tables
        for pivot in ordered:
            pair = self.join(pivot, by_table)
            if pair is None:
                continue
            (a_field, a), (b_field, b) = pair
            for this, near, other, far in ((a, a_field, b, b_field), (b, b_field, a, a_field)):
                noun = _plural_noun(other.table.name)
                if this is other:
                    noun = plural(_base(far))
                name = _unique(_relation_name(noun), this.taken)
                this.relations.append(
                    RelationSpec(
                        name=name,
                        kind="belongs_to_many",
                        model=other.name,
                        through=pivot.table.name,
                        foreign_key=near,
                        other_key=far,
                    )
                )

    def join(
        self, pivot: _Model, by_table: dict[str, _Model]
    ) -> tuple[tuple[str, _Model], tuple[str, _Model]] | None:
        """The two (pivot field, model) pairs when ``pivot`` is a join table: its primary
        key is two columns, each a one-column foreign key to a one-field primary key."""
        if len(pivot.key) != 2:
            return None
        sides = []
        for key in pivot.key:
            if pivot.specs[key].get("db_name"):
                return None
            link = next((found for found in pivot.links if found[0] == (key,)), None)
            if link is None:
                return None
            target = by_table[link[1]]
            if len(target.key) != 1 or link[2] != target.key:
                return None
            sides.append((key, target))
        return sides[0], sides[1]

    # ---- the IR --------------------------------------------------------------------------
    def spec(self, model: _Model) -> ModelSpec:
        fields = []
        for options in model.specs.values():
            values = dict(options)
            reference = values.pop("references", None)
            if isinstance(reference, dict):
                values["references"] = Reference(**reference)
            fields.append(FieldSpec(**values))  # type: ignore[arg-type]
        return ModelSpec(
            name=model.name,
            table=model.table.name,
            fields=tuple(fields),
            indexes=tuple(model.indexes),
            relations=tuple(model.relations),
            composite_key=model.key if len(model.key) > 1 else (),
            checks=tuple(model.checks),
            foreign_keys=tuple(model.foreign_keys),
        )
