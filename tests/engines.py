"""Which SQL engines the tests run on, and how to reach them.

`JADUGAR_TEST_ENGINES=postgres,sqlite` narrows the set. An unreachable server skips its
tests with the reason, except with `CI=true`, where it fails them.

`pgbouncer` is PostgreSQL again, through a PgBouncer in transaction pooling mode that the
session starts (tests/integration/pgbouncer.py), with `statement_cache=false` in its URL.
Only the modules of `tests.integration.conftest.PGBOUNCER_MODULES` run on it; it is in the
set unless `JADUGAR_TEST_ENGINES` leaves it out.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from jadugar.dialects.base import ConnectParams

ALL_ENGINES = ("postgres", "mysql", "sqlite")
PGBOUNCER = "pgbouncer"  # an engine variant: PostgreSQL through PgBouncer
DIALECTS = {PGBOUNCER: "postgres"}  # a variant's dialect (the engines' are their own)
SERVERS = {
    "postgres": ("127.0.0.1", int(os.environ.get("JADUGAR_TEST_PG_PORT", "5432"))),
    "mysql": ("127.0.0.1", int(os.environ.get("JADUGAR_TEST_MYSQL_PORT", "3306"))),
}
URLS = {
    "postgres": f"postgresql://postgres@127.0.0.1:{SERVERS['postgres'][1]}/test",
    "mysql": f"mysql://root@127.0.0.1:{SERVERS['mysql'][1]}/test",
}


def selected_engines() -> tuple[str, ...]:
    wanted = os.environ.get("JADUGAR_TEST_ENGINES")
    if not wanted:
        return ALL_ENGINES
    return tuple(e.strip() for e in wanted.split(",") if e.strip() in ALL_ENGINES)


def pgbouncer_selected() -> bool:
    wanted = os.environ.get("JADUGAR_TEST_ENGINES")
    return not wanted or PGBOUNCER in {e.strip() for e in wanted.split(",")}


def dialect_of(engine: str) -> str:
    """The dialect an engine (or variant) runs: ``pgbouncer`` -> ``postgres``."""
    return DIALECTS.get(engine, engine)


def route(engine: str, host: str, port: int) -> None:
    """Where a variant's server listens, once its fixture has started it."""
    SERVERS[engine] = (host, port)


def require_server(engine: str) -> None:
    """Skip (or, in CI, fail) when the engine's server cannot be reached."""
    if engine == PGBOUNCER and engine not in SERVERS:
        raise AssertionError("the pgbouncer engine needs the pgbouncer fixture first")
    if engine not in SERVERS:
        return
    host, port = SERVERS[engine]
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        reason = f"{engine} server not reachable at {host}:{port}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: servers are required)")
        pytest.skip(reason)


def connect_params(engine: str, tmp_path: Path | None = None) -> ConnectParams:
    """Raw connection parameters for the test servers (no config layer involved)."""
    require_server(engine)
    if engine in ("postgres", PGBOUNCER):
        host, port = SERVERS[engine]
        return ConnectParams(
            engine="postgres",
            host=host,
            port=port,
            user="postgres",
            database="test",
            statement_cache=engine != PGBOUNCER,
        )
    if engine == "mysql":
        host, port = SERVERS["mysql"]
        return ConnectParams(
            engine="mysql", host=host, port=port, user="root", password="", database="test"
        )
    assert tmp_path is not None, "sqlite needs a tmp_path"
    return ConnectParams(engine="sqlite", path=str(tmp_path / "test.db"))


def url(engine: str, tmp_path: Path | None = None) -> str:
    require_server(engine)
    if engine == "sqlite":
        assert tmp_path is not None, "sqlite needs a tmp_path"
        return f"sqlite:///{tmp_path / 'test.db'}"
    if engine == PGBOUNCER:
        host, port = SERVERS[PGBOUNCER]
        return f"postgresql://postgres@{host}:{port}/test?statement_cache=false"
    return URLS[engine]
