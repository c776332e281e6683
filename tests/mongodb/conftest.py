"""Fixtures for the MongoDB driver tests.

``mongo``: a connected ``MongoConnection`` and unique collection names, parametrized:

- ``mongomock``: always; the in-process stand-in behind ``mongomock://<unique name>``;
- ``server-motor`` / ``server-pymongo``: the same tests against a real server through each
  client, when ``JADUGAR_MONGODB_URL`` is set (e.g. ``mongodb://127.0.0.1:27017/jadugar_test``).
  Otherwise they are skipped with the reason, in CI too: there is no MongoDB server there.

So a test's id says where it ran: ``test_find_sort_skip_limit[mongomock]``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from jadugar.config import DatabaseOptions
from jadugar.dialects.mongodb.driver import (
    ClientKind,
    MongoConnection,
    MongoDriver,
    drop_mongomock_store,
)

SERVER_URL_VARIABLE = "JADUGAR_MONGODB_URL"
SKIP_REASON = (
    f"{SERVER_URL_VARIABLE} is not set: no MongoDB server to run the real-server variant "
    "against (the mongomock variant ran)"
)
TARGETS = ("mongomock", "server-motor", "server-pymongo")


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


def server_url() -> str | None:
    return os.environ.get(SERVER_URL_VARIABLE, "").strip() or None


async def connect(target: str, name: str) -> MongoConnection:
    if target == "mongomock":
        params = DatabaseOptions(url=f"mongomock://{name}").connect_params()
        return await MongoDriver().connect(params)
    url = server_url()
    if url is None:
        pytest.skip(SKIP_REASON)
    options = DatabaseOptions(url=url, pool_size=5)
    driver: ClientKind = "motor" if target == "server-motor" else "pymongo"
    return await MongoDriver(driver).connect(options.connect_params(), options.pool)


@pytest.fixture(params=TARGETS)
async def mongo(request: pytest.FixtureRequest) -> AsyncIterator[Mongo]:
    target: str = request.param
    name = f"jt_{uuid.uuid4().hex[:12]}"
    conn = await connect(target, name)
    case = Mongo(conn=conn, target=target, prefix=name)
    try:
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
    if server_url() is None:
        terminalreporter.write_line(f"MongoDB real-server tests skipped: {SKIP_REASON}")
