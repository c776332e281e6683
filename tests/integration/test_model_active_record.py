"""SPEC 7 Active Record on every SQL engine: events, restore / force_delete, query-level
update and delete, relationship builders, soft deletes in every read path, validation
errors, concurrent saves, bulk create_many, eager loading at scale."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterator
from decimal import Decimal

import pytest
from blog import Comment, Post, PostCreate, PostStatus, Profile, Tag, User

from jadugar import ConfigurationError, DatabaseManager, ValidationError

from .test_models import _user
from .test_models import blog as blog  # the fixture: the blog's tables on each engine

__all__ = ["blog"]


@pytest.fixture(autouse=True)
def no_handlers() -> Iterator[None]:
    """Event handlers are per class and global: each test starts and ends without any."""
    for model in (User, Post, Comment, Profile, Tag):
        model.off()
    yield
    for model in (User, Post, Comment, Profile, Tag):
        model.off()


# ---- events ------------------------------------------------------------------------------


async def test_events_fire_in_order_sync_and_async(blog: DatabaseManager) -> None:
    seen: list[str] = []

    def sync(event: str) -> None:
        User.on(event, lambda user: seen.append(f"{event}:{user.name}"))  # type: ignore[arg-type]

    async def record_async(user: User) -> None:
        await asyncio.sleep(0)
        seen.append(f"async-saved:{user.id is not None}")

    for event in ("saving", "creating", "created", "updating", "updated", "saved"):
        sync(event)
    for event in ("deleting", "deleted", "restoring", "restored"):
        sync(event)
    User.on("saved", record_async)

    user = await _user("Ada")
    assert seen == [
        "saving:Ada",
        "creating:Ada",
        "created:Ada",
        "saved:Ada",
        "async-saved:True",
    ]
    seen.clear()
    user.name = "Ada L."
    await user.save()
    assert seen == [
        "saving:Ada L.",
        "updating:Ada L.",
        "updated:Ada L.",
        "saved:Ada L.",
        "async-saved:True",
    ]
    seen.clear()
    await User.update(user.id, login_count=3)
    assert seen[1:3] == ["updating:Ada L.", "updated:Ada L."]
    seen.clear()
    await user.save()  # nothing changed: no updating / updated
    assert seen == ["saving:Ada L.", "saved:Ada L.", "async-saved:True"]
    seen.clear()
    await user.delete()
    await user.restore()
    await user.force_delete()
    assert seen == [
        "deleting:Ada L.",
        "deleted:Ada L.",
        "restoring:Ada L.",
        "restored:Ada L.",
        "deleting:Ada L.",
        "deleted:Ada L.",
    ]


async def test_creating_handler_can_change_the_row(blog: DatabaseManager) -> None:
    def shout(user: User) -> None:
        user.name = user.name.upper()

    User.on("creating", shout)
    user = await _user("ada")
    assert (await User.find(user.id)).name == "ADA"


async def test_raising_in_an_ing_handler_vetoes_the_write(blog: DatabaseManager) -> None:
    def veto(user: User) -> None:
        raise PermissionError(f"no {user.name}")

    User.on("creating", veto)
    with pytest.raises(PermissionError, match="no Ada"):
        await _user("Ada")
    assert await User.query().with_trashed().count() == 0
    User.off("creating", veto)

    user = await _user("Bob")
    User.on("updating", veto)
    user.name = "Robert"
    with pytest.raises(PermissionError):
        await user.save()
    with pytest.raises(PermissionError):
        await User.update(user.id, name="Rob")
    assert (await User.find(user.id)).name == "Bob"

    async def async_veto(user: User) -> None:
        raise PermissionError("kept")

    User.on("deleting", async_veto)
    with pytest.raises(PermissionError, match="kept"):
        await user.delete()
    with pytest.raises(PermissionError, match="kept"):
        await User.delete(user.id)
    with pytest.raises(PermissionError, match="kept"):
        await user.force_delete()
    assert (await User.find(user.id)).deleted_at is None
    User.off("deleting")

    await user.delete()
    User.on("restoring", veto)
    with pytest.raises(PermissionError):
        await user.restore()
    assert await User.find_or_none(user.id) is None

    User.on("saving", veto)
    new = User(name="Cy", email="cy@example.com", password_hash="x")
    with pytest.raises(PermissionError):
        await new.save()
    assert not new.persisted and await User.query().with_trashed().count() == 1


async def test_handlers_belong_to_their_class_and_off_removes_them(
    blog: DatabaseManager,
) -> None:
    seen: list[str] = []
    User.on("created", lambda u: seen.append("user"))
    Post.on("created", lambda p: seen.append(f"post:{p.title}"))
    user = await _user()
    await Post.create(user_id=user.id, title="One")
    await Tag.create(name="none")
    assert seen == ["user", "post:One"]
    Post.off("created")
    await Post.create(user_id=user.id, title="Two")
    assert seen == ["user", "post:One"]
    with pytest.raises(ConfigurationError, match="unknown model event 'creatin'"):
        User.on("creatin", print)  # type: ignore[arg-type]


# ---- soft deletes ------------------------------------------------------------------------


def _trashed(user: User) -> bool:
    return user.deleted_at is not None


async def test_restore_and_force_delete(blog: DatabaseManager) -> None:
    ada, bob = await _user("Ada"), await _user("Bob")
    await ada.delete()
    assert _trashed(ada) and await User.find_or_none(ada.id) is None
    await ada.restore()
    assert not _trashed(ada)
    found = await User.find(ada.id)
    assert found.deleted_at is None and found.updated_at >= ada.created_at
    await ada.force_delete()
    assert not ada.persisted
    assert await User.query().with_trashed().where(User.c.id == ada.id).count() == 0
    await bob.delete()
    await bob.refresh()  # a trashed row can still be reloaded
    assert bob.deleted_at is not None


async def test_query_level_restore_force_delete_and_delete(blog: DatabaseManager) -> None:
    for name in ("Ada", "Bob", "Cy"):
        await _user(name)
    assert await User.query().where(User.c.name != "Cy").delete() == 2
    assert await User.query().only_trashed().delete() == 0  # already trashed: untouched
    assert [u.name for u in await User.query()] == ["Cy"]
    assert await User.query().where(User.c.name == "Ada").restore() == 1
    assert sorted(u.name for u in await User.query()) == ["Ada", "Cy"]
    assert await User.query().only_trashed().force_delete() == 1
    assert await User.query().with_trashed().count() == 2
    assert await User.query().force_delete() == 2
    assert await User.query().with_trashed().count() == 0


async def test_restore_needs_soft_deletes(blog: DatabaseManager) -> None:
    tag = await Tag.create(name="t")
    with pytest.raises(ConfigurationError, match=r"restore\(\): Tag has no soft deletes"):
        await tag._restore()
    with pytest.raises(ConfigurationError, match="has no soft deletes"):
        await Tag.query()._force_delete()


async def test_trashed_rows_are_hidden_in_every_read_path(blog: DatabaseManager) -> None:
    ada, bob = await _user("Ada"), await _user("Bob")
    post = await Post.create(user_id=ada.id, title="By Ada")
    comment = await Comment.create(post_id=post.id, user_id=ada.id, body="hi")
    await Profile.create(user_id=ada.id, bio="hi")
    await ada.delete()

    assert await User.find_or_none(ada.id) is None
    assert await User.find_by(name="Ada").first() is None
    assert await User.find_by(name="Ada") == []
    assert await User.query().count() == 1
    assert not await User.query().where(User.c.name == "Ada").exists()
    page = await User.query().paginate()
    assert page.total == 1 and [u.name for u in page.items] == ["Bob"]
    # relations: eager, lazy, and the relationship builders
    loaded = await Post.query().with_("author", "comments.author").get()
    assert loaded[0].author is None and loaded[0].comments[0].author is None
    await comment.load("author")
    assert comment.author is None
    profile = await Profile.find_by(user_id=ada.id).first()
    assert profile is not None
    assert await profile.belongs_to(User, "user_id").first() is None
    assert await post.belongs_to(User, "user_id").with_trashed().first() == ada
    # the trashed rows are still there when asked for
    assert await User.query().with_trashed().count() == 2
    assert [u.name for u in await User.query().only_trashed()] == ["Ada"]
    assert bob.persisted


# ---- query-level update ------------------------------------------------------------------


async def test_query_update_validates_sets_updated_at_and_counts(blog: DatabaseManager) -> None:
    ada, bob, cy = await _user("Ada"), await _user("Bob"), await _user("Cy")
    await cy.delete()
    old = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    await blog.query.table("users").where({"id": ada.id}).update({"updated_at": old})
    count = await User.query().where(User.c.name != "Bob").update(active=False, login_count=7)
    assert count == 1  # Cy is trashed: not touched
    fresh = await User.find(ada.id)
    assert fresh.active is False and fresh.login_count == 7 and fresh.updated_at > old
    assert (await User.find(bob.id)).active is True
    assert (await User.query().with_trashed().where(User.c.id == cy.id).first()) == cy
    with pytest.raises(ValidationError) as caught:
        await User.query().update(name="x" * 200)
    assert caught.value.errors[0]["field"] == "name"
    assert sorted(u.name for u in await User.query()) == ["Ada", "Bob"]
    assert await User.find_by(name="Bob").update() == 0
    posts = await Post.create_many([{"user_id": ada.id, "title": "a"}])
    assert posts == 1
    assert await Post.query().update(status="published") == 1
    assert (await Post.query().get())[0].status == "published"


# ---- relationship builders ---------------------------------------------------------------


async def test_relationship_builders(blog: DatabaseManager) -> None:
    ada, bob = await _user("Ada"), await _user("Bob")
    await Profile.create(user_id=ada.id, bio="Countess")
    statuses: tuple[PostStatus, ...] = ("draft", "published", "published")
    for n, status in enumerate(statuses):
        post = await Post.create(user_id=ada.id, title=f"P{n}", status=status)
        await Comment.create(post_id=post.id, user_id=bob.id, body=f"c{n}")
    await Post.create(user_id=bob.id, title="Bob's")

    posts = ada.has_many(Post, "user_id")
    assert [p.title for p in await posts.order_by("title").get()] == ["P0", "P1", "P2"]
    assert await posts.count() == 3
    published = posts.where(Post.c.status == "published").order_by("title", "desc")
    assert [p.title for p in await published] == ["P2", "P1"]
    first = await posts.select("title").order_by("title").first()
    assert first is not None and first.title == "P0"
    with_comments = await posts.with_("comments", "author").with_count("comments").get()
    assert all(len(p.comments) == 1 and p.comments_count == 1 for p in with_comments)
    assert all(p.author is not None and p.author.id == ada.id for p in with_comments)
    profile = await ada.has_one(Profile, "user_id").first()
    assert profile is not None and profile.bio == "Countess"
    assert await bob.has_one(Profile, "user_id").first() is None
    author = await with_comments[0].belongs_to(User, "user_id").first()
    assert author == ada
    commenters = await with_comments[0].comments[0].belongs_to(User, "user_id", "id").get()
    assert [u.name for u in commenters] == ["Bob"]
    # an unsaved parent has no related rows (never `user_id IS NULL`)
    unsaved = User(name="New", email="new@example.com", password_hash="x")
    assert await unsaved.has_many(Post, "user_id").get() == []
    orphan = await Comment.create(post_id=with_comments[0].id, body="anonymous")
    assert await orphan.belongs_to(User, "user_id").first() is None


# ---- validation --------------------------------------------------------------------------


async def test_bad_assignment_and_construction_raise_jadugar_validation_error(
    blog: DatabaseManager,
) -> None:
    user = await _user()
    with pytest.raises(ValidationError) as caught:
        user.name = "x" * 500
    assert caught.value.errors[0]["field"] == "name"
    assert user.name == "Ada"
    with pytest.raises(ValidationError, match="login_count"):
        user.login_count = "many"  # type: ignore[assignment]
    await user.save()
    assert (await User.find(user.id)).name == "Ada"
    with pytest.raises(ValidationError, match="email"):
        User(name="Ada", email=None, password_hash="x")  # type: ignore[arg-type]
    assert await User.query().count() == 1


# ---- concurrency -------------------------------------------------------------------------


async def test_concurrent_saves_of_different_fields_keep_both(blog: DatabaseManager) -> None:
    user = await _user()
    for round_ in range(3):
        one, two = await User.find(user.id), await User.find(user.id)
        one.name = f"Name {round_}"
        two.login_count = round_ + 10
        await asyncio.gather(one.save(), two.save())
        fresh = await User.find(user.id)
        assert fresh.name == f"Name {round_}" and fresh.login_count == round_ + 10
    a, b = await User.find(user.id), await User.find(user.id)
    await asyncio.gather(
        User.update(user.id, active=False), a.save(), User.update(user.id, birthday=None)
    )
    b.email = "other@example.com"
    await b.save()
    fresh = await User.find(user.id)
    assert fresh.active is False and fresh.email == "other@example.com"


# ---- bulk --------------------------------------------------------------------------------


async def test_create_many_validates_fills_defaults_and_timestamps(blog: DatabaseManager) -> None:
    ada = await _user()
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    rows: list[PostCreate] = [
        {"user_id": ada.id, "title": f"T{n}", "price": Decimal("1.50")} for n in range(250)
    ]
    rows.append({"user_id": ada.id, "title": "full", "status": "published", "rating": 2.5})
    assert await Post.create_many(rows) == 251
    assert await Post.create_many([]) == 0
    posts = await Post.query().order_by("id").get()
    assert len(posts) == 251
    assert posts[0].status == "draft" and posts[0].reading_minutes == 1
    assert posts[0].price == Decimal("1.50") and posts[0].body is None
    assert posts[-1].status == "published" and posts[-1].rating == 2.5
    assert posts[-1].price == Decimal("0")
    assert all(p.created_at >= before and p.updated_at == p.created_at for p in posts)
    tags = await Tag.create_many([{"name": "a"}, {"name": "b"}])  # no timestamps
    assert tags == 2 and sorted(t.name for t in await Tag.query()) == ["a", "b"]


async def test_create_many_refuses_a_bad_row_and_writes_nothing(blog: DatabaseManager) -> None:
    ada = await _user()
    bad: list[PostCreate] = [
        {"user_id": ada.id, "title": "fine"},
        {"user_id": ada.id, "title": "x" * 201},
        {"user_id": ada.id, "title": "t", "status": "gone"},  # type: ignore[typeddict-item]
    ]
    with pytest.raises(ValidationError) as caught:
        await Post.create_many(bad)
    fields = [e["field"] for e in caught.value.errors]
    assert fields == ["1.title", "2.status"]
    with pytest.raises(ValidationError, match=r"0\.views"):
        await Post.create_many([{"user_id": ada.id, "title": "t", "views": 1}])  # type: ignore[typeddict-unknown-key]
    with pytest.raises(TypeError, match="list of rows"):
        await Post.create_many({"user_id": ada.id, "title": "t"})  # type: ignore[arg-type]
    assert await Post.query().count() == 0


# ---- eager loading at scale --------------------------------------------------------------


async def test_eager_loading_50_users_20_posts_5_comments_in_3_statements(
    blog: DatabaseManager,
) -> None:
    await User.create_many(
        [
            {"name": f"U{n:02}", "email": f"u{n}@example.com", "password_hash": "x"}
            for n in range(50)
        ]
    )
    users = await User.query().order_by("id").get()
    await Post.create_many(
        [{"user_id": u.id, "title": f"{u.name}-{p}"} for u in users for p in range(20)]
    )
    posts = await Post.query().select("user_id").get()
    await Comment.create_many(
        [{"post_id": p.id, "user_id": p.user_id, "body": "b"} for p in posts for _ in range(5)]
    )
    statements: list[str] = []
    blog.on("query", lambda event: statements.append(event["sql"]))
    loaded = await User.query().order_by("id").with_("posts", "posts.comments").get()
    assert len(statements) == 3, statements
    assert len(loaded) == 50
    assert all(len(u.posts) == 20 for u in loaded)
    assert sum(len(p.comments) for u in loaded for p in u.posts) == 5000
    assert all(c.post_id == p.id for u in loaded for p in u.posts for c in p.comments)
    assert all(p.user_id == u.id for u in loaded for p in u.posts)
