"""Naming rules shared by the schema loader and the generator: case, plurals, reserved names."""

from __future__ import annotations

import keyword
import re

from jadugar.models import Model

# Attributes of the runtime ``Model`` (SPEC 7) and of pydantic's ``BaseModel``: a generated
# field or relation with one of these names would shadow them.
_MODEL_ATTRIBUTES = frozenset(
    {
        "c",
        "query",
        "find",
        "find_or_none",
        "find_by",
        "create",
        "update",
        "delete",
        "save",
        "refresh",
        "restore",
        "force_delete",
        "load",
        "on",
        "bind",
        "persisted",
        "with_",
        "create_many",
        "has_one",
        "has_many",
        "belongs_to",
    }
)
# every attribute the runtime's Model base class has (pydantic's model_* methods included)
_BASE_MODEL_ATTRIBUTES = frozenset(name for name in dir(Model) if not name.startswith("_"))
RESERVED_FIELD_NAMES: frozenset[str] = (
    _MODEL_ATTRIBUTES | _BASE_MODEL_ATTRIBUTES | frozenset(keyword.kwlist)
)
RESERVED_PREFIXES: tuple[str, ...] = ("_",)

_PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*")
_SNAKE = re.compile(r"[a-z][a-z0-9_]*")


def snake_case(name: str) -> str:
    """``"BlogPost"`` -> ``"blog_post"``, ``"HTTPRequest"`` -> ``"http_request"``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def plural(word: str) -> str:
    """English plural by suffix rules: post->posts, category->categories, box->boxes."""
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def table_name(model: str) -> str:
    """The table a model gets when the schema names none: ``BlogPost`` -> ``blog_posts``."""
    return plural(snake_case(model))


def is_identifier(name: str) -> bool:
    """A Python identifier that is not a keyword."""
    return name.isidentifier() and not keyword.iskeyword(name)


def is_model_name(name: str) -> bool:
    """A PascalCase identifier such as ``BlogPost``."""
    return _PASCAL.fullmatch(name) is not None and is_identifier(name)


def is_field_name(name: str) -> bool:
    """A lower snake_case identifier such as ``created_at`` (reserved names not checked)."""
    return _SNAKE.fullmatch(name) is not None and is_identifier(name)


def is_reserved(name: str) -> bool:
    """True when a generated model attribute may not use ``name`` (see RESERVED_FIELD_NAMES)."""
    return name in RESERVED_FIELD_NAMES or name.startswith(RESERVED_PREFIXES)
