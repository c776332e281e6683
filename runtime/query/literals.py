"""SQL literals for display and logs (``qb.escape``, ``qb.format``). Never used to build
statements that run: values are always bound parameters."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

_PLACEHOLDER = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\$\d+|\?|%s|%%)""")
_PLACEHOLDER_BACKSLASH = re.compile(
    r"""('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`(?:[^`]|``)*`|\$\d+|\?|%s|%%)"""
)


def escape(value: Any, *, backslash_escapes: bool = False) -> str:
    """A SQL literal for ``value``: quotes doubled, NUL refused."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, enum.Enum):
        return escape(value.value, backslash_escapes=backslash_escapes)
    if isinstance(value, int | float | decimal.Decimal):
        if isinstance(value, float) and value != value:  # NaN
            return "'NaN'"
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            return "'Infinity'" if value > 0 else "'-Infinity'"
        return repr(value) if isinstance(value, int | float) else str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "X'" + bytes(value).hex().upper() + "'"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return (
            "'" + value.isoformat(sep=" ") + "'"
            if isinstance(value, datetime.datetime)
            else ("'" + value.isoformat() + "'")
        )
    if isinstance(value, datetime.timedelta):
        return f"'{value.total_seconds()} seconds'"
    if isinstance(value, uuid.UUID):
        return f"'{value}'"
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("a SQL string literal cannot contain a NUL byte")
        text = value.replace("'", "''")
        if backslash_escapes:
            text = text.replace("\\", "\\\\")
        return "'" + text + "'"
    raise TypeError(f"cannot write a {type(value).__name__} as a SQL literal")


def format_sql(
    sql: str, params: Sequence[Any], *, backslash_escapes: bool = False, pyformat: bool = False
) -> str:
    """Inline ``params`` into ``sql`` (placeholders $n, ? or %s) for display only. With
    ``pyformat`` (MySQL's compiled SQL) a doubled ``%%`` is shown as the server sees it."""
    position = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal position
        token = match.group(0)
        if token == "%%":
            return "%" if pyformat else token
        if token[0] in "'\"`":
            return token.replace("%%", "%") if pyformat else token
        if token.startswith("$"):
            index = int(token[1:]) - 1
        else:
            index = position
            position += 1
        if not 0 <= index < len(params):
            raise ValueError(f"format(): placeholder {token} has no parameter")
        return escape(params[index], backslash_escapes=backslash_escapes)

    pattern = _PLACEHOLDER_BACKSLASH if backslash_escapes else _PLACEHOLDER
    return pattern.sub(replace, sql)
