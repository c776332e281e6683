"""Transactions on real servers (SPEC 2): commit, rollback, savepoints, ``transaction(fn)``
and its retry on serialization failures, isolation and read-only, the task's current
transaction (context variable), concurrency, and the transaction events.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest

from jadugar import (
    DatabaseConnectionError,
    DatabaseManager,
    IntegrityError,
    QueryError,
    RetryOptions,
    SerializationError,
    Transaction,
    TransactionError,
    fn,
)

from .conftest import EngineSQL, MakeDb, Tables

pytestmark = pytest.mark.asyncio
T = TypeVar("T")


class Boom(Exception):
    """Raised inside a transaction block to make it roll back."""


async def outside(awaitable: Awaitable[T]) -> T:
    """Await in a fresh context: a task that is not inside any transaction."""

    async def run() -> T:
        return await awaitable

    return await asyncio.create_task(run(), context=contextvars.Context())


async def user_names(db: DatabaseManager, tables: Tables) -> list[str]:
    rows = await db.query.table(tables.users).order_by("name").all()
    return [r["name"] for r in rows]


def user(name: str) -> dict[str, Any]:
    return {"name": name, "email": f"{name.lower()}@example.com"}


# ---- commit and rollback ------------------------------------------------------------------


async def test_commit_makes_rows_visible(db: DatabaseManager, tables: Tables) -> None:
    async with db.transaction() as tx:
        assert isinstance(tx, Transaction)
        first = await tx.table(tables.users).insert(user("Ada"))
        await tx.table(tables.posts).insert({"user_id": first.id, "title": "T"})
        await tx.raw(f"UPDATE {tables.q(tables.users)} SET age = ? WHERE id = ?", [36, first.id])
    assert await user_names(db, tables) == ["Ada"]
    assert await db.query.table(tables.posts).count() == 1
    assert (await db.query.table(tables.users).first() or {}).get("age") == 36
    assert db.pool.get_status().in_use == 0


async def test_an_exception_leaves_no_rows(db: DatabaseManager, tables: Tables) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as tx:
            created = await tx.table(tables.users).insert(user("Ada"))
            await tx.table(tables.posts).insert({"user_id": created.id, "title": "T"})
            assert await tx.table(tables.users).count() == 1
            raise Boom
    assert await user_names(db, tables) == []
    assert await db.query.table(tables.posts).count() == 0
    assert db.pool.get_status().in_use == 0


async def test_a_failed_statement_rolls_back_the_whole_block(
    db: DatabaseManager, tables: Tables
) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as tx:
            await tx.table(tables.users).insert(user("Ada"))
            await tx.table(tables.users).insert(user("Ada"))  # duplicate email
    assert await user_names(db, tables) == []


async def test_the_transaction_cannot_be_used_after_it_ended(
    db: DatabaseManager, tables: Tables
) -> None:
    async with db.transaction() as tx:
        await tx.table(tables.users).insert(user("Ada"))
    with pytest.raises(TransactionError):
        await tx.table(tables.users).count()
    with pytest.raises(TransactionError):
        async with tx:
            pass


async def test_query_builder_transaction(db: DatabaseManager, tables: Tables) -> None:
    async with db.query.transaction() as tx:
        await tx.table(tables.users).insert(user("Ada"))
    with pytest.raises(Boom):
        async with db.query.transaction() as tx:
            await tx.table(tables.users).insert(user("Bob"))
            raise Boom
    assert await user_names(db, tables) == ["Ada"]


# ---- savepoints ---------------------------------------------------------------------------


async def test_nested_savepoint_rollback_keeps_outer_work(
    db: DatabaseManager, tables: Tables
) -> None:
    if not db.dialect.capabilities.savepoints:
        pytest.skip("no savepoints on this engine")
    async with db.transaction() as tx:
        await tx.table(tables.users).insert(user("Ada"))
        with pytest.raises(Boom):
            async with tx.transaction() as inner:
                assert inner.savepoint is not None
                await inner.table(tables.users).insert(user("Bob"))
                assert await inner.table(tables.users).count() == 2
                raise Boom
        assert await tx.table(tables.users).count() == 1
        async with db.transaction():  # a nested manager-level transaction is a savepoint too
            await db.query.table(tables.users).insert(user("Cy"))
        with pytest.raises(Boom):
            async with db.transaction():
                await db.query.table(tables.users).insert(user("Dee"))
                raise Boom
        await tx.table(tables.users).insert(user("Eve"))
    assert await user_names(db, tables) == ["Ada", "Cy", "Eve"]


async def test_savepoint_recovers_from_a_failed_statement(
    db: DatabaseManager, tables: Tables
) -> None:
    """A constraint error inside a savepoint does not doom the outer transaction."""
    async with db.transaction() as tx:
        await tx.table(tables.users).insert(user("Ada"))
        with pytest.raises(IntegrityError):
            async with tx.transaction() as inner:
                await inner.table(tables.users).insert(user("Bob"))
                await inner.table(tables.users).insert(user("Ada"))  # duplicate email
        await tx.table(tables.users).insert(user("Cy"))
    assert await user_names(db, tables) == ["Ada", "Cy"]


async def test_outer_rollback_discards_released_savepoints(
    db: DatabaseManager, tables: Tables
) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as tx:
            async with tx.transaction() as inner:
                await inner.table(tables.users).insert(user("Ada"))
            raise Boom
    assert await user_names(db, tables) == []


# ---- transaction(fn) and retries ----------------------------------------------------------


async def test_transaction_fn_returns_its_value(db: DatabaseManager, tables: Tables) -> None:
    async def work(tx: Transaction) -> int:
        created = await tx.table(tables.users).insert(user("Ada"))
        return int(created.id)

    new_id = await db.transaction(work)
    row = await db.query.table(tables.users).where({"id": new_id}).first()
    assert row is not None and row["name"] == "Ada"

    async def fail(tx: Transaction) -> None:
        await tx.table(tables.users).insert(user("Bob"))
        raise Boom

    with pytest.raises(Boom):
        await db.transaction(fail)
    assert await user_names(db, tables) == ["Ada"]


async def test_retry_reruns_the_whole_function(make_db: MakeDb, tables: Tables) -> None:
    db = await make_db(retry_options=RetryOptions(attempts=4, base_delay=0.001, max_delay=0.01))
    retries: list[dict[str, Any]] = []
    db.on("retry", retries.append)
    calls = 0

    async def flaky(tx: Transaction) -> str:
        nonlocal calls
        calls += 1
        await tx.table(tables.users).insert(user(f"Try{calls}"))
        if calls < 3:
            raise SerializationError("simulated serialization failure", code="40001")
        return "done"

    assert await db.transaction(flaky) == "done"
    assert calls == 3
    assert [r["attempt"] for r in retries] == [1, 2]
    assert all(isinstance(r["error"], SerializationError) for r in retries)
    # the failed attempts were rolled back: only the last attempt's row is there
    assert await user_names(db, tables) == ["Try3"]
    assert db.pool.get_status().in_use == 0


async def test_retry_honours_the_attempts_option(make_db: MakeDb, tables: Tables) -> None:
    for attempts in (1, 4):
        db = await make_db(
            retry_options=RetryOptions(attempts=attempts, base_delay=0.001, max_delay=0.01)
        )
        retries: list[dict[str, Any]] = []
        db.on("retry", retries.append)
        calls = 0

        async def always(tx: Transaction, attempts: int = attempts) -> None:
            nonlocal calls
            calls += 1
            await tx.table(tables.users).insert(user(f"A{attempts}x{calls}"))
            raise SerializationError("simulated", code="40001")

        with pytest.raises(SerializationError):
            await db.transaction(always)
        assert calls == attempts
        assert len(retries) == attempts - 1
    assert await user_names(db, tables) == []


async def test_other_errors_and_nested_calls_are_not_retried(
    db: DatabaseManager, tables: Tables
) -> None:
    calls = 0

    async def wrong(tx: Transaction) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("not retryable")

    with pytest.raises(ValueError):
        await db.transaction(wrong)
    assert calls == 1

    calls = 0

    async def conflict(tx: Transaction) -> None:
        nonlocal calls
        calls += 1
        raise SerializationError("simulated", code="40001")

    async with db.transaction():
        with pytest.raises(SerializationError):
            await db.transaction(conflict)  # a savepoint: only the outer block may retry
    assert calls == 1


async def test_retry_after_a_real_write_conflict(db: DatabaseManager, tables: Tables) -> None:
    """Two serializable read-modify-write transactions on one row, interleaved: the
    server refuses one (serialization failure or deadlock where it detects them), the
    whole function is run again, and no update is lost."""
    counter = await db.query.table(tables.users).insert({**user("Counter"), "age": 0})
    retries: list[dict[str, Any]] = []
    db.on("retry", retries.append)
    calls = 0
    reads = 0
    both_read = asyncio.Event()

    async def bump(tx: Transaction) -> int:
        nonlocal calls, reads
        calls += 1
        row = await tx.table(tables.users).where({"id": counter.id}).first()
        assert row is not None
        reads += 1
        if reads >= 2:
            both_read.set()
        # wait for the other transaction to have read too (engines with one writer at a
        # time never get there: the other transaction waits in BEGIN)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both_read.wait(), 0.5)
        value = int(row["age"]) + 1
        await tx.table(tables.users).where({"id": counter.id}).update({"age": value})
        return value

    results = await asyncio.gather(
        db.transaction(bump, isolation="serializable"),
        db.transaction(bump, isolation="serializable"),
    )
    final = await db.query.table(tables.users).where({"id": counter.id}).first()
    assert final is not None and final["age"] == 2  # no lost update
    assert sorted(results) == [1, 2]
    assert calls == 2 + len(retries)
    assert all(isinstance(r["error"], SerializationError) for r in retries)
    assert db.pool.get_status().in_use == 0


async def test_a_connection_lost_before_commit_reruns_the_whole_function(
    make_db: MakeDb, tables: Tables, engine_sql: EngineSQL
) -> None:
    """Nothing was committed (the server rolls back a transaction whose connection ends):
    the function runs again, as after a deadlock (a Galera node dying mid-transaction)."""
    db = await make_db(retry_options=RetryOptions(attempts=3, base_delay=0.001, max_delay=0.01))
    retries: list[dict[str, Any]] = []
    db.on("retry", retries.append)
    calls = 0

    async def body(tx: Transaction) -> str:
        nonlocal calls
        calls += 1
        await tx.table(tables.users).insert(user(f"Try{calls}"))
        if calls == 1:
            kill = engine_sql.kill(tx.connection.session_id)
            if kill is None:  # an embedded engine: no server session to end
                raise DatabaseConnectionError("simulated: the connection was lost")
            await outside(db.query.raw(kill).execute())
            await tx.table(tables.users).count()  # the connection is gone
        return "done"

    assert await db.transaction(body) == "done"
    assert calls == 2
    assert [type(r["error"]) for r in retries] == [DatabaseConnectionError]
    assert await user_names(db, tables) == ["Try2"]
    assert db.pool.get_status().in_use == 0


async def test_a_connection_lost_during_commit_is_not_rerun(
    make_db: MakeDb, tables: Tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lost while COMMIT was on its way: the server may have committed, so running the
    function again could apply it twice; the error reaches the caller."""
    db = await make_db(retry_options=RetryOptions(attempts=3, base_delay=0.001, max_delay=0.01))
    calls = 0

    async def body(tx: Transaction) -> None:
        nonlocal calls
        calls += 1
        await tx.table(tables.users).insert(user(f"Try{calls}"))
        conn = tx.connection
        real = type(conn).execute_script

        async def cut(self: Any, sql: str, timeout: float | None) -> None:
            if self is conn and sql == "COMMIT":
                self.broken = True  # as a driver does when the link drops
                raise DatabaseConnectionError("simulated: lost during COMMIT")
            await real(self, sql, timeout)

        monkeypatch.setattr(type(conn), "execute_script", cut)

    with pytest.raises(DatabaseConnectionError, match="during COMMIT"):
        await db.transaction(body)
    monkeypatch.undo()
    assert calls == 1
    assert await user_names(db, tables) == []  # never committed here (the link was cut)
    assert db.pool.get_status().in_use == 0


