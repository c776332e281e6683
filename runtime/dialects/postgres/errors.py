"""asyncpg exceptions -> ``jadugar.errors``, in one table keyed by SQLSTATE.

Duck-typed on the attributes asyncpg puts on its exceptions (``sqlstate``,
``constraint_name``, ``column_name``), so importing this module imports no driver.

PostgreSQL's DETAIL line repeats the offending values (``Key (email)=(a@b.c) already
exists``): it is left out of every message and stays reachable on ``.orig`` only.

PgBouncer speaks for itself with messages of its own (``no such database: x``,
``query_wait_timeout``...): ``_POOLER_HINTS`` adds what each means and which
``pgbouncer.ini`` setting is involved, and a prepared statement lost under transaction
pooling says to turn ``statement_cache`` off.
"""

from __future__ import annotations

import re
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
from ..failures import connection_failed
from ..failures import redact_values as redact

_INTEGRITY_KINDS = {
    "23505": "unique",
    "23503": "foreign_key",
    "23502": "not_null",
    "23514": "check",
    "23P01": "exclusion",
}
# 40001 serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available
_SERIALIZATION = frozenset({"40001", "40P01", "55P03"})
# 08 connection exceptions, 57P0x the server going away, 28 bad credentials, 3D000 no db
_CONNECTION_PREFIXES = ("08", "57P01", "57P02", "57P03", "57P04", "28", "3D000")
_CONNECTION_CLASS_NAMES = frozenset(
    {
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "ConnectionRejectionError",
        "ClientCannotConnectError",
        # the protocol is out of step (e.g. after the server ended the session while the
        # connection sat idle): the connection cannot be trusted again
        "InternalClientError",
    }
)
# data exceptions quote the rejected value at the end: invalid input syntax for type
# integer: "abc"
_QUOTED_VALUE = re.compile(r': ".*"$', re.DOTALL)
# asyncpg's own encoding errors: invalid input for query argument $1: 'abc' (reason)
_ARGUMENT_VALUE = re.compile(
    r"^(invalid input for query argument \$\d+): .* \(([^()]*(?:\(\)[^()]*)*)\)$", re.DOTALL
)


# PgBouncer's own error texts (it refuses a client, or closes it with a reason): the part
# that said no, and what to change
_POOLER_HINTS = (
    (
        "no more connections allowed (max_client_conn)",
        "PgBouncer refused the client: its max_client_conn is reached; raise it in "
        "pgbouncer.ini, or open fewer connections (pool.max of every manager and process)",
    ),
    (
        "no such database",
        "PgBouncer has no [databases] entry of that name (and no '*' fallback): the "
        "database in the URL must be a name from the [databases] section of pgbouncer.ini",
    ),
    (
        "no such user",
        "PgBouncer does not know this user: add it to its auth_file, or set auth_user so "
        "it looks users up on the server (auth_query)",
    ),
    (
        '"trust" authentication failed',
        "PgBouncer does not know this user: add it to its auth_file, or set auth_user so "
        "it looks users up on the server (auth_query)",
    ),
    (
        "query_wait_timeout",
        "PgBouncer found no server connection for this client within its query_wait_timeout: "
        "its pool for this database and user (default_pool_size) stayed busy, or the "
        "PostgreSQL server behind it does not answer (see PgBouncer's log)",
    ),
    (
        "pgbouncer cannot connect to server",
        "PgBouncer is up but cannot reach the PostgreSQL server behind it (the host and port "
        "of its [databases] entry, or that server is down)",
    ),
    (
        "server login failed",
        "PgBouncer reached the PostgreSQL server behind it, which refused its login",
    ),
    (
        "idle transaction timeout",
        "PgBouncer's idle_transaction_timeout closed a transaction left idle",
    ),
    ("query_timeout", "PgBouncer's query_timeout ended the statement"),
    ("client_idle_timeout", "PgBouncer closed the idle client (client_idle_timeout)"),
    ("server conn crashed", "the server connection behind PgBouncer broke"),
)
# asyncpg's prepared statements, lost (or doubled) when a transaction pooler moved the
# connection to another server session: 26000 does not exist, 42P05 already exists
_STATEMENT_STATES = frozenset({"26000", "42P05"})
_STATEMENT_HINT = (
    "; the prepared statement was made on another server session: behind a transaction "
    "pooler (PgBouncer pool_mode=transaction) set statement_cache=False "
    "(JADUGAR_STATEMENT_CACHE=false, or ?statement_cache=false in the URL)"
)


