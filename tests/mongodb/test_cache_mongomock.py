"""``.cache()`` on MongoDB: refused with UnsupportedOperation (results are cached on the
SQL engines only), before anything is read."""

from __future__ import annotations

import uuid

import pytest

from jadugar import DatabaseManager, UnsupportedOperation
from jadugar.dialects.mongodb.driver import drop_mongomock_store

pytestmark = pytest.mark.asyncio


async def test_cache_is_unsupported_mongomock() -> None:
    name = f"jc_{uuid.uuid4().hex[:12]}"
    try:
        async with DatabaseManager(url=f"mongomock://{name}") as db:
            people = db.query.table("people")
            with pytest.raises(UnsupportedOperation, match=r"cache\(\) is not supported on"):
                people.where({"team": "red"}).cache(ttl=10)
            await people.insert({"id": 1, "team": "red"})
            assert await people.where({"team": "red"}).count() == 1
    finally:
        drop_mongomock_store(name)
