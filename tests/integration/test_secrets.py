"""No password ever appears in an error, a log line, an event or a ``repr`` (SPEC 1, 11).

A canary password full of URL-special characters (``@ : / % # ' "``, percent-encoded in
URLs) is pushed through options, the manager, real connections that succeed (a role that
really checks its password: SCRAM on the throwaway cluster of tls_cluster.py, a temporary
MariaDB user) and connections that fail, and through ``jadugar health``. The output is
searched for the password as given, percent-encoded, and for its two ends on their own
(so a half-masked password is caught too).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from typer.testing import CliRunner

from jadugar import (
    ConfigurationError,
    DatabaseConnectionError,
    DatabaseManager,
    DatabaseOptions,
    PoolOptions,
    QueryError,
)
from jadugar.cli import app
from jadugar.events import EVENTS

from ..engines import SERVERS, require_server, url
from .tls_cluster import CANARY_ROLE, TlsCluster, session_cluster

HEAD, TAIL = "cAnAry", "zEbRa"
CANARY = f"{HEAD}-7@:/%#'\"{TAIL}"
WRONG = f"wrong-{CANARY}"  # a wrong password is a secret too
ENC = quote(CANARY, safe="")
LEAKS = (CANARY, ENC, quote(CANARY), quote_plus(CANARY, safe=""), WRONG, HEAD, TAIL)
PG_HOST, PG_PORT = SERVERS["postgres"]
MY_HOST, MY_PORT = SERVERS["mysql"]
PG_URL = f"postgresql://postgres:{ENC}@{PG_HOST}:{PG_PORT}/test"
MY_URL = f"mysql://root:{ENC}@{MY_HOST}:{MY_PORT}/test"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tls_cluster() -> Iterator[TlsCluster]:
    """The throwaway TLS cluster of tls_cluster.py, shared by every module of the session."""
    yield from session_cluster()


def assert_clean(text: str, where: str) -> None:
    leaked = [form for form in LEAKS if form in text]
    assert not leaked, f"password leaked in {where}: {leaked!r} found in:\n{text}"


def error_texts(err: BaseException) -> dict[str, str]:
    """Every way an error is usually shown: str, repr, and the printed traceback with its
    whole ``__cause__`` chain (the driver's own exception included)."""
    return {
        "str": str(err),
        "repr": repr(err),
        "traceback": "".join(traceback.format_exception(err)),
    }


def assert_error_clean(err: BaseException) -> None:
    for how, text in error_texts(err).items():
        assert_clean(text, f"{how} of {type(err).__name__}")


def small(url: str, **kwargs: Any) -> DatabaseOptions:
    return DatabaseOptions(
        url=url, pool=PoolOptions(max=1), connect_timeout=5, retry_options={"attempts": 1}, **kwargs
    )


# ---- options, manager, connection parameters (no server) -----------------------------

URLS = {
    "postgres": PG_URL,
    "postgres-query-password": f"postgresql://app@127.0.0.1/test?password={ENC}",
    "postgres-sslpassword": f"postgresql://app:{ENC}@127.0.0.1/test?sslpassword={ENC}",
    "mysql": MY_URL,
    "mariadb": f"mariadb://app:{ENC}@127.0.0.1:3306/test?ssl=true",
    "mongodb": f"mongodb://app:{ENC}@127.0.0.1:27017/test",
    "mongodb-srv": f"mongodb+srv://app:{ENC}@cluster0.example.net/test",
}


@pytest.mark.parametrize("name", list(URLS))
def test_options_never_show_the_password(name: str) -> None:
    url = URLS[name]
    replica = url.replace("127.0.0.1", "127.0.0.9") if "srv" not in name else url
    opts = DatabaseOptions(url=url, replicas=[replica])
    assert opts.reveal_url() == url  # the real URL is still there, for drivers
    shown = {
        "repr(options)": repr(opts),
        "str(options)": str(opts),
        "f-string": f"{opts} {opts!r}",
        "model_dump()": str(opts.model_dump()),
        "model_dump(json)": json.dumps(opts.model_dump(mode="json")),
        "model_dump_json()": opts.model_dump_json(),
        "url": f"{opts.url} {opts.url!r} {opts.url_masked}",
        "replicas": f"{opts.replicas} {opts.replicas[0]}",
        "replace()": repr(opts.replace(pool_size=3)),
    }
    for where, text in shown.items():
        assert_clean(text, where)
    if not name.startswith("mongodb"):
        params = opts.connect_params()
        assert params.password == CANARY
        assert_clean(f"{params!r} {params} {params.describe()}", "ConnectParams")
        assert_clean(repr(opts.connect_params(opts.replicas[0])), "replica ConnectParams")
        db = DatabaseManager(opts)
        assert_clean(f"{db!r} {db}", "DatabaseManager")


def test_manager_keywords_and_from_env_never_show_the_password() -> None:
    db = DatabaseManager(url=PG_URL, pool_size=3)
    assert_clean(repr(db) + repr(db.options), "DatabaseManager(url=...)")
    env = {"JADUGAR_DATABASE_URL": MY_URL, "JADUGAR_POOL_MAX": "4"}
    db = DatabaseManager.from_env(env)
    assert db.options.connect_params().password == CANARY
    assert_clean(repr(db) + repr(db.options) + db.options.model_dump_json(), "from_env")


BAD_OPTIONS: dict[str, dict[str, Any]] = {
    "pool_size=0": {"url": PG_URL, "pool_size": 0},
    "engine mismatch": {"url": PG_URL, "engine": "mysql"},
    "unknown option": {"url": PG_URL, "poolsize": 3},
    "bad nested option": {"url": MY_URL, "pool": {"min": 5, "max": 2}},
    "bad ssl": {"url": PG_URL, "ssl": "prefer"},
    "bad port": {"url": f"postgresql://app:{ENC}@127.0.0.1:99999/test"},
    "bad sslmode in url": {"url": f"postgresql://app:{ENC}@127.0.0.1/test?sslmode=prefer"},
    "bad connect_timeout in url": {"url": f"mysql://root:{ENC}@127.0.0.1/t?connect_timeout=x"},
    "password not encoded": {"url": f"postgresql://app:{CANARY}@127.0.0.1:5432/test"},
    "password not encoded, mysql": {"url": f"mysql://root:{CANARY}@127.0.0.1/test"},
    "unknown scheme": {"url": f"postgre://app:{ENC}@127.0.0.1/test"},
    "not a url": {"url": f"app:{CANARY}@127.0.0.1/test"},
    "query password, bad option": {"url": f"postgresql://a@h/db?password={ENC}&pool_size=0"},
    "replica of another engine": {"url": PG_URL, "replicas": [MY_URL]},
    "bad replica": {"url": PG_URL, "replicas": [f"postgresql://app:{CANARY}@h:0/db"]},
    "url is not a string": {"url": 5, "replicas": [MY_URL], "pool_size": -1},
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_configuration_errors_never_show_the_password(case: str) -> None:
    data = BAD_OPTIONS[case]
    with pytest.raises(ConfigurationError) as info:
        DatabaseOptions(**data)
    assert info.value.field, f"{case}: the error names no field: {info.value}"
    assert_error_clean(info.value)
    # the same through the other entry points
    for build in (
        lambda: DatabaseOptions.model_validate(data),
        lambda: DatabaseManager(**data),
    ):
        with pytest.raises(ConfigurationError) as again:
            build()
        assert_error_clean(again.value)
    if all(isinstance(v, str | int) for v in data.values()):
        with pytest.raises(ConfigurationError) as from_json:
            DatabaseOptions.model_validate_json(json.dumps(data))
        assert_error_clean(from_json.value)


def test_configuration_error_from_the_environment_never_shows_the_password() -> None:
    env = {"JADUGAR_DATABASE_URL": PG_URL, "JADUGAR_POOL_MAX": "lots"}
    with pytest.raises(ConfigurationError) as info:
        DatabaseOptions.from_env(env)
    assert "JADUGAR_POOL_MAX" in str(info.value)
    assert_error_clean(info.value)
    env = {"DATABASE_URL": f"postgresql://app:{CANARY}@127.0.0.1:5432/test"}
    with pytest.raises(ConfigurationError) as info:
        DatabaseOptions.from_env(env)
    assert_error_clean(info.value)


def test_missing_root_cert_error_never_shows_the_password(tmp_path: Path) -> None:
    url = f"{PG_URL}?sslmode=verify-full&sslrootcert={quote(str(tmp_path / 'none.pem'))}"
    with pytest.raises(ConfigurationError) as info:
        DatabaseManager(url=url)
    assert info.value.field == "ssl_root_cert"
    assert_error_clean(info.value)


# ---- real servers ------------------------------------------------------------------------


@dataclass
class Target:
    url: str  # with the canary password, percent-encoded
    user: str  # who the server says we are
    current_user_sql: str


@pytest.fixture
async def scram_role(tls_cluster: TlsCluster) -> str:
    """The cluster's password-checked role, its password set to the canary."""
    async with DatabaseManager(small(tls_cluster.url())) as admin:
        literal = admin.query.escape(CANARY)
        await admin.query.raw(f"ALTER ROLE {CANARY_ROLE} PASSWORD {literal}")
    return tls_cluster.url(user=CANARY_ROLE, password=CANARY)


@pytest.fixture
async def mysql_user() -> AsyncIterator[str]:
    """A temporary MariaDB user identified by the canary; dropped afterwards."""
    require_server("mysql")
    name = f"jadugar_canary_{uuid.uuid4().hex[:8]}"
    async with DatabaseManager(small(f"mysql://root@{MY_HOST}:{MY_PORT}/test")) as admin:
        # bound values: the password is never quoted by hand
        await admin.query.raw("CREATE USER ?@? IDENTIFIED BY ?", [name, "%", CANARY])
        try:
            await admin.query.raw("GRANT SELECT ON test.* TO ?@?", [name, "%"])
            yield f"mysql://{name}:{ENC}@{MY_HOST}:{MY_PORT}/test"
        finally:
            await admin.query.raw("DROP USER IF EXISTS ?@?", [name, "%"])


@pytest.fixture(params=["postgres-scram", "postgres-trust", "mysql"])
def target(request: pytest.FixtureRequest) -> Target:
    kind: str = request.param
    if kind == "postgres-scram":
        url: str = request.getfixturevalue("scram_role")
        return Target(url, CANARY_ROLE, "select current_user as who")
    if kind == "postgres-trust":
        require_server("postgres")
        return Target(PG_URL, "postgres", "select current_user as who")
    url = request.getfixturevalue("mysql_user")
    return Target(url, url.split("//")[1].split(":")[0], "select current_user() as who")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in ("jadugar", "asyncpg", "aiomysql", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def record_events(db: DatabaseManager) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    for event in sorted(EVENTS):
        db.on(event, lambda payload, event=event: seen.append((event, payload)))
    return seen


def assert_events_clean(seen: list[tuple[str, Any]]) -> None:
    assert_clean(repr(seen), "event payloads")
    for event, payload in seen:
        for value in payload.values() if isinstance(payload, dict) else ():
            if isinstance(value, BaseException):
                for how, text in error_texts(value).items():
                    assert_clean(text, f"{how} of the error in the {event!r} event")


async def test_connect_query_and_failing_query_never_log_the_password(
    target: Target, debug_logs: pytest.LogCaptureFixture
) -> None:
    db = DatabaseManager(small(target.url))
    seen = record_events(db)
    async with db:
        row = await db.query.raw(target.current_user_sql).first()
        assert row is not None and str(row["who"]).split("@")[0] == target.user
        with pytest.raises(QueryError) as info:
            await db.query.raw("select * from jadugar_no_such_table").all()
        health = await db.health_check()
        assert health.healthy, health.error
        shown = f"{db!r} {db.pool!r} {db.pool.get_status()!r} {health.model_dump_json()}"
    assert_error_clean(info.value)
    assert_clean(shown, "manager, pool and health status")
    names = [event for event, _ in seen]
    assert {"connect", "query", "error", "disconnect"} <= set(names), names
    assert_events_clean(seen)
    assert_clean(debug_logs.text, "log records (DEBUG)")


@pytest.mark.parametrize("engine", ["postgres", "mysql", "sqlite"])
async def test_raw_sql_keeps_a_literal_percent(engine: str, tmp_path: Path) -> None:
    """A password with ``%`` set by raw DDL must reach the server unchanged (no params:
    the statement text is sent as written; with params: values are bound)."""
    async with DatabaseManager(small(url(engine, tmp_path))) as db:
        row = await db.query.raw("select '50%' as v").first()
        assert row is not None and row["v"] == "50%"
        row = await db.query.raw("select '50%' as v, ? as w", ["%"]).first()
        assert row is not None and (row["v"], row["w"]) == ("50%", "%")


CONNECTION_FAILURES: dict[str, tuple[str, str]] = {
    # name -> (engine whose server it needs, url)
    "postgres-wrong-password": ("cluster", ""),  # SCRAM really rejects it
    "postgres-unknown-database": ("postgres", PG_URL.replace("/test", "/jadugar_no_db")),
    "postgres-unknown-user": ("postgres", PG_URL.replace("postgres:", "jadugar_nobody:")),
    "postgres-unreachable": ("", f"postgresql://postgres:{ENC}@127.0.0.1:1/test"),
    "mysql-wrong-password": ("mysql", MY_URL),
    "mysql-unknown-database": ("mysql", MY_URL.replace("/test", "/jadugar_no_db")),
    "mysql-unreachable": ("", f"mysql://root:{ENC}@127.0.0.1:1/test"),
}


@pytest.fixture(params=list(CONNECTION_FAILURES))
def failing_url(request: pytest.FixtureRequest) -> str:
    engine, url = CONNECTION_FAILURES[request.param]
    if engine == "cluster":
        cluster: TlsCluster = request.getfixturevalue("tls_cluster")
        request.getfixturevalue("scram_role")
        return cluster.url(user=CANARY_ROLE, password=WRONG)
    if engine:
        require_server(engine)
    return url


async def test_connection_errors_never_show_the_password(
    failing_url: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    url = failing_url
    db = DatabaseManager(small(url))
    seen = record_events(db)
    async with db:
        with pytest.raises(DatabaseConnectionError) as info:
            await db.query.raw("select 1").all()
        health = await db.health_check()
    assert not health.healthy
    assert_error_clean(info.value)
    assert_clean(health.model_dump_json(), "health status")
    assert "error" in [event for event, _ in seen]
    assert_events_clean(seen)
    assert_clean(debug_logs.text, "log records (DEBUG)")


# ---- jadugar health ----------------------------------------------------------------------


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich wraps at 80 columns without a terminal: a wrapped password would hide."""
    monkeypatch.setenv("COLUMNS", "2000")
    monkeypatch.delenv("JADUGAR_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)


CLI_CASES = [
    "postgres-trust",
    "postgres-wrong-password",
    "postgres-unreachable",
    "short-url-unreachable",
    "mysql-wrong-password",
    "not-encoded",
]


def cli_url(case: str, request: pytest.FixtureRequest) -> tuple[str, int]:
    """(url, expected exit code: 0 healthy, 1 unhealthy, 2 bad input)"""
    if case == "postgres-trust":
        require_server("postgres")
        return PG_URL, 0
    if case == "postgres-wrong-password":
        cluster: TlsCluster = request.getfixturevalue("tls_cluster")
        request.getfixturevalue("scram_role")
        return cluster.url(user=CANARY_ROLE, password=WRONG), 1
    if case == "postgres-unreachable":
        return f"postgresql://postgres:{ENC}@127.0.0.1:1/test", 1
    if case == "short-url-unreachable":  # short enough for any repr to print it whole
        return f"postgresql://u:{HEAD}@127.0.0.1:1/d", 1
    if case == "mysql-wrong-password":
        require_server("mysql")
        return MY_URL, 1
    return f"postgresql://app:{CANARY}@127.0.0.1:5432/test", 2  # ConfigurationError


def check_health_output(output: str, code: int, as_json: bool) -> None:
    if code == 2:
        assert "error" in output.lower(), output
    elif as_json:
        status = json.loads(output)
        assert status["healthy"] is (code == 0), output
    else:
        assert ("unhealthy" not in output) is (code == 0) and "healthy" in output, output


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
@pytest.mark.parametrize("case", CLI_CASES)
def test_health_command_never_shows_the_password(
    case: str, as_json: bool, request: pytest.FixtureRequest, wide: None
) -> None:
    url, code = cli_url(case, request)
    args = ["health", "--url", url] + (["--json"] if as_json else [])
    result = CliRunner().invoke(app, args)
    assert_clean(result.output, f"jadugar health{' --json' if as_json else ''} output")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert_error_clean(result.exception)
    assert result.exit_code == code, result.output
    check_health_output(result.stdout, code, as_json)


@pytest.mark.parametrize(
    "case", ["postgres-wrong-password", "short-url-unreachable", "mysql-wrong-password"]
)
def test_health_command_process_never_shows_the_password(
    case: str, request: pytest.FixtureRequest, wide: None
) -> None:
    """The real console script: stderr too (warnings, unclosed-resource noise)."""
    url, code = cli_url(case, request)
    script = Path(sys.executable).with_name("jadugar")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "jadugar.cli"]
    env = {**os.environ, "COLUMNS": "2000", "PYTHONWARNINGS": "default"}
    env.pop("JADUGAR_DATABASE_URL", None)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [*command, "health", "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert_clean(done.stdout, "stdout of jadugar health")
    assert_clean(done.stderr, "stderr of jadugar health")
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    check_health_output(done.stdout, code, as_json=False)
