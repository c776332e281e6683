"""``MigrationRun``: one migration applied or rolled back, as ``db.migrate()`` and
``MigrationManager`` report it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class MigrationRun:
    """One migration applied (``up``) or rolled back (``down``), with the writes it ran."""

    name: str
    direction: Literal["up", "down"]
    statements: list[str] = field(default_factory=list)
    seconds: float = 0.0
