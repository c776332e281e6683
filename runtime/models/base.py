"""``jadugar.Model``: the base of every generated model (Active Record on the query builder).

Generated classes add the typed public surface (``find``, ``create``, ``find_by``…) and call
the ``_``-prefixed methods here, which are typed loosely because only generated code calls
them. Rows read from the database are trusted: they are hydrated without re-validation.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict

from ..encryption.fields import ModelCipher
from ..encryption.ring import KeyRing
from ..errors import (
    ConfigurationError,
    NotFoundError,
    RelationNotLoadedError,
    UnsupportedOperation,
)
from ..gc_pause import PAUSE_FROM
from ..read_only import ensure_writable
from . import events, inserts, registry, scopes
from .decode import DECODERS, Decoder, decoders_for
from .encode import Encoder, encode_values, encoders_for
from .events import ModelEvent
from .meta import ModelMeta, timestamp_now
from .methods import KeyedDelete
from .relations import load_relations
from .validation import validation_error as _validation_error

if TYPE_CHECKING:
    from ..manager import DatabaseManager
    from ..query.builder import TableQueryBuilder
    from .query import ModelQuery

Q_co = TypeVar("Q_co", bound="ModelQuery[Any, Any, Any]", covariant=True)
Q = TypeVar("Q", bound="ModelQuery[Any, Any, Any]")


class _KeySequence(Protocol):
    """What a document store's table builder offers for auto-increment keys."""

    async def reserve_keys(self, count: int = 1) -> int: ...


class Queryable(Protocol[Q_co]):
    """A generated model class, seen through its ``query()``: ``Post`` gives ``PostQuery``."""

    def query(self) -> Q_co: ...


# The private state every row read from the database starts with, shared until one of
# them needs its own (``_private``): two dicts fewer to build and collect per row.
_HYDRATED: dict[str, Any] = {"_persisted": True}

# BaseModel's slots, set through their descriptors: a quarter faster than
# object.__setattr__, which looks each name up along the class's MRO first
_SLOTS = BaseModel.__dict__
_SET_DICT = _SLOTS["__dict__"].__set__
_SET_FIELDS_SET = _SLOTS["__pydantic_fields_set__"].__set__
_SET_EXTRA = _SLOTS["__pydantic_extra__"].__set__
_SET_PRIVATE = _SLOTS["__pydantic_private__"].__set__


