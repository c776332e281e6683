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

Pool numbers come from PyMongo's connection-pool monitoring (``PoolListener``, in
``pool_listener.py``); mongomock has no pool and reports zeros with ``pooled = False``. The
client's options (URI, TLS, pool sizes) are built in ``client_options.py``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError
from ..base import ConnectParams
from .client_options import (
    CLIENT_KINDS,
    DEFAULT_DATABASE,
    ClientKind,
    _client_kind,
    _client_options,
    _pool_sizes,
    build_uri,
)
from .connection import _READ_GRACE, MongoConnection, MongoTransaction
from .errors import connect_error
from .pool_listener import PoolListener

if TYPE_CHECKING:
    from ...pool_types import PoolOptionsLike

_SHARED_MOCK_STORES: dict[str, Any] = {}  # mongomock://name -> mongomock ServerStore

__all__ = [
    "ClientKind",
    "MongoConnection",
    "MongoDriver",
    "MongoTransaction",
    "drop_mongomock_store",
]


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
