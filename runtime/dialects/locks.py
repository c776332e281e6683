"""The migration lock every dialect provides: held around migrate and rollback so that two
processes never apply the same migration; released when its holder dies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from ..errors import MigrationLockError

if TYPE_CHECKING:
    from ..config import DatabaseOptions
    from .base import DriverConnection

POLL = 0.1  # seconds between tries while another process holds the lock


class LockHost(Protocol):
    """What a migration lock uses of the manager it is held for (``DatabaseManager``)."""

    @property
    def options(self) -> DatabaseOptions: ...

    async def open_connection(self) -> DriverConnection: ...


class MigrationLock(Protocol):
    def hold(
        self, manager: LockHost, name: str, timeout: float
    ) -> AbstractAsyncContextManager[None]: ...


async def wait_for(try_once: Callable[[], Awaitable[bool]], name: str, timeout: float) -> None:
    """Call ``try_once`` until it takes the lock; ``MigrationLockError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not await try_once():
        if time.monotonic() >= deadline:
            raise MigrationLockError(
                f"could not take the migration lock {name!r} within {timeout:g} s: another "
                "process is migrating; try again when it is done"
            )
        await asyncio.sleep(POLL)


class SessionLock:
    """A lock owned by a server session (MySQL ``GET_LOCK``), taken on a connection of its
    own, so it ends with the session if the process dies. (PostgreSQL's is transaction
    level, which also holds behind a transaction pooler: postgres/lock.py.)"""

    def __init__(self, take: str, release: str, key: Callable[[str], object]) -> None:
        self._take, self._release, self._key = take, release, key

    @asynccontextmanager
    async def hold(self, manager: LockHost, name: str, timeout: float) -> AsyncIterator[None]:
        conn = await manager.open_connection()
        key = self._key(name)
        taken = False
        try:

            async def try_once() -> bool:
                rows = await conn.fetch(self._take, (key,), None)
                return bool(rows and next(iter(rows[0].values())))

            await wait_for(try_once, name, timeout)
            taken = True
            yield
        finally:
            try:
                if taken:
                    await conn.fetch(self._release, (key,), None)
            finally:
                await conn.close()
