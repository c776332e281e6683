"""The generated blog models (generated/blog) on a MongoDB manager, run in-process by
mongomock: keys from a counters collection, values encoded for BSON and read back as
their Python types, soft deletes, events, eager loading with one operation per level."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from blog import Comment, Post, Profile, Tag, User

import jadugar.models
from jadugar import DatabaseManager, NotFoundError, ValidationError
from jadugar.dialects.mongodb.driver import drop_mongomock_store

UTC = datetime.UTC


@pytest.fixture
async def mdb() -> AsyncIterator[DatabaseManager]:
    name = f"jm_{uuid.uuid4().hex[:12]}"
    manager = DatabaseManager(url=f"mongomock://{name}")
    try:
        async with manager:
            jadugar.models.bind(manager, package="blog")
            try:
                yield manager
            finally:
                jadugar.models.bind(None, package="blog")
    finally:
        drop_mongomock_store(name)


def _operations(db: DatabaseManager) -> list[str]:
    seen: list[str] = []

    def record(payload: dict[str, Any]) -> None:
        seen.append(str(payload["sql"]))

    db.on("query", record)
    return seen


async def _user(name: str = "Ada", **extra: Any) -> User:
    return await User.create(
        name=name, email=f"{name.lower()}@example.com", password_hash="x" * 20, **extra
    )


async def test_bind_and_default_manager_mongomock() -> None:
    name = f"jm_{uuid.uuid4().hex[:12]}"
    try:
        async with DatabaseManager(url=f"mongomock://{name}") as db:
            # the only connected manager: the models' default, as with SQL
            user = await _user()
            assert user.id == 1
            User.bind(db)
            try:
                assert (await User.find(1)).name == "Ada"
            finally:
                User.bind(None)
    finally:
        drop_mongomock_store(name)


async def test_create_find_keys_timestamps_mongomock(mdb: DatabaseManager) -> None:
    ada = await _user("Ada")
    bob = await _user("Bob")
    cid = await _user("Cid")
    assert [ada.id, bob.id, cid.id] == [1, 2, 3]
    assert isinstance(ada.id, int) and ada.persisted
    assert ada.created_at is not None and ada.created_at.tzinfo is not None
    found = await User.find(2)
    assert found == bob
    assert found.created_at == bob.created_at
    assert await User.find_or_none(99) is None
    with pytest.raises(NotFoundError):
        await User.find(99)
    assert [u.id for u in await User.find_by(name="Bob")] == [2]
    assert (await User.find_by({"email": "cid@example.com"}).first()) == cid
    post = await Post.create(user_id=ada.id, title="one")
    assert post.id == 1  # one counter per collection


async def test_update_save_refresh_delete_mongomock(mdb: DatabaseManager) -> None:
    ada = await _user("Ada")
    updated = await User.update(ada.id, name="Ada L.", login_count=3)
    assert updated.name == "Ada L." and updated.login_count == 3
    other = await User.find(ada.id)
    ada.active = False
    await ada.save()
    other.login_count = 7
    await other.save()  # changed fields only: keeps ada's active=False
    await ada.refresh()
    assert ada.active is False and ada.login_count == 7 and ada.name == "Ada L."
    post = await Post.create(user_id=ada.id, title="t")
    await post.delete()
    assert await Post.find_or_none(post.id) is None
    other_post = await Post.create(user_id=ada.id, title="u")
    await Post.delete(other_post.id)
    assert await Post.query().count() == 0


async def test_query_where_order_paginate_mongomock(mdb: DatabaseManager) -> None:
    for i, name in enumerate(["Ann", "Bob", "Cid", "Dee", "Eve"]):
        await _user(name, login_count=i * 10, active=i % 2 == 0)
    adults = await User.query().where(User.c.login_count >= 20).order_by("name", "desc").get()
    assert [u.name for u in adults] == ["Eve", "Dee", "Cid"]
    assert await User.query().where(User.c.active == True).count() == 3  # noqa: E712
    assert [u.name for u in await User.query().order_by(User.c.name).limit(2)] == ["Ann", "Bob"]
    page = await User.query().order_by("id").paginate(page=2, per_page=2)
    assert page.total == 5 and page.pages == 3
    assert [u.name for u in page.items] == ["Cid", "Dee"]
    assert await User.query().where(User.c.name == "Bob").update(login_count=99) == 1
    assert (await User.find_by(name="Bob").first()) is not None
    assert (await User.find(2)).login_count == 99


async def test_soft_deletes_mongomock(mdb: DatabaseManager) -> None:
    ada = await _user("Ada")
    bob = await _user("Bob")
    await ada.delete()
    assert ada.deleted_at is not None
    assert await User.find_or_none(ada.id) is None
    assert [u.id for u in await User.query()] == [bob.id]
    assert await User.find_by(name="Ada") == []
    assert await User.query().count() == 1
    assert {u.id for u in await User.query().with_trashed()} == {ada.id, bob.id}
    assert [u.id for u in await User.query().only_trashed()] == [ada.id]
    await ada.restore()
    assert (await User.find(ada.id)).deleted_at is None
    assert await User.query().where(User.c.name == "Bob").delete() == 1
    assert await User.query().only_trashed().restore() == 1
    await bob.force_delete()
    assert await User.query().with_trashed().count() == 1


async def test_events_and_validation_mongomock(mdb: DatabaseManager) -> None:
    fired: list[str] = []
    for event in ("saving", "creating", "created", "updating", "updated", "saved"):
        User.on(event, lambda u, e=event: fired.append(e))  # type: ignore[misc]
    try:
        ada = await _user("Ada")
        ada.name = "Ada L."
        await ada.save()
    finally:
        User.off()
    created = ["saving", "creating", "created", "saved"]
    assert fired == [*created, "saving", "updating", "updated", "saved"]
    with pytest.raises(ValidationError):
        await User.create(name="x" * 500, email="e", password_hash="p")
    with pytest.raises(ValidationError):
        await User.create_many([{"name": "ok", "email": "e", "password_hash": 5}])  # type: ignore[typeddict-item]
    assert await User.query().with_trashed().count() == 1
    assert (await _user("Bob")).id == 2  # nothing was reserved by the failed writes


async def test_create_many_mongomock(mdb: DatabaseManager) -> None:
    await _user("First")
    rows: list[Any] = [
        {"name": f"u{i}", "email": f"u{i}@x.io", "password_hash": "p", "birthday": None}
        for i in range(5)
    ]
    assert await User.create_many(rows) == 5
    users = await User.query().order_by("id").get()
    assert [u.id for u in users] == [1, 2, 3, 4, 5, 6]
    assert users[1].created_at is not None and users[1].active is True
    assert (await _user("Last")).id == 7


async def test_types_round_trip_mongomock(mdb: DatabaseManager) -> None:
    key = uuid.uuid4()
    ada = await _user("Ada", api_key=key, birthday=datetime.date(1815, 12, 10))
    published = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    post = await Post.create(
        user_id=ada.id,
        title="t",
        status="published",
        rating=4.5,
        price=Decimal("12.34"),
        published_at=published,
    )
    profile = await Profile.create(
        user_id=ada.id,
        avatar=b"\x00\xffpng",
        settings={"theme": "dark", "n": [1, 2]},
        wakes_at=datetime.time(6, 30, 15),
    )
    user = await User.find(ada.id)
    assert user.api_key == key and isinstance(user.api_key, uuid.UUID)
    assert user.birthday == datetime.date(1815, 12, 10)
    assert user.active is True
    got = await Post.find(post.id)
    assert got.price == Decimal("12.34") and isinstance(got.price, Decimal)
    assert got.published_at == published and got.rating == 4.5 and got.status == "published"
    prof = await Profile.find(profile.id)
    assert prof.avatar == b"\x00\xffpng"
    assert prof.settings == {"theme": "dark", "n": [1, 2]}
    assert prof.wakes_at == datetime.time(6, 30, 15)
    # encoded the same way in filters
    assert [u.id for u in await User.find_by(api_key=key)] == [ada.id]
    assert await User.query().where(User.c.birthday == datetime.date(1815, 12, 10)).count() == 1
    assert await User.query().where(User.c.birthday < datetime.date(1900, 1, 1)).count() == 1
    assert await Post.find_by(price=Decimal("12.34")).count() == 1
    assert await Profile.query().where(Profile.c.wakes_at > datetime.time(6, 0)).count() == 1
    await Post.update(post.id, price=Decimal("1.50"))
    assert (await Post.find(post.id)).price == Decimal("1.50")


async def test_eager_loading_one_operation_per_level_mongomock(mdb: DatabaseManager) -> None:
    users = [await _user(n) for n in ("Ann", "Bob", "Cid")]
    for user in users:
        for t in range(2):
            post = await Post.create(user_id=user.id, title=f"{user.name}{t}")
            await Comment.create(post_id=post.id, user_id=users[0].id, body="hi")
    ops = _operations(mdb)
    loaded = await User.query().order_by("id").with_("posts", "posts.comments")
    assert len(ops) == 3  # users, posts, comments
    assert [len(u.posts) for u in loaded] == [2, 2, 2]
    assert all(len(p.comments) == 1 for u in loaded for p in u.posts)
    ops.clear()
    counted = await User.query().order_by("id").with_count("posts")
    assert len(ops) == 2
    assert [u.posts_count for u in counted] == [2, 2, 2]
    post = loaded[0].posts[0]
    await post.load("author")
    assert post.author is not None and post.author.id == loaded[0].id
    assert [p.id for p in await loaded[1].has_many(Post, "user_id").order_by("id")] == [
        p.id for p in loaded[1].posts
    ]


async def test_belongs_to_many_through_pivot_mongomock(mdb: DatabaseManager) -> None:
    ada = await _user("Ada")
    post = await Post.create(user_id=ada.id, title="t")
    tags = [await Tag.create(name=n) for n in ("a", "b")]
    await mdb.query.table("post_tags").insert_many(
        [{"post_id": post.id, "tag_id": t.id} for t in tags]
    )
    ops = _operations(mdb)
    got = await Post.query().with_("tags").with_count("tags").first()
    assert got is not None
    assert sorted(t.name for t in got.tags) == ["a", "b"]
    assert got.tags_count == 2
    assert len(ops) == 4  # posts, pivot, tags, pivot count
