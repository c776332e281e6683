"""The MongoDB driver: one client (which is itself a pool) behind ``MongoConnection``.

The only module that creates a MongoDB client, and it imports the library lazily, in
``MongoDriver.connect``: ``import jadugar`` never loads motor, PyMongo or mongomock.

Three clients, chosen with ``driver=`` (``MongoDriver(driver=...)`` or the URL option
``?driver=...``, e.g. ``mongodb://host/app?driver=pymongo``; Jadugar's own option, never
sent to the server), written against the API they share (``find`` / ``aggregate`` /
``count_documents`` / ``insert_one`` / ``insert_many`` / ``update_many`` / ``delete_many`` /
``start_session``, ``await cursor.to_list(n)`` and ``async for``):

- ``motor`` (default, the design card's choice): ``motor.motor_asyncio.AsyncIOMotorClient``.
  Motor is deprecated upstream in favour of PyMongo's own async client;
- ``pymongo``: ``pymongo.AsyncMongoClient`` (PyMongo >= 4.10), motor's successor;
- ``mongomock``: ``mongomock_motor.AsyncMongoMockClient``, in-process, no server; the
  ``mongomock://name`` URL always uses it. Every ``mongomock://name`` connection of a
  process shares one in-memory store per ``name`` (like a named SQLite memory database).

Where the three differ (``start_session``, ``start_transaction``, ``aggregate`` and
``close`` are coroutines on one and plain methods on another) the result is awaited only
when it is awaitable.

Timeouts: reads send ``maxTimeMS`` (the server stops the work and answers
``MaxTimeMSExpired``); writes have no ``maxTimeMS`` on motor, so every call also runs
under ``asyncio.timeout`` (reads with a short grace, so the server's answer wins). On the
``pymongo`` client writes also run under ``pymongo.timeout`` (client-side operation
timeout: the server gets ``maxTimeMS`` too). A write timed out on the client may still
have been applied: the error says so. Either way ``QueryTimeoutError``.

Pool numbers come from PyMongo's connection-pool monitoring (``PoolListener``); mongomock
has no pool and reports zeros with ``pooled = False``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn
from urllib.parse import quote, urlencode

from ...errors import (
    ConfigurationError,
    DatabaseConnectionError,
    QueryTimeoutError,
    UnsupportedOperation,
)
from ...pool_types import PoolMetrics, PoolStatus, _percentile
from ..base import ConnectParams
from .errors import (
    connect_error,
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

if TYPE_CHECKING:
    from pymongo import monitoring

    from ...pool_types import PoolOptionsLike

ClientKind = Literal["motor", "pymongo", "mongomock"]
CLIENT_KINDS: tuple[ClientKind, ...] = ("motor", "pymongo", "mongomock")
DEFAULT_CLIENT: ClientKind = "motor"
DEFAULT_DATABASE = "test"
_READ_GRACE = 1.0  # seconds past maxTimeMS before the client gives up on a read
_PING_TIMEOUT = 5.0
WAIT_SAMPLES = 1024
_MONGOMOCK_NOTE = "mongomock runs in-process: there is no connection pool (size 0)"
_SHARED_MOCK_STORES: dict[str, Any] = {}
_BACKGROUND: set[asyncio.Future[Any]] = set()  # closes started by terminate()
_WRITE_NAMES: dict[type, str] = {
    InsertMany: "insert_many",
    UpdateMany: "update_many",
    DeleteMany: "delete_many",
}  # mongomock://name -> mongomock ServerStore


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


# ---------------------------------------------------------------------------------------
# Pool monitoring


@dataclass(slots=True)
class _ServerPool:
    size: int = 0
    in_use: int = 0
    waiting: int = 0


def _listener_base() -> type:
    from pymongo import monitoring

    return monitoring.ConnectionPoolListener


class PoolListener:
    """Counts PyMongo's connection-pool (CMAP) events, per server, thread-safely (motor
    publishes them from its worker threads).

    ==========================  ============================================
    event                       effect
    ==========================  ============================================
    connection_created          ``creates`` +1, ``size`` +1
    connection_closed           ``destroys`` +1, ``size`` -1
    check_out_started           ``waiting`` +1
    checked_out                 ``waiting`` -1, ``in_use`` +1, ``acquires`` +1,
                                wait sample = ``event.duration``
    check_out_failed            ``waiting`` -1; ``timeouts`` +1 (reason
                                ``timeout``) or ``errors`` +1, wait sample
    checked_in                  ``in_use`` -1, ``releases`` +1
    pool_closed                 the server's pool forgotten
    ==========================  ============================================

    ``idle = size - in_use``. An instance is registered with the client through
    ``as_pymongo_listener()`` (a real ``ConnectionPoolListener`` subclass, created once
    PyMongo is imported).
    """

    def __init__(self, min_size: int = 0, max_size: int = 100) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self._lock = threading.Lock()
        self._servers: dict[Any, _ServerPool] = {}
        self._waits: deque[float] = deque(maxlen=WAIT_SAMPLES)
        self.acquires = 0
        self.releases = 0
        self.creates = 0
        self.destroys = 0
        self.timeouts = 0
        self.errors = 0

    def _server(self, address: Any) -> _ServerPool:
        found = self._servers.get(address)
        if found is None:
            found = self._servers[address] = _ServerPool()
        return found

    # -- the ConnectionPoolListener methods

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        with self._lock:
            self._server(event.address)

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        pass

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        pass  # the stale connections are closed one by one, each with connection_closed

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        with self._lock:
            self._servers.pop(event.address, None)

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        with self._lock:
            self.creates += 1
            self._server(event.address).size += 1

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        pass

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        with self._lock:
            self.destroys += 1
            server = self._servers.get(event.address)
            if server is not None:
                server.size = max(0, server.size - 1)

    def connection_check_out_started(
        self, event: monitoring.ConnectionCheckOutStartedEvent
    ) -> None:
        with self._lock:
            self._server(event.address).waiting += 1

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        with self._lock:
            server = self._server(event.address)
            server.waiting = max(0, server.waiting - 1)
            if event.reason == "timeout":
                self.timeouts += 1
            else:
                self.errors += 1
            if event.duration is not None:
                self._waits.append(event.duration * 1000.0)

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        with self._lock:
            server = self._server(event.address)
            server.waiting = max(0, server.waiting - 1)
            server.in_use += 1
            self.acquires += 1
            if event.duration is not None:
                self._waits.append(event.duration * 1000.0)

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        with self._lock:
            server = self._servers.get(event.address)
            if server is not None:
                server.in_use = max(0, server.in_use - 1)
            self.releases += 1

    # -- what the pool reports

    def status(self) -> PoolStatus:
        """Summed over the servers the client talks to; ``min``/``max`` are per server
        (``minPoolSize`` / ``maxPoolSize``)."""
        with self._lock:
            size = sum(s.size for s in self._servers.values())
            in_use = min(size, sum(s.in_use for s in self._servers.values()))
            waiting = sum(s.waiting for s in self._servers.values())
        return PoolStatus(
            size=size,
            idle=size - in_use,
            in_use=in_use,
            waiting=waiting,
            min=self.min_size,
            max=self.max_size,
        )

    def metrics(self) -> PoolMetrics:
        with self._lock:
            ordered = sorted(self._waits)
            counts = (
                self.acquires,
                self.releases,
                self.creates,
                self.destroys,
                self.timeouts,
                self.errors,
            )
        return PoolMetrics(
            *counts,
            wait_p50_ms=_percentile(ordered, 0.50),
            wait_p95_ms=_percentile(ordered, 0.95),
            wait_max_ms=ordered[-1] if ordered else 0.0,
        )

    def as_pymongo_listener(self) -> monitoring.ConnectionPoolListener:
        """This listener as a ``pymongo.monitoring.ConnectionPoolListener`` (PyMongo checks
        the type of ``event_listeners``)."""
        adapter_type: type[monitoring.ConnectionPoolListener] = type(
            "JadugarPoolListener", (_listener_base(),), {}
        )
        adapter = adapter_type()
        for name in (
            "pool_created",
            "pool_ready",
            "pool_cleared",
            "pool_closed",
            "connection_created",
            "connection_ready",
            "connection_closed",
            "connection_check_out_started",
            "connection_check_out_failed",
            "connection_checked_out",
            "connection_checked_in",
        ):
            setattr(adapter, name, getattr(self, name))
        return adapter


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


# ---------------------------------------------------------------------------------------
# The driver


def _client_kind(params: ConnectParams, chosen: str | None) -> ClientKind:
    option = params.options.get("driver")
    if params.host is None:  # mongomock://name
        if chosen not in (None, "mongomock") or option not in (None, "mongomock"):
            raise ConfigurationError(
                "driver: a mongomock:// URL always uses the in-process mongomock client",
                field="driver",
            )
        return "mongomock"
    wanted = chosen or option or DEFAULT_CLIENT
    kind = next((k for k in CLIENT_KINDS if k == wanted), None)
    if kind is None:
        raise ConfigurationError(
            f"driver: unknown MongoDB client {wanted!r}; use motor, pymongo or mongomock",
            field="driver",
        )
    return kind


def _is_srv(params: ConnectParams) -> bool:
    """A ``mongodb+srv://`` URL: the hosts come from DNS SRV records, TLS is on by default."""
    return params.scheme == "mongodb+srv"


