"""The workloads and their timing: every contender in the same round, order rotated."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..harness import SHORT_RUN, MismatchError, timed
from .data import (
    INSERT_COUNT,
    NARROW_COLUMNS,
    TRANSACTIONS,
    WIDE_COLUMNS,
    NarrowRecord,
    canon,
    canon_tree,
    lookup_ids,
    narrow_rows,
)
from .raw_side import RawSide


class Side(Protocol):
    name: str

    api: dict[str, str]  # what the contender calls, per workload kind (for the table)

    async def close(self) -> None: ...
    async def fetch_narrow(self) -> list[Any]: ...
    async def fetch_wide(self) -> list[Any]: ...
    async def lookups(self, keys: list[int]) -> list[Any]: ...
    async def insert(self, rows: list[NarrowRecord], dicts: list[dict[str, Any]]) -> None: ...
    async def transactions(self, count: int) -> None: ...
    async def eager(self) -> Any: ...
    def tree(self, result: Any) -> list[tuple[Any, list[Any]]]: ...


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    kind: str  # key of Side.api and of TARGETS
    call: Callable[[Side], Awaitable[Any]]
    check: Callable[[Side, Any], Awaitable[Any]]  # a result -> what must match across sides
    reset: Callable[[], Awaitable[None]] | None = None


# Jadugar's throughput as a share of raw asyncpg's (the issue); the transaction has none.
TARGETS = {"fetch": 0.6, "lookups": 0.85, "insert": 0.9, "eager": 0.5}


@dataclass
class Figures:
    workload: Workload
    times: dict[str, list[float]] = field(default_factory=dict)  # contender -> seconds

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    def spread(self, name: str) -> float:
        times = self.times[name]
        if len(times) < 4:
            return 0.0
        q1, _, q3 = statistics.quantiles(times, n=4)
        return (q3 - q1) / statistics.median(times)

    def ratio(self, name: str, raw: str) -> float:
        """The contender's throughput over raw asyncpg's (> 1: faster than raw)."""
        return self.median(raw) / self.median(name)


def workloads(raw: RawSide) -> list[Workload]:
    keys = lookup_ids()
    rows = narrow_rows(INSERT_COUNT)
    dicts = [dict(zip(NARROW_COLUMNS, r, strict=True)) for r in rows]

    async def fetched_narrow(side: Side, result: Any) -> Any:
        return sorted(canon(result, NARROW_COLUMNS))

    async def fetched_wide(side: Side, result: Any) -> Any:
        return sorted(canon(result, WIDE_COLUMNS))

    async def looked_up(side: Side, result: Any) -> Any:
        return canon(result, NARROW_COLUMNS)

    async def inserted(side: Side, result: Any) -> Any:
        return await raw.inserted()

    async def transacted(side: Side, result: Any) -> Any:
        return await raw.transacted()

    async def loaded(side: Side, result: Any) -> Any:
        return canon_tree(side.tree(result))

    return [
        Workload(
            "fetch_narrow", "fetch 10k rows, 4 columns", "fetch", _fetch_narrow, fetched_narrow
        ),
        Workload("fetch_wide", "fetch 10k rows, 30 columns", "fetch", _fetch_wide, fetched_wide),
        Workload(
            "lookups", f"{len(keys):,} pk lookups", "lookups", lambda s: s.lookups(keys), looked_up
        ),
        Workload(
            "insert",
            f"insert {INSERT_COUNT // 1000}k rows",
            "insert",
            lambda s: s.insert(rows, dicts),
            inserted,
            reset=raw.reset_insert,
        ),
        Workload(
            "transaction",
            f"{TRANSACTIONS} tx: parent + child",
            "transaction",
            lambda s: s.transactions(TRANSACTIONS),
            transacted,
            reset=raw.reset_transactions,
        ),
        Workload("eager", "eager load 50 x 20", "eager", lambda s: s.eager(), loaded),
    ]


def _fetch_narrow(side: Side) -> Awaitable[Any]:
    return side.fetch_narrow()


def _fetch_wide(side: Side) -> Awaitable[Any]:
    return side.fetch_wide()


async def measure(workload: Workload, sides: list[Side], repeat: int, warmup: int) -> Figures:
    """Check every side gives the raw side's answer, warm up, then time ``repeat`` rounds
    (three times as many when a run is under ``SHORT_RUN``). Each round runs every side
    once, starting one further along each time, so no side always follows the same one."""
    jobs = {side.name: _job(workload, side) for side in sides}
    first: list[float] = []
    answers: dict[str, Any] = {}
    for side in sides:
        wall, _, result = await timed(jobs[side.name], workload.reset)
        answers[side.name] = await workload.check(side, result)
        first.append(wall)
    expected = answers[sides[0].name]
    for name, answer in answers.items():
        if answer != expected:
            raise MismatchError(
                f"{workload.key}: {name} differs from {sides[0].name}:\n"
                f"  {sides[0].name}: {_short(expected)}\n  {name}: {_short(answer)}"
            )
    del answers
    for _ in range(warmup):
        for side in sides:
            await timed(jobs[side.name], workload.reset)
    if max(first) < SHORT_RUN:
        repeat *= 3
    figures = Figures(workload, {side.name: [] for side in sides})
    for i in range(repeat):
        for side in sides[i % len(sides) :] + sides[: i % len(sides)]:
            wall, _, _ = await timed(jobs[side.name], workload.reset)
            figures.times[side.name].append(wall)
    return figures


def _job(workload: Workload, side: Side) -> Callable[[], Awaitable[Any]]:
    return lambda: workload.call(side)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "…"
