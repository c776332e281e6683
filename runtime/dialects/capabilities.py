"""What a dialect can do. Core code branches on these flags, never on dialect names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Capabilities:
    returning: bool
    transactional_ddl: bool
    savepoints: bool
    right_join: bool
    ilike: bool
    upsert: str  # "on_conflict" (PostgreSQL, SQLite) or "on_duplicate_key" (MySQL)
    bulk_insert: str  # fastest bulk path: "copy" (PostgreSQL), "values" (multi-row), "executemany"
    server_side_cursor: bool
    max_params: int  # bound parameters allowed in one statement
    isolation_levels: tuple[str, ...]
    placeholder: str  # "$n", "%s" or "?"
    # ALTER COLUMN and ADD/DROP FOREIGN KEY in place; False (SQLite): the SchemaBuilder
    # rebuilds the table, with foreign key enforcement off outside a transaction
    alter_in_place: bool = True
    # collections of documents, not tables of rows (MongoDB): no SQL text, no joins, no
    # ConnectionPool (the driver's client is its own pool); the query builder compiles to
    # the dialect's operations instead
    document_store: bool = False
