"""``MongoConnection``: one MongoDB client (which is itself a pool) and the database of
the URL; runs the operations of ``ops.py`` (reads, writes, counters, streams) and
transactions. Opened by ``MongoDriver`` (``driver.py``), which describes the clients and
their timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, NoReturn, Protocol, cast

from ...errors import (
    DatabaseConnectionError,
    QueryTimeoutError,
    UnsupportedOperation,
)
from ...pool_types import PoolMetrics, PoolStatus
from .client_options import (
    ClientKind,
)
from .errors import (
    default_index_name,
    describe,
    duplicate_key_pattern,
    index_name_from,
    is_duplicate_key,
    translate,
)
from .ops import (
    Aggregate,
    Count,
    DeleteMany,
    Document,
    Find,
    InsertMany,
    MongoOperation,
    MongoResult,
    UpdateMany,
)
from .pool_listener import PoolListener

_READ_GRACE = 1.0  # seconds past maxTimeMS before the client gives up on a read
_PING_TIMEOUT = 5.0
_MONGOMOCK_NOTE = "mongomock runs in-process: there is no connection pool (size 0)"
_BACKGROUND: set[asyncio.Future[Any]] = set()  # closes started by terminate()
_WRITE_NAMES: dict[type, str] = {
    InsertMany: "insert_many",
    UpdateMany: "update_many",
    DeleteMany: "delete_many",
}


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


# ---------------------------------------------------------------------------------------
# Transactions


class MongoTransaction:
    """A client session with a transaction open: pass it as ``session=`` to
    ``MongoConnection.execute`` (or call ``tx.execute(op)``)."""

    __slots__ = ("_conn", "session")

    def __init__(self, conn: MongoConnection, session: Any) -> None:
        self._conn = conn
        self.session = session  # the driver's session object

    async def execute(self, op: MongoOperation, timeout: float | None = None) -> MongoResult:
        return await self._conn.execute(op, session=self, timeout=timeout)

    @property
    def active(self) -> bool:
        return bool(getattr(self.session, "in_transaction", False))


# ---------------------------------------------------------------------------------------
# The connection


class MongoConnection:
    """One MongoDB client (its own connection pool) and the database of the URL."""

    def __init__(
        self,
        client: Any,
        database: str,
        kind: ClientKind,
        listener: PoolListener | None,
        where: str,
    ) -> None:
        self._client = client
        self._db = client[database]
        self.database = database
        self.kind: ClientKind = kind
        self.listener = listener
        self._where = where
        self._closed = False
        self._topology: str | None = None  # "replica set", "sharded cluster", "standalone"
        self.created_at = asyncio.get_running_loop().time()
        self.last_used = self.created_at

    @property
    def client(self) -> Any:
        """The driver's client object, for what Jadugar does not wrap."""
        return self._client

    @property
    def broken(self) -> bool:
        return self._closed

    @property
    def pooled(self) -> bool:
        """False on mongomock: there is no connection pool, the numbers are zeros."""
        return self.listener is not None

    @property
    def pool_note(self) -> str | None:
        return None if self.pooled else _MONGOMOCK_NOTE

    # -- running operations

    async def execute(
        self,
        op: MongoOperation,
        session: MongoTransaction | None = None,
        timeout: float | None = None,
    ) -> MongoResult:
        """Run one operation; reads return documents, writes counts and inserted ids."""
        raw_session = session.session if session is not None else None
        try:
            if isinstance(op, Find | Aggregate | Count):
                limit = None if timeout is None else timeout + _READ_GRACE
                async with asyncio.timeout(limit):
                    return await self._read(op, raw_session, timeout)
            async with asyncio.timeout(timeout):
                if timeout is not None and self.kind == "pymongo":
                    import pymongo

                    with pymongo.timeout(timeout):
                        return await self._write(op, raw_session)
                return await self._write(op, raw_session)
        except asyncio.CancelledError:
            raise
        except TimeoutError as exc:
            if isinstance(op, Find | Aggregate | Count):
                await self._fail(exc, op)
            raise QueryTimeoutError(
                f"MongoDB write ran past its {timeout}s timeout in "
                f"{op.collection}.{_WRITE_NAMES[type(op)]}; it may still have been applied "
                "on the server",
                sql=describe(op),
                orig=exc,
            ) from exc
        except Exception as exc:
            await self._fail(exc, op)

    async def _read(
        self, op: Find | Aggregate | Count, session: Any, timeout: float | None
    ) -> MongoResult:
        collection = self._db[op.collection]
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["maxTimeMS"] = max(1, int(timeout * 1000))
        if session is not None:
            extra["session"] = session
        if isinstance(op, Find):
            documents = await self._find_cursor(op, session, timeout).to_list(None)
            return MongoResult(documents=documents)
        if isinstance(op, Aggregate):
            cursor = await _maybe_await(collection.aggregate(list(op.pipeline), **extra))
            return MongoResult(documents=await cursor.to_list(None))
        count = await collection.count_documents(op.filter, **extra)
        return MongoResult(count=int(count))

    def _find_cursor(self, op: Find, session: Any, timeout: float | None) -> Any:
        kwargs: dict[str, Any] = {}
        if session is not None:
            kwargs["session"] = session
        cursor = self._db[op.collection].find(op.filter, op.projection, **kwargs)
        if op.sort:
            cursor = cursor.sort(list(op.sort))
        if op.skip:
            cursor = cursor.skip(op.skip)
        if op.limit:
            cursor = cursor.limit(op.limit)
        if timeout is not None:
            cursor = cursor.max_time_ms(max(1, int(timeout * 1000)))
        return cursor

    async def _write(self, op: MongoOperation, session: Any) -> MongoResult:
        collection = self._db[op.collection]
        extra: dict[str, Any] = {} if session is None else {"session": session}
        if isinstance(op, InsertMany):
            if not op.documents:
                return MongoResult()
            # the driver adds ``_id`` to the documents it is given: copy, keep ours frozen
            documents = [dict(document) for document in op.documents]
            if len(documents) == 1:
                one = await collection.insert_one(documents[0], **extra)
                return MongoResult(count=1, inserted_ids=[one.inserted_id])
            many = await collection.insert_many(documents, ordered=True, **extra)
            return MongoResult(count=len(many.inserted_ids), inserted_ids=list(many.inserted_ids))
        if isinstance(op, UpdateMany):
            result = await collection.update_many(op.filter, op.update, upsert=op.upsert, **extra)
            upserted = result.upserted_id
            # matched, not modified: the SQL engines count the rows an UPDATE matched too
            # (MySQL with CLIENT.FOUND_ROWS), also when the values were already those
            return MongoResult(
                count=int(result.matched_count) + (1 if upserted is not None else 0),
                inserted_ids=[] if upserted is None else [upserted],
            )
        if isinstance(op, DeleteMany):
            deleted = await collection.delete_many(op.filter, **extra)
            return MongoResult(count=int(deleted.deleted_count))
        raise UnsupportedOperation(type(op).__name__, "mongodb driver")  # pragma: no cover

    async def next_sequence(
        self,
        name: str,
        count: int = 1,
        session: MongoTransaction | None = None,
        timeout: float | None = None,
        collection: str = "jadugar_counters",
    ) -> int:
        """Reserve ``count`` values of the counter ``name`` (auto-increment keys): one atomic
        ``find_one_and_update({"_id": name}, {"$inc": {"seq": count}}, upsert=True)`` in
        ``collection``; returns the last reserved value (the first is ``last - count + 1``)."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        extra: dict[str, Any] = {} if session is None else {"session": session.session}
        try:
            async with asyncio.timeout(timeout):
                document = await self._db[collection].find_one_and_update(
                    {"_id": name},
                    {"$inc": {"seq": count}},
                    upsert=True,
                    return_document=True,  # pymongo's ReturnDocument.AFTER
                    **extra,
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise translate(exc, f"{collection}.find_one_and_update") from exc
        return int(document["seq"])

    async def stream(
        self,
        op: Find,
        batch_size: int,
        session: MongoTransaction | None = None,
        timeout: float | None = None,
    ) -> AsyncGenerator[list[Document], None]:
        """Batches of up to ``batch_size`` documents from one server cursor (``getMore``
        per batch). ``timeout`` is ``maxTimeMS`` for the whole cursor. Leaving early
        closes the cursor on the server."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        raw_session = session.session if session is not None else None
        try:
            cursor = self._find_cursor(op, raw_session, timeout).batch_size(batch_size)
        except Exception as exc:
            await self._fail(exc, op)
        try:
            batch: list[Document] = []
            documents = aiter(cursor)
            while True:
                try:
                    document = await anext(documents)
                except StopAsyncIteration:
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    await self._fail(exc, op)
                batch.append(document)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch
        finally:
            with contextlib.suppress(Exception):
                await _maybe_await(cursor.close())

    async def _fail(self, exc: BaseException, op: MongoOperation) -> NoReturn:
        index_name: str | None = None
        if is_duplicate_key(exc) and index_name_from(exc) is None:
            index_name = await self._index_named_by(op.collection, duplicate_key_pattern(exc))
        err = translate(exc, op, index_name=index_name)
        if isinstance(err, DatabaseConnectionError) and self._closed:
            err = DatabaseConnectionError(f"MongoDB connection to {self._where} is closed")
        raise err from exc

    async def _index_named_by(self, collection: str, pattern: dict[str, Any] | None) -> str | None:
        """The name of the index with this key pattern (mongomock does not name it in its
        duplicate key error; real servers do, and never get here)."""
        if not pattern:
            return None
        try:
            indexes: Mapping[str, Any] = await self._db[collection].index_information()
        except Exception:
            return default_index_name(pattern)
        wanted = list(pattern.items())
        for name, info in indexes.items():
            key = info.get("key") if isinstance(info, Mapping) else None
            if isinstance(key, list | tuple) and [tuple(k) for k in key] == wanted:
                return str(name)
        return default_index_name(pattern)

    # -- transactions

    async def _server_topology(self) -> str:
        if self._topology is None:
            try:
                hello = await self._client.admin.command("hello")
            except Exception as first:
                try:  # servers before 4.4.2 only know isMaster
                    hello = await self._client.admin.command("isMaster")
                except Exception:
                    raise translate(first, "hello") from first
            if hello.get("setName"):
                self._topology = "replica set"
            elif hello.get("msg") == "isdbgrid":
                self._topology = "sharded cluster"
            else:
                self._topology = "standalone"
        return self._topology

    async def supports_transactions(self) -> bool:
        """True on a replica set or a sharded cluster (``hello``: ``setName`` or mongos)."""
        if self.kind == "mongomock":
            return False
        return await self._server_topology() != "standalone"

    @contextlib.asynccontextmanager
    async def start_transaction(self) -> AsyncIterator[MongoTransaction]:
        """``async with conn.start_transaction() as tx: await conn.execute(op, session=tx)``

        Commits when the block ends, aborts on any exception (then re-raises it). Raises
        ``UnsupportedOperation`` on a standalone server and on mongomock, which have no
        multi-document transactions.
        """
        if self.kind == "mongomock":
            raise UnsupportedOperation(
                "transactions",
                "mongomock",
                "the in-process MongoDB stand-in has no sessions; run against a MongoDB "
                "replica set (JADUGAR_MONGODB_URL) to use transactions",
            )
        if not await self.supports_transactions():
            raise UnsupportedOperation(
                "transactions",
                "mongodb standalone server",
                "multi-document transactions need a replica set or a sharded cluster; "
                "start mongod with --replSet rs0 and run rs.initiate() (a one-node replica "
                "set is enough)",
            )
        try:
            session = await _maybe_await(self._client.start_session())
        except Exception as exc:
            raise translate(exc, "start_session") from exc
        try:
            try:
                await _maybe_await(session.start_transaction())
            except Exception as exc:
                raise translate(exc, "start_transaction") from exc
            tx = MongoTransaction(self, session)
            try:
                yield tx
            except BaseException:
                if session.in_transaction:
                    with contextlib.suppress(Exception):
                        await session.abort_transaction()
                raise
            try:
                await session.commit_transaction()
            except Exception as exc:
                raise translate(exc, "commit_transaction") from exc
        finally:
            with contextlib.suppress(Exception):
                await _maybe_await(session.end_session())

    # -- the rest of the connection API

    async def ping(self) -> None:
        """``{ping: 1}``; raises ``DatabaseConnectionError`` when the server is unreachable."""
        if self._closed:
            raise DatabaseConnectionError(f"MongoDB connection to {self._where} is closed")
        try:
            async with asyncio.timeout(_PING_TIMEOUT):
                await self._client.admin.command("ping")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            err = translate(exc, "ping")
            raise DatabaseConnectionError(f"MongoDB ping to {self._where} failed: {err}") from exc

    async def server_version(self) -> str:
        """The server's version (``buildInfo``); mongomock answers with the version it
        emulates."""
        try:
            info = await self._client.admin.command("buildInfo")
        except Exception as exc:
            raise translate(exc, "buildInfo") from exc
        return str(info.get("version", ""))

    def pool_status(self) -> PoolStatus:
        if self.listener is None:
            return PoolStatus(size=0, idle=0, in_use=0, waiting=0, min=0, max=0)
        return self.listener.status()

    def pool_metrics(self) -> PoolMetrics:
        if self.listener is None:
            return PoolMetrics(0, 0, 0, 0, 0, 0, 0.0, 0.0, 0.0)
        return self.listener.metrics()

    async def close(self) -> None:
        """Close the client and its pool; idempotent."""
        if self._closed:
            return
        self._closed = True
        await _maybe_await(self._client.close())

    def terminate(self) -> None:
        """Mark closed; the client is closed in the background when a loop runs."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            result = self._client.close()
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                _BACKGROUND.add(task)
                task.add_done_callback(_BACKGROUND.discard)


class DocumentHost(Protocol):
    """A manager on a document store (``DatabaseManager`` with a MongoDB URL): its one
    client connection. The session layer's ``SessionHost`` does not name it."""

    @property
    def document_connection(self) -> MongoConnection: ...


def document_connection(manager: object) -> MongoConnection:
    """The client connection of ``manager``, a ``DatabaseManager`` (its property says
    when it is not on a document store, or not connected)."""
    return cast(DocumentHost, manager).document_connection
