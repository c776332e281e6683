"""``jadugar import-schema``: a JSON Schema or OpenAPI 3 document -> a Jadugar schema file.

datamodel-code-generator parses the document into Pydantic v2 classes; those become raw
definitions, validated and normalized like any schema file, and dumped as YAML. Rules:

- each object schema (a generated ``BaseModel``) is a model; enums and scalar definitions
  (``RootModel``) are unwrapped where used. Types: string -> str (maxLength ->
  max_length; format uuid/date/date-time/time/binary -> uuid/date/datetime/time/bytes;
  password -> str, hidden; other formats -> str), integer -> int (int64 -> bigint),
  number -> float (decimal -> decimal), boolean -> bool, enum of strings -> enum, enum
  of integers -> int. Not required or null allowed -> nullable. Literal defaults kept.
- nested object -> belongs_to: the parent gets ``<property>_id`` referencing it
  (nullable with on_delete set_null unless the property is required).
- array of objects -> has_many on the parent; the child gets ``<parent>_id`` (on_delete
  cascade; nullable when the child has several parents) and a belongs_to back.
- anything else is json, with a warning: arrays of scalars, maps, unions, untyped.
- names become lower snake_case; reserved names get a trailing ``_``; renames are
  reported. No ``id`` property: ``id: {type: int, primary_key: true, auto_increment:
  true}`` is added; an integer ``id`` is auto-increment.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import types
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml  # type: ignore[import-untyped]
from datamodel_code_generator import GenerateConfig
from datamodel_code_generator.dynamic import generate_dynamic_models
from datamodel_code_generator.enums import DataModelType, InputFileType
from datamodel_code_generator.format import DatetimeClassType
from pydantic import (
    AnyUrl,
    AwareDatetime,
    BaseModel,
    FutureDate,
    FutureDatetime,
    NaiveDatetime,
    PastDate,
    PastDatetime,
    RootModel,
    SecretStr,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from jadugar.errors import SchemaError

from .dsl import field_options
from .schema.dump import dump
from .schema.model import Location, RawEntry, RawModel, Schema
from .schema.names import is_field_name, is_model_name, is_reserved, snake_case
from .schema.normalize import normalize
from .schema.option_shapes import default_problem
from .schema.validate import validate
from .schema_json import MODELINE_TEXT

SUFFIXES = (".json", ".yaml", ".yml")
# int64 survives datamodel-code-generator only as an extension key copied into the field.
_MARK = "x-jadugar-format"
_NAMED = frozenset({"properties", "patternProperties", "$defs", "definitions", "schemas"})
_LITERALS = frozenset({"default", "example", "examples", "enum", "const"})
# formats whose Pydantic types need extra packages (email-validator, python-ulid)
_AS_STRING = ["email=string", "idn-email=string", "ulid=string"]
_SAME_AS: dict[object, type] = {
    **dict.fromkeys((AwareDatetime, NaiveDatetime, PastDatetime, FutureDatetime), datetime),
    **dict.fromkeys((PastDate, FutureDate), date),
}
_TEXT_LIKE = (str, AnyUrl, SecretStr, IPv4Address, IPv6Address, IPv4Network, IPv6Network, PurePath)
_KEY_TYPES = ("int", "bigint", "smallint", "str", "uuid")


@dataclass(frozen=True)
class ImportResult:
    """An imported document: its schema IR, the YAML text, and what was changed on the way."""

    schema: Schema
    text: str
    warnings: tuple[str, ...]
    kind: Literal["JSON Schema", "OpenAPI"]


def import_schema(path: Path) -> ImportResult:
    """Imports ``path`` (.json, .yaml or .yml: OpenAPI 3 when it has an ``openapi`` key,
    else JSON Schema). Raises ``SchemaError`` naming the file when it cannot."""
    file = str(path)
    document = _read(path)
    kind: Literal["JSON Schema", "OpenAPI"] = "OpenAPI" if "openapi" in document else "JSON Schema"
    classes = _classes(_mark_int64(document), kind, path)
    converter = _Converter(file)
    models = converter.run(classes)
    if not models:
        raise SchemaError(f"no object schemas found in this {kind} document", file=file)
    problems = validate(models)
    if problems:  # a document this importer cannot express; says which definition
        raise SchemaError.combine(problems)
    schema = normalize(models)
    info = document.get("info") if kind == "OpenAPI" else document
    title = info.get("title") if isinstance(info, dict) else None
    named = f' "{title}"' if isinstance(title, str) else ""
    source = f"Imported by `jadugar import-schema` from {path.name} ({kind}{named})."
    header = f"{MODELINE_TEXT}\n{source}"  # editor support: jadugar schema-json
    return ImportResult(schema, dump(schema, header), tuple(converter.warnings), kind)


def _read(path: Path) -> dict[str, Any]:
    file = str(path)
    if path.suffix.lower() not in SUFFIXES:
        wanted = "a JSON Schema or OpenAPI document (.json, .yaml or .yml)"
        raise SchemaError(f"cannot import a '{path.suffix}' file: give {wanted}", file=file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read the file: {exc}", file=file) from None
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"invalid JSON: {exc.msg}", file=file, line=exc.lineno) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or exc
        line = mark.line + 1 if mark else None
        raise SchemaError(f"invalid YAML: {reason}", file=file, line=line) from None
    if not isinstance(document, dict):
        wanted = "the top level must be a mapping"
        raise SchemaError(f"not a JSON Schema or OpenAPI document: {wanted}", file=file)
    if "swagger" in document:
        raise SchemaError("Swagger 2.0 is not supported: convert it to OpenAPI 3", file=file)
    return document


def _mark_int64(node: Any, names: bool = False) -> Any:
    """A copy of a document where every ``integer``/``int64`` schema also carries _MARK."""
    if isinstance(node, list):
        return [_mark_int64(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:  # a mapping of names to schemas: no key is a keyword
        return {key: _mark_int64(value) for key, value in node.items()}
    kinds = node.get("type")
    marked = {
        key: value if key in _LITERALS else _mark_int64(value, key in _NAMED)
        for key, value in node.items()
    }
    if node.get("format") == "int64" and "integer" in (
        kinds if isinstance(kinds, list) else [kinds]
    ):
        marked[_MARK] = "int64"
    return marked


def _classes(document: dict[str, Any], kind: str, path: Path) -> list[type[BaseModel]]:
    """The object classes datamodel-code-generator makes of ``document``."""
    config = GenerateConfig(
        input_file_type=InputFileType.OpenAPI if kind == "OpenAPI" else InputFileType.JsonSchema,
        output_model_type=DataModelType.PydanticV2BaseModel,
        field_extra_keys={_MARK},
        type_mappings=_AS_STRING,
        use_schema_description=True,
        apply_default_values_for_required_fields=True,
        output_datetime_class=DatetimeClassType.Datetime,
        allow_remote_refs=False,
        formatters=[],
    )
    try:  # relative $refs are read next to the document
        with contextlib.chdir(path.parent.resolve()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = generate_dynamic_models(document, config=config, cache_size=0)
    except Exception as exc:  # the generator raises many kinds, all meaning "cannot read it"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = f"datamodel-code-generator cannot read it: {reason}"
        if "Models not found" in reason:
            message = f"no object schemas found in this {kind} document"
        raise SchemaError(message, file=str(path)) from exc
    return [c for c in found.values() if issubclass(c, BaseModel) and not issubclass(c, RootModel)]


@dataclass
class _Shape:
    """What a property's annotation means to the importer."""

    kind: Literal["scalar", "one", "many", "json"]
    annotation: object = None
    nullable: bool = False
    target: type[BaseModel] | None = None
    metadata: list[object] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)
    why: str = ""


