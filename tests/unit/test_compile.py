"""Compile tests (SPEC 4): query builders -> (sql, params), every dialect side by side.

No database: builders come from a never-connected ``DatabaseManager`` (or an offline
session, see ``compile_helpers``), and only ``to_sql()`` runs.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import uuid
from typing import Any

import pytest

from jadugar.dialects.sqlite.compiler import SQLITE_VERSION, SQLiteCompiler
from jadugar.errors import UnsafeQueryError, UnsupportedOperation
from jadugar.query import tree
from jadugar.query.compiler import SqlCompiler
from jadugar.query.expressions import Column, fn
from jadugar.query.query_builder import QueryBuilder
from tests.unit.compile_helpers import (
    DIALECTS,
    QUOTE_CHARS,
    Raises,
    assert_sql,
    compile_all,
    compiler,
    manager,
    offline_qb,
    placeholders,
    qb,
)


class Color(enum.Enum):
    RED = "red"


# ---- select ----------------------------------------------------------------------------------
def test_select_star_by_default() -> None:
    assert_sql(
        lambda q: q.table("users"),
        postgres=('SELECT * FROM "users"', ()),
        mysql=("SELECT * FROM `users`", ()),
        sqlite=("SELECT * FROM `users`", ()),
    )


def test_select_columns_and_aliases() -> None:
    assert_sql(
        lambda q: q.table("users").select("id", "name as n", "users.email AS e", "posts.*"),
        postgres=('SELECT "id", "name" AS "n", "users"."email" AS "e", "posts".* FROM "users"', ()),
        mysql=("SELECT `id`, `name` AS `n`, `users`.`email` AS `e`, `posts`.* FROM `users`", ()),
        sqlite=("SELECT `id`, `name` AS `n`, `users`.`email` AS `e`, `posts`.* FROM `users`", ()),
    )


def test_select_is_cumulative_and_takes_expressions() -> None:
    assert_sql(
        lambda q: q.table("users").select("id").select(Column[str]("name").as_("who")),
        postgres=('SELECT "id", "name" AS "who" FROM "users"', ()),
        mysql=("SELECT `id`, `name` AS `who` FROM `users`", ()),
        sqlite=("SELECT `id`, `name` AS `who` FROM `users`", ()),
    )


def test_distinct() -> None:
    assert_sql(
        lambda q: q.table("users").select("country").distinct(),
        postgres=('SELECT DISTINCT "country" FROM "users"', ()),
        mysql=("SELECT DISTINCT `country` FROM `users`", ()),
        sqlite=("SELECT DISTINCT `country` FROM `users`", ()),
    )


def test_table_alias() -> None:
    assert_sql(
        lambda q: q.table("users as u").select("u.id"),
        postgres=('SELECT "u"."id" FROM "users" AS "u"', ()),
        mysql=("SELECT `u`.`id` FROM `users` AS `u`", ()),
        sqlite=("SELECT `u`.`id` FROM `users` AS `u`", ()),
    )


def test_builders_are_immutable() -> None:
    base = qb("postgres").table("users").where("active", True)
    adults = base.where("age", ">=", 18).order_by("name").limit(5)
    assert tuple(base.to_sql()) == ('SELECT * FROM "users" WHERE "active" = $1', (True,))
    assert adults.to_sql().sql == (
        'SELECT * FROM "users" WHERE "active" = $1 AND "age" >= $2 ORDER BY "name" ASC LIMIT 5'
    )
    assert base.to_sql().sql == 'SELECT * FROM "users" WHERE "active" = $1'


def test_compiled_query_unpacks() -> None:
    sql, params = qb("sqlite").table("users").where("id", 7).to_sql()
    assert (sql, params) == ("SELECT * FROM `users` WHERE `id` = ?", (7,))


# ---- where: mappings and pairs ---------------------------------------------------------------
def test_where_mapping_equalities_null_and_in() -> None:
    assert_sql(
        lambda q: q.table("users").where(
            {"active": True, "deleted_at": None, "role": ["admin", "staff"], "id": (1, 2)}
        ),
        postgres=(
            'SELECT * FROM "users" WHERE "active" = $1 AND "deleted_at" IS NULL'
            ' AND "role" IN ($2, $3) AND "id" IN ($4, $5)',
            (True, "admin", "staff", 1, 2),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE `active` = %s AND `deleted_at` IS NULL"
            " AND `role` IN (%s, %s) AND `id` IN (%s, %s)",
            (True, "admin", "staff", 1, 2),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE `active` = ? AND `deleted_at` IS NULL"
            " AND `role` IN (?, ?) AND `id` IN (?, ?)",
            (True, "admin", "staff", 1, 2),
        ),
    )


def test_where_single_mapping_item_is_not_wrapped() -> None:
    assert_sql(
        lambda q: q.table("users").where({"id": 1}),
        postgres=('SELECT * FROM "users" WHERE "id" = $1', (1,)),
        mysql=("SELECT * FROM `users` WHERE `id` = %s", (1,)),
        sqlite=("SELECT * FROM `users` WHERE `id` = ?", (1,)),
    )


def test_where_column_value_pair_and_none() -> None:
    assert_sql(
        lambda q: q.table("users").where("name", "Ada").where("email", None),
        postgres=('SELECT * FROM "users" WHERE "name" = $1 AND "email" IS NULL', ("Ada",)),
        mysql=("SELECT * FROM `users` WHERE `name` = %s AND `email` IS NULL", ("Ada",)),
        sqlite=("SELECT * FROM `users` WHERE `name` = ? AND `email` IS NULL", ("Ada",)),
    )


def test_where_binds_scalars_of_every_kind() -> None:
    when = datetime.datetime(2024, 5, 6, 7, 8, 9)
    key = uuid.UUID(int=5)
    amount = decimal.Decimal("9.99")
    assert_sql(
        lambda q: q.table("t").where(
            {"a": when, "b": key, "c": amount, "d": b"\x00\x01", "e": Color.RED, "f": 1.5}
        ),
        postgres=(
            'SELECT * FROM "t" WHERE "a" = $1 AND "b" = $2 AND "c" = $3 AND "d" = $4'
            ' AND "e" = $5 AND "f" = $6',
            (when, key, amount, b"\x00\x01", "red", 1.5),
        ),
        mysql=(
            "SELECT * FROM `t` WHERE `a` = %s AND `b` = %s AND `c` = %s AND `d` = %s"
            " AND `e` = %s AND `f` = %s",
            (when, key, amount, b"\x00\x01", "red", 1.5),
        ),
        sqlite=(
            "SELECT * FROM `t` WHERE `a` = ? AND `b` = ? AND `c` = ? AND `d` = ?"
            " AND `e` = ? AND `f` = ?",
            (when, key, amount, b"\x00\x01", "red", 1.5),
        ),
    )


def test_where_empty_mapping_is_refused() -> None:
    with pytest.raises(ValueError, match="empty mapping"):
        qb("postgres").table("users").where({})


def test_where_mapping_keys_must_be_strings() -> None:
    with pytest.raises(TypeError, match="column names"):
        qb("postgres").table("users").where({1: "x"})


def test_where_arity_is_checked() -> None:
    with pytest.raises(TypeError, match="1 to 3 arguments"):
        qb("postgres").table("users").where("a", "=", 1, 2)
    with pytest.raises(TypeError):
        qb("postgres").table("users").where(42)


# ---- where: (column, op, value) --------------------------------------------------------------
OPERATOR_CASES: list[tuple[str, Any, str, str, str, tuple[Any, ...]]] = [
    # op, value, postgres, mysql, sqlite, params
    ("=", 1, '"age" = $1', "`age` = %s", "`age` = ?", (1,)),
    ("!=", 1, '"age" <> $1', "`age` <> %s", "`age` <> ?", (1,)),
    ("<>", 1, '"age" <> $1', "`age` <> %s", "`age` <> ?", (1,)),
    ("<", 1, '"age" < $1', "`age` < %s", "`age` < ?", (1,)),
    ("<=", 1, '"age" <= $1', "`age` <= %s", "`age` <= ?", (1,)),
    (">", 1, '"age" > $1', "`age` > %s", "`age` > ?", (1,)),
    (">=", 1, '"age" >= $1', "`age` >= %s", "`age` >= ?", (1,)),
    ("like", "a%", '"age" LIKE $1', "`age` LIKE %s", "`age` LIKE ?", ("a%",)),
    ("not_like", "a%", '"age" NOT LIKE $1', "`age` NOT LIKE %s", "`age` NOT LIKE ?", ("a%",)),
    (
        "ilike",
        "a%",
        '"age" ILIKE $1',
        "LOWER(`age`) LIKE LOWER(%s)",
        "LOWER(`age`) LIKE LOWER(?)",
        ("a%",),
    ),
    (
        "not_ilike",
        "a%",
        '"age" NOT ILIKE $1',
        "LOWER(`age`) NOT LIKE LOWER(%s)",
        "LOWER(`age`) NOT LIKE LOWER(?)",
        ("a%",),
    ),
    ("in", [1, 2], '"age" IN ($1, $2)', "`age` IN (%s, %s)", "`age` IN (?, ?)", (1, 2)),
    (
        "not_in",
        (1, 2),
        '"age" NOT IN ($1, $2)',
        "`age` NOT IN (%s, %s)",
        "`age` NOT IN (?, ?)",
        (1, 2),
    ),
    (
        "between",
        (18, 65),
        '"age" BETWEEN $1 AND $2',
        "`age` BETWEEN %s AND %s",
        "`age` BETWEEN ? AND ?",
        (18, 65),
    ),
    (
        "not_between",
        [18, 65],
        '"age" NOT BETWEEN $1 AND $2',
        "`age` NOT BETWEEN %s AND %s",
        "`age` NOT BETWEEN ? AND ?",
        (18, 65),
    ),
    ("=", None, '"age" IS NULL', "`age` IS NULL", "`age` IS NULL", ()),
    ("!=", None, '"age" IS NOT NULL', "`age` IS NOT NULL", "`age` IS NOT NULL", ()),
    ("IN", [3], '"age" IN ($1)', "`age` IN (%s)", "`age` IN (?)", (3,)),
]


@pytest.mark.parametrize(
    ("op", "value", "postgres", "mysql", "sqlite", "params"),
    OPERATOR_CASES,
    ids=[f"{c[0]}-{c[1]!r}" for c in OPERATOR_CASES],
)
def test_where_operator(
    op: str, value: Any, postgres: str, mysql: str, sqlite: str, params: tuple[Any, ...]
) -> None:
    assert_sql(
        lambda q: q.table("users").where("age", op, value),
        postgres=('SELECT * FROM "users" WHERE ' + postgres, params),
        mysql=("SELECT * FROM `users` WHERE " + mysql, params),
        sqlite=("SELECT * FROM `users` WHERE " + sqlite, params),
    )


def test_where_compares_two_columns() -> None:
    assert_sql(
        lambda q: q.table("users").where("updated_at", ">", Column[int]("created_at")),
        postgres=('SELECT * FROM "users" WHERE "updated_at" > "created_at"', ()),
        mysql=("SELECT * FROM `users` WHERE `updated_at` > `created_at`", ()),
        sqlite=("SELECT * FROM `users` WHERE `updated_at` > `created_at`", ()),
    )


@pytest.mark.parametrize("op", ["==", "===", "; DROP", "LIKE2", "", "is"])
def test_where_unknown_operator(op: str) -> None:
    with pytest.raises(ValueError, match="unknown operator"):
        qb("postgres").table("users").where("a", op, 1)


@pytest.mark.parametrize(
    ("op", "value"),
    [("in", 5), ("in", "abc"), ("not_in", b"ab"), ("between", (1,)), ("between", 5)],
)
def test_where_operator_value_shape_is_checked(op: str, value: Any) -> None:
    with pytest.raises(TypeError):
        qb("postgres").table("users").where("a", op, value)


def test_where_in_accepts_any_iterable() -> None:
    assert_sql(
        lambda q: q.table("users").where_in("id", (i for i in (1, 2))),
        postgres=('SELECT * FROM "users" WHERE "id" IN ($1, $2)', (1, 2)),
        mysql=("SELECT * FROM `users` WHERE `id` IN (%s, %s)", (1, 2)),
        sqlite=("SELECT * FROM `users` WHERE `id` IN (?, ?)", (1, 2)),
    )


# ---- where: column expressions ---------------------------------------------------------------
age = Column[int]("age")
name = Column[str]("name")
email = Column[str]("email")


def test_expression_and_or_not() -> None:
    assert_sql(
        lambda q: q.table("users").where(((age > 18) & (age < 65)) | ~(name == "root")),
        postgres=(
            'SELECT * FROM "users" WHERE ("age" > $1 AND "age" < $2) OR NOT ("name" = $3)',
            (18, 65, "root"),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE (`age` > %s AND `age` < %s) OR NOT (`name` = %s)",
            (18, 65, "root"),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE (`age` > ? AND `age` < ?) OR NOT (`name` = ?)",
            (18, 65, "root"),
        ),
    )


def test_expression_or_inside_and_keeps_parentheses() -> None:
    assert_sql(
        lambda q: q.table("users").where(((age == 1) | (age == 2)) & (name != "x")),
        postgres=(
            'SELECT * FROM "users" WHERE ("age" = $1 OR "age" = $2) AND "name" <> $3',
            (1, 2, "x"),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE (`age` = %s OR `age` = %s) AND `name` <> %s",
            (1, 2, "x"),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE (`age` = ? OR `age` = ?) AND `name` <> ?",
            (1, 2, "x"),
        ),
    )


def test_expression_comparisons() -> None:
    assert_sql(
        lambda q: q.table("users").where(
            (age >= 1) & (age <= 9) & (age != 5) & (age == Column[int]("other"))
        ),
        postgres=(
            'SELECT * FROM "users" WHERE (("age" >= $1 AND "age" <= $2) AND "age" <> $3)'
            ' AND "age" = "other"',
            (1, 9, 5),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE ((`age` >= %s AND `age` <= %s) AND `age` <> %s)"
            " AND `age` = `other`",
            (1, 9, 5),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE ((`age` >= ? AND `age` <= ?) AND `age` <> ?)"
            " AND `age` = `other`",
            (1, 9, 5),
        ),
    )


def test_expression_like_and_ilike() -> None:
    assert_sql(
        lambda q: q.table("users").where(email.like("%@x.org")).where(name.ilike("ad%")),
        postgres=(
            'SELECT * FROM "users" WHERE "email" LIKE $1 AND "name" ILIKE $2',
            ("%@x.org", "ad%"),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE `email` LIKE %s AND LOWER(`name`) LIKE LOWER(%s)",
            ("%@x.org", "ad%"),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE `email` LIKE ? AND LOWER(`name`) LIKE LOWER(?)",
            ("%@x.org", "ad%"),
        ),
    )


def test_expression_in_not_in_between_null() -> None:
    assert_sql(
        lambda q: q.table("users").where(
            age.in_([1, 2])
            & age.not_in([3])
            & age.between(10, 20)
            & email.is_null()
            & name.is_not_null()
        ),
        postgres=(
            'SELECT * FROM "users" WHERE ((("age" IN ($1, $2) AND "age" NOT IN ($3))'
            ' AND "age" BETWEEN $4 AND $5) AND "email" IS NULL) AND "name" IS NOT NULL',
            (1, 2, 3, 10, 20),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE (((`age` IN (%s, %s) AND `age` NOT IN (%s))"
            " AND `age` BETWEEN %s AND %s) AND `email` IS NULL) AND `name` IS NOT NULL",
            (1, 2, 3, 10, 20),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE (((`age` IN (?, ?) AND `age` NOT IN (?))"
            " AND `age` BETWEEN ? AND ?) AND `email` IS NULL) AND `name` IS NOT NULL",
            (1, 2, 3, 10, 20),
        ),
    )


def test_expression_equals_none_is_null() -> None:
    assert_sql(
        lambda q: q.table("users").where((email == None) & (name != None)),  # noqa: E711
        postgres=('SELECT * FROM "users" WHERE "email" IS NULL AND "name" IS NOT NULL', ()),
        mysql=("SELECT * FROM `users` WHERE `email` IS NULL AND `name` IS NOT NULL", ()),
        sqlite=("SELECT * FROM `users` WHERE `email` IS NULL AND `name` IS NOT NULL", ()),
    )


def test_expression_as_where_column_with_value() -> None:
    assert_sql(
        lambda q: q.table("users").where(age, 3).where(age, ">", 1),
        postgres=('SELECT * FROM "users" WHERE "age" = $1 AND "age" > $2', (3, 1)),
        mysql=("SELECT * FROM `users` WHERE `age` = %s AND `age` > %s", (3, 1)),
        sqlite=("SELECT * FROM `users` WHERE `age` = ? AND `age` > ?", (3, 1)),
    )


def test_condition_is_not_a_bool() -> None:
    with pytest.raises(TypeError, match="not a bool"):
        bool(age > 1)
    with pytest.raises(TypeError, match="expected a Condition"):
        (age > 1) & True  # type: ignore[operator]


# ---- grouping, or_where, where_not -----------------------------------------------------------
def test_grouped_where_with_callable() -> None:
    assert_sql(
        lambda q: (
            q.table("users")
            .where("active", True)
            .where(lambda g: g.where("role", "admin").or_where("karma", ">", 100))
        ),
        postgres=(
            'SELECT * FROM "users" WHERE "active" = $1 AND ("role" = $2 OR "karma" > $3)',
            (True, "admin", 100),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE `active` = %s AND (`role` = %s OR `karma` > %s)",
            (True, "admin", 100),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE `active` = ? AND (`role` = ? OR `karma` > ?)",
            (True, "admin", 100),
        ),
    )


def test_or_where_with_grouped_and() -> None:
    assert_sql(
        lambda q: q.table("users").where("a", 1).or_where(lambda g: g.where("b", 2).where("c", 3)),
        postgres=('SELECT * FROM "users" WHERE "a" = $1 OR ("b" = $2 AND "c" = $3)', (1, 2, 3)),
        mysql=("SELECT * FROM `users` WHERE `a` = %s OR (`b` = %s AND `c` = %s)", (1, 2, 3)),
        sqlite=("SELECT * FROM `users` WHERE `a` = ? OR (`b` = ? AND `c` = ?)", (1, 2, 3)),
    )


def test_or_where_binds_everything_before_it() -> None:
    """a AND b OR c: the conditions so far form one side of the OR."""
    assert_sql(
        lambda q: q.table("users").where("a", 1).where("b", 2).or_where("c", 3),
        postgres=('SELECT * FROM "users" WHERE ("a" = $1 AND "b" = $2) OR "c" = $3', (1, 2, 3)),
        mysql=("SELECT * FROM `users` WHERE (`a` = %s AND `b` = %s) OR `c` = %s", (1, 2, 3)),
        sqlite=("SELECT * FROM `users` WHERE (`a` = ? AND `b` = ?) OR `c` = ?", (1, 2, 3)),
    )


def test_where_after_or_where_applies_to_the_whole_or() -> None:
    """Left to right: where(a).or_where(b).where(c) is (a OR b) AND c, never a OR (b AND c)."""
    assert_sql(
        lambda q: q.table("users").where("a", 1).or_where("b", 2).where("c", 3),
        postgres=('SELECT * FROM "users" WHERE ("a" = $1 OR "b" = $2) AND "c" = $3', (1, 2, 3)),
        mysql=("SELECT * FROM `users` WHERE (`a` = %s OR `b` = %s) AND `c` = %s", (1, 2, 3)),
        sqlite=("SELECT * FROM `users` WHERE (`a` = ? OR `b` = ?) AND `c` = ?", (1, 2, 3)),
    )


def test_or_where_chain_stays_flat() -> None:
    assert_sql(
        lambda q: q.table("users").where("a", 1).or_where("b", 2).or_where({"c": 3, "d": 4}),
        postgres=(
            'SELECT * FROM "users" WHERE "a" = $1 OR "b" = $2 OR ("c" = $3 AND "d" = $4)',
            (1, 2, 3, 4),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE `a` = %s OR `b` = %s OR (`c` = %s AND `d` = %s)",
            (1, 2, 3, 4),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE `a` = ? OR `b` = ? OR (`c` = ? AND `d` = ?)",
            (1, 2, 3, 4),
        ),
    )


def test_or_where_first_is_plain_where() -> None:
    assert_sql(
        lambda q: q.table("users").or_where("a", 1),
        postgres=('SELECT * FROM "users" WHERE "a" = $1', (1,)),
        mysql=("SELECT * FROM `users` WHERE `a` = %s", (1,)),
        sqlite=("SELECT * FROM `users` WHERE `a` = ?", (1,)),
    )


def test_where_not() -> None:
    assert_sql(
        lambda q: q.table("users").where("a", 1).where_not({"b": 2, "c": None}),
        postgres=(
            'SELECT * FROM "users" WHERE "a" = $1 AND NOT ("b" = $2 AND "c" IS NULL)',
            (1, 2),
        ),
        mysql=("SELECT * FROM `users` WHERE `a` = %s AND NOT (`b` = %s AND `c` IS NULL)", (1, 2)),
        sqlite=("SELECT * FROM `users` WHERE `a` = ? AND NOT (`b` = ? AND `c` IS NULL)", (1, 2)),
    )


def test_group_function_must_add_conditions() -> None:
    with pytest.raises(TypeError, match="group function"):
        qb("postgres").table("users").where(lambda g: g)
    with pytest.raises(TypeError, match="group function"):
        qb("postgres").table("users").where(lambda g: None)


# ---- where_* helpers -------------------------------------------------------------------------
def test_where_in_and_not_in() -> None:
    assert_sql(
        lambda q: q.table("users").where_in("id", [1, 2, 3]).where_not_in("role", {"root"}),
        postgres=(
            'SELECT * FROM "users" WHERE "id" IN ($1, $2, $3) AND "role" NOT IN ($4)',
            (1, 2, 3, "root"),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE `id` IN (%s, %s, %s) AND `role` NOT IN (%s)",
            (1, 2, 3, "root"),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE `id` IN (?, ?, ?) AND `role` NOT IN (?)",
            (1, 2, 3, "root"),
        ),
    )


def test_empty_in_matches_nothing_and_empty_not_in_everything() -> None:
    assert_sql(
        lambda q: q.table("users").where_in("id", []),
        postgres=('SELECT * FROM "users" WHERE 1 = 0', ()),
        mysql=("SELECT * FROM `users` WHERE 1 = 0", ()),
        sqlite=("SELECT * FROM `users` WHERE 1 = 0", ()),
    )
    assert_sql(
        lambda q: q.table("users").where("a", 1).where_not_in("id", []),
        postgres=('SELECT * FROM "users" WHERE "a" = $1 AND 1 = 1', (1,)),
        mysql=("SELECT * FROM `users` WHERE `a` = %s AND 1 = 1", (1,)),
        sqlite=("SELECT * FROM `users` WHERE `a` = ? AND 1 = 1", (1,)),
    )
    assert_sql(
        lambda q: q.table("users").where({"id": []}).or_where(age.in_([])),
        postgres=('SELECT * FROM "users" WHERE 1 = 0 OR 1 = 0', ()),
        mysql=("SELECT * FROM `users` WHERE 1 = 0 OR 1 = 0", ()),
        sqlite=("SELECT * FROM `users` WHERE 1 = 0 OR 1 = 0", ()),
    )


def test_where_null_and_not_null() -> None:
    assert_sql(
        lambda q: q.table("users").where_null("deleted_at").where_not_null(email),
        postgres=('SELECT * FROM "users" WHERE "deleted_at" IS NULL AND "email" IS NOT NULL', ()),
        mysql=("SELECT * FROM `users` WHERE `deleted_at` IS NULL AND `email` IS NOT NULL", ()),
        sqlite=("SELECT * FROM `users` WHERE `deleted_at` IS NULL AND `email` IS NOT NULL", ()),
    )


def test_where_between_and_not_between() -> None:
    start, end = datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)
    assert_sql(
        lambda q: (
            q.table("orders").where_between("day", start, end).where_not_between("total", 0, 10)
        ),
        postgres=(
            'SELECT * FROM "orders" WHERE "day" BETWEEN $1 AND $2 AND "total" NOT BETWEEN $3 AND $4',
            (start, end, 0, 10),
        ),
        mysql=(
            "SELECT * FROM `orders` WHERE `day` BETWEEN %s AND %s AND `total` NOT BETWEEN %s AND %s",
            (start, end, 0, 10),
        ),
        sqlite=(
            "SELECT * FROM `orders` WHERE `day` BETWEEN ? AND ? AND `total` NOT BETWEEN ? AND ?",
            (start, end, 0, 10),
        ),
    )


# ---- where_raw and raw -----------------------------------------------------------------------
def test_where_raw_question_marks() -> None:
    assert_sql(
        lambda q: (
            q.table("users").where("a", 1).where_raw("lower(name) = ? or age > ?", ["ada", 3])
        ),
        postgres=(
            'SELECT * FROM "users" WHERE "a" = $1 AND (lower(name) = $2 or age > $3)',
            (1, "ada", 3),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE `a` = %s AND (lower(name) = %s or age > %s)",
            (1, "ada", 3),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE `a` = ? AND (lower(name) = ? or age > ?)",
            (1, "ada", 3),
        ),
    )


def test_where_raw_dollar_placeholders_reorder_and_repeat() -> None:
    assert_sql(
        lambda q: (
            q.table("users").where_raw("a = $2 and b = $1 or c = $2", ["one", "two"]).where("d", 4)
        ),
        postgres=(
            'SELECT * FROM "users" WHERE (a = $1 and b = $2 or c = $3) AND "d" = $4',
            ("two", "one", "two", 4),
        ),
        mysql=(
            "SELECT * FROM `users` WHERE (a = %s and b = %s or c = %s) AND `d` = %s",
            ("two", "one", "two", 4),
        ),
        sqlite=(
            "SELECT * FROM `users` WHERE (a = ? and b = ? or c = ?) AND `d` = ?",
            ("two", "one", "two", 4),
        ),
    )


def test_where_raw_alone_and_in_or() -> None:
    assert_sql(
        lambda q: q.table("users").where_raw("a = 1 or b = 2").or_where("c", 3),
        postgres=('SELECT * FROM "users" WHERE (a = 1 or b = 2) OR "c" = $1', (3,)),
        mysql=("SELECT * FROM `users` WHERE (a = 1 or b = 2) OR `c` = %s", (3,)),
        sqlite=("SELECT * FROM `users` WHERE (a = 1 or b = 2) OR `c` = ?", (3,)),
    )


def test_where_raw_skips_quoted_text_and_comments() -> None:
    sql = "a = '?' and b = '$1' and \"c?\" = ? -- ?\n and /* ? $1 */ d = `?`"
    assert_sql(
        lambda q: q.table("t").where_raw(sql, [5]),
        postgres=(
            "SELECT * FROM \"t\" WHERE a = '?' and b = '$1' and \"c?\" = $1 -- ?\n and /* ? $1 */ d = `?`",
            (5,),
        ),
        mysql=(
            "SELECT * FROM `t` WHERE a = '?' and b = '$1' and \"c?\" = %s -- ?\n and /* ? $1 */ d = `?`",
            (5,),
        ),
        sqlite=(
            "SELECT * FROM `t` WHERE a = '?' and b = '$1' and \"c?\" = ? -- ?\n and /* ? $1 */ d = `?`",
            (5,),
        ),
    )


def test_where_raw_doubles_percent_on_mysql_only() -> None:
    assert_sql(
        lambda q: q.table("users").where_raw("name like '%a%' and pct > 5 % 2 and id = ?", [1]),
        postgres=(
            "SELECT * FROM \"users\" WHERE name like '%a%' and pct > 5 % 2 and id = $1",
            (1,),
        ),
        mysql=("SELECT * FROM `users` WHERE name like '%%a%%' and pct > 5 %% 2 and id = %s", (1,)),
        sqlite=("SELECT * FROM `users` WHERE name like '%a%' and pct > 5 % 2 and id = ?", (1,)),
    )


@pytest.mark.parametrize(
    ("sql", "params", "message"),
    [
        ("a = ? and b = $1", [1], "mixes"),
        ("a = $1 and b = ?", [1], "mixes"),
        ("a = ?", [1, 2], "uses 1 of the 2 params"),
        ("a = ? and b = ?", [1], "more placeholders"),
        ("a = $2", [1], r"\$2 but only 1"),
        ("a = $0", [1], r"\$0"),
    ],
)
def test_where_raw_placeholder_mistakes(sql: str, params: list[Any], message: str) -> None:
    for dialect in DIALECTS:
        with pytest.raises(ValueError, match=message):
            qb(dialect).table("t").where_raw(sql, params).to_sql()


def test_raw_converts_placeholders() -> None:
    assert_sql(
        lambda q: q.raw("select * from users where id = $1 and name like '100%' and x = $1", [7]),
        postgres=("select * from users where id = $1 and name like '100%' and x = $2", (7, 7)),
        mysql=("select * from users where id = %s and name like '100%%' and x = %s", (7, 7)),
        sqlite=("select * from users where id = ? and name like '100%' and x = ?", (7, 7)),
    )
    assert_sql(
        lambda q: q.raw("update t set a = ?, b = ? where c = ?", ("x", None, b"\x00")),
        postgres=("update t set a = $1, b = $2 where c = $3", ("x", None, b"\x00")),
        mysql=("update t set a = %s, b = %s where c = %s", ("x", None, b"\x00")),
        sqlite=("update t set a = ?, b = ? where c = ?", ("x", None, b"\x00")),
    )


def test_raw_without_params_is_left_alone_except_mysql_percent() -> None:
    assert_sql(
        lambda q: q.raw("select '50%' as pct, \"?\" from t"),
        postgres=("select '50%' as pct, \"?\" from t", ()),
        mysql=("select '50%%' as pct, \"?\" from t", ()),
        sqlite=("select '50%' as pct, \"?\" from t", ()),
    )


def test_raw_params_must_be_a_sequence() -> None:
    for bad in ({"a": 1}, "abc", b"abc"):
        with pytest.raises(TypeError, match="list or tuple"):
            qb("postgres").raw("select ?", bad)  # type: ignore[arg-type]


def test_raw_param_json_is_passed_through() -> None:
    """raw() accepts dict/list values (JSON columns); the drivers encode them."""
    compiled = qb("postgres").raw("insert into t (j) values ($1)", [{"a": [1]}]).to_sql()
    assert compiled.params == ({"a": [1]},)


# ---- joins -----------------------------------------------------------------------------------
def test_inner_join_mapping() -> None:
    assert_sql(
        lambda q: (
            q.table("users")
            .join("posts", {"users.id": "posts.user_id"})
            .select("users.name", "posts.title")
        ),
        postgres=(
            'SELECT "users"."name", "posts"."title" FROM "users" INNER JOIN "posts" ON "users"."id" = "posts"."user_id"',
            (),
        ),
        mysql=(
            "SELECT `users`.`name`, `posts`.`title` FROM `users` INNER JOIN `posts` ON `users`.`id` = `posts`.`user_id`",
            (),
        ),
        sqlite=(
            "SELECT `users`.`name`, `posts`.`title` FROM `users` INNER JOIN `posts` ON `users`.`id` = `posts`.`user_id`",
            (),
        ),
    )


def test_join_mapping_with_two_pairs_is_and() -> None:
    assert_sql(
        lambda q: q.table("a").join("b", {"a.x": "b.x", "a.y": "b.y"}),
        postgres=(
            'SELECT * FROM "a" INNER JOIN "b" ON "a"."x" = "b"."x" AND "a"."y" = "b"."y"',
            (),
        ),
        mysql=("SELECT * FROM `a` INNER JOIN `b` ON `a`.`x` = `b`.`x` AND `a`.`y` = `b`.`y`", ()),
        sqlite=("SELECT * FROM `a` INNER JOIN `b` ON `a`.`x` = `b`.`x` AND `a`.`y` = `b`.`y`", ()),
    )


def test_left_join_three_args_with_alias() -> None:
    assert_sql(
        lambda q: (
            q.table("users as u")
            .left_join("posts as p", "u.id", "=", "p.user_id")
            .where("p.id", None)
        ),
        postgres=(
            'SELECT * FROM "users" AS "u" LEFT JOIN "posts" AS "p" ON "u"."id" = "p"."user_id" WHERE "p"."id" IS NULL',
            (),
        ),
        mysql=(
            "SELECT * FROM `users` AS `u` LEFT JOIN `posts` AS `p` ON `u`.`id` = `p`.`user_id` WHERE `p`.`id` IS NULL",
            (),
        ),
        sqlite=(
            "SELECT * FROM `users` AS `u` LEFT JOIN `posts` AS `p` ON `u`.`id` = `p`.`user_id` WHERE `p`.`id` IS NULL",
            (),
        ),
    )


def test_join_two_args_and_expression_condition() -> None:
    assert_sql(
        lambda q: (
            q.table("users")
            .join("posts", "users.id", "posts.user_id")
            .left_join(
                "tags",
                (Column[int]("tags.post_id") == Column[int]("posts.id"))
                & (Column[bool]("tags.hidden") == False),  # noqa: E712
            )
        ),
        postgres=(
            'SELECT * FROM "users" INNER JOIN "posts" ON "users"."id" = "posts"."user_id"'
            ' LEFT JOIN "tags" ON "tags"."post_id" = "posts"."id" AND "tags"."hidden" = $1',
            (False,),
        ),
        mysql=(
            "SELECT * FROM `users` INNER JOIN `posts` ON `users`.`id` = `posts`.`user_id`"
            " LEFT JOIN `tags` ON `tags`.`post_id` = `posts`.`id` AND `tags`.`hidden` = %s",
            (False,),
        ),
        sqlite=(
            "SELECT * FROM `users` INNER JOIN `posts` ON `users`.`id` = `posts`.`user_id`"
            " LEFT JOIN `tags` ON `tags`.`post_id` = `posts`.`id` AND `tags`.`hidden` = ?",
            (False,),
        ),
    )


def test_join_params_come_before_where_params() -> None:
    assert_sql(
        lambda q: (
            q.table("users")
            .where("users.active", True)
            .join("posts", Column[int]("posts.score") > 5)
        ),
        postgres=(
            'SELECT * FROM "users" INNER JOIN "posts" ON "posts"."score" > $1 WHERE "users"."active" = $2',
            (5, True),
        ),
        mysql=(
            "SELECT * FROM `users` INNER JOIN `posts` ON `posts`.`score` > %s WHERE `users`.`active` = %s",
            (5, True),
        ),
        sqlite=(
            "SELECT * FROM `users` INNER JOIN `posts` ON `posts`.`score` > ? WHERE `users`.`active` = ?",
            (5, True),
        ),
    )


def test_right_join() -> None:
    sqlite: tuple[str, tuple[Any, ...]] | Raises = (
        ("SELECT * FROM `users` RIGHT JOIN `posts` AS `p` ON `users`.`id` = `p`.`user_id`", ())
        if SQLiteCompiler.supports_right_join
        else Raises(UnsupportedOperation, "RIGHT JOIN is not supported on sqlite")
    )
    assert_sql(
        lambda q: q.table("users").right_join("posts as p", {"users.id": "p.user_id"}),
        postgres=(
            'SELECT * FROM "users" RIGHT JOIN "posts" AS "p" ON "users"."id" = "p"."user_id"',
            (),
        ),
        mysql=(
            "SELECT * FROM `users` RIGHT JOIN `posts` AS `p` ON `users`.`id` = `p`.`user_id`",
            (),
        ),
        sqlite=sqlite,
    )


def test_sqlite_right_join_follows_the_library_version() -> None:
    assert SQLiteCompiler.supports_right_join is (SQLITE_VERSION >= (3, 39, 0))
    assert compiler("sqlite").supports_right_join is SQLiteCompiler.supports_right_join
    # capabilities (what core code branches on) agree with the compiler, on every dialect
    for dialect in DIALECTS:
        caps = manager(dialect).dialect.capabilities
        assert caps.right_join is compiler(dialect).supports_right_join
        assert caps.returning is compiler(dialect).supports_returning


def test_right_join_refused_where_unsupported() -> None:
    class OldSQLiteCompiler(SQLiteCompiler):
        supports_right_join = False

    query, _ = offline_qb("sqlite", compiler=OldSQLiteCompiler())
    builder = query.table("users").right_join("posts", "users.id", "posts.user_id")
    with pytest.raises(UnsupportedOperation, match="RIGHT JOIN is not supported on sqlite") as info:
        builder.to_sql()
    assert info.value.operation == "RIGHT JOIN"
    assert info.value.dialect == "sqlite"
    assert "left_join" in str(info.value)
    # a left join still works there
    assert query.table("users").left_join("posts", "users.id", "posts.user_id").to_sql().sql == (
        "SELECT * FROM `users` LEFT JOIN `posts` ON `users`.`id` = `posts`.`user_id`"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (({},), ValueError),
        (("a.id", "LIKE", "b.id"), ValueError),
        (("a.id", "=", "b.id", "x"), TypeError),
        ((), TypeError),
        (({"a.id": 1},), TypeError),
        ((42,), TypeError),
    ],
)
def test_join_argument_mistakes(args: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        qb("postgres").table("a").join("b", *args)


# ---- group_by, having, order_by, limit, offset -------------------------------------------------
def test_group_by_and_having() -> None:
    assert_sql(
        lambda q: (
            q.table("orders")
            .select("customer_id", fn.sum("total").as_("spent"))
            .group_by("customer_id")
            .having("customer_id", ">", 10)
            .having({"status": "paid"})
        ),
        postgres=(
            'SELECT "customer_id", SUM("total") AS "spent" FROM "orders" GROUP BY "customer_id"'
            ' HAVING "customer_id" > $1 AND "status" = $2',
            (10, "paid"),
        ),
        mysql=(
            "SELECT `customer_id`, SUM(`total`) AS `spent` FROM `orders` GROUP BY `customer_id`"
            " HAVING `customer_id` > %s AND `status` = %s",
            (10, "paid"),
        ),
        sqlite=(
            "SELECT `customer_id`, SUM(`total`) AS `spent` FROM `orders` GROUP BY `customer_id`"
            " HAVING `customer_id` > ? AND `status` = ?",
            (10, "paid"),
        ),
    )


def test_having_with_aggregate_expression_and_where_param_order() -> None:
    assert_sql(
        lambda q: (
            q.table("orders")
            .select("customer_id")
            .where("status", "paid")
            .group_by("customer_id", Column[str]("region"))
            .having(Column[int]("n"), ">", 2)
            .order_by("customer_id")
            .limit(3)
        ),
        postgres=(
            'SELECT "customer_id" FROM "orders" WHERE "status" = $1 GROUP BY "customer_id", "region"'
            ' HAVING "n" > $2 ORDER BY "customer_id" ASC LIMIT 3',
            ("paid", 2),
        ),
        mysql=(
            "SELECT `customer_id` FROM `orders` WHERE `status` = %s GROUP BY `customer_id`, `region`"
            " HAVING `n` > %s ORDER BY `customer_id` ASC LIMIT 3",
            ("paid", 2),
        ),
        sqlite=(
            "SELECT `customer_id` FROM `orders` WHERE `status` = ? GROUP BY `customer_id`, `region`"
            " HAVING `n` > ? ORDER BY `customer_id` ASC LIMIT 3",
            ("paid", 2),
        ),
    )


def test_order_by_directions() -> None:
    assert_sql(
        lambda q: (
            q.table("users")
            .order_by("name")
            .order_by("age", "DESC")
            .order_by(email.desc())
            .order_by(age.asc())
        ),
        postgres=(
            'SELECT * FROM "users" ORDER BY "name" ASC, "age" DESC, "email" DESC, "age" ASC',
            (),
        ),
        mysql=(
            "SELECT * FROM `users` ORDER BY `name` ASC, `age` DESC, `email` DESC, `age` ASC",
            (),
        ),
        sqlite=(
            "SELECT * FROM `users` ORDER BY `name` ASC, `age` DESC, `email` DESC, `age` ASC",
            (),
        ),
    )


@pytest.mark.parametrize("direction", ["sideways", "", "asc; drop table users", "DESC ", None, 1])
def test_order_by_bad_direction(direction: Any) -> None:
    with pytest.raises(ValueError, match="asc' or 'desc"):
        qb("postgres").table("users").order_by("name", direction)


def test_limit_and_offset() -> None:
    assert_sql(
        lambda q: q.table("users").limit(10).offset(20),
        postgres=('SELECT * FROM "users" LIMIT 10 OFFSET 20', ()),
        mysql=("SELECT * FROM `users` LIMIT 10 OFFSET 20", ()),
        sqlite=("SELECT * FROM `users` LIMIT 10 OFFSET 20", ()),
    )
    assert_sql(
        lambda q: q.table("users").limit(0),
        postgres=('SELECT * FROM "users" LIMIT 0', ()),
        mysql=("SELECT * FROM `users` LIMIT 0", ()),
        sqlite=("SELECT * FROM `users` LIMIT 0", ()),
    )


def test_offset_without_limit() -> None:
    assert_sql(
        lambda q: q.table("users").offset(5),
        postgres=('SELECT * FROM "users" LIMIT ALL OFFSET 5', ()),
        mysql=("SELECT * FROM `users` LIMIT 18446744073709551615 OFFSET 5", ()),
        sqlite=("SELECT * FROM `users` LIMIT -1 OFFSET 5", ()),
    )


def test_limit_is_replaced_not_stacked() -> None:
    assert_sql(
        lambda q: q.table("users").limit(10).limit(2).offset(4).offset(1),
        postgres=('SELECT * FROM "users" LIMIT 2 OFFSET 1', ()),
        mysql=("SELECT * FROM `users` LIMIT 2 OFFSET 1", ()),
        sqlite=("SELECT * FROM `users` LIMIT 2 OFFSET 1", ()),
    )


@pytest.mark.parametrize("bad", [-1, True, 1.5, "10", "1; drop table users", None])
def test_limit_offset_must_be_non_negative_ints(bad: Any) -> None:
    with pytest.raises(TypeError, match="non-negative int"):
        qb("postgres").table("users").limit(bad)
    with pytest.raises(TypeError, match="non-negative int"):
        qb("postgres").table("users").offset(bad)


# ---- insert ----------------------------------------------------------------------------------
def test_insert_single_row_returns_star_where_supported() -> None:
    assert_sql(
        lambda q: q.table("users").insert({"name": "Ada", "email": None, "active": True}),
        postgres=(
            'INSERT INTO "users" ("name", "email", "active") VALUES ($1, $2, $3) RETURNING *',
            ("Ada", None, True),
        ),
        mysql=(
            "INSERT INTO `users` (`name`, `email`, `active`) VALUES (%s, %s, %s)",
            ("Ada", None, True),
        ),
        sqlite=(
            "INSERT INTO `users` (`name`, `email`, `active`) VALUES (?, ?, ?) RETURNING *",
            ("Ada", None, True),
        )
        if compiler("sqlite").supports_returning
        else (
            "INSERT INTO `users` (`name`, `email`, `active`) VALUES (?, ?, ?)",
            ("Ada", None, True),
        ),
    )


def test_insert_returning_columns() -> None:
    assert_sql(
        lambda q: q.table("users").insert({"name": "Ada"}).returning("id", "created_at"),
        postgres=(
            'INSERT INTO "users" ("name") VALUES ($1) RETURNING "id", "created_at"',
            ("Ada",),
        ),
        mysql=Raises(UnsupportedOperation, "RETURNING is not supported on mysql"),
        sqlite=("INSERT INTO `users` (`name`) VALUES (?) RETURNING `id`, `created_at`", ("Ada",)),
    )


def test_insert_with_function_and_json_values() -> None:
    assert_sql(
        lambda q: q.table("events").insert(
            {"at": q.fn.now(), "data": {"k": "v'", "n": [1, 2]}, "tags": ["a", "b"]}
        ),
        postgres=(
            'INSERT INTO "events" ("at", "data", "tags") VALUES (CURRENT_TIMESTAMP, $1, $2) RETURNING *',
            ({"k": "v'", "n": [1, 2]}, ["a", "b"]),
        ),
        mysql=(
            "INSERT INTO `events` (`at`, `data`, `tags`) VALUES (CURRENT_TIMESTAMP, %s, %s)",
            ('{"k":"v\'","n":[1,2]}', '["a","b"]'),
        ),
        sqlite=(
            "INSERT INTO `events` (`at`, `data`, `tags`) VALUES (CURRENT_TIMESTAMP, ?, ?) RETURNING *",
            ('{"k":"v\'","n":[1,2]}', '["a","b"]'),
        ),
    )


def test_insert_empty_row_uses_defaults() -> None:
    assert_sql(
        lambda q: q.table("counters").insert({}),
        postgres=('INSERT INTO "counters" DEFAULT VALUES RETURNING *', ()),
        mysql=("INSERT INTO `counters` () VALUES ()", ()),
        sqlite=("INSERT INTO `counters` DEFAULT VALUES RETURNING *", ()),
    )


def test_insert_many() -> None:
    rows = [{"name": "a", "age": 1}, {"age": 2, "name": "b"}]
    assert_sql(
        lambda q: q.table("users").insert_many(rows),
        postgres=(
            'INSERT INTO "users" ("name", "age") VALUES ($1, $2), ($3, $4)',
            ("a", 1, "b", 2),
        ),
        mysql=("INSERT INTO `users` (`name`, `age`) VALUES (%s, %s), (%s, %s)", ("a", 1, "b", 2)),
        sqlite=("INSERT INTO `users` (`name`, `age`) VALUES (?, ?), (?, ?)", ("a", 1, "b", 2)),
    )
    assert_sql(
        lambda q: q.table("users").insert_many(rows).returning("id"),
        postgres=(
            'INSERT INTO "users" ("name", "age") VALUES ($1, $2), ($3, $4) RETURNING "id"',
            ("a", 1, "b", 2),
        ),
        mysql=Raises(UnsupportedOperation, "RETURNING"),
        sqlite=(
            "INSERT INTO `users` (`name`, `age`) VALUES (?, ?), (?, ?) RETURNING `id`",
            ("a", 1, "b", 2),
        ),
    )


def test_insert_many_json_values() -> None:
    assert_sql(
        lambda q: q.table("docs").insert_many([{"body": {"a": 1}}, {"body": [2]}]),
        postgres=('INSERT INTO "docs" ("body") VALUES ($1), ($2)', ({"a": 1}, [2])),
        mysql=("INSERT INTO `docs` (`body`) VALUES (%s), (%s)", ('{"a":1}', "[2]")),
        sqlite=("INSERT INTO `docs` (`body`) VALUES (?), (?)", ('{"a":1}', "[2]")),
    )


def test_insert_many_rows_must_match() -> None:
    table = qb("postgres").table("users")
    with pytest.raises(ValueError, match="row 1"):
        table.insert_many([{"a": 1}, {"b": 2}])
    with pytest.raises(ValueError, match="row 1"):
        table.insert_many([{"a": 1}, {"a": 2, "b": 3}])
    with pytest.raises(TypeError):
        table.insert_many({"a": 1})  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        table.insert_many(["a"])  # type: ignore[list-item]


def test_insert_rejects_non_mappings_and_bad_values() -> None:
    table = qb("postgres").table("users")
    with pytest.raises(TypeError, match="mapping"):
        table.insert([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="column names must be str"):
        table.insert({1: "x"})  # type: ignore[dict-item]
    for bad in (object(), {1, 2}, (1, 2), frozenset()):
        with pytest.raises(TypeError):
            table.insert({"a": bad})
        with pytest.raises(TypeError):
            table.update({"a": bad})


# ---- upsert ----------------------------------------------------------------------------------
def test_upsert_updates_non_conflict_columns_by_default() -> None:
    assert_sql(
        lambda q: q.table("users").upsert(
            {"email": "a@x", "name": "A", "age": 3}, conflict=["email"]
        ),
        postgres=(
            'INSERT INTO "users" ("email", "name", "age") VALUES ($1, $2, $3)'
            ' ON CONFLICT ("email") DO UPDATE SET "name" = EXCLUDED."name", "age" = EXCLUDED."age" RETURNING *',
            ("a@x", "A", 3),
        ),
        mysql=(
            "INSERT INTO `users` (`email`, `name`, `age`) VALUES (%s, %s, %s)"
            " ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `age` = VALUES(`age`)",
            ("a@x", "A", 3),
        ),
        sqlite=(
            "INSERT INTO `users` (`email`, `name`, `age`) VALUES (?, ?, ?)"
            " ON CONFLICT (`email`) DO UPDATE SET `name` = EXCLUDED.`name`, `age` = EXCLUDED.`age` RETURNING *",
            ("a@x", "A", 3),
        ),
    )


def test_upsert_explicit_update_columns_and_composite_key() -> None:
    assert_sql(
        lambda q: q.table("stock").upsert(
            {"shop": 1, "sku": "x", "qty": 5, "note": "n"}, conflict=["shop", "sku"], update=["qty"]
        ),
        postgres=(
            'INSERT INTO "stock" ("shop", "sku", "qty", "note") VALUES ($1, $2, $3, $4)'
            ' ON CONFLICT ("shop", "sku") DO UPDATE SET "qty" = EXCLUDED."qty" RETURNING *',
            (1, "x", 5, "n"),
        ),
        mysql=(
            "INSERT INTO `stock` (`shop`, `sku`, `qty`, `note`) VALUES (%s, %s, %s, %s)"
            " ON DUPLICATE KEY UPDATE `qty` = VALUES(`qty`)",
            (1, "x", 5, "n"),
        ),
        sqlite=(
            "INSERT INTO `stock` (`shop`, `sku`, `qty`, `note`) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (`shop`, `sku`) DO UPDATE SET `qty` = EXCLUDED.`qty` RETURNING *",
            (1, "x", 5, "n"),
        ),
    )


def test_upsert_with_no_update_columns_does_nothing() -> None:
    assert_sql(
        lambda q: q.table("users").upsert(
            {"email": "a@x", "name": "A"}, conflict=["email"], update=[]
        ),
        postgres=(
            'INSERT INTO "users" ("email", "name") VALUES ($1, $2) ON CONFLICT ("email") DO NOTHING RETURNING *',
            ("a@x", "A"),
        ),
        mysql=(
            "INSERT INTO `users` (`email`, `name`) VALUES (%s, %s) ON DUPLICATE KEY UPDATE `email` = `email`",
            ("a@x", "A"),
        ),
        sqlite=(
            "INSERT INTO `users` (`email`, `name`) VALUES (?, ?) ON CONFLICT (`email`) DO NOTHING RETURNING *",
            ("a@x", "A"),
        ),
    )


def test_upsert_when_every_column_is_the_key_does_nothing() -> None:
    assert_sql(
        lambda q: q.table("tags").upsert({"name": "x"}, conflict=["name"]).returning("name"),
        postgres=(
            'INSERT INTO "tags" ("name") VALUES ($1) ON CONFLICT ("name") DO NOTHING RETURNING "name"',
            ("x",),
        ),
        mysql=Raises(UnsupportedOperation, "RETURNING"),
        sqlite=(
            "INSERT INTO `tags` (`name`) VALUES (?) ON CONFLICT (`name`) DO NOTHING RETURNING `name`",
            ("x",),
        ),
    )


def test_upsert_many_rows() -> None:
    assert_sql(
        lambda q: q.table("users").upsert(
            [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}], conflict=["id"]
        ),
        postgres=(
            'INSERT INTO "users" ("id", "n") VALUES ($1, $2), ($3, $4) ON CONFLICT ("id") DO UPDATE SET "n" = EXCLUDED."n"',
            (1, "a", 2, "b"),
        ),
        mysql=(
            "INSERT INTO `users` (`id`, `n`) VALUES (%s, %s), (%s, %s) ON DUPLICATE KEY UPDATE `n` = VALUES(`n`)",
            (1, "a", 2, "b"),
        ),
        sqlite=(
            "INSERT INTO `users` (`id`, `n`) VALUES (?, ?), (?, ?) ON CONFLICT (`id`) DO UPDATE SET `n` = EXCLUDED.`n`",
            (1, "a", 2, "b"),
        ),
    )


def test_upsert_needs_conflict_columns() -> None:
    with pytest.raises(ValueError, match="conflict columns"):
        qb("postgres").table("users").upsert({"a": 1}, conflict=[])


# ---- update / delete -------------------------------------------------------------------------
def test_update_with_where() -> None:
    assert_sql(
        lambda q: (
            q.table("users")
            .where("id", 5)
            .update({"name": "B", "seen_at": q.fn.now(), "prefs": {"x": 1}})
        ),
        postgres=(
            'UPDATE "users" SET "name" = $1, "seen_at" = CURRENT_TIMESTAMP, "prefs" = $2 WHERE "id" = $3',
            ("B", {"x": 1}, 5),
        ),
        mysql=(
            "UPDATE `users` SET `name` = %s, `seen_at` = CURRENT_TIMESTAMP, `prefs` = %s WHERE `id` = %s",
            ("B", '{"x":1}', 5),
        ),
        sqlite=(
            "UPDATE `users` SET `name` = ?, `seen_at` = CURRENT_TIMESTAMP, `prefs` = ? WHERE `id` = ?",
            ("B", '{"x":1}', 5),
        ),
    )


def test_update_with_column_expression_and_returning() -> None:
    assert_sql(
        lambda q: (
            q.table("users")
            .where(age < 3)
            .update({"age": Column[int]("default_age"), "n": None})
            .returning()
        ),
        postgres=(
            'UPDATE "users" SET "age" = "default_age", "n" = $1 WHERE "age" < $2 RETURNING *',
            (None, 3),
        ),
        mysql=Raises(UnsupportedOperation, "RETURNING is not supported on mysql"),
        sqlite=(
            "UPDATE `users` SET `age` = `default_age`, `n` = ? WHERE `age` < ? RETURNING *",
            (None, 3),
        ),
    )


def test_update_needs_a_non_empty_mapping() -> None:
    bads: list[Any] = [{}, [("a", 1)], None]
    for bad in bads:
        with pytest.raises(ValueError, match="non-empty mapping"):
            qb("postgres").table("users").update(bad)


def test_delete_with_where_and_returning() -> None:
    assert_sql(
        lambda q: q.table("sessions").where("expires_at", "<", 100).delete(),
        postgres=('DELETE FROM "sessions" WHERE "expires_at" < $1', (100,)),
        mysql=("DELETE FROM `sessions` WHERE `expires_at` < %s", (100,)),
        sqlite=("DELETE FROM `sessions` WHERE `expires_at` < ?", (100,)),
    )
    assert_sql(
        lambda q: q.table("sessions").where_in("id", [1, 2]).delete().returning("id"),
        postgres=('DELETE FROM "sessions" WHERE "id" IN ($1, $2) RETURNING "id"', (1, 2)),
        mysql=Raises(UnsupportedOperation, "RETURNING"),
        sqlite=("DELETE FROM `sessions` WHERE `id` IN (?, ?) RETURNING `id`", (1, 2)),
    )


def test_delete_all_rows_compiles_without_where() -> None:
    assert_sql(
        lambda q: q.table("sessions").delete().all_rows(),
        postgres=('DELETE FROM "sessions"', ()),
        mysql=("DELETE FROM `sessions`", ()),
        sqlite=("DELETE FROM `sessions`", ()),
    )


# ---- unsafe writes ---------------------------------------------------------------------------
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_update_without_where_is_refused_before_running(dialect: str) -> None:
    query, _ = offline_qb(dialect)  # its execute/fetch raise AssertionError("must not run")
    with pytest.raises(UnsafeQueryError, match=r"update\(\) on 'users' has no where\(\)"):
        await query.table("users").update({"active": False}).execute()
    with pytest.raises(UnsafeQueryError, match="all_rows"):
        await query.table("users").update({"active": False})


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_delete_without_where_is_refused_before_running(dialect: str) -> None:
    query, _ = offline_qb(dialect)
    with pytest.raises(UnsafeQueryError, match=r"delete\(\) on 'users' has no where\(\)"):
        await query.table("users").delete().execute()
    with pytest.raises(UnsafeQueryError):
        await query.table("users").order_by("id").limit(3).delete()


async def test_all_rows_lets_the_write_through() -> None:
    query, _ = offline_qb("postgres")
    for write in (
        query.table("users").delete().all_rows(),
        query.table("users").all_rows().delete(),
        query.table("users").update({"a": 1}).all_rows(),
        query.table("users").all_rows().update({"a": 1}),
        query.table("users").where("id", 1).delete(),
    ):
        with pytest.raises(AssertionError, match="must not run"):
            await write.execute()


async def test_filtered_writes_refuse_joins_order_and_limit() -> None:
    query, _ = offline_qb("postgres")
    users = query.table("users").where("id", 1)
    for write in (
        users.join("posts", "users.id", "posts.user_id").delete(),
        users.order_by("id").update({"a": 1}),
        users.limit(1).delete(),
    ):
        with pytest.raises(ValueError, match="joins, order_by or limit"):
            await write.execute()


# ---- aggregates (SQL they send, through a recording offline session) -------------------------
async def test_count_sql() -> None:
    for dialect, expected in (
        ("postgres", ('SELECT COUNT(*) AS "aggregate" FROM "users" WHERE "active" = $1', (True,))),
        ("mysql", ("SELECT COUNT(*) AS `aggregate` FROM `users` WHERE `active` = %s", (True,))),
        ("sqlite", ("SELECT COUNT(*) AS `aggregate` FROM `users` WHERE `active` = ?", (True,))),
    ):
        query, session = offline_qb(dialect, rows=[{"aggregate": 4}])
        assert await query.table("users").where("active", True).order_by("id").count() == 4
        assert tuple(session.fetched[-1]) == expected


async def test_aggregates_over_limited_or_grouped_queries_use_a_subquery() -> None:
    query, session = offline_qb("postgres", rows=[{"aggregate": 2}])
    await query.table("users").where("a", 1).limit(10).count()
    assert tuple(session.fetched[-1]) == (
        'SELECT COUNT(*) AS "aggregate" FROM (SELECT * FROM "users" WHERE "a" = $1 LIMIT 10) AS "sub"',
        (1,),
    )
    await query.table("users").select("email").distinct().count()
    assert session.fetched[-1].sql == (
        'SELECT COUNT(*) AS "aggregate" FROM (SELECT DISTINCT "email" FROM "users") AS "sub"'
    )
    await query.table("users").where("a", 1).max("age")
    assert session.fetched[-1].sql == 'SELECT MAX("age") AS "aggregate" FROM "users" WHERE "a" = $1'


async def test_count_with_no_rows_is_zero() -> None:
    query, _ = offline_qb("sqlite", rows=[])
    assert await query.table("users").count() == 0


# ---- functions -------------------------------------------------------------------------------
def test_functions() -> None:
    assert_sql(
        lambda q: q.table("orders").select(
            q.fn.count(),
            q.fn.count("customer_id", distinct=True).as_("customers"),
            q.fn.sum("total").as_("revenue"),
            q.fn.avg("total"),
            q.fn.min("day"),
            q.fn.max("day"),
            q.fn.lower("email"),
            q.fn.upper(Column[str]("code")),
            q.fn.coalesce("nickname", q.fn.raw("?", "anon"), 0),
            q.fn.now().as_("at"),
        ),
        postgres=(
            'SELECT COUNT(*), COUNT(DISTINCT "customer_id") AS "customers", SUM("total") AS "revenue",'
            ' AVG("total"), MIN("day"), MAX("day"), LOWER("email"), UPPER("code"),'
            ' COALESCE("nickname", $1, $2), CURRENT_TIMESTAMP AS "at" FROM "orders"',
            ("anon", 0),
        ),
        mysql=(
            "SELECT COUNT(*), COUNT(DISTINCT `customer_id`) AS `customers`, SUM(`total`) AS `revenue`,"
            " AVG(`total`), MIN(`day`), MAX(`day`), LOWER(`email`), UPPER(`code`),"
            " COALESCE(`nickname`, %s, %s), CURRENT_TIMESTAMP AS `at` FROM `orders`",
            ("anon", 0),
        ),
        sqlite=(
            "SELECT COUNT(*), COUNT(DISTINCT `customer_id`) AS `customers`, SUM(`total`) AS `revenue`,"
            " AVG(`total`), MIN(`day`), MAX(`day`), LOWER(`email`), UPPER(`code`),"
            " COALESCE(`nickname`, ?, ?), CURRENT_TIMESTAMP AS `at` FROM `orders`",
            ("anon", 0),
        ),
    )


def test_unknown_function_and_operator_nodes_are_refused() -> None:
    for dialect in DIALECTS:
        with pytest.raises(ValueError, match="unknown SQL function"):
            compiler(dialect).compile(tree.Func("drop_table"))
        with pytest.raises(ValueError, match="unknown operator"):
            compiler(dialect).compile(tree.Compare(tree.ColumnRef("a"), "; --", tree.Value(1)))


def test_ilike_refused_where_unsupported() -> None:
    class NoIlike(SqlCompiler):
        dialect_name = "strict"
        supports_ilike = False

    with pytest.raises(UnsupportedOperation, match="ILIKE is not supported on strict"):
        NoIlike().compile(tree.Compare(tree.ColumnRef("a"), "ilike", tree.Value("x")))


# ---- quoting ---------------------------------------------------------------------------------
def test_identifiers_with_embedded_quotes() -> None:
    assert_sql(
        lambda q: q.table('we"ird`table').select('co"l`1').where('o"k`', 1),
        postgres=('SELECT "co""l`1" FROM "we""ird`table" WHERE "o""k`" = $1', (1,)),
        mysql=('SELECT `co"l``1` FROM `we"ird``table` WHERE `o"k``` = %s', (1,)),
        sqlite=('SELECT `co"l``1` FROM `we"ird``table` WHERE `o"k``` = ?', (1,)),
    )


def test_identifier_injection_attempts_stay_inside_quotes() -> None:
    hostile = 'id" = 1 OR "1" = "1'
    assert_sql(
        lambda q: q.table("users").where(hostile, 5).order_by(hostile),
        postgres=(
            'SELECT * FROM "users" WHERE "id"" = 1 OR ""1"" = ""1" = $1 ORDER BY "id"" = 1 OR ""1"" = ""1" ASC',
            (5,),
        ),
        mysql=(
            'SELECT * FROM `users` WHERE `id" = 1 OR "1" = "1` = %s ORDER BY `id" = 1 OR "1" = "1` ASC',
            (5,),
        ),
        sqlite=(
            'SELECT * FROM `users` WHERE `id" = 1 OR "1" = "1` = ? ORDER BY `id" = 1 OR "1" = "1` ASC',
            (5,),
        ),
    )


def test_insert_update_column_names_are_quoted() -> None:
    assert_sql(
        lambda q: q.table("t").insert({"a`b": 1, 'c"d': 2}),
        postgres=('INSERT INTO "t" ("a`b", "c""d") VALUES ($1, $2) RETURNING *', (1, 2)),
        mysql=('INSERT INTO `t` (`a``b`, `c"d`) VALUES (%s, %s)', (1, 2)),
        sqlite=('INSERT INTO `t` (`a``b`, `c"d`) VALUES (?, ?) RETURNING *', (1, 2)),
    )
    assert_sql(
        lambda q: q.table("t").where("id", 1).update({'x"; DROP TABLE t; --': 1}),
        postgres=('UPDATE "t" SET "x""; DROP TABLE t; --" = $1 WHERE "id" = $2', (1, 1)),
        mysql=('UPDATE `t` SET `x"; DROP TABLE t; --` = %s WHERE `id` = %s', (1, 1)),
        sqlite=('UPDATE `t` SET `x"; DROP TABLE t; --` = ? WHERE `id` = ?', (1, 1)),
    )


@pytest.mark.parametrize("bad", ["", "\x00", "a\x00b", "users.", ".id", "a..b"])
def test_empty_or_nul_identifiers_are_refused(bad: str) -> None:
    for dialect in DIALECTS:
        with pytest.raises(ValueError, match="invalid identifier"):
            qb(dialect).table("users").where(bad, 1).to_sql()
        with pytest.raises(ValueError, match="invalid identifier"):
            qb(dialect).table(bad).to_sql()


def test_identifier_length_limits() -> None:
    for dialect, limit in (("postgres", 63), ("mysql", 64), ("sqlite", 1024)):
        quote = compiler(dialect).quote_char
        assert compiler(dialect).quote("x" * limit) == quote + "x" * limit + quote
        with pytest.raises(ValueError, match=f"longer than {limit} bytes"):
            compiler(dialect).quote("x" * (limit + 1))
        # bytes, not characters
        with pytest.raises(ValueError, match="longer than"):
            compiler(dialect).quote("é" * (limit // 2 + 1))


def test_quote_helper_on_query_builder() -> None:
    assert qb("postgres").quote("public.users") == '"public"."users"'
    assert qb("mysql").quote("a`b") == "`a``b`"
    with pytest.raises(ValueError, match=r"invalid identifier '\*'"):
        qb("sqlite").quote("*")  # every column, not a name: only select/count/returning


# ---- escape() and format() ---------------------------------------------------------------------
ESCAPE_CASES: list[tuple[Any, str, str]] = [
    # value, standard (postgres, sqlite), mysql (backslashes are escapes there)
    (None, "NULL", "NULL"),
    (True, "TRUE", "TRUE"),
    (False, "FALSE", "FALSE"),
    (0, "0", "0"),
    (-12, "-12", "-12"),
    (1.5, "1.5", "1.5"),
    (float("nan"), "'NaN'", "'NaN'"),
    (decimal.Decimal("10.50"), "10.50", "10.50"),
    (b"\x00\xff'", "X'00FF27'", "X'00FF27'"),
    (bytearray(b"ab"), "X'6162'", "X'6162'"),
    (memoryview(b"c"), "X'63'", "X'63'"),
    ("plain", "'plain'", "'plain'"),
    ("", "''", "''"),
    ("O'Reilly", "'O''Reilly'", "'O''Reilly'"),
    ("'; DROP TABLE users; --", "'''; DROP TABLE users; --'", "'''; DROP TABLE users; --'"),
    ("back\\slash", "'back\\slash'", "'back\\\\slash'"),
    ("\\'", "'\\'''", "'\\\\'''"),
    ('dq"bt`', "'dq\"bt`'", "'dq\"bt`'"),
    (datetime.datetime(2024, 1, 2, 3, 4, 5), "'2024-01-02 03:04:05'", "'2024-01-02 03:04:05'"),
    (datetime.date(2024, 1, 2), "'2024-01-02'", "'2024-01-02'"),
    (datetime.time(1, 2, 3), "'01:02:03'", "'01:02:03'"),
    (
        uuid.UUID(int=1),
        "'00000000-0000-0000-0000-000000000001'",
        "'00000000-0000-0000-0000-000000000001'",
    ),
    (Color.RED, "'red'", "'red'"),
    ({"a": "b'"}, "'{\"a\":\"b''\"}'", "'{\"a\":\"b''\"}'"),
    ([1, "x\\"], "'[1,\"x\\\\\"]'", "'[1,\"x\\\\\\\\\"]'"),
]


@pytest.mark.parametrize(
    ("value", "standard", "mysql"), ESCAPE_CASES, ids=[repr(c[0])[:30] for c in ESCAPE_CASES]
)
def test_escape(value: Any, standard: str, mysql: str) -> None:
    assert qb("postgres").escape(value) == standard
    assert qb("sqlite").escape(value) == standard
    assert qb("mysql").escape(value) == mysql


def test_escape_refuses_nul_and_unknown_types() -> None:
    for dialect in DIALECTS:
        with pytest.raises(ValueError, match="NUL"):
            qb(dialect).escape("a\x00b")
        with pytest.raises(TypeError):
            qb(dialect).escape(object())
        with pytest.raises(TypeError):
            qb(dialect).escape({1, 2})


def test_format_inlines_params_for_display() -> None:
    for dialect in DIALECTS:
        query = qb(dialect)
        sql, params = (
            query.table("users")
            .where("name", "O'Reilly")
            .where("email", None)
            .where("ok", True)
            .limit(2)
            .to_sql()
        )
        shown = query.format(sql, params)
        q = QUOTE_CHARS[dialect]
        assert shown == (
            f"SELECT * FROM {q}users{q} WHERE {q}name{q} = 'O''Reilly' AND {q}email{q} IS NULL"
            f" AND {q}ok{q} = TRUE LIMIT 2"
        )


def test_format_placeholder_styles() -> None:
    query = qb("postgres")
    assert (
        query.format("select $2, $1, '$1', \"$1\"", ["a", b"\x01"])
        == "select X'01', 'a', '$1', \"$1\""
    )
    assert query.format("select ?, ?, '?'", [1, None]) == "select 1, NULL, '?'"
    assert query.format("select %s, `%s`", ["it's"]) == "select 'it''s', `%s`"
    assert qb("mysql").format("select %s", ["a\\b"]) == "select 'a\\\\b'"
    with pytest.raises(ValueError, match="no parameter"):
        query.format("select $3", [1])
    with pytest.raises(ValueError, match="no parameter"):
        query.format("select ?, ?", [1])


# ---- transaction statements (compiler hooks) -------------------------------------------------
def test_begin_and_savepoint_statements() -> None:
    pg, my, lite = compiler("postgres"), compiler("mysql"), compiler("sqlite")
    assert pg.begin_sql(None, False) == ["BEGIN"]
    assert pg.begin_sql("serializable", True) == ["BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"]
    assert my.begin_sql("read_committed", False) == [
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "START TRANSACTION",
    ]
    assert my.begin_sql(None, True) == ["START TRANSACTION READ ONLY"]
    assert lite.begin_sql(None, False) == ["BEGIN IMMEDIATE"]
    assert lite.begin_sql("serializable", True) == ["BEGIN DEFERRED"]
    assert pg.savepoint_sql('sp"1') == 'SAVEPOINT "sp""1"'
    assert my.release_savepoint_sql("sp`1") == "RELEASE SAVEPOINT `sp``1`"
    assert lite.rollback_to_savepoint_sql("sp1") == "ROLLBACK TO SAVEPOINT `sp1`"
    for c in (pg, my, lite):
        with pytest.raises(ValueError, match="unknown isolation level"):
            c.begin_sql("chaos; DROP TABLE users", False)


# ---- the compiler covers the whole tree --------------------------------------------------------
HELPER_NODES = {tree.TableRef, tree.Subquery, tree.Join, tree.Order, tree.OnConflict}


def test_every_node_type_has_a_visitor() -> None:
    nodes = (*tree.EXPRESSION_NODES, *tree.STATEMENT_NODES)
    for dialect in DIALECTS:
        visitors = compiler(dialect)._visitors
        missing = [n.__name__ for n in nodes if n not in visitors]
        assert not missing, f"{dialect} compiler has no visitor for {missing}"
        for node_type in nodes:
            assert visitors[node_type].__name__.startswith("_visit_")


def test_every_tree_node_is_listed() -> None:
    """A new node class must be added to EXPRESSION_NODES/STATEMENT_NODES (and get a
    visitor), or be one of the helper nodes that statements compile inline."""
    declared = {
        obj
        for obj in vars(tree).values()
        if inspect.isclass(obj) and issubclass(obj, tree.Node) and obj not in (tree.Node, tree.Expr)
    }
    listed = set(tree.EXPRESSION_NODES) | set(tree.STATEMENT_NODES) | HELPER_NODES
    assert declared == listed
    assert all(issubclass(n, tree.Expr) for n in tree.EXPRESSION_NODES)


def test_unknown_node_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="cannot compile TableRef"):
        compiler("postgres").compile(tree.TableRef("users"))


def test_subquery_params_are_numbered_in_text_order() -> None:
    inner = tree.Select(
        tree.TableRef("users"), where=tree.Compare(tree.ColumnRef("a"), "=", tree.Value(1))
    )
    outer = tree.Select(
        tree.Subquery(inner, "s"),
        (tree.Alias(tree.Func("count", (tree.ColumnRef("*"),)), "n"),),
        where=tree.Compare(tree.ColumnRef("s.b"), ">", tree.Value(2)),
    )
    assert tuple(compiler("postgres").compile(outer)) == (
        'SELECT COUNT(*) AS "n" FROM (SELECT * FROM "users" WHERE "a" = $1) AS "s" WHERE "s"."b" > $2',
        (1, 2),
    )
    sql = compiler("mysql").compile(outer).sql
    assert placeholders("mysql", sql) == 2


def test_compile_all_helper_agrees_with_assert_sql() -> None:
    compiled = compile_all(lambda q: q.table("users").where("id", 1))
    assert {d: c.sql for d, c in compiled.items()} == {
        "postgres": 'SELECT * FROM "users" WHERE "id" = $1',
        "mysql": "SELECT * FROM `users` WHERE `id` = %s",
        "sqlite": "SELECT * FROM `users` WHERE `id` = ?",
    }


def test_query_builder_type() -> None:
    assert isinstance(qb("postgres"), QueryBuilder)


# =============================================================================================
# Bugs found while writing these tests. Each test states the expected behaviour; see the
# report for the suggested fix.
# =============================================================================================
def test_bug_column_in_refuses_strings_and_mappings() -> None:
    """where(col, "in", "abc") and where_in(col, {...}) raise TypeError, but Column.in_ /
    Column.not_in iterate a str into characters and a dict into its keys."""
    col = Column[str]("role")
    for bad in ("admin", b"ab", {"admin": 1}):
        with pytest.raises(TypeError):
            col.in_(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            col.not_in(bad)  # type: ignore[arg-type]


def test_bug_where_raw_params_must_be_a_sequence() -> None:
    """raw() refuses a str/bytes/dict as params; where_raw() iterates them (dict keys or
    characters become bound values)."""
    for bad in ({"x": 1}, "ab", b"ab"):
        with pytest.raises(TypeError):
            qb("postgres").table("t").where_raw("a = ? and b = ?", bad)  # type: ignore[arg-type]


def test_bug_unused_params_are_an_error() -> None:
    """With ? the params must match exactly; with $n (or no placeholder at all) unused
    params are silently dropped: a `$1 ... $1` typo for `$1 ... $2` goes unnoticed."""
    with pytest.raises(ValueError):
        qb("postgres").raw("select * from t where a = $1 and b = $1", [1, 2]).to_sql()
    with pytest.raises(ValueError):
        qb("postgres").raw("select * from t", [1]).to_sql()
    with pytest.raises(ValueError):
        qb("postgres").table("t").where_raw("a = $2", [1, 2]).to_sql()


def test_bug_mysql_backslash_escaped_quote_in_raw_sql() -> None:
    """On MySQL \\' does not end a string: a $1 inside 'it\\'s $1' is text, not a
    placeholder. Converting it puts a bound value inside the string literal, where the
    client-side interpolation of the driver makes it SQL."""
    compiled = qb("mysql").raw("select 'it\\'s $1' as note, $1 as v", ["x"]).to_sql()
    assert compiled.sql == "select 'it\\'s $1' as note, %s as v"
    assert compiled.params == ("x",)


def test_bug_mysql_percent_in_identifier() -> None:
    """MySQL statements go through Python % formatting in the driver; a % in a quoted
    identifier must be doubled like raw SQL text is, else a column named "rate%" or "a%s"
    breaks (or shifts) parameter binding."""
    for ident in ("rate%", "a%s"):
        sql, params = qb("mysql").table("t").where(ident, 1).to_sql()
        assert placeholders("mysql", sql) == len(params), sql


async def test_bug_aggregate_over_subquery_references_the_outer_table() -> None:
    """sum("users.age") over a limited query wraps it as (...) AS sub but keeps
    "users"."age" in the outer SELECT, which is out of scope there."""
    query, session = offline_qb("postgres", rows=[{"aggregate": 1}])
    await query.table("users").limit(10).sum("users.age")
    outer = session.fetched[-1].sql.split(" FROM (", 1)[0]
    assert '"users"' not in outer, session.fetched[-1].sql


async def test_bug_count_ignores_having() -> None:
    """count() on a query with having() but no group_by() drops the HAVING clause (the
    query returns 0 or 1 row; count() answers as if there were no HAVING)."""
    query, session = offline_qb("postgres", rows=[{"aggregate": 1}])
    totals = query.table("orders").select(fn.sum("total").as_("t"))
    await totals.having(fn.sum("total"), ">", 100).count()
    assert "HAVING" in session.fetched[-1].sql


def test_bug_escape_handles_every_bindable_type() -> None:
    """check_scalar accepts timedelta, so format() must be able to show it; also float
    infinities render as a bare word (inf), which is not a SQL literal."""
    assert qb("postgres").escape(datetime.timedelta(hours=1, seconds=5)).startswith("'")
    assert qb("postgres").escape(float("inf")) in ("'Infinity'", "'inf'")


def test_bug_mysql_format_shows_single_percent() -> None:
    """format() of a compiled MySQL statement shows the %% doubling meant for the driver."""
    query = qb("mysql")
    sql, params = query.raw("select * from t where a like '50%' and b = ?", [1]).to_sql()
    assert query.format(sql, params) == "select * from t where a like '50%' and b = 1"


def test_bug_upsert_conflict_given_as_a_string() -> None:
    """upsert(conflict="email") splits the string into one-letter columns."""
    try:
        sql = (
            qb("postgres")
            .table("users")
            .upsert({"email": "a", "n": 1}, conflict="email")
            .to_sql()
            .sql
        )
    except TypeError:
        return
    assert 'ON CONFLICT ("email")' in sql, sql


# ---- the builder's shape cache: same SQL, each query its own params ---------------------------
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_lookups_of_one_shape_share_sql_but_keep_their_own_params(dialect: str) -> None:
    query, session = offline_qb(dialect, rows=[{"id": 1}])
    users = query.table("users")
    first = users.where({"id": 1}).to_sql()
    second = users.where({"id": 2}).to_sql()  # same shape: its SQL comes from the cache
    assert first.sql == second.sql
    assert (first.params, second.params) == ((1,), (2,))
    await users.where({"id": 3}).first()
    await users.where({"id": 4}).first()
    await users.where({"id": 5}).all()
    assert [c.params for c in session.fetched] == [(3,), (4,), (5,)]
    one, other, every = session.fetched
    assert one.sql == other.sql != every.sql  # first() adds LIMIT 1
    assert one == users.where({"id": 3}).limit(1).to_sql()
    # chained equalities: one shape per column list, values in binding order
    pair = users.where({"a": "x"}).where({"b": True}).where({"c": 3}).to_sql()
    again = users.where({"a": "y"}).where({"b": False}).where({"c": 4}).to_sql()
    assert pair.sql == again.sql and (pair.params, again.params) == (
        ("x", True, 3),
        ("y", False, 4),
    )
    # another column list is another shape
    swapped = users.where({"b": True}).where({"a": "x"}).to_sql()
    assert swapped.sql != users.where({"a": "x"}).where({"b": True}).to_sql().sql
    assert swapped.params == (True, "x")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_shape_cached_queries_compile_as_the_tree_does(dialect: str) -> None:
    """Every mix of tracked equalities and other conditions gives the SQL and params that
    compiling the builder's tree gives, whatever the cache already holds."""
    users = qb(dialect).table("users")
    cases = [
        users.where({"id": 7}),
        users.where({"id": 7}).where({"name": "Ada"}),
        users.where({"id": 7}).where("age", ">", 3),
        users.where("age", ">", 3).where({"id": 7}),
        users.where({"id": 7}).or_where({"id": 8}),
        users.where({"id": 7}).where_null("deleted_at").where({"name": "Ada"}),
        users.where({"id": 7}).where({"name": "Ada"}).where_raw("x < ?", [9]),
        users.where({"id": 7}).order_by("id"),
        users.where({"id": 7}).select("name"),
        users.where({"id": 7}).offset(2).distinct(),
        users.where({"id": None}),
        users.where({"id": [1, 2]}),
    ]
    for _ in range(2):  # cold, then from the cache
        for builder in cases:
            expected = compiler(dialect).compile(builder.to_node())
            assert builder.to_sql() == expected
            assert builder._compiled(1) == compiler(dialect)._compile(builder.limit(1).to_node())


