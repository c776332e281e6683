"""SQLite planning: native ALTER TABLE where SQLite has it, else the standard table rebuild
(https://www.sqlite.org/lang_altertable.html#otheralter):

    CREATE TABLE `_jadugar_new_t` (…the changed definition…)
    INSERT INTO `_jadugar_new_t` (cols) SELECT cols FROM `t`
    DROP TABLE `t`
    PRAGMA legacy_alter_table = ON        -- views on `t` must not be re-checked mid-rename
    ALTER TABLE `_jadugar_new_t` RENAME TO `t`
    PRAGMA legacy_alter_table = OFF
    CREATE INDEX … / CREATE TRIGGER …     -- as they were
    PRAGMA foreign_key_check              -- after every change of the batch

in one transaction, with foreign key enforcement off (outside a transaction the batch runs
on a connection of its own: ``PRAGMA foreign_keys = OFF``, BEGIN … COMMIT, back ON).

The new definition is the stored CREATE TABLE text edited item by item, so what a change
does not touch (CHECKs, collations, names) is kept verbatim. Planning starts from the live
tables (``StateSource``) and replays the batch's operations on them, so ``to_sql_async()``
lists exactly what ``execute()`` runs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import QueryError, UnsupportedOperation
from ...migrations import operations as ops
from ...schema_compiler import Plan, Statement, StateSource
from . import sqltext as st

if TYPE_CHECKING:
    from .ddl import SQLiteDdl

TEMP_PREFIX = "_jadugar_new_"
CHECK_MESSAGE = "the schema change left rows whose foreign keys point nowhere"


@dataclass
class TableState:
    """A table as its stored SQL says: column definitions, table constraints, options,
    indexes (name, sql) and triggers (sql)."""

    name: str
    columns: list[str]
    constraints: list[str]
    options: str = ""
    indexes: list[tuple[str, str]] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    column_renamed: bool = False  # a column rename was replayed (trigger bodies not edited)

    @classmethod
    def parse(cls, name: str, table_sql: str) -> TableState:
        columns, constraints, options = st.parse_create_table(table_sql)
        return cls(name, columns, constraints, options)

    def find(self, column: str) -> int:
        for i, text in enumerate(self.columns):
            if st.column_name(text).lower() == column.lower():
                return i
        raise QueryError(f"table {self.name!r} has no column {column!r}")


@dataclass(frozen=True, slots=True)
class Environment:
    foreign_keys: bool  # PRAGMA foreign_keys
    references: frozenset[tuple[str, str]]  # (child, parent) table names, lower case


@dataclass
class _Group:
    """Consecutive rebuild operations on one table: one copy for all of them."""

    state: TableState
    origin: str
    data: set[str]  # columns (lower case) whose old values are copied


class _Tables:
    """Table states as the batch goes: loaded from the source, then edited by each operation."""

    def __init__(self, source: StateSource) -> None:
        self.source = source
        self.current: dict[str, TableState | None] = {}  # None: known not to exist
        self.origin: dict[str, str] = {}  # renamed table -> its name at the batch's start
        self.opaque = False  # raw SQL ran: the states may be wrong from here on

    def origin_of(self, name: str) -> str:
        return self.origin.get(name.lower(), name)

    def get(self, name: str, operation: str) -> TableState:
        if self.opaque:
            raise UnsupportedOperation(
                f"{operation} after raw SQL in the same batch",
                "sqlite",
                "the rebuild reads the table's definition: run the raw statement in its own "
                "execute() first",
            )
        key = name.lower()
        if key not in self.current:
            live = self.source.table(self.origin_of(name), operation)
            self.current[key] = copy.deepcopy(live)
        state = self.current[key]
        if state is None:
            raise QueryError(f"no such table: {name}")
        if state.column_renamed and state.triggers:
            raise UnsupportedOperation(
                f"{operation} after rename_column on a table with triggers in one batch",
                "sqlite",
                "run the rename in its own execute() first",
            )
        return state

    def tracked(self, name: str) -> TableState | None:
        """The state when it is known or already loaded; never asks for it."""
        key = name.lower()
        if key not in self.current and self.origin_of(name).lower() in self.source.tables:
            self.current[key] = copy.deepcopy(self.source.tables[self.origin_of(name).lower()])
        return self.current.get(key)

    def others(self, name: str) -> list[TableState]:
        return [s for k, s in self.current.items() if s is not None and k != name.lower()]


def plan(ddl: SQLiteDdl, operations: list[ops.Operation], source: StateSource) -> Plan:
    tables = _Tables(source)
    body: list[Statement] = []
    group: _Group | None = None
    rebuilt: list[_Group] = []

    def flush() -> None:
        nonlocal group
        if group is not None:
            body.extend(Statement(s) for s in rebuild_statements(ddl, group))
            rebuilt.append(group)
            group = None

    for op in operations:
        table = getattr(op, "table", None)
        if table is not None and _needs_rebuild(ddl, tables, op, group):
            state = tables.get(table, op.kind)
            if group is None or group.state is not state:
                flush()
                group = _Group(state, tables.origin_of(table), _data_columns(state))
            _apply_rebuild(ddl, group, op)
            continue
        flush()
        body.extend(Statement(s) for s in ddl.compile(op))
        _track(ddl, tables, op)
    flush()
    if not rebuilt:
        return Plan(tuple(body))
    env: Environment = source.env("a table rebuild")
    body.append(Statement("PRAGMA foreign_key_check", check=CHECK_MESSAGE))
    if source.in_transaction:
        if env.foreign_keys:
            _refuse_if_referenced(rebuilt, env)
        return Plan(tuple(body))
    toggle = env.foreign_keys
    return Plan(
        tuple(body),
        isolated=True,
        setup=("PRAGMA foreign_keys = OFF",) if toggle else (),
        begin=tuple(ddl.sql.begin_sql(None, False)),
        teardown=("PRAGMA foreign_keys = ON",) if toggle else (),
    )


def _refuse_if_referenced(rebuilt: list[_Group], env: Environment) -> None:
    """With foreign keys on, DROP TABLE deletes the rows first, and ON DELETE actions of
    other tables would fire: refuse rather than lose rows."""
    for group in rebuilt:
        name = group.origin.lower()
        children = sorted(c for c, p in env.references if p == name)
        if children or any(st.references_table(t, name) for t in _items(group.state)):
            raise UnsupportedOperation(
                f"rebuilding table {group.state.name!r} inside a transaction with foreign keys on",
                "sqlite",
                f"tables {children or [group.state.name]} reference it; run execute() outside "
                "a transaction (it turns foreign keys off for the rebuild), or run "
                "PRAGMA foreign_keys = OFF before BEGIN",
            )


def _items(state: TableState) -> list[str]:
    return [*state.columns, *state.constraints]


def _data_columns(state: TableState) -> set[str]:
    names = set()
    for text in state.columns:
        name, _, clauses = st.split_column(text)
        if not any(c.kind in ("GENERATED", "AS") for c in clauses):
            names.add(name.lower())
    return names


# ---- which operations need the rebuild -------------------------------------------------------


def _needs_rebuild(
    ddl: SQLiteDdl, tables: _Tables, op: ops.Operation, group: _Group | None
) -> bool:
    if isinstance(
        op, ops.AlterColumn | ops.AddForeignKey | ops.DropForeignKey | ops.AddCheck | ops.DropCheck
    ):
        return True
    if isinstance(op, ops.AddColumn):
        return not ddl.can_add_column(op.column)
    if isinstance(op, ops.DropColumn):
        state = tables.get(op.table, op.kind)
        return (group is not None and group.state is state) or not _drops_natively(state, op.column)
    return False


def _drops_natively(state: TableState, column: str) -> bool:
    """What SQLite's own DROP COLUMN accepts: nothing but the column itself refers to it."""
    _, _, clauses = st.split_column(state.columns[state.find(column)])
    if any(c.kind in ("PRIMARY", "UNIQUE", "REFERENCES") for c in clauses):
        return False
    others = [c for c in state.columns if st.column_name(c).lower() != column.lower()]
    return not (
        any(st.mentions(t, column) for t in state.constraints)
        or any(st.mentions(sql, column) for _, sql in state.indexes)
        or any(st.mentions(t, column, stop_at_references=True) for t in others)
    )


