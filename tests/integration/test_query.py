"""QueryBuilder on real servers (SPEC 4): CRUD, every where form, joins, grouping,
aggregates, JSON, bulk inserts, the unsafe-write guard, raw SQL and literals.

One test per behaviour, run on every engine by the ``db`` fixture.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from jadugar import (
    Column,
    CompiledQuery,
    DatabaseManager,
    IntegrityError,
    QueryError,
    TableQueryBuilder,
    UnsafeQueryError,
    fn,
)

from .conftest import POSTS, USERS, Tables

pytestmark = pytest.mark.asyncio


def names(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(row["name"] for row in rows)


def as_json(value: Any) -> Any:
    """JSON columns read back as dicts (PostgreSQL) or as text (MySQL, SQLite)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


# ---- CRUD -----------------------------------------------------------------------------


async def test_insert_returns_the_new_id(db: DatabaseManager, tables: Tables) -> None:
    users = db.query.table(tables.users)
    first = await users.insert({"name": "Ada", "email": "ada@example.com"})
    second = await users.insert({"name": "Bob", "email": "bob@example.com"})
    assert isinstance(first.id, int) and first.id > 0
    assert second.id > first.id
    assert first.row_count == 1
    assert first.inserted_ids == [first.id]
    row = await users.where({"id": second.id}).first()
    assert row is not None and row["name"] == "Bob" and row["email"] == "bob@example.com"
    assert bool(row["active"]) is True  # the column default


async def test_insert_many_reports_row_count(db: DatabaseManager, tables: Tables) -> None:
    users = db.query.table(tables.users)
    result = await users.insert_many(
        [
            {"name": n, "email": f"{n.lower()}@example.com", "age": a}
            for n, a in [("A", 1), ("B", 2), ("C", 3)]
        ]
    )
    assert result.row_count == 3
    assert await users.count() == 3
    assert [r["name"] for r in await users.order_by("age").all()] == ["A", "B", "C"]
    empty = await users.insert_many([])
    assert empty.row_count == 0


