"""Schema IR -> template views: every name, annotation and default precomputed here, so the
templates only print."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .schema.model import FieldSpec, ModelSpec, RelationSpec, Schema
from .schema.names import snake_case
from .typemap import default_literal, python_type
from .where_forms import operator_aliases, where_overloads

RELATION_DEPTH = 3  # with_("posts.comments.author") is the deepest path typed as a Literal


@dataclass(frozen=True)
class FieldView:
    name: str
    annotation: str  # including "| None"
    column_type: str  # the T of Column[T]
    declaration: str  # the right-hand side of the field declaration ("" for none)
    in_create: bool
    create_required: bool
    in_update: bool
    in_where: bool  # find_by/filter_by take it (an encrypted field only when searchable)
    meta: str  # ColumnMeta(...) source
    column: str = ""  # "table.column" as a Python string literal (the Columns class)


@dataclass(frozen=True)
class RelationView:
    name: str
    annotation: str
    target: str
    target_module: str
    countable: bool
    meta: str


@dataclass(frozen=True)
class EnumView:
    alias: str
    values: str  # 'Literal["a", "b"]'


@dataclass(frozen=True)
class EmbeddedView:
    """A generated Pydantic model for an embedded document (``engine: mongodb``)."""

    name: str
    path: str  # Model.field.inner
    fields: tuple[FieldView, ...]


@dataclass(frozen=True)
class ModelView:
    name: str
    module: str
    table: str
    source: str
    description: str
    key_name: str
    key_type: str  # tuple[int, int] for a composite key
    key_literal: str  # ModelMeta's primary_key: "id", or ("order_id", "line_no")
    timestamps: bool
    soft_deletes: bool
    imports: tuple[str, ...]  # module import lines, sorted as ruff's isort wants them
    typing_names: str
    pydantic_names: str
    jadugar_names: str
    type_imports: tuple[str, ...]  # "from .post import Post" under TYPE_CHECKING
    enums: tuple[EnumView, ...]
    fields: tuple[FieldView, ...]
    relations: tuple[RelationView, ...]
    column_names: tuple[str, ...]
    relation_paths: tuple[str, ...]
    # the typed where(column, value) / where(column, op, value) overloads' parameters
    where_overloads: tuple[str, ...] = ()
    embedded: tuple[EmbeddedView, ...] = ()  # innermost first

    @property
    def exports(self) -> tuple[str, ...]:
        suffixes = ("", "Column", "Columns", "Create", "Query", "Relation", "Update", "Where")
        enums = tuple(e.alias for e in self.enums)
        return tuple(self.name + s for s in suffixes) + enums + tuple(e.name for e in self.embedded)


@dataclass(frozen=True)
class PackageView:
    package: str
    models: tuple[ModelView, ...]

    @property
    def exports(self) -> tuple[str, ...]:
        return tuple(sorted(name for m in self.models for name in m.exports))


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's isort order inside one import: CONSTANTS, then Classes, then functions
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _field_view(
    model: ModelSpec, spec: FieldSpec, imports: set[str], owner: str | None = None
) -> FieldView:
    alias = f"{owner or model.name}{_pascal(spec.name)}"
    py = python_type(spec, alias)
    imports.update(py.imports)
    annotation = f"{py.annotation} | None" if spec.nullable else py.annotation
    listed = spec.type == "embedded" and spec.many and not spec.nullable  # [] by default
    server_filled = spec.server_default is not None  # left out of the insert when None
    optional_input = spec.has_default or spec.nullable or listed or server_filled
    server_key = spec.primary_key and spec.type == "objectid"  # the server assigns it
    generated = (spec.primary_key and spec.auto_increment) or server_key or spec.managed is not None
    constraints = [f"{k}={v!r}" for k, v in py.constraints if v is not None]
    if spec.hidden:
        constraints.append("exclude=True")
    if (generated or server_filled) and not spec.nullable:
        # typed as the column type; None until the database or the runtime fills it in
        declaration = f"auto({', '.join(constraints)})"
    else:
        default = []
        if spec.has_default or spec.nullable:
            default = [f"default={default_literal(spec)}"]
        elif listed:
            default = ["default_factory=list"]
        if constraints:
            declaration = f"Field({', '.join(default + constraints)})"
        else:
            declaration = default[0].removeprefix("default=") if default else ""
            if listed and not constraints:
                declaration = "Field(default_factory=list)"
    flags = [f'"{spec.name}"', f'"{spec.type}"']
    if spec.db_name:
        flags.append(f"db_name={json.dumps(spec.db_name)}")
    if spec.nullable:
        flags.append("nullable=True")
    if spec.primary_key:
        flags.append("primary_key=True")
    if spec.auto_increment:
        flags.append("auto_increment=True")
    if spec.managed:
        flags.append(f'managed="{spec.managed}"')
    if spec.hidden:
        flags.append("hidden=True")
    if spec.encrypted:
        flags.append("encrypted=True")
    if spec.searchable:
        flags.append("searchable=True")
    if server_filled:
        flags.append("server_default=True")
    return FieldView(
        name=spec.name,
        annotation=annotation,
        column_type=py.annotation,
        declaration=declaration,
        in_create=not generated,
        create_required=not optional_input and not generated,
        in_update=not spec.primary_key and spec.managed is None,
        in_where=spec.searchable or not spec.encrypted,
        meta=f"ColumnMeta({', '.join(flags)})",
        column=json.dumps(f"{model.table}.{spec.column}"),
    )


def _embedded_views(
    model: ModelSpec, specs: tuple[FieldSpec, ...], owner: str, path: str, imports: set[str]
) -> tuple[list[EmbeddedView], list[EnumView]]:
    """The embedded models of ``specs`` (innermost first) and the enums of their fields."""
    views: list[EmbeddedView] = []
    enums: list[EnumView] = []
    for spec in specs:
        if spec.type != "embedded":
            continue
        name = f"{owner}{_pascal(spec.name)}"
        inner, inner_enums = _embedded_views(
            model, spec.fields, name, f"{path}.{spec.name}", imports
        )
        views += inner
        enums += inner_enums + _enums(spec.fields, name)
        fields = tuple(_field_view(model, f, imports, name) for f in spec.fields)
        views.append(EmbeddedView(name, f"{path}.{spec.name}", fields))
    return views, enums


def _enums(specs: tuple[FieldSpec, ...], owner: str) -> list[EnumView]:
    return [
        EnumView(
            f"{owner}{_pascal(f.name)}",
            "Literal[" + ", ".join(f'"{v}"' for v in f.values) + "]",
        )
        for f in specs
        if f.type == "enum"
    ]


def _keys(value: str | tuple[str, ...]) -> str:
    """A relation key as RelationMeta source: ``"user_id"`` or ``("a", "b")``."""
    if isinstance(value, str):
        return json.dumps(value)
    return "(" + ", ".join(json.dumps(v) for v in value) + ")"


def _pivot_column(
    pivot: ModelSpec, name: str | tuple[str, ...] | None
) -> str | tuple[str, ...] | None:
    found = pivot.field(name) if isinstance(name, str) else None
    return found.column if found else name


def _relation_view(schema: Schema, model: ModelSpec, relation: RelationSpec) -> RelationView:
    many = relation.kind in ("has_many", "belongs_to_many")
    annotation = f"list[{relation.model}]" if many else f"{relation.model} | None"
    foreign_key, other_key = relation.foreign_key, relation.other_key
    pivot = next((m for m in schema.models if m.table == relation.through), None)
    if relation.kind == "belongs_to_many" and pivot is not None:
        # the pivot is read as a table: its columns by their database names
        foreign_key = _pivot_column(pivot, foreign_key)
        other_key = _pivot_column(pivot, other_key)
    assert foreign_key is not None
    args = [f'"{relation.kind}"', f'"{relation.model}"', f"foreign_key={_keys(foreign_key)}"]
    if other_key:
        args.append(f"other_key={_keys(other_key)}")
    local_key = relation.local_key
    if relation.kind == "belongs_to_many" and not local_key and model.primary_key.name != "id":
        local_key = model.primary_key.name  # the pivot's foreign_key points at our key
    if local_key:
        args.append(f"local_key={_keys(local_key)}")
    if relation.through:
        args.append(f'through="{relation.through}"')
    return RelationView(
        name=relation.name,
        annotation=annotation,
        target=relation.model,
        target_module=snake_case(relation.model),
        countable=many,
        meta=f"RelationMeta({', '.join(args)})",
    )


def relation_paths(schema: Schema, model: ModelSpec, depth: int = RELATION_DEPTH) -> list[str]:
    paths: list[str] = []
    for relation in model.relations:
        paths.append(relation.name)
        target = schema.model(relation.model)
        if depth > 1 and target is not None:
            paths += [f"{relation.name}.{p}" for p in relation_paths(schema, target, depth - 1)]
    return paths


def model_view(schema: Schema, model: ModelSpec, source: str) -> ModelView:
    imports: set[str] = {"from collections.abc import Iterable, Sequence"}  # where, create_many
    fields = tuple(_field_view(model, f, imports) for f in model.fields)
    overloads = where_overloads(
        (spec, view.annotation, view.column_type)
        for spec, view in zip(model.fields, fields, strict=True)
        if view.in_where
    )
    embedded, embedded_enums = _embedded_views(model, model.fields, model.name, model.name, imports)
    enums = tuple(embedded_enums + _enums(model.fields, model.name))
    relations = tuple(_relation_view(schema, model, r) for r in model.relations)
    keys = model.key_fields
    key = keys[0]
    key_types = [python_type(k, f"{model.name}{_pascal(k.name)}").annotation for k in keys]
    key_type = key_types[0] if len(keys) == 1 else f"tuple[{', '.join(key_types)}]"
    key_literal = (
        f'"{key.name}"' if len(keys) == 1 else "(" + ", ".join(f'"{k.name}"' for k in keys) + ")"
    )
    pydantic = {line.split()[-1] for line in imports if line.startswith("from pydantic ")}
    inner_fields = [f for e in embedded for f in e.fields]
    if any(f.declaration.startswith("Field(") for f in (*fields, *inner_fields)):
        pydantic.add("Field")
    typing = {"ClassVar", "Final", "Literal", "Self", "TypedDict", "Unpack", "overload"}
    if relations:
        typing |= {"TYPE_CHECKING", "cast"}
    else:
        typing.add("Never")
    if any(f.in_create and not f.create_required for f in fields):
        typing.add("NotRequired")
    jadugar = ["ColumnMeta", "KeyedDelete", "Model", "ModelMeta", "ModelQuery"]
    jadugar += operator_aliases(overloads)
    if any(f.declaration.startswith("auto(") for f in fields):
        jadugar.insert(0, "auto")
    if relations:
        jadugar.append("RelationMeta")
    if embedded:
        jadugar.append("EmbeddedModel")
    plain = sorted(line for line in imports if line.startswith("import "))
    froms = sorted(line for line in imports if line.startswith("from ") and "pydantic" not in line)
    type_imports = sorted(
        {f"from .{r.target_module} import {r.target}" for r in relations if r.target != model.name}
    )
    return ModelView(
        name=model.name,
        module=snake_case(model.name),
        table=model.table,
        source=source,
        description=model.description or f"A row of the ``{model.table}`` table.",
        key_name=key.name,
        key_type=key_type,
        key_literal=key_literal,
        timestamps=model.timestamps,
        soft_deletes=model.soft_deletes,
        imports=tuple(plain + froms),
        typing_names=", ".join(sorted(typing, key=_isort_key)),
        pydantic_names=", ".join(sorted(pydantic, key=_isort_key)),
        jadugar_names=", ".join(sorted(jadugar, key=_isort_key)),
        type_imports=tuple(type_imports),
        enums=enums,
        fields=fields,
        relations=relations,
        column_names=tuple(f.name for f in model.fields),
        relation_paths=tuple(sorted(relation_paths(schema, model))),
        where_overloads=overloads,
        embedded=tuple(embedded),
    )


def _source(model: ModelSpec, root: Path) -> str:
    if model.location is None:
        return "schemas"
    path = Path(model.location.file)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def package_view(schema: Schema, package: str, root: Path) -> PackageView:
    """Views of every model; ``root`` is the folder source file names are relative to."""
    models = tuple(model_view(schema, m, _source(m, root)) for m in schema.models)
    return PackageView(package=package, models=models)
