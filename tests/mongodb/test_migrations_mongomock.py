"""MigrationManager on MongoDB (mongomock): collections, validators, unique compound and TTL
indexes through ``db.schema`` (a MongoSchemaBuilder), the history collection, status,
rollback, an edited file, a failure part-way (``partial``), the lock document (waiting,
heartbeat, expiry of a dead holder) and dry runs."""

from __future__ import annotations

import asyncio
import datetime
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jadugar import (
    DatabaseManager,
    IntegrityError,
    MigrationChecksumError,
    MigrationError,
    MigrationOptions,
    UnsupportedOperation,
)
from jadugar.dialects.mongodb.driver import drop_mongomock_store
from jadugar.dialects.mongodb.lock import MongoMigrationLock
from jadugar.dialects.mongodb.schema import MongoIndexInfo, MongoSchemaBuilder
from jadugar.errors import MigrationLockError
from jadugar.migrations.runner import MigrationManager

HEADER = """\
from __future__ import annotations

from jadugar import QueryBuilder
from jadugar.migrations import Migration


"""

EVENTS = """\
class CreateEvents(Migration):
    async def up(self, db: QueryBuilder) -> None:
        await (
            db.document_schema.create_collection(
                "events",
                validator={"bsonType": "object", "required": ["tenant", "at"]},
            )
            .create_index("events", ["tenant", ("seq", -1)], name="tenant_seq", unique=True)
            .create_index("events", ["at"], expire_after_seconds=3600)
        )

    async def down(self, db: QueryBuilder) -> None:
        await (
            db.document_schema.drop_index("events", "at_1")
            .drop_index("events", "tenant_seq")
            .drop_collection("events")
        )
"""

FAILING = """\
class Broken(Migration):
    async def up(self, db: QueryBuilder) -> None:
        await db.schema.create_collection("logs").create_index("logs", ["at"])
        raise RuntimeError("boom after two operations")

    async def down(self, db: QueryBuilder) -> None:
        await db.schema.drop_collection("logs")
"""

WITH_DATA = """\
class Seed(Migration):
    async def up(self, db: QueryBuilder) -> None:
        await db.table("seeds").insert({"name": "a"})

    async def down(self, db: QueryBuilder) -> None:
        await db.table("seeds").delete()
"""


class Project:
    def __init__(self, db: DatabaseManager, folder: Path) -> None:
        self.db = db
        self.folder = folder
        self.options = MigrationOptions(
            directory=str(folder), table_name=f"hist_{uuid.uuid4().hex[:8]}"
        )

    def manager(self, db: DatabaseManager | None = None) -> MigrationManager:
        return MigrationManager(self.options, db or self.db, lock_timeout=5)

    def write(self, name: str, body: str) -> Path:
        path = self.folder / f"{name}.py"
        path.write_text(HEADER + textwrap.dedent(body))
        return path

    @property
    def schema(self) -> MongoSchemaBuilder:
        return self.db.document_schema


@pytest.fixture
async def project(tmp_path: Path) -> AsyncIterator[Project]:
    name = f"jmm_{uuid.uuid4().hex[:12]}"
    db = DatabaseManager(url=f"mongomock://{name}")
    await db.connect()
    folder = tmp_path / "migrations"
    folder.mkdir()
    try:
        yield Project(db, folder)
    finally:
        await db.disconnect()
        drop_mongomock_store(name)


async def test_schema_property_is_the_mongo_builder(project: Project) -> None:
    # typed as the SQL SchemaBuilder (so SQL code keeps its types); a MongoSchemaBuilder here
    schemas: list[object] = [project.db.schema, project.db.query.schema]
    assert all(isinstance(s, MongoSchemaBuilder) for s in schemas)
    builder = project.schema.create_collection("a", {"bsonType": "object"}).create_index(
        "a", [("x", 1), ("y", -1)], unique=True
    )
    assert builder.to_operations() == [
        "create_collection('a', validator=$jsonSchema)",
        "a.create_index([('x', 1), ('y', -1)], name='x_1_y_-1', unique=True)",
    ]
    await builder
    assert builder.to_operations() == []  # the batch ran and emptied
    # mongomock has no validators: the validator was skipped, and says so
    assert builder.operations_ignored == ["create_collection('a', validator=$jsonSchema)"]
    assert await project.schema.has_collection("a")
    await project.schema.rename_collection("a", "b")
    assert await project.schema.collections() == ["b"]
    await project.schema.set_validator("b", {"bsonType": "object"})  # ignored on mongomock
    with pytest.raises(ValueError, match="TTL"):
        project.schema.create_index("b", ["x", "y"], expire_after_seconds=5)


