"""``engine: mongodb`` models (schemas/feed.yaml -> generated/blog/activity.py) on
mongomock: ObjectId keys handed out as 24-hex ``str``, embedded documents and lists of them
stored as sub-documents and read back as their generated Pydantic models, validated on the
way in; the collection made by the generated MongoDB migrations."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from blog import Activity, ActivityActor, ActivityEntries
from bson import ObjectId

import jadugar.models
from jadugar import DatabaseManager, MigrationOptions, NotFoundError, ValidationError
from jadugar.dialects.mongodb.driver import drop_mongomock_store
from jadugar.migrations import MigrationManager

UTC = datetime.UTC
MIGRATIONS = Path(__file__).parents[2] / "generated" / "migrations" / "mongodb"


@pytest.fixture
async def mdb() -> AsyncIterator[DatabaseManager]:
    name = f"jme_{uuid.uuid4().hex[:12]}"
    manager = DatabaseManager(url=f"mongomock://{name}")
    try:
        async with manager:
            options = MigrationOptions(directory=str(MIGRATIONS))
            await MigrationManager(options, manager).migrate()
            jadugar.models.bind(manager, package="blog")
            try:
                yield manager
            finally:
                jadugar.models.bind(None, package="blog")
    finally:
        drop_mongomock_store(name)


async def test_objectid_key_and_embedded_documents_round_trip_mongomock(
    mdb: DatabaseManager,
) -> None:
    at = datetime.datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    made = await Activity.create(
        kind="posted",
        user_id=7,
        actor=ActivityActor(name="Ada"),
        entries=[ActivityEntries(text="hello", at=at), ActivityEntries(text="again", at=at)],
    )
    assert isinstance(made.id, str) and ObjectId.is_valid(made.id)
    stored = await mdb.document_connection.client[mdb.document_connection.database][
        "activities"
    ].find_one({})
    assert stored["_id"] == ObjectId(made.id)
    assert stored["actor"] == {"name": "Ada", "avatar_url": None}
    assert stored["entries"][1] == {"text": "again", "at": at.replace(tzinfo=None), "score": 0}

    found = await Activity.find(made.id)
    assert found.actor == ActivityActor(name="Ada")
    assert found.entries[0] == ActivityEntries(text="hello", at=at, score=0)
    assert found.entries[0].at.tzinfo is not None
    assert [a.id for a in await Activity.find_by(user_id=7)] == [made.id]

    # save() writes the fields assigned since loading: assign the edited list
    found.entries = [*found.entries, ActivityEntries(text="third", at=at, score=3)]
    await found.save()
    again = await Activity.find(made.id)
    assert [e.score for e in again.entries] == [0, 0, 3]

    with pytest.raises(NotFoundError):
        await Activity.find(str(ObjectId()))


async def test_embedded_documents_are_validated_mongomock(mdb: DatabaseManager) -> None:
    with pytest.raises(ValidationError) as caught:
        await Activity.create(
            kind="liked",
            user_id=1,
            actor={"name": "x" * 121},  # type: ignore[arg-type]
        )
    assert "actor.name" in str(caught.value)
    quiet = await Activity.create(kind="liked", user_id=1, actor=ActivityActor(name="Bo"))
    assert quiet.entries == []
    assert await mdb.document_schema.has_collection("activities")
