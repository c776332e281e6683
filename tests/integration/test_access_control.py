"""Access control: read-only managers, model scopes, and PostgreSQL row-level security
through per-transaction session variables."""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest

from jadugar import (
    ConfigurationError,
    DatabaseManager,
    MigrationOptions,
    NotFoundError,
    QueryError,
    ReadOnlyError,
)
from jadugar.migrations.runner import MigrationManager

from .access_models import NOTES, AcAuthor, AcNote, create_tables, drop_tables
from .conftest import MakeDb, Tables

ROOT = Path(__file__).resolve().parents[2]

tenant: ContextVar[int | None] = ContextVar("tenant")


# ---- read-only managers -------------------------------------------------------------------


def _watch(db: DatabaseManager) -> list[str]:
    """Every statement ``db`` sends (succeeded or failed)."""
    seen: list[str] = []
    db.on("query", lambda payload: seen.append(payload["sql"]))
    db.on("error", lambda payload: seen.append(payload["sql"]))
    return seen


async def test_read_only_manager_refuses_every_write_before_the_server(
    tables: Tables, make_db: MakeDb
) -> None:
    await tables.seed()
    ro = await make_db(read_only=True)
    seen = _watch(ro)
    users = ro.query.table(tables.users)
    q = tables.q
    refused: list[tuple[Any, str, str | None]] = [
        (users.insert({"name": "Zed", "email": "z@example.com"}), "insert", tables.users),
        (users.insert_many([{"name": "Zed", "email": "z@example.com"}]), "insert_many", None),
        (users.upsert({"name": "Ada", "email": "ada@example.com"}, ["email"]), "upsert", None),
        (users.where("name", "Ada").update({"age": 1}), "update", tables.users),
        (users.where("name", "Ada").delete(), "delete", tables.users),
        (users.all_rows().delete(), "delete", tables.users),
        (ro.query.raw(f"DELETE FROM {q(tables.users)}"), "raw SQL delete", None),
        (ro.query.raw(f"UPDATE {q(tables.users)} SET age = 1"), "raw SQL update", None),
        (ro.query.raw(f"INSERT INTO {q(tables.items)} (n) VALUES (1)"), "raw SQL insert", None),
        (ro.query.raw(f"DROP TABLE {q(tables.items)}"), "raw SQL drop", None),
        (ro.query.raw(f"SELECT * FROM {q(tables.users)} FOR UPDATE"), "raw SQL update", None),
        (ro.schema.drop_table(tables.items), "schema change drop_table()", tables.items),
        (
            ro.schema.create_table("ac_never", lambda t: t.increments("id")),
            "schema change create_table()",
            "ac_never",
        ),
    ]
    for write, operation, table in refused:
        with pytest.raises(ReadOnlyError) as caught:
            await write
        assert caught.value.operation == operation
        assert str(caught.value).startswith(operation)
        if table is not None:
            assert caught.value.table == table
            assert repr(table) in str(caught.value)
    raw_delete = ro.query.raw(f"DELETE FROM {q(tables.users)} RETURNING id")
    with pytest.raises(ReadOnlyError):
        await raw_delete.all()
    migrations = MigrationManager(
        MigrationOptions(directory=str(ROOT / "generated" / "migrations"), table_name="ac_none"),
        ro,
    )
    with pytest.raises(ReadOnlyError, match=r"^migrate refused"):
        await migrations.migrate()
    with pytest.raises(ReadOnlyError, match=r"^rollback refused"):
        await migrations.rollback()
    assert seen == [], "nothing reached the server"

    # reads work, in and out of transactions, through the builder and raw SQL
    assert await users.count() == 5
    assert [r["name"] for r in await users.where("age", ">", 30).order_by("name")] == [
        "Ada",
        "Dee",
    ]
    rows = await ro.query.raw(f"SELECT name FROM {q(tables.users)} WHERE age > ?", [50]).all()
    assert rows == [{"name": "Dee"}]
    async with ro.transaction() as tx:
        assert await tx.table(tables.posts).count() == 6
        with pytest.raises(ReadOnlyError):
            await tx.table(tables.posts).where("title", "Solo").delete()
    assert await tables.db.query.table(tables.users).count() == 5
    assert await tables.db.query.table(tables.posts).count() == 6


@pytest.mark.no_pooler(
    "no session-level READ ONLY behind a pooler: test_pgbouncer.py checks what holds there"
)
async def test_read_only_sessions_refuse_writes_on_the_server_too(
    tables: Tables, make_db: MakeDb
) -> None:
    """The second line: a write sent past the client check, straight on a pooled
    connection, fails on the server."""
    ro = await make_db(read_only=True)
    sql = f"INSERT INTO {tables.q(tables.items)} (n, label) VALUES (1, 'x')"
    async with ro.pool.connection() as conn:
        with pytest.raises(QueryError):
            await conn.execute(sql, (), None)
    assert await tables.db.query.table(tables.items).count() == 0
    # the same statement goes through on a writable manager's connections
    async with tables.db.pool.connection() as conn:
        await conn.execute(sql, (), None)
    assert await tables.db.query.table(tables.items).count() == 1


