"""Schema options ``encrypted`` and ``searchable``: both schema forms generate the same code,
wrong combinations are reported with file and line, and the migrations' DDL stores
envelopes as text beside an indexed blind-index column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jadugar.errors import SchemaError
from jadugar_generator.ddl_map import tables
from jadugar_generator.generate import generate
from jadugar_generator.makemigrations import read_snapshot, snapshot_text
from jadugar_generator.schema.loader import load_schema
from jadugar_generator.schema.model import without_locations

ROOT = Path(__file__).resolve().parents[2]
TEST_MODELS = ROOT / "tests" / "encryption_models"

YAML = """
models:
  Patient:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      name: {type: str, max_length: 100}
      ssn: {type: str, max_length: 11, encrypted: true, searchable: true, unique: true}
      notes: {type: text, encrypted: true, nullable: true}
      born: {type: date, encrypted: true}
"""

PYTHON = """
from __future__ import annotations

import datetime

from jadugar_generator.dsl import Schema, column


class Patient(Schema):
    id: int = column(primary_key=True, auto_increment=True)
    name: str = column(max_length=100)
    ssn: str = column(max_length=11, encrypted=True, searchable=True, unique=True)
    notes: str | None = column(type="text", encrypted=True)
    born: datetime.date = column(encrypted=True)
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _code(folder: Path) -> list[bytes]:
    """Every generated file, without its first line (the header naming the schema file)."""
    return [p.read_bytes().partition(b"\n")[2] for p in sorted(folder.iterdir()) if p.is_file()]


def test_yaml_and_python_forms_generate_the_same_code(tmp_path: Path) -> None:
    _write(tmp_path / "yaml", "patients.yaml", YAML)
    _write(tmp_path / "py", "patients.py", PYTHON)
    generate(tmp_path / "yaml", tmp_path / "out_yaml", "clinic", root=tmp_path)
    generate(tmp_path / "py", tmp_path / "out_py", "clinic", root=tmp_path)
    from_yaml = _code(tmp_path / "out_yaml" / "clinic")
    assert from_yaml == _code(tmp_path / "out_py" / "clinic")
    patient = (tmp_path / "out_yaml" / "clinic" / "patient.py").read_text()
    assert 'ColumnMeta("ssn", "str", encrypted=True, searchable=True)' in patient
    assert 'ColumnMeta("notes", "text", nullable=True, encrypted=True)' in patient
    assert "    born: datetime.date\n" in patient  # the field keeps its Python type


def test_committed_test_models_are_what_their_schema_generates() -> None:
    result = generate(TEST_MODELS / "schemas", TEST_MODELS, "vault", check=True)
    assert result.up_to_date, f"stale: {result.stale} extra: {result.extra}"


def test_ddl_stores_envelopes_as_text_and_indexes_the_blind_index(tmp_path: Path) -> None:
    _write(tmp_path, "patients.yaml", YAML)
    table = tables(load_schema(tmp_path))["patients"]
    assert list(table.columns) == ["id", "name", "ssn", "ssn_bidx", "notes", "born"]
    ssn, index = table.columns["ssn"], table.columns["ssn_bidx"]
    assert (ssn.type, ssn.nullable, ssn.default) == ("text", False, None)
    assert (index.type, index.length) == ("string", 64)
    assert table.columns["born"].type == "text" and table.columns["notes"].nullable
    assert [u.columns for u in table.uniques.values()] == [("ssn_bidx",)]  # not the ciphertext
    assert not table.indexes


def test_snapshots_name_the_flags_only_where_they_are_set(tmp_path: Path) -> None:
    _write(tmp_path / "s", "patients.yaml", YAML)
    _write(
        tmp_path / "p",
        "plain.yaml",
        YAML.replace(", encrypted: true", "").replace(", searchable: true", ""),
    )
    sealed, plain = (
        snapshot_text(load_schema(tmp_path / "s")),
        snapshot_text(load_schema(tmp_path / "p")),
    )
    assert sealed.count('"encrypted": true') == 3 and sealed.count('"searchable": true') == 1
    assert '"encrypted"' not in plain and '"searchable"' not in plain
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "schema_snapshot.json").write_text(sealed)
    read = read_snapshot(tmp_path / "m")
    assert read is not None
    assert without_locations(read) == without_locations(load_schema(tmp_path / "s"))


BAD = """
models:
  Account:
    fields:
      id: {type: int, primary_key: true, encrypted: true}  # <- primary_key
      owner_id: {type: int, encrypted: true, references: {model: Owner}}  # <- references
      email: {type: str, encrypted: true, unique: true}  # <- unique
      phone: {type: str, encrypted: true, index: true}  # <- index
      nick: {type: str, searchable: true}  # <- searchable
      tax: {type: str, encrypted: true, searchable: true}  # <- bidx
      tax_bidx: {type: str}
      note: {type: str, encrypted: yes please}  # <- shape
    indexes:
      - {columns: [phone]}  # <- index list
  Owner:
    fields:
      id: {type: int, primary_key: true}
  Doc:
    engine: mongodb
    fields:
      id: {type: int, primary_key: true}
      body: {type: str, encrypted: true}  # <- mongodb
"""


@pytest.mark.parametrize(
    ("marker", "sentence"),
    [
        ("primary_key", "encrypted field Account.id cannot be a primary key: its value is part"),
        ("references", "encrypted field Account.owner_id cannot be a foreign key (references)"),
        ("unique", "encrypted field Account.email can be unique only with searchable: true"),
        ("index", "encrypted field Account.phone cannot be indexed: ciphertexts are never equal"),
        ("searchable", "option 'searchable' of field Account.nick needs encrypted: true"),
        ("bidx", "searchable encrypted field Account.tax needs the column tax_bidx"),
        ("shape", "option 'encrypted' of field Account.note must be true or false"),
        ("index list", "an index of model Account names encrypted field 'phone'"),
        ("mongodb", "encrypted field Doc.body: encrypted fields work on SQL models only"),
    ],
)
def test_wrong_combinations_are_reported_at_their_line(
    tmp_path: Path, marker: str, sentence: str
) -> None:
    path = _write(tmp_path, "bad.yaml", BAD)
    line = next(
        n for n, text in enumerate(path.read_text().splitlines(), 1) if f"# <- {marker}" in text
    )
    with pytest.raises(SchemaError) as caught:
        load_schema(tmp_path)
    found = [p for p in caught.value.problems if sentence in str(p)]
    assert found, f"no {sentence!r} in:\n{caught.value}"
    assert (found[0].file, found[0].line) == (str(path), line)
    assert not (tmp_path / "out").exists()
