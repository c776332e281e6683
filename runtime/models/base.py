"""``jadugar.Model``: the base of every generated model (Active Record on the query builder).

Generated classes add the typed public surface (``find``, ``create``, ``find_by``…) and call
the ``_``-prefixed methods here, which are typed loosely because only generated code calls
them. Rows read from the database are trusted: they are hydrated without re-validation.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pydantic
from pydantic import BaseModel, ConfigDict

from ..errors import NotFoundError, RelationNotLoadedError, ValidationError
from . import registry
from .decode import Decoder, decoders_for
from .meta import ModelMeta
from .methods import KeyedDelete
from .relations import load_relations

if TYPE_CHECKING:
    from ..manager import DatabaseManager
    from ..query.builder import TableQueryBuilder


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

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        meta = cls.__dict__.get("__jadugar__")
        if meta is not None:
            cls._decoders = decoders_for(meta.columns)
            registry.register(cls)

    # ---- binding ---------------------------------------------------------------------
    @classmethod
    def bind(cls, manager: DatabaseManager | None) -> None:
        """Run this model's queries on ``manager`` instead of the connected default
        (``None`` goes back to the default)."""
        registry.bind_model(cls, manager)

    @classmethod
    def _table(cls) -> TableQueryBuilder:
        return registry.manager_for(cls).query.table(cls.__jadugar__.table)

    # ---- hydration -------------------------------------------------------------------
    @classmethod
    def _from_row(cls, row: dict[str, Any]) -> Self:
        for name, decode in cls._decoders:
            if name in row:
                row[name] = decode(row[name])
        obj = cls.__new__(cls)
        object.__setattr__(obj, "__dict__", row)
        object.__setattr__(obj, "__pydantic_fields_set__", set())
        object.__setattr__(obj, "__pydantic_extra__", None)
        object.__setattr__(obj, "__pydantic_private__", {"_loaded": {}, "_persisted": True})
        return obj

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
        query = cls._table().where({meta.primary_key: key})
        if meta.soft_deletes:
            query = query.where_null("deleted_at")
        row = await query.first()
        return None if row is None else cls._from_row(row)

    @classmethod
    async def _find(cls, key: object) -> Self:
        found = await cls._find_or_none(key)
        if found is None:
            meta = cls.__jadugar__
            raise NotFoundError(f"{meta.name} with {meta.primary_key}={key!r} not found")
        return found

    @classmethod
    async def _create(cls, values: Mapping[str, Any]) -> Self:
        obj = cls._validated(values)
        await obj._insert()
        return obj

    @classmethod
    async def _update(cls, key: object, values: Mapping[str, Any]) -> Self:
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
        """Insert a new row, or update only the fields changed since it was loaded."""
        if not self.persisted:
            await self._insert()
            return
        meta = self.__jadugar__
        changed = {n: getattr(self, n) for n in self.model_fields_set if n != meta.primary_key}
        if meta.timestamps:
            changed["updated_at"] = _now()
            object.__setattr__(self, "updated_at", changed["updated_at"])
        if changed:
            key = getattr(self, meta.primary_key)
            await self._table().where({meta.primary_key: key}).update(changed)
        self.model_fields_set.clear()

    async def refresh(self) -> None:
        """Reload every column from the database."""
        fresh = await type(self)._find(getattr(self, self.__jadugar__.primary_key))
        self.__dict__.update(fresh.__dict__)
        self.model_fields_set.clear()

    async def _delete_row(self) -> None:
        meta = self.__jadugar__
        key = getattr(self, meta.primary_key)
        query = self._table().where({meta.primary_key: key})
        if meta.soft_deletes:
            stamp = _now()
            await query.update({"deleted_at": stamp})
            object.__setattr__(self, "deleted_at", stamp)
        else:
            await query.delete()
            self._private()["_persisted"] = False

    async def _insert(self) -> None:
        meta = self.__jadugar__
        if meta.timestamps:
            stamp = _now()
            object.__setattr__(self, "created_at", stamp)
            object.__setattr__(self, "updated_at", stamp)
        data = {
            c.name: getattr(self, c.name)
            for c in meta.columns
            if not (c.auto_increment and getattr(self, c.name) is None)
            and c.managed != "deleted_at"
        }
        result = await self._table().insert(data)
        if getattr(self, meta.primary_key) is None:
            object.__setattr__(self, meta.primary_key, result.id)
        self._private()["_persisted"] = True
        self.model_fields_set.clear()

    def _private(self) -> dict[str, Any]:
        private = self.__pydantic_private__
        if private is None:
            private = {"_loaded": {}, "_persisted": False}
            object.__setattr__(self, "__pydantic_private__", private)
        return private

    # ---- relations -------------------------------------------------------------------
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


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _validation_error(model: str, exc: pydantic.ValidationError) -> ValidationError:
    errors: list[dict[str, object]] = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    listed = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return ValidationError(f"invalid {model}: {listed}", errors=errors)
