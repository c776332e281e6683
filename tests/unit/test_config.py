"""Configuration (SPEC 1): URL parsing, options, the environment, TLS contexts, masking."""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pydantic
import pytest

import jadugar.config as config_module
from jadugar.config import (
    DEFAULT_URL,
    ENVIRONMENT_VARIABLES,
    DatabaseOptions,
    MigrationOptions,
    PoolOptions,
    RetryOptions,
    SecretUrl,
    mask_url,
    redact,
)
from jadugar.errors import ConfigurationError

CANARY = "Canary@:/%#'\"pw"
ENCODED = quote(CANARY, safe="")
ENCODED_LOWER_HEX = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), ENCODED)
PG_URL = f"postgresql://app:{ENCODED}@db.example:6543/shop"


def assert_no_canary(text: str) -> None:
    forms = (CANARY, ENCODED, ENCODED_LOWER_HEX, json.dumps(CANARY)[1:-1], repr(CANARY)[1:-1])
    for form in forms:
        assert form not in text, f"password leaked as {form!r} in {text!r}"


def config_error(factory: Callable[[], object]) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as info:
        factory()
    return info.value


# --- URL schemes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "engine", "host", "port", "user", "database"),
    [
        ("postgres://u:p@h/db", "postgres", "h", 5432, "u", "db"),
        ("postgresql://u@127.0.0.1:6000/db", "postgres", "127.0.0.1", 6000, "u", "db"),
        ("postgresql+asyncpg://u@h/db", "postgres", "h", 5432, "u", "db"),
        ("mysql://root@127.0.0.1/test", "mysql", "127.0.0.1", 3306, "root", "test"),
        ("mariadb://root:x@db:3307/test", "mysql", "db", 3307, "root", "test"),
        ("mongodb://u:p@m1/app", "mongodb", "m1", 27017, "u", "app"),
        (
            "mongodb+srv://u:p@cluster.example.net/app",
            "mongodb",
            "cluster.example.net",
            None,
            "u",
            "app",
        ),
        ("mongomock://demo", "mongodb", None, None, None, "demo"),
        ("postgresql://u@[::1]:5433/db", "postgres", "::1", 5433, "u", "db"),
        ("POSTGRESQL://u@h/db", "postgres", "h", 5432, "u", "db"),
    ],
)
def test_every_scheme_parses(
    url: str, engine: str, host: str | None, port: int | None, user: str | None, database: str
) -> None:
    options = DatabaseOptions(url=url)
    params = options.connect_params()
    assert options.engine == engine
    assert (params.engine, params.host, params.port, params.user, params.database) == (
        engine,
        host,
        port,
        user,
        database,
    )
    assert params.path is None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite://", ":memory:"),
        ("sqlite:///app.db", "app.db"),
        ("sqlite:///data/app.db", "data/app.db"),
        ("sqlite:////abs/app.db", "/abs/app.db"),
        ("sqlite:///my%20app.db", "my app.db"),
        ("sqlite+aiosqlite:///app.db", "app.db"),
    ],
)
def test_sqlite_paths(url: str, path: str) -> None:
    options = DatabaseOptions(url=url)
    params = options.connect_params()
    assert options.engine == "sqlite"
    assert params.path == path
    assert params.host is None and params.ssl is None


def test_sqlite_is_the_default_and_ignores_ssl() -> None:
    options = DatabaseOptions()
    assert options.engine == "sqlite"
    assert options.reveal_url() == DEFAULT_URL
    assert options.connect_params().path == "jadugar.db"
    params = DatabaseOptions(url="sqlite:///:memory:", ssl="verify-full").connect_params()
    assert params.ssl is None and params.ssl_mode == "disable"


def test_sqlite_query_options_are_kept() -> None:
    params = DatabaseOptions(url="sqlite:///app.db?mode=ro&cache=shared").connect_params()
    assert params.options == {
        "mode": "ro",
        "cache": "shared",
        "busy_timeout": "5.0",
        "inline_reads": "true",
    }


def test_sqlite_busy_timeout_reaches_the_driver() -> None:
    params = DatabaseOptions(url="sqlite:///app.db", sqlite_busy_timeout=1.5).connect_params()
    assert params.options["busy_timeout"] == "1.5"
    from_url = DatabaseOptions(url="sqlite:///app.db?busy_timeout=9").connect_params()
    assert from_url.options["busy_timeout"] == "9"


