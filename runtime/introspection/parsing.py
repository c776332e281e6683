"""Reading the bits of SQL text catalogs report: literal defaults, the IN lists of enum
checks, expressions compared loosely. Shared by the engines' readers and by drift."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from .model import LiteralValue, LiveColumn, LiveDefault, Skipped

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<string>[eEnN]?'(?:[^'\\]|''|\\.)*')
    |(?P<ident>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
    |(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<cast>::)
    |(?P<word>[^\W\d][\w$]*)
    |(?P<op>.)""",
    re.VERBOSE | re.DOTALL,
)
# A PostgreSQL cast at the end of a default: ::text, ::character varying, ::"Mood",
# ::numeric(10,2), ::text[]
_TRAILING_CAST = re.compile(
    r'::(?:"(?:[^"]|"")+"|[A-Za-z_][\w ]*?)(?:\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])*\s*$'
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

NOW_WORDS = frozenset(
    {
        "now()",
        "current_timestamp",
        "current_timestamp()",
        "transaction_timestamp()",
        "localtimestamp",
        "localtimestamp()",
        "statement_timestamp()",
        "datetime('now')",
        "clock_timestamp()",
    }
)
UUID_WORDS = frozenset({"gen_random_uuid()", "uuid_generate_v4()", "uuid()", "uuid_v4()"})


def only(column: str, tables: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    """`` AND <column> IN (?, ...)`` and its parameters, to read only ``tables`` (None:
    every table, no condition)."""
    if tables is None:
        return "", ()
    names = tuple(dict.fromkeys(tables))
    if not names:
        return " AND 1 = 0", ()
    return f" AND {column} IN ({', '.join('?' for _ in names)})", names


def tokens(sql: str) -> list[tuple[str, str]]:
    """(kind, text) pairs, spaces left out: string, ident, number, cast, word, op."""
    found = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "op"
        if kind != "space":
            found.append((kind, match.group()))
    return found


def unquote_string(text: str, *, backslashes: bool = False) -> str:
    """``'it''s'`` -> ``it's`` (with ``backslashes``, MySQL's ``\\'`` and ``\\n`` too)."""
    if text[:1] in "eEnN" and text[1:2] == "'":
        text = text[1:]
    inner = text[1:-1]
    if backslashes:
        escapes = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "Z": "\x1a", "b": "\b"}
        inner = re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), inner)
    return inner.replace("''", "'")


def unquote_ident(text: str) -> str:
    if text[:1] == '"':
        return text[1:-1].replace('""', '"')
    if text[:1] == "`":
        return text[1:-1].replace("``", "`")
    return text


