"""Read-only managers (``DatabaseOptions(read_only=True)``): every write is refused on the
client, before it reaches the server, with a ``ReadOnlyError`` naming the operation and the
table. The server is told too, as a second line (``session_sql``), so a write the client
cannot recognise (a function with side effects called from a SELECT) still fails there.
Behind a connection pooler (PgBouncer) that second line is not set (runtime/manager.py):
the session setting would stay on the pooler's server connection, for its other clients;
there the role's own ``default_transaction_read_only`` is the server's guard.

``ensure_writable`` is the check by name; ``raw_write`` classifies raw SQL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import ReadOnlyError

if TYPE_CHECKING:
    from .session_host import SessionHost


def ensure_writable(manager: SessionHost, operation: str, table: str | None = None) -> None:
    """Raise ``ReadOnlyError`` when ``manager`` is read-only; ``operation`` (``"insert"``,
    ``"Post.save()"``, ``"migrate"``…) and ``table`` name what was refused."""
    if manager.options.read_only:
        raise refused(manager, operation, table)


def refused(
    manager: SessionHost,
    operation: str,
    table: str | None = None,
    *,
    where: str | None = None,
    hint: str | None = None,
) -> ReadOnlyError:
    """The error for a write refused on ``manager``, or on ``where`` (a read replica, say)
    with its own ``hint``."""
    target = where or f"the database manager {manager.options.url_masked}"
    if hint is None:
        return ReadOnlyError(operation, table, target)
    return ReadOnlyError(operation, table, target, hint)


def ensure_raw_read(manager: SessionHost, sql: str) -> None:
    """For a read-only session: raw SQL is refused unless ``raw_write`` finds it a read."""
    write = raw_write(sql)
    if write is not None:
        operation, table = write
        raise refused(manager, f"raw SQL {operation}", table)


# ---- classifying raw SQL --------------------------------------------------------------

# A statement is a read when it starts with one of these words and no word of _WRITES
# appears outside literals and comments. Conservative: a read that mentions a write word
# (``SELECT ... FOR UPDATE``, a CTE that deletes) is refused; a function with side effects
# called from a SELECT is not recognised (the server's read-only session refuses it).
_READS = frozenset(
    ("select", "with", "values", "show", "explain", "describe", "desc", "table", "pragma")
)
_WRITES = re.compile(
    r"\b(insert|update|delete|merge|upsert|replace\s+into|create|drop|alter|truncate|rename"
    r"|grant|revoke|copy|call|do|lock|into|for\s+(?:key\s+)?share|nextval|setval|vacuum|reindex"
    r"|attach|detach|analyze|load\s+data)\b",
    re.IGNORECASE,
)
_HIDDEN = re.compile(
    r"'(?:[^']|'')*'"  # string literals
    r"|\"(?:[^\"]|\"\")*\""  # quoted identifiers (strings on MySQL)
    r"|`[^`]*`"  # MySQL identifiers
    r"|\$([A-Za-z_]*)\$.*?\$\1\$"  # PostgreSQL dollar quoting
    r"|--[^\n]*"  # comments
    r"|/\*.*?\*/",
    re.DOTALL,
)
_FIRST_WORD = re.compile(r"[\s(]*([A-Za-z]+)")
_TARGET = re.compile(
    r"\b(?:insert\s+(?:ignore\s+)?into|replace\s+into|update|delete\s+from|truncate(?:\s+table)?"
    r"|(?:create|drop|alter)\s+(?:temporary\s+|temp\s+)?(?:table|index|view)"
    r"(?:\s+if\s+(?:not\s+)?exists)?)\s+([A-Za-z_][\w.]*)",
    re.IGNORECASE,
)


def raw_write(sql: str) -> tuple[str, str | None] | None:
    """``None`` when ``sql`` is a plain read, else (what makes it a write, the table it
    writes when it can be told): ``raw_write("DELETE FROM t")`` is ``("delete", "t")``."""
    text = _HIDDEN.sub(" ", sql)
    first = _FIRST_WORD.match(text)
    head = first.group(1).lower() if first else ""
    found = _WRITES.search(text)
    if head in _READS and found is None and not (head == "pragma" and "=" in text):
        return None
    word = " ".join(found.group(1).lower().split()) if found else head or "statement"
    target = _TARGET.search(text)
    return word, target.group(1) if target else None


# ---- the server's second line ----------------------------------------------------------

_SESSION_SQL = {
    "postgres": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "sqlite": "PRAGMA query_only = ON",
}


def session_sql(dialect: str) -> str | None:
    """The statement making a new connection read-only on the server (``None``: no such
    setting, as on MongoDB)."""
    return _SESSION_SQL.get(dialect)


__all__ = ["ensure_raw_read", "ensure_writable", "raw_write", "refused", "session_sql"]
