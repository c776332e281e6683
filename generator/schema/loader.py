"""Schema files -> the schema IR: YAML and Python files read, merged, validated, normalized."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import itertools
import sys
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import ForwardRef

from pydantic import BaseModel, PydanticUndefinedAnnotation

from jadugar.errors import SchemaError

from ..dsl import ModelOptions, Relation, Schema, field_options
from .model import Location, RawEntry, RawModel
from .model import Schema as SchemaIR
from .normalize import normalize
from .validate import validate
from .yaml_source import read_yaml

SUFFIXES = (".yaml", ".yml", ".py")
_module_names = (f"_jadugar_schema_{n}" for n in itertools.count())


def load_schema(folder: Path) -> SchemaIR:
    """Every schema file of ``folder`` as one schema IR: ``load_schema(Path("schemas"))``.

    Reads ``*.yaml``, ``*.yml`` and ``*.py`` in name order, skipping names that start with
    ``_``. Raises one ``SchemaError`` listing every problem, each with its file and line.
    """
    if not folder.is_dir():
        raise SchemaError(f"the schema folder {folder} does not exist")
    paths = sorted(
        p
        for p in folder.iterdir()
        if p.suffix in SUFFIXES and not p.name.startswith("_") and p.is_file()
    )
    if not paths:
        raise SchemaError(f"no schema files (*.yaml, *.yml, *.py) in {folder}")
    return load_files(paths)


def load_files(paths: Sequence[Path]) -> SchemaIR:
    """The schema IR of these files (YAML or Python), merged, validated and normalized."""
    models: list[RawModel] = []
    problems: list[SchemaError] = []
    for path in paths:
        found, file_problems = read_file(path)
        models += found
        problems += file_problems
    problems += validate(models)
    if problems:
        problems.sort(key=lambda p: (p.file or "", p.line or 0))
        raise SchemaError.combine(problems)
    return normalize(models)


def read_file(path: Path) -> tuple[list[RawModel], list[SchemaError]]:
    """The raw models of one schema file and the problems found reading it."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [SchemaError(f"cannot read the schema file: {exc}", file=file)]
    if path.suffix != ".py":
        return read_yaml(text, file)
    try:
        tree = ast.parse(text, filename=file)
        module = _import(path)
    except SyntaxError as exc:
        return [], [SchemaError(f"invalid Python: {exc.msg}", file=file, line=exc.lineno)]
    except SchemaError as exc:
        return [], [exc]
    return _read_classes(module, _lines(tree), file)


def _import(path: Path) -> ModuleType:
    """Runs a Python schema file as a private module, gone from ``sys.modules`` afterwards."""
    name = next(_module_names)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SchemaError("cannot import the schema file", file=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with warnings.catch_warnings():
            # validate reports reserved field names in its own words.
            warnings.filterwarnings("ignore", "Field name .* shadows an attribute", UserWarning)
            warnings.filterwarnings("ignore", ".*protected namespace", UserWarning)
            spec.loader.exec_module(module)
    except Exception as exc:
        line = next(
            (
                frame.lineno
                for frame in reversed(traceback.extract_tb(exc.__traceback__))
                if Path(frame.filename).resolve() == path.resolve()
            ),
            None,
        )
        message = f"importing the schema file failed: {type(exc).__name__}: {exc}"
        raise SchemaError(message, file=str(path), line=line) from exc
    finally:
        sys.modules.pop(name, None)
    return module


@dataclass
class _ClassLines:
    """Where a class statement and the names in its body are written."""

    line: int
    names: dict[str, int] = field(default_factory=dict)
    options: int | None = None
    indexes: list[int] = field(default_factory=list)
    twice: list[tuple[str, int, int, bool]] = field(default_factory=list)


def _lines(tree: ast.Module) -> dict[str, _ClassLines]:
    found: dict[str, _ClassLines] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        lines = found[node.name] = _ClassLines(node.lineno)
        annotated: set[str] = set()
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign | ast.Assign):
                targets = getattr(statement, "targets", [getattr(statement, "target", None)])
                for name in (t.id for t in targets if isinstance(t, ast.Name)):
                    _note(lines, annotated, name, statement)
    return found


def _note(
    lines: _ClassLines, annotated: set[str], name: str, statement: ast.AnnAssign | ast.Assign
) -> None:
    """Records where ``name`` is assigned in a class body, and when it is assigned twice."""
    is_field = isinstance(statement, ast.AnnAssign)
    if name in lines.names:
        both_fields = is_field and name in annotated
        lines.twice.append((name, statement.lineno, lines.names[name], both_fields))
    lines.names.setdefault(name, statement.lineno)
    if is_field:
        annotated.add(name)
    if name == "model_options":
        lines.options = statement.lineno
        calls = [n for n in ast.walk(statement) if isinstance(n, ast.Call)]
        lines.indexes = sorted(n.lineno for n in calls if _called(n) == "Index")


