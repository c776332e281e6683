"""The migration auto-diff: schema edits -> the operations of the next migration."""

from __future__ import annotations

from pathlib import Path

import pytest

from jadugar.migrations import operations as ops
from jadugar_generator.diff import Plan, diff
from jadugar_generator.schema.loader import load_files, load_schema
from jadugar_generator.schema.model import Schema

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
models:
  User:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      name: {type: str, max_length: 120}
      email: {type: str, max_length: 255, unique: true}
      status: {type: enum, values: [active, banned], default: active}
      bio: {type: text, nullable: true}
  Post:
    fields:
      id: {type: int, primary_key: true, auto_increment: true}
      user_id: {type: int, references: {model: User, on_delete: cascade}}
      title: {type: str, max_length: 200}
"""


def schema(tmp_path: Path, text: str, name: str = "a") -> Schema:
    folder = tmp_path / name
    folder.mkdir()
    path = folder / "schema.yaml"
    path.write_text(text)
    return load_files([path])


def plan(tmp_path: Path, after: str, before: str = BASE) -> Plan:
    return diff(schema(tmp_path, before, "before"), schema(tmp_path, after, "after"))


def summaries(p: Plan) -> list[str]:
    return [c.summary for c in p.changes]


def test_a_new_project_creates_every_table_in_dependency_order() -> None:
    blog = load_schema(ROOT / "schemas")
    p = diff(None, blog)
    created = [c.up[0] for c in p.changes]
    assert all(isinstance(op, ops.CreateTable) for op in created)
    names = [op.name for op in created if isinstance(op, ops.CreateTable)]
    assert sorted(names) == ["comments", "post_tags", "posts", "profiles", "tags", "users"]
    assert names.index("users") < names.index("posts") < names.index("comments")
    assert names.index("tags") < names.index("post_tags")
    posts = next(op for op in created if isinstance(op, ops.CreateTable) and op.name == "posts")
    assert [fk.name for fk in posts.foreign_keys] == ["posts_user_id_fkey"]
    assert {i.options.name for i in posts.indexes} == {
        "posts_published_at_index",
        "posts_user_id_status_index",
    }
    assert {u.name for u in posts.uniques} == {"posts_title_unique"}
    assert p.warnings == []


def test_no_edit_means_no_migration() -> None:
    blog = load_schema(ROOT / "schemas")
    assert diff(blog, blog).empty


def test_added_and_dropped_fields(tmp_path: Path) -> None:
    after = BASE.replace(
        "      bio: {type: text, nullable: true}\n", "      age: {type: int, nullable: true}\n"
    )
    p = plan(tmp_path, after)
    assert summaries(p) == ["add column users.age", "drop column users.bio"]
    add, drop = p.changes
    assert isinstance(add.up[0], ops.AddColumn) and add.up[0].column.type == "integer"
    assert isinstance(add.down[0], ops.DropColumn)
    assert isinstance(drop.down[0], ops.AddColumn) and drop.down[0].column.type == "text"
    assert p.warnings == ["drop column users.bio: drops the column and its data"]


def test_a_not_null_column_without_default_is_flagged(tmp_path: Path) -> None:
    after = BASE.replace("      bio:", "      nick: {type: str, max_length: 20}\n      bio:")
    assert plan(tmp_path, after).warnings == [
        "add column users.nick: NOT NULL without a default: fails if the table already has rows"
    ]


def test_renamed_column_is_a_rename_never_drop_and_add(tmp_path: Path) -> None:
    after = BASE.replace(
        "title: {type: str, max_length: 200}",
        "headline: {type: str, max_length: 200, renamed_from: title}",
    )
    p = plan(tmp_path, after)
    assert summaries(p) == ["rename column posts.title to headline"]
    assert p.changes[0].up == [ops.RenameColumn("posts", "title", "headline")]
    assert p.changes[0].down == [ops.RenameColumn("posts", "headline", "title")]


def test_renamed_model_renames_its_table_and_its_constraints(tmp_path: Path) -> None:
    after = BASE.replace("  User:\n", "  Member:\n    renamed_from: User\n").replace(
        "model: User", "model: Member"
    )
    p = plan(tmp_path, after)
    # the data stays (a rename); the unique constraint gets the name the schema now implies
    assert summaries(p) == [
        "rename table users to members",
        "drop unique members.users_email_unique",
        "add unique members.members_email_unique",
    ]


def test_type_nullability_and_default_changes(tmp_path: Path) -> None:
    after = (
        BASE.replace("max_length: 120}", "max_length: 60}")
        .replace("bio: {type: text, nullable: true}", "bio: {type: text}")
        .replace("default: active}", "default: banned}")
    )
    p = plan(tmp_path, after)
    assert summaries(p) == [
        "alter column users.name (type)",
        "alter column users.status (default)",
        "alter column users.bio (nullable)",
    ]
    assert p.warnings == [
        "alter column users.name (type): narrows the length 120 -> 60: longer values fail or are cut",
        "alter column users.bio (nullable): sets NOT NULL: fails (or, on MySQL, coerces) where "
        "rows hold NULL",
    ]
    name_change = p.changes[0]
    assert isinstance(name_change.down[0], ops.AlterColumn)
    assert name_change.down[0].column.length == 120


def test_enum_values_added_or_removed(tmp_path: Path) -> None:
    widened = plan(tmp_path, BASE.replace("[active, banned]", "[active, banned, away]"))
    assert summaries(widened) == ["alter column users.status (type)"]
    assert widened.warnings == []
    narrowed = diff(
        schema(tmp_path, BASE, "n1"), schema(tmp_path, BASE.replace(", banned]", "]"), "n2")
    )
    assert narrowed.warnings == [
        "alter column users.status (type): removes enum values (banned): rows holding them fail"
    ]


def test_unique_index_and_foreign_key_changes(tmp_path: Path) -> None:
    after = (
        BASE.replace("max_length: 255, unique: true}", "max_length: 255}")
        .replace(
            "title: {type: str, max_length: 200}",
            "title: {type: str, max_length: 200, index: true}",
        )
        .replace("on_delete: cascade", "on_delete: restrict")
    )
    p = plan(tmp_path, after)
    assert summaries(p) == [
        "drop foreign key posts.posts_user_id_fkey",
        "drop unique users.users_email_unique",
        "add index posts.posts_title_index",
        "add foreign key posts.posts_user_id_fkey",
    ]
    add_fk = p.changes[-1].up[0]
    assert isinstance(add_fk, ops.AddForeignKey) and add_fk.reference.on_delete == "RESTRICT"


def test_dropped_model_is_destructive_and_down_recreates_it(tmp_path: Path) -> None:
    after = BASE[: BASE.index("  Post:")]
    p = plan(tmp_path, after)
    assert summaries(p) == ["drop table posts"]
    assert p.warnings == ["drop table posts: drops the table and every row in it"]
    recreated = p.changes[0].down[0]
    assert isinstance(recreated, ops.CreateTable) and recreated.name == "posts"
    assert [fk.table for fk in recreated.foreign_keys] == ["users"]


@pytest.mark.parametrize("text", [BASE, BASE.replace("cascade", "set_null")])
def test_diff_of_a_schema_with_itself_is_empty(tmp_path: Path, text: str) -> None:
    assert diff(schema(tmp_path, text, "x"), schema(tmp_path, text, "y")).empty
