"""MigrationManager on every SQL engine: apply, status, rollback, reset, refresh, a failure
half-way, an edited file, concurrent migrators, a lock holder that dies, and dry runs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from jadugar import DatabaseManager, MigrationChecksumError, MigrationError, MigrationOptions
from jadugar.migrations.runner import MigrationManager

from ..engines import url as engine_url
from .conftest import MakeDb

ROOT = Path(__file__).resolve().parents[2]


def migration(cls: str, up: list[str], down: list[str], sleep: float = 0) -> str:
    """A migration file running these raw statements."""
    body = [f"        await db.raw({s!r}).execute()" for s in up]
    undo = [f"        await db.raw({s!r}).execute()" for s in down]
    if sleep:
        body.insert(0, f"        await asyncio.sleep({sleep})")
    lines = [
        "from __future__ import annotations",
        "",
        "import asyncio",
        "",
        "from jadugar import QueryBuilder",
        "from jadugar.migrations import Migration",
        "",
        "",
        f"class {cls}(Migration):",
        "    async def up(self, db: QueryBuilder) -> None:",
        *(body or ["        pass"]),
        "",
        "    async def down(self, db: QueryBuilder) -> None:",
        *(undo or ["        pass"]),
    ]
    return "\n".join(lines) + "\n"


class Project:
    """A migrations folder and a history table unique to one test."""

    def __init__(self, db: DatabaseManager, folder: Path) -> None:
        self.db = db
        self.folder = folder
        self.prefix = f"jm_{uuid.uuid4().hex[:8]}"
        self.options = MigrationOptions(directory=str(folder), table_name=f"{self.prefix}_history")
        self.tables: list[str] = [self.options.table_name]

    def manager(self, db: DatabaseManager | None = None) -> MigrationManager:
        return MigrationManager(self.options, db or self.db, lock_timeout=30)

    def write(self, name: str, up: list[str], down: list[str], sleep: float = 0) -> Path:
        cls = "".join(p.capitalize() for p in name.split("_")[1:]) or "M"
        path = self.folder / f"{name}.py"
        path.write_text(migration(cls, up, down, sleep))
        return path

    def create_table(self, name: str, columns: str = "id INTEGER PRIMARY KEY") -> tuple[str, str]:
        table = f"{self.prefix}_{name}"  # plain lowercase: no quoting needed on any engine
        self.tables.append(table)
        return f"CREATE TABLE {table} ({columns})", f"DROP TABLE {table}"

    async def exists(self, name: str) -> bool:
        try:
            await self.db.query.table(f"{self.prefix}_{name}").count()
        except Exception:
            return False
        return True


@pytest.fixture
async def project(db: DatabaseManager, tmp_path: Path) -> AsyncIterator[Project]:
    folder = tmp_path / "migrations"
    folder.mkdir()
    proj = Project(db, folder)
    try:
        yield proj
    finally:
        for table in reversed(proj.tables):
            await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(table)}").execute()


async def test_migrate_status_rollback_reset_refresh(project: Project) -> None:
    up, down = project.create_table("users")
    project.write("0001_users", [up], [down])
    up2, down2 = project.create_table("posts")
    project.write("0002_posts", [up2], [down2])
    manager = project.manager()
    assert [s.state for s in await manager.get_status()] == ["pending", "pending"]
    runs = await manager.migrate()
    assert [r.name for r in runs] == ["0001_users", "0002_posts"]
    assert await project.exists("users") and await project.exists("posts")
    status = await manager.get_status()
    assert [(s.name, s.state, s.batch) for s in status] == [
        ("0001_users", "applied", 1),
        ("0002_posts", "applied", 1),
    ]
    assert await manager.migrate() == []  # nothing pending: nothing runs
    up3, down3 = project.create_table("tags")
    project.write("0003_tags", [up3], [down3])
    assert await manager.get_pending() == ["0003_tags"]
    await manager.migrate()
    assert [s.batch for s in await manager.get_status()] == [1, 1, 2]
    rolled = await manager.rollback()
    assert [r.name for r in rolled] == ["0003_tags"] and not await project.exists("tags")
    await manager.rollback(steps=2)
    assert not await project.exists("posts") and not await project.exists("users")
    assert await manager.get_executed() == []
    await manager.migrate()
    assert [r.name for r in await manager.reset()] == ["0003_tags", "0002_posts", "0001_users"]
    refreshed = await manager.refresh()
    assert [(r.name, r.direction) for r in refreshed] == [
        ("0001_users", "up"),
        ("0002_posts", "up"),
        ("0003_tags", "up"),
    ]
    assert await project.exists("tags")


async def test_the_manager_migrates_and_rolls_back_through_its_options(
    project: Project, make_db: MakeDb
) -> None:
    up, down = project.create_table("users")
    project.write("0001_users", [up], [down])
    up2, down2 = project.create_table("posts")
    project.write("0002_posts", [up2], [down2])
    db = await make_db(migrations=project.options)  # db.migrate() uses options.migrations
    assert [r.name for r in await db.migrate()] == ["0001_users", "0002_posts"]
    assert await project.exists("users") and await project.exists("posts")
    assert [r.name for r in await db.rollback()] == ["0002_posts"]
    assert not await project.exists("posts") and await project.exists("users")
    assert [r.name for r in await project.db.rollback(1, project.options)] == ["0001_users"]
    assert not await project.exists("users")


async def test_a_failing_migration_leaves_nothing_or_says_what_ran(project: Project) -> None:
    up, down = project.create_table("good")
    project.write("0001_good", [up], [down])
    bad_up, _ = project.create_table("half")
    project.write("0002_bad", [bad_up, f"INSERT INTO {project.prefix}_nope VALUES (1)"], [])
    manager = project.manager()
    with pytest.raises(MigrationError, match="0002_bad"):
        await manager.migrate()
    states = {s.name: s for s in await manager.get_status()}
    assert states["0001_good"].state == "applied"
    if project.db.dialect.capabilities.transactional_ddl:
        assert states["0002_bad"].state == "pending"
        assert not await project.exists("half")  # rolled back with its transaction
        return
    # MySQL: DDL commits as it goes; the history says what ran and migrate refuses
    assert states["0002_bad"].state == "partial" and states["0002_bad"].statements == 1
    assert await project.exists("half")
    with pytest.raises(MigrationError, match=r"jadugar resolve 0002_bad"):
        await manager.migrate()
    await project.db.query.raw(f"DROP TABLE {project.db.query.quote(project.prefix + '_half')}")
    await manager.resolve("0002_bad", applied=False)
    assert [s.state for s in await manager.get_status()] == ["applied", "pending"]


async def test_an_edited_applied_file_shows_changed_and_blocks_migrate(project: Project) -> None:
    up, down = project.create_table("users")
    path = project.write("0001_users", [up], [down])
    manager = project.manager()
    await manager.migrate()
    path.write_text(path.read_text() + "\n# edited\n")
    project.write("0002_more", [], [])
    assert [s.state for s in await manager.get_status()] == ["changed", "pending"]
    with pytest.raises(MigrationChecksumError, match=r"0001_users\.py was edited"):
        await manager.migrate()
    assert await manager.get_pending() == ["0002_more"]


async def test_concurrent_migrators_apply_each_migration_once(
    project: Project, make_db: MakeDb
) -> None:
    counter_up, counter_down = project.create_table("runs", "n INTEGER")
    project.write("0001_counter", [counter_up], [counter_down])
    project.write(
        "0002_count", [f"INSERT INTO {project.prefix}_runs (n) VALUES (1)"], [], sleep=0.3
    )
    managers = [project.manager(await make_db()) for _ in range(3)]
    results = await asyncio.gather(*(m.migrate() for m in managers))
    assert sorted(len(r) for r in results) == [0, 0, 2]
    assert await project.db.query.table(f"{project.prefix}_runs").count() == 1


async def test_a_dead_lock_holder_does_not_keep_the_lock(
    project: Project, engine: str, tmp_path: Path
) -> None:
    database_url = engine_url(engine, tmp_path)
    script = textwrap.dedent(
        f"""
        import asyncio
        from jadugar import DatabaseManager

        async def main():
            db = DatabaseManager(url={database_url!r})
            await db.connect()
            async with db.dialect.migration_lock.hold(db, "migrations", 5):
                print("locked", flush=True)
                await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        db = DatabaseManager(url=database_url)
        await db.connect()
        try:
            waiter = asyncio.create_task(_take_lock(db))
            await asyncio.sleep(0.5)
            assert not waiter.done()  # the child holds it
            os.kill(child.pid, signal.SIGKILL)
            await asyncio.wait_for(waiter, 10)  # released when the holder died
        finally:
            await db.disconnect()
    finally:
        child.kill()
        child.wait()


