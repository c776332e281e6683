"""Oversubscription (SPEC 3): 50 tasks on a pool of 5 that hold their connection long
enough that most waiters give up. Each waiter is either served or refused with
``PoolTimeoutError`` within ``acquire_timeout`` + 50 ms; nothing else is raised, nothing
hangs, and the pool is all idle afterwards.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from jadugar import DatabaseManager, PoolTimeoutError

from ..integration.conftest import MakeDb
from .figures import FigureBook

TASKS = 50
POOL_MAX = 5
ACQUIRE_TIMEOUT = 0.3  # seconds
HOLD = 0.25  # seconds each served task keeps its connection: ~5 rounds fit, most wait out
MARGIN = 0.05  # seconds a refusal may come after acquire_timeout
HANG_LIMIT = 10.0  # seconds for the whole run: beyond that something hangs


@dataclass
class Tally:
    """What the waiters saw."""

    served: int = 0
    timeouts: int = 0
    worst_overshoot: float = 0.0  # seconds past acquire_timeout, the worst refusal
    other_errors: list[BaseException] = field(default_factory=list)


async def _hold_one(db: DatabaseManager, tally: Tally) -> None:
    """Acquire (through a transaction), run a statement, keep the connection for HOLD."""
    start = time.perf_counter()
    try:
        async with db.transaction() as tx:
            await tx.raw("SELECT 1").all()
            tally.served += 1
            await asyncio.sleep(HOLD)
    except PoolTimeoutError:
        tally.timeouts += 1
        overshoot = time.perf_counter() - start - ACQUIRE_TIMEOUT
        tally.worst_overshoot = max(tally.worst_overshoot, overshoot)
    except Exception as error:  # anything else breaks the property
        tally.other_errors.append(error)


async def _settle(db: DatabaseManager, seconds: float = 2.0) -> None:
    """Wait (briefly) for releases still rolling back to hand their connections back."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        status = db.pool_status()
        if status.in_use == 0 and status.waiting == 0:
            return
        await asyncio.sleep(0.01)


async def test_oversubscribed_pool_refuses_in_time(
    make_db: MakeDb, engine: str, figures: FigureBook
) -> None:
    db = await make_db(pool={"min": 0, "max": POOL_MAX, "acquire_timeout": ACQUIRE_TIMEOUT})
    tally = Tally()
    hung = False
    try:
        async with asyncio.timeout(HANG_LIMIT):
            await asyncio.gather(*(_hold_one(db, tally) for _ in range(TASKS)))
    except TimeoutError:
        hung = True
    await _settle(db)
    status = db.pool_status()
    figures.record(
        "oversubscription: 50 tasks on 5",
        engine,
        served=tally.served,
        timeouts=tally.timeouts,
        other_errors=len(tally.other_errors),
        worst_overshoot_ms=round(tally.worst_overshoot * 1000, 1),
        hung=hung,
    )
    assert not hung, f"the run did not end within {HANG_LIMIT} s"
    assert not tally.other_errors, tally.other_errors[:3]
    assert tally.served + tally.timeouts == TASKS
    assert tally.served >= POOL_MAX and tally.timeouts >= TASKS // 2
    assert tally.worst_overshoot <= MARGIN
    assert status.in_use == 0 and status.waiting == 0
    assert status.size == status.idle <= POOL_MAX
