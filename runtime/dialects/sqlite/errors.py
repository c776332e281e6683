"""sqlite3 / aiosqlite exceptions -> ``jadugar.errors``, in one table.

Duck-typed on ``sqlite_errorname`` (Python 3.11+) and the message, so importing this module
imports no driver. SQLite messages name the table and column but carry no values; bound
values that show up anyway are redacted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import (
    DatabaseConnectionError,
    IntegrityError,
    JadugarError,
    QueryError,
    QueryTimeoutError,
    SerializationError,
)
from ..failures import redact_values as redact

# message prefix -> constraint kind (the part after ": " names the constraint)
_CONSTRAINT_PREFIXES = (
    ("UNIQUE constraint failed", "unique"),
    ("FOREIGN KEY constraint failed", "foreign_key"),
    ("NOT NULL constraint failed", "not_null"),
    ("CHECK constraint failed", "check"),
)
_ERRORNAME_KINDS = {
    "SQLITE_CONSTRAINT_UNIQUE": "unique",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key",
    "SQLITE_CONSTRAINT_NOTNULL": "not_null",
    "SQLITE_CONSTRAINT_CHECK": "check",
}
_KIND_WORDS = {
    "unique": "unique constraint",
    "foreign_key": "foreign key constraint",
    "not_null": "not-null constraint",
    "check": "check constraint",
}
_CONNECTION_ERRORNAMES = ("SQLITE_CANTOPEN", "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_IOERR")
_CLOSED_MESSAGES = (
    "Cannot operate on a closed database",
    "Connection closed",
    "no active connection",
)


def translate(
    exc: BaseException, sql: str | None, params: Sequence[Any] | None = None
) -> JadugarError:
    """Map a sqlite3/aiosqlite exception to the Jadugar error tree (``raise … from exc``)."""
    if isinstance(exc, JadugarError):
        return exc
    message = redact(str(exc), params)
    errorname: str | None = getattr(exc, "sqlite_errorname", None)
    errorname = errorname if isinstance(errorname, str) else None
    code = errorname

    kind = _ERRORNAME_KINDS.get(errorname or "")
    constraint: str | None = None
    for prefix, prefix_kind in _CONSTRAINT_PREFIXES:
        if message.startswith(prefix):
            kind = kind or prefix_kind
            rest = message[len(prefix) :].lstrip(": ").strip()
            constraint = rest or None
            break
    if kind is not None or type(exc).__name__ == "IntegrityError":
        what = _KIND_WORDS.get(kind or "", "constraint")
        text = f"{what} failed" + (f": {constraint}" if constraint else "")
        return IntegrityError(text, sql=sql, code=code, orig=exc, constraint=constraint, kind=kind)

    if errorname is not None:
        if errorname.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return SerializationError(
                f"database is locked (another connection holds the write lock): {message}",
                sql=sql,
                code=code,
                orig=exc,
            )
        if errorname == "SQLITE_INTERRUPT":
            return QueryTimeoutError(
                "statement interrupted (timeout or cancellation)", sql=sql, code=code, orig=exc
            )
        if errorname.startswith(_CONNECTION_ERRORNAMES):
            return DatabaseConnectionError(f"SQLite database unusable: {message}")
    else:
        lowered = message.lower()
        if "database is locked" in lowered or "database table is locked" in lowered:
            return SerializationError(message, sql=sql, code="SQLITE_BUSY", orig=exc)
        if lowered == "interrupted":
            return QueryTimeoutError(
                "statement interrupted (timeout or cancellation)",
                sql=sql,
                code="SQLITE_INTERRUPT",
                orig=exc,
            )
    if message.startswith(_CLOSED_MESSAGES):
        return DatabaseConnectionError(f"SQLite connection is closed or unusable: {message}")
    return QueryError(message, sql=sql, code=code, orig=exc)


def connect_error(exc: BaseException, where: str) -> DatabaseConnectionError:
    """A failure while opening ``where`` (a ConnectParams.describe())."""
    return DatabaseConnectionError(f"could not open {where}: {exc}")
