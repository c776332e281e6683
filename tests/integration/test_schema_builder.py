"""SchemaBuilder on real servers (SPEC 5): every operation executed, then checked by
introspection and by writing and reading rows. Parametrized over the ``db`` fixture's
engines; tables get names unique to the test and are dropped afterwards. Tests branch on
capabilities, never on engine names.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from jadugar import (
    ColumnDefinition,
    DatabaseManager,
    ForeignKeyReference,
    IndexOptions,
    IntegrityError,
    QueryError,
    SchemaBuilder,
    TableBuilder,
    UnsupportedOperation,
    fn,
)
from jadugar.migrations.dry_run import DryRunSession
from jadugar.models.decode import DECODERS

from .conftest import MakeDb

Names = Callable[[str], str]

# column type -> the model layer's decoder for it (drivers return dates as text on SQLite…)
_DECODE = {
    "boolean": "bool",
    "timestamp": "datetime",
    "date": "date",
    "time": "time",
    "decimal": "decimal",
    "uuid": "uuid",
    "json": "json",
    "binary": "bytes",
}


@pytest.fixture
async def tables(db: DatabaseManager) -> AsyncIterator[Names]:
    """``tables("users")`` → a table name unique to this test, dropped afterwards (in the
    reverse order of the calls: children before parents)."""
    suffix = uuid.uuid4().hex[:8]
    made: list[str] = []

    def name(base: str) -> str:
        made.append(f"js_{base}_{suffix}")
        return made[-1]

    yield name
    if db.connected:
        for table in reversed(made):
            await db.schema.drop_table(table, if_exists=True)


def decoded(row: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    return {
        k: DECODERS[_DECODE[types[k]]](v) if types.get(k) in _DECODE else v for k, v in row.items()
    }


async def rows(db: DatabaseManager, table: str, *columns: str) -> list[dict[str, Any]]:
    return await db.query.table(table).select(*columns).order_by(columns[0]).all()


# ---- create_table -----------------------------------------------------------------------------
def every_type(t: TableBuilder) -> None:
    t.increments()
    t.integer("i")
    t.big_integer("bi")
    t.small_integer("si")
    t.float("f")
    t.double("d")
    t.decimal("n", 10, 2)
    t.string("s", 20).not_null()
    t.text("tx")
    t.boolean("b")
    t.date("dt")
    t.time("tm")
    t.timestamp("ts")
    t.uuid("u")
    t.json("j")
    t.binary("bin")
    t.enum("e", ["draft", "live"]).default_to("draft")
    t.timestamps()


TYPES = {
    "i": "integer", "bi": "big_integer", "si": "small_integer", "f": "float", "d": "double",
    "n": "decimal", "s": "string", "tx": "text", "b": "boolean", "dt": "date", "tm": "time",
    "ts": "timestamp", "u": "uuid", "j": "json", "bin": "binary", "e": "enum",
    "created_at": "timestamp", "updated_at": "timestamp",
}  # fmt: skip


async def test_create_table_with_every_type_stores_and_reads_rows(
    db: DatabaseManager, tables: Names
) -> None:
    t = tables("types")
    await db.schema.create_table(t, every_type)
    assert await db.schema.has_table(t)
    columns = {c.name: c for c in await db.schema.columns(t)}
    assert list(columns) == ["id", *TYPES]
    assert columns["id"].primary_key and columns["id"].auto_increment
    assert not columns["id"].nullable and not columns["s"].nullable and columns["i"].nullable
    assert not columns["created_at"].nullable and columns["created_at"].default is not None
    assert columns["e"].default is not None and "draft" in columns["e"].default
    value = {
        "i": 2**31 - 1, "bi": 2**62, "si": -(2**15), "f": 1.5, "d": 2.25,
        "n": decimal.Decimal("12345678.90"), "s": "short", "tx": "long " * 20_000,
        "b": True, "dt": datetime.date(2024, 2, 29), "tm": datetime.time(12, 30, 15, 123456),
        "ts": datetime.datetime(2024, 2, 29, 23, 59, 58, 654321, tzinfo=datetime.UTC),
        "u": uuid.UUID("12345678-1234-5678-1234-567812345678"), "j": {"k": [1, "two", None]},
        "bin": b"\x00\x01\xfe\xff",
    }  # fmt: skip
    inserted = await db.query.table(t).insert(value)
    row = await db.query.table(t).where("id", inserted.id).first()
    assert row is not None
    got = decoded(row, TYPES)
    assert {k: got[k] for k in value} == value
    assert got["e"] == "draft"  # the default
    assert isinstance(got["created_at"], datetime.datetime)
    with pytest.raises(QueryError):  # not one of the enum's values
        await db.query.table(t).insert({"s": "x", "e": "deleted"})
    with pytest.raises(IntegrityError):  # NOT NULL
        await db.query.table(t).insert({"i": 1})


async def test_block_forms_and_to_sql_async_is_what_runs(
    db: DatabaseManager, tables: Names
) -> None:
    a, b, c = tables("a"), tables("b"), tables("c")
    schema = db.schema
    with schema.create_table(a) as t:
        t.increments()
        t.string("name").unique()
    schema.add_column(a, ColumnDefinition("n", "integer", nullable=False, default=0))
    schema.alter_column(a, ColumnDefinition("name", "string", length=300), changes=["type"])
    planned = await schema.to_sql_async()
    seen: list[str] = []

    def record(payload: dict[str, Any]) -> None:
        seen.append(payload["sql"])

    db.on("query", record)
    try:
        await schema.execute()
    finally:
        db.off("query", record)
    compiler = db.dialect.compiler
    reads = ("SELECT", "PRAGMA foreign_keys")  # introspection the plan needed, run again
    assert [
        s for s in seen if not s.startswith(reads) or s.startswith("PRAGMA foreign_keys =")
    ] == [compiler.escape_percent(s) for s in planned]
    assert schema.operations == ()  # a batch runs once
    async with db.schema.create_table(b) as t:
        t.string("k").primary()
    assert await db.schema.has_table(b)
    with pytest.raises(RuntimeError):
        async with db.schema.create_table(c) as t:
            t.integer("x")
            raise RuntimeError
    assert not await db.schema.has_table(c)


async def test_a_session_that_takes_writes_over_sees_every_statement(
    db: DatabaseManager, tables: Names
) -> None:
    """The migration dry run: introspection runs for real, no change reaches the database."""
    t = tables("t")
    await db.schema.create_table(t, lambda b: (b.increments(), b.string("name", 20)))
    before = await db.schema.columns(t)
    dry = DryRunSession(db)
    schema = (
        SchemaBuilder(dry).alter_column(t, ColumnDefinition("name", "text")).drop_column(t, "name")
    )
    planned = await schema.to_sql_async()
    await schema
    assert dry.statements == planned
    assert await db.schema.columns(t) == before


async def test_drop_and_rename_table(db: DatabaseManager, tables: Names) -> None:
    old, new = tables("old"), tables("new")
    await db.schema.create_table(old, lambda t: (t.increments(), t.string("name")))
    await db.query.table(old).insert({"name": "kept"})
    await db.schema.rename_table(old, new)
    assert not await db.schema.has_table(old) and await db.schema.has_table(new)
    await db.schema.alter_table(new, lambda t: t.string("extra").nullable().index())
    assert await db.schema.has_column(new, "extra")
    assert await rows(db, new, "name") == [{"name": "kept"}]
    await db.schema.drop_table(new)
    assert not await db.schema.has_table(new)
    await db.schema.drop_table(new, if_exists=True)
    with pytest.raises(QueryError):
        await db.schema.drop_table(new)


# ---- columns ------------------------------------------------------------------------------------
async def test_add_column_every_way(db: DatabaseManager, tables: Names) -> None:
    teams, users = tables("teams"), tables("users")
    await db.schema.create_table(teams, lambda t: t.increments())
    team = (await db.query.table(teams).insert({})).id
    await db.schema.create_table(users, lambda t: (t.increments(), t.string("name")))
    await db.query.table(users).insert_many([{"name": "ada"}, {"name": "bob"}])
    await (
        db.schema.add_column(users, ColumnDefinition("bio", "text"))
        .add_column(users, ColumnDefinition("score", "integer", nullable=False, default=7))
        .add_column(users, ColumnDefinition("email", "string", unique=True, index=False))
        .add_column(users, ColumnDefinition("age", "small_integer", index=True))
        .add_column(users, ColumnDefinition("team_id", "integer", references=f"{teams}.id"))
        .add_column(users, ColumnDefinition("seen_at", "timestamp", default=fn.now()))
    )
    assert await rows(db, users, "name", "bio", "score") == [
        {"name": "ada", "bio": None, "score": 7},
        {"name": "bob", "bio": None, "score": 7},
    ]
    assert all(r["seen_at"] is not None for r in await rows(db, users, "id", "seen_at"))
    indexes = {i.name: i for i in await db.schema.indexes(users)}
    assert indexes[f"{users}_email_unique"].unique
    assert indexes[f"{users}_age_index"].columns == ("age",)
    (key,) = await db.schema.foreign_keys(users)
    assert (key.name, key.columns, key.table, key.references) == (
        f"{users}_team_id_fkey",
        ("team_id",),
        teams,
        ("id",),
    )
    await db.query.table(users).where("name", "ada").update({"email": "a@x", "team_id": team})
    with pytest.raises(IntegrityError):
        await db.query.table(users).where("name", "bob").update({"email": "a@x"})
    with pytest.raises(IntegrityError):
        await db.query.table(users).where("name", "bob").update({"team_id": team + 100})
    empty = tables("empty")  # NOT NULL without a default: fine on an empty table
    await db.schema.create_table(empty, lambda t: t.increments())
    await db.schema.add_column(empty, ColumnDefinition("must", "integer", nullable=False))
    assert await db.schema.has_column(empty, "must")


async def test_drop_column_takes_its_indexes(db: DatabaseManager, tables: Names) -> None:
    t = tables("t")

    def define(b: TableBuilder) -> None:
        b.increments()
        b.string("keep").index()
        b.string("plain")
        b.string("code").unique()
        b.integer("rank").index()

    await db.schema.create_table(t, define)
    await db.query.table(t).insert_many(
        [
            {"keep": "a", "plain": "p", "code": "c1", "rank": 1},
            {"keep": "b", "plain": None, "code": "c2", "rank": 2},
        ]
    )
    await db.schema.drop_column(t, "plain").drop_column(t, "code").drop_column(t, "rank")
    assert [c.name for c in await db.schema.columns(t)] == ["id", "keep"]
    assert [i.name for i in await db.schema.indexes(t) if not i.primary] == [f"{t}_keep_index"]
    assert await rows(db, t, "id", "keep") == [{"id": 1, "keep": "a"}, {"id": 2, "keep": "b"}]


async def test_rename_column_keeps_data_and_indexes(db: DatabaseManager, tables: Names) -> None:
    t = tables("t")
    await db.schema.create_table(t, lambda b: (b.increments(), b.string("name").unique()))
    await db.query.table(t).insert({"name": "ada"})
    await db.schema.rename_column(t, "name", "full name")
    assert await db.schema.has_column(t, "full name") and not await db.schema.has_column(t, "name")
    assert await rows(db, t, "full name") == [{"full name": "ada"}]
    (unique,) = [i for i in await db.schema.indexes(t) if i.unique and not i.primary]
    assert unique.columns == ("full name",)
    with pytest.raises(IntegrityError):
        await db.query.table(t).insert({"full name": "ada"})


async def test_alter_column_type_nullability_default_and_enum(
    db: DatabaseManager, tables: Names
) -> None:
    t = tables("t")

    def define(b: TableBuilder) -> None:
        b.increments()
        b.integer("n")
        b.string("s", 20)
        b.string("label").not_null().default_to("old")
        b.enum("state", ["a", "b"]).default_to("a")

    await db.schema.create_table(t, define)
    await db.query.table(t).insert({"n": 5, "s": "x"})
    await (
        db.schema.alter_column(t, ColumnDefinition("n", "big_integer", nullable=False))
        .alter_column(t, ColumnDefinition("s", "text"), changes=["type"])
        .alter_column(t, ColumnDefinition("label", "string", default="new"), changes=["default"])
        .alter_column(
            t,
            ColumnDefinition("state", "enum", values=("a", "b", "c"), default="a"),
            changes=["type"],
        )
    )
    columns = {c.name: c for c in await db.schema.columns(t)}
    assert not columns["n"].nullable and columns["label"].default is not None
    assert "new" in columns["label"].default and not columns["label"].nullable
    await db.query.table(t).insert({"n": 2**40, "s": "y" * 5000, "state": "c"})
    assert await rows(db, t, "id", "n", "label", "state") == [
        {"id": 1, "n": 5, "label": "old", "state": "a"},
        {"id": 2, "n": 2**40, "label": "new", "state": "c"},
    ]
    with pytest.raises(IntegrityError):
        await db.query.table(t).insert({"n": None})
    with pytest.raises(QueryError):
        await db.query.table(t).insert({"n": 1, "state": "z"})
    await db.schema.alter_column(t, ColumnDefinition("n", "big_integer"), changes=["nullable"])
    await db.query.table(t).insert({"n": None})


# ---- indexes, unique constraints, foreign keys ------------------------------------------------
async def test_indexes(db: DatabaseManager, tables: Names) -> None:
    t = tables("t")
    await db.schema.create_table(
        t, lambda b: (b.increments(), b.string("a"), b.string("b"), b.timestamp("gone_at"))
    )
    await db.schema.create_index(t, ["a", "b"]).create_index(
        t, "b", IndexOptions(name=f"{t}_by_b", unique=True, method="btree")
    )
    partial = IndexOptions(name=f"{t}_live_a", unique=True, where="gone_at IS NULL")
    if db.dialect.ddl.partial_indexes:
        await db.schema.create_index(t, "a", partial)
        await db.query.table(t).insert_many(
            [{"a": "x", "gone_at": datetime.datetime.now(datetime.UTC)}] * 2
        )
        await db.query.table(t).insert({"a": "x"})
        with pytest.raises(IntegrityError):
            await db.query.table(t).insert({"a": "x"})
        await db.schema.drop_index(t, f"{t}_live_a")
    else:
        with pytest.raises(UnsupportedOperation, match="partial index"):
            await db.schema.create_index(t, "a", partial)
    indexes = {i.name: i for i in await db.schema.indexes(t)}
    assert indexes[f"{t}_a_b_index"].columns == ("a", "b") and not indexes[f"{t}_a_b_index"].unique
    assert indexes[f"{t}_by_b"].unique
    await db.query.table(t).insert({"b": "same"})
    with pytest.raises(IntegrityError):
        await db.query.table(t).insert({"b": "same"})
    await db.schema.drop_index(t, ["a", "b"]).drop_index(t, f"{t}_by_b")
    assert [i.name for i in await db.schema.indexes(t) if not i.primary] == []
    await db.query.table(t).insert({"b": "same"})


async def test_unique_constraints(db: DatabaseManager, tables: Names) -> None:
    t = tables("t")
    await db.schema.create_table(
        t, lambda b: (b.increments(), b.integer("team"), b.string("email"))
    )
    await db.schema.add_unique(t, ["team", "email"])
    await db.query.table(t).insert_many([{"team": 1, "email": "a"}, {"team": 2, "email": "a"}])
    with pytest.raises(IntegrityError):
        await db.query.table(t).insert({"team": 1, "email": "a"})
    await db.schema.drop_unique(t, ["team", "email"])
    await db.query.table(t).insert({"team": 1, "email": "a"})


async def test_foreign_keys_add_drop_and_actions(db: DatabaseManager, tables: Names) -> None:
    parents, children = tables("parents"), tables("children")
    await db.schema.create_table(parents, lambda t: (t.increments(), t.string("name")))
    await db.schema.create_table(children, lambda t: (t.increments(), t.integer("parent_id")))
    ids = [(await db.query.table(parents).insert({"name": n})).id for n in ("a", "b", "c")]
    await db.query.table(children).insert_many([{"parent_id": i} for i in ids])
    reference = ForeignKeyReference("parent_id", parents, "id", on_delete="cascade")
    await db.schema.add_foreign_key(children, reference)
    (key,) = await db.schema.foreign_keys(children)
    assert (key.name, key.on_delete) == (f"{children}_parent_id_fkey", "CASCADE")
    await db.query.table(parents).where("id", ids[0]).delete()
    assert await rows(db, children, "parent_id") == [{"parent_id": ids[1]}, {"parent_id": ids[2]}]
    with pytest.raises(IntegrityError):
        await db.query.table(children).insert({"parent_id": 999})
    await db.schema.drop_foreign_key(children, ["parent_id"])
    assert await db.schema.foreign_keys(children) == []
    await db.query.table(children).insert({"parent_id": 999})  # no key: allowed now


async def test_changing_a_parent_table_keeps_its_children(
    db: DatabaseManager, tables: Names
) -> None:
    """A change that rebuilds a table (SQLite) must not fire ON DELETE CASCADE of the tables
    that reference it, keeps the id counter, views and CHECKs, and foreign keys stay on."""
    parents, children, view = tables("parents"), tables("children"), tables("view")
    await db.schema.create_table(
        parents, lambda t: (t.increments(), t.string("name"), t.enum("kind", ["x", "y"]))
    )
    await db.schema.create_table(
        children,
        lambda t: (
            t.increments(),
            t.integer("parent_id").references(f"{parents}.id").on_delete("cascade"),
        ),
    )
    ids = [(await db.query.table(parents).insert({"name": n, "kind": "x"})).id for n in "abc"]
    await db.query.table(children).insert_many([{"parent_id": i} for i in ids])
    await db.query.table(parents).where("id", ids[-1]).delete()  # the counter stays past it
    q = db.query.quote
    await db.schema.raw(f"CREATE VIEW {q(view)} AS SELECT {q('id')}, {q('kind')} FROM {q(parents)}")
    try:
        await db.schema.alter_column(parents, ColumnDefinition("name", "text", nullable=False))
        assert len(await rows(db, children, "id")) == 2
        assert (await db.query.table(parents).insert({"name": "d", "kind": "y"})).id > ids[-1]
        assert len(await db.query.raw(f"SELECT * FROM {q(view)}").all()) == 3
        with pytest.raises(QueryError):
            await db.query.table(parents).insert({"name": "e", "kind": "z"})
        with pytest.raises(IntegrityError):
            await db.query.table(children).insert({"parent_id": 999})
    finally:
        await db.schema.raw(f"DROP VIEW {q(view)}")


async def test_rebuild_inside_a_transaction_refuses_to_cascade(
    db: DatabaseManager, tables: Names
) -> None:
    if db.dialect.capabilities.alter_in_place:
        pytest.skip("this engine alters columns in place: no table rebuild")
    parents, children = tables("parents"), tables("children")
    await db.schema.create_table(parents, lambda t: (t.increments(), t.string("name")))
    await db.schema.create_table(
        children, lambda t: (t.increments(), t.integer("p").references(f"{parents}.id"))
    )
    with pytest.raises(UnsupportedOperation, match="reference it"):
        async with db.transaction():
            await db.schema.alter_column(parents, ColumnDefinition("name", "text"))
    async with db.transaction():  # a table nothing references: rebuilt in the transaction
        await db.schema.alter_column(children, ColumnDefinition("p", "big_integer"))
    assert [c.type for c in await db.schema.columns(children)][1] == "BIGINT"


async def test_rebuild_in_a_transaction_with_foreign_keys_off(
    db: DatabaseManager, make_db: MakeDb, tables: Names
) -> None:
    """What a migration runner does for an engine without in-place ALTER: foreign keys off
    on the transaction's connection before BEGIN; the rebuild then runs inside it and checks
    the keys before the commit."""
    if db.dialect.capabilities.alter_in_place:
        pytest.skip("this engine alters columns in place: no table rebuild")
    parents, children = tables("parents"), tables("children")
    await db.schema.create_table(parents, lambda t: (t.increments(), t.string("name")))
    await db.schema.create_table(
        children,
        lambda t: (t.increments(), t.integer("p").references(f"{parents}.id").on_delete("cascade")),
    )
    parent = (await db.query.table(parents).insert({"name": "a"})).id
    await db.query.table(children).insert({"p": parent})
    one = await make_db(pool_size=1)  # so the PRAGMA and the transaction share a connection
    await one.query.raw("PRAGMA foreign_keys = OFF").execute()
    try:
        async with one.transaction():
            schema = one.schema.alter_column(parents, ColumnDefinition("name", "text"))
            planned = await schema.to_sql_async()
            await schema
        assert planned[-1] == "PRAGMA foreign_key_check" and "BEGIN IMMEDIATE" not in planned
        assert await rows(one, children, "p") == [{"p": parent}]
        async with one.transaction():  # a broken key is caught before the commit
            await one.query.table(children).insert({"p": 999})
        with pytest.raises(IntegrityError, match="point nowhere"):
            async with one.transaction():
                await one.schema.alter_column(children, ColumnDefinition("p", "big_integer"))
    finally:
        await one.query.raw("PRAGMA foreign_keys = ON").execute()


async def test_schema_changes_follow_the_transaction(db: DatabaseManager, tables: Names) -> None:
    t = tables("t")
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.schema.create_table(t, lambda b: b.increments())
            raise RuntimeError
    assert await db.schema.has_table(t) is not db.dialect.capabilities.transactional_ddl


# ---- names and literals ---------------------------------------------------------------------
async def test_awkward_identifiers(db: DatabaseManager, tables: Names) -> None:
    t = tables('we"ird`t')

    def define(b: TableBuilder) -> None:
        b.increments()
        b.string("sp ace").index()
        b.integer('quo"te').unique()

    await db.schema.create_table(t, define)
    await db.query.table(t).insert({"sp ace": "a", 'quo"te': 1})
    await db.schema.alter_column(t, ColumnDefinition('quo"te', "big_integer", nullable=False))
    await db.schema.rename_column(t, "sp ace", "back`tick")
    assert [c.name for c in await db.schema.columns(t)] == ["id", "back`tick", 'quo"te']
    assert await rows(db, t, "back`tick", 'quo"te') == [{"back`tick": "a", 'quo"te': 1}]
    names = {i.name for i in await db.schema.indexes(t)}
    assert {f"{t}_sp ace_index", f'{t}_quo"te_unique'} <= names


async def test_long_names_are_shortened_under_the_limit(db: DatabaseManager, tables: Names) -> None:
    t = tables("a_rather_long_table_name_for_limits")  # 47 characters with the prefix
    columns = ["first_long_column_name", "second_long_column_name"]
    await db.schema.create_table(t, lambda b: [b.integer(c) for c in columns])
    await db.schema.create_index(t, columns).add_unique(t, columns)
    names = [i.name for i in await db.schema.indexes(t)]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(len(n.encode()) <= db.dialect.compiler.max_identifier_length for n in names)
    assert names == sorted(
        db.dialect.ddl.constraint_name(t, columns, s) for s in ("index", "unique")
    )


async def test_default_literals_round_trip(db: DatabaseManager, tables: Names) -> None:
    t = tables("t")
    text = "it's \\ 50% ü -- /* */ ? $1 %s"

    def define(b: TableBuilder) -> None:
        b.increments()
        b.string("s").default_to(text)
        b.decimal("d", 6, 3).default_to(decimal.Decimal("-1.250"))
        b.boolean("flag").default_to(True)
        b.date("day").default_to(datetime.date(2000, 1, 31))
        b.integer("n")

    await db.schema.create_table(t, define)
    await db.query.table(t).insert({"n": 1})
    (row,) = await rows(db, t, "s", "d", "flag", "day")
    assert decoded(row, {"d": "decimal", "flag": "boolean", "day": "date"}) == {
        "s": text,
        "d": decimal.Decimal("-1.250"),
        "flag": True,
        "day": datetime.date(2000, 1, 31),
    }
