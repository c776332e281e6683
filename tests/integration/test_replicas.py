"""Read replicas (runtime/replicas): reads routed by consistency, writes always on the
primary, read-your-writes never stale, bounded staleness, a replica failing and coming back.

Two set-ups, both real:

- a primary and a streaming replica: PostgreSQL (the test server and a replica on
  127.0.0.1:5433, ``replica_cluster``, see cluster.py) and MariaDB (a temporary
  primary on 3308 with its replica on 3307, ``mariadb_replica``, see mariadb_replica.py),
  slowed (``recovery_min_apply_delay``, ``MASTER_DELAY``) where a test needs a lagging
  replica; where a read ran is told by the server itself (its port) and by the ``target``
  key of the ``query`` event;
- the test server configured as its own replicas (PostgreSQL and MariaDB): the selection
  logic on real pools, and a replica URL that refuses connections.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
from blog import User

from jadugar import (
    ConfigurationError,
    DatabaseManager,
    DatabaseOptions,
    MigrationOptions,
    QueryError,
    fn,
)
from jadugar.migrations import MigrationManager

from ..engines import selected_engines, url
from .mariadb_replica import MariaDBReplica
from .replica_cluster import ReplicaCluster

Cluster = ReplicaCluster | MariaDBReplica

pytestmark = pytest.mark.asyncio

CHECK = 0.1  # replica_check_interval of the managers here, seconds


def _eventual(primary: str, *replicas: str) -> DatabaseManager:
    """A manager on ``primary`` whose reads go to ``replicas`` (eventual consistency)."""
    return DatabaseManager(
        url=primary,
        replicas=list(replicas),
        default_consistency="eventual",
        replica_check_interval=CHECK,
    )


class Targets:
    """Where each query ran, from the ``query`` event's ``target`` key."""

    def __init__(self, db: DatabaseManager) -> None:
        self.seen: list[str] = []
        db.on("query", lambda event: self.seen.append(event["target"]))

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


