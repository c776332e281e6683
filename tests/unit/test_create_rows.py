"""``create_many``'s shortcut past pydantic: it takes only rows that pydantic would return
unchanged, so for any rows it gives pydantic's values or steps aside."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pydantic
from blog import Tag, User
from hypothesis import event, given, settings
from hypothesis import strategies as st

from jadugar.models.rows import create_plan

USER = create_plan(User)
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False),
    st.text(max_size=300),
    st.binary(max_size=5),
    st.dates(),
    st.datetimes(),
    st.uuids(),
)


def mostly(typed: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Well-typed values 9 times in 10, so that both outcomes happen often."""
    return st.integers(0, 9).flatmap(lambda n: ANYTHING if n == 0 else typed)


FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": mostly(st.text(max_size=130)),
    "email": mostly(st.text(max_size=260)),
    "active": mostly(st.booleans()),
    "password_hash": mostly(st.text(max_size=10)),
    "api_key": mostly(st.none() | st.uuids()),
    "birthday": mostly(st.none() | st.dates()),
    "login_count": mostly(st.integers(min_value=-(2**63) - 5, max_value=2**63 + 5)),
}
ROW = st.integers(0, 9).flatmap(
    lambda n: (
        st.fixed_dictionaries(FIELD_VALUES, optional={"id": st.integers()})
        if n == 0  # an extra key
        else st.fixed_dictionaries({k: v for k, v in FIELD_VALUES.items() if k != "active"})
        if n == 1  # a key left to its default
        else st.fixed_dictionaries(FIELD_VALUES)
    )
)


def pydantic_values(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]] | None:
    try:
        return list(map(USER.values, USER.validate_rows.validate_python(rows)))
    except pydantic.ValidationError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=4))
def test_the_shortcut_gives_what_pydantic_gives_or_steps_aside(rows: list[dict[str, Any]]) -> None:
    assert USER.already_valid is not None
    taken = USER.already_valid(rows)
    event("shortcut taken" if taken is not None else "pydantic's path")
    if taken is not None:
        expected = pydantic_values(rows)
        assert expected is not None, "the shortcut took rows that pydantic refuses"
        assert taken == expected
        for got, want in zip(taken, expected, strict=True):
            assert [type(v) for v in got] == [type(v) for v in want]


def test_rows_of_exact_types_take_the_shortcut() -> None:
    assert USER.already_valid is not None
    rows = [
        {
            "name": "Ada",
            "email": "ada@example.com",
            "active": True,
            "password_hash": "h",
            "api_key": uuid.uuid4(),
            "birthday": datetime.date(1815, 12, 10),
            "login_count": 3,
        }
    ]
    assert USER.already_valid(rows) == pydantic_values(rows)
    for bad in ({"login_count": True}, {"name": "x" * 121}, {"birthday": datetime.datetime.now()}):
        assert USER.already_valid([{**rows[0], **bad}]) is None
    assert USER.already_valid([{k: v for k, v in rows[0].items() if k != "active"}]) is None
    tag = create_plan(Tag)
    assert tag.already_valid is not None and tag.already_valid([{"name": "a"}]) == [("a",)]
