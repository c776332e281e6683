"""MongoCompiler: a pure function from query trees (or the parts the builder holds) to the
MongoDB operations of ``ops.py``. No driver import; ``bson`` only lazily, in
``objectid_keys``.

Names: the model key (``key_field``, ``"id"``) is stored as ``_id`` in filters,
projections, sorts, group keys and inserted documents; ``document_to_row`` renames it back.
Every output document (``Find`` or pipeline) carries *stored* names, so one
``document_to_row`` fits all. ``table.column`` loses a prefix naming the collection (or its
alias); any other dotted name is an embedded-document path.

The where → filter rules (and what keeps values from being read as operators) are in
``filters.py``, the writes in ``writes.py``, the ``$group`` stages in ``grouping.py``.
The README's mapping table is in this module's ``MAPPING``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from ...errors import UnsupportedOperation
from ...query import tree
from .filters import (
    _NOTHING,
    DIALECT,
    FilterCompiler,
    Scope,
    check_field,
    merge_and,
)
from .grouping import AGGREGATE_FIELD, AGGREGATES, Grouping, is_aggregate, is_star, star_column
from .ops import (
    Aggregate,
    Count,
    Document,
    Find,
    MongoOperation,
    UpdateMany,
)
from .writes import WriteCompiling, source

__all__ = ["AGGREGATE_FIELD", "MAPPING", "Compiled", "MongoCompiler", "objectid_keys"]

Compiled = MongoOperation | tuple[UpdateMany, ...]  # a tuple: upsert of several rows
_ALIAS_RE = re.compile(r"^(.+?)\s+as\s+(.+)$", re.IGNORECASE)
_NO_ROWS: Document = {"$match": {"$expr": False}}  # limit(0) in a pipeline ($limit needs > 0)

MAPPING = """\
| Query builder                          | MongoDB                                              |
|----------------------------------------|------------------------------------------------------|
| `where("a", 1)`, `where({"a": 1})`     | `{"a": 1}` (`{"a": {"$eq": v}}` for dict/list values) |
| `!=` `<` `<=` `>` `>=`                 | `$ne` `$lt` `$lte` `$gt` `$gte`                      |
| `in` / `not_in`                        | `$in` / `$nin`                                       |
| `between` / `not_between`              | `{"$gte", "$lte"}` / `$or` of `$lt`, `$gt`           |
| `where_null` / `where_not_null`        | `{"a": None}` (also missing) / `{"a": {"$ne": None}}` |
| `like` / `ilike` / `not_like`          | anchored `$regex`, `$options` `s` / `is`; `$nor`     |
| `&` / several `where()`                | one merged dict, `$and` when keys collide            |
| `\\|` / `or_where()`                    | `$or`                                                |
| `~` / `where_not()`                    | `$nor`                                               |
| column vs column, `fn.lower()` …       | `$expr`                                              |
| `select("a", "b")`                     | projection `{"a": 1, "b": 1, "_id": 0}`              |
| `select("a as x")`, `fn.lower(a).as_()`| `aggregate` with `$project`                          |
| `order_by` / `offset` / `limit`        | sort / skip / limit                                  |
| `distinct()` with columns              | `$group` on the columns                              |
| `group_by` + `fn.count().as_("n")` …   | `$group` (+ `$match` for `having`)                   |
| `count()`                              | `count_documents`; distinct: `$group` pipeline       |
| `sum` `avg` `min` `max`                | `$group` with `_id: None`                            |
| `insert` / `insert_many`               | `insert_one` / `insert_many`                         |
| `update`                               | `update_many` with `$set` (`fn.now()`: `$currentDate`) |
| `delete`                               | `delete_many`                                        |
| `upsert` (one row)                     | `update_many(upsert=True)`, `$set` + `$setOnInsert`  |
"""


class MongoCompiler(WriteCompiling):
    """Query tree → MongoDB operation. ``key_field`` is the model key stored as ``_id``;
    ``encode_key``/``decode_key`` convert its values on the way in (filters, inserted
    documents) and out (``document_to_row``), e.g. ``str`` ↔ ``ObjectId``."""

    dialect_name: ClassVar[str] = "mongodb"
    # what TableQueryBuilder reads from a compiler: BSON encoding checks values, and dicts
    # and lists are embedded documents and arrays, not JSON text
    driver_checks_values: ClassVar[bool] = True
    encodes_json: ClassVar[bool] = False

    def __init__(
        self,
        key_field: str = "id",
        *,
        encode_key: Callable[[Any], Any] | None = None,
        decode_key: Callable[[Any], Any] | None = None,
    ) -> None:
        check_field(key_field)
        self.key_field = key_field
        self.encode_key = encode_key
        self.decode_key = decode_key
        self.filters = FilterCompiler(key_field, encode_key)
        self.grouping = Grouping(self.filters)

    # ---- names and documents ---------------------------------------------------------------
    def field(self, name: str) -> str:
        """The stored field for a model column name (``id`` → ``_id``)."""
        return self.filters.field(name, Scope())

    def split_alias(self, column: str) -> tree.Expr:
        """``"name as n"`` → an aliased column reference (what ``select()`` calls)."""
        match = _ALIAS_RE.match(column)
        if match:
            return tree.Alias(tree.ColumnRef(match.group(1).strip()), match.group(2).strip())
        return tree.ColumnRef(column)

    def adapt_json(self, value: Any) -> Any:
        return value  # dicts and lists are stored as they are

    def document_to_row(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """A result document as a row: ``_id`` renamed to the key field (and decoded)."""
        if "_id" not in document:
            return dict(document)
        decode = self.decode_key
        key = self.key_field
        return {
            (key if name == "_id" else name): (
                decode(value) if name == "_id" and decode is not None else value
            )
            for name, value in document.items()
        }

    def row_to_document(self, columns: Sequence[str], values: Sequence[Any]) -> Document:
        """A row (column names and values, or ``Value`` nodes) as a document to insert.
        A ``None`` key is left out, so the server assigns an ``ObjectId``."""
        if len(columns) != len(values):
            raise ValueError(f"{len(columns)} columns but {len(values)} values in a row")
        document: Document = {}
        for column, raw in zip(columns, values, strict=True):
            name = self.field(column)
            value = self._write_value(column, raw, "insert")
            if name == "_id":
                if value is None:
                    continue
                if self.encode_key is not None:
                    value = self.encode_key(value)
            if name in document:
                raise ValueError(f"column {column!r} given twice")
            document[name] = value
        return document

    # ---- reading ---------------------------------------------------------------------------
    def select(
        self,
        table: tree.TableRef | tree.Subquery,
        columns: tuple[tree.Expr, ...] = (),
        where: tree.Expr | None = None,
        joins: tuple[tree.Join, ...] = (),
        group_by: tuple[tree.Expr, ...] = (),
        having: tree.Expr | None = None,
        order_by: tuple[tree.Order, ...] = (),
        limit: int | None = None,
        offset: int | None = None,
        distinct: bool = False,
    ) -> Find | Aggregate:
        """A SELECT from its parts (the same as ``SqlCompiler.compile_select`` takes)."""
        collection, scope = self._source(table)
        _check_joins(joins)
        match = self.filters.filter(where, scope)
        star, plain = False, list[str]()
        computed: dict[str, Any] = {}
        aliases: dict[str, str] = {}  # alias → stored source field (for order_by)
        grouped = bool(group_by) or having is not None or any(map(is_aggregate, columns))
        if not grouped:
            star, plain, computed, aliases = self._columns(columns, scope)
            if distinct and (plain or computed) and not star:
                grouped = True  # SELECT DISTINCT a, b: one document per (a, b)
            # DISTINCT over whole documents is the documents themselves (_id is unique)
        if grouped:
            stages = [{"$match": match}] if match else []
            stages += self.grouping.stages(scope, columns, group_by, having, order_by, distinct)
            stages += _window(limit, offset)
            return Aggregate(collection, tuple(stages))
        sort = self._sort(order_by, Scope(scope.tables, aliases), computed)
        if not computed:
            if limit == 0:
                match = dict(_NOTHING)
            projection = None
            if plain and not star:
                projection = {"_id": 0} | dict.fromkeys(plain, 1)
            return Find(collection, match, projection, sort, offset or 0, limit or 0)
        stages = [{"$match": match}] if match else []
        if sort:
            stages.append({"$sort": dict(sort)})
        stages += _window(limit, offset)
        if star:
            stages.append({"$addFields": computed})
        else:
            stages.append({"$project": {"_id": 0} | dict.fromkeys(plain, 1) | computed})
        return Aggregate(collection, tuple(stages))

    compile_select = select  # the SqlCompiler entry point's name

    def count(
        self,
        table: tree.TableRef | tree.Subquery | str,
        where: tree.Expr | None = None,
        column: str | tree.Expr | None = None,
        *,
        distinct: bool = False,
    ) -> Count | Aggregate:
        """``count()``: ``count_documents``; ``count(column)`` counts non-null values;
        ``distinct=True`` counts distinct non-null values through a pipeline."""
        collection, scope = self._source(_table(table))
        match = self.filters.filter(where, scope)
        target = _target(column)
        if is_star(target):
            if distinct:
                raise ValueError("count(distinct=True) needs a column")
            return Count(collection, match)
        if not isinstance(target, tree.ColumnRef):
            return self._over(collection, [{"$match": match}] if match else [], "count", target)
        name = self.filters.field(target.name, scope)
        if not distinct:
            return Count(collection, _and(match, {name: {"$ne": None}}))
        stages: list[Document] = [{"$match": match}] if match else []
        stages += [
            {"$group": {"_id": "$" + name}},
            {"$match": {"_id": {"$ne": None}}},
            {"$group": {"_id": None, AGGREGATE_FIELD: {"$sum": 1}}},
        ]
        return Aggregate(collection, tuple(stages))

    def aggregate(
        self,
        func: str,
        column: str | tree.Expr,
        table: tree.TableRef | tree.Subquery | str,
        where: tree.Expr | None = None,
    ) -> Aggregate:
        """``sum``/``avg``/``min``/``max`` (and ``count``) of ``column`` over the matching
        documents: ``$group`` with ``_id: None``; the value is in ``AGGREGATE_FIELD`` of the
        only result document (no document: no matching rows, the SQL NULL)."""
        collection, scope = self._source(_table(table))
        match = self.filters.filter(where, scope)
        stages = [{"$match": match}] if match else []
        return self._over(collection, stages, func, _target(column), scope)

    def aggregate_over(
        self, func: str, column: str | tree.Expr | None, query: tree.Select
    ) -> Count | Aggregate:
        """What ``TableQueryBuilder.count()/sum()…`` computes for ``query``: over its
        results when it has columns, grouping, distinct, limit or offset (the SQL subquery),
        else straight over the collection."""
        target = _target(column)
        simple = not (
            query.columns
            or query.group_by
            or query.having is not None
            or query.distinct
            or query.limit is not None
            or query.offset is not None
        )
        if simple:
            _check_joins(query.joins)
            if func == "count":
                return self.count(_table(query.table), query.where, target)
            return self.aggregate(func, target, _table(query.table), query.where)
        inner = self.select(
            query.table,
            query.columns,
            query.where,
            query.joins,
            query.group_by,
            query.having,
            query.order_by,
            query.limit,
            query.offset,
            query.distinct,
        )
        stages = list(inner.pipeline) if isinstance(inner, Aggregate) else _find_stages(inner)
        return self._over(inner.collection, stages, func, target)

    def _over(
        self,
        collection: str,
        stages: list[Document],
        func: str,
        target: tree.Expr,
        scope: Scope | None = None,
    ) -> Aggregate:
        if func not in AGGREGATES:
            raise ValueError(f"unknown aggregate {func!r}; use one of {sorted(AGGREGATES)}")
        accumulator, finish = self.grouping.accumulator(
            tree.Func(func, (target,)), scope or Scope()
        )
        if finish is not None:
            raise AssertionError("not distinct: no finishing step")
        group = {"_id": None, AGGREGATE_FIELD: accumulator}
        return Aggregate(collection, (*stages, {"$group": group}))

    # ---- whole nodes -----------------------------------------------------------------------
    def compile_node(self, node: tree.Node) -> Compiled:
        """Select / Insert (with ``on_conflict``: upsert) / Update / Delete → operation(s).
        ``Insert.returning`` is ignored: the inserted documents and ids are known."""
        if isinstance(node, tree.Select):
            return self.select(
                node.table,
                node.columns,
                node.where,
                node.joins,
                node.group_by,
                node.having,
                node.order_by,
                node.limit,
                node.offset,
                node.distinct,
            )
        if isinstance(node, tree.Insert):
            conflict = node.on_conflict
            if conflict is None:
                return self.insert(node.table, node.columns, node.rows)
            operations = self.upsert_many(
                node.table, node.columns, node.rows, conflict.columns, conflict.update
            )
            return operations[0] if len(operations) == 1 else operations
        if isinstance(node, tree.Update):
            return self.update(node.table, node.where, node.assignments, node.returning)
        if isinstance(node, tree.Delete):
            return self.delete(node.table, node.where, node.returning)
        if isinstance(node, tree.Raw):
            raise UnsupportedOperation("raw", DIALECT, "raw SQL has no meaning on MongoDB")
        raise TypeError(f"MongoCompiler cannot compile {type(node).__name__}")

    compile = compile_node  # what ``to_sql()`` of a write query calls on a session's compiler

    # ---- parts -----------------------------------------------------------------------------
    def _source(self, table: tree.TableRef | tree.Subquery) -> tuple[str, Scope]:
        return source(table)

    def _columns(
        self, columns: tuple[tree.Expr, ...], scope: Scope
    ) -> tuple[bool, list[str], dict[str, Any], dict[str, str]]:
        """(``*`` selected, plain stored fields, computed output → expression, alias →
        stored source field)."""
        star = False
        plain: list[str] = []
        computed: dict[str, Any] = {}
        aliases: dict[str, str] = {}
        for column in columns:
            if isinstance(column, tree.ColumnRef):
                if self._star(column, scope):
                    star = True
                else:
                    plain.append(self.filters.field(column.name, scope))
            elif isinstance(column, tree.Alias):
                out = self._output(column.name)
                if isinstance(column.expr, tree.ColumnRef):
                    source = self.filters.field(column.expr.name, scope)
                    aliases[column.name] = source
                    if out == source:
                        plain.append(source)
                        continue
                computed[out] = self.filters.expr(column.expr, scope)
            else:
                raise UnsupportedOperation(
                    "a select() expression without a name", DIALECT, "name it with .as_('x')"
                )
        return star, plain, computed, aliases

    def _star(self, column: tree.ColumnRef, scope: Scope) -> bool:
        return star_column(column, scope)

    def _output(self, alias: str) -> str:
        return self.grouping.output(alias)

    def _sort(
        self, order_by: tuple[tree.Order, ...], scope: Scope, computed: Mapping[str, Any]
    ) -> tuple[tuple[str, int], ...]:
        """Sort keys on stored fields (sorting runs before any ``$project``): an alias of a
        column sorts by the column; an alias of an expression cannot be sorted on."""
        sort = []
        for order in order_by:
            expr = order.expr
            if not isinstance(expr, tree.ColumnRef) or (
                expr.name not in scope.aliases
                and "." not in expr.name
                and self.field(expr.name) in computed
            ):
                raise UnsupportedOperation(
                    "order_by() on an expression", DIALECT, "order by a column"
                )
            sort.append((self.filters.field(expr.name, scope), -1 if order.descending else 1))
        return tuple(sort)


def objectid_keys() -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """``(encode_key, decode_key)`` for ``ObjectId`` keys exposed as ``str``: a 24-hex ``str``
    becomes an ``ObjectId`` in filters and documents, an ``ObjectId`` comes back as ``str``."""
    from bson import ObjectId

    def encode(value: Any) -> Any:
        return ObjectId(value) if isinstance(value, str) and ObjectId.is_valid(value) else value

    def decode(value: Any) -> Any:
        return str(value) if isinstance(value, ObjectId) else value

    return encode, decode


def _table(table: tree.TableRef | tree.Subquery | str) -> tree.TableRef | tree.Subquery:
    return tree.TableRef(table) if isinstance(table, str) else table


def _target(column: str | tree.Expr | None) -> tree.Expr:
    if column is None:
        return tree.ColumnRef("*")
    return tree.ColumnRef(column) if isinstance(column, str) else column


def _check_joins(joins: tuple[tree.Join, ...]) -> None:
    for join in joins:
        operation = {"right": "right_join", "left": "left_join"}.get(join.kind, "join")
        raise UnsupportedOperation(
            operation,
            DIALECT,
            "collections are not joined; load related documents with one $in query per "
            "level (model relations do)",
        )


def _window(limit: int | None, offset: int | None) -> list[Document]:
    stages: list[Document] = []
    if offset:
        stages.append({"$skip": offset})
    if limit == 0:
        stages.append(_NO_ROWS)
    elif limit is not None:
        stages.append({"$limit": limit})
    return stages


def _find_stages(find: Find) -> list[Document]:
    """A ``Find`` as the equivalent pipeline stages."""
    stages: list[Document] = [{"$match": find.filter}] if find.filter else []
    if find.sort:
        stages.append({"$sort": dict(find.sort)})
    stages += _window(find.limit or None, find.skip or None)
    if find.projection is not None:
        stages.append({"$project": find.projection})
    return stages


def _and(left: Document, right: Document) -> Document:
    return merge_and([left, right])
