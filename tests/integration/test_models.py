"""Generated models (generated/blog) on every SQL engine: CRUD, typed queries, eager
loading, soft deletes, and values read back as the types the schema declares."""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from blog import Comment, Post, Profile, Tag, User

from jadugar import (
    DatabaseManager,
    MigrationOptions,
    NotFoundError,
    RelationNotLoadedError,
    ValidationError,
)
from jadugar.migrations import MigrationManager

from .conftest import MakeDb

ROOT = Path(__file__).resolve().parents[2]
BLOG_TABLES = ("post_tags", "comments", "profiles", "posts", "tags", "users")


@pytest.fixture
async def blog(db: DatabaseManager) -> AsyncIterator[DatabaseManager]:
    """The blog's tables made by its committed migrations (generated/migrations) on ``db``,
    the manager the models use by default (the connected one); rolled back afterwards."""
    history = f"jm_{uuid.uuid4().hex[:8]}"
    options = MigrationOptions(directory=str(ROOT / "generated" / "migrations"), table_name=history)
    migrations = MigrationManager(options, db)
    for table in (*BLOG_TABLES, history):  # leftovers of an interrupted run
        await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(table)}").execute()
    await migrations.migrate()
    try:
        yield db
    finally:
        await migrations.reset()
        await db.query.raw(f"DROP TABLE {db.query.quote(history)}").execute()


async def _user(
    name: str = "Ada",
    *,
    active: bool = True,
    login_count: int = 0,
    api_key: uuid.UUID | None = None,
    birthday: datetime.date | None = None,
) -> User:
    return await User.create(
        name=name,
        email=f"{name.lower()}@example.com",
        password_hash="x" * 20,
        active=active,
        login_count=login_count,
        api_key=api_key,
        birthday=birthday,
    )


async def test_create_returns_key_defaults_and_utc_timestamps(blog: DatabaseManager) -> None:
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    user = await _user()
    assert isinstance(user.id, int) and user.id > 0
    assert user.active is True and user.login_count == 0 and user.deleted_at is None
    assert user.created_at >= before and user.created_at.tzinfo is not None
    assert user.updated_at == user.created_at
    again = await User.find(user.id)
    assert again.model_dump() == user.model_dump()
    assert "password_hash" not in again.model_dump()


async def test_values_come_back_as_the_declared_types(blog: DatabaseManager) -> None:
    key = uuid.uuid4()
    user = await _user(api_key=key, birthday=datetime.date(1815, 12, 10))
    await Profile.create(
        user_id=user.id,
        bio="Countess",
        avatar=b"\x00\xffpng",
        settings={"theme": "dark", "langs": ["en", "fr"], "n": 2},
        wakes_at=datetime.time(6, 30),
    )
    post = await Post.create(user_id=user.id, title="Notes", rating=4.5, price=Decimal("12.34"))
    found_user = await User.find(user.id)
    assert found_user.api_key == key and found_user.birthday == datetime.date(1815, 12, 10)
    profile = await Profile.find_by(user_id=user.id).first()
    assert profile is not None
    assert profile.avatar == b"\x00\xffpng"
    assert profile.settings == {"theme": "dark", "langs": ["en", "fr"], "n": 2}
    assert profile.wakes_at == datetime.time(6, 30)
    found_post = await Post.find(post.id)
    assert found_post.status == "draft" and found_post.reading_minutes == 1
    assert found_post.price == Decimal("12.34") and found_post.rating == 4.5
    assert isinstance(found_user.active, bool)


async def test_find_missing_raises_and_find_or_none_returns_none(blog: DatabaseManager) -> None:
    with pytest.raises(NotFoundError, match="User with id=999 not found"):
        await User.find(999)
    assert await User.find_or_none(999) is None


async def test_find_by_keywords_or_mapping(blog: DatabaseManager) -> None:
    ada = await _user("Ada")
    await _user("Bob", active=False)
    assert [u.name for u in await User.find_by(active=True)] == ["Ada"]
    by_mapping = await User.find_by({"email": "bob@example.com"}).first()
    assert by_mapping is not None and by_mapping.name == "Bob"
    assert await User.find_by(email="nobody@example.com").first() is None
    assert (await User.find_by(id=ada.id).first()) == ada


async def test_typed_query_where_order_limit_count_paginate(blog: DatabaseManager) -> None:
    for name in ("Cy", "Ada", "Bob", "Dee"):
        await _user(name, login_count=len(name))
    names = [u.name for u in await User.query().where(User.c.login_count >= 3).order_by("name")]
    assert names == ["Ada", "Bob", "Dee"]
    top = await User.query().order_by("name", "desc").limit(2).get()
    assert [u.name for u in top] == ["Dee", "Cy"]
    assert await User.query().where(User.c.name.in_(["Ada", "Cy"])).count() == 2
    page = await User.query().order_by("name").paginate(page=2, per_page=3)
    assert [u.name for u in page.items] == ["Dee"] and page.total == 4 and page.pages == 2