async def _take_lock(db: DatabaseManager) -> None:
    async with db.dialect.migration_lock.hold(db, "migrations", 20):
        pass


async def test_dry_run_prints_the_sql_and_applies_nothing(project: Project) -> None:
    up, down = project.create_table("users")
    project.write("0001_users", [up], [down])
    manager = project.manager()
    runs = await manager.migrate(dry_run=True)
    assert len(runs) == 1 and "CREATE TABLE" in runs[0].statements[0]
    assert project.prefix + "_users" in runs[0].statements[0]
    assert not await project.exists("users")
    assert await manager.get_pending() == ["0001_users"]


async def test_create_writes_the_next_numbered_file(project: Project) -> None:
    manager = project.manager()
    first = manager.create("Create users")
    second = manager.create("add-posts")
    assert (first.name, second.name) == ("0001_create_users.py", "0002_add_posts.py")
    assert "class AddPosts(Migration)" in second.read_text()
    await manager.migrate()  # empty migrations apply cleanly
    assert [s.state for s in await manager.get_status()] == ["applied", "applied"]


async def test_migrate_and_rollback_emit_one_event_per_migration(project: Project) -> None:
    up, down = project.create_table("users")
    project.write("0001_users", [up], [down])
    up2, down2 = project.create_table("posts")
    project.write("0002_posts", [up2], [down2])
    seen: list[tuple[str, str, int, int]] = []

    def applied(payload: dict[str, Any]) -> None:
        seen.append(("applied", payload["name"], payload["batch"], payload["statements"]))

    def rolled_back(payload: dict[str, Any]) -> None:
        seen.append(("rolledback", payload["name"], payload["batch"], payload["statements"]))

    project.db.on("migration:applied", applied).on("migration:rolledback", rolled_back)
    try:
        manager = project.manager()
        await manager.migrate(dry_run=True)
        assert seen == []  # a dry run applies nothing, so it announces nothing
        await manager.migrate()
        assert seen == [("applied", "0001_users", 1, 1), ("applied", "0002_posts", 1, 1)]
        await manager.rollback()
        assert seen[2:] == [("rolledback", "0002_posts", 1, 1)]
        bad, _ = project.create_table("bad")
        project.write("0003_bad", [bad, f"INSERT INTO {project.prefix}_nope VALUES (1)"], [])
        with pytest.raises(MigrationError):
            await manager.migrate()
        assert [name for _, name, _, _ in seen[3:]] == ["0002_posts"]  # not the failed one
    finally:
        project.db.off("migration:applied", applied).off("migration:rolledback", rolled_back)