@pytest.fixture
async def notes(db: DatabaseManager) -> AsyncIterator[DatabaseManager]:
    """The AcAuthor / AcNote tables on ``db`` (the models' default manager)."""
    await create_tables(db)
    try:
        yield db
    finally:
        AcNote.remove_scope()
        AcAuthor.remove_scope()
        AcNote.bind(None)
        await drop_tables(db)


async def test_read_only_models_refuse_writes_before_their_events(
    notes: DatabaseManager, make_db: MakeDb
) -> None:
    ada = await AcAuthor.create("Ada")
    kept = await AcNote.create(title="kept", author_id=ada.id)
    trashed = await AcNote.create(title="trashed")
    await trashed.delete()
    ro = await make_db(read_only=True)
    AcNote.bind(ro)
    fired: list[AcNote] = []
    AcNote.on("saving", fired.append)
    AcNote.on("deleting", fired.append)
    try:
        note = await AcNote.find(kept.id)
        gone = await AcNote.query().only_trashed().first()
        assert gone is not None
        note.title = "changed"
        writes: list[tuple[str, Coroutine[Any, Any, object]]] = [
            ("AcNote.save()", note.save()),
            ("AcNote.create()", AcNote.create(title="new")),
            ("AcNote.create_many()", AcNote.create_many([{"title": "a"}, {"title": "b"}])),
            ("AcNote.update()", AcNote.update(kept.id, title="changed")),
            ("AcNote.delete()", note.delete()),
            ("AcNote.force_delete()", note.force_delete()),
            ("AcNote.restore()", gone.restore()),
            ("update", AcNote.query().update(title="all")),
            ("update", AcNote.query().delete()),  # a soft delete sets deleted_at
            ("delete", AcNote.query().with_trashed().force_delete()),
        ]
        for operation, write in writes:
            with pytest.raises(ReadOnlyError) as caught:
                await write
            assert caught.value.operation == operation
            assert caught.value.table == NOTES
        with pytest.raises(ReadOnlyError):
            await AcNote.delete(kept.id)
        assert fired == []
        assert [n.title for n in await AcNote.query().with_("author")] == ["kept"]
        assert await AcNote.query().with_trashed().count() == 2
    finally:
        AcNote.off()
        AcNote.bind(None)
    assert (await AcNote.find(kept.id)).title == "kept"


# ---- model scopes -----------------------------------------------------------------------


@pytest.fixture
def tenant_scope(notes: DatabaseManager) -> Iterator[None]:
    AcNote.add_scope("tenant", lambda: {"tenant_id": tenant.get()})
    yield


async def _seed_notes() -> dict[str, AcNote]:
    """Notes of tenants 1 and 2 (written with tenant explicitly chosen), by title."""
    ada = await AcAuthor.create("Ada")
    made: dict[str, AcNote] = {}
    for tenant_id, title in ((1, "one-a"), (1, "one-b"), (2, "two-a"), (2, "two-b"), (2, "two-c")):
        token = tenant.set(tenant_id)
        try:
            made[title] = await AcNote.create(title=title, author_id=ada.id)
        finally:
            tenant.reset(token)
    return made


async def test_scope_filters_every_read(tenant_scope: None) -> None:
    made = await _seed_notes()
    tenant.set(1)
    assert sorted(n.title for n in await AcNote.query()) == ["one-a", "one-b"]
    assert (await AcNote.find(made["one-a"].id)).title == "one-a"
    with pytest.raises(NotFoundError):
        await AcNote.find(made["two-a"].id)
    assert await AcNote.find_or_none(made["two-a"].id) is None
    assert await AcNote.find_by(title="two-a") == []
    assert await AcNote.find_by(title="one-b").first() == made["one-b"]
    assert await AcNote.query().count() == 2
    assert await AcNote.query().where(AcNote.c.title == "two-b").exists() is False
    page = await AcNote.query().order_by("title").paginate(1, 1)
    assert (page.total, [n.title for n in page.items]) == (2, ["one-a"])
    # opting out, by name or all at once
    assert await AcNote.query().without_scope("tenant").count() == 5
    assert await AcNote.query().without_scopes().where(AcNote.c.tenant_id == 2).count() == 3
    with pytest.raises(ConfigurationError, match="no such scope"):
        AcNote.query().without_scope("tenat")
    # the scope is read each time a query runs
    tenant.set(2)
    assert await AcNote.query().count() == 3
    # a Condition scope, and a scope returning None (no filter now)
    AcNote.add_scope("no_c", lambda: AcNote.c.title != "two-c")
    assert sorted(n.title for n in await AcNote.query()) == ["two-a", "two-b"]
    AcNote.add_scope("tenant", lambda: None)  # same name: replaces it
    assert await AcNote.query().count() == 4
    AcNote.remove_scope("no_c")
    assert await AcNote.query().count() == 5
    with pytest.raises(ConfigurationError, match="no scope 'no_c'"):
        AcNote.remove_scope("no_c")


