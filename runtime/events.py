"""Event names and the emitter. Handlers may be sync or async; a failing handler is logged
and never breaks the query that emitted the event."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any, Literal

logger = logging.getLogger("jadugar")

EventName = Literal[
    "connect",
    "disconnect",
    "query",
    "error",
    "retry",
    "transaction:begin",
    "transaction:commit",
    "transaction:rollback",
    "pool:acquire",
    "pool:release",
    "migration:applied",
    "migration:rolledback",
    "replica:down",
    "replica:up",
]
EVENTS: frozenset[str] = frozenset(EventName.__args__)  # type: ignore[attr-defined]
Handler = Callable[..., Any]


class EventEmitter:
    __slots__ = ("_handlers", "_tasks")

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def on(self, event: str, handler: Handler) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; events: {', '.join(sorted(EVENTS))}")
        self._handlers.setdefault(event, []).append(handler)

    def off(self, event: str, handler: Handler) -> None:
        handlers = self._handlers.get(event, [])
        if handler in handlers:
            handlers.remove(handler)
        if not handlers:
            self._handlers.pop(event, None)

    def has(self, event: str) -> bool:
        return event in self._handlers

    @property
    def observes_queries(self) -> bool:
        """A "query" or "error" handler is registered (the query hot path checks this)."""
        handlers = self._handlers
        return "query" in handlers or "error" in handlers

    def emit(self, event: str, payload: dict[str, Any]) -> None:
        for handler in tuple(self._handlers.get(event, ())):
            try:
                result = handler(payload)
                if inspect.isawaitable(result):
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)
                    task.add_done_callback(self._finished)
            except Exception:
                logger.exception("jadugar: %s event handler %r failed", event, handler)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("jadugar: async event handler failed", exc_info=task.exception())
