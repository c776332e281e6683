"""The three SQL drivers against real servers (SQLite in a temporary file).

Unreachable server: skipped with the reason, except with ``CI=true`` where it fails.
``JADUGAR_TEST_ENGINES=postgres,sqlite`` narrows the engines.
"""

from __future__ import annotations

import asyncio
import datetime
import math
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jadugar.dialects.base import ConnectParams, DriverConnection
from jadugar.errors import (
    DatabaseConnectionError,
    IntegrityError,
    JadugarError,
    QueryError,
    QueryTimeoutError,
    SerializationError,
)
from jadugar.query.row_chunks import CHUNK_ROWS, ColumnKind, RowChunks

ENGINES = ("postgres", "mysql", "sqlite")
SECRET = "s3cr3t-value@example.com"

PG_PARAMS = ConnectParams(
    engine="postgres",
    host=os.environ.get("JADUGAR_TEST_PG_HOST", "127.0.0.1"),
    port=int(os.environ.get("JADUGAR_TEST_PG_PORT", "5432")),
    user=os.environ.get("JADUGAR_TEST_PG_USER", "postgres"),
    database=os.environ.get("JADUGAR_TEST_PG_DATABASE", "test"),
    connect_timeout=5.0,
)
MY_PARAMS = ConnectParams(
    engine="mysql",
    host=os.environ.get("JADUGAR_TEST_MYSQL_HOST", "127.0.0.1"),
    port=int(os.environ.get("JADUGAR_TEST_MYSQL_PORT", "3306")),
    user=os.environ.get("JADUGAR_TEST_MYSQL_USER", "root"),
    password=os.environ.get("JADUGAR_TEST_MYSQL_PASSWORD", ""),
    database=os.environ.get("JADUGAR_TEST_MYSQL_DATABASE", "test"),
    connect_timeout=5.0,
)
_NAMES = {"postgres": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}


def unreachable(engine: str, params: ConnectParams, reason: object) -> None:
    """Skip (or fail under CI=true) when an engine's server cannot be reached."""
    message = f"{_NAMES[engine]} not reachable at {params.host}:{params.port}: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def selected(engine: str) -> bool:
    wanted = os.environ.get("JADUGAR_TEST_ENGINES")
    return not wanted or engine in {e.strip() for e in wanted.split(",")}


def driver_for(engine: str) -> Any:
    if engine == "postgres":
        from jadugar.dialects.postgres.driver import PostgresDriver

        return PostgresDriver()
    if engine == "mysql":
        from jadugar.dialects.mysql.driver import MySQLDriver

        return MySQLDriver()
    from jadugar.dialects.sqlite.driver import SQLiteDriver

    return SQLiteDriver()


@dataclass
class Env:
    """One engine under test: a first connection, helpers, and cleanup."""

    engine: str
    params: ConnectParams
    conn: DriverConnection
    extra: list[DriverConnection] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def ph(self, n: int) -> str:
        """The placeholder for parameter ``n`` (1-based)."""
        return {"postgres": f"${n}", "mysql": "%s", "sqlite": "?"}[self.engine]

    def phs(self, count: int) -> str:
        return ", ".join(self.ph(i) for i in range(1, count + 1))

    def table(self) -> str:
        name = f"jd_drv_{uuid.uuid4().hex[:10]}"
        self.tables.append(name)
        return name

    async def connect(self, params: ConnectParams | None = None) -> DriverConnection:
        conn: DriverConnection = await driver_for(self.engine).connect(params or self.params)
        self.extra.append(conn)
        return conn

    @property
    def pk(self) -> str:
        return {
            "postgres": "id SERIAL PRIMARY KEY",
            "mysql": "id INT AUTO_INCREMENT PRIMARY KEY",
            "sqlite": "id INTEGER PRIMARY KEY AUTOINCREMENT",
        }[self.engine]

    @property
    def engine_suffix(self) -> str:
        return " ENGINE=InnoDB" if self.engine == "mysql" else ""

    async def users(self) -> str:
        """A users table: id, name NOT NULL, email UNIQUE, age CHECK (age >= 0)."""
        name = self.table()
        await self.conn.execute_script(
            f"CREATE TABLE {name} ({self.pk}, name VARCHAR(100) NOT NULL, "
            f"email VARCHAR(200), age INT, "
            f"CONSTRAINT {name}_email_unique UNIQUE (email), "
            f"CONSTRAINT {name}_age_check CHECK (age >= 0)){self.engine_suffix}",
            None,
        )
        return name

    async def slow_sql(self) -> str:
        """A five-second statement; its second word is unique to this call (other test
        runs may share the server)."""
        token = f"'jd_{uuid.uuid4().hex}'"
        if self.engine == "postgres":
            return f"SELECT {token} AS token, pg_sleep(5)"
        if self.engine == "mysql":
            return f"SELECT {token} AS token, SLEEP(5)"
        return (
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
            "SELECT count(*) AS n FROM r"
        )

    async def gone(self, observer: DriverConnection, sql: str) -> None:
        """The timed-out ``sql`` no longer runs. PostgreSQL: already when the error was
        raised. MySQL/MariaDB: the statement has ended, but the process list may show
        its text for a moment longer while the server finishes the command."""
        token = sql.split()[1]
        if self.engine == "postgres":
            assert await self.still_running(observer, token) == 0
            return
        deadline = time.monotonic() + 1.0
        while await self.still_running(observer, token):
            assert time.monotonic() < deadline, f"{sql} still in the process list"
            await asyncio.sleep(0.02)

    async def still_running(self, observer: DriverConnection, pattern: str) -> int:
        """How many other sessions are running a statement containing ``pattern``."""
        if self.engine == "postgres":
            rows = await observer.fetch(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE $1 "
                "AND state = 'active' AND pid <> pg_backend_pid()",
                [f"%{pattern}%"],
                None,
            )
        else:
            rows = await observer.fetch(
                "SELECT count(*) AS n FROM information_schema.processlist "
                "WHERE info LIKE %s AND id <> connection_id() AND command <> 'Killed'",
                [f"%{pattern}%"],
                None,
            )
        return int(rows[0]["n"])


