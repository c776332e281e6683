"""Injection properties (hypothesis): values are always bound, identifiers always quoted or
refused, non-scalars never reach a comparison, and placeholders always match params.

Pure: no database, no example database on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jadugar.errors import UnsupportedOperation
from jadugar.query.builder import TableQueryBuilder
from jadugar.query.compiler import CompiledQuery, SqlCompiler
from jadugar.query.expressions import Column, fn
from jadugar.query.query_builder import QueryBuilder
from tests.unit.compile_helpers import (
    DIALECTS,
    QUOTE_CHARS,
    Compilable,
    compiler,
    offline_qb,
    placeholders,
    qb,
    unquoted_text,
)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

HOSTILE = [
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    "\\'",
    "\\",
    "\\\\'; --",
    "%s",
    "%",
    "%%",
    "%(name)s",
    "%d",
    "$1",
    "$2::text",
    "?",
    "??",
    ":name",
    "\x00",
    "a\x00b",
    "`",
    "``",
    "`; DROP TABLE users; --`",
    '"',
    '""',
    '"; DROP TABLE users; --',
    "*/ DROP TABLE users; /*",
    "-- ",
    "\n; DELETE FROM users",
    "users.id",
    "x as y",
    "*",
    "é",
    "\u202e",
    "😀",
    "[x]",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
SENTINEL = "\u2063sentinel\u2063"


# ---- values are bound, never written into the SQL -------------------------------------------
ValueSite = Callable[[QueryBuilder, str], Compilable]
VALUE_SITES: dict[str, ValueSite] = {
    "where mapping": lambda q, v: q.table("users").where({"name": v, "id": 1}),
    "where pair": lambda q, v: q.table("users").where("name", v),
    "where =": lambda q, v: q.table("users").where("name", "=", v),
    "where !=": lambda q, v: q.table("users").where("name", "!=", v),
    "where <": lambda q, v: q.table("users").where("name", "<", v),
    "where like": lambda q, v: q.table("users").where("name", "like", v),
    "where ilike": lambda q, v: q.table("users").where("name", "ilike", v),
    "where in": lambda q, v: q.table("users").where("name", "in", [v, "x"]),
    "where_in": lambda q, v: q.table("users").where_in("name", [1, v]),
    "where_not_in": lambda q, v: q.table("users").where_not_in("name", (v,)),
    "where_between": lambda q, v: q.table("users").where_between("name", v, v),
    "or_where": lambda q, v: q.table("users").where("id", 1).or_where({"name": [v]}),
    "where_raw ?": lambda q, v: q.table("users").where_raw("name = ? and id = ?", [v, 2]),
    "where_raw $n": lambda q, v: q.table("users").where_raw("name = $2 or id = $1", [3, v]),
    "column ==": lambda q, v: q.table("users").where(Column[str]("name") == v),
    "column like": lambda q, v: q.table("users").where(~Column[str]("name").like(v)),
    "column ilike": lambda q, v: q.table("users").where(Column[str]("name").ilike(v)),
    "column in_": lambda q, v: q.table("users").where(Column[str]("name").in_([v])),
    "column between": lambda q, v: q.table("users").where(Column[str]("name").between(v, "z")),
    "having": lambda q, v: q.table("users").group_by("name").having("name", ">=", v),
    "join on value": lambda q, v: q.table("users").join(
        "posts",
        (Column[int]("posts.uid") == Column[int]("users.id")) & (Column[str]("posts.tag") == v),
    ),
    "fn.raw": lambda q, v: q.table("users").select(fn.raw("coalesce(name, ?)", v).as_("n")),
    "fn.coalesce": lambda q, v: q.table("users").select(fn.coalesce("name", fn.raw("?", v))),
    "raw ?": lambda q, v: q.raw("select * from users where name = ?", [v]),
    "raw $1": lambda q, v: q.raw("select $1, $1", [v]),
    "insert": lambda q, v: q.table("users").insert({"name": v, "bio": v}),
    "insert_many": lambda q, v: q.table("users").insert_many([{"name": v}, {"name": "b"}]),
    "upsert": lambda q, v: q.table("users").upsert({"email": v, "name": v}, conflict=["email"]),
    "update": lambda q, v: q.table("users").where("name", v).update({"name": v}),
    "delete": lambda q, v: q.table("users").where("name", v).delete(),
}


def _swap(params: tuple[Any, ...], value: str) -> tuple[Any, ...]:
    return tuple(value if p == SENTINEL else p for p in params)


@SETTINGS
@given(site=st.sampled_from(sorted(VALUE_SITES)), value=hostile_text)
def test_values_never_reach_the_sql_text(site: str, value: str) -> None:
    build = VALUE_SITES[site]
    for dialect in DIALECTS:
        query = qb(dialect)
        with_value = build(query, value).to_sql()
        with_sentinel = build(query, SENTINEL).to_sql()
        # the statement text does not depend on the value at all...
        assert with_value.sql == with_sentinel.sql, (dialect, site, value)
        # ...and the value is bound verbatim, where the sentinel was
        assert SENTINEL in with_sentinel.params
        assert with_value.params == _swap(with_sentinel.params, value), (dialect, value)
        assert placeholders(dialect, with_value.sql) == len(with_value.params)


@pytest.mark.parametrize("value", [v for v in HOSTILE if len(v) >= 2])
def test_hostile_strings_are_not_in_the_sql(value: str) -> None:
    for dialect in DIALECTS:
        for site, build in VALUE_SITES.items():
            compiled = build(qb(dialect), value).to_sql()
            template = build(qb(dialect), SENTINEL).to_sql().sql
            if value not in template:  # "%s" is MySQL's placeholder, "$1" PostgreSQL's
                assert value not in compiled.sql, (dialect, site)
            assert value in compiled.params, (dialect, site)


def test_json_values_are_bound_whole() -> None:
    doc = {"'; DROP TABLE users; --": ["%s", "$1", "?", "`", '"']}
    for dialect in DIALECTS:
        compiled = qb(dialect).table("t").insert({"doc": doc}).to_sql()
        assert "DROP" not in compiled.sql
        assert len(compiled.params) == 1
        param = compiled.params[0]
        assert param == doc or (isinstance(param, str) and "DROP TABLE" in param)


# ---- identifiers are quoted or refused --------------------------------------------------------
IdentSite = Callable[[QueryBuilder, str], Compilable]
# sites where the identifier is used as given (no "x as y" alias splitting)
EXACT_SITES: dict[str, IdentSite] = {
    "where column": lambda q, n: q.table("t").where(n, 1),
    "where mapping key": lambda q, n: q.table("t").where({n: None}),
    "where_in column": lambda q, n: q.table("t").where_in(n, [1, 2]),
    "where_null": lambda q, n: q.table("t").where_null(n),
    "order_by": lambda q, n: q.table("t").order_by(n, "desc"),
    "group_by": lambda q, n: q.table("t").group_by(n),
    "Column": lambda q, n: q.table("t").where(Column[int](n) > 1),
    "alias": lambda q, n: q.table("t").select(Column[int]("c").as_(n)),
    "insert column": lambda q, n: q.table("t").insert({n: 1}),
    "insert_many column": lambda q, n: q.table("t").insert_many([{n: 1}, {n: 2}]),
    "update column": lambda q, n: q.table("t").where("id", 1).update({n: 1}),
    "upsert conflict": lambda q, n: q.table("t").upsert({n: 1, "a": 2}, conflict=[n]),
    "returning": lambda q, n: q.table("t").insert({"a": 1}).returning(n),
    "join column": lambda q, n: q.table("t").join("u", n, "u.id"),
}
# sites that may read "name as alias" out of the text: checked for balance only
LOOSE_SITES: dict[str, IdentSite] = {
    "table": lambda q, n: q.table(n).where("id", 1),
    "select": lambda q, n: q.table("t").select(n),
    "join table": lambda q, n: q.table("t").left_join(n, "t.id", "x.id"),
}


def _quoted(dialect: str, identifier: str) -> str:
    q = QUOTE_CHARS[dialect]
    return ".".join(p if p == "*" else q + p.replace(q, q + q) + q for p in identifier.split("."))


# the columns a write names: its table's own, never qualified
WRITE_COLUMN_SITES = frozenset(
    ["insert column", "insert_many column", "update column", "upsert conflict"]
)


def _refusable(dialect: str, identifier: str, site: str) -> bool:
    limit = compiler(dialect).max_identifier_length
    parts = identifier.split(".")
    if any(not p or "\x00" in p or len(p.encode()) > limit for p in parts):
        return True
    if "*" in parts:  # every column, not a name: taken by select() and returning() only
        return True
    if site in WRITE_COLUMN_SITES and len(parts) > 1:
        return True
    # MySQL may refuse a % rather than double it (the driver formats the text with %)
    return dialect == "mysql" and "%" in identifier


def _as_sent(dialect: str, compiled: CompiledQuery) -> str:
    """The text the server receives: MySQL's driver %-formats the statement client-side."""
    count = placeholders(dialect, compiled.sql)
    assert count == len(compiled.params), (dialect, compiled.sql, compiled.params)
    if dialect == "mysql":
        return compiled.sql % tuple("0" for _ in compiled.params)
    return compiled.sql


