"""``jadugar health`` (SPEC 10): output, ``--json``, exit codes, and where the database URL
comes from: ``[tool.jadugar]`` in ./pyproject.toml, then JADUGAR_DATABASE_URL /
DATABASE_URL, then ``--url``, each overriding the one before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from jadugar.cli import app

from ..engines import require_server, selected_engines, url

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"
SERVER_ENGINES = [e for e in selected_engines() if e != "sqlite"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No URL from the caller's environment; a wide terminal so rich does not wrap; run
    in an empty folder (no pyproject.toml) unless a test writes one."""
    for name in ("JADUGAR_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.chdir(tmp_path)


def health(*args: str) -> Result:
    return CliRunner().invoke(app, ["health", *args])


def no_crash(result: Result) -> None:
    """Exited through typer.Exit / SystemExit, not an exception escaping the command."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"jadugar health raised {result.exception!r}\n{result.output}")
    assert "Traceback" not in result.output, result.output


def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script, in a real process (stderr included)."""
    script = Path(sys.executable).with_name("jadugar")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "jadugar.cli"]
    env = {k: v for k, v in os.environ.items() if k not in ("JADUGAR_DATABASE_URL", "DATABASE_URL")}
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**env, "COLUMNS": "300"},
        check=False,
    )


# ---- healthy -----------------------------------------------------------------------------


def assert_healthy_table(result: Result, engine: str) -> None:
    no_crash(result)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "healthy" in out and "unhealthy" not in out, out
    assert engine in out, out
    assert "latency" in out and " ms" in out, out


def assert_healthy_json(result: Result, engine: str) -> dict[str, object]:
    no_crash(result)
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["healthy"] is True
    assert status["engine"] == engine
    latency = status["latency_ms"]
    assert isinstance(latency, int | float) and latency >= 0
    assert status["server_version"]
    assert status["error"] is None
    assert isinstance(status["pool"], dict)
    return dict(status)


def test_health_sqlite(tmp_path: Path) -> None:
    db_file = tmp_path / "health.db"
    assert_healthy_table(health("--url", f"sqlite:///{db_file}"), "sqlite")
    assert db_file.is_file()


def test_health_sqlite_json(tmp_path: Path) -> None:
    assert_healthy_json(health("--url", f"sqlite:///{tmp_path / 'health.db'}", "--json"), "sqlite")


@pytest.mark.parametrize("engine", SERVER_ENGINES)
def test_health_server(engine: str) -> None:
    result = health("--url", url(engine))
    assert_healthy_table(result, engine)
    assert "server" in result.stdout


@pytest.mark.parametrize("engine", SERVER_ENGINES)
def test_health_server_json(engine: str) -> None:
    require_server(engine)
    assert_healthy_json(health("--json", "--url", url(engine)), engine)


