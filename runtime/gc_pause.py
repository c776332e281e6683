"""Building many new objects at once (models from rows, value tuples for a bulk insert):
none of them is garbage yet, so a cycle collection triggered half-way is pure waste."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

PAUSE_FROM = 256  # objects; below, a collection costs less than switching it off


@contextmanager
def collector_paused(count: int) -> Iterator[None]:
    """The cycle collector off while ``count`` objects are made (when it was on)."""
    pause = count > PAUSE_FROM and gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause:
            gc.enable()
