"""Injection, live (SPEC 4: identifiers quoted and checked, values always bound).

Hypothesis drives hostile text through real servers; one table per engine per test (the
``tables`` fixture runs once for all the examples of a test).
"""

from __future__ import annotations

import decimal
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jadugar import Column, DatabaseManager, QueryError, TableQueryBuilder, fn

from .conftest import Tables

pytestmark = pytest.mark.asyncio

LIVE = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SQL_BITS = [
    "'",
    "''",
    '"',
    "`",
    "\\",
    "\\'",
    "%s",
    "%",
    "$1",
    "?",
    ":x",
    "--",
    "/*",
    "*/",
    ";",
    " OR 1=1",
    "); DROP TABLE x; --",
    "\n",
    "ñ",
    "雪",
    "😀",
    "\u202e",
]
# no NUL: PostgreSQL text cannot hold it (the other engines would)
hostile_text = st.one_of(
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=40),
    st.lists(st.sampled_from(SQL_BITS), min_size=1, max_size=8).map("".join),
)
COLUMNS = {"id", "n", "label"}


def is_real_column(name: str) -> bool:
    """Would a case- or accent-insensitive server resolve this to one of the columns?"""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return folded.strip().lower() in COLUMNS


def is_unknown_identifier(name: str) -> bool:
    """Names that must fail on the server: not a real column, not ``*`` (a legitimate
    ``select("*")``), no empty dotted part (refused before any SQL, tested below)."""
    parts = name.split(".")
    return not is_real_column(name) and "*" not in parts and "" not in parts


# at most 15 characters: 60 bytes of UTF-8 fit every engine's identifier limit
hostile_identifier = st.one_of(
    st.text(
        st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=15,
    ),
    st.lists(st.sampled_from(SQL_BITS), min_size=1, max_size=3).map("".join),
).filter(is_unknown_identifier)


@LIVE
@given(text=hostile_text)
@example(text="'; DROP TABLE users; --")
@example(text="\\'; SELECT 1; --")
@example(text="%s%s%s $1 $2 ? ?")
async def test_hostile_values_round_trip(db: DatabaseManager, tables: Tables, text: str) -> None:
    items = db.query.table(tables.items)
    before = await items.count()
    created = await items.insert({"n": before, "label": text})
    row = await items.where({"id": created.id}).first()
    assert row is not None and row["label"] == text
    found = await items.where("label", text).where({"n": before}).all()
    assert [r["id"] for r in found] == [created.id]
    found = await items.where(Column[str]("label") == text).where("n", "=", before).all()
    assert [r["id"] for r in found] == [created.id]
    found = await items.where_in("label", [text]).where({"n": before}).all()
    assert [r["id"] for r in found] == [created.id]
    raw = await db.query.raw(
        f"SELECT label FROM {tables.q(tables.items)} WHERE id = ? AND label = ?", [created.id, text]
    ).all()
    assert raw == [{"label": text}]
    changed = await items.where({"id": created.id}).update({"label": text + text})
    assert changed.row_count == 1
    row = await items.where({"id": created.id}).first()
    assert row is not None and row["label"] == text + text
    assert await items.count() == before + 1


@LIVE
@given(name=hostile_identifier)
@example(name='label" = label OR "1')
@example(name="label` = label OR `1")
@example(name="label = label --")
@example(name="id; DROP TABLE x")
@example(name="n")  # filtered strategies still run explicit examples: see the guard below
async def test_hostile_identifiers_are_quoted(
    db: DatabaseManager, tables: Tables, name: str
) -> None:
    if not is_unknown_identifier(name):
        return
    items = db.query.table(tables.items)
    if await items.count() == 0:
        await items.insert_many([{"n": i, "label": f"row {i}"} for i in range(3)])
    # comparing the hostile column with its own name must not turn into 'text' = 'text'
    with pytest.raises(QueryError):
        await items.where(name, name).all()
    with pytest.raises(QueryError):
        await items.where({name: 1}).all()
    with pytest.raises(QueryError):
        await items.select(name).all()
    with pytest.raises(QueryError):
        await items.order_by(name).all()
    # a qualified name is refused before any SQL: a write names its table's own columns
    with pytest.raises(ValueError if "." in name else QueryError):
        await items.where({"n": 0}).update({name: "x"})
    with pytest.raises(QueryError):
        await db.query.table(name).count()
    # nothing was created, changed or dropped
    assert await items.count() == 3
    assert sorted(r["label"] for r in await items.all()) == ["row 0", "row 1", "row 2"]


