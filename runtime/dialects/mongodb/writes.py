"""The writing half of ``MongoCompiler``: ``insert`` / ``update`` / ``delete`` / ``upsert``
query parts -> ``InsertMany`` / ``UpdateMany`` / ``DeleteMany`` operations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...errors import UnsupportedOperation
from ...query import tree
from .filters import _PLAIN_TYPES, DIALECT, FilterCompiler, Scope, literal
from .ops import DeleteMany, Document, InsertMany, UpdateMany


class WriteCompiling:
    """Mixed into ``MongoCompiler``, which gives the names and documents below."""

    filters: FilterCompiler
    encode_key: Callable[[Any], Any] | None

    def field(self, name: str) -> str:
        raise NotImplementedError

    def row_to_document(self, columns: Sequence[str], values: Sequence[Any]) -> Document:
        raise NotImplementedError

    def insert(
        self,
        table: tree.TableRef | tree.Subquery | str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> InsertMany:
        """Rows (of ``Value`` nodes or plain values) as documents."""
        collection, _ = source(table)
        return InsertMany(collection, tuple(self.row_to_document(columns, row) for row in rows))

    def update(
        self,
        table: tree.TableRef | tree.Subquery | str,
        where: tree.Expr | None,
        assignments: Sequence[tuple[str, Any]],
        returning: tuple[str, ...] = (),
    ) -> UpdateMany:
        """``$set`` of the values; ``fn.now()`` → ``$currentDate``; other expressions (a
        column, ``lower()``…) are refused: an operator update cannot compute them."""
        collection, scope = source(table)
        if returning:
            raise UnsupportedOperation(
                "update().returning()", DIALECT, "read the documents with a query instead"
            )
        if not assignments:
            raise ValueError("update() needs at least one column")
        values: Document = {}
        now: Document = {}
        for column, value in assignments:
            name = self.field(column)
            if isinstance(value, tree.Func) and value.name == "now" and not value.args:
                now[name] = True  # a BSON date, the server's clock
                continue
            value = self._write_value(column, value, "update")
            if name == "_id" and self.encode_key is not None and value is not None:
                value = self.encode_key(value)
            values[name] = value
        update: Document = {}
        if values:
            update["$set"] = values
        if now:
            update["$currentDate"] = now
        return UpdateMany(collection, self.filters.filter(where, scope), update)

    def delete(
        self,
        table: tree.TableRef | tree.Subquery | str,
        where: tree.Expr | None,
        returning: tuple[str, ...] = (),
    ) -> DeleteMany:
        collection, scope = source(table)
        if returning:
            raise UnsupportedOperation(
                "delete().returning()", DIALECT, "read the documents with a query first"
            )
        return DeleteMany(collection, self.filters.filter(where, scope))

    def upsert(
        self,
        table: tree.TableRef | tree.Subquery | str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        conflict: Sequence[str],
        update_columns: Sequence[str],
    ) -> UpdateMany:
        """One row: ``update_many(filter on the conflict columns, {"$set": update columns,
        "$setOnInsert": the others}, upsert=True)``. ``update_columns`` empty: do nothing
        when the document exists. ``_id`` is never ``$set`` (it is immutable). Relies on a
        unique index over the conflict columns, as SQL does. Several rows: ``upsert_many``."""
        if len(rows) != 1:
            raise UnsupportedOperation(
                "upsert() of several rows in one operation",
                DIALECT,
                "MongoCompiler.upsert_many() gives one upsert per row (send them as one "
                "bulk_write)",
            )
        return self.upsert_many(table, columns, rows, conflict, update_columns)[0]

    def upsert_many(
        self,
        table: tree.TableRef | tree.Subquery | str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        conflict: Sequence[str],
        update_columns: Sequence[str],
    ) -> tuple[UpdateMany, ...]:
        collection, _ = source(table)
        if not conflict:
            raise ValueError("upsert() needs the conflict columns (a unique key)")
        keys = [self.field(c) for c in conflict]
        updated = [self.field(c) for c in update_columns]
        operations = []
        for row in rows:
            document = self.row_to_document(columns, row)
            for key, column in zip(keys, conflict, strict=True):
                if key not in document:
                    raise ValueError(f"upsert(): conflict column {column!r} is not in the row")
            for name, column in zip(updated, update_columns, strict=True):
                if name not in document:
                    raise ValueError(f"upsert(): update column {column!r} is not in the row")
            match = {k: _eq(literal(document[k])) for k in keys}
            to_set = {n: document[n] for n in updated if n != "_id" and n not in keys}
            on_insert = {n: v for n, v in document.items() if n not in keys and n not in to_set}
            update: Document = {}
            if to_set:
                update["$set"] = to_set
            if on_insert:
                update["$setOnInsert"] = on_insert
            if not update:  # every column is a conflict column
                update["$setOnInsert"] = {k: document[k] for k in keys}
            operations.append(UpdateMany(collection, match, update, upsert=True))
        return tuple(operations)

    def _write_value(self, column: str, value: Any, what: str) -> Any:
        if isinstance(value, tree.Value):
            return value.value
        if isinstance(value, tree.RawExpr):
            raise UnsupportedOperation(f"fn.raw() in {what}", DIALECT, "pass a value")
        if isinstance(value, tree.Expr):
            raise UnsupportedOperation(
                f"an expression value in {what} (column {column!r})",
                DIALECT,
                "pass a value (update() takes fn.now())" if what == "update" else "pass a value",
            )
        return value


def source(table: tree.TableRef | tree.Subquery | str) -> tuple[str, Scope]:
    """The collection a query names, and the names (it and its alias) its columns may carry."""
    if isinstance(table, str):
        table = tree.TableRef(table)
    if isinstance(table, tree.Subquery):
        raise UnsupportedOperation("a subquery (select from a query)", DIALECT)
    name = table.name
    if not name or name.startswith("$") or "\x00" in name:
        raise ValueError(f"invalid collection name {name!r}")
    tables = {name} if table.alias is None else {name, table.alias}
    return name, Scope(frozenset(tables))


def _eq(value: Any) -> Any:
    return value if type(value) in _PLAIN_TYPES else {"$eq": value}
