"""MongoDB compile tests: query trees → the exact filter / projection / pipeline documents.

Pure: no server, no driver. Queries are built with the real ``TableQueryBuilder`` over a
stand-in session (a compiler and capabilities, like ``tests/unit/compile_helpers``), and
compiled from ``to_node()``; some trees are built directly.
"""

from __future__ import annotations

import re
import types
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jadugar.connection import Session
from jadugar.dialects.mongodb.compiler import AGGREGATE_FIELD, MongoCompiler, objectid_keys
from jadugar.dialects.mongodb.filters import like_to_regex
from jadugar.dialects.mongodb.ops import (
    Aggregate,
    Count,
    DeleteMany,
    Find,
    InsertMany,
    UpdateMany,
)
from jadugar.errors import UnsupportedOperation
from jadugar.query import tree
from jadugar.query.builder import TableQueryBuilder
from jadugar.query.expressions import Column, fn

MC = MongoCompiler()


def table(name: str = "users", compiler: MongoCompiler = MC) -> TableQueryBuilder:
    """A builder over a session that has only what building needs (never runs a query)."""
    session = types.SimpleNamespace(
        compiler=compiler, capabilities=types.SimpleNamespace(returning=False)
    )
    return TableQueryBuilder(cast("Session", session), name)


def compiled(query: Any) -> Any:
    return MC.compile_node(query.to_node())


def filter_of(query: TableQueryBuilder) -> dict[str, Any]:
    op = compiled(query)
    assert isinstance(op, Find)
    return op.filter


# ---- where → filter ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda q: q.where({"name": "ann"}), {"name": "ann"}),
        (lambda q: q.where("age", 30), {"age": 30}),
        (lambda q: q.where("age", "=", 30), {"age": 30}),
        (lambda q: q.where("age", "!=", 30), {"age": {"$ne": 30}}),
        (lambda q: q.where("age", "<>", 30), {"age": {"$ne": 30}}),
        (lambda q: q.where("age", "<", 30), {"age": {"$lt": 30}}),
        (lambda q: q.where("age", "<=", 30), {"age": {"$lte": 30}}),
        (lambda q: q.where("age", ">", 30), {"age": {"$gt": 30}}),
        (lambda q: q.where("age", ">=", 30), {"age": {"$gte": 30}}),
        (lambda q: q.where_in("age", [1, 2]), {"age": {"$in": [1, 2]}}),
        (lambda q: q.where({"age": [1, 2]}), {"age": {"$in": [1, 2]}}),
        (lambda q: q.where_not_in("age", [1, 2]), {"age": {"$nin": [1, 2]}}),
        (lambda q: q.where_in("age", []), {"age": {"$in": []}}),
        (lambda q: q.where_between("age", 1, 9), {"age": {"$gte": 1, "$lte": 9}}),
        (
            lambda q: q.where_not_between("age", 1, 9),
            {"$or": [{"age": {"$lt": 1}}, {"age": {"$gt": 9}}]},
        ),
        (lambda q: q.where_null("email"), {"email": None}),
        (lambda q: q.where({"email": None}), {"email": None}),
        (lambda q: q.where_not_null("email"), {"email": {"$ne": None}}),
        (lambda q: q.where("email", "!=", None), {"email": {"$ne": None}}),
        (
            lambda q: q.where("name", "like", "a%b_c"),
            {"name": {"$regex": "^a.*b.c(?!.)", "$options": "s"}},
        ),
        (
            lambda q: q.where("name", "ilike", "%ann%"),
            {"name": {"$regex": "^.*ann.*(?!.)", "$options": "is"}},
        ),
        (
            lambda q: q.where("name", "not_like", "a.b%"),
            {"$nor": [{"name": {"$regex": "^a\\.b.*(?!.)", "$options": "s"}}]},
        ),
        (
            lambda q: q.where("name", "not_ilike", "x"),
            {"$nor": [{"name": {"$regex": "^x(?!.)", "$options": "is"}}]},
        ),
        # several where(): one dict, operators on one field merged, $and when they collide
        (lambda q: q.where("a", 1).where("b", 2), {"a": 1, "b": 2}),
        (lambda q: q.where({"a": 1, "b": 2}), {"a": 1, "b": 2}),
        (lambda q: q.where("a", ">", 1).where("a", "<", 5), {"a": {"$gt": 1, "$lt": 5}}),
        (
            lambda q: q.where("a", ">", 1).where("a", ">", 5),
            {"$and": [{"a": {"$gt": 1}}, {"a": {"$gt": 5}}]},
        ),
        (lambda q: q.where("a", 1).where("a", 2), {"$and": [{"a": 1}, {"a": 2}]}),
        (lambda q: q.where("a", 1).or_where("b", 2), {"$or": [{"a": 1}, {"b": 2}]}),
        (lambda q: q.where_not("a", 1), {"$nor": [{"a": 1}]}),
        (
            lambda q: q.where("a", 1).where(lambda g: g.where("b", 2).or_where("c", 3)),
            {"a": 1, "$or": [{"b": 2}, {"c": 3}]},
        ),
        # the key: id is stored as _id; a prefix naming the collection is dropped
        (lambda q: q.where({"id": 7}), {"_id": 7}),
        (lambda q: q.where_in("users.id", [1, 2]), {"_id": {"$in": [1, 2]}}),
        (lambda q: q.where("address.city", "Oslo"), {"address.city": "Oslo"}),
    ],
)
def test_where_forms(build: Any, expected: dict[str, Any]) -> None:
    assert filter_of(build(table())) == expected