# ---- isolation and read-only --------------------------------------------------------------


async def test_every_advertised_isolation_level_works(db: DatabaseManager, tables: Tables) -> None:
    await db.query.table(tables.users).insert(user("Ada"))
    for level in db.dialect.capabilities.isolation_levels:
        async with db.transaction(isolation=level) as tx:
            assert await tx.table(tables.users).count() == 1
        async with db.transaction(isolation=level, read_only=True) as tx:
            assert await tx.table(tables.users).count() == 1
    with pytest.raises(ValueError):
        db.transaction(isolation="chaos")
    with pytest.raises(ValueError):
        db.transaction(isolation="serializable; DROP TABLE users")


async def test_snapshot_isolation_keeps_reads_stable(db: DatabaseManager, tables: Tables) -> None:
    levels = db.dialect.capabilities.isolation_levels
    level = "repeatable_read" if "repeatable_read" in levels else "serializable"
    created = await db.query.table(tables.users).insert({**user("Ada"), "age": 1})
    ada = db.query.table(tables.users).where({"id": created.id})
    async with db.transaction(isolation=level, read_only=True) as tx:
        before = await tx.table(tables.users).where({"id": created.id}).first()
        changed = await outside(ada.update({"age": 2}))
        assert changed.row_count == 1
        again = await tx.table(tables.users).where({"id": created.id}).first()
    assert before is not None and again is not None
    assert before["age"] == again["age"] == 1
    assert (await ada.first() or {}).get("age") == 2

    if "read_committed" in levels:
        async with db.transaction(isolation="read_committed") as tx:
            before = await tx.table(tables.users).where({"id": created.id}).first()
            await outside(ada.update({"age": 3}))
            again = await tx.table(tables.users).where({"id": created.id}).first()
        assert before is not None and again is not None
        assert (before["age"], again["age"]) == (2, 3)


