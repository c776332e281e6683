"""10,000 random cancellations leave nothing behind (SPEC 3: a task cancelled while
acquiring or running a query leaks nothing).

Plain queries, plain inserts, streams broken off mid-way and transactions
(``db.transaction(fn)`` and ``async with db.transaction()``, each writing two rows under one
key) are cancelled at random points: ``task.cancel()`` after a tiny sleep or a few loop
ticks, or a tiny ``asyncio.timeout``, 40 at a time on a pool of 5. Afterwards (given up to
2 s for rollbacks on release and server-side session ends to finish) no session of this
manager is in a transaction (on the server, told apart from other developers' sessions by
``application_name`` on PostgreSQL and by a database of its own on MariaDB; on every pooled
connection; and no stale lock blocks another manager's write, which is what SQLite can
show), the pool is all idle, no write is half applied or lost, and 1,000 concurrent
follow-up queries each get their own answer. ``JADUGAR_CHAOS_SEED`` fixes the random
choices (the timing still varies).
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jadugar import DatabaseManager, JadugarError, PoolStatus, Transaction

from ..engines import url
from .figures import FigureBook

CANCELLATIONS = 10_000
FOLLOW_UPS = 1_000
CONCURRENCY = 40
POOL_MAX = 5
ACQUIRE_TIMEOUT = 5.0  # seconds: waits are milliseconds; a leaked pool fails fast
NUMBERS = 300  # rows of the table the streams and table queries read
SETTLE_SECONDS = 2.0  # for rollbacks and server-side session ends still in flight
MAX_DELAY = 0.03  # seconds: the longest sleep before a cancel, and the longest timeout
MAX_TICKS = 40  # the most loop ticks before a cancel

# ---- where this test's sessions can be told apart from other developers' -----------------


@dataclass(frozen=True)
class Marking:
    """How the manager's sessions carry ``marker`` and how to count those holding a
    transaction open. ``open_transactions`` is None for an embedded engine (no server
    sessions); ``create``/``drop`` run on another manager before and after."""

    url: Callable[[str, str], str]
    open_transactions: str | None = None
    create: str | None = None
    drop: str | None = None


def _with_database(base: str, marker: str) -> str:
    return f"{base.rpartition('/')[0]}/{marker}"


MARKINGS = {
    "postgres": Marking(
        url=lambda base, marker: f"{base}?application_name={marker}",
        open_transactions="SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE application_name = ? AND xact_start IS NOT NULL",
    ),
    # sessions of this test are those whose default database is its own
    "mysql": Marking(
        url=_with_database,
        open_transactions="SELECT count(*) AS n FROM information_schema.innodb_trx AS t"
        " JOIN information_schema.processlist AS p ON p.id = t.trx_mysql_thread_id"
        " WHERE p.db = ?",
        create="CREATE DATABASE {marker}",
        drop="DROP DATABASE IF EXISTS {marker}",
    ),
    "sqlite": Marking(url=lambda base, marker: base),
}


@dataclass
class Place:
    """The marked URL of this test's managers, and the manager that inspects them."""

    marking: Marking
    marker: str
    url: str
    observer: DatabaseManager

    async def open_transactions(self) -> int | None:
        if self.marking.open_transactions is None:
            return None
        rows = await self.observer.query.raw(self.marking.open_transactions, [self.marker]).all()
        return int(rows[0]["n"])


@asynccontextmanager
async def marked_place(
    engine: str, tmp_path: Path, observer: DatabaseManager
) -> AsyncIterator[Place]:
    marking = MARKINGS[engine]
    marker = f"jadugar_chaos_{uuid.uuid4().hex[:12]}"
    if marking.create is not None:
        await observer.query.raw(marking.create.format(marker=marker)).execute()
    try:
        yield Place(marking, marker, marking.url(url(engine, tmp_path), marker), observer)
    finally:
        if marking.drop is not None:
            await observer.query.raw(marking.drop.format(marker=marker)).execute()


@asynccontextmanager
async def connected(place: Place, **options: Any) -> AsyncIterator[DatabaseManager]:
    manager = DatabaseManager(url=place.url, **options)
    await manager.connect()
    try:
        yield manager
    finally:
        await manager.disconnect()


# ---- the tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tables:
    pairs: str  # (k, part): every transaction writes parts 1 and 2 of its key
    singles: str  # (k): one row per plain (autocommit) insert
    numbers: str  # n = 0 … NUMBERS - 1

    def names(self) -> tuple[str, str, str]:
        return self.pairs, self.singles, self.numbers


