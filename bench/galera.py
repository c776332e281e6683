"""``python -m bench.galera`` (or ``python -m bench --workloads galera``): writes on a
three-node MariaDB Galera cluster, Jadugar against raw aiomysql in the same run.

Workload: ``TRANSFERS`` bank transfers by 12 tasks, 4 per node, each through a pool of 4
connections to its node: ``START TRANSACTION``, two ``UPDATE``s of account balances, one
ledger ``INSERT``, ``COMMIT``. Writes to the same rows committed on two nodes at once
conflict at certification (error 1213, often on ``COMMIT``), and the loser runs its
transaction again, so both sides retry the same way: Jadugar through ``db.transaction(fn)``
(``RetryOptions(attempts=50, base_delay=0.002, max_delay=0.05, jitter=1)``), raw aiomysql
through the same loop written by hand (``ROLLBACK``, the same backoff, again).

- hot rows: every task moves money among the same 8 accounts: many conflicts;
- own rows: each task has two accounts of its own: no conflicts (the cost of the writes
  and of Galera's certification alone).

Each run starts from the same balances and an empty ledger; afterwards both sides must
leave the same state (the ledger's size and the total, read with ``wsrep_sync_wait``). The
conflicts retried per run are in the notes.

The cluster is ``JADUGAR_BENCH_GALERA_URL`` when set (``mysql://root@h1:p1,h2:p2,h3:p3/
test``: one host per node); otherwise a throwaway one is started with the test suite's
fixture (tests/integration/galera_cluster.py); without Galera installed the run is skipped
with a line saying so. The ``## Galera`` section of ``bench/results.md`` is replaced; the
rest is kept.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiomysql

from jadugar import DatabaseManager, RetryOptions, SerializationError, Transaction

from .generation import write_section
from .harness import (
    Result,
    Workload,
    bench_main,
    measure,
    print_table,
    results_section,
    run_title,
)

TITLE = "Galera (MariaDB, 3 nodes, writes with conflicts)"
RESULTS = Path(__file__).with_name("results.md")
ACCOUNTS_TABLE, LEDGER_TABLE = "bench_galera_accounts", "bench_galera_ledger"
TRANSFERS = 600
TASKS_PER_NODE = 4
POOL_PER_NODE = 4
HOT_ACCOUNTS = 8
OPENING = 1_000_000
RETRY = RetryOptions(attempts=50, base_delay=0.002, max_delay=0.05, jitter=1.0)
BASELINE = "aiomysql pool per node, hand-written retry on 1213"

Move = tuple[int, int, int]  # from, to, amount


@contextmanager
def cluster_urls() -> Iterator[tuple[list[str], str]]:
    """One single-host URL per node, and what the cluster is, for the notes."""
    given = os.environ.get("JADUGAR_BENCH_GALERA_URL")
    if given:
        head, _, rest = given.partition("://")
        user, _, tail = rest.rpartition("@")
        hosts, slash, database = tail.partition("/")
        yield (
            [f"{head}://{user}@{host}{slash}{database}" for host in hosts.split(",")],
            "JADUGAR_BENCH_GALERA_URL",
        )
        return
    from tests.integration.galera_cluster import start_galera_cluster

    cluster = start_galera_cluster()
    try:
        yield cluster.urls, f"throwaway cluster on ports {[n.port for n in cluster.nodes]}"
    finally:
        cluster.close()


def plan(hot: bool, tasks: int) -> list[list[tuple[str, Move]]]:
    """Each task's transfers (id, move): the same for both sides."""
    per_task = TRANSFERS // tasks
    out = []
    for task in range(tasks):
        rng = random.Random(task)
        moves = []
        for i in range(per_task):
            if hot:
                src, dst = rng.sample(range(HOT_ACCOUNTS), 2)
            else:
                src, dst = (2 * task, 2 * task + 1) if i % 2 == 0 else (2 * task + 1, 2 * task)
            moves.append((f"{task}-{i}", (src, dst, rng.randint(1, 50))))
        out.append(moves)
    return out


@dataclass
class Counter:
    conflicts: int = 0
    runs: int = 0