# ---- editing a table state ---------------------------------------------------------------------


def _apply_rebuild(ddl: SQLiteDdl, group: _Group, op: ops.Operation) -> None:
    state = group.state
    if isinstance(op, ops.AlterColumn):
        i = state.find(op.column.name)
        state.columns[i] = ddl.altered_column(state.name, state.columns[i], op)
    elif isinstance(op, ops.DropColumn):
        _drop_column(state, op.column)
        group.data.discard(op.column.lower())
    elif isinstance(op, ops.AddColumn):
        column = op.column
        state.columns.append(ddl.column_sql(state.name, column, primary=column.primary))
        for reference in ddl._column_references((column,)):
            state.constraints.append(ddl.foreign_key_sql(state.name, reference))
        extras = ddl.add_unique(ops.AddUnique(state.name, (column.name,))) if column.unique else []
        if column.index:
            extras += ddl.create_index(ops.CreateIndex(state.name, (column.name,)))
        state.indexes += [(st.index_name(sql), sql) for sql in extras]
        group.data.discard(column.name.lower())
    elif isinstance(op, ops.AddForeignKey):
        state.constraints.append(ddl.foreign_key_sql(state.name, op.reference))
    elif isinstance(op, ops.DropForeignKey):
        _drop_foreign_key(state, op)
    elif isinstance(op, ops.AddCheck):
        state.constraints.append(ddl.check_sql(op.name, op.expression))
    elif isinstance(op, ops.DropCheck):
        _drop_check(state, op)


