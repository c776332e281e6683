"""Schema files -> `jadugar makemigrations` -> `jadugar migrate` on MongoDB (mongomock):
collections, unique (partial), compound and TTL indexes and validators from the same schema
files as the SQL migrations, in ``<migrations>/mongodb/``; renames keep the documents,
status shows no drift, and rollback restores the collections and indexes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jadugar import DatabaseManager, IntegrityError, SchemaError
from jadugar.cli import app
from jadugar.dialects.mongodb.driver import drop_mongomock_store
from jadugar.dialects.mongodb.schema import MongoIndexInfo
from jadugar_generator.mongo_map import collections
from jadugar_generator.schema.loader import load_schema

runner = CliRunner()

V1 = """\
models:
  Author:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      name: {type: str, max_length: 50, index: true}
      email: {type: str, max_length: 120, nullable: true, unique: true}
      mood: {type: enum, values: [calm, busy], nullable: true}
      joined: {type: datetime, default: null, nullable: true}
  Event:
    engine: mongodb
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      tenant: {type: str}
      seq: {type: int}
      at: {type: datetime}
    indexes:
      - {columns: [tenant, seq], unique: true}
      - {columns: [at], expire_after_seconds: 3600}
"""

V2 = """\
models:
  Author:
    table: writers
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      full_name: {type: str, max_length: 80, index: true, renamed_from: name}
      email: {type: str, max_length: 120, nullable: true, unique: true}
      mood: {type: enum, values: [calm, busy], nullable: true}
      joined: {type: datetime, default: null, nullable: true}
  Event:
    engine: mongodb
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      tenant: {type: str}
      seq: {type: int}
      at: {type: datetime}
    indexes:
      - {columns: [tenant, seq], unique: true}
      - {columns: [at], expire_after_seconds: 7200}