def _called(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _read_classes(
    module: ModuleType, lines: dict[str, _ClassLines], file: str
) -> tuple[list[RawModel], list[SchemaError]]:
    models: list[RawModel] = []
    problems: list[SchemaError] = []
    for value in list(vars(module).values()):
        if (
            isinstance(value, type)
            and issubclass(value, Schema)
            and value is not Schema
            and value.__module__ == module.__name__
        ):
            where = lines.get(value.__name__) or _ClassLines(0)
            models.append(_read_class(value, where, file, problems, lines))
    return models, problems


def _read_class(
    cls: type[Schema],
    lines: _ClassLines,
    file: str,
    problems: list[SchemaError],
    classes: dict[str, _ClassLines] | None = None,
) -> RawModel:
    name = cls.__name__

    def at(line: int | None) -> Location:
        return Location(file=file, line=line or lines.line or None)

    for twin, again, first, is_field in lines.twice:
        message = f"duplicate field '{twin}' in model {name} (first defined on line {first})"
        if not is_field:
            message = f"'{twin}' is defined twice in model {name} (first on line {first})"
        problems.append(SchemaError(message, file=file, line=again))
    if not cls.__pydantic_complete__:
        try:
            cls.model_rebuild()
        except PydanticUndefinedAnnotation as exc:
            unresolved = [n for n, i in cls.model_fields.items() if _unresolved(i.annotation)]
            line = lines.names.get(unresolved[0]) if unresolved else lines.line
            problems.append(SchemaError(f"model {name}: {exc.message}", file=file, line=line))
    fields = []
    for key, info in cls.model_fields.items():
        if _unresolved(info.annotation):
            continue
        try:
            options = field_options(info.annotation, info.default)
        except ValueError as exc:
            line = lines.names.get(key)
            problems.append(SchemaError(f"field {name}.{key}: {exc}", file=file, line=line))
            continue
        _embedded_fields(options, f"{name}.{key}", file, problems, classes or {})
        fields.append(RawEntry(name=key, options=options, location=at(lines.names.get(key))))
    relations = {
        key: value
        for klass in reversed(cls.__mro__)
        if issubclass(klass, Schema)
        for key, value in vars(klass).items()
        if isinstance(value, Relation)
    }
    settings: object = cls.model_options
    if not isinstance(settings, ModelOptions):
        message = f"model_options of model {name} must be ModelOptions(...), not {settings!r}"
        problems.append(SchemaError(message, file=file, line=lines.options))
        settings = ModelOptions()
    options = settings.options()
    doc = cls.__dict__.get("__doc__")
    if "description" not in options and doc:
        options["description"] = inspect.cleandoc(doc)
    index_lines: list[int | None] = list(lines.indexes)
    if len(index_lines) != len(settings.indexes):
        index_lines = [lines.options] * len(settings.indexes)
    return RawModel(
        name=name,
        options=options,
        option_lines=dict.fromkeys(options, lines.options or lines.line),
        location=at(lines.line),
        fields=fields,
        indexes=[
            RawEntry(name="", options=index.options(), location=at(line))
            for index, line in zip(settings.indexes, index_lines, strict=True)
        ],
        relations=[
            RawEntry(name=key, options=relation.options(), location=at(lines.names.get(key)))
            for key, relation in relations.items()
        ],
        checks=[
            RawEntry(name="", options=check.options(), location=at(lines.options))
            for check in settings.checks
        ],
        foreign_keys=[
            RawEntry(name="", options=fk.options(), location=at(lines.options))
            for fk in settings.foreign_keys
        ],
    )


def _embedded_fields(
    options: dict[str, object],
    path: str,
    file: str,
    problems: list[SchemaError],
    classes: dict[str, _ClassLines],
) -> None:
    """An embedded document's class (``fields`` of ``field_options``) -> its raw fields,
    each at the line of its class body."""
    embedded = options.get("fields")
    if not isinstance(embedded, type) or not issubclass(embedded, BaseModel):
        return
    lines = classes.get(embedded.__name__) or _ClassLines(0)
    entries = []
    for key, info in embedded.model_fields.items():
        line = lines.names.get(key) or lines.line or None
        try:
            inner = field_options(info.annotation, info.default)
        except ValueError as exc:
            problems.append(SchemaError(f"field {path}.{key}: {exc}", file=file, line=line))
            continue
        _embedded_fields(inner, f"{path}.{key}", file, problems, classes)
        entries.append(RawEntry(name=key, options=inner, location=Location(file=file, line=line)))
    options["fields"] = entries


def _unresolved(annotation: object) -> bool:
    return isinstance(annotation, ForwardRef)