def _drop_check(state: TableState, op: ops.DropCheck) -> None:
    for i, text in enumerate(state.constraints):
        constraint = st.split_constraint(text)
        if constraint.kind == "CHECK" and (constraint.name or "").lower() == op.name.lower():
            del state.constraints[i]
            return
    for i, text in enumerate(state.columns):  # a CHECK written on a column
        _, type_text, clauses = st.split_column(text)
        kept = [
            c
            for c in clauses
            if not (c.kind == "CHECK" and (c.name or "").lower() == op.name.lower())
        ]
        if len(kept) != len(clauses):
            state.columns[i] = _join(text, type_text, [c.text for c in kept])
            return
    raise QueryError(f"table {state.name!r} has no check constraint named {op.name!r}")


def _drop_column(state: TableState, column: str) -> None:
    """Like PostgreSQL: the column goes with the indexes and constraints that use it."""
    del state.columns[state.find(column)]
    state.constraints = [
        t
        for t in state.constraints
        if not any(c.lower() == column.lower() for c in st.split_constraint(t).columns)
    ]
    state.indexes = [(n, sql) for n, sql in state.indexes if not st.mentions(sql, column)]
    for i, text in enumerate(state.columns):
        _, type_text, clauses = st.split_column(text)
        kept = [c for c in clauses if not (c.kind == "CHECK" and st.mentions(c.text, column))]
        if len(kept) != len(clauses):
            state.columns[i] = _join(text, type_text, [c.text for c in kept])


def _drop_foreign_key(state: TableState, op: ops.DropForeignKey) -> None:
    for i, text in enumerate(state.constraints):
        constraint = st.split_constraint(text)
        if constraint.kind == "FOREIGN" and _same(constraint.name, op.name, constraint.columns, op):
            del state.constraints[i]
            return
    for i, text in enumerate(state.columns):
        name, type_text, clauses = st.split_column(text)
        for clause in clauses:
            if clause.kind == "REFERENCES" and _same(clause.name, op.name, (name,), op):
                kept = [c.text for c in clauses if c is not clause]
                state.columns[i] = _join(text, type_text, kept)
                return
    raise QueryError(
        f"table {state.name!r} has no foreign key named {op.name!r} (SQLite keeps only the "
        "names written in CREATE TABLE; an unnamed one can be dropped by its columns)"
    )


def _same(found: str | None, name: str, columns: tuple[str, ...], op: ops.DropForeignKey) -> bool:
    if found is not None:
        return found.lower() == name.lower()
    return bool(op.columns) and [c.lower() for c in columns] == [c.lower() for c in op.columns]


def _join(column: str, type_text: str, clauses: list[str]) -> str:
    """A column definition from ``column``'s name (as written), a type and clauses."""
    return " ".join(p for p in (st.tokenize(column)[0].text, type_text, *clauses) if p)


# ---- keeping states in step with native statements -------------------------------------------


def _track(ddl: SQLiteDdl, tables: _Tables, op: ops.Operation) -> None:
    if isinstance(op, ops.RawSql):
        tables.opaque = True
    elif isinstance(op, ops.CreateTable):
        sql, *after = ddl.compile(op)
        created = TableState.parse(op.name, sql)
        created.indexes = [(st.index_name(s), s) for s in after]
        if not (op.if_not_exists and tables.tracked(op.name) is not None):
            tables.current[op.name.lower()] = created
    elif isinstance(op, ops.DropTable):
        tables.current[op.name.lower()] = None
    elif isinstance(op, ops.RenameTable):
        _track_rename_table(ddl, tables, op)
    else:
        table: str | None = getattr(op, "table", None)
        state = None if table is None else tables.tracked(table)
        if isinstance(op, ops.RenameColumn):
            _track_rename_column(ddl, tables, op, state)
        elif state is None:
            return
        elif isinstance(op, ops.AddColumn):
            _, *after = ddl.compile(op)
            state.columns.append(ddl.added_column(op.table, op.column))
            state.indexes += [(st.index_name(s), s) for s in after if s.startswith("CREATE")]
        elif isinstance(op, ops.DropColumn):
            del state.columns[state.find(op.column)]
        elif isinstance(op, ops.CreateIndex | ops.AddUnique):
            state.indexes += [(st.index_name(s), s) for s in ddl.compile(op)]
        elif isinstance(op, ops.DropIndex | ops.DropUnique):
            state.indexes = [(n, s) for n, s in state.indexes if n.lower() != op.name.lower()]