async def test_read_only_transactions(db: DatabaseManager, tables: Tables) -> None:
    await db.query.table(tables.users).insert(user("Ada"))
    # Every engine: a read-only transaction reads, and does not hold up a writer elsewhere.
    async with db.transaction(read_only=True) as tx:
        assert await tx.table(tables.users).count() == 1
        await asyncio.wait_for(outside(db.query.table(tables.users).insert(user("Bob"))), 3)
    assert await user_names(db, tables) == ["Ada", "Bob"]

    begin = " ".join(db.dialect.compiler.begin_sql(None, True)).upper()
    if "READ ONLY" in begin:
        # the server enforces it: a write fails and nothing is kept
        with pytest.raises(QueryError) as caught:
            async with db.transaction(read_only=True) as tx:
                await tx.table(tables.users).insert(user("Cy"))
        assert not isinstance(caught.value, IntegrityError)
        assert caught.value.code
    else:
        # documented for SQLite: read_only=True is BEGIN DEFERRED, a read transaction that
        # takes no write lock up front; SQLite does not refuse a write made inside it
        assert "DEFERRED" in begin
        async with db.transaction(read_only=True) as tx:
            await tx.table(tables.users).insert(user("Cy"))
    expected = ["Ada", "Bob"] if "READ ONLY" in begin else ["Ada", "Bob", "Cy"]
    assert await user_names(db, tables) == expected
    assert db.pool.get_status().in_use == 0


