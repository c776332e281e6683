"""The schema IR -> an entity-relationship graph: entities with their columns, and links.

A link is one foreign key (or one many-to-many through a pivot table no model declares),
however many ways the schema says it: a field's ``references``, a ``belongs_to`` on the model
holding the key, a ``has_one`` / ``has_many`` on the model it points at. All of them merge
into one link, named after the relations that use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..schema.model import FieldSpec, ModelSpec, Schema

# How many rows of one side a row of the other side has.
Cardinality = Literal["one", "zero_or_one", "zero_or_many"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the schema type: str, decimal, embedded...
    size: str  # what narrows it: "120" (max_length), "10,2" (decimal), "[]" (many embedded)
    keys: tuple[str, ...]  # PK, FK, UK
    notes: tuple[str, ...]  # nullable, index, hidden, encrypted, default ..., enum values


@dataclass(frozen=True)
class Entity:
    name: str
    table: str
    engine: str
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Link:
    """``child`` rows point at ``parent`` rows by ``columns`` (of ``child``); for a
    many-to-many (``through`` set), both sides are many and no model holds the columns."""

    parent: str
    child: str
    columns: tuple[str, ...]
    parent_side: Cardinality
    child_side: Cardinality
    names: tuple[str, ...]  # the relations using it: the parent's first, then the child's
    through: str | None = None

    @property
    def label(self) -> str:
        if self.names:
            return " / ".join(self.names)
        return ", ".join(self.columns) if self.through is None else self.through


@dataclass(frozen=True)
class Graph:
    entities: tuple[Entity, ...]
    links: tuple[Link, ...]


@dataclass
class _Draft:
    parent: str
    child: str
    columns: tuple[str, ...]
    through: str | None = None
    nullable: bool = False
    one: bool = False  # the child side has one row at most (a unique key, has_one)
    parent_names: list[str] = field(default_factory=list)
    child_names: list[str] = field(default_factory=list)


def er_graph(schema: Schema) -> Graph:
    """The entities and links of ``schema``, in a stable order (models by name)."""
    links = _Links(schema)
    for model in schema.models:
        for spec in model.fields:
            if spec.references is not None:
                links.fk(model.name, (spec.name,), spec.references.model)
        for relation in model.relations:
            links.relation(model, relation.name)
    keyed = {column for link in links.drafts.values() for column in _held(link)}
    entities = tuple(
        Entity(
            m.name,
            m.table,
            m.engine,
            tuple(_column(f, (m.name, f.name) in keyed, _alone_unique(m, f)) for f in m.fields),
        )
        for m in schema.models
    )
    return Graph(entities, tuple(links.done()))


def _held(draft: _Draft) -> list[tuple[str, str]]:
    return [] if draft.through else [(draft.child, c) for c in draft.columns]


def _alone_unique(model: ModelSpec, spec: FieldSpec) -> bool:
    """Unique by itself: its own ``unique``, or a unique index of that one column."""
    return spec.unique or any(i.unique and i.columns == (spec.name,) for i in model.indexes)


class _Links:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.drafts: dict[tuple[str, str, tuple[str, ...], str | None], _Draft] = {}

    def fk(self, child: str, columns: tuple[str, ...], parent: str) -> _Draft:
        key = (parent, child, columns, None)
        if key not in self.drafts:
            found = self.schema.model(child)
            specs = [s for s in (found.field(c) for c in columns) if s] if found else []
            draft = _Draft(parent, child, columns)
            draft.nullable = any(s.nullable for s in specs)
            draft.one = found is not None and len(specs) == 1 and _alone_unique(found, specs[0])
            self.drafts[key] = draft
        return self.drafts[key]

    def relation(self, model: ModelSpec, name: str) -> None:
        relation = next(r for r in model.relations if r.name == name)
        other = relation.model
        if relation.kind == "belongs_to" and relation.foreign_key:
            self.fk(model.name, relation.columns("foreign_key"), other).child_names.append(name)
        elif relation.kind in ("has_one", "has_many") and relation.foreign_key:
            draft = self.fk(other, relation.columns("foreign_key"), model.name)
            draft.parent_names.append(name)
            draft.one |= relation.kind == "has_one"
        elif relation.kind == "belongs_to_many" and relation.through:
            pivot = next((m for m in self.schema.models if m.table == relation.through), None)
            if pivot is not None:  # a declared pivot: two foreign keys of its own
                if relation.foreign_key:  # named after the relation: its way to the pivot
                    self.fk(
                        pivot.name, relation.columns("foreign_key"), model.name
                    ).parent_names.append(name)
                if relation.other_key:
                    self.fk(pivot.name, relation.columns("other_key"), other)
                return
            parent, child = sorted((model.name, other))
            key = (parent, child, (), relation.through)
            draft = self.drafts.setdefault(key, _Draft(parent, child, (), relation.through))
            (draft.parent_names if model.name == parent else draft.child_names).append(name)

    def done(self) -> list[Link]:
        links = [
            Link(
                parent=d.parent,
                child=d.child,
                columns=d.columns,
                parent_side="zero_or_many"
                if d.through
                else ("zero_or_one" if d.nullable else "one"),
                child_side="zero_or_one" if d.one and not d.through else "zero_or_many",
                names=tuple(dict.fromkeys([*d.parent_names, *d.child_names])),
                through=d.through,
            )
            for d in self.drafts.values()
        ]
        return sorted(links, key=lambda k: (k.parent, k.child, k.columns, k.through or ""))


def _column(spec: FieldSpec, foreign: bool, unique: bool) -> Column:
    keys = tuple(
        key
        for key, present in (
            ("PK", spec.primary_key),
            ("FK", foreign),
            ("UK", unique and not spec.primary_key),
        )
        if present
    )
    size = ""
    if spec.type == "str" and spec.max_length is not None:
        size = str(spec.max_length)
    elif spec.type == "decimal" and spec.precision is not None:
        size = f"{spec.precision},{spec.scale if spec.scale is not None else 0}"
    elif spec.type == "embedded" and spec.many:
        size = "[]"
    notes = [
        note
        for note, present in (
            ("nullable", spec.nullable and not spec.managed),
            ("index", spec.index),
            ("hidden", spec.hidden),
            ("encrypted" + (", searchable" if spec.searchable else ""), spec.encrypted),
            ("auto_increment", spec.auto_increment),
            (
                f"set by {'soft_deletes' if spec.managed == 'deleted_at' else 'timestamps'}",
                spec.managed,
            ),
        )
        if present
    ]
    if spec.type == "enum":
        notes.append("|".join(spec.values))
    if spec.type == "embedded":
        notes.append("{" + ", ".join(f.name for f in spec.fields) + "}")
    if spec.has_default:
        notes.append(f"default {_literal(spec.default)}")
    return Column(spec.name, spec.type, size, keys, tuple(notes))


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
