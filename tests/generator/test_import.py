"""`jadugar import-schema`: JSON Schema and OpenAPI documents become schema files that load
back into the same IR, generate a package that imports, and bad input is a SchemaError."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jadugar.cli import app
from jadugar.errors import SchemaError
from jadugar_generator.generate import generate
from jadugar_generator.importer import import_schema
from jadugar_generator.schema.dump import dump
from jadugar_generator.schema.loader import load_files, load_schema
from jadugar_generator.schema.model import without_locations

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

LIBRARY = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Library",
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 80},
        "books": {"type": "array", "items": {"$ref": "#/$defs/Book"}},
    },
    "$defs": {
        "Book": {
            "type": "object",
            "description": "A book on a shelf.",
            "required": ["isbn", "title", "genre"],
            "properties": {
                "isbn": {"type": "string", "maxLength": 13},
                "title": {"type": "string", "maxLength": 200},
                "genre": {"$ref": "#/$defs/Genre"},
                "pages": {"type": "integer", "default": 100},
                "copiesSold": {"type": "integer", "format": "int64"},
                "published": {"type": "string", "format": "date"},
                "keywords": {"type": "array", "items": {"type": "string"}},
                "author": {"$ref": "#/$defs/Author"},
                "class": {"type": "string"},
            },
        },
        "Author": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "name": {"type": "string"},
                "born": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "Genre": {"type": "string", "enum": ["fiction", "science", "history"]},
    },
}

LIBRARY_YAML = """\
# yaml-language-server: $schema=jadugar.schema.json
# Imported by `jadugar import-schema` from library.json (JSON Schema "Library").
models:
  Author:
    fields:
      id: {type: uuid, primary_key: true}
      name: {type: str}
      born: {type: datetime, nullable: true}

  Book:
    description: A book on a shelf.
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      author_id: {type: uuid, nullable: true, references: {model: Author, on_delete: set_null}}
      library_id: {type: int, references: {model: Library, on_delete: cascade}}
      isbn: {type: str, max_length: 13}
      title: {type: str, max_length: 200}
      genre: {type: enum, values: [fiction, science, history]}
      pages: {type: int, nullable: true, default: 100}
      copies_sold: {type: bigint, nullable: true}
      published: {type: date, nullable: true}
      keywords: {type: json, nullable: true}
      class_: {type: str, nullable: true}
    relations:
      author: {kind: belongs_to, model: Author, foreign_key: author_id}
      library: {kind: belongs_to, model: Library, foreign_key: library_id}

  Library:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      name: {type: str, max_length: 80}
    relations:
      books: {kind: has_many, model: Book, foreign_key: library_id}
"""

SHOP = """\
openapi: 3.0.3
info: {title: Shop API, version: "1.0"}
paths: {}
components:
  schemas:
    Status:
      type: string
      enum: [pending, paid, shipped]
    Customer:
      type: object
      required: [id, email]
      properties:
        id: {type: integer, format: int64}
        email: {type: string, format: email, maxLength: 255}
        fullName: {type: string, maxLength: 120}
        password: {type: string, format: password}
        address: {$ref: '#/components/schemas/Address'}
        orders:
          type: array
          items: {$ref: '#/components/schemas/Order'}
        preferences:
          type: object
          additionalProperties: {type: string}
    Address:
      type: object
      required: [street, city]
      properties:
        street: {type: string}
        city: {type: string, maxLength: 80}
        zip: {type: string, nullable: true}
    Order:
      type: object
      description: An order placed by a customer.
      required: [status, total]
      properties:
        id: {type: integer, format: int64}
        status: {$ref: '#/components/schemas/Status'}
        total: {type: number, format: decimal}
        placedAt: {type: string, format: date-time}
        deliveryWindow: {type: string, format: time}
        reference: {type: string, format: uuid}
        lines:
          type: array
          items:
            type: object
            required: [sku, quantity]
            properties:
              sku: {type: string, maxLength: 32}
              quantity: {type: integer, default: 1}
              gift: {type: boolean, default: false}