async def _open(engine: str, tmp_path: Path) -> tuple[ConnectParams, DriverConnection]:
    if engine == "sqlite":
        params = ConnectParams(engine="sqlite", path=str(tmp_path / "drivers.db"))
        return params, await driver_for(engine).connect(params)
    params = PG_PARAMS if engine == "postgres" else MY_PARAMS
    try:
        conn: DriverConnection = await driver_for(engine).connect(params)
    except DatabaseConnectionError as exc:
        unreachable(engine, params, exc)
        raise
    return params, conn


@pytest.fixture(params=ENGINES)
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Env]:
    engine: str = request.param
    if not selected(engine):
        pytest.skip(f"{engine} not in JADUGAR_TEST_ENGINES")
    params, conn = await _open(engine, tmp_path)
    env = Env(engine, params, conn)
    try:
        yield env
    finally:
        for extra in env.extra:
            extra.terminate()
        if env.conn.broken:
            env.conn.terminate()
            _, env.conn = await _open(engine, tmp_path)
        if env.conn.in_transaction:
            await env.conn.execute_script("ROLLBACK", None)
        for name in reversed(env.tables):
            await env.conn.execute_script(f"DROP TABLE IF EXISTS {name}", None)
        await env.conn.close()


def only(env: Env, *engines: str) -> None:
    if env.engine not in engines:
        pytest.skip(f"{env.engine}: not applicable")


async def quickly(awaitable: Awaitable[Any], limit: float = 3.0) -> float:
    """Await ``awaitable`` (expected to raise) and return how long it took."""
    started = time.monotonic()
    async with asyncio.timeout(limit):
        await awaitable
    return time.monotonic() - started


async def eventually(check: Callable[[], Awaitable[bool]], limit: float = 3.0) -> bool:
    deadline = time.monotonic() + limit
    while True:
        if await check():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)


# --- reading and writing ------------------------------------------------------------------


async def test_fetch_execute_row_count_and_ids(env: Env) -> None:
    users = await env.users()
    c = env.conn
    sql = f"INSERT INTO {users} (name, email, age) VALUES ({env.phs(3)})"
    first = await c.execute(sql, ["ann", "ann@example.com", 30], None)
    second = await c.execute(sql, ["bob", "bob@example.com", 40], None)
    assert first.row_count == 1 and second.row_count == 1
    if env.engine == "postgres":
        assert first.last_insert_id is None  # PostgreSQL ids come from RETURNING
    else:
        assert first.last_insert_id == 1 and second.last_insert_id == 2

    rows = await c.fetch(f"SELECT id, name, age FROM {users} ORDER BY id", [], None)
    assert rows == [{"id": 1, "name": "ann", "age": 30}, {"id": 2, "name": "bob", "age": 40}]
    assert all(type(r) is dict for r in rows)
    one = await c.fetch(f"SELECT name FROM {users} WHERE id = {env.ph(1)}", [2], None)
    assert one == [{"name": "bob"}]
    assert await c.fetch(f"SELECT name FROM {users} WHERE id = {env.ph(1)}", [9], None) == []

    updated = await c.execute(f"UPDATE {users} SET age = age + 1", [], None)
    assert updated.row_count == 2 and updated.rows == [] and updated.last_insert_id is None
    # unchanged values still count as matched rows (MySQL: CLIENT.FOUND_ROWS)
    same = await c.execute(
        f"UPDATE {users} SET name = {env.ph(1)} WHERE id = {env.ph(2)}", ["ann", 1], None
    )
    assert same.row_count == 1
    deleted = await c.execute(f"DELETE FROM {users} WHERE id = {env.ph(1)}", [1], None)
    assert deleted.row_count == 1
    nothing = await c.execute(f"DELETE FROM {users} WHERE id = {env.ph(1)}", [1], None)
    assert nothing.row_count == 0


async def test_returning(env: Env) -> None:
    if env.engine == "mysql":
        version = await env.conn.server_version()
        if "mariadb" not in version.lower():
            pytest.skip("MySQL has no RETURNING")
    users = await env.users()
    c = env.conn
    inserted = await c.execute(
        f"INSERT INTO {users} (name, email) VALUES ({env.phs(2)}), ({env.ph(3)}, {env.ph(4)}) "
        "RETURNING id, name",
        ["a", "a@x.org", "b", "b@x.org"],
        None,
    )
    assert inserted.rows == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    assert inserted.row_count == 2
    if env.engine != "mysql":  # MariaDB has no UPDATE … RETURNING
        updated = await c.execute(
            f"UPDATE {users} SET age = 7 WHERE id = {env.ph(1)} RETURNING id, age", [2], None
        )
        assert updated.rows == [{"id": 2, "age": 7}] and updated.row_count == 1
    deleted = await c.execute(f"DELETE FROM {users} RETURNING id", [], None)
    assert sorted(r["id"] for r in deleted.rows) == [1, 2] and deleted.row_count == 2


