"""Errors on real servers (SPEC 11): constraint violations, syntax errors, statement
timeouts that really stop the server's work, and the ``query``/``error`` events.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import pytest

from jadugar import (
    DatabaseManager,
    IntegrityError,
    JadugarError,
    QueryError,
    QueryTimeoutError,
)

from .conftest import EngineSQL, MakeDb, Tables

pytestmark = pytest.mark.asyncio


def check_integrity(
    exc: IntegrityError, *, kind: str, names: tuple[str, ...], secrets: tuple[str, ...]
) -> None:
    """What a user relies on: which constraint, the statement, the cause, and no values."""
    assert exc.kind == kind
    assert exc.constraint, f"no constraint name on {exc!r}"
    assert any(name in exc.constraint for name in names), (exc.constraint, names)
    assert exc.sql is not None and exc.sql.lstrip().upper().startswith("INSERT")
    assert exc.orig is not None and not isinstance(exc.orig, JadugarError)
    assert exc.code
    text = str(exc)
    for secret in secrets:
        assert secret not in text, text
        assert secret not in exc.sql


async def test_unique_violation(db: DatabaseManager, tables: Tables) -> None:
    users = db.query.table(tables.users)
    secret = "secret-duplicate@example.com"
    await users.insert({"name": "Ada", "email": secret})
    with pytest.raises(IntegrityError) as caught:
        await users.insert({"name": "Other", "email": secret})
    check_integrity(caught.value, kind="unique", names=("email",), secrets=(secret,))
    assert await users.count() == 1


async def test_foreign_key_violation(db: DatabaseManager, tables: Tables) -> None:
    with pytest.raises(IntegrityError) as caught:
        await db.query.table(tables.posts).insert(
            {"user_id": 987654321, "title": "secret-orphan-title"}
        )
    check_integrity(
        caught.value,
        kind="foreign_key",
        names=(tables.posts_user_fk, "user_id", tables.posts),
        secrets=("987654321", "secret-orphan-title"),
    )
    assert await db.query.table(tables.posts).count() == 0


async def test_not_null_violation(db: DatabaseManager, tables: Tables) -> None:
    secret = "secret-not-null@example.com"
    with pytest.raises(IntegrityError) as caught:
        await db.query.table(tables.users).insert({"name": None, "email": secret})
    check_integrity(caught.value, kind="not_null", names=("name",), secrets=(secret,))


async def test_check_violation(db: DatabaseManager, tables: Tables) -> None:
    ada = await db.query.table(tables.users).insert({"name": "Ada", "email": "a@example.com"})
    with pytest.raises(IntegrityError) as caught:
        await db.query.table(tables.posts).insert(
            {"user_id": ada.id, "title": "secret-check-title", "views": -987654}
        )
    check_integrity(
        caught.value,
        kind="check",
        names=(tables.posts_views_check, "views"),
        secrets=("-987654", "secret-check-title"),
    )


async def test_syntax_error_is_a_query_error_with_code(db: DatabaseManager) -> None:
    with pytest.raises(QueryError) as caught:
        await db.query.raw("SELEC 1 FROM nowhere").execute()
    exc = caught.value
    assert not isinstance(exc, IntegrityError | QueryTimeoutError)
    assert exc.code
    assert exc.sql == "SELEC 1 FROM nowhere"
    assert exc.orig is not None
    assert "SELEC 1" in str(exc)
    # the manager is fine afterwards
    assert await db.query.raw("SELECT 1 AS one").first() == {"one": 1}


async def test_unknown_table_is_a_query_error(db: DatabaseManager) -> None:
    missing = f"jt_missing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(QueryError) as caught:
        await db.query.table(missing).where({"id": 1}).all()
    assert caught.value.code
    assert missing in (caught.value.sql or "")


async def test_bad_values_never_leak_driver_errors_or_values(
    db: DatabaseManager, tables: Tables
) -> None:
    """Engines differ on whether they accept text in an integer column; none lets a driver
    exception or the value through."""
    secret = "secret-not-a-number"
    try:
        await db.query.table(tables.users).insert(
            {"name": "Ada", "email": "a@example.com", "age": secret}
        )
    except Exception as exc:
        assert isinstance(exc, JadugarError), type(exc)
        assert secret not in str(exc)


# ---- timeouts -----------------------------------------------------------------------------


async def _still_running(db: DatabaseManager, sql: str | None) -> int:
    if sql is None:
        return 0
    row = await db.query.raw(sql).first()
    return int(row["n"]) if row else 0


async def test_statement_timeout_stops_the_statement(
    db: DatabaseManager, engine_sql: EngineSQL
) -> None:
    marker = f"jt_slow_{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError) as caught:
        await db.query.raw(engine_sql.slow(marker)).options(timeout=0.3).all()
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 1.5, elapsed
    assert caught.value.sql is not None and marker in caught.value.sql

    # the server no longer runs it
    running = engine_sql.running(marker)
    deadline = time.monotonic() + 2.0
    while await _still_running(db, running) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await _still_running(db, running) == 0

    # and the manager works: a quick statement, then every pooled connection
    started = time.monotonic()
    assert await db.query.raw("SELECT 1 AS one").first() == {"one": 1}
    assert time.monotonic() - started < 1.0
    assert db.pool.get_status().in_use == 0
    conns = [await db.pool.acquire() for _ in range(db.pool.get_status().idle)]
    try:
        for conn in conns:
            assert await conn.fetch("SELECT 1 AS one", (), 2.0) == [{"one": 1}]
    finally:
        for conn in conns:
            await db.pool.release(conn)


async def test_default_timeout_from_the_options(make_db: MakeDb, engine_sql: EngineSQL) -> None:
    db = await make_db(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        async with asyncio.timeout(3):  # a guard: fail, don't hang, if the default is ignored
            await db.query.raw(engine_sql.slow(f"jt_slow_{uuid.uuid4().hex[:8]}")).all()
    assert time.monotonic() - started < 1.5
    assert await db.query.raw("SELECT 2 AS two").first() == {"two": 2}


async def test_timeout_inside_a_transaction_rolls_it_back(
    db: DatabaseManager, tables: Tables, engine_sql: EngineSQL
) -> None:
    with pytest.raises(QueryTimeoutError):
        async with db.transaction() as tx:
            await tx.table(tables.users).insert({"name": "Ada", "email": "a@example.com"})
            await (
                tx.raw(engine_sql.slow(f"jt_slow_{uuid.uuid4().hex[:8]}"))
                .options(timeout=0.3)
                .all()
            )
    assert await db.query.table(tables.users).count() == 0
    assert db.pool.get_status().in_use == 0


# ---- events -------------------------------------------------------------------------------


async def test_query_and_error_events(db: DatabaseManager, tables: Tables) -> None:
    queries: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    db.on("query", queries.append).on("error", errors.append)
    users = db.query.table(tables.users)

    await users.insert({"name": "Ada", "email": "ada@example.com"})
    await users.insert({"name": "Bob", "email": "bob@example.com"})
    rows = await users.where("name", "!=", "Zed").all()
    assert len(rows) == 2
    assert len(queries) == 3
    insert_event, _, select_event = queries
    assert insert_event["sql"].upper().startswith("INSERT")
    assert tables.q(tables.users) in insert_event["sql"]
    assert list(insert_event["params"]) == ["Ada", "ada@example.com"]
    assert insert_event["row_count"] == 1
    assert select_event["sql"].upper().startswith("SELECT")
    assert list(select_event["params"]) == ["Zed"]
    assert select_event["row_count"] == 2
    for event in queries:
        assert isinstance(event["duration"], float) and 0 <= event["duration"] < 5
    assert errors == []

    with pytest.raises(IntegrityError) as caught:
        await users.insert({"name": "Dup", "email": "ada@example.com"})
    assert len(queries) == 3  # a failed statement is an error event, not a query event
    assert len(errors) == 1
    assert errors[0]["error"] is caught.value
    assert errors[0]["sql"] == caught.value.sql

    db.off("query", queries.append)
    await users.count()
    assert len(queries) == 3


async def test_a_failing_event_handler_does_not_break_the_query(
    db: DatabaseManager, tables: Tables, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(payload: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    async def broken_async(payload: dict[str, Any]) -> None:
        raise RuntimeError("async handler bug")

    seen: list[str] = []
    db.on("query", broken).on("query", broken_async).on("query", lambda p: seen.append(p["sql"]))
    db.on("error", broken).on("transaction:begin", broken).on("transaction:commit", broken)
    users = db.query.table(tables.users)
    with caplog.at_level(logging.WARNING, logger="jadugar"):
        created = await users.insert({"name": "Ada", "email": "ada@example.com"})
        assert created.id
        async with db.transaction() as tx:
            await tx.table(tables.users).insert({"name": "Bob", "email": "bob@example.com"})
        with pytest.raises(IntegrityError):
            await users.insert({"name": "Dup", "email": "ada@example.com"})
        assert await users.count() == 2
        await asyncio.sleep(0.01)  # let the async handlers run
    assert len(seen) == 3  # the handler after the broken ones still ran
    messages = " ".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "handler bug" in messages
    assert "async handler bug" in messages
