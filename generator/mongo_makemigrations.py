"""The MongoDB half of ``jadugar makemigrations``: the migrations of the document store live
in ``<migrations>/mongodb/`` with their own snapshot, numbered on their own, and hold the
collections, indexes and validators of every model (the SQL-engine models too: the same
generated models run on MongoDB). ``jadugar migrate`` runs that folder on a mongodb URL.

The folder is written once a model pins ``engine: mongodb`` or the folder exists (create
it, empty, to start MongoDB migrations for a project with SQL-engine models only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jadugar.dialects.mongodb.schema import SchemaOperation

from . import mongo_migration_code
from .makemigrations import read_snapshot, write_migration
from .migration_view import migration_view
from .mongo_diff import MongoPlan, diff
from .render import render
from .schema.model import Schema

FOLDER = "mongodb"
# makes the folder a package, so mypy tells its files from the SQL ones of the same name
PACKAGE_INIT = '"""MongoDB migrations: `jadugar migrate` runs them on a mongodb URL."""\n'


@dataclass
class DocumentResult:
    plan: MongoPlan
    path: Path | None = None  # the migration written (None: nothing changed, or --check)


def document_folder(migrations: Path) -> Path:
    """Where the MongoDB migrations of the SQL migrations folder ``migrations`` live."""
    return migrations / FOLDER


def wanted(schema: Schema, folder: Path) -> bool:
    return folder.is_dir() or any(m.engine == "mongodb" for m in schema.models)


def migration_source(name: str, plan: MongoPlan) -> str:
    def code(operations: list[SchemaOperation]) -> list[str]:
        return [line for op in operations for line in mongo_migration_code.lines(op)]

    return render("mongo_migration.py.j2", v=migration_view(name, plan, code))


def make(schema: Schema, folder: Path, slug: str, *, check: bool = False) -> DocumentResult:
    """Write ``NNNN_<slug>.py`` and the snapshot into ``folder`` when the collections
    changed; with ``check``, only report whether they did."""
    result = DocumentResult(diff(read_snapshot(folder), schema))
    if result.plan.empty or check:
        return result
    result.path = write_migration(
        folder, slug, migration_source(slug, result.plan), schema, package_init=PACKAGE_INIT
    )
    return result