def test_tracked_equalities_build_the_same_tree() -> None:
    users = qb("postgres").table("users")
    assert users.where({"a": 1}).to_node().where == tree.Compare(
        tree.ColumnRef("a"), "=", tree.Value(1)
    )
    assert users.where({"a": 1}).where({"b": 2}).where({"c": 3}).to_node().where == tree.And(
        tuple(
            tree.Compare(tree.ColumnRef(c), "=", tree.Value(v))
            for c, v in (("a", 1), ("b", 2), ("c", 3))
        )
    )
    # a write takes the same condition
    assert tuple(users.where({"a": 1}).where({"b": 2}).delete().to_sql()) == (
        'DELETE FROM "users" WHERE "a" = $1 AND "b" = $2',
        (1, 2),
    )


def test_insert_many_dicts_read_lazily_are_checked_up_front() -> None:
    rows = [{"name": "a", "age": 1}, {"age": 2, "name": "b"}]
    query = qb("postgres").table("users").insert_many(rows)
    assert list(query.rows) == [("a", 1), ("b", 2)]
    assert query.rows[1:] == [("b", 2)] and query.rows[0] == ("a", 1) and len(query.rows) == 2
    with pytest.raises(ValueError, match="row 2"):
        qb("postgres").table("users").insert_many([*rows, {"name": "c", "email": "x"}])
