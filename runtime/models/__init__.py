"""Active Record models generated from schema files (and the names their generated code
imports: metadata classes, and the ``where(column, op, value)`` operator types)."""

from __future__ import annotations

from ..query.operators import ComparisonOp, EqualityOp, MembershipOp, PatternOp, RangeOp, WhereOp
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
    "ComparisonOp",
    "EmbeddedModel",
    "EqualityOp",
    "KeyedDelete",
    "MembershipOp",
    "Model",
    "ModelEvent",
    "ModelMeta",
    "ModelQuery",
    "Page",
    "PatternOp",
    "RangeOp",
    "RelationMeta",
    "RelationshipBuilder",
    "Scope",
    "ScopeFilter",
    "WhereOp",
    "auto",
    "bind",
]