def _track_rename_table(ddl: SQLiteDdl, tables: _Tables, op: ops.RenameTable) -> None:
    new = ddl.table(op.new_name)
    for other in tables.others(op.name):  # SQLite rewrites foreign keys to the table
        other.columns = [
            st.rename_names(t, op.name, new, where=st.is_table_after("REFERENCES"))
            for t in other.columns
        ]
        other.constraints = [
            st.rename_names(t, op.name, new, where=st.is_table_after("REFERENCES"))
            for t in other.constraints
        ]
    state = tables.tracked(op.name)
    if state is None:
        tables.origin[op.new_name.lower()] = tables.origin_of(op.name)
        tables.current.pop(op.new_name.lower(), None)
    else:
        state.name = op.new_name
        on = st.is_table_after("ON")
        state.indexes = [(n, st.rename_names(s, op.name, new, where=on)) for n, s in state.indexes]
        state.triggers = [st.rename_names(s, op.name, new, where=on) for s in state.triggers]
        tables.current[op.new_name.lower()] = state
    tables.current[op.name.lower()] = None


def _track_rename_column(
    ddl: SQLiteDdl, tables: _Tables, op: ops.RenameColumn, state: TableState | None
) -> None:
    new = ddl.ident(op.new_name)
    for other in tables.others(op.table):
        where = st.in_references_of(op.table)
        other.columns = [st.rename_names(t, op.column, new, where=where) for t in other.columns]
        other.constraints = [
            st.rename_names(t, op.column, new, where=where) for t in other.constraints
        ]
    if state is None:
        return
    before = st.before_references
    state.columns = [st.rename_names(t, op.column, new, where=before) for t in state.columns]
    state.constraints = [
        st.rename_names(t, op.column, new, where=before) for t in state.constraints
    ]
    state.indexes = [
        (n, st.rename_names(s, op.column, new, where=st.after_on)) for n, s in state.indexes
    ]
    state.column_renamed = True


# ---- the rebuild -------------------------------------------------------------------------------


def rebuild_statements(ddl: SQLiteDdl, group: _Group) -> list[str]:
    state = group.state
    table = ddl.table(state.name)
    temp = ddl.table(TEMP_PREFIX + state.name)
    options = f" {state.options}" if state.options else ""
    create = f"CREATE TABLE {temp} ({', '.join(_items(state))}){options}"
    copied = [
        ddl.ident(st.column_name(t))
        for t in state.columns
        if st.column_name(t).lower() in group.data
    ]
    statements = [create]
    if copied:
        cols = ", ".join(copied)
        statements.append(f"INSERT INTO {temp} ({cols}) SELECT {cols} FROM {table}")
    if any(tok.word == "AUTOINCREMENT" for tok in st.tokenize(create)):
        # keep the id counter: ids of deleted rows are not handed out again
        new, old = ddl.literal(TEMP_PREFIX + state.name), ddl.literal(state.name)
        statements += [
            f"DELETE FROM sqlite_sequence WHERE name = {new}",
            f"INSERT INTO sqlite_sequence (name, seq) SELECT {new}, seq FROM sqlite_sequence "
            f"WHERE name = {old}",
        ]
    statements += [
        f"DROP TABLE {table}",
        "PRAGMA legacy_alter_table = ON",
        f"ALTER TABLE {temp} RENAME TO {table}",
        "PRAGMA legacy_alter_table = OFF",
        *(sql for _, sql in state.indexes),
        *state.triggers,
    ]
    return statements


def parse_state(table: str, rows: list[dict[str, Any]]) -> TableState | None:
    """``sqlite_master`` rows of a table (type, name, sql) → its state (None: no table)."""
    tables = [r for r in rows if r["type"] == "table"]
    if not tables:
        return None
    state = TableState.parse(tables[0]["name"], tables[0]["sql"])
    state.indexes = [(r["name"], r["sql"]) for r in rows if r["type"] == "index"]
    state.triggers = [r["sql"] for r in rows if r["type"] == "trigger"]
    return state