def test_typed_columns_and_expressions() -> None:
    age, name = Column[int]("age"), Column[str]("name")
    assert filter_of(table().where((age >= 18) & (age < 65))) == {"age": {"$gte": 18, "$lt": 65}}
    assert filter_of(table().where((age == 1) | ~(name == "x"))) == {
        "$or": [{"age": 1}, {"$nor": [{"name": "x"}]}]
    }
    assert filter_of(table().where(age.between(1, 2))) == {"age": {"$gte": 1, "$lte": 2}}
    assert filter_of(table().where(age.is_null())) == {"age": None}
    # value on the left: the operator flips
    node = tree.Compare(tree.Value(3), "<", tree.ColumnRef("age"))
    assert MC.filters.filter(node, _scope()) == {"age": {"$gt": 3}}


def test_column_comparisons_and_functions_use_expr() -> None:
    low, high = Column[int]("lo"), Column[int]("hi")
    assert filter_of(table().where(low < high)) == {"$expr": {"$lt": ["$lo", "$hi"]}}
    assert filter_of(table().where(Column[int]("id") == Column[int]("parent_id"))) == {
        "$expr": {"$eq": ["$_id", "$parent_id"]}
    }
    assert filter_of(table().where(fn.lower("name"), "=", "$ann")) == {
        "$expr": {"$eq": [{"$toLower": "$name"}, {"$literal": "$ann"}]}
    }
    assert filter_of(table().where(fn.upper("name"), "like", "A%")) == {
        "$expr": {
            "$regexMatch": {"input": {"$toUpper": "$name"}, "regex": "^A.*(?!.)", "options": "s"}
        }
    }
    assert filter_of(table().where(fn.coalesce("nick", "name"), "in", ["a"])) == {
        "$expr": {"$in": [{"$ifNull": ["$nick", "$name"]}, {"$literal": ["a"]}]}
    }


def _scope() -> Any:
    from jadugar.dialects.mongodb.filters import Scope

    return Scope(frozenset(["users"]))


# ---- select → find / aggregate --------------------------------------------------------------
def test_find_with_projection_sort_skip_limit() -> None:
    query = (
        table()
        .select("name", "email")
        .where("age", ">", 18)
        .order_by("name")
        .order_by("id", "desc")
        .offset(20)
        .limit(10)
    )
    assert compiled(query) == Find(
        "users",
        {"age": {"$gt": 18}},
        {"_id": 0, "name": 1, "email": 1},
        (("name", 1), ("_id", -1)),
        skip=20,
        limit=10,
    )


def test_projection_includes_the_key_only_when_asked() -> None:
    assert compiled(table().select("id", "name")).projection == {"_id": 1, "name": 1}
    assert compiled(table()).projection is None
    assert compiled(table().select("*")).projection is None
    assert compiled(table().select("users.*")).projection is None


