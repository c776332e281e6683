"""SQLite migration lock: an exclusive ``flock`` on a file beside the database, which the
operating system drops when the holding process dies."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..locks import LockHost, wait_for

_in_memory = asyncio.Lock()


class SQLiteFileLock:
    @asynccontextmanager
    async def hold(self, manager: LockHost, name: str, timeout: float) -> AsyncIterator[None]:
        path = manager.options.connect_params().path
        if not path or path == ":memory:":
            async with _in_memory:  # one process holds a memory database: an in-process lock
                yield
            return
        fd = os.open(f"{path}.{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:

            async def try_once() -> bool:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                return True

            await wait_for(try_once, name, timeout)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
