"""The shared cache's pieces without a server: rows and keys as text (runtime/cache/codec.py),
and the ``cache.backend`` option (a bad value names the option, a password never shows)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jadugar import CacheKey, CacheOptions, ConfigurationError, DatabaseOptions
from jadugar.cache import RedisCacheBackend, backend_from_options
from jadugar.cache.codec import Uncacheable, decode_rows, encode_rows, key_digest

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -(2**70),
    0.1,
    -0.0,
    float("inf"),
    "",
    'text \u2603 \n "quoted"',
    Decimal("9.50"),
    Decimal("-0"),
    Decimal("1E+3"),
    Decimal("NaN"),
    datetime(2024, 2, 29, 23, 59, 58, 123456),
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    date(1, 1, 1),
    time(23, 59, 59, 999999),
    time(1, 2, tzinfo=timezone(timedelta(hours=2))),
    timedelta(days=-3, seconds=5, microseconds=7),
    uuid.UUID(int=12345),
    b"\x00\xff",
    b"",
    [1, "a", None, [True, 1.5]],
    {"nested": {"list": [1, 2], "t": True, "n": None}, "": 0},
    {},
    [],
    ("a", 1),
    ["d", "1.5"],  # a list that looks like a tag
]


def same(a: Any, b: Any) -> bool:
    """Equal with the same type all the way down (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, datetime | time):
        return bool(a == b and a.tzinfo == b.tzinfo and a.utcoffset() == b.utcoffset())
    return bool(a == b or (a != a and b != b))


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_every_value_comes_back_with_its_type(value: Any) -> None:
    (row,) = decode_rows(encode_rows([{"v": value, "other": 1}]))
    assert list(row) == ["v", "other"]
    assert same(row["v"], value), (row["v"], value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.lists(st.dictionaries(st.sampled_from("abc"), json_values), min_size=1, max_size=4))
def test_json_values_round_trip(rows: list[dict[str, Any]]) -> None:
    columns = sorted({name for row in rows for name in row})
    regular = [{name: row.get(name) for name in columns} for row in rows]
    assert all(map(same, decode_rows(encode_rows(regular)), regular))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1), "CET")),
        object(),
        bytearray(b"x"),
        {1: "int key"},
        {"a", "b"},
    ],
    ids=repr,
)
def test_values_without_an_exact_form_are_not_stored(value: Any) -> None:
    with pytest.raises(Uncacheable):
        encode_rows([{"v": value}])


def test_rows_of_different_columns_are_not_stored() -> None:
    with pytest.raises(Uncacheable):
        encode_rows([{"a": 1}, {"b": 1}])
    assert decode_rows(encode_rows([])) == []


def key(*params: Any) -> CacheKey:
    return CacheKey("sqlite:///a.db", "SELECT ?", params)


def test_keys_tell_types_apart_and_are_stable() -> None:
    digests = {key_digest(key(v)) for v in (1, True, 1.0, "1", Decimal(1), b"1")}
    assert len(digests) == 6
    assert key_digest(key(frozenset({"x", "y", "z"}))) == key_digest(key(frozenset("zyx")))
    assert key_digest(key(1)) != key_digest(CacheKey("sqlite:///b.db", "SELECT ?", (1,)))
    assert key_digest(key(("session_variables", (("app.tenant_id", "1"),)))) != key_digest(
        key(("session_variables", (("app.tenant_id", "2"),)))
    )
    with pytest.raises(Uncacheable):
        key_digest(key(object()))


# ---- the option ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["http://cache:6379", "redis://:pw@cache:notaport/0", "redis://:pw@cache/zero", "redis://"],
)
def test_a_bad_backend_names_the_option_and_hides_the_password(value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        CacheOptions(backend=value)
    assert info.value.field == "cache.backend"
    assert "cache.backend" in str(info.value) and ":pw@" not in str(info.value)
    with pytest.raises(ConfigurationError, match=r"JADUGAR_CACHE_BACKEND: cache\.backend"):
        DatabaseOptions.from_env({"JADUGAR_CACHE_BACKEND": value})


def test_the_backend_comes_from_the_environment_masked() -> None:
    options = DatabaseOptions.from_env(
        {
            "JADUGAR_CACHE_BACKEND": "redis://app:s3cret@cache:6380/2",
            "JADUGAR_CACHE_KEY_PREFIX": "shop:",
            "JADUGAR_CACHE_BACKEND_TIMEOUT": "0.5",
        }
    )
    cache = options.cache
    assert (cache.key_prefix, cache.backend_timeout, cache.shared) == ("shop:", 0.5, True)
    for text in (repr(options), str(options), options.model_dump_json()):
        assert "s3cret" not in text
    assert "s3cret" in options.secrets()  # redacted from driver errors too
    backend = backend_from_options(cache)
    assert isinstance(backend, RedisCacheBackend)
    assert "s3cret" not in repr(backend) and backend.prefix == "shop:"
    assert backend_from_options(CacheOptions()) is None  # memory: the manager's own LRU