def _check_identifier(site: str, build: IdentSite, identifier: str, exact: bool) -> None:
    for dialect in DIALECTS:
        try:
            compiled = build(qb(dialect), identifier).to_sql()
        except ValueError as exc:
            assert _refusable(dialect, identifier, site), (
                f"{dialect} {site}: refused {identifier!r}: {exc}"
            )
            continue
        except UnsupportedOperation:  # RETURNING on MySQL
            assert dialect == "mysql" and site == "returning"
            continue
        # never silently accepted: a NUL or an empty part must be refused
        assert "\x00" not in identifier, (dialect, site)
        sent = _as_sent(dialect, compiled)
        q = QUOTE_CHARS[dialect]
        assert q not in unquoted_text(dialect, sent), (
            f"{dialect} {site}: unbalanced {q} in {sent!r}"
        )
        if exact:
            assert _quoted(dialect, identifier) in sent, f"{dialect} {site}: {sent!r}"


identifiers = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=0, max_size=30))


@SETTINGS
@given(site=st.sampled_from(sorted(EXACT_SITES)), identifier=identifiers)
def test_identifiers_are_quoted_or_refused(site: str, identifier: str) -> None:
    """Quoted exactly (quote char doubled, balanced), or refused with ValueError."""
    _check_identifier(site, EXACT_SITES[site], identifier, exact=True)


