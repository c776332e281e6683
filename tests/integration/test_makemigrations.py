"""Schema edits -> `jadugar makemigrations` -> `jadugar migrate`, on every SQL engine:
renames keep their data, destructive steps are marked, and the migrations roll back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jadugar import DatabaseManager, MigrationOptions
from jadugar.cli import app
from jadugar.migrations import MigrationManager

runner = CliRunner()

V1 = """\
models:
  Author:
    table: {p}_authors
    fields:
      id: {{type: int, primary_key: true, auto_increment: true}}
      name: {{type: str, max_length: 50}}
      bio: {{type: text, nullable: true}}
  Book:
    table: {p}_books
    fields:
      id: {{type: int, primary_key: true, auto_increment: true}}
      author_id: {{type: int, references: {{model: Author, on_delete: cascade}}}}
      title: {{type: str, max_length: 100}}
"""

V2 = """\
models:
  Author:
    table: {p}_authors
    fields:
      id: {{type: int, primary_key: true, auto_increment: true}}
      full_name: {{type: str, max_length: 80, renamed_from: name}}
      email: {{type: str, max_length: 120, nullable: true, unique: true}}
  Book:
    table: {p}_books
    fields:
      id: {{type: int, primary_key: true, auto_increment: true}}
      author_id: {{type: int, references: {{model: Author, on_delete: restrict}}}}
      title: {{type: str, max_length: 100, index: true}}
"""


class Project:
    def __init__(self, folder: Path, db: DatabaseManager) -> None:
        self.folder, self.db = folder, db
        self.prefix = f"jd_{uuid.uuid4().hex[:6]}"
        (folder / "schemas").mkdir()
        (folder / "pyproject.toml").write_text(
            '[tool.jadugar]\nschemas = "schemas"\nmigrations = "migrations"\n'
            'database_url = "unused"\n'
        )
        self.manager = MigrationManager(
            MigrationOptions(directory=str(folder / "migrations"), table_name=f"{self.prefix}_h"),
            db,
        )

    def schema(self, text: str) -> None:
        (self.folder / "schemas" / "app.yaml").write_text(text.format(p=self.prefix))

    def cli(self, *args: str) -> tuple[int, str]:
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(self.folder)
            result = runner.invoke(app, list(args))
        return result.exit_code, result.output

    async def cli_env(self, env: dict[str, str], *args: str) -> tuple[int, str]:
        """The CLI with these environment variables, in a thread (it runs its own loop)."""
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(self.folder)
            for key, value in env.items():
                mp.setenv(key, value)
            result = await asyncio.to_thread(runner.invoke, app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    def table(self, name: str) -> str:
        return f"{self.prefix}_{name}"


@pytest.fixture
async def project(db: DatabaseManager, tmp_path: Path) -> AsyncIterator[Project]:
    proj = Project(tmp_path, db)
    try:
        yield proj
    finally:
        for name in ("books", "authors", "h"):
            await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(proj.table(name))}").execute()


async def test_schema_edits_become_migrations_that_keep_data(project: Project) -> None:
    db = project.db
    project.schema(V1)
    code, out = project.cli("makemigrations", "initial")
    assert code == 0, out
    assert "wrote migrations/0001_initial.py" in out.replace("\n", "")
    assert project.cli("makemigrations", "again") == (
        0,
        "no changes: the migrations already cover the schema files\n",
    )
    await project.manager.migrate()
    authors, books = (
        db.query.table(project.table("authors")),
        db.query.table(project.table("books")),
    )
    ada = (await authors.insert({"name": "Ada", "bio": "mathematician"})).id
    await books.insert({"author_id": ada, "title": "Notes"})

    project.schema(V2)
    code, out = project.cli("makemigrations", "--check")
    assert code == 1 and "not covered by a migration" in out
    code, out = project.cli("makemigrations", "rework authors")
    assert code == 0, out
    assert "destructive: drop column" in out
    text = (project.folder / "migrations" / "0002_rework_authors.py").read_text()
    assert f'schema.rename_column("{project.table("authors")}", "name", "full_name")' in text
    assert "# DESTRUCTIVE: drops the column and its data" in text
    assert "drop_column" in text and '"full_name"' in text and "add_column" in text

    await project.manager.migrate()
    rows = await authors.all()
    assert rows == [{"id": ada, "full_name": "Ada", "email": None}]  # renamed, not dropped
    url = db.options.url.get_secret_value()
    history = f"{project.prefix}_h"
    env = {"JADUGAR_MIGRATIONS_TABLE_NAME": history}
    code, out = await project.cli_env(env, "status", "--url", url)
    assert code == 0 and "no drift" in out, out
    quoted = db.query.quote(project.table("authors"))
    await db.query.raw(f"ALTER TABLE {quoted} ADD COLUMN nickname VARCHAR(20)").execute()
    code, out = await project.cli_env(env, "status", "--url", url)
    assert code == 1
    assert (
        f"column {project.table('authors')}.nickname is in the database but not in the schema"
        in out
    )
    await db.query.raw(f"ALTER TABLE {quoted} DROP COLUMN nickname").execute()
    await authors.where({"id": ada}).update({"email": "ada@example.com"})
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError, any engine
        await authors.insert({"full_name": "Ada 2", "email": "ada@example.com"})
    assert await project.manager.get_pending() == []

    await project.manager.rollback()
    rows = await authors.all()
    assert rows == [{"id": ada, "name": "Ada", "bio": None}]  # the name survived both ways
    assert await books.count() == 1
