"""`jadugar pull` on every SQL engine: a database built with raw DDL (a self-referencing
foreign key, a join table with a composite key, a composite foreign key, NUMERIC(10,2),
dates and datetimes, PascalCase and spaced names, a Python keyword column, unique and plain
indexes, named foreign keys with ON DELETE actions, a check, an enum) becomes one schema
file; what a schema cannot express (a view, a trigger, a partial or prefix index, a column
of another type, a table without a primary key) is listed; `makemigrations` then writes
nothing, `status` finds no drift, and the generated models read the rows as they are and
write new ones."""

from __future__ import annotations

import asyncio
import datetime
import importlib
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jadugar import DatabaseManager, MigrationOptions
from jadugar.cli import app
from jadugar.migrations import MigrationManager
from jadugar.models import bind
from jadugar_generator.drift import drift
from jadugar_generator.generate import generate
from jadugar_generator.schema.loader import load_schema

from ..engines import dialect_of, url

runner = CliRunner()

# ---- the database, in each engine's own DDL --------------------------------------------------

_PG = [
    "CREATE TYPE mood AS ENUM ('happy', 'sad', 'it''s complicated')",
    """CREATE TABLE authors (
      id SERIAL PRIMARY KEY,
      name VARCHAR(100) NOT NULL,
      email VARCHAR(255) NOT NULL CONSTRAINT authors_email_key UNIQUE,
      bio TEXT,
      active BOOLEAN NOT NULL DEFAULT TRUE,
      born DATE,
      mood mood NOT NULL DEFAULT 'happy',
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      "class" INTEGER,
      token UUID DEFAULT gen_random_uuid(),
      ip INET,
      rating DOUBLE PRECISION DEFAULT -1.5)""",
    "CREATE INDEX authors_name_born_idx ON authors (name, born)",
    "CREATE INDEX authors_lower_name_idx ON authors (lower(name))",
    """CREATE TABLE categories (
      id SERIAL PRIMARY KEY,
      parent_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
      name VARCHAR(50) NOT NULL)""",
    """CREATE TABLE "BlogPosts" (
      "PostId" SERIAL PRIMARY KEY,
      "AuthorId" INTEGER NOT NULL,
      "Title" VARCHAR(200) NOT NULL,
      "Published At" TIMESTAMP,
      price NUMERIC(10, 2) NOT NULL DEFAULT 0,
      category_id INTEGER REFERENCES categories (id),
      body TEXT DEFAULT 'it''s empty',
      views INTEGER NOT NULL DEFAULT 0,
      CONSTRAINT posts_author_fk FOREIGN KEY ("AuthorId") REFERENCES authors (id)
        ON DELETE CASCADE,
      CONSTRAINT posts_price_not_negative CHECK (price >= 0),
      CONSTRAINT blog_posts_author_title_key UNIQUE ("AuthorId", "Title"))""",
    'CREATE INDEX blog_posts_published_idx ON "BlogPosts" ("Published At")',
    'CREATE INDEX blog_posts_popular_idx ON "BlogPosts" (views) WHERE views > 100',
    "CREATE TABLE tags (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE)",
    """CREATE TABLE post_tags (
      post_id INTEGER NOT NULL REFERENCES "BlogPosts" ("PostId") ON DELETE CASCADE,
      tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
      PRIMARY KEY (post_id, tag_id))""",
    """CREATE TABLE order_lines (
      order_no INTEGER NOT NULL, line_no INTEGER NOT NULL,
      qty SMALLINT NOT NULL DEFAULT 1, total BIGINT,
      PRIMARY KEY (order_no, line_no))""",
    """CREATE TABLE shipments (
      id BIGSERIAL PRIMARY KEY,
      order_no INTEGER NOT NULL, line_no INTEGER NOT NULL,
      sent_on DATE NOT NULL DEFAULT CURRENT_DATE,
      CONSTRAINT shipments_line_fk FOREIGN KEY (order_no, line_no)
        REFERENCES order_lines (order_no, line_no) ON DELETE CASCADE ON UPDATE CASCADE)""",
    "CREATE TABLE audit_log (at TIMESTAMPTZ, message TEXT)",
    'CREATE VIEW published_posts AS SELECT * FROM "BlogPosts" WHERE "Published At" IS NOT NULL',
    "CREATE FUNCTION touch_views() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
    'CREATE TRIGGER blog_posts_touch BEFORE UPDATE ON "BlogPosts" FOR EACH ROW'
    " EXECUTE FUNCTION touch_views()",
]
_MYSQL = [
    """CREATE TABLE authors (
      id INTEGER AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(100) NOT NULL,
      email VARCHAR(255) NOT NULL,
      bio TEXT,
      active BOOLEAN NOT NULL DEFAULT TRUE,
      born DATE,
      mood ENUM('happy', 'sad', 'it''s complicated') NOT NULL DEFAULT 'happy',
      created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      `class` INTEGER,
      token CHAR(36) DEFAULT (UUID()),
      ip SET('v4', 'v6'),
      rating DOUBLE DEFAULT -1.5,
      CONSTRAINT authors_email_key UNIQUE (email)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
    "CREATE INDEX authors_name_born_idx ON authors (name, born)",
    "CREATE INDEX authors_bio_prefix_idx ON authors (bio(20))",
    """CREATE TABLE categories (
      id INTEGER AUTO_INCREMENT PRIMARY KEY,
      parent_id INTEGER,
      name VARCHAR(50) NOT NULL,
      FOREIGN KEY (parent_id) REFERENCES categories (id) ON DELETE SET NULL) ENGINE=InnoDB""",
    """CREATE TABLE `BlogPosts` (
      `PostId` INTEGER AUTO_INCREMENT PRIMARY KEY,
      `AuthorId` INTEGER NOT NULL,
      `Title` VARCHAR(200) NOT NULL,
      `Published At` DATETIME,
      price DECIMAL(10, 2) NOT NULL DEFAULT 0,
      category_id INTEGER,
      body TEXT DEFAULT 'it''s empty',
      views INTEGER NOT NULL DEFAULT 0,
      CONSTRAINT posts_author_fk FOREIGN KEY (`AuthorId`) REFERENCES authors (id)
        ON DELETE CASCADE,
      FOREIGN KEY (category_id) REFERENCES categories (id),
      CONSTRAINT posts_price_not_negative CHECK (price >= 0),
      CONSTRAINT blog_posts_author_title_key UNIQUE (`AuthorId`, `Title`)) ENGINE=InnoDB""",
    "CREATE INDEX blog_posts_published_idx ON `BlogPosts` (`Published At`)",
    "CREATE TABLE tags (id INTEGER AUTO_INCREMENT PRIMARY KEY,"
    " name VARCHAR(50) NOT NULL UNIQUE) ENGINE=InnoDB",
    """CREATE TABLE post_tags (
      post_id INTEGER NOT NULL, tag_id INTEGER NOT NULL,
      PRIMARY KEY (post_id, tag_id),
      FOREIGN KEY (post_id) REFERENCES `BlogPosts` (`PostId`) ON DELETE CASCADE,
      FOREIGN KEY (tag_id) REFERENCES tags (id) ON DELETE CASCADE) ENGINE=InnoDB""",
    """CREATE TABLE order_lines (
      order_no INTEGER NOT NULL, line_no INTEGER NOT NULL,
      qty SMALLINT NOT NULL DEFAULT 1, total BIGINT,
      PRIMARY KEY (order_no, line_no)) ENGINE=InnoDB""",
    """CREATE TABLE shipments (
      id BIGINT AUTO_INCREMENT PRIMARY KEY,
      order_no INTEGER NOT NULL, line_no INTEGER NOT NULL,
      sent_on DATE NOT NULL DEFAULT (CURRENT_DATE),
      CONSTRAINT shipments_line_fk FOREIGN KEY (order_no, line_no)
        REFERENCES order_lines (order_no, line_no) ON DELETE CASCADE ON UPDATE CASCADE)
      ENGINE=InnoDB""",
    "CREATE TABLE audit_log (at DATETIME, message TEXT) ENGINE=InnoDB",
    "CREATE VIEW published_posts AS SELECT * FROM `BlogPosts` WHERE `Published At` IS NOT NULL",
    "CREATE TRIGGER blog_posts_touch BEFORE UPDATE ON `BlogPosts` FOR EACH ROW"
    " SET NEW.views = NEW.views",
]
_SQLITE = [
    """CREATE TABLE authors (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name VARCHAR(100) NOT NULL,
      email VARCHAR(255) NOT NULL CONSTRAINT authors_email_key UNIQUE,
      bio TEXT,
      active BOOLEAN NOT NULL DEFAULT 1,
      born DATE,
      mood TEXT NOT NULL DEFAULT 'happy'
        CHECK (mood IN ('happy', 'sad', 'it''s complicated')),
      created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
      "class" INTEGER,
      token CHAR(36),
      ip,
      rating DOUBLE PRECISION DEFAULT -1.5)""",
    "CREATE INDEX authors_name_born_idx ON authors (name, born)",
    "CREATE INDEX authors_lower_name_idx ON authors (lower(name))",
    """CREATE TABLE categories (
      id INTEGER PRIMARY KEY,
      parent_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
      name VARCHAR(50) NOT NULL)""",
    """CREATE TABLE "BlogPosts" (
      "PostId" INTEGER PRIMARY KEY AUTOINCREMENT,
      "AuthorId" INTEGER NOT NULL,
      "Title" VARCHAR(200) NOT NULL,
      "Published At" DATETIME,
      price NUMERIC(10, 2) NOT NULL DEFAULT 0,
      category_id INTEGER REFERENCES categories (id),
      body TEXT DEFAULT 'it''s empty',
      views INTEGER NOT NULL DEFAULT 0,
      CONSTRAINT posts_author_fk FOREIGN KEY ("AuthorId") REFERENCES authors (id)
        ON DELETE CASCADE,
      CONSTRAINT posts_price_not_negative CHECK (price >= 0),
      CONSTRAINT blog_posts_author_title_key UNIQUE ("AuthorId", "Title"))""",
    'CREATE INDEX blog_posts_published_idx ON "BlogPosts" ("Published At")',
    'CREATE INDEX blog_posts_popular_idx ON "BlogPosts" (views) WHERE views > 100',
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE)",
    """CREATE TABLE post_tags (
      post_id INTEGER NOT NULL REFERENCES "BlogPosts" ("PostId") ON DELETE CASCADE,
      tag_id INTEGER NOT NULL REFERENCES tags ON DELETE CASCADE,
      PRIMARY KEY (post_id, tag_id))""",
    """CREATE TABLE order_lines (
      order_no INTEGER NOT NULL, line_no INTEGER NOT NULL,
      qty SMALLINT NOT NULL DEFAULT 1, total BIGINT,
      PRIMARY KEY (order_no, line_no))""",
    """CREATE TABLE shipments (
      id INTEGER PRIMARY KEY,
      order_no INTEGER NOT NULL, line_no INTEGER NOT NULL,
      sent_on DATE NOT NULL DEFAULT CURRENT_DATE,
      CONSTRAINT shipments_line_fk FOREIGN KEY (order_no, line_no)
        REFERENCES order_lines (order_no, line_no) ON DELETE CASCADE ON UPDATE CASCADE)""",
    "CREATE TABLE audit_log (at TIMESTAMP, message TEXT)",
    'CREATE VIEW published_posts AS SELECT * FROM "BlogPosts" WHERE "Published At" IS NOT NULL',
    'CREATE TRIGGER blog_posts_touch AFTER UPDATE ON "BlogPosts" BEGIN SELECT 1; END',
]
DDL = {"postgres": _PG, "mysql": _MYSQL, "sqlite": _SQLITE}
# what each engine's DDL has that a schema file cannot say, as pull names it
SKIPPED = {
    "postgres": [
        "view published_posts",
        "trigger blog_posts_touch on BlogPosts",
        "index blog_posts_popular_idx on BlogPosts: a partial index",
        "index authors_lower_name_idx on authors: an expression index",
        "column authors.ip: its type inet",
        "table audit_log: it has no primary key",
    ],
    "mysql": [
        "view published_posts",
        "trigger blog_posts_touch on BlogPosts",
        "index authors_bio_prefix_idx on authors: an index on a prefix of a column",
        "column authors.ip: its type set('v4','v6')",
        "table audit_log: it has no primary key",
    ],
    "sqlite": [
        "view published_posts",
        "trigger blog_posts_touch on BlogPosts",
        "index blog_posts_popular_idx on BlogPosts: a partial index",
        "index authors_lower_name_idx on authors: an expression index",
        "column authors.ip: it has no declared type",
        "table audit_log: it has no primary key",
    ],
}
PUBLISHED = datetime.datetime(2024, 3, 1, 12, 30, 15)


@dataclass
class Pulled:
    engine: str
    url: str
    db: DatabaseManager  # on the pulled database
    folder: Path  # the project: pyproject.toml, schemas/, migrations/, out/

    async def cli(self, *args: str) -> tuple[int, str]:
        """The CLI in the project folder, in a thread (it runs its own event loop)."""
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(self.folder)
            mp.delenv("JADUGAR_DATABASE_URL", raising=False)
            mp.delenv("DATABASE_URL", raising=False)
            result = await asyncio.to_thread(runner.invoke, app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output


async def _seed(db: DatabaseManager) -> None:
    q = db.query
    await q.table("authors").insert(
        {"name": "Ada", "email": "ada@example.com", "born": datetime.date(1815, 12, 10),
         "class": 1, "mood": "it's complicated"}
    )  # fmt: skip
    await q.table("authors").insert({"name": "Bob", "email": "bob@example.com", "active": False})
    await q.table("categories").insert({"name": "Science"})
    await q.table("categories").insert({"name": "Maths", "parent_id": 1})
    await q.table("BlogPosts").insert(
        {"AuthorId": 1, "Title": "Engines", "Published At": PUBLISHED,
         "price": Decimal("12.50"), "category_id": 2}
    )  # fmt: skip
    await q.table("BlogPosts").insert({"AuthorId": 2, "Title": "Draft"})
    await q.table("tags").insert({"name": "history"})
    await q.table("tags").insert({"name": "computing"})
    await q.table("post_tags").insert_many(
        [{"post_id": 1, "tag_id": 1}, {"post_id": 1, "tag_id": 2}, {"post_id": 2, "tag_id": 2}]
    )
    await q.table("order_lines").insert({"order_no": 7, "line_no": 1, "qty": 3, "total": 10**12})
    await q.table("shipments").insert({"order_no": 7, "line_no": 1})


@pytest.fixture
async def pulled(engine: str, tmp_path: Path) -> AsyncIterator[Pulled]:
    """A database of its own (the whole database is pulled) built from ``DDL`` and
    seeded, and a project folder pointing at it; dropped afterwards."""
    name = f"jt_pull_{uuid.uuid4().hex[:8]}"
    dialect = dialect_of(engine)
    admin: DatabaseManager | None = None
    if dialect == "sqlite":
        target = f"sqlite:///{tmp_path / 'pulled.db'}"
    else:
        admin = DatabaseManager(url=url(engine, tmp_path))
        await admin.connect()
        await admin.query.raw(f"CREATE DATABASE {name}").execute()
        target = url(engine, tmp_path).rsplit("/", 1)[0] + f"/{name}"
    db = DatabaseManager(url=target)
    await db.connect()
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        "[tool.jadugar]\n"
        'schemas = "schemas"\noutput = "out"\nmigrations = "migrations"\n'
        f'package = "pulled_{dialect}_{name[-8:]}"\ndatabase_url = "{target}"\n'
    )
    try:
        for statement in DDL[dialect]:
            await db.query.raw(statement).execute()
        await _seed(db)
        yield Pulled(dialect, target, db, folder)
    finally:
        await db.disconnect()
        if admin is not None:
            force = " WITH (FORCE)" if dialect == "postgres" else ""
            await admin.query.raw(f"DROP DATABASE IF EXISTS {name}{force}").execute()
            await admin.disconnect()


@pytest.fixture
def package_path(pulled: Pulled) -> Iterator[str]:
    """Generated code is imported from the project's out/; unloaded afterwards."""
    out = str(pulled.folder / "out")
    sys.path.insert(0, out)
    try:
        yield out
    finally:
        sys.path.remove(out)
        for module in [m for m in sys.modules if m.startswith("pulled_")]:
            del sys.modules[module]


def _models(pulled: Pulled) -> Any:
    package = next(line.split('"')[1] for line in (pulled.folder / "pyproject.toml")
                   .read_text().splitlines() if line.startswith("package"))  # fmt: skip
    assert generate(pulled.folder / "schemas", pulled.folder / "out", package).written
    importlib.invalidate_caches()  # out/ was listed (empty) by an import before generate
    module = importlib.import_module(package)
    bind(pulled.db, package)
    return module


async def test_pull_writes_a_schema_that_needs_no_migration(pulled: Pulled) -> None:
    code, out = await pulled.cli("pull")
    assert code == 0, out
    for line in SKIPPED[pulled.engine]:
        assert f"skipped: {line}" in out, out
    text = (pulled.folder / "schemas" / "pulled.yaml").read_text()
    for line in SKIPPED[pulled.engine]:  # listed at the top of the file too
        assert f"#   {line}" in text

    schema = load_schema(pulled.folder / "schemas")
    names = [m.name for m in schema.models]
    assert names == ["Author", "BlogPost", "Category", "OrderLine", "PostTag", "Shipment", "Tag"]
    post = schema.model("BlogPost")
    assert post is not None and post.table == "BlogPosts"
    columns = {f.name: f for f in post.fields}
    assert columns["post_id"].db_name == "PostId" and columns["post_id"].auto_increment
    assert columns["published_at"].db_name == "Published At"
    assert columns["price"].type == "decimal"
    assert (columns["price"].precision, columns["price"].scale) == (10, 2)
    assert columns["price"].default == 0 and columns["title"].max_length == 200
    assert columns["author_id"].references is not None
    assert columns["author_id"].references.name == "posts_author_fk"
    assert columns["author_id"].references.on_delete == "cascade"
    assert [c.name for c in post.checks] == ["posts_price_not_negative"]
    assert {(i.columns, i.unique, i.name) for i in post.indexes} == {
        (("author_id", "title"), True, "blog_posts_author_title_key"),
        (("published_at",), False, "blog_posts_published_idx"),
    }
    relations = {r.name: (r.kind, r.model) for r in post.relations}
    assert relations == {
        "author": ("belongs_to", "Author"),
        "category": ("belongs_to", "Category"),
        "post_tags": ("has_many", "PostTag"),
        "tags": ("belongs_to_many", "Tag"),
    }
    author = schema.model("Author")
    assert author is not None
    fields = {f.name: f for f in author.fields}
    assert fields["class_"].db_name == "class"
    assert fields["mood"].type == "enum"
    assert fields["mood"].values == ("happy", "sad", "it's complicated")
    assert fields["created_at"].server_default is not None
    assert fields["created_at"].server_default.kind == "now"
    assert "ip" not in fields
    category = schema.model("Category")
    assert category is not None
    assert {r.name: r.kind for r in category.relations} == {
        "parent": "belongs_to", "children": "has_many", "blog_posts": "has_many"
    }  # fmt: skip
    pivot = schema.model("PostTag")
    assert pivot is not None and pivot.composite_key == ("post_id", "tag_id")
    shipment = schema.model("Shipment")
    assert shipment is not None
    assert [(fk.columns, fk.model, fk.on_delete, fk.name) for fk in shipment.foreign_keys] == [
        (("order_no", "line_no"), "OrderLine", "cascade", "shipments_line_fk")
    ]
    assert (pulled.folder / "migrations" / "schema_snapshot.json").is_file()

    code, out = await pulled.cli("makemigrations", "after_pull")
    assert (code, out) == (0, "no changes: the migrations already cover the schema files\n")
    assert list((pulled.folder / "migrations").glob("*.py")) == []
    code, out = await pulled.cli("makemigrations", "--check")
    assert code == 0, out
    code, out = await pulled.cli("status")
    assert code == 0 and "no drift" in out, out
    code, out = await pulled.cli("pull")
    assert code == 2 and "exists; pass --force" in out and "nothing was written" in out
    code, out = await pulled.cli("pull", "--force")  # status made the history table
    assert code == 0, out
    assert "skipped: table jadugar_migrations: Jadugar's own bookkeeping table" in out
    assert (await pulled.cli("makemigrations", "--check"))[0] == 0


async def test_generated_models_read_and_write_the_rows(pulled: Pulled, package_path: str) -> None:
    code, out = await pulled.cli("pull")
    assert code == 0, out
    m = _models(pulled)
    ada = await m.Author.find(1)
    assert (ada.name, ada.email, ada.class_, ada.mood) == (
        "Ada",
        "ada@example.com",
        1,
        "it's complicated",
    )
    assert ada.born == datetime.date(1815, 12, 10) and ada.active is True and ada.bio is None
    assert isinstance(ada.created_at, datetime.datetime) and ada.rating == -1.5
    post = await m.BlogPost.find(1)
    assert (post.post_id, post.author_id, post.title) == (1, 1, "Engines")
    assert post.price == Decimal("12.50") and post.body == "it's empty" and post.views == 0
    assert post.published_at is not None
    assert post.published_at.replace(tzinfo=None) == PUBLISHED
    draft = await m.BlogPost.find(2)
    assert draft.published_at is None and draft.price == Decimal("0")

    posts = (
        await m.BlogPost.query().with_("author", "category", "post_tags").order_by("post_id").get()
    )
    assert [p.author.name for p in posts] == ["Ada", "Bob"]
    assert [p.category.name if p.category else None for p in posts] == ["Maths", None]
    assert [len(p.post_tags) for p in posts] == [2, 1]
    tags = await m.Tag.query().with_("blog_posts").order_by("id").get()
    assert [[p.title for p in t.blog_posts] for t in tags] == [["Engines"], ["Engines", "Draft"]]
    science = await m.Category.query().with_("children").where({"name": "Science"}).first()
    assert science is not None and [c.name for c in science.children] == ["Maths"]
    line = await m.OrderLine.query().with_("shipments").first()
    assert line is not None and line.total == 10**12 and len(line.shipments) == 1

    cy = await m.Author.create(name="Cy", email="cy@example.com", class_=3, mood="sad")
    assert cy.id == 3
    new = await m.BlogPost.create(
        author_id=cy.id, title="Fresh", published_at=datetime.datetime(2024, 5, 1, 8, 0),
        price=Decimal("9.99"),
    )  # fmt: skip
    await m.PostTag.create(post_id=new.post_id, tag_id=1)
    await m.OrderLine.create(order_no=7, line_no=2)
    await m.Shipment.create(order_no=7, line_no=2)
    post.title = "Engines, revised"
    await post.save()

    q = pulled.db.query
    row = await q.table("authors").where({"id": 3}).first()
    assert row is not None and (row["name"], row["class"], row["mood"]) == ("Cy", 3, "sad")
    assert row["active"] in (True, 1) and row["created_at"] is not None
    row = await q.table("BlogPosts").where({"PostId": new.post_id}).first()
    assert (
        row is not None
        and row["Title"] == "Fresh"
        and Decimal(str(row["price"])) == Decimal("9.99")
    )
    assert row["body"] == "it's empty"  # the database's default
    fresh = await m.BlogPost.find(new.post_id)
    assert fresh.published_at == datetime.datetime(2024, 5, 1, 8, 0, tzinfo=datetime.UTC)
    assert await q.table("post_tags").where({"post_id": new.post_id}).count() == 1
    row = await q.table("order_lines").where({"order_no": 7, "line_no": 2}).first()
    assert row is not None and row["qty"] == 1
    assert await q.table("shipments").count() == 2
    row = await q.table("BlogPosts").where({"PostId": 1}).first()
    assert row is not None and row["Title"] == "Engines, revised"
    assert Decimal(str(row["price"])) == Decimal("12.50")  # the rest of the row as it was
    again = await m.BlogPost.find(1)
    assert again.published_at is not None and again.published_at.replace(tzinfo=None) == PUBLISHED
    code, out = await pulled.cli("status")
    assert code == 0 and "no drift" in out, out


async def test_a_baseline_migration_builds_the_same_database_from_nothing(
    pulled: Pulled, tmp_path: Path
) -> None:
    """``pull --baseline``: 0001_baseline.py, recorded as applied where the tables are,
    creates them on an empty database, where drift then finds nothing to report either."""
    code, out = await pulled.cli("pull", "--baseline")
    assert code == 0, out
    assert "wrote migrations/0001_baseline.py" in out
    folder = pulled.folder / "migrations"
    assert sorted(p.name for p in folder.iterdir()) == ["0001_baseline.py", "schema_snapshot.json"]
    code, out = await pulled.cli("status")
    assert code == 0 and "0001_baseline" in out and "applied" in out and "no drift" in out, out
    code, out = await pulled.cli("migrate")
    assert (code, out) == (0, "nothing to migrate\n")
    code, out = await pulled.cli("makemigrations", "--check")
    assert code == 0, out
    name = f"jt_fresh_{uuid.uuid4().hex[:8]}"
    if pulled.engine == "sqlite":
        fresh = DatabaseManager(url=f"sqlite:///{tmp_path / 'fresh.db'}")
    else:
        await pulled.db.query.raw(f"CREATE DATABASE {name}").execute()
        fresh = DatabaseManager(url=pulled.url.rsplit("/", 1)[0] + f"/{name}")
    try:
        async with fresh:
            runs = await MigrationManager(MigrationOptions(directory=str(folder)), fresh).migrate()
            assert [run.name for run in runs] == ["0001_baseline"]
            assert await drift(fresh, folder) == []
            assert await fresh.query.table("BlogPosts").count() == 0
    finally:
        if pulled.engine != "sqlite":
            force = " WITH (FORCE)" if pulled.engine == "postgres" else ""
            await pulled.db.query.raw(f"DROP DATABASE IF EXISTS {name}{force}").execute()


async def test_nothing_is_written_on_an_error(pulled: Pulled) -> None:
    schemas, migrations = pulled.folder / "schemas", pulled.folder / "migrations"
    code, out = await pulled.cli("pull", "--url", "mongomock://pull_test")
    assert code == 2 and "nothing was written" in out, out
    code, out = await pulled.cli("pull", "--url", "sqlite:///missing.db")
    assert code == 2 and "there is no SQLite database at missing.db" in out, out
    assert not (pulled.folder / "missing.db").exists()
    assert not schemas.exists() and not migrations.exists()
    schemas.mkdir()  # another file of the folder declares a model pull makes too
    other = "models:\n  Tag:\n    table: labels\n    fields:\n      id: {type: int, primary_key: true}\n"
    (schemas / "other.yaml").write_text(other)
    code, out = await pulled.cli("pull")
    assert code == 2 and "duplicate model 'Tag'" in out and "nothing was written" in out, out
    assert sorted(p.name for p in schemas.iterdir()) == ["other.yaml"]
    assert not migrations.exists()
    (schemas / "other.yaml").unlink()
    migrations.mkdir()
    (migrations / "0001_initial.py").write_text("# a migration\n")
    code, out = await pulled.cli("pull")
    assert code == 2 and "already has migrations" in out, out
    code, out = await pulled.cli("pull", "--no-snapshot", "--file", "legacy.yaml")
    assert code == 0, out
    assert sorted(p.name for p in schemas.iterdir()) == ["legacy.yaml"]
    assert not (migrations / "schema_snapshot.json").exists()
    assert [p.name for p in pulled.folder.rglob(".*")] == []  # no temporary file left


async def test_belongs_to_many_from_a_model_whose_key_is_not_id(
    pulled: Pulled, package_path: str
) -> None:
    code, out = await pulled.cli("pull")
    assert code == 0, out
    m = _models(pulled)
    posts = await m.BlogPost.query().with_("tags").order_by("post_id").get()
    assert [sorted(t.name for t in p.tags) for p in posts] == [
        ["computing", "history"],
        ["computing"],
    ]


@pytest.mark.engines("postgres")
async def test_an_aware_datetime_into_a_timestamp_without_time_zone(
    pulled: Pulled, package_path: str
) -> None:
    code, out = await pulled.cli("pull")
    assert code == 0, out
    m = _models(pulled)
    post = await m.BlogPost.find(1)
    noon_in_paris = datetime.datetime(
        2024, 6, 1, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    post.published_at = noon_in_paris
    await post.save()
    again = await m.BlogPost.find(1)
    assert again.published_at == noon_in_paris  # the same instant, read back as UTC
    assert again.published_at.utcoffset() == datetime.timedelta(0)
    stored = await pulled.db.query.raw(
        'SELECT "Published At"::text AS t FROM "BlogPosts" WHERE "PostId" = 1'
    ).first()
    assert stored == {"t": "2024-06-01 10:00:00"}  # kept as naive UTC in the column


@pytest.mark.engines("postgres")
async def test_aware_datetimes_in_bulk_inserts_into_a_timestamp_without_time_zone(
    pulled: Pulled, package_path: str
) -> None:
    """create_many (600 rows: COPY) and insert_many (3 rows: one multi-row INSERT) keep
    the instant, as save() does, inside a transaction too (a refused COPY would abort
    it); the first row leaves the column null, so its type alone says what to convert."""
    code, out = await pulled.cli("pull")
    assert code == 0, out
    m = _models(pulled)
    noon_in_paris = datetime.datetime(
        2024, 6, 2, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    hour = datetime.timedelta(hours=1)
    rows = [
        {"author_id": 1, "title": f"Bulk {i:03}", "published_at": noon_in_paris + i * hour}
        for i in range(600)
    ]
    rows[0]["published_at"] = None
    async with pulled.db.transaction():
        assert await m.BlogPost.create_many(rows) == 600
        await pulled.db.query.table("BlogPosts").insert_many(
            [
                {"AuthorId": 2, "Title": f"Small {i}", "Published At": noon_in_paris + i * hour}
                for i in range(3)
            ]
        )
    stored = await pulled.db.query.raw(
        'SELECT "Title" AS title, "Published At"::text AS t FROM "BlogPosts"'
        " WHERE \"Title\" IN ('Bulk 000', 'Bulk 001', 'Bulk 599', 'Small 0', 'Small 2')"
        ' ORDER BY "PostId"'
    ).all()
    assert stored == [
        {"title": "Bulk 000", "t": None},
        {"title": "Bulk 001", "t": "2024-06-02 11:00:00"},
        {"title": "Bulk 599", "t": "2024-06-27 09:00:00"},
        {"title": "Small 0", "t": "2024-06-02 10:00:00"},
        {"title": "Small 2", "t": "2024-06-02 12:00:00"},
    ]
    found = await m.BlogPost.query().where({"title": "Bulk 001"}).first()
    assert found is not None and found.published_at == noon_in_paris + hour
