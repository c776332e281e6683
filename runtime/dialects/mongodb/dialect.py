"""The MongoDB dialect: ``MongoCompiler`` for the query builder, ``MongoDriver`` for the
connection (motor, PyMongo's ``AsyncMongoClient`` or in-process mongomock).

A *document store* (``capabilities.document_store``): the manager connects one
``MongoConnection`` (the client is its own pool) instead of a ``ConnectionPool``, and
``db.query.table(...)`` is a ``MongoTableQueryBuilder``. No module here imports motor or
PyMongo until a connection is opened.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NoReturn

from ...errors import UnsupportedOperation
from ..capabilities import Capabilities
from .compiler import MongoCompiler, objectid_keys

if TYPE_CHECKING:
    from .driver import MongoDriver
    from .engine import MongoEngine
    from .lock import MongoMigrationLock

DIALECT = "mongodb"


class MongoDialect:
    name = DIALECT
    capabilities = Capabilities(
        returning=False,  # an insert reports its _id values; nothing else comes back
        transactional_ddl=False,
        savepoints=False,
        right_join=False,  # no joins at all: collections are not joined
        ilike=True,  # an anchored $regex with the "i" option
        upsert="update_upsert",  # update_many(filter, {$set, $setOnInsert}, upsert=True)
        bulk_insert="insert_many",
        server_side_cursor=True,  # find() cursors, getMore per batch
        max_params=100_000,  # no bound parameters; the write batch limit of a server
        isolation_levels=(),  # multi-document transactions: snapshot, on replica sets only
        placeholder="",
        alter_in_place=False,
        document_store=True,
    )

    def __init__(self) -> None:
        # ObjectId keys are ``str`` to the application (24 hex digits): they come back as
        # ``str`` and a 24-hex ``str`` compared with ``id`` is an ObjectId again, so a key
        # read from a row can be used in ``where("id", key)`` (the builder's values are
        # scalars; an ObjectId is not one). Imports ``bson`` (PyMongo's), not at
        # ``import jadugar`` but when a mongodb manager is created.
        encode, decode = objectid_keys()
        self.compiler = MongoCompiler(encode_key=encode, decode_key=decode)

    @functools.cached_property
    def ddl(self) -> NoReturn:
        raise UnsupportedOperation(
            "the schema builder",
            DIALECT,
            "MongoDB collections have no columns to create or alter (collections are "
            "created by their first insert); db.schema is a MongoSchemaBuilder for "
            "collections, indexes and validators",
        )

    @property
    def driver(self) -> MongoDriver:
        from .driver import MongoDriver

        return MongoDriver()

    @functools.cached_property
    def migration_lock(self) -> MongoMigrationLock:
        """A lock document in ``jadugar_locks`` with a heartbeat (expires 30 s after its
        holder dies); see ``lock.py``."""
        from .lock import MongoMigrationLock

        return MongoMigrationLock()

    @property
    def schema_reader(self) -> None:
        """No live-schema reader: ``jadugar pull`` and drift read the SQL engines."""
        return None

    @functools.cached_property
    def document_engine(self) -> MongoEngine:
        """One client for the manager, the MongoDB builders for ``db.query`` (engine.py)."""
        from .engine import MongoEngine

        return MongoEngine()
