"""The runtime's layering: every import (``TYPE_CHECKING`` ones too) goes down or stays in
its layer, and no modules import each other in a cycle.

The layers, bottom first, are ``LAYERS`` below (the README's Layout section lists them).
A module belongs to the layer of the longest name in ``LAYERS`` it starts with. A lower
layer that needs something of a higher one takes it as an argument typed by a protocol
of its own (``dialects.base.LockHost``, ``session_settings.SettingsHost``, ...).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import grimp
import pytest

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "errors and options",
        (
            "errors", "masking", "hosts", "urls", "events", "gc_pause", "pool_types",
            "settings", "connect_params", "options", "config", "health", "migration_results",
            "replicas.consistency",
            "encryption.keys",
        ),
    ),
    (
        "query tree and pure compilers",
        (
            "query.tree", "query.values", "query.literals", "query.operators",
            "query.expressions", "query.compiler", "query.compile_", "query.row_chunks",
            "schema_compiler", "table_builder", "migrations.operations",
            "introspection.model", "introspection.parsing",
            "dialects.capabilities", "cache.backend", "cache.tables", "cache.policy",
            "cache.codec", "encryption.envelope", "encryption.values", "encryption.ring",
        ),
    ),
    (
        "dialects",
        (
            "dialects.base", "dialects.failures", "dialects.locks", "dialects.postgres",
            "dialects.mysql", "dialects.sqlite", "dialects.mongodb",
        ),
    ),
    (
        "pool, session, transaction",
        (
            "pool", "connection", "session_settings", "session_host", "read_only",
            "query.result",
            "replicas", "cache",
        ),
    ),
    (
        "builders",
        (
            "query", "transaction", "schema_builder", "migrations.dry_run", "introspection",
            "dialects.mongodb.builder", "dialects.mongodb.schema", "dialects.mongodb.engine",
            "dialects.mongodb.dialect",
        ),
    ),
    ("manager", ("dialects", "manager")),
    ("models, migrations, encryption", ("models", "migrations", "encryption")),
    ("CLI and the package's names", ("cli", "")),
)  # fmt: skip


def layer_of(module: str) -> int:
    """The layer of the longest prefix in ``LAYERS`` naming ``module`` (the last layer,
    whose prefix is ``""``, holds everything else)."""
    name = module.removeprefix("jadugar").removeprefix(".")
    longest, found = -1, len(LAYERS) - 1
    for number, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            whole = prefix if prefix.endswith(("_", ".")) else prefix + "."
            named = prefix and (name == prefix or name.startswith(whole))
            if named and len(prefix) > longest:
                longest, found = len(prefix), number
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("jadugar", cache_dir=None)


def test_every_import_goes_down_or_stays_in_its_layer(graph: grimp.ImportGraph) -> None:
    upward = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if layer_of(imported) > layer_of(module):
                upward.append(
                    f"{module} ({LAYERS[layer_of(module)][0]}) imports {imported} "
                    f"({LAYERS[layer_of(imported)][0]})"
                )
    assert not upward, f"{len(upward)} upward imports:\n" + "\n".join(upward)


@pytest.fixture(scope="module")
def runtime_graph() -> grimp.ImportGraph:
    """The imports that run (``TYPE_CHECKING`` ones left out: annotations only)."""
    return grimp.build_graph("jadugar", cache_dir=None, exclude_type_checking_imports=True)


def test_no_import_cycle(runtime_graph: grimp.ImportGraph) -> None:
    cycles = [sorted(c) for c in _strongly_connected(runtime_graph) if len(c) > 1]
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_document_engine_plugs_in_through_the_dialect(runtime_graph: grimp.ImportGraph) -> None:
    """Only the dialect registry imports MongoDB's package; the manager and the query
    builder reach its client, builders and transactions through
    ``Dialect.document_engine`` (their typed ``document_connection`` /
    ``document_schema`` accessors name its types for annotations only)."""
    mongo = "jadugar.dialects.mongodb"
    naming = sorted(
        f"{module} imports {imported}"
        for module in runtime_graph.modules
        if not module.startswith(mongo) and module != "jadugar.dialects"
        for imported in runtime_graph.find_modules_directly_imported_by(module)
        if imported.startswith(mongo)
    )
    assert not naming, "\n".join(naming)


# A driver is imported by its dialect's driver module only (DESIGN: installing Jadugar
# for SQLite must not import asyncpg); pymongo and bson, which motor brings, stay inside
# the MongoDB dialect.
DRIVERS = {
    "asyncpg": ("jadugar.dialects.postgres.driver",),
    "aiomysql": ("jadugar.dialects.mysql.driver",),
    "pymysql": ("jadugar.dialects.mysql.driver",),
    "aiosqlite": ("jadugar.dialects.sqlite.driver",),
    "motor": ("jadugar.dialects.mongodb.driver",),
    "pymongo": ("jadugar.dialects.mongodb.",),
    "bson": ("jadugar.dialects.mongodb.",),
}


def test_drivers_are_imported_by_their_dialects_driver_only() -> None:
    graph = grimp.build_graph("jadugar", include_external_packages=True, cache_dir=None)
    strays = sorted(
        f"{module} imports {driver}"
        for driver, allowed in DRIVERS.items()
        if driver in graph.modules
        for module in graph.find_modules_that_directly_import(driver)
        if not any(module.startswith(a) if a.endswith(".") else module == a for a in allowed)
    )
    assert not strays, "\n".join(strays)


MAX_MODULE_LINES = 600


@pytest.mark.parametrize("package", ["jadugar", "jadugar_generator"])
def test_every_module_is_under_600_lines(package: str) -> None:
    root = Path(importlib.import_module(package).__file__ or "").resolve().parent
    long = sorted(
        f"{path.relative_to(root)}: {lines} lines"
        for path in root.rglob("*.py")
        if (lines := len(path.read_text().splitlines())) >= MAX_MODULE_LINES
    )
    assert not long, f"modules of {package} over {MAX_MODULE_LINES - 1} lines:\n" + "\n".join(long)


def _strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found