"""

SHOP_YAML = """\
# yaml-language-server: $schema=jadugar.schema.json
# Imported by `jadugar import-schema` from shop.yaml (OpenAPI "Shop API").
models:
  Address:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      street: {type: str}
      city: {type: str, max_length: 80}
      zip: {type: str, nullable: true}

  Customer:
    fields:
      id: {type: bigint, primary_key: true, auto_increment: true}
      address_id: {type: int, nullable: true, references: {model: Address, on_delete: set_null}}
      email: {type: str, max_length: 255}
      full_name: {type: str, max_length: 120, nullable: true}
      password: {type: str, nullable: true, hidden: true}
      preferences: {type: json, nullable: true}
    relations:
      address: {kind: belongs_to, model: Address, foreign_key: address_id}
      orders: {kind: has_many, model: Order, foreign_key: customer_id}

  Line:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      order_id: {type: bigint, references: {model: Order, on_delete: cascade}}
      sku: {type: str, max_length: 32}
      quantity: {type: int, default: 1}
      gift: {type: bool, nullable: true, default: false}
    relations:
      order: {kind: belongs_to, model: Order, foreign_key: order_id}

  Order:
    description: An order placed by a customer.
    fields:
      id: {type: bigint, primary_key: true, auto_increment: true}
      customer_id: {type: bigint, references: {model: Customer, on_delete: cascade}}
      status: {type: enum, values: [pending, paid, shipped]}
      total: {type: decimal}
      placed_at: {type: datetime, nullable: true}
      delivery_window: {type: time, nullable: true}
      reference: {type: uuid, nullable: true}
    relations:
      lines: {kind: has_many, model: Line, foreign_key: order_id}
      customer: {kind: belongs_to, model: Customer, foreign_key: customer_id}
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = tmp_path / "library.json"
    path.write_text(json.dumps(LIBRARY, indent=2))
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    return path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_json_schema_gives_the_expected_yaml(library: Path) -> None:
    result = import_schema(library)
    assert result.kind == "JSON Schema"
    assert result.text == LIBRARY_YAML
    assert sorted(result.warnings) == [
        "Book.keywords is json: an array of scalars",
        "Book: property 'class' imported as 'class_' (a reserved name)",
        "Book: property 'copiesSold' imported as 'copies_sold' (not a snake_case identifier)",
    ]


def test_openapi_gives_the_expected_yaml(shop: Path) -> None:
    result = import_schema(shop)
    assert result.kind == "OpenAPI"
    assert result.text == SHOP_YAML
    assert "Customer.preferences is json: a map (additionalProperties)" in result.warnings


@pytest.mark.parametrize("name", ["library", "shop"])
def test_the_yaml_loads_back_into_the_same_ir(name: str, request: pytest.FixtureRequest) -> None:
    source: Path = request.getfixturevalue(name)
    result = import_schema(source)
    written = source.with_name(f"{name}_schema.yaml")
    written.write_text(result.text)
    assert without_locations(load_files([written])) == without_locations(result.schema)


def test_imported_schemas_generate_a_package_that_imports(
    library: Path, shop: Path, tmp_path: Path
) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "library.yaml").write_text(import_schema(library).text)
    (schemas / "shop.yaml").write_text(import_schema(shop).text)
    result = generate(schemas, tmp_path / "out", "store", root=tmp_path)
    assert result.written
    code = (
        "import store; print(' '.join(n for n in ('Book', 'Customer', 'Line') if n in dir(store)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path / "out",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Book", "Customer", "Line"]