def test_sqlite_inline_reads_reach_the_driver() -> None:
    off = DatabaseOptions(url="sqlite:///app.db", sqlite_inline_reads=False).connect_params()
    assert off.options["inline_reads"] == "false"
    from_url = DatabaseOptions(url="sqlite:///app.db?inline_reads=0").connect_params()
    assert from_url.options["inline_reads"] == "0"


def test_mongodb_seed_list() -> None:
    params = DatabaseOptions(url="mongodb://u:p@m1,m2:27018/app?replicaSet=rs0").connect_params()
    assert params.host == "m1:27017,m2:27018"
    assert params.port is None
    assert params.options == {"replicaSet": "rs0"}


def test_percent_encoded_credentials_decode() -> None:
    password = "p@:/%#'\""
    url = f"postgresql://{quote('us@r', safe='')}:{quote(password, safe='')}@h/{quote('my db', safe='')}"
    params = DatabaseOptions(url=url).connect_params()
    assert (params.user, params.password, params.database) == ("us@r", password, "my db")


def test_credentials_and_socket_host_from_query() -> None:
    params = DatabaseOptions(
        url="postgresql:///app?host=/var/run/postgresql&user=me&password=s3cret"
    ).connect_params()
    assert (params.host, params.port, params.user, params.password) == (
        "/var/run/postgresql",
        5432,
        "me",
        "s3cret",
    )
    assert params.options == {}


# --- engine inference and bad URLs -----------------------------------------------------------


def test_explicit_engine_matching_the_url() -> None:
    assert DatabaseOptions(engine="mysql", url="mariadb://root@h/db").engine == "mysql"


@pytest.mark.parametrize(
    ("engine", "url"),
    [
        ("mysql", "postgresql://u@h/db"),
        ("postgres", "mysql://u@h/db"),
        ("sqlite", "mongodb://h/db"),
        ("mongodb", "sqlite:///app.db"),
    ],
)
def test_engine_conflicting_with_the_url(engine: Any, url: str) -> None:
    error = config_error(lambda: DatabaseOptions(engine=engine, url=url))
    assert error.field == "engine"
    assert engine in str(error)


def test_server_engine_without_url() -> None:
    error = config_error(lambda: DatabaseOptions(engine="postgres"))
    assert error.field == "url"
    assert "postgresql://" in str(error)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgre://app:{pw}@h/db", "unknown scheme"),
        ("oracle://app:{pw}@h/db", "unknown scheme"),
        ("app:{pw}@h/db", "not a database URL"),
        ("postgresql://app:{pw}@/db", "no host"),
        ("mysql://app:{pw}@:3306/db", "empty host"),
        ("postgresql://app:{pw}@h:99999/db", "bad port"),
        ("postgresql://app:{pw}@h:0/db", "bad port"),
        ("postgresql://app:{pw}@h:54x/db", "bad port"),
        ("postgresql://app:{pw}@h1,h2/db", "several hosts"),
        ("mongodb+srv://app:{pw}@h:27017/db", "no port"),
        ("sqlite://host/app.db", "no host"),
        ("sqlite:///", "no database file"),
        ("postgresql://app:{pw}@h/db?sslmode=prefer", "sslmode"),
        ("postgresql://app:{pw}@h/db?connect_timeout=soon", "connect_timeout"),
        ("postgresql://app:{pw}@h/db?pool_size=0", "pool_size"),
        ("postgresql://app:{pw}@h/db?statement_cache=maybe", "statement_cache"),
        ("postgresql://app:{pw}@h/a/b", "contains '/'"),
        ("postgresql://app:***@h/db", "mask"),
    ],
)
def test_bad_urls_name_the_field_and_show_the_masked_url(url: str, reason: str) -> None:
    error = config_error(lambda: DatabaseOptions(url=url.format(pw=ENCODED)))
    assert error.field == "url"
    assert reason in str(error)
    assert_no_canary(str(error))
    if "://" in url and "@" in url:
        assert "app:***@" in str(error)


@pytest.mark.parametrize("separator", ["/", "#", "?", "@"])
def test_unencoded_special_characters_in_a_password_never_leak(separator: str) -> None:
    url = f"postgresql://app:top{separator}secret@h:5432/db"
    try:
        params = DatabaseOptions(url=url).connect_params()
    except ConfigurationError as error:
        assert "secret" not in str(error)
        assert "percent-encode" in str(error)
    else:  # '@' is the one RFC 3986 lets urllib split correctly (the last '@' wins)
        assert params.password == f"top{separator}secret"


# --- URL query options and precedence --------------------------------------------------------


