"""A SQLite file survives ``kill -9`` of its writer (SPEC 2, 11).

A child process (``sqlite_writer.py``) opens one file with ``DatabaseManager`` and its
defaults (WAL journal, ``synchronous = NORMAL``) and writes groups of 1 to 50 rows, each in
one ``db.transaction(fn)``; once ``transaction(fn)`` has returned it reports the group on
stdout. The parent SIGKILLs it 20 times at random moments (some while it opens the file,
most in the middle of a transaction, some as soon as a report arrives) and starts it again
on the same file, where it numbers on from what the file holds (the next writers are
started ahead and wait, so only the opening of the file is in the loop). After every kill
the file, opened with the stdlib ``sqlite3``, passes ``PRAGMA integrity_check``, holds
every reported group in full (lost = 0), no group in part (partial = 0), and no group that
no writer began (unexplained = 0).
"""

from __future__ import annotations

import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from ..engines import selected_engines
from .figures import FigureBook
from .sqlite_writer import TABLE

WRITER = Path(__file__).with_name("sqlite_writer.py")
KILLS = 20
EARLY_CHANCE = 0.2  # a kill while the writer opens the file, not yet ready
EARLY_DELAY = (0.0, 0.08)  # seconds after the go line
DELAY = (0.0, 0.3)  # seconds after the ready line
ON_REPORT_CHANCE = 0.25  # a kill as soon as a report arrives (after that delay)
READY_TIMEOUT = 10.0
SPARES = 2  # writers started ahead (a Python start with Jadugar takes ~0.5 s of CPU)
RUN_LIMIT = 25.0  # seconds for the whole run


@dataclass
class Writer:
    """One writer process and the lines it has printed (complete lines only)."""

    process: subprocess.Popen[str]
    stderr: Path
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            if line.endswith("\n"):  # a line cut by the kill is no report
                self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def wait_for(self, prefix: str, timeout: float) -> str:
        """The next line starting with ``prefix`` (the lines before it are kept too)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if line is None:
                raise AssertionError(f"the writer ended before {prefix!r}:\n{self.errors()}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def kill(self) -> list[str]:
        """SIGKILL; every complete line it printed, up to its end."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        while (line := self.lines.get(timeout=10)) is not None:
            self.seen.append(line)
        return self.seen

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")[-4000:]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def start_writer(path: Path, seed: int, stderr: Path) -> Writer:
    """A writer that imports Jadugar now and opens ``path`` on ``go()``."""
    with stderr.open("w", encoding="utf-8") as err:
        process = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return Writer(process, stderr)


@dataclass
class Check:
    """What the stdlib ``sqlite3`` finds in the file after one kill."""

    integrity: list[str]
    complete: set[int]
    partial: set[int]


def check_file(path: Path) -> Check:
    conn = sqlite3.connect(path, timeout=10)
    try:
        integrity = [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
        ).fetchone()
        rows = (
            conn.execute(
                f"SELECT grp, COUNT(*), MIN(seq), MAX(seq), MIN(size), MAX(size) FROM {TABLE}"
                " GROUP BY grp"
            ).fetchall()
            if exists
            else []
        )
    finally:
        conn.close()
    complete: set[int] = set()
    partial: set[int] = set()
    for group, count, low, high, smallest, largest in rows:
        # (grp, seq) is the primary key: count == size with seqs 0 … size - 1 is all of it
        whole = smallest == largest == count and low == 0 and high == count - 1
        (complete if whole else partial).add(int(group))
    return Check(integrity, complete, partial)