async def test_execute_many_and_copy_records(env: Env) -> None:
    users = await env.users()
    c = env.conn
    count = await c.execute_many(
        f"INSERT INTO {users} (name, email, age) VALUES ({env.phs(3)})",
        [("a", "a@x.org", 1), ("b", "b@x.org", 2), ("c", None, 3)],
        None,
    )
    assert count == 3
    assert await c.execute_many(f"DELETE FROM {users} WHERE id = {env.ph(1)}", [], None) == 0
    copied = await c.copy_records(
        users, ["name", "email", "age"], [(f"n{i}", f"n{i}@x.org", i) for i in range(500)], None
    )
    assert copied == 500
    rows = await c.fetch(f"SELECT count(*) AS n, sum(age) AS s FROM {users}", [], None)
    assert int(rows[0]["n"]) == 503 and int(rows[0]["s"]) == 6 + sum(range(500))
    # any statement, not only INSERT
    changed = await c.execute_many(
        f"UPDATE {users} SET age = {env.ph(1)} WHERE name = {env.ph(2)}",
        [(10, "a"), (20, "b")],
        None,
    )
    if env.engine != "postgres":  # asyncpg reports no per-statement counts
        assert changed == 2
    got = await c.fetch(f"SELECT age FROM {users} WHERE name IN ('a', 'b') ORDER BY age", [], None)
    assert got == [{"age": 10}, {"age": 20}]


async def test_copy_records_makes_row_chunks_as_it_sends_them(env: Env) -> None:
    """PostgreSQL streams ``RowChunks`` of plain values into one COPY, asking for each
    chunk only once the one before is sent; the other engines make every row first."""
    c, name = env.conn, env.table()
    await c.execute_script(
        f"CREATE TABLE {name} (id INT PRIMARY KEY, score DOUBLE PRECISION NOT NULL, "
        f"amount DECIMAL(30, 10), label VARCHAR(50), day DATE){env.engine_suffix}",
        None,
    )
    values: list[tuple[Any, ...]] = [
        (
            n,
            n / 7 - 3,
            Decimal(n) / 8 if n % 3 else None,
            f"a\tb\\{n}\n" if n % 2 else None,
            datetime.date(2000, 1, 1) + datetime.timedelta(days=n),
        )
        for n in range(2 * CHUNK_ROWS + 10)
    ]
    if env.engine == "postgres":  # what only PostgreSQL's float8 stores
        values[:4] = [
            (n, score, None, None, values[n][4])
            for n, score in enumerate((math.inf, -math.inf, 5e-324, -0.0))
        ]
    asked: list[tuple[int, int]] = []

    def make(start: int, stop: int) -> list[tuple[Any, ...]]:
        asked.append((start, stop))
        return values[start:stop]

    kinds = (
        ColumnKind(int, False),
        ColumnKind(float, False),
        ColumnKind(Decimal, True),
        ColumnKind(str, True),
        ColumnKind(datetime.date, False),
    )
    columns = ["id", "score", "amount", "label", "day"]
    copied = await c.copy_records(name, columns, RowChunks(len(values), make, kinds), None)
    assert copied == len(values)
    if env.engine == "postgres":
        starts = range(0, len(values), CHUNK_ROWS)
        assert asked == [(start, min(start + CHUNK_ROWS, len(values))) for start in starts]
    else:
        assert asked == [(0, len(values))]
    rows = await c.fetch(f"SELECT * FROM {name} ORDER BY id", [], None)
    got = [(r["id"], r["score"], r["amount"], r["label"], _as_date(r["day"])) for r in rows]
    assert got == values
    if env.engine == "postgres":
        assert math.copysign(1.0, got[3][1]) == -1.0  # -0.0 kept its sign


async def test_copy_records_keeps_the_typed_path_for_a_column_of_another_type(
    env: Env,
) -> None:
    """Ints for a text column: COPY's text format would store "7"; they go the typed
    (binary) way instead, which refuses them on PostgreSQL, so rows are made in full first."""
    only(env, "postgres")
    c, name = env.conn, env.table()
    await c.execute_script(f"CREATE TABLE {name} (id INT PRIMARY KEY, label TEXT)", None)
    asked: list[tuple[int, int]] = []

    def make(start: int, stop: int) -> list[tuple[Any, ...]]:
        asked.append((start, stop))
        return [(n, n) for n in range(start, stop)]

    kinds = (ColumnKind(int, False), ColumnKind(int, False))
    with pytest.raises(QueryError, match="str"):
        await c.copy_records(name, ["id", "label"], RowChunks(CHUNK_ROWS + 1, make, kinds), None)
    assert asked == [(0, CHUNK_ROWS + 1)]
    assert await c.fetch(f"SELECT count(*) AS n FROM {name}", [], None) == [{"n": 0}]


