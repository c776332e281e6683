"""Active Record models generated from schema files."""

from __future__ import annotations

from .base import Model
from .meta import ColumnMeta, ModelMeta, RelationMeta, auto
from .methods import KeyedDelete
from .query import ModelQuery, Page
from .registry import bind

__all__ = [
    "ColumnMeta",
    "KeyedDelete",
    "Model",
    "ModelMeta",
    "ModelQuery",
    "Page",
    "RelationMeta",
    "auto",
    "bind",
]