# ---- the task's current transaction (context variable) -------------------------------------


async def test_builders_follow_the_current_transaction(db: DatabaseManager, tables: Tables) -> None:
    users = db.query.table(tables.users)
    with pytest.raises(Boom):
        async with db.transaction():
            created = await users.insert(user("Ada"))  # no tx argument
            assert await users.count() == 1  # sees its own uncommitted row
            assert (await users.where({"id": created.id}).first() or {}).get("name") == "Ada"
            await db.query.raw(
                f"UPDATE {tables.q(tables.users)} SET age = ? WHERE id = ?", [5, created.id]
            ).execute()
            assert await users.where({"age": 5}).count() == 1
            # another task, outside the transaction, does not see uncommitted work
            assert await outside(users.count()) == 0
            raise Boom
    assert await users.count() == 0

    async with db.transaction():
        await users.insert(user("Bob"))
        assert await outside(users.count()) == 0
    assert await outside(users.count()) == 1
    assert await user_names(db, tables) == ["Bob"]


async def test_concurrent_transactions_use_their_own_connections(
    db: DatabaseManager, tables: Tables
) -> None:
    inserted = 0
    both = asyncio.Event()
    connections: list[Any] = []

    async def work(name: str) -> str:
        nonlocal inserted
        async with db.transaction() as tx:
            connections.append(tx.connection)
            await db.query.table(tables.users).insert(user(name))
            inserted += 1
            if inserted == 2:
                both.set()
            # hold both open at once where the engine allows two writers
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(both.wait(), 0.5)
            return name

    assert sorted(await asyncio.gather(work("Ada"), work("Bob"))) == ["Ada", "Bob"]
    assert connections[0] is not connections[1]
    assert await user_names(db, tables) == ["Ada", "Bob"]
    assert db.pool.get_status().in_use == 0


