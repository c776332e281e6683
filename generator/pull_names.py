"""Names for ``jadugar pull``: tables, columns and foreign keys -> model, field and
relation names a schema file accepts (the rules are in ``pull_builder``'s docstring)."""

from __future__ import annotations

import re
import unicodedata

from .schema.names import (
    is_field_name,
    is_identifier,
    is_model_name,
    is_reserved,
    plural,
    snake_case,
)

NAME_LIMIT = 63


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def field_name(column: str) -> str:
    """``OrderId`` -> ``order_id``, ``Line No`` -> ``line_no``, ``class`` -> ``class_``."""
    text = re.sub(r"[^0-9A-Za-z]+", "_", _ascii(column))
    name = re.sub(r"_+", "_", snake_case(text)).strip("_")
    if not name:
        name = "field"
    if not name[0].isalpha():
        name = f"field_{name}"
    if is_reserved(name) or not is_field_name(name):
        name = f"{name}_"
    return name


def singular(word: str) -> str:
    """``categories`` -> ``category``, ``boxes`` -> ``box``, ``posts`` -> ``post``."""
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 3:
        return word[:-3] + ("Y" if word[-3].isupper() else "y")
    if lower.endswith(("sses", "ches", "shes", "xes", "zzes")):
        return word[:-2]
    if lower.endswith(("ss", "us", "is")) or not lower.endswith("s") or len(word) < 3:
        return word
    return word[:-1]


def model_name(table: str) -> str:
    """``blog_posts`` -> ``BlogPost``, ``OrderLines`` -> ``OrderLine``."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", snake_case(_ascii(table))) if w]
    if not words:
        return "Table"
    words[-1] = singular(words[-1])
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name[0].isalpha():
        name = f"T{name}"
    return name if is_model_name(name) else f"{name}Model"


def _unique(name: str, taken: set[str]) -> str:
    found, number = name, 2
    while found in taken:
        found = f"{name}_{number}" if name[-1:] != "_" else f"{name}{number}"
        number += 1
    taken.add(found)
    return found


def _unique_model(name: str, taken: set[str]) -> str:
    found, number = name, 2
    while found in taken:
        found = f"{name}{number}"
        number += 1
    taken.add(found)
    return found


def _base(field: str) -> str:
    return field[:-3] if field.endswith("_id") and len(field) > 3 else field


def _nameable(name: str) -> bool:
    return is_identifier(name) and len(name.encode()) <= NAME_LIMIT


def _plural_noun(table: str) -> str:
    """The relation name for many rows of ``table``: the table's name in snake_case when
    it reads as a plural (``BlogPosts`` -> ``blog_posts``), else made plural."""
    words = re.sub(r"_+", "_", snake_case(re.sub(r"[^0-9A-Za-z]+", "_", _ascii(table))))
    words = words.strip("_") or "rows"
    last = words.rsplit("_", 1)[-1]
    return words if singular(last) != last else plural(words)


def _relation_name(name: str) -> str:
    name = re.sub(r"_+", "_", name).strip("_") or "related"
    if not name[0].isalpha():
        name = f"rel_{name}"
    if is_reserved(name) or not is_field_name(name):
        name = f"{name}_"
    return name