async def test_copy_records_stores_nothing_when_a_later_chunk_fails(env: Env) -> None:
    c, name = env.conn, env.table()
    await c.execute_script(f"CREATE TABLE {name} (id INT PRIMARY KEY){env.engine_suffix}", None)

    def make(start: int, stop: int) -> list[tuple[Any, ...]]:
        if stop > CHUNK_ROWS:
            raise ValueError(f"row {CHUNK_ROWS + 3} is bad")
        return [(n,) for n in range(start, stop)]

    chunks = RowChunks(CHUNK_ROWS + 10, make, (ColumnKind(int, False),))
    with pytest.raises(ValueError, match="is bad"):
        await c.copy_records(name, ["id"], chunks, None)
    assert await c.fetch(f"SELECT count(*) AS n FROM {name}", [], None) == [{"n": 0}]


async def test_json_values(env: Env) -> None:
    c = env.conn
    name = env.table()
    kind = {"postgres": "JSONB", "mysql": "JSON", "sqlite": "TEXT"}[env.engine]
    await c.execute_script(f"CREATE TABLE {name} (id INT PRIMARY KEY, doc {kind})", None)
    doc = {"a": [1, 2, {"b": None}], "s": "x'y\"z%"}
    await c.execute(f"INSERT INTO {name} VALUES ({env.phs(2)})", [1, doc], None)
    await c.execute(f"INSERT INTO {name} VALUES ({env.phs(2)})", [2, [1, "two"]], None)
    rows = await c.fetch(f"SELECT doc FROM {name} ORDER BY id", [], None)
    if env.engine == "postgres":
        assert rows == [{"doc": doc}, {"doc": [1, "two"]}]
    else:  # stored as JSON text; decoding is the model layer's job (it knows the type)
        import json

        assert [json.loads(r["doc"]) for r in rows] == [doc, [1, "two"]]


async def test_literal_percent_and_quotes(env: Env) -> None:
    c = env.conn
    rows = await c.fetch("SELECT 'a%b' AS v", [], None)
    assert rows == [{"v": "a%b"}]
    if env.engine == "mysql":  # compiled MySQL SQL doubles a literal %, params or not
        assert await c.fetch("SELECT '100%%' AS v", [], None) == [{"v": "100%"}]
        rows = await c.fetch("SELECT '100%%' AS v, %s AS w", ["x"], None)
        assert rows == [{"v": "100%", "w": "x"}]
    tricky = "O'Brien \\ %s \" ; --"
    rows = await c.fetch(f"SELECT {env.ph(1)} AS v", [tricky], None)
    assert rows == [{"v": tricky}]


async def test_stream_in_batches(env: Env) -> None:
    users = await env.users()
    c = env.conn
    await c.execute_many(
        f"INSERT INTO {users} (name) VALUES ({env.ph(1)})", [(f"u{i}",) for i in range(25)], None
    )
    sql = f"SELECT id, name FROM {users} WHERE id > {env.ph(1)} ORDER BY id"
    await c.execute_script("BEGIN", None)
    sizes = []
    ids: list[int] = []
    async for batch in c.stream(sql, [0], 10, None):
        sizes.append(len(batch))
        ids += [row["id"] for row in batch]
    assert sizes == [10, 10, 5] and ids == list(range(1, 26))
    assert c.in_transaction
    await c.execute_script("COMMIT", None)

    # an exact multiple ends without an empty batch
    sizes = []
    await c.execute_script("BEGIN", None)
    async for batch in c.stream(sql, [15], 5, None):
        sizes.append(len(batch))
    await c.execute_script("COMMIT", None)
    assert sizes == [5, 5]

    # leaving early leaves the connection usable (MySQL drains the unread rows)
    await c.execute_script("BEGIN", None)
    stream = c.stream(sql, [0], 4, None)
    async for _batch in stream:
        break
    await stream.aclose()
    rows = await c.fetch(f"SELECT count(*) AS n FROM {users}", [], None)
    assert int(rows[0]["n"]) == 25
    await c.execute_script("COMMIT", None)
    assert not c.broken


# --- errors ---------------------------------------------------------------------------------


def assert_clean(err: JadugarError, *secrets: str) -> None:
    """No value in the message, the cause kept, a real server code."""
    text = f"{err} {err!r}"
    for secret in (SECRET, *secrets):
        assert secret not in text, text
    assert err.__cause__ is not None
    if isinstance(err, QueryError):
        assert err.orig is err.__cause__ and err.sql


async def test_unique_violation(env: Env) -> None:
    users = await env.users()
    sql = f"INSERT INTO {users} (name, email) VALUES ({env.phs(2)})"
    await env.conn.execute(sql, ["a", SECRET], None)
    with pytest.raises(IntegrityError) as info:
        await env.conn.execute(sql, ["b", SECRET], None)
    err = info.value
    assert err.kind == "unique"
    expected = f"{users}.email" if env.engine == "sqlite" else f"{users}_email_unique"
    assert err.constraint == expected
    assert_clean(err)
    assert not env.conn.broken


async def test_foreign_key_violations(env: Env) -> None:
    c = env.conn
    parent, child = env.table(), env.table()
    await c.execute_script(f"CREATE TABLE {parent} (id INT PRIMARY KEY){env.engine_suffix}", None)
    await c.execute_script(
        f"CREATE TABLE {child} (id INT PRIMARY KEY, pid INT, "
        f"CONSTRAINT {child}_fk FOREIGN KEY (pid) REFERENCES {parent} (id)){env.engine_suffix}",
        None,
    )
    env.tables.remove(child)
    env.tables.append(child)  # dropped first
    with pytest.raises(IntegrityError) as info:
        await c.execute(f"INSERT INTO {child} VALUES ({env.phs(2)})", [1, 424242], None)
    assert info.value.kind == "foreign_key"
    # SQLite does not name it: the driver finds the table's only foreign key
    assert info.value.constraint == f"{child}_fk"
    assert_clean(info.value, "424242")

    await c.execute(f"INSERT INTO {parent} VALUES ({env.ph(1)})", [5], None)
    await c.execute(f"INSERT INTO {child} VALUES ({env.phs(2)})", [1, 5], None)
    with pytest.raises(IntegrityError) as info:
        await c.execute(f"DELETE FROM {parent} WHERE id = {env.ph(1)}", [5], None)
    assert info.value.kind == "foreign_key"
    assert info.value.constraint == (parent if env.engine == "sqlite" else f"{child}_fk")
    assert_clean(info.value)


