"""Fixtures for the MongoDB driver tests.

``mongo``: a connected ``MongoConnection`` and unique collection names, parametrized:

- ``mongomock``: always; the in-process stand-in behind ``mongomock://<unique name>``;
- ``server-motor`` / ``server-pymongo``: the same tests against a server over the wire,
  through each client: the server ``JADUGAR_MONGODB_URL`` names (e.g.
  ``mongodb://127.0.0.1:27017/jadugar_test``) or, when it is not set, an NX-27017
  wire-protocol server that ``wire_server.py`` starts for the session on a free loopback
  port. Without the ``nx-27017`` package they are skipped, and under ``CI=true`` they fail.

So a test's id says where it ran: ``test_find_sort_skip_limit[mongomock]``.

``@emulator_gap("...")`` marks what NX-27017 cannot emulate: on the server variants, and
only when the server is NX-27017 (its ``buildInfo`` says so), the test becomes
``xfail(strict=True)``; against a real MongoDB it must pass, and mongomock never xfails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest

from jadugar.config import DatabaseOptions
from jadugar.dialects.mongodb.driver import (
    ClientKind,
    MongoConnection,
    MongoDriver,
    drop_mongomock_store,
)

from . import wire_server

SERVER_URL_VARIABLE = "JADUGAR_MONGODB_URL"
TARGETS = ("mongomock", "server-motor", "server-pymongo")
GAP_MARK = "emulator_gap"


@dataclass
class Mongo:
    """A connected MongoDB connection for one test, and where it runs."""

    conn: MongoConnection
    target: str
    prefix: str
    used: list[str] = field(default_factory=list)

    @property
    def on_mongomock(self) -> bool:
        return self.target == "mongomock"

    def collection(self, name: str) -> str:
        """A collection name unique to this test (dropped afterwards on a real server)."""
        full = f"{self.prefix}_{name}"
        self.used.append(full)
        return full


@dataclass
class Server:
    """The server of the session's server variants."""

    url: str
    started_here: bool  # by wire_server.py, not named by JADUGAR_MONGODB_URL
    emulator: bool | None = None  # NX-27017? known after the first connection


def server_url() -> str | None:
    return os.environ.get(SERVER_URL_VARIABLE, "").strip() or None


def emulator_gap(what: str) -> pytest.MarkDecorator:
    """What NX-27017 cannot emulate: ``xfail(strict=True)`` on the server variants when the
    server is NX-27017 (see the module docstring)."""
    return pytest.mark.emulator_gap(reason=f"{wire_server.EMULATOR} cannot emulate {what}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{GAP_MARK}(reason): xfail(strict=True) on the MongoDB server variants when the "
        f"server is {wire_server.EMULATOR}",
    )


_session_server: Server | None = None  # for the terminal summary
_skip_reason: str | None = None


@pytest.fixture(scope="session")
def mongodb_server() -> Iterator[Server]:
    """``JADUGAR_MONGODB_URL``'s server, or an NX-27017 started for the session."""
    global _session_server, _skip_reason
    url = server_url()
    if url is not None:
        _session_server = Server(url=url, started_here=False)
        yield _session_server
        return
    if not wire_server.installed():
        reason = (
            f"{SERVER_URL_VARIABLE} is not set and the {wire_server.EMULATOR} package is "
            "not installed (pip install -e '.[dev]'): no MongoDB server for the "
            "real-server variants (the mongomock variant ran)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the server variants are required)", pytrace=False)
        _skip_reason = reason
        pytest.skip(reason)
    try:
        with wire_server.running() as server:
            _session_server = Server(url=server.url, started_here=True, emulator=True)
            yield _session_server
    except wire_server.WireServerUnavailable as exc:
        pytest.fail(f"could not start {wire_server.EMULATOR}: {exc}", pytrace=False)


async def connect(target: str, server: Server | None, name: str) -> MongoConnection:
    if target == "mongomock":
        params = DatabaseOptions(url=f"mongomock://{name}").connect_params()
        return await MongoDriver().connect(params)
    assert server is not None
    options = DatabaseOptions(url=server.url, pool_size=5)
    driver: ClientKind = "motor" if target == "server-motor" else "pymongo"
    return await MongoDriver(driver).connect(options.connect_params(), options.pool)


async def mark_emulator_gaps(
    request: pytest.FixtureRequest, server: Server, conn: MongoConnection
) -> None:
    """On NX-27017, turn this test's ``emulator_gap`` marks into strict xfails."""
    if server.emulator is None:
        server.emulator = wire_server.is_emulator(await conn.client.admin.command("buildInfo"))
    if not server.emulator:
        return
    for mark in request.node.iter_markers(GAP_MARK):
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=mark.kwargs["reason"]))


@pytest.fixture(params=TARGETS)
async def mongo(request: pytest.FixtureRequest) -> AsyncIterator[Mongo]:
    target: str = request.param
    name = f"jt_{uuid.uuid4().hex[:12]}"
    server: Server | None = None
    if target != "mongomock":
        server = request.getfixturevalue("mongodb_server")
    conn = await connect(target, server, name)
    case = Mongo(conn=conn, target=target, prefix=name)
    try:
        if server is not None:
            await mark_emulator_gaps(request, server, conn)
        yield case
    finally:
        if case.on_mongomock:
            drop_mongomock_store(name)
        elif not conn.broken:
            database = conn.client[conn.database]
            for collection in case.used:
                await database.drop_collection(collection)
        await conn.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    server = _session_server
    if server is None:
        if _skip_reason is not None:
            terminalreporter.write_line(f"MongoDB server variants skipped: {_skip_reason}")
        return
    if server.started_here:
        where = f"{wire_server.EMULATOR} {wire_server.version()} started at {server.url}"
    else:
        where = f"{SERVER_URL_VARIABLE}'s server"
        if server.emulator:
            where += f" ({wire_server.EMULATOR})"
    terminalreporter.write_line(f"MongoDB server variants ran against {where}")
