"""Tag, written as a Pydantic class: the same schema model a YAML file would describe."""

from __future__ import annotations

from jadugar_generator.dsl import Schema, belongs_to_many, column


class Tag(Schema):
    """A label on posts."""

    id: int = column(primary_key=True, auto_increment=True)
    name: str = column(max_length=50, unique=True)
    posts = belongs_to_many("Post", through="post_tags", foreign_key="tag_id", other_key="post_id")