@SETTINGS
@given(site=st.sampled_from(sorted(LOOSE_SITES)), identifier=identifiers)
def test_table_and_select_identifiers_stay_balanced(site: str, identifier: str) -> None:
    """Table names and select items may carry "x as alias": quotes must still balance."""
    _check_identifier(site, LOOSE_SITES[site], identifier, exact=False)


@pytest.mark.parametrize("identifier", ["\x00", "a\x00", "users.\x00id", "\x00.id"])
def test_nul_identifiers_are_refused_everywhere(identifier: str) -> None:
    for dialect in DIALECTS:
        for site, build in {**EXACT_SITES, **LOOSE_SITES}.items():
            try:
                compiled = build(qb(dialect), identifier).to_sql()
            except ValueError as exc:
                assert "NUL" in str(exc), (dialect, site, exc)
            except UnsupportedOperation:  # RETURNING on MySQL: refused before quoting
                assert dialect == "mysql" and site == "returning"
            else:
                raise AssertionError(f"{dialect} {site}: accepted {identifier!r}: {compiled.sql!r}")


def test_identifier_quote_is_doubled_not_escaped() -> None:
    # a backslash is not an escape inside quoted identifiers: it must be kept as is
    for dialect in DIALECTS:
        q = QUOTE_CHARS[dialect]
        sql = qb(dialect).table("t").where(f"a\\{q}b", 1).to_sql().sql
        assert f"{q}a\\{q}{q}b{q}" in sql