async def test_not_null_and_check_violations(env: Env) -> None:
    users = await env.users()
    with pytest.raises(IntegrityError) as info:
        await env.conn.execute(
            f"INSERT INTO {users} (name, email) VALUES ({env.phs(2)})", [None, SECRET], None
        )
    assert info.value.kind == "not_null"
    assert info.value.constraint in ("name", f"{users}.name")
    assert_clean(info.value)

    with pytest.raises(IntegrityError) as info:
        await env.conn.execute(
            f"INSERT INTO {users} (name, email, age) VALUES ({env.phs(3)})",
            ["x", SECRET, -5],
            None,
        )
    assert info.value.kind == "check"
    assert info.value.constraint == f"{users}_age_check"
    assert_clean(info.value)


async def test_data_errors_keep_values_out(env: Env) -> None:
    only(env, "postgres", "mysql")
    users = await env.users()
    with pytest.raises(QueryError) as info:
        await env.conn.execute(
            f"INSERT INTO {users} (name, age) VALUES ({env.phs(2)})", ["x", SECRET], None
        )
    assert_clean(info.value)
    assert info.value.code
    if env.engine == "postgres":  # a value asyncpg itself refuses to encode
        with pytest.raises(QueryError) as info:
            await env.conn.execute(f"UPDATE {users} SET age = $1", ["not-a-number secret-2"], None)
        assert_clean(info.value, "secret-2")


async def test_syntax_error_is_query_error(env: Env) -> None:
    with pytest.raises(QueryError) as info:
        await env.conn.fetch("SELEC 1", [], None)
    assert type(info.value) is QueryError and info.value.code
    assert info.value.sql == "SELEC 1"
    assert not env.conn.broken
    assert await env.conn.fetch("SELECT 1 AS one", [], None) == [{"one": 1}]


async def test_serialization_failure_postgres(env: Env) -> None:
    only(env, "postgres")
    name = env.table()
    a = env.conn
    await a.execute_script(f"CREATE TABLE {name} (id INT PRIMARY KEY, n INT)", None)
    await a.execute(f"INSERT INTO {name} VALUES (1, 0)", [], None)
    b = await env.connect()
    for conn in (a, b):
        await conn.execute_script("BEGIN ISOLATION LEVEL SERIALIZABLE", None)
        await conn.fetch(f"SELECT n FROM {name} WHERE id = 1", [], None)
    await a.execute(f"UPDATE {name} SET n = n + 1 WHERE id = 1", [], None)
    await a.execute_script("COMMIT", None)
    with pytest.raises(SerializationError) as info:
        await b.execute(f"UPDATE {name} SET n = n + 1 WHERE id = 1", [], None)
    assert info.value.code == "40001"
    await b.execute_script("ROLLBACK", None)
    assert not b.broken


async def test_deadlock_mysql(env: Env) -> None:
    only(env, "mysql")
    name = env.table()
    a = env.conn
    await a.execute_script(f"CREATE TABLE {name} (id INT PRIMARY KEY, n INT) ENGINE=InnoDB", None)
    await a.execute(f"INSERT INTO {name} VALUES (1, 0), (2, 0)", [], None)
    b = await env.connect()
    for conn, row in ((a, 1), (b, 2)):
        await conn.execute_script("START TRANSACTION", None)
        await conn.execute(f"UPDATE {name} SET n = 1 WHERE id = %s", [row], None)
    first = asyncio.create_task(a.execute(f"UPDATE {name} SET n = 2 WHERE id = 2", [], None))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(b.execute(f"UPDATE {name} SET n = 2 WHERE id = 1", [], None))
    results = await asyncio.gather(first, second, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], SerializationError), results
    assert errors[0].code == "1213"
    for conn in (a, b):
        await conn.execute_script("ROLLBACK", None)


async def test_locked_sqlite_is_retryable(env: Env) -> None:
    only(env, "sqlite")
    name = env.table()
    await env.conn.execute_script(f"CREATE TABLE {name} (id INT)", None)
    other = await env.connect(replace(env.params, options={"busy_timeout": "0.1"}))
    await env.conn.execute_script("BEGIN IMMEDIATE", None)
    with pytest.raises(SerializationError) as info:
        await other.execute(f"INSERT INTO {name} VALUES (1)", [], None)
    assert info.value.code and info.value.code.startswith("SQLITE_BUSY")
    await env.conn.execute_script("ROLLBACK", None)
    assert (await other.execute(f"INSERT INTO {name} VALUES (1)", [], None)).row_count == 1


# --- timeouts, cancellation, dead connections -----------------------------------------------


