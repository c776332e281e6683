"""``delete`` on a model class (``await User.delete(1)``) and on an instance
(``await user.delete()``): one name, two meanings, both typed."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Generic, TypeVar, overload

if TYPE_CHECKING:
    from .base import Model

K = TypeVar("K")


class KeyedDelete(Generic[K]):
    """Class access gives ``delete(key)``; instance access gives ``delete()``."""

    @overload
    def __get__(
        self, obj: None, owner: type[Model]
    ) -> Callable[[K], Coroutine[object, object, None]]: ...

    @overload
    def __get__(
        self, obj: Model, owner: type[Model]
    ) -> Callable[[], Coroutine[object, object, None]]: ...

    def __get__(
        self, obj: Model | None, owner: type[Model]
    ) -> (
        Callable[[K], Coroutine[object, object, None]]
        | Callable[[], Coroutine[object, object, None]]
    ):
        if obj is None:
            return owner._delete_key
        return obj._delete_row
