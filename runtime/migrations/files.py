"""Migration files on disk: discovery in name order, checksums, loading their class."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import MigrationError
from .migration import Migration


@dataclass(frozen=True)
class MigrationFile:
    name: str
    path: Path
    checksum: str


def checksum(path: Path) -> str:
    """sha256 of the file with line endings normalised, so a checkout on Windows matches."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def discover(directory: Path) -> list[MigrationFile]:
    """``*.py`` files of ``directory`` in name order (names starting with ``_`` skipped)."""
    if not directory.is_dir():
        return []
    return [
        MigrationFile(p.stem, p, checksum(p))
        for p in sorted(directory.glob("*.py"))
        if not p.name.startswith("_")
    ]


def load(file: MigrationFile) -> Migration:
    """Import the file and instantiate its one ``Migration`` subclass."""
    module_name = f"_jadugar_migration_{file.name}"
    spec = importlib.util.spec_from_file_location(module_name, file.path)
    if spec is None or spec.loader is None:
        raise MigrationError(f"{file.path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise MigrationError(f"{file.path}: importing it failed: {exc!r}") from exc
    finally:
        sys.modules.pop(module_name, None)
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Migration)
        and value is not Migration
        and value.__module__ == module_name
    ]
    if len(classes) != 1:
        raise MigrationError(
            f"{file.path}: a migration file defines exactly one Migration subclass, "
            f"found {len(classes)}"
        )
    migration = classes[0]()
    migration.name = file.name
    return migration