async def test_select_columns_and_aliases(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    rows = await (
        db.query.table(tables.users).select("name", "email as mail").where({"name": "Ada"}).all()
    )
    assert rows == [{"name": "Ada", "mail": "ada@example.com"}]
    aliased = await (
        db.query.table(f"{tables.users} as u")
        .select("u.name", fn.lower("u.email").as_("low"))
        .where("u.name", "Eve")
        .all()
    )
    assert aliased == [{"name": "Eve", "low": "eve@example.com"}]


async def test_first_returns_one_row_or_none(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    row = await users.where_not_null("age").order_by("age", "desc").first()
    assert row is not None and row["name"] == "Dee"
    assert await users.where({"name": "Nobody"}).first() is None


async def test_update_and_delete_return_row_count(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    updated = await users.where("age", ">", 30).update({"active": False, "score": Decimal("1.50")})
    assert updated.row_count == 2  # Ada, Dee
    rows = await users.where("age", ">", 30).all()
    assert {bool(r["active"]) for r in rows} == {False}
    assert {float(r["score"]) for r in rows} == {1.5}
    assert names(await users.where({"active": True}).all()) == ["Cy"]

    nothing = await users.where({"name": "Nobody"}).update({"age": 1})
    assert nothing.row_count == 0
    deleted = await users.where("age", "<", 30).delete()
    assert deleted.row_count == 2  # Bob, Eve
    assert names(await users.all()) == ["Ada", "Cy", "Dee"]


async def test_delete_cascades_through_the_foreign_key(db: DatabaseManager, tables: Tables) -> None:
    ids = await tables.seed()
    await db.query.table(tables.users).where({"id": ids["Ada"]}).delete()
    assert await db.query.table(tables.posts).count() == len(POSTS) - 3


async def test_upsert_inserts_then_updates(db: DatabaseManager, tables: Tables) -> None:
    users = db.query.table(tables.users)
    await users.upsert({"name": "First", "email": "up@example.com", "age": 1}, conflict=["email"])
    assert [(r["name"], r["age"]) for r in await users.all()] == [("First", 1)]
    await users.upsert({"name": "Second", "email": "up@example.com", "age": 2}, conflict=["email"])
    assert [(r["name"], r["age"]) for r in await users.all()] == [("Second", 2)]
    await users.upsert(
        {"name": "Third", "email": "up@example.com", "age": 3}, conflict=["email"], update=["age"]
    )
    assert [(r["name"], r["age"]) for r in await users.all()] == [("Second", 3)]
    await users.upsert({"name": "Other", "email": "other@example.com"}, conflict=["email"])
    assert await users.count() == 2


async def test_upsert_do_nothing_keeps_the_existing_row(
    db: DatabaseManager, tables: Tables
) -> None:
    users = db.query.table(tables.users)
    await users.insert({"name": "Kept", "email": "keep@example.com", "age": 10})
    await users.upsert(
        {"name": "Ignored", "email": "keep@example.com", "age": 99}, conflict=["email"], update=[]
    )
    assert [(r["name"], r["age"]) for r in await users.all()] == [("Kept", 10)]
    await users.upsert({"name": "New", "email": "new@example.com"}, conflict=["email"], update=[])
    assert names(await users.all()) == ["Kept", "New"]


async def test_upsert_many_rows(db: DatabaseManager, tables: Tables) -> None:
    users = db.query.table(tables.users)
    await users.insert({"name": "Old", "email": "a@example.com", "age": 1})
    await users.upsert(
        [
            {"name": "A", "email": "a@example.com", "age": 10},
            {"name": "B", "email": "b@example.com", "age": 20},
        ],
        conflict=["email"],
    )
    rows = await users.order_by("email").all()
    assert [(r["name"], r["age"]) for r in rows] == [("A", 10), ("B", 20)]


# ---- where ----------------------------------------------------------------------------


async def test_where_mapping_forms(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    assert names(await users.where({"active": True}).all()) == ["Ada", "Cy", "Dee"]
    assert names(await users.where({"age": None}).all()) == ["Cy"]
    assert names(await users.where({"name": ["Ada", "Bob"]}).all()) == ["Ada", "Bob"]
    assert names(await users.where({"name": ("Cy",)}).all()) == ["Cy"]
    assert names(await users.where({"name": []}).all()) == []
    assert names(await users.where({"active": True, "age": None}).all()) == ["Cy"]
    assert names(await users.where({"active": False}).where({"age": 17}).all()) == ["Bob"]


async def test_where_two_argument_form(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    assert names(await users.where("name", "Ada").all()) == ["Ada"]
    assert names(await users.where("age", None).all()) == ["Cy"]
    assert names(await users.where("name", ["Dee", "Eve"]).all()) == ["Dee", "Eve"]
    assert names(await users.where(Column[int]("age"), 52).all()) == ["Dee"]


THREE_ARGUMENT_CASES: list[tuple[str, str, Any, list[str]]] = [
    ("age", "=", 36, ["Ada"]),
    ("age", "!=", 36, ["Bob", "Dee", "Eve"]),
    ("age", "<>", 36, ["Bob", "Dee", "Eve"]),
    ("age", "<", 29, ["Bob"]),
    ("age", "<=", 29, ["Bob", "Eve"]),
    ("age", ">", 36, ["Dee"]),
    ("age", ">=", 36, ["Ada", "Dee"]),
    ("name", "like", "D%", ["Dee"]),
    ("name", "like", "%e", ["Dee", "Eve"]),
    ("name", "not_like", "%e", ["Ada", "Bob", "Cy"]),
    ("email", "ilike", "EVE@EXAMPLE.%", ["Eve"]),
    ("name", "ilike", "%E", ["Dee", "Eve"]),
    ("name", "not_ilike", "%E", ["Ada", "Bob", "Cy"]),
    ("name", "in", ["Ada", "Cy"], ["Ada", "Cy"]),
    ("name", "not_in", ["Ada", "Cy"], ["Bob", "Dee", "Eve"]),
    ("age", "between", (20, 40), ["Ada", "Eve"]),
    ("age", "not_between", (20, 40), ["Bob", "Dee"]),
    ("age", "=", None, ["Cy"]),
    ("age", "!=", None, ["Ada", "Bob", "Dee", "Eve"]),
    ("name", "IN", ["Bob"], ["Bob"]),
]


async def test_where_three_argument_form(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    for column, op, value, expected in THREE_ARGUMENT_CASES:
        rows = await users.where(column, op, value).all()
        assert names(rows) == expected, (column, op, value)


async def test_ilike_is_case_insensitive(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    email = Column[str]("email")
    assert names(await users.where("email", "ilike", "eve@example.com").all()) == ["Eve"]
    assert names(await users.where("name", "ilike", "ADA").all()) == ["Ada"]
    assert names(await users.where(email.ilike("%@EXAMPLE.COM")).all()) == [
        u["name"] for u in USERS
    ]
    # like stays a plain LIKE: the upper-case pattern matches only the upper-case email
    assert "Eve" in names(await users.where("email", "like", "EVE@%").all())


async def test_where_column_expressions(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    age = Column[int]("age")
    name = Column[str]("name")
    active = Column[bool]("active")
    assert names(await users.where((age > 18) & (age < 40)).all()) == ["Ada", "Eve"]
    assert names(await users.where((age < 18) | (age > 50)).all()) == ["Bob", "Dee"]
    assert names(await users.where(~(age > 18)).all()) == ["Bob"]  # NULL stays out
    assert names(await users.where(age >= 36).all()) == ["Ada", "Dee"]
    assert names(await users.where(age <= 17).all()) == ["Bob"]
    assert names(await users.where(age == 29).all()) == ["Eve"]
    assert names(await users.where(age != 29).all()) == ["Ada", "Bob", "Dee"]
    assert names(await users.where(age == None).all()) == ["Cy"]  # noqa: E711
    assert names(await users.where(age != None).all()) == ["Ada", "Bob", "Dee", "Eve"]  # noqa: E711
    assert names(await users.where(name.like("A%")).all()) == ["Ada"]
    assert names(await users.where(name.in_(["Bob", "Cy"])).all()) == ["Bob", "Cy"]
    assert names(await users.where(name.not_in(["Bob", "Cy"])).all()) == ["Ada", "Dee", "Eve"]
    assert names(await users.where(age.is_null()).all()) == ["Cy"]
    assert names(await users.where(age.is_not_null() & (active == True)).all()) == ["Ada", "Dee"]  # noqa: E712
    assert names(await users.where(age.between(30, 60)).all()) == ["Ada", "Dee"]
    assert names(await users.where(((age > 50) | (name == "Bob")) & ~active.is_null()).all()) == [
        "Bob",
        "Dee",
    ]


async def test_or_where_and_grouping(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    assert names(await users.where("name", "Ada").or_where("name", "Bob").all()) == ["Ada", "Bob"]
    assert names(await users.where({"age": 17}).or_where({"age": None}).all()) == ["Bob", "Cy"]
    # inactive AND (age < 20 OR age > 50): the group keeps Dee (active) out
    grouped = users.where({"active": False}).where(
        lambda q: q.where("age", "<", 20).or_where("age", ">", 50)
    )
    assert names(await grouped.all()) == ["Bob"]
    # without the group, AND binds tighter: (inactive AND age < 20) OR age > 50
    flat = users.where({"active": False}).where("age", "<", 20).or_where("age", ">", 50)
    assert names(await flat.all()) == ["Bob", "Dee"]
    assert names(await users.where_not({"active": True}).all()) == ["Bob", "Eve"]


async def test_where_helpers(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    assert names(await users.where_in("name", ["Ada", "Eve", "Zed"]).all()) == ["Ada", "Eve"]
    assert names(await users.where_in("name", []).all()) == []
    assert names(await users.where_not_in("name", ["Ada", "Eve"]).all()) == ["Bob", "Cy", "Dee"]
    assert names(await users.where_not_in("name", []).all()) == [u["name"] for u in USERS]
    assert names(await users.where_null("age").all()) == ["Cy"]
    assert names(await users.where_not_null("score").all()) == ["Ada", "Bob", "Dee", "Eve"]
    assert names(await users.where_between("age", 17, 29).all()) == ["Bob", "Eve"]
    assert names(await users.where_not_between("age", 17, 29).all()) == ["Ada", "Dee"]
    assert names(await users.where_raw("age > ? AND name <> ?", [20, "Dee"]).all()) == [
        "Ada",
        "Eve",
    ]
    assert names(await users.where_raw("age > $1 OR age = $1", [36]).all()) == ["Ada", "Dee"]
    combined = users.where({"active": True}).where_raw("age IS NOT NULL").where("age", "<", 50)
    assert names(await combined.all()) == ["Ada"]


# ---- joins, grouping, ordering ----------------------------------------------------------


async def test_joins(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    u, p = tables.users, tables.posts
    inner = await (
        db.query.table(p)
        .join(u, {f"{u}.id": f"{p}.user_id"})
        .select(f"{u}.name as author", f"{p}.title")
        .order_by(f"{p}.title")
        .all()
    )
    assert [(r["author"], r["title"]) for r in inner] == sorted(
        [(a, t) for a, t, _ in POSTS], key=lambda at: at[1]
    )
    left = await (
        db.query.table(u)
        .left_join(p, f"{u}.id", f"{p}.user_id")
        .select(f"{u}.name", f"{p}.title")
        .all()
    )
    assert len(left) == len(POSTS) + 2  # Cy and Eve once each, with no post
    assert sorted(r["name"] for r in left if r["title"] is None) == ["Cy", "Eve"]
    expr_join = await (
        db.query.table(p)
        .join(u, Column[int](f"{u}.id") == Column[int](f"{p}.user_id"))
        .where(f"{u}.name", "Bob")
        .select(f"{p}.title")
        .all()
    )
    assert sorted(r["title"] for r in expr_join) == ["Again", "Hello"]


async def test_right_join(db: DatabaseManager, tables: Tables) -> None:
    if not db.dialect.capabilities.right_join:
        pytest.skip("this engine has no RIGHT JOIN")
    await tables.seed()
    u, p = tables.users, tables.posts
    rows = await (
        db.query.table(p)
        .right_join(u, {f"{u}.id": f"{p}.user_id"})
        .select(f"{u}.name", f"{p}.title")
        .all()
    )
    assert len(rows) == len(POSTS) + 2
    assert sorted(r["name"] for r in rows if r["title"] is None) == ["Cy", "Eve"]


async def test_group_by_and_having(db: DatabaseManager, tables: Tables) -> None:
    ids = await tables.seed()
    rows = await (
        db.query.table(tables.posts)
        .select("user_id", fn.count().as_("posts"), fn.sum("views").as_("views"))
        .group_by("user_id")
        .having(fn.count(), ">=", 2)
        .order_by("user_id")
        .all()
    )
    assert [(r["user_id"], int(r["posts"]), int(r["views"])) for r in rows] == [
        (ids["Ada"], 3, 150),
        (ids["Bob"], 2, 12),
    ]
    by_active = await (
        db.query.table(tables.users)
        .select("active", fn.count().as_("n"), fn.max("age").as_("oldest"))
        .group_by("active")
        .order_by("active")
        .all()
    )
    assert [(bool(r["active"]), int(r["n"]), r["oldest"]) for r in by_active] == [
        (False, 2, 29),
        (True, 3, 52),
    ]


async def test_order_limit_offset(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    assert [r["name"] for r in await users.order_by("name").limit(2).offset(1).all()] == [
        "Bob",
        "Cy",
    ]
    assert [r["name"] for r in await users.order_by("name", "desc").limit(2).all()] == [
        "Eve",
        "Dee",
    ]
    assert [r["name"] for r in await users.order_by("name").offset(3).all()] == ["Dee", "Eve"]
    assert await users.order_by("name").limit(0).all() == []
    by_two = await users.order_by("active", "desc").order_by("name", "desc").all()
    assert [r["name"] for r in by_two] == ["Dee", "Cy", "Ada", "Eve", "Bob"]
    age = Column[int]("age")
    assert [r["name"] for r in await users.where_not_null("age").order_by(age.desc()).all()] == [
        "Dee",
        "Ada",
        "Eve",
        "Bob",
    ]
    with pytest.raises(ValueError):
        users.order_by("name", "sideways")


async def test_aggregates(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    assert await users.count() == 5
    assert await users.count("age") == 4
    assert await users.where({"active": True}).count() == 3
    assert int(await users.sum("age")) == 134
    assert float(await users.avg("age")) == 33.5
    assert int(await users.min("age")) == 17
    assert int(await users.max("age")) == 52
    assert float(await users.sum("score")) == 24.75
    assert float(await users.avg("score")) == pytest.approx(6.1875)
    assert await users.min("name") == "Ada"
    assert await users.where({"name": "Nobody"}).count() == 0
    assert await users.where({"name": "Nobody"}).sum("age") is None
    assert await users.where({"name": "Nobody"}).max("age") is None


async def test_count_with_limit_and_distinct(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    assert await users.order_by("name").limit(2).count() == 2
    assert await users.order_by("name").offset(4).count() == 1
    assert await users.limit(100).count() == 5
    assert await users.select("active").distinct().count() == 2
    assert await db.query.table(tables.posts).select("user_id").distinct().count() == 3
    assert int(await users.where_not_null("age").order_by("age").limit(2).sum("age")) == 17 + 29


# ---- JSON -------------------------------------------------------------------------------


async def test_json_round_trip(db: DatabaseManager, tables: Tables) -> None:
    users = db.query.table(tables.users)
    profile = {"langs": ["py", "sql"], "nested": {"k": "v", "n": 1.5}, "quote": 'it\'s "x"'}
    created = await users.insert({"name": "J", "email": "j@example.com", "profile": profile})
    row = await users.where({"id": created.id}).first()
    assert row is not None and as_json(row["profile"]) == profile
    await users.where({"id": created.id}).update({"profile": ["a", 1, None, True]})
    row = await users.where({"id": created.id}).first()
    assert row is not None and as_json(row["profile"]) == ["a", 1, None, True]
    await users.where({"id": created.id}).update({"profile": None})
    row = await users.where({"id": created.id}).first()
    assert row is not None and row["profile"] is None


async def test_json_in_bulk_insert(db: DatabaseManager, tables: Tables) -> None:
    """Large enough for each engine's bulk path (COPY on PostgreSQL)."""
    users = db.query.table(tables.users)
    rows = [
        {"name": f"u{i}", "email": f"u{i}@example.com", "profile": {"i": i, "tags": ["t", i]}}
        for i in range(600)
    ]
    result = await users.insert_many(rows)
    assert result.row_count == 600
    got = await users.where({"email": "u599@example.com"}).first()
    assert got is not None and as_json(got["profile"]) == {"i": 599, "tags": ["t", 599]}


# ---- bulk insert: one transaction, all or nothing ----------------------------------------


def _bulk_rows(n: int) -> list[dict[str, Any]]:
    return [
        {"name": f"bulk {i}", "email": f"bulk{i}@example.com", "age": i % 90, "active": i % 2 == 0}
        for i in range(n)
    ]


@pytest.mark.parametrize("count", [20, 3_000])
async def test_insert_many_with_a_late_value_of_another_type_inserts_each_row_once(
    db: DatabaseManager, tables: Tables, count: int
) -> None:
    rows = [{**row, "score": 1} for row in _bulk_rows(count)]
    rows[-1] = {**rows[-1], "score": Decimal("2.50")}  # a type only the last row has
    result = await db.query.table(tables.users).insert_many(rows)
    assert result.row_count == count
    assert await db.query.table(tables.users).count() == count
    last = await db.query.table(tables.users).where({"email": rows[-1]["email"]}).first()
    assert last is not None and Decimal(str(last["score"])) == Decimal("2.50")


@pytest.mark.parametrize("count", [20, 3_000])
async def test_insert_many_refuses_a_value_it_cannot_store_and_inserts_nothing(
    db: DatabaseManager, tables: Tables, count: int
) -> None:
    rows = _bulk_rows(count)
    rows[-1] = {**rows[-1], "age": object()}
    with pytest.raises((TypeError, QueryError)) as caught:
        await db.query.table(tables.users).insert_many(rows)
    assert "object" in str(caught.value)  # the message names what was wrong
    assert await db.query.table(tables.users).count() == 0
    assert db.pool.get_status().in_use == 0


_HOSTILE = ["tab\there", "line\nbreak", "cr\rreturn", "back\\slash", "\\.", "\\N", "100%", "ñ😀"]


async def test_insert_many_in_bulk_stores_every_value_verbatim(
    db: DatabaseManager, tables: Tables
) -> None:
    """Three chunks and more: PostgreSQL streams such rows into COPY as text."""
    items = db.query.table(tables.items)
    rows = [
        {"n": n, "label": None if n % 9 == 0 else f"{_HOSTILE[n % len(_HOSTILE)]} {n}"}
        for n in range(1_300)
    ]
    rows[600:1_100] = [{"n": n, "label": f"plain {n}"} for n in range(600, 1_100)]
    assert (await items.insert_many(rows)).row_count == 1_300
    assert await items.select("n", "label").order_by("n").all() == rows


async def test_insert_many_with_a_late_value_of_the_wrong_type(
    db: DatabaseManager, tables: Tables
) -> None:
    """A numeric string for an integer column, in a later chunk: PostgreSQL's typed
    encoder refuses it (nothing stored) however the other chunks travel; MySQL and SQLite
    convert it, as they do in any insert."""
    rows: list[dict[str, Any]] = [{"n": n, "label": "x"} for n in range(1_300)]
    for n in range(1_000, 1_300):
        rows[n]["n"] = str(n)
    items = db.query.table(tables.items)
    if db.dialect.name == "postgres":
        with pytest.raises(QueryError, match="str"):
            await items.insert_many(rows)
        assert await items.count() == 0
    else:
        assert (await items.insert_many(rows)).row_count == 1_300
        assert [r["n"] for r in await items.select("n").order_by("n").all()] == list(range(1_300))


async def test_insert_many_with_columns_takes_tuples(db: DatabaseManager, tables: Tables) -> None:
    users = db.query.table(tables.users)
    columns = ("name", "email", "age", "profile")
    rows = [(f"t{i}", f"t{i}@example.com", i, {"n": i}) for i in range(1_200)]
    result = await users.insert_many(rows, columns=columns)
    assert result.row_count == 1_200
    assert await users.count() == 1_200
    last = await users.where({"email": "t1199@example.com"}).first()
    assert last is not None and last["age"] == 1199
    profile = last["profile"]
    assert (json.loads(profile) if isinstance(profile, str) else profile) == {"n": 1199}
    with pytest.raises(ValueError, match="row 1 has 2 values for the 4 columns"):
        users.insert_many([("a", "a@x", 1, None), ("b", "b@x")], columns=columns)
    with pytest.raises(TypeError, match="row 0 is a dict"):
        users.insert_many([{"name": "a"}], columns=("name",))  # type: ignore[list-item]
    assert await users.count() == 1_200


async def test_insert_many_10k_rows(db: DatabaseManager, tables: Tables) -> None:
    result = await db.query.table(tables.users).insert_many(_bulk_rows(10_000))
    assert result.row_count == 10_000
    assert await db.query.table(tables.users).count() == 10_000
    last = await db.query.table(tables.users).where({"email": "bulk9999@example.com"}).first()
    assert last is not None and last["age"] == 9999 % 90 and bool(last["active"]) is False


@pytest.mark.parametrize("count", [300, 10_000])  # one statement, and several / COPY
async def test_insert_many_is_all_or_nothing(
    db: DatabaseManager, tables: Tables, count: int
) -> None:
    rows = _bulk_rows(count)
    rows[-5] = {**rows[-5], "email": rows[0]["email"]}  # a duplicate key near the end
    with pytest.raises(IntegrityError) as caught:
        await db.query.table(tables.users).insert_many(rows)
    assert caught.value.kind == "unique"
    assert await db.query.table(tables.users).count() == 0
    assert db.pool.get_status().in_use == 0


# ---- the unsafe-write guard ---------------------------------------------------------------


async def test_update_and_delete_without_where_are_refused(
    db: DatabaseManager, tables: Tables
) -> None:
    await tables.seed()
    users = db.query.table(tables.users)
    with pytest.raises(UnsafeQueryError, match="all_rows"):
        await users.update({"age": 1})
    with pytest.raises(UnsafeQueryError):
        await users.delete()
    assert await users.count() == 5
    assert await users.where({"age": 1}).count() == 0

    updated = await users.all_rows().update({"age": 1})
    assert updated.row_count == 5
    assert await users.where({"age": 1}).count() == 5
    deleted = await users.delete().all_rows()
    assert deleted.row_count == 5
    assert await users.count() == 0


# ---- to_sql, raw, escape and format -----------------------------------------------------


async def test_to_sql_compiles_without_running(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    seen: list[str] = []
    db.on("query", lambda payload: seen.append(payload["sql"]))
    users = db.query.table(tables.users)
    compiled = users.select("name").where("age", ">", 18).where({"name": "Ada"}).to_sql()
    assert isinstance(compiled, CompiledQuery)
    sql, params = compiled
    assert tables.q(tables.users) in sql and tables.q("age") in sql
    assert params == (18, "Ada")
    where = sql.split("WHERE", 1)[1]  # (the table name has a random suffix)
    assert "Ada" not in where and "18" not in where  # values are bound, never inlined
    delete_sql, delete_params = users.where({"name": "Bob"}).delete().to_sql()
    assert delete_sql.upper().startswith("DELETE") and delete_params == ("Bob",)
    insert_sql, insert_params = users.insert({"name": "Zed", "email": "z@example.com"}).to_sql()
    assert insert_sql.upper().startswith("INSERT") and insert_params == ("Zed", "z@example.com")
    assert seen == []
    assert await users.count() == 5


async def test_raw_with_both_placeholder_styles(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    u = tables.q(tables.users)
    dollar = await db.query.raw(
        f"SELECT name FROM {u} WHERE age > $1 AND active = $2 ORDER BY name", [20, True]
    ).all()
    assert [r["name"] for r in dollar] == ["Ada", "Dee"]
    question = await db.query.raw(
        f"SELECT name FROM {u} WHERE age > ? AND active = ? ORDER BY name", [20, True]
    ).all()
    assert question == dollar
    reused = await db.query.raw(
        f"SELECT name FROM {u} WHERE age = $1 OR age > $1 + 5 ORDER BY name", [29]
    ).all()
    assert [r["name"] for r in reused] == ["Ada", "Dee", "Eve"]
    # placeholders inside string literals are text; a literal % stays a %
    literal = await db.query.raw(
        f"SELECT '?' AS q, '$1' AS d, '100%' AS pct, name FROM {u} WHERE name = ?", ["Bob"]
    ).first()
    assert literal == {"q": "?", "d": "$1", "pct": "100%", "name": "Bob"}
    with pytest.raises(ValueError):
        db.query.raw(f"SELECT name FROM {u} WHERE age > $1 AND name = ?", [1, "x"]).to_sql()
    result = await db.query.raw(f"UPDATE {u} SET age = ? WHERE name = ?", [40, "Ada"]).execute()
    assert result.row_count == 1


async def test_raw_without_params_keeps_percent_signs(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    u = tables.q(tables.users)
    row = await db.query.raw(f"SELECT '100%' AS pct, count(*) AS n FROM {u}").first()
    assert row is not None and row["pct"] == "100%" and int(row["n"]) == 5
    rows = await db.query.raw(f"SELECT name FROM {u} WHERE name LIKE 'A%'").all()
    assert [r["name"] for r in rows] == ["Ada"]


HOSTILE = [
    "O'Brien",
    "it''s",
    "back\\slash",
    "trailing backslash \\",
    "\\'; DROP TABLE users; --",
    "'; DELETE FROM users WHERE '1'='1",
    '"double" `back` [square]',
    "%s %% $1 ? :name {}",
    "line\nbreak\ttab\r",
    "unicode ñ ü 雪 😀 \u202e",
    "/* comment */ -- dash",
]


async def test_escape_and_format_round_trip(db: DatabaseManager, tables: Tables) -> None:
    qb = db.query
    items = qb.table(tables.items)
    for n, text in enumerate(HOSTILE):
        await items.insert({"n": n, "label": text})
    i = tables.q(tables.items)
    for n, text in enumerate(HOSTILE):
        bound = await items.select("id", "n", "label").where("label", text).all()
        assert [r["n"] for r in bound] == [n]
        inlined = await qb.raw(
            qb.format(f"SELECT id, n, label FROM {i} WHERE label = ? AND n = ?", [text, n])
        ).all()
        assert inlined == bound, text
        echoed = await qb.raw(f"SELECT {qb.escape(text)} AS v").first()
        assert echoed is not None and echoed["v"] == text
    assert await items.count() == len(HOSTILE)
    assert qb.escape(None) == "NULL"
    assert qb.format("SELECT $2, $1", [1, "a'b"]) == "SELECT 'a''b', 1"


async def test_builders_are_immutable(db: DatabaseManager, tables: Tables) -> None:
    await tables.seed()
    base: TableQueryBuilder = db.query.table(tables.users).where({"active": True})
    young = base.where("age", "<", 40)
    assert names(await base.all()) == ["Ada", "Cy", "Dee"]
    assert names(await young.all()) == ["Ada"]
    assert await base.count() == 3