# ---- non-scalars never reach a comparison -----------------------------------------------------
class CountingCompiler:
    """Wraps a dialect compiler and counts compile() calls."""

    def __init__(self, inner: SqlCompiler) -> None:
        self.inner = inner
        self.calls = 0

    def compile(self, node: Any) -> CompiledQuery:
        self.calls += 1
        return self.inner.compile(node)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _counting_qb(dialect: str) -> tuple[QueryBuilder, CountingCompiler]:
    counting = CountingCompiler(compiler(dialect))
    query, _ = offline_qb(dialect, compiler=cast(SqlCompiler, counting))
    return query, counting


class Opaque:
    """An object whose str() looks like SQL: must never be bound or inlined."""

    def __str__(self) -> str:
        return "1 OR 1=1"


dicts = st.dictionaries(hostile_text, st.one_of(hostile_text, st.integers(), st.none()), max_size=3)
# never a comparison value anywhere
objects = st.one_of(dicts, st.builds(Opaque), st.builds(object))
# also refused where one scalar is expected (a list/tuple/set means IN only in a mapping or pair)
non_scalars = st.one_of(
    objects,
    st.lists(st.integers(), max_size=3),
    st.sets(st.integers(), max_size=3),
    st.tuples(st.integers()),
)

ConfusedSite = Callable[[QueryBuilder, Any], Compilable]
SCALAR_SITES: dict[str, ConfusedSite] = {
    "where mapping list item": lambda q, v: q.table("t").where({"a": [1, v]}),
    "where =": lambda q, v: q.table("t").where("a", "=", v),
    "where !=": lambda q, v: q.table("t").where("a", "!=", v),
    "where >": lambda q, v: q.table("t").where("a", ">", v),
    "where like": lambda q, v: q.table("t").where("a", "like", v),
    "where in item": lambda q, v: q.table("t").where("a", "in", [v]),
    "where between": lambda q, v: q.table("t").where("a", "between", (v, 1)),
    "where_in item": lambda q, v: q.table("t").where_in("a", [1, v]),
    "where_in dict": lambda q, v: q.table("t").where_in("a", {"k": v}),
    "where_between": lambda q, v: q.table("t").where_between("a", 1, v),
    "where_raw param": lambda q, v: q.table("t").where_raw("a = ?", [v]),
    "or_where": lambda q, v: q.table("t").where("b", 1).or_where("a", "<", v),
    "having": lambda q, v: q.table("t").group_by("a").having("a", "=", v),
    "Column ==": lambda q, v: q.table("t").where(Column[Any]("a") == v),
    "Column !=": lambda q, v: q.table("t").where(Column[Any]("a") != v),
    "Column >": lambda q, v: q.table("t").where(Column[Any]("a") > v),
    "Column like": lambda q, v: q.table("t").where(Column[Any]("a").like(v)),
    "Column in_ item": lambda q, v: q.table("t").where(Column[Any]("a").in_([v])),
    "Column between": lambda q, v: q.table("t").where(Column[Any]("a").between(1, v)),
    "fn.raw param": lambda q, v: q.table("t").select(fn.raw("?", v)),
    "fn.coalesce": lambda q, v: q.table("t").select(fn.coalesce("a", v)),
}
OBJECT_SITES: dict[str, ConfusedSite] = {
    "where mapping value": lambda q, v: q.table("t").where({"a": v}),
    "where (column, value)": lambda q, v: q.table("t").where("a", v),
    "having mapping": lambda q, v: q.table("t").group_by("a").having({"a": v}),
}


