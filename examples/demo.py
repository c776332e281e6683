"""`make demo`: the whole Jadugar story on the embedded SQLite default (no server needed).

schemas/ -> `jadugar generate` -> generated/blog (typed models, run by `make demo` first)
         -> `jadugar makemigrations` -> generated/migrations (applied here)
         -> models: create, query, eager load, count, soft delete, a transaction.

Set JADUGAR_DATABASE_URL (or DATABASE_URL) to run the same demo on PostgreSQL or MariaDB.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
from pathlib import Path

from blog import Activity, ActivityActor, ActivityEntries, Comment, Post, Tag, User

from jadugar import DatabaseManager, IntegrityError, MigrationOptions, ValidationError, fn
from jadugar.migrations import MigrationManager
from jadugar.models import bind

MIGRATIONS = Path(__file__).resolve().parents[1] / "generated" / "migrations"


def show(title: str, value: object) -> None:
    print(f"  {title:<40} {value}")


async def main() -> None:
    overrides = (
        {}
        if os.environ.get("JADUGAR_DATABASE_URL") or os.environ.get("DATABASE_URL")
        else {"url": "sqlite:///demo.db"}
    )
    async with DatabaseManager.from_env(**overrides) as db:
        print(f"Jadugar demo on {db.dialect.name} ({db.options.url_masked})\n")

        print("1. migrate: the blog's committed migrations")
        migrations = MigrationManager(
            MigrationOptions(directory=str(MIGRATIONS), table_name="demo_migrations"), db
        )
        await migrations.reset()  # start clean on every run
        for run in await migrations.migrate():
            show(f"applied {run.name}", f"{len(run.statements)} statements")

        print("2. models: create (validated, typed)")
        ada = await User.create(name="Ada", email="ada@example.com", password_hash="x")
        grace = await User.create(name="Grace", email="grace@example.com", password_hash="y")
        show("User.create -> id, created_at", (ada.id, ada.created_at.isoformat()))
        try:
            await User.create(name="L" * 200, email="long@example.com", password_hash="z")
        except ValidationError as exc:
            show("refused before the database", exc.errors[0]["field"])
        python = await Tag.create(name="python")
        for user, titles in ((ada, ["Engines", "Notes"]), (grace, ["Compilers"])):
            for title in titles:
                post = await Post.create(user_id=user.id, title=title, status="published")
                await Comment.create(post_id=post.id, user_id=grace.id, body=f"on {title}")
        await db.query.table("post_tags").insert({"post_id": post.id, "tag_id": python.id})

        print("3. typed queries and eager loading (one statement per level)")
        statements: list[str] = []
        db.on("query", lambda event: statements.append(event["sql"]))
        users = await User.query().order_by("name").with_("posts", "posts.comments").get()
        for user in users:
            show(f"{user.name} wrote", [p.title for p in user.posts])
        show("statements for users+posts+comments", len(statements))
        counted = await User.query().with_count("posts").order_by("name").get()
        show("with_count(posts)", {u.name: u.posts_count for u in counted})
        tagged = (
            await Post.query().with_("tags", "author").where(Post.c.title == "Compilers").first()
        )
        if tagged is not None and tagged.author is not None:
            show("Compilers: author, tags", (tagged.author.name, [t.name for t in tagged.tags]))
        show("posts by Ada (find_by)", len(await Post.find_by(user_id=ada.id)))

        print("4. soft delete")
        await User.delete(grace.id)
        show("User.query().count()", await User.query().count())
        show("with_trashed().count()", await User.query().with_trashed().count())

        print("5. a transaction (all or nothing)")
        try:
            async with db.transaction():
                await Post.create(user_id=ada.id, title="Draft")
                await User.create(name="Dup", email="ada@example.com", password_hash="d")
        except IntegrityError as exc:
            show("rolled back on", f"IntegrityError ({exc.constraint})")
        show("posts after the rollback", await Post.query().count())

        print("6. the query builder underneath: a join and aggregates")
        rows = await (
            db.query.table("posts")
            .join("users", {"users.id": "posts.user_id"})
            .select("users.name as author", fn.count().as_("posts"))
            .group_by("users.name")
            .order_by("users.name")
            .all()
        )
        show("posts per author", [(r["author"], r["posts"]) for r in rows])

        print("\nhealth:", (await db.health_check()).model_dump(exclude={"pool", "replicas"}))

    await on_mongodb()


async def on_mongodb() -> None:
    """The same generated models on MongoDB: mongomock in-process unless
    JADUGAR_MONGODB_URL names a server."""
    url = os.environ.get("JADUGAR_MONGODB_URL", "mongomock://jadugar_demo")
    async with DatabaseManager(url=url) as mongo:
        print(f"\n7. the same models on MongoDB ({mongo.options.url_masked})")
        options = MigrationOptions(directory=str(MIGRATIONS / "mongodb"))
        runs = await MigrationManager(options, mongo).migrate()
        show("MongoDB migrations applied", [run.name for run in runs] or "none pending")
        show("collections", await mongo.document_schema.collections())
        bind(mongo, package="blog")
        try:
            for collection in ("users", "posts", "comments", "activities", "jadugar_counters"):
                await mongo.query.table(collection).delete().all_rows()
            ada = await User.create(name="Ada", email="ada@example.com", password_hash="x")
            for title in ("Engines", "Notes"):
                post = await Post.create(user_id=ada.id, title=title, status="published")
                await Comment.create(post_id=post.id, user_id=ada.id, body=f"on {title}")
            operations: list[str] = []
            mongo.on("query", lambda event: operations.append(event["sql"]))
            users = await User.query().with_("posts", "posts.comments").get()
            show("Ada's posts (from documents)", [p.title for p in users[0].posts])
            show("operations for users+posts+comments", len(operations))
            await User.delete(ada.id)
            show(
                "after a soft delete: count, with_trashed",
                (await User.query().count(), await User.query().with_trashed().count()),
            )
            await activity_feed()
        finally:
            bind(None, package="blog")


async def activity_feed() -> None:
    """What only MongoDB has (schemas/feed.yaml, engine: mongodb): an ObjectId key and
    embedded documents, one and a list."""
    print("\n8. an activity feed: ObjectId keys, embedded documents")
    at = datetime.datetime.now(datetime.UTC)
    activity = await Activity.create(
        kind="posted",
        user_id=1,
        actor=ActivityActor(name="Ada"),
        entries=[ActivityEntries(text="Engines", at=at), ActivityEntries(text="Notes", at=at)],
    )
    show("key (an ObjectId, as str)", activity.id)
    found = await Activity.find(activity.id)
    show("actor, entries (embedded models)", (found.actor.name, [e.text for e in found.entries]))
    try:
        await Activity.create(kind="liked", user_id=1, actor=ActivityActor(name="x" * 200))
    except ValidationError as exc:
        show("an embedded field is validated too", str(exc).splitlines()[0])


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
