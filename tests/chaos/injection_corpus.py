"""The hostile inputs of ``test_injection_corpus.py``: text that tries to close a quote,
end a statement, open a comment, smuggle a placeholder or look like a quote to a human,
and non-strings where a name is expected.

``Hostile.value`` is what goes in; ``label`` names it in failure messages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    label: str
    value: object


class LooksLikeSql:
    """An object whose ``str()`` is SQL: must never be turned into text by the runtime."""

    def __str__(self) -> str:
        return "id; DROP TABLE canary; --"

    def __repr__(self) -> str:
        return "LooksLikeSql()"


CANARY_PAYLOADS = (
    "x'; DROP TABLE canary; --",
    'x"; DROP TABLE canary; --',
    "x`; DROP TABLE canary; --",
    "x]; DELETE FROM canary; --",
    "x\\'; UPDATE canary SET n = 0; --",
)
"""Payloads aimed at the canary table; the test puts the real canary's name in place of
``canary`` so that a successful injection would really hit it."""

TEXT: tuple[Hostile, ...] = (
    Hostile("single quote", "'"),
    Hostile("double quote", '"'),
    Hostile("backtick", "`"),
    Hostile("close bracket", "]"),
    Hostile("brackets", "[x]"),
    Hostile("backslash", "\\"),
    Hostile("escaped quote", "\\'"),
    Hostile("backslash backtick", "a\\`b"),
    Hostile("doubled quotes", "''\"\"``"),
    Hostile("NUL", "\x00"),
    Hostile("inner NUL", "a\x00b"),
    Hostile("line comment", "--"),
    Hostile("trailing line comment", "id --"),
    Hostile("block comment", "/*"),
    Hostile("block comment closed", "*/ id /*"),
    Hostile("hash comment", "#"),
    Hostile("semicolon", ";"),
    Hostile("tautology", "' OR '1'='1"),
    Hostile("identifier tautology", 'id" = "id" OR "1'),
    Hostile("backtick tautology", "id` = `id` OR `1"),
    Hostile("union select", "x` UNION SELECT 1, 2, 3 --"),
    Hostile("union select pg", 'x" UNION SELECT 1, 2, 3 --'),
    Hostile("newline statement", "x\n; SELECT 1"),
    Hostile("fullwidth quote", "x\uff07y"),
    Hostile("fullwidth double quote", "x\uff02y"),
    Hostile("smart double quotes", "\u201cx\u201d"),
    Hostile("smart single quote", "x\u2019y"),
    Hostile("modifier apostrophe", "x\u02bcy"),
    Hostile("RTL override", "x\u202eyz"),
    Hostile("zero-width space", "x\u200by"),
    Hostile("zero-width joiner", "\u200d"),
    Hostile("BOM", "\ufeffx"),
    Hostile("dollar placeholder", "$1"),
    Hostile("dollar quoting", "$$x$$"),
    Hostile("question placeholder", "?"),
    Hostile("percent placeholder", "%s"),
    Hostile("percent", "%"),
    Hostile("pyformat placeholder", "%(x)s"),
    Hostile("named placeholder", ":name"),
    Hostile("very long", "x" * 10_000),
    Hostile("very long quotes", "'\"`" * 3_334),
    Hostile("just too long", "y" * 1_025),
    Hostile("dotted", "users.id"),
    Hostile("dotted quote", 'a".b'),
    Hostile("empty part", "a..b"),
    Hostile("leading dot", ".id"),
    Hostile("star", "*"),
    Hostile("qualified star", "users.*"),
    Hostile("empty", ""),
    Hostile("spaces", "   "),
    Hostile("tab newline", "\t\n"),
    Hostile("alias", "id as x"),
    Hostile("function call", "count(*)"),
    Hostile("emoji", "x\U0001f600"),
    *(Hostile(f"canary payload {i}", text) for i, text in enumerate(CANARY_PAYLOADS)),
)

NON_STRINGS: tuple[Hostile, ...] = (
    Hostile("dict", {"id": 1}),
    Hostile("operator dict", {"$ne": None}),
    Hostile("list", ["id", "name"]),
    Hostile("tuple", ("id",)),
    Hostile("set", {"id"}),
    Hostile("bytes", b"id"),
    Hostile("int", 1),
    Hostile("None", None),
    Hostile("object with SQL str", LooksLikeSql()),
    Hostile("bare object", object()),
)

CORPUS: tuple[Hostile, ...] = TEXT + NON_STRINGS