def _assert_refused(dialect: str, site: str, build: ConfusedSite, value: Any) -> None:
    query, counting = _counting_qb(dialect)
    with pytest.raises(TypeError):
        build(query, value).to_sql()
    assert counting.calls == 0, f"{dialect} {site}: compiled a query with {value!r}"


@SETTINGS
@given(site=st.sampled_from(sorted(SCALAR_SITES)), value=non_scalars)
def test_non_scalars_in_comparisons_raise_type_error(site: str, value: Any) -> None:
    for dialect in DIALECTS:
        _assert_refused(dialect, site, SCALAR_SITES[site], value)


@SETTINGS
@given(site=st.sampled_from(sorted(OBJECT_SITES)), value=objects)
def test_objects_as_where_values_raise_type_error(site: str, value: Any) -> None:
    for dialect in DIALECTS:
        _assert_refused(dialect, site, OBJECT_SITES[site], value)


@pytest.mark.parametrize("value", [{"a": 1}, {"$gt": ""}, Opaque(), object(), {1, 2}, (1,)])
def test_writes_refuse_objects_but_accept_json(value: Any) -> None:
    table = qb("postgres").table("t")
    if isinstance(value, dict):
        # dicts are JSON documents when inserted or updated: bound whole, as one param
        assert table.insert({"doc": value}).to_sql().params == (value,)
        assert table.where("id", 1).update({"doc": value}).to_sql().params == (value, 1)
    else:
        with pytest.raises(TypeError):
            table.insert({"doc": value})
        with pytest.raises(TypeError):
            table.where("id", 1).update({"doc": value})


# ---- placeholders always match params, in every dialect ---------------------------------------
scalars = st.one_of(
    hostile_text,
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.binary(max_size=8),
)
columns = st.sampled_from(["a", "b", "t.c", 'we"ird', "back`tick", "x as y"])
write_columns = st.sampled_from(["a", "b", 'we"ird', "back`tick", "x as y"])  # unqualified


def _raw_condition(draw: st.DrawFn) -> tuple[str, list[Any]]:
    values = draw(st.lists(scalars, min_size=0, max_size=3))
    style = draw(st.sampled_from(["?", "$"]))
    noise = draw(
        st.sampled_from(["", " and x like '%?%'", " /* $1 ? */", " -- ?\n", ' and "?" = 1'])
    )
    if style == "?":
        body = " and ".join("c = ?" for _ in values) or "1 = 1"
    else:
        order = draw(st.permutations(range(1, len(values) + 1))) if values else []
        body = " and ".join(f"c = ${i}" for i in order) or "1 = 1"
    return body + noise, values


StepSpec = tuple[str, str, tuple[Any, ...]]  # kind, column, arguments
STEP_KINDS = ["where", "op", "or", "in", "not_in", "between", "null", "raw", "group", "expr"]
STEP_KINDS += ["join", "having", "limit"]


def _apply(builder: TableQueryBuilder, step: StepSpec) -> TableQueryBuilder:
    kind, c, args = step
    col = Column[Any](c)
    if kind == "where":
        return builder.where({c: args[0]})
    if kind == "op":
        return builder.where(c, args[0], args[1])
    if kind == "or":
        return builder.or_where(c, args[0])
    if kind == "in":
        return builder.where_in(c, args)
    if kind == "not_in":
        return builder.where_not_in(c, args)
    if kind == "between":
        return builder.where_between(c, args[0], args[1])
    if kind == "null":
        return builder.where_not_null(c)
    if kind == "raw":
        return builder.where_raw(args[0], args[1])
    if kind == "group":
        return builder.where(lambda g: g.where(c, args[0]).or_where(c, "<>", args[1]))
    if kind == "expr":
        return builder.where(~((col == args[0]) | col.ilike("x")) & col.in_([args[1]]))
    if kind == "join":
        on = (Column[int]("u.id") == Column[int]("t.uid")) & (Column[Any]("u.k") == args[0])
        return builder.join("u", on)
    if kind == "having":
        return builder.group_by(c).having(c, ">", args[0])
    return builder.limit(args[0]).offset(args[0])