"""


class Project:
    def __init__(self, folder: Path, db: DatabaseManager, url: str) -> None:
        self.folder, self.db, self.url = folder, db, url
        (folder / "schemas").mkdir()
        (folder / "pyproject.toml").write_text(
            '[tool.jadugar]\nschemas = "schemas"\nmigrations = "migrations"\n'
            'database_url = "unused"\n'
        )

    @property
    def mongo_folder(self) -> Path:
        return self.folder / "migrations" / "mongodb"

    def schema(self, text: str) -> None:
        (self.folder / "schemas" / "app.yaml").write_text(text)

    async def cli(self, *args: str) -> tuple[int, str]:
        """The CLI in a thread (it runs its own event loop), from the project folder."""
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(self.folder)
            result = await asyncio.to_thread(runner.invoke, app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    async def indexes(self, collection: str) -> dict[str, MongoIndexInfo]:
        return {i.name: i for i in await self.db.document_schema.indexes(collection)}


@pytest.fixture
async def project(tmp_path: Path) -> AsyncIterator[Project]:
    name = f"jmk_{uuid.uuid4().hex[:12]}"
    url = f"mongomock://{name}"
    db = DatabaseManager(url=url)
    await db.connect()
    try:
        yield Project(tmp_path, db, url)
    finally:
        await db.disconnect()
        drop_mongomock_store(name)


def test_validator_and_indexes_from_field_types(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(V1)
    found = collections(load_schema(tmp_path))
    authors, events = found["authors"], found["events"]
    assert authors.validator == {
        "bsonType": "object",
        "required": ["name"],
        "properties": {
            "name": {"bsonType": "string", "maxLength": 50},
            "email": {"bsonType": ["string", "null"], "maxLength": 120},
            "mood": {"bsonType": ["string", "null"], "enum": ["calm", "busy", None]},
            "joined": {"bsonType": ["date", "null"]},
        },
    }
    email = authors.indexes["authors_email_unique"]
    assert email.unique and email.partial_filter == {"email": {"$type": "string"}}
    assert authors.indexes["authors_name_index"].keys == ("name",)
    assert events.indexes["events_tenant_seq_unique"].unique
    assert events.indexes["events_at_index"].expire_after_seconds == 3600


async def test_makemigrations_migrate_status_rollback_mongomock(project: Project) -> None:
    project.schema(V1)
    code, out = await project.cli("makemigrations", "create_app")
    assert code == 0, out
    assert "create collection events (mongodb)" in out
    first = project.mongo_folder / "0001_create_app.py"
    assert "partial_filter={'email': {'$type': 'string'}}" in first.read_text().replace('"', "'")

    code, out = await project.cli("migrate", "--url", project.url)
    assert code == 0, out
    assert "applied 0001_create_app" in out
    assert {"authors", "events"} <= set(await project.db.document_schema.collections())
    events = await project.indexes("events")
    assert events["events_at_index"].expire_after_seconds == 3600
    assert events["events_tenant_seq_unique"].keys == (("tenant", 1), ("seq", 1))

    authors = project.db.query.table("authors")
    # the unique email index is partial: many authors without an email, one per address
    await authors.insert_many(
        [{"id": 1, "name": "Ann", "email": None}, {"id": 2, "name": "Bo", "email": None}]
    )
    await authors.insert({"id": 3, "name": "Cy", "email": "cy@example.com"})
    with pytest.raises(IntegrityError):
        await authors.insert({"id": 4, "name": "Di", "email": "cy@example.com"})

    code, out = await project.cli("status", "--url", project.url)
    assert code == 0, out
    assert "no drift" in out
    await project.db.document_schema.drop_index("authors", "authors_name_index")
    code, out = await project.cli("status", "--url", project.url)
    assert code == 1
    assert "drift: index authors.authors_name_index is missing from the database" in out
    await project.db.document_schema.create_index("authors", ["name"], name="authors_name_index")

    project.schema(V2)
    code, out = await project.cli("makemigrations", "--check")
    assert code == 1
    assert "not covered by a migration: rename collection authors to writers (mongodb)" in out
    code, out = await project.cli("makemigrations", "rename_authors")
    assert code == 0, out
    second = (project.mongo_folder / "0002_rename_authors.py").read_text()
    assert 'schema.rename_collection("authors", "writers")' in second
    assert 'schema.rename_field("writers", "name", "full_name")' in second
    assert 'schema.set_validator(\n            "writers",' in second

    code, out = await project.cli("migrate", "--url", project.url)
    assert code == 0, out
    names = set(await project.db.document_schema.collections())
    assert "writers" in names and "authors" not in names
    ann = await project.db.query.table("writers").where("id", 1).first()
    assert ann is not None and ann["full_name"] == "Ann" and "name" not in ann
    writers = await project.indexes("writers")
    assert writers["writers_full_name_index"].keys == (("full_name", 1),)
    assert "authors_name_index" not in writers
    assert (await project.indexes("events"))["events_at_index"].expire_after_seconds == 7200
    code, out = await project.cli("status", "--url", project.url)
    assert code == 0 and "no drift" in out, out

    code, out = await project.cli("rollback", "--url", project.url)
    assert code == 0 and "rolled back 0002_rename_authors" in out, out
    names = set(await project.db.document_schema.collections())
    assert "authors" in names and "writers" not in names
    ann = await project.db.query.table("authors").where("id", 1).first()
    assert ann is not None and ann["name"] == "Ann"
    assert set(await project.indexes("authors")) == {
        "_id_",
        "authors_email_unique",
        "authors_name_index",
    }
    assert (await project.indexes("events"))["events_at_index"].expire_after_seconds == 3600
    code, out = await project.cli("makemigrations", "--check")
    assert code == 0, out  # the files still cover V2: `migrate` applies 0002 again


async def test_sql_only_project_writes_no_mongodb_folder(project: Project) -> None:
    project.schema(V1.split("  Event:")[0])
    code, out = await project.cli("makemigrations", "create_app")
    assert code == 0, out
    assert "(mongodb)" not in out and not project.mongo_folder.exists()
    project.mongo_folder.mkdir()  # opting in: the folder exists
    code, out = await project.cli("makemigrations", "collections")
    assert code == 0 and "create collection authors (mongodb)" in out, out
    assert (project.mongo_folder / "0001_collections.py").is_file()


def test_ttl_index_on_a_non_datetime_field_is_a_schema_error(tmp_path: Path) -> None:
    bad = V1.replace(
        "columns: [at], expire_after_seconds", "columns: [tenant], expire_after_seconds"
    )
    (tmp_path / "app.yaml").write_text(bad)
    with pytest.raises(SchemaError) as caught:
        load_schema(tmp_path)
    line = bad.splitlines().index("      - {columns: [tenant], expire_after_seconds: 3600}") + 1
    assert f"app.yaml:{line}" in str(caught.value)
    assert "the TTL index (expire_after_seconds) of model Event is on 'tenant'" in str(caught.value)
