"""Raw SQL's ``$n`` / ``?`` placeholders -> a dialect's, skipping quoted strings,
identifiers and comments (``raw()``, ``where_raw()``, ``convert_placeholders``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .compile_base import CompilerBase

_PLACEHOLDER_RE = re.compile(
    r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|--[^\n]*|/\*.*?\*/|\$\d+|\?)""",
    re.DOTALL,
)
# MySQL string literals also end only at an unescaped quote, and "#" starts a comment
_PLACEHOLDER_BACKSLASH_RE = re.compile(
    r"""('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`(?:[^`]|``)*`|--[^\n]*|\#[^\n]*|/\*.*?\*/|\$\d+|\?)""",
    re.DOTALL,
)


def _convert_placeholders(
    compiler: CompilerBase, sql: str, params: tuple[Any, ...], offset: int = 0
) -> tuple[str, tuple[Any, ...]]:
    out: list[str] = []
    ordered: list[Any] = []
    used: set[int] = set()
    position = 0
    last = 0
    style: str | None = None
    pattern = _PLACEHOLDER_BACKSLASH_RE if compiler.backslash_escapes else _PLACEHOLDER_RE
    for match in pattern.finditer(sql):
        token = match.group(0)
        if token[0] not in "$?":
            continue
        if token == "?":
            if style == "$":
                raise ValueError("raw SQL mixes $n and ? placeholders")
            style = "?"
            if position >= len(params):
                raise ValueError(f"raw SQL has more placeholders than the {len(params)} params")
            index = position + 1
            position += 1
        else:
            if style == "?":
                raise ValueError("raw SQL mixes $n and ? placeholders")
            style = "$"
            index = int(token[1:])
            if not 1 <= index <= len(params):
                raise ValueError(f"raw SQL uses {token} but only {len(params)} params were given")
        used.add(index)
        out.append(compiler.escape_percent(sql[last : match.start()]))
        ordered.append(params[index - 1])
        out.append(compiler.placeholder(offset + len(ordered)))
        last = match.end()
    if len(used) != len(params):
        raise ValueError(
            f"raw SQL uses {len(used)} of the {len(params)} params given: every param needs "
            f"a placeholder ($n or ?)"
        )
    out.append(compiler.escape_percent(sql[last:]))
    return "".join(out), tuple(ordered)
