"""``jadugar schema-json`` and ``jadugar diagram``: editor support and ER diagrams of the
schema files. Both write files that a project commits, and both have ``--check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from .errors import JadugarError
from .settings import load_settings

console = Console()
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors")]
SchemasOption = Annotated[str | None, typer.Option("--schemas", help="Folder of schema files")]


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(str(exc))}")
    return typer.Exit(2)


def _report(
    path: Path, up_to_date: bool, written: bool, check: bool, command: str, quiet: bool
) -> None:
    where = escape(str(path))
    if check and not up_to_date:
        console.print(f"[red]stale:[/red] {where}: run `{command}`")
        raise typer.Exit(1)
    if not quiet:
        console.print(f"wrote {where}" if written else f"{where} is up to date")


def schema_json(
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            help="File to write, or - for stdout (default: <schemas>/jadugar.schema.json)",
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if the file is stale")
    ] = False,
    schemas: SchemasOption = None,
    quiet: QuietOption = False,
) -> None:
    """Write the JSON Schema of YAML schema files, for completion and checks in editors.

    Start a schema file with `# yaml-language-server: $schema=jadugar.schema.json`.
    """
    from jadugar_generator.schema_json import FILE_NAME, schema_json_text, write_schema_json

    if output == "-":
        if check:
            console.print("[red]error:[/red] --check needs a file, not --output -")
            raise typer.Exit(2)
        typer.echo(schema_json_text(), nl=False)
        return
    try:
        target = (
            Path(output) if output else Path(load_settings(schemas=schemas).schemas) / FILE_NAME
        )
        result = write_schema_json(target, check=check)
    except JadugarError as exc:
        raise _fail(exc) from None
    command = "jadugar schema-json" + (f" --output {output}" if output else "")
    _report(result.path, result.up_to_date, result.written, check, command, quiet)


def diagram(
    schemas: SchemasOption = None,
    form: Annotated[
        str | None,
        typer.Option(
            "--format", help="mermaid or svg (default: from the --output suffix, else mermaid)"
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="File to write (default: print it)")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if --output is stale")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Draw the ER diagram of the schema files: Mermaid erDiagram text, or an SVG."""
    from jadugar_generator.diagram import diagram_text, format_for, write_diagram

    if check and output is None:
        console.print("[red]error:[/red] --check needs --output FILE")
        raise typer.Exit(2)
    try:
        folder = Path(load_settings(schemas=schemas).schemas)
        chosen = format_for(output, form)
        if output is None:
            typer.echo(diagram_text(folder, chosen), nl=False)
            return
        result = write_diagram(folder, chosen, output, check=check)
    except JadugarError as exc:
        raise _fail(exc) from None
    flags = f" --schemas {schemas}" if schemas else ""
    command = f"jadugar diagram{flags} --format {chosen} --output {output}"
    _report(result.path, result.up_to_date, result.written, check, command, quiet)


def register(app: typer.Typer) -> None:
    app.command("schema-json")(schema_json)
    app.command()(diagram)
