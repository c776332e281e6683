"""YAML schema files (SPEC 8) -> raw definitions, with the line of every key.

The text is composed into nodes and walked here, rather than loaded, so that every key
keeps its line and a key written twice is reported instead of silently overwritten.
"""

from __future__ import annotations

from typing import Any

import yaml  # type: ignore[import-untyped]

from jadugar.errors import SchemaError

from .model import Location, RawEntry, RawModel

# libyaml's parser when PyYAML was built with it: ten times faster, same nodes and marks
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Node = Any  # yaml.Node: PyYAML ships no type information
_Pairs = list[tuple[str, int, Node]]


def read_yaml(text: str, file: str) -> tuple[list[RawModel], list[SchemaError]]:
    """The raw models of one YAML schema file, and the problems found reading it."""
    reader = _Reader(file)
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "unreadable"
        if exc.problem and exc.context and exc.context_mark:
            reason = f"{reason} ({exc.context} on line {exc.context_mark.line + 1})"
        reader.problem(f"invalid YAML: {reason}", mark.line + 1 if mark else None)
        return [], reader.problems
    except yaml.YAMLError as exc:
        reader.problem(f"invalid YAML: {exc}", None)
        return [], reader.problems
    models = reader.document(root) if root is not None else []
    return models, reader.problems


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[SchemaError] = []
        self._constructor = yaml.SafeLoader("")

    def problem(self, message: str, line: int | None) -> None:
        self.problems.append(SchemaError(message, file=self.file, line=line))

    def document(self, root: Node) -> list[RawModel]:
        top = self._keys(self._pairs(root, "a schema file"), "the schema file")
        for key, (line, _node) in top.items():
            if key != "models":
                self.problem(f"unknown top-level key '{key}'; allowed: models", line)
        if "models" not in top:
            return []
        pairs = self._pairs(top["models"][1], "'models'")
        models = [self._model(name, line, node) for name, line, node in pairs]
        return [model for model in models if model]

    def _model(self, name: str, line: int, node: Node) -> RawModel | None:
        context = f"model {name}"
        if not isinstance(node, yaml.MappingNode):
            self.problem(f"{context} must be a mapping of options such as {{fields: ...}}", line)
            return None
        keys = self._keys(self._pairs(node, context), context)
        fields = keys.pop("fields", None)
        indexes = keys.pop("indexes", None)
        relations = keys.pop("relations", None)
        checks = keys.pop("checks", None)
        foreign_keys = keys.pop("foreign_keys", None)
        return RawModel(
            name=name,
            options={key: self._value(value, context) for key, (_, value) in keys.items()},
            option_lines={key: key_line for key, (key_line, _) in keys.items()},
            location=Location(file=self.file, line=line),
            fields=self._entries(fields, "field", name),
            indexes=self._list(indexes, name, "indexes", "an index", "{columns: [...]}"),
            relations=self._entries(relations, "relation", name),
            checks=self._list(checks, name, "checks", "a check", "{name: ..., expression: ...}"),
            foreign_keys=self._list(
                foreign_keys, name, "foreign_keys", "a foreign key", "{columns: [...], ...}"
            ),
        )

    def _entries(self, found: tuple[int, Node] | None, kind: str, model: str) -> list[RawEntry]:
        if found is None:
            return []
        pairs = self._pairs(found[1], f"the {kind}s of model {model}")
        entries = [
            self._entry(name, line, node, f"{kind} {model}.{name}", nested=kind == "field")
            for name, line, node in pairs
        ]
        return [entry for entry in entries if entry]

    def _list(
        self, found: tuple[int, Node] | None, model: str, key: str, one: str, shape: str
    ) -> list[RawEntry]:
        """The entries of a list option of a model (indexes, checks, foreign_keys)."""
        if found is None:
            return []
        if not isinstance(found[1], yaml.SequenceNode):
            self.problem(f"the {key} of model {model} must be a list of {shape}", found[0])
            return []
        entries = [self._entry("", _line(i), i, f"{one} of model {model}") for i in found[1].value]
        return [entry for entry in entries if entry]

    def _entry(
        self, name: str, line: int, node: Node, context: str, nested: bool = False
    ) -> RawEntry | None:
        """The entry of a mapping node; None (reported) for anything else. With ``nested``
        (a field), ``fields:`` of an embedded document are entries too, with their lines."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                f"{context} must be a mapping of options such as {{type: str}}", _line(node)
            )
            return None
        keys = self._keys(self._pairs(node, context), context)
        options = {key: self._value(value, context) for key, (_, value) in keys.items()}
        if nested and "fields" in keys and isinstance(keys["fields"][1], yaml.MappingNode):
            inner = self._pairs(keys["fields"][1], f"the fields of {context}")
            options["fields"] = [
                entry
                for entry in (
                    self._entry(n, at, value, f"{context}.{n}", nested=True)
                    for n, at, value in inner
                )
                if entry
            ]
        return RawEntry(
            name=name,
            options=options,
            option_lines={key: key_line for key, (key_line, _) in keys.items()},
            location=Location(file=self.file, line=line),
        )

    def _pairs(self, node: Node, context: str) -> _Pairs:
        """The (key, line, value) pairs of a mapping node, duplicates included."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(f"{context} must be a mapping of keys to values", _line(node))
            return []
        pairs: _Pairs = []
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                pairs.append((str(key.value), _line(key), value))
            else:
                self.problem(f"keys of {context} must be plain names", _line(key))
        return pairs

    def _keys(self, pairs: _Pairs, context: str) -> dict[str, tuple[int, Node]]:
        """Pairs by key; a key written twice is reported and its first value kept."""
        keys: dict[str, tuple[int, Node]] = {}
        for key, line, value in pairs:
            if key in keys:
                first = keys[key][0]
                self.problem(
                    f"duplicate key '{key}' in {context} (first defined on line {first})", line
                )
            else:
                keys[key] = (line, value)
        return keys

    def _value(self, node: Node, context: str) -> object:
        """A plain Python value; nested mappings are checked for duplicate keys too."""
        if isinstance(node, yaml.MappingNode):
            keys = self._keys(self._pairs(node, context), context)
            return {key: self._value(value, context) for key, (_, value) in keys.items()}
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, context) for item in node.value]
        try:
            return self._constructor.construct_object(node)
        except yaml.MarkedYAMLError as exc:
            self.problem(f"invalid YAML value in {context}: {exc.problem}", _line(node))
            return None
