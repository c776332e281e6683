"""MySQL/MariaDB migration lock.

A plain server: ``GET_LOCK``, owned by the session that took it (on a connection of its
own), so it ends with the session if the process dies.

A Galera node (``wsrep_on`` is ON): ``GET_LOCK`` is local to one node, so two migrators on
two nodes would both get it. The lock is a row instead, in ``jadugar_migration_lock``
(created on first use, InnoDB: Galera replicates InnoDB only):

    name (primary key) | owner (random token) | node | taken_at | expires_at

Taking it is an autocommit ``INSERT`` of the row; on Galera that statement's commit is
certified against every node's, so of two migrators inserting at the same moment on two
nodes exactly one succeeds and the other gets a deadlock (1213, the certification
conflict) or a duplicate key: either way it waits and tries again. A row whose
``expires_at`` has passed belongs to a dead holder and is taken over with an ``UPDATE …
WHERE expires_at < now`` (certified the same way). The holder pushes ``expires_at``
forward every ``heartbeat`` seconds (``ttl / 3``) from a task of its own, so a long
migration keeps the lock and a holder that dies loses it ``ttl`` seconds (30 by default)
after its last beat. Releasing deletes the row, if it is still ours. Times are the
servers' (``UTC_TIMESTAMP(6)``): keep the nodes' clocks in sync (NTP), within a fraction
of ``ttl``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from ...errors import IntegrityError, SerializationError
from ..locks import LockHost, SessionLock, wait_for

if TYPE_CHECKING:
    from ..base import DriverConnection

log = logging.getLogger("jadugar.migrations")

LOCK_TABLE = "jadugar_migration_lock"
DEFAULT_TTL = 30.0
_RELEASE_TRIES = 5


def _key(name: str) -> str:
    return f"jadugar:{name}"[:64]


async def is_galera(conn: DriverConnection) -> bool:
    """True when the server is a Galera cluster node (``wsrep_on`` ON); False on plain
    MariaDB/MySQL (MySQL has no such variable: no row)."""
    rows = await conn.fetch("SHOW VARIABLES LIKE 'wsrep_on'", (), None)
    return any(str(row.get("Value", "")).upper() == "ON" for row in rows)


class MySQLLock:
    """``MigrationLock`` for MySQL/MariaDB: ``GET_LOCK`` on a plain server, a certified
    lock row on a Galera cluster (see the module docstring)."""

    def __init__(
        self, ttl: float = DEFAULT_TTL, heartbeat: float | None = None, table: str = LOCK_TABLE
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be > 0, got {ttl}")
        self.ttl = ttl
        self.heartbeat = heartbeat if heartbeat is not None else ttl / 3
        if not 0 < self.heartbeat < ttl:
            raise ValueError(f"heartbeat must be > 0 and < ttl ({ttl}), got {self.heartbeat}")
        self.table = table

    @asynccontextmanager
    async def hold(self, manager: LockHost, name: str, timeout: float) -> AsyncIterator[None]:
        conn = await manager.open_connection()
        try:
            galera = await is_galera(conn)
            if galera:
                async with self._row_lock(manager, conn, name, timeout):
                    yield
        finally:
            await conn.close()
        if not galera:  # GET_LOCK, on a connection of its own (SessionLock opens it)
            async with _SESSION_LOCK.hold(manager, name, timeout):
                yield

    # ---- a Galera node: a certified row ---------------------------------------------------

    def _sql(self, text: str) -> str:
        return text.replace("{table}", f"`{self.table}`")

    def _expiry(self) -> str:
        return f"UTC_TIMESTAMP(6) + INTERVAL {int(self.ttl * 1_000_000):d} MICROSECOND"

    async def ensure_table(self, conn: DriverConnection) -> None:
        await conn.execute_script(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {table} (name VARCHAR(64) NOT NULL PRIMARY KEY,"
                " owner VARCHAR(64) NOT NULL, node VARCHAR(255) NULL,"
                " taken_at DATETIME(6) NOT NULL, expires_at DATETIME(6) NOT NULL)"
                " ENGINE=InnoDB"
            ),
            None,
        )

    async def try_take(self, conn: DriverConnection, key: str, owner: str) -> bool:
        """One attempt, autocommit (so certified by the cluster when it returns)."""
        try:
            await conn.execute(
                self._sql(
                    "INSERT INTO {table} (name, owner, node, taken_at, expires_at)"
                    f" VALUES (%s, %s, @@wsrep_node_name, UTC_TIMESTAMP(6), {self._expiry()})"
                ),
                (key, owner),
                None,
            )
            return True
        except SerializationError:
            return False  # another node's insert was certified first
        except IntegrityError as exc:
            if exc.kind != "unique":
                raise
        try:  # a row exists: take it over if its holder stopped renewing it
            result = await conn.execute(
                self._sql(
                    "UPDATE {table} SET owner = %s, node = @@wsrep_node_name,"
                    f" taken_at = UTC_TIMESTAMP(6), expires_at = {self._expiry()}"
                    " WHERE name = %s AND expires_at < UTC_TIMESTAMP(6)"
                ),
                (owner, key),
                None,
            )
        except SerializationError:
            return False
        if result.row_count == 1:
            log.warning(
                "migration lock %r: took over a lock whose holder stopped renewing it "
                "(expired; ttl %gs)",
                key,
                self.ttl,
            )
            return True
        return False

    async def renew(self, conn: DriverConnection, key: str, owner: str) -> bool:
        """Push ``expires_at`` on; False when the row is no longer ``owner``'s."""
        result = await conn.execute(
            self._sql(
                f"UPDATE {{table}} SET expires_at = {self._expiry()} WHERE name = %s AND owner = %s"
            ),
            (key, owner),
            None,
        )
        return result.row_count == 1

    async def release(self, conn: DriverConnection, key: str, owner: str) -> None:
        for attempt in range(1, _RELEASE_TRIES + 1):
            try:
                await conn.execute(
                    self._sql("DELETE FROM {table} WHERE name = %s AND owner = %s"),
                    (key, owner),
                    None,
                )
                return
            except SerializationError:
                if attempt == _RELEASE_TRIES:
                    raise
                await asyncio.sleep(0.05 * attempt)

    @asynccontextmanager
    async def _row_lock(
        self, manager: LockHost, conn: DriverConnection, name: str, timeout: float
    ) -> AsyncIterator[None]:
        key = _key(name)
        owner = uuid.uuid4().hex
        await self.ensure_table(conn)

        async def try_once() -> bool:
            return await self.try_take(conn, key, owner)

        await wait_for(try_once, name, timeout)  # MigrationLockError after timeout
        link = _Link(manager, conn)
        beat = asyncio.create_task(self._beat(link, key, owner))
        try:
            yield
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            try:
                await self.release(await link.get(), key, owner)
            finally:
                await link.close_opened()

    async def _beat(self, link: _Link, key: str, owner: str) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                held = await self.renew(await link.get(), key, owner)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a failed beat: try again at the next one
                log.warning("migration lock %r heartbeat failed: %s", key, exc)
                continue
            if not held:
                log.error("migration lock %r was lost (expired and taken over) while held", key)
                return


class _Link:
    """The lock row's connection: reopened (on another node, with several hosts) when it
    broke, since the node it was on may be gone. ``hold`` closes the first one."""

    def __init__(self, manager: LockHost, conn: DriverConnection) -> None:
        self.manager = manager
        self.conn = conn
        self.opened: list[DriverConnection] = []

    async def get(self) -> DriverConnection:
        if self.conn.broken:
            self.conn = await self.manager.open_connection()
            self.opened.append(self.conn)
        return self.conn

    async def close_opened(self) -> None:
        for conn in self.opened:
            await conn.close()


_SESSION_LOCK = SessionLock(
    "SELECT GET_LOCK(%s, 0) AS taken", "SELECT RELEASE_LOCK(%s) AS released", _key
)


def mysql_lock() -> MySQLLock:
    return MySQLLock()
