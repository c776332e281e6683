"""``python -m bench``: Jadugar against the raw drivers on PostgreSQL, MariaDB and SQLite.

Workloads (same data, same results, checked once before timing):

- fetch 10k rows: one ``SELECT *`` of the seeded table, rows as dicts;
- 2,000 lookups: sequential primary-key lookups, one query each;
- insert_many 10k: a bulk load into an emptied table (the driver's best primitive: COPY on
  PostgreSQL, multi-row ``executemany`` on MariaDB, ``executemany`` in a transaction on SQLite)
  fed ready-made tuples, against Jadugar given the same rows as dicts (its usual API);
- insert_many 10k, columns=: the same, Jadugar also given tuples (``columns=``);
- 1,000 concurrent: 1,000 tasks, one lookup each, through pools of 10 connections;
- Redis cache hit / miss: the 2,000 lookups (distinct keys for the miss) through
  ``.cache()`` on a manager whose ``cache.backend`` is Redis, every lookup a hit (the
  cache filled first) or a miss (the table's version changed before each run), against
  the raw driver's uncached lookups (ratios shown, no 0.9 target: not the same work).

Servers come from ``JADUGAR_BENCH_POSTGRES_URL`` / ``JADUGAR_BENCH_MYSQL_URL`` (defaults:
the local test servers) and ``JADUGAR_BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``,
keys under a prefix of the run's own, changed then left to expire); SQLite uses a file in
a temporary folder. An unreachable server is
skipped with a line saying so. The table is printed and written as Markdown to
``bench/results.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

from jadugar import DatabaseManager, DatabaseOptions, PoolOptions
from jadugar.cache import RedisCacheBackend

from .data import (
    CONCURRENT_TASKS,
    INSERT_COUNT,
    LOOKUPS,
    POOL_SIZE,
    ROW_COUNT,
    Record,
    as_dicts,
    lookup_ids,
    records,
)
from .harness import Result, Workload, markdown, measure, print_table, run_title
from .jadugar_side import JadugarSide

ENGINES = ("postgres", "mysql", "sqlite")
WORKLOADS = (
    "fetch",
    "lookups",
    "insert_many",
    "insert_tuples",
    "concurrent",
    "redis_hit",
    "redis_miss",
)
REDIS_WORKLOADS = ("redis_hit", "redis_miss")
REDIS_URL = os.environ.get("JADUGAR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
GENERATE = "generate"  # code generation, no database: bench/generation.py; only on request
PEERS = "peers"  # Jadugar models against asyncpg and the ORMs: bench/peers/; only on request
PGBOUNCER = "pgbouncer"  # lookups through PgBouncer, raw asyncpg alongside: bench/pgbouncer.py
GALERA = "galera"  # writes with conflicts on a 3-node Galera cluster: bench/galera.py
DEFAULT_URLS = {
    "postgres": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root@127.0.0.1:3306/test",
}
DRIVERS = {"postgres": "asyncpg", "mysql": "aiomysql", "sqlite": "aiosqlite"}
RESULTS = Path(__file__).with_name("results.md")


class RawSide(Protocol):
    name: str
    baselines: dict[str, str]

    async def setup(self) -> None: ...
    async def teardown(self) -> None: ...
    async def close(self) -> None: ...
    async def server_version(self) -> str: ...
    async def fetch(self) -> list[dict[str, Any]]: ...
    async def lookups(self, keys: list[int]) -> list[dict[str, Any] | None]: ...
    async def concurrent(self, keys: list[int]) -> list[dict[str, Any] | None]: ...
    async def insert_many(self, rows: list[Record]) -> None: ...
    async def reset_insert(self) -> None: ...
    async def inserted(self) -> tuple[int, Any]: ...


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def open_raw(engine: str, options: DatabaseOptions) -> RawSide:
    params = options.connect_params()
    if engine == "postgres":
        from .raw_postgres import RawPostgres

        return await RawPostgres.open(params)
    if engine == "mysql":
        from .raw_mysql import RawMySQL

        return await RawMySQL.open(params)
    from .raw_sqlite import RawSQLite

    assert params.path is not None
    return await RawSQLite.open(params.path)


def workloads(
    raw: RawSide, jadugar: JadugarSide, selected: tuple[str, ...], redis: JadugarSide | None
) -> list[Workload]:
    keys = lookup_ids(LOOKUPS)
    distinct = list(dict.fromkeys(keys))  # misses: no key twice in a run
    concurrent_keys = lookup_ids(CONCURRENT_TASKS, seed=7)
    tuples = records(INSERT_COUNT)
    dicts = as_dicts(tuples)  # Jadugar's API takes mappings; the driver's, tuples

    async def inserted(_: Any) -> tuple[int, Any]:
        return await raw.inserted()

    base = raw.baselines
    every = [
        Workload(
            "fetch", "fetch 10k rows", ROW_COUNT, "rows", base["fetch"], raw.fetch, jadugar.fetch
        ),
        Workload(
            "lookups",
            "2,000 pk lookups",
            LOOKUPS,
            "lookups",
            base["lookups"],
            lambda: raw.lookups(keys),
            lambda: jadugar.lookups(keys),
        ),
        Workload(
            "insert_many",
            "insert_many 10k",
            INSERT_COUNT,
            "rows",
            base["insert_many"],
            lambda: raw.insert_many(tuples),
            lambda: jadugar.insert_many(dicts),
            reset=raw.reset_insert,
            verify=inserted,
        ),
        Workload(
            "insert_tuples",
            "insert_many 10k, columns=",
            INSERT_COUNT,
            "rows",
            base["insert_many"],
            lambda: raw.insert_many(tuples),
            lambda: jadugar.insert_tuples(tuples),
            reset=raw.reset_insert,
            verify=inserted,
        ),
        Workload(
            "concurrent",
            f"{CONCURRENT_TASKS:,} tasks, pool {POOL_SIZE}",
            CONCURRENT_TASKS,
            "queries",
            base["concurrent"],
            lambda: raw.concurrent(concurrent_keys),
            lambda: jadugar.concurrent(concurrent_keys),
        ),
    ]
    if redis is not None:
        every += [
            Workload(
                "redis_hit",
                "2,000 lookups, Redis hit",
                LOOKUPS,
                "lookups",
                base["lookups"],
                lambda: raw.lookups(keys),
                lambda: redis.cached_lookups(keys),
                target=None,
            ),
            Workload(
                "redis_miss",
                f"{len(distinct):,} lookups, Redis miss",
                len(distinct),
                "lookups",
                base["lookups"],
                lambda: raw.lookups(distinct),
                lambda: redis.cached_lookups(distinct),
                reset=redis.forget_cached,
                target=None,
            ),
        ]
    return [w for w in every if w.key in selected]


async def open_redis_side(options: DatabaseOptions, run: Run) -> DatabaseManager | None:
    """A second manager on the same database whose query cache is Redis; ``None`` (and a
    note) when Redis does not answer."""
    cache = {"backend": REDIS_URL, "key_prefix": f"jadugar-bench-{uuid.uuid4().hex[:8]}:"}
    db = DatabaseManager(options.replace(cache=cache))
    await db.connect()
    backend = db.query_cache.backend
    if isinstance(backend, RedisCacheBackend) and backend.available:
        return db
    await db.disconnect()
    line = f"redis: workloads skipped, no answer from {options.replace(cache=cache).cache.backend}"
    log(line)
    run.notes.append(f"- {line}")
    return None


async def bench_engine(
    engine: str, url: str, selected: tuple[str, ...], repeat: int, warmup: int, run: Run
) -> None:
    options = DatabaseOptions(url=url, pool=PoolOptions(min=POOL_SIZE, max=POOL_SIZE))
    started = time.perf_counter()
    try:
        raw = await open_raw(engine, options)
    except Exception as exc:
        line = f"{engine}: skipped, cannot connect to {options.url_masked} ({type(exc).__name__}: {exc})"
        log(line)
        run.notes.append(f"- {line}")
        return
    redis_db: DatabaseManager | None = None
    try:
        await raw.setup()
        if any(w in selected for w in REDIS_WORKLOADS):
            redis_db = await open_redis_side(options, run)
        redis = None if redis_db is None else JadugarSide(redis_db)
        async with DatabaseManager(options) as db:
            for workload in workloads(raw, JadugarSide(db), selected, redis):
                if workload.key == "redis_hit" and redis is not None:
                    await redis.cached_lookups(lookup_ids(LOOKUPS))  # every timed lookup hits
                result = await measure(engine, workload, repeat, warmup)
                log(
                    f"{engine:>8} {workload.title:<22} raw {result.raw_median * 1000:8.2f} ms"
                    f"  jadugar {result.jadugar_median * 1000:8.2f} ms  ratio {result.ratio:.2f}"
                )
                run.results.append(result)
        run.notes.append(
            f"- {engine}: {await raw.server_version()}, driver {DRIVERS[engine]} "
            f"{version(DRIVERS[engine])}, {time.perf_counter() - started:.0f} s"
        )
        await raw.teardown()
    except Exception as exc:  # one engine failing must not lose the others' figures
        line = f"{engine}: stopped by {type(exc).__name__}: {exc}"
        log(line)
        run.notes.append(f"- {line}")
        run.failed = True
    finally:
        if redis_db is not None:
            await redis_db.disconnect()
        await raw.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])

    def names(allowed: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
        def parse(text: str) -> tuple[str, ...]:
            chosen = tuple(n.strip() for n in text.split(",") if n.strip())
            unknown = [n for n in chosen if n not in allowed]
            if unknown or not chosen:
                raise argparse.ArgumentTypeError(
                    f"unknown {', '.join(unknown) or '(none)'}; choose from {','.join(allowed)}"
                )
            return chosen

        return parse

    parser.add_argument("--engines", type=names(ENGINES), default=ENGINES, help="comma list")
    parser.add_argument(
        "--workloads",
        type=names((*WORKLOADS, GENERATE, PEERS, PGBOUNCER, GALERA)),
        default=WORKLOADS,
        help="comma list; generate, peers, pgbouncer or galera (alone): their own benchmarks",
    )
    parser.add_argument("--repeat", type=int, default=15, help="timed pairs per workload")
    parser.add_argument("--warmup", type=int, default=2, help="untimed pairs first")
    parser.add_argument("--quick", action="store_true", help="3 pairs, 1 warm-up: a smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS, help="Markdown table file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a ratio is below 0.9")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if GENERATE in args.workloads:  # python -m bench.generation, with --output/--quick/--check
        if args.workloads != (GENERATE,):
            raise SystemExit("python -m bench: --workloads generate runs alone")
        from .generation import main as generation

        flags = [f"--{name}" for name in ("quick", "check") if getattr(args, name)]
        return generation([*flags, "--output", str(args.output)])
    repeat, warmup = (3, 1) if args.quick else (max(1, args.repeat), max(0, args.warmup))
    if PEERS in args.workloads:  # bench/peers/: PostgreSQL only, its own results section
        if args.workloads != (PEERS,):
            raise SystemExit("python -m bench: --workloads peers runs alone")
        from .peers.run import main as peers

        url = os.environ.get("JADUGAR_BENCH_POSTGRES_URL", DEFAULT_URLS["postgres"])
        command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
        return await peers(repeat, warmup, args.output, url, command)
    if PGBOUNCER in args.workloads:  # bench/pgbouncer.py: its own results section
        if args.workloads != (PGBOUNCER,):
            raise SystemExit("python -m bench: --workloads pgbouncer runs alone")
        from .pgbouncer import run as through_pgbouncer

        return await through_pgbouncer(repeat, warmup, args.output)
    if GALERA in args.workloads:  # bench/galera.py: its own results section
        if args.workloads != (GALERA,):
            raise SystemExit("python -m bench: --workloads galera runs alone")
        from .galera import run as on_galera

        return await on_galera(repeat, warmup, args.output)
    warnings.filterwarnings("ignore", module="aiomysql")  # "Unknown table" on DROP IF EXISTS
    run = Run()
    started = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="jadugar-bench-")
    try:
        for engine in args.engines:
            default = f"sqlite:///{tmp}/bench.db" if engine == "sqlite" else DEFAULT_URLS[engine]
            url = os.environ.get(f"JADUGAR_BENCH_{engine.upper()}_URL", default)
            await bench_engine(engine, url, args.workloads, repeat, warmup, run)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.perf_counter() - started
    title = run_title("Jadugar vs raw drivers", repeat, elapsed)
    if run.results:
        print_table(run.results, title)
    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    notes = [
        f"{title}; `{command}`, {time.strftime('%Y-%m-%d')}.",
        "",
        "ms: median time of one run ± interquartile range as a share of the median. "
        "ratio: Jadugar's throughput over the raw driver's; the target is 0.9. CPU ratio: the "
        "same for this process's CPU time (client side only; steadier on a busy machine).",
        "",
        *run.notes,
    ]
    text = markdown(run.results, notes)
    old = args.output.read_text() if args.output.exists() else ""
    kept = re.search(r"^## (Generation|Peers|PgBouncer|Galera) .*", old, re.M | re.S)
    if kept:  # the generation and peer benchmarks' own sections stay
        text = text.rstrip() + "\n\n" + kept.group(0)
    args.output.write_text(text)
    for note in run.notes:
        print(note)
    print(f"Markdown table written to {args.output}")
    if run.failed:
        return 2
    return 1 if args.check and not all(r.passed for r in run.results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
