"""`jadugar status` drift on every SQL engine: migrate from a schema, change the database
by hand (a column type, a default, an index dropped, a unique constraint made a plain index,
a foreign key added, another's action changed, a check dropped, a column added), and each
difference is named in one sentence; put back, there is no drift again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jadugar import (
    ColumnDefinition,
    DatabaseManager,
    ForeignKeyReference,
    IndexOptions,
    MigrationOptions,
)
from jadugar.cli import app
from jadugar.migrations import MigrationManager
from jadugar_generator.drift import drift
from jadugar_generator.makemigrations import make_migration

runner = CliRunner()

SCHEMA = """\
models:
  User:
    table: {p}_users
    fields:
      id: {{type: int, primary_key: true, auto_increment: true}}
      name: {{type: str, max_length: 100}}
      email: {{type: str, max_length: 255, unique: true}}
      active: {{type: bool, default: true}}
      joined_on: {{type: date, nullable: true}}
  Post:
    table: {p}_posts
    fields:
      id: {{type: int, primary_key: true, auto_increment: true}}
      user_id: {{type: int, references: {{model: User, on_delete: cascade}}}}
      editor_id: {{type: int, nullable: true}}
      title: {{type: str, max_length: 200, index: true}}
      views: {{type: int, default: 0}}
      price: {{type: decimal, precision: 8, scale: 2, default: 0}}
      status: {{type: enum, values: [draft, published], default: draft}}
      posted_at: {{type: datetime, server_default: now}}
    checks:
      - {{name: {p}_posts_views_not_negative, expression: "views >= 0"}}
