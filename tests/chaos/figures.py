"""The figures of the fault and attack suite (``make chaos``): each chaos test records what
it measured, before it asserts, and the run ends with one table of them.

``figures.record("bank under kills", engine, kills=30, acknowledged=812, lost=0)`` adds a
row; ``render()`` lays the rows out as the table the terminal summary prints (and
``JADUGAR_CHAOS_REPORT=path`` writes as Markdown).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figure:
    """One measured row: which property, on which engine, the numbers, and the verdict."""

    name: str
    engine: str
    values: dict[str, object]
    passed: bool | None = None

    def values_text(self) -> str:
        return ", ".join(f"{key} {value}" for key, value in self.values.items())


@dataclass
class Figures:
    """The rows recorded during one pytest run, in the order the tests ran."""

    rows: list[Figure] = field(default_factory=list)

    def record(self, name: str, engine: str, **values: object) -> Figure:
        figure = Figure(name, engine, dict(values))
        self.rows.append(figure)
        return figure

    def render(self) -> list[str]:
        """The table as plain-text lines, columns padded to their widest cell."""
        header = ("figure", "engine", "result", "measured")
        cells = [header] + [
            (row.name, row.engine, _verdict(row.passed), row.values_text()) for row in self.rows
        ]
        widths = [max(len(line[i]) for line in cells) for i in range(3)]
        return [
            "  ".join(cell.ljust(width) for cell, width in zip(line[:3], widths, strict=True))
            + "  "
            + line[3]
            for line in cells
        ]

    def markdown(self) -> str:
        lines = ["| figure | engine | result | measured |", "|---|---|---|---|"]
        lines += [
            f"| {row.name} | {row.engine} | {_verdict(row.passed)} | {row.values_text()} |"
            for row in self.rows
        ]
        return "\n".join(lines) + "\n"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "?"}[passed]


class FigureBook:
    """What one test sees as its ``figures`` fixture: records into the run and remembers its
    own rows, which the run marks with the test's outcome."""

    def __init__(self, run: Figures, mine: list[Figure]) -> None:
        self._run = run
        self._mine = mine

    def record(self, name: str, engine: str, **values: object) -> Figure:
        figure = self._run.record(name, engine, **values)
        self._mine.append(figure)
        return figure


RUN = Figures()
"""The figures of this run (one pytest process)."""
