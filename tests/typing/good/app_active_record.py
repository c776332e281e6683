"""Events, relationship builders, soft-delete instance methods, query-level updates and
bulk inserts over the generated ``blog`` models.

Checked by ``tests/typing/test_typing.py`` with ``mypy --strict``; never executed.
"""

from __future__ import annotations

from typing import assert_type

from blog import Comment, CommentQuery, Post, PostCreate, PostQuery, Profile, User, UserQuery

from jadugar import Model, RelationshipBuilder


def audit(user: User) -> None:
    print("saving", user.email)


async def notify(post: Post) -> None:
    print("published", post.title)


def anything(model: Model) -> None:
    print(type(model).__name__)


def register_handlers() -> None:
    User.on("saving", audit)
    User.on("creating", lambda user: assert_type(user, User))
    Post.on("created", notify)
    Post.on("deleted", anything)  # a handler for any model fits every model
    User.off("saving", audit)
    User.off("creating")
    User.off()


async def relations(user: User, post: Post) -> None:
    posts = user.has_many(Post, "user_id")
    assert_type(posts, PostQuery)
    assert_type(await posts.get(), list[Post])
    assert_type(
        await posts.where(Post.c.status == "published").order_by("title").first(), Post | None
    )
    assert_type(await posts.select("title").with_("comments").with_count("tags").get(), list[Post])
    assert_type(await posts.count(), int)
    assert_type(await user.has_one(Profile, "user_id").first(), Profile | None)
    author = post.belongs_to(User, "user_id")
    assert_type(author, UserQuery)
    assert_type(await author.first(), User | None)
    loose: RelationshipBuilder[Post] = user.has_many(Post, "user_id")
    assert_type(await loose.get(), list[Post])
    replies = post.has_many(Comment, "post_id")
    assert_type(replies, CommentQuery)
    assert_type(await replies.with_trashed().get(), list[Comment])


async def soft_deletes(user: User) -> None:
    await user.delete()
    await user.restore()
    await user.force_delete()
    assert_type(await User.query().only_trashed().restore(), int)
    assert_type(await User.query().only_trashed().force_delete(), int)


async def bulk(user_id: int) -> int:
    rows: list[PostCreate] = [{"user_id": user_id, "title": f"Post {n}"} for n in range(10)]
    assert_type(await Post.create_many(rows), int)
    renamed = await Post.query().where(Post.c.user_id == user_id).update(status="archived")
    assert_type(renamed, int)
    return await User.find_by(active=False).update(active=True)
