"""``engine: mongodb`` schema types: objectid keys and embedded documents (nested
``fields:`` in YAML, ``Embedded`` classes in Python). Both forms load into the same IR and
generate the same code; bad nesting is a SchemaError at its file and line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from jadugar.errors import SchemaError
from jadugar_generator.schema.loader import load_schema
from jadugar_generator.schema.model import without_locations
from jadugar_generator.views import package_view
from jadugar_generator.writer import render_package

ROOT = Path(__file__).parents[2]

FEED_PY = '''\
from __future__ import annotations

from datetime import datetime
from typing import Literal

from jadugar_generator.dsl import Embedded, Index, ModelOptions, Schema, column


class ActivityActor(Embedded):
    name: str = column(max_length=120)
    avatar_url: str | None = None


class ActivityEntry(Embedded):
    text: str = column(type="text")
    at: datetime
    score: int = 0


class Activity(Schema):
    """Something that happened, with who saw it, as one document."""

    model_options = ModelOptions(
        engine="mongodb",
        table="activities",
        timestamps=True,
        indexes=[Index("created_at", expire_after_seconds=2592000)],
    )

    id: str = column(type="objectid", primary_key=True)
    kind: Literal["posted", "commented", "liked"]
    user_id: int = column(index=True)
    actor: ActivityActor
    entries: list[ActivityEntry]
'''


def test_yaml_and_python_embedded_documents_generate_the_same_code(tmp_path: Path) -> None:
    yaml_folder, py_folder = tmp_path / "yaml", tmp_path / "py"
    yaml_folder.mkdir()
    py_folder.mkdir()
    shutil.copy(ROOT / "schemas" / "feed.yaml", yaml_folder / "feed.yaml")
    (py_folder / "feed.py").write_text(FEED_PY)
    from_yaml, from_python = load_schema(yaml_folder), load_schema(py_folder)
    assert without_locations(from_yaml) == without_locations(from_python)
    entries = from_yaml.models[0].field("entries")
    assert (
        entries is not None
        and entries.many
        and [f.name for f in entries.fields]
        == [
            "text",
            "at",
            "score",
        ]
    )

    def code(schema_folder: Path) -> str:
        view = package_view(load_schema(schema_folder), "feed", schema_folder)
        return render_package(view)["activity.py"].split("\n", 1)[1]  # past the source line

    assert code(yaml_folder) == code(py_folder)
    assert "class ActivityEntries(EmbeddedModel):" in code(yaml_folder)


BASE = """\
models:
  Feed:
    engine: mongodb
    fields:
      id: {type: objectid, primary_key: true}
"""

BAD = [
    pytest.param(
        BASE.replace("    engine: mongodb\n", "")
        + "      tags: {type: embedded, fields: {name: {type: str}}}  # <-\n",
        "field Feed.tags is embedded, which only MongoDB has; add engine: mongodb to model Feed",
        id="embedded-on-sql",
    ),
    pytest.param(
        BASE.replace("    engine: mongodb\n", "").replace("objectid", "int")
        + "      ref: {type: objectid}  # <-\n",
        "field Feed.ref is objectid, which only MongoDB has",
        id="objectid-on-sql",
    ),
    pytest.param(
        BASE + "      tags:\n        type: embedded\n        fields:\n"
        "          name: {type: str, unique: true}  # <-\n",
        "option 'unique' does not apply to Feed.tags.name, a field of an embedded document",
        id="unique-inside",
    ),
    pytest.param(
        BASE + "      tags:\n        type: embedded\n        fields:\n"
        "          name: {max_length: 3}  # <-\n",
        "field Feed.tags.name has no type",
        id="no-type-inside",
    ),
    pytest.param(
        BASE + "      tags:\n        type: embedded\n        fields:\n"
        "          deep:\n            type: embedded\n            fields:\n"
        "              n: {type: int, values: [a]}  # <-\n",
        "option 'values' of field Feed.tags.deep.n needs type enum, not int",
        id="bad-option-two-levels-down",
    ),
    pytest.param(
        BASE + "      tags: {type: embedded}  # <-\n",
        "embedded field Feed.tags needs fields: its document's fields",
        id="embedded-without-fields",
    ),
    pytest.param(
        BASE + "      tags: {type: str, many: true}  # <-\n",
        "option 'many' of field Feed.tags needs type embedded, not str",
        id="many-on-str",
    ),
]


@pytest.mark.parametrize(("text", "sentence"), BAD)
def test_bad_embedded_schema_names_file_and_line(tmp_path: Path, text: str, sentence: str) -> None:
    path = tmp_path / "feed.yaml"
    path.write_text(text)
    with pytest.raises(SchemaError) as caught:
        load_schema(tmp_path)
    error = caught.value
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.endswith("# <-"))
    assert f"{path}:{line}: " in str(error), str(error)
    assert sentence in str(error)


def test_bad_embedded_class_field_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "feed.py"
    path.write_text(FEED_PY.replace("    score: int = 0\n", "    score: complex = 0  # <-\n"))
    with pytest.raises(SchemaError) as caught:
        load_schema(tmp_path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if t.endswith("# <-"))
    assert f"{path}:{line}: field Activity.entries.score: annotation complex" in str(caught.value)


def test_embedded_documents_in_the_generated_blog_package() -> None:
    source = textwrap.dedent((ROOT / "generated" / "blog" / "activity.py").read_text())
    assert "class ActivityActor(EmbeddedModel):" in source
    assert "entries: list[ActivityEntries] = Field(default_factory=list)" in source
    assert "    id: str = auto()" in source


def test_documents_nested_two_levels_generate_a_model_per_level(tmp_path: Path) -> None:
    (tmp_path / "feed.yaml").write_text(
        BASE + "      order:\n        type: embedded\n        nullable: true\n        fields:\n"
        "          lines:\n            type: embedded\n            many: true\n"
        "            fields:\n              sku: {type: str, max_length: 20}\n"
        "              state: {type: enum, values: [open, shipped]}\n"
    )
    source = render_package(package_view(load_schema(tmp_path), "feed", tmp_path))["feed.py"]
    inner, outer = source.index("class FeedOrderLines("), source.index("class FeedOrder(")
    assert inner < outer  # defined before the model that holds it
    assert 'FeedOrderLinesState = Literal["open", "shipped"]' in source
    assert "    lines: list[FeedOrderLines] = Field(default_factory=list)" in source
    assert "    order: FeedOrder | None = None" in source