def test_nested_shapes_renames_and_fallbacks(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tree.yaml",
        """
        $defs:
          Node:
            type: object
            properties:
              _id: {type: string, maxLength: 24}
              query: {type: string, maxLength: 5, default: toolong}
              children: {type: array, items: {$ref: '#/$defs/Node'}}
              value: {oneOf: [{type: string}, {type: integer}]}
              level: {type: integer, enum: [1, 2]}
              size: {type: integer, format: int64, default: 0}
        """,
    )
    result = import_schema(path)
    node = result.schema.model("Node")
    assert node is not None
    key = node.field("id")
    assert key is not None and key.primary_key and key.type == "str" and key.max_length == 24
    assert not key.auto_increment
    parent = node.field("node_id")
    assert parent is not None and parent.nullable and parent.references is not None
    assert parent.references.model == "Node" and parent.type == "str"
    kinds = {r.name: (r.kind, r.foreign_key) for r in node.relations}
    assert kinds == {"children": ("has_many", "node_id"), "node": ("belongs_to", "node_id")}
    types = {f.name: f.type for f in node.fields}
    assert types["query_"] == "str" and types["value"] == "json" and types["level"] == "int"
    size = node.field("size")
    assert size is not None and size.type == "bigint" and size.default == 0
    query = node.field("query_")
    assert query is not None and not query.has_default
    assert "Node: property '_id' imported as 'id' (not a snake_case identifier)" in result.warnings
    assert "Node: property 'query' imported as 'query_' (a reserved name)" in result.warnings
    assert "Node.value is json: a union of several types" in result.warnings
    assert any("toolong" in w and "left out" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("broken.json", '{"type": "object", "properties": ', "invalid JSON"),
        ("broken.yaml", "type: object\nproperties: [\n", "invalid YAML"),
        ("list.json", "[1, 2]", "the top level must be a mapping"),
        ("scalar.json", '{"type": "string", "maxLength": 3}', "no object schemas found"),
        ("old.yaml", "swagger: '2.0'\ninfo: {title: x}\n", "Swagger 2.0 is not supported"),
        ("empty.yaml", "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n", "no object"),
        ("notes.txt", "hello", "cannot import a '.txt' file"),
    ],
)
def test_bad_input_is_a_schema_error_naming_the_file(
    tmp_path: Path, name: str, text: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SchemaError) as caught:
        import_schema(path)
    assert caught.value.file == str(path)
    assert str(path) in str(caught.value) and reason in str(caught.value)


def test_dump_round_trips_the_example_schemas(tmp_path: Path) -> None:
    schema = load_schema(ROOT / "schemas")
    text = dump(schema, header="Example\nschemas")
    assert text.startswith("# Example\n# schemas\nmodels:\n  Activity:\n")
    written = write(tmp_path, "all.yaml", text)
    assert without_locations(load_files([written])) == without_locations(schema)


def _invoke(folder: Path, *args: str) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_cli_writes_into_the_schemas_folder_and_refuses_to_overwrite(
    tmp_path: Path, shop: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.jadugar]\nschemas = "defs"\n')
    code, out = _invoke(tmp_path, "import-schema", "shop.yaml")
    assert code == 0, out
    written = tmp_path / "defs" / "shop.yaml"
    assert written.read_text() == SHOP_YAML
    assert "wrote defs/shop.yaml: 4 model(s) from OpenAPI" in out
    assert "warning: Customer.preferences is json" in out
    code, out = _invoke(tmp_path, "import-schema", "shop.yaml")
    assert code == 2 and "exists; pass --force" in out
    written.write_text("changed")
    code, out = _invoke(tmp_path, "import-schema", "shop.yaml", "--force", "--quiet")
    assert (code, out) == (0, "")
    assert written.read_text() == SHOP_YAML


def test_cli_output_option_and_bad_input(tmp_path: Path, library: Path) -> None:
    code, out = _invoke(tmp_path, "import-schema", "library.json", "--output", "x/lib.yaml")
    assert code == 0, out
    assert (tmp_path / "x" / "lib.yaml").read_text() == LIBRARY_YAML
    (tmp_path / "bad.json").write_text("{nope")
    code, out = _invoke(tmp_path, "import-schema", "bad.json", "--output", "y.yaml")
    assert code == 2
    assert "error:" in out and "bad.json" in out and "invalid JSON" in out
    assert not (tmp_path / "y.yaml").exists()