async def create_tables(db: DatabaseManager) -> Tables:
    suffix = uuid.uuid4().hex[:8]
    tables = Tables(f"jc_pairs_{suffix}", f"jc_singles_{suffix}", f"jc_numbers_{suffix}")
    q = db.query.quote
    await db.query.raw(
        f"CREATE TABLE {q(tables.pairs)} (k INTEGER NOT NULL, part INTEGER NOT NULL)"
    ).execute()
    await db.query.raw(f"CREATE TABLE {q(tables.singles)} (k INTEGER NOT NULL)").execute()
    await db.query.raw(f"CREATE TABLE {q(tables.numbers)} (n INTEGER NOT NULL)").execute()
    await db.query.table(tables.numbers).insert_many([{"n": n} for n in range(NUMBERS)])
    return tables


async def drop_tables(db: DatabaseManager, tables: Tables) -> None:
    for name in tables.names():
        await db.query.raw(f"DROP TABLE IF EXISTS {db.query.quote(name)}").execute()


# ---- victims: each returns what was wrong with its answer (None: nothing) ------------

Problem = str | None  # what was wrong with an answer; None: it was right
Victim = Callable[[], Coroutine[Any, Any, Problem]]


def token() -> str:
    return uuid.uuid4().hex


def mismatch(what: str, got: object, wanted: object) -> Problem:
    return None if got == wanted else f"{what}: got {got!r:.120}, wanted {wanted!r:.120}"


async def select_token(db: DatabaseManager) -> Problem:
    mine = token()
    rows = await db.query.raw("SELECT ? AS token", [mine]).all()
    return mismatch("token", rows, [{"token": mine}])


async def select_tokens(db: DatabaseManager) -> Problem:
    """Three rows, all carrying this caller's token."""
    mine = token()
    rows = await db.query.raw(
        "SELECT ? AS token, 1 AS i UNION ALL SELECT ?, 2 UNION ALL SELECT ?, 3 ORDER BY i",
        [mine, mine, mine],
    ).all()
    return mismatch("tokens", rows, [{"token": mine, "i": i} for i in (1, 2, 3)])


async def count_pairs(db: DatabaseManager, tables: Tables, below: int) -> Problem:
    """A statement that takes a little while (a self-join), for cancels mid-statement."""
    numbers = db.query.quote(tables.numbers)
    rows = await db.query.raw(
        f"SELECT count(*) AS n FROM {numbers} AS a, {numbers} AS b WHERE a.n + b.n < ?",
        [below],
    ).all()
    wanted = sum(max(0, min(NUMBERS, below - a)) for a in range(NUMBERS))
    return mismatch("count", [{"n": int(row["n"])} for row in rows], [{"n": wanted}])


async def numbers_below(db: DatabaseManager, tables: Tables, limit: int) -> Problem:
    rows = await db.query.table(tables.numbers).where("n", "<", limit).order_by("n").all()
    return mismatch("numbers", [row["n"] for row in rows], list(range(limit)))


async def stream_numbers(
    db: DatabaseManager, tables: Tables, batch_size: int, stop: int, *, closed: bool
) -> Problem:
    """Reads ``stop`` rows of a stream, then breaks off; ``closed``: by ``aclosing`` (else
    the abandoned generator is left to the loop's finalizer)."""
    seen: list[int] = []
    rows = db.query.table(tables.numbers).order_by("n").stream(batch_size=batch_size)
    if closed:
        async with aclosing(rows):
            async for row in rows:
                if len(seen) == stop:
                    break
                seen.append(row["n"])
    else:
        async for row in rows:
            if len(seen) == stop:
                break
            seen.append(row["n"])
    return mismatch("stream", seen, list(range(stop)))


async def write_pair(tx: Transaction, db: DatabaseManager, tables: Tables, key: int) -> None:
    """Part 1 through the transaction, part 2 through the manager (routed to the
    transaction by the context variable), a read in between."""
    await tx.table(tables.pairs).insert({"k": key, "part": 1})
    await tx.raw("SELECT ? AS token", [str(key)]).all()
    await db.query.table(tables.pairs).insert({"k": key, "part": 2})


@dataclass
class Ledger:
    """Keys of the writes attempted, of the transactions that reported a commit and of
    the plain inserts that returned."""

    keys: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    attempted: set[int] = field(default_factory=set)
    committed: set[int] = field(default_factory=set)
    written: set[int] = field(default_factory=set)

    def next_key(self) -> int:
        key = next(self.keys)
        self.attempted.add(key)
        return key


async def insert_single(db: DatabaseManager, tables: Tables, ledger: Ledger) -> Problem:
    """A plain insert: autocommit, unless a connection left in a transaction runs it."""
    key = ledger.next_key()
    await db.query.table(tables.singles).insert({"k": key})
    ledger.written.add(key)
    return None


