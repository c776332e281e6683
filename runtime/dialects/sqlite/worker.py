"""What runs on the aiosqlite worker thread (and the inline reads on the loop's thread).

Each ``w_*`` function is one hop to the thread that owns the sqlite3 connection: the
statement, its rows and its bookkeeping together (see ``driver.py``). ``Op`` is the
flag pair the loop side and the worker share to interrupt a statement.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from ..base import ExecResult, Row


class Op:
    """One call on the worker thread: the loop side sets ``abort``, the worker sets
    ``running`` while the statement is in SQLite."""

    # class-level defaults, no __init__: one is made for every query
    abort = False
    running = False
    timed_out = False

    def start(self) -> None:
        # running before abort is read: the loop side sets abort, then reads running
        self.running = True
        if self.abort:
            self.running = False
            raise sqlite3.OperationalError("interrupted")


def datetime_text(value: datetime.datetime) -> str:
    """A datetime as SQLite stores it: ISO text as Python's default adapter writes it, an
    aware one moved to UTC first, so that comparing and sorting the texts follows the
    instants (models read them back in UTC)."""
    if value.utcoffset():
        value = value.astimezone(datetime.UTC)
    return value.isoformat(" ")


# sqlite3's adapters are per process: this one writes naive datetimes exactly as the
# default adapter does (deprecated since Python 3.12), and aware ones as their UTC text
sqlite3.register_adapter(datetime.datetime, datetime_text)


def _adapt(value: Any) -> Any:
    """Values sqlite3 cannot bind natively (only reached after a binding error)."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)  # as the compiler writes it
    if isinstance(value, enum.Enum):
        return _adapt(value.value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return datetime_text(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return value


def _is_binding_error(exc: sqlite3.Error) -> bool:
    return "binding parameter" in str(exc)


def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
    try:
        return conn.execute(sql, params)
    except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
        if not _is_binding_error(exc):
            raise
        return conn.execute(sql, [_adapt(v) for v in params])


def _dicts(description: Any, rows: list[Any]) -> list[Row]:
    cols = [d[0] for d in description]
    return [dict(zip(cols, r, strict=False)) for r in rows]


def w_fetch(
    conn: sqlite3.Connection, op: Op, sql: str, params: Sequence[Any]
) -> tuple[Any, list[Any]]:
    """The description and the rows as tuples: the dicts are built on the loop, which
    leaves the worker thread (ten of them contending for the GIL under load) the least to
    do while it holds the GIL. ``Op.start`` inlined: this runs for every query."""
    op.running = True  # before abort is read: the loop side sets abort, then reads running
    try:
        if op.abort:
            raise sqlite3.OperationalError("interrupted")
        try:
            cur = conn.execute(sql, params)
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
            if not _is_binding_error(exc):
                raise
            cur = conn.execute(sql, [_adapt(v) for v in params])
        return cur.description, cur.fetchall()  # fetchall leaves the cursor done: no close()
    finally:
        op.running = False


def _is_insert(sql: str) -> bool:
    head = sql.lstrip()[:7].upper()
    return head.startswith(("INSERT", "REPLACE"))


# A read may run on the event loop's own thread, skipping the two thread hops that cost
# far more than a small query (a primary-key lookup runs in a few microseconds). It gets a
# budget of SQLite VM instructions: one that needs more is stopped there (no writes, so
# nothing to undo) and runs again on the worker thread, where timeouts and cancellation
# apply. So the loop is never held for long; any error also goes to the worker, which
# reports it as usual. WAL readers take no lock that waits (busy_timeout never applies).
_INLINE_STEPS = 2000
# SQLite calls the progress handler each time a statement's step count, summed over every
# run of the cached prepared statement, passes a multiple of N: a budget of one call of N
# would stop a 13-step lookup once in every 150 runs. So the handler is called every
# _BUDGET_TICK steps and stops the statement at the budget's last tick of this run.
_BUDGET_TICK = 100
# COUNT(*) of a whole table is one VM instruction that walks every page: never inline
WHOLE_COUNT = re.compile(r"count\s*\(", re.IGNORECASE).search


def fetch_inline(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any]
) -> tuple[Any, list[Any]] | None:
    ticks = iter(range(_INLINE_STEPS // _BUDGET_TICK))

    def over_budget() -> bool:
        return next(ticks, None) is None

    conn.set_progress_handler(over_budget, _BUDGET_TICK)
    try:
        cur = conn.execute(sql, params)
        return cur.description, cur.fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.set_progress_handler(None, 0)


def w_execute(conn: sqlite3.Connection, op: Op, sql: str, params: Sequence[Any]) -> ExecResult:
    op.start()
    try:
        cur = _execute(conn, sql, params)
        try:
            description = cur.description
            raw_rows = cur.fetchall() if description is not None else []
            count = cur.rowcount
            last_id = cur.lastrowid
        finally:
            cur.close()
    finally:
        op.running = False
    if description is not None:
        # RETURNING: one row per affected row
        rows = _dicts(description, raw_rows)
        count = len(rows)
    else:
        rows = []
        count = max(count, 0)
    # sqlite3 reports the connection's last insert rowid after any statement: only an
    # INSERT that wrote a row has an id of its own.
    insert_id = last_id if count > 0 and last_id and _is_insert(sql) else None
    return ExecResult(rows, count, insert_id)


def _statements(script: str) -> Iterator[str]:
    """Split a script at the semicolons that end statements (not those inside strings,
    comments or trigger bodies)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        yield buffer  # incomplete: let SQLite report the syntax error


def w_script(conn: sqlite3.Connection, op: Op, sql: str, params: Sequence[Any]) -> None:
    op.start()
    try:
        if sql == "ROLLBACK" and not conn.in_transaction:
            return  # nothing to undo: a no-op, as on PostgreSQL and MySQL (not an error)
        try:
            conn.execute(sql).close()
        except sqlite3.ProgrammingError as exc:
            if "one statement at a time" not in str(exc):
                raise
            # several statements; not executescript(), which COMMITs an open transaction
            for statement in _statements(sql):
                conn.execute(statement).close()
    finally:
        op.running = False


def w_many(conn: sqlite3.Connection, op: Op, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    op.start()
    try:
        # the rows before one sqlite3 cannot bind are already in: undo them before the
        # retry with adapted values, or they would be inserted twice
        conn.execute("SAVEPOINT jadugar_many").close()
        try:
            try:
                cur = conn.executemany(sql, rows)
            except (sqlite3.ProgrammingError, sqlite3.InterfaceError) as exc:
                if not _is_binding_error(exc):
                    raise
                conn.execute("ROLLBACK TO SAVEPOINT jadugar_many").close()
                cur = conn.executemany(sql, [[_adapt(v) for v in row] for row in rows])
        except BaseException:
            conn.execute("ROLLBACK TO SAVEPOINT jadugar_many").close()
            conn.execute("RELEASE SAVEPOINT jadugar_many").close()
            raise
        conn.execute("RELEASE SAVEPOINT jadugar_many").close()
        count = cur.rowcount
        cur.close()
    finally:
        op.running = False
    return max(count, 0)


def w_stream_open(
    conn: sqlite3.Connection,
    op: Op,
    opened: list[sqlite3.Cursor],
    sql: str,
    params: Sequence[Any],
    size: int,
) -> tuple[sqlite3.Cursor, list[Row]]:
    op.start()
    try:
        cur = _execute(conn, sql, params)
        opened.append(cur)
        if cur.description is None:
            cur.close()
            return cur, []
        return cur, _dicts(cur.description, cur.fetchmany(size))
    finally:
        op.running = False


def w_stream_next(conn: sqlite3.Connection, op: Op, cur: sqlite3.Cursor, size: int) -> list[Row]:
    op.start()
    try:
        return _dicts(cur.description, cur.fetchmany(size))
    finally:
        op.running = False


def w_stream_close(conn: sqlite3.Connection, op: Op | None, cur: sqlite3.Cursor) -> None:
    cur.close()


def w_close_opened(conn: sqlite3.Connection, op: Op | None, opened: list[Any]) -> None:
    for cur in opened:
        cur.close()


def w_pragmas(conn: sqlite3.Connection, op: Op, statements: Sequence[str]) -> str:
    """Run ``statements``; the journal mode they leave."""
    for statement in statements:
        for attempt in range(_PRAGMA_ATTEMPTS):
            try:
                conn.execute(statement).close()
                break
            except sqlite3.OperationalError as exc:
                # switching a brand-new file to WAL can report SQLITE_BUSY while another
                # connection opens it, whatever busy_timeout says: wait and retry
                if "locked" not in str(exc) or attempt == _PRAGMA_ATTEMPTS - 1:
                    raise
                time.sleep(0.02)
    return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()


_PRAGMA_ATTEMPTS = 100
_NAME = r'"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[\w$]+'
_DML_TABLE = re.compile(
    rf"^\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)"
    rf"\s+(?:(?:{_NAME})\s*\.\s*)?({_NAME})",
    re.IGNORECASE,
)
_NAMED_FK = re.compile(rf"CONSTRAINT\s+({_NAME})\s+FOREIGN\s+KEY\s*\(([^)]*)\)", re.IGNORECASE)


def _unquote(name: str) -> str:
    name = name.strip()
    if name[:1] in ('"', "`", "[") and len(name) >= 2:
        return name[1:-1].replace('""', '"')
    return name


def w_fk_constraint(conn: sqlite3.Connection, op: Op | None, sql: str) -> str | None:
    """SQLite does not say which foreign key failed: name it from the statement's table
    (its only foreign key, by declared name when it has one), else the table itself."""
    match = _DML_TABLE.match(sql)
    if match is None:
        return None
    table = _unquote(match.group(2))
    if match.group(1).upper().startswith("DELETE"):
        return table  # one of its rows is still referenced
    keys = conn.execute(f"PRAGMA foreign_key_list({quote(table)})").fetchall()
    ids = {key[0] for key in keys}
    if len(ids) != 1:
        return table
    columns = [key[3] for key in keys]
    found = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    for name, cols in _NAMED_FK.findall(found[0] if found and found[0] else ""):
        if [_unquote(c) for c in cols.split(",")] == columns:
            return _unquote(name)
    return f"{table}.{', '.join(columns)}"


def quote(name: str) -> str:
    return ".".join("`" + part.replace("`", "``") + "`" for part in name.split("."))
