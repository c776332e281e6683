"""``MongoSchemaBuilder``: ``db.schema`` (and ``qb.schema`` in a migration) on MongoDB.

    await db.schema.create_collection("events", validator={"bsonType": "object"})
    await (
        db.schema.create_index("events", ["tenant", ("at", -1)], unique=True)
        .create_index("events", ["at"], expire_after_seconds=3600)
    )
    await db.schema.drop_collection("events")

Like the SQL ``SchemaBuilder`` a builder is a recorder: every method appends an operation
and returns the builder, ``await builder`` (``execute()``) runs the batch in order and
empties it, ``to_operations()`` lists what would run. Each operation emits the ``query``
event (``sql``: the operation's shape, e.g. ``events.create_index(['tenant', 1], ...)``),
so the migration runner counts it; MongoDB has no transactional DDL, so a migration that
fails part-way is recorded ``partial``.

A ``validator`` is a JSON schema (sent as ``{"$jsonSchema": validator}``) unless it already
is a whole validator document (has a ``$jsonSchema`` key, or any ``$`` operator at its top).

mongomock (``mongomock://``) does not emulate everything: it has no validators
(``create_collection(validator=...)`` and ``collMod`` are not implemented), so there the
validator is **not sent** (the collection is created without it, ``set_validator`` does
nothing); ``operations_ignored`` lists what was skipped. TTL indexes are created and listed
with their ``expireAfterSeconds``, but mongomock never removes expired documents.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import JadugarError, UnsupportedOperation
from ...read_only import refused
from .connection import document_connection
from .errors import translate

if TYPE_CHECKING:
    from ...connection import Session
    from .driver import MongoConnection

Keys = Sequence[str] | Sequence[tuple[str, int]] | Sequence[str | tuple[str, int]]


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _validator(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    if not schema:
        return {}
    if any(str(key).startswith("$") for key in schema):
        return dict(schema)
    return {"$jsonSchema": dict(schema)}


def _keys(keys: Keys) -> tuple[tuple[str, int], ...]:
    if isinstance(keys, str):
        keys = [keys]
    found: list[tuple[str, int]] = []
    for key in keys:
        if isinstance(key, str):
            found.append((key, 1))
        else:
            field, direction = key
            if direction not in (1, -1):
                raise ValueError(f"index direction of {field!r} must be 1 or -1, got {direction}")
            found.append((field, direction))
    if not found:
        raise ValueError("an index needs at least one key")
    return tuple(found)


# ---------------------------------------------------------------------------------------
# Operations


@dataclass(frozen=True)
class CreateCollection:
    name: str
    validator: dict[str, Any]

    def describe(self) -> str:
        extra = ", validator=$jsonSchema" if self.validator else ""
        return f"create_collection({self.name!r}{extra})"


@dataclass(frozen=True)
class DropCollection:
    name: str

    def describe(self) -> str:
        return f"drop_collection({self.name!r})"


@dataclass(frozen=True)
class RenameCollection:
    name: str
    new_name: str

    def describe(self) -> str:
        return f"{self.name}.rename({self.new_name!r})"


@dataclass(frozen=True)
class CreateIndex:
    collection: str
    keys: tuple[tuple[str, int], ...]
    name: str
    unique: bool = False
    expire_after_seconds: int | None = None
    # only documents matching it are indexed (a unique index ignoring nulls)
    partial_filter: dict[str, Any] | None = None

    def describe(self) -> str:
        keys = ", ".join(f"({f!r}, {d})" for f, d in self.keys)
        extra = ", unique=True" if self.unique else ""
        if self.expire_after_seconds is not None:
            extra += f", expireAfterSeconds={self.expire_after_seconds}"
        if self.partial_filter:
            extra += f", partialFilterExpression={self.partial_filter!r}"
        return f"{self.collection}.create_index([{keys}], name={self.name!r}{extra})"


@dataclass(frozen=True)
class DropIndex:
    collection: str
    name: str

    def describe(self) -> str:
        return f"{self.collection}.drop_index({self.name!r})"


@dataclass(frozen=True)
class SetValidator:
    collection: str
    validator: dict[str, Any]

    def describe(self) -> str:
        what = "$jsonSchema" if self.validator else "{}"
        return f"collMod({self.collection!r}, validator={what})"


@dataclass(frozen=True)
class RenameField:
    """``$rename`` of one field in every document of the collection that has it."""

    collection: str
    name: str
    new_name: str

    def describe(self) -> str:
        return (
            f"{self.collection}.update_many({{{self.name!r}: {{'$exists': True}}}}, "
            f"{{'$rename': {{{self.name!r}: {self.new_name!r}}}}})"
        )


SchemaOperation = (
    CreateCollection
    | DropCollection
    | RenameCollection
    | CreateIndex
    | DropIndex
    | SetValidator
    | RenameField
)


@dataclass(frozen=True)
class MongoIndexInfo:
    """One index of a collection, as ``indexes()`` reports it."""

    name: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    expire_after_seconds: int | None = None
    partial_filter: dict[str, Any] | None = None


async def _mock_partial_unique_index(collection: Any, operation: CreateIndex) -> None:
    """mongomock checks the documents already stored against a new unique index without
    its partial filter (every null counts), so a partial unique index over documents
    holding nulls fails there and not on a server. Check what the server checks (the
    documents the filter matches), then create the index and mark it unique."""
    from pymongo.errors import DuplicateKeyError

    seen: set[tuple[Any, ...]] = set()
    for document in await collection.find(operation.partial_filter).to_list(None):
        key = tuple(repr(document.get(field)) for field, _ in operation.keys)
        if key in seen:
            raise DuplicateKeyError(f"E11000 duplicate key error index: {operation.name}", 11000)
        seen.add(key)
    keys = list(operation.keys)
    await _maybe_await(
        collection.create_index(
            keys, name=operation.name, partialFilterExpression=operation.partial_filter
        )
    )
    collection._store.indexes[operation.name]["unique"] = True


# ---------------------------------------------------------------------------------------
# The builder


class MongoSchemaBuilder:
    """Records collection, index and validator changes; ``await`` runs them in order."""

    __slots__ = ("_operations", "_session", "operations_ignored")

    def __init__(self, session: Session) -> None:
        self._session = session
        self._operations: list[SchemaOperation] = []
        # what mongomock cannot do and was skipped (validators), as described operations
        self.operations_ignored: list[str] = []

    def __call__(self) -> MongoSchemaBuilder:
        return self

    def __repr__(self) -> str:
        return f"<MongoSchemaBuilder {len(self._operations)} operation(s)>"

    @property
    def operations(self) -> tuple[SchemaOperation, ...]:
        return tuple(self._operations)

    def _add(self, operation: SchemaOperation) -> MongoSchemaBuilder:
        self._operations.append(operation)
        return self

    # -- recording

    def create_collection(
        self, name: str, validator: Mapping[str, Any] | None = None
    ) -> MongoSchemaBuilder:
        return self._add(CreateCollection(name, _validator(validator)))

    def drop_collection(self, name: str) -> MongoSchemaBuilder:
        return self._add(DropCollection(name))

    def rename_collection(self, name: str, new_name: str) -> MongoSchemaBuilder:
        return self._add(RenameCollection(name, new_name))

    def create_index(
        self,
        collection: str,
        keys: Keys,
        *,
        name: str | None = None,
        unique: bool = False,
        expire_after_seconds: int | None = None,
        partial_filter: Mapping[str, Any] | None = None,
    ) -> MongoSchemaBuilder:
        """A (compound) index: ``keys`` are field names (ascending) or ``(field, 1 | -1)``.
        ``expire_after_seconds`` makes a TTL index (one date field); ``partial_filter``
        (``partialFilterExpression``) indexes only the documents matching it, e.g. a unique
        index that lets many documents hold null: ``{"email": {"$type": "string"}}``. The
        default name is MongoDB's own (``field_1_other_-1``)."""
        pattern = _keys(keys)
        if expire_after_seconds is not None and len(pattern) != 1:
            raise ValueError("a TTL index (expire_after_seconds) has exactly one key")
        if expire_after_seconds is not None and expire_after_seconds < 0:
            raise ValueError("expire_after_seconds must be >= 0")
        index = name or "_".join(f"{f}_{d}" for f, d in pattern)
        partial = dict(partial_filter) if partial_filter else None
        return self._add(
            CreateIndex(collection, pattern, index, unique, expire_after_seconds, partial)
        )

    def drop_index(self, collection: str, name: str) -> MongoSchemaBuilder:
        return self._add(DropIndex(collection, name))

    def set_validator(
        self, collection: str, validator: Mapping[str, Any] | None
    ) -> MongoSchemaBuilder:
        """``collMod`` with the new validator; ``None`` removes it."""
        return self._add(SetValidator(collection, _validator(validator)))

    def rename_field(self, collection: str, name: str, new_name: str) -> MongoSchemaBuilder:
        """Rename a field in every document of ``collection`` (``$rename``)."""
        return self._add(RenameField(collection, name, new_name))

    def to_operations(self) -> list[str]:
        """What ``execute()`` would run, in order, one line per operation."""
        return [operation.describe() for operation in self._operations]

    # -- running

    def _dry_run(self) -> list[str] | None:
        from ...migrations.dry_run import DryRunSession

        session = self._session
        return session.statements if isinstance(session, DryRunSession) else None

    @property
    def _conn(self) -> MongoConnection:
        return document_connection(self._session.manager)

    async def execute(self) -> None:
        operations, self._operations = self._operations, []
        recorded = self._dry_run()
        if recorded is not None:  # migrate(dry_run=True): list, never run
            recorded.extend(operation.describe() for operation in operations)
            return
        if operations and self._session.read_only:
            raise refused(self._session.manager, f"schema change {operations[0].describe()}")
        for operation in operations:
            await self._run(operation)

    def __await__(self) -> Generator[Any, None, None]:
        return self.execute().__await__()

    async def _run(self, operation: SchemaOperation) -> None:
        manager = self._session.manager
        events = manager.events
        shape = operation.describe()
        started = time.perf_counter()
        try:
            await self._apply(operation)
        except JadugarError as exc:
            if events.has("error"):
                events.emit("error", {"sql": shape, "error": exc})
            raise
        except Exception as exc:
            error = translate(exc, shape)
            if events.has("error"):
                events.emit("error", {"sql": shape, "error": error})
            raise error from exc
        if events.has("query"):
            events.emit(
                "query",
                {
                    "sql": shape,
                    "params": (),
                    "duration": time.perf_counter() - started,
                    "row_count": 0,
                },
            )

    async def _apply(self, operation: SchemaOperation) -> None:
        conn = self._conn
        database = conn.client[conn.database]
        mock = conn.kind == "mongomock"
        if isinstance(operation, CreateCollection):
            options: dict[str, Any] = {}
            if operation.validator:
                if mock:
                    self.operations_ignored.append(operation.describe())
                else:
                    options["validator"] = operation.validator
            await _maybe_await(database.create_collection(operation.name, **options))
        elif isinstance(operation, DropCollection):
            await _maybe_await(database.drop_collection(operation.name))
        elif isinstance(operation, RenameCollection):
            await _maybe_await(database[operation.name].rename(operation.new_name))
        elif isinstance(operation, CreateIndex):
            extra: dict[str, Any] = {"name": operation.name}
            if operation.unique:
                extra["unique"] = True
            if operation.expire_after_seconds is not None:
                extra["expireAfterSeconds"] = operation.expire_after_seconds
            if operation.partial_filter:
                extra["partialFilterExpression"] = operation.partial_filter
            if mock and operation.unique and operation.partial_filter:
                await _mock_partial_unique_index(database[operation.collection], operation)
                return
            await _maybe_await(
                database[operation.collection].create_index(list(operation.keys), **extra)
            )
        elif isinstance(operation, DropIndex):
            await _maybe_await(database[operation.collection].drop_index(operation.name))
        elif isinstance(operation, RenameField):
            await _maybe_await(
                database[operation.collection].update_many(
                    {operation.name: {"$exists": True}},
                    {"$rename": {operation.name: operation.new_name}},
                )
            )
        elif isinstance(operation, SetValidator):
            if mock:
                self.operations_ignored.append(operation.describe())
                return
            await _maybe_await(
                database.command(
                    {"collMod": operation.collection, "validator": operation.validator}
                )
            )
        else:  # pragma: no cover
            raise UnsupportedOperation(type(operation).__name__, "mongodb schema builder")

    # -- introspection (runs at once)

    async def has_collection(self, name: str) -> bool:
        conn = self._conn
        try:
            names = await _maybe_await(conn.client[conn.database].list_collection_names())
        except Exception as exc:
            raise translate(exc, "list_collection_names") from exc
        return name in names

    async def collections(self) -> list[str]:
        conn = self._conn
        try:
            names = await _maybe_await(conn.client[conn.database].list_collection_names())
        except Exception as exc:
            raise translate(exc, "list_collection_names") from exc
        return sorted(str(n) for n in names)

    async def indexes(self, collection: str) -> list[MongoIndexInfo]:
        """The collection's indexes (``_id_`` included), by name; [] without the collection."""
        if not await self.has_collection(collection):
            return []
        conn = self._conn
        try:
            found: Mapping[str, Any] = await _maybe_await(
                conn.client[conn.database][collection].index_information()
            )
        except Exception as exc:
            raise translate(exc, f"{collection}.index_information") from exc
        infos = []
        for name, info in sorted(found.items()):
            ttl = info.get("expireAfterSeconds")
            partial = info.get("partialFilterExpression")
            infos.append(
                MongoIndexInfo(
                    str(name),
                    tuple((str(f), int(d)) for f, d in info.get("key", ())),
                    bool(info.get("unique", False)),
                    None if ttl is None else int(ttl),
                    dict(partial) if partial else None,
                )
            )
        return infos