def test_query_options_are_understood() -> None:
    options = DatabaseOptions(
        url="postgresql://u@h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem"
        "&connect_timeout=3.5&pool_size=7&application_name=shop"
    )
    assert options.pool.max == 7
    error = config_error(options.connect_params)  # the CA file is read to build the context
    assert error.field == "ssl_root_cert" and "/nonexistent/ca.pem" in str(error)
    params = DatabaseOptions(
        url="postgresql://u@h/db?ssl=true&connect_timeout=3.5&application_name=shop"
    ).connect_params()
    assert params.ssl_mode == "require"
    assert params.connect_timeout == 3.5
    assert params.options == {"application_name": "shop"}


@pytest.mark.parametrize(
    ("query", "mode"),
    [
        ("sslmode=disable", "disable"),
        ("sslmode=require", "require"),
        ("ssl=true", "require"),
        ("ssl=false", "disable"),
        ("ssl-mode=REQUIRED", "require"),
        ("sslmode=verify-full", "verify-full"),
        ("ssl-mode=VERIFY_IDENTITY", "verify-full"),
        ("", "disable"),
    ],
)
def test_ssl_mode_from_the_url(query: str, mode: str) -> None:
    assert DatabaseOptions(url=f"mysql://u@h/db?{query}").connect_params().ssl_mode == mode


def test_keyword_options_win_over_the_url_query() -> None:
    url = "postgresql://u@h/db?sslmode=require&connect_timeout=3&pool_size=7"
    options = DatabaseOptions(url=url, ssl=False, connect_timeout=20, pool_size=4)
    params = options.connect_params()
    assert (params.ssl, params.ssl_mode, params.connect_timeout) == (None, "disable", 20)
    assert options.pool.max == 4
    assert DatabaseOptions(url=url, pool=PoolOptions(max=9)).pool.max == 9


@pytest.mark.parametrize(
    ("query", "keyword", "expected"),
    [
        ("", None, True),
        ("?statement_cache=false", None, False),
        ("?statement_cache=OFF", None, False),
        ("?statement_cache=true", None, True),
        ("?statement_cache=false", True, True),  # the keyword wins
        ("", False, False),
    ],
)
def test_statement_cache_from_the_url(query: str, keyword: bool | None, expected: bool) -> None:
    url = f"postgresql://u@bouncer:6432/db{query}"
    if keyword is None:
        options = DatabaseOptions(url=url)
    else:
        options = DatabaseOptions(url=url, statement_cache=keyword)
    params = options.connect_params()
    assert params.statement_cache is expected
    assert "statement_cache" not in params.options  # understood, not passed to the driver


def test_pool_size_is_a_shortcut_for_pool_max() -> None:
    options = DatabaseOptions(url="sqlite://", pool_size=3, pool=PoolOptions(min=1))
    assert (options.pool.min, options.pool.max, options.pool_size) == (1, 3, 3)
    conflict = config_error(lambda: DatabaseOptions(pool_size=3, pool=PoolOptions(max=5)))
    assert conflict.field == "pool_size"
    below = config_error(lambda: DatabaseOptions(pool_size=1, pool={"min": 2}))
    assert below.field == "pool_size" and "pool.min=2" in str(below)


# --- option models ---------------------------------------------------------------------------


def test_pool_defaults() -> None:
    pool = PoolOptions()
    assert (pool.min, pool.max, pool.idle_timeout, pool.acquire_timeout) == (0, 10, 300.0, 30.0)
    assert (pool.create_timeout, pool.max_lifetime, pool.ping_after) == (10.0, 3600.0, 5.0)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"min": -1}, "min"),
        ({"max": 0}, "max"),
        ({"min": 5, "max": 2}, "max"),
        ({"idle_timeout": 0}, "idle_timeout"),
        ({"acquire_timeout": -1}, "acquire_timeout"),
        ({"create_timeout": 0}, "create_timeout"),
        ({"max_lifetime": float("nan")}, "max_lifetime"),
        ({"ping_after": -0.5}, "ping_after"),
        ({"max": "many"}, "max"),
    ],
)
def test_pool_validation_names_the_field(data: dict[str, Any], field: str) -> None:
    assert config_error(lambda: PoolOptions(**data)).field == field
    assert config_error(lambda: PoolOptions.model_validate(data)).field == field
    nested = config_error(lambda: DatabaseOptions(pool=data))
    assert nested.field == f"pool.{field}"
    assert f"pool.{field}" in str(nested)


