"""``jadugar makemigrations NAME``: diff the schema files against the snapshot the existing
migrations were generated from, and write the next migration and the new snapshot."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from jadugar.errors import MigrationError
from jadugar.migrations import operations as ops
from jadugar.migrations.runner import next_number

from . import migration_code
from .diff import Plan, diff
from .migration_view import migration_view
from .render import render
from .schema.loader import load_schema
from .schema.model import Schema
from .writer import format_sources

if TYPE_CHECKING:
    from .mongo_makemigrations import DocumentResult

SNAPSHOT = "schema_snapshot.json"


@dataclass
class MakeResult:
    plan: Plan
    path: Path | None = None  # the migration written (None: nothing changed, or --check)
    warnings: list[str] = field(default_factory=list)
    documents: DocumentResult | None = None  # the MongoDB migrations (mongo_makemigrations)

    @property
    def empty(self) -> bool:
        return self.plan.empty and (self.documents is None or self.documents.plan.empty)

    @property
    def summaries(self) -> list[str]:
        """Every step, the MongoDB ones marked as such."""
        found = [c.summary for c in self.plan.changes]
        if self.documents is not None:
            found += [f"{c.summary} (mongodb)" for c in self.documents.plan.changes]
        return found


def read_snapshot(migrations: Path) -> Schema | None:
    path = migrations / SNAPSHOT
    if not path.is_file():
        return None
    try:
        return Schema.model_validate(json.loads(path.read_text()))
    except ValueError as exc:
        raise MigrationError(f"{path} is not a schema snapshot Jadugar wrote: {exc}") from None


# Options written to the snapshot only when set, so that snapshots of schemas that do not
# use them stay as they were before the options existed.
_QUIET_FLAGS = ("encrypted", "searchable")
_QUIET_EMPTY = ("db_name", "server_default", "composite_key", "checks", "foreign_keys")


def snapshot_text(schema: Schema) -> str:
    data = schema.model_dump(mode="json", exclude_none=False)
    return json.dumps(_without_locations(data), indent=1, sort_keys=True) + "\n"


def _without_locations(value: object, parent: str = "") -> object:
    if isinstance(value, dict):
        return {
            k: _without_locations(v, k)
            for k, v in value.items()
            if k != "location"
            and not (k in _QUIET_FLAGS and v is False)
            and not (k in _QUIET_EMPTY and v in (None, [], ()))
            and not (parent == "references" and k == "name" and v is None)
        }
    if isinstance(value, list):
        return [_without_locations(v, parent) for v in value]
    return value


def migration_source(name: str, plan: Plan) -> str:
    view = migration_view(name, plan, _code)
    operations = [op for c in plan.changes for op in (*c.up, *c.down)]
    used = migration_code.uses(operations)
    view.imports = ", ".join(sorted(used - {"Decimal", "fn"}, key=_isort_key))
    view.uses_decimal = "Decimal" in used
    view.uses_fn = "fn" in used
    return render("migration.py.j2", v=view)


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's isort order inside one import: Classes, then functions
    return (0 if name[0].isupper() else 1), name


def _code(operations: list[ops.Operation]) -> list[str]:
    return [line for op in operations for line in migration_code.lines(op)]


def make_migration(
    schemas: Path, migrations: Path, name: str, *, check: bool = False
) -> MakeResult:
    """Write ``NNNN_<name>.py`` and the new snapshot when the schemas changed; with
    ``check``, only report whether they did."""
    slug = "_".join(name.lower().replace("-", " ").split())
    if not slug.replace("_", "").isalnum():
        raise MigrationError(f"{name!r} is not a usable migration name (letters, digits, _)")
    from . import mongo_makemigrations as mongo

    schema = load_schema(schemas)
    plan = diff(read_snapshot(migrations), schema)
    result = MakeResult(plan, warnings=plan.warnings)
    folder = mongo.document_folder(migrations)
    if mongo.wanted(schema, folder):
        result.documents = mongo.make(schema, folder, slug, check=check)
        result.warnings = [
            *plan.warnings,
            *(f"{w} (mongodb)" for w in result.documents.plan.warnings),
        ]
    if plan.empty or check:
        return result
    result.path = write_migration(migrations, slug, migration_source(slug, plan), schema)
    return result


def write_migration(
    folder: Path, slug: str, source: str, schema: Schema, *, package_init: str | None = None
) -> Path:
    """Write ``source`` formatted as the next migration ``NNNN_<slug>.py`` of ``folder``
    (made, with ``package_init`` as its ``__init__.py`` when given and missing) and the
    snapshot of ``schema``; return the migration's path."""
    file_name = f"{next_number(folder):04d}_{slug}.py"
    formatted = format_sources({file_name: source})
    folder.mkdir(parents=True, exist_ok=True)
    if package_init is not None and not (folder / "__init__.py").exists():
        (folder / "__init__.py").write_text(package_init)
    path = folder / file_name
    path.write_text(formatted[file_name])
    (folder / SNAPSHOT).write_text(snapshot_text(schema))
    return path
