"""`jadugar diagram`: the ER diagram of the schema files as Mermaid text and as an SVG.

The committed docs/diagrams/blog.{mmd,svg} are what the example schemas draw now; the
Mermaid text has every entity and relation; the SVG is well-formed, with one box per model
and one connector per relation."""

from __future__ import annotations

import shutil
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jadugar.cli import app
from jadugar_generator.diagram import diagram_text, er_graph, render
from jadugar_generator.schema.loader import load_files, load_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
DIAGRAMS = ROOT / "docs" / "diagrams"
SVG = "{http://www.w3.org/2000/svg}"
runner = CliRunner()

BLOG_RELATIONSHIPS = [
    'Post ||--o{ Comment : "comments / post"',
    'Post }o..o{ Tag : "tags / posts"',
    'User |o--o{ Comment : "comments / author"',
    'User ||--o{ Post : "posts / author"',
    'User ||--o| Profile : "profile / user"',
]


def _invoke(folder: Path, *args: str) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _relationships(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if " : " in line]


def _groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == kind]


# 1. The committed diagrams


@pytest.mark.parametrize(("name", "form"), [("blog.mmd", "mermaid"), ("blog.svg", "svg")])
def test_committed_diagram_is_current(name: str, form: str) -> None:
    path = DIAGRAMS / name
    expected = diagram_text(SCHEMAS, "svg" if form == "svg" else "mermaid")
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.relative_to(ROOT)} is stale: run `jadugar diagram --output docs/diagrams/{name}`"
    )


# 2. Mermaid


def test_mermaid_has_every_entity_column_and_relation_of_the_blog() -> None:
    schema = load_schema(SCHEMAS)
    text = diagram_text(SCHEMAS, "mermaid")
    assert text.startswith("erDiagram\n")
    for model in schema.models:
        block = text.split(f"    {model.name} {{\n", 1)[1].split("    }\n", 1)[0]
        names = [line.split()[1] for line in block.splitlines()]
        assert names == [f.name for f in model.fields], model.name
        for relation in model.relations:
            assert any(
                relation.name in line.split(" : ")[1]
                and {model.name, relation.model} <= set(line.split())
                for line in _relationships(text)
            ), f"{model.name}.{relation.name}"
    assert _relationships(text) == BLOG_RELATIONSHIPS
    assert "        int id PK" in text and "        int user_id FK, UK" in text
    assert '        str email UK "max 255"' in text
    assert '        enum status "draft|published|archived; default draft"' in text
    assert '        embedded[] entries "{text, at, score}"' in text


# 3. SVG


def test_svg_is_well_formed_with_a_box_per_model_and_a_connector_per_relation() -> None:
    schema = load_schema(SCHEMAS)
    root = ET.fromstring(diagram_text(SCHEMAS, "svg"))
    assert root.tag == f"{SVG}svg"
    boxes = _groups(root, "entity")
    assert [b.get("data-model") for b in boxes] == [m.name for m in schema.models]
    for box, model in zip(boxes, schema.models, strict=True):
        texts = [t.text for t in box.iter(f"{SVG}text")]
        assert texts[0] == model.name and model.table in (texts[1] or "")
        assert all(f.name in texts for f in model.fields)
    connectors = _groups(root, "relation")
    assert len(connectors) == len(BLOG_RELATIONSHIPS) == len(er_graph(schema).links)
    assert sorted((c.get("data-parent"), c.get("data-child")) for c in connectors) == sorted(
        (line.split()[0], line.split()[2]) for line in BLOG_RELATIONSHIPS
    )
    for connector in connectors:
        lines = list(connector.iter(f"{SVG}line"))
        assert lines and lines[0].get("stroke-width") == "1.4"
    dashed = [c for c in connectors if "stroke-dasharray" in next(c.iter(f"{SVG}line")).attrib]
    assert [(c.get("data-parent"), c.get("data-child")) for c in dashed] == [("Post", "Tag")]
    width, height = float(root.get("width", 0)), float(root.get("height", 0))
    for rect in root.iter(f"{SVG}rect"):
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        assert 0 <= x <= width and 0 <= y <= height


def test_connectors_end_on_the_borders_of_their_boxes() -> None:
    root = ET.fromstring(diagram_text(SCHEMAS, "svg"))
    frames = {
        b.get("data-model"): next(b.iter(f"{SVG}rect")).attrib for b in _groups(root, "entity")
    }

    def on_border(x: float, y: float, frame: dict[str, str]) -> bool:
        left, top = float(frame["x"]), float(frame["y"])
        right, bottom = left + float(frame["width"]), top + float(frame["height"])
        inside = left - 0.2 <= x <= right + 0.2 and top - 0.2 <= y <= bottom + 0.2
        edge = min(abs(x - left), abs(x - right), abs(y - top), abs(y - bottom))
        return inside and edge <= 0.2

    for connector in _groups(root, "relation"):
        line = next(connector.iter(f"{SVG}line")).attrib
        parent, child = frames[connector.get("data-parent")], frames[connector.get("data-child")]
        assert on_border(float(line["x1"]), float(line["y1"]), parent)
        assert on_border(float(line["x2"]), float(line["y2"]), child)


