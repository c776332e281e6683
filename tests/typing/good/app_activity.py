"""An activity feed on MongoDB (``engine: mongodb``): ObjectId keys as ``str``, embedded
documents and lists of them as their generated Pydantic models.

Checked by ``tests/typing/test_typing.py`` with ``mypy --strict``; never executed.
"""

from __future__ import annotations

import datetime
from typing import assert_type

from blog import Activity, ActivityActor, ActivityEntries


async def post_activity(user_id: int, text: str) -> Activity:
    now = datetime.datetime.now(datetime.UTC)
    activity = await Activity.create(
        kind="posted",
        user_id=user_id,
        actor=ActivityActor(name="Ada", avatar_url=None),
        entries=[ActivityEntries(text=text, at=now)],
    )
    assert_type(activity.id, str)
    assert_type(activity.actor, ActivityActor)
    assert_type(activity.actor.avatar_url, str | None)
    assert_type(activity.entries, list[ActivityEntries])
    assert_type(activity.entries[0].at, datetime.datetime)
    assert_type(activity.entries[0].score, int)
    return activity


async def add_entry(key: str, text: str) -> int:
    activity = await Activity.find(key)
    activity.entries = [*activity.entries, ActivityEntries(text=text, at=activity.created_at)]
    await activity.save()
    again = await Activity.find_or_none(key)
    assert_type(again, Activity | None)
    return len(activity.entries)


async def by_user(user_id: int) -> list[str]:
    found = await Activity.find_by(user_id=user_id, kind="liked")
    return [a.actor.name for a in found]
