"""``jadugar generate``: schema files -> ``<output>/<package>/``, or with ``check`` a report
of what is stale. Nothing is written unless every schema file is valid."""

from __future__ import annotations

from pathlib import Path

from jadugar.errors import ConfigurationError

from .schema.loader import load_schema
from .schema.model import Schema
from .views import package_view
from .writer import GenerateResult, format_sources, render_package, write_package


def generate_schema(
    schema: Schema, package: str, output: Path, *, root: Path, check: bool = False
) -> GenerateResult:
    view = package_view(schema, package, root)
    files = format_sources(render_package(view))
    return write_package(files, output / package, check=check)


def generate(
    schemas: Path, output: Path, package: str, *, root: Path | None = None, check: bool = False
) -> GenerateResult:
    """Load every schema file in ``schemas`` and write (or check) the generated package."""
    if not package.isidentifier():
        raise ConfigurationError(f"package {package!r} is not a Python identifier", field="package")
    schema = load_schema(schemas)
    return generate_schema(schema, package, output, root=root or schemas.parent, check=check)