def strip_parens(text: str) -> str:
    """``((x + 1))`` -> ``x + 1``: only parentheses that enclose the whole text."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _encloses(text):
        text = text[1:-1].strip()
    return text


def _encloses(text: str) -> bool:
    depth = 0
    quote: str | None = None
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
            continue
        if char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def strip_casts(text: str) -> str:
    """``'draft'::text`` -> ``'draft'``; ``('-1'::integer)`` -> ``'-1'``."""
    text = strip_parens(text)
    while True:
        stripped = _TRAILING_CAST.sub("", text)
        if stripped == text:
            return text
        text = strip_parens(stripped)


def literal(text: str, *, backslashes: bool = False) -> tuple[bool, LiteralValue | None]:
    """(True, value) when ``text`` is one literal: a quoted text, a number, true/false or
    NULL (value None); (False, None) for anything else."""
    text = strip_parens(text)
    found = tokens(text)
    if len(found) == 1:
        kind, token = found[0]
        if kind == "string":
            return True, unquote_string(token, backslashes=backslashes)
        if kind == "number":
            return True, number(token)
        if kind == "word" and token.lower() in ("true", "false"):
            return True, token.lower() == "true"
        if kind == "word" and token.lower() == "null":
            return True, None
    if len(found) == 2 and found[0] == ("op", "-") and found[1][0] == "number":
        value = number(found[1][1])
        return True, -value
    return False, None


def number(text: str) -> int | Decimal:
    """``42`` -> 42, ``1.50`` -> Decimal("1.50")."""
    text = text.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    return Decimal(text)


def is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text.strip()) is not None


def classify_default(text: str, *, backslashes: bool = False) -> LiveDefault | None:
    """A default as the catalog reports it -> ``LiveDefault`` (None: no default, or
    DEFAULT NULL). Casts and enclosing parentheses are looked through."""
    bare = strip_casts(text)
    lower = " ".join(bare.lower().split())
    if lower in ("", "null"):
        return None
    is_literal, value = literal(bare, backslashes=backslashes)
    if is_literal:
        return None if value is None else LiveDefault("literal", text, value)
    squeezed = re.sub(r"\(\s*\d*\s*\)$", "()", lower)  # current_timestamp(6) -> ()
    if lower in NOW_WORDS or squeezed in NOW_WORDS:
        return LiveDefault("now", text)
    if lower in UUID_WORDS:
        return LiveDefault("uuid", text)
    return LiveDefault("sql", text)


def to_kind(value: LiteralValue, kind: str) -> LiteralValue | None:
    """A literal default as a value of a field of schema type ``kind``; None when it does
    not read as one (``'abc'`` for an int). Types without literals in a schema file (date,
    uuid, json...) keep the text."""
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "t", "yes", "y", "on"):
                return True
            if text in ("0", "false", "f", "no", "n", "off"):
                return False
            return None
        if kind in ("int", "bigint", "smallint"):
            if isinstance(value, bool):
                return None
            number_value = Decimal(str(value).strip())
            if number_value != number_value.to_integral_value():
                return None
            return int(number_value)
        if kind in ("decimal", "float"):
            if isinstance(value, bool):
                return None
            decimal = Decimal(str(value).strip())
            return decimal if decimal.is_finite() else None
        # str, text, enum, and the types a schema file has no literal of (their text)
        return value if isinstance(value, str) else str(value)
    except (InvalidOperation, ValueError):
        return None


def in_list(expression: str) -> tuple[str, tuple[str, ...]] | None:
    """``"status" IN ('a', 'b')`` or PostgreSQL's ``(status)::text = ANY ((ARRAY['a'::text,
    'b'::text])::text[])`` -> ("status", ("a", "b")); None for any other expression."""
    found = [t for t in tokens(strip_parens(expression)) if t not in (("op", "("), ("op", ")"))]
    found = _without_casts(found)
    if not found or found[0][0] not in ("ident", "word"):
        return None
    column = unquote_ident(found[0][1])
    rest = found[1:]
    if rest and rest[0][0] == "word" and rest[0][1].upper() == "IN":
        items = rest[1:]
    elif (
        len(rest) >= 3
        and rest[0] == ("op", "=")
        and rest[1][1].upper() == "ANY"
        and rest[2][1].upper() == "ARRAY"
    ):
        items = [t for t in rest[3:] if t not in (("op", "["), ("op", "]"))]
    else:
        return None
    values: list[str] = []
    expect_value = True
    for kind, text in items:
        if expect_value and kind == "string":
            values.append(unquote_string(text))
            expect_value = False
        elif not expect_value and (kind, text) == ("op", ","):
            expect_value = True
        else:
            return None
    return (column, tuple(values)) if values and not expect_value else None


def _without_casts(found: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Tokens with PostgreSQL casts (``::character varying``, ``::text[]``) left out."""
    out: list[tuple[str, str]] = []
    skipping = False
    for kind, text in found:
        if kind == "cast":
            skipping = True
            continue
        if skipping:
            if kind in ("word", "ident") or text in ("[", "]"):
                continue
            skipping = False
        out.append((kind, text))
    return out


def same_expression(a: str, b: str) -> bool:
    """Whether two SQL expressions read the same once quoting of names, casts, enclosing
    parentheses, spaces and letter case are looked through."""
    return _squeeze(a) == _squeeze(b)


def _squeeze(text: str) -> str:
    found = [t for t in tokens(text) if t not in (("op", "("), ("op", ")"))]
    out = []
    for kind, token in _without_casts(found):
        if kind == "ident":
            out.append(unquote_ident(token).lower())
        elif kind == "string":
            out.append(token)
        else:
            out.append(token.lower())
    return " ".join(out)


def unsupported_columns(table: str, columns: Sequence[LiveColumn]) -> list[Skipped]:
    """The columns of ``table`` of a type no schema field has, each named with why."""
    return [
        Skipped("column", f"{table}.{c.name}", c.unsupported or "unsupported")
        for c in columns
        if c.kind is None
    ]
