"""Injection corpus by API site, live (SPEC 4, 5, 7): every hostile input of
``injection_corpus.py`` goes through every API that takes a name or a value, on each SQL
engine. Each attempt must be refused before any SQL with a clear Jadugar error, or sent as
one clean statement that the server treats as one identifier (it resolves to exactly that
name, or its error names it) or one bound value (stored and read back verbatim). A canary
table that the payloads aim at must come through unchanged.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from jadugar import (
    ColumnDefinition,
    DatabaseManager,
    ForeignKeyReference,
    IndexOptions,
    JadugarError,
    QueryError,
    SchemaBuilder,
)
from jadugar.models import ColumnMeta, Model, ModelMeta, ModelQuery, auto

from .figures import FigureBook
from .injection_corpus import CORPUS, Hostile

pytestmark = pytest.mark.asyncio

MARK = 424242  # the value every hostile column holds (no hostile name contains it)
CANARY_ROWS = [{"n": i, "label": f"canary {i}"} for i in range(3)]
REFUSALS = (ValueError, TypeError, JadugarError)  # raised by Jadugar before any SQL
SAFE_OUTSIDE_QUOTES = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
SAFE_OUTSIDE_QUOTES |= set("_ \t\n,().=<>!*$?%:+-")
QUOTES = ("'", '"', "`")  # string or identifier quotes on one engine or another


def unquoted_text(sql: str, quote: str) -> str | None:
    """``sql`` with its quoted identifiers and string literals removed; ``None`` when a
    quote is left open."""
    out: list[str] = []
    i = 0
    while i < len(sql):
        char = sql[i]
        if char in QUOTES or char == quote:
            end = i + 1
            while True:
                end = sql.find(char, end)
                if end < 0:
                    return None
                if sql.startswith(char * 2, end):
                    end += 2
                    continue
                break
            out.append(" ")
            i = end + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def clean_statement(sql: str, quote: str) -> bool:
    """Exactly one statement: outside quotes only SQL punctuation, no ``;`` and no comment."""
    rest = unquoted_text(sql, quote)
    if rest is None or "--" in rest or "/*" in rest:
        return False
    return set(rest) <= SAFE_OUTSIDE_QUOTES


def names_the_identifier(message: str, name: object) -> bool:
    """The server refused a name (unknown, invalid), not the statement's syntax."""
    if not isinstance(name, str):
        return False
    return "syntax" not in message.lower()


def items_model(table: str) -> type[Model]:
    """A one-column model over ``table``, written as the generator writes ``find_by``."""

    class Probe(Model):
        __jadugar__: ClassVar[ModelMeta] = ModelMeta(
            name="Probe",
            table=table,
            primary_key="id",
            columns=(ColumnMeta("id", "int", primary_key=True, auto_increment=True),),
        )
        id: int = auto()

        @classmethod
        def find_by(cls, where: dict[Any, Any]) -> ModelQuery[Probe, str, str]:
            return ModelQuery(cls)._filter(where)

    return Probe


@dataclass
class Sweep:
    """The tables of one engine's sweep and what it has counted so far."""

    db: DatabaseManager
    suffix: str
    cols: str  # one integer column per accepted hostile column name
    child: str  # carries the hostile foreign key names
    canary: str
    model: Any  # the Probe model class (its find_by is not on Model)
    sent: list[str] = field(default_factory=list)
    created_tables: list[str] = field(default_factory=list)
    accepted_columns: set[str] = field(default_factory=set)
    attempts: int = 0
    refused: int = 0
    quoted: int = 0
    problems: list[str] = field(default_factory=list)

    recording: bool = True

    @contextlib.asynccontextmanager
    async def unrecorded(self) -> AsyncIterator[None]:
        """The server's listings (bound catalog queries) are the oracle, not the attempt."""
        self.recording = False
        try:
            yield
        finally:
            self.recording = True

    def record(self, payload: dict[str, Any]) -> None:
        if self.recording:
            self.sent.append(payload["sql"])

    @property
    def schema(self) -> SchemaBuilder:
        return self.db.query.schema()

    def table_for(self, index: int, name: Any) -> Any:
        """A unique table name carrying the hostile text (non-strings go in as they are)."""
        return f"jx{self.suffix}_{index}_{name}" if isinstance(name, str) else name

    def exists(self, name: object) -> bool:
        return isinstance(name, str) and name in self.accepted_columns


Outcome = Callable[[], Awaitable[bool]]  # runs the site; True: the result is the intended one
Site = Callable[[Sweep, int, Any], Outcome]


