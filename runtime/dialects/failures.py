"""The one way every driver reports a connection that could not be opened."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import DatabaseConnectionError
from ..masking import redact

_TLS_HINT = (
    "; the server's certificate was not trusted: set ssl_root_cert to its CA file (PEM), "
    "or use ssl='require' to encrypt without verifying"
)
_HOSTNAME_HINT = "; the certificate does not name this host: connect with a name it lists"


def connection_failed(where: str, reason: str, password: str | None) -> DatabaseConnectionError:
    """``could not connect to <where>: <reason>``, password removed, with a hint for TLS."""
    if password:
        reason = redact(reason, [password])
    lowered = reason.lower()
    if "certificate verify failed" in lowered:
        reason += _HOSTNAME_HINT if "mismatch" in lowered else _TLS_HINT
    return DatabaseConnectionError(f"could not connect to {where}: {reason}")


def redact_values(message: str, params: Sequence[Any] | None) -> str:
    """A server message with the bound string values (3+ characters) it quotes removed:
    errors carry the SQL, never the parameters."""
    if params:
        for value in params:
            if isinstance(value, str) and len(value) >= 3 and value in message:
                message = message.replace(value, "<value>")
    return message
