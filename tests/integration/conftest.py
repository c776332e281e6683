"""Fixtures for the integration tests that go through ``DatabaseManager``.

- ``db``: a connected ``DatabaseManager`` per engine of ``tests.engines.selected_engines()``
  (ids ``postgres``, ``mysql``, ``sqlite``; ``JADUGAR_TEST_ENGINES`` narrows them). An
  unreachable server skips, or fails under ``CI=true`` (``tests.engines.url``).
- ``make_db``: more managers on the same database, with other options (retries, pool size).
- ``tables``: the test tables, created with per-engine DDL under unique names and dropped
  afterwards, so parallel runs and leftovers never collide.
- ``engine_sql``: the few statements that cannot be portable (a slow statement, the
  server's list of running statements).
- ``replica_cluster``: a PostgreSQL streaming replica of the test server on 127.0.0.1:5433,
  once per session (replica_cluster.py); ``mariadb_replica``: a temporary MariaDB primary
  (3308) and its replica (3307), once per session (mariadb_replica.py).
- ``pgbouncer``: PgBouncer in transaction pooling mode in front of the test server, once
  per session (pgbouncer.py). The modules of ``PGBOUNCER_MODULES`` also run on the
  ``pgbouncer`` engine variant (PostgreSQL through it, ``statement_cache=false``); a test
  that cannot work through a transaction pooler says why with
  ``@pytest.mark.no_pooler("reason")``.

This file is the only place that knows engine names: tests branch on
``db.dialect.capabilities`` or on the data these fixtures hand them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jadugar import DatabaseManager

from ..engines import (
    PGBOUNCER,
    dialect_of,
    pgbouncer_selected,
    route,
    selected_engines,
    url,
)
from .mariadb_replica import MariaDBReplica, session_mariadb_replica
from .pgbouncer import PgBouncer, session_pgbouncer
from .replica_cluster import ReplicaCluster, session_replica

MakeDb = Callable[..., Awaitable[DatabaseManager]]

# ---- per-engine DDL ---------------------------------------------------------------------

_USERS = {
    "postgres": "CREATE TABLE {users} (id SERIAL PRIMARY KEY, name VARCHAR(100) NOT NULL,"
    " email VARCHAR(255) NOT NULL, age INTEGER, active BOOLEAN NOT NULL DEFAULT TRUE,"
    " score NUMERIC(10, 2), created_at TIMESTAMP, profile JSONB,"
    " CONSTRAINT {users_email_key} UNIQUE (email))",
    "mysql": "CREATE TABLE {users} (id INTEGER AUTO_INCREMENT PRIMARY KEY,"
    " name VARCHAR(100) NOT NULL, email VARCHAR(255) NOT NULL, age INTEGER,"
    " active BOOLEAN NOT NULL DEFAULT TRUE, score DECIMAL(10, 2), created_at DATETIME(6),"
    " profile JSON, CONSTRAINT {users_email_key} UNIQUE (email))"
    " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "sqlite": "CREATE TABLE {users} (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name VARCHAR(100) NOT NULL, email VARCHAR(255) NOT NULL, age INTEGER,"
    " active BOOLEAN NOT NULL DEFAULT 1, score NUMERIC(10, 2), created_at TIMESTAMP,"
    " profile JSON, CONSTRAINT {users_email_key} UNIQUE (email))",
}
_POSTS = {
    "postgres": "CREATE TABLE {posts} (id SERIAL PRIMARY KEY, user_id INTEGER NOT NULL,"
    " title VARCHAR(200) NOT NULL, views INTEGER NOT NULL DEFAULT 0,"
    " CONSTRAINT {posts_views_check} CHECK (views >= 0),"
    " CONSTRAINT {posts_user_fk} FOREIGN KEY (user_id) REFERENCES {users} (id)"
    " ON DELETE CASCADE)",
    "mysql": "CREATE TABLE {posts} (id INTEGER AUTO_INCREMENT PRIMARY KEY,"
    " user_id INTEGER NOT NULL, title VARCHAR(200) NOT NULL,"
    " views INTEGER NOT NULL DEFAULT 0, CONSTRAINT {posts_views_check} CHECK (views >= 0),"
    " CONSTRAINT {posts_user_fk} FOREIGN KEY (user_id) REFERENCES {users} (id)"
    " ON DELETE CASCADE) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "sqlite": "CREATE TABLE {posts} (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " user_id INTEGER NOT NULL, title VARCHAR(200) NOT NULL,"
    " views INTEGER NOT NULL DEFAULT 0, CONSTRAINT {posts_views_check} CHECK (views >= 0),"
    " CONSTRAINT {posts_user_fk} FOREIGN KEY (user_id) REFERENCES {users} (id)"
    " ON DELETE CASCADE)",
}
# a plain table for bulk rows and hostile text (binary collation: compared verbatim)
_ITEMS = {
    "postgres": "CREATE TABLE {items} (id SERIAL PRIMARY KEY, n INTEGER NOT NULL, label TEXT)",
    "mysql": "CREATE TABLE {items} (id INTEGER AUTO_INCREMENT PRIMARY KEY, n INTEGER NOT NULL,"
    " label TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "sqlite": "CREATE TABLE {items} (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " n INTEGER NOT NULL, label TEXT)",
}

# ---- per-engine statements that cannot be portable -------------------------------------

_SLOW = {
    "postgres": "SELECT pg_sleep(5) AS {marker}",
    "mysql": "SELECT SLEEP(5) AS {marker}",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
    " WHERE x < 2000000000) SELECT count(*) AS {marker} FROM c",
}
_DIGITS = " UNION ALL ".join(f"SELECT {d}{' AS d' if d == 0 else ''}" for d in range(10))
_FILL = {
    "postgres": "INSERT INTO {table} (n, label) SELECT g, lpad(g::text, 8, '0') || '{tail}'"
    " FROM generate_series(0, {last}) AS g",
    "mysql": "INSERT INTO {table} (n, label) SELECT s.n, CONCAT(LPAD(s.n, 8, '0'), '{tail}')"
    " FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * g.d AS n"
    " FROM ({digits}) a, ({digits}) b, ({digits}) c, ({digits}) e, ({digits}) f, ({digits}) g)"
    " AS s WHERE s.n <= {last}",
    "sqlite": "INSERT INTO {table} (n, label) WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL"
    " SELECT n + 1 FROM seq WHERE n < {last}) SELECT n, printf('%08d', n) || '{tail}' FROM seq",
}
_RUNNING = {
    "postgres": "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active'"
    " AND pid <> pg_backend_pid() AND query LIKE '%{marker}%'",
    "mysql": "SELECT count(*) AS n FROM information_schema.processlist"
    " WHERE id <> CONNECTION_ID() AND info LIKE '%{marker}%'",
}


_KILL = {
    "postgres": "SELECT pg_terminate_backend({session})",
    "mysql": "KILL {session}",
}


@dataclass(frozen=True)
class EngineSQL:
    """Non-portable statements, as data: tests never look at the engine's name."""

    engine: str

    def slow(self, marker: str) -> str:
        """A statement that runs for seconds (or much longer) unless stopped."""
        return _SLOW[self.engine].format(marker=marker)

    def fill(self, quoted_table: str, count: int, tail: str) -> str:
        """Inserts rows ``n`` = 0 … count - 1 with ``label`` = ``f"{n:08d}{tail}"`` on the
        server (no Python objects); ``count`` up to 1,000,000, ``tail`` plain ASCII."""
        assert 0 < count <= 1_000_000 and tail.isalnum()
        return _FILL[self.engine].format(
            table=quoted_table, last=count - 1, tail=tail, digits=_DIGITS
        )

    def kill(self, session_id: int | None) -> str | None:
        """Ends another server session from the server side; ``None`` for an embedded
        engine (no server session to end)."""
        template = _KILL.get(self.engine)
        if template is None or session_id is None:
            return None
        return template.format(session=int(session_id))

    def running(self, marker: str) -> str | None:
        """Counts other sessions still running a statement containing ``marker`` (column
        ``n``); ``None`` for an embedded engine that has no server."""
        template = _RUNNING.get(self.engine)
        return None if template is None else template.format(marker=marker)


