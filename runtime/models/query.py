"""``ModelQuery[M, C, R]``: a typed, immutable, awaitable query returning models.

``C`` is the model's ``Literal`` of column names and ``R`` its ``Literal`` of relation paths,
so ``select``, ``order_by`` and ``with_`` reject unknown names under mypy.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, Self, TypeVar

import pydantic

from ..errors import ConfigurationError, EncryptionError
from ..query.builder import TableQueryBuilder
from ..query.expressions import Column, Condition
from ..replicas.consistency import Consistency
from . import rows, scopes
from .base import Model
from .encode import encode_node
from .meta import timestamp_now
from .relations import load_counts, load_relations
from .validation import validation_error as _validation_error
from .where import where_form

M = TypeVar("M", bound=Model)
C = TypeVar("C", bound=str)
R = TypeVar("R", bound=str)

Trashed = Literal["without", "with", "only"]


@dataclass(frozen=True, slots=True)
class Page(Generic[M]):
    """One page of results and the totals behind it."""

    items: list[M]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


class ModelQuery(Generic[M, C, R]):
    """``User.query()``: filter, order and page; ``await`` it for ``list[User]``."""

    __slots__ = ("_builder", "_counts", "_model", "_skip", "_trashed", "_with")

    def __init__(self, model: type[M]) -> None:
        self._model = model
        self._builder: TableQueryBuilder = model._unscoped_table()
        self._with: tuple[str, ...] = ()
        self._counts: tuple[str, ...] = ()
        self._trashed: Trashed = "without"
        # the scopes (add_scope) left out by name; None: every scope left out
        self._skip: frozenset[str] | None = scopes.NONE_SKIPPED

    def _copy(self, builder: TableQueryBuilder | None = None) -> Self:
        new = object.__new__(type(self))
        new._model = self._model
        new._builder = self._builder if builder is None else builder
        new._with = self._with
        new._counts = self._counts
        new._trashed = self._trashed
        new._skip = self._skip
        return new

    # ---- building --------------------------------------------------------------------
    def where(self, *conditions: Condition) -> Self:
        """Filter with typed column conditions: ``.where(User.c.login_count >= 10)``. The
        generated query classes also take, typed per column, a mapping of equalities
        ``.where({"active": True})``, ``.where("email", e)`` and the seed's
        ``.where("login_count", ">", 10)`` (operators: ``jadugar.query.operators``)."""
        return self._where(conditions)

    def _where(self, args: tuple[object, ...]) -> Self:
        """Every form of ``where`` (``where.py``), checked against the model's columns."""
        form = where_form(self._model, args)
        if isinstance(form, dict):
            return self._filter(form)
        return self._conditions(form)

    def _conditions(self, conditions: tuple[Condition, ...]) -> Self:
        model = self._model
        if model._cipher is not None:  # equalities on searchable fields -> blind indexes
            cipher, ring = model._cipher, model._ring()
            conditions = tuple(Condition(cipher.condition(ring, c.node)) for c in conditions)
        if model._document_store():  # values as stored (encode.py)
            conditions = tuple(Condition(encode_node(c.node)) for c in conditions)
        return self._copy(self._builder.where(*conditions))

    def _filter(self, values: Mapping[str, Any]) -> Self:
        if not values:
            return self
        model = self._model
        if model._cipher is not None:
            values = model._cipher.lookup(model._ring(), values)
        return self._copy(self._builder.where(model._stored(values)))

    def select(self, *columns: C) -> Self:
        """Load only these columns (always with the primary key)."""
        model = self._model
        keys = [k for k in model.__jadugar__.keys if k not in columns]
        names: tuple[str | Column[Any], ...] = (*keys, *columns)
        if model._to_columns:  # by column reference: a column name is never read as SQL
            names = tuple(
                Column[Any](model._column(n)) if n in model._to_columns else n
                for n in names
                if isinstance(n, str)
            )
        return self._copy(self._builder.select(*names))

    def order_by(self, column: C | Column[Any], direction: Literal["asc", "desc"] = "asc") -> Self:
        target: str | Column[Any] = column
        if isinstance(column, str) and self._model._to_columns:
            target = self._model._column(column)
        return self._copy(self._builder.order_by(target, direction))

    def limit(self, limit: int) -> Self:
        return self._copy(self._builder.limit(limit))

    def offset(self, offset: int) -> Self:
        return self._copy(self._builder.offset(offset))

    def cache(self, ttl: float | None = None) -> Self:
        """Serve this query's rows and counts from the query cache (``TableQueryBuilder.
        cache``); models are built anew from the cached rows on every read. Relations
        loaded by ``with_()`` and counts of ``with_count()`` are read from the database."""
        return self._copy(self._builder.cache(ttl))

    def options(
        self,
        *,
        timeout: float | None = None,
        use_replica: bool | None = None,
        consistency: Consistency | None = None,
        max_lag: float | None = None,
    ) -> Self:
        """Per-query options, as ``TableQueryBuilder.options``: a timeout, and where the
        reads may run when replicas are configured (``consistency="strong"``: primary)."""
        return self._copy(
            self._builder.options(
                timeout=timeout, use_replica=use_replica, consistency=consistency, max_lag=max_lag
            )
        )

    def with_(self, *relations: R) -> Self:
        """Eager-load relations (``"posts"``, ``"posts.comments"``): one query per level."""
        new = self._copy()
        new._with = self._with + tuple(r for r in relations if r not in self._with)
        return new

    def with_count(self, *relations: R) -> Self:
        """Fill ``<relation>_count`` for each row with one grouped query per relation."""
        new = self._copy()
        new._counts = self._counts + relations
        return new

    def with_trashed(self) -> Self:
        new = self._copy()
        new._trashed = "with"
        return new

    def only_trashed(self) -> Self:
        new = self._copy()
        new._trashed = "only"
        return new

    def without_scope(self, *names: str) -> Self:
        """Leave out the model's scopes with these names (``add_scope``) in this query."""
        skip = scopes.check_names(self._model, names)
        new = self._copy()
        if self._skip is not None:
            new._skip = self._skip | skip
        return new

    def without_scopes(self) -> Self:
        """Leave out every scope of the model in this query."""
        new = self._copy()
        new._skip = None
        return new

    def _filtered(self) -> TableQueryBuilder:
        """The query with the model's scopes applied (those not left out)."""
        if self._skip is None:
            return self._builder
        return scopes.apply(self._model, self._builder, self._skip)

    def _scoped(self) -> TableQueryBuilder:
        builder = self._filtered()
        if not self._model.__jadugar__.soft_deletes or self._trashed == "with":
            return builder
        if self._trashed == "only":
            return builder.where_not_null("deleted_at")
        return builder.where_null("deleted_at")

    # ---- reading ---------------------------------------------------------------------
    async def get(self) -> list[M]:
        rows = await self._scoped().all()
        return await self._hydrate(rows)

    async def first(self) -> M | None:
        row = await self._scoped().first()
        if row is None:
            return None
        return (await self._hydrate([row]))[0]

    async def count(self) -> int:
        return await self._scoped().count()

    async def exists(self) -> bool:
        return await self._scoped().exists()

    async def paginate(self, page: int = 1, per_page: int = 20) -> Page[M]:
        if page < 1 or per_page < 1:
            raise ValueError(
                f"paginate() needs page >= 1 and per_page >= 1, got {page}, {per_page}"
            )
        total = await self.count()
        items = await self.offset((page - 1) * per_page).limit(per_page).get()
        return Page(items, total, page, per_page)

    def __await__(self) -> Generator[Any, None, list[M]]:
        return self.get().__await__()

    async def _hydrate(self, rows: list[dict[str, Any]]) -> list[M]:
        models = self._model._from_rows(rows)
        if models and self._with:
            await load_relations(self._model, models, self._with)
        if models and self._counts:
            await load_counts(self._model, models, self._counts)
        return models

    # ---- writing (one statement; no per-row events) -------------------------------------
    async def delete(self) -> int:
        """Delete every matching row (a soft delete of the rows not yet trashed where
        enabled; ``force_delete()`` purges); returns the row count."""
        meta = self._model.__jadugar__
        if meta.soft_deletes:
            query = self._scoped().where_null("deleted_at").update({"deleted_at": timestamp_now()})
            result = await query.all_rows()
        else:
            result = await self._scoped().delete().all_rows()
        count: int = result.row_count
        return count

    async def _update(self, values: Mapping[str, Any]) -> int:
        """Validate ``values`` (the model's constraints), set ``updated_at`` where the model
        has timestamps, update every matching row; returns the row count."""
        meta = self._model.__jadugar__
        try:
            checked = rows.update_validator(self._model).validate_python(dict(values))
        except pydantic.ValidationError as exc:
            raise _validation_error(meta.name, exc) from None
        if not checked:
            return 0
        sealed = [n for n in checked if self._model._cipher and n in self._model._cipher.by_name]
        if sealed:
            raise EncryptionError(
                f"{meta.name}.{sealed[0]} is encrypted: a bulk update cannot seal it (each "
                "row's key is part of its ciphertext); update the rows one by one with "
                f"{meta.name}.update(key, ...) or obj.save()"
            )
        if meta.timestamps:
            checked["updated_at"] = timestamp_now()
        result = await self._scoped().update(self._model._stored(checked)).all_rows()
        count: int = result.row_count
        return count

    async def _force_delete(self) -> int:
        """Really delete the matching rows (trashed ones too when ``with_trashed()`` /
        ``only_trashed()``); returns the row count."""
        self._needs_soft_deletes("force_delete")
        result = await self._scoped().delete().all_rows()
        count: int = result.row_count
        return count

    async def _restore(self) -> int:
        """Clear ``deleted_at`` of the matching trashed rows; returns the row count."""
        meta = self._needs_soft_deletes("restore")
        values: dict[str, Any] = {"deleted_at": None}
        if meta.timestamps:
            values["updated_at"] = timestamp_now()
        query = self._filtered().where_not_null("deleted_at").update(values)
        result = await query.all_rows()
        count: int = result.row_count
        return count

    def _needs_soft_deletes(self, call: str) -> Any:
        meta = self._model.__jadugar__
        if not meta.soft_deletes:
            raise ConfigurationError(f"{call}(): {meta.name} has no soft deletes")
        return meta


RelationshipBuilder = ModelQuery[M, Any, Any]
"""What ``user.has_many(Post, "user_id")`` returns, loosely typed: in fact the related
model's generated query (``PostQuery``), pre-filtered on the key, with its typed columns and
relation paths."""