async def test_scope_filters_updates_and_deletes(tenant_scope: None) -> None:
    made = await _seed_notes()
    tenant.set(1)
    other = made["two-a"]  # loaded before the scope applied: a stale handle to tenant 2's row
    other.title = "hijacked"
    await other.save()
    with pytest.raises(NotFoundError):
        await other.refresh()
    with pytest.raises(NotFoundError):
        await AcNote.update(other.id, title="hijacked")
    with pytest.raises(NotFoundError):
        await AcNote.delete(other.id)
    await other.delete()
    await other.force_delete()
    assert await AcNote.query().update(title="mine") == 2
    unscoped = AcNote.query().without_scopes()
    titles = sorted(n.title for n in await unscoped)
    assert titles == ["mine", "mine", "two-a", "two-b", "two-c"]
    assert await AcNote.query().delete() == 2  # soft deletes, of tenant 1 only
    assert await AcNote.query().only_trashed().restore() == 2
    assert await AcNote.query().where(AcNote.c.title == "mine").force_delete() == 2
    tenant.set(2)
    assert sorted(n.title for n in await AcNote.query()) == ["two-a", "two-b", "two-c"]
    mine = await AcNote.find(other.id)
    await mine.delete()
    assert await AcNote.query().count() == 2


async def test_scope_applies_to_relations(tenant_scope: None) -> None:
    await _seed_notes()
    tenant.set(1)
    (ada,) = await AcAuthor.query().with_("notes").with_count("notes")
    assert sorted(n.title for n in ada.notes) == ["one-a", "one-b"]
    assert ada.notes_count == 2
    related = ada.has_many(AcNote, "author_id")
    assert await related.count() == 2
    assert sorted(n.title for n in await related.get()) == ["one-a", "one-b"]
    first = await related.where(AcNote.c.title == "two-a").first()
    assert first is None
    assert await related.without_scope("tenant").count() == 5
    (note,) = await AcNote.query().where(AcNote.c.title == "one-a").with_("author")
    assert note.author_id == ada.id


async def test_create_fills_the_columns_a_scope_names(tenant_scope: None) -> None:
    tenant.set(7)
    note = await AcNote.create(title="filled")
    assert note.tenant_id == 7
    chosen = await AcNote.create(title="chosen", tenant_id=8)  # a given value is kept
    assert chosen.tenant_id == 8
    built = AcNote(title="built")
    await built.save()
    assert built.tenant_id == 7
    assert await AcNote.create_many([{"title": "m1"}, {"title": "m2", "tenant_id": 9}]) == 2
    rows = await AcNote.query().without_scopes().order_by("id")
    assert [(n.title, n.tenant_id) for n in rows] == [
        ("filled", 7),
        ("chosen", 8),
        ("built", 7),
        ("m1", 7),
        ("m2", 9),
    ]
    assert [n.title for n in await AcNote.query().order_by("id")] == ["filled", "built", "m1"]


async def test_a_scope_without_its_context_fails_closed(tenant_scope: None) -> None:
    await _seed_notes()

    async def in_fresh_context() -> None:
        with pytest.raises(LookupError):
            await AcNote.query().count()

    await asyncio.create_task(in_fresh_context(), context=contextvars.Context())


async def test_scopes_belong_to_their_class_and_its_subclasses(notes: DatabaseManager) -> None:
    class Pinned(AcNote):
        pass

    class Draft(AcNote):
        pass

    for title in ("pin", "draft", "plain"):
        await AcNote.create(title=title)
    Pinned.add_scope("pinned", lambda: {"title": "pin"})
    try:
        assert [n.title for n in await Pinned.query()] == ["pin"]
        assert await Draft.query().count() == 3
        assert await AcNote.query().count() == 3
        AcNote.add_scope("no_plain", lambda: AcNote.c.title != "plain")
        assert await Draft.query().count() == 2  # a base class's scope reaches subclasses
        assert [n.title for n in await Pinned.query()] == ["pin"]
        with pytest.raises(ConfigurationError):
            Draft.query().without_scope("pinned")
    finally:
        Pinned.remove_scope()


# ---- PostgreSQL row-level security --------------------------------------------------------


