"""The bank invariant holds while the server kills backends (SPEC 2, 3, 11).

100 accounts; 16 workers move money between random pairs, each transfer one
``db.transaction(fn)`` that debits, credits and writes a ledger row under a transfer id of
its own. Meanwhile a killer ends 30 random sessions of this test's own database
(``pg_terminate_backend`` / ``KILL``), never another developer's and never its own. A
transfer whose ``transaction(fn)`` returned is acknowledged; one that raised (always a
``JadugarError``, never a raw driver exception) is in doubt. Afterwards the total is
unchanged, every acknowledged transfer is in the ledger (lost = 0), the ledger holds
nothing else but in-doubt ones and every balance equals its opening amount plus the ledger
(violations = 0), and the pool serves again with nothing left in use.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from jadugar import DatabaseManager, JadugarError, Transaction

from ..engines import URLS, require_server
from .figures import FigureBook

ACCOUNTS = 100
OPENING = 1_000
WORKERS = 16
KILLS = 30
KILL_GAP = (0.02, 0.15)  # seconds between kills
TAIL = 0.5  # seconds the workers go on after the last kill
FOLLOW_UPS = 50

# the sessions of one database, but not the asking session
_SESSIONS = {
    "postgres": "SELECT pid AS id FROM pg_stat_activity WHERE datname = ?"
    " AND pid <> pg_backend_pid()",
    "mysql": "SELECT id FROM information_schema.processlist WHERE db = ?"
    " AND id <> CONNECTION_ID() AND command <> 'Killed'",
}
_KILL = {
    "postgres": "SELECT pg_terminate_backend({session}) AS hit",
    "mysql": "KILL CONNECTION {session}",
}


@dataclass
class Outcomes:
    """What the workers know about their transfers."""

    acknowledged: set[str] = field(default_factory=set)
    in_doubt: set[str] = field(default_factory=set)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


def database_url(engine: str, name: str) -> str:
    return f"{URLS[engine].rpartition('/')[0]}/{name}"


@asynccontextmanager
async def own_database(engine: str) -> AsyncIterator[tuple[DatabaseManager, str]]:
    """A database of this test's own, and an admin manager on ``test`` (outside it)."""
    require_server(engine)
    name = f"jadugar_chaos_{uuid.uuid4().hex}"
    admin = DatabaseManager(url=URLS[engine])
    await admin.connect()
    try:
        await admin.query.raw(f"CREATE DATABASE {name}").execute()
        try:
            yield admin, name
        finally:
            await drop_database(admin, engine, name)
    finally:
        await admin.disconnect()


async def drop_database(admin: DatabaseManager, engine: str, name: str) -> None:
    if engine == "postgres":
        await admin.query.raw(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)").execute()
    else:
        await admin.query.raw(f"DROP DATABASE IF EXISTS {name}").execute()


async def create_bank(db: DatabaseManager) -> None:
    q = db.query.quote
    await db.query.raw(
        f"CREATE TABLE {q('accounts')} (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)"
    ).execute()
    await db.query.raw(
        f"CREATE TABLE {q('ledger')} (transfer_id VARCHAR(32) PRIMARY KEY,"
        " from_id INTEGER NOT NULL, to_id INTEGER NOT NULL, amount INTEGER NOT NULL)"
    ).execute()
    await db.query.table("accounts").insert_many(
        [{"id": n, "balance": OPENING} for n in range(ACCOUNTS)]
    )


async def transfer(db: DatabaseManager, transfer_id: str, src: int, dst: int, amount: int) -> None:
    """One transfer in one transaction; the rows are touched in id order (no deadlocks)."""
    q = db.query.quote
    change = f"UPDATE {q('accounts')} SET balance = balance + ? WHERE id = ?"

    async def move(tx: Transaction) -> None:
        for account, delta in sorted([(src, -amount), (dst, amount)]):
            await db.query.raw(change, [delta, account]).execute()
        await db.query.table("ledger").insert(
            {"transfer_id": transfer_id, "from_id": src, "to_id": dst, "amount": amount}
        )

    await db.transaction(move)


async def worker(db: DatabaseManager, rng: random.Random, outcomes: Outcomes) -> None:
    while not outcomes.stop.is_set():
        src, dst = rng.sample(range(ACCOUNTS), 2)
        transfer_id = uuid.uuid4().hex
        try:
            await transfer(db, transfer_id, src, dst, rng.randint(1, 50))
        except JadugarError:
            outcomes.in_doubt.add(transfer_id)
            await asyncio.sleep(0.005)
        else:
            outcomes.acknowledged.add(transfer_id)


