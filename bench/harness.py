"""Timing: raw and Jadugar runs interleaved, medians, ratios, and the results table."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGET = 0.9  # Jadugar's throughput as a fraction of the raw driver's
SHORT_RUN = 0.05  # seconds: workloads faster than this get three times the repetitions

Job = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Workload:
    """One job done two ways. ``reset`` runs before every timed run, outside the timing;
    ``verify`` turns a run's result (or the state it left) into something that must be the
    same for both sides."""

    key: str
    title: str
    ops: int  # units of work per run (rows, lookups, queries)
    unit: str
    baseline: str  # what the raw side does, for the table
    raw: Job
    jadugar: Job
    reset: Job | None = None
    verify: Callable[[Any], Awaitable[Any]] | None = None
    # the ratio to reach; None: a comparison, not the same work (a Redis cache hit against
    # the driver's own lookup), shown with "-" and never failing --check
    target: float | None = TARGET


@dataclass
class Result:
    engine: str
    workload: Workload
    raw_times: list[float] = field(default_factory=list)
    jadugar_times: list[float] = field(default_factory=list)
    raw_cpu: list[float] = field(default_factory=list)  # this process's CPU seconds per run
    jadugar_cpu: list[float] = field(default_factory=list)

    @property
    def raw_median(self) -> float:
        return statistics.median(self.raw_times)

    @property
    def jadugar_median(self) -> float:
        return statistics.median(self.jadugar_times)

    @property
    def ratio(self) -> float:
        """Jadugar throughput / raw throughput (> 1: Jadugar is faster)."""
        return self.raw_median / self.jadugar_median

    @property
    def cpu_ratio(self) -> float:
        """Raw client CPU / Jadugar client CPU: steadier than wall time on a busy machine."""
        return statistics.median(self.raw_cpu) / max(statistics.median(self.jadugar_cpu), 1e-9)

    @property
    def passed(self) -> bool:
        target = self.workload.target
        return target is None or self.ratio >= target

    def spread(self, times: list[float]) -> float:
        """Interquartile range as a fraction of the median: how noisy the figure is."""
        if len(times) < 4:
            return 0.0
        q1, _, q3 = statistics.quantiles(times, n=4)
        return (q3 - q1) / statistics.median(times)


class MismatchError(AssertionError):
    pass


async def timed(job: Job, reset: Job | None) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds (all threads of this process) and the job's result."""
    if reset is not None:
        await reset()
    gc.collect()
    cpu = time.process_time()
    started = time.perf_counter()
    result = await job()
    wall = time.perf_counter() - started
    return wall, time.process_time() - cpu, result


async def measure(engine: str, workload: Workload, repeat: int, warmup: int) -> Result:
    """Check both sides give the same answer, warm up, then time ``repeat`` pairs (three
    times as many for runs under ``SHORT_RUN``); the order inside a pair alternates (raw
    first, then Jadugar first) so neither side always runs on a cache the other warmed."""
    verify = workload.verify or _same
    raw_first, _, raw_result = await timed(workload.raw, workload.reset)
    raw_value = await verify(raw_result)
    jadugar_first, _, jadugar_result = await timed(workload.jadugar, workload.reset)
    jadugar_value = await verify(jadugar_result)
    if raw_value != jadugar_value:
        raise MismatchError(
            f"{engine} {workload.key}: raw and Jadugar results differ:\n"
            f"  raw:     {_short(raw_value)}\n  jadugar: {_short(jadugar_value)}"
        )
    del raw_result, jadugar_result
    for _ in range(warmup):
        await timed(workload.raw, workload.reset)
        await timed(workload.jadugar, workload.reset)
    if max(raw_first, jadugar_first) < SHORT_RUN:
        repeat *= 3  # cheap runs: more of them for a steadier median, at little cost
    result = Result(engine, workload)
    for i in range(repeat):
        order = ((workload.raw, True), (workload.jadugar, False))
        for job, is_raw in order if i % 2 == 0 else reversed(order):
            wall, cpu, _ = await timed(job, workload.reset)
            (result.raw_times if is_raw else result.jadugar_times).append(wall)
            (result.raw_cpu if is_raw else result.jadugar_cpu).append(cpu)
    return result


