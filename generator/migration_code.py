"""DDL operations -> the Python lines of a migration file (SchemaBuilder calls), so a
generated migration reads like one written by hand."""

from __future__ import annotations

from decimal import Decimal

from jadugar.migrations import operations as ops
from jadugar.migrations.operations import ColumnDefinition, ForeignKeyReference, IndexOptions
from jadugar.query import tree
from jadugar.query.expressions import SqlExpr

_TYPE_ARGS = {"string": ("length",), "decimal": ("precision", "scale"), "enum": ("values",)}


def _expression(value: SqlExpr) -> str:
    """A default expression as the migration writes it: ``fn.now()``, ``uuid_default()``,
    ``fn.raw("...")``."""
    node = value.node
    if isinstance(node, tree.Func) and not node.args and node.name == "now":
        return "fn.now()"
    if isinstance(node, tree.Func) and not node.args and node.name == "uuid":
        return "uuid_default()"
    if isinstance(node, tree.RawExpr) and not node.params:
        return f"fn.raw({node.sql!r})"
    raise TypeError(f"no migration code for the default {value!r}")


def _literal(value: object) -> str:
    if isinstance(value, SqlExpr):
        return _expression(value)
    if isinstance(value, Decimal):
        text = str(value)
        return f"Decimal({text})" if text.lstrip("-").isdigit() else f'Decimal("{text}")'
    if isinstance(value, tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _action(value: str | None) -> str | None:
    return None if value is None else value.lower().replace(" ", "_")


def column_builder(column: ColumnDefinition) -> str:
    """``t.string("name", 120).not_null()`` for a column inside ``create_table``."""
    args = [repr(column.name)] + [
        _literal(getattr(column, a)) for a in _TYPE_ARGS.get(column.type, ())
    ]
    code = f"t.{column.type}({', '.join(args)})"
    auto = column.type in ops.AUTO_INCREMENT_TYPES
    if column.primary and not auto:
        code += ".primary()"
    elif not column.nullable and not auto:
        code += ".not_null()"
    if column.default is not None:
        code += f".default_to({_literal(column.default)})"
    return code


def column_definition(column: ColumnDefinition) -> str:
    """``ColumnDefinition("name", "string", length=120, nullable=False)``."""
    args = [repr(column.name), repr(column.type)]
    args += [f"{a}={_literal(getattr(column, a))}" for a in _TYPE_ARGS.get(column.type, ())]
    if not column.nullable and column.type not in ops.AUTO_INCREMENT_TYPES:
        args.append("nullable=False")
    if column.primary and column.type not in ops.AUTO_INCREMENT_TYPES:
        args.append("primary=True")
    if column.default is not None:
        args.append(f"default={_literal(column.default)}")
    return f"ColumnDefinition({', '.join(args)})"


def foreign_key(reference: ForeignKeyReference) -> str:
    args = [_literal(reference.columns), repr(reference.table), _literal(reference.references)]
    for key in ("on_delete", "on_update"):
        action = _action(getattr(reference, key))
        if action:
            args.append(f"{key}={action!r}")
    if reference.name:
        args.append(f"name={reference.name!r}")
    return f"ForeignKeyReference({', '.join(args)})"


def index_options(options: IndexOptions) -> str:
    args = [f"name={options.name!r}"] if options.name else []
    if options.unique:
        args.append("unique=True")
    return f"IndexOptions({', '.join(args)})"


def lines(operation: ops.Operation) -> list[str]:
    """The statements recording ``operation`` on a builder called ``schema``."""
    match operation:
        case ops.CreateTable():
            body = [column_builder(c) for c in operation.columns]
            if operation.primary_key:
                body.append(f"t.primary({_literal(operation.primary_key)})")
            body += [f"t.unique({_literal(u.columns)}, name={u.name!r})" for u in operation.uniques]
            body += [
                f"t.index({_literal(i.columns)}, name={i.options.name!r})"
                for i in operation.indexes
            ]
            body += [f"t.foreign({foreign_key(fk)})" for fk in operation.foreign_keys]
            body += [f"t.check({c.name!r}, {c.expression!r})" for c in operation.checks]
            return [
                f"with schema.create_table({operation.name!r}) as t:",
                *("    " + b for b in body),
            ]
        case ops.DropTable():
            return [f"schema.drop_table({operation.name!r})"]
        case ops.RenameTable():
            return [f"schema.rename_table({operation.name!r}, {operation.new_name!r})"]
        case ops.AddColumn():
            return [
                f"schema.add_column({operation.table!r}, {column_definition(operation.column)})"
            ]
        case ops.DropColumn():
            return [f"schema.drop_column({operation.table!r}, {operation.column!r})"]
        case ops.RenameColumn():
            args = f"{operation.table!r}, {operation.column!r}, {operation.new_name!r}"
            return [f"schema.rename_column({args})"]
        case ops.AlterColumn():
            changes = _literal(tuple(sorted(operation.changes)))
            definition = column_definition(operation.column)
            return [f"schema.alter_column({operation.table!r}, {definition}, changes={changes})"]
        case ops.CreateIndex():
            args = f"{operation.table!r}, {_literal(operation.columns)}, {index_options(operation.options)}"
            return [f"schema.create_index({args})"]
        case ops.DropIndex():
            return [f"schema.drop_index({operation.table!r}, {operation.name!r})"]
        case ops.AddForeignKey():
            return [
                f"schema.add_foreign_key({operation.table!r}, {foreign_key(operation.reference)})"
            ]
        case ops.DropForeignKey():
            return [f"schema.drop_foreign_key({operation.table!r}, {operation.name!r})"]
        case ops.AddUnique():
            args = f"{operation.table!r}, {_literal(operation.columns)}, {operation.name!r}"
            return [f"schema.add_unique({args})"]
        case ops.DropUnique():
            return [f"schema.drop_unique({operation.table!r}, {operation.name!r})"]
        case ops.AddCheck():
            args = f"{operation.table!r}, {operation.name!r}, {operation.expression!r}"
            return [f"schema.add_check({args})"]
        case ops.DropCheck():
            return [f"schema.drop_check({operation.table!r}, {operation.name!r})"]
        case ops.RawSql():
            return [f"schema.raw({operation.sql!r})"]
    raise TypeError(f"no migration code for {type(operation).__name__}")


def uses(operations: list[ops.Operation]) -> set[str]:
    """The names a migration file must import for these operations."""
    text = "\n".join(line for op in operations for line in lines(op))
    found = {
        name
        for name in (
            *("ColumnDefinition", "ForeignKeyReference", "IndexOptions", "Decimal"),
            "uuid_default",
        )
        if f"{name}(" in text
    }
    if "fn.now()" in text or "fn.raw(" in text:
        found.add("fn")
    return found
