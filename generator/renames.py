"""The renames a schema declares with ``renamed_from``, read the same way by the SQL and
the MongoDB auto-diff: which model of the old schema a model was, and which of its fields
moved to a new name."""

from __future__ import annotations

from .schema.model import ModelSpec, Schema


def previous_model(old: Schema, new: Schema, model: ModelSpec) -> ModelSpec | None:
    """``model`` as it was in ``old``: by its name, else by its ``renamed_from`` (unless
    a model of that name is still in ``new``)."""
    previous = old.model(model.name)
    if previous is None and model.renamed_from and new.model(model.renamed_from) is None:
        previous = old.model(model.renamed_from)
    return previous


def field_moves(previous: ModelSpec, model: ModelSpec) -> dict[str, str]:
    """Old field name -> new, for the fields of ``model`` renamed from one of ``previous``."""
    return {
        f.renamed_from: f.name
        for f in model.fields
        if f.renamed_from
        and previous.field(f.renamed_from) is not None
        and model.field(f.renamed_from) is None
    }
