"""Auto-diff: the schema the existing migrations produce (a snapshot) vs the schema files
-> the operations of the next migration, ``up`` and ``down``, with destructive steps
marked. Pure: no database, no files."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TypeAlias

from jadugar.errors import MigrationError
from jadugar.migrations import operations as ops
from jadugar.migrations.operations import ColumnDefinition, same_default

from . import ddl_map, migration_plan
from .ddl_map import TableDef
from .renames import field_moves, previous_model
from .schema.model import ModelSpec, Schema

Plan: TypeAlias = migration_plan.Plan[ops.Operation]


def diff(old: Schema | None, new: Schema) -> Plan:
    """What turns the database of ``old`` (None: an empty database) into ``new``."""
    before = ddl_map.tables(old) if old else {}
    after = ddl_map.tables(new)
    plan = Plan()
    before = _renames(old, new, before, plan)
    for name, table in before.items():
        target = after.get(name)
        if target is not None and target.key != table.key:
            raise MigrationError(
                f"the primary key of table {name} changes from ({', '.join(table.key)}) to "
                f"({', '.join(target.key)}): makemigrations does not change the primary key of "
                "an existing table; write that migration by hand (jadugar create-migration), "
                "or create a new table and copy the rows"
            )
    for name, table in before.items():  # checks first: a dropped column may take its check
        target = after.get(name)
        if target is None:
            continue
        for check_name, check in table.checks.items():
            found = target.checks.get(check_name)
            if found != check:
                changed = " (its expression changed: dropped, then added again)" if found else ""
                plan.add(f"drop check {name}.{check_name}{changed}",
                         [ops.DropCheck(name, check_name)],
                         [ops.AddCheck(name, check_name, check.expression)])  # fmt: skip
    for name, table in before.items():  # foreign keys first: they pin what they point at
        target = after.get(name)
        if target is None:
            continue  # dropped with its table (and recreated with it by down)
        for fk_name, fk in table.foreign_keys.items():
            if not _same_fk(fk, target.foreign_keys):
                plan.add(
                    f"drop foreign key {name}.{fk_name}",
                    [ops.DropForeignKey(name, fk_name, tuple(fk.columns))],
                    [ops.AddForeignKey(name, fk)],
                )
    for name, table in before.items():
        target = after.get(name)
        if target is None:
            continue
        for key, unique in table.uniques.items():
            if not _has_unique(key, unique.columns, target):
                up, down = _pinned(unique.columns, table, target)
                plan.add(f"drop unique {name}.{key}", [*up, ops.DropUnique(name, key), *down],
                         [ops.AddUnique(name, unique.columns, key)])  # fmt: skip
        for key, index in table.indexes.items():
            if not _has_index(key, index.columns, target):
                up, down = _pinned(index.columns, table, target)
                plan.add(f"drop index {name}.{key}", [*up, ops.DropIndex(name, key), *down],
                         [ops.CreateIndex(name, index.columns, index.options)])  # fmt: skip
    for name in _dependency_order(before, reverse=True):
        if name not in after:
            table = before[name]
            plan.add(f"drop table {name}", [ops.DropTable(name)], [_create(table)],
                     "drops the table and every row in it")  # fmt: skip
    inlined: set[tuple[str, str]] = set()  # foreign keys created with their table
    ready = set(before)
    for name in _dependency_order(after):
        if name in before:
            continue
        table = after[name]
        for fk_name, fk in table.foreign_keys.items():
            if fk.table in ready or fk.table == name:
                inlined.add((name, fk_name))
        ready.add(name)
        fks = {k: v for k, v in table.foreign_keys.items() if (name, k) in inlined}
        plan.add(f"create table {name}", [_create(dataclasses.replace(table, foreign_keys=fks))],
                 [ops.DropTable(name)])  # fmt: skip
    for name, table in after.items():
        old_table = before.get(name)
        if old_table is None:
            continue
        _columns(plan, old_table, table)
    for name, table in after.items():
        old_table = before.get(name)
        for key, unique in table.uniques.items():
            if old_table is None or not _has_unique(key, unique.columns, old_table):
                if old_table is None:
                    continue  # created with its table
                up, down = _pinned(unique.columns, old_table, table)
                plan.add(f"add unique {name}.{key}", [ops.AddUnique(name, unique.columns, key)],
                         [*up, ops.DropUnique(name, key), *down],
                         "fails if existing rows hold duplicates")  # fmt: skip
        for key, index in table.indexes.items():
            if old_table is not None and not _has_index(key, index.columns, old_table):
                up, down = _pinned(index.columns, old_table, table)
                plan.add(f"add index {name}.{key}", [ops.CreateIndex(name, index.columns, index.options)],
                         [*up, ops.DropIndex(name, key), *down])  # fmt: skip
    for name, table in after.items():
        old_table = before.get(name)
        for fk_name, fk in table.foreign_keys.items():
            if (name, fk_name) in inlined:
                continue
            if old_table is None or not _same_fk(fk, old_table.foreign_keys):
                plan.add(f"add foreign key {name}.{fk_name}", [ops.AddForeignKey(name, fk)],
                         [ops.DropForeignKey(name, fk_name, tuple(fk.columns))])  # fmt: skip
    for name, table in after.items():
        old_table = before.get(name)
        if old_table is None:
            continue  # created with its table
        for check_name, check in table.checks.items():
            if old_table.checks.get(check_name) != check:
                plan.add(f"add check {name}.{check_name}",
                         [ops.AddCheck(name, check_name, check.expression)],
                         [ops.DropCheck(name, check_name)],
                         "fails if existing rows break the check")  # fmt: skip
    return plan


def _renames(
    old: Schema | None, new: Schema, before: dict[str, TableDef], plan: Plan
) -> dict[str, TableDef]:
    """Emit table and column renames declared with ``renamed_from`` and return ``before``
    as it is after them (constraint names kept: the database still has those)."""
    if old is None:
        return before
    table_moves: dict[str, str] = {}
    column_moves: dict[str, dict[str, str]] = {}
    for model in new.models:
        previous = previous_model(old, new, model)
        if previous is None or previous.engine != "sql" or model.engine != "sql":
            continue
        if previous.table != model.table and previous.table in before:
            table_moves[previous.table] = model.table
        moves = _column_moves(previous, model)
        if moves:
            column_moves[model.table] = moves
    result: dict[str, TableDef] = {}
    for name, table in before.items():
        new_name = table_moves.get(name, name)
        if new_name != name:
            plan.add(f"rename table {name} to {new_name}", [ops.RenameTable(name, new_name)],
                     [ops.RenameTable(new_name, name)])  # fmt: skip
        moves = column_moves.get(new_name, {})
        for old_column, new_column in moves.items():
            plan.add(f"rename column {new_name}.{old_column} to {new_column}",
                     [ops.RenameColumn(new_name, old_column, new_column)],
                     [ops.RenameColumn(new_name, new_column, old_column)])  # fmt: skip
        result[new_name] = _moved(table, new_name, moves, table_moves, column_moves)
    return result


def _column_moves(previous: ModelSpec, model: ModelSpec) -> dict[str, str]:
    """Old column -> new, for the fields renamed (``renamed_from``) and the fields whose
    column (``db_name``) changed."""
    renamed = {new: old for old, new in field_moves(previous, model).items()}
    moves: dict[str, str] = {}
    for field in model.fields:
        before = previous.field(renamed.get(field.name, field.name))
        if before is not None and before.column != field.column:
            moves[before.column] = field.column
    return moves


def _moved(
    table: TableDef,
    name: str,
    moves: dict[str, str],
    tables: dict[str, str],
    columns_of: dict[str, dict[str, str]] | None = None,
) -> TableDef:
    """``table`` after the renames: its own columns (``moves``), the tables its foreign keys
    point at (``tables``) and the columns they point at (``columns_of``, by table; the
    databases follow a renamed referenced column)."""

    def col(c: str) -> str:
        return moves.get(c, c)

    def cols(cs: Iterable[str]) -> tuple[str, ...]:
        return tuple(col(c) for c in cs)

    def referenced(target: str, cs: Iterable[str]) -> tuple[str, ...]:
        renamed = (columns_of or {}).get(target, {})
        return tuple(renamed.get(c, c) for c in cs)

    columns = {col(k): v.model_copy(update={"name": col(k)}) for k, v in table.columns.items()}
    uniques = {k: dataclasses.replace(u, columns=cols(u.columns)) for k, u in table.uniques.items()}
    indexes = {k: dataclasses.replace(i, columns=cols(i.columns)) for k, i in table.indexes.items()}
    fks = {
        k: fk.model_copy(
            update={
                "columns": cols(fk.columns),
                "table": tables.get(fk.table, fk.table),
                "references": referenced(tables.get(fk.table, fk.table), fk.references),
            }
        )
        for k, fk in table.foreign_keys.items()
    }
    return TableDef(name, columns, uniques, indexes, fks, cols(table.primary_key), table.checks)


def _columns(plan: Plan, old: TableDef, new: TableDef) -> None:
    name = new.name
    for column, definition in new.columns.items():
        if column not in old.columns:
            risk = None
            if not definition.nullable and definition.default is None:
                risk = "NOT NULL without a default: fails if the table already has rows"
            plan.add(f"add column {name}.{column}", [ops.AddColumn(name, definition)],
                     [ops.DropColumn(name, column)], risk)  # fmt: skip
    for column, definition in new.columns.items():
        previous = old.columns.get(column)
        if previous is None:
            continue
        changes = _column_changes(previous, definition)
        if changes:
            plan.add(f"alter column {name}.{column} ({', '.join(sorted(changes))})",
                     [ops.AlterColumn(name, definition, frozenset(changes))],
                     [ops.AlterColumn(name, previous, frozenset(changes))],
                     _narrowing(previous, definition))  # fmt: skip
    for column, definition in old.columns.items():
        if column not in new.columns:
            plan.add(f"drop column {name}.{column}", [ops.DropColumn(name, column)],
                     [ops.AddColumn(name, definition)], "drops the column and its data")  # fmt: skip


def _column_changes(old: ColumnDefinition, new: ColumnDefinition) -> set[str]:
    changes = set()
    if (old.type, old.length, old.precision, old.scale, old.values) != (
        new.type, new.length, new.precision, new.scale, new.values
    ):  # fmt: skip
        changes.add("type")
    if old.nullable != new.nullable:
        changes.add("nullable")
    if not same_default(old.default, new.default):
        changes.add("default")
    return changes


def _narrowing(old: ColumnDefinition, new: ColumnDefinition) -> str | None:
    if old.nullable and not new.nullable:
        return "sets NOT NULL: fails (or, on MySQL, coerces) where rows hold NULL"
    if old.type != new.type:
        if ddl_map.width(new) and ddl_map.width(old) and ddl_map.width(new) > ddl_map.width(old):
            return None
        return f"changes the type {old.type} -> {new.type}: values may not convert"
    if old.length and new.length and new.length < old.length:
        return f"narrows the length {old.length} -> {new.length}: longer values fail or are cut"
    if old.values and not set(old.values) <= set(new.values):
        gone = ", ".join(sorted(set(old.values) - set(new.values)))
        return f"removes enum values ({gone}): rows holding them fail"
    if (
        old.precision
        and new.precision
        and (new.precision, new.scale or 0) < (old.precision, old.scale or 0)
    ):
        return "narrows the decimal precision or scale"
    return None


def _create(table: TableDef) -> ops.CreateTable:
    return ops.CreateTable(
        table.name,
        tuple(table.columns.values()),
        table.primary_key,
        tuple(table.uniques.values()),
        tuple(table.indexes.values()),
        tuple(table.foreign_keys.values()),
        checks=tuple(table.checks.values()),
    )


def _pinned(
    columns: tuple[str, ...], old: TableDef, new: TableDef
) -> tuple[list[ops.Operation], list[ops.Operation]]:
    """The foreign keys (kept from ``old`` to ``new``) whose columns lead ``columns``, as
    the steps that drop them before an index on ``columns`` is dropped and add them back
    after. MySQL may have dropped its own index behind such a key when this index was
    created (the key uses this one now), and then refuses to drop it (error 1553); added
    back, the key gets an index of its own again. Harmless on the other engines."""
    drop: list[ops.Operation] = []
    add: list[ops.Operation] = []
    for fk_name, fk in new.foreign_keys.items():
        keys = tuple(fk.columns)
        if columns[: len(keys)] == keys and _same_fk(fk, old.foreign_keys):
            drop.append(ops.DropForeignKey(new.name, fk_name, keys))
            add.append(ops.AddForeignKey(new.name, fk))
    return drop, add


# Constraints match by name and content: after a rename of their table or column, the
# database still holds the old names, which differ from the names the schema now implies,
# so the migration drops and re-creates them under the new names (a later migration can
# then drop them by the name the snapshot knows).


def _has_unique(name: str, columns: tuple[str, ...], table: TableDef) -> bool:
    found = table.uniques.get(name)
    return found is not None and found.columns == columns


def _has_index(name: str, columns: tuple[str, ...], table: TableDef) -> bool:
    found = table.indexes.get(name)
    return found is not None and found.columns == columns


def _same_fk(fk: ops.ForeignKeyReference, others: dict[str, ops.ForeignKeyReference]) -> bool:
    key = (fk.name, tuple(fk.columns), fk.table, tuple(fk.references), fk.on_delete, fk.on_update)
    return any(
        (o.name, tuple(o.columns), o.table, tuple(o.references), o.on_delete, o.on_update) == key
        for o in others.values()
    )


def _dependency_order(tables: dict[str, TableDef], *, reverse: bool = False) -> list[str]:
    """Tables after the tables they reference (cycles broken by name order)."""
    done: list[str] = []
    pending = sorted(tables)
    while pending:
        ready = [
            n for n in pending
            if all(fk.table in done or fk.table == n or fk.table not in tables
                   for fk in tables[n].foreign_keys.values())
        ]  # fmt: skip
        chosen = ready[0] if ready else pending[0]
        done.append(chosen)
        pending.remove(chosen)
    return done[::-1] if reverse else done