class RawSide:
    """aiomysql pools, one per node; the retry loop by hand."""

    def __init__(self, pools: list[Any], counter: Counter) -> None:
        self.pools = pools
        self.counter = counter

    @classmethod
    async def open(cls, urls: list[str]) -> RawSide:
        pools = []
        for url in urls:
            params = DatabaseManager(url=url).options.connect_params()
            pools.append(
                await aiomysql.create_pool(
                    host=params.host,
                    port=params.port,
                    user=params.user,
                    password=params.password or "",
                    db=params.database,
                    minsize=POOL_PER_NODE,
                    maxsize=POOL_PER_NODE,
                    autocommit=True,
                )
            )
        return cls(pools, Counter())

    async def close(self) -> None:
        for pool in self.pools:
            pool.close()
            await pool.wait_closed()

    async def transfer(self, pool: Any, transfer_id: str, move: Move) -> None:
        src, dst, amount = move
        attempt = 0
        while True:
            async with pool.acquire() as conn, conn.cursor() as cur:
                try:
                    await cur.execute("START TRANSACTION")
                    for account, delta in sorted([(src, -amount), (dst, amount)]):
                        await cur.execute(
                            f"UPDATE {ACCOUNTS_TABLE} SET balance = balance + %s WHERE id = %s",
                            (delta, account),
                        )
                    await cur.execute(
                        f"INSERT INTO {LEDGER_TABLE} (transfer_id, from_id, to_id, amount)"
                        " VALUES (%s, %s, %s, %s)",
                        (transfer_id, src, dst, amount),
                    )
                    await cur.execute("COMMIT")
                    return
                except aiomysql.OperationalError as exc:
                    await cur.execute("ROLLBACK")
                    attempt += 1
                    if exc.args[0] != 1213 or attempt >= RETRY.attempts:
                        raise
                    self.counter.conflicts += 1
            await asyncio.sleep(RETRY.delay(attempt))

    async def run(self, work: list[list[tuple[str, Move]]]) -> None:
        self.counter.runs += 1

        async def task(index: int, moves: list[tuple[str, Move]]) -> None:
            pool = self.pools[index % len(self.pools)]
            for transfer_id, move in moves:
                await self.transfer(pool, f"r{transfer_id}", move)

        await asyncio.gather(*(task(i, m) for i, m in enumerate(work)))


class JadugarSide:
    """One DatabaseManager per node; ``db.transaction(fn)`` retries the conflicts."""

    def __init__(self, dbs: list[DatabaseManager], counter: Counter) -> None:
        self.dbs = dbs
        self.counter = counter
        for db in dbs:
            db.on("retry", self._retried)

    def _retried(self, event: dict[str, Any]) -> None:
        if isinstance(event["error"], SerializationError):
            self.counter.conflicts += 1

    async def transfer(self, db: DatabaseManager, transfer_id: str, move: Move) -> None:
        src, dst, amount = move
        change = f"UPDATE {ACCOUNTS_TABLE} SET balance = balance + ? WHERE id = ?"

        async def body(tx: Transaction) -> None:
            for account, delta in sorted([(src, -amount), (dst, amount)]):
                await tx.raw(change, [delta, account]).execute()
            await tx.table(LEDGER_TABLE).insert(
                {"transfer_id": transfer_id, "from_id": src, "to_id": dst, "amount": amount}
            )

        await db.transaction(body)

    async def run(self, work: list[list[tuple[str, Move]]]) -> None:
        self.counter.runs += 1

        async def task(index: int, moves: list[tuple[str, Move]]) -> None:
            db = self.dbs[index % len(self.dbs)]
            for transfer_id, move in moves:
                await self.transfer(db, f"j{transfer_id}", move)

        await asyncio.gather(*(task(i, m) for i, m in enumerate(work)))


async def _script(pool: Any, *statements: str) -> list[Any]:
    async with pool.acquire() as conn, conn.cursor() as cur:
        out = []
        for sql in statements:
            await cur.execute(sql)
            out.append(await cur.fetchall())
        return out


