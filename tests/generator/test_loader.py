"""Schema files (SPEC 8): YAML and Python classes load into one IR; every problem is
reported at once, each with its file, its line and a plain sentence."""

from __future__ import annotations

import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from mypy import api as mypy_api

from jadugar.errors import SchemaError
from jadugar_generator.schema.loader import load_files, load_schema
from jadugar_generator.schema.model import without_locations
from jadugar_generator.schema.names import is_reserved, plural, snake_case, table_name

SPEC_EXAMPLE = """
models:
  User:
    table: users
    timestamps: true
    soft_deletes: true
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      name: {type: str, max_length: 120}
      email: {type: str, max_length: 255, unique: true}
      active: {type: bool, default: true}
      password_hash: {type: str, hidden: true}
    indexes:
      - {columns: [name, active]}
    relations:
      posts: {kind: has_many, model: Post, foreign_key: user_id}
  Post:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      user_id: {type: int, references: {model: User, on_delete: cascade}}
      title: {type: str, renamed_from: headline}
      status: {type: enum, values: [draft, published], default: draft}
      body: {type: text, nullable: true}
    relations:
      author: {kind: belongs_to, model: User, foreign_key: user_id}
      tags: {kind: belongs_to_many, model: Tag, through: post_tags,
             foreign_key: post_id, other_key: tag_id}
  Tag:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      name: {type: str, max_length: 50, unique: true}
"""


def write(folder: Path, name: str, text: str) -> Path:
    """Writes ``text`` (dedented, first line on line 1) to ``folder/name``."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def marked_line(path: Path) -> int:
    """The line carrying the ``# <-`` marker: where the problem must be reported."""
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.rstrip().endswith("# <-"))


def load_error(folder: Path) -> SchemaError:
    with pytest.raises(SchemaError) as caught:
        load_schema(folder)
    return caught.value


# 1. The SPEC 8 example.


def test_spec_example_loads_with_implicit_values_filled(tmp_path: Path) -> None:
    path = write(tmp_path, "blog.yaml", SPEC_EXAMPLE)
    schema = load_schema(tmp_path)

    assert [m.name for m in schema.models] == ["Post", "Tag", "User"]
    assert [m.table for m in schema.models] == ["posts", "tags", "users"]
    user, post = schema.model("User"), schema.model("Post")
    assert user is not None and post is not None
    assert [f.name for f in user.fields] == [
        *("id", "name", "email", "active", "password_hash"),
        *("created_at", "updated_at", "deleted_at"),
    ]
    created, updated, deleted = user.fields[-3:]
    assert (created.type, created.nullable, created.managed) == ("datetime", False, "created_at")
    assert (updated.type, updated.nullable, updated.managed) == ("datetime", False, "updated_at")
    assert (deleted.type, deleted.nullable, deleted.managed) == ("datetime", True, "deleted_at")
    assert user.primary_key.name == "id" and user.primary_key.auto_increment
    active = user.field("active")
    assert active is not None and (active.default, active.has_default) == (True, True)
    assert user.indexes[0].columns == ("name", "active")

    status, body = post.field("status"), post.field("body")
    assert status is not None and status.values == ("draft", "published")
    assert (status.default, status.has_default) == ("draft", True)
    assert body is not None and (body.type, body.nullable, body.has_default) == (
        "text",
        True,
        False,
    )
    user_id = post.field("user_id")
    assert user_id is not None and user_id.references is not None
    assert user_id.references.model_dump() == {
        "model": "User",
        "field": "id",
        "on_delete": "cascade",
        "on_update": "no_action",
        "name": None,
    }

    posts = user.relations[0]
    assert (posts.kind, posts.model, posts.foreign_key, posts.local_key) == (
        *("has_many", "Post", "user_id", "id"),
    )
    author, tags = post.relations
    assert (author.foreign_key, author.other_key) == ("user_id", "id")
    assert (tags.through, tags.foreign_key, tags.other_key) == ("post_tags", "post_id", "tag_id")

    email = user.field("email")
    assert email is not None and email.location is not None
    assert (email.location.file, email.location.line) == (str(path), 9)