# ---- seed data ----------------------------------------------------------------------------

USERS: list[dict[str, Any]] = [
    {"name": "Ada", "email": "ada@example.com", "age": 36, "active": True, "score": Decimal("9.50")},
    {"name": "Bob", "email": "bob@example.com", "age": 17, "active": False, "score": Decimal("5.00")},
    {"name": "Cy", "email": "cy@example.com", "age": None, "active": True, "score": None},
    {"name": "Dee", "email": "dee@example.com", "age": 52, "active": True, "score": Decimal("7.25")},
    {"name": "Eve", "email": "EVE@Example.com", "age": 29, "active": False, "score": Decimal("3.00")},
]  # fmt: skip
# (author, title, views): Ada 3 posts, Bob 2, Dee 1; Cy and Eve none
POSTS: list[tuple[str, str, int]] = [
    ("Ada", "Engines", 100),
    ("Ada", "Notes", 40),
    ("Ada", "Letters", 10),
    ("Bob", "Hello", 5),
    ("Bob", "Again", 7),
    ("Dee", "Solo", 1),
]


@dataclass
class Tables:
    """Unique names of this test's tables, and helpers to fill them."""

    db: DatabaseManager
    users: str
    posts: str
    items: str
    users_email_key: str
    posts_views_check: str
    posts_user_fk: str

    def q(self, name: str) -> str:
        """``name`` quoted for this engine, for raw SQL."""
        return self.db.query.quote(name)

    async def seed(self) -> dict[str, int]:
        """Insert ``USERS`` and ``POSTS``; returns user ids by name."""
        ids: dict[str, int] = {}
        for row in USERS:
            result = await self.db.query.table(self.users).insert(row)
            ids[row["name"]] = int(result.id)
        await self.db.query.table(self.posts).insert_many(
            [{"user_id": ids[a], "title": t, "views": v} for a, t, v in POSTS]
        )
        return ids


# ---- the pgbouncer engine variant --------------------------------------------------------