async def transaction_fn(db: DatabaseManager, tables: Tables, ledger: Ledger) -> Problem:
    key = ledger.next_key()

    async def body(tx: Transaction) -> None:
        await write_pair(tx, db, tables, key)

    await db.transaction(body)
    ledger.committed.add(key)
    return None


async def transaction_block(
    db: DatabaseManager, tables: Tables, ledger: Ledger, stop: int
) -> Problem:
    """A transaction that also breaks off a stream on its own connection."""
    key = ledger.next_key()
    async with db.transaction() as tx:
        seen = 0
        async with aclosing(tx.table(tables.numbers).stream(batch_size=4)) as rows:
            async for _ in rows:
                seen += 1
                if seen == stop:
                    break
        await write_pair(tx, db, tables, key)
    ledger.committed.add(key)
    return mismatch("stream in transaction", seen, stop)


def pick_victim(rng: random.Random, db: DatabaseManager, tables: Tables, ledger: Ledger) -> Victim:
    roll = rng.random()
    if roll < 0.12:
        return lambda: select_token(db)
    if roll < 0.2:
        return lambda: select_tokens(db)
    below = rng.randint(1, 2 * NUMBERS)
    if roll < 0.3:
        return lambda: count_pairs(db, tables, below)
    limit = rng.randint(1, NUMBERS)
    if roll < 0.38:
        return lambda: numbers_below(db, tables, limit)
    batch, stop, closed = rng.randint(1, 16), rng.randint(0, NUMBERS), rng.random() < 0.75
    if roll < 0.58:
        return lambda: stream_numbers(db, tables, batch, stop, closed=closed)
    if roll < 0.68:
        return lambda: insert_single(db, tables, ledger)
    if roll < 0.84:
        return lambda: transaction_fn(db, tables, ledger)
    stop = rng.randint(1, 10)
    return lambda: transaction_block(db, tables, ledger, stop)


# ---- cancelling ----------------------------------------------------------------------------