def pooler_hint(text: str) -> str:
    """``"; <what PgBouncer meant>"`` when ``text`` is one of its messages, else ``""``."""
    for needle, hint in _POOLER_HINTS:
        if needle in text:
            return f"; {hint}"
    return ""


def _message(exc: BaseException, params: Sequence[Any] | None) -> str:
    # the primary message only: str() of an asyncpg PostgresError appends DETAIL and HINT
    primary = getattr(exc, "message", None)
    text = primary if isinstance(primary, str) and primary else str(exc) or type(exc).__name__
    return redact(text, params)


def is_connection_error(exc: BaseException) -> bool:
    """True when ``exc`` means the connection is gone or unusable."""
    if isinstance(exc, OSError | EOFError) and not isinstance(exc, TimeoutError):
        return True
    if type(exc).__name__ in _CONNECTION_CLASS_NAMES:
        return True
    if type(exc).__name__ == "InterfaceError" and "connection is closed" in str(exc):
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_CONNECTION_PREFIXES)


def translate(
    exc: BaseException, sql: str | None, params: Sequence[Any] | None = None
) -> JadugarError:
    """Map an asyncpg exception to the Jadugar error tree (``raise … from exc``)."""
    if isinstance(exc, JadugarError):
        return exc
    if isinstance(exc, TimeoutError):
        return QueryTimeoutError(
            "statement ran past its timeout and was cancelled on the server",
            sql=sql,
            code="57014",
            orig=exc,
        )
    if is_connection_error(exc):
        message = _message(exc, params)
        return DatabaseConnectionError(
            f"PostgreSQL connection lost or unusable: {message}{pooler_hint(message)}"
        )

    raw_state = getattr(exc, "sqlstate", None)
    sqlstate = raw_state if isinstance(raw_state, str) else None
    message = _message(exc, params)

    kind = _INTEGRITY_KINDS.get(sqlstate or "")
    if kind is not None or (sqlstate or "").startswith("23"):
        constraint = getattr(exc, "constraint_name", None) or None
        if constraint is None and kind == "not_null":
            table = getattr(exc, "table_name", None)
            column = getattr(exc, "column_name", None)
            if column:
                constraint = f"{table}.{column}" if table else str(column)
        return IntegrityError(
            message,
            sql=sql,
            code=sqlstate,
            orig=exc,
            constraint=str(constraint) if constraint else None,
            kind=kind,
        )
    if sqlstate in _SERIALIZATION:
        return SerializationError(message, sql=sql, code=sqlstate, orig=exc)
    if sqlstate == "57014":
        return QueryTimeoutError(
            f"statement cancelled on the server: {message}", sql=sql, code=sqlstate, orig=exc
        )
    if sqlstate is not None and sqlstate.startswith("22"):
        message = _ARGUMENT_VALUE.sub(r"\1 (\2)", message)
        message = _QUOTED_VALUE.sub(": <value>", message)
    if sqlstate in _STATEMENT_STATES and "__asyncpg_stmt_" in message:
        message += _STATEMENT_HINT
    return QueryError(message, sql=sql, code=sqlstate, orig=exc)


def connect_error(
    exc: BaseException, where: str, password: str | None = None
) -> DatabaseConnectionError:
    """A failure while connecting to ``where`` (a ConnectParams.describe())."""
    reason = "timed out" if isinstance(exc, TimeoutError) else (str(exc) or type(exc).__name__)
    return connection_failed(where, reason + pooler_hint(reason), password)