def test_implicit_tables_keys_and_decimal_precision(tmp_path: Path) -> None:
    write(
        tmp_path,
        "shop.yaml",
        """
        models:
          BlogPost:
            fields:
              id: {type: int, primary_key: true}
              category_id: {type: int}
              price: {type: decimal}
            relations:
              category: {kind: belongs_to, model: Category}
              tags: {kind: belongs_to_many, model: Tag}
          Category:
            fields:
              code: {type: str, primary_key: true, max_length: 8}
            relations:
              blog_posts: {kind: has_many, model: BlogPost}
              feature: {kind: has_one, model: BlogPost, foreign_key: category_id}
          Tag:
            fields:
              id: {type: int, primary_key: true}
        """,
    )
    schema = load_schema(tmp_path)
    post, category = schema.model("BlogPost"), schema.model("Category")
    assert post is not None and category is not None
    assert (post.table, category.table) == ("blog_posts", "categories")
    price = post.field("price")
    assert price is not None and (price.precision, price.scale) == (10, 2)
    belongs, many = post.relations
    assert (belongs.foreign_key, belongs.other_key, belongs.local_key) == (
        "category_id",
        "code",
        None,
    )
    assert (many.through, many.foreign_key, many.other_key) == (
        "blog_post_tags",
        "blog_post_id",
        "tag_id",
    )
    has_many = category.relations[0]
    assert (has_many.foreign_key, has_many.local_key) == ("category_id", "code")


# 2. YAML and Python classes give the same IR.

EVERYTHING_YAML = """
models:
  Author:
    table: writers
    timestamps: true
    soft_deletes: true
    renamed_from: Writer
    engine: sql
    description: Someone who writes.
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      handle: {type: str, max_length: 40, unique: true, renamed_from: nick}
      bio: {type: text, nullable: true}
      karma: {type: bigint, default: 0}
      rank: {type: smallint, nullable: true, default: null}
      score: {type: float, default: 1.5}
      balance: {type: decimal, precision: 12, scale: 4, default: 9.99}
      fee: {type: decimal, default: 0}
      active: {type: bool, default: true}
      born: {type: date, nullable: true}
      wakes: {type: time, nullable: true}
      seen: {type: datetime, nullable: true, index: true}
      token: {type: uuid, unique: true}
      settings: {type: json, nullable: true}
      avatar: {type: bytes, nullable: true, hidden: true}
      mood: {type: enum, values: [happy, sad], default: happy}
      secret: {type: str, hidden: true}
    indexes:
      - {columns: [handle, active], unique: true, name: writers_handle_active}
      - {columns: [created_at]}
    relations:
      profile: {kind: has_one, model: Profile, foreign_key: author_id, local_key: id}
      articles: {kind: has_many, model: Article, on_delete: cascade, on_update: restrict}
  Profile:
    engine: mongodb
    fields:
      id: {type: uuid, primary_key: true}
      author_id:
        type: int
        references: {model: Author, field: id, on_delete: cascade, on_update: no_action}
    relations:
      author: {kind: belongs_to, model: Author, other_key: id}
  Article:
    fields:
      id: {type: bigint, primary_key: true, auto_increment: true}
      author_id: {type: int, nullable: true, references: {model: Author, on_delete: set_null}}
      title: {type: str, max_length: 200}
    relations:
      writer: {kind: belongs_to, model: Author, foreign_key: author_id, on_delete: set_null}
      labels: {kind: belongs_to_many, model: Label, through: article_labels,
               foreign_key: article_id, other_key: label_id, on_delete: cascade}
      topics: {kind: belongs_to_many, model: Topic}
  Label:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      name: {type: str, max_length: 30, default: misc}
  Topic:
    fields:
      id: {type: int, primary_key: true}
"""

