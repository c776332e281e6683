"""CLI settings: ``[tool.jadugar]`` in ./pyproject.toml, then the environment, then flags."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigurationError


class ProjectSettings(BaseModel):
    """Where the schemas, generated code and migrations live, and which database to use."""

    model_config = ConfigDict(extra="forbid")

    schemas: str = "schemas"
    output: str = "generated"
    package: str = "app"
    migrations: str = "generated/migrations"
    database_url: str = "sqlite:///jadugar.db"


def load_settings(
    folder: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **flags: str | None,
) -> ProjectSettings:
    folder = folder or Path.cwd()
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{pyproject}: not valid TOML: {exc}") from None
        table = data.get("tool", {}).get("jadugar", {})
        unknown = set(table) - set(ProjectSettings.model_fields)
        if unknown:
            raise ConfigurationError(
                f"{pyproject}: unknown [tool.jadugar] option(s): {', '.join(sorted(unknown))}; "
                f"known: {', '.join(ProjectSettings.model_fields)}",
                field=sorted(unknown)[0],
            )
        values.update({k: str(v) for k, v in table.items()})
    url = env.get("JADUGAR_DATABASE_URL") or env.get("DATABASE_URL")
    if url:
        values["database_url"] = url
    folder_from_env = env.get("JADUGAR_MIGRATIONS_DIRECTORY")
    if folder_from_env:
        values["migrations"] = folder_from_env
    values.update({k: v for k, v in flags.items() if v is not None})
    try:
        return ProjectSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"bad jadugar settings: {problems}") from None