async def test_update_validates_first_and_changes_only_that_row(blog: DatabaseManager) -> None:
    ada, bob = await _user("Ada"), await _user("Bob")
    updated = await User.update(ada.id, name="Ada L.")
    assert updated.name == "Ada L." and updated.updated_at >= ada.updated_at
    with pytest.raises(ValidationError, match="name"):
        await User.update(ada.id, name="x" * 500)
    assert (await User.find(ada.id)).name == "Ada L."
    assert (await User.find(bob.id)).name == "Bob"


async def test_create_refuses_invalid_data_and_inserts_nothing(blog: DatabaseManager) -> None:
    with pytest.raises(ValidationError) as caught:
        await User.create(name="y" * 121, email="e@example.com", password_hash="h")
    assert caught.value.errors[0]["field"] == "name"
    assert await User.query().count() == 0


async def test_save_writes_changed_fields_and_refresh_reloads(blog: DatabaseManager) -> None:
    user = await _user()
    copy = await User.find(user.id)
    user.name = "Renamed"
    copy.active = False
    await user.save()
    await copy.save()  # only `active` changed on this copy: the new name survives
    fresh = await User.find(user.id)
    assert fresh.name == "Renamed" and fresh.active is False
    await user.refresh()
    assert user.active is False


async def test_eager_loading_runs_one_statement_per_level(blog: DatabaseManager) -> None:
    users = [await _user(f"U{i}") for i in range(5)]
    for user in users:
        for n in range(3):
            post = await Post.create(user_id=user.id, title=f"{user.name}-{n}")
            for _ in range(2):
                await Comment.create(post_id=post.id, user_id=users[0].id, body="hi")
    statements: list[str] = []
    blog.on("query", lambda event: statements.append(event["sql"]))
    loaded = await User.query().order_by("id").with_("posts", "posts.comments").get()
    assert len(statements) == 3
    assert [len(u.posts) for u in loaded] == [3] * 5
    assert all(len(p.comments) == 2 for u in loaded for p in u.posts)
    assert loaded[1].posts[0].user_id == users[1].id
    counted = await User.query().with_count("posts").order_by("id").get()
    assert [u.posts_count for u in counted] == [3] * 5
    with pytest.raises(RelationNotLoadedError, match=r"User\.profile is not loaded"):
        _ = counted[0].profile


async def test_belongs_to_has_one_and_pivot_relations(blog: DatabaseManager) -> None:
    ada = await _user()
    await Profile.create(user_id=ada.id, bio="hi")
    post = await Post.create(user_id=ada.id, title="Tagged")
    python, sql = await Tag.create(name="python"), await Tag.create(name="sql")
    await blog.query.table("post_tags").insert_many(
        [{"post_id": post.id, "tag_id": python.id}, {"post_id": post.id, "tag_id": sql.id}]
    )
    loaded = await Post.query().with_("author", "tags", "author.profile").first()
    assert loaded is not None
    assert loaded.author is not None and loaded.author.name == "Ada"
    assert loaded.author.profile is not None and loaded.author.profile.bio == "hi"
    assert sorted(t.name for t in loaded.tags) == ["python", "sql"]
    assert (await Post.query().with_count("tags").get())[0].tags_count == 2
    await python.load("posts")
    assert [p.title for p in python.posts] == ["Tagged"]


async def test_soft_delete_hides_rows_until_asked(blog: DatabaseManager) -> None:
    ada, bob = await _user("Ada"), await _user("Bob")
    await User.delete(ada.id)
    assert await User.find_or_none(ada.id) is None
    assert [u.name for u in await User.query()] == ["Bob"]
    assert await User.query().with_trashed().count() == 2
    trashed = await User.query().only_trashed().get()
    assert [u.name for u in trashed] == ["Ada"] and trashed[0].deleted_at is not None
    await bob.delete()
    assert await User.query().count() == 0


async def test_hard_delete_without_soft_deletes(blog: DatabaseManager) -> None:
    tag = await Tag.create(name="gone")
    await Tag.delete(tag.id)
    assert await Tag.query().with_trashed().count() == 0


async def test_model_calls_in_a_transaction_roll_back_together(blog: DatabaseManager) -> None:
    ada = await _user("Ada")
    with pytest.raises(RuntimeError, match="boom"):
        async with blog.transaction():
            await Post.create(user_id=ada.id, title="Draft")
            await User.update(ada.id, name="Changed")
            raise RuntimeError("boom")
    assert await Post.query().count() == 0
    assert (await User.find(ada.id)).name == "Ada"