@st.composite
def step_specs(draw: st.DrawFn) -> StepSpec:
    kind = draw(st.sampled_from(STEP_KINDS))
    col = draw(columns)
    args: tuple[Any, ...]
    if kind == "op":
        ops = ["=", "!=", "<", ">=", "like", "ilike", "not_like"]
        args = (draw(st.sampled_from(ops)), draw(scalars))
    elif kind in ("in", "not_in"):
        args = tuple(draw(st.lists(scalars, max_size=4)))
    elif kind == "raw":
        args = _raw_condition(draw)
    elif kind == "limit":
        args = (draw(st.integers(0, 10**6)),)
    else:
        args = (draw(scalars), draw(scalars))
    return kind, col, args


@st.composite
def queries(draw: st.DrawFn) -> Callable[[QueryBuilder], Compilable]:
    steps = draw(st.lists(step_specs(), min_size=1, max_size=6))
    write = draw(st.sampled_from(["select", "update", "delete"]))
    data = draw(st.dictionaries(write_columns, scalars, min_size=1, max_size=3))

    def build(q: QueryBuilder) -> Compilable:
        builder = q.table("t")
        for step in steps:
            builder = _apply(builder, step)
        if write == "update":
            return builder.where("id", 1).update(data)
        if write == "delete":
            return builder.where("id", 1).delete()
        return builder

    return build


@SETTINGS
@given(build=queries())
def test_placeholders_match_params_in_every_dialect(
    build: Callable[[QueryBuilder], Compilable],
) -> None:
    compiled = {dialect: build(qb(dialect)).to_sql() for dialect in DIALECTS}
    for dialect, (sql, params) in compiled.items():
        assert placeholders(dialect, sql) == len(params), (dialect, sql, params)
    # the same values in the same order, whatever the placeholder style
    assert compiled["postgres"].params == compiled["mysql"].params == compiled["sqlite"].params


@SETTINGS
@given(values=st.lists(scalars, max_size=6), data=st.data())
def test_raw_placeholders_are_renumbered(values: list[Any], data: st.DataObject) -> None:
    n = len(values)
    every = list(range(1, n + 1))
    repeats = data.draw(st.lists(st.integers(1, n), max_size=3)) if n else []
    order = data.draw(st.permutations(every + repeats))
    sql = (
        "select "
        + (", ".join(f"${i}" for i in order) or "1")
        + " from t where x = '$1' and y like '%?'"
    )
    for dialect in DIALECTS:
        compiled = qb(dialect).raw(sql, values).to_sql()
        assert placeholders(dialect, compiled.sql) == len(compiled.params)
        assert compiled.params == tuple(values[i - 1] for i in order)
        assert "'$1'" in compiled.sql


def test_percent_placeholders_in_values_do_not_shift_params() -> None:
    """A value that looks like a MySQL placeholder stays a value on every dialect."""
    for dialect in DIALECTS:
        compiled = (
            qb(dialect).table("t").where("a", "%s").where("b", "%%").where("c", "$1").to_sql()
        )
        assert compiled.params == ("%s", "%%", "$1")
        assert placeholders(dialect, compiled.sql) == 3


def test_mysql_formatting_of_compiled_sql_is_well_formed() -> None:
    compiled = qb("mysql").table("t").where_raw("a like '%x%' and b = ?", ["%s"]).to_sql()
    assert compiled.sql % ("'%s'",) == "SELECT * FROM `t` WHERE a like '%x%' and b = '%s'"