async def killer(admin: DatabaseManager, engine: str, name: str, rng: random.Random) -> int:
    """Ends ``KILLS`` random sessions of database ``name``; returns how many it hit."""
    hits = 0
    for _ in range(KILLS):
        await asyncio.sleep(rng.uniform(*KILL_GAP))
        rows = await admin.query.raw(_SESSIONS[engine], [name]).all()
        if not rows:
            continue
        session = int(rng.choice(rows)["id"])
        hits += await kill(admin, engine, session)
    return hits


async def kill(admin: DatabaseManager, engine: str, session: int) -> int:
    sql = _KILL[engine].format(session=session)
    if engine == "postgres":
        rows = await admin.query.raw(sql).all()
        return 1 if rows[0]["hit"] else 0
    try:
        await admin.query.raw(sql).execute()
    except JadugarError:  # the session ended on its own in between
        return 0
    return 1


async def run_bank(
    db: DatabaseManager, admin: DatabaseManager, engine: str, name: str, rng: random.Random
) -> tuple[int, Outcomes]:
    outcomes = Outcomes()
    workers = [
        asyncio.create_task(worker(db, random.Random(rng.random()), outcomes))
        for _ in range(WORKERS)
    ]
    try:
        kills = await killer(admin, engine, name, rng)
        await asyncio.sleep(TAIL)
    finally:
        outcomes.stop.set()
    async with asyncio.timeout(30):
        await asyncio.gather(*workers)
    return kills, outcomes


async def balances(db: DatabaseManager) -> dict[int, int]:
    rows = await db.query.raw(f"SELECT id, balance FROM {db.query.quote('accounts')}").all()
    return {int(row["id"]): int(row["balance"]) for row in rows}


async def ledger(db: DatabaseManager) -> list[tuple[str, int, int, int]]:
    q = db.query.quote
    rows = await db.query.raw(
        f"SELECT transfer_id, from_id, to_id, amount FROM {q('ledger')}"
    ).all()
    return [
        (str(r["transfer_id"]), int(r["from_id"]), int(r["to_id"]), int(r["amount"])) for r in rows
    ]


def expected_balances(entries: list[tuple[str, int, int, int]]) -> dict[int, int]:
    expected = dict.fromkeys(range(ACCOUNTS), OPENING)
    for _, src, dst, amount in entries:
        expected[src] -= amount
        expected[dst] += amount
    return expected


async def serves_again(db: DatabaseManager) -> bool:
    async def probe(n: int) -> bool:
        rows = await db.query.raw("SELECT ? + 0 AS n", [n]).all()
        return int(rows[0]["n"]) == n

    answers = await asyncio.gather(*(probe(n) for n in range(FOLLOW_UPS)))
    return all(answers) and db.pool.get_status().in_use == 0


@pytest.mark.engines("postgres", "mysql")
async def test_bank_invariant_under_backend_kills(engine: str, figures: FigureBook) -> None:
    rng = random.Random()
    async with own_database(engine) as (admin, name):
        db = DatabaseManager(url=database_url(engine, name), pool_size=WORKERS)
        await db.connect()
        try:
            await create_bank(db)
            kills, outcomes = await run_bank(db, admin, engine, name, rng)
            stored = await balances(db)
            entries = await ledger(db)
            served = await serves_again(db)
        finally:
            await db.disconnect()

    in_ledger = {entry[0] for entry in entries}
    lost = len(outcomes.acknowledged - in_ledger)
    unexplained = len(in_ledger - outcomes.acknowledged - outcomes.in_doubt)
    mismatched = sum(
        1 for account, amount in expected_balances(entries).items() if stored[account] != amount
    )
    total_changed = int(sum(stored.values()) != ACCOUNTS * OPENING)
    figures.record(
        "bank under backend kills",
        engine,
        kills=kills,
        acknowledged=len(outcomes.acknowledged),
        lost=lost,
        violations=unexplained + mismatched + total_changed,
    )
    assert kills > KILLS // 2, f"only {kills} of {KILLS} kills hit a session"
    assert outcomes.acknowledged, "no transfer was acknowledged"
    assert total_changed == 0, f"the total moved: {sum(stored.values())}"
    assert lost == 0, f"{lost} acknowledged transfers missing from the ledger"
    assert unexplained == 0, f"{unexplained} ledger rows neither acknowledged nor in doubt"
    assert mismatched == 0, f"{mismatched} balances differ from opening + ledger"
    assert served, "the pool did not serve 50 queries again with nothing in use"
