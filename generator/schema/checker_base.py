"""What every check of the validator shares: the problems found so far, the models by
name, option checking against the shape tables, and constraint names across the schema."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jadugar.errors import SchemaError

from .model import Location, RawEntry, RawModel
from .names import table_name
from .normalize import managed_fields
from .option_shapes import NAME_BYTES, option_problem


class CheckerBase:
    def __init__(self, models: Sequence[RawModel]) -> None:
        self.all = models
        self.problems: list[SchemaError] = []
        self.models: dict[str, RawModel] = {}
        # check and foreign key names (lower case) -> the model and entry that used them
        self.constraints: dict[str, tuple[str, RawEntry]] = {}

    def problem(self, message: str, entry: RawEntry, option: str | None = None) -> None:
        file, line = entry.location.file, entry.line(option)
        self.problems.append(SchemaError(message, file=file, line=line))

    def columns(self, model: str) -> list[str]:
        found = self.models[model]
        return list(dict.fromkeys([f.name for f in found.fields] + list(managed_fields(found))))

    def options(
        self,
        entry: RawEntry,
        options: object,
        allowed: tuple[str, ...],
        what: str,
        at: str = "",
        shapes: dict[str, tuple[Callable[[object], bool], str]] | None = None,
    ) -> dict[str, object]:
        """The options whose name and value are right; reports the others (at option ``at``).
        ``shapes`` overrides the value shapes of some options (``SHAPES``)."""
        good: dict[str, object] = {}
        for key, value in options.items() if isinstance(options, dict) else ():
            wrong = option_problem(key, value, allowed, what, shapes)
            if wrong:
                self.problem(wrong, entry, at or key)
            else:
                good[key] = value
        return good

    def check_constraint_name(
        self, model: RawModel, entry: RawEntry, name: object, kind: str, option: str = "name"
    ) -> None:
        """Check and foreign key names are unique in the whole schema (MySQL wants that)."""
        if not isinstance(name, str):
            return
        if len(name.encode()) > NAME_BYTES:
            message = (
                f"{kind} name '{name}' of model {model.name} is longer than {NAME_BYTES} bytes"
            )
            self.problem(f"{message} (PostgreSQL would cut it); shorten it", entry, option)
        first = self.constraints.setdefault(name.lower(), (model.name, entry))
        if first[1] is not entry:
            where = first_defined(entry.location, first[1].location)
            message = f"{kind} name '{name}' of model {model.name} is already the name of a constraint of model {first[0]} {where}"
            self.problem(f"{message}; constraint names are unique in a database", entry, option)


def first_defined(location: Location, first: Location) -> str:
    where = (
        f"on line {first.line}" if first.file == location.file else f"in {first.file}:{first.line}"
    )
    return f"(first defined {where})"


def either(words: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def table_of(model: RawModel) -> str:
    table = model.options.get("table")
    return table if isinstance(table, str) else table_name(model.name)
