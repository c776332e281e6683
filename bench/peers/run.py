"""Run the peer benchmark: open every contender, time the workloads, report."""

from __future__ import annotations

import cProfile
import io
import os
import platform
import pstats
import shutil
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ..generation import write_section
from .data import CHILDREN_EACH, PARENTS, POOL_SIZE
from .jadugar_side import JadugarSide, generate_models
from .measure import Figures, Side, Workload, measure, workloads
from .raw_side import RawSide
from .report import chart, markdown, print_table, rows, verdict

TITLE = "Peers (PostgreSQL)"
CHART = Path(__file__).parent.parent / "peers.png"
PACKAGES = {
    "asyncpg (raw)": "asyncpg",
    "SQLAlchemy": "sqlalchemy",
    "Tortoise": "tortoise-orm",
    "Piccolo": "piccolo",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def open_sides(url: str, models: Any) -> list[Side]:
    from .piccolo_side import PiccoloSide
    from .sqlalchemy_side import SQLAlchemySide
    from .tortoise_side import TortoiseSide

    jadugar = await JadugarSide.open(url, models, POOL_SIZE)
    return [
        jadugar,
        await SQLAlchemySide.open(url, POOL_SIZE),
        await TortoiseSide.open(url, POOL_SIZE),
        await PiccoloSide.open(url, POOL_SIZE),
    ]


async def profile(workload: Workload, side: Side, runs: int = 5) -> list[str]:
    """The Jadugar job under cProfile: the functions with the most own time, per run."""
    profiler = cProfile.Profile()
    for _ in range(runs):
        if workload.reset is not None:
            await workload.reset()
        profiler.enable()
        await workload.call(side)
        profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    entries: list[tuple[float, float, int, str]] = []
    for (file, line, func), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}({func})"
        if where.startswith("peers/run.py"):
            continue  # this function: the profiler's own bookkeeping
        entries.append((own, cumulative, calls, where))
    total = sum(e[0] for e in entries) / runs
    lines = [f"cProfile, Jadugar, {workload.title}: {total * 1e6:,.0f} µs of profiled time a run"]
    for own, cumulative, calls, where in sorted(entries, reverse=True)[:14]:
        lines.append(
            f"  {own / runs * 1e6:9,.0f} µs own {cumulative / runs * 1e6:9,.0f} µs cum "
            f"{calls // runs:7,} calls/run  {where}"
        )
    return lines


async def main(repeat: int, warmup: int, output: Path, url: str, command: str) -> int:
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="jadugar-bench-peers-"))
    results: list[Figures] = []
    notes: list[str] = []
    profiles: list[str] = []
    try:
        models = generate_models(work)
        raw = await RawSide.open(url)
        sides: list[Side] = [raw]
        try:
            await raw.setup()
            sides += await open_sides(url, models)
            jadugar = sides[1]
            assert isinstance(jadugar, JadugarSide)
            statements = await jadugar.count_statements()
            for workload in workloads(raw):
                figures = await measure(workload, sides, repeat, warmup)
                results.append(figures)
                log(
                    f"{workload.title:<28} "
                    + "  ".join(f"{s.name} {figures.median(s.name) * 1000:7.1f} ms" for s in sides)
                )
            peers = [s.name for s in sides[2:]]
            for figures in results:
                if not verdict(figures, jadugar.name, raw.name, peers).passed:
                    profiles += await profile(figures.workload, jadugar)
            notes.append(await raw.server_version())
            await raw.teardown()
        finally:
            for side in reversed(sides):
                await side.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    table = rows(results, {s.name: s.api for s in sides}, jadugar.name, raw.name)
    title = (
        f"{TITLE}: median of {repeat} interleaved rounds, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {elapsed:.0f} s"
    )
    print_table(table, title)
    for line in profiles:
        print(line)
    chart(results, raw.name, CHART, title)
    versions = ", ".join(f"{name} {version(pkg)}" for name, pkg in PACKAGES.items())
    insert_note = (
        "Jadugar's insert: `Inserted.create_many(dicts)` (validated bulk insert)."
        if jadugar.bulk == "create_many"
        else "Jadugar's insert: `Model.create_many` does not exist yet, so the query builder's "
        "`insert_many(tuples, columns=)` (COPY, no model validation) stands in; a later run "
        "picks `create_many` up by itself."
    )
    notes = [
        f"{title}; `{command}`, {time.strftime('%Y-%m-%d')}. {notes[0]}; {versions}; "
        f"pools of {POOL_SIZE} everywhere. Chart: `bench/peers.png`.",
        "",
        "ms: median time of one run ± interquartile range as a share of the median. x raw: "
        "throughput as a share of raw asyncpg's (higher is better). Every contender's answer "
        "is checked against raw asyncpg's before timing; rounds run every contender once, "
        "the starting one rotating.",
        "",
        f"- Eager load ({PARENTS} parents x {CHILDREN_EACH} children): Jadugar sent "
        f"{statements} statements (counted with the `query` event; one per relation level "
        f"is {2})." + ("" if statements == 2 else " **Not one per level.**"),
        f"- {insert_note}",
        "- Fetch results are models for every ORM (dicts for raw asyncpg); the lookups give "
        "SQLAlchemy one session (one connection) for all 2,000, the others one pool checkout "
        "per lookup, as raw asyncpg's `pool.fetchrow`.",
        "- Piccolo has no eager loading of a reverse foreign key: two `objects()` queries and "
        "grouping by hand. Its insert is chunked: a single statement would pass PostgreSQL's "
        "32,767-parameter limit.",
    ]
    write_section(output, TITLE, markdown(TITLE, table, notes))
    print(f"Section '{TITLE}' written to {output}; chart saved to {CHART}")
    return 0
