"""Fixtures and the closing table of the fault and attack suite.

The suite reuses the integration fixtures (``engine``, ``make_db``, ``db``, ``tables``,
``engine_sql``: one test parametrized over the SQL engines) and adds ``figures``: a test
records what it measured with ``figures.record(name, engine, **values)`` *before* it
asserts, and the row is marked PASS or FAIL with the test's outcome. Every run that
collected a chaos test ends with the table (``make chaos``, and ``make test`` too).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from ..integration.conftest import db, engine, engine_sql, make_db, tables
from .figures import RUN, Figure, FigureBook

__all__ = ["db", "engine", "engine_sql", "make_db", "tables"]

REPORT_VARIABLE = "JADUGAR_CHAOS_REPORT"
_RECORDED = pytest.StashKey[list[Figure]]()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[FigureBook]:
    mine: list[Figure] = []
    request.node.stash[_RECORDED] = mine
    yield FigureBook(RUN, mine)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" or (report.when == "setup" and report.failed):
        for figure in item.stash.get(_RECORDED, []):
            figure.passed = report.passed
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RUN.rows:
        return
    terminalreporter.section("chaos figures")
    for line in RUN.render():
        terminalreporter.write_line(line)
    report = os.environ.get(REPORT_VARIABLE)
    if report:
        Path(report).write_text(RUN.markdown(), encoding="utf-8")
        terminalreporter.write_line(f"(written to {report})")