EVERYTHING_PYTHON = '''
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal
from uuid import UUID

from jadugar_generator.dsl import (
    Index,
    ModelOptions,
    Reference,
    Schema,
    belongs_to,
    belongs_to_many,
    column,
    has_many,
    has_one,
)


class Author(Schema):
    """Someone who writes."""

    model_options = ModelOptions(
        table="writers",
        timestamps=True,
        soft_deletes=True,
        renamed_from="Writer",
        engine="sql",
        indexes=[
            Index("handle", "active", unique=True, name="writers_handle_active"),
            Index("created_at"),
        ],
    )

    id: int = column(primary_key=True, auto_increment=True)
    handle: str = column(max_length=40, unique=True, renamed_from="nick")
    bio: str | None = column(type="text")
    karma: int = column(type="bigint", default=0)
    rank: int | None = column(type="smallint", default=None)
    score: float = 1.5
    balance: Decimal = column(precision=12, scale=4, default=Decimal("9.99"))
    fee: Decimal = Decimal(0)
    active: bool = True
    born: date | None
    wakes: time | None
    seen: datetime | None = column(index=True)
    token: UUID = column(unique=True)
    settings: dict[str, object] | None
    avatar: bytes | None = column(hidden=True)
    mood: Literal["happy", "sad"] = "happy"
    secret: str = column(hidden=True)

    profile = has_one("Profile", foreign_key="author_id", local_key="id")
    articles = has_many("Article", on_delete="cascade", on_update="restrict")


class Profile(Schema):
    model_options = ModelOptions(engine="mongodb")

    id: UUID = column(primary_key=True)
    author_id: int = column(
        references=Reference(model="Author", field="id", on_delete="cascade", on_update="no_action")
    )

    author = belongs_to("Author", other_key="id")


class Article(Schema):
    id: int = column(type="bigint", primary_key=True, auto_increment=True)
    author_id: int | None = column(references=Reference(model="Author", on_delete="set_null"))
    title: str = column(max_length=200)

    writer = belongs_to("Author", foreign_key="author_id", on_delete="set_null")
    labels = belongs_to_many(
        "Label",
        through="article_labels",
        foreign_key="article_id",
        other_key="label_id",
        on_delete="cascade",
    )
    topics = belongs_to_many("Topic")


class Label(Schema):
    id: int = column(primary_key=True, auto_increment=True)
    name: str = column(max_length=30, default="misc")


class Topic(Schema):
    id: int = column(primary_key=True)
'''


def test_yaml_and_python_classes_give_the_same_schema(tmp_path: Path) -> None:
    (tmp_path / "yaml").mkdir()
    (tmp_path / "python").mkdir()
    write(tmp_path / "yaml", "models.yaml", EVERYTHING_YAML)
    source = write(tmp_path / "python", "models.py", EVERYTHING_PYTHON)
    from_yaml = load_schema(tmp_path / "yaml")
    from_python = load_schema(tmp_path / "python")

    assert without_locations(from_yaml) == without_locations(from_python)
    author = from_python.model("Author")
    assert author is not None and author.description == "Someone who writes."
    assert {f.type for f in author.fields} >= {
        *("int", "bigint", "smallint", "float", "decimal", "str", "text", "bool"),
        *("date", "time", "datetime", "uuid", "json", "bytes", "enum"),
    }
    balance, fee = author.field("balance"), author.field("fee")
    assert balance is not None and (balance.default, balance.precision) == (Decimal("9.99"), 12)
    assert fee is not None and (fee.default, fee.precision, fee.scale) == (Decimal(0), 10, 2)
    born, rank = author.field("born"), author.field("rank")
    assert born is not None and (born.nullable, born.has_default) == (True, False)
    assert rank is not None and (rank.nullable, rank.has_default, rank.default) == (
        True,
        True,
        None,
    )
    assert {r.kind for m in from_python.models for r in m.relations} == {
        *("has_one", "has_many", "belongs_to", "belongs_to_many"),
    }
    # Python definitions are located by the line of their class and field statements.
    lines = source.read_text().splitlines()
    handle = author.field("handle")
    assert handle is not None and handle.location is not None
    assert handle.location.line is not None
    assert lines[handle.location.line - 1].strip().startswith("handle: str")
    assert author.location is not None and author.location.line is not None
    assert lines[author.location.line - 1] == "class Author(Schema):"
    assert not [name for name in sys.modules if name.startswith("_jadugar_schema_")]


def test_python_schema_file_passes_mypy_strict(tmp_path: Path) -> None:
    path = write(tmp_path, "models.py", EVERYTHING_PYTHON)
    out, err, status = mypy_api.run(["--strict", "--no-incremental", str(path)])
    assert status == 0, out + err


