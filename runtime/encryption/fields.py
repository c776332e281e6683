"""``ModelCipher``: what a model with encrypted fields does on the way in and out.

- write: each encrypted value is sealed under the active key with (table, column, primary
  key) as associated data; a ``searchable`` field also gets ``<field>_bidx``, its blind index.
- read: envelopes are opened before hydration, blind index columns dropped.
- filter: an equality on a searchable field becomes one on its blind index; any other
  condition on an encrypted field is an ``EncryptionError`` naming the model and the field.

``None`` is stored as NULL, not sealed: whether a nullable field is set stays visible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError, EncryptionError
from ..query import tree
from .ring import KeyRing
from .values import DECODE, ENCODE, Decode, Encode

if TYPE_CHECKING:
    from ..config import EncryptionOptions
    from ..models.meta import ModelMeta

INDEX_SUFFIX = "_bidx"
PLACEHOLDER = ""  # the value an encrypted column holds between insert and sealing

_rings: dict[int, tuple[EncryptionOptions, KeyRing]] = {}


def index_column(name: str) -> str:
    return name + INDEX_SUFFIX


def ring_for(options: EncryptionOptions) -> KeyRing:
    """The key ring of ``options``, built once (options are immutable)."""
    cached = _rings.get(id(options))
    if cached is not None and cached[0] is options:
        return cached[1]
    assert options.key_id is not None  # EncryptionOptions fills it in
    ring = KeyRing(options.key_bytes(), options.key_id, options.index_key_bytes())
    _rings[id(options)] = (options, ring)
    return ring


@dataclasses.dataclass(frozen=True, slots=True)
class SealedColumn:
    name: str
    encode: Encode
    decode: Decode
    index: str | None  # the blind index column of a searchable field


class ModelCipher:
    """The encrypted columns of one model and how to seal, open and look them up."""

    __slots__ = ("_key_decoder", "by_name", "columns", "model", "primary_key", "table")

    def __init__(self, meta: ModelMeta, key_decoder: Callable[[Any], Any] | None = None) -> None:
        # the key as the model holds it (a driver may return a uuid as text or bytes):
        # its str() is part of the associated data
        self._key_decoder = key_decoder
        self.model = meta.name
        self.table = meta.table
        self.primary_key = meta.single_key
        self.columns = tuple(
            SealedColumn(
                c.name,
                ENCODE[c.type],
                DECODE[c.type],
                index_column(c.name) if c.searchable else None,
            )
            for c in meta.columns
            if c.encrypted
        )
        self.by_name = {c.name: c for c in self.columns}

    @classmethod
    def of(
        cls, meta: ModelMeta, key_decoder: Callable[[Any], Any] | None = None
    ) -> ModelCipher | None:
        return cls(meta, key_decoder) if any(c.encrypted for c in meta.columns) else None

    def key_of(self, stored: object) -> object:
        """A primary key read from the database, as the model holds it."""
        return stored if self._key_decoder is None else self._key_decoder(stored)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.by_name)

    def ring(self, options: EncryptionOptions | None) -> KeyRing:
        if options is None:
            raise ConfigurationError(
                f"{self.model} has encrypted fields ({', '.join(self.names)}) but the "
                "database has no encryption keys: set DatabaseOptions(encryption="
                "EncryptionOptions(keys=..., key_id=...)) or JADUGAR_ENCRYPTION_KEYS and "
                "JADUGAR_ENCRYPTION_KEY_ID",
                field="encryption",
            )
        return ring_for(options)

    # ---- writing --------------------------------------------------------------------
    def seal(self, ring: KeyRing, values: Mapping[str, Any], key: object) -> dict[str, Any]:
        """``values`` with each encrypted value sealed for the row ``key`` (blind indexes
        added); other values unchanged."""
        out = dict(values)
        for column in self.columns:
            if column.name not in values:
                continue
            value = values[column.name]
            if value is None:
                out[column.name] = None
                if column.index:
                    out[column.index] = None
                continue
            plain = column.encode(value)
            out[column.name] = ring.seal(plain, self.table, column.name, key)
            if column.index:
                out[column.index] = ring.blind_index(plain, self.table, column.name)
        return out

    def placeholders(self, ring: KeyRing, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` for an insert whose key the database assigns: encrypted values left
        empty (sealed right after, in the same transaction), blind indexes already set."""
        out = self.seal_indexes(ring, values)
        for column in self.columns:
            if values.get(column.name) is not None:
                out[column.name] = PLACEHOLDER
        return out

    def seal_indexes(self, ring: KeyRing, values: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(values)
        for column in self.columns:
            if column.index and column.name in values:
                value = values[column.name]
                out[column.index] = (
                    None
                    if value is None
                    else ring.blind_index(column.encode(value), self.table, column.name)
                )
        return out

    # ---- reading --------------------------------------------------------------------
    def open_rows(self, ring: KeyRing, rows: Iterable[dict[str, Any]]) -> None:
        """Decrypt the encrypted columns of ``rows`` in place; drop blind indexes."""
        pk, table = self.primary_key, self.table
        for row in rows:
            key = self.key_of(row.get(pk))
            for column in self.columns:
                text = row.get(column.name)
                if text is not None:
                    row[column.name] = column.decode(ring.open(text, table, column.name, key))
                if column.index:
                    row.pop(column.index, None)

    # ---- filtering ------------------------------------------------------------------
    def lookup(self, ring: KeyRing, values: Mapping[str, Any]) -> dict[str, Any]:
        """Equality filters with each encrypted field replaced by its blind index."""
        out: dict[str, Any] = {}
        for name, value in values.items():
            column = self.by_name.get(name)
            if column is None:
                out[name] = value
            elif value is None:
                out[name] = None  # IS NULL: the ciphertext column is NULL too
            else:
                index = self._searchable(column, "an equality lookup")
                out[index] = ring.blind_index(column.encode(value), self.table, name)
        return out

    def condition(self, ring: KeyRing, node: tree.Expr) -> tree.Expr:
        """``node`` with equalities on searchable fields moved to their blind index."""
        column = self._column_of(node)
        if column is not None:
            raise self._not_comparable(column, "a condition")
        if isinstance(node, tree.Compare) and node.op in ("=", "!="):
            column = self._column_of(node.left)
            if column is not None and isinstance(node.right, tree.Value):
                index = self._searchable(column, f"a {node.op!r} condition")
                digest = ring.blind_index(column.encode(node.right.value), self.table, column.name)
                return tree.Compare(tree.ColumnRef(index), node.op, tree.Value(digest))
        if isinstance(node, tree.InList):
            column = self._column_of(node.left)
            if column is not None and all(isinstance(v, tree.Value) for v in node.values):
                index = self._searchable(column, "an IN condition")
                digests = tuple(
                    tree.Value(ring.blind_index(column.encode(v.value), self.table, column.name))
                    for v in node.values
                    if isinstance(v, tree.Value)
                )
                return tree.InList(tree.ColumnRef(index), digests, node.negate)
        if isinstance(node, tree.IsNull) and self._column_of(node.operand) is not None:
            return node
        changes: dict[str, Any] = {}
        fields_of: Any = node  # every node is a frozen dataclass
        for field in dataclasses.fields(fields_of):
            value: object = getattr(node, field.name)
            if isinstance(value, tree.Expr):
                new = self.condition(ring, value)
                if new is not value:
                    changes[field.name] = new
            elif isinstance(value, tuple) and any(isinstance(v, tree.Expr) for v in value):
                items = [self.condition(ring, v) if isinstance(v, tree.Expr) else v for v in value]
                if any(a is not b for a, b in zip(items, value, strict=True)):
                    changes[field.name] = tuple(items)
        return dataclasses.replace(fields_of, **changes) if changes else node

    def _column_of(self, node: tree.Expr) -> SealedColumn | None:
        if not isinstance(node, tree.ColumnRef):
            return None
        table, _, name = node.name.rpartition(".")
        if table and table != self.table:
            return None
        return self.by_name.get(name)

    def _searchable(self, column: SealedColumn, what: str) -> str:
        if column.index is None:
            raise self._not_comparable(column, what)
        return column.index

    def _not_comparable(self, column: SealedColumn, what: str) -> EncryptionError:
        field = f"{self.model}.{column.name}"
        if column.index is None:
            hint = (
                "add searchable: true to the field in the schema for equality lookups "
                "(a blind index), or filter on another field"
            )
        else:
            hint = "only equality (==, !=, IN, IS NULL) works, through its blind index"
        return EncryptionError(f"{field} is encrypted: {what} on it cannot run; {hint}")
