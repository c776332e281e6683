"""Rows for a bulk load that are made (and checked) a chunk at a time.

``create_many`` hands its rows to the insert this way. A load that streams (PostgreSQL's
COPY) sends one chunk while the server is still storing the previous ones, so checking
the rows costs hardly any wall time. Anything else reads it as a plain sequence, which
makes every row first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar, cast, overload

from ..gc_pause import collector_paused

R = TypeVar("R", bound=Sequence[Any])

CHUNK_ROWS = 500  # rows a chunk: small enough that the server starts storing at once


class ColumnKind(NamedTuple):
    """The exact type of a column's values once checked, and whether ``None`` may occur."""

    type: type
    nullable: bool


class RowChunks(Sequence[tuple[Any, ...]]):
    """``total`` rows, made by ``make(start, stop)`` a chunk at a time; every row ends
    with the same ``tail`` values (timestamps)."""

    __slots__ = ("_made", "_make", "kinds", "tail", "total")

    def __init__(
        self,
        total: int,
        make: Callable[[int, int], list[tuple[Any, ...]]],
        kinds: tuple[ColumnKind | None, ...],
        tail: tuple[Any, ...] = (),
    ) -> None:
        self.total = total
        self._make = make  # rows start:stop without the tail; raises on a bad row
        self.kinds = kinds  # one a column, the tail's included; None: not known
        self.tail = tail
        self._made: list[tuple[Any, ...]] | None = None

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[list[tuple[Any, ...]]]:
        """The rows without their tail, ``size`` at a time."""
        for start in range(0, self.total, size):
            yield self._make(start, min(start + size, self.total))

    def rows(self) -> list[tuple[Any, ...]]:
        """Every row, tail included (made once)."""
        if self._made is None:
            made = self._make(0, self.total)
            tail = self.tail
            if tail:
                with collector_paused(len(made)):
                    made = [row + tail for row in made]
            self._made = made
        return self._made

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> tuple[Any, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[Any, ...]]: ...

    def __getitem__(self, index: int | slice) -> tuple[Any, ...] | list[tuple[Any, ...]]:
        return self.rows()[index]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows())


def made(rows: Sequence[R]) -> Sequence[R]:
    """``rows`` as a plain sequence: a ``RowChunks`` made in full, anything else as it is."""
    return cast("Sequence[R]", rows.rows()) if isinstance(rows, RowChunks) else rows