def test_limit_zero_matches_nothing() -> None:
    assert compiled(table().where("a", 1).limit(0)) == Find("users", {"_id": {"$in": []}})
    assert compiled(table().select("name as n").limit(0)).pipeline[-2] == {
        "$match": {"$expr": False}
    }


def test_aliases_become_a_project_stage() -> None:
    query = table().select("id", "name as n", "email").where("a", 1).order_by("n").limit(5)
    assert compiled(query) == Aggregate(
        "users",
        (
            {"$match": {"a": 1}},
            {"$sort": {"name": 1}},  # by the aliased column: sorting runs before $project
            {"$limit": 5},
            {"$project": {"_id": 1, "n": "$name", "email": 1}},
        ),
    )
    assert compiled(table().select("name as id")).pipeline == ({"$project": {"_id": "$name"}},)
    assert compiled(table().select("*", fn.lower("name").as_("ln"))).pipeline == (
        {"$addFields": {"ln": {"$toLower": "$name"}}},
    )


def test_distinct_groups_on_the_columns() -> None:
    query = table().select("status", "kind as k").distinct().order_by("k").offset(1).limit(2)
    assert compiled(query) == Aggregate(
        "users",
        (
            {"$group": {"_id": {"k0": "$status", "k1": "$kind"}}},
            {"$sort": {"_id.k1": 1}},
            {"$project": {"_id": 0, "status": "$_id.k0", "k": "$_id.k1"}},
            {"$skip": 1},
            {"$limit": 2},
        ),
    )
    # DISTINCT over whole documents: _id is unique, so the documents themselves
    assert compiled(table().distinct()) == Find("users")


def test_group_by_with_aggregates_and_having() -> None:
    query = (
        table("posts")
        .select("user_id", fn.count().as_("n"), fn.avg("score").as_("mean"))
        .where_in("user_id", [1, 2])
        .group_by("user_id")
        .having(fn.count(), ">", 1)
        .having("mean", ">=", 2.5)
        .order_by("n", "desc")
    )
    assert compiled(query) == Aggregate(
        "posts",
        (
            {"$match": {"user_id": {"$in": [1, 2]}}},
            {"$group": {"_id": {"k0": "$user_id"}, "a0": {"$sum": 1}, "a1": {"$avg": "$score"}}},
            {"$match": {"a0": {"$gt": 1}, "a1": {"$gte": 2.5}}},
            {"$sort": {"a0": -1}},
            {"$project": {"_id": 0, "user_id": "$_id.k0", "n": "$a0", "mean": "$a1"}},
        ),
    )


def test_grouped_aggregate_variants() -> None:
    query = table().select(
        fn.count("email").as_("emails"),
        fn.count("email", distinct=True).as_("unique"),
        fn.max("age").as_("oldest"),
    )
    assert compiled(query).pipeline == (
        {
            "$group": {
                "_id": None,
                "a0": {"$sum": {"$cond": [{"$eq": [{"$ifNull": ["$email", None]}, None]}, 0, 1]}},
                "a1": {"$addToSet": "$email"},
                "a2": {"$max": "$age"},
            }
        },
        {"$addFields": {"a1": {"$size": {"$setDifference": ["$a1", [None]]}}}},
        {"$project": {"_id": 0, "emails": "$a0", "unique": "$a1", "oldest": "$a2"}},
    )
    # a having over an aggregate that is not selected gets its own (unprojected) field
    having = table().select("kind").group_by("kind").having(fn.sum("n"), "<", 3)
    assert compiled(having).pipeline == (
        {"$group": {"_id": {"k0": "$kind"}, "a0": {"$sum": "$n"}}},
        {"$match": {"a0": {"$lt": 3}}},
        {"$project": {"_id": 0, "kind": "$_id.k0"}},
    )
    with pytest.raises(ValueError, match="not in group_by"):
        compiled(table().select("name", fn.count().as_("n")).group_by("kind"))
    with pytest.raises(UnsupportedOperation, match="without a name"):
        compiled(table().select("kind", fn.count()).group_by("kind"))