# 4. Other shapes: a model pointing at itself, two keys to one model, a declared pivot


OFFICE = """
models:
  Person:
    fields:
      id: {type: int, primary_key: true}
      boss_id: {type: int, nullable: true, references: {model: Person}}
    relations:
      boss: {kind: belongs_to, model: Person, foreign_key: boss_id}
      reports: {kind: has_many, model: Person, foreign_key: boss_id}
      teams: {kind: belongs_to_many, model: Team, through: memberships,
              foreign_key: person_id, other_key: team_id}
  Team:
    fields:
      id: {type: int, primary_key: true}
      lead_id: {type: int, references: {model: Person}}
      deputy_id: {type: int, nullable: true, references: {model: Person}}
  Membership:
    fields:
      id: {type: int, primary_key: true}
      person_id: {type: int}
      team_id: {type: int}
"""


def test_self_references_parallel_keys_and_declared_pivots(tmp_path: Path) -> None:
    path = tmp_path / "office.yaml"
    path.write_text(textwrap.dedent(OFFICE))
    schema = load_files([path])
    text = render(schema, "mermaid", "office/")
    assert _relationships(text) == [
        'Person ||--o{ Membership : "teams"',
        'Person |o--o{ Person : "reports / boss"',
        'Person |o--o{ Team : "deputy_id"',
        'Person ||--o{ Team : "lead_id"',
        'Team ||--o{ Membership : "team_id"',
    ]
    root = ET.fromstring(render(schema, "svg", "office/"))
    connectors = _groups(root, "relation")
    assert len(connectors) == 5 and len(_groups(root, "entity")) == 3
    loop = next(c for c in connectors if c.get("data-child") == c.get("data-parent"))
    assert list(loop.iter(f"{SVG}path"))
    team_lines = [
        next(c.iter(f"{SVG}line")).attrib for c in connectors if c.get("data-child") == "Team"
    ]
    assert len(team_lines) == 2 and team_lines[0] != team_lines[1]  # side by side
    assert render(schema, "svg", "office/") == render(schema, "svg", "office/")


def test_a_large_schema_draws_quickly_and_well_formed(tmp_path: Path) -> None:
    from bench.generation import write_schema

    stats = write_schema(tmp_path / "schemas")
    schema = load_schema(tmp_path / "schemas")
    root = ET.fromstring(render(schema, "svg", "bench/"))
    assert len(_groups(root, "entity")) == stats.models
    assert len(_groups(root, "relation")) == len(er_graph(schema).links)


# 5. The command


def test_cli_prints_writes_and_checks(tmp_path: Path) -> None:
    shutil.copytree(SCHEMAS, tmp_path / "schemas")
    (tmp_path / "pyproject.toml").write_text('[tool.jadugar]\nschemas = "schemas"\n')

    code, out = _invoke(tmp_path, "diagram")
    assert code == 0 and out == diagram_text(SCHEMAS, "mermaid")
    code, out = _invoke(tmp_path, "diagram", "--format", "svg")
    assert code == 0 and out.startswith("<?xml")

    code, out = _invoke(tmp_path, "diagram", "--output", "docs/er.svg", "--check")
    assert code == 1 and "stale" in out
    code, out = _invoke(tmp_path, "diagram", "--output", "docs/er.svg")
    assert code == 0 and "wrote" in out
    assert (tmp_path / "docs" / "er.svg").read_text() == diagram_text(SCHEMAS, "svg")
    assert _invoke(tmp_path, "diagram", "--output", "docs/er.svg", "--check")[0] == 0
    code, _ = _invoke(tmp_path, "diagram", "--output", "er.txt", "--format", "mermaid")
    assert code == 0 and (tmp_path / "er.txt").read_text().startswith("erDiagram")

    schema = tmp_path / "schemas" / "blog.yaml"
    schema.write_text(schema.read_text().replace("max_length: 120", "max_length: 150"))
    code, out = _invoke(tmp_path, "diagram", "--output", "docs/er.svg", "--check")
    assert code == 1 and "jadugar diagram --format svg --output docs/er.svg" in out

    assert _invoke(tmp_path, "diagram", "--format", "png")[0] == 2
    assert _invoke(tmp_path, "diagram", "--check")[0] == 2
    schema.write_text(schema.read_text().replace("type: text}", "type: txet}", 1))
    code, out = _invoke(tmp_path, "diagram")
    assert code == 2 and "txet" in out
