"""Reading SQLite's stored schema text (``sqlite_master.sql``): a tokenizer, the items of a
CREATE TABLE, the clauses of a column definition, and identifier renames.

SQLite keeps constraint names, CHECK expressions and column details only in this text, so
the table rebuild edits it item by item and keeps everything it does not change verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<string>'(?:[^']|'')*')
    |(?P<blob>[xX]'[0-9a-fA-F]*')
    |(?P<ident>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    |(?P<number>0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<word>[^\W\d][\w$]*)
    |(?P<op>.)""",
    re.VERBOSE | re.DOTALL,
)
# keywords that start a column constraint
CLAUSES = frozenset(
    {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE"}
    | {"REFERENCES", "GENERATED", "AS"}
)
TABLE_CONSTRAINTS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # string blob ident number word op
    text: str
    start: int
    end: int
    depth: int  # parentheses open before this token

    @property
    def word(self) -> str:
        """The keyword in upper case ("" for anything but a bare word)."""
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str | None:
        """The identifier this token spells, unquoted (None for literals and symbols)."""
        if self.kind == "word":
            return self.text
        if self.kind == "ident":
            q = self.text[0]
            inner = self.text[1:-1]
            return inner if q == "[" else inner.replace(q + q, q)
        return None

    def is_name(self, name: str) -> bool:
        own = self.name
        return own is not None and own.lower() == name.lower()


def tokenize(sql: str) -> list[Tok]:
    out: list[Tok] = []
    depth = 0
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "op"
        if kind == "space":
            continue
        text = match.group()
        if text == ")":
            depth -= 1
        out.append(Tok(kind, text, match.start(), match.end(), depth))
        if text == "(":
            depth += 1
    return out


def splice(sql: str, replacements: dict[int, str], toks: list[Tok]) -> str:
    """``sql`` with the tokens at the given positions replaced."""
    parts: list[str] = []
    last = 0
    for i in sorted(replacements):
        parts.append(sql[last : toks[i].start])
        parts.append(replacements[i])
        last = toks[i].end
    parts.append(sql[last:])
    return "".join(parts)


def parse_create_table(sql: str) -> tuple[list[str], list[str], str]:
    """(column definitions, table constraints, options after the closing parenthesis)."""
    toks = tokenize(sql)
    try:
        first = next(i for i, t in enumerate(toks) if t.text == "(" and t.depth == 0)
        last = next(
            i for i in range(first + 1, len(toks)) if toks[i].text == ")" and toks[i].depth == 0
        )
    except StopIteration:
        raise ValueError(f"cannot read the column list of: {sql[:80]!r}") from None
    items: list[str] = []
    start = first + 1
    for i in range(first + 1, last + 1):
        if i == last or (toks[i].text == "," and toks[i].depth == 1):
            if i > start:
                items.append(sql[toks[start].start : toks[i - 1].end])
            start = i + 1
    columns = [t for t in items if tokenize(t)[0].word not in TABLE_CONSTRAINTS]
    constraints = [t for t in items if tokenize(t)[0].word in TABLE_CONSTRAINTS]
    return columns, constraints, sql[toks[last].end :].strip()


@dataclass(frozen=True, slots=True)
class Clause:
    kind: str  # NOT (NOT NULL), NULL, PRIMARY, UNIQUE, CHECK, DEFAULT, COLLATE, REFERENCES, …
    name: str | None  # CONSTRAINT name
    text: str


def _continues(toks: list[Tok], i: int) -> bool:
    """Whether the keyword at ``i`` belongs to the clause before it (ON DELETE SET NULL,
    DEFAULT NULL, NOT NULL, NOT DEFERRABLE, GENERATED ALWAYS AS)."""
    word, prev = toks[i].word, toks[i - 1].word
    after = toks[i + 1].word if i + 1 < len(toks) else ""
    return (
        (word in ("NULL", "DEFAULT") and prev == "SET")
        or (word == "NULL" and prev in ("DEFAULT", "NOT"))
        or (word == "NOT" and after == "DEFERRABLE")
        or (word == "AS" and prev == "ALWAYS")
    )


def split_column(text: str) -> tuple[str, str, list[Clause]]:
    """A column definition → (name, type text, constraint clauses)."""
    toks = tokenize(text)
    name = toks[0].name or toks[0].text
    starts: list[int] = []
    for i in range(1, len(toks)):
        if toks[i].depth != 0 or toks[i].word not in CLAUSES or _continues(toks, i):
            continue
        if starts and toks[starts[-1]].word == "CONSTRAINT" and i - starts[-1] <= 2:
            continue  # CONSTRAINT name <the constraint it names>
        starts.append(i)
    type_end = starts[0] if starts else len(toks)
    type_text = text[toks[1].start : toks[type_end - 1].end] if type_end > 1 else ""
    clauses: list[Clause] = []
    for n, s in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(toks)
        named = toks[s].word == "CONSTRAINT" and s + 2 < len(toks)
        clauses.append(
            Clause(
                toks[s + 2 if named else s].word,
                toks[s + 1].name if named else None,
                text[toks[s].start : toks[end - 1].end],
            )
        )
    return name, type_text, clauses


def column_name(text: str) -> str:
    tok = tokenize(text)[0]
    return tok.name or tok.text


@dataclass(frozen=True, slots=True)
class TableConstraint:
    kind: str  # PRIMARY UNIQUE CHECK FOREIGN
    name: str | None
    columns: tuple[str, ...]  # the table's own columns it covers (CHECK: every name in it)
    text: str


def split_constraint(text: str) -> TableConstraint:
    toks = tokenize(text)
    at, name = 0, None
    if toks[0].word == "CONSTRAINT":
        at, name = 2, toks[1].name
    kind = toks[at].word
    if kind == "CHECK":
        names = tuple(n for t in toks[at + 1 :] if (n := t.name) is not None)
        return TableConstraint(kind, name, names, text)
    opening = next(i for i in range(at, len(toks)) if toks[i].text == "(")
    depth = toks[opening].depth + 1
    columns: list[str] = []
    expect = True
    for tok in toks[opening + 1 :]:
        if tok.depth < depth:
            break
        if tok.depth == depth and tok.text == ",":
            expect = True
        elif expect and tok.depth == depth and tok.name is not None:
            columns.append(tok.name)
            expect = False
    return TableConstraint(kind, name, tuple(columns), text)


def mentions(text: str, name: str, *, stop_at_references: bool = False) -> bool:
    for tok in tokenize(text):
        if stop_at_references and tok.word == "REFERENCES":
            return False
        if tok.is_name(name):
            return True
    return False


def references_table(text: str, table: str) -> bool:
    toks = tokenize(text)
    return any(
        t.word == "REFERENCES" and i + 1 < len(toks) and toks[i + 1].is_name(table)
        for i, t in enumerate(toks)
    )


def rename_names(
    text: str, old: str, new: str, *, where: Callable[[list[Tok], int], bool] | None = None
) -> str:
    """Every identifier ``old`` in ``text`` written as ``new`` (already quoted), where
    ``where(tokens, index)`` allows it."""
    toks = tokenize(text)
    found = {
        i: new for i, t in enumerate(toks) if t.is_name(old) and (where is None or where(toks, i))
    }
    return splice(text, found, toks) if found else text


def before_references(toks: list[Tok], i: int) -> bool:
    return not any(t.word == "REFERENCES" for t in toks[:i])


def after_on(toks: list[Tok], i: int) -> bool:
    """In an index or trigger: after the ``ON table`` (its columns and WHERE)."""
    return any(t.word == "ON" and t.depth == 0 for t in toks[: i - 1])


def is_table_after(keyword: str) -> Callable[[list[Tok], int], bool]:
    """The name right after ``keyword`` (``ON`` in an index, ``REFERENCES`` in a key)."""

    def check(toks: list[Tok], i: int) -> bool:
        return i > 0 and toks[i - 1].word == keyword

    return check


def in_references_of(table: str) -> Callable[[list[Tok], int], bool]:
    """Columns listed in ``REFERENCES table (…)``."""

    def check(toks: list[Tok], i: int) -> bool:
        for j in range(i - 1, 0, -1):
            if toks[j].text == "(" and toks[j].depth == toks[i].depth - 1:
                return j >= 2 and toks[j - 1].is_name(table) and toks[j - 2].word == "REFERENCES"
        return False

    return check


def index_name(sql: str) -> str:
    """The name of the index a ``CREATE [UNIQUE] INDEX`` statement creates."""
    toks = tokenize(sql)
    on = next(i for i, t in enumerate(toks) if t.word == "ON" and t.depth == 0)
    return toks[on - 1].name or toks[on - 1].text