@pytest.fixture
async def rls_table(db: DatabaseManager) -> AsyncIterator[tuple[str, str]]:
    """A table with row-level security on ``tenant_id = app.tenant_id`` and a LOGIN role
    (not a superuser, owns nothing) granted on it; both dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    role, table = f"ac_rls_role_{suffix}", f"ac_rls_{suffix}"
    statements = [
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS",
        f"CREATE TABLE {table} (id SERIAL PRIMARY KEY, tenant_id INTEGER NOT NULL,"
        " title TEXT NOT NULL)",
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_tenant ON {table} USING"
        " (tenant_id = nullif(current_setting('app.tenant_id', true), '')::int)",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}",
        f"GRANT USAGE ON SEQUENCE {table}_id_seq TO {role}",
        f"INSERT INTO {table} (tenant_id, title) VALUES (1, 'one-a'), (1, 'one-b'), (2, 'two-a')",
    ]
    try:
        for sql in statements:
            await db.query.raw(sql).execute()
        yield role, table
    finally:
        await db.query.raw(f"DROP TABLE IF EXISTS {table}").execute()
        await db.query.raw(f"DROP ROLE IF EXISTS {role}").execute()


def _tenant_settings() -> Mapping[str, str]:
    current = tenant.get(None)
    return {} if current is None else {"app.tenant_id": str(current)}


@pytest.mark.engines("postgres")
async def test_row_level_security_sees_only_the_tenants_rows(
    db: DatabaseManager, rls_table: tuple[str, str]
) -> None:
    role, table = rls_table
    url = db.options.reveal_url().replace("postgres@", f"{role}@", 1)
    async with DatabaseManager(url=url, session_variables=_tenant_settings, pool_size=1) as app:
        rows = app.query.table(table).order_by("title")

        async def titles() -> list[str]:
            return [r["title"] for r in await rows.all()]

        tenant.set(1)
        assert await titles() == ["one-a", "one-b"]
        assert await app.query.raw(f"SELECT count(*) AS n FROM {table}").first() == {"n": 2}
        assert [r["title"] async for r in rows.stream(batch_size=1)] == ["one-a", "one-b"]
        async with app.transaction() as tx:
            assert await tx.table(table).count() == 2
            assert await tx.table(table).where("tenant_id", 2).count() == 0
        # writes see the same rows: tenant 1 cannot touch tenant 2's row
        assert (await app.query.table(table).where("title", "two-a").delete()).row_count == 0
        await app.query.table(table).insert({"tenant_id": 1, "title": "one-c"})
        tenant.set(2)
        assert await titles() == ["two-a"]
        async with app.transaction() as tx:
            await tx.table(table).where("title", "two-a").update({"title": "two-b"})
        assert await titles() == ["two-b"]
        # no tenant: nothing is set, and nothing is left over on the one pooled connection
        tenant.set(1)
        assert len(await titles()) == 3
        token = tenant.set(None)
        setting = await app.query.raw("SELECT current_setting('app.tenant_id', true) AS v").first()
        assert setting is not None and setting["v"] in ("", None)
        assert await titles() == []
        async with app.transaction() as tx:
            assert await tx.table(table).count() == 0
        tenant.reset(token)
    # the owner (a superuser, RLS bypassed) sees every row
    assert await db.query.table(table).count() == 4


@pytest.mark.engines("postgres")
async def test_a_cached_read_is_never_another_tenants(
    db: DatabaseManager, rls_table: tuple[str, str]
) -> None:
    role, table = rls_table
    url = db.options.reveal_url().replace("postgres@", f"{role}@", 1)
    async with DatabaseManager(url=url, session_variables=_tenant_settings, pool_size=1) as app:
        cached = app.query.table(table).order_by("title").cache(ttl=60)
        tenant.set(1)
        assert [r["title"] for r in await cached.all()] == ["one-a", "one-b"]
        tenant.set(2)
        assert [r["title"] for r in await cached.all()] == ["two-a"]  # not tenant 1's entry
        tenant.set(1)
        assert [r["title"] for r in await cached.all()] == ["one-a", "one-b"]
        metrics = app.cache_metrics()
        assert (metrics.hits, metrics.misses) == (1, 2)
        tenant.set(None)


@pytest.mark.engines("postgres")
async def test_session_variables_arrive_verbatim_and_must_be_text(make_db: MakeDb) -> None:
    hostile = "it's a \\ back\\'slash'); SELECT pg_sleep(1); --  \u00e9"
    app = await make_db(session_variables=lambda: {"app.note": hostile})
    read = "SELECT current_setting('app.note') AS v"
    assert await app.query.raw(read).first() == {"v": hostile}
    async with app.transaction() as tx:
        assert await tx.raw(read).first() == {"v": hostile}
    broken = await make_db(session_variables=lambda: {"app.tenant_id": 7})
    with pytest.raises(ConfigurationError, match="must be str"):
        await broken.query.raw("SELECT 1 AS one").first()
