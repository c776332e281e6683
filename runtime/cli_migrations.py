"""``jadugar migrate | rollback | reset | refresh | status | create-migration | resolve``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .config import DatabaseOptions, MigrationOptions
from .errors import JadugarError, MigrationError
from .manager import DatabaseManager
from .migrations.planner import MigrationStatus
from .migrations.runner import MigrationManager, MigrationRun
from .settings import ProjectSettings, load_settings

T = TypeVar("T")
console = Console(soft_wrap=True)  # long messages stay on one line (grep-able)

UrlOption = Annotated[str | None, typer.Option("--url", help="Database URL")]
DirOption = Annotated[str | None, typer.Option("--migrations", help="Folder of migration files")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors")]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print the SQL that would run; change nothing")
]


def _settings(url: str | None, migrations: str | None) -> ProjectSettings:
    return load_settings(database_url=url, migrations=migrations)


def _run(settings: ProjectSettings, work: Callable[[MigrationManager], Awaitable[T]]) -> T:
    async def main() -> T:
        options = DatabaseOptions.from_env(url=settings.database_url)
        db = DatabaseManager(options)
        async with db:
            migration_options = _migration_options(settings, options, db.document_store)
            return await work(MigrationManager(migration_options, db))

    try:
        return asyncio.run(main())
    except JadugarError as exc:
        code = 1 if isinstance(exc, MigrationError) else 2
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(code) from None


def _migration_options(
    settings: ProjectSettings, options: DatabaseOptions, document_store: bool = False
) -> MigrationOptions:
    """JADUGAR_MIGRATIONS_* from the environment, the folder from the project settings
    (its ``mongodb/`` subfolder on a document store)."""
    folder = _folder(settings, document_store)
    return options.migrations.model_copy(update={"directory": folder})


def _folder(settings: ProjectSettings, document_store: bool) -> str:
    return str(Path(settings.migrations) / "mongodb") if document_store else settings.migrations


def _report(runs: list[MigrationRun], quiet: bool, dry_run: bool, nothing: str) -> None:
    if quiet:
        return
    if not runs:
        console.print(nothing)
    for run in runs:
        verb = "would run" if dry_run else ("applied" if run.direction == "up" else "rolled back")
        timing = "" if dry_run else f" ({run.seconds * 1000:.0f} ms)"
        console.print(f"{verb} {escape(run.name)}{timing}")
        if dry_run:
            for statement in run.statements:
                console.print(f"    {escape(statement)};", highlight=False)


def migrate(
    dry_run: DryRunOption = False,
    url: UrlOption = None,
    migrations: DirOption = None,
    quiet: QuietOption = False,
) -> None:
    """Apply every pending migration (under a database lock)."""
    settings = _settings(url, migrations)
    runs = _run(settings, lambda m: m.migrate(dry_run=dry_run))
    _report(runs, quiet, dry_run, "nothing to migrate")


def rollback(
    steps: Annotated[int, typer.Option("--steps", min=1, help="How many migrations")] = 1,
    dry_run: DryRunOption = False,
    url: UrlOption = None,
    migrations: DirOption = None,
    quiet: QuietOption = False,
) -> None:
    """Roll back the last applied migrations (newest first)."""
    settings = _settings(url, migrations)
    runs = _run(settings, lambda m: m.rollback(steps, dry_run=dry_run))
    _report(runs, quiet, dry_run, "nothing to roll back")


def reset(url: UrlOption = None, migrations: DirOption = None, quiet: QuietOption = False) -> None:
    """Roll back every applied migration."""
    runs = _run(_settings(url, migrations), lambda m: m.reset())
    _report(runs, quiet, False, "nothing to roll back")


def refresh(
    url: UrlOption = None, migrations: DirOption = None, quiet: QuietOption = False
) -> None:
    """Roll back everything, then migrate from scratch."""
    runs = _run(_settings(url, migrations), lambda m: m.refresh())
    _report(runs, quiet, False, "no migrations")


def status(url: UrlOption = None, migrations: DirOption = None) -> None:
    """Each migration's state (applied, pending, changed, missing, partial) and any drift
    between the database and the schema the migrations produce."""
    settings = _settings(url, migrations)

    async def work(
        manager: MigrationManager,
    ) -> tuple[list[MigrationStatus], list[str] | None, Path]:
        states = await manager.get_status()
        if any(s.state != "applied" for s in states):
            return states, None, manager.directory  # pending or broken: drift is expected
        return states, await _drift(manager.db, manager.directory), manager.directory

    states, drift, folder = _run(settings, work)
    table = Table(title=f"migrations in {escape(str(folder))}")
    for column in ("migration", "state", "batch", "applied at"):
        table.add_column(column)
    colours = {"applied": "green", "pending": "yellow", "changed": "red", "missing": "red"}
    for s in states:
        colour = colours.get(s.state, "red")
        table.add_row(
            escape(s.name),
            f"[{colour}]{s.state}[/{colour}]",
            "" if s.batch is None else str(s.batch),
            escape(s.applied_at or ""),
        )
    console.print(table)
    for problem in drift or []:
        console.print(f"[red]drift:[/red] {escape(problem)}")
    if drift == []:
        console.print("no drift: the database matches the schema the migrations produce")
    if drift or any(s.state in ("changed", "missing", "partial") for s in states):
        raise typer.Exit(1)


async def _drift(db: DatabaseManager, migrations: Path) -> list[str] | None:
    try:
        from jadugar_generator.drift import drift
    except ImportError:  # installed without the generator extra: no snapshot reader
        return None
    return await drift(db, migrations)


def create_migration(
    name: Annotated[str, typer.Argument(help="What the migration does, e.g. add_user_bio")],
    migrations: DirOption = None,
) -> None:
    """Write an empty migration file to fill in by hand."""
    settings = _settings(None, migrations)
    try:
        path = MigrationManager(
            MigrationOptions(directory=settings.migrations),
            DatabaseManager(DatabaseOptions(url=settings.database_url)),
        ).create(name)
    except JadugarError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    console.print(f"wrote {escape(str(path))}")


def resolve(
    name: Annotated[str, typer.Argument(help="The partially applied migration")],
    applied: Annotated[
        bool, typer.Option("--applied/--rolled-back", help="What you made of it by hand")
    ],
    url: UrlOption = None,
    migrations: DirOption = None,
) -> None:
    """After a migration failed part-way (no transactional DDL), record how you repaired it."""
    _run(_settings(url, migrations), lambda m: m.resolve(name, applied=applied))
    console.print(f"{escape(name)} recorded as {'applied' if applied else 'rolled back'}")


def makemigrations(
    name: Annotated[
        str | None, typer.Argument(help="What changed, e.g. add_user_bio (not with --check)")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the schemas changed")
    ] = False,
    schemas: Annotated[str | None, typer.Option("--schemas", help="Folder of schema files")] = None,
    migrations: DirOption = None,
    quiet: QuietOption = False,
) -> None:
    """Compare the schema files with the migrations and write the next migration."""
    from jadugar_generator.makemigrations import make_migration

    settings = load_settings(schemas=schemas, migrations=migrations)
    if name is None and not check:
        console.print("[red]error:[/red] give the migration a NAME, e.g. add_user_bio")
        raise typer.Exit(2)
    try:
        result = make_migration(
            Path(settings.schemas), Path(settings.migrations), name or "check", check=check
        )
    except JadugarError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if result.empty:
        if not quiet:
            console.print("no changes: the migrations already cover the schema files")
        raise typer.Exit(0)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] destructive: {escape(warning)}")
    if check:
        for summary in result.summaries:
            console.print(f"not covered by a migration: {escape(summary)}")
        console.print("[red]the schemas changed[/red]: run `jadugar makemigrations NAME`")
        raise typer.Exit(1)
    if not quiet:
        for summary in result.summaries:
            console.print(f"  {escape(summary)}")
        for path in (result.path, result.documents and result.documents.path):
            if path is not None:
                console.print(f"wrote {escape(str(path))}")


def register(app: typer.Typer) -> None:
    app.command()(makemigrations)
    app.command()(migrate)
    app.command()(rollback)
    app.command()(reset)
    app.command()(refresh)
    app.command()(status)
    app.command("create-migration")(create_migration)
    app.command()(resolve)
