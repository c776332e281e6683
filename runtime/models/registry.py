"""Which DatabaseManager a model uses, and model classes looked up by name for relations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigurationError, DatabaseConnectionError
from ..manager import last_connected

if TYPE_CHECKING:
    from ..manager import DatabaseManager
    from .base import Model

_models: dict[tuple[str, str], type[Model]] = {}
_by_model: dict[type[Model], DatabaseManager] = {}
_bound: dict[str, DatabaseManager] = {}  # package (or "" for every package) -> manager


def register(model: type[Model]) -> None:
    _models[(_package(model), model.__name__)] = model


def related(model: type[Model], name: str) -> type[Model]:
    """The model class ``name`` generated beside ``model``."""
    found = _models.get((_package(model), name))
    if found is None:
        raise ConfigurationError(
            f"{model.__name__} relates to {name}, but no model {name} is imported in "
            f"package {_package(model)!r}: import the whole generated package"
        )
    return found


def bind(manager: DatabaseManager | None, package: str = "") -> None:
    """Route every model of ``package`` (all packages when empty) to ``manager``;
    ``None`` undoes it."""
    if manager is None:
        _bound.pop(package, None)
    else:
        _bound[package] = manager


def bind_model(model: type[Model], manager: DatabaseManager | None) -> None:
    if manager is None:
        _by_model.pop(model, None)
    else:
        _by_model[model] = manager


def manager_for(model: type[Model]) -> DatabaseManager:
    manager = _by_model.get(model) or _bound.get(_package(model)) or _bound.get("")
    if manager is None:
        manager = last_connected()
    if manager is None:
        raise DatabaseConnectionError(
            f"{model.__name__} has no database: connect a DatabaseManager first "
            f"(`async with DatabaseManager(url=...)`), or bind one with "
            f"`{model.__name__}.bind(db)` or `jadugar.bind(db)`"
        )
    return manager


def _package(model: type[Model]) -> str:
    return model.__module__.rpartition(".")[0]
