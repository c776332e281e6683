"""``jadugar pull``: write a schema file (and the snapshot of the migrations, and with
``--baseline`` a first migration recorded as applied) from a live database; what a schema
file cannot express is listed; nothing is half-written."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .config import DatabaseOptions
from .errors import JadugarError
from .introspection import LiveSchema, introspect
from .manager import DatabaseManager
from .migrations.files import checksum
from .migrations.history import History
from .migrations.runner import next_number
from .settings import load_settings

console = Console(soft_wrap=True)  # one line per message (grep-able)
SNAPSHOT = "schema_snapshot.json"  # jadugar_generator.makemigrations.SNAPSHOT


def pull(
    url: Annotated[str | None, typer.Option("--url", help="Database URL to read")] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", help="Folder of schema files (default: [tool.jadugar] schemas)"),
    ] = None,
    file: Annotated[
        str, typer.Option("--file", help="Name of the schema file to write")
    ] = "pulled.yaml",
    migrations: Annotated[
        str | None,
        typer.Option(
            "--migrations", help="Folder of migrations (default: [tool.jadugar] migrations)"
        ),
    ] = None,
    snapshot: Annotated[
        bool,
        typer.Option(
            "--snapshot/--no-snapshot",
            help="Write the migrations' snapshot too, so makemigrations starts from the "
            "database as it is",
        ),
    ] = True,
    baseline: Annotated[
        bool,
        typer.Option(
            "--baseline",
            help="Also write 0001_baseline.py, which creates the whole schema on an empty "
            "database, and record it as applied in this one",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing schema file or snapshot")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors")] = False,
) -> None:
    """Read a live database and write one schema file describing its tables (and the
    snapshot the next `jadugar makemigrations` compares with)."""
    from jadugar_generator.pull import BASELINE, build, other_schema_files, write
    from jadugar_generator.pull import baseline as baseline_migration

    try:
        settings = load_settings(database_url=url, schemas=output, migrations=migrations)
        folder = Path(settings.schemas)
        target = folder / file
        if Path(file).name != file or Path(file).suffix not in (".yaml", ".yml"):
            raise JadugarError(f"--file takes a file name ending in .yaml or .yml, not {file!r}")
        if target.exists() and not force:
            raise JadugarError(f"{target} exists; pass --force to overwrite it")
        if baseline and not snapshot:
            raise JadugarError("--baseline writes the snapshot too: leave out --no-snapshot")
        folder_of_migrations = Path(settings.migrations)
        if baseline and folder_of_migrations.is_dir() and next_number(folder_of_migrations) > 1:
            raise JadugarError(
                f"{folder_of_migrations} already has migrations: a baseline is the first one"
            )
        if snapshot and not force:
            _check_baseline(folder_of_migrations)
        options = DatabaseOptions.from_env(url=settings.database_url)
        sqlite_file = options.connect_params().path
        if sqlite_file not in (None, ":memory:") and not Path(str(sqlite_file)).is_file():
            raise JadugarError(f"there is no SQLite database at {sqlite_file}")
        live = asyncio.run(_read(options))
        pulled = build(
            live,
            history_tables=[options.migrations.table_name, "jadugar_migrations"],
            others=other_schema_files(folder, target),
            target=target,
        )
        extra: list[tuple[Path, str]] = []
        record = None
        if baseline:
            name, source = baseline_migration(pulled.schema, BASELINE)
            extra.append((folder_of_migrations / name, source))

            def record(temporary: list[Path]) -> None:  # before the files are in place
                asyncio.run(_record(options, Path(name).stem, checksum(temporary[-1])))

        written = write(
            pulled, target, folder_of_migrations if snapshot else None, extra, before=record
        )
    except (JadugarError, OSError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))} (nothing was written)")
        raise typer.Exit(2) from None
    if quiet:
        return
    for line in pulled.skipped:
        console.print(f"[yellow]skipped:[/yellow] {escape(line)}", highlight=False)
    for line in pulled.notes:
        console.print(f"note: {escape(line)}", highlight=False)
    where = f" {live.database}" if live.database else ""
    console.print(
        f"wrote {escape(str(target))}: {len(pulled.models)} model(s) from the "
        f"{live.engine} database{escape(where)}, {len(pulled.skipped)} thing(s) left out"
    )
    for path in written[1:]:
        if path.name == SNAPSHOT:
            console.print(
                f"wrote {escape(str(path))}: `jadugar makemigrations` starts from the database "
                "as it is"
            )
        else:
            console.print(
                f"wrote {escape(str(path))}: it creates the schema on an empty database; "
                f"recorded as applied in the {options.migrations.table_name} table of this one"
            )


def _check_baseline(folder: Path) -> None:
    """A snapshot is the baseline of a project's migrations: refuse to replace one."""
    if (folder / SNAPSHOT).exists() or (folder.is_dir() and next_number(folder) > 1):
        raise JadugarError(
            f"{folder} already has migrations or a {SNAPSHOT}: pull writes the snapshot of a "
            "project that has none yet; pass --no-snapshot to write the schema file alone, "
            "or --force to replace the snapshot"
        )


async def _record(options: DatabaseOptions, name: str, digest: str) -> None:
    """Record the baseline migration as applied: the database already has its tables."""
    async with DatabaseManager(options) as db:
        history = History(db.query, options.migrations.table_name)
        await history.ensure()
        rows = await history.rows()
        if any(row.name == name for row in rows):
            raise JadugarError(
                f"{options.migrations.table_name} already records a migration {name}"
            )
        await history.record(name, max((r.batch for r in rows), default=0) + 1, digest)


async def _read(options: DatabaseOptions) -> LiveSchema:
    async with DatabaseManager(options) as db:
        return await introspect(db)


def register(app: typer.Typer) -> None:
    app.command()(pull)
