"""The MongoDB connection layer: operations, streaming, errors, pool monitoring, transactions.

Every ``mongo`` test runs on mongomock (id ``[mongomock]``) and on a server over the
wire through motor and PyMongo's async client (``[server-motor]``, ``[server-pymongo]``):
the one ``JADUGAR_MONGODB_URL`` names, else the NX-27017 emulator that conftest.py starts
(``@emulator_gap`` marks what it cannot emulate). Tests named ``..._mongomock`` are about
mongomock itself; the pool listener is tested with synthetic PyMongo events.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from pymongo import errors as pm
from pymongo import monitoring

from jadugar.config import DatabaseOptions
from jadugar.dialects.base import ConnectParams
from jadugar.dialects.mongodb.client_options import _is_srv, _tls_options, build_uri
from jadugar.dialects.mongodb.driver import MongoDriver
from jadugar.dialects.mongodb.errors import describe, translate
from jadugar.dialects.mongodb.ops import (
    Aggregate,
    Count,
    DeleteMany,
    Find,
    InsertMany,
    UpdateMany,
)
from jadugar.dialects.mongodb.pool_listener import PoolListener
from jadugar.errors import (
    ConfigurationError,
    DatabaseConnectionError,
    IntegrityError,
    QueryError,
    QueryTimeoutError,
    SerializationError,
    UnsupportedOperation,
)

from .conftest import Mongo, emulator_gap

PEOPLE = (
    {"name": "ada", "age": 36, "team": "red"},
    {"name": "bob", "age": 25, "team": "blue"},
    {"name": "cyd", "age": 41, "team": "red"},
    {"name": "dee", "age": 30, "team": "blue"},
    {"name": "eve", "age": 22, "team": "red"},
)


async def seed(mongo: Mongo, name: str = "people") -> str:
    collection = mongo.collection(name)
    result = await mongo.conn.execute(InsertMany(collection, PEOPLE))
    assert result.count == len(PEOPLE)
    return collection


# ---------------------------------------------------------------------------------------
# Operations


async def test_insert_one_and_many_return_ids(mongo: Mongo) -> None:
    things = mongo.collection("things")
    one = await mongo.conn.execute(InsertMany(things, ({"n": 1},)))
    assert one.count == 1 and len(one.inserted_ids) == 1
    many = await mongo.conn.execute(InsertMany(things, ({"n": 2}, {"_id": "k3", "n": 3})))
    assert many.count == 2 and many.inserted_ids[1] == "k3"
    empty = await mongo.conn.execute(InsertMany(things, ()))
    assert empty.count == 0 and empty.inserted_ids == []
    found = await mongo.conn.execute(Find(things, {"_id": one.inserted_ids[0]}))
    assert [d["n"] for d in found.documents] == [1]


async def test_insert_leaves_the_operation_documents_untouched(mongo: Mongo) -> None:
    op = InsertMany(mongo.collection("things"), ({"n": 1}, {"n": 2}))
    await mongo.conn.execute(op)
    assert op.documents == ({"n": 1}, {"n": 2})  # no _id written into the frozen op


async def test_find_filter_projection(mongo: Mongo) -> None:
    people = await seed(mongo)
    result = await mongo.conn.execute(
        Find(people, {"team": "red", "age": {"$gte": 30}}, {"_id": 0, "name": 1})
    )
    assert sorted(result.documents, key=lambda d: d["name"]) == [{"name": "ada"}, {"name": "cyd"}]


async def test_find_sort_skip_limit(mongo: Mongo) -> None:
    people = await seed(mongo)
    op = Find(people, {}, {"_id": 0, "name": 1}, sort=(("age", -1),), skip=1, limit=2)
    result = await mongo.conn.execute(op)
    assert [d["name"] for d in result.documents] == ["ada", "dee"]
    two_keys = Find(people, {}, {"_id": 0, "name": 1}, sort=(("team", 1), ("name", -1)))
    names = [d["name"] for d in (await mongo.conn.execute(two_keys)).documents]
    assert names == ["dee", "bob", "eve", "cyd", "ada"]


async def test_count(mongo: Mongo) -> None:
    people = await seed(mongo)
    assert (await mongo.conn.execute(Count(people))).count == 5
    assert (await mongo.conn.execute(Count(people, {"team": "blue"}))).count == 2


async def test_aggregate_group_sum(mongo: Mongo) -> None:
    people = await seed(mongo)
    pipeline = (
        {"$group": {"_id": "$team", "total": {"$sum": "$age"}, "n": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    )
    result = await mongo.conn.execute(Aggregate(people, pipeline))
    assert result.documents == [
        {"_id": "blue", "total": 55, "n": 2},
        {"_id": "red", "total": 99, "n": 3},
    ]


async def test_update_many(mongo: Mongo) -> None:
    people = await seed(mongo)
    result = await mongo.conn.execute(
        UpdateMany(people, {"team": "red"}, {"$inc": {"age": 1}, "$set": {"seen": True}})
    )
    assert result.count == 3 and result.inserted_ids == []
    ages = await mongo.conn.execute(Find(people, {"seen": True}, {"_id": 0, "age": 1}))
    assert sorted(d["age"] for d in ages.documents) == [23, 37, 42]
    none = await mongo.conn.execute(UpdateMany(people, {"team": "green"}, {"$set": {"x": 1}}))
    assert none.count == 0


async def test_upsert_via_update_many(mongo: Mongo) -> None:
    people = await seed(mongo)
    op = UpdateMany(people, {"name": "fay"}, {"$set": {"age": 50}}, upsert=True)
    inserted = await mongo.conn.execute(op)
    assert inserted.count == 1 and len(inserted.inserted_ids) == 1
    again = await mongo.conn.execute(
        UpdateMany(people, {"name": "fay"}, {"$set": {"age": 51}}, upsert=True)
    )
    assert again.count == 1 and again.inserted_ids == []
    fay = await mongo.conn.execute(Find(people, {"name": "fay"}, {"_id": 0}))
    assert fay.documents == [{"name": "fay", "age": 51}]


async def test_delete_many(mongo: Mongo) -> None:
    people = await seed(mongo)
    result = await mongo.conn.execute(DeleteMany(people, {"age": {"$lt": 30}}))
    assert result.count == 2
    assert (await mongo.conn.execute(Count(people))).count == 3


async def test_stream_batches(mongo: Mongo) -> None:
    numbers = mongo.collection("numbers")
    await mongo.conn.execute(InsertMany(numbers, tuple({"n": i} for i in range(10))))
    op = Find(numbers, {}, {"_id": 0, "n": 1}, sort=(("n", 1),))
    batches = [batch async for batch in mongo.conn.stream(op, batch_size=4)]
    assert [len(b) for b in batches] == [4, 4, 2]
    assert [d["n"] for b in batches for d in b] == list(range(10))
    exact = [b async for b in mongo.conn.stream(Find(numbers, limit=8), batch_size=4)]
    assert [len(b) for b in exact] == [4, 4]
    nothing = [b async for b in mongo.conn.stream(Find(numbers, {"n": -1}), batch_size=4)]
    assert nothing == []


async def test_stream_left_early(mongo: Mongo) -> None:
    numbers = mongo.collection("numbers")
    await mongo.conn.execute(InsertMany(numbers, tuple({"n": i} for i in range(10))))
    stream = mongo.conn.stream(Find(numbers, sort=(("n", 1),)), batch_size=3)
    async for batch in stream:
        assert len(batch) == 3
        break
    await stream.aclose()
    assert (await mongo.conn.execute(Count(numbers))).count == 10  # still usable


async def test_stream_rejects_a_zero_batch(mongo: Mongo) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        async for _ in mongo.conn.stream(Find(mongo.collection("x")), batch_size=0):
            pass


async def test_read_timeout_is_sent_as_max_time_ms(mongo: Mongo) -> None:
    people = await seed(mongo)  # a generous timeout: the reads still answer
    assert len((await mongo.conn.execute(Find(people), timeout=30)).documents) == 5
    assert (await mongo.conn.execute(Count(people), timeout=30)).count == 5
    pipeline: tuple[dict[str, Any], ...] = ({"$match": {}},)
    assert len((await mongo.conn.execute(Aggregate(people, pipeline), timeout=30)).documents) == 5
    assert (await mongo.conn.execute(DeleteMany(people, {}), timeout=30)).count == 5


# ---------------------------------------------------------------------------------------
# Errors


@emulator_gap(
    "index names: it renames every index idx_<collection>_<fields>, and its duplicate "
    "key errors carry neither the index name nor keyPattern"
)
async def test_duplicate_key_is_integrity_error_naming_the_index(mongo: Mongo) -> None:
    users = mongo.collection("users")
    await mongo.conn.client[mongo.conn.database][users].create_index(
        [("email", 1)], unique=True, name="users_email_unique"
    )
    secret = "secret.person@example.com"
    await mongo.conn.execute(InsertMany(users, ({"email": secret},)))
    with pytest.raises(IntegrityError) as caught:
        await mongo.conn.execute(InsertMany(users, ({"email": secret},)))
    err = caught.value
    assert err.constraint == "users_email_unique"
    assert err.kind == "unique" and err.code == "11000"
    assert isinstance(err.orig, pm.DuplicateKeyError)
    assert secret not in str(err) and secret not in repr(err.args)
    assert "users_email_unique" in str(err)

    # insert_many (a BulkWriteError on the second document) is the same error
    with pytest.raises(IntegrityError) as bulk:
        await mongo.conn.execute(InsertMany(users, ({"email": "other@x.y"}, {"email": secret})))
    assert bulk.value.constraint == "users_email_unique"
    assert isinstance(bulk.value.orig, pm.BulkWriteError)
    assert secret not in str(bulk.value)


@emulator_gap(
    "index names: it renames every index idx_<collection>_<fields>, and its duplicate "
    "key errors carry neither the index name nor keyPattern"
)
async def test_duplicate_key_default_index_name(mongo: Mongo) -> None:
    users = mongo.collection("users")
    await mongo.conn.client[mongo.conn.database][users].create_index(
        [("team", 1), ("name", -1)], unique=True
    )
    row = {"team": "red", "name": "ada"}
    await mongo.conn.execute(InsertMany(users, (row,)))
    with pytest.raises(IntegrityError) as caught:
        await mongo.conn.execute(UpdateMany(users, {"name": "zed"}, {"$set": row}, upsert=True))
    assert caught.value.constraint == "team_1_name_-1"


@emulator_gap("error codes: $inc on a string fails with code 8 (UnknownError), not 14")
async def test_server_error_is_query_error_with_code(mongo: Mongo) -> None:
    people = await seed(mongo)
    with pytest.raises(QueryError) as caught:
        await mongo.conn.execute(UpdateMany(people, {"name": "ada"}, {"$inc": {"name": 1}}))
    err = caught.value
    assert type(err) is QueryError and err.orig is not None
    assert "ada" not in str(err)
    if not mongo.on_mongomock:
        assert err.code == "14"  # TypeMismatch


@emulator_gap("error codes: an unknown pipeline stage fails with no code, not 40324")
async def test_unknown_pipeline_stage(mongo: Mongo) -> None:
    people = await seed(mongo)
    op = Aggregate(people, ({"$nosuchstage": {"x": "hidden-value"}},))
    if mongo.on_mongomock:  # mongomock raises NotImplementedError for what it lacks
        with pytest.raises(UnsupportedOperation, match="not supported on mongomock"):
            await mongo.conn.execute(op)
        return
    with pytest.raises(QueryError) as caught:
        await mongo.conn.execute(op)
    assert caught.value.code == "40324" and "hidden-value" not in str(caught.value)


def test_translate_timeouts_and_connection_failures() -> None:
    op = Find("users", {"email": "a@b.c"})
    timed_out = translate(pm.ExecutionTimeout("operation exceeded time limit", 50), op)
    assert isinstance(timed_out, QueryTimeoutError) and timed_out.code == "50"
    assert timed_out.sql == "users.find({'email': ?})"
    assert isinstance(translate(TimeoutError(), op), QueryTimeoutError)
    assert isinstance(
        translate(pm.WTimeoutError("waiting for replication", 64), op), QueryTimeoutError
    )
    assert isinstance(translate(pm.NetworkTimeout("timed out"), op), QueryTimeoutError)
    lost = translate(pm.AutoReconnect("connection closed"), op)
    assert isinstance(lost, DatabaseConnectionError)
    no_server = translate(pm.ServerSelectionTimeoutError("db:27017: refused"), op)
    assert isinstance(no_server, DatabaseConnectionError)
    conflict = pm.OperationFailure(
        "Write conflict",
        112,
        {"errorLabels": ["TransientTransactionError"], "codeName": "WriteConflict"},
    )
    assert isinstance(translate(conflict, op), SerializationError)
    other = translate(
        pm.OperationFailure('bad value {email: "a@b.c"}', 2, {"codeName": "BadValue"}), op
    )
    assert type(other) is QueryError and other.code == "2"
    assert "a@b.c" not in str(other) and "BadValue" in str(other)
    unsupported = translate(NotImplementedError("sessions"), op)
    assert isinstance(unsupported, UnsupportedOperation)


def test_translate_real_server_duplicate_key_message() -> None:
    exc = pm.DuplicateKeyError(
        "E11000 duplicate key error collection: app.users index: users_email_unique dup key: "
        '{ email: "a@b.c" }',
        11000,
        {"keyPattern": {"email": 1}, "keyValue": {"email": "a@b.c"}},
    )
    err = translate(exc, InsertMany("users", ({"email": "a@b.c"},)))
    assert isinstance(err, IntegrityError) and err.constraint == "users_email_unique"
    assert "a@b.c" not in str(err) and err.orig is exc


def test_describe_shows_no_values() -> None:
    op = UpdateMany("users", {"email": {"$in": ["a", "b"]}}, {"$set": {"pw": "hunter2"}}, True)
    assert (
        describe(op) == "users.update_many({'email': {'$in': ?}}, {'$set': {'pw': ?}}, upsert=True)"
    )
    pipeline = Aggregate("users", ({"$match": {"a": 1}}, {"$group": {"_id": "$t"}}))
    assert describe(pipeline) == "users.aggregate([{'$match': {'a': ?}}, {'$group': {'_id': ?}}])"


# ---------------------------------------------------------------------------------------
# Server, lifecycle, transactions


async def test_ping_and_server_version(mongo: Mongo) -> None:
    await mongo.conn.ping()
    version = await mongo.conn.server_version()
    assert version and version[0].isdigit()


async def test_close_is_idempotent_and_ping_then_fails(mongo: Mongo) -> None:
    await mongo.conn.close()
    await mongo.conn.close()
    assert mongo.conn.broken
    with pytest.raises(DatabaseConnectionError, match="closed"):
        await mongo.conn.ping()


async def test_transactions(mongo: Mongo) -> None:
    things = mongo.collection("things")
    await mongo.conn.execute(InsertMany(things, ({"n": 0},)))  # collections exist before
    if not await mongo.conn.supports_transactions():
        with pytest.raises(UnsupportedOperation) as caught:
            async with mongo.conn.start_transaction():
                pass
        assert caught.value.operation == "transactions"
        assert "replica set" in str(caught.value) or "mongomock" in str(caught.value)
        return
    async with mongo.conn.start_transaction() as tx:
        await tx.execute(InsertMany(things, ({"n": 1},)))
        assert tx.active
    with pytest.raises(RuntimeError):
        async with mongo.conn.start_transaction() as tx:
            await mongo.conn.execute(InsertMany(things, ({"n": 2},)), session=tx)
            raise RuntimeError("roll back")
    found = await mongo.conn.execute(Find(things, {}, {"_id": 0}, sort=(("n", 1),)))
    assert found.documents == [{"n": 0}, {"n": 1}]


async def test_transactions_raise_clearly_on_mongomock() -> None:
    params = DatabaseOptions(url="mongomock://tx_check").connect_params()
    conn = await MongoDriver().connect(params)
    try:
        assert not await conn.supports_transactions()
        with pytest.raises(
            UnsupportedOperation, match="transactions is not supported on mongomock"
        ):
            async with conn.start_transaction():
                pass
    finally:
        await conn.close()


async def test_mongomock_urls_share_one_store_per_name() -> None:
    params = DatabaseOptions(url="mongomock://shared_store_check").connect_params()
    first, second = await MongoDriver().connect(params), await MongoDriver().connect(params)
    other = await MongoDriver().connect(
        DatabaseOptions(url="mongomock://another_store").connect_params()
    )
    try:
        await first.execute(InsertMany("t", ({"n": 1},)))
        assert (await second.execute(Count("t"))).count == 1
        assert (await other.execute(Count("t"))).count == 0
        assert first.kind == "mongomock" and first.database == "shared_store_check"
    finally:
        for conn in (first, second, other):
            await conn.close()


async def test_pool_status_on_mongomock_is_zero_and_says_why() -> None:
    conn = await MongoDriver().connect(DatabaseOptions(url="mongomock://pool").connect_params())
    try:
        assert not conn.pooled and conn.pool_note and "no connection pool" in conn.pool_note
        assert conn.pool_status().size == 0 and conn.pool_metrics().acquires == 0
    finally:
        await conn.close()


async def test_pool_numbers_are_real_on_a_server(mongo: Mongo) -> None:
    if mongo.on_mongomock:
        pytest.skip("mongomock has no connection pool (see test_pool_status_on_mongomock...)")
    await mongo.conn.execute(Count(mongo.collection("x")))
    status, metrics = mongo.conn.pool_status(), mongo.conn.pool_metrics()
    assert status.size >= 1 and status.max == 5
    assert metrics.acquires >= 1 and metrics.creates >= 1 and metrics.releases >= 1


# ---------------------------------------------------------------------------------------
# Pool listener, with synthetic PyMongo events

A = ("db1", 27017)
B = ("db2", 27017)


def feed(listener: monitoring.ConnectionPoolListener, *events: Any) -> None:
    handlers: dict[type, Callable[[Any], None]] = {
        monitoring.PoolCreatedEvent: listener.pool_created,
        monitoring.PoolClosedEvent: listener.pool_closed,
        monitoring.PoolClearedEvent: listener.pool_cleared,
        monitoring.ConnectionCreatedEvent: listener.connection_created,
        monitoring.ConnectionReadyEvent: listener.connection_ready,
        monitoring.ConnectionClosedEvent: listener.connection_closed,
        monitoring.ConnectionCheckOutStartedEvent: listener.connection_check_out_started,
        monitoring.ConnectionCheckOutFailedEvent: listener.connection_check_out_failed,
        monitoring.ConnectionCheckedOutEvent: listener.connection_checked_out,
        monitoring.ConnectionCheckedInEvent: listener.connection_checked_in,
    }
    for event in events:
        handlers[type(event)](event)


def test_pool_listener_counts_synthetic_events_mongomock_free() -> None:
    counts = PoolListener(min_size=1, max_size=10)
    listener = counts.as_pymongo_listener()
    assert isinstance(listener, monitoring.ConnectionPoolListener)
    feed(
        listener,
        monitoring.PoolCreatedEvent(A, {}),
        monitoring.ConnectionCheckOutStartedEvent(A),
        monitoring.ConnectionCheckOutStartedEvent(A),
        monitoring.ConnectionCheckOutStartedEvent(A),
    )
    assert counts.status().waiting == 3
    feed(
        listener,
        monitoring.ConnectionCreatedEvent(A, 1),
        monitoring.ConnectionReadyEvent(A, 1, 0.002),
        monitoring.ConnectionCheckedOutEvent(A, 1, 0.004),
        monitoring.ConnectionCreatedEvent(A, 2),
        monitoring.ConnectionCheckedOutEvent(A, 2, 0.010),
    )
    status = counts.status()
    assert (status.size, status.in_use, status.idle, status.waiting) == (2, 2, 0, 1)
    assert (status.min, status.max) == (1, 10)
    feed(
        listener,
        monitoring.ConnectionCheckOutFailedEvent(A, "timeout", 0.500),
        monitoring.ConnectionCheckedInEvent(A, 1),
        monitoring.ConnectionCheckOutStartedEvent(B),
        monitoring.ConnectionCheckOutFailedEvent(B, "connectionError", 0.001),
    )
    status = counts.status()
    assert (status.size, status.in_use, status.idle, status.waiting) == (2, 1, 1, 0)
    feed(
        listener,
        monitoring.ConnectionCheckedInEvent(A, 2),
        monitoring.ConnectionClosedEvent(A, 1, "stale"),
    )
    status, metrics = counts.status(), counts.metrics()
    assert (status.size, status.in_use, status.idle) == (1, 0, 1)
    assert (metrics.acquires, metrics.releases, metrics.creates, metrics.destroys) == (2, 2, 2, 1)
    assert (metrics.timeouts, metrics.errors) == (1, 1)
    assert metrics.wait_max_ms == pytest.approx(500.0)
    assert metrics.wait_p50_ms == pytest.approx(4.0)  # samples 1, 4, 10, 500 ms
    assert metrics.wait_p95_ms == pytest.approx(500.0)
    feed(listener, monitoring.PoolClosedEvent(A))
    assert counts.status().size == 0


def test_pool_listener_sums_servers_and_never_goes_negative() -> None:
    counts = PoolListener()
    listener = counts.as_pymongo_listener()
    feed(
        listener,
        monitoring.ConnectionCreatedEvent(A, 1),
        monitoring.ConnectionCreatedEvent(B, 1),
        monitoring.ConnectionCheckedOutEvent(B, 1, None),
        monitoring.ConnectionCheckedInEvent(B, 1),
        monitoring.ConnectionCheckedInEvent(B, 1),  # a duplicate check-in
        monitoring.ConnectionClosedEvent(("gone", 1), 9, "error"),  # unknown server
    )
    status = counts.status()
    assert (status.size, status.in_use, status.idle, status.max) == (2, 0, 2, 100)
    assert counts.metrics().wait_max_ms == 0.0


# ---------------------------------------------------------------------------------------
# Connecting


def mongodb_params(url: str, **options: Any) -> ConnectParams:
    return DatabaseOptions(url=url, **options).connect_params()


def test_build_uri_from_connect_params() -> None:
    params = mongodb_params(
        "mongodb://app:p%40ss:w@db.example:27018/shop?replicaSet=rs0&driver=pymongo"
    )
    assert build_uri(params) == "mongodb://app:p%40ss%3Aw@db.example:27018/shop?replicaSet=rs0"
    srv = mongodb_params("mongodb+srv://u:pw@cluster0.example.net/app")
    assert build_uri(srv) == "mongodb+srv://u:pw@cluster0.example.net/app"
    seed_list = mongodb_params("mongodb://a,b:27018/app")
    assert build_uri(seed_list) == "mongodb://a:27017,b:27018/app"


async def test_driver_choice() -> None:
    with pytest.raises(ConfigurationError, match="unknown MongoDB client"):
        MongoDriver("nope")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="mongomock:// URL always"):
        await MongoDriver("motor").connect(mongodb_params("mongomock://x"))
    with pytest.raises(ConfigurationError, match="unknown MongoDB client"):
        await MongoDriver().connect(mongodb_params("mongodb://127.0.0.1:1/app?driver=nope"))


@pytest.mark.parametrize("driver", ["motor", "pymongo"])
async def test_unreachable_server_is_connection_error_without_password(driver: str) -> None:
    params = mongodb_params("mongodb://app:sekrit-pass@127.0.0.1:9/app", connect_timeout=0.2)
    with pytest.raises(DatabaseConnectionError) as caught:
        await MongoDriver(driver).connect(params)  # type: ignore[arg-type]
    assert "sekrit-pass" not in str(caught.value)
    assert "127.0.0.1:9" in str(caught.value)


def test_import_jadugar_loads_no_mongodb_library() -> None:
    code = (
        "import sys, jadugar, jadugar.dialects.mongodb.driver, jadugar.dialects.mongodb.errors\n"
        "loaded = [m for m in ('motor', 'pymongo', 'mongomock', 'mongomock_motor', 'bson')"
        " if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_connect_params_carry_the_scheme_and_the_ca_file() -> None:
    srv = mongodb_params("mongodb+srv://u:pw@cluster0.example.net/app")
    assert srv.scheme == "mongodb+srv" and _is_srv(srv)
    assert _tls_options(srv) == {}  # mongodb+srv: TLS on (verified) by the scheme's default
    plain = mongodb_params("mongodb://db.example/app")
    assert plain.scheme == "mongodb" and not _is_srv(plain)
    assert plain.ssl_root_cert is None and _tls_options(plain) == {}
    # a hand-built ConnectParams without a scheme is mongodb:// (no guessing from the port)
    assert not _is_srv(ConnectParams(engine="mongodb", host="db.example"))
    required = mongodb_params("mongodb://db.example/app?sslmode=require")
    assert _tls_options(required) == {"tls": True, "tlsInsecure": True}


def test_the_ca_file_reaches_the_client_options() -> None:
    ca_file = ssl.get_default_verify_paths().cafile
    if ca_file is None or not os.path.exists(ca_file):
        pytest.skip("no system CA bundle to point tlsCAFile at")
    full = mongodb_params(f"mongodb://db.example/app?tls=verify-full&tlsCAFile={ca_file}")
    assert full.ssl_root_cert == ca_file
    assert _tls_options(full) == {"tls": True, "tlsCAFile": ca_file}
    assert "tlsCAFile" not in build_uri(full)  # one place only: the client options
    ca_only = mongodb_params("mongodb://db.example/app", ssl="verify-ca", ssl_root_cert=ca_file)
    assert _tls_options(ca_only) == {
        "tls": True,
        "tlsAllowInvalidHostnames": True,
        "tlsCAFile": ca_file,
    }