async def test_timeout_stops_the_statement(env: Env) -> None:
    c = env.conn
    sql = await env.slow_sql()
    observer = await env.connect() if env.engine != "sqlite" else None
    elapsed = await quickly(_expect(QueryTimeoutError, c.fetch(sql, [], 0.3)))
    assert elapsed < 2.0
    if observer is not None:
        await env.gone(observer, sql)
    if env.engine == "mysql":
        # MariaDB stops it itself (max_statement_time): the connection stays usable
        if "mariadb" in (await c.server_version()).lower():
            assert not c.broken
        else:
            assert c.broken
            return
    assert not c.broken
    assert await c.fetch("SELECT 1 AS one", [], None) == [{"one": 1}]


async def test_timeout_mysql_client_side_kill(env: Env) -> None:
    """The path MySQL (and a stuck MariaDB) takes: client timer, KILL QUERY, broken."""
    only(env, "mysql")
    c = env.conn
    c._server_timeout = False  # type: ignore[attr-defined]
    observer = await env.connect()
    sql = await env.slow_sql()
    elapsed = await quickly(_expect(QueryTimeoutError, c.fetch(sql, [], 0.3)))
    assert elapsed < 2.0
    assert c.broken
    await env.gone(observer, sql)


async def test_cancelled_task(env: Env) -> None:
    c = env.conn
    sql = await env.slow_sql()
    observer = await env.connect() if env.engine != "sqlite" else None
    task = asyncio.create_task(c.fetch(sql, [], None))
    await asyncio.sleep(0.3)
    task.cancel()
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1.0
    if observer is not None:

        async def gone() -> bool:
            assert observer is not None
            return await env.still_running(observer, sql.split()[1]) == 0

        assert await eventually(gone)
    if env.engine == "mysql":
        assert c.broken  # cancelled mid-statement: never reused
        return
    assert not c.broken
    result = await asyncio.wait_for(c.fetch("SELECT 2 AS two", [], None), 3.0)
    assert result == [{"two": 2}]


async def test_cancelled_at_any_moment(env: Env) -> None:
    """However early the cancel lands, the statement stops (SQLite's endless CTE would
    otherwise block the connection for good) and the connection serves the next call."""
    c = env.conn
    for delay in (0.0, 0.001, 0.01, 0.05):
        task = asyncio.create_task(c.fetch(await env.slow_sql(), [], None))
        await asyncio.sleep(delay)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        if c.broken:  # MySQL: never reused after a cancel
            assert env.engine == "mysql"
            c.terminate()
            _, c = await _open(env.engine, Path(env.params.path or ".").parent)
            env.extra.append(c)
            continue
        rows = await asyncio.wait_for(c.fetch("SELECT 2 AS two", [], None), 3.0)
        assert rows == [{"two": 2}]


# a SELECT that starts on the event loop's thread (SQLite's inline reads) and runs past
# its budget there: it must move to the worker thread, timeouts and cancels included
_HEAVY_SELECT = (
    "SELECT max(n) AS top FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL "
    "SELECT n + 1 FROM c WHERE n < {last}) SELECT n FROM c)"
)


async def test_sqlite_long_reads_leave_the_event_loop_free(env: Env) -> None:
    only(env, "sqlite")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.002)

    beat = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = time.monotonic()
    rows = await env.conn.fetch(_HEAVY_SELECT.format(last=2_000_000), [], None)
    elapsed = time.monotonic() - started
    beat.cancel()
    assert rows == [{"top": 2_000_000}]
    assert elapsed > 0.1 and ticks >= elapsed / 0.002 / 5  # the loop kept turning
    small = await env.conn.fetch("SELECT 1 + ? AS two", [1], None)
    assert small == [{"two": 2}]


async def test_sqlite_small_reads_stay_off_the_worker_thread(env: Env) -> None:
    """The same cached lookup run thousands of times never needs the worker: its budget
    is per run (SQLite's step count of a cached statement keeps growing across runs)."""
    only(env, "sqlite")
    c, name = env.conn, env.table()
    await c.execute_script(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, label TEXT)", None)
    await c.execute_many(
        f"INSERT INTO {name} (id, label) VALUES (?, ?)", [(n, f"l{n}") for n in range(100)], None
    )
    handed: list[object] = []
    submit = c._submit  # type: ignore[attr-defined]

    def counted(fn: Any, *args: Any) -> Any:
        handed.append(fn)
        return submit(fn, *args)

    c._submit = counted  # type: ignore[attr-defined]
    for n in range(3_000):
        rows = await c.fetch(f"SELECT label FROM {name} WHERE id = ?", [n % 100], None)
        assert rows == [{"label": f"l{n % 100}"}]
    assert handed == []
    await c.fetch(f"SELECT count(*) AS n FROM {name}", [], None)  # always the worker's
    assert len(handed) == 1


async def test_sqlite_inline_reads_can_be_switched_off(env: Env) -> None:
    only(env, "sqlite")
    assert getattr(env.conn, "inline_reads") is True  # noqa: B009 (a WAL database)
    off = await env.connect(replace(env.params, options={"inline_reads": "false"}))
    assert getattr(off, "inline_reads") is False  # noqa: B009
    assert await off.fetch("SELECT 1 AS one", [], None) == [{"one": 1}]


