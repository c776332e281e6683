"""Jadugar on a three-node MariaDB Galera cluster (galera_cluster.py starts it).

- the bank invariant with one manager per node: concurrent transfers in
  ``db.transaction(fn)`` conflict across nodes (certification failures, error 1213, often
  on COMMIT); the whole function is retried, the total never changes, no acknowledged
  transfer is lost;
- a node SIGKILLed while a multi-host manager (round robin) works: reads and writes go on
  on the other two within the configured timeouts, the pool drops the dead node's
  connections, and the node takes connections again once it has rejoined (IST);
- four ``jadugar migrate`` processes on three nodes: the cluster-wide migration lock (a
  certified lock row: ``GET_LOCK`` is node-local on Galera) lets each migration run once;
- bad cluster URLs: a ``ConfigurationError`` naming the part; every host down: one error
  naming every host.

The figures (transfers, conflicts retried, recovery times) are printed at the end of the
module.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jadugar import (
    ConfigurationError,
    DatabaseConnectionError,
    DatabaseManager,
    JadugarError,
    MigrationLockError,
    MigrationOptions,
    RetryOptions,
    Transaction,
)
from jadugar.migrations.runner import MigrationManager

from . import galera_cluster as galera_module
from .galera_cluster import GaleraCluster, session_galera_cluster
from .local_servers import free_ports
from .test_migrations import migration

ACCOUNTS = 8  # few accounts: transfers on different nodes collide often
OPENING = 1_000
RETRY = RetryOptions(attempts=40, base_delay=0.002, max_delay=0.05, jitter=1.0)
FIGURES: list[str] = []


@pytest.fixture(scope="session")
def galera_cluster() -> Iterator[GaleraCluster]:
    """Three Galera nodes on loopback ports (3311-3313 when free), once per session."""
    yield from session_galera_cluster()


@pytest.fixture(scope="module", autouse=True)
def figures(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    started = time.monotonic()
    yield FIGURES
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not FIGURES:
        return
    with capture.global_and_fixture_disabled():  # printed as the module ends
        reporter.write_line("")
        reporter.write_line(f"Galera figures ({time.monotonic() - started:.1f} s in all):")
        for line in FIGURES:
            reporter.write_line(f"  {line}")


def record(line: str) -> None:
    FIGURES.append(line)


async def manager(url: str, **options: Any) -> DatabaseManager:
    db = DatabaseManager(url=url, **{"retry_options": RETRY, "timeout": 10.0, **options})
    await db.connect()
    return db


@pytest.fixture
async def node_dbs(galera_cluster: GaleraCluster) -> AsyncIterator[list[DatabaseManager]]:
    """One manager per node."""
    dbs = [await manager(url, pool_size=6) for url in galera_cluster.urls]
    try:
        yield dbs
    finally:
        for db in dbs:
            await db.disconnect()


# ---- the bank ---------------------------------------------------------------------------


@dataclass
class Bank:
    accounts: str
    ledger: str


@dataclass
class Outcomes:
    acknowledged: set[str] = field(default_factory=set)
    in_doubt: set[str] = field(default_factory=set)
    conflicts: int = 0  # retries on 1213 (certification conflicts / brute-force aborts)
    other_retries: int = 0  # retries on a connection lost before COMMIT
    by_port: dict[int, int] = field(default_factory=dict)
    done_at: list[tuple[float, int]] = field(default_factory=list)  # (time, port)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
async def bank(galera_cluster: GaleraCluster) -> AsyncIterator[Bank]:
    suffix = uuid.uuid4().hex[:8]
    names = Bank(f"jg_accounts_{suffix}", f"jg_ledger_{suffix}")
    db = await manager(galera_cluster.node(1).url)
    try:
        await db.query.raw(
            f"CREATE TABLE {names.accounts} (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)"
        ).execute()
        await db.query.raw(
            f"CREATE TABLE {names.ledger} (transfer_id VARCHAR(32) PRIMARY KEY,"
            " from_id INTEGER NOT NULL, to_id INTEGER NOT NULL, amount INTEGER NOT NULL)"
        ).execute()
        await db.query.table(names.accounts).insert_many(
            [{"id": n, "balance": OPENING} for n in range(ACCOUNTS)]
        )
        yield names
    finally:
        for table in (names.accounts, names.ledger):
            with contextlib.suppress(JadugarError):
                await db.query.raw(f"DROP TABLE IF EXISTS {table}").execute()
        await db.disconnect()


def count_retries(db: DatabaseManager, outcomes: Outcomes) -> None:
    def retried(event: dict[str, Any]) -> None:
        error = event["error"]
        if getattr(error, "code", None) == "1213":
            outcomes.conflicts += 1
        else:
            outcomes.other_retries += 1

    db.on("retry", retried)


async def transfer(
    db: DatabaseManager, bank: Bank, transfer_id: str, src: int, dst: int, amount: int
) -> int:
    """One transfer in ``db.transaction(fn)``; returns the port of the node that ran it."""
    change = f"UPDATE {bank.accounts} SET balance = balance + ? WHERE id = ?"

    async def move(tx: Transaction) -> int:
        for account, delta in sorted([(src, -amount), (dst, amount)]):  # no local deadlocks
            await tx.raw(change, [delta, account]).execute()
        await tx.table(bank.ledger).insert(
            {"transfer_id": transfer_id, "from_id": src, "to_id": dst, "amount": amount}
        )
        row = await tx.raw("SELECT @@port AS port").first()
        assert row is not None
        return int(row["port"])

    return await db.transaction(move)


async def worker(
    db: DatabaseManager, bank: Bank, rng: random.Random, outcomes: Outcomes, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        src, dst = rng.sample(range(ACCOUNTS), 2)
        transfer_id = uuid.uuid4().hex
        try:
            port = await transfer(db, bank, transfer_id, src, dst, rng.randint(1, 50))
        except JadugarError as exc:
            outcomes.in_doubt.add(transfer_id)
            outcomes.errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
            await asyncio.sleep(0.05)
        else:
            outcomes.acknowledged.add(transfer_id)
            outcomes.by_port[port] = outcomes.by_port.get(port, 0) + 1
            outcomes.done_at.append((time.monotonic(), port))


async def check_bank(cluster: GaleraCluster, bank: Bank, outcomes: Outcomes) -> None:
    """On every node (causal reads): the total, the ledger against the outcomes, and every
    balance against the ledger."""
    for node in cluster.nodes:
        db = DatabaseManager(url=node.url)
        await db.connect()
        try:
            conn = await db.open_connection()
            try:
                await conn.execute_script("SET SESSION wsrep_sync_wait = 1", None)
                balances = {
                    int(r["id"]): int(r["balance"])
                    for r in await conn.fetch(f"SELECT id, balance FROM {bank.accounts}", (), None)
                }
                ledger = await conn.fetch(
                    f"SELECT transfer_id, from_id, to_id, amount FROM {bank.ledger}", (), None
                )
            finally:
                await conn.close()
        finally:
            await db.disconnect()
        assert sum(balances.values()) == ACCOUNTS * OPENING, f"node {node.index}: total changed"
        ids = {r["transfer_id"] for r in ledger}
        lost = outcomes.acknowledged - ids
        assert not lost, f"node {node.index}: {len(lost)} acknowledged transfers lost"
        assert ids <= outcomes.acknowledged | outcomes.in_doubt
        expected = dict.fromkeys(range(ACCOUNTS), OPENING)
        for r in ledger:
            expected[int(r["from_id"])] -= int(r["amount"])
            expected[int(r["to_id"])] += int(r["amount"])
        assert balances == expected, f"node {node.index}: a balance disagrees with the ledger"


def cert_failures(cluster: GaleraCluster) -> int:
    total = 0
    for node in cluster.nodes:
        if node.running:
            status = node.status()
            total += int(status.get("wsrep_local_cert_failures", 0))
            total += int(status.get("wsrep_local_bf_aborts", 0))
    return total


async def test_bank_invariant_with_a_manager_per_node(
    galera_cluster: GaleraCluster, node_dbs: list[DatabaseManager], bank: Bank
) -> None:
    outcomes = Outcomes()
    for db in node_dbs:
        count_retries(db, outcomes)
    before = cert_failures(galera_cluster)
    stop = asyncio.Event()
    rng = random.Random(16)
    workers = [
        asyncio.create_task(worker(db, bank, random.Random(rng.random()), outcomes, stop))
        for db in node_dbs
        for _ in range(4)
    ]
    started = time.monotonic()
    await asyncio.sleep(5.0)
    stop.set()
    await asyncio.gather(*workers)
    seconds = time.monotonic() - started
    server_side = cert_failures(galera_cluster) - before
    record(
        f"bank, 3 managers x 4 workers, {ACCOUNTS} accounts, {seconds:.1f} s: "
        f"{len(outcomes.acknowledged)} transfers acknowledged "
        f"({len(outcomes.acknowledged) / seconds:.0f}/s; per node "
        f"{dict(sorted(outcomes.by_port.items()))}), {outcomes.conflicts} certification "
        f"conflicts retried (servers: {server_side} cert failures + BF aborts), "
        f"{len(outcomes.in_doubt)} in doubt, 0 lost"
    )
    assert not outcomes.in_doubt, outcomes.errors[:5]
    assert len(outcomes.by_port) == 3  # every node took transfers
    await check_bank(galera_cluster, bank, outcomes)


# ---- a node killed ------------------------------------------------------------------------


def longest_gap(times: list[float], start: float, end: float) -> float:
    inside = [start, *sorted(t for t in times if start <= t <= end), end]
    return max(b - a for a, b in itertools.pairwise(inside))


async def test_a_killed_node_is_left_and_used_again_once_it_rejoins(
    galera_cluster: GaleraCluster, bank: Bank
) -> None:
    victim = galera_cluster.node(3)
    db = await manager(
        galera_cluster.url(host_selection="round_robin"),
        pool={"max": 6, "max_lifetime": 3.0, "ping_after": 1.0},
        connect_timeout=2.0,
    )
    outcomes = Outcomes()
    count_retries(db, outcomes)
    reads = {"ok": 0, "failed": 0, "slowest": 0.0}
    read_errors: list[str] = []
    stop = asyncio.Event()

    async def reader() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                row = await db.query.raw(
                    f"SELECT SUM(balance) AS total FROM {bank.accounts}"
                ).first()
            except JadugarError as exc:
                reads["failed"] += 1
                read_errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            else:
                assert row is not None and int(row["total"]) == ACCOUNTS * OPENING
                reads["ok"] += 1
            reads["slowest"] = max(reads["slowest"], time.monotonic() - started)
            await asyncio.sleep(0.02)

    rng = random.Random(3)
    tasks = [
        asyncio.create_task(worker(db, bank, random.Random(rng.random()), outcomes, stop))
        for _ in range(6)
    ]
    tasks.append(asyncio.create_task(reader()))
    restarted = False
    try:
        await asyncio.sleep(1.5)
        assert victim.port in outcomes.by_port  # round robin: the victim took transfers
        destroys_before = db.pool.get_metrics().destroys
        killed_at = time.monotonic()
        await asyncio.to_thread(galera_cluster.kill, 3)  # returns once 1 and 2 agree
        view_after = time.monotonic() - killed_at
        await asyncio.sleep(2.0)
        outage_end = time.monotonic()
        during = [p for t, p in outcomes.done_at if killed_at <= t <= outage_end]
        assert during, "no transfer completed while node 3 was down"
        stall = longest_gap([t for t, _ in outcomes.done_at], killed_at, outage_end)
        dropped = db.pool.get_metrics().destroys - destroys_before
        later = [p for t, p in outcomes.done_at if t > killed_at + view_after + 0.5]
        assert later and victim.port not in later  # the dead node's connections are gone
        assert dropped >= 1

        rejoin_started = time.monotonic()
        rejoin = await asyncio.to_thread(galera_cluster.restart, 3)
        restarted = True
        kind = galera_cluster.transfer_kind(3)
        rejoined_at = time.monotonic()
        deadline = rejoined_at + 15.0
        while not any(p == victim.port and t > rejoined_at for t, p in outcomes.done_at):
            assert time.monotonic() < deadline, "node 3 took no work after it rejoined"
            await asyncio.sleep(0.1)
        back_after = (
            next(t for t, p in outcomes.done_at if p == victim.port and t > rejoined_at)
            - rejoined_at
        )
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        status = db.pool.get_status()
        await db.disconnect()
        if not restarted and not victim.running:
            await asyncio.to_thread(galera_cluster.restart, 3)
    record(
        f"node 3 SIGKILLed under 6 round-robin workers + a reader: survivors agreed on a "
        f"2-node cluster after {view_after:.1f} s; longest pause in transfers {stall:.2f} s "
        f"({len(during)} transfers in the 2 s after that); pool dropped {dropped} "
        f"connections; reads {reads['ok']} ok / {reads['failed']} failed (slowest "
        f"{reads['slowest']:.2f} s); {outcomes.other_retries} transactions re-run after a "
        f"lost connection, {outcomes.conflicts} conflicts retried, "
        f"{len(outcomes.in_doubt)} in doubt"
    )
    record(
        f"node 3 restarted: Synced again after {rejoin:.1f} s ({kind}); first transfer on "
        f"it {back_after:.2f} s later (pool max_lifetime 3 s); started "
        f"{rejoin_started - killed_at:.1f} s after the kill; transfers per node "
        f"{dict(sorted(outcomes.by_port.items()))}"
    )
    assert kind == "IST"  # the missed write sets only: no donor paused for a full copy
    assert reads["failed"] == 0, read_errors
    assert status.in_use == 0
    # in doubt: only transfers whose COMMIT was cut by the kill (outcome unknown)
    assert len(outcomes.in_doubt) <= 6, outcomes.errors
    await check_bank(galera_cluster, bank, outcomes)


# ---- migrations -----------------------------------------------------------------------------


async def test_four_migrators_on_three_nodes_apply_each_migration_once(
    galera_cluster: GaleraCluster, tmp_path: Path
) -> None:
    prefix = f"jgm_{uuid.uuid4().hex[:8]}"
    project = tmp_path / "project"
    folder = project / "migrations"
    folder.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.jadugar]\nmigrations = "migrations"\n')
    runs, notes = f"{prefix}_runs", f"{prefix}_notes"
    files = {
        "0001_counter": ([f"CREATE TABLE {runs} (id INTEGER PRIMARY KEY, node INTEGER)"], 0.0),
        "0002_count": ([f"INSERT INTO {runs} (id, node) VALUES (1, @@port)"], 0.5),
        "0003_notes": ([f"CREATE TABLE {notes} (id INTEGER PRIMARY KEY)"], 0.0),
    }
    for name, (up, sleep) in files.items():
        cls = "".join(p.capitalize() for p in name.split("_")[1:])
        (folder / f"{name}.py").write_text(migration(cls, up, [], sleep))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("JADUGAR_") or key.startswith("JADUGAR_TEST_")
    }
    env["JADUGAR_MIGRATIONS_TABLE_NAME"] = f"{prefix}_history"
    nodes = [1, 2, 3, 1]

    async def run(node: int) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "jadugar"),
            "migrate",
            cwd=project,
            env={**env, "JADUGAR_DATABASE_URL": galera_cluster.node(node).url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode()

    started = time.monotonic()
    results = await asyncio.gather(*(run(n) for n in nodes))
    seconds = time.monotonic() - started
    for code, out in results:
        assert code == 0, out
    applied = [
        (node, line.split()[1])
        for node, (_, out) in zip(nodes, results, strict=True)
        for line in out.splitlines()
        if line.startswith("applied")
    ]
    assert sorted(name for _, name in applied) == sorted(files)  # once each, in all
    db = await manager(galera_cluster.url())
    try:
        for index in (1, 2, 3):  # every node has the same history (causal reads)
            node = DatabaseManager(url=galera_cluster.node(index).url)
            await node.connect()
            try:
                conn = await node.open_connection()
                await conn.execute_script("SET SESSION wsrep_sync_wait = 1", None)
                history = await conn.fetch(f"SELECT name, batch FROM {prefix}_history", (), None)
                counted = await conn.fetch(f"SELECT COUNT(*) AS n FROM {runs}", (), None)
                locks = await conn.fetch(
                    "SELECT COUNT(*) AS n FROM jadugar_migration_lock", (), None
                )
                await conn.close()
            finally:
                await node.disconnect()
            assert sorted(r["name"] for r in history) == sorted(files)
            assert len({r["batch"] for r in history}) == 1  # one process applied them all
            assert int(counted[0]["n"]) == 1
            assert int(locks[0]["n"]) == 0  # released
        winners = sorted({node for node, _ in applied})
        record(
            f"4 `jadugar migrate` processes on nodes {nodes}: each of {len(files)} migrations "
            f"applied once (by the process on node {winners}), the 3 others found nothing "
            f"pending; {seconds:.1f} s in all"
        )
    finally:
        for table in (runs, notes, f"{prefix}_history"):
            await db.query.raw(f"DROP TABLE IF EXISTS {table}").execute()
        await db.disconnect()


async def test_the_cluster_lock_holds_across_nodes_and_a_stale_one_is_taken_over(
    galera_cluster: GaleraCluster, node_dbs: list[DatabaseManager], tmp_path: Path
) -> None:
    first, second, third = node_dbs
    # GET_LOCK alone would not do: each node grants it
    conns = [await db.open_connection() for db in (first, second)]
    try:
        taken = [
            (await c.fetch("SELECT GET_LOCK('jadugar:galera-demo', 0) AS t", (), None))[0]["t"]
            for c in conns
        ]
        assert taken == [1, 1]
    finally:
        for conn in conns:
            await conn.close()
    lock = first.dialect.migration_lock
    async with lock.hold(first, "galera-test", 5):
        with pytest.raises(MigrationLockError):
            async with lock.hold(second, "galera-test", 0.5):
                pass
    async with lock.hold(third, "galera-test", 5):  # released: another node takes it
        pass
    # a holder that died: its row stops being renewed and expires
    await first.query.raw(
        "INSERT INTO jadugar_migration_lock (name, owner, node, taken_at, expires_at)"
        " VALUES ('jadugar:migrations', 'dead', 'node9', UTC_TIMESTAMP(6),"
        " UTC_TIMESTAMP(6) - INTERVAL 1 SECOND)"
    ).execute()
    options = MigrationOptions(directory=str(tmp_path), table_name=f"jgl_{uuid.uuid4().hex[:8]}")
    started = time.monotonic()
    try:
        assert await MigrationManager(options, second, lock_timeout=5).migrate() == []
    finally:
        await first.query.raw(f"DROP TABLE IF EXISTS {options.table_name}").execute()
    assert time.monotonic() - started < 3
    rows = await second.query.raw("SELECT COUNT(*) AS n FROM jadugar_migration_lock").first()
    assert rows is not None and int(rows["n"]) == 0


# ---- configuration ---------------------------------------------------------------------------


def test_bad_cluster_urls_name_the_part() -> None:
    cases = {
        "mysql://root@127.0.0.1:3311,,127.0.0.1:3313/test": "empty host name in host 2 of 3",
        "mysql://root@127.0.0.1:3311,127.0.0.1:33x2/test": "bad port in host 2 of 2",
        "mysql://root@127.0.0.1:3311,127.0.0.1:70000/test": "bad port '70000' in host 2 of 2",
        "mysql://root@127.0.0.1:3311,127.0.0.1:3311/test": "127.0.0.1:3311 is named twice",
        "mysql://root@h1,h2/test?host_selection=random": "host_selection='random'",
        "postgresql://app@h1,h2/app": "several hosts",
    }
    for url, reason in cases.items():
        with pytest.raises(ConfigurationError) as caught:
            DatabaseManager(url=url)
        assert caught.value.field == "url"
        assert reason in str(caught.value), str(caught.value)
    with pytest.raises(ConfigurationError) as bad_option:
        DatabaseManager(url="mysql://root@h1,h2/test", host_selection="random")
    assert bad_option.value.field == "host_selection"


async def test_every_host_down_is_one_error_naming_each(galera_cluster: GaleraCluster) -> None:
    dead = free_ports(2)
    url = f"mysql://root@127.0.0.1:{dead[0]},127.0.0.1:{dead[1]}/test"
    db = DatabaseManager(url=url, connect_timeout=1.0, retry_options={"attempts": 1})
    await db.connect()
    try:
        with pytest.raises(DatabaseConnectionError) as caught:
            await db.query.raw("SELECT 1").all()
    finally:
        await db.disconnect()
    text = str(caught.value)
    assert "none of the 2 hosts" in text
    for port in dead:
        assert f"127.0.0.1:{port} (" in text and "Connection refused" in text
    # a dead first host is skipped (first_available), and tried last for a while
    live = galera_cluster.node(2)
    db = await manager(f"mysql://root@127.0.0.1:{dead[0]},{live.address}/test", connect_timeout=1.0)
    try:
        row = await db.query.raw("SELECT @@port AS port").first()
        assert row is not None and int(row["port"]) == live.port
    finally:
        await db.disconnect()


async def test_a_host_that_never_answers_costs_one_timeout(galera_cluster: GaleraCluster) -> None:
    """A host that accepts TCP but never greets (a hung server, a black hole behind a
    load balancer): the first connection gives up on it after ``connect_timeout``, or
    when the pool's ``create_timeout`` runs out first; later ones try it last."""
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    live = galera_cluster.node(1)
    url = f"mysql://root@127.0.0.1:{port},{live.address}/test"
    try:
        db = await manager(url, connect_timeout=0.5, pool={"max": 2})
        try:
            started = time.monotonic()
            async with db.pool.connection() as conn:  # waits out the silent host once
                first = time.monotonic() - started
                rows = await conn.fetch("SELECT @@port AS port", (), None)
                assert int(rows[0]["port"]) == live.port
                started = time.monotonic()
                async with db.pool.connection() as other:  # a new one: silent host last
                    second = time.monotonic() - started
                    assert other is not conn
        finally:
            await db.disconnect()
        assert 0.5 <= first < 2.0 and second < 0.4, (first, second)
        # create_timeout shorter than connect_timeout: that opening fails, the next skips
        db = await manager(url, connect_timeout=5.0, pool={"create_timeout": 0.5})
        try:
            with pytest.raises(DatabaseConnectionError, match="create_timeout"):
                await db.pool.acquire()
            row = await db.query.raw("SELECT @@port AS port").first()
            assert row is not None and int(row["port"]) == live.port
        finally:
            await db.disconnect()
    finally:
        silent.close()
        await silent.wait_closed()


def test_a_missing_galera_library_skips_and_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(galera_module, "GALERA", tmp_path / "libgalera_smm.so")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"libgalera_smm\.so not found"):
        next(session_galera_cluster())
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        next(session_galera_cluster())
