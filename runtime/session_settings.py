"""Per-transaction session variables for PostgreSQL row-level security.

``DatabaseOptions(session_variables=fn)``: ``fn()`` (usually reading a context variable)
gives ``{"app.tenant_id": "7"}``, run as ``SELECT set_config(name, value, true)`` at the
start of every transaction. A statement outside a transaction runs in a short transaction
of its own, so the setting is local to it and ends with it: a pooled connection never
carries one user's setting to the next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .dialects.base import DriverConnection
    from .session_host import SessionHost

T = TypeVar("T")


def current(manager: SessionHost) -> Mapping[str, str] | None:
    """The variables to set now, or ``None`` when there are none."""
    source = manager.options.session_variables
    if source is None:
        return None
    values = source()
    if not isinstance(values, Mapping):
        raise ConfigurationError(
            f"session_variables must return a mapping of name to str, got {values!r}",
            field="session_variables",
        )
    return values or None


async def apply(manager: SessionHost, conn: DriverConnection) -> None:
    """Set the current variables on ``conn``, inside the transaction it has just begun."""
    values = current(manager)
    if values is not None:
        await set_local(conn, values)


async def set_local(conn: DriverConnection, values: Mapping[str, str]) -> None:
    params: list[str] = []
    calls: list[str] = []
    for name, value in _checked(values):
        params += (name, value)
        calls.append(f"set_config(${len(params) - 1}, ${len(params)}, true)")
    await conn.execute(f"SELECT {', '.join(calls)}", params, None)


def _checked(values: Mapping[str, str]) -> list[tuple[str, str]]:
    for name, value in values.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ConfigurationError(
                f"session_variables: {name!r}={value!r}: names and values must be str "
                "(set_config takes text; convert numbers with str())",
                field="session_variables",
            )
        if "\0" in name or "\0" in value:
            raise ConfigurationError(
                f"session_variables: {name!r} holds a NUL character, which text cannot",
                field="session_variables",
            )
    return list(values.items())


def _literal(text: str) -> str:
    """``text`` as a PostgreSQL escape-string literal, whatever
    ``standard_conforming_strings`` says: backslashes and quotes doubled."""
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


async def run_in_short_transaction(
    manager: SessionHost,
    conn: DriverConnection,
    call: Callable[[DriverConnection], Awaitable[T]],
) -> T:
    """``call(conn)`` with the current variables set, in a transaction of its own (or
    directly when there are none). On failure the pool rolls the transaction back."""
    values = current(manager)
    if values is None:
        return await call(conn)
    # one round trip: BEGIN and the settings as one script (literals, no parameters)
    calls = ", ".join(
        f"set_config({_literal(name)}, {_literal(value)}, true)" for name, value in _checked(values)
    )
    begin = manager.dialect.compiler.begin_sql(None, manager.options.read_only)
    await conn.execute_script("; ".join([*begin, f"SELECT {calls}"]), None)
    result = await call(conn)
    await conn.execute_script("COMMIT", None)
    return result


__all__ = ["apply", "current", "run_in_short_transaction", "set_local"]
