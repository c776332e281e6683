"""An ER graph -> Mermaid ``erDiagram`` text (GitHub and most Markdown viewers draw it)."""

from __future__ import annotations

from .graph import Cardinality, Column, Graph, Link

# Crow's foot ends: the parent's end (written left of the line), the child's (right of it).
_LEFT: dict[Cardinality, str] = {"one": "||", "zero_or_one": "|o", "zero_or_many": "}o"}
_RIGHT: dict[Cardinality, str] = {"one": "||", "zero_or_one": "o|", "zero_or_many": "o{"}


def mermaid(graph: Graph, source: str) -> str:
    """``erDiagram`` text: each entity with its columns (type, name, PK/FK/UK, notes), then
    each link with its cardinalities (dotted: many-to-many through an undeclared pivot)."""
    lines = [
        "erDiagram",
        f"    %% Drawn by `jadugar diagram` from {source}: do not edit; change the schemas.",
    ]
    for entity in graph.entities:
        lines.append(f"    {entity.name} {{")
        lines += [f"        {_attribute(column)}" for column in entity.columns]
        lines.append("    }")
    lines += [f"    {_relationship(link)}" for link in graph.links]
    return "\n".join(lines) + "\n"


def _attribute(column: Column) -> str:
    kind = column.type + ("[]" if column.size == "[]" else "")
    parts = [kind, column.name]
    if column.keys:
        parts.append(", ".join(column.keys))
    size = column.size if column.size != "[]" else ""
    notes = [f"max {size}" if column.type == "str" else size] if size else []
    notes += column.notes
    if notes:
        parts.append('"' + "; ".join(notes).replace('"', "'") + '"')
    return " ".join(parts)


def _relationship(link: Link) -> str:
    line = ".." if link.through else "--"
    ends = f"{_LEFT[link.parent_side]}{line}{_RIGHT[link.child_side]}"
    label = link.label.replace('"', "'")
    return f'{link.parent} {ends} {link.child} : "{label}"'
