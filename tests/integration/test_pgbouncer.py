"""What only a transaction pooler shows: PgBouncer (pool_mode=transaction) in front of the
test server. The suite itself also runs through it (the ``pgbouncer`` engine variant of
``conftest.PGBOUNCER_MODULES``); these tests cover what is different there: connections
that know they are pooled, no session state left on shared server connections, the
migration lock across server connections, and PgBouncer's refusals as clear errors."""

from __future__ import annotations

import asyncio
import logging
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jadugar import (
    DatabaseConnectionError,
    DatabaseManager,
    MigrationLockError,
    MigrationOptions,
    QueryError,
)
from jadugar.dialects.postgres.lock import _key as lock_key
from jadugar.migrations.runner import LOCK_NAME, MigrationManager

from ..engines import URLS, pgbouncer_selected, require_server
from .pgbouncer import PgBouncer, start_pgbouncer

pytestmark = pytest.mark.skipif(
    not pgbouncer_selected(), reason="pgbouncer is not in JADUGAR_TEST_ENGINES"
)

Open = Callable[..., Awaitable[DatabaseManager]]
DIRECT = URLS["postgres"]


@pytest.fixture
def bouncers() -> Iterator[Callable[..., PgBouncer]]:
    """``bouncers(**settings)``: a PgBouncer of this test's own (tiny limits), stopped
    afterwards; the shared one is the ``pgbouncer`` fixture."""
    started: list[PgBouncer] = []

    def start(**settings: str | int) -> PgBouncer:
        started.append(start_pgbouncer(**settings))
        return started[-1]

    yield start
    for bouncer in started:
        bouncer.stop()


@pytest.fixture
async def open_db(pgbouncer: PgBouncer) -> AsyncIterator[Open]:
    """``await open_db(url, **options)``: a connected manager, disconnected afterwards."""
    require_server("postgres")
    opened: list[DatabaseManager] = []

    async def open_(url: str, **options: Any) -> DatabaseManager:
        manager = DatabaseManager(url=url, **options)
        await manager.connect()
        opened.append(manager)
        return manager

    yield open_
    for manager in reversed(opened):
        await manager.disconnect()


@pytest.fixture
async def direct(open_db: Open) -> DatabaseManager:
    """A manager straight on the server, for setup and for looking behind the bouncer."""
    return await open_db(DIRECT)


@pytest.fixture
async def table(direct: DatabaseManager) -> AsyncIterator[str]:
    name = f"jb_{uuid.uuid4().hex[:8]}"
    await direct.query.raw(f"CREATE TABLE {name} (id SERIAL PRIMARY KEY, n INTEGER)").execute()
    yield name
    await direct.query.raw(f"DROP TABLE IF EXISTS {name}").execute()


async def test_a_pooled_connection_knows_it_and_names_no_server_session(
    pgbouncer: PgBouncer, open_db: Open, direct: DatabaseManager
) -> None:
    db = await open_db(pgbouncer.url())
    async with db.pool.connection() as conn, direct.pool.connection() as plain:
        assert getattr(conn, "behind_pooler", None) is True
        assert conn.session_id is None  # PgBouncer's cancel key is no backend pid
        assert getattr(plain, "behind_pooler", None) is False
        assert plain.session_id is not None
    status = await db.health_check()
    assert status.healthy and status.server_version


