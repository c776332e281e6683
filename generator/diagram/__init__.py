"""``jadugar diagram``: the ER diagram of the schema files, as Mermaid text or an SVG.

``diagram_text(Path("schemas"), "mermaid")`` is the text; ``write_diagram`` writes it (or,
with ``check``, says whether the file holds it already). Both forms come from one graph
(``graph.er_graph``): the schema IR's models, and one link per foreign key or undeclared
many-to-many pivot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jadugar.errors import ConfigurationError

from ..schema.loader import load_schema
from ..schema.model import Schema
from .graph import Graph, er_graph
from .mermaid import mermaid
from .svg import svg

Format = Literal["mermaid", "svg"]
FORMATS: tuple[Format, ...] = ("mermaid", "svg")
SUFFIXES: dict[str, Format] = {".mmd": "mermaid", ".mermaid": "mermaid", ".svg": "svg"}

__all__ = ["FORMATS", "Format", "Graph", "diagram_text", "er_graph", "render", "write_diagram"]


def render(schema: Schema, form: Format, source: str) -> str:
    """The diagram of ``schema`` in ``form``; ``source`` names the schemas in its header."""
    graph = er_graph(schema)
    return svg(graph, source) if form == "svg" else mermaid(graph, source)


def diagram_text(schemas: Path, form: Format) -> str:
    """The diagram of every schema file in the folder ``schemas``."""
    return render(load_schema(schemas), form, f"{schemas.name or schemas.resolve().name}/")


def format_for(output: Path | None, form: str | None) -> Format:
    """The format asked for, else the one of the output's suffix (.svg), else mermaid."""
    if form is not None:
        if form not in FORMATS:
            raise ConfigurationError(
                f"unknown diagram format {form!r}; use {' or '.join(FORMATS)}", field="format"
            )
        return "svg" if form == "svg" else "mermaid"
    return SUFFIXES.get(output.suffix.lower(), "mermaid") if output else "mermaid"


@dataclass(frozen=True)
class DiagramResult:
    path: Path
    up_to_date: bool
    written: bool


def write_diagram(
    schemas: Path, form: Format, output: Path, *, check: bool = False
) -> DiagramResult:
    """Writes the diagram to ``output`` unless it holds it already; with ``check``, writes
    nothing and says whether it does."""
    text = diagram_text(schemas, form)
    try:
        current = output.is_file() and output.read_text(encoding="utf-8") == text
        if check or current:
            return DiagramResult(output, current, False)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot write {output}: {exc}", field="output") from None
    return DiagramResult(output, True, True)