# ---- count and aggregates ------------------------------------------------------------------
def test_count() -> None:
    where = tree.Compare(tree.ColumnRef("a"), "=", tree.Value(1))
    assert MC.count("users", where) == Count("users", {"a": 1})
    assert MC.count("users") == Count("users", {})
    assert MC.count("users", where, "email") == Count("users", {"a": 1, "email": {"$ne": None}})
    assert MC.count("users", where, "email", distinct=True) == Aggregate(
        "users",
        (
            {"$match": {"a": 1}},
            {"$group": {"_id": "$email"}},
            {"$match": {"_id": {"$ne": None}}},
            {"$group": {"_id": None, AGGREGATE_FIELD: {"$sum": 1}}},
        ),
    )


@pytest.mark.parametrize("func", ["sum", "avg", "min", "max"])
def test_aggregates_group_with_null_id(func: str) -> None:
    where = tree.Compare(tree.ColumnRef("a"), ">", tree.Value(1))
    assert MC.aggregate(func, "age", "users", where) == Aggregate(
        "users",
        (
            {"$match": {"a": {"$gt": 1}}},
            {"$group": {"_id": None, "aggregate": {f"${func}": "$age"}}},
        ),
    )
    assert MC.aggregate(func, "id", "users").pipeline == (
        {"$group": {"_id": None, "aggregate": {f"${func}": "$_id"}}},
    )


def test_aggregate_over_a_query() -> None:
    plain = table().where("a", 1)
    assert MC.aggregate_over("count", None, plain.to_node()) == Count("users", {"a": 1})
    assert MC.aggregate_over("sum", "n", plain.to_node()) == MC.aggregate(
        "sum", "n", "users", plain.to_node().where
    )
    limited = plain.order_by("n").limit(5)
    assert MC.aggregate_over("sum", "n", limited.to_node()) == Aggregate(
        "users",
        (
            {"$match": {"a": 1}},
            {"$sort": {"n": 1}},
            {"$limit": 5},
            {"$group": {"_id": None, "aggregate": {"$sum": "$n"}}},
        ),
    )
    distinct = table().select("kind").distinct()
    over_distinct = MC.aggregate_over("count", None, distinct.to_node())
    assert isinstance(over_distinct, Aggregate)
    assert over_distinct.pipeline[-1] == {"$group": {"_id": None, "aggregate": {"$sum": 1}}}


# ---- writes --------------------------------------------------------------------------------
def test_insert_and_insert_many() -> None:
    one = table().insert({"id": 1, "name": "ann", "tags": ["a"], "meta": {"$gt": ""}})
    assert compiled(one) == InsertMany(
        "users", ({"_id": 1, "name": "ann", "tags": ["a"], "meta": {"$gt": ""}},)
    )
    many = table().insert_many([{"id": None, "name": "a"}, {"id": None, "name": "b"}])
    # a None key is left out: the server assigns an ObjectId
    assert compiled(many) == InsertMany("users", ({"name": "a"}, {"name": "b"}))
    assert MC.insert("users", ("name",), [("x",), ("y",)]) == InsertMany(
        "users", ({"name": "x"}, {"name": "y"})
    )


def test_update_and_delete() -> None:
    update = table().where("id", 5).update({"name": "bob", "updated_at": fn.now()})
    assert compiled(update) == UpdateMany(
        "users", {"_id": 5}, {"$set": {"name": "bob"}, "$currentDate": {"updated_at": True}}
    )
    assert compiled(table().where("age", "<", 3).delete()) == DeleteMany(
        "users", {"age": {"$lt": 3}}
    )
    assert compiled(table().all_rows().delete()) == DeleteMany("users", {})
    with pytest.raises(UnsupportedOperation, match="expression value in update"):
        compiled(table().where("id", 1).update({"a": Column[int]("b")}))
    with pytest.raises(UnsupportedOperation, match=r"returning\(\)"):
        compiled(table().where("id", 1).update({"a": 1}).returning("id"))


