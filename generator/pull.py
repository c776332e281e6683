"""``jadugar pull``: a live database -> a schema file (YAML) describing it.

``build(live)`` is pure: the live schema (``jadugar.introspection``) becomes the schema IR,
dumped as YAML (``schema.dump``) with a comment block listing what was left out, then
loaded back (validated, normalized) so a file that the loader would refuse is never
written. ``write`` puts the file, and the snapshot the next ``makemigrations`` compares
with, in place atomically: both or neither.

The mapping (live schema -> schema IR) is ``pull_builder``, with its rules; the names it
gives are ``pull_names``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from jadugar.errors import JadugarError, SchemaError
from jadugar.introspection import LiveSchema

from .diff import diff
from .makemigrations import SNAPSHOT, migration_source, snapshot_text
from .pull_builder import _Builder
from .pull_names import field_name, model_name, singular
from .schema.dump import dump
from .schema.loader import SUFFIXES, load_files
from .schema.model import Schema
from .writer import format_sources

__all__ = [
    "BASELINE",
    "PullError",
    "Pulled",
    "baseline",
    "build",
    "field_name",
    "model_name",
    "other_schema_files",
    "singular",
    "write",
]


@dataclass(frozen=True)
class Pulled:
    """A pulled schema: the YAML ``text``, the ``schema`` it loads as, and what was left
    out (``skipped``) or kept only approximately (``notes``), one sentence each."""

    text: str
    schema: Schema  # what the file loads as (the database's tables: the snapshot)
    skipped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # the models of this file


class PullError(JadugarError):
    """The pulled schema could not be written (nothing was)."""


def build(
    live: LiveSchema,
    *,
    history_tables: Collection[str] = ("jadugar_migrations",),
    others: Sequence[Path] = (),
    target: Path | None = None,
) -> Pulled:
    """The schema file for ``live``. ``history_tables``: Jadugar's migration history
    tables (left out, as every ``jadugar_*`` table is); ``others``: the other schema files
    of the folder, loaded with the new one to check that the whole folder still loads;
    ``target``: where the file goes, as problems name it."""
    builder = _Builder(live, set(history_tables))
    schema = builder.build()
    header = _header(live, builder.skipped, builder.notes)
    text = dump(schema, header)
    shown = target or Path("pulled.yaml")
    loaded = _load(text, (), shown)
    if others:
        _load(text, others, shown)  # the whole folder must load with it too
    names = tuple(m.name for m in schema.models)
    return Pulled(text, loaded, tuple(builder.skipped), tuple(builder.notes), names)


def _load(text: str, others: Sequence[Path], target: Path) -> Schema:
    with tempfile.TemporaryDirectory(prefix="jadugar-pull-") as folder:
        path = Path(folder) / target.name
        path.write_text(text, encoding="utf-8")
        try:
            return load_files([*others, path])
        except SchemaError as exc:
            shown = str(exc).replace(str(path), str(target))
            raise PullError(f"the pulled schema does not load: {shown}") from None


def _header(live: LiveSchema, skipped: list[str], notes: list[str]) -> str:
    where = f" database {live.database}" if live.database else " database"
    lines = [
        f"Written by `jadugar pull` from the {live.engine}{where}.",
        "Edit it as any schema file: `jadugar makemigrations` turns edits into migrations.",
    ]
    if skipped:
        lines.append(f"Not expressible in a schema file, left out ({len(skipped)}):")
        lines += [f"  {line}" for line in skipped]
    if notes:
        lines.append(f"Kept approximately ({len(notes)}):")
        lines += [f"  {line}" for line in notes]
    return "\n".join(lines)


def other_schema_files(folder: Path, target: Path) -> list[Path]:
    """The schema files of ``folder`` that the loader reads, ``target`` left out."""
    if not folder.is_dir():
        return []
    return [
        p
        for p in sorted(folder.iterdir())
        if p.suffix in SUFFIXES
        and not p.name.startswith("_")
        and p.is_file()
        and p.resolve() != target.resolve()
    ]


BASELINE = "baseline"


def baseline(schema: Schema, slug: str = BASELINE) -> tuple[str, str]:
    """(file name, source) of the first migration: every table of ``schema`` (the pulled
    file's) created from nothing (``down`` drops them), formatted as ``makemigrations``
    writes it."""
    name = f"0001_{slug}.py"
    source = migration_source(slug, diff(None, schema))
    said = (
        "Written by `jadugar pull --baseline`: it creates every table on an empty database;\n"
        "the database it was pulled from has them, and records it as applied. Rolling it\n"
        "back (`jadugar rollback`, `reset`) drops every table and every row in them."
    )
    usual = "Generated by `jadugar makemigrations` from the schema files; review it before `jadugar migrate`."
    source = source.replace(usual, said) if usual in source else f'"""{said}"""\n' + source
    return name, format_sources({name: source})[name]


def write(
    pulled: Pulled,
    target: Path,
    migrations: Path | None,
    extra: Sequence[tuple[Path, str]] = (),
    *,
    before: Callable[[list[Path]], None] | None = None,
) -> list[Path]:
    """Write the schema file (and, with ``migrations``, its snapshot there, and the
    ``extra`` files) atomically: each goes to a temporary file beside its place, and all
    are renamed into place once all are written, after ``before(temporary paths)`` (which
    may raise to give up); on any error none is left behind. Returns the paths written."""
    writes: list[tuple[Path, str]] = [(target, pulled.text)]
    if migrations is not None:
        writes.append((migrations / SNAPSHOT, snapshot_text(pulled.schema)))
    writes += extra
    temporary: list[tuple[Path, Path]] = []
    done: list[Path] = []
    try:
        for path, text in writes:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            temporary.append((Path(name), path))
        if before is not None:
            before([temp for temp, _ in temporary])
        for temp, path in temporary:
            os.replace(temp, path)
            done.append(path)
    except BaseException:
        for temp, _ in temporary:
            temp.unlink(missing_ok=True)
        for path in done:
            path.unlink(missing_ok=True)
        raise
    return done
