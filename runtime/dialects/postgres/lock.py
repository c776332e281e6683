"""PostgreSQL migration lock: a session-level advisory lock."""

from __future__ import annotations

import zlib

from ..locks import SessionLock


def _key(name: str) -> int:
    return zlib.crc32(f"jadugar:{name}".encode())


def postgres_lock() -> SessionLock:
    return SessionLock(
        "SELECT pg_try_advisory_lock($1::bigint) AS taken",
        "SELECT pg_advisory_unlock($1::bigint) AS released",
        _key,
    )
