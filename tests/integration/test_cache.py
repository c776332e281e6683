"""The query result cache (``.cache(ttl=...)``) on every SQL engine: reads served without a
statement, TTL and LRU bounds, invalidation by every kind of write made through Jadugar
(and only by writes to the tables a query reads), transactions, metrics, a custom backend;
and, on PostgreSQL, the statement cache turned off (nothing left prepared by name).

Statements are counted through the ``query`` event: a cached read emits none.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any

import pytest
from blog import User

from jadugar import (
    CacheBackend,
    CacheKey,
    DatabaseManager,
    MemoryCacheBackend,
    QueryError,
    TableQueryBuilder,
)
from jadugar.cache import ANY_TABLE

from .conftest import USERS, MakeDb, Tables
from .test_models import blog

pytestmark = pytest.mark.asyncio

__all__ = ["blog"]  # the blog schema fixture, shared with test_models.py


class Statements:
    """Counts the statements a manager sends (its ``query`` events)."""

    def __init__(self, db: DatabaseManager) -> None:
        self.sql: list[str] = []
        db.on("query", lambda event: self.sql.append(event["sql"]))

    def take(self) -> int:
        """Statements sent since the last call."""
        count = len(self.sql)
        self.sql.clear()
        return count


def as_json(value: Any) -> Any:
    """JSON columns read back as dicts (PostgreSQL) or as text (MySQL, SQLite)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def names(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(row["name"] for row in rows)


def outside_transaction(call: Callable[[], Awaitable[Any]]) -> asyncio.Task[Any]:
    """Runs ``call`` as another task, outside the caller's transaction (a new task
    otherwise inherits the current one with the context)."""

    async def run() -> Any:
        return await call()

    return asyncio.create_task(run(), context=contextvars.Context())


# ---- reads --------------------------------------------------------------------------------


async def test_a_cached_read_sends_no_statement(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    statements = Statements(db)
    active = db.query.table(tables.users).where({"active": True}).cache(ttl=60)
    first = await active.order_by("name").all()
    assert statements.take() == 1
    again = await active.order_by("name").all()
    assert statements.take() == 0
    assert again == first and [r["name"] for r in again] == ["Ada", "Cy", "Dee"]
    assert await active.count() == 3 and await active.count() == 3
    assert await active.exists() and await active.exists()
    assert (await active.where({"name": "Dee"}).first() or {}).get("age") == 52
    assert (await active.where({"name": "Dee"}).first() or {}).get("age") == 52
    assert statements.take() == 3  # count, exists, first: once each
    # the same query uncached, or with other parameters, is not served from the cache
    assert len(await db.query.table(tables.users).where({"active": True}).all()) == 3
    assert names(await db.query.table(tables.users).where({"active": False}).cache().all()) == [
        "Bob",
        "Eve",
    ]
    assert statements.take() == 2


async def test_rows_handed_out_are_copies(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    await users.where({"name": "Ada"}).update({"profile": {"tags": ["math"]}})
    query = users.where({"name": "Ada"}).cache()
    row = await query.first()
    assert row is not None
    row["name"] = "changed by the caller"
    if isinstance(row["profile"], dict):  # JSON read back as a dict (PostgreSQL)
        row["profile"]["tags"].append("changed in place")
    (await query.all())[0]["email"] = "changed too"
    again = await query.first()
    assert again is not None and again["name"] == "Ada" and again["email"] == "ada@example.com"
    assert as_json(again["profile"]) == {"tags": ["math"]}
    assert db.cache_metrics().hits == 1  # first(), all() and first() again: a hit


async def test_entries_expire_after_their_ttl(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    statements = Statements(db)
    query = db.query.table(tables.users).cache(ttl=0.5)
    assert await query.count() == 5
    assert await query.count() == 5
    assert statements.take() == 1
    await asyncio.sleep(0.6)
    assert await query.count() == 5
    assert statements.take() == 1


async def test_the_default_ttl_comes_from_the_options(make_db: MakeDb, tables: Tables) -> None:
    db = await make_db(cache={"default_ttl": 0.5})
    await db.query.table(tables.users).insert(USERS[0])
    statements = Statements(db)
    query = db.query.table(tables.users).cache()
    for _ in range(3):
        assert await query.count() == 1
    assert statements.take() == 1
    await asyncio.sleep(0.6)
    assert await query.count() == 1
    assert statements.take() == 1


async def test_the_entry_bound_evicts_the_least_recently_used(
    make_db: MakeDb, tables: Tables
) -> None:
    db = await make_db(cache={"max_entries": 2})
    await tables.seed()
    statements = Statements(db)
    users = db.query.table(tables.users)
    ada, bob, cy = (users.where({"name": n}).cache() for n in ("Ada", "Bob", "Cy"))
    await ada.first()
    await bob.first()
    await ada.first()  # Ada is now the most recently used: Bob is the oldest
    assert statements.take() == 2
    await cy.first()  # a third entry: Bob goes
    assert statements.take() == 1
    await ada.first()
    await cy.first()
    assert statements.take() == 0
    assert (await bob.first() or {}).get("email") == "bob@example.com"
    assert statements.take() == 1
    metrics = db.cache_metrics()
    assert metrics.entries == 2 and metrics.evictions == 2  # Bob, then Ada for Bob


async def test_a_disabled_cache_reads_the_database(make_db: MakeDb, tables: Tables) -> None:
    db = await make_db(cache={"enabled": False})
    await tables.seed()
    statements = Statements(db)
    query = db.query.table(tables.users).cache()
    assert await query.count() == 5 and await query.count() == 5
    assert statements.take() == 2
    assert db.cache_metrics().entries == 0


# ---- invalidation ---------------------------------------------------------------------------


Write = Callable[[DatabaseManager, str], Awaitable[object]]

WRITES: dict[str, Write] = {
    "insert": lambda db, t: db.query.table(t).insert(
        {"name": "Fay", "email": "fay@example.com", "age": 40}
    ),
    "insert_many": lambda db, t: db.query.table(t).insert_many(
        [
            {"name": "Fay", "email": "fay@example.com", "age": 40},
            {"name": "Gus", "email": "gus@example.com", "age": 41},
        ]
    ),
    "upsert": lambda db, t: db.query.table(t).upsert(
        {"name": "Ada", "email": "ada@example.com", "age": 40}, conflict=["email"]
    ),
    "update": lambda db, t: db.query.table(t).where({"name": "Ada"}).update({"age": 40}),
    "delete": lambda db, t: db.query.table(t).where({"name": "Ada"}).delete(),
}


def the_forties(db: DatabaseManager, users: str) -> TableQueryBuilder:
    return db.query.table(users).where("age", ">=", 40).where("age", "<", 50).cache()


@pytest.mark.parametrize("write", list(WRITES))
async def test_a_write_invalidates_the_queries_of_its_table(
    db: DatabaseManager, tables: Tables, write: str
) -> None:
    await tables.seed()
    users = tables.users
    forties = the_forties(db, users)
    posts_by_author = (
        db.query.table(tables.posts)
        .join(users, f"{tables.posts}.user_id", f"{users}.id")
        .select(f"{users}.name", f"{tables.posts}.title")
        .cache()
    )
    items = db.query.table(tables.items).cache()
    assert await forties.all() == []
    before = len(await posts_by_author.all())
    assert await items.count() == 0
    statements = Statements(db)
    await WRITES[write](db, users)
    statements.take()
    after = await forties.all()
    assert statements.take() == 1  # read again: the entry was dropped
    expected = {"insert": 1, "insert_many": 1, "upsert": 1, "update": 1, "delete": 0}
    assert len([r for r in after if r["age"] == 40]) == expected[write]
    rows = await posts_by_author.all()  # the joined table was written
    assert statements.take() == 1
    assert len(rows) == (before - 3 if write == "delete" else before)  # cascade
    assert await items.count() == 0
    assert statements.take() == 0  # an unrelated table: still cached


async def test_a_write_to_a_joined_table_invalidates(db: DatabaseManager, tables: Tables) -> None:
    ids = await tables.seed()
    users, posts = tables.users, tables.posts
    views = (
        db.query.table(users)
        .join(posts, f"{posts}.user_id", f"{users}.id")
        .where({f"{users}.name": "Dee"})
        .cache()
    )
    assert await views.sum(f"{posts}.views") == 1
    ada = db.query.table(users).where({"name": "Ada"}).cache()
    assert await ada.first() is not None
    statements = Statements(db)
    await db.query.table(posts).insert({"user_id": ids["Dee"], "title": "More", "views": 9})
    statements.take()
    assert await views.sum(f"{posts}.views") == 10
    assert statements.take() == 1
    assert await ada.first() is not None
    assert statements.take() == 0  # reads users only: a write to posts leaves it


async def test_subqueries_and_raw_fragments_are_tracked(
    db: DatabaseManager, tables: Tables
) -> None:
    await tables.seed()
    users, posts = tables.users, tables.posts
    many = db.query.table(users).where({"active": True}).limit(2)
    wrapped = many.cache()  # count() over a limited query reads a subquery
    assert await wrapped.count() == 2
    prolific = (
        db.query.table(users)
        .where_raw(f"id IN (SELECT user_id FROM {tables.q(posts)} WHERE views > ?)", [50])
        .cache()
    )
    assert names(await prolific.all()) == ["Ada"]
    statements = Statements(db)
    await db.query.table(users).where({"name": "Ada"}).update({"active": False})
    await db.query.table(posts).where({"title": "Hello"}).update({"views": 60})
    statements.take()
    assert await wrapped.count() == 2
    assert names(await prolific.all()) == ["Ada", "Bob"]  # a raw fragment: any write counts
    assert statements.take() == 2


async def test_raw_writes_invalidate_and_raw_reads_do_not(
    db: DatabaseManager, tables: Tables
) -> None:
    await tables.seed()
    query = db.query.table(tables.users).cache()
    assert await query.count() == 5
    statements = Statements(db)
    await db.query.raw(f"SELECT count(*) AS n FROM {tables.q(tables.users)}").all()
    await db.query.raw(f"SELECT count(*) AS n FROM {tables.q(tables.items)}").execute()
    assert await query.count() == 5
    assert statements.take() == 2  # the two raw reads only
    await db.query.raw(
        f"UPDATE {tables.q(tables.users)} SET age = ? WHERE name = ?", [1, "Ada"]
    ).execute()
    statements.take()
    assert await query.where({"age": 1}).count() == 1
    assert await query.count() == 5
    assert statements.take() == 2  # a raw write drops every entry of the database
    await db.invalidate_cache(tables.users)  # for writes Jadugar does not see
    assert await query.count() == 5
    assert statements.take() == 1


async def test_model_writes_invalidate(blog: DatabaseManager) -> None:
    ada = await User.create(name="Ada", email="ada@example.com", password_hash="x" * 20)
    statements = Statements(blog)
    everyone = User.query().order_by("name").cache()

    async def listed() -> list[str]:
        return [u.name for u in await everyone.get()]

    assert await listed() == ["Ada"]
    assert await listed() == ["Ada"]
    assert statements.take() == 1
    ada.name = "Ada L."
    await ada.save()
    assert await listed() == ["Ada L."]
    await User.create_many([{"name": "Bob", "email": "bob@example.com", "password_hash": "y" * 20}])
    assert await listed() == ["Ada L.", "Bob"]
    await User.update(ada.id, name="Ada")
    assert await listed() == ["Ada", "Bob"]
    await ada.delete()  # a soft delete: an update of deleted_at
    assert await listed() == ["Bob"]
    assert await User.query().cache().count() == 1
    statements.take()
    assert await listed() == ["Bob"]
    assert await User.query().cache().count() == 1
    assert statements.take() == 0


# ---- transactions ---------------------------------------------------------------------------


async def test_reads_in_a_transaction_bypass_the_cache(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    query = db.query.table(tables.users).where({"name": "Ada"}).cache()
    assert (await query.first() or {}).get("age") == 36
    statements = Statements(db)
    async with db.transaction() as tx:
        assert (await query.first() or {}).get("age") == 36  # read, not looked up
        await tx.table(tables.users).where({"name": "Ada"}).update({"age": 37})
        assert (await query.first() or {}).get("age") == 37  # its own write
        in_tx = await tx.table(tables.users).where({"name": "Ada"}).cache().first()
        assert (in_tx or {}).get("age") == 37
    assert statements.take() == 4
    assert (await query.first() or {}).get("age") == 37
    assert db.cache_metrics().bypasses == 3


async def test_a_read_between_write_and_commit_does_not_outlive_the_commit(
    db: DatabaseManager, tables: Tables
) -> None:
    await tables.seed()
    query = db.query.table(tables.users).where({"name": "Ada"}).cache()
    assert (await query.first() or {}).get("age") == 36
    async with db.transaction() as tx:
        await tx.table(tables.users).where({"name": "Ada"}).update({"age": 37})
        # another task, outside the transaction: the committed state, cached again
        seen = await outside_transaction(query.first)
        assert seen is not None and seen["age"] == 36
        assert db.cache_metrics().entries == 1
    row = await query.first()  # the commit invalidated it again
    assert row is not None and row["age"] == 37


async def test_a_rolled_back_write_leaves_correct_results(
    db: DatabaseManager, tables: Tables
) -> None:
    await tables.seed()
    query = db.query.table(tables.users).where({"active": True}).cache()
    assert await query.count() == 3
    with pytest.raises(RuntimeError, match="undo"):
        async with db.transaction() as tx:
            await tx.table(tables.users).where({"name": "Bob"}).update({"active": True})
            await tx.table(tables.users).insert({"name": "Fay", "email": "fay@example.com"})
            assert await query.count() == 5
            raise RuntimeError("undo")
    assert await query.count() == 3
    assert await query.count() == 3
    async with db.transaction() as tx, tx.transaction():  # a savepoint's write
        await tx.table(tables.users).where({"name": "Bob"}).update({"active": True})
    assert await query.count() == 4


# ---- metrics and backends -------------------------------------------------------------------


async def test_metrics_count_hits_misses_entries_invalidations(
    db: DatabaseManager, tables: Tables
) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    start = db.cache_metrics()
    assert (start.hits, start.misses, start.entries) == (0, 0, 0)
    for name in ("Ada", "Bob", "Ada", "Ada", "Bob"):
        await users.where({"name": name}).cache().first()
    await db.query.table(tables.items).cache().count()
    metrics = db.cache_metrics()
    assert (metrics.hits, metrics.misses, metrics.entries) == (3, 3, 3)
    assert metrics.invalidations == 0
    await users.where({"name": "Cy"}).update({"age": 1})
    metrics = db.cache_metrics()
    assert (metrics.entries, metrics.invalidations) == (1, 2)
    await db.invalidate_cache()
    assert db.cache_metrics().entries == 0


class DictBackend:
    """A minimal backend of its own: a dict, no TTL, no bound; records what it was asked."""

    def __init__(self) -> None:
        self.store: dict[CacheKey, tuple[list[dict[str, Any]], frozenset[str]]] = {}
        self.calls: list[str] = []

    async def get(self, key: CacheKey) -> list[dict[str, Any]] | None:
        self.calls.append("get")
        found = self.store.get(key)
        return None if found is None else found[0]

    async def set(
        self, key: CacheKey, rows: list[dict[str, Any]], tables: frozenset[str], ttl: float | None
    ) -> None:
        self.calls.append("set")
        self.store[key] = (rows, tables)

    async def invalidate(self, database: str, tables: Iterable[str]) -> int:
        self.calls.append("invalidate")
        wanted = {*tables, ANY_TABLE}
        doomed = [k for k, (_, t) in self.store.items() if k.database == database and t & wanted]
        for key in doomed:
            del self.store[key]
        return len(doomed)

    async def clear(self, database: str | None = None) -> int:
        self.calls.append("clear")
        doomed = [k for k in self.store if database is None or k.database == database]
        for key in doomed:
            del self.store[key]
        return len(doomed)

    def entry_count(self) -> int | None:
        return len(self.store)


async def test_a_custom_backend_is_used(make_db: MakeDb, tables: Tables) -> None:
    backend = DictBackend()
    assert isinstance(backend, CacheBackend)
    db = await make_db(cache_backend=backend)
    await tables.seed()
    statements = Statements(db)
    query = db.query.table(tables.users).where({"active": True}).cache(ttl=30)
    assert await query.count() == 3 and await query.count() == 3
    assert statements.take() == 1
    assert backend.calls == ["get", "set", "get"]
    ((key, (rows, read)),) = backend.store.items()
    assert key.database == db.options.url_masked and key.sql.startswith("SELECT")
    assert [list(row.values()) for row in rows] == [[3]]
    assert read == {tables.users.lower()}
    await db.query.table(tables.users).where({"name": "Bob"}).update({"active": True})
    assert backend.calls[-1] == "invalidate" and not backend.store
    assert await query.count() == 4
    assert db.cache_metrics().invalidations == 1
    assert not isinstance(db.query_cache.backend, MemoryCacheBackend)


async def test_cache_takes_a_positive_ttl(db: DatabaseManager) -> None:
    query = db.query.table("anything")
    with pytest.raises(ValueError, match="more than 0"):
        query.cache(ttl=0)
    with pytest.raises(TypeError, match="finite number"):
        query.cache(ttl=float("inf"))


# ---- statement cache (PostgreSQL) -----------------------------------------------------------

PREPARED = "SELECT name FROM pg_prepared_statements"


@pytest.mark.engines("postgres")
@pytest.mark.no_pooler("a pooled server connection lists other clients' statements too")
@pytest.mark.parametrize("statement_cache", [True, False])
async def test_without_the_statement_cache_nothing_stays_prepared(
    make_db: MakeDb, tables: Tables, statement_cache: bool
) -> None:
    db = await make_db(statement_cache=statement_cache, pool={"max": 1})
    await tables.seed()
    items = db.query.table(tables.items)
    await items.insert_many([{"n": i, "label": str(i)} for i in range(600)])  # COPY
    await items.where({"n": 1}).update({"label": "one"})
    assert await items.where("n", "<", 10).count() == 10
    async with db.transaction() as tx:
        await tx.table(tables.items).where({"n": 2}).delete()
        async with aclosing(tx.table(tables.items).stream(batch_size=10)) as left_early:
            async for _ in left_early:
                break
        streamed = [row["n"] async for row in tx.table(tables.items).stream(batch_size=64)]
    assert len(streamed) == 599
    with pytest.raises(QueryError) as info:
        async for _ in db.query.table(f"{tables.items}_missing").stream():
            pass
    assert (info.value.sql or "").startswith("SELECT")  # the statement, as written
    prepared = await db.query.raw(PREPARED).all()
    assert bool(prepared) is statement_cache
    # while a stream is open, on its own connection, between two batches
    conn = await db.open_connection()
    try:
        await conn.execute_script("BEGIN", None)
        batches = conn.stream(f"SELECT n FROM {tables.q(tables.items)} WHERE n > $1", [5], 50, None)
        first = await anext(batches)
        during = await conn.fetch(PREPARED, [], None)
        rest = [batch async for batch in batches]
        await conn.execute_script("COMMIT", None)
    finally:
        await conn.close()
    assert len(first) == 50 and sum(map(len, rest)) == 594 - 50
    assert bool(during) is statement_cache
