"""Four OS processes run ``jadugar migrate`` at the same moment on the same migrations:
the lock makes each migration run exactly once, and every process exits 0."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jadugar import DatabaseManager

from ..engines import url as engine_url
from .test_migrations import migration

PROCESSES = 4


@pytest.fixture
async def prefix(db: DatabaseManager) -> AsyncIterator[str]:
    name = f"jp_{uuid.uuid4().hex[:8]}"
    yield name
    for table in ("runs", "notes", "history"):
        await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(f'{name}_{table}')}").execute()


async def test_four_processes_migrating_at_once_apply_each_migration_once(
    db: DatabaseManager, engine: str, tmp_path: Path, prefix: str
) -> None:
    project = tmp_path / "project"
    folder = project / "migrations"
    folder.mkdir(parents=True)
    database_url = engine_url(engine, tmp_path)  # SQLite: tmp_path/test.db, the db's file
    (project / "pyproject.toml").write_text(
        f'[tool.jadugar]\nmigrations = "migrations"\ndatabase_url = "{database_url}"\n'
    )
    runs, notes = f"{prefix}_runs", f"{prefix}_notes"
    files = {
        "0001_counter": ([f"CREATE TABLE {runs} (n INTEGER)"], [f"DROP TABLE {runs}"], 0.0),
        "0002_count": ([f"INSERT INTO {runs} (n) VALUES (1)"], [], 0.5),
        "0003_notes": (
            [f"CREATE TABLE {notes} (id INTEGER PRIMARY KEY)"],
            [f"DROP TABLE {notes}"],
            0.0,
        ),
    }
    for name, (up, down, sleep) in files.items():
        cls = "".join(p.capitalize() for p in name.split("_")[1:])
        (folder / f"{name}.py").write_text(migration(cls, up, down, sleep))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("JADUGAR_") or key.startswith("JADUGAR_TEST_")
    }
    env["JADUGAR_MIGRATIONS_TABLE_NAME"] = f"{prefix}_history"

    async def run() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "jadugar"),  # the installed console script
            "migrate",
            cwd=project,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode()

    results = await asyncio.gather(*(run() for _ in range(PROCESSES)))
    for code, out in results:
        assert code == 0, out
    applied = [line for _, out in results for line in out.splitlines() if "applied" in line]
    assert sorted(line.split()[1] for line in applied) == sorted(files)  # once each, in all
    history = await db.query.table(f"{prefix}_history").order_by("name").all()
    assert [row["name"] for row in history] == sorted(files)
    assert len({row["batch"] for row in history}) == 1  # one process applied them all
    assert await db.query.table(runs).count() == 1
    assert await db.query.table(notes).count() == 0
