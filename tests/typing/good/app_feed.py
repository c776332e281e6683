"""A blog feed: typed queries, eager loading, counts and pages over posts and comments.

Checked by ``tests/typing/test_typing.py`` with ``mypy --strict``; never executed.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import assert_type

from blog import Comment, Post, PostQuery, PostStatus, Profile, Tag, User, UserQuery

from jadugar.models import Page


def active_writers() -> UserQuery:
    since = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    return (
        User.query()
        .where((User.c.login_count >= 3) & (User.c.created_at > since))
        .where((User.c.name == "Ada") | ~User.c.email.like("%@example.com"))
        .where(User.c.id.in_([1, 2, 3]), User.c.deleted_at.is_null())
        .where(User.c.birthday.between(datetime.date(1950, 1, 1), datetime.date(2010, 1, 1)))
        .where(User.c.api_key == None)  # noqa: E711  (``== None`` compiles to IS NULL)
        .select("id", "name", "email")
        .order_by("created_at", "desc")
        .order_by(User.c.name)
        .limit(10)
        .offset(20)
        .with_("posts", "posts.comments", "profile")
        .with_count("posts", "comments")
    )


async def writers_page(page: int) -> Page[User]:
    query = active_writers()
    users = await query.get()
    assert_type(users, list[User])
    for user in users:
        assert_type(user.posts, list[Post])
        assert_type(user.comments, list[Comment])
        assert_type(user.profile, Profile | None)
        assert_type(user.posts_count, int)
        assert_type(user.comments_count, int)
        for post in user.posts:
            assert_type(post.author, User | None)
            assert_type(post.comments, list[Comment])
            for comment in post.comments:
                assert_type(comment.post, Post | None)
                assert_type(comment.author, User | None)
    assert_type(await query.first(), User | None)
    assert_type(await query.count(), int)
    assert_type(await query.exists(), bool)
    assert_type(await query, list[User])
    assert_type(await User.query(), list[User])
    result = await query.paginate(page=page, per_page=5)
    assert_type(result, Page[User])
    assert_type(result.items, list[User])
    assert_type(result.total, int)
    assert_type(result.pages, int)
    return result


async def publish(author: User, title: str) -> Post:
    status: PostStatus = "published"
    post = await Post.create(
        user_id=author.id,
        title=title,
        status=status,
        body=None,
        rating=4.5,
        price=Decimal("9.99"),
        published_at=datetime.datetime.now(datetime.UTC),
    )
    assert_type(post.status, PostStatus)
    assert_type(post.price, Decimal)
    assert_type(post.rating, float | None)
    await Comment.create(post_id=post.id, body="First!")
    await Comment.create(post_id=post.id, user_id=None, body="anonymous")
    tag = await Tag.create(name="python")
    assert_type(tag, Tag)
    return post


def published_by(author_id: int) -> PostQuery:
    return (
        Post.find_by(user_id=author_id, status="published")
        .filter_by(body=None)
        .where((Post.c.status != "draft") & Post.c.price.between(Decimal(0), Decimal(100)))
        .where(Post.c.rating.not_in([0.0]), Post.c.title.ilike("%async%"))
        .order_by(Post.c.published_at, "desc")
        .with_("author", "tags", "comments.author")
        .with_count("comments", "tags")
    )


async def post_page(post_id: int) -> str:
    post = await Post.find(post_id)
    await post.load("author", "comments", "tags")
    author = post.author
    assert_type(author, User | None)
    name = "anonymous" if author is None else author.name
    tags: list[Tag] = post.tags
    assert_type(tags[0].posts, list[Post])
    return f"{post.title} by {name} ({len(post.comments)} comments, {len(tags)} tags)"


async def moderate(post_id: int) -> int:
    spam = Comment.query().where(Comment.c.post_id == post_id, Comment.c.body.like("%spam%"))
    removed = await spam.delete()
    assert_type(removed, int)
    await Post.update(post_id, status="archived", rating=None)
    await Comment.delete(1)
    trashed = await User.query().only_trashed().get()
    everyone = await User.query().with_trashed().count()
    return removed + len(trashed) + everyone


async def profile_settings(user_id: int) -> str:
    profile = await Profile.find_by(user_id=user_id).first()
    if profile is None:
        profile = await Profile.create(
            user_id=user_id,
            bio="Hello",
            settings={"theme": "dark", "sizes": [1, 2.5], "beta": None},
            wakes_at=datetime.time(7, 30),
        )
    assert_type(profile.wakes_at, datetime.time | None)
    assert_type(profile.avatar, bytes | None)
    owner = profile.user
    assert_type(owner, User | None)
    return profile.bio or ""