async def test_sqlite_long_reads_honour_timeouts_and_cancels(env: Env) -> None:
    only(env, "sqlite")
    c, endless = env.conn, _HEAVY_SELECT.format(last=10**12)
    elapsed = await quickly(_expect(QueryTimeoutError, c.fetch(endless, [], 0.2)))
    assert elapsed < 2.0
    task = asyncio.create_task(c.fetch(endless, [], None))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # at once, on the same connection: waits for the cancelled read to end on the worker
    rows = await asyncio.wait_for(c.fetch("SELECT 2 AS two", [], None), 3.0)
    assert rows == [{"two": 2}] and not c.broken


async def test_timeout_inside_a_write(env: Env) -> None:
    """The timeout applies to writes too, and a statement that finishes in time returns."""
    users = await env.users()
    c = env.conn
    result = await c.execute(f"INSERT INTO {users} (name) VALUES ({env.ph(1)})", ["in time"], 5.0)
    assert result.row_count == 1
    if env.engine != "postgres":
        assert result.last_insert_id == 1
    rows = await c.fetch(f"SELECT name FROM {users}", [], 5.0)
    assert rows == [{"name": "in time"}]


async def test_ping_on_a_killed_connection(env: Env) -> None:
    c = env.conn
    await c.ping()
    if env.engine == "sqlite":
        c.terminate()
    else:
        killer = await env.connect()
        if env.engine == "postgres":
            await killer.fetch("SELECT pg_terminate_backend($1)", [c.session_id], None)
        else:
            await killer.execute_script(f"KILL {int(c.session_id or 0)}", None)
        await asyncio.sleep(0.2)
    with pytest.raises(DatabaseConnectionError):
        await c.ping()
    assert c.broken


async def test_query_on_a_killed_connection(env: Env) -> None:
    only(env, "postgres", "mysql")
    c = env.conn
    killer = await env.connect()
    if env.engine == "postgres":
        await killer.fetch("SELECT pg_terminate_backend($1)", [c.session_id], None)
    else:
        await killer.execute_script(f"KILL {int(c.session_id or 0)}", None)
    await asyncio.sleep(0.2)
    with pytest.raises(DatabaseConnectionError):
        await c.fetch("SELECT 1", [], None)
    assert c.broken


async def test_in_transaction_and_session(env: Env) -> None:
    c = env.conn

    def in_tx() -> bool:  # a call: mypy would narrow a property across awaits
        return c.in_transaction

    assert not in_tx()
    await c.execute_script("BEGIN", None)
    assert in_tx()
    await c.execute_script("COMMIT", None)
    assert not in_tx()
    await c.execute_script("BEGIN", None)
    await c.execute_script("ROLLBACK", None)
    assert not in_tx()
    if env.engine == "postgres":
        rows = await c.fetch("SELECT pg_backend_pid() AS id", [], None)
        assert c.session_id == rows[0]["id"]
    elif env.engine == "mysql":
        rows = await c.fetch("SELECT connection_id() AS id", [], None)
        assert c.session_id == rows[0]["id"]
    else:
        assert c.session_id is None
    assert (await c.server_version())[0].isdigit()
    assert c.created_at <= c.last_used


# --- connecting ----------------------------------------------------------------------------


async def _expect(kind: type[BaseException], awaitable: Awaitable[Any]) -> BaseException:
    try:
        await awaitable
    except kind as exc:
        return exc
    raise AssertionError(f"expected {kind.__name__}")


async def test_bad_credentials_and_database(env: Env) -> None:
    password = "Sup3r-S3cret-Pw"
    if env.engine == "sqlite":
        bad = ConnectParams(engine="sqlite", path="/nonexistent-dir/x/y.db")
        err = await _expect(DatabaseConnectionError, driver_for("sqlite").connect(bad))
        assert "/nonexistent-dir/x/y.db" in str(err)
        return
    # a wrong password (MySQL) or a role that does not exist (PostgreSQL, trust auth)
    user = "root" if env.engine == "mysql" else "jadugar_no_such_role"
    bad = replace(env.params, user=user, password=password)
    err = await _expect(DatabaseConnectionError, driver_for(env.engine).connect(bad))
    assert password not in f"{err} {err!r}"
    assert isinstance(err.__cause__, BaseException)

    missing = replace(env.params, database="jadugar_no_such_db", password=password)
    if env.engine == "postgres":
        missing = replace(missing, password=password)
    err = await _expect(DatabaseConnectionError, driver_for(env.engine).connect(missing))
    assert "jadugar_no_such_db" in str(err) and password not in str(err)

    nobody = replace(env.params, port=1, password=password, connect_timeout=2.0)
    err = await _expect(DatabaseConnectionError, driver_for(env.engine).connect(nobody))
    assert password not in str(err)


# --- more behaviour -------------------------------------------------------------------------


async def test_scripts_with_several_statements(env: Env) -> None:
    c = env.conn
    name = env.table()
    await c.execute_script("BEGIN", None)
    await c.execute_script(
        f"CREATE TABLE {name} (id INT PRIMARY KEY, s VARCHAR(20));\n"
        f"INSERT INTO {name} VALUES (1, 'a;b');\n"
        f"INSERT INTO {name} VALUES (2, '--;');",
        None,
    )
    if env.engine != "mysql":  # MySQL DDL commits implicitly
        assert c.in_transaction  # a script never commits the caller's transaction
    await c.execute_script("COMMIT", None)
    rows = await c.fetch(f"SELECT s FROM {name} ORDER BY id", [], None)
    assert rows == [{"s": "a;b"}, {"s": "--;"}]
    # an error in a later statement is reported by this call, not by the next one
    with pytest.raises(QueryError):
        await c.execute_script(f"SELECT 1; SELEC 2; INSERT INTO {name} VALUES (3, 'c')", None)
    assert not c.broken
    assert await c.fetch("SELECT 1 AS one", [], None) == [{"one": 1}]


