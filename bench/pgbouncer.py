"""``python -m bench.pgbouncer`` (or ``python -m bench --workloads pgbouncer``): lookups
through PgBouncer in transaction pooling mode, Jadugar against raw asyncpg through the
same bouncer, in the same run.

Both sides run without prepared statements, as PgBouncer's transaction mode needs:
asyncpg with ``statement_cache_size=0`` (its pool's ``reset=`` a no-op, as in the main
bench), Jadugar with ``statement_cache=false`` in its URL. Workloads: 2,000 sequential
primary-key lookups, and 1,000 concurrent ones through client pools of 10 (PgBouncer
multiplexes them onto its ``default_pool_size`` server connections).

The bouncer is ``JADUGAR_BENCH_PGBOUNCER_URL`` when set; otherwise a throwaway one is
started in front of the local test server (127.0.0.1:5432) with the test suite's
pgbouncer.ini (tests/integration/pgbouncer.py); without pgbouncer installed the run is
skipped with a line saying so.
The ``## PgBouncer`` section of ``bench/results.md`` is replaced; the rest is kept.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from importlib.metadata import version
from pathlib import Path

import asyncpg

from jadugar import DatabaseManager, DatabaseOptions, PoolOptions

from .data import CONCURRENT_TASKS, LOOKUPS, POOL_SIZE, lookup_ids
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
from .jadugar_side import JadugarSide
from .raw_postgres import RawPostgres, _no_reset

TITLE = "PgBouncer (PostgreSQL, pool_mode = transaction)"
RESULTS = Path(__file__).with_name("results.md")
BASELINE = "pool.fetchrow + dict(r), statement_cache_size=0"


@contextmanager
def bouncer_url() -> Iterator[tuple[str, str]]:
    """The bouncer's URL (``statement_cache=false``) and what it is, for the notes."""
    given = os.environ.get("JADUGAR_BENCH_PGBOUNCER_URL")
    if given:
        sep = "&" if "?" in given else "?"
        yield f"{given}{sep}statement_cache=false", "JADUGAR_BENCH_PGBOUNCER_URL"
        return
    from tests.integration.pgbouncer import BINARY, SETTINGS, start_pgbouncer

    bouncer = start_pgbouncer()
    try:
        pools = f"default_pool_size {SETTINGS['default_pool_size']}"
        yield bouncer.url(), f"throwaway {BINARY.name} on port {bouncer.port}, {pools}"
    finally:
        bouncer.stop()


async def open_raw(options: DatabaseOptions) -> RawPostgres:
    params = options.connect_params()
    pool = await asyncpg.create_pool(
        host=params.host,
        port=params.port,
        user=params.user,
        password=params.password,
        database=params.database,
        min_size=POOL_SIZE,
        max_size=POOL_SIZE,
        timeout=5,
        reset=_no_reset,
        statement_cache_size=0,  # no prepared statement outlives its transaction
    )
    return RawPostgres(pool)


def workloads(raw: RawPostgres, jadugar: JadugarSide) -> list[Workload]:
    keys = lookup_ids(LOOKUPS)
    concurrent_keys = lookup_ids(CONCURRENT_TASKS, seed=7)
    return [
        Workload(
            "pgbouncer_lookups",
            "2,000 pk lookups via PgBouncer",
            LOOKUPS,
            "lookups",
            BASELINE,
            lambda: raw.lookups(keys),
            lambda: jadugar.lookups(keys),
        ),
        Workload(
            "pgbouncer_concurrent",
            f"{CONCURRENT_TASKS:,} tasks, pool {POOL_SIZE}, via PgBouncer",
            CONCURRENT_TASKS,
            "queries",
            BASELINE,
            lambda: raw.concurrent(concurrent_keys),
            lambda: jadugar.concurrent(concurrent_keys),
        ),
    ]


async def run(repeat: int, warmup: int, output: Path) -> int:
    started = time.perf_counter()
    results: list[Result] = []
    with ExitStack() as stack:
        try:
            url, where = stack.enter_context(bouncer_url())
        except Exception as exc:  # pgbouncer missing or failing to start: say so
            print(f"pgbouncer: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
            return 0
        options = DatabaseOptions(url=url, pool=PoolOptions(min=POOL_SIZE, max=POOL_SIZE))
        raw = await open_raw(options)
        try:
            await raw.setup()
            server = await raw.server_version()
            async with DatabaseManager(options) as db:
                for workload in workloads(raw, JadugarSide(db)):
                    result = await measure("pgbouncer", workload, repeat, warmup)
                    print(
                        f"{workload.title:<40} raw {result.raw_median * 1000:8.2f} ms  jadugar "
                        f"{result.jadugar_median * 1000:8.2f} ms  ratio {result.ratio:.2f}",
                        file=sys.stderr,
                    )
                    results.append(result)
            await raw.teardown()
        finally:
            await raw.close()
    elapsed = time.perf_counter() - started
    title = run_title("Through PgBouncer", repeat, elapsed)
    print_table(results, title)
    caption = (
        f"{title}; `python -m bench.pgbouncer`, {time.strftime('%Y-%m-%d')}. {server}, "
        f"asyncpg {version('asyncpg')}, {where}. Both sides without prepared statements "
        "(statement_cache_size=0 / statement_cache=false); ratio: Jadugar's throughput "
        "over raw asyncpg's through the same bouncer."
    )
    write_section(output, TITLE, results_section(TITLE, results, caption))
    print(f"Markdown section written to {output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return bench_main(
        argv,
        "python -m bench.pgbouncer",
        __doc__,
        run,
        defaults=(15, 2),
        quick=(3, 1),
        output=RESULTS,
    )


if __name__ == "__main__":
    sys.exit(main())
