"""Where the CLI's settings come from: [tool.jadugar], then the environment, then flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jadugar.errors import ConfigurationError
from jadugar.settings import load_settings


def project(folder: Path, table: str) -> Path:
    (folder / "pyproject.toml").write_text(f"[tool.jadugar]\n{table}\n")
    return folder


def test_defaults_without_pyproject(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    assert settings.migrations == "generated/migrations"
    assert settings.database_url == "sqlite:///jadugar.db"


def test_migrations_folder_from_pyproject_then_environment_then_flag(tmp_path: Path) -> None:
    folder = project(tmp_path, 'migrations = "db/from_pyproject"')
    assert load_settings(folder, environ={}).migrations == "db/from_pyproject"
    env = {"JADUGAR_MIGRATIONS_DIRECTORY": "db/from_env"}
    assert load_settings(folder, environ=env).migrations == "db/from_env"
    flagged = load_settings(folder, environ=env, migrations="db/from_flag")
    assert flagged.migrations == "db/from_flag"


def test_database_url_prefers_the_jadugar_variable(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "sqlite:///a.db", "JADUGAR_DATABASE_URL": "sqlite:///b.db"}
    assert load_settings(tmp_path, environ=env).database_url == "sqlite:///b.db"


def test_unknown_pyproject_option_is_named(tmp_path: Path) -> None:
    folder = project(tmp_path, 'migration = "typo"')
    with pytest.raises(
        ConfigurationError, match=re.escape("unknown [tool.jadugar] option(s): migration")
    ):
        load_settings(folder, environ={})
