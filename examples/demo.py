"""`make demo`: the Jadugar runtime on the embedded SQLite default (no server needed).

Set JADUGAR_DATABASE_URL (or DATABASE_URL) to run the same demo on PostgreSQL or MariaDB.
"""

from __future__ import annotations

import asyncio
import os
import sys

from jadugar import DatabaseManager, IntegrityError, fn

DEMO_TABLES = ("demo_posts", "demo_users")

DDL = {
    "sqlite": [
        "CREATE TABLE demo_users (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " name VARCHAR(120) NOT NULL, email VARCHAR(255) NOT NULL UNIQUE, active BOOLEAN NOT NULL)",
        "CREATE TABLE demo_posts (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " user_id INTEGER NOT NULL REFERENCES demo_users(id), title VARCHAR(200) NOT NULL,"
        " views INTEGER NOT NULL DEFAULT 0)",
    ],
    "postgres": [
        "CREATE TABLE demo_users (id SERIAL PRIMARY KEY, name VARCHAR(120) NOT NULL,"
        " email VARCHAR(255) NOT NULL UNIQUE, active BOOLEAN NOT NULL)",
        "CREATE TABLE demo_posts (id SERIAL PRIMARY KEY,"
        " user_id INTEGER NOT NULL REFERENCES demo_users(id), title VARCHAR(200) NOT NULL,"
        " views INTEGER NOT NULL DEFAULT 0)",
    ],
    "mysql": [
        "CREATE TABLE demo_users (id INTEGER AUTO_INCREMENT PRIMARY KEY,"
        " name VARCHAR(120) NOT NULL, email VARCHAR(255) NOT NULL UNIQUE, active BOOLEAN NOT NULL)",
        "CREATE TABLE demo_posts (id INTEGER AUTO_INCREMENT PRIMARY KEY,"
        " user_id INTEGER NOT NULL, title VARCHAR(200) NOT NULL, views INTEGER NOT NULL DEFAULT 0,"
        " FOREIGN KEY (user_id) REFERENCES demo_users(id))",
    ],
}


def show(title: str, value: object) -> None:
    print(f"  {title:<38} {value}")


async def main() -> None:
    overrides = (
        {}
        if os.environ.get("JADUGAR_DATABASE_URL") or os.environ.get("DATABASE_URL")
        else {"url": "sqlite:///demo.db"}
    )
    async with DatabaseManager.from_env(**overrides) as db:
        print(f"Jadugar demo on {db.dialect.name} ({db.options.url_masked})\n")
        qb = db.query

        print("1. a table")
        for table in DEMO_TABLES:
            await qb.raw(f"DROP TABLE IF EXISTS {qb.quote(table)}").execute()
        for statement in DDL[db.dialect.name]:
            await qb.raw(statement).execute()
        show("created", ", ".join(reversed(DEMO_TABLES)))

        print("2. inserts")
        ada = await qb.table("demo_users").insert(
            {"name": "Ada", "email": "ada@example.com", "active": True}
        )
        show("insert one -> id", ada.id)
        result = await qb.table("demo_users").insert_many(
            [
                {"name": "Grace", "email": "grace@example.com", "active": True},
                {"name": "Linus", "email": "linus@example.com", "active": False},
            ]
        )
        show("insert_many -> rows", result.row_count)

        print("3. a transaction (all or nothing)")
        async with db.transaction() as tx:
            user = await tx.table("demo_users").insert(
                {"name": "Barbara", "email": "barbara@example.com", "active": True}
            )
            await tx.table("demo_posts").insert_many(
                [
                    {"user_id": user.id, "title": "Abstraction", "views": 120},
                    {"user_id": user.id, "title": "Data types", "views": 80},
                ]
            )
        show("committed: posts by Barbara", await qb.table("demo_posts").count())
        try:
            async with db.transaction() as tx:
                await tx.table("demo_posts").insert(
                    {"user_id": ada.id, "title": "Notes", "views": 1}
                )
                await tx.table("demo_users").insert(
                    {"name": "Dup", "email": "ada@example.com", "active": True}
                )
        except IntegrityError as exc:
            show("rolled back on", f"IntegrityError ({exc.constraint})")
        show("posts after the rollback", await qb.table("demo_posts").count())

        print("4. a join")
        rows = await (
            qb.table("demo_posts")
            .join("demo_users", {"demo_users.id": "demo_posts.user_id"})
            .select("demo_users.name as author", "demo_posts.title")
            .order_by("demo_posts.title")
            .all()
        )
        for row in rows:
            show(f"{row['author']} wrote", row["title"])

        print("5. aggregates")
        show("active users", await qb.table("demo_users").where({"active": True}).count())
        show("total views", await qb.table("demo_posts").sum("views"))
        per_author = await (
            qb.table("demo_posts")
            .select("user_id", fn.count().as_("posts"), fn.sum("views").as_("views"))
            .group_by("user_id")
            .all()
        )
        show("per author", per_author)

        print("\nhealth:", (await db.health_check()).model_dump(exclude={"pool", "replicas"}))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