class Outcome(enum.Enum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # finished before the cancel landed, with its right answer
    WRONG = "wrong"  # finished with someone else's (or no) answer
    SWALLOWED = "swallowed"  # the cancel landed, yet the victim finished as if it had not
    ERROR = "error"  # raised something other than the cancellation


@dataclass
class Tally:
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes[outcome] += 1

    def error(self, exc: BaseException) -> None:
        self.outcomes[Outcome.ERROR] += 1
        self.errors[f"{type(exc).__module__}.{type(exc).__name__}: {exc}"[:200]] += 1

    def finished(self, problem: Problem) -> None:
        if problem is None:
            self.add(Outcome.COMPLETED)
        else:
            self.add(Outcome.WRONG)
            self.wrong.append(problem)


async def under_timeout(victim: Victim, seconds: float, tally: Tally) -> None:
    """The victim inside ``asyncio.timeout(seconds)``."""
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            problem = await victim()
    except TimeoutError as exc:
        if scope.expired() and not isinstance(exc, JadugarError):
            tally.add(Outcome.CANCELLED)
        else:
            tally.error(exc)
        return
    except Exception as exc:
        tally.error(exc)
        return
    if scope.expired():
        tally.add(Outcome.SWALLOWED)
    else:
        tally.finished(problem)


async def cancelled_later(victim: Victim, wait: Awaitable[None], tally: Tally) -> None:
    """The victim in a task of its own, cancelled once ``wait`` is over."""
    task = asyncio.create_task(victim())
    await wait
    landed = task.cancel()
    try:
        problem = await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # this runner itself was cancelled
        tally.add(Outcome.CANCELLED)
        return
    except Exception as exc:
        tally.error(exc)
        return
    if landed:
        tally.add(Outcome.SWALLOWED)
    else:
        tally.finished(problem)


async def ticks(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def cancel_at_random(victim: Victim, rng: random.Random, tally: Tally) -> None:
    roll = rng.random()
    if roll < 0.3:
        await under_timeout(victim, rng.uniform(0, MAX_DELAY), tally)
    elif roll < 0.65:
        await cancelled_later(victim, asyncio.sleep(rng.uniform(0, MAX_DELAY)), tally)
    else:
        await cancelled_later(victim, ticks(rng.randint(0, MAX_TICKS)), tally)


async def storm(db: DatabaseManager, tables: Tables, ledger: Ledger, rng: random.Random) -> Tally:
    """``CANCELLATIONS`` victims, ``CONCURRENCY`` at a time, each cancelled at random."""
    tally = Tally()
    turns = iter(range(CANCELLATIONS))

    async def worker() -> None:
        for _ in turns:  # one iterator shared by the workers
            await cancel_at_random(pick_victim(rng, db, tables, ledger), rng, tally)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return tally


# ---- what is left afterwards -----------------------------------------------------------


def all_idle(status: PoolStatus) -> bool:
    return status.in_use == 0 and status.waiting == 0 and status.size == status.idle


async def settle(db: DatabaseManager, place: Place) -> tuple[PoolStatus, int | None, float]:
    """Waits up to ``SETTLE_SECONDS`` for the pool to be all idle and the server to show
    no open transaction of ours (rollbacks on release run in pool-owned tasks; a server
    notices a closed connection a moment later). The last look, and the seconds waited."""
    started = time.monotonic()
    while True:
        status = db.pool_status()
        open_transactions = await place.open_transactions()
        waited = time.monotonic() - started
        if (all_idle(status) and not open_transactions) or waited >= SETTLE_SECONDS:
            return status, open_transactions, waited
        await asyncio.sleep(0.05)


async def pooled_in_transaction(db: DatabaseManager) -> int:
    """Checks out every idle connection at once: how many are in a transaction (or
    broken, which the pool must never hand out)."""
    pool = db.pool
    conns = [await pool.acquire() for _ in range(pool.get_status().idle)]
    try:
        return sum(conn.in_transaction or conn.broken for conn in conns)
    finally:
        for conn in conns:
            await pool.release(conn)


@dataclass(frozen=True)
class Writes:
    half_applied: int  # keys with other than both rows of a pair, or a single written twice
    lost: int  # writes that reported success whose rows are missing
    strays: int  # keys nobody wrote


async def check_writes(db: DatabaseManager, tables: Tables, ledger: Ledger) -> Writes:
    q = db.query.quote
    pairs = await db.query.raw(f"SELECT k, count(*) AS c FROM {q(tables.pairs)} GROUP BY k").all()
    counts = {int(row["k"]): int(row["c"]) for row in pairs}
    singles = Counter(int(row["k"]) for row in await db.query.table(tables.singles).all())
    return Writes(
        half_applied=sum(1 for count in counts.values() if count != 2)
        + sum(1 for count in singles.values() if count != 1),
        lost=len(ledger.committed - counts.keys()) + len(ledger.written - singles.keys()),
        strays=len((counts.keys() | singles.keys()) - ledger.attempted),
    )


async def write_blocked(place: Place, tables: Tables) -> bool:
    """Whether another manager's write waits on a lock left behind (SQLite: a stale
    write transaction; servers: a row or table lock)."""
    async with connected(place) as other:
        try:
            async with asyncio.timeout(3):
                await other.query.table(tables.pairs).insert_many(
                    [{"k": -1, "part": 1}, {"k": -1, "part": 2}]
                )
        except TimeoutError:
            return True
    return False


# ---- follow-ups: each must get its own answer --------------------------------------------


async def token_in_transaction(db: DatabaseManager) -> Problem:
    mine = token()
    async with db.transaction() as tx:
        rows = await tx.raw("SELECT ? AS token", [mine]).all()
    return mismatch("token in transaction", rows, [{"token": mine}])


async def stream_range(db: DatabaseManager, tables: Tables, low: int, high: int) -> Problem:
    query = db.query.table(tables.numbers).where("n", ">=", low).where("n", "<", high)
    rows = query.order_by("n").stream(batch_size=3)
    async with aclosing(rows):
        seen = [row["n"] async for row in rows]
    return mismatch("stream range", seen, list(range(low, high)))


def follow_up(db: DatabaseManager, tables: Tables, i: int) -> Awaitable[Problem]:
    """Mostly one-row token queries; every tenth three rows of a token, every tenth a
    table read of its own length, every fiftieth a transaction or a stream."""
    if i % 50 == 7:
        return token_in_transaction(db)
    if i % 50 == 9:
        return stream_range(db, tables, i % NUMBERS // 2, i % NUMBERS // 2 + 20)
    if i % 10 == 3:
        return select_tokens(db)
    if i % 10 == 5:
        return numbers_below(db, tables, 1 + i % NUMBERS)
    return select_token(db)


async def follow_ups(db: DatabaseManager, tables: Tables) -> tuple[int, Tally]:
    """``FOLLOW_UPS`` concurrent queries: how many got an answer not theirs."""
    answers = await asyncio.gather(
        *(follow_up(db, tables, i) for i in range(FOLLOW_UPS)), return_exceptions=True
    )
    tally = Tally()
    for answer in answers:
        if isinstance(answer, BaseException):
            tally.error(answer)
        else:
            tally.finished(answer)
    return tally.outcomes[Outcome.WRONG], tally


# ---- the test ----------------------------------------------------------------------------


def seed() -> int:
    given = os.environ.get("JADUGAR_CHAOS_SEED")
    return int(given) if given else random.randrange(2**32)


@dataclass(frozen=True)
class Measured:
    tally: Tally  # the storm's victims
    seconds: float  # how long the storm took
    status: PoolStatus  # once settled
    open_transactions: int | None  # server sessions of ours in a transaction
    in_transaction: int  # pooled connections in a transaction (or broken)
    waited: float  # seconds it took to settle
    writes: Writes
    blocked: bool
    misdelivered: int
    after: Tally  # the follow-ups
    discarded: int  # connections the pool destroyed

    def idle_in_transaction(self) -> int:
        """Server sessions where there are some; else the pooled connections."""
        if self.open_transactions is None:
            return self.in_transaction
        return self.open_transactions

    def errors(self) -> int:
        before, after = self.tally.outcomes, self.after.outcomes
        return before[Outcome.ERROR] + before[Outcome.SWALLOWED] + after[Outcome.ERROR]


async def measure(place: Place, tables: Tables, rng: random.Random) -> Measured:
    """The storm on a manager of its own, then what it left behind. The table is read, and
    written, by other managers: they see only what was committed."""
    ledger = Ledger()
    async with connected(
        place, pool={"max": POOL_MAX, "acquire_timeout": ACQUIRE_TIMEOUT}
    ) as chaos:
        started = time.monotonic()
        tally = await storm(chaos, tables, ledger, rng)
        seconds = time.monotonic() - started
        status, open_transactions, waited = await settle(chaos, place)
        in_transaction = await pooled_in_transaction(chaos)
        async with connected(place) as reader:
            writes = await check_writes(reader, tables, ledger)
        blocked = await write_blocked(place, tables)
        misdelivered, after = await follow_ups(chaos, tables)
        discarded = chaos.pool_metrics().destroys
    return Measured(
        tally,
        seconds,
        status,
        open_transactions,
        in_transaction,
        waited,
        writes,
        blocked,
        misdelivered,
        after,
        discarded,
    )


async def test_random_cancellations_leave_nothing_behind(
    engine: str, db: DatabaseManager, tmp_path: Path, figures: FigureBook
) -> None:
    run_seed = seed()
    async with marked_place(engine, tmp_path, db) as place:
        async with connected(place) as setup:
            tables = await create_tables(setup)
        try:
            m = await measure(place, tables, random.Random(run_seed))
        finally:
            async with connected(place) as cleanup:
                await drop_tables(cleanup, tables)

    outcomes = m.tally.outcomes
    figures.record(
        "10,000 random cancellations",
        engine,
        cancelled=outcomes[Outcome.CANCELLED],
        completed=outcomes[Outcome.COMPLETED],
        idle_in_transaction=m.idle_in_transaction(),
        pool_idle=f"{m.status.idle}/{m.status.size}",
        misdelivered=m.misdelivered + outcomes[Outcome.WRONG],
        half_applied=m.writes.half_applied,
        lost=m.writes.lost,
        errors=m.errors(),
        discarded=m.discarded,
        seconds=round(m.seconds, 1),
    )
    context = (
        f"(seed {run_seed}; errors {m.tally.errors.most_common(5)}; follow-up errors "
        f"{m.after.errors.most_common(5)}; wrong {(m.tally.wrong + m.after.wrong)[:5]}; "
        f"settled after {m.waited:.2f}s)"
    )
    assert outcomes[Outcome.ERROR] == 0, f"victims raised other than a cancellation {context}"
    assert outcomes[Outcome.SWALLOWED] == 0, f"cancellations swallowed {context}"
    assert outcomes[Outcome.WRONG] == 0, f"victims that finished got a wrong answer {context}"
    assert outcomes[Outcome.CANCELLED] >= CANCELLATIONS // 2, f"too few cancels landed {context}"
    assert m.open_transactions in (None, 0), f"sessions still in a transaction {context}"
    assert m.in_transaction == 0, f"pooled connections in a transaction or broken {context}"
    assert all_idle(m.status), f"pool not back to idle: {m.status} {context}"
    assert m.writes == Writes(0, 0, 0), f"writes half applied or lost: {m.writes} {context}"
    assert not m.blocked, f"another manager's write waited on a stale lock {context}"
    assert m.after.outcomes[Outcome.ERROR] == 0, f"follow-up queries failed {context}"
    assert m.misdelivered == 0, f"follow-up answers delivered to the wrong caller {context}"
