"""`jadugar schema-json`: the JSON Schema of YAML schema files (editor support).

The committed file is what the command writes now; every YAML schema in the repository (and
what `import-schema`, the dumper and the benchmark write) validates against it; bad files are
rejected; and the JSON Schema agrees with the validator, option by option and value by value.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]
from typer.testing import CliRunner

from jadugar.cli import app
from jadugar.errors import SchemaError
from jadugar_generator.importer import import_schema
from jadugar_generator.schema import option_shapes as rules
from jadugar_generator.schema.dump import dump
from jadugar_generator.schema.loader import load_files, load_schema
from jadugar_generator.schema.model import FIELD_TYPES
from jadugar_generator.schema_json import (
    FILE_NAME,
    MODELINE,
    SCOPES,
    json_schema,
    schema_json_text,
    untyped_options,
)
from tests.generator.test_loader import BAD_YAML

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "schemas" / FILE_NAME
runner = CliRunner()


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def errors(validator: Any, document: object) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def _invoke(folder: Path, *args: str) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        result = runner.invoke(app, list(args))
    return result.exit_code, result.output


# 1. The published file


def test_committed_json_schema_is_current() -> None:
    assert PUBLISHED.read_text(encoding="utf-8") == schema_json_text(), (
        f"{PUBLISHED.relative_to(ROOT)} is stale: run `jadugar schema-json`"
    )
    assert json.loads(PUBLISHED.read_text(encoding="utf-8")) == json_schema()


def test_every_option_of_the_format_has_a_checked_value() -> None:
    assert untyped_options() == [], (
        "options the validator accepts whose values generator/schema_json.py does not "
        "describe yet: add them to _OWN (and DESCRIPTIONS), then run `jadugar schema-json`"
    )


def test_every_option_of_the_validator_is_in_the_json_schema() -> None:
    definitions: dict[str, Any] = json_schema()["definitions"]  # type: ignore[assignment]
    for scope, keys in SCOPES.items():
        assert list(definitions[scope]["properties"]) == list(keys)
        assert definitions[scope]["additionalProperties"] is False
    embedded = [k for k in rules.FIELD_KEYS if k not in rules.NOT_EMBEDDABLE]
    assert list(definitions["embedded_field"]["properties"]) == embedded
    assert definitions["field"]["properties"]["type"]["enum"] == list(FIELD_TYPES)


def test_cli_writes_checks_and_prints(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    (tmp_path / "schemas" / FILE_NAME).unlink()
    (tmp_path / "pyproject.toml").write_text('[tool.jadugar]\nschemas = "schemas"\n')
    target = tmp_path / "schemas" / FILE_NAME

    code, out = _invoke(tmp_path, "schema-json", "--check")
    assert code == 1 and "stale" in out and not target.exists()
    code, out = _invoke(tmp_path, "schema-json")
    assert code == 0 and "wrote" in out
    assert target.read_text() == schema_json_text()
    assert _invoke(tmp_path, "schema-json", "--check") == (
        0,
        f"{Path('schemas', FILE_NAME)} is up to date\n",
    )

    target.write_text(target.read_text().replace('"boolean"', '"string"', 1))
    code, out = _invoke(tmp_path, "schema-json", "--check")
    assert code == 1 and "run `jadugar schema-json`" in out
    assert _invoke(tmp_path, "schema-json", "--quiet")[0] == 0
    assert target.read_text() == schema_json_text()

    code, out = _invoke(tmp_path, "schema-json", "--output", "-")
    assert code == 0 and json.loads(out) == json_schema()
    code, _ = _invoke(tmp_path, "schema-json", "--output", "editor/jadugar.json")
    assert code == 0 and (tmp_path / "editor" / "jadugar.json").read_text() == schema_json_text()


# 2. Every YAML schema of the repository validates, and names the published file


def _repository_schemas() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*.y*ml")):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or path.suffix not in (".yaml", ".yml"):
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "models" in document:
            found.append(path)
    return found


REPOSITORY_SCHEMAS = _repository_schemas()


def test_the_repository_has_the_known_schema_files() -> None:
    names = {str(p.relative_to(ROOT)) for p in REPOSITORY_SCHEMAS}
    assert {
        "schemas/blog.yaml",
        "schemas/feed.yaml",
        "tests/encryption_models/schemas/vault.yaml",
        "bench/peers/schema/peers.yaml",
    } <= names


@pytest.mark.parametrize("path", REPOSITORY_SCHEMAS, ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_schema_validates_and_names_the_json_schema(validator: Any, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert errors(validator, yaml.safe_load(text)) == []
    first = text.splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, f"{path} should start with {MODELINE!r} (or a relative path to it)"
    assert (path.parent / match.group(1)).resolve() == PUBLISHED


def test_what_the_dumper_and_the_importer_write_validates(validator: Any, tmp_path: Path) -> None:
    schema = load_schema(ROOT / "schemas")
    assert errors(validator, yaml.safe_load(dump(schema))) == []
    document = {
        "title": "Shop",
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 80},
            "price": {"type": "number"},
            "state": {"type": "string", "enum": ["open", "closed"]},
            "owner": {"type": "object", "properties": {"email": {"type": "string"}}},
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
        },
        "$defs": {"Item": {"type": "object", "properties": {"sku": {"type": "string"}}}},
    }
    source = tmp_path / "shop.json"
    source.write_text(json.dumps(document))
    text = import_schema(source).text
    assert text.startswith(MODELINE + "\n")
    assert errors(validator, yaml.safe_load(text)) == []


def test_the_benchmark_schema_of_200_models_validates(validator: Any, tmp_path: Path) -> None:
    from bench.generation import write_schema

    write_schema(tmp_path)
    files = sorted(tmp_path.glob("*.yaml"))
    assert files
    for path in files:
        assert errors(validator, yaml.safe_load(path.read_text())) == [], path


# 3. Bad files are rejected


BASE = """
models:
  User:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
