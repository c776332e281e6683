"""The MongoDB parts the manager and the query builder plug in (``Dialect.document_engine``):
one client instead of a ``ConnectionPool``, ``MongoTableQueryBuilder`` for ``db.query.table``,
``MongoSchemaBuilder`` for ``db.schema``, ``DocumentTransaction`` for ``db.transaction``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ...errors import UnsupportedOperation
from .builder import DocumentTransaction, MongoTableQueryBuilder, run_in_document_transaction
from .driver import MongoDriver
from .schema import MongoSchemaBuilder

if TYPE_CHECKING:
    from ...config import PoolOptions
    from ..base import ConnectParams
    from .connection import MongoConnection


class MongoEngine:
    replicas_hint = (
        "a MongoDB URL names the replica set members itself "
        "(mongodb://a,b,c/app?replicaSet=rs0); read preferences go in the URL too"
    )
    table_type: type[Any] = MongoTableQueryBuilder

    async def connect(self, params: ConnectParams, pool: PoolOptions) -> MongoConnection:
        return await MongoDriver().connect(params, pool)

    def schema(self, session: Any) -> MongoSchemaBuilder:
        return MongoSchemaBuilder(session)

    def transaction(
        self,
        manager: Any,
        fn: Callable[[Any], Awaitable[Any]] | None,
        isolation: str | None,
        read_only: bool,
    ) -> Any:
        """A client session's transaction, on a replica set or sharded cluster only
        (``UnsupportedOperation`` on a standalone server and on mongomock, when the block
        is entered); no savepoints, no retries, no isolation levels."""
        if isolation is not None or read_only:
            what = "transaction(isolation=...)" if isolation is not None else "read_only"
            raise UnsupportedOperation(
                what, "mongodb", "MongoDB transactions are snapshot reads and writes"
            )
        if fn is None:
            return DocumentTransaction(manager)
        return run_in_document_transaction(manager, fn)
