"""``jadugar rotate-keys``: re-encrypt every encrypted field under the active key."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from .config import DatabaseOptions
from .encryption.rotation import DEFAULT_BATCH_SIZE, RotationReport, encrypted_models, rotate_keys
from .errors import ConfigurationError, JadugarError
from .manager import DatabaseManager
from .models.base import Model
from .settings import load_settings

console = Console()


def package_models(output: str, package: str) -> list[type[Model]]:
    """The model classes of the generated ``package`` in folder ``output``."""
    folder = str(Path(output).resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ConfigurationError(
            f"cannot import the generated package {package!r} from {output}: {exc}; "
            "run `jadugar generate` or pass --output/--package",
            field="package",
        ) from None
    found = (getattr(module, name) for name in getattr(module, "__all__", dir(module)))
    return [m for m in found if isinstance(m, type) and issubclass(m, Model) and m is not Model]


def register(app: typer.Typer) -> None:
    @app.command("rotate-keys")
    def rotate_keys_command(
        url: Annotated[str | None, typer.Option("--url", help="Database URL")] = None,
        output: Annotated[
            str | None, typer.Option("--output", help="Folder holding the generated package")
        ] = None,
        package: Annotated[
            str | None, typer.Option("--package", help="Generated package name")
        ] = None,
        batch_size: Annotated[
            int, typer.Option("--batch-size", min=1, help="Rows per batch (one transaction each)")
        ] = DEFAULT_BATCH_SIZE,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors")] = False,
    ) -> None:
        """Re-encrypt every encrypted field not under the active key (JADUGAR_ENCRYPTION_KEY_ID),
        in batches; safe to interrupt and run again."""
        try:
            settings = load_settings(database_url=url, output=output, package=package)
            models = encrypted_models(package_models(settings.output, settings.package))
            options = DatabaseOptions.from_env(url=settings.database_url)
            if options.encryption is None:
                raise ConfigurationError(
                    "no encryption keys: set JADUGAR_ENCRYPTION_KEYS (id:base64,...) and "
                    "JADUGAR_ENCRYPTION_KEY_ID (the key to rotate to)",
                    field="encryption",
                )
            report = asyncio.run(_rotate(options, models, batch_size, quiet))
        except JadugarError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(2) from None
        if not quiet:
            for model in report.models:
                console.print(
                    f"{escape(model.model)}: {model.rows} row(s) read, {model.rotated} "
                    f"re-encrypted under {escape(report.key_id)!r}"
                    + (f", {model.skipped} changed meanwhile" if model.skipped else "")
                )
            if not report.models:
                console.print("no model with encrypted fields: nothing to rotate")


async def _rotate(
    options: DatabaseOptions, models: list[type[Model]], batch_size: int, quiet: bool
) -> RotationReport:
    async with DatabaseManager(options) as db:
        if quiet:
            return await rotate_keys(db, models, batch_size=batch_size)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
        )
        with Progress(*columns, console=console) as progress:
            tasks: dict[str, TaskID] = {}

            def advance(model: str, done: int, total: int) -> None:
                if model not in tasks:
                    tasks[model] = progress.add_task(model, total=total)
                progress.update(tasks[model], completed=done, total=total)

            return await rotate_keys(db, models, batch_size=batch_size, progress=advance)
