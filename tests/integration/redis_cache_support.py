"""What the Redis query cache tests share: the shared server's address, servers of a
test's own (a ``redis-server`` to kill and restart, a proxy that cuts the link), worker
processes (cache_worker.py), and small helpers."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
import redis

from jadugar import DatabaseManager

SHARED_REDIS = ("127.0.0.1", int(os.environ.get("JADUGAR_TEST_REDIS_PORT", "6379")))
WORKER = Path(__file__).with_name("cache_worker.py")


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: Redis is required)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Statements:
    """Counts the statements a manager sends: a cached read sends none."""

    def __init__(self, db: DatabaseManager) -> None:
        self.sql: list[str] = []
        db.on("query", lambda event: self.sql.append(event["sql"]))

    def take(self) -> int:
        count = len(self.sql)
        self.sql.clear()
        return count


async def fill(db: DatabaseManager, table: str) -> None:
    await db.query.table(table).insert_many([{"n": n, "label": f"label {n}"} for n in range(1, 4)])


def by_id(db: DatabaseManager, table: str) -> Callable[[], Awaitable[list[dict[str, Any]]]]:
    """The workers' cached read, in this process."""
    return db.query.table(table).order_by("id").cache().all


async def uncached(db: DatabaseManager, table: str) -> str:
    return repr(await db.query.table(table).order_by("id").all())


# ---- worker processes ---------------------------------------------------------------------


class Worker:
    """A cache_worker.py process: its own DatabaseManager, the same Redis."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, args: list[str], log: Path) -> Worker:
        with log.open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(WORKER),
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
            )
        worker = cls(process)
        ready = await worker._answer()
        assert ready == {"ready": True}, ready
        return worker

    async def call(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()
        return await self._answer()

    async def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        async with asyncio.timeout(60):
            line = await self.process.stdout.readline()
        assert line, f"the worker exited ({self.process.returncode}); see its stderr log"
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def stop(self) -> None:
        if self.process.returncode is None:
            with suppress(AssertionError, OSError, TimeoutError):
                await self.call(op="quit")
            try:
                async with asyncio.timeout(20):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


StartWorkers = Callable[[int, str], Awaitable[list[Worker]]]


class OwnRedis:
    """A redis-server of this test's own, nothing on disk, to kill and restart."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


class Partition:
    """A TCP proxy to a Redis that can cut the link: while cut, whatever the client sends
    is dropped, unanswered (a network partition; the server keeps its data)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.cut = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def __aenter__(self) -> Partition:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _link(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        if self.cut:
            await self._pipe(client, None)  # a link opened during the cut: a black hole
            return
        server, to_server = await asyncio.open_connection("127.0.0.1", self.target)
        for task in (self._pipe(client, to_server), self._pipe(server, to_client)):
            self._tasks.add(asyncio.create_task(task))

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter | None) -> None:
        try:
            while data := await source.read(65536):
                if sink is not None and not self.cut:
                    sink.write(data)
                    await sink.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if sink is not None:
                sink.close()