async def wait_for(check: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def set_delay(db: DatabaseManager, cluster: Cluster, seconds: float) -> None:
    """Slow the replica down (MariaDB restarts replication for it), then wait until it is
    in rotation again."""
    cluster.set_apply_delay(seconds)

    async def in_rotation() -> bool:
        return all(r.healthy for r in (await db.health_check()).replicas)

    await wait_for(in_rotation, "the replica back in rotation")


# ---- on a real streaming replica -------------------------------------------------------

_CLUSTERS = {"postgres": "replica_cluster", "mysql": "mariadb_replica"}


@pytest.fixture(params=[e for e in selected_engines() if e in _CLUSTERS])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    """A primary and its replica: PostgreSQL, MariaDB."""
    found: Cluster = request.getfixturevalue(_CLUSTERS[request.param])
    return found


@pytest.fixture
async def replicated(cluster: Cluster) -> AsyncIterator[DatabaseManager]:
    """A manager on the test server with the replica, and a table ``db.table_name`` made
    on the primary and seen on the replica; the replica replays without delay again
    afterwards."""
    db = _eventual(cluster.primary_url(), cluster.url())
    await db.connect()
    table = f"jt_replicated_{uuid.uuid4().hex[:8]}"
    await db.query.raw(
        f"CREATE TABLE {table} (id SERIAL PRIMARY KEY, n INTEGER NOT NULL)"
    ).execute()

    async def replicated_table() -> bool:
        try:
            await db.query.table(table).options(consistency="eventual").count()
        except QueryError:
            return False
        return True

    await wait_for(replicated_table, "the table to reach the replica")
    db.table_name = table  # type: ignore[attr-defined]
    db.port_sql = cluster.port_sql  # type: ignore[attr-defined]
    try:
        yield db
    finally:
        cluster.set_apply_delay(0)
        await db.query.raw(f"DROP TABLE IF EXISTS {table}").execute()
        await db.disconnect()


def where_ran(db: DatabaseManager) -> Any:
    """The builder on the test table, selecting the port of the server that ran it."""
    return db.query.table(db.table_name).select(  # type: ignore[attr-defined]
        fn.raw(db.port_sql).as_("port")  # type: ignore[attr-defined]
    )


async def test_reads_route_by_consistency_and_writes_go_to_the_primary(
    replicated: DatabaseManager, cluster: Cluster
) -> None:
    db = replicated
    table = db.query.table(db.table_name)  # type: ignore[attr-defined]
    targets = Targets(db)
    await table.insert({"n": 1})
    assert targets.take() == ["primary"]  # a write, whatever the default consistency
    await wait_for(lambda: table.options(use_replica=True).count(), "the row on the replica")
    targets.take()
    replica, primary = cluster.port, cluster.primary_port

    assert await where_ran(db).first() == {"port": replica}  # eventual
    assert targets.take() == ["replicas[0]"]
    assert (await where_ran(db).options(consistency="strong").first() or {})["port"] == primary
    assert (await where_ran(db).options(use_replica=False).first() or {})["port"] == primary
    assert (await where_ran(db).options(max_lag=60).first() or {})["port"] == replica
    assert targets.take() == ["primary", "primary", "replicas[0]"]
    async with db.transaction():  # reads in a transaction: on the primary
        assert (await where_ran(db).first() or {})["port"] == primary
    assert targets.take() == ["primary"]

    # raw SQL: the primary unless its options ask for a replica; a write never leaves it
    port = f"SELECT {db.port_sql} AS port"  # type: ignore[attr-defined]
    assert (await db.query.raw(port).all())[0]["port"] == primary
    assert (await db.query.raw(port).options(use_replica=True).all())[0]["port"] == replica
    assert (await db.query.raw(port).options(consistency="eventual").all())[0]["port"] == replica
    written = await (
        db.query.raw(f"INSERT INTO {db.table_name} (n) VALUES (2) RETURNING n")  # type: ignore[attr-defined]
        .options(consistency="eventual")
        .execute()
    )
    assert written.rows == [{"n": 2}]
    assert targets.take() == ["primary", "replicas[0]", "replicas[0]", "primary"]

    # a stream reads on a replica too
    streamed = [row async for row in where_ran(db).stream(batch_size=1)]
    assert {row["port"] for row in streamed} <= {replica}
    strong = [row async for row in where_ran(db).options(consistency="strong").stream()]
    assert {row["port"] for row in strong} == {primary}

    health = await db.health_check()
    assert health.healthy and [r.name for r in health.replicas] == ["replicas[0]"]
    assert health.replicas[0].healthy and health.replicas[0].lag_seconds is not None


async def test_read_your_writes_is_never_stale_on_a_delayed_replica(
    replicated: DatabaseManager, cluster: Cluster
) -> None:
    db = replicated
    table = db.query.table(db.table_name)  # type: ignore[attr-defined]
    await set_delay(db, cluster, 0.4)
    targets = Targets(db)
    stale_eventual = 0
    for n in range(40):
        await table.insert({"n": n})
        row = await table.where({"n": n}).options(consistency="read_your_writes").first()
        assert row is not None and row["n"] == n, f"read-your-writes missed write {n}"
        if n % 8 == 0:  # the replica really is behind: an eventual read misses the row
            eventual = await table.where({"n": n}).options(consistency="eventual").first()
            stale_eventual += eventual is None
    assert stale_eventual > 0
    assert "primary" in targets.take()

    # once the replica has replayed the writes, read-your-writes reads go to it
    async def on_the_replica() -> bool:
        targets.take()
        rows = await table.options(consistency="read_your_writes").all()
        assert len(rows) == 40
        return targets.take() == ["replicas[0]"]

    await wait_for(on_the_replica, "read-your-writes reads on the caught-up replica")

    # a transaction's commit counts as a write too
    async with db.transaction() as tx:
        await tx.table(db.table_name).insert({"n": 1000})  # type: ignore[attr-defined]
    row = await table.where({"n": 1000}).options(consistency="read_your_writes").first()
    assert row is not None


async def test_read_your_writes_follows_the_context(
    replicated: DatabaseManager, cluster: Cluster
) -> None:
    """Another task that did not write reads from the replica; the writer's task does not."""
    db = replicated
    table = db.query.table(db.table_name).options(consistency="read_your_writes")  # type: ignore[attr-defined]
    await set_delay(db, cluster, 2)
    targets = Targets(db)

    async def other_task() -> list[str]:
        await table.count()
        return targets.take()

    assert await asyncio.create_task(other_task()) == ["replicas[0]"]

    async def writer() -> None:
        await table.insert({"n": 7})
        targets.take()
        assert await table.where({"n": 7}).first() is not None
        assert targets.take() == ["primary"]

    await asyncio.create_task(writer())
    assert await asyncio.create_task(other_task()) == ["replicas[0]"]


async def test_bounded_staleness_respects_the_max_lag(
    replicated: DatabaseManager, cluster: Cluster
) -> None:
    db = replicated
    table = db.query.table(db.table_name)  # type: ignore[attr-defined]
    await set_delay(db, cluster, 3)
    await table.insert({"n": 1})

    async def lagging() -> bool:  # the write waits on the replica: its lag grows
        lag = (await db.health_check()).replicas[0].lag_seconds
        return lag is not None and lag >= 0.5

    await wait_for(lagging, "the replica to lag", timeout=2.5)
    targets = Targets(db)
    tight = await table.options(consistency="bounded_staleness", max_lag=0.3).all()
    assert [r["n"] for r in tight] == [1]  # served by the primary: the replica is too far
    loose = await table.options(consistency="bounded_staleness", max_lag=60).all()
    assert loose == []  # the replica, which has not replayed the insert yet
    assert targets.take() == ["primary", "replicas[0]"]

    cluster.set_apply_delay(0)  # (other tests write to the shared server meanwhile)

    async def caught_up() -> bool:
        lag = (await db.health_check()).replicas[0].lag_seconds
        replayed = await table.options(consistency="eventual").count() == 1
        return replayed and lag is not None and lag < 0.5

    await wait_for(caught_up, "the replica to catch up")
    rows = await table.options(max_lag=1).all()
    assert [r["n"] for r in rows] == [1]
    assert targets.take()[-1] == "replicas[0]"


async def test_a_stopped_replica_leaves_the_rotation_and_comes_back(
    replicated: DatabaseManager, cluster: Cluster
) -> None:
    db = replicated
    table = db.query.table(db.table_name)  # type: ignore[attr-defined]
    await table.insert_many([{"n": n} for n in range(5)])
    changes: list[tuple[str, str]] = []
    db.on("replica:down", lambda e: changes.append(("down", e["target"])))
    db.on("replica:up", lambda e: changes.append(("up", e["target"])))
    await wait_for(lambda: table.options(consistency="eventual").count(), "rows on replica")
    targets = Targets(db)

    reads = 0
    stopper = asyncio.create_task(asyncio.to_thread(cluster.stop))
    try:
        while not stopper.done() or reads < 20:  # reads all along, before and after the stop
            assert await table.options(consistency="eventual").count() == 5
            reads += 1
        await stopper
        for _ in range(10):
            assert await table.options(consistency="eventual").count() == 5
        assert targets.take()[-10:] == ["primary"] * 10
        health = await db.health_check()
        assert health.healthy  # the primary is fine
        assert not health.replicas[0].healthy and health.replicas[0].error
        assert ("down", "replicas[0]") in changes
    finally:
        if not stopper.done():
            await stopper
        await asyncio.to_thread(cluster.start)

    async def back() -> bool:
        await table.options(consistency="eventual").count()
        return targets.take() == ["replicas[0]"]

    await wait_for(back, "the replica back in rotation")
    assert (await db.health_check()).replicas[0].healthy
    assert changes[-1] == ("up", "replicas[0]")


async def test_model_queries_take_the_same_options(mariadb_replica: MariaDBReplica) -> None:
    """The generated models' queries route as the builder's. On the temporary MariaDB pair
    only: the blog's tables have fixed names, which the shared servers must not see twice."""
    cluster = mariadb_replica
    db = _eventual(cluster.primary_url(), cluster.url())
    await db.connect()
    history = MigrationOptions(
        directory=str(Path(__file__).resolve().parents[2] / "generated" / "migrations"),
        table_name="jm_replicas",
    )
    migrations = MigrationManager(history, db)

    async def replicated_user() -> bool:
        try:
            return await User.query().options(consistency="eventual").exists()
        except QueryError:  # the table itself is not there yet
            return False

    try:
        await migrations.migrate()
        await User.create(name="Ada", email="ada@example.com", password_hash="x" * 20)
        await wait_for(replicated_user, "the user on the replica")
        targets = Targets(db)
        users = await User.query().options(consistency="eventual")
        assert [u.name for u in users] == ["Ada"]
        assert targets.take() == ["replicas[0]"]
        assert await User.query().options(use_replica=False).count() == 1
        assert await User.query().options(consistency="strong", timeout=5).first() is not None
        assert targets.take() == ["primary", "primary"]
    finally:
        try:
            await migrations.reset()
            await db.query.raw("DROP TABLE IF EXISTS jm_replicas").execute()
        finally:
            await db.disconnect()  # never left as the models' default manager


# ---- the test server as its own replicas: selection on real pools ------------------------


@pytest.fixture
async def self_replicated(engine: str, tmp_path: Path) -> AsyncIterator[DatabaseManager]:
    """The test server with itself given twice as a replica, reads eventual."""
    server = url(engine, tmp_path)
    db = _eventual(server, server, server)
    await db.connect()
    try:
        yield db
    finally:
        await db.disconnect()


@pytest.mark.engines("postgres", "mysql")
async def test_replicas_take_turns_and_the_least_busy_serves(
    self_replicated: DatabaseManager,
) -> None:
    db = self_replicated
    targets = Targets(db)
    for _ in range(6):
        await db.query.raw("SELECT 1 AS one").options(use_replica=True).all()
    assert targets.take() == ["replicas[0]", "replicas[1]"] * 3

    # a stream holds its replica's connection: the other one serves meanwhile
    items = db.query.raw("SELECT 1 AS one UNION ALL SELECT 2 AS one")
    assert await items.all()  # the primary: raw SQL without options
    busy = db.query.table("information_schema.tables").select("table_name")
    async with aclosing(busy.stream(batch_size=1)) as rows:
        await anext(rows)
        targets.take()
        for _ in range(4):
            await db.query.raw("SELECT 1 AS one").options(use_replica=True).all()
        assert len(set(targets.take())) == 1  # always the idle one


@pytest.mark.engines("postgres", "mysql")
async def test_a_replica_that_refuses_connections_is_skipped(engine: str, tmp_path: Path) -> None:
    server = url(engine, tmp_path)
    dead = server.replace(server.split("@", 1)[1].split("/", 1)[0], "127.0.0.1:1")
    db = DatabaseManager(
        url=server, replicas=[dead, server], default_consistency="eventual", connect_timeout=2
    )
    await db.connect()  # a replica that is down does not stop connect()
    try:
        targets = Targets(db)
        for _ in range(4):
            assert await db.query.raw("SELECT 1 AS one").options(use_replica=True).all()
        assert targets.take() == ["replicas[1]"] * 4
        health = await db.health_check()
        assert [r.healthy for r in health.replicas] == [False, True]
        assert health.replicas[0].error and "127.0.0.1:1" not in str(health.replicas[1].error)
        # read-your-writes on a replica that is the primary itself: always caught up
        await db.query.raw("CREATE TEMPORARY TABLE IF NOT EXISTS jt_noop (x INTEGER)").execute()
        rows = await db.query.raw("SELECT 2 AS two").options(consistency="read_your_writes").all()
        assert rows == [{"two": 2}]
        assert targets.take()[-1] == "replicas[1]"
    finally:
        await db.disconnect()


async def test_sqlite_and_consistency_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="SQLite"):
        DatabaseOptions(url=f"sqlite:///{tmp_path / 'a.db'}", replicas=[f"sqlite:///{tmp_path}"])
    db = DatabaseManager(url=f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(ValueError, match="read_your_writes"):
        db.query.table("t").options(consistency="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_lag"):
        db.query.table("t").options(max_lag=-1)