"""


@dataclass
class Project:
    db: DatabaseManager
    folder: Path
    prefix: str
    history: str

    @property
    def users(self) -> str:
        return f"{self.prefix}_users"

    @property
    def posts(self) -> str:
        return f"{self.prefix}_posts"

    async def status(self) -> tuple[int, str]:
        env = {"JADUGAR_MIGRATIONS_TABLE_NAME": self.history}
        url = self.db.options.url.get_secret_value()
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(self.folder)
            for key, value in env.items():
                mp.setenv(key, value)
            result = await asyncio.to_thread(runner.invoke, app, ["status", "--url", url])
        return result.exit_code, result.output


@pytest.fixture
async def project(db: DatabaseManager, tmp_path: Path) -> AsyncIterator[Project]:
    prefix = f"jd_{uuid.uuid4().hex[:6]}"
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "app.yaml").write_text(SCHEMA.format(p=prefix))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.jadugar]\nschemas = "schemas"\nmigrations = "migrations"\n'
    )
    make_migration(tmp_path / "schemas", tmp_path / "migrations", "initial")
    history = f"{prefix}_h"
    manager = MigrationManager(
        MigrationOptions(directory=str(tmp_path / "migrations"), table_name=history), db
    )
    await manager.migrate()
    try:
        yield Project(db, tmp_path, prefix, history)
    finally:
        for name in (f"{prefix}_posts", f"{prefix}_users", history):
            await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(name)}").execute()


async def test_each_hand_made_change_is_named(project: Project) -> None:
    db, users, posts, p = project.db, project.users, project.posts, project.prefix
    code, out = await project.status()
    assert code == 0 and "no drift" in out, out

    schema = db.schema
    schema.alter_column(
        users, ColumnDefinition("name", "string", length=150, nullable=False), changes=["type"]
    )
    schema.alter_column(
        users, ColumnDefinition("active", "boolean", nullable=False, default=False),
        changes=["default"],
    )  # fmt: skip
    schema.drop_unique(users, f"{users}_email_unique")
    schema.create_index(users, ["email"], IndexOptions(name=f"{users}_email_unique"))
    schema.drop_index(posts, f"{posts}_title_index")
    schema.add_foreign_key(
        posts, ForeignKeyReference("editor_id", users, "id", name=f"{p}_posts_editor_fk")
    )
    schema.drop_foreign_key(posts, f"{posts}_user_id_fkey")
    schema.add_foreign_key(
        posts,
        ForeignKeyReference(
            "user_id", users, "id", on_delete="restrict", name=f"{posts}_user_id_fkey"
        ),
    )
    schema.drop_check(posts, f"{p}_posts_views_not_negative")
    schema.add_column(posts, ColumnDefinition("slug", "string", length=80))
    await schema.execute()

    found = await drift(db, project.folder / "migrations")
    assert found is not None
    expected = [
        (f"column {users}.name is ", "(str max_length 150) in the database, "
         "str max_length 100 in the schema"),
        (f"column {users}.active defaults to ", " in the database, to true in the schema"),
        (f"unique constraint {users}_email_unique on {users}(email) is unique in the schema, "
         "not in the database", ""),
        (f"index {posts}_title_index on {posts}(title) is missing from the database", ""),
        (f"foreign key {p}_posts_editor_fk on {posts}(editor_id) -> {users}(id) is in the "
         "database but not in the schema", ""),
        (f"foreign key {posts}_user_id_fkey on {posts}(user_id) has ON DELETE ",  # RESTRICT:
         " in the database, ON DELETE CASCADE in the schema"),  # NO ACTION on MySQL
        (f"check {p}_posts_views_not_negative on {posts} is missing from the database", ""),
        (f"column {posts}.slug is in the database but not in the schema", ""),
    ]  # fmt: skip
    for head, tail in expected:
        matching = [line for line in found if line.startswith(head) and line.endswith(tail)]
        assert len(matching) == 1, (head, tail, found)
    assert len(found) == len(expected), found

    code, out = await project.status()
    assert code == 1, out
    for line in found:
        assert f"drift: {line}" in out, out

    schema = db.schema  # put everything back: no drift again
    schema.alter_column(
        users, ColumnDefinition("name", "string", length=100, nullable=False), changes=["type"]
    )
    schema.alter_column(
        users, ColumnDefinition("active", "boolean", nullable=False, default=True),
        changes=["default"],
    )  # fmt: skip
    schema.drop_index(users, f"{users}_email_unique")
    schema.add_unique(users, ["email"], f"{users}_email_unique")
    schema.create_index(posts, ["title"], IndexOptions(name=f"{posts}_title_index"))
    schema.drop_foreign_key(posts, f"{p}_posts_editor_fk")
    schema.drop_foreign_key(posts, f"{posts}_user_id_fkey")
    schema.add_foreign_key(
        posts,
        ForeignKeyReference(
            "user_id", users, "id", on_delete="cascade", name=f"{posts}_user_id_fkey"
        ),
    )
    schema.add_check(posts, f"{p}_posts_views_not_negative", "views >= 0")
    schema.drop_column(posts, "slug")
    await schema.execute()
    for index in await db.schema.indexes(posts):  # MySQL keeps the index it made for a key
        if index.name == f"{p}_posts_editor_fk":
            await db.schema.drop_index(posts, index.name)
    assert await drift(db, project.folder / "migrations") == []


async def test_a_dropped_table_and_a_nullability_change_are_named(project: Project) -> None:
    db, users, posts = project.db, project.users, project.posts
    await db.schema.alter_column(
        users, ColumnDefinition("joined_on", "date", nullable=False), changes=["nullable"]
    )
    await db.schema.drop_table(posts)
    assert await drift(db, project.folder / "migrations") == [
        f"table {posts} is missing from the database",
        f"column {users}.joined_on is NOT NULL in the database, nullable in the schema",
    ]


EVERY_TYPE = """\
models:
  Thing:
    table: {p}_things
    primary_key: [code, version]
    fields:
      code: {{type: str, max_length: 20}}
      version: {{type: smallint}}
      big: {{type: bigint, default: 9000000000}}
      ratio: {{type: float, default: 0.25, nullable: true}}
      price: {{type: decimal, precision: 12, scale: 4, default: "1.5000"}}
      label: {{type: str, max_length: 40, default: "it's"}}
      body: {{type: text, nullable: true}}
      flag: {{type: bool, default: false}}
      day: {{type: date, nullable: true, server_default: {{sql: "'2024-01-02'"}}}}
      at: {{type: time, nullable: true}}
      stamp: {{type: datetime, server_default: now}}
      token: {{type: uuid, server_default: uuid}}
      data: {{type: json, nullable: true}}
      blob: {{type: bytes, nullable: true}}
      mood: {{type: enum, values: [up, down], default: up}}
      note: {{type: str, max_length: 10, db_name: "The Note", server_default: {{sql: "'none'"}}}}
    indexes:
      - {{columns: [label, flag], unique: true}}
      - {{columns: [stamp, mood]}}
"""


async def test_every_type_and_default_jadugar_makes_reads_back_without_drift(
    db: DatabaseManager, tmp_path: Path
) -> None:
    prefix = f"jd_{uuid.uuid4().hex[:6]}"
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "app.yaml").write_text(EVERY_TYPE.format(p=prefix))
    make_migration(tmp_path / "schemas", tmp_path / "migrations", "initial")
    options = MigrationOptions(directory=str(tmp_path / "migrations"), table_name=f"{prefix}_h")
    await MigrationManager(options, db).migrate()
    try:
        assert await drift(db, tmp_path / "migrations") == []
    finally:
        for name in (f"{prefix}_things", f"{prefix}_h"):
            await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(name)}").execute()