def test_a_folder_merges_yaml_and_python_files_skipping_private_ones(tmp_path: Path) -> None:
    write(
        tmp_path,
        "b_users.yaml",
        "models:\n  User:\n    fields:\n      id: {type: int, primary_key: true}\n",
    )
    write(
        tmp_path,
        "a_posts.py",
        """
        from jadugar_generator.dsl import Schema, belongs_to, column

        class Post(Schema):
            id: int = column(primary_key=True)
            user_id: int
            user = belongs_to("User")
        """,
    )
    write(tmp_path, "_draft.yaml", "not: [valid")
    write(tmp_path, "__init__.py", "raise RuntimeError('never imported')")
    write(tmp_path, "notes.txt", "ignored")
    schema = load_schema(tmp_path)
    assert [m.name for m in schema.models] == ["Post", "User"]
    assert load_files([tmp_path / "b_users.yaml"]).models[0].table == "users"


def test_a_folder_without_schema_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="no schema files"):
        load_schema(tmp_path)
    with pytest.raises(SchemaError, match="does not exist"):
        load_schema(tmp_path / "missing")


# 3. One bad schema per kind of problem: the file, the line and a plain sentence.

BASE = """
models:
  User:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
"""

BAD_YAML = [
    pytest.param(
        BASE + "      email: {type: strng}  # <-\n",
        "unknown type 'strng' for field User.email; known types: int, bigint, smallint, float",
        id="unknown-type",
    ),
    pytest.param(
        BASE + "      email: {type: str, maxlength: 9}  # <-\n",
        "unknown option 'maxlength' in field User.email; allowed: type, primary_key,",
        id="unknown-field-option",
    ),
    pytest.param(
        BASE.replace("    fields:", "    tabel: people  # <-\n    fields:"),
        "unknown option 'tabel' in model User; allowed: table, timestamps, soft_deletes",
        id="unknown-model-option",
    ),
    pytest.param(
        BASE + "model: {}  # <-\n",
        "unknown top-level key 'model'; allowed: models",
        id="unknown-top-level-key",
    ),
    pytest.param(
        BASE + "    relations:\n      posts: {kind: has_many, model: Pots}  # <-\n",
        "relation User.posts points to unknown model 'Pots'; known models: User",
        id="relation-to-unknown-model",
    ),
    pytest.param(
        BASE + "      group_id: {type: int, references: {model: Group}}  # <-\n",
        "field User.group_id references unknown model 'Group'; known models: User",
        id="reference-to-unknown-model",
    ),
    pytest.param(
        BASE + "      boss_id: {type: int, references: {model: User, field: uid}}  # <-\n",
        "field User.boss_id references User.uid, but User has no field 'uid'",
        id="reference-to-unknown-field",
    ),
    pytest.param(
        BASE + "      boss: {type: str, references: {model: User}}  # <-\n",
        "field User.boss is str but references User.id, which is int",
        id="reference-of-another-type",
    ),
    pytest.param(
        BASE + "      email: {type: str}\n      email: {type: text}  # <-\n",
        "duplicate field 'email' in model User (first defined on line 5)",
        id="duplicate-field",
    ),
    pytest.param(
        BASE + "      email: {type: str, type: text}  # <-\n",
        "duplicate key 'type' in field User.email (first defined on line 5)",
        id="duplicate-option",
    ),
    pytest.param(
        BASE
        + "  Person:\n    table: users  # <-\n    fields:\n      id: {type: int, primary_key: true}\n",
        "models User and Person both use table 'users'",
        id="duplicate-table",
    ),
    pytest.param(
        "models:\n  User:  # <-\n    fields:\n      name: {type: str}\n",
        "model User has no primary key; mark one field with primary_key: true",
        id="no-primary-key",
    ),
    pytest.param(
        "models:\n  User:\n    primary_key: [id, nope]  # <-\n    fields:\n      id: {type: int}\n",
        "the primary_key of model User names unknown field 'nope'; its fields are: id",
        id="composite-key-unknown-field",
    ),
    pytest.param(
        BASE
        + "  Post:\n    fields:\n      id: {type: int, primary_key: true}\n"
        + "    relations:\n      author: {kind: belongs_to, model: User}  # <-\n",
        "relation Post.author (belongs_to User) needs field Post.user_id, which does not exist",
        id="belongs-to-without-foreign-key",
    ),
    pytest.param(
        BASE
        + "    relations:\n      posts: {kind: has_many, model: Post, foreign_key: owner_id}  # <-\n"
        + "  Post:\n    fields:\n      id: {type: int, primary_key: true}\n",
        "relation User.posts (has_many Post) needs field Post.owner_id, which does not exist",
        id="has-many-without-foreign-key",
    ),
    pytest.param(
        BASE + "    relations:\n      friends: {kind: belongs_to_many, model: User}  # <-\n",
        "relation User.friends (belongs_to_many User) uses 'user_id' as both foreign_key and other_key",
        id="belongs-to-many-keys-collide",
    ),
    pytest.param(
        BASE
        + "    relations:\n      groups: {kind: belongs_to_many, model: Group, through: members}  # <-\n"
        + "  Group:\n    fields:\n      id: {type: int, primary_key: true}\n"
        + "  Member:\n    fields:\n      id: {type: int, primary_key: true}\n      user_id: {type: int}\n",
        "goes through table 'members', whose model Member has no field 'group_id'",
        id="belongs-to-many-pivot-without-key",
    ),
    pytest.param(
        BASE
        + "      user_id: {type: int}\n"
        + "    relations:\n      children: {kind: has_many, model: User, through: x}  # <-\n",
        "option 'through' does not apply to has_many (relation User.children)",
        id="option-of-another-relation-kind",
    ),
    pytest.param(
        BASE + "    relations:\n      posts: {kind: has_few, model: User}  # <-\n",
        "unknown relation kind 'has_few' in relation User.posts; known kinds: has_one, has_many",
        id="unknown-relation-kind",
    ),
    pytest.param(
        BASE + "      status: {type: enum}  # <-\n",
        "enum field User.status needs values: a non-empty list of strings",
        id="enum-without-values",
    ),
    pytest.param(
        BASE + "      status: {type: enum, values: [on_, off_], default: maybe}  # <-\n",
        "default 'maybe' of field User.status is not one of its values: on_, off_",
        id="enum-default-not-a-value",
    ),
    pytest.param(
        BASE + "      age: {type: int, default: ten}  # <-\n",
        "default 'ten' of field User.age does not fit its type int",
        id="default-of-wrong-type",
    ),
    pytest.param(
        BASE + "      name: {type: str, default: null}  # <-\n",
        "default null of field User.name needs nullable: true",
        id="null-default-not-nullable",
    ),
    pytest.param(
        BASE + "      seen: {type: datetime, default: 2024-01-01}  # <-\n",
        "field User.seen is datetime: its default can only be null",
        id="default-without-literal",
    ),
    pytest.param(
        BASE + "      age: {type: int, max_length: 3}  # <-\n",
        "option 'max_length' of field User.age needs type str, not int",
        id="max-length-on-non-str",
    ),
    pytest.param(
        BASE + "      code: {type: str, auto_increment: true}  # <-\n",
        "option 'auto_increment' of field User.code needs type int, bigint or smallint, not str",
        id="auto-increment-on-non-integer",
    ),
    pytest.param(
        BASE + "      price: {type: decimal, precision: 4, scale: 6}  # <-\n",
        "scale 6 of field User.price is larger than its precision 4",
        id="scale-above-precision",
    ),
    pytest.param(
        BASE + "      active: {type: bool, unique: yes please}  # <-\n",
        "option 'unique' of field User.active must be true or false, not 'yes please'",
        id="option-of-wrong-shape",
    ),
    pytest.param(
        BASE + "      name: {type: str}\n    indexes:\n      - {columns: [name, nmae]}  # <-\n",
        "an index of model User names unknown column 'nmae'; its columns are: id, name",
        id="index-on-unknown-column",
    ),
    pytest.param(
        BASE.replace("  User:", "  user_account:  # <-"),
        "model name 'user_account' must be a PascalCase identifier such as BlogPost",
        id="bad-model-name",
    ),
    pytest.param(
        BASE + "      firstName: {type: str}  # <-\n",
        "field name 'firstName' of model User must be a lower snake_case identifier",
        id="bad-field-name",
    ),
    pytest.param(
        BASE + "      query: {type: str}  # <-\n",
        "field name 'query' of model User is reserved",
        id="reserved-field-name",
    ),
    pytest.param(
        BASE + "      model_dump: {type: int}  # <-\n",
        "field name 'model_dump' of model User is reserved",
        id="reserved-model-method",
    ),
    pytest.param(
        BASE + "      _secret: {type: int}  # <-\n",
        "field name '_secret' of model User",
        id="reserved-prefix",
    ),
    pytest.param(
        BASE + "      from: {type: str}  # <-\n",
        "field name 'from' of model User is reserved (a Python keyword)",
        id="keyword-field-name",
    ),
    pytest.param(
        BASE.replace("    fields:", "    timestamps: true\n    fields:")
        + "      created_at: {type: datetime}  # <-\n",
        "field User.created_at collides with the column that timestamps: true adds",
        id="timestamps-collision",
    ),
    pytest.param(
        BASE.replace("    fields:", "    soft_deletes: true\n    fields:")
        + "      deleted_at: {type: datetime, nullable: true}  # <-\n",
        "field User.deleted_at collides with the column that soft_deletes: true adds",
        id="soft-deletes-collision",
    ),
    pytest.param(
        BASE
        + "      boss_id: {type: int}\n      boss: {type: int}\n"
        + "    relations:\n      boss: {kind: belongs_to, model: User, foreign_key: boss_id}  # <-\n",
        "relation User.boss has the same name as a field of User",
        id="relation-named-like-a-field",
    ),
    pytest.param(
        BASE + "      email: str  # <-\n",
        "field User.email must be a mapping of options such as {type: str}",
        id="field-not-a-mapping",
    ),
]


