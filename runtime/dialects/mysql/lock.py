"""MySQL/MariaDB migration lock: ``GET_LOCK``, owned by the session that took it."""

from __future__ import annotations

from ..locks import SessionLock


def _key(name: str) -> str:
    return f"jadugar:{name}"[:64]


def mysql_lock() -> SessionLock:
    return SessionLock(
        "SELECT GET_LOCK(%s, 0) AS taken", "SELECT RELEASE_LOCK(%s) AS released", _key
    )