def test_every_constructor_raises_configuration_error() -> None:
    for factory in (
        lambda: RetryOptions.model_validate_json('{"attempts": 0}'),
        lambda: RetryOptions.model_validate_strings({"attempts": "0"}),
        lambda: DatabaseOptions.model_validate({"timeout": 0}),
    ):
        error = config_error(factory)
        assert not isinstance(error, pydantic.ValidationError)
        assert error.__cause__ is None and error.__context__ is None


def test_unknown_option_suggests_the_right_one() -> None:
    error = config_error(lambda: DatabaseOptions(pool_sze=3))  # type: ignore[call-arg]
    assert error.field == "pool_sze" and "pool_size" in str(error)
    nested = config_error(lambda: DatabaseOptions(pool={"maximum": 3}))
    assert nested.field == "pool.maximum"


def test_options_are_frozen_and_replace_revalidates() -> None:
    pool = PoolOptions(max=5)
    with pytest.raises(ConfigurationError):
        pool.max = 6
    assert pool.replace(min=2).model_dump(include={"min", "max"}) == {"min": 2, "max": 5}
    assert config_error(lambda: pool.replace(min=6)).field == "max"
    options = DatabaseOptions(url="postgresql://u@h/db")
    assert options.replace(url="mysql://u@h/db").engine == "mysql"  # inferred again


def test_retry_defaults_and_validation() -> None:
    retry = RetryOptions()
    assert (retry.attempts, retry.base_delay, retry.max_delay, retry.jitter) == (3, 0.05, 2.0, 0.5)
    assert config_error(lambda: RetryOptions(attempts=0)).field == "attempts"
    assert config_error(lambda: RetryOptions(jitter=1.5)).field == "jitter"
    assert config_error(lambda: RetryOptions(base_delay=3, max_delay=1)).field == "max_delay"


def test_retry_delay_grows_and_is_capped() -> None:
    retry = RetryOptions(base_delay=0.1, max_delay=1.0, jitter=0)
    delays = [retry.delay(attempt) for attempt in range(1, 8)]
    assert delays[:4] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert delays[4:] == [1.0, 1.0, 1.0]
    assert retry.delay(10_000) == 1.0
    with pytest.raises(ValueError):
        retry.delay(0)


def test_retry_jitter_shortens_within_the_fraction() -> None:
    retry = RetryOptions(base_delay=1.0, max_delay=8.0, jitter=0.25)
    assert retry.delay(2, rand=lambda: 0.0) == 2.0
    assert retry.delay(2, rand=lambda: 1.0) == pytest.approx(1.5)
    assert retry.delay(9, rand=lambda: 0.5) == pytest.approx(8.0 * 0.875)


def test_migration_options() -> None:
    migrations = MigrationOptions()
    assert (migrations.directory, migrations.table_name) == ("migrations", "jadugar_migrations")
    assert (migrations.sort_order, migrations.transaction) == ("asc", True)
    assert MigrationOptions(table_name="meta.history").table_name == "meta.history"
    assert config_error(lambda: MigrationOptions(table_name="x; DROP TABLE y")).field == (
        "table_name"
    )
    assert config_error(lambda: MigrationOptions.model_validate({"sort_order": "up"})).field == (
        "sort_order"
    )


def test_other_field_validation() -> None:
    assert config_error(lambda: DatabaseOptions(timeout=0)).field == "timeout"
    assert config_error(lambda: DatabaseOptions(connect_timeout=-1)).field == "connect_timeout"
    assert config_error(lambda: DatabaseOptions(ssl="prefer")).field == "ssl"  # type: ignore[arg-type]
    assert config_error(lambda: DatabaseOptions(url=42)).field == "url"  # type: ignore[arg-type]
    replica = config_error(lambda: DatabaseOptions(url=PG_URL, replicas=["mysql://h/db"]))
    assert replica.field == "replicas[0]"
    sqlite = config_error(lambda: DatabaseOptions(replicas=["sqlite:///copy.db"]))
    assert sqlite.field == "replicas" and "SQLite" in str(sqlite)
    level = config_error(lambda: DatabaseOptions(default_consistency="sometimes"))  # type: ignore[arg-type]
    assert level.field == "default_consistency" and "read_your_writes" in str(level)
    assert config_error(lambda: DatabaseOptions(max_replica_lag=-1)).field == "max_replica_lag"