async def test_a_read_only_manager_leaves_the_shared_server_connection_writable(
    bouncers: Callable[..., PgBouncer],
    open_db: Open,
    table: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With one server connection for every client, a session-level READ ONLY from the
    read-only manager would make the writer's statements fail there."""
    bouncer = bouncers(default_pool_size=1)
    with caplog.at_level(logging.WARNING, "jadugar"):
        reader = await open_db(bouncer.url(), read_only=True)
        assert await reader.query.table(table).count() == 0
    assert "ALTER ROLE <role> SET default_transaction_read_only = on" in caplog.text
    writer = await open_db(bouncer.url())
    await writer.query.table(table).insert({"n": 1})  # the same (only) server connection
    async with reader.transaction() as tx:  # BEGIN READ ONLY: the server refuses inside
        with pytest.raises(QueryError, match="read-only transaction"):
            await tx.connection.execute(f"INSERT INTO {table} (n) VALUES (2)", (), None)
    assert await writer.query.table(table).count() == 1


async def test_a_read_only_role_is_the_servers_guard_behind_the_bouncer(
    pgbouncer: PgBouncer, open_db: Open, direct: DatabaseManager, table: str
) -> None:
    """What the README advises instead: the role's default_transaction_read_only holds on
    every server connection PgBouncer opens for it."""
    role = f"jb_reader_{uuid.uuid4().hex[:8]}"
    for sql in (
        f"CREATE ROLE {role} LOGIN",
        f"ALTER ROLE {role} SET default_transaction_read_only = on",
        f"GRANT SELECT, INSERT ON {table} TO {role}",
    ):
        await direct.query.raw(sql).execute()
    try:
        reader = await open_db(pgbouncer.url(user=role), read_only=True)
        async with reader.pool.connection() as conn:  # past the client's check
            with pytest.raises(QueryError, match="read-only transaction"):
                await conn.execute(f"INSERT INTO {table} (n) VALUES (1)", (), None)
        assert await reader.query.table(table).count() == 0
    finally:
        await direct.query.raw(f"DROP OWNED BY {role}").execute()
        await direct.query.raw(f"DROP ROLE {role}").execute()


async def _advisory_locks(direct: DatabaseManager) -> int:
    row = await direct.query.raw(
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'"
        " AND objid = $1::bigint::oid",
        [lock_key(LOCK_NAME)],
    ).first()
    assert row is not None
    return int(row["n"])


async def test_the_migration_lock_excludes_across_server_connections_and_leaves_nothing(
    pgbouncer: PgBouncer, open_db: Open, direct: DatabaseManager
) -> None:
    first = await open_db(pgbouncer.url())
    second = await open_db(pgbouncer.url())
    lock = first.dialect.migration_lock
    async with lock.hold(first, LOCK_NAME, 5):
        assert await _advisory_locks(direct) == 1
        # busy traffic meanwhile: other transactions take the bouncer's other server
        # connections, and the lock is still held for everyone
        await asyncio.gather(*(second.query.raw("SELECT 1 AS one").first() for _ in range(20)))
        started = time.monotonic()
        with pytest.raises(MigrationLockError, match="another process is migrating"):
            async with lock.hold(second, LOCK_NAME, 0.3):
                pass
        assert time.monotonic() - started < 2
    assert await _advisory_locks(direct) == 0  # not left on a pooled server connection
    async with lock.hold(second, LOCK_NAME, 1):
        pass


async def test_the_migration_lock_outlives_the_roles_idle_transaction_timeout(
    pgbouncer: PgBouncer, open_db: Open, direct: DatabaseManager
) -> None:
    """The lock's transaction sits idle while migrations run: a server timeout for idle
    transactions (here the role's, 0.2 s) must not end it."""
    role = f"jb_migrator_{uuid.uuid4().hex[:8]}"
    await direct.query.raw(f"CREATE ROLE {role} LOGIN").execute()
    await direct.query.raw(
        f"ALTER ROLE {role} SET idle_in_transaction_session_timeout = '200ms'"
    ).execute()
    try:
        db = await open_db(pgbouncer.url(user=role))
        async with db.dialect.migration_lock.hold(db, LOCK_NAME, 5):
            await asyncio.sleep(0.6)
            assert await _advisory_locks(direct) == 1
        assert await _advisory_locks(direct) == 0
        await db.disconnect()
    finally:
        await direct.query.raw(f"DROP ROLE {role}").execute()


def _migration(cls: str, sql: str, sleep: float) -> str:
    return textwrap.dedent(
        f"""
        import asyncio

        from jadugar import QueryBuilder
        from jadugar.migrations import Migration


        class {cls}(Migration):
            async def up(self, db: QueryBuilder) -> None:
                await asyncio.sleep({sleep})
                await db.raw({sql!r}).execute()

            async def down(self, db: QueryBuilder) -> None:
                pass
        """
    )


async def test_migrators_on_a_two_connection_bouncer_apply_each_migration_once(
    bouncers: Callable[..., PgBouncer], open_db: Open, direct: DatabaseManager, tmp_path: Path
) -> None:
    """The least PgBouncer can have under the lock: two server connections (the lock's
    transaction holds one for the run, the migrations use the other)."""
    bouncer = bouncers(default_pool_size=2)
    prefix = f"jbm_{uuid.uuid4().hex[:8]}"
    runs = f"{prefix}_runs"
    (tmp_path / "0001_table.py").write_text(
        _migration("Table", f"CREATE TABLE {runs} (n INTEGER)", 0)
    )
    (tmp_path / "0002_row.py").write_text(
        _migration("Row", f"INSERT INTO {runs} (n) VALUES (1)", 0.3)
    )
    options = MigrationOptions(directory=str(tmp_path), table_name=f"{prefix}_history")
    try:
        managers = [
            MigrationManager(options, await open_db(bouncer.url()), lock_timeout=30)
            for _ in range(4)
        ]
        results = await asyncio.gather(*(m.migrate() for m in managers))
        assert sorted(len(r) for r in results) == [0, 0, 0, 2]
        assert await direct.query.table(runs).count() == 1
    finally:
        for name in (runs, options.table_name):
            await direct.query.raw(f"DROP TABLE IF EXISTS {name}").execute()


# ---- PgBouncer saying no ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database", "user", "said", "hint"),
    [
        ("nope", "postgres", "no such database: nope", "[databases] section of pgbouncer.ini"),
        ("test", "jb_nobody", "no such user", "auth_file"),
    ],
)
async def test_a_name_pgbouncer_does_not_know_is_a_clear_connection_error(
    pgbouncer: PgBouncer, database: str, user: str, said: str, hint: str
) -> None:
    db = DatabaseManager(
        url=pgbouncer.url(database=database, user=user), retry_options={"attempts": 1}
    )
    with pytest.raises(DatabaseConnectionError) as info:
        await db.connect()
        await db.query.raw("SELECT 1 AS one").first()
    message = str(info.value)
    assert f"could not connect to postgres://{user}@127.0.0.1:{pgbouncer.port}/{database}" in (
        message
    )
    assert said in message and "PgBouncer" in message and hint in message
    await db.disconnect()