def _shape(annotation: object, metadata: Iterable[object], extra: object) -> _Shape:
    extras = dict(extra) if isinstance(extra, dict) else {}
    found = list(metadata)
    while get_origin(annotation) is Annotated:
        annotation, *more = get_args(annotation)
        found += more
    nullable = False
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(rest) < len(get_args(annotation))
        if len(rest) > 1:
            return _Shape("json", nullable=nullable, why="a union of several types")
        inner = _shape(rest[0], found, extras)
        inner.nullable |= nullable
        return inner
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        root = annotation.model_fields["root"]
        return _shape(root.annotation, root.metadata, root.json_schema_extra)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _Shape("one", target=annotation)
    origin = get_origin(annotation)
    if origin in (list, set, frozenset, tuple):
        items = [a for a in get_args(annotation) if a is not Ellipsis]
        item = _shape(items[0], (), None) if len(items) == 1 else None
        if item is not None and item.kind == "one":
            return _Shape("many", target=item.target)
        if item is None:
            return _Shape("json", why="a tuple of items")
        what = "scalars" if item.kind == "scalar" else f"items that are {item.why}"
        return _Shape("json", why=f"an array of {what}")
    if origin is dict or annotation is dict:
        return _Shape("json", why="a map (additionalProperties)")
    if annotation is Any or annotation is object:
        return _Shape("json", why="untyped")
    return _Shape("scalar", annotation, metadata=found, extra=extras)