def test_upsert() -> None:
    query = table().upsert({"id": 1, "email": "e@x", "name": "ann", "n": 2}, ["email"], ["name"])
    assert compiled(query) == UpdateMany(
        "users",
        {"email": "e@x"},
        {"$set": {"name": "ann"}, "$setOnInsert": {"_id": 1, "n": 2}},
        upsert=True,
    )
    # default update columns: all but the conflict ones; _id is never $set (immutable)
    default = table().upsert({"id": 1, "name": "ann"}, ["id"])
    assert compiled(default) == UpdateMany(
        "users", {"_id": 1}, {"$set": {"name": "ann"}}, upsert=True
    )
    nothing = table().upsert({"email": "e", "name": "a"}, ["email"], [])
    assert compiled(nothing).update == {"$setOnInsert": {"name": "a"}}
    only_key = table().upsert({"email": "e"}, ["email"])
    assert compiled(only_key).update == {"$setOnInsert": {"email": "e"}}
    rows = [{"email": "a", "n": 1}, {"email": "b", "n": 2}]
    assert compiled(table().upsert(rows, ["email"])) == (
        UpdateMany("users", {"email": "a"}, {"$set": {"n": 1}}, upsert=True),
        UpdateMany("users", {"email": "b"}, {"$set": {"n": 2}}, upsert=True),
    )
    with pytest.raises(UnsupportedOperation, match="upsert\\(\\) of several rows"):
        MC.upsert("users", ("email",), [("a",), ("b",)], ("email",), ())


# ---- key mapping ---------------------------------------------------------------------------
def test_document_to_row_and_custom_keys() -> None:
    assert MC.document_to_row({"_id": 3, "name": "a"}) == {"id": 3, "name": "a"}
    assert MC.document_to_row({"n": 1}) == {"n": 1}
    custom = MongoCompiler("code")
    assert custom.field("code") == "_id" and custom.field("id") == "id"
    encode, decode = objectid_keys()
    oid = MongoCompiler(encode_key=encode, decode_key=decode)
    hex_id = "64b7f0c2a1b2c3d4e5f60718"
    op = oid.compile_node(table(compiler=oid).where_in("id", [hex_id, "other"]).to_node())
    assert isinstance(op, Find)
    (value, other) = op.filter["_id"]["$in"]
    assert type(value).__name__ == "ObjectId" and str(value) == hex_id and other == "other"
    assert oid.document_to_row({"_id": value}) == {"id": hex_id}
    assert oid.insert("users", ("id",), [(hex_id,)]).documents[0]["_id"] == value


# ---- unsupported ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "operation"),
    [
        (lambda q: q.right_join("posts", "users.id", "posts.user_id"), "right_join"),
        (lambda q: q.left_join("posts", "users.id", "posts.user_id"), "left_join"),
        (lambda q: q.join("posts", "users.id", "posts.user_id"), "join"),
        (lambda q: q.where_raw("age > ?", [1]), "where_raw"),
        (lambda q: q.where(fn.raw("1 = 1")), "where_raw / fn.raw"),
        (lambda q: q.select(fn.lower("name")), "without a name"),
        (lambda q: q.select("kind").group_by(fn.lower("kind")), "group_by() on an expression"),
        (lambda q: q.select(fn.lower("a").as_("l")).order_by("l"), "order_by() on an expression"),
        (lambda q: q.select("k").distinct().group_by("k"), "distinct() with group_by()"),
        (lambda q: q.where("a", 1).update({"b": fn.raw("b + 1")}), "fn.raw() in update"),
        (lambda q: q.insert({"at": fn.now()}), "expression value in insert"),
    ],
)
def test_unsupported_operations_are_named(build: Any, operation: str) -> None:
    with pytest.raises(UnsupportedOperation) as caught:
        compiled(build(table()))
    assert caught.value.dialect == "mongodb"
    assert operation in caught.value.operation


def test_raw_and_subqueries_are_unsupported() -> None:
    with pytest.raises(UnsupportedOperation, match="raw is not supported on mongodb"):
        MC.compile_node(tree.Raw("SELECT 1"))
    sub = tree.Select(tree.Subquery(tree.Select(tree.TableRef("users")), "s"))
    with pytest.raises(UnsupportedOperation, match="subquery"):
        MC.compile_node(sub)


# ---- injection: values stay data, names cannot be operators -------------------------------
HOSTILE = [
    "$where",
    "$gt",
    '{"$gt": ""}',
    "$$ROOT",
    "'; return true; //",
    ".*",
    "a|b",
    "(?i)x",
    "\\",
    "%",
    "_",
    "a\nb",
    "\x00",
    "^$",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE), st.text(), st.text(alphabet="$%_\\.*[](){}?+|^\n")
)