async def test_bind_routes_a_model_to_another_manager(
    blog: DatabaseManager, make_db: MakeDb
) -> None:
    other = await make_db()
    await _user("Ada")
    Tag.bind(other)
    try:
        assert Tag.query()._builder._session.manager is other
        assert User.query()._builder._session.manager is blog
    finally:
        Tag.bind(None)
    assert Tag.query()._builder._session.manager is blog


async def test_unbound_and_unconnected_models_say_what_to_do() -> None:
    from jadugar.errors import DatabaseConnectionError

    with pytest.raises(DatabaseConnectionError, match=r"connect a DatabaseManager first"):
        await User.find(1)


async def test_an_aware_datetime_keeps_its_instant(blog: DatabaseManager) -> None:
    """A datetime in any time zone is stored as its instant and read back in UTC: by
    save(), by create_many, by the query builder, and found again by a where()."""
    user = await _user()
    noon_in_paris = datetime.datetime(
        2024, 6, 2, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    post = await Post.create(user_id=user.id, title="Saved", published_at=noon_in_paris)
    await Post.create_many(
        [
            {"user_id": user.id, "title": f"Bulk {i}", "published_at": noon_in_paris}
            for i in range(3)
        ]
    )
    await blog.query.table("posts").insert(
        {
            "user_id": user.id,
            "title": "Builder",
            "status": "draft",
            "published_at": noon_in_paris,
            "created_at": noon_in_paris,
            "updated_at": noon_in_paris,
        }
    )
    ten_utc = datetime.datetime(2024, 6, 2, 10, tzinfo=datetime.UTC)
    found = await Post.query().order_by("id").get()
    assert [(p.title, p.published_at) for p in found] == [
        ("Saved", ten_utc),
        *((f"Bulk {i}", ten_utc) for i in range(3)),
        ("Builder", ten_utc),
    ]
    assert (await Post.find(post.id)).published_at == noon_in_paris  # the same instant
    assert await Post.query().where({"published_at": noon_in_paris}).count() == 5
    assert await Post.query().where({"published_at": ten_utc}).count() == 5


@contextlib.asynccontextmanager
async def server_time_zone_away_from_utc(db: DatabaseManager) -> AsyncIterator[None]:
    """New sessions of the server start at +05:30 until the block ends (SQLite has no
    server time zone: its CURRENT_TIMESTAMP is UTC)."""
    q = db.query
    if db.dialect.name == "postgres":
        name = (await q.raw("SELECT current_database() AS name").first() or {})["name"]
        await q.raw(f"ALTER DATABASE {q.quote(name)} SET timezone TO 'Asia/Kolkata'").execute()
        try:
            yield
        finally:
            await q.raw(f"ALTER DATABASE {q.quote(name)} RESET timezone").execute()
    elif db.dialect.name == "mysql":
        before = (await q.raw("SELECT @@global.time_zone AS tz").first() or {})["tz"]
        await q.raw("SET GLOBAL time_zone = '+05:30'").execute()
        try:
            yield
        finally:
            await q.raw("SET GLOBAL time_zone = ?", [before]).execute()
    else:
        yield


@pytest.mark.no_pooler("PgBouncer's pooled server sessions keep the zone they opened in")
async def test_the_servers_now_is_utc_whatever_its_time_zone(
    db: DatabaseManager, make_db: MakeDb
) -> None:
    """A column the server fills with its clock (a pulled `timestamp DEFAULT now()`, a
    DATETIME DEFAULT CURRENT_TIMESTAMP) holds UTC, as models read it, on a server whose
    time zone is not UTC: Jadugar's sessions run in UTC."""
    table = f"tz_{uuid.uuid4().hex[:8]}"
    column = {
        "postgres": "at TIMESTAMP DEFAULT now()",
        "mysql": "at DATETIME DEFAULT CURRENT_TIMESTAMP",
        "sqlite": "at TEXT DEFAULT CURRENT_TIMESTAMP",
    }[db.dialect.name]
    await db.query.raw(f"CREATE TABLE {table} (id INTEGER, {column})").execute()
    try:
        async with server_time_zone_away_from_utc(db):
            fresh = await make_db()  # its sessions open in the shifted zone
            await fresh.query.table(table).insert({"id": 1})
            row = await fresh.query.table(table).first()
        assert row is not None
        at = row["at"]
        at = datetime.datetime.fromisoformat(at) if isinstance(at, str) else at
        late = datetime.datetime.now(datetime.UTC) - at.replace(tzinfo=datetime.UTC)
        assert abs(late) < datetime.timedelta(minutes=2), (at, late)
    finally:
        await db.query.raw(f"DROP TABLE {table}").execute()