# --- TLS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ssl_option", "mode", "verify_mode", "check_hostname"),
    [
        (True, "require", ssl.CERT_NONE, False),
        ("require", "require", ssl.CERT_NONE, False),
        ("verify-ca", "verify-ca", ssl.CERT_REQUIRED, False),
        ("verify-full", "verify-full", ssl.CERT_REQUIRED, True),
        ("VERIFY_FULL", "verify-full", ssl.CERT_REQUIRED, True),
    ],
)
def test_ssl_modes_build_contexts(
    ssl_option: Any, mode: str, verify_mode: ssl.VerifyMode, check_hostname: bool
) -> None:
    params = DatabaseOptions(url="postgresql://u@h/db", ssl=ssl_option).connect_params()
    assert params.ssl_mode == mode
    assert params.ssl is not None
    assert params.ssl.verify_mode == verify_mode
    assert params.ssl.check_hostname is check_hostname


@pytest.mark.parametrize("ssl_option", [False, "disable", None])
def test_no_ssl(ssl_option: Any) -> None:
    params = DatabaseOptions(url="postgresql://u@h/db", ssl=ssl_option).connect_params()
    assert (params.ssl, params.ssl_mode) == (None, "disable")


def test_a_user_context_passes_through() -> None:
    context = ssl.create_default_context()
    options = DatabaseOptions(url="postgresql://u@h/db", ssl=context)
    params = options.connect_params()
    assert params.ssl is context
    assert params.ssl_mode == "verify-full"
    assert "SSLContext(verify-full)" in options.model_dump_json()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A local TLS server with a self-signed certificate for localhost."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            with conn:
                try:
                    with server_context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)
                except (OSError, ssl.SSLError):
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], cert
    stop.set()
    thread.join(5)
    listener.close()


def handshake(context: ssl.SSLContext | None, port: int, hostname: str) -> None:
    assert context is not None
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        tls.sendall(b"x")


@pytest.mark.parametrize(
    ("mode", "trust_cert", "hostname", "ok"),
    [
        ("require", False, "localhost", True),  # encrypted, unverified
        ("verify-ca", False, "localhost", False),  # self-signed: not trusted by the system
        ("verify-full", False, "localhost", False),
        ("verify-ca", True, "wrong.example", True),  # CA checked, host name not
        ("verify-full", True, "localhost", True),
        ("verify-full", True, "wrong.example", False),  # host name checked
    ],
)
def test_ssl_modes_really_verify(
    tls_server: tuple[int, Path], mode: Any, trust_cert: bool, hostname: str, ok: bool
) -> None:
    port, cert = tls_server
    options = DatabaseOptions(
        url="postgresql://u@h/db", ssl=mode, ssl_root_cert=str(cert) if trust_cert else None
    )
    context = options.connect_params().ssl
    if ok:
        handshake(context, port, hostname)
    else:
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(context, port, hostname)


def test_unreadable_root_cert(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    options = DatabaseOptions(url="postgresql://u@h/db", ssl="verify-ca", ssl_root_cert=str(bad))
    assert config_error(options.connect_params).field == "ssl_root_cert"


# --- environment -----------------------------------------------------------------------------


def test_from_env_url_precedence() -> None:
    both = {"JADUGAR_DATABASE_URL": "mysql://u@a/db", "DATABASE_URL": "postgresql://u@b/db"}
    assert DatabaseOptions.from_env(both).reveal_url() == "mysql://u@a/db"
    only = {"DATABASE_URL": "postgresql://u@b/db", "JADUGAR_DATABASE_URL": "  "}
    assert DatabaseOptions.from_env(only).reveal_url() == "postgresql://u@b/db"
    assert DatabaseOptions.from_env({}).reveal_url() == DEFAULT_URL
    assert DatabaseOptions.from_env(both, url="sqlite://").engine == "sqlite"


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "mariadb://root@127.0.0.1/test")
    monkeypatch.setenv("JADUGAR_POOL_MAX", "3")
    options = DatabaseOptions.from_env()
    assert (options.engine, options.pool.max) == ("mysql", 3)