@pytest.mark.parametrize(("text", "sentence"), BAD_YAML)
def test_bad_yaml_schema_reports_file_line_and_sentence(
    tmp_path: Path, text: str, sentence: str
) -> None:
    path = write(tmp_path, "schema.yaml", text)
    error = load_error(tmp_path)
    assert len(error.problems) == 1, str(error)
    assert str(error).startswith(f"{path}:{marked_line(path)}: "), str(error)
    assert sentence in str(error)
    assert (error.file, error.line) == (str(path), marked_line(path))


BAD_PYTHON = [
    pytest.param(
        """
        from jadugar_generator.dsl import Schema, column

        class User(Schema):
            id: int = column(primary_key=True)
            tags: set[int]  # <-
        """,
        "field User.tags: annotation set[int] has no schema type; use int, float, Decimal, str",
        id="unsupported-annotation",
    ),
    pytest.param(
        """
        from jadugar_generator.dsl import Schema, column

        class User(Schema):
            id: int = column(primary_key=True)
            name: str = column(type="bigint")  # <-
        """,
        "field User.name: column(type='bigint') does not fit the annotation str: use str, text, objectid or json",
        id="column-type-against-annotation",
    ),
    pytest.param(
        """
        from jadugar_generator.dsl import Schema, column

        class User(Schema):
            id: int = column(primary_key=True)
            email: str
            email: str = column(unique=True)  # <-
        """,
        "duplicate field 'email' in model User (first defined on line 5)",
        id="duplicate-field",
    ),
    pytest.param(
        """
        from jadugar_generator.dsl import Schema, column, has_many

        class User(Schema):
            id: int = column(primary_key=True)
            posts = has_many("Post")  # <-
        """,
        "relation User.posts points to unknown model 'Post'; known models: User",
        id="relation-to-unknown-model",
    ),
    pytest.param(
        """
        from typing import Literal

        from jadugar_generator.dsl import Schema, column

        class User(Schema):
            id: int = column(primary_key=True)
            status: Literal["draft", "live"] = "gone"  # <-
        """,
        "default 'gone' of field User.status is not one of its values: draft, live",
        id="enum-default-not-a-value",
    ),
    pytest.param(
        """
        from jadugar_generator.dsl import ModelOptions, Schema, column, Index

        class User(Schema):
            model_options = ModelOptions(
                indexes=[Index("id"), Index("nope")],  # <-
            )
            id: int = column(primary_key=True)
        """,
        "an index of model User names unknown column 'nope'; its columns are: id",
        id="index-on-unknown-column",
    ),
    pytest.param(
        """
        from jadugar_generator.dsl import Schema, column

        class User(Schema):  # <-
            name: str = column(max_length=20)
        """,
        "model User has no primary key; mark one field with primary_key: true",
        id="no-primary-key",
    ),
    pytest.param(
        """
        from __future__ import annotations

        from jadugar_generator.dsl import Schema, column

        class User(Schema):
            id: int = column(primary_key=True)
            email: Email  # <-
        """,
        "model User: name 'Email' is not defined",
        id="undefined-annotation",
    ),
]