# what also runs through PgBouncer (transaction pooling): statements, models, transactions,
# streams, bulk loads, errors, migrations, schema changes, caching, encryption and access
# control (modules choosing their engines themselves are left as they are; test_recovery's
# server-side kills have a pooled analogue in test_pgbouncer.py)
PGBOUNCER_MODULES = frozenset(
    {
        "test_query",
        "test_models",
        "test_model_active_record",
        "test_call_forms",
        "test_transactions",
        "test_stream",
        "test_bulk_create",
        "test_errors",
        "test_injection_live",
        "test_migrations",
        "test_migrate_processes",
        "test_access_control",
        "test_schema_builder",
        "test_cache",
        "test_encryption",
        "test_makemigrations",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "no_pooler(reason): not on the pgbouncer engine variant, for this reason"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``engine`` of the tests in ``PGBOUNCER_MODULES`` gets the ``pgbouncer`` variant too
    (a parametrize mark: it takes precedence over the fixture's own params)."""
    module = metafunc.module.__name__.rpartition(".")[2]
    if "engine" not in metafunc.fixturenames or module not in PGBOUNCER_MODULES:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        if "engine" in str(mark.args[0]).replace(" ", "").split(","):
            return  # the test chooses its engines itself
    if pgbouncer_selected():
        engines = [*selected_engines(), PGBOUNCER]
        metafunc.definition.add_marker(pytest.mark.parametrize("engine", engines, indirect=True))


# ---- fixtures -----------------------------------------------------------------------------


@pytest.fixture(params=selected_engines())
def engine(request: pytest.FixtureRequest) -> str:
    """The engine under test. ``@pytest.mark.engines("sqlite")`` restricts a test
    (``"postgres"`` includes the ``pgbouncer`` variant unless it is marked ``no_pooler``)."""
    name: str = request.param
    marker = request.node.get_closest_marker("engines")
    if marker is not None and dialect_of(name) not in marker.args:
        pytest.skip(f"this test runs on {', '.join(marker.args)} only")
    if name == PGBOUNCER:
        no_pooler = request.node.get_closest_marker("no_pooler")
        if no_pooler is not None:
            pytest.skip(f"not through PgBouncer: {no_pooler.args[0]}")
        request.getfixturevalue("pgbouncer")  # started once, routed in tests.engines
    return name


@pytest.fixture
async def make_db(engine: str, tmp_path: Path) -> AsyncIterator[MakeDb]:
    """``await make_db(**options)``: another connected manager on the same database."""
    opened: list[DatabaseManager] = []

    async def make(**options: Any) -> DatabaseManager:
        manager = DatabaseManager(url=url(engine, tmp_path), **options)
        await manager.connect()
        opened.append(manager)
        return manager

    yield make
    for manager in reversed(opened):
        await manager.disconnect()


@pytest.fixture
async def db(make_db: MakeDb) -> DatabaseManager:
    """A connected ``DatabaseManager`` (disconnected after the test)."""
    return await make_db()


@pytest.fixture
def engine_sql(engine: str) -> EngineSQL:
    return EngineSQL(dialect_of(engine))


@pytest.fixture
async def tables(db: DatabaseManager, engine: str) -> AsyncIterator[Tables]:
    """users (unique email), posts (FK to users ON DELETE CASCADE, NOT NULL title, CHECK
    views >= 0) and items, under names unique to this test; dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = {
        "users": f"jt_users_{suffix}",
        "posts": f"jt_posts_{suffix}",
        "items": f"jt_items_{suffix}",
        "users_email_key": f"jt_users_{suffix}_email_key",
        "posts_views_check": f"jt_posts_{suffix}_views_check",
        "posts_user_fk": f"jt_posts_{suffix}_user_fk",
    }
    quoted = {key: db.query.quote(value) for key, value in names.items()}
    for ddl in (_USERS, _POSTS, _ITEMS):
        await db.query.raw(ddl[dialect_of(engine)].format(**quoted)).execute()
    try:
        yield Tables(db, **names)
    finally:
        if db.connected:
            async with asyncio.timeout(30):
                for key in ("posts", "users", "items"):
                    await db.query.raw(f"DROP TABLE IF EXISTS {quoted[key]}").execute()


@pytest.fixture(scope="session")
def replica_cluster() -> Iterator[ReplicaCluster]:
    """A PostgreSQL streaming replica of the test server on 127.0.0.1:5433, started once per
    session (replica_cluster.py); skipped, or failed under ``CI=true``, when impossible."""
    yield from session_replica()


@pytest.fixture(scope="session")
def mariadb_replica() -> Iterator[MariaDBReplica]:
    """A temporary MariaDB primary on 127.0.0.1:3308 (binary log on) and its replica on
    3307, started once per session (mariadb_replica.py)."""
    yield from session_mariadb_replica()


@pytest.fixture(scope="session")
def pgbouncer() -> Iterator[PgBouncer]:
    """PgBouncer (transaction pooling) in front of the test server on a free loopback port,
    started once per session (pgbouncer.py); the ``pgbouncer`` engine goes through it."""
    for bouncer in session_pgbouncer():
        route(PGBOUNCER, "127.0.0.1", bouncer.port)
        yield bouncer