def build_uri(params: ConnectParams) -> str:
    """A MongoDB connection string from ``ConnectParams`` (the password percent-encoded,
    the URL's other query options passed through, Jadugar's own ``driver`` dropped)."""
    assert params.host is not None
    auth = ""
    if params.user:
        auth = quote(params.user, safe="")
        if params.password is not None:
            auth += ":" + quote(params.password, safe="")
        auth += "@"
    host = params.host
    if params.port is not None:
        host = f"[{host}]:{params.port}" if ":" in host else f"{host}:{params.port}"
    scheme = "mongodb+srv" if _is_srv(params) else "mongodb"
    path = "/" + quote(params.database, safe="") if params.database else "/"
    options = {k: v for k, v in params.options.items() if k.lower() != "driver"}
    query = f"?{urlencode(options)}" if options else ""
    return f"{scheme}://{auth}{host}{path}{query}"


def _tls_options(params: ConnectParams) -> dict[str, Any]:
    """The client's TLS options for ``ssl_mode`` (``sslmode=`` / ``tls=`` / ``ssl=`` in the
    URL, or ``DatabaseOptions.ssl``) and the CA file (``tlsCAFile=`` / ``sslrootcert=`` in
    the URL, or ``ssl_root_cert``)."""
    mode = params.ssl_mode
    if mode == "disable":
        # the scheme's default: off for mongodb://, on (and verified) for mongodb+srv://
        return {}
    if mode == "require":
        return {"tls": True, "tlsInsecure": True}
    options: dict[str, Any] = {"tls": True}
    if mode == "verify-ca":
        options["tlsAllowInvalidHostnames"] = True
    if params.ssl_root_cert:
        options["tlsCAFile"] = params.ssl_root_cert
    return options


