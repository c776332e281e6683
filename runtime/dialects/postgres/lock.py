"""PostgreSQL migration lock: a transaction-level advisory lock, taken in a transaction
that stays open on a connection of its own for the whole migration run.

Why not a session-level lock (``pg_advisory_lock``): it belongs to the server session, and
behind a transaction pooler (PgBouncer ``pool_mode = transaction``) the server session
changes after every transaction. The lock would stay on a server connection that the
pooler hands to other clients (a second migrator landing there takes it again: a session
holds its own advisory locks re-entrantly), and the unlock would run on another server
connection, releasing nothing. An open transaction keeps its server connection under any
pooler, so ``pg_try_advisory_xact_lock`` inside it holds until the ``ROLLBACK`` at the end,
or until the connection ends: a holder that dies leaves its transaction to be aborted by
the server (directly) or by PgBouncer closing a server connection whose client left in
mid-transaction. The same code runs with and without a pooler.

A try that finds the lock taken is rolled back, so a waiter holds no server connection
while it sleeps between tries. The lock's transaction sits idle while migrations run on
the pool's connections, so it turns off, for itself only, the server timeouts that would
end an idle transaction (``idle_in_transaction_session_timeout``, and
``transaction_timeout`` where the server has it). A session-level lock and a
transaction-level lock on the same key exclude each other, so a process of an older
Jadugar holding the session lock still keeps this one out (same key).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..locks import LockHost, wait_for

_TAKE = (
    "SELECT pg_try_advisory_xact_lock($1::bigint) AS taken,"
    " (SELECT count(set_config(name, '0', true)) FROM pg_settings"
    "  WHERE name IN ('idle_in_transaction_session_timeout', 'transaction_timeout')) AS untimed"
)


def _key(name: str) -> int:
    return zlib.crc32(f"jadugar:{name}".encode())


class TransactionLock:
    """``pg_try_advisory_xact_lock`` in a transaction held open on its own connection."""

    @asynccontextmanager
    async def hold(self, manager: LockHost, name: str, timeout: float) -> AsyncIterator[None]:
        conn = await manager.open_connection()
        key = _key(name)
        try:

            async def try_once() -> bool:
                await conn.execute_script("BEGIN", None)
                rows = await conn.fetch(_TAKE, (key,), None)
                if rows and rows[0]["taken"]:
                    return True
                await conn.execute_script("ROLLBACK", None)
                return False

            await wait_for(try_once, name, timeout)
            yield
        finally:
            try:
                if conn.in_transaction and not conn.broken:
                    await conn.execute_script("ROLLBACK", None)  # releases the lock
            finally:
                await conn.close()


def postgres_lock() -> TransactionLock:
    return TransactionLock()