async def attempt(
    sweep: Sweep, site: str, hostile: Hostile, run: Outcome, name: object, *, value: bool = False
) -> None:
    """Run one attempt and classify it: refused, quoted (or bound), or a problem."""
    sweep.attempts += 1
    before = len(sweep.sent)
    quote = sweep.db.dialect.compiler.quote_char
    where = f"{site} / {hostile.label}"
    try:
        intended = await run()
    except QueryError as exc:
        statements = sweep.sent[before:]
        message = str(exc.args[0]) if exc.args else ""
        if not statements or (value and all(clean_statement(s, quote) for s in statements)):
            sweep.refused += 1  # before sending anything, or the server refused a bound value
        elif all(clean_statement(s, quote) for s in statements) and names_the_identifier(
            message, name
        ):
            sweep.quoted += 1
        else:
            sweep.problems.append(f"{where}: server error {message!r} for {statements!r}")
        return
    except REFUSALS as exc:
        statements = sweep.sent[before:]  # e.g. a catalog read before a table rebuild
        if not all(clean_statement(s, quote) for s in statements):
            sweep.problems.append(f"{where}: refused after sending {statements!r}")
        elif not str(exc).strip():
            sweep.problems.append(f"{where}: refused with an empty {type(exc).__name__}")
        else:
            sweep.refused += 1
        return
    except Exception as exc:  # an unclear error (AttributeError, KeyError, a driver's)
        sweep.problems.append(f"{where}: unclear {type(exc).__name__}: {exc}")
        return
    statements = sweep.sent[before:]
    if not all(clean_statement(s, quote) for s in statements):
        sweep.problems.append(f"{where}: unclean statements {statements!r}")
    elif not intended:
        sweep.problems.append(f"{where}: accepted but the server did not resolve it as given")
    else:
        sweep.quoted += 1


# ---- schema builder sites: the server's listings must show exactly the hostile name --------


def create_table_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    table = sweep.table_for(index, name)

    async def run() -> bool:
        await sweep.schema.create_table(table, lambda t: t.increments("id"))
        sweep.created_tables.append(str(table))
        async with sweep.unrecorded():
            listed = [c.name for c in await sweep.schema.columns(str(table))]
        return listed == ["id"]

    return run


def column_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        column = ColumnDefinition(name, "integer", nullable=True)
        await sweep.schema.add_column(sweep.cols, column)
        sweep.accepted_columns.add(str(name))
        async with sweep.unrecorded():
            listed = [c.name for c in await sweep.schema.columns(sweep.cols)]
        return str(name) in listed

    return run


def index_name_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    index_name = sweep.table_for(index, name)

    async def run() -> bool:
        options = IndexOptions(name=index_name)
        await sweep.schema.create_index(sweep.cols, ["n"], options)
        if name is None:  # no name: the documented default name
            return True
        async with sweep.unrecorded():
            listed = [i.name for i in await sweep.schema.indexes(sweep.cols)]
        return index_name in listed

    return run


def foreign_key_name_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    key_name = sweep.table_for(index, name)

    async def run() -> bool:
        reference = ForeignKeyReference("n", sweep.cols, "id", name=key_name)
        await sweep.schema.add_foreign_key(sweep.child, reference)
        if name is None:  # no name: the documented default name
            return True
        async with sweep.unrecorded():
            listed = [k.name for k in await sweep.schema.foreign_keys(sweep.child)]
        return key_name in listed

    return run


# ---- query builder and model sites: a hostile column that exists must work as itself ------


def table_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        return await sweep.db.query.table(name).count() == 0

    return run


def prefixed_table_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    table = sweep.table_for(index, name)

    async def run() -> bool:
        return await sweep.db.query.table(table).count() == 0

    return run


def select_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        rows = await sweep.db.query.table(sweep.cols).select(name).all()
        key = name.split(" as ")[-1] if isinstance(name, str) else name
        return len(rows) == 1 and (key in rows[0] or name == "*")

    return run


def where_column_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        query = sweep.db.query.table(sweep.cols).where(name, "=", MARK)
        return await query.count() == 1

    return run


def where_mapping_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        return await sweep.db.query.table(sweep.cols).where({name: MARK}).count() == 1

    return run


def order_by_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        rows = await sweep.db.query.table(sweep.cols).order_by(name).all()
        return len(rows) == 1

    return run


def group_by_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        query = sweep.db.query.table(sweep.cols).select(name).group_by(name)
        return len(await query.all()) == 1

    return run


def join_table_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    table = sweep.table_for(index, name)

    async def run() -> bool:
        on = {f"{table}.id": f"{sweep.cols}.id"}
        query = sweep.db.query.table(sweep.cols).join(table, on)
        return await query.count() == 0

    return run


def join_condition_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        other = f"{sweep.cols}.{name}" if isinstance(name, str) else name
        on = {f"{sweep.child}.n": other}
        return await sweep.db.query.table(sweep.cols).join(sweep.child, on).count() == 0

    return run


def insert_key_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        created = await sweep.db.query.table(sweep.cols).insert({name: -1, "n": -1})
        found = sweep.db.query.table(sweep.cols).where({"id": created.id, name: -1})
        count = await found.count()
        await sweep.db.query.table(sweep.cols).where({"id": created.id}).delete()
        return count == 1

    return run


def update_key_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        query = sweep.db.query.table(sweep.cols).where({"n": MARK})
        changed = await query.update({name: MARK})
        return changed.row_count == 1

    return run


def find_by_site(sweep: Sweep, index: int, name: Any) -> Outcome:
    async def run() -> bool:
        count: int = await sweep.model.find_by({name: MARK}).count()
        return count == 1

    return run


# ---- value sites: bound, stored and read back verbatim -------------------------------------