def _client_options(params: ConnectParams, pool: PoolOptionsLike | None) -> dict[str, Any]:
    given = {k.lower() for k in params.options}
    timeout_ms = max(1, int(params.connect_timeout * 1000))
    wanted: dict[str, Any] = {
        "connectTimeoutMS": timeout_ms,
        "serverSelectionTimeoutMS": timeout_ms,
        "appname": "jadugar",
    }
    if pool is not None:
        wanted["maxPoolSize"] = pool.max
        wanted["minPoolSize"] = pool.min
        if pool.idle_timeout is not None:
            wanted["maxIdleTimeMS"] = int(pool.idle_timeout * 1000)
        if pool.acquire_timeout is not None:
            wanted["waitQueueTimeoutMS"] = int(pool.acquire_timeout * 1000)
    # options written in the URL win over Jadugar's defaults
    options = {k: v for k, v in wanted.items() if k.lower() not in given}
    options.update(_tls_options(params))
    return options


def _pool_sizes(params: ConnectParams, options: Mapping[str, Any]) -> tuple[int, int]:
    lowered = {k.lower(): v for k, v in {**params.options, **options}.items()}

    def number(name: str, default: int) -> int:
        try:
            return int(lowered.get(name.lower(), default))
        except (TypeError, ValueError):
            return default

    return number("minPoolSize", 0), number("maxPoolSize", 100)


class MongoDriver:
    """Opens ``MongoConnection``s. ``driver``: ``"motor"`` (default), ``"pymongo"`` or
    ``"mongomock"``; ``None`` reads the URL option ``driver=``."""

    def __init__(self, driver: ClientKind | None = None) -> None:
        if driver is not None and driver not in CLIENT_KINDS:
            raise ConfigurationError(
                f"driver: unknown MongoDB client {driver!r}; use motor, pymongo or mongomock",
                field="driver",
            )
        self.driver = driver

    async def connect(
        self, params: ConnectParams, pool: PoolOptionsLike | None = None
    ) -> MongoConnection:
        """Create the client and check the server answers (``ping``), so a bad host or
        bad credentials fail here with ``DatabaseConnectionError``, not on first use."""
        kind = _client_kind(params, self.driver)
        database = params.database or DEFAULT_DATABASE
        if kind == "mongomock":
            return self._mongomock(params, database)
        where = params.describe()
        listener: PoolListener | None = None
        try:
            options = _client_options(params, pool)
            min_size, max_size = _pool_sizes(params, options)
            listener = PoolListener(min_size, max_size)
            options["event_listeners"] = [listener.as_pymongo_listener()]
            uri = build_uri(params)
            if kind == "motor":
                from motor.motor_asyncio import AsyncIOMotorClient

                client: Any = AsyncIOMotorClient(uri, **options)
            else:
                from pymongo import AsyncMongoClient

                client = AsyncMongoClient(uri, **options)
        except Exception as exc:
            raise connect_error(exc, where, params.password) from exc
        conn = MongoConnection(client, database, kind, listener, where)
        try:
            async with asyncio.timeout(params.connect_timeout + _READ_GRACE):
                await client.admin.command("ping")
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, Exception):
                raise connect_error(exc, where, params.password) from exc
            raise
        return conn

    @staticmethod
    def _mongomock(params: ConnectParams, database: str) -> MongoConnection:
        import mongomock
        from mongomock.store import ServerStore
        from mongomock_motor import AsyncMongoMockClient

        key = params.database or DEFAULT_DATABASE
        store = _SHARED_MOCK_STORES.get(key)
        if store is None:
            store = _SHARED_MOCK_STORES[key] = ServerStore()  # type: ignore[no-untyped-call]
        sync_client: Any = mongomock.MongoClient(_store=store)
        client: Any = AsyncMongoMockClient(mock_mongo_client=sync_client)
        return MongoConnection(client, database, "mongomock", None, f"mongomock://{key}")


def drop_mongomock_store(name: str) -> None:
    """Forget the in-memory data of ``mongomock://name`` (tests, demos)."""
    _SHARED_MOCK_STORES.pop(name, None)
