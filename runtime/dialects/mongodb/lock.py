"""The MongoDB migration lock: one lock document per name in ``jadugar_locks``.

    {"_id": "migrations", "owner": "<random token>", "expires_at": <UTC datetime>}

Taking it is one atomic ``find_one_and_update({"_id": name, "expires_at": {"$lt": now}},
{"$set": {owner, expires_at}}, upsert=True)``: it updates an expired lock, inserts a new
one when there is none, and fails with a duplicate key when a live one exists (the upsert
collides with its ``_id``). The holder renews ``expires_at`` every ``heartbeat`` seconds;
a holder that dies stops renewing, so its lock expires after ``ttl`` seconds (30 by default)
and the next migrator takes it over. Releasing deletes the document (only if still ours).

Expiry compares the clients' clocks (UTC): keep the machines' clocks in sync, within a
fraction of ``ttl``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import inspect
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..locks import LockHost, wait_for
from .connection import document_connection
from .errors import is_duplicate_key, translate

log = logging.getLogger("jadugar.migrations")

LOCK_COLLECTION = "jadugar_locks"
DEFAULT_TTL = 30.0


def _now() -> datetime.datetime:
    # naive UTC: what BSON dates come back as (no tz_aware client option)
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class MongoMigrationLock:
    """``MigrationLock`` for MongoDB: a lock document with a heartbeat."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        heartbeat: float | None = None,
        collection: str = LOCK_COLLECTION,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be > 0, got {ttl}")
        self.ttl = ttl
        self.heartbeat = heartbeat if heartbeat is not None else ttl / 3
        if not 0 < self.heartbeat < ttl:
            raise ValueError(f"heartbeat must be > 0 and < ttl ({ttl}), got {self.heartbeat}")
        self.collection = collection

    def _collection(self, manager: LockHost) -> Any:
        conn = document_connection(manager)
        return conn.client[conn.database][self.collection]

    async def try_take(self, manager: LockHost, name: str, owner: str) -> bool:
        """One attempt: True when the lock is now ``owner``'s."""
        now = _now()
        expires = now + datetime.timedelta(seconds=self.ttl)
        try:
            document = await _maybe_await(
                self._collection(manager).find_one_and_update(
                    {"_id": name, "expires_at": {"$lt": now}},
                    {"$set": {"owner": owner, "expires_at": expires, "taken_at": now}},
                    upsert=True,
                    return_document=True,  # ReturnDocument.AFTER
                )
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                return False  # held by a live holder
            raise translate(exc, f"{self.collection}.find_one_and_update") from exc
        return document is not None and document.get("owner") == owner

    async def renew(self, manager: LockHost, name: str, owner: str) -> bool:
        """Push ``expires_at`` on; False when the lock is no longer ``owner``'s."""
        expires = _now() + datetime.timedelta(seconds=self.ttl)
        result = await _maybe_await(
            self._collection(manager).update_one(
                {"_id": name, "owner": owner}, {"$set": {"expires_at": expires}}
            )
        )
        return int(result.matched_count) == 1

    async def release(self, manager: LockHost, name: str, owner: str) -> None:
        await _maybe_await(self._collection(manager).delete_one({"_id": name, "owner": owner}))

    async def _beat(self, manager: LockHost, name: str, owner: str) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                if not await self.renew(manager, name, owner):
                    log.error(
                        "migration lock %r was lost (expired and taken over) while held", name
                    )
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a failed beat: try again at the next one
                log.warning("migration lock %r heartbeat failed: %s", name, exc)

    @asynccontextmanager
    async def hold(self, manager: LockHost, name: str, timeout: float) -> AsyncIterator[None]:
        owner = uuid.uuid4().hex

        async def try_once() -> bool:
            return await self.try_take(manager, name, owner)

        await wait_for(try_once, name, timeout)  # MigrationLockError after timeout
        beat = asyncio.create_task(self._beat(manager, name, owner))
        try:
            yield
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            await self.release(manager, name, owner)
