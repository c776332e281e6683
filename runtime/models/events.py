"""Model events: ``User.on("creating", handler)``.

Handlers belong to the exact class they were registered on (a subclass does not inherit
them), run in registration order, and may be plain functions or coroutines. A handler that
raises during a ``-ing`` event vetoes the write: nothing is written and the exception
propagates. Order of one call:

* ``create()`` / ``save()`` of a new row: saving -> creating -> INSERT -> created -> saved
* ``update()`` / ``save()`` of a loaded row: saving -> updating -> UPDATE -> updated -> saved
  (updating/updated only when a field changed)
* ``delete()`` (soft or hard), ``force_delete()``: deleting -> UPDATE/DELETE -> deleted
* ``restore()``: restoring -> UPDATE -> restored

Query-level writes (``User.query().update(...)``, ``.delete()``, ``create_many``) touch many
rows in one statement and fire no events.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, get_args

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .base import Model

ModelEvent = Literal[
    "creating",
    "created",
    "updating",
    "updated",
    "saving",
    "saved",
    "deleting",
    "deleted",
    "restoring",
    "restored",
]
EVENTS: frozenset[str] = frozenset(get_args(ModelEvent))
Handler = Callable[[Any], object]

_handlers: dict[type[Model], dict[str, list[Handler]]] = {}


def _checked(event: str) -> str:
    if event not in EVENTS:
        raise ConfigurationError(
            f"unknown model event {event!r} (known: {', '.join(sorted(EVENTS))})"
        )
    return event


def add(model: type[Model], event: str, handler: Handler) -> None:
    if not callable(handler):
        raise TypeError(f"an event handler must be callable, got {type(handler).__name__}")
    _handlers.setdefault(model, {}).setdefault(_checked(event), []).append(handler)


def remove(model: type[Model], event: str | None = None, handler: Handler | None = None) -> None:
    by_event = _handlers.get(model)
    if by_event is None:
        return
    if event is None:
        del _handlers[model]
        return
    handlers = by_event.get(_checked(event))
    if handlers is None:
        return
    if handler is None:
        handlers.clear()
    else:
        handlers[:] = [h for h in handlers if h != handler]
    if not handlers:
        del by_event[event]
    if not by_event:
        del _handlers[model]


def listens(model: type[Model]) -> bool:
    return model in _handlers


async def fire(obj: Model, event: str) -> None:
    by_event = _handlers.get(type(obj))
    if not by_event:
        return
    for handler in tuple(by_event.get(event, ())):
        result = handler(obj)
        if inspect.isawaitable(result):
            await result
