"""Drift: where the live database differs from the schema the migrations produce (the
snapshot beside them). Tables and columns, with nullability; reported as sentences."""

from __future__ import annotations

from pathlib import Path

from jadugar.manager import DatabaseManager

from . import ddl_map
from .makemigrations import read_snapshot


async def drift(db: DatabaseManager, migrations: Path) -> list[str] | None:
    """The differences, or None when there is no snapshot to compare with."""
    expected = read_snapshot(migrations)
    if expected is None:
        return None
    if db.document_store:
        from .mongo_drift import drift as document_drift

        return await document_drift(db, expected)
    schema = db.schema
    problems: list[str] = []
    for name, table in ddl_map.tables(expected).items():
        if not await schema.has_table(name):
            problems.append(f"table {name} is missing from the database")
            continue
        live = {c.name: c for c in await schema.columns(name)}
        for column, definition in table.columns.items():
            info = live.pop(column, None)
            if info is None:
                problems.append(f"column {name}.{column} is missing from the database")
            elif info.nullable != definition.nullable and not info.primary_key:
                want = "nullable" if definition.nullable else "NOT NULL"
                have = "nullable" if info.nullable else "NOT NULL"
                problems.append(
                    f"column {name}.{column} is {have} in the database, {want} in the schema"
                )
        for column in live:
            problems.append(f"column {name}.{column} is in the database but not in the schema")
    return problems