@dataclass
class Tally:
    kills: int = 0
    early: int = 0  # before the writer was ready (no line yet)
    mid_transaction: int = 0  # the last line was "B <group>"
    on_report: int = 0  # killed as soon as a report arrived
    reported: set[int] = field(default_factory=set)
    begun: set[int] = field(default_factory=set)
    lost: set[int] = field(default_factory=set)
    partial: set[int] = field(default_factory=set)
    unexplained: set[int] = field(default_factory=set)
    integrity_failures: list[list[str]] = field(default_factory=list)
    found: int = 0
    modes: set[str] = field(default_factory=set)
    writer_failures: list[str] = field(default_factory=list)

    def add_lines(self, lines: list[str]) -> None:
        for line in lines:
            kind, _, rest = line.partition(" ")
            if kind == "ready":
                self.modes.add(" ".join(rest.split()[1:]))
            elif kind == "B":
                self.begun.add(int(rest))
            elif kind == "C":
                self.reported.add(int(rest))
        last = lines[-1].split()[0] if lines else ""
        if last == "B":
            self.mid_transaction += 1
        elif not last:
            self.early += 1

    def add_check(self, check: Check) -> None:
        if check.integrity != ["ok"]:
            self.integrity_failures.append(check.integrity)
        self.lost |= self.reported - check.complete
        self.partial |= check.partial
        self.unexplained |= (check.complete | check.partial) - self.begun
        self.found = len(check.complete)


def kill_once(writer: Writer, rng: random.Random, tally: Tally) -> list[str]:
    writer.go()
    moment = rng.random()
    if moment < EARLY_CHANCE:
        time.sleep(rng.uniform(*EARLY_DELAY))
    else:
        writer.wait_for("ready ", READY_TIMEOUT)
        time.sleep(rng.uniform(*DELAY))
        if moment > 1 - ON_REPORT_CHANCE:
            writer.wait_for("C ", READY_TIMEOUT)  # then at once: just after a commit
            tally.on_report += 1
    lines = writer.kill()
    tally.kills += 1
    if writer.process.returncode != -signal.SIGKILL:
        tally.writer_failures.append(f"exit {writer.process.returncode}:\n{writer.errors()}")
    return lines


@pytest.mark.skipif("sqlite" not in selected_engines(), reason="sqlite is not selected")
def test_sqlite_file_survives_kill9_of_its_writer(tmp_path: Path, figures: FigureBook) -> None:
    rng = random.Random()
    path = tmp_path / "kill9.db"
    tally = Tally()
    started = time.perf_counter()
    writers: list[Writer] = []  # started, in order; the first not yet killed is next
    try:
        for n in range(KILLS):
            while len(writers) < min(n + 1 + SPARES, KILLS):  # importing while one writes
                seed = rng.randrange(2**32)
                writers.append(start_writer(path, seed, tmp_path / f"writer{len(writers)}.err"))
            writer = writers[n]
            lines = kill_once(writer, rng, tally)
            writer.close()
            tally.add_lines(lines)
            tally.add_check(check_file(path))
            if tally.writer_failures or time.perf_counter() - started > RUN_LIMIT:
                break
    finally:
        for writer in writers:
            writer.close()
    seconds = time.perf_counter() - started

    figures.record(
        "SQLite kill -9",
        "sqlite",
        kills=tally.kills,
        mid_transaction=tally.mid_transaction,
        early=tally.early,
        on_report=tally.on_report,
        reported=len(tally.reported),
        found=tally.found,
        lost=len(tally.lost),
        partial=len(tally.partial),
        integrity_failures=len(tally.integrity_failures),
        seconds=round(seconds, 1),
    )
    assert not tally.writer_failures, f"a writer ended on its own: {tally.writer_failures[0]}"
    assert tally.kills == KILLS, f"only {tally.kills} kills in {RUN_LIMIT} s"
    assert not tally.integrity_failures, f"integrity_check: {tally.integrity_failures[0]}"
    assert not tally.lost, f"reported groups missing or incomplete: {sorted(tally.lost)[:20]}"
    assert not tally.partial, f"groups present in part: {sorted(tally.partial)[:20]}"
    assert not tally.unexplained, f"groups never begun: {sorted(tally.unexplained)[:20]}"
    assert tally.modes == {"wal 1"}, f"journal mode / synchronous seen: {tally.modes}"
    assert tally.reported, "no group was reported"
    assert tally.mid_transaction > 0, "no kill landed in the middle of a transaction"