async def test_a_full_bouncer_refuses_with_its_max_client_conn(
    bouncers: Callable[..., PgBouncer], open_db: Open
) -> None:
    bouncer = bouncers(max_client_conn=1)
    await open_db(bouncer.url(), pool={"min": 1})  # the one client PgBouncer takes
    late = DatabaseManager(url=bouncer.url(), pool={"min": 1}, retry_options={"attempts": 1})
    with pytest.raises(DatabaseConnectionError, match=r"max_client_conn is reached"):
        await late.connect()


async def test_a_busy_pool_ends_in_query_wait_timeout_naming_default_pool_size(
    bouncers: Callable[..., PgBouncer], open_db: Open
) -> None:
    bouncer = bouncers(default_pool_size=1, query_wait_timeout=1)
    holder = await open_db(bouncer.url())
    waiter = await open_db(bouncer.url(), retry_options={"attempts": 1})
    await waiter.query.raw("SELECT 1 AS one").first()  # its client is logged in
    async with holder.transaction() as tx:
        await tx.raw("SELECT 1 AS one").first()  # holds the only server connection
        started = time.monotonic()
        with pytest.raises(DatabaseConnectionError) as info:
            await waiter.query.raw("SELECT 2 AS two").first()
        assert time.monotonic() - started < 5
    assert "query_wait_timeout" in str(info.value)
    assert "default_pool_size" in str(info.value)
    assert await waiter.query.raw("SELECT 3 AS three").first() == {"three": 3}  # recovered


async def test_the_statement_cache_behind_the_bouncer_warns_and_its_failure_says_why(
    bouncers: Callable[..., PgBouncer], open_db: Open, caplog: pytest.LogCaptureFixture
) -> None:
    bouncer = bouncers(default_pool_size=2)
    with caplog.at_level(logging.WARNING, "jadugar"):
        cached = await open_db(bouncer.url(statement_cache="true"), pool_size=1)
        assert await cached.query.raw("SELECT $1::int AS n", [1]).first() == {"n": 1}
    assert "statement_cache is on" in caplog.text
    other = await open_db(bouncer.url())
    async with other.transaction() as tx:
        await tx.raw("SELECT 1 AS one").first()  # holds the server connection it prepared on
        with pytest.raises(QueryError, match=r"set statement_cache=False") as info:
            await cached.query.raw("SELECT $1::int AS n", [2]).first()
    assert info.value.code == "26000"


async def test_reads_survive_the_bouncers_server_connections_being_killed(
    bouncers: Callable[..., PgBouncer], open_db: Open, direct: DatabaseManager
) -> None:
    """The pooled analogue of test_recovery.py: the server ends every backend PgBouncer
    holds (idle ones, between transactions); Jadugar's reads carry on."""
    bouncer = bouncers(default_pool_size=2)
    db = await open_db(bouncer.url(), pool={"min": 2, "max": 2, "ping_after": 3600})
    await asyncio.gather(*(db.query.raw("SELECT pg_sleep(0.05) AS x").first() for _ in range(4)))
    pids = [int(row["remote_pid"]) for row in bouncer.show("servers")]
    assert len(pids) == 2
    for pid in pids:
        await direct.query.raw(f"SELECT pg_terminate_backend({pid}) AS gone").first()
    for n in range(10):
        assert await db.query.raw("SELECT $1::int AS n", [n]).first() == {"n": n}
    assert db.pool.get_status().in_use == 0
