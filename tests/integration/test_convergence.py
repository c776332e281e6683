"""Convergence of auto-diffed migrations, on every SQL engine.

A schema evolves through nine versions that together use every kind of change the diff
detects. After each ``makemigrations`` + ``migrate`` the live schema (introspected through
the catalogs) equals the schema of a fresh database migrated straight to that version by one
migration generated from nothing; rolling back step by step gives back each earlier schema,
and nothing at the end. Rows written at the first version survive the renames, the added
column with a default and the widened type, both ways.

The fresh database is a second database of the same server (PostgreSQL and MariaDB
``CREATE DATABASE``; SQLite another file), so table, index and constraint names are
compared as they are, with nothing to normalize away.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jadugar import DatabaseManager, MigrationOptions
from jadugar.migrations import MigrationManager
from jadugar_generator.makemigrations import make_migration

from ..engines import SERVERS, url


@dataclass(frozen=True)
class Version:
    yaml: str
    steps: tuple[str, ...]  # summaries the generated migration must contain


def _models(*blocks: str) -> str:
    return "models:\n" + "".join(blocks)


def _author(
    *,
    model: str = "Author",
    table: str = "authors",
    renamed_from: str | None = None,
    fields: str,
) -> str:
    moved = f"\n    renamed_from: {renamed_from}" if renamed_from else ""
    return (
        f'  {model}:\n    table: "{{p}}_{table}"{moved}\n    fields:\n'
        "      id: {{type: int, primary_key: true, auto_increment: true}}\n" + fields
    )


def _book(fields: str, extra: str = "") -> str:
    return (
        '  Book:\n    table: "{p}_books"\n    fields:\n'
        "      id: {{type: int, primary_key: true, auto_increment: true}}\n" + fields + extra
    )


TAG = (
    '  Tag:\n    table: "{p}_tags"\n    fields:\n'
    "      id: {{type: int, primary_key: true, auto_increment: true}}\n"
    "      label: {{type: str, max_length: 30}}\n"
)
PUBLISHER = (
    '  Publisher:\n    table: "{p}_publishers"\n    fields:\n'
    "      id: {{type: int, primary_key: true, auto_increment: true}}\n"
    "      name: {{type: str, max_length: 80}}\n"
)

A1 = (
    "      name: {{type: str, max_length: 50}}\n"
    "      bio: {{type: text, nullable: true}}\n"
    "      age: {{type: int, nullable: true}}\n"
)
A2 = A1 + (
    "      email: {{type: str, max_length: 120, nullable: true}}\n"
    "      rank: {{type: int, default: 0}}\n"
)
A3 = (
    "      full_name: {{type: str, max_length: 50, renamed_from: name}}\n"
    "      age: {{type: int, nullable: true}}\n"
    "      email: {{type: str, max_length: 120, nullable: true}}\n"
    "      rank: {{type: int, default: 0}}\n"
)
A5 = (
    "      full_name: {{type: str, max_length: 100}}\n"
    "      age: {{type: int, nullable: true}}\n"
    "      email: {{type: str, max_length: 120, nullable: true}}\n"
    "      rank: {{type: int, default: 1}}\n"
)
A6 = A5.replace("nullable: true}}\n      rank", "nullable: true, unique: true}}\n      rank")

B1 = (
    "      author_id: {{type: int, references: {{model: Author, on_delete: cascade}}}}\n"
    "      title: {{type: str, max_length: 50}}\n"
    "      pages: {{type: int, nullable: true}}\n"
    "      state: {{type: enum, values: [draft, published], default: draft}}\n"
)
B2 = B1 + "      publisher_id: {{type: int, nullable: true}}\n"
B3 = B2.replace("[draft, published]", "[draft, published, archived]")
B4 = B3.replace("model: Author", "model: Writer")
B5 = (
    B4.replace("title: {{type: str, max_length: 50}}", "title: {{type: str, max_length: 50, "
               "nullable: true}}")
    .replace("pages: {{type: int,", "pages: {{type: bigint,")
)  # fmt: skip
B6 = (
    B5.replace("on_delete: cascade", "on_delete: restrict")
    .replace("nullable: true}}\n      pages", "nullable: true, index: true}}\n      pages")
    .replace(
        "publisher_id: {{type: int, nullable: true}}",
        "publisher_id: {{type: int, nullable: true, references: "
        "{{model: Publisher, on_delete: set_null}}}}",
    )
)
INDEXES = "    indexes:\n      - {{columns: [author_id, state]}}\n"
TAGS = (
    "    relations:\n      tags: {{kind: belongs_to_many, model: Tag, "
    'through: "{p}_book_tags", foreign_key: book_id, other_key: tag_id}}\n'
)
B7 = B6.replace("nullable: true, index: true}}", "nullable: true}}")
B8 = B7.replace(
    "      publisher_id: {{type: int, nullable: true, references: "
    "{{model: Publisher, on_delete: set_null}}}}\n",
    "",
)

WRITER = {"model": "Writer", "table": "writers"}
VERSIONS = [
    Version(_models(_author(fields=A1), _book(B1), TAG), ("create table",)),
    Version(
        _models(_author(fields=A2), _book(B2), PUBLISHER, TAG),
        (
            "create table {p}_publishers",
            "add column {p}_authors.email",
            "add column {p}_authors.rank",
            "add column {p}_books.publisher_id",
        ),
    ),
    Version(
        _models(_author(fields=A3), _book(B3), PUBLISHER, TAG),
        (
            "rename column {p}_authors.name to full_name",
            "drop column {p}_authors.bio",
            "alter column {p}_books.state (type)",
        ),
    ),
    Version(
        _models(_author(**WRITER, renamed_from="Author", fields=A3), _book(B4), PUBLISHER, TAG),
        ("rename table {p}_authors to {p}_writers",),
    ),
    Version(
        _models(_author(**WRITER, fields=A5), _book(B5), PUBLISHER, TAG),
        (
            "alter column {p}_writers.full_name (type)",
            "alter column {p}_writers.rank (default)",
            "alter column {p}_books.pages (type)",
            "alter column {p}_books.title (nullable)",
        ),
    ),
    Version(
        _models(_author(**WRITER, fields=A6), _book(B6, INDEXES), PUBLISHER, TAG),
        (
            "add unique {p}_writers.",
            "add index {p}_books.{p}_books_title_index",
            "add index {p}_books.{p}_books_author_id_state_index",
            "add foreign key {p}_books.{p}_books_publisher_id_fkey",
            "drop foreign key {p}_books.",
            "add foreign key {p}_books.{p}_books_author_id_fkey",
        ),
    ),
    Version(
        _models(_author(**WRITER, fields=A5), _book(B7, INDEXES + TAGS), PUBLISHER, TAG),
        (
            "create table {p}_book_tags",
            "drop unique {p}_writers.",
            "drop index {p}_books.{p}_books_title_index",
        ),
    ),
    Version(
        _models(_author(**WRITER, fields=A5), _book(B8, TAGS), TAG),
        (
            "drop table {p}_publishers",
            "drop column {p}_books.publisher_id",
            "drop index {p}_books.{p}_books_author_id_state_index",
        ),
    ),
    Version(
        _models(_author(**WRITER, fields=A5), _book(B8)),
        ("drop table {p}_tags", "drop table {p}_book_tags"),
    ),
]
TABLES = ("authors", "writers", "books", "tags", "publishers", "book_tags")

# ---- introspection, normalized -------------------------------------------------------------

Shape = dict[str, dict[str, Any]]


def _default(text: str | None) -> str | None:
    if text is None or text.upper() == "NULL":
        return None
    return text.strip()


async def shape(db: DatabaseManager, prefix: str) -> Shape:
    """The test's tables as the catalogs describe them: columns by name (type words,
    nullability, default text; column order is left out: ``ADD COLUMN`` appends), indexes
    and unique constraints by name, foreign keys by name with their actions."""
    result: Shape = {}
    for name in TABLES:
        table = f"{prefix}_{name}"
        if not await db.schema.has_table(table):
            continue
        columns = sorted(
            (
                c.name,
                " ".join(c.type.lower().split()),
                c.nullable,
                # PostgreSQL: nextval('<old table>_id_seq') stays after a table rename
                "auto increment" if c.auto_increment else _default(c.default),
            )
            for c in await db.schema.columns(table)
        )
        fks = sorted(
            (
                f.name or "",
                f.columns,
                f.table,
                f.references,
                f.on_delete.upper(),
                f.on_update.upper(),
            )
            for f in await db.schema.foreign_keys(table)
        )
        indexes = sorted(
            (i.name, i.columns, i.unique)
            for i in await db.schema.indexes(table)
            # MySQL's own index behind a foreign key, named after the key (`_fkey`): MySQL
            # creates it with the key, may drop it when another index can serve the key,
            # and keeps it when the key is dropped, so a database that saw a key come and
            # go keeps an index a fresh one does not have (harmless: a later key of that
            # name reuses it)
            if not i.primary and not (i.name.endswith("_fkey") and not i.unique)
        )
        result[table] = {"columns": columns, "indexes": indexes, "foreign_keys": fks}
    return result


# ---- the fresh database -----------------------------------------------------------------------


@pytest.fixture
async def fresh(engine: str, tmp_path: Path) -> AsyncIterator[DatabaseManager]:
    """A connected manager on a second, empty database of the same server."""
    name = f"jadugar_fresh_{uuid.uuid4().hex[:10]}"
    if engine == "sqlite":
        db = DatabaseManager(url=f"sqlite:///{tmp_path / 'fresh.db'}")
        await db.connect()
        yield db
        await db.disconnect()
        return
    admin_url = url(engine, tmp_path)
    host, port = SERVERS[engine]
    if engine == "postgres":
        admin_url = f"postgresql://postgres@{host}:{port}/postgres"
        fresh_url = f"postgresql://postgres@{host}:{port}/{name}"
    else:
        fresh_url = f"mysql://root@{host}:{port}/{name}"
    admin = DatabaseManager(url=admin_url)
    await admin.connect()
    try:
        await admin.query.raw(f"CREATE DATABASE {name}").execute()
        db = DatabaseManager(url=fresh_url)
        await db.connect()
        try:
            yield db
        finally:
            await db.disconnect()
    finally:
        await admin.query.raw(f"DROP DATABASE IF EXISTS {name}").execute()
        await admin.disconnect()


@pytest.fixture
async def prefix(db: DatabaseManager) -> AsyncIterator[str]:
    value = f"jc_{uuid.uuid4().hex[:6]}"
    yield value
    quote = db.query.quote
    for name in ("book_tags", "books", "authors", "writers", "tags", "publishers", "history"):
        await db.query.raw(f"DROP TABLE IF EXISTS {quote(f'{value}_{name}')}").execute()


# ---- the test ---------------------------------------------------------------------------------


async def test_every_version_converges_and_rolls_back(
    db: DatabaseManager, fresh: DatabaseManager, tmp_path: Path, prefix: str
) -> None:
    schemas, migrations = tmp_path / "schemas", tmp_path / "migrations"
    schemas.mkdir()
    live = MigrationManager(
        MigrationOptions(directory=str(migrations), table_name=f"{prefix}_history"), db
    )
    shapes: list[Shape] = []
    for k, version in enumerate(VERSIONS, start=1):
        (schemas / "app.yaml").write_text(version.yaml.format(p=prefix))
        result = make_migration(schemas, migrations, f"v{k}")
        assert result.path is not None and result.path.is_file(), f"v{k}: nothing written"
        summaries = [c.summary for c in result.plan.changes]
        for step in version.steps:
            expected = step.format(p=prefix)
            assert any(s.startswith(expected) for s in summaries), (k, expected, summaries)
        assert make_migration(schemas, migrations, "again").path is None  # nothing new
        assert [r.name for r in await live.migrate()] == [result.path.stem]
        if k == 1:
            await _seed(db, prefix)
        await _check_rows(db, prefix, k)
        now = await shape(db, prefix)
        assert now == await _straight_to(fresh, schemas, tmp_path / f"fresh_{k}", prefix), k
        shapes.append(now)

    for k in range(len(VERSIONS), 0, -1):
        await live.rollback()
        now = await shape(db, prefix)
        assert now == (shapes[k - 2] if k > 1 else {}), f"rolled back v{k}"
        if k > 1:
            await _check_rows(db, prefix, k - 1, rolled_back=True)


async def _straight_to(fresh: DatabaseManager, schemas: Path, folder: Path, prefix: str) -> Shape:
    """The shape of a fresh database migrated by one migration from nothing; its ``down``
    empties the database again."""
    manager = MigrationManager(
        MigrationOptions(directory=str(folder), table_name=f"{prefix}_history"), fresh
    )
    result = make_migration(schemas, folder, "straight")
    assert result.path is not None
    await manager.migrate()
    try:
        return await shape(fresh, prefix)
    finally:
        await manager.rollback()
        assert await shape(fresh, prefix) == {}


# ---- data -------------------------------------------------------------------------------------


async def _seed(db: DatabaseManager, prefix: str) -> None:
    author = await db.query.table(f"{prefix}_authors").insert(
        {"name": "Ada", "bio": "mathematician", "age": 36}
    )
    await db.query.table(f"{prefix}_books").insert(
        {"author_id": author.id, "title": "Notes", "pages": 120}
    )


async def _check_rows(
    db: DatabaseManager, prefix: str, version: int, *, rolled_back: bool = False
) -> None:
    """Ada and her book as each version shows them."""
    authors = f"{prefix}_{'authors' if version < 4 else 'writers'}"
    rows = await db.query.table(authors).all()
    expected: dict[str, Any] = {"id": rows[0]["id"], "age": 36}
    if version < 3:  # bio was dropped at v3: rolled back, it is there again, empty
        bio = None if rolled_back else "mathematician"
        expected |= {"name": "Ada", "bio": bio}
    else:
        expected["full_name"] = "Ada"
    if version >= 2:
        expected |= {"email": None, "rank": 0}  # the default, for the row written before
    assert rows == [expected], version
    books = await db.query.table(f"{prefix}_books").all()
    assert len(books) == 1
    book = books[0]
    assert (book["title"], int(book["pages"]), book["state"]) == ("Notes", 120, "draft")
    assert book["author_id"] == rows[0]["id"]