async def test_migrate_status_indexes_and_rollback(project: Project) -> None:
    project.write("0001_create_events", EVENTS)
    manager = project.manager()
    assert [s.state for s in await manager.get_status()] == ["pending"]
    announced: list[tuple[str, str, int]] = []
    for event in ("migration:applied", "migration:rolledback"):
        project.db.on(
            event,
            lambda payload, event=event: announced.append(
                (event, payload["name"], payload["statements"])
            ),
        )

    runs = await manager.migrate()
    assert [r.name for r in runs] == ["0001_create_events"]
    assert announced == [("migration:applied", "0001_create_events", 3)]
    assert runs[0].statements == [
        "create_collection('events', validator=$jsonSchema)",
        "events.create_index([('tenant', 1), ('seq', -1)], name='tenant_seq', unique=True)",
        "events.create_index([('at', 1)], name='at_1', expireAfterSeconds=3600)",
    ]
    assert [(s.name, s.state) for s in await manager.get_status()] == [
        ("0001_create_events", "applied")
    ]
    assert await manager.get_pending() == []

    indexes = {i.name: i for i in await project.schema.indexes("events")}
    assert indexes["tenant_seq"] == MongoIndexInfo(
        "tenant_seq", (("tenant", 1), ("seq", -1)), unique=True
    )
    assert indexes["at_1"] == MongoIndexInfo("at_1", (("at", 1),), expire_after_seconds=3600)

    events = project.db.query.table("events")
    now = datetime.datetime.now(datetime.UTC)
    await events.insert({"tenant": "t1", "seq": 1, "at": now})
    await events.insert({"tenant": "t1", "seq": 2, "at": now})
    with pytest.raises(IntegrityError) as caught:
        await events.insert({"tenant": "t1", "seq": 1, "at": now})
    assert caught.value.constraint == "tenant_seq"

    assert await manager.migrate() == []  # nothing pending
    back = await manager.rollback()
    assert [r.direction for r in back] == ["down"]
    assert announced[1:] == [
        ("migration:rolledback", "0001_create_events", len(back[0].statements))
    ]
    assert not await project.schema.has_collection("events")
    assert await project.schema.indexes("events") == []
    assert [s.state for s in await manager.get_status()] == ["pending"]


async def test_edited_file_is_changed_and_migrate_refuses(project: Project) -> None:
    path = project.write("0001_create_events", EVENTS)
    manager = project.manager()
    await manager.migrate()
    path.write_text(path.read_text().replace("3600", "7200"))
    assert [s.state for s in await manager.get_status()] == ["changed"]
    project.write("0002_seed", WITH_DATA)
    with pytest.raises(MigrationChecksumError):
        await manager.migrate()


async def test_failure_part_way_is_partial_and_blocks(project: Project) -> None:
    project.write("0001_broken", FAILING)
    manager = project.manager()
    with pytest.raises(MigrationError, match="failed after 2 statement"):
        await manager.migrate()
    (status,) = await manager.get_status()
    assert status.state == "partial"
    assert await project.schema.has_collection("logs")  # no transaction undid it
    with pytest.raises(MigrationError, match="migrate refused"):
        await manager.migrate()
    # repaired by hand, then forgotten: migrate would run it again
    await manager.resolve("0001_broken", applied=False)
    assert [s.state for s in await manager.get_status()] == ["pending"]


async def test_dry_run_lists_schema_operations_and_runs_nothing(project: Project) -> None:
    project.write("0001_create_events", EVENTS)
    manager = project.manager()
    runs = await manager.migrate(dry_run=True)
    assert runs[0].statements[0] == "create_collection('events', validator=$jsonSchema)"
    assert len(runs[0].statements) == 3
    assert not await project.schema.has_collection("events")
    assert [s.state for s in await manager.get_status()] == ["pending"]


async def test_dry_run_with_data_access_refuses(project: Project) -> None:
    project.write("0001_seed", WITH_DATA)
    with pytest.raises(UnsupportedOperation, match="dry run"):
        await project.manager().migrate(dry_run=True)
    assert await project.db.query.table("seeds").count() == 0


# ---- the lock document -------------------------------------------------------------------


async def test_second_holder_waits_until_the_first_releases(project: Project) -> None:
    lock = MongoMigrationLock(ttl=2, heartbeat=0.2)
    order: list[str] = []
    first_in = asyncio.Event()

    async def first() -> None:
        async with lock.hold(project.db, "m", timeout=5):
            order.append("first in")
            first_in.set()
            await asyncio.sleep(0.5)
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with lock.hold(project.db, "m", timeout=5):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]
    # released: the lock document is gone
    assert await project.db.query.table("jadugar_locks").count() == 0


async def test_heartbeat_keeps_a_live_holder_past_its_ttl(project: Project) -> None:
    lock = MongoMigrationLock(ttl=0.4, heartbeat=0.1)
    async with lock.hold(project.db, "m", timeout=1):
        await asyncio.sleep(1.0)  # more than twice the ttl: renewed meanwhile
        with pytest.raises(MigrationLockError):
            async with lock.hold(project.db, "m", timeout=0.3):
                pass


async def test_an_expired_lock_of_a_dead_holder_is_taken_over(project: Project) -> None:
    lock = MongoMigrationLock(ttl=0.5, heartbeat=0.1)
    # a holder that died: took the lock, and its heartbeat stopped
    assert await lock.try_take(project.db, "m", "dead-owner")
    assert not await lock.try_take(project.db, "m", "other")  # not expired yet
    started = asyncio.get_running_loop().time()
    async with lock.hold(project.db, "m", timeout=5):
        waited = asyncio.get_running_loop().time() - started
    assert 0.2 < waited < 2.0


async def test_two_managers_migrate_once(project: Project) -> None:
    project.write("0001_create_events", EVENTS)
    other = DatabaseManager(url=project.db.options.url)
    await other.connect()
    try:
        results = await asyncio.gather(
            project.manager().migrate(), project.manager(other).migrate()
        )
    finally:
        await other.disconnect()
    assert sorted(len(r) for r in results) == [0, 1]
    assert [s.state for s in await project.manager().get_status()] == ["applied"]