ENV_CASES: list[tuple[str, str, Callable[[DatabaseOptions], object], object]] = [
    ("JADUGAR_POOL_SIZE", "4", lambda o: (o.pool_size, o.pool.max), (4, 4)),
    ("JADUGAR_TIMEOUT", "2.5", lambda o: o.timeout, 2.5),
    ("JADUGAR_SSL", "true", lambda o: o.ssl, "require"),
    ("JADUGAR_SSL", "verify-full", lambda o: o.ssl, "verify-full"),
    ("JADUGAR_SSL_ROOT_CERT", "/etc/ca.pem", lambda o: o.ssl_root_cert, "/etc/ca.pem"),
    ("JADUGAR_STATEMENT_CACHE", "false", lambda o: o.statement_cache, False),
    ("JADUGAR_CONNECT_TIMEOUT", "4", lambda o: o.connect_timeout, 4.0),
    ("JADUGAR_HOST_SELECTION", "round_robin", lambda o: o.host_selection, "round_robin"),
    ("JADUGAR_SQLITE_BUSY_TIMEOUT", "9", lambda o: o.sqlite_busy_timeout, 9.0),
    ("JADUGAR_SQLITE_INLINE_READS", "false", lambda o: o.sqlite_inline_reads, False),
    (
        "JADUGAR_REPLICAS",
        "postgresql://r1/app, postgresql://r2/app",
        lambda o: [r.get_secret_value() for r in o.replicas],
        ["postgresql://r1/app", "postgresql://r2/app"],
    ),
    ("JADUGAR_DEFAULT_CONSISTENCY", "strong", lambda o: o.default_consistency, "strong"),
    ("JADUGAR_MAX_REPLICA_LAG", "2.5", lambda o: o.max_replica_lag, 2.5),
    ("JADUGAR_REPLICA_CHECK_INTERVAL", "0.2", lambda o: o.replica_check_interval, 0.2),
    ("JADUGAR_POOL_MIN", "2", lambda o: o.pool.min, 2),
    ("JADUGAR_POOL_MAX", "20", lambda o: o.pool.max, 20),
    ("JADUGAR_POOL_IDLE_TIMEOUT", "60", lambda o: o.pool.idle_timeout, 60.0),
    ("JADUGAR_POOL_ACQUIRE_TIMEOUT", "1.5", lambda o: o.pool.acquire_timeout, 1.5),
    ("JADUGAR_POOL_CREATE_TIMEOUT", "3", lambda o: o.pool.create_timeout, 3.0),
    ("JADUGAR_POOL_MAX_LIFETIME", "120", lambda o: o.pool.max_lifetime, 120.0),
    ("JADUGAR_POOL_PING_AFTER", "0", lambda o: o.pool.ping_after, 0.0),
    ("JADUGAR_RETRY_ATTEMPTS", "7", lambda o: o.retry_options.attempts, 7),
    ("JADUGAR_RETRY_BASE_DELAY", "0.2", lambda o: o.retry_options.base_delay, 0.2),
    ("JADUGAR_RETRY_MAX_DELAY", "9", lambda o: o.retry_options.max_delay, 9.0),
    ("JADUGAR_RETRY_JITTER", "0.1", lambda o: o.retry_options.jitter, 0.1),
    ("JADUGAR_MIGRATIONS_DIRECTORY", "db/mig", lambda o: o.migrations.directory, "db/mig"),
    ("JADUGAR_MIGRATIONS_TABLE_NAME", "history", lambda o: o.migrations.table_name, "history"),
    ("JADUGAR_MIGRATIONS_SORT_ORDER", "desc", lambda o: o.migrations.sort_order, "desc"),
    ("JADUGAR_MIGRATIONS_TRANSACTION", "0", lambda o: o.migrations.transaction, False),
    ("JADUGAR_CACHE_ENABLED", "false", lambda o: o.cache.enabled, False),
    ("JADUGAR_CACHE_MAX_ENTRIES", "50", lambda o: o.cache.max_entries, 50),
    ("JADUGAR_CACHE_MAX_BYTES", "1048576", lambda o: o.cache.max_bytes, 1048576),
    ("JADUGAR_CACHE_DEFAULT_TTL", "5", lambda o: o.cache.default_ttl, 5.0),
    (
        "JADUGAR_CACHE_BACKEND",
        "redis://cache:6379/0",
        lambda o: o.cache.backend.get_secret_value(),
        "redis://cache:6379/0",
    ),
    ("JADUGAR_CACHE_KEY_PREFIX", "shop:", lambda o: o.cache.key_prefix, "shop:"),
    ("JADUGAR_CACHE_BACKEND_TIMEOUT", "0.5", lambda o: o.cache.backend_timeout, 0.5),
    ("JADUGAR_READ_ONLY", "true", lambda o: o.read_only, True),
]


ENCRYPTION_VARIABLES = {
    "JADUGAR_ENCRYPTION_KEYS",
    "JADUGAR_ENCRYPTION_KEY_ID",
    "JADUGAR_BLIND_INDEX_KEY",
}


