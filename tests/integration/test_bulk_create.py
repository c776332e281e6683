"""``create_many`` over several chunks on every SQL engine. PostgreSQL streams the rows
into one COPY, checking each chunk while the server stores the one before, so these tests
check what a user relies on: values come back verbatim, a bad row anywhere is refused
with nothing written, and a surrounding transaction stays usable."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from blog import Comment, Post, User, UserCreate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jadugar import DatabaseManager, ValidationError
from jadugar.query.row_chunks import CHUNK_ROWS

from .test_models import _user
from .test_models import blog as blog  # the fixture: the blog's tables on each engine

__all__ = ["blog"]

ROWS = 2 * CHUNK_ROWS + 300  # three chunks
HOSTILE = [
    "tab\there",
    "line\nbreak",
    "cr\rreturn",
    "back\\slash",
    "\\.",
    "\\N",
    "ends with \\",
    "ñ 雪 😀 \u202e",
    "'; DROP TABLE users; --",
    "",
    "  spaces  ",
]


def _row(n: int) -> UserCreate:
    return {
        "name": f"{HOSTILE[n % len(HOSTILE)]}{n}",
        "email": f"u{n}@example.com",
        "password_hash": HOSTILE[(n + 3) % len(HOSTILE)],
        "active": n % 3 == 0,
        "api_key": uuid.UUID(int=n + 1) if n % 2 else None,
        "birthday": datetime.date(1900 + n % 120, 1 + n % 12, 1 + n % 28) if n % 5 else None,
        "login_count": (2**62 + n) if n % 7 else -n,
    }


def _editable_rows() -> list[dict[str, Any]]:
    """``ROWS`` rows as plain dicts, to spoil one here and there."""
    return [dict(_row(n)) for n in range(ROWS)]


def _stored(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in _row(0)}


async def test_rows_over_several_chunks_come_back_verbatim(blog: DatabaseManager) -> None:
    rows = [_row(n) for n in range(ROWS)]
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    assert await User.create_many(rows) == ROWS
    users = await User.query().order_by("id").get()
    assert [_stored(u) for u in users] == rows
    stamps = {u.created_at for u in users} | {u.updated_at for u in users}
    assert len(stamps) == 1 and stamps.pop() >= before


async def test_plain_rows_come_back_verbatim(blog: DatabaseManager) -> None:
    # nothing to escape and no NULLs: the chunks PostgreSQL formats in one call
    plain = ["100% sure", "%s %d %r %%", "'quoted' \"double\"", "ñ 雪 😀", "x" * 120]
    rows: list[UserCreate] = [
        {
            **_row(n),
            "name": f"{plain[n % len(plain)][:115]}{n}",
            "password_hash": plain[(n + 1) % len(plain)],
            "api_key": uuid.UUID(int=n + 1),
            "birthday": datetime.date(2000, 1, 1) + datetime.timedelta(days=n),
        }
        for n in range(ROWS)
    ]
    assert await User.create_many(rows) == ROWS
    users = await User.query().order_by("id").get()
    assert [_stored(u) for u in users] == rows


async def test_a_bad_row_in_a_later_chunk_writes_nothing(blog: DatabaseManager) -> None:
    rows = _editable_rows()
    rows[CHUNK_ROWS + 77]["name"] = "x" * 121  # max_length 120
    rows[ROWS - 1]["email"] = 5
    with pytest.raises(ValidationError) as caught:
        await User.create_many(rows)  # type: ignore[arg-type]
    fields = [e["field"] for e in caught.value.errors]
    assert fields == [f"{CHUNK_ROWS + 77}.name", f"{ROWS - 1}.email"]
    assert await User.query().with_trashed().count() == 0


async def test_a_refused_bulk_load_leaves_the_transaction_usable(blog: DatabaseManager) -> None:
    rows = _editable_rows()
    rows[ROWS - 2]["active"] = "maybe"
    async with blog.transaction():
        await _user("Ada")
        with pytest.raises(ValidationError, match=rf"{ROWS - 2}\.active"):
            await User.create_many(rows)  # type: ignore[arg-type]
        await User.create_many([_row(n) for n in range(ROWS)])
        await _user("Bob")
    assert await User.query().count() == ROWS + 2
    assert {"Ada", "Bob"} <= {u.name for u in await User.query().get()}


async def test_values_pydantic_converts_in_a_later_chunk_are_stored_converted(
    blog: DatabaseManager,
) -> None:
    rows = _editable_rows()
    rows[ROWS - 5]["login_count"] = "42"  # lax: a numeric string is an int
    rows[ROWS - 5]["api_key"] = "ffffffff-0000-0000-0000-00000000002a"
    assert await User.create_many(rows) == ROWS  # type: ignore[arg-type]
    user = await User.find_by(email=f"u{ROWS - 5}@example.com").first()
    assert user is not None
    assert user.login_count == 42
    assert user.api_key == uuid.UUID("ffffffff-0000-0000-0000-00000000002a")


async def test_models_with_values_that_are_not_streamed_load_too(blog: DatabaseManager) -> None:
    # published_at is a datetime: PostgreSQL takes these rows by the binary COPY instead
    ada = await _user()
    when = datetime.datetime(2026, 11, 27, 12, 30, tzinfo=datetime.UTC)
    rows = [
        {"user_id": ada.id, "title": f"t\t{n}", "published_at": when, "rating": n / 3}
        for n in range(ROWS)
    ]
    assert await Post.create_many(rows) == ROWS  # type: ignore[arg-type]
    posts = await Post.query().order_by("id").get()
    assert [(p.title, p.published_at, p.rating) for p in posts] == [
        (r["title"], when, r["rating"]) for r in rows
    ]


LIVE = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
texts = st.lists(
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=30),
    min_size=1,
    max_size=12,
)


@LIVE
@given(bodies=texts)
async def test_hostile_text_in_a_bulk_load_round_trips(
    blog: DatabaseManager, bodies: list[str]
) -> None:
    marker = uuid.uuid4().hex  # the examples share the tables
    post = await Post.create(user_id=(await _user(f"A{marker}")).id, title=marker)
    rows = [{"post_id": post.id, "body": bodies[n % len(bodies)]} for n in range(CHUNK_ROWS + 1)]
    assert await Comment.create_many(rows) == len(rows)  # type: ignore[arg-type]
    stored = await Comment.query().where(Comment.c.post_id == post.id).order_by("id").get()
    assert [c.body for c in stored] == [r["body"] for r in rows]