async def test_many_concurrent_write_transactions_all_succeed(
    db: DatabaseManager, tables: Tables
) -> None:
    """On SQLite: BEGIN IMMEDIATE and the busy timeout queue the writers, none fails
    with "database is locked"."""
    items = db.query.table(tables.items)
    counter = await items.insert({"n": 0, "label": "counter"})

    async def writer(i: int) -> None:
        async with db.transaction() as tx:
            await tx.table(tables.items).insert({"n": i, "label": f"task {i}"})
            await asyncio.sleep(0.005)
            await tx.table(tables.items).where({"id": counter.id}).update({"n": fn.raw("n + 1")})

    await asyncio.gather(*(writer(i) for i in range(1, 21)))
    assert await items.count() == 21
    assert (await items.where({"id": counter.id}).first() or {}).get("n") == 20
    assert db.pool.get_status().in_use == 0


# ---- events -------------------------------------------------------------------------------


async def test_transaction_events_fire_in_order(db: DatabaseManager, tables: Tables) -> None:
    events: list[tuple[str, int]] = []
    for name in ("transaction:begin", "transaction:commit", "transaction:rollback"):
        db.on(
            name, lambda payload, name=name: events.append((name.split(":")[1], payload["depth"]))
        )

    async with db.transaction() as tx:
        await tx.table(tables.users).insert(user("Ada"))
    with pytest.raises(Boom):
        async with db.transaction():
            raise Boom
    async with db.transaction() as tx:
        async with tx.transaction():
            pass
        with pytest.raises(Boom):
            async with tx.transaction():
                raise Boom
    assert events == [
        ("begin", 0),
        ("commit", 0),
        ("begin", 0),
        ("rollback", 0),
        ("begin", 0),
        ("begin", 1),
        ("commit", 1),
        ("begin", 1),
        ("rollback", 1),
        ("commit", 0),
    ]