@pytest.mark.parametrize(("name", "value", "read", "expected"), ENV_CASES)
def test_every_environment_variable(
    name: str, value: str, read: Callable[[DatabaseOptions], object], expected: object
) -> None:
    assert name in ENVIRONMENT_VARIABLES
    default = read(DatabaseOptions())
    assert default != expected, "the case must change something"
    env = {name: value}
    if name == "JADUGAR_REPLICAS":  # replicas need a server (SQLite, the default, has none)
        env["DATABASE_URL"] = "postgresql://primary/app"
    assert read(DatabaseOptions.from_env(env)) == expected


def test_the_table_covers_every_option_and_every_case_is_tested() -> None:
    def leaves(model: type[pydantic.BaseModel], prefix: str = "") -> set[str]:
        found: set[str] = set()
        for name, info in model.model_fields.items():
            nested: object = info.annotation
            if isinstance(nested, types.UnionType):  # EncryptionOptions | None
                nested = next(a for a in typing.get_args(nested) if a is not type(None))
            if isinstance(nested, type) and issubclass(nested, pydantic.BaseModel):
                found |= leaves(nested, f"{prefix}{name}.")
            else:
                found.add(prefix + name)
        return found

    code_only = {"session_variables"}  # a function: no environment variable can hold it
    options = leaves(DatabaseOptions) - code_only
    assert {spec.option for spec in ENVIRONMENT_VARIABLES.values()} == options
    tested = {name for name, *_ in ENV_CASES} | {"JADUGAR_ENGINE", "JADUGAR_DATABASE_URL"}
    tested.add("DATABASE_URL")
    tested |= ENCRYPTION_VARIABLES  # together only: tests/unit/test_encryption.py
    assert tested == set(ENVIRONMENT_VARIABLES)
    assert all(spec.description for spec in ENVIRONMENT_VARIABLES.values())


def test_engine_from_the_environment() -> None:
    env = {"JADUGAR_ENGINE": "mysql", "DATABASE_URL": "mariadb://root@h/db"}
    assert DatabaseOptions.from_env(env).engine == "mysql"
    error = config_error(
        lambda: DatabaseOptions.from_env({**env, "DATABASE_URL": "postgresql://u@h/db"})
    )
    assert error.field == "engine" and str(error).startswith("JADUGAR_ENGINE: ")
    assert config_error(lambda: DatabaseOptions.from_env({"JADUGAR_ENGINE": "mysql"})).field == (
        "url"
    )


def test_replicas_split_only_between_urls() -> None:
    env = {
        "DATABASE_URL": "mongodb://a/app",
        "JADUGAR_REPLICAS": "mongodb://r1,r2:27018/app?replicaSet=rs,mongodb://r3/app,",
    }
    replicas = DatabaseOptions.from_env(env).replicas
    assert [r.get_secret_value() for r in replicas] == [
        "mongodb://r1,r2:27018/app?replicaSet=rs",
        "mongodb://r3/app",
    ]


def test_overrides_win_per_option() -> None:
    env = {"JADUGAR_POOL_MIN": "2", "JADUGAR_POOL_MAX": "8", "JADUGAR_TIMEOUT": "5"}
    options = DatabaseOptions.from_env(env, pool=PoolOptions(max=4), timeout=1)
    assert (options.pool.min, options.pool.max, options.timeout) == (2, 4, 1)
    as_dict = DatabaseOptions.from_env(env, pool={"min": 1})
    assert (as_dict.pool.min, as_dict.pool.max) == (1, 8)


def test_environment_errors_name_the_variable() -> None:
    error = config_error(lambda: DatabaseOptions.from_env({"JADUGAR_POOL_MIN": "lots"}))
    assert error.field == "pool.min"
    assert str(error).startswith("JADUGAR_POOL_MIN: ")
    url_error = config_error(
        lambda: DatabaseOptions.from_env({"DATABASE_URL": f"postgres://app:{ENCODED}@h:0/db"})
    )
    assert url_error.field == "url" and str(url_error).startswith("DATABASE_URL: ")
    assert_no_canary(str(url_error))


# --- secrets ---------------------------------------------------------------------------------


def test_the_password_never_shows() -> None:
    options = DatabaseOptions(url=PG_URL, replicas=[PG_URL.replace("db.example", "replica")])
    assert options.connect_params().password == CANARY  # the driver gets the real one
    assert options.reveal_url() == PG_URL
    for text in (
        repr(options),
        str(options),
        str(options.model_dump()),
        repr(options.model_dump()),
        options.model_dump_json(),
        json.dumps(options.model_dump(mode="json")),
        options.url_masked,
        repr(options.connect_params()),
        repr(options.url),
        str(options.replicas),
    ):
        assert_no_canary(text)
    assert options.url_masked == "postgresql://app:***@db.example:6543/shop"