@pytest.mark.parametrize(("text", "sentence"), BAD_PYTHON)
def test_bad_python_schema_reports_file_line_and_sentence(
    tmp_path: Path, text: str, sentence: str
) -> None:
    path = write(tmp_path, "schema.py", text)
    error = load_error(tmp_path)
    assert len(error.problems) == 1, str(error)
    assert str(error).startswith(f"{path}:{marked_line(path)}: "), str(error)
    assert sentence in str(error)


def test_duplicate_model_across_files_names_the_first(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", BASE)
    second = write(
        tmp_path,
        "b.py",
        """
        from jadugar_generator.dsl import Schema, column

        class User(Schema):  # <-
            id: int = column(primary_key=True)
        """,
    )
    error = load_error(tmp_path)
    assert str(error) == (
        f"{second}:{marked_line(second)}: duplicate model 'User' (first defined in {first}:2)"
    )


# 4. Every problem of every file in one SchemaError.


def test_every_problem_is_reported_in_one_error(tmp_path: Path) -> None:
    yaml_file = write(
        tmp_path,
        "a.yaml",
        """
        models:
          User:
            fields:
              id: {type: int, primary_key: true}
              email: {type: strng}
              age: {type: int, default: old}
            relations:
              posts: {kind: has_many, model: Pots}
          Tag:
            fields:
              name: {type: str}
        """,
    )
    python_file = write(
        tmp_path,
        "b.py",
        """
        from jadugar_generator.dsl import Schema, column

        class Post(Schema):
            id: int = column(primary_key=True, max_length=3)
        """,
    )
    error = load_error(tmp_path)
    assert [(p.file, p.line) for p in error.problems] == [
        (str(yaml_file), 5),
        (str(yaml_file), 6),
        (str(yaml_file), 8),
        (str(yaml_file), 9),
        (str(python_file), 4),
    ]
    lines = str(error).splitlines()
    assert lines[0] == "5 problems in the schema files:"
    assert lines[1:] == [str(p) for p in error.problems]
    assert "unknown type 'strng'" in lines[1]
    assert "default 'old' of field User.age does not fit its type int" in lines[2]
    assert "unknown model 'Pots'" in lines[3]
    assert "model Tag has no primary key" in lines[4]
    assert "option 'max_length' of field Post.id needs type str, not int" in lines[5]


# 5. and 6. Files that cannot be read at all.


def test_yaml_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "schema.yaml",
        """
        models:
          User:
            fields:
              id: {type: int, primary_key: true
              name: {type: str}  # <-
        """,
    )
    error = load_error(tmp_path)
    assert str(error).startswith(f"{path}:{marked_line(path)}: invalid YAML: ")
    assert "expected ',' or '}'" in str(error)  # libyaml says "did not find expected …"
    assert "(while parsing a flow mapping on line 4)" in str(error)


