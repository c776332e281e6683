"""MongoDB schema operations -> the Python lines of a migration file (MongoSchemaBuilder
calls on ``schema = db.document_schema``), so a generated migration reads like one written
by hand."""

from __future__ import annotations

from jadugar.dialects.mongodb import schema as ops


def _keys(keys: tuple[tuple[str, int], ...]) -> str:
    if all(direction == 1 for _, direction in keys):
        return repr([key for key, _ in keys])
    return repr(list(keys))


def lines(operation: ops.SchemaOperation) -> list[str]:
    """The statement recording ``operation`` on a builder called ``schema``."""
    match operation:
        case ops.CreateCollection(name, validator):
            extra = f", validator={validator!r}" if validator else ""
            return [f"schema.create_collection({name!r}{extra})"]
        case ops.DropCollection(name):
            return [f"schema.drop_collection({name!r})"]
        case ops.RenameCollection(name, new_name):
            return [f"schema.rename_collection({name!r}, {new_name!r})"]
        case ops.CreateIndex(collection, keys, name, unique, ttl, partial):
            args = [repr(collection), _keys(keys), f"name={name!r}"]
            if unique:
                args.append("unique=True")
            if ttl is not None:
                args.append(f"expire_after_seconds={ttl!r}")
            if partial:
                args.append(f"partial_filter={partial!r}")
            return [f"schema.create_index({', '.join(args)})"]
        case ops.DropIndex(collection, name):
            return [f"schema.drop_index({collection!r}, {name!r})"]
        case ops.SetValidator(collection, validator):
            return [f"schema.set_validator({collection!r}, {validator or None!r})"]
        case ops.RenameField(collection, name, new_name):
            return [f"schema.rename_field({collection!r}, {name!r}, {new_name!r})"]
    raise TypeError(f"no migration code for {type(operation).__name__}")