class Model(BaseModel):
    """A row of a table. Subclasses are generated from schema files; see the README."""

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        revalidate_instances="never",
        ignored_types=(KeyedDelete,),
    )

    __jadugar__: ClassVar[ModelMeta]
    _decoders: ClassVar[tuple[tuple[str, Decoder], ...]] = ()
    _encoders: ClassVar[dict[str, Encoder]] = {}
    _cipher: ClassVar[ModelCipher | None] = None  # set when the model has encrypted fields
    # fields whose column has another name (db_name): field -> column, and (column, field)
    _to_columns: ClassVar[dict[str, str]] = {}
    _to_fields: ClassVar[tuple[tuple[str, str], ...]] = ()
    _server_filled: ClassVar[tuple[str, ...]] = ()  # fields with a server_default

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        meta = cls.__dict__.get("__jadugar__")
        if meta is not None:
            cls._decoders = decoders_for(meta.columns, cls)
            cls._encoders = encoders_for(meta.columns)
            cls._to_columns = {c.name: c.db_name for c in meta.columns if c.db_name}
            cls._to_fields = tuple((c.db_name, c.name) for c in meta.columns if c.db_name)
            cls._server_filled = tuple(c.name for c in meta.columns if c.server_default)
            key = meta.column(meta.keys[0])
            cls._cipher = ModelCipher.of(meta, DECODERS.get(key.type) if key else None)
            if cls._cipher is not None:  # opened by the cipher into their Python types
                sealed = cls._cipher.names
                cls._decoders = tuple(d for d in cls._decoders if d[0] not in sealed)
            registry.register(cls)

    if not TYPE_CHECKING:
        # pydantic raises its own ValidationError from __init__ and on assignment; the
        # application sees jadugar.ValidationError everywhere (hidden from mypy, as pydantic
        # hides its own __setattr__, so unknown attributes stay type errors)

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except pydantic.ValidationError as exc:
                raise _validation_error(type(self).__name__, exc) from None

        # pydantic keeps validating with its own fast path (model_validate does not call it)
        __init__.__pydantic_base_init__ = True

        def __setattr__(self, name: str, value: Any) -> None:
            try:
                super().__setattr__(name, value)
            except pydantic.ValidationError as exc:
                raise _validation_error(type(self).__name__, exc) from None

    def __eq__(self, other: object) -> bool:
        """Equal when the same model holds the same column values (which relations happen
        to be loaded does not matter)."""
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, like every pydantic model

    # ---- events ----------------------------------------------------------------------
    @classmethod
    def on(cls, event: ModelEvent, handler: Callable[[Self], object]) -> None:
        """Call ``handler(instance)`` (sync or async) on ``event`` for this class only;
        raising in a ``-ing`` handler vetoes the write. Order: see ``jadugar.models.events``."""
        events.add(cls, event, handler)

    @classmethod
    def off(
        cls, event: ModelEvent | None = None, handler: Callable[[Self], object] | None = None
    ) -> None:
        """Remove ``handler`` from ``event``, every handler of ``event``, or (no arguments)
        every handler of this class."""
        events.remove(cls, event, handler)

    async def _fire(self, event: ModelEvent) -> None:
        await events.fire(self, event)

    # ---- binding ---------------------------------------------------------------------
    @classmethod
    def bind(cls, manager: DatabaseManager | None) -> None:
        """Run this model's queries on ``manager`` instead of the connected default
        (``None`` goes back to the default)."""
        registry.bind_model(cls, manager)

    @classmethod
    def _table(cls) -> TableQueryBuilder:
        """The table, filtered by this model's scopes (``add_scope``)."""
        return scopes.apply(cls, registry.manager_for(cls).query.table(cls.__jadugar__.table))

    @classmethod
    def _unscoped_table(cls) -> TableQueryBuilder:
        return registry.manager_for(cls).query.table(cls.__jadugar__.table)

    @classmethod
    def _check_writable(cls, call: str) -> None:
        """``ReadOnlyError`` before a write's events run, when the manager is read-only."""
        manager = registry.manager_for(cls)
        if manager.options.read_only:
            ensure_writable(manager, f"{cls.__name__}.{call}()", cls.__jadugar__.table)

    # ---- scopes ----------------------------------------------------------------------
    @classmethod
    def add_scope(cls, name: str, scope: scopes.Scope) -> None:
        """Filter every read, update and delete of this model (and its subclasses) with
        ``scope()``, called each time a query runs: a mapping of column to value, a
        ``Condition``, or ``None`` for no filter this time. ``create`` fills the columns
        a mapping names when the new row leaves them out. Opt out per query with
        ``query().without_scope(name)``. Adding a name again replaces that scope."""
        scopes.add(cls, name, scope)

    @classmethod
    def remove_scope(cls, name: str | None = None) -> None:
        """Remove this class's scope ``name``, or (no argument) all of its own scopes."""
        scopes.remove(cls, name)

    # ---- document stores (MongoDB) ---------------------------------------------------
    @classmethod
    def _document_store(cls) -> bool:
        return registry.manager_for(cls).document_store

    @classmethod
    def _stored(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` as the database keeps them: keyed by column names (``db_name``), and
        on a document store encoded by column type (``encode.py``); unchanged otherwise."""
        if cls._encoders and cls._document_store():
            return encode_values(cls._encoders, values)
        if cls._to_columns:
            return cls._columns_of(values)
        return values if type(values) is dict else dict(values)  # no copy on the SQL path

    @classmethod
    def _columns_of(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` keyed by column names instead of field names."""
        to_columns = cls._to_columns
        return {to_columns.get(name, name): value for name, value in values.items()}

    @classmethod
    def _column(cls, name: str) -> str:
        """The column of field ``name`` (its ``db_name``, else the name itself)."""
        return cls._to_columns.get(name, name)

    @classmethod
    def _key_values(cls, key: object) -> dict[str, Any]:
        """A key as the model's key fields and their values: ``{"id": 1}``, or for a
        composite key ``(1, 2)`` -> ``{"order_id": 1, "line_no": 2}``."""
        meta = cls.__jadugar__
        primary = meta.primary_key
        if isinstance(primary, str):
            return {primary: key}
        if not isinstance(key, tuple | list) or len(key) != len(primary):
            raise TypeError(
                f"{meta.name} has a composite primary key ({', '.join(primary)}): give its key "
                f"as a tuple of {len(primary)} values, not {key!r}"
            )
        return dict(zip(primary, key, strict=True))

    def _key(self) -> object:
        """This row's key: one value, or a tuple of values for a composite key."""
        primary = self.__jadugar__.primary_key
        if isinstance(primary, str):
            return getattr(self, primary)
        return tuple(getattr(self, name) for name in primary)

    def _key_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__jadugar__.keys}

    @classmethod
    def _auto_key(cls) -> str | None:
        """The auto-increment key column a document store has to number itself."""
        meta = cls.__jadugar__
        column = meta.column(meta.keys[0])
        if column is not None and column.auto_increment and cls._document_store():
            return column.name
        return None

    @classmethod
    async def _reserve_keys(cls, count: int) -> int:
        """Reserve ``count`` keys from the collection's counter; the last one."""
        table: Any = cls._unscoped_table()
        sequence: _KeySequence = table
        return await sequence.reserve_keys(count)

    # ---- encrypted fields (jadugar.encryption) ----------------------------------------
    @classmethod
    def _ring(cls) -> KeyRing:
        """The key ring of this model's database (a model with encrypted fields only)."""
        cipher = cls._cipher
        assert cipher is not None
        manager = registry.manager_for(cls)
        if manager.document_store:
            raise UnsupportedOperation(
                f"encrypted fields ({cls.__name__})", manager.dialect.name, "SQL engines only"
            )
        return cipher.ring(manager.options.encryption)

    # ---- hydration -------------------------------------------------------------------
    @classmethod
    def _from_row(cls, row: dict[str, Any]) -> Self:
        """A model from a trusted database row: decoded by column type, not re-validated."""
        return cls._from_rows([row])[0]

    @classmethod
    def _from_rows(cls, rows: list[dict[str, Any]]) -> list[Self]:
        """``_from_row`` for a whole result, inlined: the hot path of every fetch."""
        if cls._to_fields:  # columns with another name (db_name) -> the fields' names
            renames = cls._to_fields
            for row in rows:
                for column, name in renames:
                    if column in row:
                        row[name] = row.pop(column)
        if cls._cipher is not None:
            cls._cipher.open_rows(cls._ring(), rows)
        decoders = cls._decoders
        if decoders:
            for row in rows:
                for name, decode in decoders:
                    if name in row:
                        row[name] = decode(row[name])
        new, hydrated = object.__new__, _HYDRATED
        set_dict, set_fields_set = _SET_DICT, _SET_FIELDS_SET
        set_extra, set_private = _SET_EXTRA, _SET_PRIVATE
        models: list[Self] = []
        append = models.append
        # spelled out rather than ``with collector_paused()``: the context manager around
        # this loop measured 80 ns a row slower (CPython 3.11)
        pause = len(rows) > PAUSE_FROM and gc.isenabled()
        if pause:
            gc.disable()
        try:
            for row in rows:
                obj = new(cls)
                set_dict(obj, row)
                set_fields_set(obj, set())
                set_extra(obj, None)
                set_private(obj, hydrated)
                append(obj)
        finally:
            if pause:
                gc.enable()
        return models

    @classmethod
    def _validated(cls, values: Mapping[str, Any]) -> Self:
        try:
            obj = cls.model_validate(dict(values))
        except pydantic.ValidationError as exc:
            raise _validation_error(cls.__name__, exc) from None
        return obj

    # ---- class-level operations ------------------------------------------------------
    @classmethod
    async def _find_or_none(cls, key: object) -> Self | None:
        meta = cls.__jadugar__
        query = cls._table().where(cls._stored(cls._key_values(key)))
        if meta.soft_deletes:
            query = query.where_null("deleted_at")
        row = await query.first()
        return None if row is None else cls._from_row(row)

    @classmethod
    async def _find(cls, key: object) -> Self:
        found = await cls._find_or_none(key)
        if found is None:
            raise NotFoundError(f"{cls._described(key)} not found")
        return found

    @classmethod
    def _described(cls, key: object) -> str:
        """``User with id=1``, ``OrderLine with (order_id, line_no)=(1, 2)``."""
        meta = cls.__jadugar__
        primary = meta.primary_key
        names = primary if isinstance(primary, str) else f"({', '.join(primary)})"
        return f"{meta.name} with {names}={key!r}"

    @classmethod
    async def _create(cls, values: Mapping[str, Any]) -> Self:
        cls._check_writable("create")
        obj = cls._validated(scopes.fill(cls, values))
        await obj.save()
        return obj

    @classmethod
    async def _create_many(cls, values: Sequence[Mapping[str, Any]]) -> int:
        return await inserts.create_many(cls, values)

    @classmethod
    async def _update(cls, key: object, values: Mapping[str, Any]) -> Self:
        cls._check_writable("update")
        obj = await cls._find(key)
        merged = {**obj.__dict__, **values}
        checked = cls._validated(merged)
        for name in values:
            setattr(obj, name, getattr(checked, name))
        await obj.save()
        return obj

    @classmethod
    async def _delete_key(cls, key: object) -> None:
        await (await cls._find(key))._delete_row()

    # ---- instance operations ---------------------------------------------------------
    @property
    def persisted(self) -> bool:
        """True once the row exists in the database (found, created or saved)."""
        return bool(self.__pydantic_private__ and self.__pydantic_private__.get("_persisted"))

    async def save(self) -> None:
        """Insert a new row, or update only the fields changed since it was loaded (two
        tasks saving different fields of one row keep both). Events: saving, then creating
        / created or updating / updated, then saved."""
        self._check_writable("save")
        await self._fire("saving")
        if not self.persisted:
            await self._fire("creating")
            await self._insert()
            await self._fire("created")
        elif self._changed():
            await self._fire("updating")
            await self._write_changes()
            await self._fire("updated")
        await self._fire("saved")

    def _changed(self) -> dict[str, Any]:
        keys = self.__jadugar__.keys
        return {n: getattr(self, n) for n in self.model_fields_set if n not in keys}

    async def _write_changes(self) -> None:
        meta = self.__jadugar__
        changed = self._changed()
        if not changed:
            return
        if meta.timestamps:
            changed["updated_at"] = timestamp_now()
            object.__setattr__(self, "updated_at", changed["updated_at"])
        cls = type(self)
        values = cls._stored(changed)
        if cls._cipher is not None:
            values = cls._cipher.seal(cls._ring(), values, self._key())
        await self._table().where(cls._stored(self._key_dict())).update(values)
        self.model_fields_set.clear()

    async def refresh(self) -> None:
        """Reload every column from the database (a soft-deleted row too); a row the
        model's scopes hide raises ``NotFoundError``."""
        query = self._table().where(type(self)._stored(self._key_dict()))
        row = await query.options(use_replica=False).first()  # the primary: the latest
        if row is None:
            raise NotFoundError(f"{type(self)._described(self._key())} not found")
        self.__dict__.update(type(self)._from_row(row).__dict__)
        self.model_fields_set.clear()

    def _keyed(self) -> TableQueryBuilder:
        return self._table().where(type(self)._stored(self._key_dict()))

    async def _delete_row(self) -> None:
        """``user.delete()``: a soft delete where enabled. Events: deleting, deleted."""
        self._check_writable("delete")
        if not self.__jadugar__.soft_deletes:
            await self._force_delete()
            return
        await self._fire("deleting")
        stamp = timestamp_now()
        await self._keyed().update({"deleted_at": stamp})
        object.__setattr__(self, "deleted_at", stamp)
        await self._fire("deleted")

    async def _force_delete(self) -> None:
        """Really delete the row, soft deletes or not. Events: deleting, deleted."""
        self._check_writable("force_delete")
        await self._fire("deleting")
        await self._keyed().delete()
        self._private()["_persisted"] = False
        await self._fire("deleted")

    async def _restore(self) -> None:
        """Clear ``deleted_at``. Events: restoring, restored."""
        meta = self.__jadugar__
        if not meta.soft_deletes:
            raise ConfigurationError(f"restore(): {meta.name} has no soft deletes")
        self._check_writable("restore")
        await self._fire("restoring")
        values: dict[str, Any] = {"deleted_at": None}
        if meta.timestamps:
            values["updated_at"] = timestamp_now()
        await self._keyed().update(values)
        for name, value in values.items():
            object.__setattr__(self, name, value)
        await self._fire("restored")

    async def _insert(self) -> None:
        await inserts.insert(self)
        self._private()["_persisted"] = True
        self.model_fields_set.clear()

    def _private(self) -> dict[str, Any]:
        private = self.__pydantic_private__
        if private is None or private is _HYDRATED:
            private = {"_loaded": {}, "_persisted": private is _HYDRATED}
            object.__setattr__(self, "__pydantic_private__", private)
        return private

    # ---- relations -------------------------------------------------------------------
    def has_one(self, related: Queryable[Q], foreign_key: str, local_key: str | None = None) -> Q:
        """The related model's query where ``related.<foreign_key>`` equals our key:
        ``await user.has_one(Profile, "user_id").first()``."""
        return self._relation_query(related, foreign_key, local_key)

    def has_many(self, related: Queryable[Q], foreign_key: str, local_key: str | None = None) -> Q:
        """The related model's query where ``related.<foreign_key>`` equals our key:
        ``await user.has_many(Post, "user_id").where(...).get()``."""
        return self._relation_query(related, foreign_key, local_key)

    def belongs_to(
        self, related: Queryable[Q], foreign_key: str, other_key: str | None = None
    ) -> Q:
        """The related model's query where its key equals our ``foreign_key``:
        ``await post.belongs_to(User, "user_id").first()``."""
        query = related.query()
        column = other_key or query._model.__jadugar__.single_key
        return _keyed_query(query, column, getattr(self, foreign_key))

    def _relation_query(self, related: Queryable[Q], foreign_key: str, local_key: str | None) -> Q:
        value = getattr(self, local_key or self.__jadugar__.single_key)
        return _keyed_query(related.query(), foreign_key, value)

    async def _load(self, relations: Iterable[str]) -> None:
        await load_relations(type(self), [self], relations)

    def _count(self, name: str) -> int:
        count: int = self._related(f"{name}_count")
        return count

    def _related(self, name: str) -> Any:
        loaded = self._private().setdefault("_loaded", {})
        if name not in loaded:
            raise RelationNotLoadedError(
                f"{type(self).__name__}.{name} is not loaded: use "
                f"{type(self).__name__}.query().with_({name!r}) or `await obj.load({name!r})`"
            )
        return loaded[name]


def _keyed_query(query: Q, column: str, value: object) -> Q:
    if value is None:  # an unsaved parent or an empty foreign key: no rows, never IS NULL
        if query._model._document_store():  # no SQL there: an empty $in matches nothing
            return query._copy(query._builder.where_in(column, []))
        return query._copy(query._builder.where_raw("1 = 0"))
    return query._filter({column: value})