async def test_hostile_names_are_usable_as_real_identifiers(
    db: DatabaseManager, tables: Tables
) -> None:
    """A table and a column with quotes, backticks, %, spaces and unicode in their names:
    quoted, they work like any other."""
    qb = db.query
    table = f"{tables.items}_x\"y`z%s'"
    column = "we\"ird` c%sl'umn ñ"
    await qb.raw(
        f"CREATE TABLE {qb.quote(table)} ({qb.quote(column)} INTEGER, other TEXT)"
    ).execute()
    try:
        weird = qb.table(table)
        await weird.insert({column: 1, "other": "a"})
        await weird.insert_many([{column: 2, "other": "b"}, {column: 3, "other": "c"}])
        assert await weird.where(column, ">", 1).count() == 2
        rows = await weird.select(column, "other").order_by(column, "desc").limit(1).all()
        assert rows == [{column: 3, "other": "c"}]
        await weird.where({column: 1}).update({column: 10})
        assert int(await weird.max(column)) == 10
        assert (await weird.where({column: 10}).delete()).row_count == 1
        assert await weird.count() == 2
    finally:
        await qb.raw(f"DROP TABLE IF EXISTS {qb.quote(table)}").execute()


class Opaque:
    def __str__(self) -> str:
        return "1 OR 1=1"


BAD_VALUES: list[Any] = [
    {"$ne": None},
    {"a": 1},
    ["nested", ["list"]],
    Opaque(),
    object(),
    {1, 2},
]


def comparisons(items: TableQueryBuilder, v: Any) -> list[Callable[[], object]]:
    """Every way of comparing a column with ``v`` (a list/set goes inside an IN list)."""
    label = Column[str]("label")
    in_list = [v]
    as_value = in_list if isinstance(v, list | set) else v
    return [
        lambda: items.where("label", "=", v),
        lambda: items.where("label", ">", v),
        lambda: items.where({"label": as_value}),
        lambda: items.where("label", as_value),
        lambda: items.where("label", "in", in_list),
        lambda: items.where("label", "like", v),
        lambda: items.where_between("n", v, 1),
        lambda: items.where_raw("label = ?", in_list),
        lambda: items.having("label", "=", v),
        lambda: items.where(label == v),
        lambda: items.where(label.in_(in_list)),
        lambda: fn.coalesce("label", v),
    ]


async def test_structured_values_are_refused_before_any_sql(
    db: DatabaseManager, tables: Tables
) -> None:
    sent: list[str] = []
    db.on("query", lambda payload: sent.append(payload["sql"])).on(
        "error", lambda payload: sent.append(payload["sql"])
    )
    items = db.query.table(tables.items)
    for value in BAD_VALUES:
        for attempt in comparisons(items, value):
            with pytest.raises(TypeError):
                attempt()
    with pytest.raises(TypeError):
        items.where("label", "in", {"a": 1})
    with pytest.raises(TypeError):
        items.where("label", "in", "abc")
    with pytest.raises(TypeError):
        items.where({1: "x"})
    with pytest.raises(TypeError):
        items.insert({"label": object()})
    with pytest.raises(TypeError):
        items.where({"n": 1}).update({"label": Opaque()})
    with pytest.raises(ValueError):
        items.where("label", "= '' OR 1=1 --", "x")
    with pytest.raises(ValueError):
        items.order_by("label", "desc; DROP TABLE x")
    with pytest.raises(TypeError):
        items.limit("1; DROP TABLE x")  # type: ignore[arg-type]
    assert sent == []
    for name in ("", ".", "a.", ".b", "a..b", "nul\x00byte"):
        with pytest.raises(ValueError):
            items.where(name, 1).to_sql()
    assert sent == []
    # plain scalars still work
    await items.insert({"n": 1, "label": "x"})
    for column, value in (("label", "x"), ("n", 1), ("n", decimal.Decimal("1")), ("n", None)):
        assert len(await items.where(column, "=", value).all()) == (0 if value is None else 1)
    assert len(sent) == 5