def _verbatim(stored: object, value: object) -> bool:
    """Text comes back exactly; other values only need to have been bound whole."""
    return stored == value if isinstance(value, str) else True


def insert_value_site(sweep: Sweep, index: int, value: Any) -> Outcome:
    async def run() -> bool:
        items = sweep.db.query.table(sweep.cols)
        created = await items.insert({"n": -2, "label": value})
        row = await items.where({"id": created.id}).first()
        await items.where({"id": created.id}).delete()
        return row is not None and _verbatim(row["label"], value)

    return run


def where_value_site(sweep: Sweep, index: int, value: Any) -> Outcome:
    async def run() -> bool:
        items = sweep.db.query.table(sweep.cols)
        n = -1000 - index  # this attempt's own row
        change = items.where({"n": n}).update({"label": value})  # refused here, if at all
        compared = items.where("label", "=", value).where({"n": n})
        mapped = items.where({"label": value, "n": n})
        created = await items.insert({"n": n, "label": "kept"})
        await change
        hits, matches = await compared.count(), await mapped.count()
        await items.where({"id": created.id}).delete()
        return hits == matches == 1 or not isinstance(value, str)

    return run


NAME_SITES: dict[str, Site] = {
    "schema create_table": create_table_site,
    "schema column name": column_site,
    "schema index name": index_name_site,
    "schema foreign key name": foreign_key_name_site,
    "table()": table_site,
    "table() unique name": prefixed_table_site,
    "select()": select_site,
    "where(name, =, v)": where_column_site,
    "where({name: v})": where_mapping_site,
    "order_by()": order_by_site,
    "group_by()": group_by_site,
    "join() table": join_table_site,
    "join() condition": join_condition_site,
    "insert() key": insert_key_site,
    "update() key": update_key_site,
    "model find_by() key": find_by_site,
}
VALUE_SITES: dict[str, Site] = {
    "insert() value": insert_value_site,
    "update()/where() value": where_value_site,
}
FIRST_SITES = (
    "schema create_table",
    "schema column name",
    "schema index name",
    "schema foreign key name",
)


def aimed(hostile: Hostile, canary: str) -> Hostile:
    """The payload with the real canary table's name in it."""
    if isinstance(hostile.value, str) and "canary" in hostile.value:
        return Hostile(hostile.label, hostile.value.replace("canary", canary))
    return hostile


async def prepare(db: DatabaseManager) -> Sweep:
    suffix = uuid.uuid4().hex[:6]
    cols, child, canary = f"jx{suffix}_cols", f"jx{suffix}_child", f"jx{suffix}_canary"
    schema = db.query.schema()
    for table in (cols, canary):
        await schema.create_table(
            table, lambda t: (t.increments("id"), t.integer("n"), t.text("label").nullable())
        )
    await schema.create_table(child, lambda t: (t.increments("id"), t.integer("n").nullable()))
    await db.query.table(canary).insert_many(CANARY_ROWS)
    sweep = Sweep(db, suffix, cols, child, canary, items_model(cols))
    db.on("query", sweep.record).on("error", sweep.record)
    return sweep


async def tear_down(sweep: Sweep) -> None:
    qb = sweep.db.query
    for table in (sweep.child, *sweep.created_tables, sweep.cols, sweep.canary):
        await qb.raw(f"DROP TABLE IF EXISTS {qb.quote(table)}").execute()


async def test_injection_corpus(db: DatabaseManager, engine: str, figures: FigureBook) -> None:
    sweep = await prepare(db)
    try:
        corpus = [aimed(h, sweep.canary) for h in CORPUS]
        ordered = [*FIRST_SITES, *(s for s in NAME_SITES if s not in FIRST_SITES)]
        for site in ordered:
            if site == ordered[len(FIRST_SITES)]:  # hostile columns exist: give them a row
                plain = (c for c in sweep.accepted_columns if "." not in c)  # DML: dot = qualifier
                row = dict.fromkeys(plain, MARK) | {"n": MARK}
                await db.query.table(sweep.cols).insert(row)
            for index, hostile in enumerate(corpus):
                run = NAME_SITES[site](sweep, index, hostile.value)
                await attempt(sweep, site, hostile, run, hostile.value)
        for site, build in VALUE_SITES.items():
            for index, hostile in enumerate(corpus):
                run = build(sweep, index, hostile.value)
                await attempt(sweep, site, hostile, run, None, value=True)
        canary_rows = await db.query.table(sweep.canary).select("n", "label").order_by("n").all()
        if canary_rows != CANARY_ROWS:
            sweep.problems.append(f"canary changed: {canary_rows!r}")
    finally:
        await tear_down(sweep)
    figures.record(
        "injection corpus",
        engine,
        inputs=len(corpus),
        api_sites=len(NAME_SITES) + len(VALUE_SITES),
        attempts=sweep.attempts,
        refused=sweep.refused,
        quoted=sweep.quoted,
        unintended_statements=len(sweep.problems),
    )
    assert len(corpus) >= 40
    assert sweep.refused + sweep.quoted + len(sweep.problems) == sweep.attempts
    assert not sweep.problems, "\n".join(sweep.problems[:60])
