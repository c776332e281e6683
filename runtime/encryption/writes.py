"""Inserts of models with encrypted fields.

The primary key is part of each ciphertext's associated data. When the application gives
the key (a uuid, a natural key), values are sealed before the insert. When the database
assigns it (auto-increment), the row is inserted with empty encrypted columns (blind
indexes already set) and sealed by an update in the same transaction: no other connection
ever sees the empty values, and a failure leaves no row behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..models import registry
from .fields import ModelCipher
from .ring import KeyRing

if TYPE_CHECKING:
    from ..models.base import Model
    from ..query.result import QueryResult


def _cipher(model: type[Model]) -> tuple[ModelCipher, KeyRing]:
    cipher = model._cipher
    assert cipher is not None
    return cipher, model._ring()


async def insert_sealed(model: type[Model], data: Mapping[str, Any]) -> QueryResult:
    """Insert one row, its encrypted values sealed for its primary key."""
    cipher, ring = _cipher(model)
    key = data.get(model.__jadugar__.single_key)
    if key is not None:
        return await model._unscoped_table().insert(cipher.seal(ring, data, key))
    async with registry.manager_for(model).transaction():
        return await _insert_then_seal(model, cipher, ring, data)


async def create_many_sealed(
    model: type[Model], columns: tuple[str, ...], data: Sequence[tuple[Any, ...]]
) -> None:
    """``create_many`` of a model with encrypted fields: one bulk insert when the rows carry
    their keys, else one insert and one update per row, all in one transaction."""
    cipher, ring = _cipher(model)
    pk = model.__jadugar__.single_key
    rows = [dict(zip(columns, row, strict=True)) for row in data]
    if pk in columns:
        sealed = [cipher.seal(ring, row, row[pk]) for row in rows]
        names = tuple(sealed[0])
        await model._unscoped_table().insert_many(
            [tuple(r.values()) for r in sealed], columns=names
        )
        return
    async with registry.manager_for(model).transaction():
        for row in rows:
            await _insert_then_seal(model, cipher, ring, row)


async def _insert_then_seal(
    model: type[Model], cipher: ModelCipher, ring: KeyRing, data: Mapping[str, Any]
) -> QueryResult:
    table = model._unscoped_table
    result = await table().insert(cipher.placeholders(ring, data))
    values = {n: data[n] for n in cipher.names if data.get(n) is not None}
    if values:
        sealed = cipher.seal(ring, values, result.id)
        pk = model.__jadugar__.single_key
        await table().where({pk: result.id}).update({n: sealed[n] for n in values})
    return result
