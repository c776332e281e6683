"""A connection ended from the server side is replaced: reads keep working."""

from __future__ import annotations

import pytest

from jadugar import PoolOptions

from .conftest import EngineSQL, MakeDb


async def test_a_read_survives_a_connection_killed_by_the_server(
    make_db: MakeDb, engine_sql: EngineSQL
) -> None:
    # one connection, never pinged before use: the read itself meets the dead connection
    db = await make_db(pool=PoolOptions(min=1, max=1, ping_after=3600))
    async with db.pool.connection() as conn:
        session = conn.session_id
    kill = engine_sql.kill(session)
    if kill is None:
        pytest.skip("an embedded engine has no server session to end")
    admin = await make_db()
    await admin.query.raw(kill).execute()

    rows = await db.query.raw("SELECT 1 AS x").all()

    assert [dict(r) for r in rows] == [{"x": 1}]
    status = db.pool.get_status()
    assert (status.in_use, status.size) == (0, 1)
    async with db.pool.connection() as conn:
        assert conn.session_id != session


async def test_many_reads_after_every_connection_was_killed(
    make_db: MakeDb, engine_sql: EngineSQL
) -> None:
    db = await make_db(pool=PoolOptions(min=4, max=4, ping_after=3600))
    held = [await db.pool.acquire() for _ in range(4)]
    sessions = [c.session_id for c in held]
    for conn in held:
        await db.pool.release(conn)
    kills = [engine_sql.kill(s) for s in sessions]
    if None in kills:
        pytest.skip("an embedded engine has no server session to end")
    admin = await make_db()
    for statement in kills:
        assert statement is not None
        await admin.query.raw(statement).execute()

    for n in range(10):
        assert await db.query.raw("SELECT ? AS n", [f"read {n}"]).first() == {"n": f"read {n}"}
    assert db.pool.get_status().in_use == 0