async def _same(result: Any) -> Any:
    return result


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "…"


# ---- the table ---------------------------------------------------------------------------

HEADERS = (
    "engine",
    "workload",
    "raw driver does",
    "raw ms",
    "Jadugar ms",
    "raw throughput",
    "Jadugar throughput",
    "ratio",
    "≥ 0.9",
    "CPU ratio",
)


def _rate(ops: int, unit: str, seconds: float) -> str:
    return f"{ops / seconds:,.0f} {unit}/s"


def rows(results: list[Result]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for r in results:
        w = r.workload
        out.append(
            (
                r.engine,
                w.title,
                w.baseline,
                f"{r.raw_median * 1000:.1f} ±{r.spread(r.raw_times):.0%}",
                f"{r.jadugar_median * 1000:.1f} ±{r.spread(r.jadugar_times):.0%}",
                _rate(w.ops, w.unit, r.raw_median),
                _rate(w.ops, w.unit, r.jadugar_median),
                f"{r.ratio:.2f}",
                "-" if w.target is None else "PASS" if r.passed else "FAIL",
                f"{r.cpu_ratio:.2f}",
            )
        )
    return out


def markdown(results: list[Result], notes: list[str]) -> str:
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---:" if i >= 3 else "---" for i in range(len(HEADERS))) + "|",
    ]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows(results)]
    return "\n".join([*lines, "", *notes]) + "\n"


def print_table(results: list[Result], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="right" if i >= 3 else "left")
    for cells in rows(results):
        *head, verdict, cpu = cells
        style = {"PASS": "green", "FAIL": "red"}.get(verdict, "default")
        table.add_row(*head, f"[{style}]{verdict}[/{style}]", cpu)
    Console(width=None if sys.stdout.isatty() else 180).print(table)


def run_title(what: str, repeat: int, seconds: float) -> str:
    """``<what>: median of 5 interleaved runs (...), Python 3.11.2, 2 CPUs, 40 s``."""
    return (
        f"{what}: median of {repeat} interleaved runs ({3 * repeat} for runs under "
        f"{SHORT_RUN * 1000:g} ms), Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{seconds:.0f} s"
    )


def results_section(
    heading: str, results: list[Result], caption: str, notes: Sequence[str] = ()
) -> str:
    """A ``## heading`` section of results.md: the table, its caption, then the notes."""
    lines = [f"## {heading}", "", markdown(results, []).rstrip("\n"), "", caption]
    return "\n".join([*lines, *([""] if notes else []), *notes]) + "\n"


def bench_main(
    argv: list[str] | None,
    prog: str,
    description: str | None,
    run: Callable[[int, int, Path], Coroutine[Any, Any, int]],
    *,
    defaults: tuple[int, int],
    quick: tuple[int, int],
    output: Path,
) -> int:
    """The command line of a one-section benchmark: ``--repeat``, ``--warmup``, ``--quick``
    (a smoke run of ``quick`` pairs and warm-ups), ``--output``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--repeat", type=int, default=defaults[0], help="timed pairs per workload")
    parser.add_argument("--warmup", type=int, default=defaults[1], help="untimed pairs first")
    parser.add_argument(
        "--quick", action="store_true", help=f"{quick[0]} pairs, {quick[1]} warm-up: a smoke run"
    )
    parser.add_argument("--output", type=Path, default=output, help="Markdown file")
    args = parser.parse_args(argv)
    repeat, warmup = quick if args.quick else (max(1, args.repeat), max(0, args.warmup))
    return asyncio.run(run(repeat, warmup, args.output))