async def run(repeat: int, warmup: int, output: Path) -> int:
    warnings.filterwarnings("ignore", module="aiomysql")  # "Unknown table" on DROP IF EXISTS
    started = time.perf_counter()
    results: list[Result] = []
    notes: list[str] = []
    with ExitStack() as stack:
        try:
            urls, where = stack.enter_context(cluster_urls())
        except Exception as exc:  # no Galera here, or it failed to start: say so
            print(f"galera: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
            return 0
        raw = await RawSide.open(urls)
        dbs = [
            DatabaseManager(
                url=url, pool={"min": POOL_PER_NODE, "max": POOL_PER_NODE}, retry_options=RETRY
            )
            for url in urls
        ]
        jadugar = JadugarSide(dbs, Counter())
        try:
            for db in dbs:
                await db.connect()
            first = raw.pools[0]
            accounts = max(HOT_ACCOUNTS, 2 * TASKS_PER_NODE * len(urls))
            await _script(
                first,
                f"DROP TABLE IF EXISTS {ACCOUNTS_TABLE}",
                f"DROP TABLE IF EXISTS {LEDGER_TABLE}",
                f"CREATE TABLE {ACCOUNTS_TABLE} (id INTEGER PRIMARY KEY,"
                " balance BIGINT NOT NULL) ENGINE=InnoDB",
                f"CREATE TABLE {LEDGER_TABLE} (transfer_id VARCHAR(32) PRIMARY KEY,"
                " from_id INTEGER NOT NULL, to_id INTEGER NOT NULL, amount INTEGER NOT NULL)"
                " ENGINE=InnoDB",
                f"INSERT INTO {ACCOUNTS_TABLE} (id, balance) VALUES "
                + ", ".join(f"({n}, {OPENING})" for n in range(accounts)),
            )
            server = (await _script(first, "SELECT VERSION()"))[0][0][0]

            async def reset() -> None:
                # the node deleting waits until it has applied every write of the run
                # (the last commits on the other nodes are applied here asynchronously)
                await _script(
                    first,
                    "SET SESSION wsrep_sync_wait = 7",
                    f"DELETE FROM {LEDGER_TABLE}",
                    f"UPDATE {ACCOUNTS_TABLE} SET balance = {OPENING}",
                    "SET SESSION wsrep_sync_wait = 0",
                )
                for pool in raw.pools:  # each node applies the reset before the run writes
                    await _script(
                        pool,
                        "SET SESSION wsrep_sync_wait = 1",
                        f"SELECT COUNT(*) FROM {LEDGER_TABLE}",
                        "SET SESSION wsrep_sync_wait = 0",
                    )

            async def state(_: Any) -> tuple[int, int]:
                rows = await _script(
                    raw.pools[-1],
                    "SET SESSION wsrep_sync_wait = 1",
                    f"SELECT COUNT(*), (SELECT SUM(balance) FROM {ACCOUNTS_TABLE})"
                    f" FROM {LEDGER_TABLE}",
                    "SET SESSION wsrep_sync_wait = 0",
                )
                count, total = rows[1][0]
                return int(count), int(total)

            tasks = TASKS_PER_NODE * len(urls)
            for hot in (True, False):
                work = plan(hot, tasks)
                name = "hot rows" if hot else "own rows"
                workload = Workload(
                    f"galera_{'hot' if hot else 'own'}",
                    f"{TRANSFERS} transfers, {tasks} tasks on {len(urls)} nodes, {name}",
                    TRANSFERS,
                    "transfers",
                    BASELINE,
                    functools.partial(raw.run, work),
                    functools.partial(jadugar.run, work),
                    reset=reset,
                    verify=state,
                    target=None,  # the same work, but the conflicts (and retries) vary by run
                )
                raw.counter, jadugar.counter = Counter(), Counter()
                result = await measure("mysql", workload, repeat, warmup)
                results.append(result)
                per_raw = raw.counter.conflicts / max(raw.counter.runs, 1)
                per_jadugar = jadugar.counter.conflicts / max(jadugar.counter.runs, 1)
                notes.append(
                    f"{name}: conflicts retried per run of {TRANSFERS} transfers: raw "
                    f"{per_raw:.0f}, Jadugar {per_jadugar:.0f}."
                )
                print(
                    f"{workload.title:<52} raw {result.raw_median * 1000:8.1f} ms  jadugar "
                    f"{result.jadugar_median * 1000:8.1f} ms  ratio {result.ratio:.2f}  "
                    f"conflicts/run raw {per_raw:.0f} jadugar {per_jadugar:.0f}",
                    file=sys.stderr,
                )
            await _script(
                first,
                f"DROP TABLE IF EXISTS {ACCOUNTS_TABLE}",
                f"DROP TABLE IF EXISTS {LEDGER_TABLE}",
            )
        finally:
            for db in dbs:
                await db.disconnect()
            await raw.close()
    elapsed = time.perf_counter() - started
    title = run_title("Galera writes", repeat, elapsed)
    print_table(results, title)
    caption = (
        f"{title}; `python -m bench.galera`, {time.strftime('%Y-%m-%d')}. MariaDB "
        f"{server}, aiomysql {version('aiomysql')}, {where}. Both sides retry a "
        "certification conflict (1213) with the same backoff; ratio: Jadugar's "
        "throughput over raw aiomysql's (no 0.9 target: the number of conflicts, hence "
        "of retries, differs from run to run)."
    )
    write_section(output, TITLE, results_section(TITLE, results, caption, notes))
    print(f"Markdown section written to {output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return bench_main(
        argv, "python -m bench.galera", __doc__, run, defaults=(5, 1), quick=(2, 0), output=RESULTS
    )


if __name__ == "__main__":
    sys.exit(main())
