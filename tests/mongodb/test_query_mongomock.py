"""The query builder on MongoDB, end to end: ``DatabaseManager(url="mongomock://<name>")``,
``db.query.table(...)``, compiled by ``MongoCompiler`` and run in-process by mongomock.

Every test here runs on mongomock (the ``_mongomock`` in the names says so); the driver
behaviour over the wire is covered by ``test_driver.py``'s server variants (NX-27017, or
the server ``JADUGAR_MONGODB_URL`` names).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jadugar import DatabaseManager
from jadugar.dialects.mongodb.builder import MongoTableQueryBuilder
from jadugar.dialects.mongodb.driver import MongoTransaction, drop_mongomock_store
from jadugar.dialects.mongodb.ops import Aggregate, Find
from jadugar.errors import (
    ConfigurationError,
    DatabaseConnectionError,
    IntegrityError,
    UnsafeQueryError,
    UnsupportedOperation,
)
from jadugar.query.builder import TableQueryBuilder
from jadugar.query.expressions import Column, fn

PEOPLE = [
    {"id": 1, "name": "ann", "age": 31, "team": "red", "email": "ann@x.io"},
    {"id": 2, "name": "bob", "age": 22, "team": "blue", "email": None},
    {"id": 3, "name": "Cid", "age": 45, "team": "red", "email": "cid@x.io"},
    {"id": 4, "name": "dee", "age": None, "team": "green", "email": "dee@y.io"},
    {"id": 5, "name": "eve", "age": 27, "team": "blue", "email": "eve@x.io"},
]


@pytest.fixture
async def db() -> AsyncIterator[DatabaseManager]:
    name = f"jq_{uuid.uuid4().hex[:12]}"
    manager = DatabaseManager(url=f"mongomock://{name}")
    try:
        async with manager:
            yield manager
    finally:
        drop_mongomock_store(name)


async def seeded(db: DatabaseManager) -> MongoTableQueryBuilder:
    people = db.query.table("people")
    assert isinstance(people, MongoTableQueryBuilder)
    result = await people.insert_many(PEOPLE)
    assert result.row_count == len(PEOPLE)
    return people


def ids(rows: list[dict[str, Any]]) -> list[Any]:
    return sorted(row["id"] for row in rows)


# ---------------------------------------------------------------------------------------
# CRUD


async def test_crud_round_trip_mongomock(db: DatabaseManager) -> None:
    users = db.query.table("users")
    created = await users.insert({"name": "ann", "tags": ["a", "b"], "address": {"city": "Oslo"}})
    assert created.row_count == 1
    key = created.id
    # the server's ObjectId, as its 24 hex digits (and an ObjectId again in filters)
    assert isinstance(key, str) and len(key) == 24
    row = await users.where("id", key).first()
    assert row == {"id": key, "name": "ann", "tags": ["a", "b"], "address": {"city": "Oslo"}}
    assert await users.where("address.city", "Oslo").count() == 1  # embedded paths
    updated = await users.where("id", key).update({"name": "anna"})
    assert updated.row_count == 1
    assert (await users.where("id", key).first() or {})["name"] == "anna"
    # matched documents are counted, as the SQL engines count matched rows
    assert (await users.where("id", key).update({"name": "anna"})).row_count == 1
    deleted = await users.where("id", key).delete()
    assert deleted.row_count == 1
    assert await users.all() == []


async def test_insert_with_an_id_uses_it_as_the_key_mongomock(db: DatabaseManager) -> None:
    users = db.query.table("users")
    result = await users.insert({"id": "u-1", "name": "ann"})
    assert result.id == "u-1"
    assert await users.all() == [{"id": "u-1", "name": "ann"}]
    with pytest.raises(IntegrityError, match="duplicate key"):
        await users.insert({"id": "u-1", "name": "again"})


async def test_insert_many_counts_and_ids_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    assert await people.count() == 5
    more = await db.query.table("more").insert_many([("x", 1), ("y", 2)], columns=["a", "b"])
    assert more.row_count == 2 and len(more.inserted_ids) == 2
    empty = await db.query.table("more").insert_many([])
    assert empty.row_count == 0
    rows = await people.insert_many([{"id": 9, "name": "zed"}]).returning("*")
    assert rows.rows == [{"id": 9, "name": "zed"}] and rows.id == 9


async def test_upsert_one_row_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    inserted = await people.upsert({"email": "new@x.io", "name": "new", "age": 1}, ["email"])
    assert inserted.row_count == 1 and inserted.id is not None
    updated = await people.upsert({"email": "new@x.io", "name": "newer", "age": 2}, ["email"])
    assert updated.row_count == 1 and updated.inserted_ids == []
    row = await people.where("email", "new@x.io").select("name", "age").first()
    assert row == {"name": "newer", "age": 2}
    # update=[]: do nothing when the document exists
    kept = await people.upsert({"email": "new@x.io", "name": "x"}, ["email"], update=[])
    assert kept.row_count == 1
    assert await people.where("email", "new@x.io").count() == 1
    assert (await people.where("email", "new@x.io").first() or {})["name"] == "newer"


async def test_update_and_delete_counts_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    result = await people.where("team", "red").update({"team": "crimson", "seen": fn.now()})
    assert result.row_count == 2
    assert await people.where("team", "crimson").where_not_null("seen").count() == 2
    assert (await people.where("team", "nope").update({"x": 1})).row_count == 0
    assert (await people.where("age", "<", 30).delete()).row_count == 2
    assert (await people.all_rows().delete()).row_count == 3


async def test_writes_without_where_are_refused_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    with pytest.raises(UnsafeQueryError):
        await people.update({"x": 1})
    with pytest.raises(UnsafeQueryError):
        await people.delete()
    assert (await people.update({"x": 1}).all_rows()).row_count == 5


# ---------------------------------------------------------------------------------------
# Where forms


WHERE_FORMS: list[tuple[str, Callable[[TableQueryBuilder], TableQueryBuilder], list[int]]] = [
    ("equality", lambda q: q.where("team", "red"), [1, 3]),
    ("dict", lambda q: q.where({"team": "blue", "age": 22}), [2]),
    ("not equal (also missing fields)", lambda q: q.where("team", "!=", "red"), [2, 4, 5]),
    ("less", lambda q: q.where("age", "<", 27), [2]),
    ("less or equal", lambda q: q.where("age", "<=", 27), [2, 5]),
    ("greater", lambda q: q.where("age", ">", 31), [3]),
    ("greater or equal", lambda q: q.where("age", ">=", 31), [1, 3]),
    ("in", lambda q: q.where_in("name", ["ann", "eve", "zed"]), [1, 5]),
    ("not in", lambda q: q.where_not_in("team", ["red", "blue"]), [4]),
    ("between", lambda q: q.where_between("age", 22, 31), [1, 2, 5]),
    # a null age is neither below nor above: not matched, as in SQL
    ("not between", lambda q: q.where_not_between("age", 23, 44), [2, 3]),
    ("null", lambda q: q.where_null("email"), [2]),
    ("not null", lambda q: q.where_not_null("age"), [1, 2, 3, 5]),
    ("like", lambda q: q.where("email", "like", "%@x.io"), [1, 3, 5]),
    ("like _", lambda q: q.where("name", "like", "_ve"), [5]),
    ("like is case sensitive", lambda q: q.where("name", "like", "c%"), []),
    ("ilike", lambda q: q.where("name", "ilike", "c%"), [3]),
    ("not like", lambda q: q.where("email", "not_like", "%@x.io"), [2, 4]),
    ("or_where", lambda q: q.where("team", "green").or_where("age", 22), [2, 4]),
    (
        "grouped or",
        lambda q: q.where("team", "red").where(lambda g: g.where("age", ">", 40).or_where("id", 1)),
        [1, 3],
    ),
    ("where_not", lambda q: q.where_not("team", "blue"), [1, 3, 4]),
    ("several where()", lambda q: q.where("team", "blue").where("age", ">", 25), [5]),
    ("key field", lambda q: q.where("id", "in", [2, 4]), [2, 4]),
    ("function", lambda q: q.where(fn.lower("name"), "=", "cid"), [3]),
    ("column vs column", lambda q: q.where("id", "<", Column[int]("age")), [1, 2, 3, 5]),
]


@pytest.mark.parametrize(
    ("build", "expected"),
    [pytest.param(b, e, id=n) for n, b, e in WHERE_FORMS],
)
async def test_where_forms_mongomock(
    db: DatabaseManager,
    build: Callable[[TableQueryBuilder], TableQueryBuilder],
    expected: list[int],
) -> None:
    people = await seeded(db)
    assert ids(await build(people).all()) == expected


async def test_typed_column_conditions_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    age, team, name = Column[int]("age"), Column[str]("team"), Column[str]("name")
    assert ids(await people.where((age >= 25) & (age < 40)).all()) == [1, 5]
    assert ids(await people.where((team == "green") | ~(age > 25)).all()) == [2, 4]
    assert ids(await people.where(age.between(30, 50)).all()) == [1, 3]
    assert ids(await people.where(age.is_null()).all()) == [4]
    assert ids(await people.where(name.in_(["bob", "dee"])).all()) == [2, 4]


# ---------------------------------------------------------------------------------------
# Reading


async def test_select_projection_order_limit_offset_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    rows = await people.select("name", "age").where_not_null("age").order_by("age", "desc").all()
    assert rows == [
        {"name": "Cid", "age": 45},
        {"name": "ann", "age": 31},
        {"name": "eve", "age": 27},
        {"name": "bob", "age": 22},
    ]
    page = await people.select("id").order_by("id").offset(1).limit(2).all()
    assert page == [{"id": 2}, {"id": 3}]
    assert await people.limit(0).all() == []
    aliased = await people.select("name as who").where("id", 1).all()
    assert aliased == [{"who": "ann"}]
    computed = await people.select(fn.lower("name").as_("low")).where("id", 3).all()
    assert computed == [{"low": "cid"}]
    first = await people.order_by("age").where_not_null("age").first()
    assert first is not None and first["name"] == "bob"
    assert await people.where("id", 99).first() is None
    assert len(await people) == 5  # awaiting the builder runs all()
    assert (await people.where("team", "red").execute()).row_count == 2


async def test_grouping_and_distinct_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    rows = (
        await people.select("team", fn.count().as_("n"))
        .group_by("team")
        .having(fn.count(), ">", 1)
        .order_by("team")
        .all()
    )
    assert rows == [{"team": "blue", "n": 2}, {"team": "red", "n": 2}]
    teams = await people.select("team").distinct().order_by("team").all()
    assert [r["team"] for r in teams] == ["blue", "green", "red"]


async def test_aggregates_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    assert await people.count() == 5
    assert await people.count("age") == 4  # non-null values, as COUNT(age)
    assert await people.where("team", "red").count() == 2
    assert await people.sum("age") == 125
    assert await people.avg("age") == 125 / 4
    assert await people.min("age") == 22
    assert await people.max("age") == 45
    assert await people.where("team", "blue").max("name") == "eve"
    # over what the query returns (the SQL subquery)
    assert await people.order_by("age").where_not_null("age").limit(2).sum("age") == 49
    assert await people.select("team").distinct().count() == 3
    # nothing matches: count 0, the others None (SQL's NULL)
    nobody = people.where("team", "none")
    assert await nobody.count() == 0
    assert await nobody.avg("age") is None
    assert await nobody.max("age") is None
    # a difference from SQL: $sum of only nulls is 0, not NULL
    assert await people.where("id", 4).sum("age") == 0


async def test_exists_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    assert await people.where("name", "ann").exists() is True
    assert await people.where("name", "nobody").exists() is False


async def test_stream_in_batches_mongomock(db: DatabaseManager) -> None:
    items = db.query.table("items")
    await items.insert_many([{"id": i, "n": i * i} for i in range(25)])
    seen = [row async for row in items.order_by("id").stream(batch_size=4)]
    assert [row["id"] for row in seen] == list(range(25))
    assert seen[3] == {"id": 3, "n": 9}
    filtered = [row["id"] async for row in items.where("n", ">", 400).stream(2)]
    assert sorted(filtered) == [21, 22, 23, 24]
    grouped = [row async for row in items.select(fn.count().as_("c")).group_by("n").stream(10)]
    assert len(grouped) == 25
    # leaving early closes the cursor
    async for row in items.order_by("id").stream(3):
        assert row["id"] == 0
        break
    with pytest.raises(ValueError, match="batch_size"):
        [row async for row in items.stream(0)]


async def test_to_operation_shows_the_compiled_operation_mongomock(db: DatabaseManager) -> None:
    people = db.query.table("people")
    assert isinstance(people, MongoTableQueryBuilder)
    query = people.select("name").where("age", ">", 3).order_by("name").limit(2)
    assert isinstance(query, MongoTableQueryBuilder)  # building keeps the builder's type
    op = query.to_operation()
    assert op == Find("people", {"age": {"$gt": 3}}, {"_id": 0, "name": 1}, (("name", 1),), 0, 2)
    grouped_query = people.select("team", fn.count().as_("n")).group_by("team")
    assert isinstance(grouped_query, MongoTableQueryBuilder)
    grouped = grouped_query.to_operation()
    assert isinstance(grouped, Aggregate)


# ---------------------------------------------------------------------------------------
# Unsupported operations


UNSUPPORTED: list[tuple[str, Callable[[DatabaseManager], Any]]] = [
    ("raw", lambda db: db.query.raw("SELECT 1")),
    ("join", lambda db: db.query.table("a").join("b", "a.id", "b.a_id")),
    ("left_join", lambda db: db.query.table("a").left_join("b", "a.id", "b.a_id")),
    ("right_join", lambda db: db.query.table("a").right_join("b", "a.id", "b.a_id")),
    ("where_raw", lambda db: db.query.table("a").where_raw("x = ?", [1])),
    ("format", lambda db: db.query.format("SELECT ?", [1])),
    ("escape", lambda db: db.query.escape("x")),
    ("quote", lambda db: db.query.quote("x")),
    ("to_sql", lambda db: db.query.table("a").to_sql()),
    # db.schema is a MongoSchemaBuilder; the SQL DDL compiler is what is missing
    ("the schema builder", lambda db: db.dialect.ddl),
    ("read_only", lambda db: db.transaction(read_only=True)),
]


@pytest.mark.parametrize(("operation", "call"), [pytest.param(o, c, id=o) for o, c in UNSUPPORTED])
async def test_unsupported_operations_name_themselves_mongomock(
    db: DatabaseManager, operation: str, call: Callable[[DatabaseManager], Any]
) -> None:
    with pytest.raises(UnsupportedOperation) as caught:
        call(db)
    assert caught.value.operation == operation
    assert str(caught.value).startswith(f"{operation} is not supported on mongodb")


async def test_unsupported_at_run_time_mongomock(db: DatabaseManager) -> None:
    people = await seeded(db)
    with pytest.raises(UnsupportedOperation, match=r"update\(\)\.returning\(\)"):
        await people.where("id", 1).update({"a": 1}).returning("id")
    with pytest.raises(UnsupportedOperation, match=r"fn\.raw"):
        await people.where(fn.raw("1 = 1")).all()
    with pytest.raises(UnsupportedOperation, match="an expression value in update"):
        await people.where("id", 1).update({"age": Column[int]("age")})


# ---------------------------------------------------------------------------------------
# The manager


async def test_health_check_and_pool_status_mongomock(db: DatabaseManager) -> None:
    health = await db.health_check()
    assert health.healthy and health.engine == "mongodb"
    assert health.server_version and health.latency_ms is not None
    assert health.pool is not None and health.pool.max == 0  # mongomock: no pool
    assert db.pool_status().size == 0
    assert db.pool_metrics().acquires == 0
    assert db.document_connection.pool_note is not None
    with pytest.raises(ConfigurationError, match="no ConnectionPool"):
        _ = db.pool
    assert "connected" in repr(db) and "not connected" not in repr(db)


async def test_disconnect_and_reconnect_mongomock() -> None:
    name = f"jq_{uuid.uuid4().hex[:12]}"
    db = DatabaseManager(url=f"mongomock://{name}")
    try:
        assert not (await db.health_check()).healthy
        events: list[str] = []
        db.on("connect", lambda p: events.append("connect"))
        db.on("disconnect", lambda p: events.append("disconnect"))
        await db.connect()
        await db.query.table("t").insert({"a": 1})
        await db.disconnect()
        assert not db.connected
        await db.connect()  # the named in-memory store outlives the connection
        assert await db.query.table("t").count() == 1
        await db.disconnect()
        assert events == ["connect", "disconnect", "connect", "disconnect"]
    finally:
        drop_mongomock_store(name)


async def test_transactions_on_mongomock_are_unsupported_clearly(db: DatabaseManager) -> None:
    with pytest.raises(UnsupportedOperation) as caught:
        async with db.transaction():
            pass
    message = str(caught.value)
    assert caught.value.operation == "transactions"
    assert "replica set" in message and "JADUGAR_MONGODB_URL" in message

    async def work(tx: Any) -> None:
        raise AssertionError("never runs")

    with pytest.raises(UnsupportedOperation, match="transactions is not supported"):
        await db.transaction(work)
    with pytest.raises(UnsupportedOperation, match="transactions"):
        async with db.query.transaction():
            pass


async def test_query_events_carry_the_operation_shape_mongomock(db: DatabaseManager) -> None:
    seen: list[dict[str, Any]] = []
    db.on("query", seen.append)
    people = await seeded(db)
    await people.where("email", "secret@x.io").all()
    assert seen[-1]["sql"] == "people.find({'email': ?})"
    assert seen[-1]["row_count"] == 0
    assert all("secret" not in str(event["sql"]) for event in seen)


def test_replicas_are_refused_for_mongodb() -> None:
    with pytest.raises(ConfigurationError, match="replicaSet"):
        DatabaseManager(url="mongomock://x", replicas=["mongomock://y"])


def test_sql_urls_still_get_the_sql_builder() -> None:
    db = DatabaseManager(url="sqlite:///:memory:")
    assert type(db.query.table("t")) is TableQueryBuilder
    assert not db.dialect.capabilities.document_store
    assert db.query.format("SELECT ?", [1]) == "SELECT 1"


# ---------------------------------------------------------------------------------------
# Hostile values (the NoSQL-injection analogue of tests/integration/test_injection_live.py)


OPERATOR_BITS = [
    "$ne",
    "$gt",
    "$where",
    "$regex",
    "$expr",
    "{'$ne': null}",
    '{"$gt": ""}',
    ".*",
    "^",
    "$",
    "\\",
    "'",
    '"',
    "this.a == 1",
    "; return true",
    "ñ",
    "😀",
    "\n",
    "%",
    "_",
]
hostile_text = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=30),
    st.lists(st.sampled_from(OPERATOR_BITS), min_size=1, max_size=6).map("".join),
)
HOSTILE = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HOSTILE
@given(value=hostile_text)
@example(value="$ne")
@example(value="{'$gt': ''}")
@example(value="%")
async def test_hostile_strings_come_back_verbatim_mongomock(
    db: DatabaseManager, value: str
) -> None:
    table = db.query.table(f"h_{uuid.uuid4().hex[:8]}")
    await table.insert_many([{"id": 1, "label": value}, {"id": 2, "label": "other"}])
    assert await table.where("label", value).select("id", "label").all() == [
        {"id": 1, "label": value}
    ]
    assert ids(await table.where_in("label", [value]).all()) == [1]
    assert ids(await table.where("label", "!=", value).all()) == ([] if value == "other" else [2])
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    assert ids(await table.where("label", "like", escaped).all()) == (
        [1, 2] if value == "other" else [1]
    )
    await table.where("id", 2).update({"label": value})
    assert [row["label"] for row in await table.all()] == [value, value]


async def test_operator_documents_never_reach_a_filter_mongomock(db: DatabaseManager) -> None:
    table = db.query.table("docs")
    await table.insert_many([{"id": 1, "v": {"op": "$gt"}}, {"id": 2, "v": "$gt"}])
    assert ids(await table.where("v", "$gt").all()) == [2]  # a $ string is data
    assert await table.where("id", 1).select("v").all() == [{"v": {"op": "$gt"}}]
    # a dict where a value belongs is refused by the builder, never sent as an operator
    with pytest.raises(TypeError, match="scalar"):
        table.where("v", {"$gt": ""})
    with pytest.raises(TypeError, match="scalar"):
        table.where({"v": {"$ne": None}})
    # and a field name that is an operator is refused by the compiler
    with pytest.raises(ValueError):
        await table.where("$where", "1").all()


async def test_builder_calls_run_in_the_tasks_transaction_mongomock(
    db: DatabaseManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mongomock has no sessions: a stand-in transaction checks the wiring (a real replica
    set runs the driver's own transaction tests, ``test_driver.py::test_transactions``)."""
    conn = db.document_connection
    ended: list[str] = []
    sessions: list[Any] = []
    execute = conn.execute

    @contextlib.asynccontextmanager
    async def start_transaction() -> AsyncIterator[MongoTransaction]:
        try:
            yield MongoTransaction(conn, "session-1")
        except BaseException:
            ended.append("abort")
            raise
        ended.append("commit")

    async def recording(op: Any, session: Any = None, timeout: Any = None) -> Any:
        sessions.append(session.session if session is not None else None)
        return await execute(op, None, timeout)

    monkeypatch.setattr(conn, "start_transaction", start_transaction)
    monkeypatch.setattr(conn, "execute", recording)
    people = db.query.table("people")
    async with db.transaction() as tx:
        await people.insert({"id": 1, "name": "ann"})
        assert await tx.table("people").count() == 1
        with pytest.raises(UnsupportedOperation, match="inside a transaction"):
            async with db.transaction():
                pass
    await people.count()
    assert sessions == ["session-1", "session-1", None]
    assert ended == ["commit"]
    with pytest.raises(RuntimeError):
        async with db.transaction():
            raise RuntimeError("boom")
    assert ended == ["commit", "abort"]

    async def work(tx: Any) -> int:
        return await people.count()

    assert await db.transaction(work) == 1
    assert ended == ["commit", "abort", "commit"]


@pytest.mark.parametrize("driver", ["motor", "pymongo"])
async def test_a_mongodb_url_connects_through_the_chosen_client(driver: str) -> None:
    db = DatabaseManager(url=f"mongodb://app:sekrit@127.0.0.1:9/app?driver={driver}")
    db = DatabaseManager(db.options.model_copy(update={"connect_timeout": 0.2}))
    assert db.dialect.name == "mongodb" and db.dialect.capabilities.document_store
    with pytest.raises(DatabaseConnectionError) as caught:
        await db.connect()
    assert "sekrit" not in str(caught.value) and not db.connected
    health = await db.health_check()
    assert not health.healthy and health.error == "not connected"


def test_tls_true_in_a_mongodb_url_verifies_the_certificate() -> None:
    from jadugar import DatabaseOptions

    options = DatabaseOptions(url="mongodb://db.example:27017/app?tls=true")
    assert options.connect_params().ssl_mode == "verify-full"  # as MongoDB users expect
    sql = DatabaseOptions(url="postgresql://db.example/app?sslmode=require")
    assert sql.connect_params().ssl_mode == "require"