"""

BAD = [
    pytest.param(
        BASE + "      email: {type: str, maxlength: 9}\n", "maxlength", id="unknown-field-option"
    ),
    pytest.param(BASE + "      email: {type: strng}\n", "strng", id="unknown-type"),
    pytest.param(BASE + "      age: {type: 3}\n", "3 is not one of", id="type-not-a-name"),
    pytest.param(BASE + "    tabel: people\n", "tabel", id="unknown-model-option"),
    pytest.param(BASE + "model: {}\n", "model", id="unknown-top-level-key"),
    pytest.param(
        BASE + "      active: {type: bool, unique: 'yes'}\n",
        "'yes' is not of type 'boolean'",
        id="bool-as-string",
    ),
    pytest.param(
        BASE + "      name: {type: str, max_length: 0}\n", "minimum", id="max-length-zero"
    ),
    pytest.param(BASE + "      age: {type: int, max_length: 3}\n", "str", id="max-length-on-int"),
    pytest.param(BASE + "      state: {type: enum}\n", "values", id="enum-without-values"),
    pytest.param(
        BASE + "      age: {type: int, default: ten}\n", "ten", id="default-of-wrong-type"
    ),
    pytest.param(
        BASE + "      name: {type: str, default: null}\n",
        "nullable",
        id="null-default-not-nullable",
    ),
    pytest.param(BASE + "      at: {type: objectid}\n", "objectid", id="objectid-on-sql-model"),
    pytest.param(
        BASE + "      boss_id: {type: int, references: {model: User, on_delete: drop}}\n",
        "drop",
        id="unknown-action",
    ),
    pytest.param(
        BASE + "      boss_id: {type: int, references: {modle: User}}\n",
        "modle",
        id="unknown-reference-option",
    ),
    pytest.param(
        BASE + "    relations:\n      posts: {kind: has_few, model: Post}\n",
        "has_few",
        id="unknown-relation-kind",
    ),
    pytest.param(
        BASE + "    relations:\n      posts: {kind: has_many}\n",
        "model",
        id="relation-without-model",
    ),
    pytest.param(
        BASE + "    relations:\n      kids: {kind: has_many, model: User, through: x}\n",
        "does not allow 'x'",
        id="option-of-another-kind",
    ),
    pytest.param(
        BASE + "    indexes:\n      - {unique: true}\n", "columns", id="index-without-columns"
    ),
    pytest.param(BASE + "      firstName: {type: str}\n", "firstName", id="bad-field-name"),
    pytest.param(BASE.replace("  User:", "  user_account:"), "user_account", id="bad-model-name"),
    pytest.param(
        BASE + "      secret: {type: str, encrypted: true, index: true}\n",
        "index",
        id="encrypted-indexed",
    ),
]


@pytest.mark.parametrize(("text", "mentioned"), BAD)
def test_bad_schema_files_are_rejected(
    validator: Any, tmp_path: Path, text: str, mentioned: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SchemaError):  # bad for jadugar generate too
        load_files([path])
    document = yaml.safe_load(text)
    found = errors(validator, document)
    assert found, "the JSON Schema accepts it"
    assert any(mentioned in e for e in found) or any(
        mentioned in json.dumps(e.schema) for e in _deep_errors(validator, document)
    ), found


def _deep_errors(validator: Any, document: object) -> list[Any]:
    """Every error, the reasons inside allOf/if-then included."""
    pending, found = list(validator.iter_errors(document)), []
    while pending:
        error = pending.pop()
        found.append(error)
        pending += list(error.context or ())
    return found


# The loader's own corpus of bad files (tests/generator/test_loader.py): the problems that one
# file shows by itself. The others need what a JSON Schema cannot see: the other models, one
# primary key per model, reserved names, keys written twice (YAML keeps the last one), one
# value compared with another.
ONE_FILE_PROBLEMS = {
    *("unknown-type", "unknown-field-option", "unknown-model-option", "unknown-top-level-key"),
    *("option-of-another-relation-kind", "unknown-relation-kind", "enum-without-values"),
    *("default-of-wrong-type", "null-default-not-nullable", "default-without-literal"),
    *("max-length-on-non-str", "auto-increment-on-non-integer", "option-of-wrong-shape"),
    *("bad-model-name", "bad-field-name", "reserved-prefix", "keyword-field-name"),
    "field-not-a-mapping",
}
LOADER_CASES = [case for case in BAD_YAML if case.id in ONE_FILE_PROBLEMS]


def test_the_loader_corpus_is_there() -> None:
    assert len(LOADER_CASES) >= len(ONE_FILE_PROBLEMS) - 3


@pytest.mark.parametrize(("text", "sentence"), LOADER_CASES)
def test_loader_rejections_of_one_file_are_json_schema_rejections(
    validator: Any, tmp_path: Path, text: str, sentence: str
) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(SchemaError):
        load_files([path])
    assert errors(validator, yaml.safe_load(text)), f"the JSON Schema accepts: {sentence}"


# 4. The JSON Schema agrees with the validator on every value


SAMPLES: list[object] = [
    *(True, False, None, 0, 1, 2, -1, 1.5, 3600),
    *("", "x", "user_id", "Post", "bad name", "class", "9lives", "cascade", "sql", "mongodb"),
    *([], ["a"], ["a", "b"], ["a", 1], {}, {"model": "User"}),
]
# Options checked apart: fields, indexes, checks, foreign_keys (entries), references (its own
# mapping), default (by type), and model (the validator takes any string, then looks the
# model up; the JSON Schema wants a PascalCase name).
APART = {"fields", "references", "default", "model", "indexes", "relations"}
APART |= {"checks", "foreign_keys"}


OPTIONS = [
    pytest.param(scope, key, id=f"{scope}.{key}")
    for scope, keys in SCOPES.items()
    for key in keys
    if key not in APART
]


@pytest.mark.parametrize(("scope", "key"), OPTIONS)
def test_option_values_agree_with_the_validator(scope: str, key: str) -> None:
    definitions = json_schema()["definitions"]
    option = {"$ref": f"#/definitions/{scope}/properties/{key}", "definitions": definitions}
    checker = jsonschema.Draft7Validator(option)
    disagree = [
        (value, problem or "accepted by the validator, rejected by the JSON Schema")
        for value in SAMPLES
        if checker.is_valid(value)
        != (
            (
                problem := rules.option_problem(
                    key, value, SCOPES[scope], "x", rules.SCOPE_SHAPES.get(scope)
                )
            )
            is None
        )
    ]
    assert disagree == []


DEFAULTS: list[object] = [
    *(True, False, 0, 7, -3, 1.5, "", "draft", "1.25", "1e3", "abc", "NaN", [], {}),
]


@pytest.mark.parametrize("kind", FIELD_TYPES)
def test_defaults_agree_with_the_validator(validator: Any, kind: str) -> None:
    words = sorted({v for v in DEFAULTS if isinstance(v, str)})
    for value in [*DEFAULTS, None]:
        options: dict[str, object] = {"type": kind, "nullable": True, "default": value}
        if kind == "enum":
            options["values"] = words
        if kind == "embedded":
            options["fields"] = {"at": {"type": "datetime"}}
        model = {"engine": "mongodb"} if kind in rules.MONGODB_TYPES else {}
        document = {
            "models": {
                "M": {**model, "fields": {"id": {"type": "int", "primary_key": True}, "f": options}}
            }
        }
        accepted = errors(validator, document) == []
        problem = rules.default_problem("x", kind, value, options)
        assert accepted == (problem is None), (kind, value, problem)