def test_a_dump_round_trips_but_a_masked_json_dump_is_refused() -> None:
    options = DatabaseOptions(url=PG_URL, pool_size=5)
    assert DatabaseOptions.model_validate(options.model_dump()) == options
    error = config_error(lambda: DatabaseOptions.model_validate_json(options.model_dump_json()))
    assert "mask" in str(error)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: DatabaseOptions(url=PG_URL, engine="mysql"),
        lambda: DatabaseOptions(url=PG_URL.replace("6543", "70000")),
        lambda: DatabaseOptions(url=PG_URL.replace("postgresql", "postgre")),
        lambda: DatabaseOptions(url=PG_URL + "?sslmode=sometimes"),
        lambda: DatabaseOptions(url=PG_URL, pool={"min": -1}),
        lambda: DatabaseOptions(url=PG_URL, timeout=PG_URL),  # type: ignore[arg-type]
        lambda: DatabaseOptions(url=PG_URL, secret=PG_URL),  # type: ignore[call-arg]
        lambda: DatabaseOptions(url=PG_URL, replicas=[PG_URL.replace("postgresql", "mysql")]),
        lambda: DatabaseOptions(url=PG_URL, replicas=[PG_URL, 5]),  # type: ignore[list-item]
        lambda: DatabaseOptions(url=PG_URL).connect_params("mysql://app:" + ENCODED + "@h/db"),
        lambda: DatabaseOptions(url=f"postgresql://app:{CANARY}@h/db"),
        lambda: DatabaseOptions.model_validate_json(json.dumps({"url": PG_URL, "pool_size": 0})),
        lambda: DatabaseOptions.from_env({"JADUGAR_DATABASE_URL": PG_URL, "JADUGAR_TIMEOUT": "x"}),
    ],
)
def test_no_error_shows_the_password(factory: Callable[[], object]) -> None:
    error = config_error(factory)
    assert error.field
    assert_no_canary(str(error))
    assert error.__context__ is None or isinstance(error.__context__, ConfigurationError)


def test_replica_connect_params() -> None:
    options = DatabaseOptions(
        url="postgresql://u@primary/db", replicas=["postgresql://u@r1:6000/db"]
    )
    params = options.connect_params(options.replicas[0])
    assert (params.host, params.port) == ("r1", 6000)
    assert options.connect_params("postgresql://u@r2/db").host == "r2"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("mysql://h/db?password=pw&x=1", "mysql://h/db?password=***&x=1"),
        ("postgresql://u:p/w@h/db", "postgresql://u:***@h/db"),
        ("u:pw@h/db", "u:***@h/db"),
        ("sqlite:///app.db", "sqlite:///app.db"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_redact_every_form_of_a_secret() -> None:
    text = f"a {CANARY} b {ENCODED} c {ENCODED_LOWER_HEX} d {json.dumps(CANARY)} e {CANARY!r}"
    cleaned = redact(text, [CANARY])
    assert_no_canary(cleaned)
    assert cleaned.startswith("a *** b *** c *** d ")
    assert redact("nothing here", ["", "zzz"]) == "nothing here"


def test_secret_url_and_secrets() -> None:
    url = SecretUrl(PG_URL)
    assert str(url) == url.masked and CANARY not in repr(url)
    assert url == SecretUrl(PG_URL) and hash(url) == hash(SecretUrl(PG_URL))
    options = DatabaseOptions(url=pydantic.SecretStr(PG_URL))
    assert options.url == url
    assert CANARY in options.secrets()
    assert_no_canary(redact(f"driver said: bad password {CANARY}", options.secrets()))


def test_the_typed_constructor_matches_the_fields() -> None:
    """``DatabaseOptions.__init__`` for type checkers lists exactly the model's fields."""
    module = ast.parse(inspect.getsource(config_module))
    (cls,) = [n for n in module.body if isinstance(n, ast.ClassDef) and n.name == "DatabaseOptions"]
    inits = [
        n for node in ast.walk(cls) if isinstance(node, ast.If)
        for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"
    ]  # fmt: skip
    assert len(inits) == 1
    assert [a.arg for a in inits[0].args.kwonlyargs] == list(DatabaseOptions.model_fields)
