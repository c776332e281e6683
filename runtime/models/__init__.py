"""Active Record models generated from schema files."""

from __future__ import annotations

from .base import Model
from .documents import EmbeddedModel
from .events import ModelEvent
from .meta import ColumnMeta, ModelMeta, RelationMeta, auto
from .methods import KeyedDelete
from .query import ModelQuery, Page, RelationshipBuilder
from .registry import bind
from .scopes import Scope, ScopeFilter

__all__ = [
    "ColumnMeta",
    "EmbeddedModel",
    "KeyedDelete",
    "Model",
    "ModelEvent",
    "ModelMeta",
    "ModelQuery",
    "Page",
    "RelationMeta",
    "RelationshipBuilder",
    "Scope",
    "ScopeFilter",
    "auto",
    "bind",
]
