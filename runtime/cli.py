"""The ``jadugar`` command: thin — parses, calls the runtime, prints."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .config import DatabaseOptions
from .errors import JadugarError
from .manager import DatabaseManager, HealthStatus
from .settings import load_settings

app = typer.Typer(
    name="jadugar",
    help="Jadugar: typed models, queries and migrations from schema files.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
UrlOption = Annotated[
    str | None, typer.Option("--url", help="Database URL (default: settings, env, sqlite)")
]


@app.callback()
def _root() -> None:
    """Settings come from [tool.jadugar] in ./pyproject.toml, then the environment, then flags."""


@app.command()
def health(
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Connect, ping the server and print latency, version and pool status."""
    try:
        settings = load_settings(database_url=url)
        options = DatabaseOptions(url=settings.database_url)
        status = asyncio.run(_health(options))
    except JadugarError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(status.model_dump(mode="json"), indent=2))
    else:
        _print_health(status, options.url_masked)
    raise typer.Exit(0 if status.healthy else 1)


async def _health(options: DatabaseOptions) -> HealthStatus:
    db = DatabaseManager(options)
    try:
        await db.connect()
    except JadugarError as exc:
        return HealthStatus(healthy=False, engine=db.dialect.name, error=str(exc))
    try:
        return await db.health_check()
    finally:
        await db.disconnect()


def _print_health(status: HealthStatus, where: str) -> None:
    table = Table(title=f"jadugar health: {escape(where)}", show_header=False)
    mark = "[green]healthy[/green]" if status.healthy else "[red]unhealthy[/red]"
    table.add_row("status", mark)
    table.add_row("engine", escape(status.engine))
    if status.server_version:
        table.add_row("server", escape(status.server_version))
    if status.latency_ms is not None:
        table.add_row("latency", f"{status.latency_ms:.2f} ms")
    if status.pool is not None:
        p = status.pool
        table.add_row(
            "pool",
            f"size {p.size} (idle {p.idle}, in use {p.in_use}, waiting {p.waiting}), "
            f"min {p.min}, max {p.max}",
        )
    if status.error:
        table.add_row("error", escape(status.error))
    console.print(table)


def main() -> None:
    app()
