"""Embedded documents are typed: the generated model, not a dict or another model."""

from __future__ import annotations

import datetime

from blog import Activity, ActivityActor, ActivityEntries


async def actor_as_a_dict() -> Activity:
    return await Activity.create(kind="posted", user_id=1, actor={"name": "Ada"})  # E: arg-type


async def entries_not_a_list() -> Activity:
    one = ActivityEntries(text="t", at=datetime.datetime.now(datetime.UTC))
    ada = ActivityActor(name="Ada")
    return await Activity.create(kind="liked", user_id=1, actor=ada, entries=one)  # E: arg-type


async def objectid_key_is_a_str() -> Activity:
    return await Activity.find(42)  # E: arg-type


def entry_field_types(entry: ActivityEntries) -> None:
    entry.score = "high"  # E: assignment