def test_python_schema_raising_gives_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "schema.py",
        """
        from jadugar_generator.dsl import Schema, column

        SIZES = {"small": 10}

        class User(Schema):
            id: int = column(primary_key=True)
            name: str = column(max_length=SIZES["large"])  # <-
        """,
    )
    error = load_error(tmp_path)
    assert str(error) == (
        f"{path}:{marked_line(path)}: importing the schema file failed: KeyError: 'large'"
    )
    assert isinstance(error.__cause__, KeyError)
    assert not [name for name in sys.modules if name.startswith("_jadugar_schema_")]


def test_python_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "schema.py", "class User(Schema):\n    id: int = column(  # <-\n")
    error = load_error(tmp_path)
    assert str(error).startswith(f"{path}:{marked_line(path)}: invalid Python: ")


# Naming rules.


@pytest.mark.parametrize(
    ("model", "snake", "table"),
    [
        ("BlogPost", "blog_post", "blog_posts"),
        ("Category", "category", "categories"),
        ("Box", "box", "boxes"),
        ("Status", "status", "statuses"),
        ("Key", "key", "keys"),
        ("HTTPRequest", "http_request", "http_requests"),
        ("Match", "match", "matches"),
    ],
)
def test_names(model: str, snake: str, table: str) -> None:
    assert snake_case(model) == snake
    assert table_name(model) == table == plural(snake)


def test_reserved_names() -> None:
    assert all(
        map(is_reserved, ("query", "find_by", "with_", "model_dump", "_id", "class", "json"))
    )
    assert not any(map(is_reserved, ("name", "type", "models", "withdrawn", "c_id")))
