"""``good/`` and ``bad/`` hold code for mypy to check, never for pytest to import or run."""

from __future__ import annotations

collect_ignore_glob: list[str] = ["good/*", "bad/*"]
