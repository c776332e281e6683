"""Rows as COPY's text format, a chunk at a time (``COPY … FROM STDIN``, tab-separated).

Used only where a value's text is read back by the server exactly as asyncpg's binary
encoding would have sent it: an int into an integer, numeric or float8 column, a float
(17 significant digits) into float8, a str into a text type, a bool, Decimal, UUID or date
into its own type. Anything else (a datetime, whose naive values asyncpg reads as local
time, bytes, JSON, a subclass, a value in another type's column) makes the encoders decline,
and the rows go by the binary COPY instead, with its own checks and errors.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

from ...query.row_chunks import ColumnKind

NULL = "\\N"
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_BOOL = {True: "t", False: "f"}

# the text of one value of each type (exact types: the rows were checked before)
_FORMS: dict[type, Callable[[Any], str]] = {
    int: int.__repr__,
    float: "%.17g".__mod__,  # 17 significant digits: exact, and faster than repr
    bool: _BOOL.__getitem__,
    decimal.Decimal: decimal.Decimal.__str__,
    uuid.UUID: uuid.UUID.__str__,
    datetime.date: datetime.date.isoformat,
}

# the same texts as printf codes, for a whole chunk formatted in one call
_CODES: dict[type, str] = {int: "%d", float: "%.17g", bool: "%d"}

# the server column types (asyncpg's type names) each Python type may be written into
_TARGETS: dict[type, frozenset[str]] = {
    int: frozenset({"int2", "int4", "int8", "numeric", "float8"}),
    float: frozenset({"float8"}),
    str: frozenset({"text", "varchar", "bpchar", "name", "citext"}),
    bool: frozenset({"bool"}),
    decimal.Decimal: frozenset({"numeric"}),
    uuid.UUID: frozenset({"uuid"}),
    datetime.date: frozenset({"date"}),
}

Column = Callable[[Sequence[Any]], Iterable[str]]
Encoder = Callable[[list[tuple[Any, ...]]], bytes]


def _escape(value: str) -> str:
    return value.translate(_ESCAPED) if _SPECIAL.search(value) else value


def _strings(values: Sequence[str]) -> Sequence[str]:
    # one search over the joined column: most columns hold nothing to escape
    if _SPECIAL.search("".join(values)) is None:
        return values
    return [_escape(v) for v in values]


def _nullable(form: Callable[[Any], str]) -> Column:
    def texts(values: Sequence[Any]) -> list[str]:
        return [NULL if v is None else form(v) for v in values]

    return texts


def _column(kind: ColumnKind) -> Column:
    """The texts of a column of ``kind`` (a type of ``_TARGETS``)."""
    if kind.type is str:
        return _nullable(_escape) if kind.nullable else _strings
    form = _FORMS[kind.type]
    if kind.nullable:
        return _nullable(form)
    return lambda values: map(form, values)


def _tail_text(tail: tuple[Any, ...], targets: tuple[str, ...]) -> str | None:
    """The text the constant tail adds to every line, or None when a value has no exact
    text form here (an aware datetime into timestamptz has: its ISO form keeps the offset)."""
    parts: list[str] = []
    for value, target in zip(tail, targets, strict=True):
        if value is None:
            parts.append(NULL)
        elif type(value) is datetime.datetime:
            if value.utcoffset() is None or target != "timestamptz":
                return None
            parts.append(value.isoformat())
        elif target not in _TARGETS.get(type(value), ()):
            return None
        else:  # a _TARGETS type: str or one of _FORMS
            parts.append(_escape(value) if type(value) is str else _FORMS[type(value)](value))
    return "".join("\t" + part for part in parts)


def chunk_encoder(
    kinds: tuple[ColumnKind | None, ...], tail: tuple[Any, ...], targets: tuple[str, ...]
) -> Encoder | None:
    """A function from a chunk of rows (without the tail) to its COPY text, or None when
    a column's values have no exact text form in its server type (``targets``)."""
    width = len(kinds) - len(tail)
    columns: list[Column] = []
    codes: list[str] = []
    nullable = False
    for kind, target in zip(kinds[:width], targets[:width], strict=True):
        if kind is None or target not in _TARGETS.get(kind.type, ()):
            return None
        columns.append(_column(kind))
        codes.append(_CODES.get(kind.type, "%s"))
        nullable = nullable or kind.nullable
    tail_text = _tail_text(tail, targets[width:])
    if tail_text is None:
        return None
    line_end = tail_text + "\n"
    line = "\t".join(codes) + line_end.replace("%", "%%")
    tabs = line.count("\t")

    def by_column(chunk: list[tuple[Any, ...]]) -> str:
        texts = [
            column(values) for column, values in zip(columns, zip(*chunk, strict=True), strict=True)
        ]
        return line_end.join(map("\t".join, zip(*texts, strict=True))) + line_end

    def encode(chunk: list[tuple[Any, ...]]) -> bytes:
        # the common case in one C call: no NULLs, nothing to escape (the text then holds
        # exactly the tabs and line ends the format put there, and no backslash or CR)
        count = len(chunk)
        values = tuple(chain.from_iterable(chunk))
        if not (nullable and None in values):
            text = (line * count) % values
            if (
                text.count("\t") == tabs * count
                and text.count("\n") == count
                and "\\" not in text
                and "\r" not in text
            ):
                return text.encode()
        return by_column(chunk).encode()

    return encode