async def test_timeout_inside_a_transaction(env: Env) -> None:
    only(env, "postgres", "sqlite")
    c = env.conn
    await c.execute_script("BEGIN", None)
    await _expect(QueryTimeoutError, c.fetch(await env.slow_sql(), [], 0.2))
    assert not c.broken
    await c.execute_script("ROLLBACK", None)
    assert not c.in_transaction
    assert await c.fetch("SELECT 3 AS three", [], None) == [{"three": 3}]


async def test_value_types(env: Env) -> None:
    import datetime
    import decimal

    c = env.conn
    name = env.table()
    types = {
        "postgres": "NUMERIC(10,2), TIMESTAMP, DATE, BOOLEAN, BYTEA, UUID, TIME",
        "mysql": "DECIMAL(10,2), DATETIME(6), DATE, BOOLEAN, BLOB, CHAR(36), TIME",
        "sqlite": "NUMERIC, TIMESTAMP, DATE, BOOLEAN, BLOB, TEXT, TEXT",
    }[env.engine].split(", ")
    cols = ["d", "ts", "dt", "b", "bin", "u", "t"]
    ddl = ", ".join(f"{col} {kind}" for col, kind in zip(cols, types, strict=True))
    await c.execute_script(f"CREATE TABLE {name} (id INT PRIMARY KEY, {ddl})", None)
    values: list[Any] = [
        decimal.Decimal("12.50"),
        datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
        datetime.date(2024, 5, 6),
        True,
        b"\x00\x01'\\",
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        datetime.time(10, 11, 12),
    ]
    await c.execute(
        f"INSERT INTO {name} (id, {', '.join(cols)}) VALUES ({env.phs(8)})", [1, *values], None
    )
    row = (await c.fetch(f"SELECT {', '.join(cols)} FROM {name}", [], None))[0]
    assert row["bin"] == b"\x00\x01'\\"
    assert row["dt"] in (datetime.date(2024, 5, 6), "2024-05-06")
    assert row["b"] in (True, 1)
    if env.engine == "postgres":
        assert [row[k] for k in cols] == values
    if env.engine == "mysql":
        assert row["d"] == decimal.Decimal("12.50") and row["ts"] == values[1]
        assert row["u"] == str(values[5])
    found = await c.fetch(
        f"SELECT id FROM {name} WHERE dt = {env.ph(1)} AND b = {env.ph(2)}",
        [datetime.date(2024, 5, 6), True],
        None,
    )
    assert found == [{"id": 1}]


async def test_errors_from_bulk_paths(env: Env) -> None:
    users = await env.users()
    c = env.conn
    with pytest.raises(IntegrityError) as info:
        await c.execute_many(
            f"INSERT INTO {users} (name, email) VALUES ({env.phs(2)})",
            [("a", SECRET), ("b", SECRET)],
            None,
        )
    assert info.value.kind == "unique"
    assert_clean(info.value)
    await c.execute(f"DELETE FROM {users}", [], None)  # MySQL kept the first row
    with pytest.raises(IntegrityError) as info:
        await c.copy_records(users, ["name", "email"], [["a", SECRET], ["b", SECRET]], None)
    assert info.value.kind == "unique"
    assert SECRET not in str(info.value)
    assert not c.broken


async def test_without_statement_cache(env: Env) -> None:
    only(env, "postgres")
    conn = await env.connect(replace(env.params, statement_cache=False))
    for i in range(3):
        assert await conn.fetch("SELECT $1::int AS v", [i], None) == [{"v": i}]


def _static_protocol_checks() -> None:
    """mypy: each driver satisfies the Driver / DriverConnection Protocols."""
    from jadugar.dialects.base import Driver
    from jadugar.dialects.mysql.driver import MySQLConnection, MySQLDriver
    from jadugar.dialects.postgres.driver import PostgresConnection, PostgresDriver
    from jadugar.dialects.sqlite.driver import SQLiteConnection, SQLiteDriver

    drivers: list[Driver] = [PostgresDriver(), MySQLDriver(), SQLiteDriver()]
    connections: list[type[PostgresConnection | MySQLConnection | SQLiteConnection]] = []

    def accepts(conn: DriverConnection) -> None: ...

    def check(p: PostgresConnection, m: MySQLConnection, s: SQLiteConnection) -> None:
        accepts(p)
        accepts(m)
        accepts(s)

    del drivers, connections, check


def test_a_program_that_never_disconnects_still_exits(tmp_path: Path) -> None:
    """SQLite's worker threads do not keep the interpreter alive after ``main`` returns."""
    script = tmp_path / "forgetful.py"
    script.write_text(
        "import asyncio\n"
        "from jadugar import DatabaseManager\n"
        "async def main() -> None:\n"
        f"    db = DatabaseManager(url='sqlite:///{tmp_path / 'app.db'}')\n"
        "    await db.connect()\n"
        "    await db.query.raw('CREATE TABLE t (id INTEGER PRIMARY KEY)').execute()\n"
        "    await db.query.table('t').insert({'id': 1}).execute()\n"
        "    print(await db.query.table('t').count())\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def _as_date(value: Any) -> datetime.date:
    """A DATE as read back: SQLite has no date type and returns the ISO text."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value
