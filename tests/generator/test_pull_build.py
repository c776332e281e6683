"""`jadugar pull` without a database: live schemas made by hand -> schema files (names,
relations, defaults, what is left out), the SQL text readers of the catalogs, drift
sentences, and atomic writing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jadugar.introspection import (
    LiveCheck,
    LiveColumn,
    LiveDefault,
    LiveForeignKey,
    LiveIndex,
    LiveSchema,
    LiveTable,
    Skipped,
)
from jadugar.introspection.parsing import classify_default, in_list, same_expression, to_kind
from jadugar_generator import ddl_map
from jadugar_generator.drift import compare
from jadugar_generator.pull import PullError, build, field_name, model_name, singular, write
from jadugar_generator.schema.loader import load_files
from jadugar_generator.schema.model import without_locations


def _int(name: str, *, auto: bool = False, nullable: bool = False) -> LiveColumn:
    return LiveColumn(name, "integer", "int", nullable, auto_increment=auto)


def _str(name: str, length: int = 50, *, nullable: bool = False) -> LiveColumn:
    return LiveColumn(name, f"varchar({length})", "str", nullable, length=length)


def _schema(*tables: LiveTable, skipped: tuple[Skipped, ...] = ()) -> LiveSchema:
    return LiveSchema("postgres", tables, skipped=skipped, database="app")


USERS = LiveTable(
    "users",
    (
        _int("id", auto=True),
        _str("Full Name", 100),
        _str("email", 255),
        LiveColumn("class", "integer", "int", True),
        LiveColumn("query", "text", "text", True),
        LiveColumn(
            "score",
            "numeric(10,2)",
            "decimal",
            False,
            LiveDefault("literal", "0", 0),
            precision=10,
            scale=2,
        ),
        LiveColumn("joined", "timestamptz", "datetime", False, LiveDefault("now", "now()")),
        LiveColumn(
            "born", "date", "date", True, LiveDefault("literal", "'2000-01-01'::date", "2000-01-01")
        ),
        LiveColumn("tags", "text[]", None, True, unsupported="its type text[] is an array"),
    ),
    ("id",),
    indexes=(LiveIndex("users_email_unique", ("email",), True),),
    checks=(LiveCheck("users_score_positive", "(score >= (0)::numeric)"),),
)
CATEGORIES = LiveTable(
    "categories",
    (_int("id", auto=True), _int("parent_id", nullable=True), _str("name")),
    ("id",),
    foreign_keys=(
        LiveForeignKey(
            "categories_parent_id_fkey", ("parent_id",), "categories", ("id",), on_delete="set_null"
        ),
    ),
)
POSTS = LiveTable(
    "BlogPosts",
    (_int("PostId", auto=True), _int("AuthorId"), _int("EditorId", nullable=True), _str("Title")),
    ("PostId",),
    foreign_keys=(
        LiveForeignKey("posts_author_fk", ("AuthorId",), "users", ("id",), on_delete="cascade"),
        LiveForeignKey("posts_editor_fk", ("EditorId",), "users", ("id",)),
    ),
)
TAGS = LiveTable("tags", (_int("id", auto=True), _str("name")), ("id",))
POST_TAGS = LiveTable(
    "post_tags",
    (_int("post_id"), _int("tag_id")),
    ("post_id", "tag_id"),
    foreign_keys=(
        LiveForeignKey("post_tags_post_id_fkey", ("post_id",), "BlogPosts", ("PostId",)),
        LiveForeignKey("post_tags_tag_id_fkey", ("tag_id",), "tags", ("id",)),
    ),
)
NO_KEY = LiveTable("audit_log", (_str("message"),))
HISTORY = LiveTable("jadugar_migrations", (_int("id", auto=True), _str("name")), ("id",))


def test_names() -> None:
    assert [field_name(n) for n in ("OrderId", "Line No", "class", "query", "2fa", "Prénom")] == [
        "order_id", "line_no", "class_", "query_", "field_2fa", "prenom"
    ]  # fmt: skip
    assert [singular(w) for w in ("categories", "boxes", "posts", "status", "addresses")] == [
        "category", "box", "post", "status", "address"
    ]  # fmt: skip
    assert [model_name(t) for t in ("blog_posts", "OrderLines", "post_tags", "people")] == [
        "BlogPost", "OrderLine", "PostTag", "People"
    ]  # fmt: skip


def test_a_live_schema_becomes_a_schema_file_that_loads(tmp_path: Path) -> None:
    live = _schema(
        USERS, CATEGORIES, POSTS, TAGS, POST_TAGS, NO_KEY, HISTORY,
        skipped=(Skipped("view", "active_users", "a view; schema files describe tables"),),
    )  # fmt: skip
    pulled = build(live)
    assert pulled.skipped == (
        "view active_users: a view; schema files describe tables",
        "table audit_log: it has no primary key (a model needs one)",
        "table jadugar_migrations: Jadugar's own bookkeeping table",
    )
    path = tmp_path / "pulled.yaml"
    path.write_text(pulled.text)
    schema = load_files([path])
    assert without_locations(schema) == without_locations(pulled.schema)
    assert [m.name for m in schema.models] == ["BlogPost", "Category", "PostTag", "Tag", "User"]
    user = schema.model("User")
    assert user is not None and user.table == "users"
    fields = {f.name: f for f in user.fields}
    assert list(fields) == [
        "id",
        "full_name",
        "email",
        "class_",
        "query_",
        "score",
        "joined",
        "born",
    ]
    assert fields["full_name"].db_name == "Full Name" and fields["class_"].db_name == "class"
    assert fields["email"].unique and not user.indexes  # Jadugar's own name: unique: true
    assert fields["score"].default == Decimal("0") and fields["score"].has_default
    assert fields["joined"].server_default is not None
    assert fields["joined"].server_default.kind == "now"
    assert fields["born"].server_default is not None
    assert fields["born"].server_default.sql == "'2000-01-01'::date"  # no date literals
    assert [c.name for c in user.checks] == ["users_score_positive"]
    relations = {r.name: (r.kind, r.model, r.foreign_key) for r in user.relations}
    assert relations == {  # two keys from BlogPost: named after their columns
        "author_blog_posts": ("has_many", "BlogPost", "author_id"),
        "editor_blog_posts": ("has_many", "BlogPost", "editor_id"),
    }
    post = schema.model("BlogPost")
    assert post is not None
    assert {r.name: r.kind for r in post.relations} == {
        "author": "belongs_to", "editor": "belongs_to", "post_tags": "has_many",
        "tags": "belongs_to_many",
    }  # fmt: skip
    references = {f.name: f.references for f in post.fields if f.references}
    assert references["author_id"] is not None
    assert (references["author_id"].name, references["author_id"].on_delete) == (
        "posts_author_fk",
        "cascade",
    )
    category = schema.model("Category")
    assert category is not None
    assert {r.name: r.kind for r in category.relations} == {
        "parent": "belongs_to", "children": "has_many"
    }  # fmt: skip
    parent = next(f for f in category.fields if f.name == "parent_id")
    assert parent.references is not None and parent.references.name is None  # the default
    tag = schema.model("Tag")
    assert tag is not None
    assert {r.name: r.kind for r in tag.relations} == {
        "post_tags": "has_many", "blog_posts": "belongs_to_many"
    }  # fmt: skip
    pivot = schema.model("PostTag")
    assert pivot is not None and pivot.composite_key == ("post_id", "tag_id")
    for line in ("# Not expressible in a schema file, left out", "#   view active_users"):
        assert line in pulled.text
    # the snapshot of the pulled schema is what the live schema is: no drift
    assert compare(ddl_map.tables(schema), live) == []


def test_a_server_default_on_a_key_is_left_out_and_said() -> None:
    table = LiveTable(
        "tokens",
        (LiveColumn("id", "uuid", "uuid", False, LiveDefault("uuid", "gen_random_uuid()")),),
        ("id",),
    )
    pulled = build(_schema(table))
    assert pulled.skipped == (
        "default tokens.id (gen_random_uuid()): a primary key field cannot have a "
        "server_default in a schema file",
    )
    assert "server_default" not in pulled.text.split("models:")[1]


def test_a_schema_that_would_not_load_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("models:\n  Tag:\n    fields:\n      id: {type: int, primary_key: true}\n")
    with pytest.raises(PullError, match="duplicate model 'Tag'"):
        build(_schema(TAGS), others=[other], target=tmp_path / "pulled.yaml")


def test_the_snapshot_holds_the_database_not_the_other_files(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("models:\n  Label:\n    fields:\n      id: {type: int, primary_key: true}\n")
    pulled = build(_schema(TAGS), others=[other])
    assert [m.name for m in pulled.schema.models] == ["Tag"]  # Label: for makemigrations


def test_write_is_all_or_nothing(tmp_path: Path) -> None:
    pulled = build(_schema(TAGS))
    blocker = tmp_path / "migrations"
    blocker.write_text("a file where the folder should be")
    target = tmp_path / "schemas" / "pulled.yaml"
    with pytest.raises(OSError):
        write(pulled, target, blocker)
    assert not target.exists() and list((tmp_path / "schemas").iterdir()) == []
    written = write(pulled, target, tmp_path / "m")
    assert written == [target, tmp_path / "m" / "schema_snapshot.json"]
    assert target.read_text() == pulled.text


def test_catalog_text() -> None:
    assert in_list("(status = ANY (ARRAY['new'::text, 'it''s'::text]))") == (
        "status", ("new", "it's")
    )  # fmt: skip
    assert in_list("((s)::text = ANY ((ARRAY['a'::character varying])::text[]))") == ("s", ("a",))
    assert in_list("\"mood\" IN ('a', 'b')") == ("mood", ("a", "b"))
    assert in_list("price >= 0") is None
    cases = {
        "'-1.5'::numeric": ("literal", "-1.5"),
        "(-1)": ("literal", -1),
        "'x'::character varying": ("literal", "x"),
        "current_timestamp(6)": ("now", None),
        "CURRENT_TIMESTAMP": ("now", None),
        "gen_random_uuid()": ("uuid", None),
        "uuid()": ("uuid", None),
        "curdate()": ("sql", None),
        "true": ("literal", True),
    }
    for text, (kind, value) in cases.items():
        found = classify_default(text)
        assert found is not None and (found.kind, found.value) == (kind, value), text
    assert classify_default("NULL::text") is None and classify_default("NULL") is None
    assert classify_default("'it\\'s'", backslashes=True) == LiveDefault(
        "literal", "'it\\'s'", "it's"
    )
    assert to_kind(1, "bool") is True and to_kind("1.50", "decimal") == Decimal("1.50")
    assert to_kind("abc", "int") is None
    assert same_expression("(lower('X'::text))", "lower('X')")
    assert not same_expression("lower('X')", "upper('X')")


def test_drift_sentences() -> None:
    schema = build(_schema(USERS)).schema
    tables = ddl_map.tables(schema)
    changed = LiveTable(
        "users",
        (
            _int("id", auto=True),
            _str("Full Name", 120),
            _str("email", 255, nullable=True),
            LiveColumn("class", "integer", "int", True, LiveDefault("literal", "7", 7)),
            LiveColumn("query", "text", "text", True),
            LiveColumn(
                "score",
                "numeric(10,2)",
                "decimal",
                False,
                LiveDefault("literal", "1.50", Decimal("1.50")),
                precision=10,
                scale=2,
            ),
            LiveColumn("joined", "timestamptz", "datetime", False),
            LiveColumn("extra", "integer", "int", True),
            LiveColumn("tags", "text[]", None, True, unsupported="an array"),
        ),
        ("id",),
        indexes=(LiveIndex("users_email_unique", ("email",), False),),
    )
    assert compare(tables, _schema(changed)) == [
        "column users.Full Name is varchar(120) (str max_length 120) in the database, "
        "str max_length 100 in the schema",
        "column users.email is nullable in the database, NOT NULL in the schema",
        "column users.class defaults to 7 in the database, has no default in the schema",
        "column users.score defaults to 1.50 in the database, to 0 in the schema",
        "column users.joined has no default in the database, defaults to now (the current "
        "time) in the schema",
        "column users.born is missing from the database",
        "column users.extra is in the database but not in the schema",
        "unique constraint users_email_unique on users(email) is unique in the schema, not in "
        "the database",
        "check users_score_positive on users is missing from the database",
    ]