class _Converter:
    """Generated classes -> raw models, collecting a warning for every change made."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.warnings: list[str] = []
        self.names: dict[type[BaseModel], str] = {}
        self.fields: dict[str, dict[str, dict[str, object]]] = {}
        self.relations: dict[str, dict[str, dict[str, object]]] = {}
        self.keys: dict[str, dict[str, dict[str, object]]] = {}  # added foreign keys

    def run(self, classes: list[type[BaseModel]]) -> list[RawModel]:
        for cls in classes:
            self.names[cls] = self.model_name(cls.__name__)
        links: list[tuple[str, str, _Shape]] = []
        for cls, model in self.names.items():
            fields: dict[str, dict[str, object]] = {}
            self.fields[model], self.relations[model], self.keys[model] = fields, {}, {}
            for attribute, info in cls.model_fields.items():
                name = self.field_name(model, info.alias or attribute, fields)
                shape = _shape(info.annotation, info.metadata, info.json_schema_extra)
                column = (
                    {} if shape.kind in ("one", "many") else self.column(model, name, shape, info)
                )
                if name == "id" and column.get("type") not in _KEY_TYPES:
                    name = self.field_name(model, "source_id", fields, quiet=True)
                    self.warn(f"{model}.id cannot be a primary key: imported as '{name}'")
                if shape.kind in ("one", "many"):
                    links.append((model, name, shape))
                fields[name] = column  # a link keeps its name taken until it is made
            self.primary_key(model)
        owners = [(self.names[s.target], p) for p, _, s in links if s.kind == "many" and s.target]
        for parent, prop, shape in links:
            del self.fields[parent][prop]
            assert shape.target is not None
            child = self.names[shape.target]
            if shape.kind == "one":
                self.belongs_to(parent, prop, child, shape.nullable or child == parent)
            else:
                shared = owners.count((child, parent)) > 1
                several = [c for c, _ in owners].count(child) > 1
                self.has_many(parent, prop, child, shared, several or child == parent)
        return [self.raw(cls, name) for cls, name in sorted(self.names.items(), key=_by_name)]

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def model_name(self, name: str) -> str:
        new = name
        if not is_model_name(new):
            words = re.split(r"[^A-Za-z0-9]+", new)
            new = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
            new = new if new[0].isalpha() else f"Model{new}"
        stem, number, taken = new, 1, set(self.names.values())
        while new in taken:
            number += 1
            new = f"{stem}{number}"
        if new != name:
            self.warn(f"model {name} imported as {new} (model names are PascalCase identifiers)")
        return new

    def field_name(self, model: str, prop: str, taken: Iterable[str], quiet: bool = False) -> str:
        """A free lower snake_case name for property ``prop``; a rename is reported."""
        name = re.sub(r"[^a-z0-9_]+", "_", snake_case(prop).lower())
        name = re.sub(r"_+", "_", name).strip("_") or "field"
        name = name if name[0].isalpha() else f"field_{name}"
        if is_reserved(name) or not is_field_name(name):
            name += "_"
        stem, number, names = name, 1, set(taken)
        while name in names:
            number += 1
            name = f"{stem}_{number}"
        if name != prop and not quiet:
            why = "a reserved name" if stem.endswith("_") else "not a snake_case identifier"
            why = "a name already taken" if name != stem else why
            self.warn(f"{model}: property '{prop}' imported as '{name}' ({why})")
        return name

    def column(self, model: str, name: str, shape: _Shape, info: FieldInfo) -> dict[str, object]:
        """The options of a json or scalar property."""
        default = info.default.value if isinstance(info.default, Enum) else info.default
        if shape.kind == "json":
            self.warn(f"{model}.{name} is json: {shape.why}")
            return self.defaulted(model, name, {"type": "json"}, shape.nullable, default)
        annotation = _SAME_AS.get(shape.annotation, shape.annotation)
        options: dict[str, object] = {}
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            values = [member.value for member in annotation]
            if all(isinstance(v, str) for v in values):
                annotation = Literal[tuple(values)]
            elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                self.warn(f"{model}.{name} is int: its enum has integer values")
                annotation = int
        if isinstance(annotation, type) and issubclass(annotation, _TEXT_LIKE):
            if issubclass(annotation, SecretStr):
                options["hidden"] = True
            annotation = str
        try:
            options |= field_options(annotation, PydanticUndefined)
        except ValueError:
            self.warn(f"{model}.{name} is json: {_shown(annotation)} has no schema type")
            options = {"type": "json"}
        if options["type"] == "int" and shape.extra.get(_MARK) == "int64":
            options["type"] = "bigint"
        lengths = [n for n in (getattr(m, "max_length", None) for m in shape.metadata) if n]
        if options["type"] == "str" and lengths:
            options["max_length"] = lengths[0]
        return self.defaulted(model, name, options, shape.nullable, default)

    def defaulted(
        self, model: str, name: str, options: dict[str, object], nullable: bool, default: object
    ) -> dict[str, object]:
        """``options`` with nullable, and with ``default`` when the schema can hold it."""
        if nullable:
            options["nullable"] = True
        if default is PydanticUndefined or (default is None and nullable):
            return options  # a nullable field is optional already
        wrong = default_problem(f"field {model}.{name}", str(options["type"]), default, options)
        if wrong:
            self.warn(f"{wrong}; the default is left out")
        else:
            options["default"] = default
        return options

    def primary_key(self, model: str) -> None:
        """``id`` first, as the primary key: the property's own, or an int one added."""
        fields = self.fields[model]
        found = fields.pop("id", {"type": "int"})
        key = {k: v for k, v in found.items() if k in ("type", "max_length")}
        key["primary_key"] = True
        if key["type"] in ("int", "bigint", "smallint"):
            key["auto_increment"] = True
        self.fields[model] = {"id": key, **fields}

    def foreign_key(self, model: str, name: str, target: str) -> tuple[str, dict[str, object]]:
        """A new field of ``model`` to point at ``target``, or a property that fits already."""
        wanted = {k: v for k, v in self.fields[target]["id"].items() if k in ("type", "max_length")}
        found = self.fields[model].get(name)
        if found is not None and found.get("type") == wanted["type"] and "references" not in found:
            self.warn(f"{model}.{name} (a property) is the foreign key to {target}")
            return name, found
        taken = [*self.fields[model], *self.relations[model], *self.keys[model]]
        name = self.field_name(model, name, taken, quiet=True)
        self.keys[model][name] = column = dict(wanted)
        return name, column

    def belongs_to(self, parent: str, prop: str, child: str, nullable: bool) -> None:
        key, column = self.foreign_key(parent, f"{prop}_id", child)
        if nullable:
            column["nullable"] = True
        action = {"on_delete": "set_null"} if column.get("nullable") else {}
        column["references"] = {"model": child, **action}
        self.relations[parent][prop] = {"kind": "belongs_to", "model": child, "foreign_key": key}

    def has_many(self, parent: str, prop: str, child: str, shared: bool, nullable: bool) -> None:
        back = snake_case(parent) + (f"_{prop}" if shared else "")
        key, column = self.foreign_key(child, f"{back}_id", parent)
        if nullable:
            column["nullable"] = True
        column["references"] = {"model": parent, "on_delete": "cascade"}
        self.relations[parent][prop] = {"kind": "has_many", "model": child, "foreign_key": key}
        if not (is_reserved(back) or back in self.fields[child] or back in self.relations[child]):
            self.relations[child][back] = {
                "kind": "belongs_to",
                "model": parent,
                "foreign_key": key,
            }

    def raw(self, cls: type[BaseModel], name: str) -> RawModel:
        where = Location(file=self.file)
        fields = self.fields[name]
        ordered = {"id": fields["id"], **self.keys[name], **fields}
        doc = cls.__dict__.get("__doc__")
        return RawModel(
            name=name,
            options={"description": inspect.cleandoc(doc)} if doc and doc.strip() else {},
            location=where,
            fields=[RawEntry(name=k, options=v, location=where) for k, v in ordered.items()],
            relations=[
                RawEntry(name=k, options=v, location=where) for k, v in self.relations[name].items()
            ],
        )


def _by_name(item: tuple[type[BaseModel], str]) -> str:
    return item[1]


def _shown(annotation: object) -> str:
    return annotation.__name__ if isinstance(annotation, type) else repr(annotation)