def test_health_console_script(tmp_path: Path) -> None:
    """The installed ``jadugar`` entry point works end to end."""
    done = run_script("health", "--json", "--url", f"sqlite:///{tmp_path / 'h.db'}", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["healthy"] is True
    assert "Traceback" not in done.stderr, done.stderr


# ---- unhealthy and bad input -------------------------------------------------------------


def test_health_unreachable() -> None:
    result = health("--url", UNREACHABLE)
    no_crash(result)
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "unhealthy" in out, out
    error_lines = [line for line in out.splitlines() if "error" in line]
    assert error_lines, out
    assert any("127.0.0.1:1" in line or "refused" in line.lower() for line in error_lines), out


def test_health_unreachable_json() -> None:
    result = health("--url", UNREACHABLE, "--json")
    no_crash(result)
    assert result.exit_code == 1, result.output
    status = json.loads(result.stdout)
    assert status["healthy"] is False
    assert status["engine"] == "postgres"
    assert status["error"], status


def test_health_unreachable_process(tmp_path: Path) -> None:
    done = run_script("health", "--url", UNREACHABLE, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    assert "unhealthy" in done.stdout and "error" in done.stdout, output
    # no asyncio noise about unclosed transports / never-retrieved task exceptions
    assert "never retrieved" not in output and "Unclosed" not in output, output


@pytest.mark.parametrize(
    "bad_url",
    ["not a url", "postgre://u@127.0.0.1/test", "postgresql://u@127.0.0.1:99999/test"],
)
def test_health_bad_url_is_bad_input(bad_url: str) -> None:
    result = health("--url", bad_url)
    no_crash(result)
    assert result.exit_code == 2, result.output
    assert "error" in result.output.lower() and "url" in result.output, result.output


def test_table_shows_the_same_error_as_json() -> None:
    """Values are printed as text, not rich markup: MySQL's "[code 1045]" must survive."""
    require_server("mysql")
    bad_login = f"{url('mysql').replace('root@', 'root:wrong-password@')}"
    as_json = health("--url", bad_login, "--json")
    error = json.loads(as_json.stdout)["error"]
    assert "[code 1045]" in error, error
    table = health("--url", bad_login)
    no_crash(table)
    assert table.exit_code == 1, table.output
    assert error in table.stdout, table.stdout


def test_brackets_in_the_url_are_printed_verbatim(tmp_path: Path) -> None:
    """A path with rich markup look-alikes ("[bold]", "[/b]") is shown as it is and does
    not crash the command (rich MarkupError)."""
    (tmp_path / "a[").mkdir()
    for name in ("[bold]x.db", "a[/b].db"):
        result = health("--url", f"sqlite:///{name}")
        no_crash(result)
        assert result.exit_code == 0, result.output
        assert name in result.stdout, result.stdout


# ---- where the URL comes from ------------------------------------------------------------


def write_pyproject(folder: Path, database_url: str) -> None:
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "app"\n\n[tool.jadugar]\ndatabase_url = "{database_url}"\n'
    )


def used(folder: Path) -> list[str]:
    """The SQLite files health opened (each source below names its own file)."""
    return sorted(p.name for p in folder.glob("*.db"))


def test_default_is_a_local_sqlite_file(tmp_path: Path) -> None:
    assert_healthy_table(health(), "sqlite")
    assert used(tmp_path) == ["jadugar.db"]


def test_url_from_pyproject(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "sqlite:///from_pyproject.db")
    result = health()
    assert_healthy_table(result, "sqlite")
    assert used(tmp_path) == ["from_pyproject.db"]
    assert "from_pyproject.db" in result.stdout


@pytest.mark.parametrize("variable", ["JADUGAR_DATABASE_URL", "DATABASE_URL"])
def test_environment_overrides_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    write_pyproject(tmp_path, "sqlite:///from_pyproject.db")
    monkeypatch.setenv(variable, "sqlite:///from_env.db")
    assert_healthy_table(health(), "sqlite")
    assert used(tmp_path) == ["from_env.db"]


def test_jadugar_variable_wins_over_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///from_database_url.db")
    monkeypatch.setenv("JADUGAR_DATABASE_URL", "sqlite:///from_jadugar_env.db")
    assert_healthy_table(health(), "sqlite")
    assert used(tmp_path) == ["from_jadugar_env.db"]


def test_flag_overrides_environment_and_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pyproject(tmp_path, "sqlite:///from_pyproject.db")
    monkeypatch.setenv("JADUGAR_DATABASE_URL", "sqlite:///from_env.db")
    assert_healthy_json(health("--url", "sqlite:///from_flag.db", "--json"), "sqlite")
    assert used(tmp_path) == ["from_flag.db"]


def test_flag_overrides_pyproject(tmp_path: Path) -> None:
    write_pyproject(tmp_path, UNREACHABLE)
    assert_healthy_table(health("--url", "sqlite:///from_flag.db"), "sqlite")
    assert used(tmp_path) == ["from_flag.db"]


def test_pyproject_pointing_at_an_unreachable_server_fails_the_check(tmp_path: Path) -> None:
    write_pyproject(tmp_path, UNREACHABLE)
    result = health()
    no_crash(result)
    assert result.exit_code == 1, result.output
    assert used(tmp_path) == []


def test_unknown_pyproject_option_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.jadugar]\ndatabse_url = "sqlite:///x.db"\n')
    result = health()
    no_crash(result)
    assert result.exit_code == 2, result.output
    assert "databse_url" in result.output, result.output


def test_invalid_pyproject_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.jadugar\n")
    result = health()
    no_crash(result)
    assert result.exit_code == 2, result.output
    assert "pyproject.toml" in result.output, result.output
