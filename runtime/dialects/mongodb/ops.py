"""MongoDB operations: what the MongoDB compiler produces from a query tree and what the
MongoDB driver executes. Plain frozen data, compared whole in the compilation tests.

Field names are the stored ones (the model key ``id`` is ``_id``); documents, filters and
pipelines are the exact dictionaries sent to the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Document = dict[str, Any]


@dataclass(frozen=True)
class Find:
    """``collection.find(filter, projection).sort(sort).skip(skip).limit(limit)``."""

    collection: str
    filter: Document = field(default_factory=dict)
    projection: Document | None = None
    sort: tuple[tuple[str, int], ...] = ()  # (field, 1 | -1)
    skip: int = 0
    limit: int = 0  # 0: no limit (MongoDB's convention)


@dataclass(frozen=True)
class Aggregate:
    """``collection.aggregate(pipeline)``: counts, sums, grouped results, distinct."""

    collection: str
    pipeline: tuple[Document, ...]


@dataclass(frozen=True)
class Count:
    """``collection.count_documents(filter)``."""

    collection: str
    filter: Document = field(default_factory=dict)


@dataclass(frozen=True)
class InsertMany:
    """``insert_one`` for one document, ``insert_many(ordered=True)`` for more."""

    collection: str
    documents: tuple[Document, ...]


@dataclass(frozen=True)
class UpdateMany:
    """``update_many(filter, update, upsert=upsert)`` (``update`` uses ``$set`` etc.)."""

    collection: str
    filter: Document
    update: Document
    upsert: bool = False


@dataclass(frozen=True)
class DeleteMany:
    """``delete_many(filter)``."""

    collection: str
    filter: Document


MongoOperation = Find | Aggregate | Count | InsertMany | UpdateMany | DeleteMany


@dataclass(frozen=True)
class MongoResult:
    """What running an operation returned: documents (reads), affected count (writes), and
    the inserted ``_id`` values."""

    documents: list[Document] = field(default_factory=list)
    count: int = 0
    inserted_ids: list[Any] = field(default_factory=list)