@pytest.mark.parametrize("value", HOSTILE)
def test_values_are_literals(value: str) -> None:
    assert filter_of(table().where("name", value)) == {"name": value}
    assert filter_of(table().where("name", "!=", value)) == {"name": {"$ne": value}}
    assert filter_of(table().where_in("name", [value])) == {"name": {"$in": [value]}}
    # in aggregation expressions "$…" is a field path: values are wrapped in $literal
    assert filter_of(table().where(fn.lower("name"), "=", value)) == {
        "$expr": {"$eq": [{"$toLower": "$name"}, {"$literal": value}]}
    }


def test_operator_documents_as_values_are_data() -> None:
    node = tree.Compare(tree.ColumnRef("meta"), "=", tree.Value({"$gt": ""}))
    assert MC.filters.filter(node, _scope()) == {"meta": {"$eq": {"$gt": ""}}}
    assert MC.upsert("users", ("k",), [({"$ne": 1},)], ("k",), ()).filter == {
        "k": {"$eq": {"$ne": 1}}
    }
    with pytest.raises(TypeError, match="regular expression"):
        MC.filters.filter(
            tree.InList(tree.ColumnRef("a"), (tree.Value(re.compile(".*")),)), _scope()
        )
    with pytest.raises(TypeError, match="LIKE pattern must be a str"):
        like_to_regex(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["$where", "a.$gt", "", "a..b", "x\x00", "$"])
def test_field_names_cannot_be_operators(name: str) -> None:
    with pytest.raises(ValueError, match="invalid field name"):
        compiled(table().where(name, 1))
    with pytest.raises(ValueError, match="invalid field name"):
        compiled(table().select(name))
    with pytest.raises(ValueError, match="invalid field name"):
        compiled(table().insert({name: 1}))


@given(name=hostile_text)
def test_any_name_is_a_plain_field_or_refused(name: str) -> None:
    try:
        result = filter_of(table().where(name, 1))
    except ValueError:
        return
    ((key, value),) = result.items()
    assert not key.startswith("$") and value == 1


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches(regex: dict[str, Any], text: str) -> bool:
    """What MongoDB does with {"$regex", "$options"}: an unanchored search."""
    flags = re.S | (re.I if "i" in regex["$options"] else 0)
    return re.search(regex["$regex"], text, flags) is not None


@given(literal=hostile_text, other=st.text())
def test_like_of_escaped_text_matches_only_that_text(literal: str, other: str) -> None:
    regex = filter_of(table().where("name", "like", _like_escape(literal)))["name"]
    assert _matches(regex, literal)
    assert _matches(regex, other) == (other == literal)
    assert not _matches(regex, literal + "\n") and not _matches(regex, "x" + literal)


@given(literal=hostile_text, suffix=st.text())
def test_like_prefix_pattern_from_hostile_text(literal: str, suffix: str) -> None:
    regex = filter_of(table().where("name", "like", _like_escape(literal) + "%"))["name"]
    assert _matches(regex, literal + suffix)
    assert _matches(regex, "x" + literal) == ("x" + literal).startswith(literal)


@given(pattern=st.text(alphabet="ab%_\\\n.$"), text=st.text(alphabet="ab%_\\\n.$"))
def test_like_translation_agrees_with_a_reference_matcher(pattern: str, text: str) -> None:
    regex = {"$regex": like_to_regex(pattern), "$options": "s"}
    assert _matches(regex, text) == _like_reference(pattern, text)


def _like_reference(pattern: str, text: str) -> bool:
    """SQL LIKE with backslash escapes, by dynamic programming (no regex)."""
    tokens: list[str | None] = []  # None: %, "": _, else one literal char ("" is never literal)
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            tokens.append("=" + next(chars, "\\"))
        elif char == "%":
            tokens.append(None)
        elif char == "_":
            tokens.append("")
        else:
            tokens.append("=" + char)
    reach = {0}
    for token in tokens:
        nxt: set[int] = set()
        for i in reach:
            if token is None:
                nxt.update(range(i, len(text) + 1))
            elif token == "":
                if i < len(text):
                    nxt.add(i + 1)
            elif i < len(text) and text[i] == token[1]:
                nxt.add(i + 1)
        reach = nxt
    return len(text) in reach


def test_ilike_is_case_insensitive() -> None:
    regex = filter_of(table().where("name", "ilike", "ann%"))["name"]
    assert _matches(regex, "ANNA") and not _matches(regex, "JOANNA")
