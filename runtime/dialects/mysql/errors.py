"""PyMySQL/aiomysql exceptions -> ``jadugar.errors``, in one table keyed by errno.

Duck-typed on ``exc.args == (errno, message)`` and class names, so importing this module
imports no driver. MySQL quotes rejected values in several messages (``Duplicate entry
'a@b.c' for key …``, ``Incorrect integer value: 'abc' …``): those messages are rebuilt or
stripped so no value reaches the text; the server's message stays on ``.orig``.
"""

from __future__ import annotations

import os
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

_DUPLICATE = frozenset({1062, 1586})  # ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
_FOREIGN_KEY = frozenset({1451, 1452, 1216, 1217})  # parent / child row (new and old codes)
_NOT_NULL = frozenset({1048, 1364})  # column cannot be null / field has no default
_CHECK = frozenset({3819, 4025})  # MySQL 8 / MariaDB check constraint
# deadlock / lock wait timeout; on Galera, a certification conflict (another node committed
# a write to the same rows first) or a brute-force abort by a replicated write is 1213 too,
# often on COMMIT: the whole transaction can be retried
_SERIALIZATION = frozenset({1213, 1205})
# 1047 "WSREP has not yet prepared node for application use": a Galera node that left the
# primary component (or is still joining); its connections are no use until it is back
_WSREP_NOT_READY = 1047
# 1969 MariaDB max_statement_time, 3024 MySQL max_execution_time, 1317 query interrupted
_TIMEOUT = frozenset({1969, 3024, 1317})
# client-side CR_* errors and server errors that end the session
_CONNECTION = frozenset(
    {
        2002,  # CR_CONNECTION_ERROR
        2003,  # CR_CONN_HOST_ERROR
        2005,  # CR_UNKNOWN_HOST
        2006,  # CR_SERVER_GONE_ERROR
        2013,  # CR_SERVER_LOST
        2014,  # CR_COMMANDS_OUT_OF_SYNC
        2055,  # CR_SERVER_LOST_EXTENDED
        1040,  # ER_CON_COUNT_ERROR (too many connections)
        1045,  # ER_ACCESS_DENIED_ERROR
        1044,  # ER_DBACCESS_DENIED_ERROR
        1049,  # ER_BAD_DB_ERROR
        1053,  # ER_SERVER_SHUTDOWN
        1129,  # ER_HOST_IS_BLOCKED
        1130,  # ER_HOST_NOT_PRIVILEGED
        1927,  # ER_CONNECTION_KILLED (MariaDB)
        4031,  # ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
    }
)
_KEY_NAME = re.compile(r"for key '([^']*)'\s*$")
_FK_NAME = re.compile(r"CONSTRAINT `([^`]*)`")
_CHECK_NAME = re.compile(r"(?:CONSTRAINT|[Cc]heck constraint) [`']([^`']*)[`']")
_COLUMN_NAME = re.compile(r"^(?:Column|Field) '([^']*)'")
# "Incorrect integer value: 'abc' for column …", "Truncated incorrect DOUBLE value: 'x'"
_QUOTED_VALUE = re.compile(r"(value|entry|string): '.*?'(?= for | at |\s*$)", re.DOTALL)


def error_code(exc: BaseException) -> int | None:
    """The MySQL errno of a PyMySQL exception, ``None`` for anything else."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return args[0]
    return None


def _server_message(exc: BaseException) -> str:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[1], str):
        return args[1]
    return str(exc) or type(exc).__name__


def is_connection_error(exc: BaseException) -> bool:
    """True when ``exc`` means the connection is gone or cannot be trusted."""
    if isinstance(exc, OSError | EOFError | ConnectionError) and not isinstance(exc, TimeoutError):
        return True
    name = type(exc).__name__
    if name == "InterfaceError":  # PyMySQL: not connected / already closed
        return True
    code = error_code(exc)
    if code in _CONNECTION:
        return True
    if code == _WSREP_NOT_READY and "WSREP" in _server_message(exc):
        return True  # a Galera node outside the primary component: use another node
    # packet sequence errors and other protocol confusion
    return name == "InternalError" and "Packet sequence" in str(exc)


def translate(
    exc: BaseException, sql: str | None, params: Sequence[Any] | None = None
) -> JadugarError:
    """Map a PyMySQL/aiomysql exception to the Jadugar error tree (``raise … from exc``)."""
    if isinstance(exc, JadugarError):
        return exc
    code = error_code(exc)
    code_text = str(code) if code is not None else None
    raw_message = _server_message(exc)

    if code in _DUPLICATE:
        match = _KEY_NAME.search(raw_message)
        key = match.group(1) if match else None
        if key and "." in key:
            key = key.rpartition(".")[2]  # MySQL 8 says 'table.key'
        text = f"duplicate value for unique key {key}" if key else "duplicate value"
        return IntegrityError(
            text, sql=sql, code=code_text, orig=exc, constraint=key, kind="unique"
        )
    if code in _FOREIGN_KEY:
        match = _FK_NAME.search(raw_message)
        name = match.group(1) if match else None
        side = (
            "a parent row is still referenced"
            if code in (1451, 1217)
            else ("the referenced parent row does not exist")
        )
        text = (
            f"foreign key constraint {name} fails: {side}"
            if name
            else (f"foreign key constraint fails: {side}")
        )
        return IntegrityError(
            text, sql=sql, code=code_text, orig=exc, constraint=name, kind="foreign_key"
        )
    if code in _NOT_NULL:
        match = _COLUMN_NAME.search(raw_message)
        column = match.group(1) if match else None
        text = f"column {column} cannot be null" if column else "a column cannot be null"
        return IntegrityError(
            text, sql=sql, code=code_text, orig=exc, constraint=column, kind="not_null"
        )
    if code in _CHECK:
        match = _CHECK_NAME.search(raw_message)
        name = match.group(1) if match else None
        text = f"check constraint {name} failed" if name else "check constraint failed"
        return IntegrityError(
            text, sql=sql, code=code_text, orig=exc, constraint=name, kind="check"
        )

    message = redact(_QUOTED_VALUE.sub(r"\1: <value>", raw_message), params)
    if code in _SERIALIZATION:
        return SerializationError(message, sql=sql, code=code_text, orig=exc)
    if code in _TIMEOUT:
        return QueryTimeoutError(
            f"statement cancelled on the server: {message}", sql=sql, code=code_text, orig=exc
        )
    if isinstance(exc, TimeoutError):
        return QueryTimeoutError(
            "statement ran past its timeout and was killed on the server", sql=sql, orig=exc
        )
    if is_connection_error(exc):
        return DatabaseConnectionError(f"MySQL connection lost or unusable: {message}")
    if type(exc).__name__ == "IntegrityError":
        return IntegrityError(message, sql=sql, code=code_text, orig=exc)
    return QueryError(message, sql=sql, code=code_text, orig=exc)


def failure_reason(exc: BaseException) -> str:
    """Why connecting failed, in a few words: ``timed out``, or the message and code."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    code = error_code(exc)
    reason = _server_message(exc)
    cause = exc.__cause__  # "Can't connect to MySQL server on '…'" from ConnectionRefusedError
    if isinstance(cause, OSError) and cause.errno:
        reason = f"{reason}: {os.strerror(cause.errno)}"
    return f"{reason} [code {code}]" if code is not None else reason


def connect_error(
    exc: BaseException, where: str, password: str | None = None
) -> DatabaseConnectionError:
    """A failure while connecting to ``where`` (a ConnectParams.describe())."""
    return connection_failed(where, failure_reason(exc), password)
